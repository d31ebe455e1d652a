/* SPDX-License-Identifier: MIT */
/* test_multipart.c: unit tests for multipart.c -- partNumber, R2's part size rules */
#include "check_main.h"

#include <stdint.h>
#include <string.h>

#include "multipart.h"

#define OPT(s) ((s) != NULL ? (s) : "(null)")

/* ---- multipart_part_number_parse ------------------------------------------- */

static const struct pn_row {
	const char *in;
	int expected;
} pn_rows[] = {
	{ "1", 1 }, { "2", 2 }, { "42", 42 }, { "9999", 9999 }, { "10000", 10000 },
	{ "00007", 7 }, { "01", 1 },
	{ "0", -1 }, { "00000", -1 }, { "10001", -1 }, { "99999", -1 },
	{ "", -1 }, { NULL, -1 },
	{ "1.5", -1 }, { "1abc", -1 }, { "1e3", -1 }, { "0x10", -1 },
	{ "-1", -1 }, { "+1", -1 }, { " 1", -1 }, { "1 ", -1 }, { "1\n", -1 },
	{ "123456", -1 }, { "000001", -1 }, { "99999999999999999999", -1 },
	{ "\xd9\xa1", -1 },     /* ARABIC-INDIC DIGIT ONE: not ASCII */
};

START_TEST(test_part_number_parse)
{
	const struct pn_row *r = &pn_rows[_i];
	int got = multipart_part_number_parse(r->in);

	ck_assert_msg(got == r->expected, "multipart_part_number_parse(\"%s\") = %d, expected %d",
		      OPT(r->in), got, r->expected);
}
END_TEST

/* ---- R2's part size rules (multipart_check_sizes) ----------------------- */

#define MiB (1ULL << 20)
#define PARTS_MAX 4

static const struct sizes_row {
	const char *name;
	size_t count;
	uint64_t sizes[PARTS_MAX];
	uint64_t max_total;      /* 0: no limit */
	int status;              /* 0: fine */
	const char *code;
} sizes_rows[] = {
	{ "no parts", 0, { 0 }, 0, 0, NULL },
	{ "one part of 1 byte", 1, { 1 }, 0, 0, NULL },
	{ "one empty part", 1, { 0 }, 0, 0, NULL },
	{ "one part of 5 GiB", 1, { 5120 * MiB }, 0, 0, NULL },
	{ "equal parts", 3, { 5 * MiB, 5 * MiB, 5 * MiB }, 0, 0, NULL },
	{ "last part smaller", 3, { 6 * MiB, 6 * MiB, 1 }, 0, 0, NULL },
	{ "last part one byte smaller", 2, { 5 * MiB, 5 * MiB - 1 }, 0, 0, NULL },
	{ "last part larger than the first", 2, { 5 * MiB, 5 * MiB + 1 }, 0, 400, "InvalidPart" },
	{ "last part larger, three parts", 3, { 6 * MiB, 6 * MiB, 7 * MiB }, 0, 400,
	  "InvalidPart" },
	{ "middle part smaller", 3, { 6 * MiB, 5 * MiB, 1 }, 0, 400, "InvalidPart" },
	{ "middle part larger", 4, { 5 * MiB, 5 * MiB, 6 * MiB, 1 }, 0, 400, "InvalidPart" },
	{ "first part under 5 MiB", 2, { 5 * MiB - 1, 5 * MiB - 1 }, 0, 400, "EntityTooSmall" },
	{ "middle part under 5 MiB", 3, { 5 * MiB, 1, 1 }, 0, 400, "EntityTooSmall" },
	{ "within the signed limit", 2, { 5 * MiB, 1 }, 5 * MiB + 1, 0, NULL },
	{ "over the signed limit", 2, { 5 * MiB, 2 }, 5 * MiB + 1, 413, "EntityTooLarge" },
};

START_TEST(test_part_sizes)
{
	const struct sizes_row *r = &sizes_rows[_i];
	struct part_ref refs[PARTS_MAX];
	struct part_list pl = { refs, r->count, r->max_total };
	struct r2err err = { 0 };
	size_t i;
	int rc;

	memset(refs, 0, sizeof(refs));
	for (i = 0; i < PARTS_MAX; i++)
		refs[i].number = (int)i + 1;
	rc = multipart_check_sizes(&pl, r->sizes, &err);
	if (r->status == 0) {
		ck_assert_msg(rc == 0, "%s: refused %d %s", r->name, err.status, err.message);
	} else {
		ck_assert_msg(rc == -1 && err.status == r->status, "%s: rc %d status %d, expected %d",
			      r->name, rc, err.status, r->status);
		ck_assert_str_eq(err.code, r->code);
	}
}
END_TEST

START_TEST(test_part_list_free_null)
{
	part_list_free(NULL);   /* documented as allowed; must not crash */
}
END_TEST

START_TEST(test_errors_in_r2s_words)
{
	struct r2err err = { 0 };

	ck_assert_int_eq(multipart_no_such_upload(&err), -1);
	ck_assert_int_eq(err.status, 404);
	ck_assert_str_eq(err.code, "NoSuchUpload");
	ck_assert_int_eq(multipart_invalid_part(&err, 7), -1);
	ck_assert_int_eq(err.status, 400);
	ck_assert_str_eq(err.code, "InvalidPart");
	ck_assert_ptr_nonnull(strstr(err.message, "part 7"));
	ck_assert_int_eq(multipart_bad_digest(&err), -1);
	ck_assert_int_eq(err.status, 400);
	ck_assert_str_eq(err.code, "BadDigest");
}
END_TEST

static Suite *multipart_suite(void)
{
	Suite *s = suite_create("multipart");
	TCase *tc;

	tc = tcase_create("part_number");
	tcase_add_loop_test(tc, test_part_number_parse, 0, NROWS(pn_rows));
	suite_add_tcase(s, tc);

	tc = tcase_create("part_sizes");
	tcase_add_loop_test(tc, test_part_sizes, 0, NROWS(sizes_rows));
	tcase_add_test(tc, test_part_list_free_null);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_test(tc, test_errors_in_r2s_words);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(multipart_suite)
