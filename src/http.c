/* http.c: pure HTTP semantics for reading objects -- Range, If-Match, If-None-Match */
#include "http.h"

#include <string.h>

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

enum range_result range_parse(const char *hdr, uint64_t size,
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

bool etag_list_matches(const char *list, const char *etag, bool weak)
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

int preconditions_evaluate(const char *if_match, const char *if_none_match,
			   const char *etag)
{
	if (if_match != NULL && !etag_list_matches(if_match, etag, false))
		return 412;
	if (if_none_match != NULL && etag_list_matches(if_none_match, etag, true))
		return 304;
	return 0;
}

bool if_range_allows(const char *if_range, const char *etag)
{
	const char *p;

	if (if_range == NULL)
		return true;
	p = skip_ows(if_range);
	if (*p != '"')
		return false;                              /* a date, or W/: not strong */
	return etag_list_matches(p, etag, false) && strchr(p, ',') == NULL;
}

int content_length_parse(const char *s, int64_t *out)
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

int content_md5_parse(const char *s, unsigned char out[16])
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
