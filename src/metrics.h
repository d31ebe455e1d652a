/* SPDX-License-Identifier: MIT */
/* metrics.h: the pool's counters -- requests, bytes, store calls -- shared by every r2mpu process, and their Prometheus text */
#ifndef R2MPU_METRICS_H
#define R2MPU_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "mem.h"

/*
 * The counters live in one small file mapped MAP_SHARED by every process of
 * a pool: lighttpd's or mod_fcgid's FastCGI processes (each started by the
 * web server, sharing nothing else), CGI processes one per request, and the
 * standalone workers, which inherit the master's mapping. Each update is one
 * relaxed atomic add: no lock, no system call on the request path.
 *
 * The file is R2MPU_METRICS_FILE, by default one in /dev/shm named after the
 * user and the store and mount the settings name (metrics_default_path), so
 * the processes of one gateway find the same file and two gateways never
 * do. It must be a regular file of this user's, unreadable to others, and
 * either empty (it is then sized) or of this layout. When it cannot be
 * used, the counters are this process's own (and a standalone master's
 * workers'): r2mpu_metrics_shared says 0 and the reason is logged once.
 *
 * Before metrics_open(), and with R2MPU_METRICS=0, every call does nothing.
 */

/* The store calls timed and counted: store_metered.c wraps each. */
enum metrics_store_op {
	METRICS_OP_CREATE,
	METRICS_OP_UPLOAD_PART,     /* the time includes the part's bytes arriving */
	METRICS_OP_COMPLETE,
	METRICS_OP_ABORT,
	METRICS_OP_GET,             /* and HEAD; the time includes the bytes going out */
	METRICS_OP_DELETE,
	METRICS_OP_LIST_PARTS,
	METRICS_OP_LIST_UPLOADS,
	METRICS_OP_PROBE,           /* check, start-up and ?action=health */
	METRICS_STORE_OPS
};

/*
 * Map the pool's counters (at start, before any fork). 0 when they are the
 * pool's (`where` names the file), 1 when they are only this process's
 * (`where` says why; logged by the caller), never fails otherwise.
 */
int metrics_open(const struct config *cfg, char *where, size_t wlen);
void metrics_close(void);

/* Pure: the default file, /dev/shm/r2mpu-metrics-v1-UID-HASH (HASH of store and mount). */
void metrics_default_path(const struct config *cfg, unsigned uid, char *out, size_t outlen);

/*
 * One answered request. action: action_id() of the request's action
 * (-1: none or unknown, counted as "other"); status 100..599 (else not counted).
 */
void metrics_count_request(int action, int status, uint64_t bytes_in, uint64_t bytes_out);

/* One store call that took `usec`; err_code: NULL when it succeeded, else r2err.code. */
void metrics_count_store(enum metrics_store_op op, uint64_t usec, const char *err_code);

/* A part starts or stops streaming in this process (parts in flight, per process). */
void metrics_part_begin(void);
void metrics_part_end(void);

/* The Prometheus text format (version 0.0.4) of every counter, appended to *out. */
int metrics_render(struct buf *out);

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
