/* SPDX-License-Identifier: MIT */
/* test_handlers.c: unit tests for handlers.c -- http_meta_validate, handlers_list_page_parse */
#include "check_main.h"
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "store.h"


#define CT META_CONTENT_TYPE
#define CD META_CONTENT_DISPOSITION
#define CE META_CONTENT_ENCODING
#define CL META_CONTENT_LANGUAGE
#define CC META_CACHE_CONTROL
#define EX META_EXPIRES

static const struct meta_row {
	const char *name;
	const char *value[META_NFIELDS];   /* NULL: absent (unless fill is set) */
	size_t fill[META_NFIELDS];         /* > 0: the value is this many 'a' bytes */
	const char *code;                  /* NULL: valid; else 400 with this code */
	const char *header;                /* the header the message must name, or NULL */
} meta_rows[] = {
	{ "all absent", { NULL }, { 0 }, NULL, NULL },
	{ "all empty", { [CT] = "", [CD] = "", [CE] = "", [CL] = "", [CC] = "", [EX] = "" },
	  { 0 }, NULL, NULL },
	{ "typical values",
	  { [CT] = "text/plain; charset=utf-8", [CD] = "attachment; filename=\"a b.txt\"",
	    [CE] = "gzip", [CL] = "en-US", [CC] = "max-age=3600, public",
	    [EX] = "Wed, 21 Oct 2015 07:28:00 GMT" }, { 0 }, NULL, NULL },
	{ "tab", { [CT] = "text/plain;\tcharset=utf-8" }, { 0 }, NULL, NULL },
	{ "UTF-8 bytes", { [CD] = "attachment; filename*=UTF-8''caf\xc3\xa9" }, { 0 }, NULL,
	  NULL },
	{ "0x01", { [CT] = "text/\x01plain" }, { 0 }, "InvalidArgument", "Content-Type" },
	{ "0x1f", { [CE] = "gzip\x1f" }, { 0 }, "InvalidArgument", "Content-Encoding" },
	{ "DEL", { [CC] = "no-cache\x7f" }, { 0 }, "InvalidArgument", "Cache-Control" },
	{ "newline", { [EX] = "Wed, 21 Oct 2015\n07:28:00 GMT" }, { 0 }, "InvalidArgument",
	  "Expires" },
	{ "CR", { [CL] = "en\r" }, { 0 }, "InvalidArgument", "Content-Language" },
	{ "control after valid fields", { [CT] = "text/plain", [CD] = "\x1b[0m" }, { 0 },
	  "InvalidArgument", "Content-Disposition" },
	/* UTF-8, well-formed only; the message names the header and the fault. */
	{ "UTF-8 2, 3, 4 bytes", { [CT] = "text/plain; x=\xc2\xa0\xe2\x82\xac\xf0\x9f\x98\x80" },
	  { 0 }, NULL, NULL },
	{ "UTF-8 U+10FFFF", { [CL] = "x\xf4\x8f\xbf\xbf" }, { 0 }, NULL, NULL },
	{ "UTF-8 U+FFFD", { [CC] = "\xef\xbf\xbd" }, { 0 }, NULL, NULL },
	{ "Latin-1 byte", { [CD] = "attachment; filename=caf\xe9.txt" }, { 0 },
	  "InvalidArgument", "Content-Disposition is not valid UTF-8" },
	{ "stray continuation", { [CT] = "text/plain\x80" }, { 0 }, "InvalidArgument",
	  "Content-Type is not valid UTF-8" },
	{ "overlong '/'", { [CD] = "attachment; filename=..\xc0\xafx" }, { 0 },
	  "InvalidArgument", "Content-Disposition is not valid UTF-8" },
	{ "overlong 3-byte", { [CE] = "\xe0\x80\xaf" }, { 0 }, "InvalidArgument",
	  "Content-Encoding is not valid UTF-8" },
	{ "overlong 4-byte", { [CL] = "\xf0\x80\x80\xaf" }, { 0 }, "InvalidArgument",
	  "Content-Language is not valid UTF-8" },
	{ "overlong NUL", { [CC] = "a\xc0\x80" "b" }, { 0 }, "InvalidArgument",
	  "Cache-Control is not valid UTF-8" },
	{ "overlong LF", { [CD] = "inline\xc0\x8a" }, { 0 }, "InvalidArgument",
	  "Content-Disposition is not valid UTF-8" },
	{ "surrogate U+D800", { [EX] = "\xed\xa0\x80" }, { 0 }, "InvalidArgument",
	  "Expires is not valid UTF-8" },
	{ "surrogate U+DFFF", { [CT] = "text/\xed\xbf\xbf" }, { 0 }, "InvalidArgument",
	  "Content-Type is not valid UTF-8" },
	{ "U+110000", { [CD] = "\xf4\x90\x80\x80" }, { 0 }, "InvalidArgument",
	  "Content-Disposition is not valid UTF-8" },
	{ "F5 lead byte", { [CD] = "\xf5\x80\x80\x80" }, { 0 }, "InvalidArgument",
	  "Content-Disposition is not valid UTF-8" },
	{ "FF byte", { [CT] = "\xff" }, { 0 }, "InvalidArgument",
	  "Content-Type is not valid UTF-8" },
	{ "cut 2-byte at the end", { [CT] = "text/plain\xc3" }, { 0 }, "InvalidArgument",
	  "Content-Type is not valid UTF-8" },
	{ "cut 3-byte before ASCII", { [CL] = "\xe2\x82x" }, { 0 }, "InvalidArgument",
	  "Content-Language is not valid UTF-8" },
	{ "cut 4-byte at the end", { [CC] = "\xf0\x9f\x98" }, { 0 }, "InvalidArgument",
	  "Cache-Control is not valid UTF-8" },
	{ "valid field, then a bad one", { [CT] = "text/plain", [EX] = "\xc0\xaf" }, { 0 },
	  "InvalidArgument", "Expires is not valid UTF-8" },
	{ "8192 in one field", { NULL }, { [CT] = HTTP_META_MAX }, NULL, NULL },
	{ "8193 in one field", { NULL }, { [CC] = HTTP_META_MAX + 1 }, "MetadataTooLarge", NULL },
	{ "4096 + 4096", { NULL }, { [CT] = 4096, [EX] = 4096 }, NULL, NULL },
	{ "4096 + 4097", { NULL }, { [CT] = 4096, [EX] = 4097 }, "MetadataTooLarge", NULL },
	{ "8192 over six fields", { NULL },
	  { [CT] = 1366, [CD] = 1366, [CE] = 1366, [CL] = 1366, [CC] = 1366, [EX] = 1362 },
	  NULL, NULL },
	{ "8196 over six fields", { NULL },
	  { [CT] = 1366, [CD] = 1366, [CE] = 1366, [CL] = 1366, [CC] = 1366, [EX] = 1366 },
	  "MetadataTooLarge", NULL },
	{ "8191 + short literal", { [CD] = "x" }, { [CT] = 8191 }, NULL, NULL },
	{ "8191 + 2-byte literal", { [CD] = "xy" }, { [CT] = 8191 }, "MetadataTooLarge", NULL },
};

START_TEST(test_http_meta_validate)
{
	const struct meta_row *r = &meta_rows[_i];
	struct http_meta meta = { { NULL } };
	struct r2err err = { 0 };
	int i, rc;

	/* Every value is a heap copy, so http_meta_free() can release them all. */
	for (i = 0; i < META_NFIELDS; i++) {
		if (r->fill[i] > 0) {
			meta.value[i] = malloc(r->fill[i] + 1);
			ck_assert_ptr_nonnull(meta.value[i]);
			memset(meta.value[i], 'a', r->fill[i]);
			meta.value[i][r->fill[i]] = '\0';
		} else if (r->value[i] != NULL) {
			meta.value[i] = strdup(r->value[i]);
			ck_assert_ptr_nonnull(meta.value[i]);
		}
	}
	rc = http_meta_validate(&meta, &err);
	http_meta_free(&meta);

	if (r->code == NULL) {
		ck_assert_msg(rc == 0, "http_meta_validate(%s): rc %d (%d %s: %s), expected 0",
			      r->name, rc, err.status, err.code ? err.code : "-", err.message);
		return;
	}
	ck_assert_msg(rc == -1, "http_meta_validate(%s): rc %d, expected -1", r->name, rc);
	ck_assert_msg(err.status == 400 && err.code != NULL && strcmp(err.code, r->code) == 0,
		      "http_meta_validate(%s): error %d %s, expected 400 %s", r->name,
		      err.status, err.code ? err.code : "-", r->code);
	if (r->header != NULL)
		ck_assert_msg(strstr(err.message, r->header) != NULL,
			      "http_meta_validate(%s): message \"%s\" does not name %s", r->name,
			      err.message, r->header);
}
END_TEST

/* ---- handlers_list_page_parse: mpu-list's max-uploads, key-marker, upload-id-marker ---- */

static const struct page_row {
	const char *name;
	const char *max, *key, *id;      /* the query's values; NULL: absent */
	size_t id_fill;                  /* >0: id is this many 'u' instead */
	size_t want_max;                 /* 0: a 400 InvalidArgument naming `word` */
	const char *word;
} page_rows[] = {
	{ "nothing", NULL, NULL, NULL, 0, LIST_UPLOADS_MAX, NULL },
	{ "max 1", "1", NULL, NULL, 0, 1, NULL },
	{ "max 10000", "10000", NULL, NULL, 0, LIST_UPLOADS_MAX, NULL },
	{ "max leading zeros", "0002", NULL, NULL, 0, 2, NULL },
	{ "max 0", "0", NULL, NULL, 0, 0, "max-uploads" },
	{ "max 10001", "10001", NULL, NULL, 0, 0, "max-uploads" },
	{ "max empty", "", NULL, NULL, 0, 0, "max-uploads" },
	{ "max sign", "+5", NULL, NULL, 0, 0, "max-uploads" },
	{ "max negative", "-1", NULL, NULL, 0, 0, "max-uploads" },
	{ "max space", " 5", NULL, NULL, 0, 0, "max-uploads" },
	{ "max suffix", "5x", NULL, NULL, 0, 0, "max-uploads" },
	{ "max huge", "99999999999999999999", NULL, NULL, 0, 0, "max-uploads" },
	{ "max wraps size_t", "18446744073709551617", NULL, NULL, 0, 0, "max-uploads" },
	{ "key marker", NULL, "a/b", NULL, 0, LIST_UPLOADS_MAX, NULL },
	{ "both markers", "2", "a/b", "0123abcd", 0, 2, NULL },
	{ "S3-looking id", NULL, "k", "VXBsb2FkIElE-_.~+/=", 0, LIST_UPLOADS_MAX, NULL },
	{ "longest id", NULL, "k", NULL, UPLOAD_ID_MARKER_MAX, LIST_UPLOADS_MAX, NULL },
	{ "id too long", NULL, "k", NULL, UPLOAD_ID_MARKER_MAX + 1, 0, "upload-id-marker" },
	{ "id alone", NULL, NULL, "0123abcd", 0, 0, "key-marker" },
	{ "empty key", NULL, "", NULL, 0, 0, "key-marker" },
	{ "control in key", NULL, "a\001b", NULL, 0, 0, "key-marker" },
	{ "DEL in key", NULL, "a\177", NULL, 0, 0, "key-marker" },
	{ "bad UTF-8 key", NULL, "a\xc3(", NULL, 0, 0, "key-marker" },
	{ "empty id", NULL, "k", "", 0, 0, "upload-id-marker" },
	{ "space in id", NULL, "k", "a b", 0, 0, "upload-id-marker" },
	{ "control in id", NULL, "k", "a\tb", 0, 0, "upload-id-marker" },
	{ "non-ASCII id", NULL, "k", "\xc3\xa9", 0, 0, "upload-id-marker" },
};

START_TEST(test_list_page_parse)
{
	const struct page_row *r = &page_rows[_i];
	struct query q = { 0 };
	struct upload_page page;
	struct r2err err = { 0 };
	char *long_id = NULL;
	int rc;

	q.max_uploads = (char *)r->max;
	q.key_marker = (char *)r->key;
	q.upload_id_marker = (char *)r->id;
	if (r->id_fill > 0) {
		long_id = malloc(r->id_fill + 1);
		ck_assert_ptr_nonnull(long_id);
		memset(long_id, 'u', r->id_fill);
		long_id[r->id_fill] = '\0';
		q.upload_id_marker = long_id;
	}
	rc = handlers_list_page_parse(&q, &page, &err);
	if (r->want_max != 0) {
		ck_assert_msg(rc == 0, "handlers_list_page_parse(%s): rc %d (%s)", r->name, rc, err.message);
		ck_assert_msg(page.max == r->want_max, "handlers_list_page_parse(%s): max %zu, expected %zu",
			      r->name, page.max, r->want_max);
		ck_assert_ptr_eq(page.key_marker, q.key_marker);
		ck_assert_ptr_eq(page.upload_id_marker, q.upload_id_marker);
	} else {
		ck_assert_msg(rc == -1, "handlers_list_page_parse(%s): rc %d, expected -1", r->name, rc);
		ck_assert_msg(err.status == 400 && strcmp(err.code, "InvalidArgument") == 0,
			      "handlers_list_page_parse(%s): %d %s", r->name, err.status, err.code);
		ck_assert_msg(strstr(err.message, r->word) != NULL,
			      "handlers_list_page_parse(%s): \"%s\" does not name %s", r->name,
			      err.message, r->word);
	}
	free(long_id);
}
END_TEST

static Suite *handlers_suite(void)
{
	Suite *s = suite_create("handlers");
	TCase *tc = tcase_create("http_meta_validate");

	tcase_add_loop_test(tc, test_http_meta_validate, 0, NROWS(meta_rows));
	suite_add_tcase(s, tc);
	tc = tcase_create("handlers_list_page_parse");
	tcase_add_loop_test(tc, test_list_page_parse, 0, NROWS(page_rows));
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(handlers_suite)
