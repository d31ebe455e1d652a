/* SPDX-License-Identifier: MIT */
/* target.h: the URL a command names, and the URLs of the gateway's actions on it (pure) */
#ifndef R2MPU_CLIENT_TARGET_H
#define R2MPU_CLIENT_TARGET_H

#include <stddef.h>

/*
 * A URL as the user gave it: the gateway's URL followed by the key, or a signed URL
 * (which carries its own r2mpu-* parameters). The client adds `action=` and the rest.
 */
struct target {
	char *base;        /* scheme://authority/path: no query, no fragment (owned) */
	char *query;       /* the URL's own query (a signed URL's parameters), or NULL (owned) */
	int is_signed;     /* the query has r2mpu-signature: no token is sent with it */
	int signs_prefix;  /* ... and signs a prefix (r2mpu-prefix), not one key */
};

/*
 * Parses url into t (zeroed first; target_free releases it). Refused, with a message:
 * a scheme other than http or https, a user name or password in the URL (credentials
 * belong in --token-file, not in a URL that ends up in logs and `ps`), a fragment,
 * and a query that already names an action.
 */
int target_parse(const char *url, struct target *t, char *err, unsigned errlen);
void target_free(struct target *t);   /* t may be zeroed or half parsed */

/*
 * The URL of `action` on t: base?query&action=A, then uploadId (percent-encoded) when
 * upload_id is not NULL and partNumber when part is not 0. Caller frees; NULL when out
 * of memory.
 */
char *target_url(const struct target *t, const char *action, const char *upload_id,
		 unsigned part);

/*
 * A target for `name` below t's path (a '/' between them unless the path ends in one):
 * check's scratch key. Returns 0, or -1 when out of memory (child is then zeroed).
 */
int target_child(const struct target *t, const char *name, struct target *child);

/* Appends the percent-encoding of s (all but RFC 3986's unreserved bytes) to out, at
 * most outlen bytes with the NUL; returns -1 when it does not fit. */
int percent_encode(const char *s, char *out, size_t outlen);

/* url with the value of r2mpu-signature (a credential) replaced by "...", for
 * messages and logs, in out (cut to outlen bytes with the NUL); url may be NULL. */
void url_for_people(const char *url, char *out, unsigned outlen);

#endif
