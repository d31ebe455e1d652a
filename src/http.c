/* SPDX-License-Identifier: MIT */
/* http.c: pure HTTP for reading objects -- Range, conditions, how a browser may show them */
#include "http.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *skip_ows(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Parse decimal digits at *p into *v; false on no digits or overflow. */
static bool parse_u64(const char **p, uint64_t *v)
{
	const char *s = *p;
	uint64_t n = 0;

	if (*s < '0' || *s > '9')
		return false;
	while (*s >= '0' && *s <= '9') {
		unsigned d = (unsigned)(*s - '0');

		if (n > (UINT64_MAX - d) / 10)
			return false;
		n = n * 10 + d;
		s++;
	}
	*p = s;
	*v = n;
	return true;
}

enum range_result http_range_parse(const char *hdr, uint64_t size,
				   uint64_t *first, uint64_t *length)
{
	const char *p;
	uint64_t a, b;

	if (hdr == NULL)
		return RANGE_NONE;
	p = skip_ows(hdr);
	if (strncmp(p, "bytes=", 6) != 0)
		return RANGE_NONE;
	p = skip_ows(p + 6);
	if (*p == '-') {                               /* suffix: the last b bytes */
		p++;
		if (!parse_u64(&p, &b) || *skip_ows(p) != '\0')
			return RANGE_NONE;
		if (b == 0 || size == 0)
			return RANGE_UNSATISFIABLE;
		if (b > size)
			b = size;
		*first = size - b;
		*length = b;
		return RANGE_OK;
	}
	if (!parse_u64(&p, &a) || *p != '-')
		return RANGE_NONE;
	p++;
	if (*skip_ows(p) == '\0') {                     /* a- : from a to the end */
		b = UINT64_MAX;
	} else if (!parse_u64(&p, &b) || *skip_ows(p) != '\0' || b < a) {
		return RANGE_NONE;                         /* includes "a-b,c-d" */
	}
	if (a >= size)
		return RANGE_UNSATISFIABLE;
	if (b >= size)
		b = size - 1;
	*first = a;
	*length = b - a + 1;
	return RANGE_OK;
}

bool http_etag_list_matches(const char *list, const char *etag, bool weak)
{
	const char *p;
	size_t elen = strlen(etag);
	bool matched = false;

	if (list == NULL)
		return false;
	p = skip_ows(list);
	if (*p == '*' && *skip_ows(p + 1) == '\0')
		return true;
	/* The whole list must be well-formed for any tag in it to count. */
	while (*p != '\0') {
		bool is_weak = false;
		const char *q;

		p = skip_ows(p);
		if (strncmp(p, "W/", 2) == 0) {
			is_weak = true;
			p += 2;
		}
		if (*p != '"')
			return false;
		q = strchr(p + 1, '"');
		if (q == NULL)
			return false;
		if ((weak || !is_weak) && (size_t)(q - p - 1) == elen &&
		    memcmp(p + 1, etag, elen) == 0)
			matched = true;
		p = skip_ows(q + 1);
		if (*p == ',')
			p++;
		else if (*p != '\0')
			return false;
	}
	return matched;
}

enum get_outcome http_preconditions(const char *if_match, const char *if_none_match,
				    const char *etag)
{
	if (if_match != NULL && !http_etag_list_matches(if_match, etag, false))
		return GET_PRECONDITION_FAILED;
	if (if_none_match != NULL && http_etag_list_matches(if_none_match, etag, true))
		return GET_NOT_MODIFIED;
	return GET_WHOLE;
}

bool http_if_range_allows(const char *if_range, const char *etag)
{
	const char *p;

	if (if_range == NULL)
		return true;
	p = skip_ows(if_range);
	if (*p != '"')
		return false;                              /* a date, or W/: not strong */
	return http_etag_list_matches(p, etag, false) && strchr(p, ',') == NULL;
}

int http_content_length_parse(const char *s, int64_t *out)
{
	int64_t v = 0;
	size_t i;

	if (s == NULL || s[0] == '\0')
		return -1;
	for (i = 0; s[i] != '\0'; i++) {
		int d = s[i] - '0';

		if (d < 0 || d > 9 || v > (INT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

static int base64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int http_content_md5_parse(const char *s, unsigned char out[16])
{
	uint32_t acc = 0;
	size_t i, n = 0;
	int bits = 0;

	if (s == NULL || strlen(s) != 24 || strcmp(s + 22, "==") != 0)
		return -1;
	for (i = 0; i < 22; i++) {
		int v = base64_value(s[i]);

		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* 22 digits carry 132 bits: the 4 left over must be zero (one spelling per digest). */
	return n == 16 && acc == 0 ? 0 : -1;
}

/* RFC 9110 5.6.2: a token's characters. */
static bool is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/*
 * "type/subtype" of a Content-Type value, lower-cased, into out[cap]: no
 * parameters, no white space. False unless it is exactly one well-formed
 * media type: what a browser makes of anything else cannot be foretold.
 */
static bool media_type_of(const char *value, char *out, size_t cap)
{
	const char *p, *end;
	size_t n, i, slash = 0;

	/* Browsers split a value at commas and take the last type: "text/plain,text/html". */
	if (value == NULL || strchr(value, ',') != NULL)
		return false;
	p = skip_ows(value);
	end = p + strcspn(p, ";");
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	n = (size_t)(end - p);
	if (n >= cap)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '/' && slash == 0 && i > 0)
			slash = i;
		else if (!is_tchar(c))
			return false;
		out[i] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	}
	out[n] = '\0';
	return slash > 0 && slash + 1 < n;
}

/* Is `type` one of the space-separated entries of `list` (may be NULL), ignoring case? */
static bool type_listed(const char *list, const char *type)
{
	size_t len = strlen(type), n;

	while (list != NULL && *(list += strspn(list, " \t")) != '\0') {
		n = strcspn(list, " \t");
		if (n == len && strncasecmp(list, type, n) == 0)
			return true;
		list += n;
	}
	return false;
}

enum serve_as http_serve_as(const char *content_type, const char *inline_types)
{
	/*
	 * Shown by every browser as a picture or as text, never as a document
	 * that runs anything (with nosniff, text/plain stays text). Not here:
	 * image/svg+xml (a document with script), application/pdf (a viewer
	 * runs the file's scripts, forms and links: a download unless listed).
	 */
	static const char *const shown[] = {
		"image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "text/plain",
	};
	char type[256];
	size_t i, n;

	if (!media_type_of(content_type, type, sizeof(type)))
		return SERVE_ATTACHMENT;
	n = strlen(type);
	/* Any type/x+xml is rendered as an XML document, which may carry XHTML script. */
	if ((strncmp(type, "audio/", 6) == 0 || strncmp(type, "video/", 6) == 0) &&
	    !(n > 4 && strcmp(type + n - 4, "+xml") == 0))
		return SERVE_MEDIA;
	for (i = 0; i < sizeof(shown) / sizeof(shown[0]); i++)
		if (strcmp(type, shown[i]) == 0)
			return SERVE_INLINE;
	return type_listed(inline_types, type) ? SERVE_INLINE : SERVE_ATTACHMENT;
}

const char *http_serve_csp(enum serve_as how)
{
	/*
	 * default-src 'none': no script, style, frame or fetch of any kind, so
	 * even a document a browser chose to render can load and send nothing.
	 * sandbox: no script, forms, pop-ups or top navigation, and an opaque
	 * origin: even a script that ran would reach no cookie, storage or page
	 * of the gateway's origin. frame-ancestors 'none': no page may frame an
	 * object (pass it off as its own, or click through it); <img>, <video>
	 * and <audio> on other pages are not frames and still work.
	 */
	static const char strict[] = "default-src 'none'; sandbox; frame-ancestors 'none'";
	/*
	 * Audio and video: a browser plays them in a page that fetches the
	 * object again, and in Chromium that fetch fails from an opaque origin
	 * (CORS) and under media-src 'none': the player stays empty. So the
	 * sandbox keeps the origin, still with no script at all (neither the
	 * sandbox nor default-src allows one), and only the media may load.
	 */
	static const char media[] = "default-src 'none'; media-src 'self'; "
		"sandbox allow-same-origin; frame-ancestors 'none'";

	return how == SERVE_MEDIA ? media : strict;
}

void http_attachment_disposition(const char *stored, char *out, size_t cap)
{
	const char *params = stored != NULL ? strchr(stored, ';') : NULL;

	snprintf(out, cap, "attachment%s", params != NULL ? params : "");
}
