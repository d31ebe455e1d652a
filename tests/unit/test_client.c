/* SPDX-License-Identifier: MIT */
/* test_client.c: unit tests for r2mpu-client's pure parts -- plans, sizes, outcomes, URLs, check's causes, the progress line */
#include "check_main.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "doctor.h"
#include "client.h"
#include "outcome.h"
#include "plan.h"
#include "target.h"

#define GiB (1024 * MiB)
#define TiB (1024 * GiB)

/* ---- plan_make --------------------------------------------------------- */

static const struct plan_row {
	uint64_t size, part_size;
	unsigned jobs;
	int rc;
	uint64_t want_part;
	uint32_t want_parts;
	uint64_t want_last;
} plan_rows[] = {
	{ 0, 0, 8, 0, 5 * MiB, 0, 0 },                           /* empty: no parts */
	{ 1, 0, 8, 0, 5 * MiB, 1, 1 },
	{ 5 * MiB, 0, 8, 0, 5 * MiB, 1, 5 * MiB },
	{ 40 * MiB, 0, 8, 0, 5 * MiB, 8, 5 * MiB },              /* every job a part */
	{ 100 * MiB, 0, 8, 0, 13 * MiB, 8, 9 * MiB },            /* 8 jobs: 13 MiB parts */
	{ 256 * MiB, 0, 8, 0, 16 * MiB, 16, 16 * MiB },          /* preferred, exact multiple */
	{ 256 * MiB + 1, 0, 8, 0, 16 * MiB, 17, 1 },
	{ 256 * MiB, 0, 1, 0, 16 * MiB, 16, 16 * MiB },          /* one job: no reason to shrink */
	{ 200 * GiB, 0, 8, 0, 21 * MiB, 9753, 200 * GiB - 9752ULL * 21 * MiB },
	{ 5 * TiB, 0, 8, 0, 525 * MiB, 9987, 5 * TiB - 9986ULL * 525 * MiB },
	{ 5 * TiB + 1, 0, 8, -1, 0, 0, 0 },                      /* over R2's limit */
	{ 100 * MiB, 10 * MiB, 8, 0, 10 * MiB, 10, 10 * MiB },   /* given: kept */
	{ 100 * MiB, 5 * MiB - 1, 8, -1, 0, 0, 0 },              /* given too small */
	{ 100 * MiB, 5 * GiB + 1, 8, -1, 0, 0, 0 },              /* given too large */
	{ 1 * TiB, 5 * MiB, 8, -1, 0, 0, 0 },                    /* over 10,000 parts */
	{ 10000ULL * 5 * MiB, 5 * MiB, 8, 0, 5 * MiB, 10000, 5 * MiB },  /* exactly 10,000 */
};

START_TEST(test_plan)
{
	const struct plan_row *r = &plan_rows[_i];
	struct plan p;
	char err[200] = "";
	int rc = plan_make(r->size, r->part_size, r->jobs, &p, err, sizeof(err));

	ck_assert_msg(rc == r->rc, "row %d: plan_make(%llu, %llu) = %d (%s)", _i,
		      (unsigned long long)r->size, (unsigned long long)r->part_size, rc, err);
	if (rc < 0) {
		ck_assert_msg(err[0] != '\0', "row %d: no message", _i);
		return;
	}
	ck_assert_msg(p.part_size == r->want_part && p.parts == r->want_parts &&
		      p.last_size == r->want_last,
		      "row %d: %llu bytes: parts %u of %llu, last %llu; expected %u of %llu, last %llu",
		      _i, (unsigned long long)r->size, p.parts, (unsigned long long)p.part_size,
		      (unsigned long long)p.last_size, r->want_parts,
		      (unsigned long long)r->want_part, (unsigned long long)r->want_last);
	/* The rules themselves, whatever the table says. */
	ck_assert(p.parts <= PLAN_MAX_PARTS);
	ck_assert(p.part_size >= PLAN_MIN_PART && p.part_size <= PLAN_MAX_PART);
	if (p.parts) {
		ck_assert(plan_part_offset(&p, p.parts) + plan_part_length(&p, p.parts) == r->size);
		ck_assert(plan_part_length(&p, 1) == (p.parts == 1 ? p.last_size : p.part_size));
		ck_assert(p.last_size > 0 && p.last_size <= p.part_size);
	}
}
END_TEST

/* ---- parse_size, format_size ------------------------------------------- */

static const struct size_row {
	const char *in;
	int rc;
	uint64_t want;
} size_rows[] = {
	{ "0", 0, 0 }, { "1048576", 0, MiB }, { "16M", 0, 16 * MiB }, { "16MiB", 0, 16 * MiB },
	{ "5G", 0, 5 * GiB }, { "1T", 0, TiB }, { "64K", 0, 64 * 1024 },
	{ "", -1, 0 }, { "M", -1, 0 }, { "-1", -1, 0 }, { "+5M", -1, 0 }, { "1.5G", -1, 0 },
	{ "16 M", -1, 0 }, { "16m", -1, 0 }, { "16MB", -1, 0 }, { "99999999999999999999", -1, 0 },
	{ "17179869184T", -1, 0 },                               /* 2^34 TiB: overflows */
};

START_TEST(test_parse_size)
{
	const struct size_row *r = &size_rows[_i];
	uint64_t got = 12345;
	int rc = parse_size(r->in, &got);

	ck_assert_msg(rc == r->rc && (rc < 0 || got == r->want), "parse_size(\"%s\") = %d, %llu",
		      r->in, rc, (unsigned long long)got);
}
END_TEST

START_TEST(test_format_size)
{
	static const struct { uint64_t n; const char *want; } rows[] = {
		{ 0, "0 B" }, { 1023, "1023 B" }, { 1024, "1 KiB" }, { 1536, "1.5 KiB" },
		{ 16 * MiB, "16 MiB" }, { 5 * TiB, "5 TiB" }, { 256 * MiB + 1, "256 MiB" },
	};
	char out[16];

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		format_size(rows[i].n, out, sizeof(out));
		ck_assert_msg(strcmp(out, rows[i].want) == 0, "format_size(%llu) = \"%s\"",
			      (unsigned long long)rows[i].n, out);
	}
}
END_TEST

/* ---- outcome_of, exit_code_of, retry_delay_ms -------------------------- */

static const struct outcome_row {
	int curl_code;
	long status;
	const char *code;
	enum outcome want;
	enum exit_code want_exit;
} outcome_rows[] = {
	{ CURLE_OK, 200, NULL, OUTCOME_OK, EXIT_DONE },
	{ CURLE_OK, 204, "", OUTCOME_OK, EXIT_DONE },
	{ CURLE_OK, 301, NULL, OUTCOME_FATAL, EXIT_REFUSED },   /* followed by nobody */
	{ CURLE_OK, 307, "", OUTCOME_FATAL, EXIT_REFUSED },
	{ CURLE_OK, 500, "InternalError", OUTCOME_RETRY, EXIT_SERVER },
	{ CURLE_OK, 502, "StoreError", OUTCOME_RETRY, EXIT_SERVER },
	{ CURLE_OK, 503, "StoreBusy", OUTCOME_RETRY, EXIT_SERVER },
	{ CURLE_OK, 504, "StoreTimeout", OUTCOME_RETRY, EXIT_SERVER },
	{ CURLE_OK, 429, "TooManyUploads", OUTCOME_RETRY, EXIT_SERVER },
	{ CURLE_OK, 408, "RequestTimeout", OUTCOME_RETRY, EXIT_SERVER },
	{ CURLE_OK, 409, "StoreBusy", OUTCOME_RETRY, EXIT_SERVER },  /* the code decides */
	{ CURLE_OK, 400, "InvalidPart", OUTCOME_FATAL, EXIT_REFUSED },
	{ CURLE_OK, 400, "BadDigest", OUTCOME_FATAL, EXIT_INTEGRITY },
	{ CURLE_OK, 502, "StoreDigestMismatch", OUTCOME_RETRY, EXIT_INTEGRITY },
	{ CURLE_OK, 401, "Unauthorized", OUTCOME_FATAL, EXIT_AUTH },
	{ CURLE_OK, 403, "AccessDenied", OUTCOME_FATAL, EXIT_AUTH },
	{ CURLE_OK, 403, NULL, OUTCOME_FATAL, EXIT_AUTH },
	{ CURLE_OK, 404, "NoSuchUpload", OUTCOME_FATAL, EXIT_NOT_FOUND },
	{ CURLE_OK, 412, "PreconditionFailed", OUTCOME_FATAL, EXIT_INTEGRITY },
	{ CURLE_OK, 413, NULL, OUTCOME_FATAL, EXIT_REFUSED },
	{ CURLE_OK, 411, NULL, OUTCOME_FATAL, EXIT_REFUSED },
	{ CURLE_COULDNT_CONNECT, 0, NULL, OUTCOME_RETRY, EXIT_SERVER },
	{ CURLE_OPERATION_TIMEDOUT, 0, NULL, OUTCOME_RETRY, EXIT_SERVER },
	{ CURLE_GOT_NOTHING, 0, NULL, OUTCOME_RETRY, EXIT_SERVER },
	{ CURLE_RECV_ERROR, 0, NULL, OUTCOME_RETRY, EXIT_SERVER },
	{ CURLE_PEER_FAILED_VERIFICATION, 0, NULL, OUTCOME_FATAL, EXIT_FAILED },
	{ CURLE_URL_MALFORMAT, 0, NULL, OUTCOME_FATAL, EXIT_FAILED },
};

START_TEST(test_outcome)
{
	const struct outcome_row *r = &outcome_rows[_i];
	enum outcome o = outcome_of(r->curl_code, r->status, r->code);
	enum exit_code e = exit_code_of(r->curl_code, r->status, r->code);

	ck_assert_msg(o == r->want && e == r->want_exit, "row %d (%d, %ld, %s): outcome %d exit %d",
		      _i, r->curl_code, r->status, r->code ? r->code : "-", o, e);
}
END_TEST

START_TEST(test_retry_delay)
{
	/* The span doubles from the base up to the cap; r picks a point in it. */
	ck_assert_uint_eq(retry_delay_ms(1, 500, 20000, 0.5), 250);
	ck_assert_uint_eq(retry_delay_ms(2, 500, 20000, 0.5), 500);
	ck_assert_uint_eq(retry_delay_ms(3, 500, 20000, 0.999), 1998);
	ck_assert_uint_eq(retry_delay_ms(10, 500, 20000, 0.5), 10000);
	ck_assert_uint_eq(retry_delay_ms(60, 500, 20000, 0.5), 10000);  /* no overflow */
	ck_assert_uint_eq(retry_delay_ms(3, 500, 20000, 0), 0);
	ck_assert_uint_eq(retry_delay_ms(3, 500, 20000, 1.5), 0);       /* r out of range */
}
END_TEST

/* ---- target_parse, target_url, target_child, url_for_people ----------- */

static const struct target_row {
	const char *url;
	int rc;
	const char *base, *query;
	int is_signed, signs_prefix;
} target_rows[] = {
	{ "http://h/r2mpu/a/b.bin", 0, "http://h/r2mpu/a/b.bin", NULL, 0, 0 },
	{ "https://h:8443/k", 0, "https://h:8443/k", NULL, 0, 0 },
	{ "HTTP://h/k?", 0, "HTTP://h/k", NULL, 0, 0 },
	{ "http://h/k?r2mpu-expires=9&r2mpu-signature=abc", 0, "http://h/k",
	  "r2mpu-expires=9&r2mpu-signature=abc", 1, 0 },
	{ "http://h/p/?r2mpu-prefix=p/&r2mpu-signature=abc", 0, "http://h/p/",
	  "r2mpu-prefix=p/&r2mpu-signature=abc", 1, 1 },
	{ "http://h/k?x-r2mpu-signature=1", 0, "http://h/k", "x-r2mpu-signature=1", 0, 0 },
	{ "ftp://h/k", -1, NULL, NULL, 0, 0 },
	{ "h/k", -1, NULL, NULL, 0, 0 },
	{ "http:///k", -1, NULL, NULL, 0, 0 },
	{ "http://user:pw@h/k", -1, NULL, NULL, 0, 0 },
	{ "http://h/k#frag", -1, NULL, NULL, 0, 0 },
	{ "http://h/k?action=get", -1, NULL, NULL, 0, 0 },
	{ "http://h/k?a=1&action", -1, NULL, NULL, 0, 0 },
};

START_TEST(test_target_parse)
{
	const struct target_row *r = &target_rows[_i];
	struct target t;
	char err[200] = "";
	int rc = target_parse(r->url, &t, err, sizeof(err));

	ck_assert_msg(rc == r->rc, "row %d: target_parse(%s) = %d (%s)", _i, r->url, rc, err);
	if (rc < 0) {
		ck_assert_msg(err[0], "row %d: no message", _i);
		return;
	}
	ck_assert_str_eq(t.base, r->base);
	ck_assert_pstr_eq(t.query, r->query);
	ck_assert_int_eq(t.is_signed, r->is_signed);
	ck_assert_int_eq(t.signs_prefix, r->signs_prefix);
	target_free(&t);
}
END_TEST

START_TEST(test_target_url)
{
	struct target t, c;
	char err[100], *u;

	ck_assert_int_eq(target_parse("http://h/a%20b", &t, err, sizeof(err)), 0);
	u = target_url(&t, "mpu-create", NULL, 0);
	ck_assert_str_eq(u, "http://h/a%20b?action=mpu-create");
	free(u);
	u = target_url(&t, "mpu-uploadpart", "id/+= x", 17);
	ck_assert_str_eq(u, "http://h/a%20b?action=mpu-uploadpart&uploadId=id%2F%2B%3D%20x&partNumber=17");
	free(u);
	target_free(&t);

	ck_assert_int_eq(target_parse("http://h/p/?r2mpu-signature=s", &t, err, sizeof(err)), 0);
	u = target_url(&t, "mpu-abort", "U", 0);
	ck_assert_str_eq(u, "http://h/p/?r2mpu-signature=s&action=mpu-abort&uploadId=U");
	free(u);
	ck_assert_int_eq(target_child(&t, ".scratch", &c), 0);
	ck_assert_str_eq(c.base, "http://h/p/.scratch");
	ck_assert_str_eq(c.query, "r2mpu-signature=s");
	target_free(&c);
	target_free(&t);

	ck_assert_int_eq(target_parse("http://h/p", &t, err, sizeof(err)), 0);
	ck_assert_int_eq(target_child(&t, "x", &c), 0);
	ck_assert_str_eq(c.base, "http://h/p/x");
	target_free(&c);
	target_free(&t);
	ck_assert_int_eq(target_parse("http://h", &t, err, sizeof(err)), 0);
	ck_assert_int_eq(target_child(&t, "x", &c), 0);
	ck_assert_str_eq(c.base, "http://h/x");
	target_free(&c);
	target_free(&t);
}
END_TEST

START_TEST(test_url_for_people)
{
	static const struct { const char *in, *want; } rows[] = {
		{ "http://h/k?action=get", "http://h/k?action=get" },
		{ "http://h/k?r2mpu-signature=SECRET&action=get",
		  "http://h/k?r2mpu-signature=...&action=get" },
		{ "http://h/k?r2mpu-expires=1&r2mpu-signature=SECRET",
		  "http://h/k?r2mpu-expires=1&r2mpu-signature=..." },
		{ "http://h/r2mpu-signature=x?a=1", "http://h/r2mpu-signature=x?a=1" },
		{ "http://h/k?xr2mpu-signature=y", "http://h/k?xr2mpu-signature=y" },
	};
	char out[200], small[20];

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		url_for_people(rows[i].in, out, sizeof(out));
		ck_assert_str_eq(out, rows[i].want);
	}
	/* Cut short, never with the secret's bytes. */
	url_for_people("http://h/?r2mpu-signature=SECRETSECRET", small, sizeof(small));
	ck_assert_msg(strstr(small, "SECRET") == NULL && strlen(small) == sizeof(small) - 1,
		      "\"%s\"", small);
}
END_TEST

/* ---- check_cause ------------------------------------------------------- */

static const struct cause_row {
	enum check_step step;
	long status;
	const char *code;
	int token;
	const char *want;   /* a word the cause must contain, or NULL for none */
} cause_rows[] = {
	{ STEP_PART, 500, NULL, 0, "FcgidMaxRequestLen" },
	{ STEP_PART, 500, "", 1, "FcgidMaxRequestLen" },
	{ STEP_PART, 400, "MissingBody", 0, "LimitRequestBody" },
	{ STEP_PART, 413, NULL, 0, "client_max_body_size" },
	{ STEP_PART, 413, "EntityTooLarge", 0, "R2MPU_MAX_PART_SIZE" },
	{ STEP_CREATE, 411, NULL, 0, "411" },
	{ STEP_CREATE, 401, "Unauthorized", 1, "CGIPassAuth" },
	{ STEP_CREATE, 401, "Unauthorized", 0, "--token-file" },
	{ STEP_CREATE, 403, "AccessDenied", 1, "does not allow" },
	{ STEP_CREATE, 404, "NotUnderMount", 0, "R2MPU_MOUNT" },
	{ STEP_CREATE, 404, NULL, 0, "no r2mpu" },
	{ STEP_CREATE, 502, "StoreAuthFailed", 0, "credentials" },
	{ STEP_CREATE, 500, NULL, 0, "error log" },
	{ STEP_CREATE, 500, "InternalError", 0, "error log" },
	{ STEP_CREATE, 500, NULL, 0, "may not start" },
	{ STEP_CREATE, 400, "InvalidKey", 0, NULL },
	{ STEP_ABORT, 404, "NoSuchUpload", 0, NULL },
	{ STEP_CREATE, 413, NULL, 0, NULL },   /* no part sent: not the body limit */
};

START_TEST(test_check_cause)
{
	const struct cause_row *r = &cause_rows[_i];
	const char *got = check_cause(r->step, r->status, r->code, r->token);

	if (!r->want)
		ck_assert_msg(got == NULL, "row %d: a cause for %ld %s: %s", _i, r->status,
			      r->code ? r->code : "-", got);
	else
		ck_assert_msg(got && strstr(got, r->want), "row %d: %ld %s: \"%s\" lacks \"%s\"",
			      _i, r->status, r->code ? r->code : "-", got ? got : "(none)", r->want);
}
END_TEST

START_TEST(test_check_key_warning)
{
	ck_assert_ptr_nonnull(check_key_warning("cgi-bin/r2mpu.fcgi/a/b"));
	ck_assert_ptr_nonnull(check_key_warning("r2mpu.fcgi/.r2mpu-check-00"));
	ck_assert_ptr_null(check_key_warning("videos/.r2mpu-check-00"));
	ck_assert_ptr_null(check_key_warning("r2mpu/a"));
}
END_TEST

/* ---- progress_line ----------------------------------------------------- */

START_TEST(test_progress_line)
{
	char out[200];

	progress_line(1 * GiB, 4 * GiB, 10000, 79, out, sizeof(out));
	ck_assert_msg(strstr(out, "1 GiB / 4 GiB") && strstr(out, " 25% ") &&
		      strstr(out, "102 MiB/s") && strstr(out, "ETA 0:30") && strchr(out, '['),
		      "\"%s\"", out);
	ck_assert_msg(strlen(out) <= 79, "%zu columns: \"%s\"", strlen(out), out);
	progress_line(4 * GiB, 4 * GiB, 10000, 79, out, sizeof(out));
	ck_assert_msg(strstr(out, "100%") && !strstr(out, "ETA"), "\"%s\"", out);
	progress_line(0, 4 * GiB, 0, 79, out, sizeof(out));
	ck_assert_msg(strstr(out, "  0%") && !strstr(out, "/s"), "\"%s\"", out);
	progress_line(5 * GiB, UINT64_MAX, 1000, 79, out, sizeof(out));   /* a pipe */
	ck_assert_msg(strstr(out, "5 GiB") && strstr(out, "5 GiB/s") && !strchr(out, '%'),
		      "\"%s\"", out);
	progress_line(1, 5 * TiB, 3600000, 79, out, sizeof(out));   /* days left */
	ck_assert_msg(strlen(out) <= 79, "\"%s\"", out);
	progress_line(1 * GiB, 4 * GiB, 10000, 30, out, sizeof(out));   /* narrow: no bar */
	ck_assert_msg(!strchr(out, '['), "\"%s\"", out);
	/* More than announced (a server's long answer): a full bar, never past it. */
	progress_line(50 * GiB, 1 * GiB, 10000, 200, out, sizeof(out));
	ck_assert_msg(strstr(out, "1 GiB / 1 GiB 100% [") && strlen(out) <= 200, "\"%s\"", out);
}
END_TEST

static Suite *client_suite(void)
{
	Suite *s = suite_create("client");
	TCase *tc = tcase_create("pure");

	tcase_add_loop_test(tc, test_plan, 0, NROWS(plan_rows));
	tcase_add_loop_test(tc, test_parse_size, 0, NROWS(size_rows));
	tcase_add_test(tc, test_format_size);
	tcase_add_loop_test(tc, test_outcome, 0, NROWS(outcome_rows));
	tcase_add_test(tc, test_retry_delay);
	tcase_add_loop_test(tc, test_target_parse, 0, NROWS(target_rows));
	tcase_add_test(tc, test_target_url);
	tcase_add_test(tc, test_url_for_people);
	tcase_add_loop_test(tc, test_check_cause, 0, NROWS(cause_rows));
	tcase_add_test(tc, test_check_key_warning);
	tcase_add_test(tc, test_progress_line);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(client_suite)
