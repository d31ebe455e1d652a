/* SPDX-License-Identifier: MIT */
/* sigv4.h: AWS Signature Version 4 for S3 requests -- canonical forms and the signature (pure) */
#ifndef R2MPU_SIGV4_H
#define R2MPU_SIGV4_H

#include <stddef.h>

#include "digest.h"

#define SIGV4_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
#define SIGV4_AUTH_MAX 512      /* an Authorization header value fits */
#define SIGV4_MAX_HEADERS 16    /* headers one request may sign */

struct sigv4_param {
	const char *name;        /* raw, not encoded (uri_encode() does it) */
	const char *value;       /* raw; "" for a bare sub-resource such as "uploads" */
};

/*
 * The canonical query string: names and values encoded, sorted by name
 * (then value), joined with '&', every name with '='. The same string is
 * sent on the wire, so what is signed is what the server sees.
 * -1 when dst is too small or there are more than 16 parameters.
 */
int sigv4_canonical_query(const struct sigv4_param *params, size_t n, char *dst, size_t dstlen);

struct sigv4_header {
	const char *name;        /* lower-case */
	const char *value;       /* trimmed, single-line */
};

struct sigv4_request {
	const char *method;
	const char *path;                  /* canonical URI: already encoded (uri_encode(), '/' kept) */
	const char *query;                 /* canonical query: sigv4_canonical_query() or "" */
	const struct sigv4_header *headers;   /* every header to sign, any order, at most
						 SIGV4_MAX_HEADERS; values are trimmed and
						 their inner spaces collapsed when signed */
	size_t nheaders;
	const char *payload_hash;          /* hex SHA-256, or SIGV4_UNSIGNED_PAYLOAD */
};

struct sigv4_credentials {
	const char *access_key_id;
	const char *secret_access_key;
	const char *region;
	const char *service;               /* "s3" */
};

/*
 * The Authorization header's value for `req` at `amz_date`
 * ("YYYYMMDDTHHMMSSZ", the value of the signed x-amz-date header).
 * -1 when out is too small or OpenSSL fails.
 */
int sigv4_authorization(const struct sigv4_request *req, const struct sigv4_credentials *cred,
			const char *amz_date, char *out, size_t outlen);

#endif
