/* SPDX-License-Identifier: MIT */
/* outcome.h: what an answer means -- done, try again, or stop with which exit code (pure) */
#ifndef R2MPU_CLIENT_OUTCOME_H
#define R2MPU_CLIENT_OUTCOME_H

/* The exit codes of r2mpu-client (documented in its man page). */
enum exit_code {
	EXIT_DONE = 0,
	EXIT_FAILED = 1,      /* a local failure: the file, memory, an interruption */
	EXIT_USAGE = 2,       /* the command line */
	EXIT_AUTH = 3,        /* 401, 403: no credential, or one that does not allow this */
	EXIT_NOT_FOUND = 4,   /* 404: no such key, upload or gateway */
	EXIT_INTEGRITY = 5,   /* bytes that differ from the local ones, a changed object */
	EXIT_SERVER = 6,      /* the gateway, its store or the network failed, retries spent */
	EXIT_REFUSED = 7,     /* another 4xx: the gateway refused the request as it is */
};

enum outcome {
	OUTCOME_OK,          /* a 2xx (or 3xx) answer */
	OUTCOME_RETRY,       /* may succeed when sent again */
	OUTCOME_FATAL,       /* will fail again: stop */
};

/*
 * One attempt's result: curl_code is libcurl's result (0 when an answer came), status
 * the HTTP status, error_code the gateway's X-R2mpu-Error (NULL or "" when absent).
 * Retried: connection errors and timeouts, 5xx, 429, 408 (the gateway's body timeout)
 * and the gateway's StoreBusy/StoreTimeout whatever their status. Never another 4xx.
 */
enum outcome outcome_of(int curl_code, long status, const char *error_code);

/* The exit code for a request that ended (fatal, or retries spent) with this result. */
enum exit_code exit_code_of(int curl_code, long status, const char *error_code);

/*
 * The wait before retry number `retry` (1 = the first): "full jitter" -- a uniform
 * fraction r in [0, 1) of base_ms * 2^(retry-1), capped at cap_ms -- so that clients a
 * failure hit together do not come back together.
 */
unsigned retry_delay_ms(unsigned retry, unsigned base_ms, unsigned cap_ms, double r);

#endif
