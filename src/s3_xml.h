/* SPDX-License-Identifier: MIT */
/* s3_xml.h: S3's XML documents in and out (libxml2), and what S3's errors mean to r2mpu's clients */
#ifndef R2MPU_S3_XML_H
#define R2MPU_S3_XML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "errors.h"
#include "etag.h"
#include "uri.h"

/* The store's types the listings and the complete body are made of (store.h, multipart.h). */
struct upload_info;
struct upload_page;
struct part_list;

#define S3_UPLOAD_ID_MAX 1024
#define KEY_BUF (KEY_MAX_BYTES + 2)   /* a key and its NUL, and one byte to see a longer one */

struct s3_error_doc {
	char code[64];
	char message[256];
};

/* S3 quotes ETags ("abc"); r2mpu keeps them bare. Only a quote at both ends goes. */
void s3_xml_etag_unquote(char *s);

/* <Error><Code/><Message/></Error>: 0 when body is one, else -1. */
int s3_xml_parse_error(const char *body, size_t len, struct s3_error_doc *out);

/* <InitiateMultipartUploadResult><UploadId/>: 0 with upload_id set, else -1. */
int s3_xml_parse_initiate(const char *body, size_t len, char upload_id[S3_UPLOAD_ID_MAX]);

/*
 * <CompleteMultipartUploadResult><ETag/>: 0 with the etag unquoted (it may
 * be empty: radosgw sends an empty one), else -1 (an <Error> document
 * arrives with status 200 when Complete fails late).
 */
int s3_xml_parse_complete(const char *body, size_t len, char etag[ETAG_MAX]);

struct s3_part_info {
	int number;
	char etag[ETAG_MAX];     /* unquoted */
	uint64_t size;
};

/* Every part of an upload, gathered over ListParts pages. */
struct s3_part_set {
	struct s3_part_info *parts;    /* owned, grows page by page */
	size_t count, cap;
	bool truncated;                /* of the last page parsed */
	int next_marker;               /* NextPartNumberMarker of that page */
};

/* Append one <ListPartsResult> page's parts to *set. -1 when it is not one. */
int s3_xml_parse_list_parts(const char *body, size_t len, struct s3_part_set *set);
void s3_part_set_free(struct s3_part_set *set);   /* set may be NULL */

/*
 * Uploads in progress, gathered over ListMultipartUploads pages: at most a
 * listing's page (LIST_UPLOADS_MAX) and one S3 page more, unless a server
 * ignores max-uploads (moto); then the answer's size in bytes bounds it.
 */
#define S3_UPLOAD_SET_MAX (1000 * 1000)
struct s3_upload_set {
	struct upload_info *uploads;   /* owned (upload_list_free), grows page by page */
	size_t count, cap;
	bool truncated;                /* of the last page parsed */
	char next_key[KEY_BUF];        /* NextKeyMarker of that page */
	char next_upload_id[S3_UPLOAD_ID_MAX];   /* NextUploadIdMarker */
};

/*
 * Append one <ListMultipartUploadsResult> page's uploads that come after
 * page's marker (upload_after_marker) to *set; the caller sorts and cuts
 * to page->max. -1 when it is not one, or an upload lacks its Key,
 * UploadId or a readable Initiated time. (Some servers, moto among them,
 * ignore the markers and the page size: the filter keeps a listing going
 * forward.)
 */
int s3_xml_parse_list_uploads(const char *body, size_t len, struct s3_upload_set *set,
			      const struct upload_page *page);

/* "2026-11-25T19:00:00.000Z" -> Unix time; -1 when it is not such a time. */
time_t s3_xml_parse_iso8601(const char *s);

/*
 * <CompleteMultipartUpload> for `parts`, written with libxml2 so etags are
 * escaped. Returns a malloc'd buffer (caller frees) and its length, or NULL.
 */
char *s3_xml_complete_body(const struct part_list *parts, size_t *len);

/*
 * What an S3 error answer means for r2mpu's client. The store's own words
 * reach the client only for errors about the client's request (InvalidPart
 * ...); a refusal of our credentials or a store fault is a generic 502/503
 * whose detail goes to the log. doc may be NULL (no or unparsable body).
 */
void s3_xml_map_error(int http_status, const struct s3_error_doc *doc, struct r2err *err);

#endif
