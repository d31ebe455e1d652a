/* SPDX-License-Identifier: MIT */
/* test_uri.c: unit tests for uri.c -- percent-decoding and -encoding, query, partNumber, keys */
#include "check_main.h"
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "uri.h"

/* A byte string and its length, NULs included: B("a\0b") is "a\0b", 3. */
#define B(s) s, sizeof(s) - 1

/* ---- uri_percent_decode ---------------------------------------------------- */

static const struct pd_row {
	const char *in;
	size_t in_len;
	bool plus_is_space;
	int rc;                 /* 0, or -1 with 400 InvalidURI */
	const char *out;
	size_t out_len;
} pd_rows[] = {
	{ B(""), false, 0, B("") },
	{ B("abc/def"), false, 0, B("abc/def") },
	{ B("%41%42%5A"), false, 0, B("ABZ") },
	{ B("%7e%2f%c3%a9"), false, 0, B("~/\xc3\xa9") },
	{ B("%aF%Fa"), false, 0, B("\xaf\xfa") },
	{ B("a+b"), false, 0, B("a+b") },
	{ B("a+b++"), true, 0, B("a b  ") },
	{ B("%2B"), true, 0, B("+") },
	{ B("%2B"), false, 0, B("+") },
	{ B("a%20b"), false, 0, B("a b") },
	{ B("a%00b"), false, 0, B("a\0b") },
	{ B("%00"), true, 0, B("\0") },
	{ B("ab%41"), false, 0, B("abA") },
	{ B("%2520"), false, 0, B("%20") },
	{ "ab%41zz", 5, false, 0, B("abA") },       /* only len bytes are read */
	{ "%41", 2, false, -1, B("") },             /* the '1' is past len */
	{ "%41", 1, false, -1, B("") },
	{ B("%"), false, -1, B("") },
	{ B("%4"), false, -1, B("") },
	{ B("%zz"), false, -1, B("") },
	{ B("%G0"), false, -1, B("") },
	{ B("%0G"), false, -1, B("") },
	{ B("a%"), true, -1, B("") },
	{ B("a%4"), true, -1, B("") },
	{ B("%%41"), false, -1, B("") },
	{ B("% 41"), false, -1, B("") },
	{ B("%+1"), true, -1, B("") },
};

START_TEST(test_percent_decode)
{
	const struct pd_row *r = &pd_rows[_i];
	struct r2err err = { 0 };
	char got[64];
	char *out = NULL;
	size_t out_len = 12345;
	bool out_null, nul_terminated = false;
	int rc;

	rc = uri_percent_decode(r->in, r->in_len, r->plus_is_space, &out, &out_len, &err);
	out_null = out == NULL;
	if (out != NULL && out_len < sizeof(got)) {
		memcpy(got, out, out_len);
		nul_terminated = out[out_len] == '\0';
	}
	free(out);

	ck_assert_msg(rc == r->rc, "uri_percent_decode(\"%.*s\", plus=%d): rc %d, expected %d",
		      (int)r->in_len, r->in, r->plus_is_space, rc, r->rc);
	if (r->rc == 0) {
		ck_assert_msg(!out_null, "uri_percent_decode(\"%.*s\"): *out is NULL",
			      (int)r->in_len, r->in);
		ck_assert_msg(out_len == r->out_len,
			      "uri_percent_decode(\"%.*s\"): length %zu, expected %zu",
			      (int)r->in_len, r->in, out_len, r->out_len);
		ck_assert_msg(memcmp(got, r->out, r->out_len) == 0,
			      "uri_percent_decode(\"%.*s\"): wrong bytes", (int)r->in_len, r->in);
		ck_assert_msg(nul_terminated, "uri_percent_decode(\"%.*s\"): not NUL-terminated",
			      (int)r->in_len, r->in);
	} else {
		ck_assert_msg(out_null && out_len == 0,
			      "uri_percent_decode(\"%.*s\"): output not cleared on error",
			      (int)r->in_len, r->in);
		ck_assert_msg(err.status == 400 && err.code != NULL &&
			      strcmp(err.code, "InvalidURI") == 0,
			      "uri_percent_decode(\"%.*s\"): error %d %s, expected 400 InvalidURI",
			      (int)r->in_len, r->in, err.status, err.code ? err.code : "(null)");
	}
}
END_TEST

/* ---- uri_encode --------------------------------------------------------- */

static const struct enc_row {
	const char *in;
	size_t in_len;
	bool keep_slash;
	size_t dstlen;          /* bytes of dst, the NUL included */
	int rc;                 /* 0, or -1 when it does not fit */
	const char *out;
} enc_rows[] = {
	{ B("abcXYZ019-_.~"), false, 64, 0, "abcXYZ019-_.~" },
	{ B("a b"), false, 64, 0, "a%20b" },
	{ B("a/b"), true, 64, 0, "a/b" },
	{ B("a/b"), false, 64, 0, "a%2Fb" },
	{ B("+()!*'=&?%"), true, 64, 0, "%2B%28%29%21%2A%27%3D%26%3F%25" },
	{ B("my dir/\xc3\xbc file.bin"), true, 64, 0, "my%20dir/%C3%BC%20file.bin" },
	{ B(".."), true, 64, 0, ".." },
	{ B("$"), true, 64, 0, "%24" },
	{ B("\x7f\xff"), true, 64, 0, "%7F%FF" },
	{ B(""), true, 64, 0, "" },
	{ B("a\0b"), false, 64, 0, "a%00b" },      /* a NUL is a byte, not the end */
	/* dst's size: the NUL must fit too, and an escape fits whole or not at all. */
	{ B("abc"), false, 4, 0, "abc" },
	{ B("abcd"), false, 4, -1, NULL },
	{ B(" "), false, 4, 0, "%20" },
	{ B("a "), false, 4, -1, NULL },
	{ B(""), false, 1, 0, "" },
	{ B(""), false, 0, -1, NULL },
};

START_TEST(test_uri_encode)
{
	const struct enc_row *r = &enc_rows[_i];
	char out[64];
	int rc;

	ck_assert_uint_le(r->dstlen, sizeof(out));
	rc = uri_encode(r->in, r->in_len, r->keep_slash, out, r->dstlen);
	ck_assert_msg(rc == r->rc, "row %d: uri_encode rc %d, expected %d", _i, rc, r->rc);
	if (r->rc == 0)
		ck_assert_msg(strcmp(out, r->out) == 0, "row %d: \"%s\", expected \"%s\"",
			      _i, out, r->out);
}
END_TEST

/* ---- query_parse ------------------------------------------------------- */

static const struct query_row {
	const char *qs;
	int status;             /* 0: parsed; else 400 InvalidArgument/InvalidURI */
	const char *action;     /* expected values, NULL when absent */
	const char *upload_id;
	const char *part_number;
} query_rows[] = {
	{ NULL, 0, NULL, NULL, NULL },
	{ "", 0, NULL, NULL, NULL },
	{ "action=get", 0, "get", NULL, NULL },
	{ "partNumber=3&uploadId=abc&action=upload", 0, "upload", "abc", "3" },
	{ "foo=1&action=get&bar", 0, "get", NULL, NULL },
	{ "action=get&&uploadId=u", 0, "get", "u", NULL },
	{ "&action=get&", 0, "get", NULL, NULL },
	{ "a=1&&b=2", 0, NULL, NULL, NULL },
	{ "action", 0, "", NULL, NULL },
	{ "action=", 0, "", NULL, NULL },
	{ "=x&action=y", 0, "y", NULL, NULL },
	{ "action=a=b", 0, "a=b", NULL, NULL },
	{ "Action=get", 0, NULL, NULL, NULL },        /* names are case-sensitive */
	{ "action=a+b", 0, "a b", NULL, NULL },
	{ "action=%2B", 0, "+", NULL, NULL },
	{ "uploadId=a%2Fb%3d", 0, NULL, "a/b=", NULL },
	{ "actio%6E=get", 0, "get", NULL, NULL },
	{ "upload%49d=x", 0, NULL, "x", NULL },
	{ "action%00=get", 0, NULL, NULL, NULL },     /* a different name */
	{ "foo=%zz&action=get", 0, "get", NULL, NULL }, /* unknown: ignored */
	{ "foo=1&foo=2", 0, NULL, NULL, NULL },
	{ "action=get&action=get", 400, NULL, NULL, NULL },
	{ "action&action", 400, NULL, NULL, NULL },
	{ "action=a&actio%6E=b", 400, NULL, NULL, NULL },
	{ "uploadId=x&partNumber=1&uploadId=y", 400, NULL, NULL, NULL },
	{ "action=%zz", 400, NULL, NULL, NULL },
	{ "action=get&uploadId=%4", 400, NULL, NULL, NULL },
	{ "partNumber=%", 400, NULL, NULL, NULL },
	{ "action=%00", 400, NULL, NULL, NULL },
	{ "uploadId=a%00b", 400, NULL, NULL, NULL },
};

static bool opt_str_eq(const char *a, const char *b)
{
	return (a == NULL || b == NULL) ? a == b : strcmp(a, b) == 0;
}

#define OPT(s) ((s) != NULL ? (s) : "(null)")

START_TEST(test_query_parse)
{
	const struct query_row *r = &query_rows[_i];
	struct query q;
	struct r2err err = { 0 };
	int rc;

	memset(&q, 0x5a, sizeof(q));     /* query_parse must initialise it */
	rc = query_parse(r->qs, &q, &err);
	if (r->status == 0) {
		ck_assert_msg(rc == 0, "query_parse(\"%s\"): rc %d (%d %s), expected 0",
			      OPT(r->qs), rc, err.status, OPT(err.code));
	} else {
		ck_assert_msg(rc == -1, "query_parse(\"%s\"): rc %d, expected -1",
			      OPT(r->qs), rc);
		ck_assert_msg(err.status == r->status, "query_parse(\"%s\"): status %d, expected %d",
			      OPT(r->qs), err.status, r->status);
	}
	ck_assert_msg(opt_str_eq(q.action, r->action),
		      "query_parse(\"%s\"): action \"%s\", expected \"%s\"",
		      OPT(r->qs), OPT(q.action), OPT(r->action));
	ck_assert_msg(opt_str_eq(q.upload_id, r->upload_id),
		      "query_parse(\"%s\"): uploadId \"%s\", expected \"%s\"",
		      OPT(r->qs), OPT(q.upload_id), OPT(r->upload_id));
	ck_assert_msg(opt_str_eq(q.part_number, r->part_number),
		      "query_parse(\"%s\"): partNumber \"%s\", expected \"%s\"",
		      OPT(r->qs), OPT(q.part_number), OPT(r->part_number));
	query_free(&q);
	ck_assert_msg(q.action == NULL && q.upload_id == NULL && q.part_number == NULL,
		      "query_free did not clear the struct");
}
END_TEST

/* Values around PARAM_MAX_BYTES, built at run time: name=<unit x count>. */
static const struct long_row {
	const char *name;
	const char *unit;        /* repeated `count` times as the raw value */
	size_t count;
	int status;              /* 0 or 400 */
	size_t decoded_len;      /* expected length of q.upload_id/action when 0 */
} long_rows[] = {
	{ "uploadId", "a", PARAM_MAX_BYTES, 0, PARAM_MAX_BYTES },
	{ "uploadId", "a", PARAM_MAX_BYTES + 1, 400, 0 },
	{ "uploadId", "%41", PARAM_MAX_BYTES, 0, PARAM_MAX_BYTES },   /* decoded length counts */
	{ "uploadId", "%41", PARAM_MAX_BYTES + 1, 400, 0 },
	{ "action", "+", PARAM_MAX_BYTES + 1, 400, 0 },
	{ "unknown", "a", 100000, 0, 0 },                           /* ignored: no limit */
};

START_TEST(test_query_long_values)
{
	const struct long_row *r = &long_rows[_i];
	size_t ulen = strlen(r->unit), nlen = strlen(r->name), i;
	char *qs = malloc(nlen + 1 + ulen * r->count + 1);
	const char *value;
	struct query q;
	struct r2err err = { 0 };
	int rc;

	ck_assert_ptr_nonnull(qs);
	memcpy(qs, r->name, nlen);
	qs[nlen] = '=';
	for (i = 0; i < r->count; i++)
		memcpy(qs + nlen + 1 + i * ulen, r->unit, ulen);
	qs[nlen + 1 + ulen * r->count] = '\0';

	rc = query_parse(qs, &q, &err);
	free(qs);
	value = strcmp(r->name, "action") == 0 ? q.action :
		strcmp(r->name, "uploadId") == 0 ? q.upload_id : NULL;
	if (r->status == 0) {
		ck_assert_msg(rc == 0, "query_parse(%s=%s x %zu): rc %d, expected 0",
			      r->name, r->unit, r->count, rc);
		if (r->decoded_len > 0)
			ck_assert_msg(value != NULL && strlen(value) == r->decoded_len,
				      "query_parse(%s=%s x %zu): value length %zu, expected %zu",
				      r->name, r->unit, r->count,
				      value ? strlen(value) : 0, r->decoded_len);
	} else {
		ck_assert_msg(rc == -1 && err.status == r->status,
			      "query_parse(%s=%s x %zu): rc %d status %d, expected -1/%d",
			      r->name, r->unit, r->count, rc, err.status, r->status);
		ck_assert_msg(q.action == NULL && q.upload_id == NULL && q.part_number == NULL,
			      "query_parse(%s=%s x %zu): struct not empty after error",
			      r->name, r->unit, r->count);
	}
	query_free(&q);
}
END_TEST

START_TEST(test_query_free_null)
{
	query_free(NULL);       /* documented as allowed; must not crash */
}
END_TEST

/* ---- uri_key_validate ------------------------------------------------------ */

static const struct key_row {
	const char *name;
	const char *unit;       /* the key is `unit` repeated `repeat` times */
	size_t unit_len;
	size_t repeat;
	const char *code;       /* NULL: valid; else 400 with this code */
} key_rows[] = {
	{ "empty", B(""), 1, "InvalidKey" },
	{ "one byte", B("a"), 1, NULL },
	{ "path", B("dir/sub/file.txt"), 1, NULL },
	{ "spaces and punctuation", B(" a b!\"#$%&'()*+,-.:;<=>?@[\\]^_`{|}~"), 1, NULL },
	{ "tab", B("a\tb"), 1, "InvalidKey" },
	{ "1024 bytes", B("a"), KEY_MAX_BYTES, NULL },
	{ "1025 bytes", B("a"), KEY_MAX_BYTES + 1, "KeyTooLongError" },
	{ "1024 bytes of 2-byte chars", B("\xc3\xa9"), KEY_MAX_BYTES / 2, NULL },
	{ "1024 bytes of 4-byte chars", B("\xf0\x9f\x98\x80"), KEY_MAX_BYTES / 4, NULL },
	{ "1028 bytes of 4-byte chars", B("\xf0\x9f\x98\x80"), KEY_MAX_BYTES / 4 + 1,
	  "KeyTooLongError" },
	{ "2-byte e-acute", B("caf\xc3\xa9"), 1, NULL },
	{ "U+0080 lowest 2-byte is C1", B("\xc2\x80"), 1, "InvalidKey" },
	{ "U+00A0 first after C1", B("\xc2\xa0"), 1, NULL },
	{ "3-byte euro", B("\xe2\x82\xac"), 1, NULL },
	{ "3-byte U+0800", B("\xe0\xa0\x80"), 1, NULL },
	{ "U+D7FF below surrogates", B("\xed\x9f\xbf"), 1, NULL },
	{ "U+E000 above surrogates", B("\xee\x80\x80"), 1, NULL },
	{ "U+FFFF", B("\xef\xbf\xbf"), 1, NULL },
	{ "4-byte emoji", B("smile-\xf0\x9f\x98\x80.txt"), 1, NULL },
	{ "U+10FFFF", B("\xf4\x8f\xbf\xbf"), 1, NULL },
	{ "lone continuation 0x80", B("a\x80"), 1, "InvalidKey" },
	{ "lone continuation 0xBF", B("\xbf"), 1, "InvalidKey" },
	{ "truncated 0xC3", B("a\xc3"), 1, "InvalidKey" },
	{ "truncated 3-byte", B("\xe2\x82"), 1, "InvalidKey" },
	{ "truncated 4-byte", B("\xf0\x9f\x98"), 1, "InvalidKey" },
	{ "bad continuation", B("\xc3\x28"), 1, "InvalidKey" },
	{ "overlong / C0 AF", B("\xc0\xaf"), 1, "InvalidKey" },
	{ "overlong C1 BF", B("\xc1\xbf"), 1, "InvalidKey" },
	{ "overlong 3-byte E0 80 AF", B("\xe0\x80\xaf"), 1, "InvalidKey" },
	{ "overlong 4-byte F0 80 80 AF", B("\xf0\x80\x80\xaf"), 1, "InvalidKey" },
	{ "surrogate ED A0 80", B("\xed\xa0\x80"), 1, "InvalidKey" },
	{ "surrogate ED BF BF", B("\xed\xbf\xbf"), 1, "InvalidKey" },
	{ "above U+10FFFF F4 90 80 80", B("\xf4\x90\x80\x80"), 1, "InvalidKey" },
	{ "F5 lead byte", B("\xf5\x80\x80\x80"), 1, "InvalidKey" },
	{ "F8 lead byte", B("\xf8\x88\x80\x80\x80"), 1, "InvalidKey" },
	{ "FF byte", B("\xff"), 1, "InvalidKey" },
	{ "control 0x01", B("a\x01"), 1, "InvalidKey" },
	{ "control 0x0A", B("a\nb"), 1, "InvalidKey" },
	{ "control 0x1F", B("\x1f"), 1, "InvalidKey" },
	{ "DEL 0x7F", B("a\x7f"), 1, "InvalidKey" },
	{ "C1 control C2 85", B("a\xc2\x85"), 1, "InvalidKey" },
	{ "C1 control C2 9F", B("\xc2\x9f"), 1, "InvalidKey" },
	{ "NUL inside", B("a\0b"), 1, "InvalidKey" },
};

START_TEST(test_key_validate)
{
	const struct key_row *r = &key_rows[_i];
	size_t len = r->unit_len * r->repeat, i;
	char *key = malloc(len + 1);
	struct r2err err = { 0 };
	int rc;

	ck_assert_ptr_nonnull(key);
	for (i = 0; i < r->repeat; i++)
		memcpy(key + i * r->unit_len, r->unit, r->unit_len);
	key[len] = '\0';
	rc = uri_key_validate(key, len, &err);
	free(key);

	if (r->code == NULL) {
		ck_assert_msg(rc == 0, "uri_key_validate(%s, %zu bytes): rc %d (%s: %s), expected 0",
			      r->name, len, rc, OPT(err.code), err.message);
	} else {
		ck_assert_msg(rc == -1, "uri_key_validate(%s, %zu bytes): rc %d, expected -1",
			      r->name, len, rc);
		ck_assert_msg(err.status == 400 && err.code != NULL &&
			      strcmp(err.code, r->code) == 0,
			      "uri_key_validate(%s): error %d %s, expected 400 %s",
			      r->name, err.status, OPT(err.code), r->code);
	}
}
END_TEST

/* ---- uri_key_from_request -------------------------------------------------- */

#define CGI "/cgi-bin/r2mpu.fcgi"

static const struct kfr_row {
	const char *request_uri;
	const char *script_name;
	const char *path_info;
	const char *mount;
	int status;              /* 0: *key is `key`; else the error */
	const char *key;         /* expected key (status 0) or error code */
} kfr_rows[] = {
	{ "/a/b.txt", NULL, NULL, NULL, 0, "a/b.txt" },
	{ "/a/b.txt?action=get&x=%zz", NULL, NULL, NULL, 0, "a/b.txt" },
	{ "/a#frag", NULL, NULL, NULL, 0, "a" },
	{ "/a+b", NULL, NULL, NULL, 0, "a+b" },                  /* '+' is not a space */
	{ CGI "/a%20b", CGI, "/a b", NULL, 0, "a b" },
	{ CGI "/a%20b?uploadId=1", CGI, "/a b", NULL, 0, "a b" },
	{ CGI "/dir/k", CGI, "/dir/k", NULL, 0, "dir/k" },
	/* mod_proxy_fcgi: SCRIPT_NAME is the whole path and there is no PATH_INFO. */
	{ "/dir/my%20k", "/dir/my k", NULL, NULL, 0, "dir/my k" },
	{ "/dir/k", "/dir/k", NULL, NULL, 0, "dir/k" },
	{ "/dir/k", "/dir/k", NULL, "/", 0, "dir/k" },            /* R2MPU_MOUNT=/: the root */
	{ "/dir/my%20k?action=get", "/dir/my k", NULL, "/", 0, "dir/my k" },
	{ "/files/dir/k", "/files/dir/k", NULL, "/files", 0, "dir/k" },
	{ "/k", "", "/k", NULL, 0, "k" },                         /* served at the root */
	/* Rewritten URL: SCRIPT_NAME is not a prefix, so PATH_INFO is trusted. */
	{ "/objects/x%2Fy", CGI, "/from-path-info", NULL, 0, "from-path-info" },
	/* Only at a '/' boundary: "...fcgiX" is another name. */
	{ CGI "X/k", CGI, "/pi", NULL, 0, "pi" },
	{ CGI "X/k", CGI, NULL, NULL, 0, "cgi-bin/r2mpu.fcgiX/k" },
	{ CGI, CGI, "", NULL, 0, "" },    /* "": the router decides (mpu-list takes it) */
	{ CGI "/", CGI, "/", NULL, 0, "" },    /* "": the router decides (mpu-list takes it) */
	{ CGI "?action=get", CGI, "", NULL, 0, "" },    /* "": the router decides (mpu-list takes it) */
	/* A mount point wins over SCRIPT_NAME. */
	{ "/files/a%20b", CGI, "/ignored", "/files", 0, "a b" },
	{ "/files/d/e?x=1", NULL, NULL, "/files", 0, "d/e" },
	{ "/other/a", NULL, NULL, "/files", 404, "NotUnderMount" },
	{ "/fil", NULL, NULL, "/files", 404, "NotUnderMount" },
	{ "/filesystem/a", NULL, NULL, "/files", 404, "NotUnderMount" },  /* '/' boundary */
	{ "/files", NULL, NULL, "/files", 0, "" },    /* "": the router decides (mpu-list takes it) */
	{ "/a", NULL, NULL, "", 0, "a" },                         /* "" is no mount */
	/* No REQUEST_URI: PATH_INFO as the server decoded it. */
	{ NULL, CGI, "/a b", NULL, 0, "a b" },
	{ "", CGI, "/a%20b", NULL, 0, "a%20b" },                 /* not decoded again */
	{ NULL, NULL, "//x", NULL, 0, "/x" },
	{ NULL, NULL, NULL, NULL, 0, "" },    /* "": the router decides (mpu-list takes it) */
	{ NULL, NULL, "/bad\x01", NULL, 400, "InvalidKey" },
	/* One leading '/' is removed, then the path is decoded exactly once. */
	{ "//a", NULL, NULL, NULL, 0, "/a" },
	{ "/%2F", NULL, NULL, NULL, 0, "/" },
	{ "/a%2fb", NULL, NULL, NULL, 0, "a/b" },
	{ "/%2Fa", NULL, NULL, NULL, 0, "/a" },
	{ "/%2520", NULL, NULL, NULL, 0, "%20" },
	{ "/caf%C3%A9", NULL, NULL, NULL, 0, "caf\xc3\xa9" },
	{ "/", NULL, NULL, NULL, 0, "" },    /* "": the router decides (mpu-list takes it) */
	{ "/?action=get", NULL, NULL, NULL, 0, "" },    /* "": the router decides (mpu-list takes it) */
	{ "/%zz", NULL, NULL, NULL, 400, "InvalidURI" },
	{ "/a%2", NULL, NULL, NULL, 400, "InvalidURI" },
	{ "/a%00b", NULL, NULL, NULL, 400, "InvalidKey" },
	{ "/a%0Ab", NULL, NULL, NULL, 400, "InvalidKey" },
	{ "/a%C3", NULL, NULL, NULL, 400, "InvalidKey" },
	{ "/%ED%A0%80", NULL, NULL, NULL, 400, "InvalidKey" },
};

START_TEST(test_key_from_request)
{
	const struct kfr_row *r = &kfr_rows[_i];
	struct r2err err = { 0 };
	char got[128] = "";
	char sentinel[] = "unset";
	char *key = sentinel;
	size_t key_len = 12345;
	bool key_null, fits = false;
	int rc;

	rc = uri_key_from_request(r->request_uri, r->script_name, r->path_info, r->mount,
				  &key, &key_len, &err);
	key_null = key == NULL;
	if (rc == 0 && key != NULL && key != sentinel && key_len < sizeof(got)) {
		memcpy(got, key, key_len + 1);
		fits = true;
	}
	if (rc == 0 && key != sentinel)
		free(key);

#define KFR_ARGS OPT(r->request_uri), OPT(r->script_name), OPT(r->path_info), OPT(r->mount)
	if (r->status == 0) {
		ck_assert_msg(rc == 0,
			      "uri_key_from_request(uri=%s sn=%s pi=%s mount=%s): rc %d (%d %s), "
			      "expected key \"%s\"", KFR_ARGS, rc, err.status, OPT(err.code),
			      r->key);
		ck_assert_msg(fits && key_len == strlen(r->key) && strcmp(got, r->key) == 0,
			      "uri_key_from_request(uri=%s sn=%s pi=%s mount=%s): key \"%s\" (%zu), "
			      "expected \"%s\"", KFR_ARGS, got, key_len, r->key);
	} else {
		ck_assert_msg(rc == -1,
			      "uri_key_from_request(uri=%s sn=%s pi=%s mount=%s): rc %d, key \"%s\", "
			      "expected %d %s", KFR_ARGS, rc, got, r->status, r->key);
		ck_assert_msg(err.status == r->status && err.code != NULL &&
			      strcmp(err.code, r->key) == 0,
			      "uri_key_from_request(uri=%s sn=%s pi=%s mount=%s): error %d %s, "
			      "expected %d %s", KFR_ARGS, err.status, OPT(err.code),
			      r->status, r->key);
		ck_assert_msg(key_null,
			      "uri_key_from_request(uri=%s sn=%s pi=%s mount=%s): *key not NULL",
			      KFR_ARGS);
	}
#undef KFR_ARGS
}
END_TEST

static Suite *uri_suite(void)
{
	Suite *s = suite_create("uri");
	TCase *tc;

	tc = tcase_create("uri_percent_decode");
	tcase_add_loop_test(tc, test_percent_decode, 0, NROWS(pd_rows));
	suite_add_tcase(s, tc);

	tc = tcase_create("uri_encode");
	tcase_add_loop_test(tc, test_uri_encode, 0, NROWS(enc_rows));
	suite_add_tcase(s, tc);

	tc = tcase_create("query_parse");
	tcase_add_loop_test(tc, test_query_parse, 0, NROWS(query_rows));
	tcase_add_loop_test(tc, test_query_long_values, 0, NROWS(long_rows));
	tcase_add_test(tc, test_query_free_null);
	suite_add_tcase(s, tc);

	tc = tcase_create("uri_key_validate");
	tcase_add_loop_test(tc, test_key_validate, 0, NROWS(key_rows));
	suite_add_tcase(s, tc);

	tc = tcase_create("uri_key_from_request");
	tcase_add_loop_test(tc, test_key_from_request, 0, NROWS(kfr_rows));
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(uri_suite)
