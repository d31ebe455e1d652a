/* SPDX-License-Identifier: MIT */
/* errors.h: errors as values -- an HTTP status, a machine code and a message */
#ifndef R2MPU_ERRORS_H
#define R2MPU_ERRORS_H

#include <stdarg.h>

/*
 * Every failure below main.c is reported by filling one of these and
 * returning -1; response.c turns it into the answer (send_error()).
 * `code` is a static string (e.g. "NoSuchUpload"), never freed.
 * `message` is what the client reads: it must not contain secrets or
 * server paths; detail for the operator goes to log_error() (log.h) instead.
 */
struct r2err {
	int status;          /* HTTP status to answer with, 400..599 */
	const char *code;    /* static, short, [A-Za-z] */
	char message[512];   /* NUL-terminated, truncated if longer */
};

/* Fill *err (which must not be NULL); always returns -1 for `return r2err_set(...)`. */
int r2err_set(struct r2err *err, int status, const char *code,
	      const char *fmt, ...) __attribute__((format(__printf__, 4, 5)));

/* 500 InternalError "Out of memory"; returns -1. */
int r2err_out_of_memory(struct r2err *err);

#endif
