/* SPDX-License-Identifier: MIT */
/* store.h: the interface every object store implements (a local directory; R2/S3) */
#ifndef R2MPU_STORE_H
#define R2MPU_STORE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "config.h"
#include "errors.h"
#include "etag.h"
#include "http.h"
#include "multipart.h"
#include "stream.h"

/* What a store knows about an object, handed to an object_sink. */
struct object_info {
	uint64_t size;
	char etag[ETAG_MAX];         /* unquoted */
	time_t last_modified;        /* 0: unknown, no Last-Modified is sent */
	struct http_meta meta;       /* borrowed from the store for the call */
};

/* Conditions and range of a read, all borrowed, each may be NULL. */
struct get_request {
	const char *range;
	const char *if_match;
	const char *if_none_match;
	const char *if_range;
	bool head;                   /* HEAD: call begin() only */
};

/*
 * Where an object flows out. The store calls begin() once, with the outcome
 * it decided and for GET_RANGE the byte range, then write() for the body
 * bytes of a GET_WHOLE/GET_RANGE GET. Either returns -1 when the client is
 * gone; the store then stops.
 */
struct object_sink {
	int (*begin)(void *ctx, enum get_outcome outcome, const struct object_info *info,
		     uint64_t first, uint64_t length);
	int (*write)(void *ctx, const char *buf, size_t len);
	void *ctx;
};

/* One uploaded part, as mpu-listparts reports it. */
struct part_info {
	int number;
	uint64_t size;
	char etag[ETAG_MAX];         /* unquoted */
};

/* One upload in progress, as mpu-list reports it. */
struct upload_info {
	char *key;                   /* owned */
	char *upload_id;             /* owned */
	time_t initiated;
};

#define LIST_UPLOADS_MAX 10000   /* mpu-list answers at most this many, then "truncated" */
#define UPLOAD_ID_MARKER_MAX 1022 /* bytes: the longest upload id either store hands out */

/*
 * Which page of a listing list_uploads() gives: the uploads after a marker,
 * at most `max` of them. The marker is the last upload of the page before
 * (mpu-list's nextKeyMarker, nextUploadIdMarker); strings borrowed.
 */
struct upload_page {
	const char *key_marker;        /* NULL: from the start */
	const char *upload_id_marker;  /* NULL: after every upload of key_marker */
	size_t max;                    /* 1..LIST_UPLOADS_MAX */
};

/* Free what list_uploads() gave; u may be NULL. */
void upload_list_free(struct upload_info *u, size_t count);
/* The file store's order: by key, then start time (then id). */
void upload_list_sort(struct upload_info *u, size_t count);
/* That order as a comparison: <0, 0, >0 as a comes before, is, or comes after b. */
int upload_info_cmp(const struct upload_info *a, const struct upload_info *b);
/*
 * Does e come after the page's marker in the file store's order? `marker` is
 * the marker upload with its start time, or NULL when that is unknown (the
 * upload is gone): then its key's other uploads
 * all count as after it, as a page may repeat an upload but must never
 * skip one.
 */
bool upload_after_marker(const struct upload_info *e, const struct upload_page *page,
			 const struct upload_info *marker);
/*
 * The S3 store's order: by key, then upload id, the order S3's upload-id-marker
 * follows ("upload IDs lexicographically greater") and radosgw lists in. A
 * store that lists a key's uploads otherwise (moto: by age) is sorted into it,
 * so that pages follow one another. upload_after_id_marker: does e come after
 * the page's markers in that order?
 */
void upload_list_sort_by_id(struct upload_info *u, size_t count);
bool upload_after_id_marker(const struct upload_info *e, const struct upload_page *page);
/* Free the entries from..count-1 (their strings), keeping the array. */
void upload_list_free_tail(struct upload_info *u, size_t from, size_t count);

/*
 * All functions return 0, or -1 with *err filled (404 NoSuchUpload for an
 * unknown, finished or foreign upload id; 404 for a missing object, ...).
 * Keys are validated before they get here; upload ids are not.
 */
struct store_ops {
	/* *upload_id: malloc'd, caller frees. */
	int (*create)(void *st, const char *key, const struct http_meta *meta,
		      char **upload_id, struct r2err *err);
	/*
	 * content_md5: the client's Content-MD5, decoded, or NULL. A part
	 * whose bytes do not match it is not kept (400 BadDigest).
	 */
	int (*upload_part)(void *st, const char *key, const char *upload_id,
			   int part_number, struct byte_source *body,
			   const unsigned char *content_md5,
			   char etag[ETAG_MAX], struct r2err *err);
	/* *size: the object's, in bytes (the parts' sizes as the store has them). */
	int (*complete)(void *st, const char *key, const char *upload_id,
			const struct part_list *parts, char etag[ETAG_MAX], uint64_t *size,
			struct r2err *err);
	int (*abort)(void *st, const char *key, const char *upload_id,
		     struct r2err *err);
	int (*get)(void *st, const char *key, const struct get_request *req,
		   struct object_sink *sink, struct r2err *err);
	int (*delete)(void *st, const char *key, struct r2err *err);
	/* Every part uploaded so far, by part number; *parts malloc'd (NULL when none). */
	int (*list_parts)(void *st, const char *key, const char *upload_id,
			  struct part_info **parts, size_t *count, struct r2err *err);
	/*
	 * Uploads in progress whose key starts with `prefix` ("" for all), by
	 * key then the store's order within a key (fs: start time; S3: upload
	 * id), after page->key_marker/upload_id_marker in that order, at most page->max (*truncated when there may be more: the
	 * last one given is the next page's marker). Free with upload_list_free().
	 */
	int (*list_uploads)(void *st, const char *prefix, const struct upload_page *page,
			    struct upload_info **uploads, size_t *count, bool *truncated,
			    struct r2err *err);
	/*
	 * Prove the store works as a request would use it: the fs store writes,
	 * syncs and removes a file in its tmp/; the S3 store lists one upload
	 * of the bucket (one signed request: the bucket is there and the
	 * credentials are accepted). For `check`, start-up and ?action=health.
	 */
	int (*probe)(void *st, struct r2err *err);
	void (*close)(void *st);
};

struct store {
	const struct store_ops *ops;
	void *state;
};

#endif
