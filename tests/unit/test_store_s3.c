/* SPDX-License-Identifier: MIT */
/* test_store_s3.c: unit tests for store_s3.c -- what guards a part's bytes on their way to the store */
#include "check_main.h"

#include "store_s3.h"

/* store_s3_part_guard: r2mpu hashes a part only where nothing else guards it. */
static const struct {
	bool content_md5, store_checks_md5, https;
	enum part_guard guard;
} guard_rows[] = {
	/* The client's digest, and a store that checks it: the store's job. */
	{ true, true, false, PART_GUARD_STORE_CHECKS_MD5 },
	{ true, true, true, PART_GUARD_STORE_CHECKS_MD5 },
	/* A store that ignores it (moto): r2mpu checks it, as the part streams. */
	{ true, false, false, PART_GUARD_R2MPU_MD5 },
	{ true, false, true, PART_GUARD_R2MPU_MD5 },
	/* No digest: TLS guards the way to the store, or r2mpu's MD5 against its ETag. */
	{ false, true, true, PART_GUARD_TLS },
	{ false, false, true, PART_GUARD_TLS },
	{ false, true, false, PART_GUARD_R2MPU_MD5 },
	{ false, false, false, PART_GUARD_R2MPU_MD5 },
};

START_TEST(guard_table)
{
	ck_assert_int_eq(store_s3_part_guard(guard_rows[_i].content_md5,
					     guard_rows[_i].store_checks_md5, guard_rows[_i].https),
			 guard_rows[_i].guard);
}
END_TEST

static Suite *store_s3_suite(void)
{
	Suite *s = suite_create("store_s3");
	TCase *tc = tcase_create("part guard");

	tcase_add_loop_test(tc, guard_table, 0, NROWS(guard_rows));
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(store_s3_suite)
