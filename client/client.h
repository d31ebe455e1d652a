/* SPDX-License-Identifier: MIT */
/* client.h: r2mpu-client's options, its commands, and what they share to talk and report */
#ifndef R2MPU_CLIENT_H
#define R2MPU_CLIENT_H

#include <signal.h>
#include <stdint.h>

#include "outcome.h"
#include "target.h"
#include "transfer.h"

/* The command line, parsed once by main.c; the commands only read it. */
struct client_opts {
	const char *token;         /* from --token-file or R2MPU_TOKEN, or NULL (owned by main) */
	const char *cacert;
	unsigned jobs, retries, timeout_s;
	uint64_t part_size;        /* 0: chosen by the plan */
	const char *upload_id;     /* --upload-id: resume this one */
	const char *content_type;
	int plan_only, verify, keep, json, quiet, verbose;
	int progress;              /* draw a progress bar (stderr is a terminal, not --quiet) */
};

/* Each returns an enum exit_code. args are the command's operands. */
int cmd_upload(const struct client_opts *o, char **args, int nargs);
int cmd_download(const struct client_opts *o, char **args, int nargs);
int cmd_check(const struct client_opts *o, char **args, int nargs);
int cmd_list(const struct client_opts *o, char **args, int nargs);
int cmd_abort(const struct client_opts *o, char **args, int nargs);

/* Set by SIGINT and SIGTERM: a command stops at its next turn and says how to go on. */
extern volatile sig_atomic_t client_interrupted;

/* --- report.c: the one place that writes to the user --- */

/* "r2mpu-client: ..." on stderr (a progress bar is cleared first). */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same, only with --verbose. */
void say_verbose(const struct client_opts *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * A request that failed for good: says what was being done, the URL (without its
 * signature) and the answer, and returns the exit code it means.
 */
int say_failed(const struct xfer *x, const char *doing);

/* The engine for these options (jobs requests at once) and this target: a signed
 * URL is sent without the token, which its issuer must never see. NULL with a message. */
struct engine *client_engine(const struct client_opts *o, const struct target *t, unsigned jobs);
/* Sends x alone, retried as the options say, and waits for its end. Returns its
 * outcome: OUTCOME_OK, or OUTCOME_FATAL when it failed for good or was interrupted. */
enum outcome run_one(struct engine *e, struct xfer *x);

/* A progress bar on stderr, redrawn at most 4 times a second. */
struct progress {
	int enabled;
	uint64_t total;            /* UINT64_MAX: unknown (a pipe) */
	long long start_ms, drawn_ms;
	int shown;                 /* a line is on the screen */
};
void progress_start(struct progress *p, int enabled, uint64_t total);
void progress_update(struct progress *p, uint64_t done);
void progress_end(struct progress *p);   /* clears the line */
/*
 * The bar's text for done of total bytes after elapsed_ms, width columns at most
 * (pure, unit-tested): "  1.2 GiB / 4.0 GiB  30% [=====>      ]  180 MiB/s  ETA 0:16".
 */
void progress_line(uint64_t done, uint64_t total, long long elapsed_ms, unsigned width,
		   char *out, unsigned outlen);

#endif
