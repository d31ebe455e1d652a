/* store_s3.c: the R2/S3 store -- every action over the S3 API through one reused libcurl handle */
#include "store_s3.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "http.h"
#include "s3_xml.h"
#include "sigv4.h"
#include "uri.h"

/*
 * Requests are signed here (sigv4.c), not by libcurl: libcurl 7.88's
 * CURLOPT_AWS_SIGV4 hashes an empty payload for uploads, signs the query
 * unsorted and the path as written. We send exactly what we signed: an
 * encoded path (CURLOPT_PATH_AS_IS keeps "a/../b" as it is), a canonical
 * query, and the Host header we signed.
 */

#define ANSWER_MAX (2 * 1024 * 1024)   /* error documents, XML results, ListParts pages */
#define PATH_MAX_LEN (3 * 1024 + 128)  /* "/bucket/" + a 1024-byte key, every byte %XX */
/* The longest query: ListMultipartUploads with a prefix and a key marker, every byte %XX. */
#define QUERY_MAX_LEN (2 * 3 * 1024 + 3 * S3_UPLOAD_ID_MAX + 256)
_Static_assert(UPLOAD_ID_MARKER_MAX <= S3_UPLOAD_ID_MAX - 2, "a marker is an id S3 could give");
#define MAX_HEADERS 13   /* extra headers: 6 of metadata, Range, If-None-Match, ... */
#define HEADER_LINE_MAX (HTTP_META_MAX + 128)   /* any one header we send, name included */
_Static_assert(MAX_HEADERS + 3 <= SIGV4_MAX_HEADERS, "the signer takes every header we send");

/* Set an option of the handle unless one has failed already (every CURLcode is checked). */
#define SETOPT(opt, val) \
	do { \
		if (rc == CURLE_OK) \
			rc = curl_easy_setopt(s->curl, opt, val); \
	} while (0)

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
	CURL *curl;                    /* one handle per process: its connections are reused */
	struct known_upload known[KNOWN_UPLOADS];
	size_t known_next;             /* the slot to reuse next, round robin */
	char endpoint[CONFIG_STRING_MAX];
	char host[CONFIG_STRING_MAX];  /* the Host header: host[:port] of the endpoint */
	char bucket[64];
	char access_key_id[128];
	char secret_access_key[128];
	char region[64];
	char ca_file[CONFIG_STRING_MAX];
	char proxy[CONFIG_STRING_MAX]; /* "": none */
	long connect_timeout, timeout;
};

/* What one S3 request sends and what came back. */
struct s3_call {
	/* request */
	const char *method;
	const char *key;                       /* NULL: the bucket itself */
	struct sigv4_param params[5];
	size_t nparams;
	struct sigv4_header headers[MAX_HEADERS];   /* extra headers, signed too */
	size_t nheaders;
	const char *payload_hash;              /* NULL: the empty body's hash */
	const char *body;                      /* small body in memory (XML) ... */
	size_t body_len;
	struct byte_source *source;            /* ... or a streamed part */
	struct md5 *received;                  /* hashes the part as it streams, or NULL */
	const unsigned char *expect_md5;       /* the client's Content-MD5, or NULL */
	unsigned char sent_md5[MD5_LEN];       /* of every byte sent, once all are */
	bool sent_md5_done;
	bool digest_mismatch;                  /* withheld the last bytes: not the client's */
	uint64_t sent;                         /* bytes of source read so far */
	bool source_failed;                    /* the client's body ended early */
	bool head;                             /* HEAD: no answer body */
	/* answer */
	long status;
	bool headers_ended;                    /* the blank line after the headers came */
	bool answer_malformed;                 /* a GET's 200 without a usable Content-Length */
	char etag[ETAG_MAX];
	char content_range[96];
	char content_length[32];
	char last_modified[64];
	char sse[32];                          /* x-amz-server-side-encryption */
	char *meta[META_NFIELDS];              /* owned, from the answer's headers */
	bool meta_seen[META_NFIELDS];
	char *answer;                          /* body of a non-streamed answer, NUL-terminated */
	size_t answer_len;
	bool answer_too_big;
	struct object_sink *sink;              /* GET: 200/206 bodies flow here */
	const struct get_request *get;         /* GET: its conditions */
	bool sink_begun;
	bool sink_failed;                      /* our client went away */
};

/* ---- the answer ------------------------------------------------------------ */

static void trim_copy(char *dst, size_t cap, const char *src, size_t len)
{
	while (len > 0 && (*src == ' ' || *src == '\t'))
		src++, len--;
	while (len > 0 && (src[len - 1] == '\r' || src[len - 1] == '\n' ||
			   src[len - 1] == ' ' || src[len - 1] == '\t'))
		len--;
	if (len >= cap)
		len = cap - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

static size_t on_header(char *line, size_t size, size_t n, void *ctx)
{
	struct s3_call *c = ctx;
	size_t len = size * n, nlen;
	const char *colon;
	int i;

	if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) {
		/* A new status line (after "100 Continue", say): forget the last block. */
		const char *sp = memchr(line, ' ', len);

		c->status = sp != NULL ? strtol(sp + 1, NULL, 10) : 0;
		c->headers_ended = false;
		c->etag[0] = c->content_range[0] = c->content_length[0] = c->last_modified[0] = '\0';
		memset(c->meta_seen, 0, sizeof(c->meta_seen));
		c->sse[0] = '\0';
		return len;
	}
	if ((len == 2 && line[0] == '\r' && line[1] == '\n') || (len == 1 && line[0] == '\n')) {
		c->headers_ended = true;
		return len;
	}
	colon = memchr(line, ':', len);
	if (colon == NULL)
		return len;
	nlen = (size_t)(colon - line);
#define IS(name) (nlen == sizeof(name) - 1 && strncasecmp(line, name, nlen) == 0)
	if (IS("ETag")) {
		trim_copy(c->etag, sizeof(c->etag), colon + 1, len - nlen - 1);
		s3_etag_unquote(c->etag);
	} else if (IS("Content-Length")) {
		trim_copy(c->content_length, sizeof(c->content_length), colon + 1, len - nlen - 1);
	} else if (IS("Content-Range")) {
		trim_copy(c->content_range, sizeof(c->content_range), colon + 1, len - nlen - 1);
	} else if (IS("Last-Modified")) {
		trim_copy(c->last_modified, sizeof(c->last_modified), colon + 1, len - nlen - 1);
	} else if (IS("x-amz-server-side-encryption")) {
		trim_copy(c->sse, sizeof(c->sse), colon + 1, len - nlen - 1);
	} else {
		for (i = 0; i < META_NFIELDS; i++) {
			if (nlen == strlen(http_meta_header[i]) &&
			    strncasecmp(line, http_meta_header[i], nlen) == 0) {
				size_t vlen = len - nlen - 1;

				/* Values as long as create accepted (HTTP_META_MAX), not cut. */
				if (vlen > HTTP_META_MAX)
					vlen = HTTP_META_MAX;
				free(c->meta[i]);
				c->meta[i] = malloc(vlen + 1);
				if (c->meta[i] == NULL)
					return 0;       /* aborts the transfer */
				trim_copy(c->meta[i], vlen + 1, colon + 1, len - nlen - 1);
				c->meta_seen[i] = true;
			}
		}
	}
#undef IS
	return len;
}

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

/* Hand a GET's status and headers to the sink, once. */
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

static int sink_begin(struct s3_call *c)
{
	enum get_outcome outcome;
	struct object_info info;
	uint64_t first = 0, length = 0, total = 0;
	int i;

	if (c->sink_begun)
		return c->sink_failed ? -1 : 0;
	c->sink_begun = true;
	/*
	 * Not every S3 implementation honours If-Match/If-None-Match, or
	 * refuses an unsatisfiable Range (radosgw sends the whole object as a
	 * 206): decide again here, and stop the transfer when the answer changes.
	 */
	/* Without its length a 200 cannot be answered right (Content-Length: 0 and then bytes). */
	if (c->status == 200 && (c->content_length[0] == '\0' ||
				 strspn(c->content_length, "0123456789") != strlen(c->content_length))) {
		c->answer_malformed = true;
		c->sink_failed = true;
		return -1;
	}
	outcome = get_outcome_of(c->status);
	if (outcome == GET_WHOLE || outcome == GET_RANGE) {
		enum get_outcome cond = preconditions_evaluate(c->get->if_match,
							       c->get->if_none_match, c->etag);

		if (outcome == GET_RANGE && cond == GET_WHOLE) {
			parse_content_range(c->content_range, &first, &length, &total);
			if (range_parse(c->get->range, total, &first, &length) == RANGE_UNSATISFIABLE) {
				cond = GET_RANGE_NOT_SATISFIABLE;
				snprintf(c->content_range, sizeof(c->content_range), "bytes */%llu",
					 (unsigned long long)total);
			}
		}
		if (cond != GET_WHOLE) {
			outcome = cond;
			c->sink_failed = true;      /* no body: stop the transfer */
		}
	}
	memset(&info, 0, sizeof(info));
	memcpy(info.etag, c->etag, sizeof(info.etag));
	info.last_modified = c->last_modified[0] ? curl_getdate(c->last_modified, NULL) : 0;
	if (info.last_modified < 0)
		info.last_modified = 0;      /* unparsable: no Last-Modified */
	for (i = 0; i < META_NFIELDS; i++)
		info.meta.value[i] = c->meta_seen[i] ? c->meta[i] : NULL;
	if (outcome == GET_RANGE || outcome == GET_RANGE_NOT_SATISFIABLE)
		parse_content_range(c->content_range, &first, &length, &total);
	else if (outcome == GET_WHOLE)
		total = length = strtoull(c->content_length, NULL, 10);
	info.size = total;
	if (c->sink->begin(c->sink->ctx, outcome, &info, first, length) < 0 ||
	    (outcome != GET_WHOLE && outcome != GET_RANGE))
		c->sink_failed = true;
	return c->sink_failed ? -1 : 0;
}

static bool streams_to_sink(const struct s3_call *c)
{
	return c->sink != NULL && (c->status == 200 || c->status == 206);
}

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
	struct s3_call *c = ctx;
	size_t len = size * n;

	if (streams_to_sink(c)) {
		if (sink_begin(c) < 0 || c->sink->write(c->sink->ctx, data, len) < 0) {
			c->sink_failed = true;
			return 0;          /* stops the transfer */
		}
		return len;
	}
	if (c->answer_len + len > ANSWER_MAX) {
		c->answer_too_big = true;
		return 0;
	}
	{
		char *grown = realloc(c->answer, c->answer_len + len + 1);

		if (grown == NULL)
			return 0;
		c->answer = grown;
	}
	memcpy(c->answer + c->answer_len, data, len);
	c->answer_len += len;
	c->answer[c->answer_len] = '\0';
	return len;
}

/* libcurl pulls a part through here, straight from the client's body. */
static size_t on_read(char *buf, size_t size, size_t n, void *ctx)
{
	struct s3_call *c = ctx;
	uint64_t left = c->source->length - c->sent;
	size_t want = size * n;
	ssize_t got;

	if (left == 0)
		return 0;
	if (want > left)
		want = (size_t)left;
	got = c->source->read(c->source->ctx, buf, want);
	if (got <= 0) {
		/* The client went away: abort, so the store keeps nothing of the part. */
		c->source_failed = true;
		return CURL_READFUNC_ABORT;
	}
	c->sent += (uint64_t)got;
	if (c->received != NULL) {
		md5_update(c->received, buf, (size_t)got);
		if (c->sent == c->source->length) {
			md5_final(c->received, c->sent_md5);
			c->sent_md5_done = true;
			/*
			 * Not the bytes the client hashed: keep back the last ones,
			 * so the store never has the whole part (as when a client
			 * goes away), whether or not it checks Content-MD5 itself.
			 */
			if (c->expect_md5 != NULL && memcmp(c->sent_md5, c->expect_md5, MD5_LEN) != 0) {
				c->digest_mismatch = true;
				return CURL_READFUNC_ABORT;
			}
		}
	}
	return (size_t)got;
}

/* ---- one request --------------------------------------------------------------- */

static void call_free(struct s3_call *c)
{
	int i;

	free(c->answer);
	c->answer = NULL;
	c->answer_len = 0;
	for (i = 0; i < META_NFIELDS; i++) {
		free(c->meta[i]);
		c->meta[i] = NULL;
	}
}

static void add_header(struct s3_call *c, const char *name, const char *value)
{
	if (c->nheaders < MAX_HEADERS) {
		c->headers[c->nheaders].name = name;
		c->headers[c->nheaders].value = value;
		c->nheaders++;
	}
}

static bool has_header(const struct s3_call *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nheaders; i++)
		if (strcmp(c->headers[i].name, name) == 0)
			return true;
	return false;
}

static int curl_failure(struct s3_store *s, struct s3_call *c, CURLcode rc, const char *errbuf,
			struct r2err *err)
{
	if (c->digest_mismatch)
		return multipart_bad_digest(err);
	if (c->source_failed)
		return r2err_set(err, 400, "IncompleteBody",
				 "IncompleteBody: the request body ended after %llu of %llu "
				 "bytes; nothing was stored", (unsigned long long)c->sent,
				 (unsigned long long)c->source->length);
	log_error("s3 store: %s %s: %s (%s)", c->method, s->endpoint, curl_easy_strerror(rc),
		  errbuf[0] ? errbuf : "no detail");
	if (rc == CURLE_OPERATION_TIMEDOUT)
		return r2err_set(err, 504, "StoreTimeout",
				 "Gateway Timeout: the store did not answer in time");
	return r2err_set(err, 502, "StoreUnreachable", "Bad Gateway: the store could not be reached");
}

/*
 * Sign and send one request; fill c's answer. 0 when an HTTP answer came
 * (any status: the caller decides), -1 with *err when none did.
 */
static int s3_perform(struct s3_store *s, struct s3_call *c, struct r2err *err)
{
	char path[PATH_MAX_LEN], query[QUERY_MAX_LEN];
	char url[CONFIG_STRING_MAX + PATH_MAX_LEN + QUERY_MAX_LEN];
	char amz_date[17], auth[SIGV4_AUTH_MAX], line[HEADER_LINE_MAX], errbuf[CURL_ERROR_SIZE] = "";
	struct sigv4_header all[MAX_HEADERS + 3];
	struct sigv4_request req;
	struct sigv4_credentials cred = { s->access_key_id, s->secret_access_key, s->region, "s3" };
	struct curl_slist *list = NULL, *grown;
	const char *payload = c->payload_hash ? c->payload_hash : SIGV4_EMPTY_SHA256;
	time_t now = time(NULL);
	struct tm tm;
	size_t i, used;
	CURLcode rc;
	int ret = -1;

	/* Path and query, exactly as signed and sent. */
	/* The bucket itself is "/bucket", as S3 servers sign it; an object is "/bucket/key". */
	used = (size_t)snprintf(path, sizeof(path), c->key != NULL ? "/%s/" : "/%s", s->bucket);
	if (c->key != NULL &&
	    uri_encode(c->key, strlen(c->key), true, path + used, sizeof(path) - used) < 0)
		return r2err_set(err, 500, "InternalError", "InternalError: key too long to encode");
	if (sigv4_canonical_query(c->params, c->nparams, query, sizeof(query)) < 0)
		return r2err_set(err, 500, "InternalError", "InternalError: query too long");
	snprintf(url, sizeof(url), "%s%s%s%s", s->endpoint, path, query[0] ? "?" : "", query);

	gmtime_r(&now, &tm);
	strftime(amz_date, sizeof(amz_date), "%Y%m%dT%H%M%SZ", &tm);
	for (i = 0; i < c->nheaders; i++)
		all[i] = c->headers[i];
	all[i++] = (struct sigv4_header){ "host", s->host };
	all[i++] = (struct sigv4_header){ "x-amz-content-sha256", payload };
	all[i++] = (struct sigv4_header){ "x-amz-date", amz_date };
	req = (struct sigv4_request){ c->method, path, query, all, i, payload };
	if (sigv4_authorization(&req, &cred, amz_date, auth, sizeof(auth)) < 0)
		return r2err_set(err, 500, "InternalError", "InternalError: signing failed");

	/* The header list: every signed header, the signature, and no "Expect". */
	for (i = 0; i < req.nheaders; i++) {
		/* Never send less than was signed. */
		if (snprintf(line, sizeof(line), "%s: %s", all[i].name, all[i].value) >=
		    (int)sizeof(line)) {
			r2err_set(err, 400, "InvalidArgument", "InvalidArgument: header %s is too long",
				  all[i].name);
			goto out;
		}
		if ((grown = curl_slist_append(list, line)) == NULL)
			goto oom;
		list = grown;
	}
	/* libcurl would add a form Content-Type to a POST; S3 would keep it. */
	if (strcmp(c->method, "POST") == 0 && !has_header(c, "content-type")) {
		if ((grown = curl_slist_append(list, "Content-Type:")) == NULL)
			goto oom;
		list = grown;
	}
	snprintf(line, sizeof(line), "Authorization: %s", auth);
	if ((grown = curl_slist_append(list, line)) == NULL ||
	    (list = grown, grown = curl_slist_append(list, "Expect:")) == NULL)
		goto oom;
	list = grown;

	curl_easy_reset(s->curl);   /* options only: live connections stay */
	rc = CURLE_OK;
	SETOPT(CURLOPT_URL, url);
	SETOPT(CURLOPT_PATH_AS_IS, 1L);
	SETOPT(CURLOPT_HTTPHEADER, list);
	SETOPT(CURLOPT_NOSIGNAL, 1L);
	SETOPT(CURLOPT_ERRORBUFFER, errbuf);
	SETOPT(CURLOPT_CONNECTTIMEOUT, s->connect_timeout);
	SETOPT(CURLOPT_LOW_SPEED_LIMIT, 1L);
	SETOPT(CURLOPT_LOW_SPEED_TIME, s->timeout);
	SETOPT(CURLOPT_TCP_KEEPALIVE, 1L);
	SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
	if (s->ca_file[0] != '\0')
		SETOPT(CURLOPT_CAINFO, s->ca_file);
	/*
	 * The proxy is r2mpu's setting or none ("" turns libcurl's reading of
	 * http_proxy, ALL_PROXY and NO_PROXY from the environment off): the
	 * store's signed requests never go where an environment variable says.
	 */
	SETOPT(CURLOPT_PROXY, s->proxy);
	SETOPT(CURLOPT_NOPROXY, "");
	SETOPT(CURLOPT_HEADERFUNCTION, on_header);
	SETOPT(CURLOPT_HEADERDATA, c);
	SETOPT(CURLOPT_WRITEFUNCTION, on_body);
	SETOPT(CURLOPT_WRITEDATA, c);
	if (c->source != NULL) {
		SETOPT(CURLOPT_UPLOAD, 1L);
		SETOPT(CURLOPT_READFUNCTION, on_read);
		SETOPT(CURLOPT_READDATA, c);
		SETOPT(CURLOPT_UPLOAD_BUFFERSIZE, (long)STREAM_CHUNK);
		SETOPT(CURLOPT_INFILESIZE_LARGE, (curl_off_t)c->source->length);
	} else if (strcmp(c->method, "POST") == 0) {
		SETOPT(CURLOPT_POST, 1L);
		SETOPT(CURLOPT_POSTFIELDS, c->body ? c->body : "");
		SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)c->body_len);
	} else if (c->head) {
		SETOPT(CURLOPT_NOBODY, 1L);
	} else if (strcmp(c->method, "GET") != 0) {
		SETOPT(CURLOPT_CUSTOMREQUEST, c->method);
	}

	if (rc != CURLE_OK) {
		log_error("s3 store: libcurl refused an option: %s", curl_easy_strerror(rc));
		r2err_set(err, 500, "InternalError", "InternalError: the HTTP client is misconfigured");
		goto out;
	}
	rc = curl_easy_perform(s->curl);
	/* The status line set c->status already; a failed transfer may have none. */
	if (rc != CURLE_OK && !(c->sink_failed && c->status != 0)) {
		curl_failure(s, c, rc, errbuf, err);
		goto out;
	}
	/* libcurl 7.88 says OK for a connection closed inside the headers. */
	if (rc == CURLE_OK && !c->headers_ended) {
		log_error("s3 store: the answer to %s ended inside its headers", c->method);
		r2err_set(err, 502, "StoreError", "Bad Gateway: the store's answer was cut off");
		goto out;
	}
	if (c->answer_too_big) {
		log_error("s3 store: answer to %s larger than %d bytes", c->method, ANSWER_MAX);
		r2err_set(err, 502, "StoreError", "Bad Gateway: the store's answer was too large");
		goto out;
	}
	ret = 0;
	goto out;
oom:
	r2err_out_of_memory(err);
out:
	/* Unhook what dies here; clearing an option cannot fail. */
	(void)curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, NULL);
	(void)curl_easy_setopt(s->curl, CURLOPT_ERRORBUFFER, NULL);
	curl_slist_free_all(list);
	return ret;
}

/* The error an answer with an unexpected status means. */
static int answer_error(const struct s3_call *c, struct r2err *err)
{
	struct s3_error_doc doc;

	if (s3_xml_parse_error(c->answer, c->answer_len, &doc) == 0)
		s3_map_error((int)c->status, &doc, err);
	else if (c->status == 404 && c->key != NULL)
		r2err_set(err, 404, "NoSuchKey", "Object Not Found");
	else
		s3_map_error((int)c->status, NULL, err);
	return -1;
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
 * in any status (moto answers some of these with 500), is NoSuchUpload.
 */
static int upload_error(const struct s3_call *c, struct r2err *err)
{
	struct s3_error_doc doc;
	bool has_doc = s3_xml_parse_error(c->answer, c->answer_len, &doc) == 0;

	if (has_doc ? strcmp(doc.code, "NoSuchUpload") == 0 || strcmp(doc.code, "NoSuchKey") == 0
		    : c->status == 404)
		return multipart_no_such_upload(err);
	s3_map_error((int)c->status, has_doc ? &doc : NULL, err);
	return -1;
}

/* ---- the store's actions ------------------------------------------------------------ */

static void add_meta_headers(struct s3_call *c, const struct http_meta *meta)
{
	static const char *const lower[META_NFIELDS] = {
		"content-type", "content-disposition", "content-encoding",
		"content-language", "cache-control", "expires",
	};
	int i;

	for (i = 0; i < META_NFIELDS; i++)
		if (meta->value[i] != NULL)
			add_header(c, lower[i], meta->value[i]);
}

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

static int s3_create(void *st, const char *key, const struct http_meta *meta,
		     char **upload_id, struct r2err *err)
{
	struct s3_call c = { .method = "POST", .key = key, .params = { { "uploads", "" } },
			     .nparams = 1 };
	char id[S3_UPLOAD_ID_MAX];
	int rc = -1;

	*upload_id = NULL;
	add_meta_headers(&c, meta);
	if (s3_perform(st, &c, err) < 0)
		goto out;
	if (c.status != 200) {
		answer_error(&c, err);
		goto out;
	}
	if (s3_xml_parse_initiate(c.answer, c.answer_len, id) < 0) {
		log_error("s3 store: CreateMultipartUpload answer is not understood");
		r2err_set(err, 502, "StoreError", "Bad Gateway: the store's answer was not understood");
		goto out;
	}
	*upload_id = strdup(id);
	rc = *upload_id ? 0 : r2err_out_of_memory(err);
	if (rc == 0)
		upload_remember(st, key, id);    /* its parts may come to this process */
out:
	call_free(&c);
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
		struct s3_call c = { .method = "GET", .key = key,
				     .params = { { "uploadId", upload_id }, { "max-parts", "1000" },
						 { "part-number-marker", marker } },
				     .nparams = 3 };
		int rc;

		if (s3_perform(s, &c, err) < 0) {
			call_free(&c);
			goto fail;
		}
		if (c.status != 200) {
			upload_error(&c, err);
			call_free(&c);
			goto fail;
		}
		rc = s3_xml_parse_list_parts(c.answer, c.answer_len, set);
		call_free(&c);
		if (rc < 0) {
			log_error("s3 store: ListParts answer is not understood");
			r2err_set(err, 502, "StoreError", "Bad Gateway: the store's answer was not understood");
			goto fail;
		}
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
	struct s3_call c = { .method = "GET", .key = key,
			     .params = { { "uploadId", upload_id }, { "max-parts", "1" },
					 { "part-number-marker", "10000" } },
			     .nparams = 3 };
	int rc = 0;

	if (!upload_id_plausible(upload_id))
		return multipart_no_such_upload(err);
	if (s3_perform(s, &c, err) < 0)
		rc = -1;
	else if (c.status != 200)
		rc = upload_error(&c, err);
	call_free(&c);
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

static int s3_upload_part(void *st, const char *key, const char *upload_id, int part_number,
			  struct byte_source *body, const unsigned char *content_md5,
			  char etag[ETAG_MAX], struct r2err *err)
{
	struct md5 received = { 0 };
	struct s3_call c = { .method = "PUT", .key = key, .nparams = 2,
			     .payload_hash = SIGV4_UNSIGNED_PAYLOAD, .source = body,
			     .received = &received, .expect_md5 = content_md5 };
	unsigned char theirs[MD5_LEN];
	char number[16], md5_b64[32], ours[ETAG_MAX];
	int rc = -1;

	/* Refuse an unknown upload before reading a byte of the part. */
	if (!upload_known(st, key, upload_id)) {
		if (upload_exists(st, key, upload_id, err) < 0)
			return -1;
		upload_remember(st, key, upload_id);
	}
	if (md5_init(&received) < 0)
		return r2err_out_of_memory(err);
	snprintf(number, sizeof(number), "%d", part_number);
	c.params[0] = (struct sigv4_param){ "partNumber", number };
	c.params[1] = (struct sigv4_param){ "uploadId", upload_id };
	if (content_md5 != NULL) {
		/* The store checks it too, and refuses the part with BadDigest. */
		EVP_EncodeBlock((unsigned char *)md5_b64, content_md5, MD5_LEN);
		add_header(&c, "content-md5", md5_b64);
	}
	if (s3_perform(st, &c, err) < 0) {
		/* A store that refuses a gone upload mid-body may just hang up. */
		if (err->status >= 500)
			gone_means_no_such_upload(st, key, upload_id, err);
		goto out;
	}
	if (c.status != 200) {
		upload_error(&c, err);
		if (err->status >= 500)
			gone_means_no_such_upload(st, key, upload_id, err);
		goto out;
	}
	if (c.etag[0] == '\0') {
		log_error("s3 store: UploadPart answered without an ETag");
		r2err_set(err, 502, "StoreError", "Bad Gateway: the store's answer was not understood");
		goto out;
	}
	if (!c.sent_md5_done) {     /* the store answered before it had the whole part */
		log_error("s3 store: UploadPart answered 200 before the part was sent");
		r2err_set(err, 502, "StoreError", "Bad Gateway: the store's answer was not understood");
		goto out;
	}
	etag_from_md5(c.sent_md5, ours);
	/*
	 * A part's ETag is the MD5 of its bytes (R2, S3 without SSE-KMS):
	 * one that is an MD5 but not of what r2mpu sent means the part was
	 * changed on the way. Never hand out an etag for bytes nobody sent.
	 */
	if (strncmp(c.sse, "aws:kms", 7) != 0 && strlen(c.etag) == 2 * MD5_LEN &&
	    hex_decode(c.etag, theirs, MD5_LEN) == 0 && !etag_equal(c.etag, ours)) {
		log_error("s3 store: part %d of %s: the store's ETag %s is not the MD5 %s of "
			  "the bytes sent", part_number, upload_id, c.etag, ours);
		r2err_set(err, 502, "StoreDigestMismatch", "Bad Gateway: the store received "
			  "other bytes than were sent (its ETag is not their MD5); upload the "
			  "part again");
		goto out;
	}
	memcpy(etag, c.etag, ETAG_MAX);
	rc = 0;
out:
	if (rc < 0 && err->status == 404)
		upload_forget(st, key, upload_id);
	md5_free(&received);
	call_free(&c);
	return rc;
}

/* One AbortMultipartUpload: 0, or -1 with the store's answer in err. */
static int abort_once(struct s3_store *s, const char *key, const char *upload_id,
		      struct r2err *err)
{
	struct s3_call c = { .method = "DELETE", .key = key,
			     .params = { { "uploadId", upload_id } }, .nparams = 1 };
	int rc = -1;

	if (s3_perform(s, &c, err) < 0)
		goto out;
	if (c.status == 204 || c.status == 200)
		rc = 0;
	else
		upload_error(&c, err);
out:
	call_free(&c);
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
 * keeps its error.
 */
static int s3_abort(void *st, const char *key, const char *upload_id, struct r2err *err)
{
	size_t i;
	int rc;

	if (!upload_id_plausible(upload_id))
		return multipart_no_such_upload(err);
	rc = abort_once(st, key, upload_id, err);
	for (i = 0; rc < 0 && err->status >= 500 &&
		    i < sizeof(abort_settle_ms) / sizeof(abort_settle_ms[0]); i++) {
		struct timespec pause = { 0, (long)abort_settle_ms[i] * 1000000L };
		int gone;

		nanosleep(&pause, NULL);
		gone = gone_means_no_such_upload(st, key, upload_id, err);
		if (gone > 0)
			log_error("s3 store: abort of %s met a store fault; the upload is gone "
				  "now (completed or aborted meanwhile)", upload_id);
		if (gone != 0)
			break;      /* gone, or the store is failing: its answer stands */
		rc = abort_once(st, key, upload_id, err);
	}
	upload_forget(st, key, upload_id);
	return rc;
}

/* Fill a GET's etag, size and dates from a HEAD of the object. */
static int head_object(struct s3_store *s, const char *key, struct s3_call *into)
{
	struct s3_call c = { .method = "HEAD", .key = key, .head = true };
	struct r2err ignored;
	int rc = -1;

	if (s3_perform(s, &c, &ignored) == 0 && c.status == 200) {
		memcpy(into->etag, c.etag, sizeof(into->etag));
		memcpy(into->last_modified, c.last_modified, sizeof(into->last_modified));
		snprintf(into->content_range, sizeof(into->content_range), "bytes */%s",
			 c.content_length);
		rc = 0;
	}
	call_free(&c);
	return rc;
}

/* The ETag of an object, by HEAD (radosgw's Complete answer leaves it empty). */
static int head_etag(struct s3_store *s, const char *key, char etag[ETAG_MAX], struct r2err *err)
{
	struct s3_call c = { .method = "HEAD", .key = key, .head = true };
	int rc = -1;

	if (s3_perform(s, &c, err) == 0) {
		if (c.status == 200 && c.etag[0] != '\0') {
			memcpy(etag, c.etag, ETAG_MAX);
			rc = 0;
		} else {
			answer_error(&c, err);
		}
	}
	call_free(&c);
	return rc;
}

/* S3 refuses an empty Complete: drop the upload, store a 0-byte object. */
static int complete_empty(struct s3_store *s, const char *key, const char *upload_id,
			  char etag[ETAG_MAX], struct r2err *err)
{
	struct byte_source none = { NULL, NULL, 0 };
	struct s3_call c = { .method = "PUT", .key = key, .source = &none };
	int rc = -1;

	if (s3_abort(s, key, upload_id, err) < 0)
		return -1;
	if (s3_perform(s, &c, err) < 0)
		goto out;
	if (c.status != 200) {
		answer_error(&c, err);
		goto out;
	}
	memcpy(etag, c.etag, ETAG_MAX);
	rc = c.etag[0] ? 0 : head_etag(s, key, etag, err);
out:
	call_free(&c);
	return rc;
}

/*
 * Check the listed parts against ListParts and R2's rules before asking S3:
 * the client gets R2's answers (Non Uniform Part Sizes...) whatever the
 * S3 implementation behind, and an unknown upload is a 404 everywhere.
 */
static int check_parts(struct s3_store *s, const char *key, const char *upload_id,
		       const struct part_list *parts, char expected[ETAG_MAX], struct r2err *err)
{
	unsigned char (*md5s)[MD5_LEN] = NULL;
	struct s3_part_set set;
	uint64_t *sizes = NULL;
	bool all_md5 = true;
	size_t i, j;
	int rc = -1;

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
 * earlier attempt on a connection that died, or a race with another
 * request. If the object now has exactly the ETag these parts give, it did.
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

static int s3_complete(void *st, const char *key, const char *upload_id,
		       const struct part_list *parts, char etag[ETAG_MAX], struct r2err *err)
{
	struct s3_call c = { .method = "POST", .key = key,
			     .params = { { "uploadId", upload_id } }, .nparams = 1 };
	char hash[SHA256_HEX_LEN + 1], expected[ETAG_MAX];
	struct s3_error_doc doc;
	char *xml = NULL;
	size_t len;
	int rc = -1;

	if (check_parts(st, key, upload_id, parts, expected, err) < 0)
		return -1;
	if (parts->count == 0)
		return complete_empty(st, key, upload_id, etag, err);
	xml = s3_xml_complete_body(parts, &len);
	if (xml == NULL)
		return r2err_out_of_memory(err);
	sha256_hex(xml, len, hash);
	c.body = xml;
	c.body_len = len;
	c.payload_hash = hash;
	add_header(&c, "content-type", "application/xml");
	/*
	 * A store fault, a lost connection or an unreadable answer may come
	 * after the store completed: then the object has the expected ETag and
	 * the upload is gone, and the client's answer is 200.
	 */
	if (s3_perform(st, &c, err) < 0) {
		if (err->status >= 500 && completed_anyway(st, key, upload_id, expected, etag))
			rc = 0;
		goto out;
	}
	/* A late failure comes as 200 with an <Error> document. */
	if (c.status != 200 || s3_xml_parse_error(c.answer, c.answer_len, &doc) == 0) {
		upload_error(&c, err);
		if (err->status >= 500 && completed_anyway(st, key, upload_id, expected, etag))
			rc = 0;
		else if (err->status >= 500)
			gone_means_no_such_upload(st, key, upload_id, err);
		goto out;
	}
	if (s3_xml_parse_complete(c.answer, c.answer_len, etag) < 0) {
		log_error("s3 store: CompleteMultipartUpload answer is not understood");
		r2err_set(err, 502, "StoreError", "Bad Gateway: the store's answer was not understood");
		if (completed_anyway(st, key, upload_id, expected, etag))
			rc = 0;
		goto out;
	}
	rc = etag[0] ? 0 : head_etag(st, key, etag, err);
out:
	upload_forget(st, key, upload_id);
	call_free(&c);
	free(xml);
	return rc;
}

static int s3_get(void *st, const char *key, const struct get_request *req,
		  struct object_sink *sink, struct r2err *err)
{
	struct s3_call c = { .method = req->head ? "HEAD" : "GET", .key = key,
			     .head = req->head, .sink = sink, .get = req };
	uint64_t first, length;
	int rc = -1;

	/*
	 * Only a Range r2mpu would honour itself: S3 servers differ on the rest.
	 * With If-Range, the current ETag decides first (moto ignores If-Range).
	 */
	if (req->range != NULL && range_parse(req->range, UINT64_MAX, &first, &length) != RANGE_NONE) {
		struct s3_call probe = { 0 };

		if (req->if_range == NULL ||
		    (head_object(st, key, &probe) == 0 && if_range_allows(req->if_range, probe.etag))) {
			add_header(&c, "range", req->range);
			/* Also to the store: one that honours it closes the HEAD-GET window. */
			if (req->if_range != NULL)
				add_header(&c, "if-range", req->if_range);
		}
	}
	/*
	 * If-Match is decided here (sink_begin) on the ETag the store sends:
	 * moto answers 412 to a matching If-Match. Alone, If-None-Match is
	 * passed on, so a 304 costs no body; with If-Match, which must be
	 * decided first, both are decided here.
	 */
	if (req->if_none_match != NULL && req->if_match == NULL)
		add_header(&c, "if-none-match", req->if_none_match);
	if (s3_perform(st, &c, err) < 0)
		goto out;
	switch (c.status) {
	case 416:
		/* The client needs the object's size in Content-Range; not every store sends it. */
		if (strchr(c.content_range, '/') == NULL && head_object(st, key, &c) < 0)
			log_error("s3 store: no size for a 416 answer");
		sink_begin(&c);
		rc = 0;
		break;
	case 304:
		/* A 304 carries the ETag (RFC 9110 15.4.5); radosgw's does not. */
		if (c.etag[0] == '\0' && head_object(st, key, &c) < 0)
			log_error("s3 store: no ETag for a 304 answer");
		/* fall through */
	case 200: case 206: case 412:
		sink_begin(&c);     /* no-op when the body already began it; HEAD and empty bodies */
		rc = 0;
		break;
	default:
		answer_error(&c, err);
	}
	if (c.answer_malformed) {
		log_error("s3 store: a 200 answer to %s without a Content-Length", c.method);
		rc = r2err_set(err, 502, "StoreError", "Bad Gateway: the store's answer was not understood");
	}
out:
	call_free(&c);
	return rc;
}

static int s3_delete(void *st, const char *key, struct r2err *err)
{
	struct s3_call c = { .method = "DELETE", .key = key };
	int rc = -1;

	if (s3_perform(st, &c, err) < 0)
		goto out;
	if (c.status == 204 || c.status == 200 || c.status == 404)
		rc = 0;
	else
		answer_error(&c, err);
out:
	call_free(&c);
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

/*
 * ListMultipartUploads under a prefix, page after page, up to page->max.
 * The caller's marker goes to the server as it is: within one key the
 * server's order (by id on S3, by age on moto) decides what comes after it.
 */
static int s3_list_uploads(void *st, const char *prefix, const struct upload_page *page,
			   struct upload_info **uploads, size_t *count, bool *truncated,
			   struct r2err *err)
{
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
		struct s3_call c = { .method = "GET", .key = NULL,
				     .params = { { "uploads", "" }, { "prefix", prefix },
						 { "max-uploads", max_text },
						 { "key-marker", key_marker },
						 { "upload-id-marker", id_marker } },
				     /* upload-id-marker only with a key marker, and never empty */
				     .nparams = !key_marker[0] ? 3 : id_marker[0] ? 5 : 4 };
		size_t before = set.count;
		int rc;

		if (s3_perform(st, &c, err) < 0) {
			call_free(&c);
			goto fail;
		}
		if (c.status != 200) {
			answer_error(&c, err);
			call_free(&c);
			goto fail;
		}
		rc = s3_xml_parse_list_uploads(c.answer, c.answer_len, &set, page);
		call_free(&c);
		if (rc < 0) {
			log_error("s3 store: ListMultipartUploads answer is not understood");
			r2err_set(err, 502, "StoreError", "Bad Gateway: the store's answer was not understood");
			goto fail;
		}
		/*
		 * The first page->max in the promised order, from what came so
		 * far (S3 lists a key's uploads by id, some servers (moto) by age).
		 */
		upload_list_sort(set.uploads, set.count);
		if (set.count > page->max) {
			upload_list_free_tail(set.uploads, page->max, set.count);
			set.count = page->max;
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

static void s3_close(void *state)
{
	struct s3_store *s = state;
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < KNOWN_UPLOADS; i++)
		known_clear(&s->known[i]);
	if (s->curl != NULL)
		curl_easy_cleanup(s->curl);
	OPENSSL_cleanse(s->secret_access_key, sizeof(s->secret_access_key));
	free(s);
	curl_global_cleanup();
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
	.close = s3_close,
};

int store_s3_open(const struct config *cfg, struct store *out, char *errbuf, size_t errlen)
{
	struct s3_store *s;
	const char *host;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(errbuf, errlen, "s3 store: libcurl failed to initialise");
		return -1;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL || (s->curl = curl_easy_init()) == NULL) {
		snprintf(errbuf, errlen, "s3 store: out of memory");
		s3_close(s);
		return -1;
	}
	/* The config module validated these; copy what the requests need. */
	snprintf(s->endpoint, sizeof(s->endpoint), "%s", cfg->s3_endpoint);
	host = strstr(s->endpoint, "://") + 3;
	snprintf(s->host, sizeof(s->host), "%s", host);
	snprintf(s->bucket, sizeof(s->bucket), "%s", cfg->s3_bucket);
	snprintf(s->access_key_id, sizeof(s->access_key_id), "%s", cfg->s3_access_key_id);
	snprintf(s->secret_access_key, sizeof(s->secret_access_key), "%s",
		 cfg->s3_secret_access_key);
	snprintf(s->region, sizeof(s->region), "%s", cfg->s3_region);
	snprintf(s->ca_file, sizeof(s->ca_file), "%s", cfg->s3_ca_file);
	snprintf(s->proxy, sizeof(s->proxy), "%s", cfg->s3_proxy);
	s->connect_timeout = (long)cfg->s3_connect_timeout;
	s->timeout = (long)cfg->s3_timeout;
	out->ops = &s3_ops;
	out->state = s;
	return 0;
}
