/* SPDX-License-Identifier: MIT */
/* store_s3.c: the R2/S3 store -- R2's semantics over the S3 API, each server's quirks in named helpers */
#include "store_s3.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "http.h"
#include "s3_client.h"
#include "s3_xml.h"
#include "log.h"

/*
 * Every request goes through s3_client.c, which signs it, streams its
 * bodies and knows nothing of what it means. This file gives R2's answers
 * whatever S3 server is behind, and the servers differ. Each of their
 * quirks it works around is one helper, whose comment says which server
 * does what and why:
 *
 *   upload_answer_error         moto: NoSuchUpload as a 500
 *   upload_exists               moto: a ListParts beside an UploadPart corrupts the part
 *   gone_means_no_such_upload   radosgw, moto: a 500 (or a hang-up) for an upload gone meanwhile
 *   part_digest_check           moto: Content-MD5 ignored (R2MPU_S3_CHECKS_MD5=0)
 *   part_etag_not_ours          AWS: SSE-KMS parts' ETags are not their MD5
 *   abort_settle                radosgw, moto: an abort inside a complete is a 500
 *   etag_or_head                radosgw: an empty <ETag> in the Complete answer
 *   complete_empty              S3: no Complete without parts (R2 has one)
 *   completed_anyway            radosgw: a Complete reported failed may finish
 *   complete_content_type       moto: Complete needs its Content-Type
 *   get_range_to_send           moto: If-Range ignored; servers differ on odd Ranges
 *   get_conditions_to_send      moto: 412 to a matching If-Match
 *   get_conditions_decided_here servers that ignore If-None-Match
 *   get_range_unsatisfiable     radosgw: a 206 of the whole object for a Range beyond it
 *   get_etag_for_304            radosgw: a 304 without its ETag
 *   get_size_for_416            moto: a 416 without Content-Range
 *   uploads_sort_and_cut        moto: max-uploads and markers ignored, uploads by age
 */

_Static_assert(UPLOAD_ID_MARKER_MAX <= S3_UPLOAD_ID_MAX - 2, "a marker is an id S3 could give");
_Static_assert(HTTP_META_MAX <= S3_CLIENT_VALUE_MAX, "metadata reaches the store and comes back whole");
_Static_assert(META_NFIELDS <= S3_CLIENT_KEEP_MAX, "a GET keeps every metadata header");

/*
 * Uploads this process saw exist, so the parts after the first skip the
 * ListParts round trip. A hint, never the truth: a part for an upload gone
 * meanwhile still gets the store's NoSuchUpload.
 */
#define KNOWN_UPLOADS 16
#define KNOWN_UPLOAD_TTL 60            /* seconds */

struct known_upload {
	char *key, *upload_id;         /* owned; NULL: a free slot */
	time_t at;
};

struct s3_store {
	struct s3_client *client;      /* owned: the connection and its settings */
	bool checks_md5;               /* R2MPU_S3_CHECKS_MD5 */
	bool https;                    /* the endpoint's scheme */
	struct known_upload known[KNOWN_UPLOADS];
	size_t known_next;             /* the slot to reuse next, round robin */
};

/* ---- answers ---------------------------------------------------------------- */

/* An answer the store cannot use: the detail to the log, a 502 to the client. Returns -1. */
static int answer_not_understood(struct r2err *err, const char *fmt, ...)
	__attribute__((format(__printf__, 2, 3)));
static int answer_not_understood(struct r2err *err, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	log_error("s3 store: %s", what);
	return r2err_set(err, 502, "StoreError", "Bad Gateway: the store's answer was not understood");
}

/*
 * Upload ids are the store's, opaque, but every S3 implementation we know
 * (AWS, R2, radosgw "2~...", MinIO's base64url) uses URL-safe characters.
 * Anything else cannot be an id: NoSuchUpload, without asking the store.
 */
static bool upload_id_plausible(const char *id)
{
	size_t n = strlen(id);

	/* 300: ids are far shorter; encoded (+ and = take 3 bytes), it fits the query. */
	return n > 0 && n <= 300 &&
	       strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~+=-") == n;
}

/*
 * The error of an answer about an upload: a 404, or NoSuchUpload/NoSuchKey
 * in any status, is NoSuchUpload. moto answers an unknown or aborted
 * upload's UploadPart and Complete with a 500: its document, not its
 * status, says what happened. Returns -1.
 */
static int upload_answer_error(const struct s3_client_answer *a, struct r2err *err)
{
	struct s3_error_doc doc;
	bool has_doc = s3_xml_parse_error(a->body.data, a->body.len, &doc) == 0;

	if (has_doc ? strcmp(doc.code, "NoSuchUpload") == 0 || strcmp(doc.code, "NoSuchKey") == 0
		    : a->status == 404)
		return multipart_no_such_upload(err);
	s3_xml_map_error((int)a->status, has_doc ? &doc : NULL, err);
	return -1;
}

/* ---- uploads this process knows ----------------------------------------------- */

static struct known_upload *known_find(struct s3_store *s, const char *key, const char *id)
{
	size_t i;

	for (i = 0; i < KNOWN_UPLOADS; i++)
		if (s->known[i].key != NULL && strcmp(s->known[i].upload_id, id) == 0 &&
		    strcmp(s->known[i].key, key) == 0)
			return &s->known[i];
	return NULL;
}

static void known_clear(struct known_upload *k)
{
	free(k->key);
	free(k->upload_id);
	k->key = k->upload_id = NULL;
}

static bool upload_known(struct s3_store *s, const char *key, const char *id)
{
	struct known_upload *k = known_find(s, key, id);

	return k != NULL && time(NULL) - k->at < KNOWN_UPLOAD_TTL;
}

/* Out of memory only means the next part asks again. */
static void upload_remember(struct s3_store *s, const char *key, const char *id)
{
	struct known_upload *k = known_find(s, key, id);

	if (k == NULL) {
		k = &s->known[s->known_next];
		s->known_next = (s->known_next + 1) % KNOWN_UPLOADS;
		known_clear(k);
		k->key = strdup(key);
		k->upload_id = strdup(id);
		if (k->key == NULL || k->upload_id == NULL) {
			known_clear(k);
			return;
		}
	}
	k->at = time(NULL);
}

static void upload_forget(struct s3_store *s, const char *key, const char *id)
{
	struct known_upload *k = known_find(s, key, id);

	if (k != NULL)
		known_clear(k);
}

/* ---- uploads on the server ---------------------------------------------------- */

static void add_meta_headers(struct s3_client_request *r, const struct http_meta *meta)
{
	static const char *const lower[META_NFIELDS] = {
		"content-type", "content-disposition", "content-encoding",
		"content-language", "cache-control", "expires",
	};
	int i;

	for (i = 0; i < META_NFIELDS; i++)
		if (meta->value[i] != NULL)
			s3_client_add_header(r, lower[i], meta->value[i]);
}

static int s3_create(void *st, const char *key, const struct http_meta *meta,
		     char **upload_id, struct r2err *err)
{
	struct s3_store *s = st;
	struct s3_client_request r = { .method = "POST", .key = key,
				       .params = { { "uploads", "" } }, .nparams = 1 };
	struct s3_client_answer a = { 0 };
	char id[S3_UPLOAD_ID_MAX];
	int rc = -1;

	*upload_id = NULL;
	add_meta_headers(&r, meta);
	if (s3_client_perform(s->client, &r, &a, err) < 0)
		goto out;
	if (a.status != 200) {
		s3_client_answer_error(&r, &a, err);
		goto out;
	}
	if (s3_xml_parse_initiate(a.body.data, a.body.len, id) < 0) {
		answer_not_understood(err, "CreateMultipartUpload answer is not understood");
		goto out;
	}
	*upload_id = strdup(id);
	rc = *upload_id ? 0 : r2err_out_of_memory(err);
	if (rc == 0)
		upload_remember(s, key, id);    /* its parts may come to this process */
out:
	s3_client_answer_free(&a);
	return rc;
}

/*
 * Every part of an upload (ListParts, all pages). NoSuchUpload when S3 does
 * not know the upload for this key.
 */
static int list_parts(struct s3_store *s, const char *key, const char *upload_id,
		      struct s3_part_set *set, struct r2err *err)
{
	char marker[16] = "0";

	memset(set, 0, sizeof(*set));
	if (!upload_id_plausible(upload_id))
		return multipart_no_such_upload(err);
	for (;;) {
		struct s3_client_request r = { .method = "GET", .key = key,
					       .params = { { "uploadId", upload_id },
							   { "max-parts", "1000" },
							   { "part-number-marker", marker } },
					       .nparams = 3 };
		struct s3_client_answer a = { 0 };
		int rc;

		if (s3_client_perform(s->client, &r, &a, err) < 0) {
			s3_client_answer_free(&a);
			goto fail;
		}
		if (a.status != 200) {
			upload_answer_error(&a, err);
			s3_client_answer_free(&a);
			goto fail;
		}
		rc = s3_xml_parse_list_parts(a.body.data, a.body.len, set);
		s3_client_answer_free(&a);
		if (rc < 0) {
			answer_not_understood(err, "ListParts answer is not understood");
			goto fail;
		}
		/* A page that moves the marker nowhere would loop for ever: stop. */
		if (!set->truncated || set->next_marker <= (int)strtol(marker, NULL, 10))
			return 0;
		snprintf(marker, sizeof(marker), "%d", set->next_marker);
	}
fail:
	s3_part_set_free(set);
	return -1;
}

/*
 * Does the store have this upload, for this key? Asked with ListParts for
 * the parts after 10000, of which there are none: S3 answers 200 or 404
 * without touching a part (moto corrupts a part being written when a
 * ListParts that shows it runs beside the upload).
 */
static int upload_exists(struct s3_store *s, const char *key, const char *upload_id,
			 struct r2err *err)
{
	struct s3_client_request r = { .method = "GET", .key = key,
				       .params = { { "uploadId", upload_id }, { "max-parts", "1" },
						   { "part-number-marker", "10000" } },
				       .nparams = 3 };
	struct s3_client_answer a = { 0 };
	int rc = 0;

	if (!upload_id_plausible(upload_id))
		return multipart_no_such_upload(err);
	if (s3_client_perform(s->client, &r, &a, err) < 0)
		rc = -1;
	else if (a.status != 200)
		rc = upload_answer_error(&a, err);
	s3_client_answer_free(&a);
	return rc;
}

/*
 * After a store fault on an upload, ask whether the upload still exists:
 * when another request completed or aborted it meanwhile (radosgw and moto
 * answer that with a 500), the client's answer is NoSuchUpload. 1: gone
 * (*err is NoSuchUpload now); 0: it exists; -1: the store cannot say
 * (*err unchanged).
 */
static int gone_means_no_such_upload(struct s3_store *s, const char *key,
				     const char *upload_id, struct r2err *err)
{
	struct r2err check;

	if (upload_exists(s, key, upload_id, &check) == 0)
		return 0;
	if (check.status != 404)
		return -1;
	*err = check;
	return 1;
}

/* ---- parts ------------------------------------------------------------------- */

enum part_guard store_s3_part_guard(bool content_md5, bool store_checks_md5, bool https)
{
	if (content_md5)
		return store_checks_md5 ? PART_GUARD_STORE_CHECKS_MD5 : PART_GUARD_R2MPU_MD5;
	return https ? PART_GUARD_TLS : PART_GUARD_R2MPU_MD5;
}

/* What a part's send_filter knows: its MD5, where r2mpu takes it as it streams. */
struct part_digest {
	bool hash;                         /* PART_GUARD_R2MPU_MD5: take the MD5 */
	struct md5 md5;
	const unsigned char *expect;       /* the client's Content-MD5, or NULL */
	unsigned char sum[MD5_LEN];        /* of every byte sent, once done and hashed */
	bool done;                         /* the last byte went out */
};

/*
 * The send_filter of a part. moto ignores Content-MD5: a part that does
 * not match the client's is caught here as it streams, and its last bytes
 * kept back, so the server never has the whole part (as when a client
 * goes away), whether or not it checks Content-MD5 itself.
 */
static int part_digest_check(void *ctx, const char *data, size_t len, bool last,
			     struct r2err *err)
{
	struct part_digest *d = ctx;

	if (d->hash)
		md5_update(&d->md5, data, len);
	if (!last)
		return 0;
	d->done = true;
	if (!d->hash)
		return 0;
	md5_final(&d->md5, d->sum);
	if (d->expect != NULL && memcmp(d->sum, d->expect, MD5_LEN) != 0)
		return multipart_bad_digest(err);
	return 0;
}

/*
 * A part's ETag is the MD5 of its bytes (R2, S3): one that is an MD5 but
 * not the one expected means the store has other bytes. AWS gives SSE-KMS
 * parts ETags that are not their MD5: those are not judged.
 */
static bool part_etag_not_ours(const struct s3_client_answer *a, const char ours[ETAG_MAX])
{
	unsigned char theirs[MD5_LEN];

	return strncmp(a->sse, "aws:kms", 7) != 0 && strlen(a->etag) == 2 * MD5_LEN &&
	       hex_decode(a->etag, theirs, MD5_LEN) == 0 && !etag_equal(a->etag, ours);
}

/*
 * The store kept a part that does not match the client's Content-MD5: it
 * does not check Content-MD5 (moto), or the bytes changed after r2mpu. The
 * part is refused as R2 would; the store keeps it, under an ETag the client
 * never gets. -1.
 */
static int part_store_ignored_md5(const char *upload_id, int part_number, const char *theirs,
				  const char *ours, struct r2err *err)
{
	log_error("s3 store: part %d of %s: the store kept it with ETag %s, not the client's "
		  "Content-MD5 %s; if the store ignores Content-MD5, set R2MPU_S3_CHECKS_MD5=0",
		  part_number, upload_id, theirs, ours);
	return multipart_bad_digest(err);
}

static int s3_upload_part(void *st, const char *key, const char *upload_id, int part_number,
			  struct byte_source *body, const unsigned char *content_md5,
			  char etag[ETAG_MAX], struct r2err *err)
{
	struct s3_store *s = st;
	enum part_guard guard = store_s3_part_guard(content_md5 != NULL, s->checks_md5, s->https);
	struct part_digest digest = { .hash = guard == PART_GUARD_R2MPU_MD5, .expect = content_md5 };
	struct s3_client_request r = { .method = "PUT", .key = key, .nparams = 2,
				       .payload_hash = SIGV4_UNSIGNED_PAYLOAD, .source = body,
				       .send_filter = part_digest_check, .ctx = &digest };
	struct s3_client_answer a = { 0 };
	char number[16], md5_b64[32], ours[ETAG_MAX];
	int rc = -1;

	/* Refuse an unknown upload before reading a byte of the part. */
	if (!upload_known(s, key, upload_id)) {
		if (upload_exists(s, key, upload_id, err) < 0)
			return -1;
		upload_remember(s, key, upload_id);
	}
	if (digest.hash && md5_init(&digest.md5) < 0)
		return r2err_out_of_memory(err);
	snprintf(number, sizeof(number), "%d", part_number);
	r.params[0] = (struct sigv4_param){ "partNumber", number };
	r.params[1] = (struct sigv4_param){ "uploadId", upload_id };
	if (content_md5 != NULL) {
		/* The store checks it too, and refuses the part with BadDigest. */
		EVP_EncodeBlock((unsigned char *)md5_b64, content_md5, MD5_LEN);
		s3_client_add_header(&r, "content-md5", md5_b64);
	}
	/* No answer, or any but 200: upload_answer_error() fills err (and is -1). */
	if (s3_client_perform(s->client, &r, &a, err) < 0 ||
	    (a.status != 200 && upload_answer_error(&a, err) < 0)) {
		/* A store that refuses a gone upload mid-body may just hang up. */
		if (err->status >= 500)
			gone_means_no_such_upload(s, key, upload_id, err);
		goto out;
	}
	if (a.etag[0] == '\0') {
		answer_not_understood(err, "UploadPart answered without an ETag");
		goto out;
	}
	if (!digest.done) {     /* the store answered before it had the whole part */
		answer_not_understood(err, "UploadPart answered 200 before the part was sent");
		goto out;
	}
	switch (guard) {
	case PART_GUARD_STORE_CHECKS_MD5:
		etag_from_md5(content_md5, ours);
		if (part_etag_not_ours(&a, ours)) {
			part_store_ignored_md5(upload_id, part_number, a.etag, ours, err);
			goto out;
		}
		break;
	case PART_GUARD_TLS:
		break;
	case PART_GUARD_R2MPU_MD5:
		etag_from_md5(digest.sum, ours);
		/* Never hand out an etag for bytes nobody sent. */
		if (part_etag_not_ours(&a, ours)) {
			log_error("s3 store: part %d of %s: the store's ETag %s is not the MD5 %s of "
				  "the bytes sent", part_number, upload_id, a.etag, ours);
			r2err_set(err, 502, "StoreDigestMismatch", "Bad Gateway: the store received "
				  "other bytes than were sent (its ETag is not their MD5); upload the "
				  "part again");
			goto out;
		}
		break;
	}
	memcpy(etag, a.etag, ETAG_MAX);
	rc = 0;
out:
	if (rc < 0 && err->status == 404)
		upload_forget(s, key, upload_id);
	md5_free(&digest.md5);
	s3_client_answer_free(&a);
	return rc;
}

static int s3_list_parts(void *st, const char *key, const char *upload_id,
			 struct part_info **parts, size_t *count, struct r2err *err)
{
	struct s3_part_set set;
	size_t i;

	*parts = NULL;
	*count = 0;
	if (list_parts(st, key, upload_id, &set, err) < 0)
		return -1;
	if (set.count > 0) {
		*parts = calloc(set.count, sizeof(**parts));
		if (*parts == NULL) {
			s3_part_set_free(&set);
			return r2err_out_of_memory(err);
		}
	}
	for (i = 0; i < set.count; i++) {
		(*parts)[i].number = set.parts[i].number;
		(*parts)[i].size = set.parts[i].size;
		memcpy((*parts)[i].etag, set.parts[i].etag, ETAG_MAX);
	}
	*count = set.count;
	s3_part_set_free(&set);
	return 0;
}

/* ---- abort ------------------------------------------------------------------- */

/* One AbortMultipartUpload: 0, or -1 with the store's answer in err. */
static int abort_once(struct s3_store *s, const char *key, const char *upload_id,
		      struct r2err *err)
{
	struct s3_client_request r = { .method = "DELETE", .key = key,
				       .params = { { "uploadId", upload_id } }, .nparams = 1 };
	struct s3_client_answer a = { 0 };
	int rc = -1;

	if (s3_client_perform(s->client, &r, &a, err) < 0)
		goto out;
	if (a.status == 204 || a.status == 200)
		rc = 0;
	else
		upload_answer_error(&a, err);
out:
	s3_client_answer_free(&a);
	return rc;
}

/* Wait time between looks at an upload whose abort met a store fault. */
static const unsigned abort_settle_ms[] = { 50, 100, 200, 400, 800, 1600 };

/*
 * An abort that races a complete of the same upload meets a store fault:
 * radosgw answers 500 "This multipart completion is already in progress",
 * moto a 500 from its own race between the two. Neither is "the store is
 * broken", and the client can act on what happened: so wait for the
 * complete to settle (about 3 s at most), then say it. The upload gone is
 * NoSuchUpload (404, as the file store answers when complete wins: it was
 * completed, or aborted by this very request whose answer was lost); the
 * upload still there is aborted again. Only a store that keeps failing
 * keeps its error. Takes abort_once's error; returns what the abort comes to.
 */
static int abort_settle(struct s3_store *s, const char *key, const char *upload_id,
			struct r2err *err)
{
	size_t i;
	int rc = -1;

	for (i = 0; rc < 0 && err->status >= 500 &&
		    i < sizeof(abort_settle_ms) / sizeof(abort_settle_ms[0]); i++) {
		struct timespec pause = { 0, (long)abort_settle_ms[i] * 1000000L };
		int gone;

		nanosleep(&pause, NULL);
		gone = gone_means_no_such_upload(s, key, upload_id, err);
		if (gone > 0)
			log_error("s3 store: abort of %s met a store fault; the upload is gone "
				  "now (completed or aborted meanwhile)", upload_id);
		if (gone != 0)
			break;      /* gone, or the store is failing: its answer stands */
		rc = abort_once(s, key, upload_id, err);
	}
	return rc;
}

static int s3_abort(void *st, const char *key, const char *upload_id, struct r2err *err)
{
	struct s3_store *s = st;
	int rc;

	if (!upload_id_plausible(upload_id))
		return multipart_no_such_upload(err);
	rc = abort_once(s, key, upload_id, err);
	if (rc < 0)
		rc = abort_settle(s, key, upload_id, err);
	upload_forget(s, key, upload_id);
	return rc;
}

/* ---- complete ---------------------------------------------------------------- */

/* The ETag of an object, by HEAD. */
static int head_etag(struct s3_store *s, const char *key, char etag[ETAG_MAX], struct r2err *err)
{
	struct s3_client_request r = { .method = "HEAD", .key = key };
	struct s3_client_answer a = { 0 };
	int rc = -1;

	if (s3_client_perform(s->client, &r, &a, err) == 0) {
		if (a.status == 200 && a.etag[0] != '\0') {
			memcpy(etag, a.etag, ETAG_MAX);
			rc = 0;
		} else {
			s3_client_answer_error(&r, &a, err);
		}
	}
	s3_client_answer_free(&a);
	return rc;
}

/*
 * The ETag of an object just written, as its answer gave it in etag; when
 * that is empty (radosgw's first Complete answer has an empty <ETag>), by
 * HEAD.
 */
static int etag_or_head(struct s3_store *s, const char *key, char etag[ETAG_MAX], struct r2err *err)
{
	return etag[0] != '\0' ? 0 : head_etag(s, key, etag, err);
}

/*
 * R2 completes an upload without parts into a 0-byte object; S3 refuses
 * an empty Complete. So drop the upload and store a 0-byte object.
 */
static int complete_empty(struct s3_store *s, const char *key, const char *upload_id,
			  char etag[ETAG_MAX], struct r2err *err)
{
	struct byte_source none = { NULL, NULL, 0 };
	struct s3_client_request r = { .method = "PUT", .key = key, .source = &none };
	struct s3_client_answer a = { 0 };
	int rc = -1;

	if (s3_abort(s, key, upload_id, err) < 0)
		return -1;
	if (s3_client_perform(s->client, &r, &a, err) < 0)
		goto out;
	if (a.status != 200) {
		s3_client_answer_error(&r, &a, err);
		goto out;
	}
	memcpy(etag, a.etag, ETAG_MAX);
	rc = etag_or_head(s, key, etag, err);
out:
	s3_client_answer_free(&a);
	return rc;
}

/*
 * Check the listed parts against ListParts and R2's rules before asking S3:
 * the client gets R2's answers (Non Uniform Part Sizes...) whatever the
 * S3 implementation behind, and an unknown upload is a 404 everywhere.
 */
static int check_parts(struct s3_store *s, const char *key, const char *upload_id,
		       const struct part_list *parts, char expected[ETAG_MAX], uint64_t *total,
		       struct r2err *err)
{
	unsigned char (*md5s)[MD5_LEN] = NULL;
	struct s3_part_set set;
	uint64_t *sizes = NULL;
	bool all_md5 = true;
	size_t i, j;
	int rc = -1;

	*total = 0;
	if (list_parts(s, key, upload_id, &set, err) < 0)
		return -1;
	sizes = calloc(parts->count ? parts->count : 1, sizeof(*sizes));
	md5s = calloc(parts->count ? parts->count : 1, MD5_LEN);
	if (sizes == NULL || md5s == NULL) {
		r2err_out_of_memory(err);
		goto out;
	}
	for (i = 0, j = 0; i < parts->count; i++) {
		const struct part_ref *p = &parts->parts[i];

		/* Both lists ascend: walk them together. */
		while (j < set.count && set.parts[j].number < p->number)
			j++;
		if (j == set.count || set.parts[j].number != p->number ||
		    !etag_equal(p->etag, set.parts[j].etag)) {
			log_error("s3 store: complete: part %d listed with etag %s; the store has %s",
				  p->number, p->etag,
				  j < set.count && set.parts[j].number == p->number ?
				  set.parts[j].etag : "no such part");
			multipart_invalid_part(err, p->number);
			goto out;
		}
		sizes[i] = set.parts[j].size;
		*total += sizes[i];
		if (hex_decode(set.parts[j].etag, md5s[i], MD5_LEN) < 0)
			all_md5 = false;     /* not an MD5: no expected ETag */
	}
	rc = multipart_check_sizes(parts, sizes, err);
	/* The ETag the object will have where the store follows S3's formula. */
	expected[0] = '\0';
	if (rc == 0 && all_md5 &&
	    etag_multipart((const unsigned char (*)[MD5_LEN])md5s, parts->count, expected) < 0)
		expected[0] = '\0';
out:
	free(md5s);
	free(sizes);
	s3_part_set_free(&set);
	return rc;
}

/*
 * A Complete that failed with a store fault may still have happened: an
 * earlier attempt on a connection that died, a race with another request,
 * or radosgw finishing a Complete it reported as failed ("completion
 * already in progress"). If the object now has exactly the ETag these
 * parts give, and the upload is gone, it did.
 */
static bool completed_anyway(struct s3_store *s, const char *key, const char *upload_id,
			     const char *expected, char etag[ETAG_MAX])
{
	struct r2err ignored;

	if (expected[0] == '\0' || head_etag(s, key, etag, &ignored) < 0 ||
	    strcmp(etag, expected) != 0)
		return false;
	/* The same bytes may be there from before: done only if the upload is gone too. */
	return upload_exists(s, key, upload_id, &ignored) < 0 && ignored.status == 404;
}

/* moto refuses a Complete whose body is not declared XML; S3 servers take it either way. */
static void complete_content_type(struct s3_client_request *r)
{
	s3_client_add_header(r, "content-type", "application/xml");
}

static int s3_complete(void *st, const char *key, const char *upload_id,
		       const struct part_list *parts, char etag[ETAG_MAX], uint64_t *size,
		       struct r2err *err)
{
	struct s3_store *s = st;
	struct s3_client_request r = { .method = "POST", .key = key,
				       .params = { { "uploadId", upload_id } }, .nparams = 1 };
	struct s3_client_answer a = { 0 };
	char hash[SHA256_HEX_LEN + 1], expected[ETAG_MAX];
	struct s3_error_doc doc;
	char *xml = NULL;
	size_t len;
	int rc = -1;

	/* The size is the listed parts': S3's Complete answer does not say it. */
	if (check_parts(s, key, upload_id, parts, expected, size, err) < 0)
		return -1;
	if (parts->count == 0)
		return complete_empty(s, key, upload_id, etag, err);
	xml = s3_xml_complete_body(parts, &len);
	if (xml == NULL)
		return r2err_out_of_memory(err);
	if (sha256_hex(xml, len, hash) < 0) {
		free(xml);
		return r2err_set(err, 500, "InternalError", "InternalError: cannot hash the request");
	}
	r.body = xml;
	r.body_len = len;
	r.payload_hash = hash;
	complete_content_type(&r);
	/*
	 * A store fault, a lost connection or an unreadable answer may come
	 * after the store completed: then the object has the expected ETag and
	 * the upload is gone, and the client's answer is 200.
	 */
	if (s3_client_perform(s->client, &r, &a, err) < 0) {
		if (err->status >= 500 && completed_anyway(s, key, upload_id, expected, etag))
			rc = 0;
		goto out;
	}
	/* A late failure comes as 200 with an <Error> document. */
	if (a.status != 200 || s3_xml_parse_error(a.body.data, a.body.len, &doc) == 0) {
		upload_answer_error(&a, err);
		if (err->status >= 500 && completed_anyway(s, key, upload_id, expected, etag))
			rc = 0;
		else if (err->status >= 500)
			gone_means_no_such_upload(s, key, upload_id, err);
		goto out;
	}
	if (s3_xml_parse_complete(a.body.data, a.body.len, etag) < 0) {
		answer_not_understood(err, "CompleteMultipartUpload answer is not understood");
		if (completed_anyway(s, key, upload_id, expected, etag))
			rc = 0;
		goto out;
	}
	rc = etag_or_head(s, key, etag, err);
out:
	upload_forget(s, key, upload_id);
	s3_client_answer_free(&a);
	free(xml);
	return rc;
}

/* ---- get --------------------------------------------------------------------- */

/* A GET or HEAD on its way to the client's sink, in R2's terms whatever the server said. */
struct get_call {
	const struct get_request *req;
	struct object_sink *sink;
	bool begun;
	bool failed;                   /* no body (any more): none to send, or our client went away */
	bool malformed;                /* a 200 without a usable Content-Length */
};

/* Parse "bytes a-b/total" or "bytes * /total" (without the space). */
static void parse_content_range(const char *s, uint64_t *first, uint64_t *length, uint64_t *total)
{
	unsigned long long a, b, t;

	if (sscanf(s, "bytes %llu-%llu/%llu", &a, &b, &t) == 3 && b >= a) {
		*first = a;
		*length = b - a + 1;
		*total = t;
	} else if (sscanf(s, "bytes */%llu", &t) == 1) {
		*total = t;
	}
}

/* The store's status to a GET as what the GET comes to; only these reach sink_begin(). */
static enum get_outcome get_outcome_of(long status)
{
	switch (status) {
	case 206: return GET_RANGE;
	case 304: return GET_NOT_MODIFIED;
	case 412: return GET_PRECONDITION_FAILED;
	case 416: return GET_RANGE_NOT_SATISFIABLE;
	default:  return GET_WHOLE;
	}
}

/* Fill a GET's etag, date and size (as "bytes * /size", no space) from a HEAD of the object. */
static int head_object(struct s3_store *s, const char *key, struct s3_client_answer *into)
{
	struct s3_client_request r = { .method = "HEAD", .key = key };
	struct s3_client_answer a = { 0 };
	struct r2err ignored;
	int rc = -1;

	if (s3_client_perform(s->client, &r, &a, &ignored) == 0 && a.status == 200) {
		memcpy(into->etag, a.etag, sizeof(into->etag));
		into->last_modified = a.last_modified;
		snprintf(into->content_range, sizeof(into->content_range), "bytes */%s",
			 a.content_length);
		rc = 0;
	}
	s3_client_answer_free(&a);
	return rc;
}

/*
 * The Range to send, if any: only one r2mpu would honour itself, as servers
 * differ on the rest (several ranges, odd syntax), which r2mpu answers with
 * the whole object. moto ignores If-Range: with one, the object's current
 * ETag (a HEAD) decides first, and If-Range goes along too, so a server
 * that honours it closes the window between the HEAD and the GET.
 */
static void get_range_to_send(struct s3_store *s, const char *key, const struct get_request *req,
			      struct s3_client_request *r)
{
	struct s3_client_answer probe = { 0 };
	uint64_t first, length;

	if (req->range == NULL || http_range_parse(req->range, UINT64_MAX, &first, &length) == RANGE_NONE)
		return;
	if (req->if_range == NULL ||
	    (head_object(s, key, &probe) == 0 && http_if_range_allows(req->if_range, probe.etag))) {
		s3_client_add_header(r, "range", req->range);
		if (req->if_range != NULL)
			s3_client_add_header(r, "if-range", req->if_range);
	}
}

/*
 * moto answers 412 to a matching If-Match: If-Match is never sent but
 * decided here, on the ETag the server sends (get_conditions_decided_here).
 * Alone, If-None-Match is passed on, so a 304 costs no body; with If-Match,
 * which must be decided first, both are decided here.
 */
static void get_conditions_to_send(const struct get_request *req, struct s3_client_request *r)
{
	if (req->if_none_match != NULL && req->if_match == NULL)
		s3_client_add_header(r, "if-none-match", req->if_none_match);
}

/*
 * The preconditions, decided again on the ETag of a 200 or 206: If-Match
 * is never sent (get_conditions_to_send), and not every S3 implementation
 * honours If-None-Match. Anything but GET_WHOLE means no body.
 */
static enum get_outcome get_conditions_decided_here(const struct get_request *req,
						    const struct s3_client_answer *a)
{
	return http_preconditions(req->if_match, req->if_none_match, a->etag);
}

/*
 * radosgw answers a Range that lies beyond the object with a 206 of the
 * whole object, not a 416: decide the Range again on the size its
 * Content-Range gives. True when it is not satisfiable.
 */
static bool get_range_unsatisfiable(const struct get_request *req,
				    const struct s3_client_answer *a)
{
	uint64_t first = 0, length = 0, total = 0;

	parse_content_range(a->content_range, &first, &length, &total);
	return http_range_parse(req->range, total, &first, &length) == RANGE_UNSATISFIABLE;
}

/* A 304 carries the ETag (RFC 9110 15.4.5); radosgw's does not: it comes from a HEAD. */
static void get_etag_for_304(struct s3_store *s, const char *key, struct s3_client_answer *a)
{
	if (a->etag[0] == '\0' && head_object(s, key, a) < 0)
		log_error("s3 store: no ETag for a 304 answer");
}

/* The client needs the object's size in a 416's Content-Range; moto sends none: a HEAD's. */
static void get_size_for_416(struct s3_store *s, const char *key, struct s3_client_answer *a)
{
	if (strchr(a->content_range, '/') == NULL && head_object(s, key, a) < 0)
		log_error("s3 store: no size for a 416 answer");
}

/* Without its length a 200 cannot be answered right (Content-Length: 0 and then bytes). */
static bool whole_without_length(const struct s3_client_answer *a)
{
	return a->status == 200 && (a->content_length[0] == '\0' ||
				    strspn(a->content_length, "0123456789") != strlen(a->content_length));
}

/*
 * Hand a GET's outcome, headers and size to the sink, once: from the first
 * byte of a body, or after the answer when there is none. -1 when no body
 * is to follow (none is to be sent, or our client went away).
 */
static int sink_begin(struct get_call *g, const struct s3_client_answer *a)
{
	enum get_outcome outcome;
	struct object_info info;
	uint64_t first = 0, length = 0, total = 0;
	int i;

	if (g->begun)
		return g->failed ? -1 : 0;
	g->begun = true;
	if (whole_without_length(a)) {
		g->malformed = true;
		g->failed = true;
		return -1;
	}
	outcome = get_outcome_of(a->status);
	if (outcome == GET_WHOLE || outcome == GET_RANGE) {
		enum get_outcome here = get_conditions_decided_here(g->req, a);

		if (here == GET_WHOLE && outcome == GET_RANGE && get_range_unsatisfiable(g->req, a))
			here = GET_RANGE_NOT_SATISFIABLE;
		if (here != GET_WHOLE) {
			outcome = here;
			g->failed = true;      /* no body: stop the transfer */
		}
	}
	memset(&info, 0, sizeof(info));
	memcpy(info.etag, a->etag, sizeof(info.etag));
	info.last_modified = a->last_modified;
	for (i = 0; i < META_NFIELDS; i++)
		info.meta.value[i] = a->kept[i];
	if (outcome == GET_RANGE || outcome == GET_RANGE_NOT_SATISFIABLE)
		parse_content_range(a->content_range, &first, &length, &total);
	else if (outcome == GET_WHOLE)
		total = length = strtoull(a->content_length, NULL, 10);
	info.size = total;
	if (g->sink->begin(g->sink->ctx, outcome, &info, first, length) < 0 ||
	    (outcome != GET_WHOLE && outcome != GET_RANGE))
		g->failed = true;
	return g->failed ? -1 : 0;
}

/* The client's body hooks of a GET: the object flows to the sink. */
static int get_body_begin(void *ctx, const struct s3_client_answer *a)
{
	return sink_begin(ctx, a);
}

static int get_body_write(void *ctx, const char *data, size_t len)
{
	struct get_call *g = ctx;

	if (g->sink->write(g->sink->ctx, data, len) < 0) {
		g->failed = true;
		return -1;
	}
	return 0;
}

static int s3_get(void *st, const char *key, const struct get_request *req,
		  struct object_sink *sink, struct r2err *err)
{
	struct s3_store *s = st;
	struct get_call g = { .req = req, .sink = sink };
	struct s3_client_request r = { .method = req->head ? "HEAD" : "GET", .key = key,
				       .keep = http_meta_header, .nkeep = META_NFIELDS,
				       .body_begin = get_body_begin, .body_write = get_body_write,
				       .ctx = &g };
	struct s3_client_answer a = { 0 };
	int rc = -1;

	get_range_to_send(s, key, req, &r);
	get_conditions_to_send(req, &r);
	if (s3_client_perform(s->client, &r, &a, err) < 0)
		goto out;
	switch (a.status) {
	case 416:
		get_size_for_416(s, key, &a);
		sink_begin(&g, &a);
		rc = 0;
		break;
	case 304:
		get_etag_for_304(s, key, &a);
		/* fall through */
	case 200: case 206: case 412:
		sink_begin(&g, &a);     /* no-op when the body already began it; HEAD and empty bodies */
		rc = 0;
		break;
	default:
		s3_client_answer_error(&r, &a, err);
	}
	if (g.malformed) {
		log_error("s3 store: a 200 answer to %s without a Content-Length", r.method);
		rc = r2err_set(err, 502, "StoreError", "Bad Gateway: the store's answer was not understood");
	}
out:
	s3_client_answer_free(&a);
	return rc;
}

/* ---- objects and listings ------------------------------------------------------ */

static int s3_delete(void *st, const char *key, struct r2err *err)
{
	struct s3_store *s = st;
	struct s3_client_request r = { .method = "DELETE", .key = key };
	struct s3_client_answer a = { 0 };
	int rc = -1;

	if (s3_client_perform(s->client, &r, &a, err) < 0)
		goto out;
	/* Deleting what is not there is done: R2 answers 204; a server's 404 means the same. */
	if (a.status == 204 || a.status == 200 || a.status == 404)
		rc = 0;
	else
		s3_client_answer_error(&r, &a, err);
out:
	s3_client_answer_free(&a);
	return rc;
}

/*
 * Keep the first page->max uploads gathered so far, in the S3 store's order
 * (upload_list_sort_by_id): the order the upload-id-marker follows, so that a
 * page begins where the one before it ended. radosgw lists a key's uploads by
 * id and honours max-uploads and the markers; moto lists them by age and
 * ignores all three (the marker filter of s3_xml_parse_list_uploads keeps its
 * listing going forward). So sort what came, then cut. True when some were
 * cut: the listing is truncated there.
 */
static bool uploads_sort_and_cut(struct s3_upload_set *set, const struct upload_page *page)
{
	upload_list_sort_by_id(set->uploads, set->count);
	if (set->count <= page->max)
		return false;
	upload_list_free_tail(set->uploads, page->max, set->count);
	set->count = page->max;
	return true;
}

/*
 * ListMultipartUploads under a prefix, page after page, up to page->max.
 * The caller's marker goes to the server as it is: within one key, uploads
 * come by id, which is what S3's upload-id-marker counts from.
 */
static int s3_list_uploads(void *st, const char *prefix, const struct upload_page *page,
			   struct upload_info **uploads, size_t *count, bool *truncated,
			   struct r2err *err)
{
	struct s3_store *s = st;
	struct s3_upload_set set;
	char key_marker[KEY_BUF] = "", id_marker[S3_UPLOAD_ID_MAX] = "", max_text[16];

	memset(&set, 0, sizeof(set));
	*uploads = NULL;
	*count = 0;
	*truncated = false;
	if (page->key_marker != NULL)
		snprintf(key_marker, sizeof(key_marker), "%s", page->key_marker);
	if (page->key_marker != NULL && page->upload_id_marker != NULL)
		snprintf(id_marker, sizeof(id_marker), "%s", page->upload_id_marker);
	/* No more than a small page asks for (S3 gives at most 1000 a page anyway). */
	snprintf(max_text, sizeof(max_text), "%zu", page->max < 1000 ? page->max : (size_t)1000);
	for (;;) {
		struct s3_client_request r = { .method = "GET", .key = NULL,
					       .params = { { "uploads", "" }, { "prefix", prefix },
							   { "max-uploads", max_text },
							   { "key-marker", key_marker },
							   { "upload-id-marker", id_marker } },
					       /* upload-id-marker only with a key marker, and never empty */
					       .nparams = !key_marker[0] ? 3 : id_marker[0] ? 5 : 4 };
		struct s3_client_answer a = { 0 };
		size_t before = set.count;
		int rc;

		if (s3_client_perform(s->client, &r, &a, err) < 0) {
			s3_client_answer_free(&a);
			goto fail;
		}
		if (a.status != 200) {
			s3_client_answer_error(&r, &a, err);
			s3_client_answer_free(&a);
			goto fail;
		}
		rc = s3_xml_parse_list_uploads(a.body.data, a.body.len, &set, page);
		s3_client_answer_free(&a);
		if (rc < 0) {
			answer_not_understood(err, "ListMultipartUploads answer is not understood");
			goto fail;
		}
		if (uploads_sort_and_cut(&set, page)) {
			*truncated = true;
			break;
		}
		if (!set.truncated)
			break;
		if (set.count == page->max) {
			*truncated = true;
			break;
		}
		/* A page that moves the markers nowhere would loop for ever: stop. */
		if (set.count == before || set.next_key[0] == '\0' ||
		    (strcmp(set.next_key, key_marker) == 0 &&
		     strcmp(set.next_upload_id, id_marker) == 0)) {
			log_error("s3 store: ListMultipartUploads is truncated without a usable marker");
			*truncated = true;
			break;
		}
		memcpy(key_marker, set.next_key, sizeof(key_marker));
		memcpy(id_marker, set.next_upload_id, sizeof(id_marker));
	}
	*uploads = set.uploads;
	*count = set.count;
	return 0;
fail:
	upload_list_free(set.uploads, set.count);
	return -1;
}

/* ---- the store --------------------------------------------------------------- */

static void s3_close(void *state)
{
	struct s3_store *s = state;
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < KNOWN_UPLOADS; i++)
		known_clear(&s->known[i]);
	s3_client_close(s->client);
	free(s);
}

static int s3_probe(void *st, struct r2err *err)
{
	const struct upload_page page = { NULL, NULL, 1 };
	struct upload_info *uploads;
	size_t count;
	bool truncated;

	if (s3_list_uploads(st, "", &page, &uploads, &count, &truncated, err) < 0)
		return -1;
	upload_list_free(uploads, count);
	return 0;
}

static const struct store_ops s3_ops = {
	.create = s3_create,
	.upload_part = s3_upload_part,
	.complete = s3_complete,
	.abort = s3_abort,
	.get = s3_get,
	.delete = s3_delete,
	.list_parts = s3_list_parts,
	.list_uploads = s3_list_uploads,
	.probe = s3_probe,
	.close = s3_close,
};

int store_s3_open(const struct config *cfg, struct store *out, char *errbuf, size_t errlen)
{
	struct s3_store *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		snprintf(errbuf, errlen, "s3 store: out of memory");
		return -1;
	}
	if (s3_client_open(cfg, &s->client, errbuf, errlen) < 0) {
		free(s);
		return -1;
	}
	s->checks_md5 = cfg->s3_checks_md5;
	s->https = strncmp(cfg->s3_endpoint, "https://", 8) == 0;
	out->ops = &s3_ops;
	out->state = s;
	return 0;
}
