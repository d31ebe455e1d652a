/* SPDX-License-Identifier: MIT */
/* uri.c: pure functions for URIs -- percent-decoding and -encoding, the query, the key */
#include "uri.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int uri_percent_decode(const char *src, size_t len, bool plus_is_space,
		       char **out, size_t *out_len, struct r2err *err)
{
	char *buf;
	size_t i, n = 0;

	*out = NULL;
	*out_len = 0;
	buf = malloc(len + 1);
	if (buf == NULL)
		return r2err_out_of_memory(err);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)src[i];

		if (c == '%') {
			int hi = i + 2 < len ? hexval((unsigned char)src[i + 1]) : -1;
			int lo = i + 2 < len ? hexval((unsigned char)src[i + 2]) : -1;

			if (hi < 0 || lo < 0) {
				free(buf);
				return r2err_set(err, 400, "InvalidURI",
						 "Invalid percent-encoding in the request URI");
			}
			buf[n++] = (char)(hi * 16 + lo);
			i += 2;
		} else if (c == '+' && plus_is_space) {
			buf[n++] = ' ';
		} else {
			buf[n++] = (char)c;
		}
	}
	buf[n] = '\0';
	*out = buf;
	*out_len = n;
	return 0;
}

int uri_encode(const char *src, size_t len, bool keep_slash, char *dst, size_t dstlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i, n = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)src[i];
		bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			     (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
			     c == '~' || (c == '/' && keep_slash);

		if (n + (plain ? 1 : 3) >= dstlen)
			return -1;
		if (plain) {
			dst[n++] = (char)c;
		} else {
			dst[n++] = '%';
			dst[n++] = hex[c >> 4];
			dst[n++] = hex[c & 15];
		}
	}
	if (n >= dstlen)
		return -1;
	dst[n] = '\0';
	return 0;
}

void query_free(struct query *q)
{
	if (q == NULL)
		return;
	free(q->action);
	free(q->upload_id);
	free(q->part_number);
	free(q->key_marker);
	free(q->upload_id_marker);
	free(q->max_uploads);
	free(q->sig_rights);
	free(q->sig_prefix);
	free(q->sig_expires);
	free(q->sig_max);
	free(q->signature);
	memset(q, 0, sizeof(*q));
}

/* The parameters r2mpu reads, and where each one goes. */
static char **query_slot(struct query *q, const char *name, size_t len)
{
	static const struct {
		const char *name;
		size_t offset;
	} known[] = {
		{ "action", offsetof(struct query, action) },
		{ "uploadId", offsetof(struct query, upload_id) },
		{ "partNumber", offsetof(struct query, part_number) },
		{ "key-marker", offsetof(struct query, key_marker) },
		{ "upload-id-marker", offsetof(struct query, upload_id_marker) },
		{ "max-uploads", offsetof(struct query, max_uploads) },
		{ "r2mpu-rights", offsetof(struct query, sig_rights) },
		{ "r2mpu-prefix", offsetof(struct query, sig_prefix) },
		{ "r2mpu-expires", offsetof(struct query, sig_expires) },
		{ "r2mpu-max", offsetof(struct query, sig_max) },
		{ "r2mpu-signature", offsetof(struct query, signature) },
	};
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strlen(known[i].name) == len && memcmp(known[i].name, name, len) == 0)
			return (char **)((char *)q + known[i].offset);
	return NULL;
}

int query_parse(const char *qs, struct query *q, struct r2err *err)
{
	const char *p = qs;

	memset(q, 0, sizeof(*q));
	if (qs == NULL)
		return 0;
	while (*p != '\0') {
		const char *amp = strchr(p, '&');
		size_t pair_len = amp ? (size_t)(amp - p) : strlen(p);
		const char *eq = memchr(p, '=', pair_len);
		size_t name_len = eq ? (size_t)(eq - p) : pair_len;
		char *name = NULL, *value = NULL, **slot;
		size_t dec_name_len, dec_value_len;

		if (pair_len == 0)
			goto next;
		if (uri_percent_decode(p, name_len, true, &name, &dec_name_len, err) < 0)
			goto fail;
		slot = query_slot(q, name, dec_name_len);
		if (slot == NULL)
			goto next_free;     /* not ours: ignored, like any web app */
		if (*slot != NULL) {
			r2err_set(err, 400, "InvalidArgument",
				  "Parameter %s is given more than once", name);
			goto fail_free;
		}
		if (eq == NULL) {
			value = strdup("");
			dec_value_len = 0;
			if (value == NULL) {
				r2err_out_of_memory(err);
				goto fail_free;
			}
		} else if (uri_percent_decode(eq + 1, pair_len - name_len - 1, true,
					      &value, &dec_value_len, err) < 0) {
			goto fail_free;
		}
		if (dec_value_len > PARAM_MAX_BYTES || memchr(value, '\0', dec_value_len)) {
			r2err_set(err, 400, "InvalidArgument",
				  "Parameter %s is too long or contains NUL", name);
			free(value);
			goto fail_free;
		}
		*slot = value;
next_free:
		free(name);
next:
		if (amp == NULL)
			break;
		p = amp + 1;
		continue;
fail_free:
		free(name);
fail:
		query_free(q);
		return -1;
	}
	return 0;
}

size_t uri_utf8_decode_one(const unsigned char *s, size_t left, uint32_t *cp)
{
	size_t n, i;
	uint32_t c, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	} else if ((s[0] & 0xE0) == 0xC0) {
		n = 2, c = s[0] & 0x1F, min = 0x80;
	} else if ((s[0] & 0xF0) == 0xE0) {
		n = 3, c = s[0] & 0x0F, min = 0x800;
	} else if ((s[0] & 0xF8) == 0xF0) {
		n = 4, c = s[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n > left)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return n;
}

int uri_key_validate(const char *key, size_t len, struct r2err *err)
{
	const unsigned char *s = (const unsigned char *)key;
	size_t i = 0;

	if (len == 0)
		return r2err_set(err, 400, "InvalidKey", "Missing object key in the URL path");
	if (len > KEY_MAX_BYTES)
		return r2err_set(err, 400, "KeyTooLongError",
				 "Object key is %zu bytes; at most %d are allowed",
				 len, KEY_MAX_BYTES);
	while (i < len) {
		uint32_t cp;
		size_t n = uri_utf8_decode_one(s + i, len - i, &cp);

		if (n == 0)
			return r2err_set(err, 400, "InvalidKey",
					 "Object key is not valid UTF-8");
		if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F))
			return r2err_set(err, 400, "InvalidKey",
					 "Object key contains a control character");
		i += n;
	}
	return 0;
}

/*
 * Find the raw (still encoded) path below the mount point in REQUEST_URI.
 * 1: *path and *len are set; 0: no usable REQUEST_URI, use PATH_INFO; -1: error.
 */
static int raw_path_below_mount(const char *request_uri, const char *script_name,
				const char *path_info, const char *mount,
				const char **path, size_t *len, struct r2err *err)
{
	size_t prefix = 0;

	if (request_uri == NULL || request_uri[0] == '\0')
		return 0;
	*path = request_uri;
	*len = strcspn(request_uri, "?#");
	if (mount != NULL && strcmp(mount, "/") == 0) {
		prefix = 0;                 /* served at the root: the whole path is the key */
	} else if (mount != NULL && mount[0] != '\0') {
		prefix = strlen(mount);
		if (prefix > *len || memcmp(*path, mount, prefix) != 0 ||
		    (prefix < *len && (*path)[prefix] != '/'))
			return r2err_set(err, 404, "NotUnderMount",
					 "Request path is not below the mount point");
	} else if (script_name != NULL && script_name[0] != '\0' && path_info != NULL) {
		/*
		 * A script with PATH_INFO (CGI, mod_fcgid): the key is below
		 * SCRIPT_NAME. Without PATH_INFO (mod_proxy_fcgi), SCRIPT_NAME is
		 * the whole path, not a script: nothing is stripped.
		 */
		prefix = strlen(script_name);
		if (prefix > *len || memcmp(*path, script_name, prefix) != 0 ||
		    (prefix < *len && (*path)[prefix] != '/'))
			return 0;   /* a rewritten URL: trust the server's split */
	}
	*path += prefix;
	*len -= prefix;
	return 1;
}

int uri_key_from_request(const char *request_uri, const char *script_name,
			 const char *path_info, const char *mount,
			 char **key, size_t *key_len, struct r2err *err)
{
	const char *path = NULL;
	size_t len = 0;
	int raw;

	*key = NULL;
	*key_len = 0;
	raw = raw_path_below_mount(request_uri, script_name, path_info, mount,
				   &path, &len, err);
	if (raw < 0)
		return -1;
	if (raw == 0) {
		/* PATH_INFO is already decoded by the server: do not decode again. */
		path = path_info != NULL ? path_info : "";
		len = strlen(path);
	}
	if (len > 0 && path[0] == '/')
		path++, len--;
	if (raw) {
		if (uri_percent_decode(path, len, false, key, key_len, err) < 0)
			return -1;
	} else {
		*key = strndup(path, len);
		if (*key == NULL)
			return r2err_out_of_memory(err);
		*key_len = len;
	}
	/* "" is valid here: the routes that need a key say so (mpu-list takes none). */
	if (*key_len > 0 && uri_key_validate(*key, *key_len, err) < 0) {
		free(*key);
		*key = NULL;
		return -1;
	}
	return 0;
}
