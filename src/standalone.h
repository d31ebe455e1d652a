/* SPDX-License-Identifier: MIT */
/* standalone.h: r2mpu as its own FastCGI server -- a socket, worker processes, supervision */
#ifndef R2MPU_STANDALONE_H
#define R2MPU_STANDALONE_H

#include "config.h"

#define STANDALONE_WORKERS_MAX 256

/*
 * Listen on `address` ("127.0.0.1:9000", ":9000", a unix socket path, or
 * "systemd": the socket systemd passes, LISTEN_FDS),
 * run `workers` processes that each call serve(cfg) on that socket, and
 * replace any that dies. SIGTERM or SIGINT: every worker finishes its
 * request in flight, then all exit. Returns the process's exit status;
 * errbuf gets the reason when the socket cannot be opened.
 */
int standalone_run(const struct config *cfg, const char *address, int workers,
		   int (*serve)(const struct config *cfg), char *errbuf, size_t errlen);

/* Parse --workers: 1..STANDALONE_WORKERS_MAX, decimal; -1 otherwise. */
int standalone_parse_workers(const char *s);

#endif
