/* route.c: the const table from (method, action) to handler, and the checks it implies */
#include "route.h"

#include <string.h>

#include "handlers.h"

enum route_needs {
	NEEDS_UPLOAD_ID = 1 << 0,
	NEEDS_PART_NUMBER = 1 << 1,
	BODY_STREAM = 1 << 2,     /* a part: length required, 1..R2MPU_MAX_PART_SIZE */
	BODY_JSON = 1 << 3,       /* a document: length required, at most COMPLETE_BODY_MAX */
};

struct route {
	enum method method;
	const char *action;
	int (*handler)(struct handler_ctx *ctx, struct r2err *err);
	unsigned needs;
	const char *missing;      /* the Worker's text when a needed parameter is absent */
};

static const struct route routes[] = {
	{ METHOD_POST, "mpu-create", handle_create, 0, NULL },
	{ METHOD_POST, "mpu-complete", handle_complete, NEEDS_UPLOAD_ID | BODY_JSON,
	  "Missing uploadId" },
	{ METHOD_PUT, "mpu-uploadpart", handle_upload_part,
	  NEEDS_UPLOAD_ID | NEEDS_PART_NUMBER | BODY_STREAM, "Missing partNumber or uploadId" },
	{ METHOD_DELETE, "mpu-abort", handle_abort, NEEDS_UPLOAD_ID, "Missing uploadId" },
	{ METHOD_DELETE, "delete", handle_delete, 0, NULL },
	{ METHOD_GET, "get", handle_get, 0, NULL },
	{ METHOD_HEAD, "get", handle_get, 0, NULL },
};

/* The checks every route's flags imply, in the Worker's order. */
static int check_needs(const struct route *rt, struct handler_ctx *ctx, struct r2err *err)
{
	const struct request *req = ctx->req;
	int64_t cl = req->content_length;

	if (req->key == NULL) {
		*err = req->key_err;
		return -1;
	}
	if ((rt->needs & NEEDS_UPLOAD_ID) && req->query.upload_id == NULL)
		return r2err_set(err, 400, "MissingParameter", "%s", rt->missing);
	if (rt->needs & NEEDS_PART_NUMBER) {
		if (req->query.part_number == NULL)
			return r2err_set(err, 400, "MissingParameter", "%s", rt->missing);
		ctx->part_number = part_number_parse(req->query.part_number);
		if (ctx->part_number < 0)
			return r2err_set(err, 400, "InvalidArgument",
					 "Invalid partNumber: must be a whole number from 1 to %d",
					 PART_NUMBER_MAX);
	}
	if (rt->needs & (BODY_STREAM | BODY_JSON)) {
		if (cl == CONTENT_LENGTH_ABSENT)
			return r2err_set(err, 411, "MissingContentLength",
					 "Length Required: send the body with a Content-Length");
		if ((rt->needs & BODY_STREAM) && cl == 0)
			return r2err_set(err, 400, "MissingBody", "Missing request body");
		if ((rt->needs & BODY_STREAM) && (uint64_t)cl > ctx->cfg->max_part_size)
			return r2err_set(err, 413, "EntityTooLarge",
					 "Part is %lld bytes; the largest allowed is %llu",
					 (long long)cl,
					 (unsigned long long)ctx->cfg->max_part_size);
		if ((rt->needs & BODY_JSON) && cl > COMPLETE_BODY_MAX)
			return r2err_set(err, 413, "EntityTooLarge",
					 "Body is %lld bytes; the largest allowed is %d",
					 (long long)cl, COMPLETE_BODY_MAX);
	}
	return 0;
}

void route_request(const struct config *cfg, struct store *store,
		   struct request *req, struct response *res)
{
	struct handler_ctx ctx = { cfg, store, req, res, 0 };
	const struct route *rt = NULL;
	struct r2err err;
	size_t i;

	if (req->query.action == NULL) {
		r2err_set(&err, 400, "MissingAction", "Missing action type");
		goto fail;
	}
	if (req->method == METHOD_OTHER) {
		r2err_set(&err, 405, "MethodNotAllowed", "Method Not Allowed");
		goto fail;
	}
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (routes[i].method == req->method &&
		    strcmp(routes[i].action, req->query.action) == 0)
			rt = &routes[i];
	if (rt == NULL) {
		r2err_set(&err, 400, "UnknownAction", "Unknown action %s for %s",
			  req->query.action, req->method_name);
		goto fail;
	}
	if (check_needs(rt, &ctx, &err) < 0 || rt->handler(&ctx, &err) < 0)
		goto fail;
	return;
fail:
	send_error(res, &err);
}
