/* SPDX-License-Identifier: MIT */
/* route.h: the const table from (method, action) to handler, and the checks it implies */
#ifndef R2MPU_ROUTE_H
#define R2MPU_ROUTE_H

#include "access.h"
#include "config.h"
#include "request.h"
#include "response.h"
#include "store.h"

/*
 * Serve one request: route, authorize (access), check, call the handler,
 * answer. Never exits.
 */
void route_request(const struct config *cfg, const struct access *access,
		   struct store *store, struct request *req, struct response *res);

#endif
