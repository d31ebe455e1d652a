/* SPDX-License-Identifier: MIT */
/* test_s3_xml.c: unit tests for s3_xml.c -- answers captured from moto and radosgw, the Complete body, error mapping */
#include "check_main.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "multipart.h"
#include "s3_xml.h"
#include "store.h"

#define CAPTURED "tests/s3/captured/"

/* A captured answer, read whole (caller frees). Run from the repository's top. */
static char *slurp(const char *name, size_t *len)
{
	char path[256], *buf;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), CAPTURED "%s", name);
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s (run from the repository's top)", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* ---- documents captured from the two servers -------------------------------- */

static const struct error_row {
	const char *file;
	const char *code;
	int status;              /* what r2mpu answers */
	const char *our_code;
} error_rows[] = {
	{ "moto/error-nosuchupload.xml", "NoSuchUpload", 404, "NoSuchUpload" },
	{ "radosgw/error-nosuchupload.xml", "NoSuchUpload", 404, "NoSuchUpload" },
	{ "moto/error-nosuchkey.xml", "NoSuchKey", 404, "NoSuchKey" },
	{ "radosgw/error-nosuchkey.xml", "NoSuchKey", 404, "NoSuchKey" },
	{ "moto/error-invalidpart.xml", "InvalidPart", 400, "InvalidPart" },
	{ "radosgw/error-invalidpart.xml", "InvalidPart", 400, "InvalidPart" },
	{ "moto/error-entitytoosmall.xml", "EntityTooSmall", 400, "EntityTooSmall" },
	{ "radosgw/error-entitytoosmall.xml", "EntityTooSmall", 400, "EntityTooSmall" },
	{ "moto/error-signature.xml", "SignatureDoesNotMatch", 502, "StoreAuthFailed" },
	{ "radosgw/error-signature.xml", "SignatureDoesNotMatch", 502, "StoreAuthFailed" },
	{ "moto/error-invalidaccesskeyid.xml", "InvalidAccessKeyId", 502, "StoreAuthFailed" },
	{ "radosgw/error-invalidaccesskeyid.xml", "InvalidAccessKeyId", 502, "StoreAuthFailed" },
	{ "radosgw/error-nosuchupload-complete.xml", "InternalError", 502, "StoreError" },
};

START_TEST(test_error_documents)
{
	const struct error_row *r = &error_rows[_i];
	struct s3_error_doc doc;
	struct r2err err;
	size_t len;
	char *body = slurp(r->file, &len);

	ck_assert_msg(s3_xml_parse_error(body, len, &doc) == 0, "%s: not an error document", r->file);
	ck_assert_msg(strcmp(doc.code, r->code) == 0, "%s: code %s", r->file, doc.code);
	s3_xml_map_error(r->status >= 500 ? 500 : 400, &doc, &err);
	ck_assert_msg(err.status == r->status && strcmp(err.code, r->our_code) == 0,
		      "%s: mapped to %d %s", r->file, err.status, err.code);
	/* Only errors about the client's request carry the store's words. */
	if (err.status >= 500)
		ck_assert_msg(strstr(err.message, doc.message) == NULL || doc.message[0] == '\0',
			      "%s: the store's message reached the client", r->file);
	free(body);
}
END_TEST

START_TEST(test_initiate)
{
	static const struct { const char *file, *id; } rows[] = {
		{ "moto/initiate.xml", "Dis8STw2wZXbqn57MdC9zTvmaLkufcqEaU2W6fD8Tzqrxr7RabeYe0Kw" },
		{ "radosgw/initiate.xml", "2~Ht79XuuIk9o9dscKuH89Cwwix3GHd9F" },
	};
	char id[S3_UPLOAD_ID_MAX];
	size_t i, len;

	for (i = 0; i < 2; i++) {
		char *body = slurp(rows[i].file, &len);

		ck_assert_int_eq(s3_xml_parse_initiate(body, len, id), 0);
		ck_assert_str_eq(id, rows[i].id);
		ck_assert_int_eq(s3_xml_parse_error(body, len, &(struct s3_error_doc){ 0 }), -1);
		free(body);
	}
}
END_TEST

START_TEST(test_complete_result)
{
	char etag[ETAG_MAX];
	size_t len;
	char *body = slurp("moto/complete.xml", &len);   /* <CompleteMultipartUploadResponse> */

	ck_assert_int_eq(s3_xml_parse_complete(body, len, etag), 0);
	ck_assert_str_eq(etag, "329c97d4eb66b76dad879e618b2ad6f8-2");
	free(body);
	body = slurp("radosgw/complete.xml", &len);       /* empty <ETag></ETag> */
	ck_assert_int_eq(s3_xml_parse_complete(body, len, etag), 0);
	ck_assert_str_eq(etag, "");
	free(body);
	body = slurp("radosgw/error-invalidpart.xml", &len);
	ck_assert_int_eq(s3_xml_parse_complete(body, len, etag), -1);
	free(body);
}
END_TEST

START_TEST(test_list_parts)
{
	static const struct {
		const char *file;
		const char *etag1, *etag2;
	} rows[] = {
		{ "moto/listparts.xml", "96f262e90e3bbe0946f07580dc3780c0",
		  "53f053167ce1f62e80a3b5db64f6aa32" },
		/* radosgw escapes the quotes as &quot; */
		{ "radosgw/listparts.xml", "d2c1375c1f84971f337c76095c25d9bf",
		  "8a85740a3cd98d5b63744dd9f3a07a61" },
	};
	size_t i, len;

	for (i = 0; i < 2; i++) {
		struct s3_part_set set = { 0 };
		char *body = slurp(rows[i].file, &len);

		ck_assert_int_eq(s3_xml_parse_list_parts(body, len, &set), 0);
		ck_assert_int_eq(set.count, 2);
		ck_assert_int_eq(set.parts[0].number, 1);
		ck_assert_int_eq(set.parts[0].size, 5242880);
		ck_assert_str_eq(set.parts[0].etag, rows[i].etag1);
		ck_assert_int_eq(set.parts[1].number, 2);
		ck_assert_int_eq(set.parts[1].size, 1024);
		ck_assert_str_eq(set.parts[1].etag, rows[i].etag2);
		ck_assert(!set.truncated);
		/* A second page appends. */
		ck_assert_int_eq(s3_xml_parse_list_parts(body, len, &set), 0);
		ck_assert_int_eq(set.count, 4);
		s3_part_set_free(&set);
		free(body);
	}
}
END_TEST

/* ---- hostile or broken answers ------------------------------------------------- */

static const char *const garbage_rows[] = {
	"", "not xml", "<Error>", "<Error><Code>X</Code>", "<?xml version=\"1.0\"?><Other/>",
	"<!DOCTYPE x [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">"
	"<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\"><!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">"
	"]><Error><Code>&d;&d;&d;&d;&d;&d;</Code></Error>",
	"<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><InitiateMultipartUploadResult>"
	"<UploadId>&e;</UploadId></InitiateMultipartUploadResult>",
	"<ListPartsResult><Part><PartNumber>0</PartNumber><Size>1</Size></Part></ListPartsResult>",
	"<ListPartsResult><Part><PartNumber>1</PartNumber><Size>x</Size></Part></ListPartsResult>",
	"<ListPartsResult><Part><PartNumber>1x</PartNumber><Size>1</Size></Part></ListPartsResult>",
	"<ListPartsResult><Part><Size>1</Size></Part></ListPartsResult>",
};

START_TEST(test_garbage)
{
	const char *body = garbage_rows[_i];
	size_t len = strlen(body);
	struct s3_error_doc doc;
	struct s3_part_set set = { 0 };
	char id[S3_UPLOAD_ID_MAX], etag[ETAG_MAX];

	/* Nothing crashes; nothing reads a file; a broken document is not an answer. */
	if (s3_xml_parse_error(body, len, &doc) == 0)
		ck_assert_msg(strlen(doc.code) < sizeof(doc.code), "row %d", _i);
	ck_assert_msg(s3_xml_parse_initiate(body, len, id) < 0 || strstr(id, "root:") == NULL,
		      "row %d: an external entity was read", _i);
	if (_i >= 7)
		ck_assert_msg(s3_xml_parse_list_parts(body, len, &set) < 0, "row %d", _i);
	(void)s3_xml_parse_complete(body, len, etag);
	s3_part_set_free(&set);
}
END_TEST

/* ---- the Complete body we send ---------------------------------------------------- */

START_TEST(test_complete_body)
{
	struct part_ref refs[2] = { { 1, "\"abc\"" }, { 10000, "<&>" } };
	struct part_list parts = { refs, 2 }, none = { NULL, 0 };
	size_t len;
	char *xml = s3_xml_complete_body(&parts, &len);

	ck_assert_ptr_nonnull(xml);
	ck_assert_int_eq(strlen(xml), len);
	ck_assert_ptr_nonnull(strstr(xml, "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber>"));
	ck_assert_ptr_nonnull(strstr(xml, "<PartNumber>10000</PartNumber><ETag>&lt;&amp;&gt;</ETag>"));
	ck_assert_ptr_null(strstr(xml, "<&>"));
	free(xml);
	xml = s3_xml_complete_body(&none, &len);
	ck_assert_ptr_nonnull(xml);
	ck_assert_ptr_nonnull(strstr(xml, "<CompleteMultipartUpload/>"));
	free(xml);
}
END_TEST

/* ---- error mapping without a document ---------------------------------------------- */

static const struct map_row {
	int http_status;
	const char *code;        /* NULL: no document */
	int status;
	const char *our_code;
} map_rows[] = {
	{ 500, NULL, 502, "StoreError" },
	{ 503, NULL, 503, "StoreBusy" },
	{ 503, "SlowDown", 503, "StoreBusy" },
	{ 403, "AccessDenied", 502, "StoreAuthFailed" },
	{ 403, "RequestTimeTooSkewed", 502, "StoreAuthFailed" },
	{ 404, "NoSuchBucket", 502, "StoreMisconfigured" },
	{ 400, "MalformedXML", 400, "MalformedXML" },
	{ 400, "InvalidPartOrder", 400, "InvalidPartOrder" },
	{ 400, "SomethingNew", 502, "StoreError" },
	{ 400, "BadDigest", 400, "BadDigest" },
};

START_TEST(test_map_error)
{
	const struct map_row *r = &map_rows[_i];
	struct s3_error_doc doc = { "", "the store's words" };
	struct r2err err;

	if (r->code != NULL)
		snprintf(doc.code, sizeof(doc.code), "%s", r->code);
	s3_xml_map_error(r->http_status, r->code ? &doc : NULL, &err);
	ck_assert_msg(err.status == r->status && strcmp(err.code, r->our_code) == 0,
		      "%d %s -> %d %s", r->http_status, r->code ? r->code : "-", err.status, err.code);
	if (err.status == 400)
		ck_assert_ptr_nonnull(strstr(err.message, "the store's words"));
	else
		ck_assert_ptr_null(strstr(err.message, "the store's words"));
}
END_TEST

static Suite *s3_xml_suite(void)
{
	Suite *s = suite_create("s3_xml");
	TCase *tc = tcase_create("s3_xml");

	tcase_add_loop_test(tc, test_error_documents, 0, NROWS(error_rows));
	tcase_add_test(tc, test_initiate);
	tcase_add_test(tc, test_complete_result);
	tcase_add_test(tc, test_list_parts);
	tcase_add_loop_test(tc, test_garbage, 0, NROWS(garbage_rows));
	tcase_add_test(tc, test_complete_body);
	tcase_add_loop_test(tc, test_map_error, 0, NROWS(map_rows));
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(s3_xml_suite)
