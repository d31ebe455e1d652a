/* test_http.c: unit tests for http.c -- Range, entity-tag lists, preconditions, Content-Length */
#include <check.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "http.h"

#define NROWS(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define OPT(s) ((s) != NULL ? (s) : "(null)")

/* ---- range_parse ------------------------------------------------------- */

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
	enum range_result got = range_parse(r->hdr, r->size, &first, &length);

	ck_assert_msg(got == r->result, "range_parse(\"%s\", %" PRIu64 ") = %s, expected %s",
		      OPT(r->hdr), r->size, range_name(got), range_name(r->result));
	if (r->result == RANGE_OK)
		ck_assert_msg(first == r->first && length == r->length,
			      "range_parse(\"%s\", %" PRIu64 "): first %" PRIu64 " length %"
			      PRIu64 ", expected %" PRIu64 " %" PRIu64, OPT(r->hdr), r->size,
			      first, length, r->first, r->length);
}
END_TEST

/* ---- etag_list_matches ------------------------------------------------- */

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
	bool got = etag_list_matches(r->list, r->etag, r->weak);

	ck_assert_msg(got == r->expected, "etag_list_matches('%s', \"%s\", %s) = %d, expected %d",
		      OPT(r->list), r->etag, r->weak ? "weak" : "strong", got, r->expected);
}
END_TEST

/* ---- preconditions_evaluate -------------------------------------------- */

static const struct pre_row {
	const char *if_match;
	const char *if_none_match;
	const char *etag;
	int expected;
} pre_rows[] = {
	{ NULL, NULL, "abc", 0 },
	{ "\"abc\"", NULL, "abc", 0 },
	{ "*", NULL, "abc", 0 },
	{ "\"x\", \"abc\"", NULL, "abc", 0 },
	{ "\"x\"", NULL, "abc", 412 },
	{ "W/\"abc\"", NULL, "abc", 412 },               /* If-Match is strong */
	{ "garbage", NULL, "abc", 412 },
	{ "", NULL, "abc", 412 },
	{ NULL, "\"abc\"", "abc", 304 },
	{ NULL, "W/\"abc\"", "abc", 304 },               /* If-None-Match is weak */
	{ NULL, "*", "abc", 304 },
	{ NULL, "\"x\", W/\"abc\"", "abc", 304 },
	{ NULL, "\"x\"", "abc", 0 },
	{ NULL, "garbage", "abc", 0 },
	/* If-Match is evaluated first and wins. */
	{ "\"x\"", "\"abc\"", "abc", 412 },
	{ "\"x\"", "\"y\"", "abc", 412 },
	{ "\"abc\"", "\"abc\"", "abc", 304 },
	{ "\"abc\"", "\"x\"", "abc", 0 },
	{ "*", "*", "abc", 304 },
};

START_TEST(test_preconditions_evaluate)
{
	const struct pre_row *r = &pre_rows[_i];
	int got = preconditions_evaluate(r->if_match, r->if_none_match, r->etag);

	ck_assert_msg(got == r->expected,
		      "preconditions_evaluate(If-Match '%s', If-None-Match '%s', \"%s\") = %d, "
		      "expected %d", OPT(r->if_match), OPT(r->if_none_match), r->etag, got,
		      r->expected);
}
END_TEST

/* ---- if_range_allows --------------------------------------------------- */

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
	bool got = if_range_allows(r->if_range, r->etag);

	ck_assert_msg(got == r->expected, "if_range_allows('%s', \"%s\") = %d, expected %d",
		      OPT(r->if_range), r->etag, got, r->expected);
}
END_TEST

/* ---- content_length_parse ---------------------------------------------- */

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
	int rc = content_length_parse(r->in, &out);

	ck_assert_msg(rc == r->rc, "content_length_parse(\"%s\") rc %d, expected %d",
		      OPT(r->in), rc, r->rc);
	if (r->rc == 0)
		ck_assert_msg(out == r->value, "content_length_parse(\"%s\") = %" PRId64
			      ", expected %" PRId64, OPT(r->in), out, r->value);
	else
		ck_assert_msg(out == -777, "content_length_parse(\"%s\") wrote %" PRId64
			      " on error", OPT(r->in), out);
}
END_TEST

/* ---- content_md5_parse -------------------------------------------------- */

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
	int rc = content_md5_parse(r->in, out), i;

	ck_assert_msg(rc == r->rc, "content_md5_parse(\"%s\") rc %d, expected %d", OPT(r->in),
		      rc, r->rc);
	if (rc == 0) {
		for (i = 0; i < 16; i++)
			snprintf(hex + 2 * i, 3, "%02x", out[i]);
		ck_assert_msg(strcmp(hex, r->hex) == 0, "content_md5_parse(\"%s\") = %s, expected %s",
			      r->in, hex, r->hex);
	}
}
END_TEST

static Suite *http_suite(void)
{
	Suite *s = suite_create("http");
	TCase *tc;

	tc = tcase_create("range_parse");
	tcase_add_loop_test(tc, test_range_parse, 0, NROWS(range_rows));
	suite_add_tcase(s, tc);

	tc = tcase_create("etag_list_matches");
	tcase_add_loop_test(tc, test_etag_list_matches, 0, NROWS(list_rows));
	suite_add_tcase(s, tc);

	tc = tcase_create("preconditions_evaluate");
	tcase_add_loop_test(tc, test_preconditions_evaluate, 0, NROWS(pre_rows));
	suite_add_tcase(s, tc);

	tc = tcase_create("if_range_allows");
	tcase_add_loop_test(tc, test_if_range_allows, 0, NROWS(ifr_rows));
	suite_add_tcase(s, tc);

	tc = tcase_create("content_length_parse");
	tcase_add_loop_test(tc, test_content_length_parse, 0, NROWS(cl_rows));
	suite_add_tcase(s, tc);

	tc = tcase_create("content_md5_parse");
	tcase_add_loop_test(tc, test_content_md5_parse, 0, NROWS(md5_rows));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(http_suite());
	int failures;

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
