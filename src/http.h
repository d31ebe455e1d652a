/* SPDX-License-Identifier: MIT */
/* http.h: pure HTTP for reading objects -- Range, conditions, how a browser may show them */
#ifndef R2MPU_HTTP_H
#define R2MPU_HTTP_H

#include <stdbool.h>
#include <stddef.h>
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
enum range_result http_range_parse(const char *hdr, uint64_t size,
				   uint64_t *first, uint64_t *length);

/*
 * Does the entity-tag list `list` ("*", or comma-separated "x", W/"x")
 * contain `etag` (unquoted)? `weak` selects weak comparison (If-None-Match);
 * strong comparison never matches a W/ tag (If-Match, If-Range).
 */
bool http_etag_list_matches(const char *list, const char *etag, bool weak);

/* What a GET or HEAD comes to, decided by the store from the object and the request. */
enum get_outcome {
	GET_WHOLE,                  /* the whole object (200) */
	GET_RANGE,                  /* the byte range asked for (206) */
	GET_NOT_MODIFIED,           /* If-None-Match matched (304) */
	GET_PRECONDITION_FAILED,    /* If-Match did not (412) */
	GET_RANGE_NOT_SATISFIABLE,  /* the Range lies beyond the object (416) */
};

/*
 * RFC 9110 13.2.2 for GET/HEAD: GET_PRECONDITION_FAILED when If-Match is
 * given and does not match, else GET_NOT_MODIFIED when If-None-Match
 * matches, else GET_WHOLE (go on: the Range decides the rest).
 * Both headers may be NULL.
 */
enum get_outcome http_preconditions(const char *if_match, const char *if_none_match,
				    const char *etag);

/* If-Range: the Range applies only when it is a strong match of etag (a date never is). */
bool http_if_range_allows(const char *if_range, const char *etag);

/* Content-MD5: the base64 of 16 bytes (24 characters, "==" at the end); else -1. */
int http_content_md5_parse(const char *s, unsigned char out[16]);

/* CONTENT_LENGTH: decimal digits only, no sign, no overflow; else -1. */
int http_content_length_parse(const char *s, int64_t *out);

/*
 * How `get` lets a browser treat a stored object. Anyone who may write a key
 * chooses its bytes and its Content-Type, and the answer comes from the
 * gateway's origin: a document that ran there could read and drive every
 * page of that origin. So every object is served with a sandboxing CSP, and
 * only types known to be shown without running anything are shown at all.
 */
enum serve_as {
	SERVE_ATTACHMENT,   /* downloaded: Content-Disposition: attachment */
	SERVE_INLINE,       /* shown: raster images, text/plain, R2MPU_INLINE_TYPES */
	SERVE_MEDIA,        /* played: audio/ and video/ types (another CSP, see http.c) */
};

/*
 * The class of a stored Content-Type (may be NULL: attachment), compared
 * without case or parameters; `inline_types` (may be NULL) is the operator's
 * space-separated list of type/subtype to show as well. A value that is not
 * one well-formed media type is an attachment.
 */
enum serve_as http_serve_as(const char *content_type, const char *inline_types);

/* The Content-Security-Policy of an answer of that class (a static string). */
const char *http_serve_csp(enum serve_as how);

/*
 * The Content-Disposition of an attachment, in out[cap]: "attachment", then
 * the parameters (filename=...) of the uploader's value `stored` (may be
 * NULL) from its first ';' on. The uploader's own type (inline) is dropped.
 */
void http_attachment_disposition(const char *stored, char *out, size_t cap);

#endif
