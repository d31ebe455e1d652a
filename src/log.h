/* SPDX-License-Identifier: MIT */
/* log.h: the server log -- one line per event and per request, text or JSON, with time and request id */
#ifndef R2MPU_LOG_H
#define R2MPU_LOG_H

#include <stdint.h>

/*
 * Every line goes to the process's stderr, which each web server sends to
 * its error log (doc/operations.md says where), in one write(), so lines of
 * many processes never interleave. A line carries an RFC 3339 time (UTC,
 * milliseconds), a level, the pid and the id of the request being served
 * ("-" outside one). Client text in a line has its control bytes replaced,
 * or a byte that is not UTF-8 replaced and its quotes escaped, so it cannot
 * forge another line or field, and each field has a bound (a cut says "...").
 *
 *   text: 2026-12-02T05:20:11.123Z error r2mpu[1234] 9f86d081884c7d65: message
 *   json: {"time":"...","level":"error","pid":1234,"request_id":"...","message":"..."}
 */
enum log_format { LOG_TEXT, LOG_JSON };

/* From R2MPU_LOG_FORMAT, once the settings are read (text until then). */
void log_set_format(enum log_format format);

#define LOG_REQUEST_ID_MAX 64

/*
 * The id of the request now served: the client's X-Request-Id when it is 1 to
 * LOG_REQUEST_ID_MAX of [A-Za-z0-9._:-] (so it is safe in a header, a log
 * line and JSON), else a new random one. Copied; NULL ends the request.
 * Returns the id in effect (static until the next call).
 */
const char *log_begin_request(const char *client_id);
void log_end_request(void);
/* The id of the request now served, or NULL outside one. */
const char *log_request_id(void);

void log_error(const char *fmt, ...) __attribute__((format(__printf__, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(__printf__, 1, 2)));

/* What the line of one served request says. Strings are borrowed; NULL: "-". */
struct log_request {
	const char *method;
	const char *action;
	const char *key;
	int status;
	uint64_t bytes_in;           /* body bytes read */
	uint64_t bytes_out;          /* body bytes answered */
	uint64_t ms;                 /* from the parameters read to the answer flushed */
	const char *credential;      /* "open", "token line 3", "signed URL", "none" */
};

/* The one info line of a request, in the configured format. */
void log_request(const struct log_request *r);

#endif
