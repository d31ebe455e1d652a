/* SPDX-License-Identifier: MIT */
/* route.h: the const table from (method, action) to handler, and the checks it implies */
#ifndef R2MPU_ROUTE_H
#define R2MPU_ROUTE_H

#include "access.h"
#include "config.h"
#include "request.h"
#include "response.h"
#include "store.h"

/* The actions r2mpu serves (?action=), each a name in route.c's table. */
enum route_action {
	ACTION_CREATE, ACTION_COMPLETE, ACTION_UPLOAD_PART, ACTION_ABORT, ACTION_LIST_PARTS,
	ACTION_LIST_UPLOADS, ACTION_DELETE, ACTION_GET, ACTION_HEALTH, ACTION_METRICS,
	ROUTE_ACTIONS
};

/* An action's id (its name exactly), or -1; and back (NULL for no such id). */
int route_action_id(const char *action);
const char *route_action_name(int id);

/*
 * Serve one request: route, authorize (access), check, call the handler,
 * answer. Never exits.
 */
void route_request(const struct config *cfg, const struct access *access,
		   struct store *store, struct request *req, struct response *res);

#endif
