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

const char *log_request_id(void)
{
	return request_id[0] ? request_id : NULL;
}

void log_end_request(void)
{
	request_id[0] = '\0';
}

/* Bytes of the UTF-8 character at s (1..4), or 0 when it is not one (RFC 3629:
 * no overlong form, no surrogate, nothing past U+10FFFF). */
static size_t utf8_len(const unsigned char *s)
{
	unsigned cp;
	size_t len, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1fu;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0fu;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07u;
	else
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/*
 * Append client or message text to line[*n], at most `limit` bytes of it,
 * cut only between whole characters or escapes (then "..." says so): a
 * control byte or a byte that is not UTF-8 becomes '?', so no line is forged
 * and JSON stays valid; `json`: '"' and '\\' escaped (also in text, where the
 * value is quoted).
 */
static void put_limited(char *line, size_t *n, const char *text, int json, size_t limit)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t used = 0, room = *n < LINE_MAX_BYTES - 8 ? LINE_MAX_BYTES - 8 - *n : 0;

	if (limit > room)
		limit = room;
	while (*s != '\0') {
		size_t len = utf8_len(s);
		const unsigned char *from = s;
		char esc[2];
		size_t out;

		if (len == 0 || s[0] < 0x20 || s[0] == 0x7f) {
			esc[0] = '?';
			from = (const unsigned char *)esc;
			out = 1;
			len = 1;
		} else if (json && (s[0] == '"' || s[0] == '\\')) {
			esc[0] = '\\';
			esc[1] = (char)s[0];
			from = (const unsigned char *)esc;
			out = 2;
		} else {
			out = len;
		}
		/* Room for this one, and for "..." if more follows; else "..." and stop. */
		if (used + out + (s[len] != '\0' ? 3 : 0) > limit) {
			if (used + 3 <= limit) {
				memcpy(line + *n, "...", 3);
				*n += 3;
			}
			return;
		}
		memcpy(line + *n, from, out);
		*n += out;
		used += out;
		s += len;
	}
}

static void put(char *line, size_t *n, const char *s, int json)
{
	put_limited(line, n, s, json, LINE_MAX_BYTES);
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
	__attribute__((format(__printf__, 2, 0)));
static void message(const char *level, const char *fmt, va_list ap)
{
	char line[LINE_MAX_BYTES], text[LINE_MAX_BYTES];
	size_t n = begin(line, level);

	vsnprintf(text, sizeof(text), fmt, ap);
	if (format == LOG_JSON) {
		raw(line, &n, ",\"message\":\"");
		put_limited(line, &n, text, 1, LINE_MAX_BYTES - 200);
		raw(line, &n, "\"");
	} else {
		put_limited(line, &n, text, 0, LINE_MAX_BYTES - 200);
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

/* Room for a request line's client fields: the fixed fields need some 300 bytes. */
#define KEY_ROOM 1200
#define FIELD_ROOM 64

/* One field of a request line: JSON ,"name":"value" (null), text  name="value" (-). */
static void str_field(char *line, size_t *n, const char *name, const char *value, size_t room)
{
	int json = format == LOG_JSON;

	putf(line, n, 0, json ? ",\"%s\":" : " %s=", name);
	if (value == NULL) {
		raw(line, n, json ? "null" : "-");
		return;
	}
	raw(line, n, "\"");
	put_limited(line, n, value, 1, room);
	raw(line, n, "\"");
}

static void num_field(char *line, size_t *n, const char *name, unsigned long long value)
{
	putf(line, n, 0, format == LOG_JSON ? ",\"%s\":%llu" : " %s=%llu", name, value);
}

void log_request(const struct log_request *r)
{
	char line[LINE_MAX_BYTES];
	size_t n = begin(line, "info");

	if (format == LOG_TEXT)
		raw(line, &n, "request");
	str_field(line, &n, "method", r->method, FIELD_ROOM);
	str_field(line, &n, "action", r->action, FIELD_ROOM);
	str_field(line, &n, "key", r->key, KEY_ROOM);
	num_field(line, &n, "status", (unsigned long long)(r->status > 0 ? r->status : 0));
	num_field(line, &n, "bytes_in", (unsigned long long)r->bytes_in);
	num_field(line, &n, "bytes_out", (unsigned long long)r->bytes_out);
	num_field(line, &n, "ms", (unsigned long long)r->ms);
	str_field(line, &n, "credential", r->credential ? r->credential : "none", FIELD_ROOM);
	emit(line, n);
}
