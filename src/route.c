/* SPDX-License-Identifier: MIT */
/* route.c: the const table from (method, action) to handler, and the checks it implies */
#include "route.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "complete_body.h"
#include "cors.h"
#include "action.h"
#include "handlers.h"

enum route_needs {
	NEEDS_UPLOAD_ID = 1 << 0,
	NEEDS_PART_NUMBER = 1 << 1,
	BODY_STREAM = 1 << 2,     /* a part: length required, 1..R2MPU_MAX_PART_SIZE */
	BODY_JSON = 1 << 3,       /* a document: length required, at most COMPLETE_BODY_MAX */
	KEY_MAY_BE_EMPTY = 1 << 4, /* the key is a prefix, and "" means every key */
	PUBLIC = 1 << 5,          /* no credentials, any path: says nothing about the keys */
	NO_KEY = 1 << 6,          /* credentials, any path: about no key (every token's scope) */
};

struct route {
	enum method method;
	enum action action;
	int (*handler)(struct handler_ctx *ctx, struct r2err *err);
	unsigned needs;
	unsigned rights;          /* enum access_right: any one of them will do */
	const char *missing;      /* the Worker's text when a needed parameter is absent */
};

static const struct route routes[] = {
	{ METHOD_POST, ACTION_CREATE, handle_create, 0, RIGHT_WRITE, NULL },
	{ METHOD_POST, ACTION_COMPLETE, handle_complete, NEEDS_UPLOAD_ID | BODY_JSON,
	  RIGHT_WRITE, "Missing uploadId" },
	{ METHOD_PUT, ACTION_UPLOAD_PART, handle_upload_part,
	  NEEDS_UPLOAD_ID | NEEDS_PART_NUMBER | BODY_STREAM, RIGHT_WRITE,
	  "Missing partNumber or uploadId" },
	{ METHOD_DELETE, ACTION_ABORT, handle_abort, NEEDS_UPLOAD_ID, RIGHT_WRITE,
	  "Missing uploadId" },
	/* Resuming needs the parts: whoever may write the upload may list them. */
	{ METHOD_GET, ACTION_LIST_PARTS, handle_list_parts, NEEDS_UPLOAD_ID,
	  RIGHT_READ | RIGHT_WRITE, "Missing uploadId" },
	{ METHOD_GET, ACTION_LIST_UPLOADS, handle_list_uploads, KEY_MAY_BE_EMPTY, RIGHT_READ, NULL },
	{ METHOD_DELETE, ACTION_DELETE, handle_delete, 0, RIGHT_DELETE, NULL },
	{ METHOD_GET, ACTION_GET, handle_get, 0, RIGHT_READ, NULL },
	{ METHOD_HEAD, ACTION_GET, handle_get, 0, RIGHT_READ, NULL },
	{ METHOD_GET, ACTION_HEALTH, handle_health, PUBLIC, 0, NULL },
	{ METHOD_HEAD, ACTION_HEALTH, handle_health, PUBLIC, 0, NULL },
	/* The whole pool's counters: no key, so no token's prefix narrows them. */
	{ METHOD_GET, ACTION_METRICS, handle_metrics, NO_KEY, RIGHT_METRICS, NULL },
};

/* The key, then the credentials: nothing else is looked at for a stranger. */
static int check_access(const struct route *rt, const struct access *access,
			struct handler_ctx *ctx, struct r2err *err)
{
	const struct request *req = ctx->req;
	struct access_request ar = {
		.authorization = req->authorization, .query = &req->query,
		.key = req->key, .key_len = req->key_len,
		.key_is_prefix = (rt->needs & KEY_MAY_BE_EMPTY) != 0,
		.host = req->host, .remote_addr = req->remote_addr, .now = time(NULL),
	};

	if (rt->needs & PUBLIC)
		return 0;
	if (rt->needs & NO_KEY) {
		ar.key = "";
		ar.key_len = 0;
		ar.any_key = true;
		return access_check(access, &ar, rt->rights, &ctx->grant, err);
	}
	if (req->key == NULL) {
		*err = req->key_err;
		return -1;
	}
	if (req->key_len == 0 && !(rt->needs & KEY_MAY_BE_EMPTY))
		return r2err_set(err, 400, "InvalidKey", "Missing object key in the URL path");
	return access_check(access, &ar, rt->rights, &ctx->grant, err);
}

/* The checks every route's flags imply, in the Worker's order. */
static int check_needs(const struct route *rt, struct handler_ctx *ctx, struct r2err *err)
{
	const struct request *req = ctx->req;
	int64_t cl = req->content_length;

	if ((rt->needs & NEEDS_UPLOAD_ID) && req->query.upload_id == NULL)
		return r2err_set(err, 400, "MissingParameter", "%s", rt->missing);
	if (rt->needs & NEEDS_PART_NUMBER) {
		if (req->query.part_number == NULL)
			return r2err_set(err, 400, "MissingParameter", "%s", rt->missing);
		/* R2MPU_MAX_PARTS bounds what one upload may hold (config: 1..10000). */
		ctx->part_number = multipart_part_number_parse(req->query.part_number);
		if (ctx->part_number < 0 || (uint64_t)ctx->part_number > ctx->cfg->max_parts)
			return r2err_set(err, 400, "InvalidArgument",
					 "Invalid partNumber: must be a whole number from 1 to %llu",
					 (unsigned long long)ctx->cfg->max_parts);
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
		if ((rt->needs & BODY_STREAM) && ctx->grant.max_size != 0 &&
		    (uint64_t)cl > ctx->grant.max_size)
			return r2err_set(err, 413, "EntityTooLarge",
					 "Part is %lld bytes; this upload may have at most %llu",
					 (long long)cl,
					 (unsigned long long)ctx->grant.max_size);
		if ((rt->needs & BODY_JSON) && cl > COMPLETE_BODY_MAX)
			return r2err_set(err, 413, "EntityTooLarge",
					 "Body is %lld bytes; the largest allowed is %d",
					 (long long)cl, COMPLETE_BODY_MAX);
	}
	return 0;
}

/* A client's text in a message: printable ASCII only, bounded (the Worker's words otherwise). */
static void printable_copy(char *dst, size_t cap, const char *src)
{
	size_t i;

	for (i = 0; src[i] != '\0' && i + 1 < cap; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?';
	dst[i] = '\0';
}

void route_request(const struct config *cfg, const struct access *access,
		   struct store *store, struct request *req, struct response *res)
{
	struct handler_ctx ctx = { cfg, store, req, res, 0, { 0, 0 } };
	const struct route *rt = NULL;
	struct r2err err;
	size_t i;
	int action;

	/* A browser's preflight carries no credentials, and may come for any action. */
	if (req->method == METHOD_OPTIONS) {
		if (cors_preflight(cfg, req, res, &err) < 0)
			goto fail;
		return;
	}
	/*
	 * Every method but GET and HEAD may change the store: from another
	 * site's page it is refused before anything else, credentials or not:
	 * an open gateway has none to check, and a signed URL works from any
	 * page that holds it (a form needs no preflight).
	 */
	if (req->method != METHOD_GET && req->method != METHOD_HEAD &&
	    cors_check_write(cfg, req, req->https ? "https" : "http", &err) < 0)
		goto fail;
	if (req->query.action == NULL) {
		r2err_set(&err, 400, "MissingAction", "Missing action type");
		goto fail;
	}
	if (req->method == METHOD_OTHER) {
		r2err_set(&err, 405, "MethodNotAllowed", "Method Not Allowed");
		goto fail;
	}
	action = action_id(req->query.action);
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (routes[i].method == req->method && (int)routes[i].action == action)
			rt = &routes[i];
	if (rt == NULL) {
		char shown[65];

		printable_copy(shown, sizeof(shown), req->query.action);
		r2err_set(&err, 400, "UnknownAction", "Unknown action %s for %s", shown,
			  req->method_name);
		goto fail;
	}
	if (check_access(rt, access, &ctx, &err) < 0)
		goto fail;
	memcpy(req->credential, ctx.grant.credential, sizeof(req->credential));
	if (check_needs(rt, &ctx, &err) < 0 || rt->handler(&ctx, &err) < 0)
		goto fail;
	return;
fail:
	send_error(res, &err);
}
