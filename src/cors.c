/* SPDX-License-Identifier: MIT */
/* cors.c: which web pages may call the gateway -- origins, preflight, exposed headers */
#include "cors.h"

#include <string.h>
#include <strings.h>

#define ALLOW_METHODS "GET, HEAD, PUT, POST, DELETE"
#define PREFLIGHT_MAX_AGE "600"

/* The request headers r2mpu reads; a page may send these and no others. */
#define ALLOWED_HEADERS(X) X("Authorization") X("Content-Type") X("Content-MD5") \
	X("Content-Disposition") X("Content-Encoding") X("Content-Language") \
	X("Cache-Control") X("Expires") X("Range") X("If-Match") X("If-None-Match") \
	X("If-Range")
#define AS_ITEM(h) h,
#define AS_LIST(h) ", " h
static const char *const allowed_headers[] = { ALLOWED_HEADERS(AS_ITEM) };
/* The same list as one header value, made at compile time (the leading ", " skipped). */
static const char allowed_headers_value[] = ALLOWED_HEADERS(AS_LIST);

/* What a page may read of an answer beyond the always-readable headers. */
static const char exposed_headers[] =
	"ETag, Content-Range, Accept-Ranges, Content-Disposition, Content-Encoding, "
	"Content-Length, X-R2mpu-Error, X-Request-Id, WWW-Authenticate";

/* Calls fn for each item of a list separated by commas and/or whitespace; stops at true. */
static bool any_item(const char *list, bool (*fn)(const char *item, size_t len, const void *arg),
		     const void *arg)
{
	const char *p = list;

	while (p != NULL && *p != '\0') {
		size_t skip = strspn(p, ", \t"), len;

		p += skip;
		len = strcspn(p, ", \t");
		if (len > 0 && fn(p, len, arg))
			return true;
		p += len;
	}
	return false;
}

static bool is_star(const char *item, size_t len, const void *arg)
{
	(void)arg;
	return len == 1 && item[0] == '*';
}

static bool same_origin(const char *item, size_t len, const void *arg)
{
	const char *origin = arg;

	return is_star(item, len, NULL) ||
	       (strlen(origin) == len && memcmp(item, origin, len) == 0);
}

/* scheme://host[:port]: printable ASCII, no spaces, bounded (it is echoed back). */
static bool origin_shaped(const char *origin)
{
	size_t i, n = strlen(origin);

	if (n == 0 || n > CORS_ORIGIN_MAX || strstr(origin, "://") == NULL)
		return false;
	for (i = 0; i < n; i++)
		if (origin[i] <= 0x20 || origin[i] >= 0x7f || origin[i] == ',')
			return false;
	return true;
}

bool cors_origin_allowed(const char *list, const char *origin)
{
	if (origin == NULL || !origin_shaped(origin))
		return false;
	return any_item(list, same_origin, origin);
}

bool cors_allows_any(const char *list)
{
	return any_item(list, is_star, NULL);
}

/* The length of host[:port] without the scheme's default port, which browsers leave out. */
static size_t authority_len(const char *authority, const char *scheme)
{
	const char *port = strcasecmp(scheme, "https") == 0 ? ":443" : ":80";
	size_t n = strlen(authority), p = strlen(port);

	if (n > p && strcmp(authority + n - p, port) == 0)
		return n - p;
	return n;
}

/* Is origin scheme://host, the origin of a request with this Host that came in by scheme? */
static bool own_origin(const char *origin, const char *scheme, const char *host)
{
	size_t slen = strlen(scheme), olen, hlen;
	const char *authority;

	if (host == NULL || host[0] == '\0' || strncasecmp(origin, scheme, slen) != 0 ||
	    strncmp(origin + slen, "://", 3) != 0)
		return false;
	authority = origin + slen + 3;
	olen = authority_len(authority, scheme);
	hlen = authority_len(host, scheme);
	/* Host names compare without case; Origin is lower-case, Host may not be. */
	return olen > 0 && olen == hlen && strncasecmp(authority, host, olen) == 0;
}

bool cors_write_allowed(const char *list, const char *origin, const char *scheme,
			const char *host)
{
	if (origin == NULL)
		return true;
	if (!origin_shaped(origin))
		return false;
	return cors_origin_allowed(list, origin) || own_origin(origin, scheme, host);
}

int cors_check_write(const struct config *cfg, const struct request *req, const char *scheme,
		     struct r2err *err)
{
	if (cors_write_allowed(cfg->cors_origins, req->origin, scheme, req->host))
		return 0;
	return r2err_set(err, 403, "CorsOriginRefused", "Origin not allowed to change the "
			 "store: a page may write only from the gateway's own origin or one "
			 "in R2MPU_CORS_ORIGINS");
}

static bool header_refused(const char *item, size_t len, const void *arg)
{
	size_t i;

	(void)arg;
	for (i = 0; i < sizeof(allowed_headers) / sizeof(allowed_headers[0]); i++)
		if (strlen(allowed_headers[i]) == len &&
		    strncasecmp(allowed_headers[i], item, len) == 0)
			return false;
	return true;
}

bool cors_headers_allowed(const char *request_headers)
{
	return !any_item(request_headers, header_refused, NULL);
}

void cors_add_headers(const struct config *cfg, const struct request *req,
		      struct response *res)
{
	if (cfg->cors_origins[0] == '\0')
		return;
	/* The answer depends on Origin whenever CORS is on: caches must know. */
	response_header(res, "Vary", "Origin");
	if (!cors_origin_allowed(cfg->cors_origins, req->origin))
		return;
	response_header(res, "Access-Control-Allow-Origin", req->origin);
	response_header(res, "Access-Control-Expose-Headers", exposed_headers);
}

int cors_preflight(const struct config *cfg, const struct request *req,
		   struct response *res, struct r2err *err)
{
	static const char *const methods[] = { "GET", "HEAD", "PUT", "POST", "DELETE" };
	const char *method = req->cors_request_method;
	size_t i;
	bool known = false;

	if (req->origin == NULL || method == NULL) {
		/* Not a preflight: say what the resource supports. */
		response_header(res, "Allow", ALLOWED_METHODS);
		send_empty(res, 204);
		return 0;
	}
	if (!cors_origin_allowed(cfg->cors_origins, req->origin))
		return r2err_set(err, 403, "CorsOriginRefused",
				 "Origin not allowed: add it to R2MPU_CORS_ORIGINS");
	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		known = known || strcmp(method, methods[i]) == 0;
	if (!known)
		return r2err_set(err, 403, "CorsMethodRefused",
				 "Method not allowed for cross-origin requests");
	if (req->cors_request_headers != NULL &&
	    !cors_headers_allowed(req->cors_request_headers))
		return r2err_set(err, 403, "CorsHeaderRefused",
				 "A requested header is not one r2mpu reads");
	response_header(res, "Access-Control-Allow-Methods", ALLOW_METHODS);
	response_header(res, "Access-Control-Allow-Headers", allowed_headers_value + 2);
	response_header(res, "Access-Control-Max-Age", PREFLIGHT_MAX_AGE);
	send_empty(res, 204);
	return 0;
}
