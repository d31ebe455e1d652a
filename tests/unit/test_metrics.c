/* SPDX-License-Identifier: MIT */
/* test_metrics.c: unit tests for metrics.c -- the shared file's name and checks, counting across processes, the text */
#include "check_main.h"

#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "metrics.h"
#include "action.h"

static struct config cfg;
static char dir[] = "/tmp/r2mpu-test-metrics-XXXXXX";

static void setup(void)
{
	memset(&cfg, 0, sizeof(cfg));
	cfg.metrics = true;
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(cfg.metrics_file, sizeof(cfg.metrics_file), "%s/m", dir);
}

static void teardown(void)
{
	char cmd[128];

	metrics_close();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
	memcpy(dir + strlen(dir) - 6, "XXXXXX", 6);
}

/* ---- the default file: one per user, store and mount ------------------------ */

static const struct name_row {
	const char *store, *root, *bucket, *mount;
	unsigned uid;
	bool same;               /* the same name as the first row's */
} name_rows[] = {
	{ "fs", "/var/lib/r2mpu", "", "", 33, true },
	{ "fs", "/var/lib/r2mpu", "", "", 34, false },
	{ "fs", "/var/lib/r2mpu2", "", "", 33, false },
	{ "fs", "/var/lib/r2mpu", "", "/files", 33, false },
	{ "s3", "/var/lib/r2mpu", "", "", 33, false },
	{ "fs", "/var/lib/r2mpu", "b", "", 33, false },
	/* Fields are kept apart: moving a byte from one to the next is another name. */
	{ "fs", "/var/lib/r2mp", "u", "", 33, false },
};

static void name_of(const struct name_row *r, char *out, size_t len)
{
	static struct config c;

	memset(&c, 0, sizeof(c));
	snprintf(c.store, sizeof(c.store), "%s", r->store);
	snprintf(c.fs_root, sizeof(c.fs_root), "%s", r->root);
	snprintf(c.s3_bucket, sizeof(c.s3_bucket), "%s", r->bucket);
	snprintf(c.mount, sizeof(c.mount), "%s", r->mount);
	metrics_default_path(&c, r->uid, out, len);
}

START_TEST(default_names)
{
	char first[256], name[256], want[64];
	regex_t re;

	name_of(&name_rows[0], first, sizeof(first));
	name_of(&name_rows[_i], name, sizeof(name));
	ck_assert_msg((strcmp(first, name) == 0) == name_rows[_i].same, "row %d: %s vs %s", _i,
		      name, first);
	snprintf(want, sizeof(want), "^/dev/shm/r2mpu-metrics-v1-%u-[0-9a-f]{16}$",
		 name_rows[_i].uid);
	ck_assert_int_eq(regcomp(&re, want, REG_EXTENDED | REG_NOSUB), 0);
	ck_assert_msg(regexec(&re, name, 0, NULL, 0) == 0, "%s", name);
	regfree(&re);
}
END_TEST

/* ---- which files are used, and which refused ------------------------------------ */

enum file_state { ABSENT, EMPTY, OPENED_BEFORE, READABLE, WRONG_SIZE, SYMLINK, DIRECTORY,
		  FOREIGN_MAGIC };

static const struct file_row {
	enum file_state state;
	int rc;                   /* metrics_open: 0 shared, 1 this process's own */
} file_rows[] = {
	{ ABSENT, 0 }, { EMPTY, 0 }, { OPENED_BEFORE, 0 }, { READABLE, 1 }, { WRONG_SIZE, 1 },
	{ SYMLINK, 1 }, { DIRECTORY, 1 }, { FOREIGN_MAGIC, 1 },
};

static void write_file(const char *path, size_t size, mode_t mode, unsigned char fill)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	for (size_t i = 0; i < size; i++)
		fputc(fill, f);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(chmod(path, mode), 0);
}

static size_t layout_size(void)
{
	struct stat st;
	char where[2048];
	static struct config c;

	c = cfg;
	snprintf(c.metrics_file, sizeof(c.metrics_file), "%s/probe", dir);
	ck_assert_int_eq(metrics_open(&c, where, sizeof(where)), 0);
	metrics_close();
	ck_assert_int_eq(stat(c.metrics_file, &st), 0);
	return (size_t)st.st_size;
}

START_TEST(which_files)
{
	char where[2048], target[1100];
	struct buf text = { .max = 1 << 20 };
	size_t size = layout_size();

	switch (file_rows[_i].state) {
	case ABSENT:
		break;
	case EMPTY:
		write_file(cfg.metrics_file, 0, 0600, 0);
		break;
	case OPENED_BEFORE:
		ck_assert_int_eq(metrics_open(&cfg, where, sizeof(where)), 0);
		metrics_close();
		break;
	case READABLE:
		write_file(cfg.metrics_file, 0, 0644, 0);
		break;
	case WRONG_SIZE:
		write_file(cfg.metrics_file, size - 8, 0600, 0);
		break;
	case SYMLINK:
		snprintf(target, sizeof(target), "%s/real", dir);
		write_file(target, 0, 0600, 0);
		ck_assert_int_eq(symlink(target, cfg.metrics_file), 0);
		break;
	case DIRECTORY:
		ck_assert_int_eq(mkdir(cfg.metrics_file, 0700), 0);
		break;
	case FOREIGN_MAGIC:
		write_file(cfg.metrics_file, size, 0600, 0x5a);
		break;
	}
	ck_assert_int_eq(metrics_open(&cfg, where, sizeof(where)), file_rows[_i].rc);
	if (file_rows[_i].rc == 0)
		ck_assert_str_eq(where, cfg.metrics_file);
	else
		ck_assert_ptr_nonnull(strstr(where, "this process's own"));
	/* Either way the counters work; the text says which kind they are. */
	metrics_count_request(ACTION_GET, 200, 0, 5);
	ck_assert_int_eq(metrics_render(&text), 0);
	ck_assert_ptr_nonnull(strstr(text.data, "r2mpu_requests_total{action=\"get\",status=\"200\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(text.data, file_rows[_i].rc == 0 ? "r2mpu_metrics_shared 1\n"
							       : "r2mpu_metrics_shared 0\n"));
	buf_free(&text);
}
END_TEST

/* ---- counts, from two processes, and the text ---------------------------------- */

static bool has_line(const char *text, const char *line)
{
	char want[512];

	snprintf(want, sizeof(want), "\n%s\n", line);
	return strstr(text, want) != NULL;
}

START_TEST(counts_and_text)
{
	char where[2048];
	struct buf text = { .max = 1 << 20 };
	pid_t child;
	int status;
	static const char *const expected[] = {
		"r2mpu_requests_total{action=\"mpu-create\",status=\"200\"} 3",
		"r2mpu_requests_total{action=\"other\",status=\"400\"} 1",
		"r2mpu_requests_total{action=\"mpu-uploadpart\",status=\"200\"} 1",
		"r2mpu_received_bytes_total 1000",
		"r2mpu_sent_bytes_total 26",
		"r2mpu_store_errors_total{operation=\"upload_part\",code=\"NoSuchUpload\"} 1",
		"r2mpu_store_errors_total{operation=\"get\",code=\"other\"} 1",
		"r2mpu_store_latency_seconds_bucket{operation=\"create\",le=\"0.001\"} 0",
		"r2mpu_store_latency_seconds_bucket{operation=\"create\",le=\"0.0025\"} 1",
		"r2mpu_store_latency_seconds_bucket{operation=\"create\",le=\"0.005\"} 2",
		"r2mpu_store_latency_seconds_bucket{operation=\"create\",le=\"+Inf\"} 2",
		"r2mpu_store_latency_seconds_sum{operation=\"create\"} 0.006500",
		"r2mpu_store_latency_seconds_count{operation=\"create\"} 2",
		"r2mpu_store_latency_seconds_bucket{operation=\"probe\",le=\"60\"} 0",
		"r2mpu_store_latency_seconds_bucket{operation=\"probe\",le=\"+Inf\"} 1",
		"r2mpu_store_latency_seconds_count{operation=\"upload_part\"} 1",
		"r2mpu_store_latency_seconds_count{operation=\"get\"} 1",
		"r2mpu_parts_in_flight 1",
		"r2mpu_metrics_shared 1",
	};

	ck_assert_int_eq(metrics_open(&cfg, where, sizeof(where)), 0);
	metrics_count_request(ACTION_CREATE, 200, 0, 10);
	metrics_count_request(ACTION_CREATE, 200, 0, 10);
	metrics_count_request(-1, 400, 0, 6);
	metrics_count_request(ACTION_CREATE, 99, 0, 1000);      /* no such status: not counted */
	metrics_count_store(METRICS_OP_CREATE, 1500, NULL);
	metrics_count_store(METRICS_OP_CREATE, 5000, NULL);      /* a bound is in its bucket */
	metrics_count_store(METRICS_OP_GET, 10, "NotACodeOfOurs");
	metrics_count_store(METRICS_OP_PROBE, 70 * 1000000ULL, NULL);
	metrics_part_begin();                                    /* this process: 1 in flight */
	/* Another process of the pool opens the same file and counts; one more
	 * dies with a part in flight: its part is not in flight any more. */
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		metrics_close();
		if (metrics_open(&cfg, where, sizeof(where)) != 0)
			_exit(3);
		metrics_count_request(ACTION_CREATE, 200, 0, 0);
		metrics_count_request(ACTION_UPLOAD_PART, 200, 1000, 0);
		metrics_count_store(METRICS_OP_UPLOAD_PART, 100, "NoSuchUpload");
		metrics_part_begin();
		_exit(0);
	}
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert_int_eq(status, 0);
	ck_assert_int_eq(metrics_render(&text), 0);
	for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++)
		ck_assert_msg(has_line(text.data, expected[i]), "no line %s in\n%.1500s", expected[i],
			      text.data);
	ck_assert_ptr_null(strstr(text.data, "status=\"99\""));
	metrics_part_end();
	buf_free(&text);
	text = (struct buf){ .max = 1 << 20 };
	ck_assert_int_eq(metrics_render(&text), 0);
	ck_assert(has_line(text.data, "r2mpu_parts_in_flight 0"));
	buf_free(&text);
}
END_TEST

/* r2mpu_parts_in_flight, as rendered now; -1 when there is no such line. */
static long in_flight(void)
{
	static const char line[] = "\nr2mpu_parts_in_flight ";
	struct buf text = { .max = 1 << 20 };
	const char *at;
	long n = -1;

	ck_assert_int_eq(metrics_render(&text), 0);
	at = strstr(text.data, line);
	if (at != NULL)
		n = strtol(at + strlen(line), NULL, 10);
	buf_free(&text);
	return n;
}

/*
 * Eight processes take and free slots at once, thousands of times: each
 * keeps its own slot (none is taken over from a live holder), so with one
 * part each in flight the count is 8, and 0 once they end.
 */
START_TEST(slots_under_contention)
{
	char where[2048], byte;
	int ready[2], go[2], status, i;
	pid_t kids[8];

	ck_assert_int_eq(metrics_open(&cfg, where, sizeof(where)), 0);
	ck_assert_int_eq(pipe(ready), 0);
	ck_assert_int_eq(pipe(go), 0);
	for (i = 0; i < 8; i++) {
		kids[i] = fork();
		ck_assert_int_ge(kids[i], 0);
		if (kids[i] == 0) {
			close(go[1]);
			for (int j = 0; j < 3000; j++) {
				metrics_part_begin();
				metrics_part_end();
			}
			metrics_part_begin();
			if (write(ready[1], "r", 1) != 1 || read(go[0], &byte, 1) < 0)   /* EOF: go */
				_exit(2);
			metrics_part_end();
			_exit(0);
		}
	}
	close(go[0]);
	for (i = 0; i < 8; i++)
		ck_assert_int_eq(read(ready[0], &byte, 1), 1);
	ck_assert_int_eq(in_flight(), 8);
	close(go[1]);                    /* every child reads EOF: go */
	for (i = 0; i < 8; i++) {
		ck_assert_int_eq(waitpid(kids[i], &status, 0), kids[i]);
		ck_assert_int_eq(status, 0);
	}
	ck_assert_int_eq(in_flight(), 0);
	close(ready[0]);
	close(ready[1]);
}
END_TEST

/* Every line is a comment or `name{labels} value`, as Prometheus parses them. */
START_TEST(text_format)
{
	char where[2048], *line, *save = NULL;
	struct buf text = { .max = 1 << 20 };
	regex_t sample;

	ck_assert_int_eq(regcomp(&sample, "^r2mpu_[a-z_]+(\\{([a-z_]+=\"[^\"\\\\]*\",?)+\\})? "
				 "[0-9]+(\\.[0-9]+)?$", REG_EXTENDED | REG_NOSUB), 0);
	ck_assert_int_eq(metrics_open(&cfg, where, sizeof(where)), 0);
	for (int a = -1; a < ACTIONS; a++)
		metrics_count_request(a, 200 + a, 1, 1);
	for (int op = 0; op < METRICS_STORE_OPS; op++)
		metrics_count_store((enum metrics_store_op)op, 1000u * (unsigned)op, "StoreTimeout");
	ck_assert_int_eq(metrics_render(&text), 0);
	for (line = strtok_r(text.data, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		ck_assert_msg(strncmp(line, "# HELP r2mpu_", 13) == 0 ||
			      strncmp(line, "# TYPE r2mpu_", 13) == 0 ||
			      regexec(&sample, line, 0, NULL, 0) == 0, "bad line: %s", line);
	regfree(&sample);
	buf_free(&text);
}
END_TEST

/* Off (never opened): every call does nothing, the text is refused. */
START_TEST(closed_does_nothing)
{
	struct buf text = { .max = 1 << 20 };

	metrics_close();
	metrics_count_request(ACTION_GET, 200, 1, 1);
	metrics_count_store(METRICS_OP_GET, 1, "NoSuchKey");
	metrics_part_begin();
	metrics_part_end();
	ck_assert_int_eq(metrics_render(&text), -1);
	buf_free(&text);
}
END_TEST

static Suite *metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, default_names, 0, NROWS(name_rows));
	tcase_add_loop_test(tc, which_files, 0, NROWS(file_rows));
	tcase_add_test(tc, counts_and_text);
	tcase_add_test(tc, text_format);
	tcase_add_test(tc, slots_under_contention);
	tcase_add_test(tc, closed_does_nothing);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(metrics_suite)
