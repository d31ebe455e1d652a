/* SPDX-License-Identifier: MIT */
/* fuzz_s3_xml.c: libFuzzer target for every S3 answer parser in s3_xml.c */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "multipart.h"
#include "s3_xml.h"
#include "store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void quiet(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data;
	struct s3_error_doc doc;
	struct s3_part_set set = { 0 };
	struct s3_upload_set uploads = { 0 };
	const struct upload_page page = { NULL, NULL, 3 };   /* a cap of 3 uploads */
	char *text;
	char id[S3_UPLOAD_ID_MAX], etag[ETAG_MAX];

	xmlSetGenericErrorFunc(NULL, quiet);
	(void)s3_xml_parse_error(body, size, &doc);
	(void)s3_xml_parse_initiate(body, size, id);
	(void)s3_xml_parse_complete(body, size, etag);
	(void)s3_xml_parse_list_parts(body, size, &set);
	(void)s3_xml_parse_list_parts(body, size, &set);   /* a second page appends */
	s3_part_set_free(&set);
	(void)s3_xml_parse_list_uploads(body, size, &uploads, &page);
	(void)s3_xml_parse_list_uploads(body, size, &uploads, &page);   /* the cap across pages */
	if (uploads.count > 3)
		abort();
	upload_list_free(uploads.uploads, uploads.count);
	text = malloc(size + 1);
	if (text != NULL) {
		memcpy(text, data, size);
		text[size] = '\0';
		(void)s3_xml_parse_iso8601(text);
		free(text);
	}
	return 0;
}
