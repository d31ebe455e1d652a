/* SPDX-License-Identifier: MIT */
/* test_conn.c: unit tests for conn.c -- the pace's arithmetic (the bucket of time) */
#include "check_main.h"
#include <stdint.h>

#include "conn.h"


/* ---- conn_pace_earned_ms, conn_pace_credit ------------------------------- */

static const struct earned_row {
	uint64_t bytes, rate;
	int64_t want;
} earned_rows[] = {
	{ 1 << 20, 0, 0 },              /* rate off: nothing earned */
	{ 1024, 1024, 1000 },           /* 1 KiB at 1 KiB/s: a second */
	{ 1, 1024, 0 },                 /* less than a ms... */
	{ 8192 * 1000, 8 << 20, 976 },  /* ...but counted on the total, 8 KiB reads earn */
	{ UINT64_MAX, 1, INT64_MAX / 2 }, /* an enormous count stays defined */
};

START_TEST(test_pace_earned)
{
	const struct earned_row *r = &earned_rows[_i];
	int64_t got = conn_pace_earned_ms(r->bytes, r->rate);

	ck_assert_msg(got == r->want, "row %d: earned(%llu B, %llu B/s) = %lld, want %lld", _i,
		      (unsigned long long)r->bytes, (unsigned long long)r->rate, (long long)got,
		      (long long)r->want);
}
END_TEST

static const struct credit_row {
	int64_t deadline, now, gained, cap, want;
} credit_rows[] = {
	{ 20000, 5000, 1000, 40000, 21000 },
	{ 20000, 5000, 0, 40000, 20000 },
	/* a burst is capped at now + cap: 5 MiB at 1 KiB/s would buy 5120 s */
	{ 20000, 1000, 5120000, 40000, 41000 },
	/* exactly reaching the cap */
	{ 20000, 0, 20000, 40000, 40000 },
	/* a bucket already past the cap (an earlier, larger cap) is brought back to it */
	{ 90000, 1000, 1000, 40000, 41000 },
	/* an emptied bucket (deadline in the past) gains from where it stood */
	{ 1000, 5000, 2000, 40000, 3000 },
	{ 20000, 0, INT64_MAX / 2, 40000, 40000 },
};

START_TEST(test_pace_credit)
{
	const struct credit_row *r = &credit_rows[_i];
	int64_t got = conn_pace_credit(r->deadline, r->now, r->gained, r->cap);

	ck_assert_msg(got == r->want, "row %d: credit(%lld, now %lld, +%lld, cap %lld) = %lld, "
		      "want %lld", _i, (long long)r->deadline, (long long)r->now,
		      (long long)r->gained, (long long)r->cap, (long long)got, (long long)r->want);
}
END_TEST

/* ---- conn_pace_left ------------------------------------------------------ */

static const struct left_row {
	int64_t deadline, now;
	uint64_t rate;
	int64_t idle, limit, want;
} left_rows[] = {
	/* plenty of credit: one wait is at most the idle limit */
	{ 40000, 1000, 1024, 20000, 0, 20000 },
	/* little credit left: the bucket's end comes first */
	{ 21000, 20000, 1024, 20000, 0, 1000 },
	/* an empty bucket: too slow */
	{ 20000, 20000, 1024, 20000, 0, 0 },
	{ 20000, 25000, 1024, 20000, 0, -5000 },
	/* rate off: the bucket does not count, only the idle limit */
	{ 0, 99000, 0, 20000, 0, 20000 },
	/* the drain: its own idle gap and total limit */
	{ 40000, 100, 1024, 250, 1000, 250 },
	{ 40000, 900, 1024, 250, 1000, 100 },
	{ 40000, 1000, 1024, 250, 1000, 0 },
	{ 40000, 1200, 0, 250, 1000, -200 },
};

START_TEST(test_pace_left)
{
	const struct left_row *r = &left_rows[_i];
	int64_t got = conn_pace_left(r->deadline, r->now, r->rate, r->idle, r->limit);

	ck_assert_msg(got == r->want, "row %d: left = %lld, want %lld", _i, (long long)got,
		      (long long)r->want);
}
END_TEST

/* A client at a quarter of the rate after a burst runs out within cap / (1 - 1/4). */
START_TEST(test_pace_trickle_runs_out)
{
	const uint64_t rate = 1024;
	const int64_t idle = 2000, cap = 2 * idle;
	uint64_t bytes = 8 << 20;
	int64_t earned = conn_pace_earned_ms(bytes, rate);
	int64_t deadline = conn_pace_credit(idle, 0, earned, cap), now = 0;

	/* 256 bytes every second: earns 250 ms a second, spends 1000 */
	while (conn_pace_left(deadline, now, rate, idle, 0) > 0 && now < 60000) {
		int64_t more;

		now += 1000;
		bytes += 256;
		more = conn_pace_earned_ms(bytes, rate);
		deadline = conn_pace_credit(deadline, now, more - earned, cap);
		earned = more;
	}
	ck_assert_msg(now > 0 && now <= cap * 4 / 3 + 1000, "ran out after %lld ms", (long long)now);
}
END_TEST

static Suite *conn_suite(void)
{
	Suite *s = suite_create("conn");
	TCase *tc = tcase_create("pace");

	tcase_add_loop_test(tc, test_pace_earned, 0, NROWS(earned_rows));
	tcase_add_loop_test(tc, test_pace_credit, 0, NROWS(credit_rows));
	tcase_add_loop_test(tc, test_pace_left, 0, NROWS(left_rows));
	tcase_add_test(tc, test_pace_trickle_runs_out);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(conn_suite)
