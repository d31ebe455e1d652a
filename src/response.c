/* SPDX-License-Identifier: MIT */
/* response.c: the only writer of answers -- status, headers (CR/LF-safe), body, errors */
#include "response.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "conn.h"
#include "log.h"

#include <json-c/json.h>

const char *response_status_reason(int status)
{
	static const struct { int status; const char *reason; } reasons[] = {
		{ 200, "OK" }, { 204, "No Content" }, { 206, "Partial Content" },
		{ 304, "Not Modified" }, { 400, "Bad Request" }, { 401, "Unauthorized" },
		{ 403, "Forbidden" }, { 404, "Not Found" },
		{ 405, "Method Not Allowed" }, { 408, "Request Timeout" }, { 411, "Length Required" },
		{ 412, "Precondition Failed" }, { 413, "Content Too Large" },
		{ 416, "Range Not Satisfiable" }, { 429, "Too Many Requests" }, { 500, "Internal Server Error" },
		{ 502, "Bad Gateway" }, { 503, "Service Unavailable" },
		{ 504, "Gateway Timeout" }, { 507, "Insufficient Storage" },
	};
	size_t i;

	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].status == status)
			return reasons[i].reason;
	return "Unknown";
}

void response_init(struct response *res, bool head)
{
	memset(res, 0, sizeof(*res));
	res->head = head;
}

/* Append raw text to the header buffer; drops the header if it does not fit. */
static void header_append(struct response *res, const char *name, const char *value)
{
	size_t nlen = strlen(name), vlen = strlen(value), i;
	char *p;

	if (res->started || res->hlen + nlen + vlen + 4 > sizeof(res->headers)) {
		/* Never send an answer with a header missing (a 206 without Content-Range). */
		log_error("response: header %s does not fit or comes too late", name);
		res->overflow = true;
		return;
	}
	p = res->headers + res->hlen;
	memcpy(p, name, nlen);
	p[nlen] = ':';
	p[nlen + 1] = ' ';
	/* Never let a value end the header early: no CR, LF or other controls. */
	for (i = 0; i < vlen; i++) {
		unsigned char c = (unsigned char)value[i];

		p[nlen + 2 + i] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
	}
	memcpy(p + nlen + 2 + vlen, "\r\n", 2);
	res->hlen += nlen + vlen + 4;
}

void response_header(struct response *res, const char *name, const char *value)
{
	header_append(res, name, value);
}

void response_headerf(struct response *res, const char *name, const char *fmt, ...)
{
	char value[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	header_append(res, name, value);
}

static int out(struct response *res, const void *buf, size_t len)
{
	if (res->failed)
		return -1;
	if (conn_write(buf, len) < 0) {
		res->failed = true;
		log_error(conn_too_slow() ? "response: the client reads slower than R2MPU_MIN_RATE; "
			  "answer ended" : "response: client went away");
		return -1;
	}
	return 0;
}

int response_start(struct response *res, int status)
{
	char line[64];
	int n;

	if (res->started)
		return res->failed ? -1 : 0;
	res->started = true;
	if (res->overflow) {
		static const char head[] = "Status: 500 Internal Server Error\r\n"
			"Content-Type: text/plain; charset=utf-8\r\nContent-Length: 49\r\n\r\n";
		static const char body[] = "InternalError: the answer's headers are too large";

		_Static_assert(sizeof(body) - 1 == 49, "Content-Length above");
		res->status = 500;
		if (out(res, head, sizeof(head) - 1) == 0 && !res->head)
			out(res, body, sizeof(body) - 1);
		res->failed = true;     /* no body of the original answer follows */
		return -1;
	}
	res->status = status;
	n = snprintf(line, sizeof(line), "Status: %d %s\r\n", status, response_status_reason(status));
	if (out(res, line, (size_t)n) < 0 || out(res, res->headers, res->hlen) < 0 ||
	    out(res, "\r\n", 2) < 0)
		return -1;
	return 0;
}

int response_write(struct response *res, const void *buf, size_t len)
{
	if (!res->started && response_start(res, 200) < 0)
		return -1;
	if (res->head)
		return 0;
	if (out(res, buf, len) < 0)
		return -1;
	res->body_bytes += len;
	return 0;
}

void response_flush(struct response *res)
{
	if (!res->failed && conn_flush() != 0)
		res->failed = true;
}

void send_body(struct response *res, int status, const char *type, const char *body,
	       size_t len)
{
	if (type != NULL)
		response_header(res, "Content-Type", type);
	response_headerf(res, "Content-Length", "%zu", len);
	if (response_start(res, status) == 0)
		response_write(res, body, len);
}

void send_error(struct response *res, const struct r2err *err)
{
	char body[sizeof(err->message) + 1];
	size_t len;

	if (res->started) {
		/* Too late for a status: the log is all that is left. */
		log_error("error after the answer started: %d %s", err->status, err->message);
		return;
	}
	if (err->status >= 500)
		log_error("%d %s: %s", err->status, err->code, err->message);
	len = (size_t)snprintf(body, sizeof(body), "%s", err->message);
	response_header(res, "X-R2mpu-Error", err->code);
	response_header(res, "X-Content-Type-Options", "nosniff");
	if (err->status == 405)
		response_header(res, "Allow", ALLOWED_METHODS);
	if (err->status == 401)
		response_header(res, "WWW-Authenticate", "Bearer realm=\"r2mpu\"");
	send_body(res, err->status, "text/plain; charset=utf-8", body, len);
}

void send_json(struct response *res, int status, struct json_object *body)
{
	const char *text = json_object_to_json_string_ext(
		body, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	struct r2err err;

	if (text == NULL) {
		r2err_out_of_memory(&err);
		send_error(res, &err);
		return;
	}
	send_body(res, status, "application/json", text, strlen(text));
}

void send_text(struct response *res, int status, const char *text)
{
	send_body(res, status, "text/plain; charset=utf-8", text, strlen(text));
}

void send_empty(struct response *res, int status)
{
	if (status != 204 && status != 304)
		response_header(res, "Content-Length", "0");
	response_start(res, status);
}
