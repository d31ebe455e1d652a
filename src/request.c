/* request.c: the request as data -- method, key, query, length and headers, copied from the environment */
#include "fcgi_stdio.h"   /* first: it redefines stdio so stdin is the request's body */

#include "request.h"

#include "http.h"

#include <stdlib.h>
#include <string.h>

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
	const char *v = getenv(name);

	*out = NULL;
	if (v == NULL || (skip_empty && v[0] == '\0'))
		return 0;
	*out = strdup(v);
	return *out != NULL ? 0 : -1;
}

int request_read(struct request *r, const struct config *cfg, struct r2err *err)
{
	const char *method = getenv("REQUEST_METHOD");
	const char *cl = getenv("CONTENT_LENGTH");
	int i;

	memset(r, 0, sizeof(*r));
	r->content_length = CONTENT_LENGTH_ABSENT;
	r->method = method_from_name(method);
	snprintf(r->method_name, sizeof(r->method_name), "%s", method ? method : "");
	if (key_from_request(getenv("REQUEST_URI"), getenv("SCRIPT_NAME"),
			     getenv("PATH_INFO"), cfg->mount, &r->key, &r->key_len,
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
		return r2err_set(err, 500, "InternalError", "Out of memory");
	/* An empty value (Content-Type "" in particular) is how servers say "none". */
	for (i = 0; i < META_NFIELDS; i++)
		if (env_copy(meta_env[i], true, &r->meta.value[i]) < 0)
			return r2err_set(err, 500, "InternalError", "Out of memory");
	if (query_parse(getenv("QUERY_STRING"), &r->query, err) < 0)
		return -1;
	/* "" is what some servers pass for a body without a length (chunked). */
	if (cl != NULL && cl[0] != '\0' && content_length_parse(cl, &r->content_length) < 0)
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
	free(r->content_md5);
	free(r->origin);
	free(r->cors_request_method);
	free(r->cors_request_headers);
	http_meta_free(&r->meta);
	memset(r, 0, sizeof(*r));
}

static ssize_t read_stdin(void *ctx, char *buf, size_t len)
{
	struct request *r = ctx;
	size_t n;

	if ((uint64_t)r->content_length - r->body_read < len)
		len = (size_t)((uint64_t)r->content_length - r->body_read);
	if (len == 0)
		return 0;
	n = fread(buf, 1, len, stdin);
	if (n == 0)
		return ferror(stdin) ? -1 : 0;
	r->body_read += n;
	return (ssize_t)n;
}

void request_drain_body(struct request *r, uint64_t max)
{
	char buf[16 * 1024];
	uint64_t start = r->body_read;

	if (r->content_length == 0 ||
	    (r->content_length > 0 && (uint64_t)r->content_length - r->body_read > max))
		return;
	/* Without a length (chunked), read to the end, but never more than max. */
	while (r->body_read - start < max && read_stdin(r, buf, sizeof(buf)) > 0)
		;
}

struct byte_source request_body_source(struct request *r)
{
	struct byte_source src = {
		.read = read_stdin,
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
		return r2err_set(err, 500, "InternalError", "Out of memory");
	while (got < want) {
		ssize_t n = read_stdin(r, b + got, want - got);

		if (n <= 0) {
			free(b);
			return r2err_set(err, 400, "IncompleteBody", "Missing or incomplete body");
		}
		got += (size_t)n;
	}
	b[got] = '\0';
	*buf = b;
	*len = got;
	return 0;
}
