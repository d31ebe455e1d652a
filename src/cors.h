/* SPDX-License-Identifier: MIT */
/* cors.h: which web pages may call the gateway -- origins, preflight, exposed headers */
#ifndef R2MPU_CORS_H
#define R2MPU_CORS_H

#include <stdbool.h>

#include "config.h"
#include "errors.h"
#include "request.h"
#include "response.h"

#define CORS_ORIGIN_MAX 256   /* bytes: a longer Origin is never allowed (it is echoed back) */

/*
 * Pure: is `origin` in the configured list (R2MPU_CORS_ORIGINS: origins
 * separated by spaces or commas, compared exactly, or "*" for any)? An
 * empty list allows none; an origin that is not scheme://host[:port] in
 * printable ASCII of at most CORS_ORIGIN_MAX bytes ("null", say) never is.
 */
bool cors_origin_allowed(const char *list, const char *origin);

/* Pure: does the list allow every origin (an item "*")? */
bool cors_allows_any(const char *list);

/*
 * Pure: may a request that changes the store (POST, PUT, DELETE) go on,
 * given its Origin? A page on any site can send one without a preflight (an
 * HTML form, a no-cors fetch), and the answer's missing CORS headers only
 * keep the page from reading it: what it changed would be changed. Yes
 * without an Origin (not a browser), for an origin cors_origin_allowed()
 * allows, and for the request's own origin: `scheme` ("http" or "https")
 * :// the Host header, a default port (:80, :443) the same as none, as
 * browsers send Origin on same-origin writes too. "null" never.
 */
bool cors_write_allowed(const char *list, const char *origin, const char *scheme,
			const char *host);

/*
 * 403 CorsOriginRefused for a request that changes the store when
 * cors_write_allowed() says no; 0 otherwise. `scheme` as above.
 */
int cors_check_write(const struct config *cfg, const struct request *req, const char *scheme,
		     struct r2err *err);

/* Pure: is every header named in an Access-Control-Request-Headers value one r2mpu reads? */
bool cors_headers_allowed(const char *request_headers);

/*
 * Add the CORS headers of an actual answer (any status, errors too, so a
 * page can read why): the origin when it is allowed, Vary: Origin, and
 * ETag among the exposed headers, so a page can read part etags.
 */
void cors_add_headers(const struct config *cfg, const struct request *req,
		      struct response *res);

/*
 * Answer an OPTIONS request: a preflight (Origin and
 * Access-Control-Request-Method) from an allowed origin for a method and
 * headers r2mpu serves gets 204; a refused one 403. Never asks for
 * credentials: browsers send none with a preflight.
 */
int cors_preflight(const struct config *cfg, const struct request *req,
		   struct response *res, struct r2err *err);

#endif
