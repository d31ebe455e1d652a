/* SPDX-License-Identifier: MIT */
/* handlers.h: one function per action -- validate, call the store, shape the answer */
#ifndef R2MPU_HANDLERS_H
#define R2MPU_HANDLERS_H

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
 * Each returns 0 after writing its answer through ctx->res, or -1 with
 * *err filled and nothing written (the router sends the error).
 */
int handle_create(struct handler_ctx *ctx, struct r2err *err);
int handle_upload_part(struct handler_ctx *ctx, struct r2err *err);
int handle_complete(struct handler_ctx *ctx, struct r2err *err);
int handle_abort(struct handler_ctx *ctx, struct r2err *err);
int handle_get(struct handler_ctx *ctx, struct r2err *err);      /* GET and HEAD */
int handle_delete(struct handler_ctx *ctx, struct r2err *err);
int handle_list_parts(struct handler_ctx *ctx, struct r2err *err);     /* mpu-listparts */
int handle_list_uploads(struct handler_ctx *ctx, struct r2err *err);   /* mpu-list */
int handle_health(struct handler_ctx *ctx, struct r2err *err);         /* health */
int handle_metrics(struct handler_ctx *ctx, struct r2err *err);        /* metrics */

/*
 * What a request leaves to do once its answer is out and the web server has
 * it (conn_finish): the complete hook, started (hook_spawn). can_log: the
 * hook may keep r2mpu's stderr, the log (FastCGI; not plain CGI, whose
 * server reads stderr to its end).
 */
void handlers_after_request(const struct config *cfg, struct request *req, bool can_log);

/*
 * Pure: mpu-list's page from the query: max-uploads (1..LIST_UPLOADS_MAX,
 * default LIST_UPLOADS_MAX), key-marker (a valid key) and upload-id-marker
 * (printable ASCII, only with a key-marker). Strings borrowed from q. 400
 * InvalidArgument for anything else.
 */
int handlers_list_page_parse(const struct query *q, struct upload_page *page, struct r2err *err);

/* Pure: the metadata headers of mpu-create are storable (sizes, characters). */
int http_meta_validate(const struct http_meta *meta, struct r2err *err);

#endif
