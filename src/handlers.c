/* SPDX-License-Identifier: MIT */
/* handlers.c: one function per action -- validate, call the store, shape the answer */
#include "handlers.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "complete_body.h"
#include "hooks.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "uri.h"

/* The largest metadata create accepts must fit in an answer's headers. */
_Static_assert(HTTP_META_MAX + 4096 <= RESPONSE_HEADERS_MAX, "metadata fits the headers");

int http_meta_validate(const struct http_meta *meta, struct r2err *err)
{
	size_t total = 0;
	int i;

	for (i = 0; i < META_NFIELDS; i++) {
		const unsigned char *v = (const unsigned char *)meta->value[i];
		size_t len, at, n;
		uint32_t cp;

		if (v == NULL)
			continue;
		len = strlen((const char *)v);
		total += len;
		/*
		 * The values go back out to browsers and S3 stores: all of them,
		 * and this check, must read a value alike. Invalid UTF-8 (overlong
		 * or surrogate spellings, cut sequences) is where readers differ.
		 */
		for (at = 0; at < len; at += n) {
			n = uri_utf8_decode_one(v + at, len - at, &cp);
			if (n == 0)
				return r2err_set(err, 400, "InvalidArgument",
						 "Header %s is not valid UTF-8",
						 http_meta_header[i]);
			if ((cp < 0x20 && cp != '\t') || cp == 0x7f)
				return r2err_set(err, 400, "InvalidArgument",
						 "Header %s contains a control character",
						 http_meta_header[i]);
		}
	}
	if (total > HTTP_META_MAX)
		return r2err_set(err, 400, "MetadataTooLarge",
				 "HTTP metadata headers total %zu bytes; at most %d are kept",
				 total, HTTP_META_MAX);
	return 0;
}

/*
 * How many uploads are in progress under the credential's scope, counted
 * up to `limit` (page by page: the limit may exceed one listing). A signed
 * URL for one key counts that key's uploads only; they come first in the
 * listing of the key as a prefix, before any longer key.
 */
static int pending_uploads(struct handler_ctx *ctx, uint64_t limit, uint64_t *n,
			   struct r2err *err)
{
	const char *scope = ctx->grant.scope != NULL ? ctx->grant.scope : "";
	struct upload_info *prev = NULL, *list = NULL;
	size_t prev_count = 0, count = 0, i;
	bool truncated = true;
	int rc = -1;

	*n = 0;
	while (truncated && *n < limit) {
		uint64_t left = limit - *n;
		struct upload_page page = {
			.key_marker = prev_count ? prev[prev_count - 1].key : NULL,
			.upload_id_marker = prev_count ? prev[prev_count - 1].upload_id : NULL,
			.max = left < LIST_UPLOADS_MAX ? (size_t)left : LIST_UPLOADS_MAX,
		};

		if (ctx->store->ops->list_uploads(ctx->store->state, scope, &page, &list,
						  &count, &truncated, err) < 0)
			goto out;
		upload_list_free(prev, prev_count);
		prev = list, prev_count = count;
		list = NULL;
		for (i = 0; i < count; i++) {
			if (!ctx->grant.scope_is_prefix && strcmp(prev[i].key, scope) != 0) {
				truncated = false;     /* past the one key */
				break;
			}
			(*n)++;
		}
		if (count == 0)
			break;
	}
	rc = 0;
out:
	upload_list_free(prev, prev_count);
	return rc;
}

/* What every hook is told: which key, who asked, from where (hooks.h). */
static int hook_env_request(const struct handler_ctx *ctx, const char *event,
			    struct hook_env *env)
{
	const struct request *req = ctx->req;
	const char *id = log_request_id();
	char max[24];

	snprintf(max, sizeof(max), "%llu", (unsigned long long)ctx->grant.max_size);
	return hook_env_add(env, "R2MPU_HOOK", event, strlen(event), false) < 0 ||
	       hook_env_add(env, "R2MPU_KEY", req->key, req->key_len, true) < 0 ||
	       hook_env_add(env, "R2MPU_CREDENTIAL", ctx->grant.credential,
			    strlen(ctx->grant.credential), false) < 0 ||
	       hook_env_add(env, "R2MPU_SCOPE", ctx->grant.scope,
			    ctx->grant.scope ? strlen(ctx->grant.scope) : 0, true) < 0 ||
	       (ctx->grant.max_size != 0 &&
		hook_env_add(env, "R2MPU_MAX_SIZE", max, strlen(max), false) < 0) ||
	       hook_env_add(env, "R2MPU_REQUEST_ID", id, id ? strlen(id) : 0, false) < 0 ||
	       hook_env_add(env, "R2MPU_REMOTE_ADDR", req->remote_addr,
			    req->remote_addr ? strlen(req->remote_addr) : 0, true) < 0 ? -1 : 0;
}

/* R2MPU_HOOK_CREATE: 0 to go on; 403 with its line when it refuses, 503 when it fails. */
static int run_create_hook(struct handler_ctx *ctx, struct r2err *err)
{
	struct hook_env env = { 0 };
	char message[HOOK_MESSAGE_MAX + 1], why[256], name[64];
	enum hook_outcome outcome;
	size_t i;
	char *p;

	if (hook_env_request(ctx, "create", &env) < 0)
		goto oom;
	for (i = 0; i < META_NFIELDS; i++) {
		const char *v = ctx->req->meta.value[i];

		/* R2MPU_META_CONTENT_TYPE from "Content-Type", and so on */
		snprintf(name, sizeof(name), "R2MPU_META_%s", http_meta_header[i]);
		for (p = name; *p != '\0'; p++)
			*p = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
		if (hook_env_add(&env, name, v, v ? strlen(v) : 0, true) < 0)
			goto oom;
	}
	outcome = hook_run(ctx->cfg->hook_create, "create", &env,
			   (unsigned)ctx->cfg->hook_timeout, message, why, sizeof(why));
	hook_env_free(&env);
	if (outcome == HOOK_OK)
		return 0;
	if (outcome == HOOK_REFUSED)
		return r2err_set(err, 403, "HookRefused", "%s",
				 message[0] ? message : "The upload was refused (create hook)");
	log_error("%s", why);
	return r2err_set(err, 503, "HookFailed", "Service Unavailable: the upload cannot be "
			 "checked now (create hook); try again later");
oom:
	hook_env_free(&env);
	return r2err_out_of_memory(err);
}

int handle_create(struct handler_ctx *ctx, struct r2err *err)
{
	uint64_t limit = ctx->cfg->max_pending_uploads, pending;
	json_object *body = NULL;
	char *upload_id = NULL;
	int rc = -1;

	if (http_meta_validate(&ctx->req->meta, err) < 0)
		return -1;
	/*
	 * R2MPU_MAX_PENDING_UPLOADS: one credential cannot fill the store
	 * with uploads nobody finishes (nor push others out of mpu-list).
	 * Processes creating at the same moment each count before any has
	 * created, so the cap may be overshot by as many creates as run at
	 * once (the web server's process count): it stops a flood, it is not
	 * an exact quota.
	 */
	if (limit > 0 && pending_uploads(ctx, limit, &pending, err) < 0)
		return -1;
	if (limit > 0 && pending >= limit)
		return r2err_set(err, 429, "TooManyUploads",
				 "Too many uploads in progress: this credential may have at most "
				 "%llu (R2MPU_MAX_PENDING_UPLOADS); complete or abort one first",
				 (unsigned long long)limit);
	if (ctx->cfg->hook_create[0] != '\0' && run_create_hook(ctx, err) < 0)
		return -1;
	if (ctx->store->ops->create(ctx->store->state, ctx->req->key, &ctx->req->meta,
				    &upload_id, err) < 0)
		return -1;
	body = json_object_new_object();
	if (body == NULL) {
		r2err_out_of_memory(err);
		goto out;
	}
	json_object_object_add(body, "key", json_object_new_string(ctx->req->key));
	json_object_object_add(body, "uploadId", json_object_new_string(upload_id));
	send_json(ctx->res, 200, body);
	rc = 0;
out:
	json_object_put(body);
	free(upload_id);
	return rc;
}

int handle_upload_part(struct handler_ctx *ctx, struct r2err *err)
{
	struct byte_source src = request_body_source(ctx->req);
	unsigned char md5[MD5_LEN];
	char etag[ETAG_MAX];
	json_object *body;

	if (ctx->req->content_md5 != NULL && http_content_md5_parse(ctx->req->content_md5, md5) < 0)
		return r2err_set(err, 400, "InvalidDigest",
				 "InvalidDigest: Content-MD5 must be the base64 of the part's "
				 "16-byte MD5");
	if (ctx->store->ops->upload_part(ctx->store->state, ctx->req->key,
					 ctx->req->query.upload_id, ctx->part_number, &src,
					 ctx->req->content_md5 != NULL ? md5 : NULL, etag, err) < 0)
		return request_body_error(err);
	body = json_object_new_object();
	if (body == NULL)
		return r2err_out_of_memory(err);
	json_object_object_add(body, "partNumber", json_object_new_int(ctx->part_number));
	json_object_object_add(body, "etag", json_object_new_string(etag));
	/* As S3 answers UploadPart: browser uploaders read the header (CORS exposes it). */
	response_headerf(ctx->res, "ETag", "\"%s\"", etag);
	send_json(ctx->res, 200, body);
	json_object_put(body);
	return 0;
}

/*
 * R2MPU_HOOK_COMPLETE: its variables now, while the request's are at hand;
 * it starts once the answer is out (handlers_after_request), so it neither
 * delays nor changes the answer. Without memory for it, it is logged and
 * skipped: the object is stored either way.
 */
static void plan_complete_hook(struct handler_ctx *ctx, const char *etag, uint64_t size)
{
	struct hook_env *env = calloc(1, sizeof(*env));
	char size_text[24];

	snprintf(size_text, sizeof(size_text), "%llu", (unsigned long long)size);
	if (env == NULL || hook_env_request(ctx, "complete", env) < 0 ||
	    hook_env_add(env, "R2MPU_UPLOAD_ID", ctx->req->query.upload_id,
			 strlen(ctx->req->query.upload_id), true) < 0 ||
	    hook_env_add(env, "R2MPU_ETAG", etag, strlen(etag), false) < 0 ||
	    hook_env_add(env, "R2MPU_SIZE", size_text, strlen(size_text), false) < 0) {
		log_error("the complete hook: out of memory; not run");
		if (env != NULL)
			hook_env_free(env);
		free(env);
		return;
	}
	ctx->req->complete_hook = env;
}

void handlers_after_request(const struct config *cfg, struct request *req, bool can_log)
{
	char why[256];

	if (req->complete_hook != NULL &&
	    hook_spawn(cfg->hook_complete, "complete", req->complete_hook,
		       (unsigned)cfg->hook_timeout, can_log, why, sizeof(why)) < 0 && can_log)
		log_error("%s", why);
}

int handle_complete(struct handler_ctx *ctx, struct r2err *err)
{
	struct part_list parts = { 0 };
	char *text = NULL, etag[ETAG_MAX];
	uint64_t size = 0;
	size_t len;
	int rc = -1;

	if (request_read_body(ctx->req, &text, &len, err) < 0)
		return -1;
	if (complete_body_parse(text, len, &parts, err) < 0)
		goto out;
	parts.max_total = ctx->grant.max_size;
	if (ctx->store->ops->complete(ctx->store->state, ctx->req->key,
				      ctx->req->query.upload_id, &parts, etag, &size, err) < 0)
		goto out;
	response_headerf(ctx->res, "ETag", "\"%s\"", etag);
	send_empty(ctx->res, 200);
	rc = 0;
	if (ctx->cfg->hook_complete[0] != '\0')
		plan_complete_hook(ctx, etag, size);
out:
	part_list_free(&parts);
	free(text);
	return rc;
}

int handle_abort(struct handler_ctx *ctx, struct r2err *err)
{
	if (ctx->store->ops->abort(ctx->store->state, ctx->req->key,
				   ctx->req->query.upload_id, err) < 0)
		return -1;
	send_empty(ctx->res, 204);
	return 0;
}

int handle_delete(struct handler_ctx *ctx, struct r2err *err)
{
	if (ctx->store->ops->delete(ctx->store->state, ctx->req->key, err) < 0)
		return -1;
	send_empty(ctx->res, 204);
	return 0;
}

/* What an object without a stored Content-Type is served as (S3's default is alike). */
static const char default_type[] = "application/octet-stream";

/* The object_sink of GET/HEAD: headers from what the store decided, then the bytes. */
static int get_begin(void *c, enum get_outcome outcome, const struct object_info *info,
		     uint64_t first, uint64_t length)
{
	static const int status_of[] = {
		[GET_WHOLE] = 200, [GET_RANGE] = 206, [GET_NOT_MODIFIED] = 304,
		[GET_PRECONDITION_FAILED] = 412, [GET_RANGE_NOT_SATISFIABLE] = 416,
	};
	const struct handler_ctx *ctx = c;
	struct response *res = ctx->res;
	const char *type = info->meta.value[META_CONTENT_TYPE];
	const char *disposition = info->meta.value[META_CONTENT_DISPOSITION];
	/* A store's 304 may name no type: then the strict class, as for any unknown type. */
	enum serve_as how = http_serve_as(type != NULL ? type : default_type,
					  ctx->cfg->inline_types);
	char attachment[HTTP_META_MAX + sizeof("attachment")];
	char date[64];
	struct tm tm;
	int i;

	response_headerf(res, "ETag", "\"%s\"", info->etag);
	if (info->last_modified > 0 && gmtime_r(&info->last_modified, &tm) != NULL &&
	    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm) > 0)
		response_header(res, "Last-Modified", date);
	if (outcome == GET_PRECONDITION_FAILED || outcome == GET_RANGE_NOT_SATISFIABLE) {
		/* Errors like any other: a code and a message (S3's words). */
		struct r2err e;

		if (outcome == GET_RANGE_NOT_SATISFIABLE) {
			response_headerf(res, "Content-Range", "bytes */%" PRIu64, info->size);
			r2err_set(&e, 416, "InvalidRange", "InvalidRange: The requested range is "
				  "not satisfiable (the object has %" PRIu64 " bytes)", info->size);
		} else {
			r2err_set(&e, 412, "PreconditionFailed", "PreconditionFailed: At least one "
				  "of the pre-conditions you specified did not hold (If-Match)");
		}
		send_error(res, &e);
		return res->failed ? -1 : 0;
	}
	/*
	 * The uploader's bytes, on the gateway's origin (http.h, serve_as): the
	 * type as stored, never sniffed, under a sandboxing CSP. A 304 carries
	 * them too: a browser's cache takes a 304's headers into its stored answer.
	 */
	response_header(res, "X-Content-Type-Options", "nosniff");
	response_header(res, "Content-Security-Policy", http_serve_csp(how));
	if (outcome == GET_NOT_MODIFIED)
		return response_start(res, status_of[outcome]);
	for (i = 0; i < META_NFIELDS; i++)
		if (info->meta.value[i] != NULL && i != META_CONTENT_DISPOSITION)
			response_header(res, http_meta_header[i], info->meta.value[i]);
	if (type == NULL)
		response_header(res, "Content-Type", default_type);
	if (how == SERVE_ATTACHMENT) {
		/* The uploader's filename stays; its "inline" does not. */
		http_attachment_disposition(disposition, attachment, sizeof(attachment));
		response_header(res, "Content-Disposition", attachment);
	} else if (disposition != NULL) {
		response_header(res, "Content-Disposition", disposition);
	}
	response_header(res, "Accept-Ranges", "bytes");
	response_headerf(res, "Content-Length", "%" PRIu64, length);
	if (outcome == GET_RANGE)
		response_headerf(res, "Content-Range", "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64,
				 first, first + length - 1, info->size);
	return response_start(res, status_of[outcome]);
}

static int get_write(void *c, const char *buf, size_t len)
{
	const struct handler_ctx *ctx = c;

	return response_write(ctx->res, buf, len);
}

int handle_get(struct handler_ctx *ctx, struct r2err *err)
{
	struct get_request greq = {
		.range = ctx->req->range,
		.if_match = ctx->req->if_match,
		.if_none_match = ctx->req->if_none_match,
		.if_range = ctx->req->if_range,
		.head = ctx->req->method == METHOD_HEAD,
	};
	struct object_sink sink = { get_begin, get_write, ctx };

	return ctx->store->ops->get(ctx->store->state, ctx->req->key, &greq, &sink, err);
}

/* 2026-11-25T19:00:00Z */
static json_object *json_time(time_t t)
{
	char text[32];
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return NULL;
	return json_object_new_string(text);
}

/*
 * The answer of a listing: an object, and an array of `count` for the
 * caller to add to it where its members go. NULL when out of memory.
 */
static json_object *listing_new(size_t count, json_object **list)
{
	json_object *body = json_object_new_object();

	*list = json_object_new_array_ext((int)count);
	if (body == NULL || *list == NULL) {
		json_object_put(body);
		json_object_put(*list);
		return NULL;
	}
	return body;
}

int handle_list_parts(struct handler_ctx *ctx, struct r2err *err)
{
	struct part_info *parts = NULL;
	json_object *body = NULL, *list;
	size_t count = 0, i;
	int rc = -1;

	if (ctx->store->ops->list_parts(ctx->store->state, ctx->req->key,
					ctx->req->query.upload_id, &parts, &count, err) < 0)
		return -1;
	body = listing_new(count, &list);
	if (body == NULL) {
		r2err_out_of_memory(err);
		goto out;
	}
	json_object_object_add(body, "key", json_object_new_string(ctx->req->key));
	json_object_object_add(body, "uploadId",
			       json_object_new_string(ctx->req->query.upload_id));
	json_object_object_add(body, "parts", list);
	for (i = 0; i < count; i++) {
		json_object *p = json_object_new_object();

		if (p == NULL) {
			r2err_out_of_memory(err);
			goto out;
		}
		json_object_object_add(p, "partNumber", json_object_new_int(parts[i].number));
		json_object_object_add(p, "etag", json_object_new_string(parts[i].etag));
		json_object_object_add(p, "size", json_object_new_int64((int64_t)parts[i].size));
		json_object_array_add(list, p);
	}
	send_json(ctx->res, 200, body);
	rc = 0;
out:
	json_object_put(body);
	free(parts);
	return rc;
}

int handlers_list_page_parse(const struct query *q, struct upload_page *page, struct r2err *err)
{
	const char *m = q->max_uploads, *id = q->upload_id_marker;
	size_t i, len;
	struct r2err ignored;

	memset(page, 0, sizeof(*page));
	page->max = LIST_UPLOADS_MAX;
	if (m != NULL) {
		size_t v = 0;

		len = strlen(m);
		for (i = 0; i < len && i < 6 && m[i] >= '0' && m[i] <= '9'; i++)
			v = v * 10 + (size_t)(m[i] - '0');
		if (len == 0 || i != len || v < 1 || v > LIST_UPLOADS_MAX)
			return r2err_set(err, 400, "InvalidArgument",
					 "Invalid max-uploads: must be a whole number from 1 to %d",
					 LIST_UPLOADS_MAX);
		page->max = v;
	}
	if (id != NULL && q->key_marker == NULL)
		return r2err_set(err, 400, "InvalidArgument",
				 "upload-id-marker needs a key-marker: give both, as mpu-list's "
				 "nextKeyMarker and nextUploadIdMarker");
	if (q->key_marker != NULL &&
	    uri_key_validate(q->key_marker, strlen(q->key_marker), &ignored) < 0)
		return r2err_set(err, 400, "InvalidArgument",
				 "Invalid key-marker: must be a key (1 to %d bytes of UTF-8, "
				 "no control characters)", KEY_MAX_BYTES);
	if (id != NULL) {
		len = strlen(id);
		for (i = 0; i < len && id[i] > 0x20 && id[i] < 0x7f; i++)
			;
		if (len == 0 || len > UPLOAD_ID_MARKER_MAX || i != len)
			return r2err_set(err, 400, "InvalidArgument",
					 "Invalid upload-id-marker: must be 1 to %d printable "
					 "ASCII characters", UPLOAD_ID_MARKER_MAX);
	}
	page->key_marker = q->key_marker;
	page->upload_id_marker = id;
	return 0;
}

/*
 * A page of the uploads below the key. When it is truncated, the last
 * upload given is the marker of the next page: nothing can hide beyond a
 * listing's end. (On S3 a page may repeat one of the page before when
 * uploads of one key began in the same second; none is skipped.)
 */
int handle_list_uploads(struct handler_ctx *ctx, struct r2err *err)
{
	struct upload_info *uploads = NULL;
	struct upload_page page;
	json_object *body = NULL, *list;
	size_t count = 0, i;
	bool truncated = false;
	int rc = -1;

	if (handlers_list_page_parse(&ctx->req->query, &page, err) < 0)
		return -1;
	if (ctx->store->ops->list_uploads(ctx->store->state, ctx->req->key, &page, &uploads,
					  &count, &truncated, err) < 0)
		return -1;
	body = listing_new(count, &list);
	if (body == NULL) {
		r2err_out_of_memory(err);
		goto out;
	}
	json_object_object_add(body, "prefix", json_object_new_string(ctx->req->key));
	json_object_object_add(body, "uploads", list);
	json_object_object_add(body, "truncated", json_object_new_boolean(truncated));
	if (truncated && count > 0) {
		json_object_object_add(body, "nextKeyMarker",
				       json_object_new_string(uploads[count - 1].key));
		json_object_object_add(body, "nextUploadIdMarker",
				       json_object_new_string(uploads[count - 1].upload_id));
	}
	for (i = 0; i < count; i++) {
		json_object *u = json_object_new_object();

		if (u == NULL) {
			r2err_out_of_memory(err);
			goto out;
		}
		json_object_object_add(u, "key", json_object_new_string(uploads[i].key));
		json_object_object_add(u, "uploadId", json_object_new_string(uploads[i].upload_id));
		json_object_object_add(u, "initiated", json_time(uploads[i].initiated));
		json_object_array_add(list, u);
	}
	send_json(ctx->res, 200, body);
	rc = 0;
out:
	json_object_put(body);
	upload_list_free(uploads, count);
	return rc;
}

/*
 * A load balancer's or a monitor's question, answered without credentials:
 * does the store answer? The probe (store_ops.probe) runs at most once per
 * HEALTH_CACHE_SECONDS in each FastCGI process, so a flood of checks costs
 * the store little; in CGI mode each request is a new process and probes
 * (doc/operations.md says so). The answer names no path, bucket or endpoint.
 */
#define HEALTH_CACHE_SECONDS 5

int handle_health(struct handler_ctx *ctx, struct r2err *err)
{
	static time_t probed;         /* this process's last probe; 0: never */
	static bool healthy;
	time_t now = time(NULL);

	if (probed == 0 || now < probed || now - probed >= HEALTH_CACHE_SECONDS) {
		struct r2err why;

		healthy = ctx->store->ops->probe(ctx->store->state, &why) == 0;
		if (!healthy)
			log_error("health: the store failed its probe: %d %s: %s", why.status,
				  why.code, why.message);
		probed = time(NULL);   /* a slow probe's answer still counts for the next 5 s */
	}
	response_header(ctx->res, "Cache-Control", "no-store");
	if (!healthy)
		return r2err_set(err, 503, "StoreUnavailable",
				 "Service Unavailable: the store does not answer");
	send_text(ctx->res, 200, "ok\n");
	return 0;
}

/*
 * The whole pool's counters (metrics.h), for a credential with the m right:
 * Prometheus' text format. 404 when R2MPU_METRICS=0.
 */
#define METRICS_TEXT_MAX (256 * 1024)

int handle_metrics(struct handler_ctx *ctx, struct r2err *err)
{
	struct buf text = { .max = METRICS_TEXT_MAX };

	if (!ctx->cfg->metrics)
		return r2err_set(err, 404, "MetricsOff", "Metrics are off (R2MPU_METRICS=0)");
	if (metrics_render(&text) < 0) {
		buf_free(&text);
		return r2err_set(err, 500, "InternalError", "The metrics cannot be shown");
	}
	response_header(ctx->res, "Cache-Control", "no-store");
	send_body(ctx->res, 200, METRICS_CONTENT_TYPE, text.data, text.len);
	buf_free(&text);
	return 0;
}
