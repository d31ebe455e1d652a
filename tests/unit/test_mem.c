/* SPDX-License-Identifier: MIT */
/* test_mem.c: unit tests for mem.c -- arrays that grow within a bound, bounded byte buffers */
#include "check_main.h"

#include <stdlib.h>
#include <string.h>

#include "mem.h"

/* mem_grow from an empty array: what capacity a need gives, or -1 past the bound. */
static const struct {
	size_t need, max;
	int rc;
	size_t cap;          /* after, when rc == 0 */
} grow_rows[] = {
	{ 0, 10, 0, 0 },         /* nothing needed: nothing allocated */
	{ 1, 100, 0, 16 },       /* the first step */
	{ 16, 100, 0, 16 },
	{ 17, 100, 0, 32 },      /* doubles */
	{ 65, 100, 0, 100 },     /* never beyond the bound ... */
	{ 100, 100, 0, 100 },
	{ 101, 100, -1, 0 },     /* ... and a need past it is refused */
	{ 5, 3, -1, 0 },
	{ 3, 3, 0, 3 },          /* a bound below the first step */
	{ 1, (size_t)-1, -1, 0 },   /* a bound whose bytes overflow: refused, not wrapped */
};

START_TEST(grow_table)
{
	int *a = NULL;
	size_t cap = 0;
	int rc = MEM_GROW(a, &cap, grow_rows[_i].need, grow_rows[_i].max);

	ck_assert_int_eq(rc, grow_rows[_i].rc);
	ck_assert_uint_eq(cap, grow_rows[_i].cap);
	if (rc == 0 && cap > 0) {
		ck_assert_ptr_nonnull(a);
		a[cap - 1] = 1;      /* every slot is there (ASan/valgrind would tell) */
	} else {
		ck_assert_ptr_null(a);
	}
	free(a);
}
END_TEST

START_TEST(grow_keeps_contents)
{
	int *a = NULL;
	size_t cap = 0, i;

	for (i = 0; i < 1000; i++) {
		ck_assert_int_eq(MEM_GROW(a, &cap, i + 1, 1000), 0);
		a[i] = (int)i;
	}
	ck_assert_uint_eq(cap, 1000);
	for (i = 0; i < 1000; i++)
		ck_assert_int_eq(a[i], (int)i);
	/* Refused: the array and its capacity stay as they were. */
	ck_assert_int_eq(MEM_GROW(a, &cap, 1001, 1000), -1);
	ck_assert_uint_eq(cap, 1000);
	ck_assert_int_eq(a[999], 999);
	free(a);
}
END_TEST

START_TEST(buf_bounded)
{
	struct buf b = { .max = 8 };

	ck_assert_int_eq(buf_append(&b, "", 0), 0);
	ck_assert_str_eq(b.data, "");
	ck_assert_int_eq(buf_append(&b, "abcde", 5), 0);
	ck_assert_int_eq(buf_append(&b, "fgh", 3), 0);       /* exactly max */
	ck_assert_str_eq(b.data, "abcdefgh");
	ck_assert_uint_eq(b.len, 8);
	ck_assert_int_eq(buf_append(&b, "i", 1), -1);        /* one past: refused */
	ck_assert_str_eq(b.data, "abcdefgh");                 /* and nothing changed */
	ck_assert_uint_eq(b.len, 8);
	buf_free(&b);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_uint_eq(b.max, 8);
	ck_assert_int_eq(buf_append(&b, "x\0y", 3), 0);      /* binary bytes kept */
	ck_assert_int_eq(memcmp(b.data, "x\0y", 4), 0);
	buf_free(&b);
	buf_free(NULL);
}
END_TEST

static Suite *mem_suite(void)
{
	Suite *s = suite_create("mem");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, grow_table, 0, NROWS(grow_rows));
	tcase_add_test(tc, grow_keeps_contents);
	tcase_add_test(tc, buf_bounded);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(mem_suite)
