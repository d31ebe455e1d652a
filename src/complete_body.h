/* complete_body.h: the mpu-complete JSON body, {"parts":[{"partNumber":N,"etag":E},...]} */
#ifndef R2MPU_COMPLETE_BODY_H
#define R2MPU_COMPLETE_BODY_H

#include <stddef.h>
#include <stdint.h>

#include "errors.h"
#include "etag.h"

#define COMPLETE_BODY_MAX (1024 * 1024)   /* bytes; a larger body is 413 */

struct part_ref {
	int number;              /* 1..10000, strictly increasing in a part_list */
	char etag[ETAG_MAX];     /* as the client sent it, quotes included */
};

struct part_list {
	struct part_ref *parts;  /* owned; NULL when count is 0 */
	size_t count;
	uint64_t max_total;      /* the object may have at most this many bytes; 0: any */
};

/*
 * Parse and check a complete body of `len` bytes (not NUL-terminated).
 * 400 when it is not one JSON object with a "parts" array of objects each
 * having an integer partNumber 1..10000 and a string etag, or when the part
 * numbers are not strictly increasing (InvalidPartOrder). Members other than
 * these are ignored. An empty array is valid (a 0-byte object).
 * On success the caller frees with part_list_free().
 */
int complete_body_parse(const char *body, size_t len, struct part_list *out,
			struct r2err *err);
void part_list_free(struct part_list *pl);   /* pl may be NULL */

#define PART_MIN_SIZE (5ULL << 20)   /* R2: every part but the last */

/*
 * R2's size rules over the listed parts, sizes[i] being the size of
 * parts->parts[i]: every part but the last at least 5 MiB (EntityTooSmall);
 * all but the last of one size, the last not larger (InvalidPart, "Non
 * Uniform Part Sizes"); in all at most parts->max_total bytes when it is
 * set (EntityTooLarge: a signed URL's limit). Both stores enforce them, so the answer does not
 * depend on the backend.
 */
int part_sizes_check(const struct part_list *parts, const uint64_t *sizes, struct r2err *err);

#endif
