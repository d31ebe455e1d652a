/* route.h: the const table from (method, action) to handler, and the checks it implies */
#ifndef R2MPU_ROUTE_H
#define R2MPU_ROUTE_H

#include "access.h"
#include "config.h"
#include "request.h"
#include "response.h"
#include "store.h"

/* What a handler gets: everything checked by route_request() already holds. */
struct handler_ctx {
	const struct config *cfg;    /* read-only */
	struct store *store;
	struct request *req;         /* key valid; flagged parameters present and valid */
	struct response *res;
	int part_number;             /* 1..R2MPU_MAX_PARTS when the route needs it, else 0 */
	struct access_grant grant;   /* what the request's credentials allow */
};

/*
 * Serve one request: route, authorize (access), check, call the handler,
 * answer. Never exits.
 */
void route_request(const struct config *cfg, const struct access *access,
		   struct store *store, struct request *req, struct response *res);

#endif
