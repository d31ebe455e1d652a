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
	/* A marker, so the filter runs; the cut to page.max is the caller's (store_s3.c). */
	const struct upload_page page = { "k", NULL, 3 };
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
	(void)s3_xml_parse_list_uploads(body, size, &uploads, &page);   /* appends */
	if (uploads.count > uploads.cap)
		abort();
	for (size_t i = 0; i < uploads.count; i++)   /* whole entries, each past the marker */
		if (uploads.uploads[i].key == NULL || uploads.uploads[i].upload_id == NULL ||
		    uploads.uploads[i].key[0] == '\0' ||
		    !upload_after_id_marker(&uploads.uploads[i], &page))
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
