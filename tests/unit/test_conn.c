/* test_conn.c: unit tests for conn.c -- the pace's arithmetic (the bucket of time) */
#include "check_main.h"
#include <stdint.h>

#include "conn.h"


/* ---- conn_pace_earn ------------------------------------------------------ */

static const struct earn_row {
	int64_t deadline, now;
	uint64_t bytes, rate;
	int64_t cap, want;
} earn_rows[] = {
	/* rate off: nothing changes */
	{ 20000, 5000, 1 << 20, 0, 40000, 20000 },
	/* 1 KiB at 1 KiB/s earns a second */
	{ 20000, 5000, 1024, 1024, 40000, 21000 },
	/* less than one ms worth earns nothing (integer ms) */
	{ 20000, 5000, 1, 1024, 40000, 20000 },
	/* a burst is capped at now + cap: 5 MiB at 1 KiB/s would buy 5120 s */
	{ 20000, 1000, 5 << 20, 1024, 40000, 41000 },
	/* exactly reaching the cap */
	{ 20000, 0, 20 * 1024, 1024, 40000, 40000 },
	/* a bucket already past the cap (an earlier, larger cap) is brought back to it */
	{ 90000, 1000, 1024, 1024, 40000, 41000 },
	/* an enormous byte count stays defined */
	{ 20000, 0, UINT64_MAX, 1, 40000, 40000 },
	/* an emptied bucket (deadline in the past) earns from where it stood */
	{ 1000, 5000, 2048, 1024, 40000, 3000 },
};

START_TEST(test_pace_earn)
{
	const struct earn_row *r = &earn_rows[_i];
	int64_t got = conn_pace_earn(r->deadline, r->now, r->bytes, r->rate, r->cap);

	ck_assert_msg(got == r->want, "row %d: earn(%lld, now %lld, %llu B, %llu B/s, cap %lld) = "
		      "%lld, want %lld", _i, (long long)r->deadline, (long long)r->now,
		      (unsigned long long)r->bytes, (unsigned long long)r->rate,
		      (long long)r->cap, (long long)got, (long long)r->want);
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
	int64_t deadline = conn_pace_earn(idle, 0, 8 << 20, rate, cap), now = 0;

	/* 256 bytes every second: earns 250 ms a second, spends 1000 */
	while (conn_pace_left(deadline, now, rate, idle, 0) > 0 && now < 60000) {
		now += 1000;
		deadline = conn_pace_earn(deadline, now, 256, rate, cap);
	}
	ck_assert_msg(now > 0 && now <= cap * 4 / 3 + 1000, "ran out after %lld ms", (long long)now);
}
END_TEST

static Suite *conn_suite(void)
{
	Suite *s = suite_create("conn");
	TCase *tc = tcase_create("pace");

	tcase_add_loop_test(tc, test_pace_earn, 0, NROWS(earn_rows));
	tcase_add_loop_test(tc, test_pace_left, 0, NROWS(left_rows));
	tcase_add_test(tc, test_pace_trickle_runs_out);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(conn_suite)
