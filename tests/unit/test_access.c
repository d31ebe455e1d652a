/* SPDX-License-Identifier: MIT */
/* test_access.c: unit tests for access.c -- rights, scopes, tokens, signed URLs, open access */
#include "check_main.h"
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"

#define OPT(s) ((s) != NULL ? (s) : "(null)")

#define SECRET "0123456789abcdef0123456789abcdef"
#define NOW 1767225000        /* 2025-12-31T23:50:00Z */
#define LATER 1767225600      /* ten minutes on */

/* ---- rights letters ------------------------------------------------------- */

static const struct rights_row {
	const char *in;
	int rc;
	unsigned rights;
	const char *canonical;
} rights_rows[] = {
	{ "r", 0, RIGHT_READ, "r" },
	{ "w", 0, RIGHT_WRITE, "w" },
	{ "d", 0, RIGHT_DELETE, "d" },
	{ "rw", 0, RIGHT_READ | RIGHT_WRITE, "rw" },
	{ "wr", 0, RIGHT_READ | RIGHT_WRITE, "rw" },
	{ "dwr", 0, RIGHT_READ | RIGHT_WRITE | RIGHT_DELETE, "rwd" },
	{ "m", 0, RIGHT_METRICS, "m" },
	{ "mdwr", 0, RIGHT_READ | RIGHT_WRITE | RIGHT_DELETE | RIGHT_METRICS, "rwdm" },
	{ "mm", -1, 0, NULL },
	{ "M", -1, 0, NULL },
	{ "", -1, 0, NULL },
	{ NULL, -1, 0, NULL },
	{ "rr", -1, 0, NULL },
	{ "x", -1, 0, NULL },
	{ "R", -1, 0, NULL },
	{ "rw ", -1, 0, NULL },
	{ "*", -1, 0, NULL },
};

START_TEST(test_rights)
{
	const struct rights_row *r = &rights_rows[_i];
	unsigned got = 999;
	char text[ACCESS_RIGHTS_MAX];
	int rc = access_rights_parse(r->in, &got);

	ck_assert_msg(rc == r->rc, "access_rights_parse(\"%s\") rc %d", OPT(r->in), rc);
	if (rc == 0) {
		ck_assert_msg(got == r->rights, "\"%s\": rights %u, expected %u", r->in, got,
			      r->rights);
		access_rights_string(got, text);
		ck_assert_str_eq(text, r->canonical);
	} else {
		ck_assert_msg(got == 999, "\"%s\": written on error", OPT(r->in));
	}
}
END_TEST

/* ---- dot segments ---------------------------------------------------------- */

static const struct dot_row {
	const char *key;
	bool dot;
} dot_rows[] = {
	{ "a/b", false }, { "a..b", false }, { "a/...", false }, { ".a/b", false },
	{ "a/.b", false }, { "..a", false }, { "a/b..", false }, { "", false },
	{ ".", true }, { "..", true }, { "a/..", true }, { "../a", true }, { "a/../b", true },
	{ "a/./b", true }, { "./a", true }, { "a/.", true }, { "a//../b", true },
	{ "/..", true }, { "a/%2E%2E/b", false },   /* decoded once: "%2E" is literal here */
};

START_TEST(test_dot_segments)
{
	const struct dot_row *r = &dot_rows[_i];

	ck_assert_msg(access_key_has_dot_segment(r->key, strlen(r->key)) == r->dot,
		      "access_key_has_dot_segment(\"%s\") should be %d", r->key, r->dot);
}
END_TEST

/* ---- signatures: known answers (computed with Python's hmac) ----------------- */

START_TEST(test_sign_known_answers)
{
	char sig[ACCESS_SIG_HEX + 1];

	ck_assert_int_eq(access_sign(SECRET, RIGHT_READ | RIGHT_WRITE, false, "a/b c.bin", 9,
				     1767225600, 0, sig), 0);
	ck_assert_str_eq(sig, "b8d0a80d50ca3b33676b39fc52a55e46e30f270a22c713953948a290d4ec3a30");
	ck_assert_int_eq(access_sign(SECRET, RIGHT_WRITE, true, "uploads/", 8, 1767225600,
				     5368709120ULL, sig), 0);
	ck_assert_str_eq(sig, "411e8db22351c68db36174bdf31726458db344dc36f6313b3b495a2d6952ade2");
	/* No secret, or a scope with a newline (fields would run together): refused. */
	ck_assert_int_eq(access_sign("", RIGHT_READ, false, "k", 1, 1, 0, sig), -1);
	ck_assert_int_eq(access_sign(SECRET, RIGHT_READ, false, "a\nb", 3, 1, 0, sig), -1);
}
END_TEST

/* ---- tokens files ------------------------------------------------------------ */

static const struct tokens_row {
	const char *text;
	int rc;
	size_t ntokens;
	const char *error;       /* a part of the message, for rc -1 */
} tokens_rows[] = {
	{ "", 0, 0, NULL },
	{ "# nothing\n\n   \n", 0, 0, NULL },
	{ "tok-0123456789abcdef rw a/\n", 0, 1, NULL },
	{ "tok-0123456789abcdef rw a/   # comment\r\ntok-1123456789abcdef r *", 0, 2, NULL },
	{ "\ttok-0123456789abcdef\tr\tmy%20dir/\n", 0, 1, NULL },
	{ "short rw a/\n", -1, 0, "16 to 256" },
	{ "tok-0123456789abcdef rw\n", -1, 0, "TOKEN RIGHTS PREFIX" },
	{ "tok-0123456789abcdef rw a/ extra\n", -1, 0, "TOKEN RIGHTS PREFIX" },
	{ "tok-0123456789abcdef rx a/\n", -1, 0, "rights" },
	{ "tok-0123456789abcdef rw a%zz\n", -1, 0, "prefix" },
	{ "tok-0123456789abcdef rw a%0Ab\n", -1, 0, "prefix" },
	{ "ok-token-0123456789 r *\nbad rw a/\n", -1, 0, "line 2" },
	{ "tok-0123456789abcdef r a/\ntok-0123456789abcdef rwd *\n", -1, 0, "repeats" },
};

START_TEST(test_parse_tokens)
{
	const struct tokens_row *r = &tokens_rows[_i];
	struct access a;
	char errbuf[256] = "";
	int rc;

	memset(&a, 0, sizeof(a));
	rc = access_parse_tokens(&a, r->text, errbuf, sizeof(errbuf));
	ck_assert_msg(rc == r->rc, "tokens \"%s\": rc %d (%s)", r->text, rc, errbuf);
	if (rc == 0)
		ck_assert_msg(a.ntokens == r->ntokens, "tokens \"%s\": %zu tokens", r->text,
			      a.ntokens);
	else
		ck_assert_msg(strstr(errbuf, r->error) != NULL, "tokens \"%s\": message \"%s\"",
			      r->text, errbuf);
	/* The token itself is never kept, nor said. */
	ck_assert_msg(strstr(errbuf, "0123456789abcdef") == NULL, "token in \"%s\"", errbuf);
	access_free(&a);
}
END_TEST

/* ---- access_check ---------------------------------------------------------------- */

enum cred { NONE, BEARER, SIGNED };

static const struct check_row {
	const char *name;
	const char *authorization;
	/*
	 * signed URL fields (NULL: absent); sig "GOOD" is computed for the fields
	 * below, "UPPER" is it in upper case, "FLIPn" is it with hex digit n changed
	 */
	const char *rights, *prefix, *expires, *max, *sig;
	const char *key;
	unsigned needed;
	int status;              /* 0: allowed */
	uint64_t max_size;       /* granted, when allowed */
	bool listing;            /* key_is_prefix: the route reads below the key (mpu-list) */
	bool any_key;            /* the route is about no key (metrics) */
} check_rows[] = {
	{ "no credentials", NULL, NULL, NULL, NULL, NULL, NULL, "a/k", RIGHT_READ, 401, 0 },
	{ "empty header", "", NULL, NULL, NULL, NULL, NULL, "a/k", RIGHT_READ, 401, 0 },
	{ "basic", "Basic YTpi", NULL, NULL, NULL, NULL, NULL, "a/k", RIGHT_READ, 401, 0 },
	{ "bearer without token", "Bearer ", NULL, NULL, NULL, NULL, NULL, "a/k", RIGHT_READ, 401, 0 },
	{ "bearer ok", "Bearer tok-a-0123456789abcdef", NULL, NULL, NULL, NULL, NULL, "a/k",
	  RIGHT_WRITE, 0, 0 },
	{ "scheme case", "bearer tok-a-0123456789abcdef", NULL, NULL, NULL, NULL, NULL, "a/k",
	  RIGHT_WRITE, 0, 0 },
	{ "any of the rights", "Bearer tok-a-0123456789abcdef", NULL, NULL, NULL, NULL, NULL, "a/k",
	  RIGHT_READ | RIGHT_WRITE, 0, 0 },
	{ "no delete right", "Bearer tok-a-0123456789abcdef", NULL, NULL, NULL, NULL, NULL, "a/k",
	  RIGHT_DELETE, 403, 0 },
	{ "outside prefix", "Bearer tok-a-0123456789abcdef", NULL, NULL, NULL, NULL, NULL, "b/k",
	  RIGHT_WRITE, 403, 0 },
	{ "prefix without slash", "Bearer tok-a-0123456789abcdef", NULL, NULL, NULL, NULL, NULL,
	  "a", RIGHT_WRITE, 403, 0 },
	{ "dot dot", "Bearer tok-a-0123456789abcdef", NULL, NULL, NULL, NULL, NULL, "a/../b",
	  RIGHT_WRITE, 403, 0 },
	{ "dot", "Bearer tok-a-0123456789abcdef", NULL, NULL, NULL, NULL, NULL, "a/./k",
	  RIGHT_WRITE, 403, 0 },
	{ "empty key", "Bearer tok-a-0123456789abcdef", NULL, NULL, NULL, NULL, NULL, "",
	  RIGHT_READ, 403, 0 },
	{ "all keys", "Bearer tok-all-0123456789abcd", NULL, NULL, NULL, NULL, NULL, "../x",
	  RIGHT_DELETE, 0, 0 },
	{ "unknown", "Bearer tok-b-0123456789abcdef", NULL, NULL, NULL, NULL, NULL, "a/k",
	  RIGHT_READ, 403, 0 },
	{ "token prefix", "Bearer tok-a-0123456789abcde", NULL, NULL, NULL, NULL, NULL, "a/k",
	  RIGHT_READ, 403, 0 },
	{ "two tokens", "Bearer tok-a-0123456789abcdef tok-all-0123456789abcd", NULL, NULL, NULL,
	  NULL, NULL, "a/k", RIGHT_READ, 403, 0 },
	{ "signed ok", NULL, "w", NULL, "1767225600", NULL, "GOOD", "a/k", RIGHT_WRITE, 0, 0 },
	{ "signed max", NULL, "w", NULL, "1767225600", "1048576", "GOOD", "a/k", RIGHT_WRITE, 0,
	  1048576 },
	{ "signed wins over bearer", "Bearer tok-all-0123456789abcd", "r", NULL, "1767225600",
	  NULL, "GOOD", "a/k", RIGHT_WRITE, 403, 0 },
	{ "signed rights", NULL, "r", NULL, "1767225600", NULL, "GOOD", "a/k", RIGHT_WRITE, 403, 0 },
	{ "signed expired", NULL, "w", NULL, "1767224999", NULL, "GOOD", "a/k", RIGHT_WRITE, 403, 0 },
	{ "signed at expiry", NULL, "w", NULL, "1767225000", NULL, "GOOD", "a/k", RIGHT_WRITE, 0, 0 },
	{ "signed forged", NULL, "w", NULL, "1767225600", NULL,
	  "0000000000000000000000000000000000000000000000000000000000000000", "a/k", RIGHT_WRITE,
	  403, 0 },
	/* Every digit counts: a change in the second half or the last digit is a forgery too. */
	{ "signed first digit changed", NULL, "w", NULL, "1767225600", NULL, "FLIP0", "a/k",
	  RIGHT_WRITE, 403, 0 },
	{ "signed digit 40 changed", NULL, "w", NULL, "1767225600", NULL, "FLIP40", "a/k",
	  RIGHT_WRITE, 403, 0 },
	{ "signed last digit changed", NULL, "w", NULL, "1767225600", NULL, "FLIP63", "a/k",
	  RIGHT_WRITE, 403, 0 },
	{ "signed short sig", NULL, "w", NULL, "1767225600", NULL, "abcd", "a/k", RIGHT_WRITE,
	  403, 0 },
	{ "signed no sig", NULL, "w", NULL, "1767225600", NULL, NULL, "a/k", RIGHT_WRITE, 403, 0 },
	{ "signed no expiry", NULL, "w", NULL, NULL, NULL, "GOOD", "a/k", RIGHT_WRITE, 403, 0 },
	{ "signed junk expiry", NULL, "w", NULL, "+1767225600", NULL, "GOOD", "a/k", RIGHT_WRITE,
	  403, 0 },
	{ "signed zero max", NULL, "w", NULL, "1767225600", "0", "GOOD", "a/k", RIGHT_WRITE, 403, 0 },
	{ "signed prefix", NULL, "w", "a/", "1767225600", NULL, "GOOD", "a/k/x", RIGHT_WRITE, 0, 0 },
	{ "signed prefix outside", NULL, "w", "a/", "1767225600", NULL, "GOOD", "b/k", RIGHT_WRITE,
	  403, 0 },
	{ "signed prefix dots", NULL, "w", "a/", "1767225600", NULL, "GOOD", "a/../b", RIGHT_WRITE,
	  403, 0 },
	{ "signed empty prefix", NULL, "r", "", "1767225600", NULL, "GOOD", "", RIGHT_READ, 0, 0 },
	/* One spelling per signed URL: what is signed is what must be sent. */
	{ "signed rights order", NULL, "wr", NULL, "1767225600", NULL, "GOOD", "a/k", RIGHT_WRITE,
	  403, 0 },
	{ "signed leading zero", NULL, "w", NULL, "01767225600", NULL, "GOOD", "a/k", RIGHT_WRITE,
	  403, 0 },
	{ "signed upper-case hex", NULL, "w", NULL, "1767225600", NULL, "UPPER", "a/k", RIGHT_WRITE,
	  403, 0 },
	/* mpu-list reads below its key: an exact-key URL must not list "a/k.private". */
	{ "signed key, listing", NULL, "r", NULL, "1767225600", NULL, "GOOD", "a/k", RIGHT_READ,
	  403, 0, true },
	{ "signed prefix, listing", NULL, "r", "a/", "1767225600", NULL, "GOOD", "a/k", RIGHT_READ,
	  0, 0, true },
	{ "token, listing inside", "Bearer tok-a-0123456789abcdef", NULL, NULL, NULL, NULL, NULL,
	  "a/", RIGHT_READ, 0, 0, true },
	{ "token, listing above", "Bearer tok-a-0123456789abcdef", NULL, NULL, NULL, NULL, NULL,
	  "a", RIGHT_READ, 403, 0, true },
	/* Metrics are the whole pool's: the m right, whatever the token's prefix. */
	{ "metrics, m right", "Bearer tok-m-0123456789abcdef", NULL, NULL, NULL, NULL, NULL, "",
	  RIGHT_METRICS, 0, 0, false, true },
	{ "metrics, no m right", "Bearer tok-all-0123456789abcd", NULL, NULL, NULL, NULL, NULL, "",
	  RIGHT_METRICS, 403, 0, false, true },
	{ "m right, a key outside its prefix", "Bearer tok-m-0123456789abcdef", NULL, NULL, NULL,
	  NULL, NULL, "b/k", RIGHT_METRICS, 403, 0 },
	{ "m right is not read", "Bearer tok-m-0123456789abcdef", NULL, NULL, NULL, NULL, NULL,
	  "c/k", RIGHT_READ, 403, 0 },
	{ "signed m, metrics", NULL, "m", "", "1767225600", NULL, "GOOD", "", RIGHT_METRICS, 403, 0,
	  false, true },
	{ "signed rm, read", NULL, "rm", NULL, "1767225600", NULL, "GOOD", "a/k", RIGHT_READ, 403, 0 },
};

START_TEST(test_access_check)
{
	const struct check_row *r = &check_rows[_i];
	struct access a;
	struct query q;
	struct access_grant grant;
	struct r2err err = { 0 };
	char errbuf[256], sig[ACCESS_SIG_HEX + 1];
	struct access_request ar;
	int rc;

	memset(&a, 0, sizeof(a));
	a.secret = SECRET;
	ck_assert_int_eq(access_parse_tokens(&a, "tok-a-0123456789abcdef rw a/\n"
					     "tok-all-0123456789abcd rwd *\n"
					     "tok-m-0123456789abcdef m c/\n", errbuf,
					     sizeof(errbuf)), 0);
	memset(&q, 0, sizeof(q));
	q.sig_rights = (char *)r->rights;
	q.sig_prefix = (char *)r->prefix;
	q.sig_expires = (char *)r->expires;
	q.sig_max = (char *)r->max;
	q.signature = (char *)r->sig;
	if (r->sig != NULL && (strcmp(r->sig, "GOOD") == 0 || strcmp(r->sig, "UPPER") == 0 ||
			       strncmp(r->sig, "FLIP", 4) == 0)) {
		unsigned rights = 0;
		unsigned long long max = r->max ? strtoull(r->max, NULL, 10) : 0;
		const char *scope = r->prefix ? r->prefix : r->key;

		ck_assert_int_eq(access_rights_parse(r->rights, &rights), 0);
		ck_assert_int_eq(access_sign(SECRET, rights, r->prefix != NULL, scope, strlen(scope),
					     r->expires ? strtoull(r->expires, NULL, 10) : 0, max,
					     sig), 0);
		for (size_t k = 0; strcmp(r->sig, "UPPER") == 0 && sig[k] != '\0'; k++)
			sig[k] = (char)toupper((unsigned char)sig[k]);
		if (strncmp(r->sig, "FLIP", 4) == 0) {
			unsigned long at = strtoul(r->sig + 4, NULL, 10);

			ck_assert_uint_lt(at, ACCESS_SIG_HEX);
			sig[at] = sig[at] == '0' ? '1' : '0';   /* still lower-case hex */
		}
		q.signature = sig;
	}
	ar = (struct access_request){ .authorization = r->authorization, .query = &q,
				      .key = r->key, .key_len = strlen(r->key),
				      .key_is_prefix = r->listing, .any_key = r->any_key,
				      .host = NULL, .now = NOW };
	rc = access_check(&a, &ar, r->needed, &grant, &err);
	if (r->status == 0) {
		ck_assert_msg(rc == 0, "%s: refused %d %s", r->name, err.status, err.message);
		ck_assert_msg(grant.max_size == r->max_size, "%s: max %llu", r->name,
			      (unsigned long long)grant.max_size);
	} else {
		ck_assert_msg(rc == -1 && err.status == r->status, "%s: rc %d status %d, expected %d",
			      r->name, rc, err.status, r->status);
		ck_assert_str_eq(err.code, r->status == 401 ? "Unauthorized" : "AccessDenied");
		ck_assert_msg(strstr(err.message, "0123456789abcdef") == NULL &&
			      strstr(err.message, SECRET) == NULL, "%s: a secret in \"%s\"",
			      r->name, err.message);
	}
	/* Open access lets everything through, credentials or not -- from loopback. */
	a.open = true;
	ar.host = "127.0.0.1:8080";
	ar.remote_addr = "127.0.0.1";
	ck_assert_int_eq(access_check(&a, &ar, r->needed, &grant, &err), 0);
	ar.host = "rebound.example:8080";
	ck_assert_int_eq(access_check(&a, &ar, r->needed, &grant, &err), -1);
	ck_assert_int_eq(err.status, 403);
	access_free(&a);
}
END_TEST

/* ---- loopback Host names (open access) ------------------------------------------ */

static const struct host_row {
	const char *host;
	bool loopback;
} host_rows[] = {
	{ "127.0.0.1", true }, { "127.0.0.1:8080", true }, { "127.1.2.3:1", true },
	{ "localhost", true }, { "LOCALHOST:80", true }, { "localhost.:80", true },
	{ "[::1]", true }, { "[::1]:8080", true },
	{ "127.0.0.1.evil.example", false }, { "localhost.evil.example", false },
	{ "127.example", false }, { "evil.example", false }, { "10.0.0.1", false },
	{ "[::2]:80", false }, { "", false }, { "127.", false }, { "0x7f.0.0.1", false },
	{ "localhostx", false }, { "[::1]x", false },
};

START_TEST(test_host_is_loopback)
{
	const struct host_row *r = &host_rows[_i];

	ck_assert_msg(access_host_is_loopback(r->host) == r->loopback, "access_host_is_loopback(\"%s\") "
		      "should be %d", r->host, r->loopback);
}
END_TEST

/* ---- access_load: which configurations start ------------------------------------- */

static const struct load_row {
	const char *name;
	bool open;
	const char *secret, *cors;
	const char *error;       /* a part of the message; NULL: it starts */
} load_rows[] = {
	{ "open", true, "", "", NULL },
	{ "open, listed origins", true, "", "https://app.example http://localhost:8080", NULL },
	{ "open, any origin", true, "", "*", "R2MPU_CORS_ORIGINS=*" },
	{ "open, any origin among others", true, "", "https://app.example, *",
	  "R2MPU_OPEN_ACCESS=yes" },
	{ "open and a secret, any origin", true, SECRET, "*", "R2MPU_CORS_ORIGINS=*" },
	{ "secret, any origin", false, SECRET, "*", NULL },
	{ "nothing", false, "", "", "no access rules" },
	{ "short secret", false, "0123456789", "", "R2MPU_SIGNING_SECRET" },
};

START_TEST(test_access_load)
{
	const struct load_row *r = &load_rows[_i];
	struct config cfg;
	struct access a;
	char errbuf[512] = "";
	int rc;

	memset(&cfg, 0, sizeof(cfg));
	cfg.open_access = r->open;
	snprintf(cfg.signing_secret, sizeof(cfg.signing_secret), "%s", r->secret);
	snprintf(cfg.cors_origins, sizeof(cfg.cors_origins), "%s", r->cors);
	rc = access_load(&a, &cfg, errbuf, sizeof(errbuf));
	if (r->error == NULL) {
		ck_assert_msg(rc == 0, "%s: refused: %s", r->name, errbuf);
	} else {
		ck_assert_msg(rc == -1, "%s: started", r->name);
		ck_assert_msg(strstr(errbuf, r->error) != NULL, "%s: message \"%s\"", r->name,
			      errbuf);
	}
	access_free(&a);
}
END_TEST

/* ---- loopback peer addresses (open access) ---------------------------------------- */

static const struct addr_row {
	const char *addr;
	bool loopback;
} addr_rows[] = {
	{ "127.0.0.1", true }, { "127.255.255.254", true }, { "127.1.2.3", true },
	{ "::1", true }, { "0:0:0:0:0:0:0:1", true }, { "::ffff:127.0.0.1", true },
	{ "::FFFF:127.9.8.7", true }, { "::ffff:7f00:1", true },
	{ NULL, false }, { "", false }, { "10.0.0.1", false }, { "128.0.0.1", false },
	{ "126.255.255.255", false }, { "0.0.0.0", false }, { "192.168.1.127", false },
	{ "::", false }, { "::2", false }, { "::ffff:10.0.0.1", false },
	{ "::ffff:7f00:1x", false }, { "::127.0.0.1", false },     /* IPv4-compatible, not mapped */
	{ "fe80::1", false }, { "2001:db8::1", false }, { "[::1]", false },
	{ "::1%lo", false }, { "127.0.0.1:8080", false }, { " 127.0.0.1", false },
	{ "127.0.0.1 ", false }, { "127.1", false }, { "0x7f.0.0.1", false },
	{ "2130706433", false }, { "localhost", false }, { "127.0.0.1.evil.example", false },
};

START_TEST(test_addr_is_loopback)
{
	const struct addr_row *r = &addr_rows[_i];

	ck_assert_msg(access_addr_is_loopback(r->addr) == r->loopback, "access_addr_is_loopback(\"%s\") "
		      "should be %d", OPT(r->addr), r->loopback);
}
END_TEST

/* ---- open access: who is on this machine ------------------------------------------ */

static const struct open_row {
	const char *name;
	const char *host, *remote_addr;   /* NULL: absent */
	const char *why;                  /* a part of the 403's message; NULL: allowed */
} open_rows[] = {
	{ "loopback", "127.0.0.1:8080", "127.0.0.1", NULL },
	{ "localhost, IPv6 peer", "localhost", "::1", NULL },
	{ "[::1], mapped peer", "[::1]:80", "::ffff:127.0.0.1", NULL },
	{ "no Host (HTTP/1.0)", NULL, "127.0.0.1", "Host header" },
	{ "rebound Host", "rebound.example:8080", "127.0.0.1", "loopback host names" },
	{ "peer on the network", "127.0.0.1:8080", "192.0.2.7", "peer address" },
	{ "mapped peer on the network", "localhost", "::ffff:192.0.2.7", "peer address" },
	{ "no peer address", "127.0.0.1", NULL, "peer address" },
	{ "a name as peer address", "127.0.0.1", "localhost", "peer address" },
	{ "nothing at all", NULL, NULL, "Host header" },
};

START_TEST(test_open_access)
{
	const struct open_row *r = &open_rows[_i];
	struct access a = { .open = true, .secret = "" };
	struct query q;
	struct access_grant grant;
	struct r2err err = { 0 };
	struct access_request ar;
	int rc;

	memset(&q, 0, sizeof(q));
	ar = (struct access_request){ .query = &q, .key = "k", .key_len = 1, .host = r->host,
				      .remote_addr = r->remote_addr, .now = NOW };
	rc = access_check(&a, &ar, RIGHT_DELETE, &grant, &err);
	if (r->why == NULL) {
		ck_assert_msg(rc == 0, "%s: refused %d %s", r->name, err.status, err.message);
		ck_assert_uint_eq(grant.rights, RIGHT_READ | RIGHT_WRITE | RIGHT_DELETE | RIGHT_METRICS);
	} else {
		ck_assert_msg(rc == -1 && err.status == 403, "%s: rc %d status %d", r->name, rc,
			      err.status);
		ck_assert_str_eq(err.code, "AccessDenied");
		ck_assert_msg(strstr(err.message, r->why) != NULL, "%s: message \"%s\"", r->name,
			      err.message);
	}
}
END_TEST

static Suite *access_suite(void)
{
	Suite *s = suite_create("access");
	TCase *tc;

	tc = tcase_create("rights");
	tcase_add_loop_test(tc, test_rights, 0, NROWS(rights_rows));
	suite_add_tcase(s, tc);
	tc = tcase_create("dot_segments");
	tcase_add_loop_test(tc, test_dot_segments, 0, NROWS(dot_rows));
	suite_add_tcase(s, tc);
	tc = tcase_create("sign");
	tcase_add_test(tc, test_sign_known_answers);
	suite_add_tcase(s, tc);
	tc = tcase_create("tokens");
	tcase_add_loop_test(tc, test_parse_tokens, 0, NROWS(tokens_rows));
	suite_add_tcase(s, tc);
	tc = tcase_create("access_check");
	tcase_add_loop_test(tc, test_access_check, 0, NROWS(check_rows));
	suite_add_tcase(s, tc);
	tc = tcase_create("access_host_is_loopback");
	tcase_add_loop_test(tc, test_host_is_loopback, 0, NROWS(host_rows));
	suite_add_tcase(s, tc);
	tc = tcase_create("access_load");
	tcase_add_loop_test(tc, test_access_load, 0, NROWS(load_rows));
	suite_add_tcase(s, tc);
	tc = tcase_create("access_addr_is_loopback");
	tcase_add_loop_test(tc, test_addr_is_loopback, 0, NROWS(addr_rows));
	suite_add_tcase(s, tc);
	tc = tcase_create("open_access");
	tcase_add_loop_test(tc, test_open_access, 0, NROWS(open_rows));
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(access_suite)
