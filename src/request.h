/* SPDX-License-Identifier: MIT */
/* request.h: the request as data -- method, key, query, length and headers, copied from the environment */
#ifndef R2MPU_REQUEST_H
#define R2MPU_REQUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "errors.h"
#include "multipart.h"
#include "stream.h"

struct hook_env;
#include "uri.h"

enum method {
	METHOD_OTHER, METHOD_GET, METHOD_HEAD, METHOD_PUT, METHOD_POST, METHOD_DELETE,
	METHOD_OPTIONS
};

#define CONTENT_LENGTH_ABSENT (-1)

/*
 * Everything is copied out of the parameters, which libfcgi frees at the
 * request's end. All pointers are owned by the request (request_free).
 */
struct request {
	enum method method;
	char method_name[16];        /* REQUEST_METHOD, truncated, for messages */
	struct query query;
	char *key;                   /* decoded once and valid, or NULL ... */
	size_t key_len;
	struct r2err key_err;        /* ... and then why (reported after routing) */
	int64_t content_length;      /* CONTENT_LENGTH_ABSENT when not given */
	char *range, *if_match, *if_none_match, *if_range;   /* may be NULL */
	char *authorization;         /* Authorization, may be NULL */
	char *host;                  /* Host, may be NULL */
	char *remote_addr;           /* REMOTE_ADDR: the peer, as the server saw it; may be NULL */
	bool https;                  /* HTTPS on/1 or REQUEST_SCHEME https (Apache, nginx) */
	char *content_md5;           /* Content-MD5 of a part, may be NULL */
	char *origin;                /* CORS: Origin, Access-Control-Request-Method */
	char *cors_request_method;   /* and -Headers; each may be NULL */
	char *cors_request_headers;
	struct http_meta meta;       /* Content-Type etc. as sent */
	uint64_t body_read;          /* bytes of the body read so far */
	char credential[24];         /* who the access rules found it to be (for the log); "" none */
	bool body_ended;             /* the connection said the body ended */
	/* What is left to do once the answer is out (handlers_after_request); owned. */
	struct hook_env *complete_hook;  /* R2MPU_HOOK_COMPLETE's variables, or NULL */
};

/*
 * Read the current request's parameters (after conn_accept()).
 * -1 with *err for what makes the request unusable before routing:
 * a malformed query string or CONTENT_LENGTH. *r is always safe to free.
 */
int request_read(struct request *r, const struct config *cfg, struct r2err *err);
void request_free(struct request *r);

/* Bytes of the body never read (an answer came before them): -1 when its length is not known. */
int64_t request_body_unread(const struct request *r);

/* The body as a byte_source of content_length bytes, read from the connection (conn.h). */
struct byte_source request_body_source(struct request *r);

/*
 * After reading the body failed (a store's IncompleteBody): when the cause
 * was the client's pace (conn.h), *err becomes 408 RequestTimeout. Returns -1.
 */
int request_body_error(struct r2err *err);

/*
 * Read the whole body, content_length bytes, into a new NUL-terminated
 * buffer (caller frees). The route has bounded content_length before
 * (COMPLETE_BODY_MAX). 400 "Missing or incomplete body" when it is short.
 */
int request_read_body(struct request *r, char **buf, size_t *len, struct r2err *err);

#endif
