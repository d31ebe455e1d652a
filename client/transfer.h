/* SPDX-License-Identifier: MIT */
/* transfer.h: HTTP requests over libcurl's multi interface, N at a time, retried when worth it */
#ifndef R2MPU_CLIENT_TRANSFER_H
#define R2MPU_CLIENT_TRANSFER_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#define XFER_ANSWER_MAX (64 * 1024)   /* an answer body kept in memory, unless answer_max */

/*
 * One request and the answer to its last attempt. The caller owns the struct and fills
 * in the request; the engine sends it (again, while the outcome says retry), then calls
 * done once. Until then the engine holds it: do not move or free it.
 */
struct xfer {
	/* The request. */
	const char *method;            /* "GET", "HEAD", "PUT", "POST", "DELETE" (static) */
	char *url;                     /* owned: xfer_release frees it */
	struct curl_slist *headers;    /* owned, extra headers (the token is the engine's) */
	const char *body;              /* a body in memory (borrowed), body_len bytes, or */
	size_t body_len;
	int body_fd;                   /* a body read from a file: body_size bytes at body_off */
	uint64_t body_off, body_size;  /* (body_fd -1: none) */
	int out_fd;                    /* a 2xx answer's body is written here at out_off, */
	uint64_t out_off;              /* when its status is out_status (0: any 2xx); else */
	long out_status;               /* it is kept in `answer`, up to answer_max bytes */
	uint64_t out_max;              /* more than this to out_fd ends it (0: no limit) */
	size_t answer_max;             /* 0: XFER_ANSWER_MAX */
	void (*done)(struct xfer *x);  /* called once, when it ended; may add requests */
	void *arg;                     /* the caller's */

	/* The last attempt's answer (the engine's; read them in done). */
	int curl_code;                 /* CURLE_OK when an answer came */
	long status;
	char curl_error[CURL_ERROR_SIZE];
	char etag[130];                /* the ETag header, as sent */
	char error_code[64];           /* X-R2mpu-Error: the gateway's code, or "" */
	char content_range[96];
	long long content_length;        /* the answer's Content-Length, or -1 */
	char *answer;                  /* NUL-terminated, answer_len bytes (owned) */
	size_t answer_len;
	int local_error;               /* errno of a failed read or write of a local file */
	uint64_t written;              /* bytes of the answer's body written to out_fd */
	int overlong;                  /* the answer had more than out_max: ended there */
	unsigned attempts;             /* how many were sent */

	/* The engine's. */
	int prepared;                  /* its token and Expect headers were added */
	CURL *easy;
	uint64_t read_pos;
	uint64_t sent;                 /* body bytes of the current attempt sent so far */
	unsigned retry_after_s;
	long long due_ms;
	struct xfer *next;
};

/* A zeroed request with no body and no output file. */
void xfer_init(struct xfer *x, const char *method, char *url /* taken */);
/* Frees what the request owns (url, headers, answer); x can be zeroed. */
void xfer_release(struct xfer *x);
/* Adds "Name: value" to the request's headers; -1 when out of memory. */
int xfer_header(struct xfer *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "401 Unauthorized: the gateway's message" or libcurl's error, for people, into out. */
void xfer_describe(const struct xfer *x, char *out, size_t outlen);
/* Bytes a hostile or broken server sent, made safe to print on a terminal: control
 * characters as '?', up to the first newline, cut to outlen bytes with the NUL. */
void printable(const char *in, size_t len, char *out, size_t outlen);

struct engine_opts {
	unsigned jobs;          /* requests at once (at least 1) */
	unsigned retries;       /* further attempts of a request worth retrying */
	unsigned retry_base_ms; /* the first retry's wait (doubling, with jitter) */
	unsigned retry_cap_ms;  /* the longest wait */
	unsigned timeout_s;     /* a request that moves no byte this long is given up */
	const char *token;      /* sent as a bearer token, or NULL (borrowed) */
	const char *cacert;     /* CA file for https, or NULL for the system's (borrowed) */
	int verbose;            /* a line on stderr for each attempt */
};

struct engine;

/* NULL when libcurl fails to start. */
struct engine *engine_new(const struct engine_opts *o);
void engine_free(struct engine *e);          /* e may be NULL; no request may be left */

/* Queues x; it is sent when fewer than `jobs` requests are running. */
void engine_add(struct engine *e, struct xfer *x);

/*
 * Runs until nothing is queued, running or waiting for a retry and pump (called at
 * least every 200 ms, and after every request ends) returns 0. pump may add requests.
 * Returns 0, or -1 when engine_stop was called: the requests not done are then
 * dropped from the engine, their done never called.
 */
int engine_run(struct engine *e, int (*pump)(void *arg), void *arg);

/* Ends engine_run at its next turn (from done or pump). */
void engine_stop(struct engine *e);
/* From another thread: wakes engine_run to call pump now. */
void engine_wakeup(struct engine *e);
/* Body bytes sent so far by the requests now running (for progress). */
uint64_t engine_sending(const struct engine *e);
/* Answer bytes written so far to out_fd by the requests now running. */
uint64_t engine_receiving(const struct engine *e);

/* Milliseconds on the monotonic clock. */
long long now_ms(void);

#endif
