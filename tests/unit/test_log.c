/* SPDX-License-Identifier: MIT */
/* test_log.c: unit tests for log.c -- request ids, and the lines' two formats with hostile text */
#include "check_main.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "log.h"

/* The client's X-Request-Id: kept when it is safe everywhere, else a new one. */
static const struct {
	const char *given;
	bool kept;
} id_rows[] = {
	{ "abc-123", true },
	{ "req_42.retry:2", true },
	{ "0123456789012345678901234567890123456789012345678901234567890123", true },   /* 64 */
	{ "01234567890123456789012345678901234567890123456789012345678901234", false },  /* 65 */
	{ "", false },
	{ NULL, false },
	{ "has space", false },
	{ "quote\"d", false },
	{ "new\nline", false },
	{ "<script>", false },
	{ "caf\xc3\xa9", false },
};

START_TEST(request_ids)
{
	const char *id = log_begin_request(id_rows[_i].given);

	if (id_rows[_i].kept) {
		ck_assert_str_eq(id, id_rows[_i].given);
	} else {
		ck_assert_uint_eq(strlen(id), 16);       /* 8 random bytes, hex */
		ck_assert_uint_eq(strspn(id, "0123456789abcdef"), 16);
	}
	log_end_request();
}
END_TEST

/* What log.c writes to fd 2 while fn runs, as a string (the caller frees it). */
static char *captured(void (*fn)(void))
{
	char path[] = "/tmp/r2mpu-test-log-XXXXXX";
	int fd = mkstemp(path), saved = dup(STDERR_FILENO);
	char *text = calloc(1, 8192);
	ssize_t n;

	ck_assert_int_ge(fd, 0);
	ck_assert_ptr_nonnull(text);
	dup2(fd, STDERR_FILENO);
	fn();
	dup2(saved, STDERR_FILENO);
	close(saved);
	n = pread(fd, text, 8191, 0);
	ck_assert_int_gt(n, 0);
	close(fd);
	unlink(path);
	return text;
}

static const struct log_request hostile = {
	.method = "PUT", .action = "mpu-uploadpart", .key = "a \"b\"\\c\nforged 200",
	.status = 200, .bytes_in = 5242880, .bytes_out = 40, .ms = 12,
	.credential = "token line 3",
};

static void request_line(void)
{
	log_begin_request("rid-1");
	log_request(&hostile);
	log_end_request();
	log_error("outside %s", "a\nrequest");
}

START_TEST(text_lines)
{
	char *t;

	log_set_format(LOG_TEXT);
	t = captured(request_line);
	/* Two lines exactly: the key's newline forged none. */
	ck_assert_ptr_nonnull(strchr(t, '\n'));
	ck_assert_ptr_nonnull(strchr(strchr(t, '\n') + 1, '\n'));
	ck_assert_ptr_null(strchr(strchr(strchr(t, '\n') + 1, '\n') + 1, '\n'));
	ck_assert_msg(t[4] == '-' && t[10] == 'T' && t[23] == 'Z', "%s", t);   /* RFC 3339 */
	ck_assert_ptr_nonnull(strstr(t, " info r2mpu["));
	ck_assert_ptr_nonnull(strstr(t, "] rid-1: request method=\"PUT\" action=\"mpu-uploadpart\" "
				     "key=\"a \\\"b\\\"\\\\c?forged 200\" status=200 bytes_in=5242880 "
				     "bytes_out=40 ms=12 credential=\"token line 3\"\n"));
	ck_assert_ptr_nonnull(strstr(t, " error r2mpu["));
	ck_assert_ptr_nonnull(strstr(t, "] -: outside a?request\n"));
	free(t);
}
END_TEST

START_TEST(json_lines)
{
	char *t;

	log_set_format(LOG_JSON);
	t = captured(request_line);
	log_set_format(LOG_TEXT);
	ck_assert_msg(strncmp(t, "{\"time\":\"", 9) == 0, "%s", t);
	ck_assert_ptr_nonnull(strstr(t, "\"level\":\"info\",\"pid\":"));
	ck_assert_ptr_nonnull(strstr(t, "\"request_id\":\"rid-1\",\"method\":\"PUT\","
				     "\"action\":\"mpu-uploadpart\",\"key\":\"a \\\"b\\\"\\\\c?forged 200\","
				     "\"status\":200,\"bytes_in\":5242880,\"bytes_out\":40,\"ms\":12,"
				     "\"credential\":\"token line 3\"}\n"));
	ck_assert_ptr_nonnull(strstr(t, "\"level\":\"error\""));
	ck_assert_ptr_nonnull(strstr(t, "\"request_id\":\"-\",\"message\":\"outside a?request\"}\n"));
	free(t);
}
END_TEST

/* A 1024-byte key of quotes, a non-UTF-8 action and key bytes: each JSON line still
 * parses, with every field, and the text line still has its fields after the key. */
static char long_key[1025];

static void hostile_lines(void)
{
	struct log_request r = hostile;

	memset(long_key, '"', 1024);
	r.key = long_key;
	r.action = "get\xff\" status=999 x=\"";
	log_request(&r);
	r.key = "caf\xc3\xa9 \xc3 \xed\xa0\x80 \xf5\x80\x80\x80";   /* good, cut, surrogate, > U+10FFFF */
	log_request(&r);
	r.key = NULL;
	log_request(&r);
}

START_TEST(json_lines_parse)
{
	char *t, *line, *next;
	int lines = 0;

	log_set_format(LOG_JSON);
	t = captured(hostile_lines);
	log_set_format(LOG_TEXT);
	for (line = t; *line != '\0'; line = next + 1, lines++) {
		json_object *o;

		next = strchr(line, '\n');
		ck_assert_ptr_nonnull(next);
		*next = '\0';
		o = json_tokener_parse(line);
		ck_assert_msg(o != NULL, "not JSON: %.300s", line);
		ck_assert_int_eq(json_object_get_int(json_object_object_get(o, "status")), 200);
		ck_assert_pstr_eq(json_object_get_string(json_object_object_get(o, "credential")),
				 "token line 3");
		if (lines == 0) {
			const char *key = json_object_get_string(json_object_object_get(o, "key"));

			ck_assert_msg(strlen(key) < 1024 && strcmp(key + strlen(key) - 3, "...") == 0,
				      "a long key is cut and says so: %zu", strlen(key));
			ck_assert_str_eq(json_object_get_string(json_object_object_get(o, "action")),
					 "get?\" status=999 x=\"");
		}
		if (lines == 1)
			ck_assert_str_eq(json_object_get_string(json_object_object_get(o, "key")),
					 "caf\xc3\xa9 ? ??? ????");
		if (lines == 2)
			ck_assert(json_object_is_type(json_object_object_get(o, "key"), json_type_null));
		json_object_put(o);
	}
	ck_assert_int_eq(lines, 3);
	free(t);
}
END_TEST

START_TEST(text_fields_stay_fields)
{
	char *t;

	log_set_format(LOG_TEXT);
	t = captured(hostile_lines);
	ck_assert_ptr_nonnull(strstr(t, "action=\"get?\\\" status=999 x=\\\"\" key=\""));
	ck_assert_ptr_nonnull(strstr(t, "...\" status=200 bytes_in=5242880"));
	ck_assert_ptr_nonnull(strstr(t, " key=- status=200"));
	free(t);
}
END_TEST

static Suite *log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, request_ids, 0, NROWS(id_rows));
	tcase_add_test(tc, text_lines);
	tcase_add_test(tc, json_lines);
	tcase_add_test(tc, json_lines_parse);
	tcase_add_test(tc, text_fields_stay_fields);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(log_suite)
