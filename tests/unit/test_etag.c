/* SPDX-License-Identifier: MIT */
/* test_etag.c: unit tests for etag.c and the digests under it (digest.c: hex, streaming MD5) -- multipart ETags, etag_equal */
#include "check_main.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "etag.h"

#define B(s) s, sizeof(s) - 1

/* The reference: one-shot MD5 straight from OpenSSL, not through etag.c. */
static void ref_md5(const void *data, size_t len, unsigned char out[MD5_LEN])
{
	unsigned int n = 0;

	ck_assert_msg(EVP_Digest(data, len, out, &n, EVP_md5(), NULL) == 1 && n == MD5_LEN,
		      "EVP_Digest(MD5) failed");
}

static void ref_hex(const unsigned char *in, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", in[i]);
	out[2 * n] = '\0';
}

/* ---- hex_encode / hex_decode ------------------------------------------- */

static const struct hex_row {
	const unsigned char *bytes;
	size_t n;
	const char *hex;
} hex_rows[] = {
	{ (const unsigned char *)"", 0, "" },
	{ (const unsigned char *)"\x00", 1, "00" },
	{ (const unsigned char *)"\xff", 1, "ff" },
	{ (const unsigned char *)"\x0f\xf0", 2, "0ff0" },
	{ (const unsigned char *)"\x01\x23\x45\x67\x89\xab\xcd\xef", 8, "0123456789abcdef" },
	{ (const unsigned char *)"\xd4\x1d\x8c\xd9\x8f\x00\xb2\x04"
	  "\xe9\x80\x09\x98\xec\xf8\x42\x7e", 16, "d41d8cd98f00b204e9800998ecf8427e" },
};

START_TEST(test_hex_round_trip)
{
	const struct hex_row *r = &hex_rows[_i];
	char hex[2 * 16 + 2];
	unsigned char bytes[16 + 1];

	memset(hex, 'X', sizeof(hex));
	hex_encode(r->bytes, r->n, hex);
	ck_assert_msg(strcmp(hex, r->hex) == 0, "hex_encode(%zu bytes) = \"%s\", expected \"%s\"",
		      r->n, hex, r->hex);

	memset(bytes, 0xA5, sizeof(bytes));
	ck_assert_msg(hex_decode(r->hex, bytes, r->n) == 0, "hex_decode(\"%s\", %zu) failed",
		      r->hex, r->n);
	ck_assert_msg(memcmp(bytes, r->bytes, r->n) == 0, "hex_decode(\"%s\") wrong bytes",
		      r->hex);
	ck_assert_msg(bytes[r->n] == 0xA5, "hex_decode(\"%s\") wrote past n bytes", r->hex);
}
END_TEST

static const struct unhex_row {
	const char *hex;
	size_t n;
	int rc;
	const unsigned char *bytes;    /* expected when rc is 0 */
} unhex_rows[] = {
	{ "ABCDEF", 3, 0, (const unsigned char *)"\xab\xcd\xef" },
	{ "aBcD", 2, 0, (const unsigned char *)"\xab\xcd" },
	{ "D41D8CD98F00B204E9800998ECF8427E", 16, 0,
	  (const unsigned char *)"\xd4\x1d\x8c\xd9\x8f\x00\xb2\x04"
	  "\xe9\x80\x09\x98\xec\xf8\x42\x7e" },
	{ "abc", 1, -1, NULL },         /* odd length */
	{ "abc", 2, -1, NULL },
	{ "a", 1, -1, NULL },
	{ "", 1, -1, NULL },
	{ "abcd", 1, -1, NULL },        /* too long for n */
	{ "ab", 2, -1, NULL },          /* too short for n */
	{ "zz", 1, -1, NULL },
	{ "0g", 1, -1, NULL },
	{ "g0", 1, -1, NULL },
	{ " 1", 1, -1, NULL },
	{ "1 ", 1, -1, NULL },
	{ "+1", 1, -1, NULL },
	{ "-1", 1, -1, NULL },
	{ "0x", 1, -1, NULL },
	{ "0x1f", 2, -1, NULL },
	{ "d41d8cd98f00b204e9800998ecf8427", 16, -1, NULL },
	{ "d41d8cd98f00b204e9800998ecf8427e-", 16, -1, NULL },
	{ "d41d8cd98f00b204e9800998ecf8427\"", 16, -1, NULL },
};

START_TEST(test_hex_decode)
{
	const struct unhex_row *r = &unhex_rows[_i];
	unsigned char out[16];
	int rc = hex_decode(r->hex, out, r->n);

	ck_assert_msg(rc == r->rc, "hex_decode(\"%s\", %zu) = %d, expected %d", r->hex, r->n,
		      rc, r->rc);
	if (r->rc == 0)
		ck_assert_msg(memcmp(out, r->bytes, r->n) == 0, "hex_decode(\"%s\") wrong bytes",
			      r->hex);
}
END_TEST

/* ---- MD5: known vectors (RFC 1321 A.5), streaming vs one-shot ----------- */

static const struct md5_row {
	const char *in;
	size_t len;
	const char *hex;
} md5_rows[] = {
	{ B(""), "d41d8cd98f00b204e9800998ecf8427e" },
	{ B("a"), "0cc175b9c0f1b6a831c399e269772661" },
	{ B("abc"), "900150983cd24fb0d6963f7d28e17f72" },
	{ B("message digest"), "f96b697d7cb7938d525a2f31aaf161d0" },
	{ B("abcdefghijklmnopqrstuvwxyz"), "c3fcd3d76192e4007dfb496cca67e13b" },
	{ B("1234567890123456789012345678901234567890"
	    "1234567890123456789012345678901234567890"), "57edf4a22be3c955ac49da2e2107b67a" },
};

/* Chunk sizes the input is fed in; 0 means all at once. */
static const size_t md5_chunks[] = { 0, 1, 3, 7, 64 };

START_TEST(test_md5_vectors)
{
	const struct md5_row *r = &md5_rows[_i];
	unsigned char digest[MD5_LEN], ref[MD5_LEN];
	char etag[ETAG_MAX];
	size_t c;

	ref_md5(r->in, r->len, ref);
	for (c = 0; c < sizeof(md5_chunks) / sizeof(md5_chunks[0]); c++) {
		size_t step = md5_chunks[c] ? md5_chunks[c] : r->len, off;
		struct md5 m;

		ck_assert_int_eq(md5_init(&m), 0);
		for (off = 0; off < r->len; off += step)
			md5_update(&m, r->in + off, r->len - off < step ? r->len - off : step);
		md5_final(&m, digest);
		ck_assert_msg(m.ctx == NULL, "md5_final did not release the context");
		md5_free(&m);                    /* documented as safe after md5_final */

		etag_from_md5(digest, etag);
		ck_assert_msg(strcmp(etag, r->hex) == 0,
			      "md5(\"%s\") in chunks of %zu = %s, expected %s", r->in,
			      md5_chunks[c], etag, r->hex);
		ck_assert_msg(memcmp(digest, ref, MD5_LEN) == 0,
			      "md5(\"%s\") in chunks of %zu differs from EVP_Digest", r->in,
			      md5_chunks[c]);
	}
}
END_TEST

START_TEST(test_md5_free_zeroed)
{
	struct md5 m = { 0 };

	md5_free(&m);                            /* documented as safe */
	ck_assert_ptr_null(m.ctx);
	ck_assert_int_eq(md5_init(&m), 0);
	md5_update(&m, "abc", 3);
	md5_free(&m);                            /* abandon without md5_final */
	ck_assert_ptr_null(m.ctx);
}
END_TEST

/* A 1 MiB body through md5_update in uneven pieces equals one-shot EVP. */
START_TEST(test_md5_large_streaming)
{
	const size_t len = 1024 * 1024 + 13;
	unsigned char *buf = malloc(len), digest[MD5_LEN], ref[MD5_LEN];
	size_t off = 0, step = 1, i;
	struct md5 m;

	ck_assert_ptr_nonnull(buf);
	for (i = 0; i < len; i++)
		buf[i] = (unsigned char)(i * 31 + (i >> 8));
	ref_md5(buf, len, ref);
	ck_assert_int_eq(md5_init(&m), 0);
	while (off < len) {
		size_t n = len - off < step ? len - off : step;

		md5_update(&m, buf + off, n);
		off += n;
		step = step * 3 + 1;
	}
	md5_final(&m, digest);
	free(buf);
	ck_assert_msg(memcmp(digest, ref, MD5_LEN) == 0, "streamed MD5 differs from EVP_Digest");
}
END_TEST

/* ---- etag_multipart ---------------------------------------------------- */

static const struct mp_row {
	const char *name;
	const char *parts[4];    /* the part bodies, when generated is 0 */
	size_t nparts;
	size_t generated;        /* > 0: that many parts, body "part-<i>" */
	const char *known;       /* an etag computed outside C, or NULL */
} mp_rows[] = {
	{ "no parts", { NULL }, 0, 0, "d41d8cd98f00b204e9800998ecf8427e" },
	{ "a,b,c", { "a", "b", "c" }, 3, 0, "4054c6f7787ecb7b323323155b0c0583-3" },
	{ "one empty part", { "" }, 1, 0, "59adb24ef3cdbe0297f05b395827453f-1" },
	{ "one part", { "hello" }, 1, 0, NULL },
	{ "two equal parts", { "x", "x" }, 2, 0, NULL },
	{ "four parts", { "abc", "", "message digest", "\xff" }, 4, 0, NULL },
	{ "10 parts", { NULL }, 0, 10, NULL },
	{ "10000 parts", { NULL }, 0, 10000, NULL },
};

START_TEST(test_etag_multipart)
{
	const struct mp_row *r = &mp_rows[_i];
	size_t n = r->generated ? r->generated : r->nparts, i;
	unsigned char (*md5s)[MD5_LEN] = calloc(n ? n : 1, sizeof(*md5s));
	unsigned char *concat = malloc(n * MD5_LEN + 1), digest[MD5_LEN];
	char expected[ETAG_MAX + 16], got[ETAG_MAX];
	int rc;

	ck_assert_ptr_nonnull(md5s);
	ck_assert_ptr_nonnull(concat);
	for (i = 0; i < n; i++) {
		char body[32];
		const char *p = body;

		if (r->generated)
			snprintf(body, sizeof(body), "part-%zu", i + 1);
		else
			p = r->parts[i];
		ref_md5(p, strlen(p), md5s[i]);
		memcpy(concat + i * MD5_LEN, md5s[i], MD5_LEN);
	}
	ref_md5(concat, n * MD5_LEN, digest);
	ref_hex(digest, MD5_LEN, expected);
	if (n > 0)
		snprintf(expected + 2 * MD5_LEN, sizeof(expected) - 2 * MD5_LEN, "-%zu", n);

	memset(got, 'X', sizeof(got));
	rc = etag_multipart((const unsigned char (*)[MD5_LEN])md5s, n, got);
	free(md5s);
	free(concat);

	ck_assert_msg(rc == 0, "etag_multipart(%s) rc %d", r->name, rc);
	ck_assert_msg(memchr(got, '\0', sizeof(got)) != NULL,
		      "etag_multipart(%s): not NUL-terminated", r->name);
	ck_assert_msg(strcmp(got, expected) == 0, "etag_multipart(%s) = %s, expected %s",
		      r->name, got, expected);
	if (r->known != NULL)
		ck_assert_msg(strcmp(got, r->known) == 0, "etag_multipart(%s) = %s, expected %s",
			      r->name, got, r->known);
}
END_TEST

/* ---- etag_equal -------------------------------------------------------- */

#define OURS "900150983cd24fb0d6963f7d28e17f72"

static const struct eq_row {
	const char *theirs;
	const char *ours;
	int expected;
} eq_rows[] = {
	{ OURS, OURS, 1 },
	{ "\"" OURS "\"", OURS, 1 },
	{ "900150983CD24FB0D6963F7D28E17F72", OURS, 1 },
	{ "\"900150983Cd24fB0D6963F7D28E17F72\"", OURS, 1 },
	{ "\"" OURS "-3\"", OURS "-3", 1 },
	{ OURS "-3", OURS "-3", 1 },
	{ OURS "-3", OURS, 0 },
	{ OURS, OURS "-3", 0 },
	{ "\"" OURS, OURS, 0 },                     /* only an opening quote */
	{ OURS "\"", OURS, 0 },                     /* only a closing quote */
	{ "\"\"" OURS "\"\"", OURS, 0 },            /* quotes stripped once */
	{ "'" OURS "'", OURS, 0 },
	{ "W/\"" OURS "\"", OURS, 0 },
	{ " " OURS, OURS, 0 },
	{ "900150983cd24fb0d6963f7d28e17f7", OURS, 0 },
	{ "900150983cd24fb0d6963f7d28e17f73", OURS, 0 },
	{ "", OURS, 0 },
	{ "\"\"", OURS, 0 },
	{ "\"", OURS, 0 },
	{ "\"\"", "", 1 },
};

START_TEST(test_etag_equal)
{
	const struct eq_row *r = &eq_rows[_i];
	int got = etag_equal(r->theirs, r->ours);

	ck_assert_msg(!!got == r->expected, "etag_equal('%s', '%s') = %d, expected %d",
		      r->theirs, r->ours, got, r->expected);
}
END_TEST

static Suite *etag_suite(void)
{
	Suite *s = suite_create("etag");
	TCase *tc;

	tc = tcase_create("hex");
	tcase_add_loop_test(tc, test_hex_round_trip, 0, NROWS(hex_rows));
	tcase_add_loop_test(tc, test_hex_decode, 0, NROWS(unhex_rows));
	suite_add_tcase(s, tc);

	tc = tcase_create("md5");
	tcase_add_loop_test(tc, test_md5_vectors, 0, NROWS(md5_rows));
	tcase_add_test(tc, test_md5_free_zeroed);
	tcase_add_test(tc, test_md5_large_streaming);
	suite_add_tcase(s, tc);

	tc = tcase_create("etag_multipart");
	tcase_add_loop_test(tc, test_etag_multipart, 0, NROWS(mp_rows));
	suite_add_tcase(s, tc);

	tc = tcase_create("etag_equal");
	tcase_add_loop_test(tc, test_etag_equal, 0, NROWS(eq_rows));
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(etag_suite)
