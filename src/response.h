/* SPDX-License-Identifier: MIT */
/* response.h: the only writer of answers -- status, headers (CR/LF-safe), body, errors */
#ifndef R2MPU_RESPONSE_H
#define R2MPU_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "errors.h"

struct json_object;

/* The Allow header of a 405 and of OPTIONS: every method r2mpu serves. */
#define ALLOWED_METHODS "GET, HEAD, PUT, POST, DELETE, OPTIONS"

#define RESPONSE_HEADERS_MAX (16 * 1024)   /* 8 KiB of object metadata and the rest */

/*
 * One per request. Headers accumulate in a fixed buffer and go out once,
 * with the status, at response_start() or the first body byte. After a write
 * error (the client went away) every further call does nothing.
 */
struct response {
	bool head;                   /* HEAD: headers only, never a body */
	bool overflow;               /* a header did not fit: the answer becomes a 500 */
	bool started;                /* status and headers are written */
	bool failed;                 /* a write failed */
	int status;                  /* as sent (0: nothing yet), for the log */
	uint64_t body_bytes;         /* body bytes written, for the log */
	size_t hlen;
	char headers[RESPONSE_HEADERS_MAX];
};

void response_init(struct response *res, bool head);

/* Add a header. Bytes below 0x20 (CR, LF, ...) in the value become spaces. */
void response_header(struct response *res, const char *name, const char *value);
void response_headerf(struct response *res, const char *name, const char *fmt, ...)
	__attribute__((format(__printf__, 3, 4)));

/* Write status and headers (once). -1 when the client is gone. */
int response_start(struct response *res, int status);
/* Body bytes (dropped for HEAD); starts the response if needed. */
int response_write(struct response *res, const void *buf, size_t len);

/* Push what is written so far to the server (before a slow drain of the body). */
void response_flush(struct response *res);

/* Whole answers. */
void send_error(struct response *res, const struct r2err *err);
void send_json(struct response *res, int status, struct json_object *body);  /* body borrowed */
void send_empty(struct response *res, int status);
void send_text(struct response *res, int status, const char *text);   /* text/plain */
/* A body of `len` bytes of the given Content-Type (NULL: none), borrowed. */
void send_body(struct response *res, int status, const char *type, const char *body,
	       size_t len);

/* Reason phrase for a status ("Not Found"); "Unknown" if we never send it. */
const char *response_status_reason(int status);

#endif
