/* SPDX-License-Identifier: MIT */
/* sigv4.c: AWS Signature Version 4 for S3 requests -- canonical forms and the signature (pure) */
#include "sigv4.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "digest.h"
#include "uri.h"

#define SIGV4_MAX_ITEMS 16   /* query parameters */

/* A value of up to KEY_MAX_BYTES (a key as a prefix or marker, an upload id), every byte %XX. */
#define ENCODED_VALUE_MAX (3 * KEY_MAX_BYTES + 1)

struct encoded_param {
	char name[128];
	char value[ENCODED_VALUE_MAX];
};

static int param_cmp(const void *a, const void *b)
{
	const struct encoded_param *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c != 0 ? c : strcmp(x->value, y->value);
}

int sigv4_canonical_query(const struct sigv4_param *params, size_t n, char *dst, size_t dstlen)
{
	struct encoded_param enc[SIGV4_MAX_ITEMS];
	size_t i, used = 0;

	if (n > SIGV4_MAX_ITEMS || dstlen == 0)
		return -1;
	for (i = 0; i < n; i++)
		if (uri_encode(params[i].name, strlen(params[i].name), false,
			       enc[i].name, sizeof(enc[i].name)) < 0 ||
		    uri_encode(params[i].value, strlen(params[i].value), false,
			       enc[i].value, sizeof(enc[i].value)) < 0)
			return -1;
	qsort(enc, n, sizeof(enc[0]), param_cmp);
	dst[0] = '\0';
	for (i = 0; i < n; i++) {
		int w = snprintf(dst + used, dstlen - used, "%s%s=%s", i ? "&" : "",
				 enc[i].name, enc[i].value);

		if (w < 0 || (size_t)w >= dstlen - used)
			return -1;
		used += (size_t)w;
	}
	return 0;
}

static int header_cmp(const void *a, const void *b)
{
	const struct sigv4_header *x = *(const struct sigv4_header *const *)a;
	const struct sigv4_header *y = *(const struct sigv4_header *const *)b;

	return strcmp(x->name, y->name);
}

/* Append formatted text; -1 when it does not fit. */
static int append(char *buf, size_t cap, size_t *used, const char *fmt, ...)
	__attribute__((format(__printf__, 4, 5)));
static int append(char *buf, size_t cap, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int w;

	va_start(ap, fmt);
	w = vsnprintf(buf + *used, cap - *used, fmt, ap);
	va_end(ap);
	if (w < 0 || (size_t)w >= cap - *used)
		return -1;
	*used += (size_t)w;
	return 0;
}

/* A header value as SigV4 signs it: trimmed, inner runs of spaces as one. */
static size_t trimall(const char *v, char *out)
{
	size_t n = 0;

	while (*v == ' ' || *v == '\t')
		v++;
	for (; *v != '\0'; v++) {
		if (*v == ' ' || *v == '\t') {
			if (n > 0 && out[n - 1] == ' ')
				continue;
			out[n++] = ' ';
		} else {
			out[n++] = *v;
		}
	}
	while (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
	return n;
}

int sigv4_authorization(const struct sigv4_request *req, const struct sigv4_credentials *cred,
			const char *amz_date, char *out, size_t outlen)
{
	const struct sigv4_header *sorted[SIGV4_MAX_HEADERS];
	char signed_names[512], to_sign[512], scope[128];
	char hash[SHA256_HEX_LEN + 1], date[9], secret[256], sig[SHA256_HEX_LEN + 1];
	unsigned char k[SHA256_LEN];
	char *canonical = NULL;
	size_t i, cap, used = 0, sused = 0;
	int rc = -1;

	if (req->nheaders > SIGV4_MAX_HEADERS || strlen(amz_date) != 16)
		return -1;
	memcpy(date, amz_date, 8);
	date[8] = '\0';
	/* The canonical request, sized for what goes in it (header values are unbounded here). */
	cap = strlen(req->method) + strlen(req->path) + strlen(req->query) +
	      strlen(req->payload_hash) + sizeof(signed_names) + 16;
	for (i = 0; i < req->nheaders; i++) {
		sorted[i] = &req->headers[i];
		cap += strlen(req->headers[i].name) + strlen(req->headers[i].value) + 2;
	}
	qsort(sorted, req->nheaders, sizeof(sorted[0]), header_cmp);
	canonical = malloc(cap);
	if (canonical == NULL)
		return -1;

	/* 1. The canonical request. */
	if (append(canonical, cap, &used, "%s\n%s\n%s\n", req->method, req->path, req->query) < 0)
		goto out;
	signed_names[0] = '\0';
	for (i = 0; i < req->nheaders; i++) {
		if (append(canonical, cap, &used, "%s:", sorted[i]->name) < 0 ||
		    append(signed_names, sizeof(signed_names), &sused, "%s%s", i ? ";" : "",
			   sorted[i]->name) < 0)
			goto out;
		used += trimall(sorted[i]->value, canonical + used);   /* fits: cap counts it */
		if (append(canonical, cap, &used, "\n") < 0)
			goto out;
	}
	if (append(canonical, cap, &used, "\n%s\n%s", signed_names, req->payload_hash) < 0)
		goto out;

	/* 2. The string to sign. */
	snprintf(scope, sizeof(scope), "%s/%s/%s/aws4_request", date, cred->region, cred->service);
	if (sha256_hex(canonical, used, hash) < 0)
		goto out;
	used = 0;
	if (append(to_sign, sizeof(to_sign), &used, "AWS4-HMAC-SHA256\n%s\n%s\n%s", amz_date,
		   scope, hash) < 0)
		goto out;

	/* 3. The signing key, derived from the secret, and the signature. */
	if (snprintf(secret, sizeof(secret), "AWS4%s", cred->secret_access_key) >= (int)sizeof(secret))
		goto out;
	if (hmac_sha256(secret, strlen(secret), date, 8, k) < 0 ||
	    hmac_sha256(k, sizeof(k), cred->region, strlen(cred->region), k) < 0 ||
	    hmac_sha256(k, sizeof(k), cred->service, strlen(cred->service), k) < 0 ||
	    hmac_sha256(k, sizeof(k), "aws4_request", strlen("aws4_request"), k) < 0 ||
	    hmac_sha256(k, sizeof(k), to_sign, strlen(to_sign), k) < 0)
		goto out;
	hex_encode(k, sizeof(k), sig);
	used = 0;
	rc = append(out, outlen, &used,
		    "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s",
		    cred->access_key_id, scope, signed_names, sig);
out:
	OPENSSL_cleanse(secret, sizeof(secret));
	OPENSSL_cleanse(k, sizeof(k));
	free(canonical);
	return rc;
}
