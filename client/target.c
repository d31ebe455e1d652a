/* SPDX-License-Identifier: MIT */
/* target.c: the URL a command names, and the URLs of the gateway's actions on it */
#include "target.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Whether the query (no leading '?') has a parameter called name. */
static int has_param(const char *query, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = query; p && *p; ) {
		if (strncmp(p, name, n) == 0 && (p[n] == '=' || p[n] == '&' || p[n] == '\0'))
			return 1;
		p = strchr(p, '&');
		if (p)
			p++;
	}
	return 0;
}

int target_parse(const char *url, struct target *t, char *err, unsigned errlen)
{
	const char *rest, *path, *q;
	size_t authority_len;

	memset(t, 0, sizeof(*t));
	if (strncasecmp(url, "http://", 7) == 0)
		rest = url + 7;
	else if (strncasecmp(url, "https://", 8) == 0)
		rest = url + 8;
	else {
		snprintf(err, errlen, "the URL must start with http:// or https://");
		return -1;
	}
	if (strchr(url, '#')) {
		snprintf(err, errlen, "the URL has a fragment (#...): remove it");
		return -1;
	}
	path = rest + strcspn(rest, "/?");
	authority_len = (size_t)(path - rest);
	if (authority_len == 0) {
		snprintf(err, errlen, "the URL names no host");
		return -1;
	}
	if (memchr(rest, '@', authority_len)) {
		snprintf(err, errlen, "the URL carries a user name or password: give a token "
			 "with --token-file or R2MPU_TOKEN instead");
		return -1;
	}
	q = strchr(path, '?');
	if (q && has_param(q + 1, "action")) {
		snprintf(err, errlen, "the URL already has an action= parameter: give the "
			 "gateway's URL and the key, or a signed URL, without it");
		return -1;
	}
	t->base = q ? strndup(url, (size_t)(q - url)) : strdup(url);
	if (q && q[1])
		t->query = strdup(q + 1);
	if (!t->base || (q && q[1] && !t->query)) {
		target_free(t);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	t->is_signed = has_param(t->query, "r2mpu-signature");
	t->signs_prefix = t->is_signed && has_param(t->query, "r2mpu-prefix");
	return 0;
}

void target_free(struct target *t)
{
	free(t->base);
	free(t->query);
	memset(t, 0, sizeof(*t));
}

int percent_encode(const char *s, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = strlen(out);

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		int plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';

		if (o + (plain ? 1 : 3) >= outlen)
			return -1;
		if (plain) {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return 0;
}

char *target_url(const struct target *t, const char *action, const char *upload_id,
		 unsigned part)
{
	/* An id of any length (the server chose it): each byte is at most 3 encoded. */
	size_t idlen = upload_id ? 3 * strlen(upload_id) + 1 : 1;
	char *id = calloc(1, idlen), number[24] = "";
	char *url = NULL;

	if (!id || (upload_id && percent_encode(upload_id, id, idlen) < 0))
		goto out;
	if (part)
		snprintf(number, sizeof(number), "&partNumber=%u", part);
	if (asprintf(&url, "%s?%s%saction=%s%s%s%s", t->base, t->query ? t->query : "",
		     t->query ? "&" : "", action, upload_id ? "&uploadId=" : "", id,
		     number) < 0)
		url = NULL;
out:
	free(id);
	return url;
}

int target_child(const struct target *t, const char *name, struct target *child)
{
	size_t n = strlen(t->base);
	const char *path = strstr(t->base, "://") + 3;
	int slash = n > 0 && t->base[n - 1] == '/' && strchr(path, '/') != NULL;

	memset(child, 0, sizeof(*child));
	if (asprintf(&child->base, "%s%s%s", t->base, slash ? "" : "/", name) < 0) {
		child->base = NULL;
		return -1;
	}
	if (t->query && !(child->query = strdup(t->query))) {
		target_free(child);
		return -1;
	}
	child->is_signed = t->is_signed;
	child->signs_prefix = t->signs_prefix;
	return 0;
}

void url_for_people(const char *url, char *out, unsigned outlen)
{
	static const char secret[] = "r2mpu-signature=";
	const char *q;
	size_t o = 0;

	if (outlen == 0)
		return;
	if (!url) {     /* it could not be made: out of memory */
		snprintf(out, outlen, "(no URL)");
		return;
	}
	q = strchr(url, '?');
	for (const char *p = url; *p && o + 1 < outlen; ) {
		/* At the start of a parameter that holds the secret: write "..." for its value. */
		if (q && p > q && (p[-1] == '?' || p[-1] == '&') &&
		    strncmp(p, secret, sizeof(secret) - 1) == 0) {
			int n = snprintf(out + o, outlen - o, "%s...", secret);

			o = n < 0 || (size_t)n >= outlen - o ? outlen - 1 : o + (size_t)n;
			p += strcspn(p, "&");
			continue;
		}
		out[o++] = *p++;
	}
	out[o] = '\0';
}
