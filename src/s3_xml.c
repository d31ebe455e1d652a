/* SPDX-License-Identifier: MIT */
/* s3_xml.c: S3's XML documents in and out (libxml2), and what S3's errors mean to r2mpu's clients */
#include "s3_xml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlwriter.h>

#include "mem.h"
#include "multipart.h"
#include "store.h"
#include "log.h"

#define S3_XML_MAX (16 * 1024 * 1024)   /* a ListParts page of 1000 parts is ~300 KiB */

/*
 * Parse without the network, without entity expansion and without DTDs:
 * S3 answers never need them, and an answer is untrusted input.
 */
/*
 * `root_name` is "FooResult"; "FooResponse" is accepted too (moto's name
 * for some answers).
 */
static bool root_is(xmlNodePtr root, const char *root_name)
{
	size_t n = strlen(root_name);
	const char *name = (const char *)root->name;

	if (strcmp(name, root_name) == 0)
		return true;
	return n > 6 && strcmp(root_name + n - 6, "Result") == 0 &&
	       strncmp(name, root_name, n - 6) == 0 && strcmp(name + n - 6, "Response") == 0;
}

static xmlDocPtr parse(const char *body, size_t len, const char *root_name, xmlNodePtr *root)
{
	xmlDocPtr doc;

	*root = NULL;
	if (body == NULL || len == 0 || len > S3_XML_MAX)
		return NULL;
	doc = xmlReadMemory(body, (int)len, "s3.xml", NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (doc == NULL)
		return NULL;
	*root = xmlDocGetRootElement(doc);
	/* S3 answers have no DTD; one here could only define entities to expand. */
	if (doc->intSubset != NULL || *root == NULL || !root_is(*root, root_name)) {
		xmlFreeDoc(doc);
		*root = NULL;
		return NULL;
	}
	return doc;
}

/* The first child element named `name` (namespace ignored), or NULL. */
static xmlNodePtr child(xmlNodePtr parent, const char *name)
{
	xmlNodePtr n;

	for (n = parent ? parent->children : NULL; n != NULL; n = n->next)
		if (n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, (const xmlChar *)name) == 0)
			return n;
	return NULL;
}

/* Copy a child's text into out (truncated to cap); false when there is no such child. */
static bool child_text(xmlNodePtr parent, const char *name, char *out, size_t cap)
{
	xmlNodePtr n = child(parent, name);
	xmlChar *text;

	if (n == NULL)
		return false;
	text = xmlNodeGetContent(n);
	snprintf(out, cap, "%s", text ? (const char *)text : "");
	xmlFree(text);
	return true;
}

void s3_xml_etag_unquote(char *s)
{
	size_t n = strlen(s);

	if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
		memmove(s, s + 1, n - 2);
		s[n - 2] = '\0';
	}
}

int s3_xml_parse_error(const char *body, size_t len, struct s3_error_doc *out)
{
	xmlNodePtr root;
	xmlDocPtr doc = parse(body, len, "Error", &root);

	memset(out, 0, sizeof(*out));
	if (doc == NULL)
		return -1;
	child_text(root, "Code", out->code, sizeof(out->code));
	child_text(root, "Message", out->message, sizeof(out->message));
	xmlFreeDoc(doc);
	return out->code[0] != '\0' ? 0 : -1;
}

int s3_xml_parse_initiate(const char *body, size_t len, char upload_id[S3_UPLOAD_ID_MAX])
{
	xmlNodePtr root;
	xmlDocPtr doc = parse(body, len, "InitiateMultipartUploadResult", &root);
	bool ok;

	if (doc == NULL)
		return -1;
	ok = child_text(root, "UploadId", upload_id, S3_UPLOAD_ID_MAX) && upload_id[0] != '\0';
	xmlFreeDoc(doc);
	return ok ? 0 : -1;
}

int s3_xml_parse_complete(const char *body, size_t len, char etag[ETAG_MAX])
{
	xmlNodePtr root;
	xmlDocPtr doc = parse(body, len, "CompleteMultipartUploadResult", &root);

	etag[0] = '\0';
	if (doc == NULL)
		return -1;
	child_text(root, "ETag", etag, ETAG_MAX);
	s3_xml_etag_unquote(etag);
	xmlFreeDoc(doc);
	return 0;
}

void s3_part_set_free(struct s3_part_set *set)
{
	if (set == NULL)
		return;
	free(set->parts);
	memset(set, 0, sizeof(*set));
}

int s3_xml_parse_list_parts(const char *body, size_t len, struct s3_part_set *set)
{
	xmlNodePtr root, n;
	xmlDocPtr doc = parse(body, len, "ListPartsResult", &root);
	char text[64];
	int rc = -1;

	if (doc == NULL)
		return -1;
	set->truncated = child_text(root, "IsTruncated", text, sizeof(text)) &&
			 strcmp(text, "true") == 0;
	set->next_marker = 0;
	if (child_text(root, "NextPartNumberMarker", text, sizeof(text))) {
		char *end;
		long v = strtol(text, &end, 10);

		if (*end == '\0' && v >= 0 && v <= PART_NUMBER_MAX)
			set->next_marker = (int)v;
	}
	for (n = root->children; n != NULL; n = n->next) {
		struct s3_part_info *p;
		char *end;

		if (n->type != XML_ELEMENT_NODE || xmlStrcmp(n->name, (const xmlChar *)"Part") != 0)
			continue;
		/*
		 * An upload has at most PART_NUMBER_MAX parts; pages that repeat
		 * some (a server's bug) may give more; twice that is a broken answer.
		 */
		if (MEM_GROW(set->parts, &set->cap, set->count + 1, 2 * PART_NUMBER_MAX) < 0)
			goto out;
		p = &set->parts[set->count];
		memset(p, 0, sizeof(*p));
		if (!child_text(n, "PartNumber", text, sizeof(text)))
			goto out;
		p->number = (int)strtol(text, &end, 10);
		if (*end != '\0' || p->number < 1 || p->number > PART_NUMBER_MAX)
			goto out;
		if (!child_text(n, "Size", text, sizeof(text)))
			goto out;
		p->size = strtoull(text, &end, 10);
		if (*end != '\0')
			goto out;
		child_text(n, "ETag", p->etag, sizeof(p->etag));
		s3_xml_etag_unquote(p->etag);
		set->count++;
	}
	rc = 0;
out:
	xmlFreeDoc(doc);
	return rc;
}

time_t s3_xml_parse_iso8601(const char *s)
{
	struct tm tm;
	const char *rest;

	memset(&tm, 0, sizeof(tm));
	rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (rest == NULL)
		return -1;
	if (rest[0] == '.') {            /* fractions of a second: dropped */
		rest++;
		while (*rest >= '0' && *rest <= '9')
			rest++;
	}
	if (strcmp(rest, "Z") != 0 && strcmp(rest, "+00:00") != 0)
		return -1;
	return timegm(&tm);
}

int s3_xml_parse_list_uploads(const char *body, size_t len, struct s3_upload_set *set,
			      const struct upload_page *page)
{
	xmlNodePtr root, n;
	xmlDocPtr doc = parse(body, len, "ListMultipartUploadsResult", &root);
	char text[64], key[KEY_BUF], id[S3_UPLOAD_ID_MAX];
	int rc = -1;

	if (doc == NULL)
		return -1;
	set->truncated = child_text(root, "IsTruncated", text, sizeof(text)) &&
			 strcmp(text, "true") == 0;
	set->next_key[0] = set->next_upload_id[0] = '\0';
	child_text(root, "NextKeyMarker", set->next_key, sizeof(set->next_key));
	child_text(root, "NextUploadIdMarker", set->next_upload_id, sizeof(set->next_upload_id));
	for (n = root->children; n != NULL; n = n->next) {
		struct upload_info *u;
		time_t initiated;

		if (n->type != XML_ELEMENT_NODE || xmlStrcmp(n->name, (const xmlChar *)"Upload") != 0)
			continue;
		if (!child_text(n, "Key", key, sizeof(key)) || key[0] == '\0' ||
		    strlen(key) > KEY_BUF - 2 ||
		    !child_text(n, "UploadId", id, sizeof(id)) || id[0] == '\0' ||
		    strlen(id) >= sizeof(id) - 1 ||      /* cut: not the store's id */
		    !child_text(n, "Initiated", text, sizeof(text)) ||
		    (initiated = s3_xml_parse_iso8601(text)) < 0)
			goto out;
		if (!upload_after_id_marker(&(struct upload_info){ key, id, initiated }, page))
			continue;
		if (MEM_GROW(set->uploads, &set->cap, set->count + 1, S3_UPLOAD_SET_MAX) < 0)
			goto out;
		u = &set->uploads[set->count];
		u->key = strdup(key);
		u->upload_id = strdup(id);
		u->initiated = initiated;
		set->count++;
		if (u->key == NULL || u->upload_id == NULL)
			goto out;
	}
	rc = 0;
out:
	xmlFreeDoc(doc);
	return rc;
}

char *s3_xml_complete_body(const struct part_list *parts, size_t *len)
{
	xmlBufferPtr buf = xmlBufferCreate();
	xmlTextWriterPtr w = buf ? xmlNewTextWriterMemory(buf, 0) : NULL;
	char *out = NULL, number[16];
	size_t i;
	int rc;

	*len = 0;
	if (w == NULL)
		goto out;
	rc = xmlTextWriterStartDocument(w, NULL, "UTF-8", NULL);
	rc |= xmlTextWriterStartElement(w, (const xmlChar *)"CompleteMultipartUpload");
	for (i = 0; rc >= 0 && i < parts->count; i++) {
		snprintf(number, sizeof(number), "%d", parts->parts[i].number);
		rc |= xmlTextWriterStartElement(w, (const xmlChar *)"Part");
		rc |= xmlTextWriterWriteElement(w, (const xmlChar *)"PartNumber",
						(const xmlChar *)number);
		rc |= xmlTextWriterWriteElement(w, (const xmlChar *)"ETag",
						(const xmlChar *)parts->parts[i].etag);
		rc |= xmlTextWriterEndElement(w);
	}
	rc |= xmlTextWriterEndDocument(w);
	xmlFreeTextWriter(w);     /* flushes into buf */
	w = NULL;
	if (rc < 0)
		goto out;
	out = malloc((size_t)xmlBufferLength(buf) + 1);
	if (out != NULL) {
		*len = (size_t)xmlBufferLength(buf);
		memcpy(out, xmlBufferContent(buf), *len);
		out[*len] = '\0';
	}
out:
	if (w != NULL)
		xmlFreeTextWriter(w);
	if (buf != NULL)
		xmlBufferFree(buf);
	return out;
}

/* What each S3 error code becomes. NULL message: pass S3's message on. */
static const struct s3_error_map {
	const char *s3_code;
	int status;
	const char *code;
	const char *message;
} s3_errors[] = {
	{ "NoSuchUpload", 404, "NoSuchUpload",
	  "NoSuchUpload: The specified multipart upload does not exist." },
	{ "NoSuchKey", 404, "NoSuchKey", "Object Not Found" },
	{ "InvalidPart", 400, "InvalidPart", NULL },
	{ "InvalidPartOrder", 400, "InvalidPartOrder", NULL },
	{ "EntityTooSmall", 400, "EntityTooSmall", NULL },
	{ "EntityTooLarge", 413, "EntityTooLarge", NULL },
	{ "MalformedXML", 400, "MalformedXML", NULL },
	{ "InvalidDigest", 400, "InvalidDigest", NULL },
	{ "BadDigest", 400, "BadDigest", NULL },
	{ "KeyTooLongError", 400, "KeyTooLongError", NULL },
	/* Our credentials or configuration, not the client's request. */
	{ "SignatureDoesNotMatch", 502, "StoreAuthFailed", "Bad Gateway: the store refused r2mpu's credentials" },
	{ "AccessDenied", 502, "StoreAuthFailed", "Bad Gateway: the store refused r2mpu's credentials" },
	{ "InvalidAccessKeyId", 502, "StoreAuthFailed", "Bad Gateway: the store refused r2mpu's credentials" },
	{ "RequestTimeTooSkewed", 502, "StoreAuthFailed", "Bad Gateway: the store refused r2mpu's credentials" },
	{ "NoSuchBucket", 502, "StoreMisconfigured", "Bad Gateway: the store has no such bucket" },
	{ "SlowDown", 503, "StoreBusy", "Service Unavailable: the store asks to slow down; retry later" },
	{ "ServiceUnavailable", 503, "StoreBusy", "Service Unavailable: the store is unavailable; retry later" },
};

void s3_xml_map_error(int http_status, const struct s3_error_doc *doc, struct r2err *err)
{
	const char *code = doc != NULL ? doc->code : "";
	size_t i;

	for (i = 0; i < sizeof(s3_errors) / sizeof(s3_errors[0]); i++) {
		const struct s3_error_map *m = &s3_errors[i];

		if (strcmp(code, m->s3_code) != 0)
			continue;
		if (m->message != NULL)
			r2err_set(err, m->status, m->code, "%s", m->message);
		else
			r2err_set(err, m->status, m->code, "%s: %s", m->code, doc->message);
		if (m->status >= 500)
			log_error("s3 store: HTTP %d %s: %s", http_status, code, doc->message);
		return;
	}
	log_error("s3 store: unexpected answer HTTP %d %s: %s", http_status,
		  code[0] ? code : "(no error document)", doc != NULL ? doc->message : "");
	if (http_status == 503)
		r2err_set(err, 503, "StoreBusy", "Service Unavailable: the store is unavailable; retry later");
	else
		r2err_set(err, 502, "StoreError", "Bad Gateway: the store failed the request");
}
