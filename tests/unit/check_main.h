/* SPDX-License-Identifier: MIT */
/* check_main.h: the one main() of every unit test -- run the file's suite, exit 1 on any failure */
#ifndef R2MPU_CHECK_MAIN_H
#define R2MPU_CHECK_MAIN_H

#include <check.h>

/* Rows of a table, for tcase_add_loop_test(). */
#define NROWS(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Ends a test file: `CHECK_MAIN(etag_suite)` with `static Suite *etag_suite(void)` above. */
#define CHECK_MAIN(suite_fn) \
	int main(void) \
	{ \
		SRunner *sr = srunner_create(suite_fn()); \
		int failures; \
		\
		srunner_run_all(sr, CK_NORMAL); \
		failures = srunner_ntests_failed(sr); \
		srunner_free(sr); \
		return failures ? 1 : 0; \
	}

#endif
