/* SPDX-License-Identifier: MIT */
/* test_standalone.c: unit tests for standalone.c -- what --listen and --workers accept */
#include "check_main.h"

#include <string.h>

#include "standalone.h"

static const struct {
	const char *address;
	int rc;
	const char *host, *port;
} address_rows[] = {
	{ "127.0.0.1:9000", 0, "127.0.0.1", "9000" },
	{ ":9000", 0, "127.0.0.1", "9000" },                 /* loopback unless told */
	{ "localhost:9000", 0, "localhost", "9000" },         /* a name */
	{ "[::1]:9000", 0, "::1", "9000" },
	{ "[fe80::1%lo]:1", 0, "fe80::1%lo", "1" },
	{ "[]:9000", 0, "127.0.0.1", "9000" },
	{ "0.0.0.0:65535", 0, "0.0.0.0", "65535" },
	{ "::1:9000", -1, NULL, NULL },                       /* IPv6 needs brackets */
	{ "[::1]9000", -1, NULL, NULL },
	{ "[::1", -1, NULL, NULL },
	{ "127.0.0.1", -1, NULL, NULL },
	{ "127.0.0.1:", -1, NULL, NULL },
	{ "127.0.0.1:0", -1, NULL, NULL },
	{ "127.0.0.1:65536", -1, NULL, NULL },
	{ "127.0.0.1:90x", -1, NULL, NULL },
	{ "127.0.0.1:-1", -1, NULL, NULL },
	{ "127.0.0.1:+80", -1, NULL, NULL },
	{ "127.0.0.1:0000000000000000080", -1, NULL, NULL },  /* longer than a port */
};

START_TEST(split_address_table)
{
	char host[64] = "", port[8] = "";
	int rc = standalone_split_address(address_rows[_i].address, host, sizeof(host), port,
					  sizeof(port));

	ck_assert_msg(rc == address_rows[_i].rc, "%s: rc %d", address_rows[_i].address, rc);
	if (rc == 0) {
		ck_assert_str_eq(host, address_rows[_i].host);
		ck_assert_str_eq(port, address_rows[_i].port);
	}
}
END_TEST

static const struct {
	const char *s;
	int want;
} workers_rows[] = {
	{ "1", 1 }, { "4", 4 }, { "256", 256 }, { "0", -1 }, { "257", -1 }, { "", -1 },
	{ NULL, -1 }, { "4x", -1 }, { "-4", -1 }, { "0004", -1 }, { " 4", -1 },
};

START_TEST(workers_table)
{
	ck_assert_int_eq(standalone_parse_workers(workers_rows[_i].s), workers_rows[_i].want);
}
END_TEST

static const struct {
	const char *s;
	int want;
} mode_rows[] = {
	{ "0660", 0660 }, { "660", 0660 }, { "0777", 0777 }, { "0600", 0600 }, { "000", 0 },
	{ "1777", -1 }, { "0680", -1 }, { "66", -1 }, { "06600", -1 }, { "", -1 }, { NULL, -1 },
	{ "rw-", -1 },
};

START_TEST(mode_table)
{
	ck_assert_int_eq(standalone_parse_mode(mode_rows[_i].s), mode_rows[_i].want);
}
END_TEST

static Suite *standalone_suite(void)
{
	Suite *s = suite_create("standalone");
	TCase *tc = tcase_create("arguments");

	tcase_add_loop_test(tc, split_address_table, 0, NROWS(address_rows));
	tcase_add_loop_test(tc, workers_table, 0, NROWS(workers_rows));
	tcase_add_loop_test(tc, mode_table, 0, NROWS(mode_rows));
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(standalone_suite)
