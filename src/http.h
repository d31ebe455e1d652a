/* http.h: pure HTTP semantics for reading objects -- Range, If-Match, If-None-Match */
#ifndef R2MPU_HTTP_H
#define R2MPU_HTTP_H

#include <stdbool.h>
#include <stdint.h>

enum range_result {
	RANGE_NONE,           /* no Range, or one to ignore (syntax, several ranges): send 200 */
	RANGE_OK,             /* send 206 with *first, *length */
	RANGE_UNSATISFIABLE,  /* send 416 with Content-Range: bytes * / size */
};

/*
 * One "bytes=a-b", "bytes=a-" or "bytes=-n" against an object of `size`
 * bytes (RFC 9110 14.1). hdr may be NULL. Invalid or multi-range headers
 * are ignored, as the RFC allows.
 */
enum range_result range_parse(const char *hdr, uint64_t size,
			      uint64_t *first, uint64_t *length);

/*
 * Does the entity-tag list `list` ("*", or comma-separated "x", W/"x")
 * contain `etag` (unquoted)? `weak` selects weak comparison (If-None-Match);
 * strong comparison never matches a W/ tag (If-Match, If-Range).
 */
bool etag_list_matches(const char *list, const char *etag, bool weak);

/*
 * RFC 9110 13.2.2 for GET/HEAD: 412 when If-Match is given and does not
 * match, else 304 when If-None-Match matches, else 0 (go on).
 * Both headers may be NULL.
 */
int preconditions_evaluate(const char *if_match, const char *if_none_match,
			   const char *etag);

/* If-Range: the Range applies only when it is a strong match of etag (a date never is). */
bool if_range_allows(const char *if_range, const char *etag);

/* Content-MD5: the base64 of 16 bytes (24 characters, "==" at the end); else -1. */
int content_md5_parse(const char *s, unsigned char out[16]);

/* CONTENT_LENGTH: decimal digits only, no sign, no overflow; else -1. */
int content_length_parse(const char *s, int64_t *out);

#endif
