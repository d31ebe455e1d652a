/* SPDX-License-Identifier: MIT */
/* s3_client.h: one signed S3 request over a reused libcurl handle -- bodies streamed both ways */
#ifndef R2MPU_S3_CLIENT_H
#define R2MPU_S3_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "config.h"
#include "errors.h"
#include "etag.h"
#include "mem.h"
#include "sigv4.h"
#include "stream.h"

/*
 * The client knows the connection (endpoint, bucket, keys, region, CA file,
 * proxy, timeouts), SigV4, HTTP and S3's error documents. It knows nothing
 * of what a request means: multipart uploads, part numbers, what an ETag
 * must be and what a GET comes to are the store's (store_s3.c), which
 * steers a request through the hooks below; the client only hands the
 * answer's ETag header over, unquoted.
 */

#define S3_CLIENT_PARAMS_MAX 5          /* query parameters of one request */
#define S3_CLIENT_HEADERS_MAX 13        /* extra headers of one request */
#define S3_CLIENT_KEEP_MAX 8            /* answer headers a request may keep */
#define S3_CLIENT_VALUE_MAX 8192        /* bytes of one header value, either way */
#define S3_CLIENT_ANSWER_MAX (2 * 1024 * 1024)   /* a body kept in memory: XML, errors */

/* One per process: its libcurl handle keeps connections open between requests. */
struct s3_client;

/*
 * Open a client on cfg's s3 settings (validated by config.c; copied).
 * 0 with *out set (the caller closes it), or -1 with the reason in errbuf.
 */
int s3_client_open(const struct config *cfg, struct s3_client **out, char *errbuf, size_t errlen);
/*
 * Pure: the CA bundle that checks the store's certificate. R2MPU_S3_CA_FILE when
 * set (`configured`); else "" when libcurl has a bundle of its own (`built_in`:
 * Debian's libcurl does); else the first of the places Linux distributions keep
 * theirs that `readable` accepts (the static binary has none built in, and runs
 * on any of them); else NULL: none found.
 */
const char *s3_client_ca_bundle(const char *configured, bool built_in,
				bool (*readable)(const char *path));
/* Close the handle and wipe the secret; cl may be NULL. */
void s3_client_close(struct s3_client *cl);

struct s3_client_answer;

/* One request. Every pointer is borrowed for s3_client_perform(); unused fields zero. */
struct s3_client_request {
	const char *method;                    /* "GET", "HEAD", "PUT", "POST" or "DELETE" */
	const char *key;                       /* raw; NULL: the bucket itself */
	struct sigv4_param params[S3_CLIENT_PARAMS_MAX];   /* the query, any order */
	size_t nparams;
	struct sigv4_header headers[S3_CLIENT_HEADERS_MAX]; /* s3_client_add_header() */
	size_t nheaders;
	const char *payload_hash;              /* NULL: the empty body's hash */
	/* The body: none, a small one in memory (with POST) or a stream (with PUT). */
	const char *body;
	size_t body_len;
	struct byte_source *source;            /* read exactly source->length bytes */
	/* Answer headers to keep beyond the answer's own fields: keep[i] -> kept[i]. */
	const char *const *keep;               /* names, any case */
	size_t nkeep;                          /* at most S3_CLIENT_KEEP_MAX */

	/* Hooks, each may be NULL; called from inside s3_client_perform() with ctx. */
	/*
	 * Sees each chunk of source before it is sent, `last` with the chunk
	 * that ends it. -1 with *err filled keeps the chunk back and ends the
	 * request: the server never has the whole body, and
	 * s3_client_perform() fails with that error.
	 */
	int (*send_filter)(void *ctx, const char *data, size_t len, bool last,
			   struct r2err *err);
	/*
	 * With body_write set, a 200 or 206 answer's body goes here instead of
	 * answer->body: body_begin (may be NULL) once before the first byte,
	 * with the status and headers, then body_write for each chunk. Either
	 * returns -1 to stop the transfer; the answer then counts as come.
	 */
	int (*body_begin)(void *ctx, const struct s3_client_answer *answer);
	int (*body_write)(void *ctx, const char *data, size_t len);
	void *ctx;
};

/*
 * Add a header to sign and send; name lower-case, both borrowed. One past
 * S3_CLIENT_HEADERS_MAX makes s3_client_perform() refuse the request (500).
 */
void s3_client_add_header(struct s3_client_request *req, const char *name, const char *value);

/* What came back. Header values as sent, trimmed, "" when absent; the caller may change them. */
struct s3_client_answer {
	long status;                           /* of the last status line (not "100 Continue") */
	char etag[ETAG_MAX];                   /* unquoted */
	char content_length[32];
	char content_range[96];
	time_t last_modified;                  /* 0: absent or unparsable */
	char sse[32];                          /* x-amz-server-side-encryption */
	char *kept[S3_CLIENT_KEEP_MAX];        /* owned: the request's keep[i], NULL when absent;
						  at most S3_CLIENT_VALUE_MAX bytes */
	struct buf body;                       /* owned: the body, unless the hooks took it */
};

/*
 * Sign and send req, and read the answer into *answer (filled from
 * scratch: it must hold no answer; free it with s3_client_answer_free()
 * whatever this returns). 0 when an HTTP answer came, whatever its status:
 * the caller decides what it means. -1 with *err when none did: the store
 * unreachable (502) or too slow (504), the answer cut inside its headers or
 * too large (502), the source ending early (400 IncompleteBody), a
 * send_filter's error, a request that cannot be built (500).
 */
int s3_client_perform(struct s3_client *cl, const struct s3_client_request *req,
		      struct s3_client_answer *answer, struct r2err *err);
void s3_client_answer_free(struct s3_client_answer *answer);   /* may be NULL */

/*
 * The error of an answer whose status the caller did not expect: its S3
 * error document in r2mpu's words (s3_xml_map_error), or, for a request about
 * a key, a bare 404 (a HEAD's has no body) as NoSuchKey. Returns -1.
 */
int s3_client_answer_error(const struct s3_client_request *req,
			   const struct s3_client_answer *answer, struct r2err *err);

#endif
