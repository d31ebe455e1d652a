/* SPDX-License-Identifier: MIT */
/* test_complete_body.c: unit tests for complete_body.c -- the mpu-complete JSON body */
#include "check_main.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "complete_body.h"

#define B(s) s, sizeof(s) - 1

#define E8 "eeeeeeee"
#define E63 E8 E8 E8 E8 E8 E8 E8 "eeeeeee"     /* ETAG_MAX - 1 characters */
#define E64 E63 "e"                            /* ETAG_MAX characters */

/*
 * Parse body[0..len) from an exact-size heap copy, so that reading past
 * len (the body is not NUL-terminated) is caught by ASan and valgrind.
 */
static int parse_copy(const char *body, size_t len, struct part_list *pl,
		      struct r2err *err)
{
	char *copy = malloc(len ? len : 1);
	int rc;

	ck_assert_ptr_nonnull(copy);
	memcpy(copy, body, len);
	rc = complete_body_parse(copy, len, pl, err);
	free(copy);
	return rc;
}

/* ---- valid bodies ------------------------------------------------------ */

static const struct valid_row {
	const char *body;
	size_t len;
	size_t count;
	struct {
		int number;
		const char *etag;
	} parts[3];
} valid_rows[] = {
	{ B("{\"parts\":[]}"), 0, { { 0, NULL } } },
	{ B("{\"parts\":[{\"partNumber\":1,\"etag\":\"a\"},{\"partNumber\":2,\"etag\":\"b\"},"
	    "{\"partNumber\":5,\"etag\":\"c\"}]}"), 3, { { 1, "a" }, { 2, "b" }, { 5, "c" } } },
	{ B("{\"parts\":[{\"partNumber\":1,\"etag\":\"\\\"0cc175b9c0f1b6a831c399e269772661\\\"\"}]}"),
	  1, { { 1, "\"0cc175b9c0f1b6a831c399e269772661\"" } } },
	{ B("{\"x\":1,\"parts\":[{\"etag\":\"e\",\"size\":5,\"partNumber\":10000}],\"y\":[1,{}]}"),
	  1, { { 10000, "e" } } },
	{ B(" \r\n\t{ \"parts\" : [ { \"partNumber\" : 3 , \"etag\" : \"x-2\" } ,\n"
	    "{\"partNumber\":4,\"etag\":\"y\"} ] } \n\r\t "), 2, { { 3, "x-2" }, { 4, "y" } } },
	{ B("{\"parts\":[{\"partNumber\":7,\"etag\":\"" E63 "\"}]}"), 1, { { 7, E63 } } },
	{ B("{\"parts\":[{\"partNumber\":1,\"etag\":\"caf\\u00e9\"}]}"),
	  1, { { 1, "caf\xc3\xa9" } } },
	{ B("{\"parts\":[{\"partNumber\":9999,\"etag\":\"a\"},{\"partNumber\":10000,\"etag\":\"b\"}]}"),
	  2, { { 9999, "a" }, { 10000, "b" } } },
};

START_TEST(test_valid_body)
{
	const struct valid_row *r = &valid_rows[_i];
	struct part_list pl;
	struct r2err err = { 0 };
	size_t i;
	int rc = parse_copy(r->body, r->len, &pl, &err);

	ck_assert_msg(rc == 0, "complete_body_parse(%s): rc %d (%d %s: %s)", r->body, rc,
		      err.status, err.code ? err.code : "-", err.message);
	ck_assert_msg(pl.count == r->count, "complete_body_parse(%s): count %zu, expected %zu",
		      r->body, pl.count, r->count);
	if (r->count == 0)
		ck_assert_msg(pl.parts == NULL, "complete_body_parse(%s): parts not NULL", r->body);
	for (i = 0; i < r->count; i++) {
		ck_assert_msg(pl.parts[i].number == r->parts[i].number,
			      "complete_body_parse(%s): part %zu number %d, expected %d", r->body,
			      i, pl.parts[i].number, r->parts[i].number);
		ck_assert_msg(strcmp(pl.parts[i].etag, r->parts[i].etag) == 0,
			      "complete_body_parse(%s): part %zu etag '%s', expected '%s'", r->body,
			      i, pl.parts[i].etag, r->parts[i].etag);
	}
	part_list_free(&pl);
	ck_assert_msg(pl.parts == NULL && pl.count == 0, "part_list_free did not clear the list");
}
END_TEST

/* ---- invalid bodies ---------------------------------------------------- */

static const struct invalid_row {
	const char *name;
	const char *body;
	size_t len;
	int status;
	const char *code;
	const char *message;     /* the exact message, or NULL not to check it */
} invalid_rows[] = {
	{ "len 0", "{\"parts\":[]}", 0, 400, "MissingBody", "Missing or incomplete body" },
	{ "only whitespace", B(" \n"), 400, "MalformedJSON", NULL },
	{ "{", B("{"), 400, "MalformedJSON", NULL },
	{ "truncated", B("{\"parts\":[{\"partNumber\":1,"), 400, "MalformedJSON", NULL },
	{ "cut by len", "{\"parts\":[]}", 11, 400, "MalformedJSON", NULL },
	{ "null", B("null"), 400, "MalformedJSON", NULL },
	{ "[]", B("[]"), 400, "MalformedJSON", NULL },
	{ "string", B("\"parts\""), 400, "MalformedJSON", NULL },
	{ "{}", B("{}"), 400, "MalformedJSON", NULL },
	{ "parts is an object", B("{\"parts\":{}}"), 400, "MalformedJSON", NULL },
	{ "parts is null", B("{\"parts\":null}"), 400, "MalformedJSON", NULL },
	{ "parts is a string", B("{\"parts\":\"[]\"}"), 400, "MalformedJSON", NULL },
	{ "Parts (case)", B("{\"Parts\":[]}"), 400, "MalformedJSON", NULL },
	{ "trailing comma", B("{\"parts\":[],}"), 400, "MalformedJSON", NULL },
	{ "part is a number", B("{\"parts\":[1]}"), 400, "MalformedJSON", NULL },
	{ "part is an array", B("{\"parts\":[[]]}"), 400, "MalformedJSON", NULL },
	{ "part is null", B("{\"parts\":[null]}"), 400, "MalformedJSON", NULL },
	{ "string partNumber", B("{\"parts\":[{\"partNumber\":\"1\",\"etag\":\"e\"}]}"),
	  400, "MalformedJSON", NULL },
	{ "partNumber 1.5", B("{\"parts\":[{\"partNumber\":1.5,\"etag\":\"e\"}]}"),
	  400, "MalformedJSON", NULL },
	{ "partNumber 1.0", B("{\"parts\":[{\"partNumber\":1.0,\"etag\":\"e\"}]}"),
	  400, "MalformedJSON", NULL },
	{ "partNumber 1e0", B("{\"parts\":[{\"partNumber\":1e0,\"etag\":\"e\"}]}"),
	  400, "MalformedJSON", NULL },
	{ "partNumber true", B("{\"parts\":[{\"partNumber\":true,\"etag\":\"e\"}]}"),
	  400, "MalformedJSON", NULL },
	{ "partNumber null", B("{\"parts\":[{\"partNumber\":null,\"etag\":\"e\"}]}"),
	  400, "MalformedJSON", NULL },
	{ "missing partNumber", B("{\"parts\":[{\"etag\":\"e\"}]}"), 400, "MalformedJSON", NULL },
	{ "partNumber 0", B("{\"parts\":[{\"partNumber\":0,\"etag\":\"e\"}]}"),
	  400, "InvalidArgument", NULL },
	{ "partNumber -1", B("{\"parts\":[{\"partNumber\":-1,\"etag\":\"e\"}]}"),
	  400, "InvalidArgument", NULL },
	{ "partNumber 10001", B("{\"parts\":[{\"partNumber\":10001,\"etag\":\"e\"}]}"),
	  400, "InvalidArgument", NULL },
	{ "partNumber 2^32+1", B("{\"parts\":[{\"partNumber\":4294967297,\"etag\":\"e\"}]}"),
	  400, "InvalidArgument", NULL },
	{ "partNumber UINT64_MAX",
	  B("{\"parts\":[{\"partNumber\":18446744073709551615,\"etag\":\"e\"}]}"),
	  400, "InvalidArgument", NULL },
	{ "missing etag", B("{\"parts\":[{\"partNumber\":1}]}"), 400, "MalformedJSON", NULL },
	{ "numeric etag", B("{\"parts\":[{\"partNumber\":1,\"etag\":5}]}"),
	  400, "MalformedJSON", NULL },
	{ "null etag", B("{\"parts\":[{\"partNumber\":1,\"etag\":null}]}"),
	  400, "MalformedJSON", NULL },
	{ "array etag", B("{\"parts\":[{\"partNumber\":1,\"etag\":[\"e\"]}]}"),
	  400, "MalformedJSON", NULL },
	{ "empty etag", B("{\"parts\":[{\"partNumber\":1,\"etag\":\"\"}]}"),
	  400, "InvalidPart", NULL },
	{ "etag of ETAG_MAX chars", B("{\"parts\":[{\"partNumber\":1,\"etag\":\"" E64 "\"}]}"),
	  400, "InvalidPart", NULL },
	{ "etag with \\u0000", B("{\"parts\":[{\"partNumber\":1,\"etag\":\"a\\u0000b\"}]}"),
	  400, "InvalidPart", NULL },
	{ "trailing garbage", B("{\"parts\":[]}x"), 400, "MalformedJSON", NULL },
	{ "trailing brace", B("{\"parts\":[]}}"), 400, "MalformedJSON", NULL },
	{ "two objects", B("{\"parts\":[]}{\"parts\":[]}"), 400, "MalformedJSON", NULL },
	{ "two objects, space", B("{\"parts\":[]} {\"parts\":[]}"), 400, "MalformedJSON", NULL },
	{ "trailing NUL byte", B("{\"parts\":[]}\0"), 400, "MalformedJSON", NULL },
	{ "leading NUL byte", B("\0{\"parts\":[]}"), 400, "MalformedJSON", NULL },
	{ "deep member", B("{\"parts\":[{\"partNumber\":1,\"etag\":\"e\",\"x\":[[[[[[[[1]]]]]]]]}]}"),
	  400, "MalformedJSON", NULL },
	{ "unsorted", B("{\"parts\":[{\"partNumber\":2,\"etag\":\"a\"},{\"partNumber\":1,\"etag\":\"b\"}]}"),
	  400, "InvalidPartOrder", NULL },
	{ "unsorted late", B("{\"parts\":[{\"partNumber\":1,\"etag\":\"a\"},{\"partNumber\":3,"
			     "\"etag\":\"b\"},{\"partNumber\":2,\"etag\":\"c\"}]}"),
	  400, "InvalidPartOrder", NULL },
	{ "duplicate", B("{\"parts\":[{\"partNumber\":1,\"etag\":\"a\"},{\"partNumber\":1,\"etag\":\"a\"}]}"),
	  400, "InvalidPartOrder", NULL },
};

static void check_error(const char *name, int rc, const struct part_list *pl,
			const struct r2err *err, int status, const char *code,
			const char *message)
{
	ck_assert_msg(rc == -1, "complete_body_parse(%s): rc %d, expected -1", name, rc);
	ck_assert_msg(err->status == status && err->code != NULL && strcmp(err->code, code) == 0,
		      "complete_body_parse(%s): error %d %s (%s), expected %d %s", name,
		      err->status, err->code ? err->code : "-", err->message, status, code);
	if (message != NULL)
		ck_assert_msg(strcmp(err->message, message) == 0,
			      "complete_body_parse(%s): message '%s', expected '%s'", name,
			      err->message, message);
	ck_assert_msg(pl->parts == NULL && pl->count == 0,
		      "complete_body_parse(%s): list not empty after an error", name);
}

START_TEST(test_invalid_body)
{
	const struct invalid_row *r = &invalid_rows[_i];
	struct part_list pl;
	struct r2err err = { 0 };
	int rc = parse_copy(r->body, r->len, &pl, &err);

	check_error(r->name, rc, &pl, &err, r->status, r->code, r->message);
}
END_TEST

/* ---- generated bodies: size, depth and part-count limits --------------- */

enum gen_kind {
	GEN_PADDED,      /* {"parts":[]} then spaces up to `n` bytes */
	GEN_NESTED,      /* n '[' */
	GEN_PARTS,       /* {"parts":[...]} with n ascending parts */
};

static const struct gen_row {
	const char *name;
	enum gen_kind kind;
	size_t n;
	int status;              /* 0: valid with `count` parts */
	const char *code;
	size_t count;
} gen_rows[] = {
	{ "COMPLETE_BODY_MAX bytes", GEN_PADDED, COMPLETE_BODY_MAX, 0, NULL, 0 },
	{ "COMPLETE_BODY_MAX + 1 bytes", GEN_PADDED, COMPLETE_BODY_MAX + 1, 413,
	  "EntityTooLarge", 0 },
	{ "5000 '['", GEN_NESTED, 5000, 400, "MalformedJSON", 0 },
	{ "1 part", GEN_PARTS, 1, 0, NULL, 1 },
	{ "10000 parts", GEN_PARTS, PART_NUMBER_MAX, 0, NULL, PART_NUMBER_MAX },
	{ "10001 parts", GEN_PARTS, PART_NUMBER_MAX + 1, 400, "InvalidArgument", 0 },
};

/* Build the row's body into a malloc'd buffer; *len gets its length. */
static char *gen_body(const struct gen_row *r, size_t *len)
{
	static const char empty[] = "{\"parts\":[]}";
	size_t cap = r->kind == GEN_PARTS ? 16 + r->n * 48 : r->n + 1, off = 0, i;
	char *buf = malloc(cap);

	ck_assert_ptr_nonnull(buf);
	switch (r->kind) {
	case GEN_PADDED:
		memset(buf, ' ', r->n);
		memcpy(buf, empty, sizeof(empty) - 1);
		off = r->n;
		break;
	case GEN_NESTED:
		memset(buf, '[', r->n);
		off = r->n;
		break;
	case GEN_PARTS:
		off = (size_t)snprintf(buf, cap, "{\"parts\":[");
		for (i = 1; i <= r->n; i++)
			off += (size_t)snprintf(buf + off, cap - off,
						"%s{\"partNumber\":%zu,\"etag\":\"etag-%zu\"}",
						i > 1 ? "," : "", i, i);
		off += (size_t)snprintf(buf + off, cap - off, "]}");
		ck_assert_msg(off < cap, "gen_body(%s): buffer too small", r->name);
		break;
	}
	*len = off;
	return buf;
}

START_TEST(test_generated_body)
{
	const struct gen_row *r = &gen_rows[_i];
	struct part_list pl;
	struct r2err err = { 0 };
	size_t len, i;
	char *body = gen_body(r, &len);
	int rc = complete_body_parse(body, len, &pl, &err);

	free(body);
	if (r->status != 0) {
		check_error(r->name, rc, &pl, &err, r->status, r->code, NULL);
		return;
	}
	ck_assert_msg(rc == 0, "complete_body_parse(%s): rc %d (%d %s: %s)", r->name, rc,
		      err.status, err.code ? err.code : "-", err.message);
	ck_assert_msg(pl.count == r->count, "complete_body_parse(%s): count %zu, expected %zu",
		      r->name, pl.count, r->count);
	for (i = 0; i < pl.count; i++) {
		char etag[32];

		snprintf(etag, sizeof(etag), "etag-%zu", i + 1);
		ck_assert_msg(pl.parts[i].number == (int)(i + 1) &&
			      strcmp(pl.parts[i].etag, etag) == 0,
			      "complete_body_parse(%s): part %zu is %d '%s', expected %zu '%s'",
			      r->name, i, pl.parts[i].number, pl.parts[i].etag, i + 1, etag);
	}
	part_list_free(&pl);
}
END_TEST

static Suite *complete_body_suite(void)
{
	Suite *s = suite_create("complete_body");
	TCase *tc;

	tc = tcase_create("valid");
	tcase_add_loop_test(tc, test_valid_body, 0, NROWS(valid_rows));
	suite_add_tcase(s, tc);

	tc = tcase_create("invalid");
	tcase_add_loop_test(tc, test_invalid_body, 0, NROWS(invalid_rows));
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_loop_test(tc, test_generated_body, 0, NROWS(gen_rows));
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(complete_body_suite)
