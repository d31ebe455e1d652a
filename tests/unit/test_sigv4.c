/* SPDX-License-Identifier: MIT */
/* test_sigv4.c: unit tests for sigv4.c -- canonical query, AWS's published S3 signatures */
#include "check_main.h"
#include <stdio.h>
#include <string.h>

#include "sigv4.h"

/* ---- sigv4_canonical_query ------------------------------------------------ */

static const struct query_row {
	struct sigv4_param params[4];
	size_t n;
	const char *out;
} query_rows[] = {
	{ { { "uploads", "" } }, 1, "uploads=" },
	{ { { "uploadId", "X" }, { "partNumber", "2" } }, 2, "partNumber=2&uploadId=X" },
	{ { { "uploadId", "a b/+=" } }, 1, "uploadId=a%20b%2F%2B%3D" },
	{ { { "prefix", "J" }, { "max-keys", "2" } }, 2, "max-keys=2&prefix=J" },
	{ { { "b", "2" }, { "a", "2" }, { "a", "1" } }, 3, "a=1&a=2&b=2" },
	{ { { "x", "" } }, 0, "" },
};

START_TEST(test_canonical_query)
{
	const struct query_row *r = &query_rows[_i];
	char out[256];

	ck_assert_int_eq(sigv4_canonical_query(r->params, r->n, out, sizeof(out)), 0);
	ck_assert_msg(strcmp(out, r->out) == 0, "row %d: \"%s\", expected \"%s\"", _i, out, r->out);
}
END_TEST

/* ---- sigv4_authorization: the examples in AWS's S3 SigV4 documentation ---- */

static const struct sigv4_credentials example_creds = {
	"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1", "s3",
};

static const struct sigv4_header get_object_headers[] = {
	{ "host", "examplebucket.s3.amazonaws.com" },
	{ "x-amz-date", "20130524T000000Z" },
	{ "range", "bytes=0-9" },
	{ "x-amz-content-sha256", SIGV4_EMPTY_SHA256 },
};
static const struct sigv4_header put_object_headers[] = {
	{ "date", "Fri, 24 May 2013 00:00:00 GMT" },
	{ "host", "examplebucket.s3.amazonaws.com" },
	{ "x-amz-content-sha256", "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072" },
	{ "x-amz-date", "20130524T000000Z" },
	{ "x-amz-storage-class", "REDUCED_REDUNDANCY" },
};
static const struct sigv4_header bucket_headers[] = {
	{ "host", "examplebucket.s3.amazonaws.com" },
	{ "x-amz-content-sha256", SIGV4_EMPTY_SHA256 },
	{ "x-amz-date", "20130524T000000Z" },
};

static const struct auth_row {
	const char *name;
	struct sigv4_request req;
	const char *signed_headers;
	const char *signature;
} auth_rows[] = {
	{ "GET Object with Range",
	  { "GET", "/test.txt", "", get_object_headers, 4, SIGV4_EMPTY_SHA256 },
	  "host;range;x-amz-content-sha256;x-amz-date",
	  "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41" },
	{ "PUT Object",
	  { "PUT", "/test%24file.text", "", put_object_headers, 5,
	    "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072" },
	  "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
	  "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd" },
	{ "GET Bucket Lifecycle",
	  { "GET", "/", "lifecycle=", bucket_headers, 3, SIGV4_EMPTY_SHA256 },
	  "host;x-amz-content-sha256;x-amz-date",
	  "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543" },
	{ "GET Bucket (List Objects)",
	  { "GET", "/", "max-keys=2&prefix=J", bucket_headers, 3, SIGV4_EMPTY_SHA256 },
	  "host;x-amz-content-sha256;x-amz-date",
	  "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7" },
};

START_TEST(test_authorization)
{
	const struct auth_row *r = &auth_rows[_i];
	char out[SIGV4_AUTH_MAX], want[SIGV4_AUTH_MAX];

	snprintf(want, sizeof(want),
		 "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
		 "SignedHeaders=%s, Signature=%s", r->signed_headers, r->signature);
	ck_assert_int_eq(sigv4_authorization(&r->req, &example_creds, "20130524T000000Z",
					     out, sizeof(out)), 0);
	ck_assert_msg(strcmp(out, want) == 0, "%s:\n got  %s\n want %s", r->name, out, want);
}
END_TEST

START_TEST(test_authorization_depends_on_secret)
{
	struct sigv4_credentials wrong = example_creds;
	char a[SIGV4_AUTH_MAX], b[SIGV4_AUTH_MAX], small[40];

	wrong.secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEZ";
	ck_assert_int_eq(sigv4_authorization(&auth_rows[0].req, &example_creds, "20130524T000000Z",
					     a, sizeof(a)), 0);
	ck_assert_int_eq(sigv4_authorization(&auth_rows[0].req, &wrong, "20130524T000000Z",
					     b, sizeof(b)), 0);
	ck_assert_str_ne(a, b);
	ck_assert_int_eq(sigv4_authorization(&auth_rows[0].req, &example_creds, "20130524",
					     a, sizeof(a)), -1);
	ck_assert_int_eq(sigv4_authorization(&auth_rows[0].req, &example_creds, "20130524T000000Z",
					     small, sizeof(small)), -1);
}
END_TEST

START_TEST(test_sha256_hex)
{
	char out[SHA256_HEX_LEN + 1];

	sha256_hex("", 0, out);
	ck_assert_str_eq(out, SIGV4_EMPTY_SHA256);
	sha256_hex("Welcome to Amazon S3.", 21, out);
	ck_assert_str_eq(out, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
}
END_TEST

static Suite *sigv4_suite(void)
{
	Suite *s = suite_create("sigv4");
	TCase *tc = tcase_create("sigv4");

	tcase_add_loop_test(tc, test_canonical_query, 0, NROWS(query_rows));
	tcase_add_loop_test(tc, test_authorization, 0, NROWS(auth_rows));
	tcase_add_test(tc, test_authorization_depends_on_secret);
	tcase_add_test(tc, test_sha256_hex);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(sigv4_suite)
