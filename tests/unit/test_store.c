/* SPDX-License-Identifier: MIT */
/* test_store.c: unit tests for store.c -- the orders uploads are listed in, and where a page starts */
#include "check_main.h"

#include <stdlib.h>
#include <string.h>

#include "store.h"

/* upload_after_id_marker: S3's rule, a key's uploads after the marker's id. */
static const struct {
	const char *key, *id;            /* the upload */
	const char *key_marker, *id_marker;
	bool after;
} id_marker_rows[] = {
	{ "a", "x", NULL, NULL, true },            /* no marker: from the start */
	{ "a", "x", "a", NULL, false },            /* key marker alone: after all of a */
	{ "b", "x", "a", NULL, true },
	{ "a", "x", "b", NULL, false },
	{ "a", "2~K", "a", "2~7", true },          /* same key: by id, as strings */
	{ "a", "2~7", "a", "2~K", false },         /* whatever their start times */
	{ "a", "2~K", "a", "2~K", false },         /* the marker itself is not after it */
	{ "a", "2~A", "a", "2~K", false },
	{ "ab", "0", "a", "z", true },             /* a longer key comes after */
};

START_TEST(after_id_marker_table)
{
	struct upload_info e = { (char *)id_marker_rows[_i].key, (char *)id_marker_rows[_i].id, 0 };
	struct upload_page page = { id_marker_rows[_i].key_marker, id_marker_rows[_i].id_marker, 10 };

	ck_assert_int_eq(upload_after_id_marker(&e, &page), id_marker_rows[_i].after);
}
END_TEST

/* The same four uploads, two orders: the file store's by start time, S3's by id. */
START_TEST(sorts)
{
	static const struct upload_info given[] = {
		{ "k2", "2~K", 200 }, { "k1", "z", 900 }, { "k2", "2~7", 300 }, { "k2", "2~A", 100 },
	};
	static const char *const by_time[] = { "z", "2~A", "2~K", "2~7" };
	static const char *const by_id[] = { "z", "2~7", "2~A", "2~K" };
	struct upload_info u[4];
	size_t i;

	memcpy(u, given, sizeof(u));
	upload_list_sort(u, 4);
	for (i = 0; i < 4; i++)
		ck_assert_str_eq(u[i].upload_id, by_time[i]);
	memcpy(u, given, sizeof(u));
	upload_list_sort_by_id(u, 4);
	for (i = 0; i < 4; i++)
		ck_assert_str_eq(u[i].upload_id, by_id[i]);
}
END_TEST

/* Equal start times: the file store's order falls back on the id. */
START_TEST(sort_ties_by_id)
{
	struct upload_info u[] = { { "k", "b", 5 }, { "k", "a", 5 } };

	upload_list_sort(u, 2);
	ck_assert_str_eq(u[0].upload_id, "a");
}
END_TEST

static Suite *store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("listing order");

	tcase_add_loop_test(tc, after_id_marker_table, 0, NROWS(id_marker_rows));
	tcase_add_test(tc, sorts);
	tcase_add_test(tc, sort_ties_by_id);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(store_suite)
