/* SPDX-License-Identifier: MIT */
/* test_http.c: unit tests for http.c -- Range, entity tags, preconditions, lengths, serving */
#include "check_main.h"
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "http.h"

#define OPT(s) ((s) != NULL ? (s) : "(null)")

/* ---- http_range_parse ------------------------------------------------------- */

static const struct range_row {
	const char *hdr;
	uint64_t size;
	enum range_result result;
	uint64_t first;          /* for RANGE_OK */
	uint64_t length;
} range_rows[] = {
	{ "bytes=0-9", 1000, RANGE_OK, 0, 10 },
	{ "bytes=0-0", 1000, RANGE_OK, 0, 1 },
	{ "bytes=7-7", 1000, RANGE_OK, 7, 1 },
	{ "bytes=990-", 1000, RANGE_OK, 990, 10 },
	{ "bytes=999-", 1000, RANGE_OK, 999, 1 },
	{ "bytes=0-", 1000, RANGE_OK, 0, 1000 },
	{ "bytes=-5", 1000, RANGE_OK, 995, 5 },
	{ "bytes=-1000", 1000, RANGE_OK, 0, 1000 },
	{ "bytes=-2000", 1000, RANGE_OK, 0, 1000 },
	{ "bytes=500-5000", 1000, RANGE_OK, 500, 500 },
	{ "bytes=0-999", 1000, RANGE_OK, 0, 1000 },
	{ "bytes=0-18446744073709551615", 1000, RANGE_OK, 0, 1000 },
	{ " bytes= 10-19 ", 1000, RANGE_OK, 10, 10 },
	{ "bytes=0-0", 1, RANGE_OK, 0, 1 },
	{ "bytes=-1", 1, RANGE_OK, 0, 1 },
	{ "bytes=4294967296-", 4294967306ULL, RANGE_OK, 4294967296ULL, 10 },
	{ "bytes=1000-", 1000, RANGE_UNSATISFIABLE, 0, 0 },
	{ "bytes=1000-1000", 1000, RANGE_UNSATISFIABLE, 0, 0 },
	{ "bytes=5000-6000", 1000, RANGE_UNSATISFIABLE, 0, 0 },
	{ "bytes=-0", 1000, RANGE_UNSATISFIABLE, 0, 0 },
	{ "bytes=18446744073709551615-", 1000, RANGE_UNSATISFIABLE, 0, 0 },
	{ "bytes=0-0", 0, RANGE_UNSATISFIABLE, 0, 0 },
	{ "bytes=0-", 0, RANGE_UNSATISFIABLE, 0, 0 },
	{ "bytes=-5", 0, RANGE_UNSATISFIABLE, 0, 0 },
	{ NULL, 1000, RANGE_NONE, 0, 0 },
	{ "", 1000, RANGE_NONE, 0, 0 },
	{ "bytes=0-1,5-6", 1000, RANGE_NONE, 0, 0 },
	{ "bytes=0-1, 5-6", 1000, RANGE_NONE, 0, 0 },
	{ "bytes=-5,0-1", 1000, RANGE_NONE, 0, 0 },
	{ "bytes=abc", 1000, RANGE_NONE, 0, 0 },
	{ "bytes=1-x", 1000, RANGE_NONE, 0, 0 },
	{ "bytes=1-2x", 1000, RANGE_NONE, 0, 0 },
	{ "items=0-1", 1000, RANGE_NONE, 0, 0 },
	{ "Bytes=0-1", 1000, RANGE_NONE, 0, 0 },
	{ "bytes 0-1", 1000, RANGE_NONE, 0, 0 },
	{ "bytes=5-1", 1000, RANGE_NONE, 0, 0 },
	{ "bytes=", 1000, RANGE_NONE, 0, 0 },
	{ "bytes=-", 1000, RANGE_NONE, 0, 0 },
	{ "bytes=1", 1000, RANGE_NONE, 0, 0 },
	{ "bytes=+1-2", 1000, RANGE_NONE, 0, 0 },
	{ "bytes=--1", 1000, RANGE_NONE, 0, 0 },
	{ "bytes=99999999999999999999999-", 1000, RANGE_NONE, 0, 0 },
	{ "bytes=18446744073709551616-", 1000, RANGE_NONE, 0, 0 },
	{ "bytes=0-99999999999999999999999", 1000, RANGE_NONE, 0, 0 },
	{ "bytes=-99999999999999999999999", 1000, RANGE_NONE, 0, 0 },
};

static const char *range_name(enum range_result r)
{
	switch (r) {
	case RANGE_NONE:
		return "RANGE_NONE";
	case RANGE_OK:
		return "RANGE_OK";
	case RANGE_UNSATISFIABLE:
		return "RANGE_UNSATISFIABLE";
	}
	return "?";
}

START_TEST(test_range_parse)
{
	const struct range_row *r = &range_rows[_i];
	uint64_t first = 777, length = 777;
	enum range_result got = http_range_parse(r->hdr, r->size, &first, &length);

	ck_assert_msg(got == r->result, "http_range_parse(\"%s\", %" PRIu64 ") = %s, expected %s",
		      OPT(r->hdr), r->size, range_name(got), range_name(r->result));
	if (r->result == RANGE_OK)
		ck_assert_msg(first == r->first && length == r->length,
			      "http_range_parse(\"%s\", %" PRIu64 "): first %" PRIu64 " length %"
			      PRIu64 ", expected %" PRIu64 " %" PRIu64, OPT(r->hdr), r->size,
			      first, length, r->first, r->length);
}
END_TEST

/* ---- http_etag_list_matches ------------------------------------------------- */

static const struct list_row {
	const char *list;
	const char *etag;
	bool weak;
	bool expected;
} list_rows[] = {
	{ "\"abc\"", "abc", false, true },
	{ "\"abc\"", "abc", true, true },
	{ "\"abd\"", "abc", false, false },
	{ "\"abc\"", "ab", false, false },
	{ "\"ab\"", "abc", false, false },
	{ "\"ABC\"", "abc", false, false },              /* opaque: case matters */
	{ "*", "abc", false, true },
	{ "*", "abc", true, true },
	{ "  *  ", "abc", false, true },
	{ "W/\"abc\"", "abc", true, true },
	{ "W/\"abc\"", "abc", false, false },            /* strong never matches W/ */
	{ "W/\"x\", \"abc\"", "abc", false, true },
	{ "W/\"abc\", \"x\"", "abc", false, false },
	{ "\"x\",\"abc\"", "abc", false, true },
	{ "\"x\" , \"y\" ,  \"abc\"", "abc", false, true },
	{ "\t\"x\",\t\"abc\"\t", "abc", true, true },
	{ "\"x\", W/\"abc\"", "abc", true, true },
	{ "\"x\", \"y\"", "abc", true, false },
	{ "\"abc-3\"", "abc-3", false, true },
	{ "\"abc\"", "abc-3", false, false },
	{ NULL, "abc", false, false },
	{ NULL, "abc", true, false },
	{ "", "abc", true, false },
	{ "abc", "abc", true, false },                   /* unquoted */
	{ "\"abc", "abc", true, false },                 /* unterminated */
	{ "W/abc", "abc", true, false },
	{ "w/\"abc\"", "abc", true, false },             /* W/ is case-sensitive */
	{ "W/ \"abc\"", "abc", true, false },
	{ "\"x\" \"abc\"", "abc", true, false },         /* missing comma */
	{ "\"x\"; \"abc\"", "abc", true, false },
	{ "x, \"abc\"", "abc", true, false },
	{ "\"x\", *", "abc", true, false },
	{ "*, \"x\"", "abc", true, false },
	{ "**", "abc", true, false },
	{ "\"abc\" junk", "abc", true, false },         /* a match, then a malformed rest */
	{ "\"abc\", x", "abc", false, false },
};

START_TEST(test_etag_list_matches)
{
	const struct list_row *r = &list_rows[_i];
	bool got = http_etag_list_matches(r->list, r->etag, r->weak);

	ck_assert_msg(got == r->expected, "http_etag_list_matches('%s', \"%s\", %s) = %d, expected %d",
		      OPT(r->list), r->etag, r->weak ? "weak" : "strong", got, r->expected);
}
END_TEST

/* ---- http_preconditions -------------------------------------------- */

static const struct pre_row {
	const char *if_match;
	const char *if_none_match;
	const char *etag;
	enum get_outcome expected;
} pre_rows[] = {
	{ NULL, NULL, "abc", GET_WHOLE },
	{ "\"abc\"", NULL, "abc", GET_WHOLE },
	{ "*", NULL, "abc", GET_WHOLE },
	{ "\"x\", \"abc\"", NULL, "abc", GET_WHOLE },
	{ "\"x\"", NULL, "abc", GET_PRECONDITION_FAILED },
	{ "W/\"abc\"", NULL, "abc", GET_PRECONDITION_FAILED },               /* If-Match is strong */
	{ "garbage", NULL, "abc", GET_PRECONDITION_FAILED },
	{ "", NULL, "abc", GET_PRECONDITION_FAILED },
	{ NULL, "\"abc\"", "abc", GET_NOT_MODIFIED },
	{ NULL, "W/\"abc\"", "abc", GET_NOT_MODIFIED },               /* If-None-Match is weak */
	{ NULL, "*", "abc", GET_NOT_MODIFIED },
	{ NULL, "\"x\", W/\"abc\"", "abc", GET_NOT_MODIFIED },
	{ NULL, "\"x\"", "abc", GET_WHOLE },
	{ NULL, "garbage", "abc", GET_WHOLE },
	/* If-Match is evaluated first and wins. */
	{ "\"x\"", "\"abc\"", "abc", GET_PRECONDITION_FAILED },
	{ "\"x\"", "\"y\"", "abc", GET_PRECONDITION_FAILED },
	{ "\"abc\"", "\"abc\"", "abc", GET_NOT_MODIFIED },
	{ "\"abc\"", "\"x\"", "abc", GET_WHOLE },
	{ "*", "*", "abc", GET_NOT_MODIFIED },
};

START_TEST(test_http_preconditions)
{
	const struct pre_row *r = &pre_rows[_i];
	enum get_outcome got = http_preconditions(r->if_match, r->if_none_match, r->etag);

	ck_assert_msg(got == r->expected,
		      "http_preconditions(If-Match '%s', If-None-Match '%s', \"%s\") = %d, "
		      "expected %d", OPT(r->if_match), OPT(r->if_none_match), r->etag, got,
		      r->expected);
}
END_TEST

/* ---- http_if_range_allows --------------------------------------------------- */

static const struct ifr_row {
	const char *if_range;
	const char *etag;
	bool expected;
} ifr_rows[] = {
	{ NULL, "abc", true },
	{ "\"abc\"", "abc", true },
	{ " \"abc\"", "abc", true },
	{ "\"abc-2\"", "abc-2", true },
	{ "\"x\"", "abc", false },
	{ "\"ABC\"", "abc", false },
	{ "W/\"abc\"", "abc", false },
	{ "Wed, 21 Oct 2015 07:28:00 GMT", "abc", false },
	{ "\"x\", \"abc\"", "abc", false },              /* one entity-tag only */
	{ "\"abc\", \"x\"", "abc", false },
	{ "*", "abc", false },
	{ "", "abc", false },
	{ "\"abc", "abc", false },
};

START_TEST(test_if_range_allows)
{
	const struct ifr_row *r = &ifr_rows[_i];
	bool got = http_if_range_allows(r->if_range, r->etag);

	ck_assert_msg(got == r->expected, "http_if_range_allows('%s', \"%s\") = %d, expected %d",
		      OPT(r->if_range), r->etag, got, r->expected);
}
END_TEST

/* ---- http_content_length_parse ---------------------------------------------- */

static const struct cl_row {
	const char *in;
	int rc;
	int64_t value;
} cl_rows[] = {
	{ "0", 0, 0 },
	{ "1", 0, 1 },
	{ "123", 0, 123 },
	{ "000123", 0, 123 },
	{ "5368709120", 0, 5368709120LL },
	{ "922337203685477579", 0, 922337203685477579LL },
	{ "9223372036854775799", 0, 9223372036854775799LL },
	{ "9223372036854775800", 0, 9223372036854775800LL },
	{ "9223372036854775806", 0, INT64_MAX - 1 },
	{ "9223372036854775807", 0, INT64_MAX },
	{ "9223372036854775808", -1, 0 },
	{ "9223372036854775810", -1, 0 },
	{ "10000000000000000000", -1, 0 },
	{ "99999999999999999999", -1, 0 },
	{ "", -1, 0 },
	{ NULL, -1, 0 },
	{ "-1", -1, 0 },
	{ "+1", -1, 0 },
	{ " 1", -1, 0 },
	{ "1 ", -1, 0 },
	{ "1e3", -1, 0 },
	{ "0x10", -1, 0 },
	{ "1.0", -1, 0 },
	{ "12a", -1, 0 },
};

START_TEST(test_content_length_parse)
{
	const struct cl_row *r = &cl_rows[_i];
	int64_t out = -777;
	int rc = http_content_length_parse(r->in, &out);

	ck_assert_msg(rc == r->rc, "http_content_length_parse(\"%s\") rc %d, expected %d",
		      OPT(r->in), rc, r->rc);
	if (r->rc == 0)
		ck_assert_msg(out == r->value, "http_content_length_parse(\"%s\") = %" PRId64
			      ", expected %" PRId64, OPT(r->in), out, r->value);
	else
		ck_assert_msg(out == -777, "http_content_length_parse(\"%s\") wrote %" PRId64
			      " on error", OPT(r->in), out);
}
END_TEST

/* ---- http_content_md5_parse -------------------------------------------------- */

static const struct md5_row {
	const char *in;
	int rc;
	const char *hex;         /* the 16 bytes, when rc is 0 */
} md5_rows[] = {
	{ "1B2M2Y8AsgTpgAmY7PhCfg==", 0, "d41d8cd98f00b204e9800998ecf8427e" },   /* MD5("") */
	{ "XUFAKrxLKna5cZ2REBfFkg==", 0, "5d41402abc4b2a76b9719d911017c592" },   /* "hello" */
	{ "/////////////////////w==", 0, "ffffffffffffffffffffffffffffffff" },
	{ "AAAAAAAAAAAAAAAAAAAAAA==", 0, "00000000000000000000000000000000" },
	{ "1B2M2Y8AsgTpgAmY7PhCfh==", -1, NULL },   /* leftover bits set: another spelling */
	{ "1B2M2Y8AsgTpgAmY7PhCfg=", -1, NULL },
	{ "1B2M2Y8AsgTpgAmY7PhCfg", -1, NULL },
	{ "1B2M2Y8AsgTpgAmY7PhCfg===", -1, NULL },
	{ " 1B2M2Y8AsgTpgAmY7PhCfg=", -1, NULL },
	{ "1B2M2Y8AsgTpgAmY7PhC-g==", -1, NULL },   /* base64url is not base64 */
	{ "1B2M2Y8AsgTpgAmY7PhC_g==", -1, NULL },
	{ "1B2M2Y8AsgTpgAmY7PhCfgAA", -1, NULL },
	{ "d41d8cd98f00b204e9800998ecf8427e", -1, NULL },   /* hex is not base64 */
	{ "", -1, NULL },
	{ NULL, -1, NULL },
	{ "1B2M2Y8AsgTpgAmY7PhC\ng==", -1, NULL },
};

START_TEST(test_content_md5_parse)
{
	const struct md5_row *r = &md5_rows[_i];
	unsigned char out[16];
	char hex[33];
	int rc = http_content_md5_parse(r->in, out), i;

	ck_assert_msg(rc == r->rc, "http_content_md5_parse(\"%s\") rc %d, expected %d", OPT(r->in),
		      rc, r->rc);
	if (rc == 0) {
		for (i = 0; i < 16; i++)
			snprintf(hex + 2 * i, 3, "%02x", out[i]);
		ck_assert_msg(strcmp(hex, r->hex) == 0, "http_content_md5_parse(\"%s\") = %s, expected %s",
			      r->in, hex, r->hex);
	}
}
END_TEST

/* ---- http_serve_as, http_serve_csp, http_attachment_disposition --------------- */

#define ATT SERVE_ATTACHMENT
#define INL SERVE_INLINE
#define MED SERVE_MEDIA

static const struct serve_row {
	const char *type;
	const char *inline_types;
	enum serve_as expected;
} serve_rows[] = {
	/* Documents and scripts: downloaded. */
	{ "text/html", NULL, ATT },
	{ "text/html; charset=utf-8", "", ATT },
	{ "TEXT/HTML; charset=x", NULL, ATT },
	{ "application/xhtml+xml", NULL, ATT },
	{ "image/svg+xml", NULL, ATT },
	{ "text/xml", NULL, ATT },
	{ "application/xml", NULL, ATT },
	{ "application/rss+xml", NULL, ATT },
	{ "text/xsl", NULL, ATT },
	{ "application/xslt+xml", NULL, ATT },
	{ "application/javascript", NULL, ATT },
	{ "text/javascript", NULL, ATT },
	{ "application/json", NULL, ATT },
	{ "application/pdf", NULL, ATT },
	{ "text/css", NULL, ATT },
	{ "multipart/x-mixed-replace; boundary=x", NULL, ATT },
	{ "application/octet-stream", NULL, ATT },
	{ "application/x-unknown", NULL, ATT },
	{ "image/bmp", NULL, ATT },
	{ "image/x-icon", NULL, ATT },
	/* Known to be shown without running anything. */
	{ "image/png", NULL, INL },
	{ "image/jpeg", NULL, INL },
	{ "image/gif", NULL, INL },
	{ "image/webp", NULL, INL },
	{ "image/avif", NULL, INL },
	{ "text/plain", NULL, INL },
	{ "text/plain; charset=utf-8", NULL, INL },
	{ "Text/Plain;charset=UTF-8", NULL, INL },
	{ " image/PNG ", NULL, INL },
	{ "image/png\t; x=y", NULL, INL },
	{ "text/plain; charset=\"utf-8\"", NULL, INL },
	/* Played: audio and video, but never an XML document under their names. */
	{ "video/mp4", NULL, MED },
	{ "audio/mpeg", NULL, MED },
	{ "AUDIO/WAV; codecs=1", NULL, MED },
	{ "video/x-whatever", NULL, MED },
	{ "video/x-foo+xml", NULL, ATT },
	{ "audio/foo+XML", NULL, ATT },
	{ "audio/foo+xml", "audio/foo+xml", INL },
	/* Not one well-formed media type: downloaded. */
	{ NULL, NULL, ATT },
	{ NULL, "text/html", ATT },
	{ "", NULL, ATT },
	{ "   ", NULL, ATT },
	{ "text", NULL, ATT },
	{ "text/", NULL, ATT },
	{ "/plain", NULL, ATT },
	{ "text/plain/x", NULL, ATT },
	{ "text /plain", NULL, ATT },
	{ "text/ plain", NULL, ATT },
	{ "text/pl ain", NULL, ATT },
	{ "text/plain,text/html", NULL, ATT },        /* browsers take the last type */
	{ "text/plain, text/html", NULL, ATT },
	{ "text/plain; x=\"a,text/html\"", NULL, ATT },
	{ "image/png;x=,text/html", NULL, ATT },
	{ "text/pla\"in", NULL, ATT },
	{ "text/pl\xc3\xa4in", NULL, ATT },
	{ "image/png\x00", NULL, INL },                 /* C string: ends at NUL */
	{ "image/pngx", NULL, ATT },
	{ "image/pn", NULL, ATT },
	{ "ximage/png", NULL, ATT },
	{ "text/plainx; charset=utf-8", NULL, ATT },
	/* R2MPU_INLINE_TYPES: exact type/subtype, any case, parameters ignored. */
	{ "text/html", "text/html", INL },
	{ "TEXT/HTML; charset=x", "text/html", INL },
	{ "text/html", "TEXT/HTML", INL },
	{ "image/svg+xml", "text/html image/svg+xml", INL },
	{ "image/svg+xml", "  text/html\timage/svg+xml  ", INL },
	{ "application/pdf", "application/pdf", INL },
	{ "text/html", "text/htm", ATT },
	{ "text/html", "text/htmlx", ATT },
	{ "text/html", "xtext/html", ATT },
	{ "text/html", "text/*", ATT },                /* no wildcards */
	{ "text/html", "*/*", ATT },
	{ "text/html", "text/html;", ATT },
	{ "text/html", "text/html,image/svg+xml", ATT },   /* spaces separate, not commas */
	{ "text/html", "text", ATT },
	{ "text/html", "image/svg+xml", ATT },
	{ "text/plain,text/html", "text/html", ATT },
	{ "image/png", "text/html", INL },
	{ "video/mp4", "video/mp4", MED },
};

static const char *serve_name(enum serve_as how)
{
	switch (how) {
	case SERVE_ATTACHMENT:
		return "SERVE_ATTACHMENT";
	case SERVE_INLINE:
		return "SERVE_INLINE";
	case SERVE_MEDIA:
		return "SERVE_MEDIA";
	}
	return "?";
}

START_TEST(test_serve_as_decide)
{
	const struct serve_row *r = &serve_rows[_i];
	enum serve_as got = http_serve_as(r->type, r->inline_types);

	ck_assert_msg(got == r->expected, "http_serve_as(\"%s\", \"%s\") = %s, expected %s",
		      OPT(r->type), OPT(r->inline_types), serve_name(got), serve_name(r->expected));
}
END_TEST

START_TEST(test_serve_csp)
{
	/* Every class is sandboxed and loads nothing; only media keep the origin. */
	ck_assert_str_eq(http_serve_csp(SERVE_ATTACHMENT),
			 "default-src 'none'; sandbox; frame-ancestors 'none'");
	ck_assert_str_eq(http_serve_csp(SERVE_INLINE),
			 "default-src 'none'; sandbox; frame-ancestors 'none'");
	ck_assert_str_eq(http_serve_csp(SERVE_MEDIA),
			 "default-src 'none'; media-src 'self'; sandbox allow-same-origin; "
			 "frame-ancestors 'none'");
}
END_TEST

static const struct disposition_row {
	const char *stored;
	const char *expected;
} disposition_rows[] = {
	{ NULL, "attachment" },
	{ "", "attachment" },
	{ "inline", "attachment" },
	{ "INLINE", "attachment" },
	{ "attachment", "attachment" },
	{ "inline; filename=a.html", "attachment; filename=a.html" },
	{ "inline;filename=\"a b.html\"", "attachment;filename=\"a b.html\"" },
	{ "  inline ; filename=a.svg", "attachment; filename=a.svg" },
	{ "attachment; filename=\"report.pdf\"", "attachment; filename=\"report.pdf\"" },
	{ "inline; filename*=UTF-8''caf%C3%A9.html", "attachment; filename*=UTF-8''caf%C3%A9.html" },
	{ "whatever; filename=x", "attachment; filename=x" },
	{ "filename=a.html", "attachment" },          /* no type: nothing to keep */
	{ "inline; a=\"x;y\"; filename=z", "attachment; a=\"x;y\"; filename=z" },
	{ "\"in;line\"; filename=z", "attachment;line\"; filename=z" },   /* still attachment first */
};

START_TEST(test_attachment_disposition)
{
	const struct disposition_row *r = &disposition_rows[_i];
	char out[128];

	http_attachment_disposition(r->stored, out, sizeof(out));
	ck_assert_msg(strcmp(out, r->expected) == 0,
		      "http_attachment_disposition(\"%s\") = \"%s\", expected \"%s\"", OPT(r->stored),
		      out, r->expected);
}
END_TEST

START_TEST(test_attachment_disposition_fits)
{
	/* Cut to the buffer, never past it; still an attachment. */
	char out[16];

	memset(out, 'X', sizeof(out));
	http_attachment_disposition("inline; filename=a-very-long-name.html", out, sizeof(out));
	ck_assert_str_eq(out, "attachment; fil");
}
END_TEST

static Suite *http_suite(void)
{
	Suite *s = suite_create("http");
	TCase *tc;

	tc = tcase_create("http_range_parse");
	tcase_add_loop_test(tc, test_range_parse, 0, NROWS(range_rows));
	suite_add_tcase(s, tc);

	tc = tcase_create("http_etag_list_matches");
	tcase_add_loop_test(tc, test_etag_list_matches, 0, NROWS(list_rows));
	suite_add_tcase(s, tc);

	tc = tcase_create("http_preconditions");
	tcase_add_loop_test(tc, test_http_preconditions, 0, NROWS(pre_rows));
	suite_add_tcase(s, tc);

	tc = tcase_create("http_if_range_allows");
	tcase_add_loop_test(tc, test_if_range_allows, 0, NROWS(ifr_rows));
	suite_add_tcase(s, tc);

	tc = tcase_create("http_content_length_parse");
	tcase_add_loop_test(tc, test_content_length_parse, 0, NROWS(cl_rows));
	suite_add_tcase(s, tc);

	tc = tcase_create("http_content_md5_parse");
	tcase_add_loop_test(tc, test_content_md5_parse, 0, NROWS(md5_rows));
	suite_add_tcase(s, tc);

	tc = tcase_create("http_serve_as");
	tcase_add_loop_test(tc, test_serve_as_decide, 0, NROWS(serve_rows));
	tcase_add_test(tc, test_serve_csp);
	suite_add_tcase(s, tc);

	tc = tcase_create("http_attachment_disposition");
	tcase_add_loop_test(tc, test_attachment_disposition, 0, NROWS(disposition_rows));
	tcase_add_test(tc, test_attachment_disposition_fits);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(http_suite)
