/* SPDX-License-Identifier: MIT */
/* uri.h: pure functions for URIs -- percent-decoding and -encoding, the query, the key */
#ifndef R2MPU_URI_H
#define R2MPU_URI_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include "errors.h"

#define KEY_MAX_BYTES 1024       /* R2's limit on an object key */
#define PARAM_MAX_BYTES 1024     /* longest value accepted for a known query parameter */

/*
 * Decode %XX escapes in src[0..len) into a new NUL-terminated buffer
 * (caller frees *out; *out_len excludes the NUL). `plus_is_space` is true
 * for query strings (application/x-www-form-urlencoded), false for paths.
 * A '%' not followed by two hex digits is an error (400).
 */
int uri_percent_decode(const char *src, size_t len, bool plus_is_space,
		       char **out, size_t *out_len, struct r2err *err);

/*
 * Percent-encode src[0..len) (NUL bytes included) into dst: every byte but
 * RFC 3986's unreserved A-Z a-z 0-9 - _ . ~ (and '/' when keep_slash)
 * becomes %XX, upper-case. That is what SigV4 signs and S3 servers decode,
 * and it is safe in any part of a URL. Writes a NUL-terminated string; -1
 * when dst is too small (its contents are then unspecified).
 */
int uri_encode(const char *src, size_t len, bool keep_slash, char *dst, size_t dstlen);

/* The query parameters r2mpu uses; each is NULL when absent. Owned by the struct. */
struct query {
	char *action;
	char *upload_id;
	char *part_number;
	/* mpu-list's page (handlers.h: handlers_list_page_parse), each NULL when absent. */
	char *key_marker;        /* key-marker: list after this key ... */
	char *upload_id_marker;  /* upload-id-marker: ... and this upload of it */
	char *max_uploads;       /* max-uploads: at most this many */
	/* A signed URL's fields (access.h), each NULL when absent. */
	char *sig_rights;        /* r2mpu-rights: letters from "rwd" (never m) */
	char *sig_prefix;        /* r2mpu-prefix: the scope is this prefix, not the key */
	char *sig_expires;       /* r2mpu-expires: Unix seconds */
	char *sig_max;           /* r2mpu-max: largest part and object, bytes */
	char *signature;         /* r2mpu-signature: HMAC-SHA256, hex */
};

/*
 * Parse a raw QUERY_STRING (may be NULL). Unknown parameters are ignored;
 * a known one given twice, badly escaped or longer than PARAM_MAX_BYTES is
 * a 400. On error *q is left empty.
 */
int query_parse(const char *qs, struct query *q, struct r2err *err);
void query_free(struct query *q);   /* q may be NULL */

/*
 * Length of the UTF-8 sequence starting at s (at most `left` bytes, left > 0)
 * and its code point, or 0 when it is not well-formed (overlong, surrogate,
 * > U+10FFFF, truncated, stray continuation byte). Keys and metadata use it.
 */
size_t uri_utf8_decode_one(const unsigned char *s, size_t left, uint32_t *cp);

/* 1..1024 bytes of valid UTF-8 without C0/C1 control characters or DEL. */
int uri_key_validate(const char *key, size_t len, struct r2err *err);

/*
 * The object key: the request path below the mount point, decoded once.
 *  - request_uri (raw, may be NULL): the path up to '?' is used;
 *  - mount (may be NULL or ""): a configured prefix to strip ("/": none); else
 *    script_name (may be NULL) is stripped when the raw path starts with it
 *    and path_info is given (without PATH_INFO, as from mod_proxy_fcgi,
 *    SCRIPT_NAME is the whole path);
 *  - without request_uri, path_info (already decoded by the server) is used.
 * Then one leading '/' is removed. The result is validated (uri_key_validate)
 * unless it is "": whether a route takes an empty key is the router's call.
 * Caller frees *key.
 */
int uri_key_from_request(const char *request_uri, const char *script_name,
			 const char *path_info, const char *mount,
			 char **key, size_t *key_len, struct r2err *err);

#endif
