/* SPDX-License-Identifier: MIT */
/* store_metered.c: a store that times and counts every call of the store it wraps (metrics.h) */
#include "store_metered.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "metrics.h"

struct metered {
	struct store inner;          /* owned */
};

static struct timespec now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t;
}

/* Count a call that began at t0 and returned rc (with *err on -1); returns rc. */
static int done(enum metrics_store_op op, struct timespec t0, int rc, const struct r2err *err)
{
	struct timespec t1 = now();
	int64_t usec = (int64_t)(t1.tv_sec - t0.tv_sec) * 1000000 +
		       (t1.tv_nsec - t0.tv_nsec) / 1000;

	metrics_count_store(op, usec > 0 ? (uint64_t)usec : 0, rc < 0 ? err->code : NULL);
	return rc;
}

#define INNER(st) (&((struct metered *)(st))->inner)
static int m_create(void *st, const char *key, const struct http_meta *meta, char **upload_id,
		    struct r2err *err)
{
	struct timespec t0 = now();

	return done(METRICS_OP_CREATE, t0,
		    INNER(st)->ops->create(INNER(st)->state, key, meta, upload_id, err), err);
}

static int m_upload_part(void *st, const char *key, const char *upload_id, int part_number,
			 struct byte_source *body, const unsigned char *content_md5,
			 char etag[ETAG_MAX], struct r2err *err)
{
	struct timespec t0 = now();
	int rc;

	metrics_part_begin();
	rc = INNER(st)->ops->upload_part(INNER(st)->state, key, upload_id, part_number, body,
					 content_md5, etag, err);
	metrics_part_end();
	return done(METRICS_OP_UPLOAD_PART, t0, rc, err);
}

static int m_complete(void *st, const char *key, const char *upload_id,
		      const struct part_list *parts, char etag[ETAG_MAX], uint64_t *size,
		      struct r2err *err)
{
	struct timespec t0 = now();

	return done(METRICS_OP_COMPLETE, t0,
		    INNER(st)->ops->complete(INNER(st)->state, key, upload_id, parts, etag, size,
					     err), err);
}

static int m_abort(void *st, const char *key, const char *upload_id, struct r2err *err)
{
	struct timespec t0 = now();

	return done(METRICS_OP_ABORT, t0,
		    INNER(st)->ops->abort(INNER(st)->state, key, upload_id, err), err);
}

static int m_get(void *st, const char *key, const struct get_request *req,
		 struct object_sink *sink, struct r2err *err)
{
	struct timespec t0 = now();

	return done(METRICS_OP_GET, t0,
		    INNER(st)->ops->get(INNER(st)->state, key, req, sink, err), err);
}

static int m_delete(void *st, const char *key, struct r2err *err)
{
	struct timespec t0 = now();

	return done(METRICS_OP_DELETE, t0, INNER(st)->ops->delete(INNER(st)->state, key, err),
		    err);
}

static int m_list_parts(void *st, const char *key, const char *upload_id,
			struct part_info **parts, size_t *count, struct r2err *err)
{
	struct timespec t0 = now();

	return done(METRICS_OP_LIST_PARTS, t0,
		    INNER(st)->ops->list_parts(INNER(st)->state, key, upload_id, parts, count,
					       err), err);
}

static int m_list_uploads(void *st, const char *prefix, const struct upload_page *page,
			  struct upload_info **uploads, size_t *count, bool *truncated,
			  struct r2err *err)
{
	struct timespec t0 = now();

	return done(METRICS_OP_LIST_UPLOADS, t0,
		    INNER(st)->ops->list_uploads(INNER(st)->state, prefix, page, uploads, count,
						 truncated, err), err);
}

static int m_probe(void *st, struct r2err *err)
{
	struct timespec t0 = now();

	return done(METRICS_OP_PROBE, t0, INNER(st)->ops->probe(INNER(st)->state, err), err);
}

static void m_close(void *st)
{
	if (INNER(st)->ops != NULL)
		INNER(st)->ops->close(INNER(st)->state);
	free(st);
}

static const struct store_ops metered_ops = {
	.create = m_create, .upload_part = m_upload_part, .complete = m_complete,
	.abort = m_abort, .get = m_get, .delete = m_delete, .list_parts = m_list_parts,
	.list_uploads = m_list_uploads, .probe = m_probe, .close = m_close,
};

int store_metered_wrap(struct store *s, char *errbuf, size_t errlen)
{
	struct metered *w = malloc(sizeof(*w));

	if (w == NULL) {
		snprintf(errbuf, errlen, "out of memory");
		return -1;
	}
	w->inner = *s;
	s->ops = &metered_ops;
	s->state = w;
	return 0;
}
