/* SPDX-License-Identifier: MIT */
/* request.c: the request as data -- method, key, query, length and headers, copied from the environment */
#include "request.h"

#include "hooks.h"

#include "conn.h"
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* CGI variables of the headers kept as object metadata, in http_meta order. */
static const char *const meta_env[META_NFIELDS] = {
	[META_CONTENT_TYPE] = "CONTENT_TYPE",
	[META_CONTENT_DISPOSITION] = "HTTP_CONTENT_DISPOSITION",
	[META_CONTENT_ENCODING] = "HTTP_CONTENT_ENCODING",
	[META_CONTENT_LANGUAGE] = "HTTP_CONTENT_LANGUAGE",
	[META_CACHE_CONTROL] = "HTTP_CACHE_CONTROL",
	[META_EXPIRES] = "HTTP_EXPIRES",
};

static enum method method_from_name(const char *m)
{
	static const struct { const char *name; enum method m; } methods[] = {
		{ "GET", METHOD_GET }, { "HEAD", METHOD_HEAD }, { "PUT", METHOD_PUT },
		{ "POST", METHOD_POST }, { "DELETE", METHOD_DELETE }, { "OPTIONS", METHOD_OPTIONS },
	};
	size_t i;

	for (i = 0; m != NULL && i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(m, methods[i].name) == 0)
			return methods[i].m;
	return METHOD_OTHER;
}

/* *out = a copy of the variable, or NULL when unset (or, for meta, empty); -1 when out of memory. */
static int env_copy(const char *name, bool skip_empty, char **out)
{
	const char *v = conn_param(name);

	*out = NULL;
	if (v == NULL || (skip_empty && v[0] == '\0'))
		return 0;
	*out = strdup(v);
	return *out != NULL ? 0 : -1;
}

/* The client reached the server over TLS: HTTPS (on, 1) or REQUEST_SCHEME (Apache, nginx). */
static bool scheme_is_https(void)
{
	const char *https = conn_param("HTTPS"), *scheme = conn_param("REQUEST_SCHEME");

	return (https != NULL && (strcasecmp(https, "on") == 0 || strcmp(https, "1") == 0)) ||
	       (scheme != NULL && strcasecmp(scheme, "https") == 0);
}

int request_read(struct request *r, const struct config *cfg, struct r2err *err)
{
	const char *method = conn_param("REQUEST_METHOD");
	const char *cl = conn_param("CONTENT_LENGTH");
	int i;

	memset(r, 0, sizeof(*r));
	r->content_length = CONTENT_LENGTH_ABSENT;
	r->method = method_from_name(method);
	snprintf(r->method_name, sizeof(r->method_name), "%s", method ? method : "");
	if (uri_key_from_request(conn_param("REQUEST_URI"), conn_param("SCRIPT_NAME"),
				 conn_param("PATH_INFO"), cfg->mount, &r->key, &r->key_len,
				 &r->key_err) < 0)
		r->key = NULL;
	if (env_copy("HTTP_RANGE", false, &r->range) < 0 ||
	    env_copy("HTTP_IF_MATCH", false, &r->if_match) < 0 ||
	    env_copy("HTTP_IF_NONE_MATCH", false, &r->if_none_match) < 0 ||
	    env_copy("HTTP_IF_RANGE", false, &r->if_range) < 0 ||
	    env_copy("HTTP_AUTHORIZATION", false, &r->authorization) < 0 ||
	    env_copy("HTTP_HOST", true, &r->host) < 0 ||
	    env_copy("REMOTE_ADDR", true, &r->remote_addr) < 0 ||
	    env_copy("HTTP_CONTENT_MD5", true, &r->content_md5) < 0 ||
	    env_copy("HTTP_ORIGIN", true, &r->origin) < 0 ||
	    env_copy("HTTP_ACCESS_CONTROL_REQUEST_METHOD", true, &r->cors_request_method) < 0 ||
	    env_copy("HTTP_ACCESS_CONTROL_REQUEST_HEADERS", true, &r->cors_request_headers) < 0)
		return r2err_out_of_memory(err);
	r->https = scheme_is_https();
	/* An empty value (Content-Type "" in particular) is how servers say "none". */
	for (i = 0; i < META_NFIELDS; i++)
		if (env_copy(meta_env[i], true, &r->meta.value[i]) < 0)
			return r2err_out_of_memory(err);
	if (query_parse(conn_param("QUERY_STRING"), &r->query, err) < 0)
		return -1;
	/* "" is what some servers pass for a body without a length (chunked). */
	if (cl != NULL && cl[0] != '\0' && http_content_length_parse(cl, &r->content_length) < 0)
		return r2err_set(err, 400, "InvalidContentLength",
				 "Invalid Content-Length");
	return 0;
}

void request_free(struct request *r)
{
	if (r == NULL)
		return;
	query_free(&r->query);
	free(r->key);
	free(r->range);
	free(r->if_match);
	free(r->if_none_match);
	free(r->if_range);
	free(r->authorization);
	free(r->host);
	free(r->remote_addr);
	if (r->complete_hook != NULL)
		hook_env_free(r->complete_hook);
	free(r->complete_hook);
	free(r->content_md5);
	free(r->origin);
	free(r->cors_request_method);
	free(r->cors_request_headers);
	http_meta_free(&r->meta);
	memset(r, 0, sizeof(*r));
}

static ssize_t read_body(void *ctx, char *buf, size_t len)
{
	struct request *r = ctx;
	ssize_t n;

	if ((uint64_t)r->content_length - r->body_read < len)
		len = (size_t)((uint64_t)r->content_length - r->body_read);
	if (len == 0)
		return 0;
	n = conn_read(buf, len);
	if (n == 0)
		r->body_ended = true;
	if (n > 0)
		r->body_read += (uint64_t)n;
	return n;
}

int request_body_error(struct r2err *err)
{
	if (conn_too_slow())
		return r2err_set(err, 408, "RequestTimeout", "RequestTimeout: the body came slower "
				 "than the gateway's minimum rate (R2MPU_MIN_RATE, after "
				 "R2MPU_IO_TIMEOUT); nothing was stored");
	return -1;
}

int64_t request_body_unread(const struct request *r)
{
	if (r->content_length == CONTENT_LENGTH_ABSENT)
		return r->body_ended ? 0 : -1;
	return r->content_length - (int64_t)r->body_read;
}

struct byte_source request_body_source(struct request *r)
{
	struct byte_source src = {
		.read = read_body,
		.ctx = r,
		.length = r->content_length > 0 ? (uint64_t)r->content_length : 0,
	};
	return src;
}

int request_read_body(struct request *r, char **buf, size_t *len, struct r2err *err)
{
	size_t want = r->content_length > 0 ? (size_t)r->content_length : 0, got = 0;
	char *b;

	*buf = NULL;
	*len = 0;
	b = malloc(want + 1);
	if (b == NULL)
		return r2err_out_of_memory(err);
	while (got < want) {
		ssize_t n = read_body(r, b + got, want - got);

		if (n <= 0) {
			free(b);
			r2err_set(err, 400, "IncompleteBody", "Missing or incomplete body");
			return request_body_error(err);
		}
		got += (size_t)n;
	}
	b[got] = '\0';
	*buf = b;
	*len = got;
	return 0;
}
