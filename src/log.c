/* SPDX-License-Identifier: MIT */
/* log.c: the server log -- one line per event and per request, text or JSON, with time and request id */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES 2048

static enum log_format format = LOG_TEXT;
static char request_id[LOG_REQUEST_ID_MAX + 1];    /* "" outside a request */

void log_set_format(enum log_format f)
{
	format = f;
}

const char *log_begin_request(const char *client_id)
{
	size_t n = client_id ? strlen(client_id) : 0;
	unsigned char raw[8];
	size_t i;

	if (n >= 1 && n <= LOG_REQUEST_ID_MAX && strspn(client_id, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-") == n) {
		memcpy(request_id, client_id, n + 1);
		return request_id;
	}
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
		/* No randomness: the time and pid still tell requests apart in a log. */
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		snprintf(request_id, sizeof(request_id), "%lx-%lx-%ld", (unsigned long)ts.tv_sec,
			 (unsigned long)ts.tv_nsec, (long)getpid());
		return request_id;
	}
	for (i = 0; i < sizeof(raw); i++)
		snprintf(request_id + 2 * i, 3, "%02x", raw[i]);
	return request_id;
}

void log_end_request(void)
{
	request_id[0] = '\0';
}

/* Append to line[*n] (bounded, the last byte kept for the newline); JSON-escaped if asked. */
static void put(char *line, size_t *n, const char *s, int json)
{
	for (; *s != '\0' && *n < LINE_MAX_BYTES - 8; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f)
			c = '?';           /* no control byte forges another line */
		if (json && (c == '"' || c == '\\'))
			line[(*n)++] = '\\';
		line[(*n)++] = (char)c;
	}
}

static void putf(char *line, size_t *n, int json, const char *fmt, ...)
	__attribute__((format(__printf__, 4, 5)));
static void putf(char *line, size_t *n, int json, const char *fmt, ...)
{
	char text[LINE_MAX_BYTES];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	put(line, n, text, json);
}

/* Raw text, not escaped (the format's own punctuation). */
static void raw(char *line, size_t *n, const char *s)
{
	size_t len = strlen(s);

	if (*n + len < LINE_MAX_BYTES - 2) {
		memcpy(line + *n, s, len);
		*n += len;
	}
}

/* The line's start: time, level, pid, request id (the JSON object left open). */
static size_t begin(char *line, const char *level)
{
	struct timespec ts;
	struct tm tm;
	char when[96];
	size_t n = 0;
	const char *id = request_id[0] ? request_id : "-";

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (long)(ts.tv_nsec / 1000000) % 1000);
	if (format == LOG_JSON)
		putf(line, &n, 0, "{\"time\":\"%s\",\"level\":\"%s\",\"pid\":%ld,"
		     "\"request_id\":\"%s\"", when, level, (long)getpid(), id);
	else
		putf(line, &n, 0, "%s %s r2mpu[%ld] %s: ", when, level, (long)getpid(), id);
	return n;
}

static void emit(char *line, size_t n)
{
	if (format == LOG_JSON)
		line[n++] = '}';
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, n) < 0) {
		/* Nowhere left to report it. */
	}
}

static void message(const char *level, const char *fmt, va_list ap)
{
	char line[LINE_MAX_BYTES], text[LINE_MAX_BYTES];
	size_t n = begin(line, level);

	vsnprintf(text, sizeof(text), fmt, ap);
	if (format == LOG_JSON) {
		raw(line, &n, ",\"message\":\"");
		put(line, &n, text, 1);
		raw(line, &n, "\"");
	} else {
		put(line, &n, text, 0);
	}
	emit(line, n);
}

void log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	message("error", fmt, ap);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	message("info", fmt, ap);
	va_end(ap);
}

void log_request(const struct log_request *r)
{
	char line[LINE_MAX_BYTES];
	size_t n = begin(line, "info");
	const char *key = r->key ? r->key : "-";

	if (format == LOG_JSON) {
		raw(line, &n, ",\"method\":\"");
		put(line, &n, r->method ? r->method : "-", 1);
		raw(line, &n, "\",\"action\":\"");
		put(line, &n, r->action ? r->action : "-", 1);
		raw(line, &n, "\",\"key\":\"");
		put(line, &n, key, 1);
		putf(line, &n, 0, "\",\"status\":%d,\"bytes_in\":%llu,\"bytes_out\":%llu,"
		     "\"ms\":%llu,\"credential\":\"", r->status,
		     (unsigned long long)r->bytes_in, (unsigned long long)r->bytes_out,
		     (unsigned long long)r->ms);
		put(line, &n, r->credential ? r->credential : "none", 1);
		raw(line, &n, "\"");
	} else {
		raw(line, &n, "request ");
		put(line, &n, r->method ? r->method : "-", 0);
		raw(line, &n, " ");
		put(line, &n, r->action ? r->action : "-", 0);
		raw(line, &n, " key=\"");
		put(line, &n, key, 1);         /* quoted: a key may hold blanks and quotes */
		putf(line, &n, 0, "\" status=%d in=%llu out=%llu ms=%llu credential=", r->status,
		     (unsigned long long)r->bytes_in, (unsigned long long)r->bytes_out,
		     (unsigned long long)r->ms);
		put(line, &n, r->credential ? r->credential : "none", 0);
	}
	emit(line, n);
}
