/* SPDX-License-Identifier: MIT */
/* multipart.h: R2's multipart rules and limits -- part numbers and sizes, the parts of a complete, the metadata an object keeps */
#ifndef R2MPU_MULTIPART_H
#define R2MPU_MULTIPART_H

#include <stddef.h>
#include <stdint.h>

#include "errors.h"
#include "etag.h"

/*
 * The one home of R2's numbers: the handlers, the config's bounds, the JSON
 * parser and both stores take them from here.
 */
#define PART_NUMBER_MAX 10000            /* part numbers are 1..10000 */
#define PART_MIN_SIZE (5ULL << 20)       /* every part but the last */
#define PART_MAX_SIZE (5ULL << 30)       /* R2's (and S3's) largest part */
#define HTTP_META_MAX 8192               /* bytes, all metadata values together */

/* partNumber: plain decimal digits, value 1..PART_NUMBER_MAX; anything else is -1. */
int multipart_part_number_parse(const char *s);

/* One part named by an mpu-complete body. */
struct part_ref {
	int number;              /* 1..PART_NUMBER_MAX, strictly increasing in a part_list */
	char etag[ETAG_MAX];     /* as the client sent it, quotes included */
};

/* The parts a complete joins, in order. */
struct part_list {
	struct part_ref *parts;  /* owned; NULL when count is 0 */
	size_t count;
	uint64_t max_total;      /* the object may have at most this many bytes; 0: any */
};
void part_list_free(struct part_list *pl);   /* pl may be NULL */

/*
 * R2's size rules over the listed parts, sizes[i] being the size of
 * parts->parts[i]: every part but the last at least PART_MIN_SIZE
 * (EntityTooSmall); all but the last of one size, the last not larger
 * (InvalidPart, "Non Uniform Part Sizes"); in all at most parts->max_total
 * bytes when it is set (EntityTooLarge: a signed URL's limit). Both stores
 * call it, so the answer does not depend on the backend. 0 or -1.
 */
int multipart_check_sizes(const struct part_list *parts, const uint64_t *sizes,
			  struct r2err *err);

/* The errors both stores give in R2's words. Each returns -1. */
int multipart_no_such_upload(struct r2err *err);
int multipart_invalid_part(struct r2err *err, int part_number);
int multipart_bad_digest(struct r2err *err);

/* The HTTP metadata R2 keeps with an object (writeHttpMetadata). */
enum http_meta_field {
	META_CONTENT_TYPE,
	META_CONTENT_DISPOSITION,
	META_CONTENT_ENCODING,
	META_CONTENT_LANGUAGE,
	META_CACHE_CONTROL,
	META_EXPIRES,
	META_NFIELDS
};

struct http_meta {
	char *value[META_NFIELDS];   /* owned, each may be NULL; HTTP_META_MAX in all */
};
extern const char *const http_meta_header[META_NFIELDS];   /* "Content-Type", ... */
void http_meta_free(struct http_meta *m);                    /* m may be NULL */

#endif
