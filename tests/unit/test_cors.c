/* SPDX-License-Identifier: MIT */
/* test_cors.c: unit tests for cors.c -- allowed origins, "*", cross-site writes, request headers */
#include "check_main.h"
#include <stdbool.h>
#include <stddef.h>

#include "cors.h"

#define OPT(s) ((s) != NULL ? (s) : "(null)")

/* ---- allowed origins ------------------------------------------------------------- */

static const struct origin_row {
	const char *list, *origin;
	bool allowed;
} origin_rows[] = {
	{ "https://a.example", "https://a.example", true },
	{ "https://b.example, https://a.example", "https://a.example", true },
	{ "https://b.example https://a.example", "https://a.example", true },
	{ "  https://a.example,", "https://a.example", true },
	{ "*", "https://anything.example", true },
	{ "https://a.example", "https://a.example.evil", false },
	{ "https://a.example", "https://a.exampl", false },
	{ "https://a.example", "http://a.example", false },
	{ "https://a.example", "https://A.example", false },
	{ "https://a.example", "", false },
	{ "https://a.example", NULL, false },
	{ "*", "null", false },
	{ "", "https://a.example", false },
	{ "*", "a.example", false },                 /* no scheme */
	{ "*", "https://a.example/x y", false },
	{ "*", "https://a\x01.example", false },
	{ "*", "https://\xc3\xa4.example", false },
	{ "*", "https://a.example,https://b.example", false },
	{ "*", "https://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  ".example", false },                           /* 265 bytes */
};

START_TEST(test_cors_origin)
{
	const struct origin_row *r = &origin_rows[_i];

	ck_assert_msg(cors_origin_allowed(r->list, r->origin) == r->allowed,
		      "origin %s in \"%s\" should be %d", OPT(r->origin), r->list, r->allowed);
}
END_TEST

static const struct star_row {
	const char *list;
	bool any;
} star_rows[] = {
	{ "*", true }, { " * ", true }, { "https://a.example, *", true }, { "*,https://a.example", true },
	{ "", false }, { "https://a.example", false }, { "https://*.example", false }, { "**", false },
	{ "null", false },
};

START_TEST(test_cors_allows_any)
{
	const struct star_row *r = &star_rows[_i];

	ck_assert_msg(cors_allows_any(r->list) == r->any, "cors_allows_any(\"%s\") should be %d",
		      r->list, r->any);
}
END_TEST

/* A write (POST, PUT, DELETE) from a page: its Origin must be allowed, or the gateway's own. */
static const struct write_row {
	const char *list, *origin, *scheme, *host;
	bool allowed;
} write_rows[] = {
	/* Not a browser: nothing to decide. */
	{ "", NULL, "http", "127.0.0.1:8080", true },
	{ "", NULL, "http", NULL, true },
	/* Listed origins, as cors_origin_allowed() decides. */
	{ "https://app.example", "https://app.example", "https", "gw.example", true },
	{ "https://app.example", "https://app.example", "http", NULL, true },
	{ "*", "https://anything.example", "https", "gw.example", true },
	{ "https://app.example", "https://app.example.evil", "https", "gw.example", false },
	{ "https://app.example", "https://app.example:8443", "https", "gw.example", false },
	{ "https://app.example", "http://app.example", "https", "gw.example", false },
	{ "https://app.example", "https://evil.example", "https", "gw.example", false },
	/* The request's own origin: scheme and Host. */
	{ "", "http://127.0.0.1:8080", "http", "127.0.0.1:8080", true },
	{ "", "http://localhost", "http", "localhost", true },
	{ "", "http://[::1]:8080", "http", "[::1]:8080", true },
	{ "", "https://gw.example", "https", "gw.example", true },
	{ "", "https://gw.example", "https", "gw.example:443", true },     /* default port */
	{ "", "https://gw.example:443", "https", "gw.example", true },
	{ "", "http://gw.example", "http", "gw.example:80", true },
	{ "", "http://gw.example", "http", "GW.Example", true },           /* names ignore case */
	{ "", "http://127.0.0.1:8080", "https", "127.0.0.1:8080", false }, /* another scheme */
	{ "", "https://gw.example", "http", "gw.example", false },
	{ "", "https://gw.example", "https", "gw.example:80", false },     /* not https's default */
	{ "", "http://gw.example:443", "http", "gw.example", false },
	{ "", "http://127.0.0.1:8081", "http", "127.0.0.1:8080", false },  /* another port */
	{ "", "http://127.0.0.1", "http", "127.0.0.1:8080", false },
	{ "", "http://127.0.0.1:8080", "http", "127.0.0.1", false },
	{ "", "http://127.0.0.1.evil.example", "http", "127.0.0.1", false },
	{ "", "http://evil.example", "http", "127.0.0.1", false },
	{ "", "http://gw.example/", "http", "gw.example", false },         /* not an origin */
	{ "", "http://gw.example", "http", NULL, false },                  /* no Host: no own origin */
	{ "", "http://", "http", "", false },
	{ "", "http:/gw.example", "http", "gw.example", false },
	{ "", "gw.example", "http", "gw.example", false },
	/* "null" (a sandboxed frame, a file:, a redirect) is cross-site, whatever the list says. */
	{ "", "null", "http", "127.0.0.1", false },
	{ "*", "null", "http", "127.0.0.1", false },
	{ "null", "null", "http", "127.0.0.1", false },
	{ "", "", "http", "127.0.0.1", false },
};

START_TEST(test_cors_write)
{
	const struct write_row *r = &write_rows[_i];

	ck_assert_msg(cors_write_allowed(r->list, r->origin, r->scheme, r->host) == r->allowed,
		      "write from %s (list \"%s\", %s://%s) should be %s", OPT(r->origin), r->list,
		      r->scheme, OPT(r->host), r->allowed ? "allowed" : "refused");
}
END_TEST

static const struct headers_row {
	const char *in;
	bool allowed;
} headers_rows[] = {
	{ "", true }, { "authorization", true }, { "Authorization, Content-MD5", true },
	{ "content-type,content-md5 ,range", true }, { "if-match, if-none-match, if-range", true },
	{ "x-evil", false }, { "authorization, x-evil", false }, { "cookie", false },
	{ "authorizationx", false }, { "content-md", false },
};

START_TEST(test_cors_headers)
{
	const struct headers_row *r = &headers_rows[_i];

	ck_assert_msg(cors_headers_allowed(r->in) == r->allowed, "headers \"%s\" should be %d",
		      r->in, r->allowed);
}
END_TEST

static Suite *cors_suite(void)
{
	Suite *s = suite_create("cors");
	TCase *tc;

	tc = tcase_create("origin_allowed");
	tcase_add_loop_test(tc, test_cors_origin, 0, NROWS(origin_rows));
	suite_add_tcase(s, tc);
	tc = tcase_create("allows_any");
	tcase_add_loop_test(tc, test_cors_allows_any, 0, NROWS(star_rows));
	suite_add_tcase(s, tc);
	tc = tcase_create("write_allowed");
	tcase_add_loop_test(tc, test_cors_write, 0, NROWS(write_rows));
	suite_add_tcase(s, tc);
	tc = tcase_create("headers_allowed");
	tcase_add_loop_test(tc, test_cors_headers, 0, NROWS(headers_rows));
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(cors_suite)
