/* SPDX-License-Identifier: MIT */
/* s3_client.c: one signed S3 request over a reused libcurl handle -- bodies streamed both ways */
#include "s3_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "s3_xml.h"
#include "uri.h"
#include "log.h"

/*
 * Requests are signed here (sigv4.c), not by libcurl: libcurl 7.88's
 * CURLOPT_AWS_SIGV4 hashes an empty payload for uploads, signs the query
 * unsorted and the path as written. We send exactly what we signed: an
 * encoded path (CURLOPT_PATH_AS_IS keeps "a/../b" as it is), a canonical
 * query, and the Host header we signed.
 */

#define PATH_MAX_LEN (3 * KEY_MAX_BYTES + 128)   /* "/bucket/" + a key, every byte %XX */
/* Every parameter's value up to KEY_MAX_BYTES raw, every byte %XX, as the signer takes it. */
#define QUERY_MAX_LEN (S3_CLIENT_PARAMS_MAX * (3 * KEY_MAX_BYTES + 128 + 2))
#define HEADER_LINE_MAX (S3_CLIENT_VALUE_MAX + 128)   /* any one header we send, name included */
_Static_assert(S3_CLIENT_HEADERS_MAX + 3 <= SIGV4_MAX_HEADERS,
	       "the signer takes every header we send");

struct s3_client {
	CURL *curl;                    /* one handle per process: its connections are reused */
	char endpoint[CONFIG_STRING_MAX];
	char host[CONFIG_STRING_MAX];  /* the Host header: host[:port] of the endpoint */
	char bucket[64];
	char access_key_id[128];
	char secret_access_key[128];   /* wiped by s3_client_close() */
	char region[64];
	char ca_file[CONFIG_STRING_MAX];
	char proxy[CONFIG_STRING_MAX]; /* "": none */
	long connect_timeout, timeout;
};

/* One request in flight: what libcurl's callbacks share. */
struct call {
	const struct s3_client_request *req;
	struct s3_client_answer *answer;
	struct r2err *err;             /* where a send_filter puts its error */
	uint64_t sent;                 /* bytes of the source read so far */
	bool source_failed;            /* the source ended early */
	bool filter_stopped;           /* the send_filter kept the rest back */
	bool headers_ended;            /* the blank line after the headers came */
	bool body_begun;
	bool hooks_stopped;            /* body_begin or body_write stopped the transfer */
	bool too_big;                  /* the body was larger than S3_CLIENT_ANSWER_MAX */
	bool out_of_memory;            /* a header or the body did not fit in memory */
};

/* Set an option of the handle unless one has failed already (every CURLcode is checked). */
#define SETOPT(opt, val) \
	do { \
		if (rc == CURLE_OK) \
			rc = curl_easy_setopt(cl->curl, opt, val); \
	} while (0)

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

static void forget_kept(struct s3_client_answer *a)
{
	int i;

	for (i = 0; i < S3_CLIENT_KEEP_MAX; i++) {
		free(a->kept[i]);
		a->kept[i] = NULL;
	}
}

static size_t on_header(char *line, size_t size, size_t n, void *ctx)
{
	struct call *c = ctx;
	struct s3_client_answer *a = c->answer;
	size_t len = size * n, nlen, vlen, i;
	const char *colon;

	if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) {
		/* A new status line (after "100 Continue", say): forget the last block. */
		const char *sp = memchr(line, ' ', len);

		a->status = sp != NULL ? strtol(sp + 1, NULL, 10) : 0;
		c->headers_ended = false;
		a->etag[0] = a->content_range[0] = a->content_length[0] = a->sse[0] = '\0';
		a->last_modified = 0;
		forget_kept(a);
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
	vlen = len - nlen - 1;
#define IS(name) (nlen == strlen(name) && strncasecmp(line, name, nlen) == 0)
	if (IS("ETag")) {
		trim_copy(a->etag, sizeof(a->etag), colon + 1, vlen);
		s3_xml_etag_unquote(a->etag);
	} else if (IS("Content-Length")) {
		trim_copy(a->content_length, sizeof(a->content_length), colon + 1, vlen);
	} else if (IS("Content-Range")) {
		trim_copy(a->content_range, sizeof(a->content_range), colon + 1, vlen);
	} else if (IS("Last-Modified")) {
		char date[64];

		trim_copy(date, sizeof(date), colon + 1, vlen);
		a->last_modified = curl_getdate(date, NULL);
		if (a->last_modified < 0)
			a->last_modified = 0;      /* unparsable: no Last-Modified is sent */
	} else if (IS("x-amz-server-side-encryption")) {
		trim_copy(a->sse, sizeof(a->sse), colon + 1, vlen);
	} else {
		for (i = 0; i < c->req->nkeep; i++) {
			if (IS(c->req->keep[i])) {
				size_t cap = vlen > S3_CLIENT_VALUE_MAX ? S3_CLIENT_VALUE_MAX : vlen;

				free(a->kept[i]);
				a->kept[i] = malloc(cap + 1);
				if (a->kept[i] == NULL) {
					c->out_of_memory = true;
					return 0;       /* aborts the transfer */
				}
				trim_copy(a->kept[i], cap + 1, colon + 1, vlen);
			}
		}
	}
#undef IS
	return len;
}

static bool body_to_hooks(const struct call *c)
{
	return c->req->body_write != NULL && (c->answer->status == 200 || c->answer->status == 206);
}

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
	struct call *c = ctx;
	const struct s3_client_request *req = c->req;
	size_t len = size * n;

	if (body_to_hooks(c)) {
		if (!c->body_begun) {
			c->body_begun = true;
			if (req->body_begin != NULL && req->body_begin(req->ctx, c->answer) < 0) {
				c->hooks_stopped = true;
				return 0;          /* stops the transfer */
			}
		}
		if (req->body_write(req->ctx, data, len) < 0) {
			c->hooks_stopped = true;
			return 0;
		}
		return len;
	}
	if (buf_append(&c->answer->body, data, len) < 0) {
		if (len > c->answer->body.max - c->answer->body.len)
			c->too_big = true;
		else
			c->out_of_memory = true;
		return 0;              /* stops the transfer */
	}
	return len;
}

/* libcurl pulls a streamed body through here, straight from the source. */
static size_t on_read(char *buf, size_t size, size_t n, void *ctx)
{
	struct call *c = ctx;
	const struct s3_client_request *req = c->req;
	uint64_t left = req->source->length - c->sent;
	size_t want = size * n;
	ssize_t got;

	if (left == 0)
		return 0;
	if (want > left)
		want = (size_t)left;
	got = req->source->read(req->source->ctx, buf, want);
	if (got <= 0) {
		/* The source went away: abort, so the store keeps nothing of the body. */
		c->source_failed = true;
		return CURL_READFUNC_ABORT;
	}
	c->sent += (uint64_t)got;
	if (req->send_filter != NULL &&
	    req->send_filter(req->ctx, buf, (size_t)got, c->sent == req->source->length, c->err) < 0) {
		c->filter_stopped = true;
		return CURL_READFUNC_ABORT;
	}
	return (size_t)got;
}

void s3_client_answer_free(struct s3_client_answer *a)
{
	if (a == NULL)
		return;
	buf_free(&a->body);
	forget_kept(a);
}

int s3_client_answer_error(const struct s3_client_request *req,
			   const struct s3_client_answer *a, struct r2err *err)
{
	struct s3_error_doc doc;

	if (s3_xml_parse_error(a->body.data, a->body.len, &doc) == 0)
		s3_xml_map_error((int)a->status, &doc, err);
	else if (a->status == 404 && req->key != NULL)
		r2err_set(err, 404, "NoSuchKey", "Object Not Found");
	else
		s3_xml_map_error((int)a->status, NULL, err);
	return -1;
}

/* ---- one request --------------------------------------------------------------- */

void s3_client_add_header(struct s3_client_request *req, const char *name, const char *value)
{
	/* One too many is counted, not stored: s3_client_perform() refuses the request. */
	if (req->nheaders < S3_CLIENT_HEADERS_MAX) {
		req->headers[req->nheaders].name = name;
		req->headers[req->nheaders].value = value;
	}
	if (req->nheaders <= S3_CLIENT_HEADERS_MAX)
		req->nheaders++;
}

static bool has_header(const struct s3_client_request *req, const char *name)
{
	size_t i;

	for (i = 0; i < req->nheaders; i++)
		if (strcmp(req->headers[i].name, name) == 0)
			return true;
	return false;
}

/* The error of a transfer that brought no answer. */
static int transfer_failure(const struct s3_client *cl, const struct call *c, CURLcode rc,
			    const char *errbuf, struct r2err *err)
{
	if (c->filter_stopped)
		return -1;          /* the send_filter said why, in *err */
	if (c->source_failed)
		return r2err_set(err, 400, "IncompleteBody",
				 "IncompleteBody: the request body ended after %llu of %llu "
				 "bytes; nothing was stored", (unsigned long long)c->sent,
				 (unsigned long long)c->req->source->length);
	log_error("s3 store: %s %s: %s (%s)", c->req->method, cl->endpoint, curl_easy_strerror(rc),
		  errbuf[0] ? errbuf : "no detail");
	if (rc == CURLE_OPERATION_TIMEDOUT)
		return r2err_set(err, 504, "StoreTimeout",
				 "Gateway Timeout: the store did not answer in time");
	return r2err_set(err, 502, "StoreUnreachable", "Bad Gateway: the store could not be reached");
}

int s3_client_perform(struct s3_client *cl, const struct s3_client_request *req,
		      struct s3_client_answer *answer, struct r2err *err)
{
	char path[PATH_MAX_LEN], query[QUERY_MAX_LEN];
	char url[CONFIG_STRING_MAX + PATH_MAX_LEN + QUERY_MAX_LEN];
	char amz_date[17], auth[SIGV4_AUTH_MAX], line[HEADER_LINE_MAX], errbuf[CURL_ERROR_SIZE] = "";
	struct sigv4_header all[S3_CLIENT_HEADERS_MAX + 3];
	struct sigv4_request sreq;
	struct sigv4_credentials cred = { cl->access_key_id, cl->secret_access_key, cl->region, "s3" };
	struct call c = { .req = req, .answer = answer, .err = err };
	struct curl_slist *list = NULL, *grown;
	const char *payload = req->payload_hash ? req->payload_hash : SIGV4_EMPTY_SHA256;
	time_t now = time(NULL);
	struct tm tm;
	size_t i, used;
	CURLcode rc;
	int ret = -1;

	memset(answer, 0, sizeof(*answer));
	answer->body.max = S3_CLIENT_ANSWER_MAX;
	if (req->nheaders > S3_CLIENT_HEADERS_MAX || req->nparams > S3_CLIENT_PARAMS_MAX ||
	    req->nkeep > S3_CLIENT_KEEP_MAX)
		return r2err_set(err, 500, "InternalError", "InternalError: request out of bounds");

	/* Path and query, exactly as signed and sent. */
	/* The bucket itself is "/bucket", as S3 servers sign it; an object is "/bucket/key". */
	used = (size_t)snprintf(path, sizeof(path), req->key != NULL ? "/%s/" : "/%s", cl->bucket);
	if (req->key != NULL &&
	    uri_encode(req->key, strlen(req->key), true, path + used, sizeof(path) - used) < 0)
		return r2err_set(err, 500, "InternalError", "InternalError: key too long to encode");
	if (sigv4_canonical_query(req->params, req->nparams, query, sizeof(query)) < 0)
		return r2err_set(err, 500, "InternalError", "InternalError: query too long");
	snprintf(url, sizeof(url), "%s%s%s%s", cl->endpoint, path, query[0] ? "?" : "", query);

	gmtime_r(&now, &tm);
	strftime(amz_date, sizeof(amz_date), "%Y%m%dT%H%M%SZ", &tm);
	for (i = 0; i < req->nheaders; i++)
		all[i] = req->headers[i];
	all[i++] = (struct sigv4_header){ "host", cl->host };
	all[i++] = (struct sigv4_header){ "x-amz-content-sha256", payload };
	all[i++] = (struct sigv4_header){ "x-amz-date", amz_date };
	sreq = (struct sigv4_request){ req->method, path, query, all, i, payload };
	if (sigv4_authorization(&sreq, &cred, amz_date, auth, sizeof(auth)) < 0)
		return r2err_set(err, 500, "InternalError", "InternalError: signing failed");

	/* The header list: every signed header, the signature, and no "Expect". */
	for (i = 0; i < sreq.nheaders; i++) {
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
	if (strcmp(req->method, "POST") == 0 && !has_header(req, "content-type")) {
		if ((grown = curl_slist_append(list, "Content-Type:")) == NULL)
			goto oom;
		list = grown;
	}
	snprintf(line, sizeof(line), "Authorization: %s", auth);
	if ((grown = curl_slist_append(list, line)) == NULL ||
	    (list = grown, grown = curl_slist_append(list, "Expect:")) == NULL)
		goto oom;
	list = grown;

	curl_easy_reset(cl->curl);   /* options only: live connections stay */
	rc = CURLE_OK;
	SETOPT(CURLOPT_URL, url);
	SETOPT(CURLOPT_PATH_AS_IS, 1L);
	SETOPT(CURLOPT_HTTPHEADER, list);
	SETOPT(CURLOPT_NOSIGNAL, 1L);
	SETOPT(CURLOPT_ERRORBUFFER, errbuf);
	SETOPT(CURLOPT_CONNECTTIMEOUT, cl->connect_timeout);
	SETOPT(CURLOPT_LOW_SPEED_LIMIT, 1L);
	SETOPT(CURLOPT_LOW_SPEED_TIME, cl->timeout);
	SETOPT(CURLOPT_TCP_KEEPALIVE, 1L);
	SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
	if (cl->ca_file[0] != '\0') {
		SETOPT(CURLOPT_CAINFO, cl->ca_file);
		SETOPT(CURLOPT_PROXY_CAINFO, cl->ca_file);   /* an https:// proxy's too */
	}
	/*
	 * The proxy is r2mpu's setting or none ("" turns libcurl's reading of
	 * http_proxy, ALL_PROXY and NO_PROXY from the environment off): the
	 * store's signed requests never go where an environment variable says.
	 */
	SETOPT(CURLOPT_PROXY, cl->proxy);
	SETOPT(CURLOPT_NOPROXY, "");
	SETOPT(CURLOPT_HEADERFUNCTION, on_header);
	SETOPT(CURLOPT_HEADERDATA, &c);
	SETOPT(CURLOPT_WRITEFUNCTION, on_body);
	SETOPT(CURLOPT_WRITEDATA, &c);
	if (req->source != NULL) {
		SETOPT(CURLOPT_UPLOAD, 1L);
		SETOPT(CURLOPT_READFUNCTION, on_read);
		SETOPT(CURLOPT_READDATA, &c);
		SETOPT(CURLOPT_UPLOAD_BUFFERSIZE, (long)STREAM_CHUNK);
		SETOPT(CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->source->length);
	} else if (strcmp(req->method, "POST") == 0) {
		SETOPT(CURLOPT_POST, 1L);
		SETOPT(CURLOPT_POSTFIELDS, req->body ? req->body : "");
		SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
	} else if (strcmp(req->method, "HEAD") == 0) {
		SETOPT(CURLOPT_NOBODY, 1L);
	} else if (strcmp(req->method, "GET") != 0) {
		SETOPT(CURLOPT_CUSTOMREQUEST, req->method);
	}

	if (rc != CURLE_OK) {
		log_error("s3 store: libcurl refused an option: %s", curl_easy_strerror(rc));
		r2err_set(err, 500, "InternalError", "InternalError: the HTTP client is misconfigured");
		goto out;
	}
	rc = curl_easy_perform(cl->curl);
	/* Stopped here, not lost on the way: say why, not "unreachable". */
	if (c.too_big) {
		log_error("s3 store: answer to %s larger than %d bytes", req->method,
			  S3_CLIENT_ANSWER_MAX);
		r2err_set(err, 502, "StoreError", "Bad Gateway: the store's answer was too large");
		goto out;
	}
	if (c.out_of_memory)
		goto oom;
	/* The hooks stopped a transfer whose answer came: the caller has its status. */
	if (rc != CURLE_OK && !c.hooks_stopped) {
		transfer_failure(cl, &c, rc, errbuf, err);
		goto out;
	}
	/* libcurl 7.88 says OK for a connection closed inside the headers. */
	if (rc == CURLE_OK && !c.headers_ended) {
		log_error("s3 store: the answer to %s ended inside its headers", req->method);
		r2err_set(err, 502, "StoreError", "Bad Gateway: the store's answer was cut off");
		goto out;
	}
	ret = 0;
	goto out;
oom:
	r2err_out_of_memory(err);
out:
	/* Unhook what dies here; clearing an option cannot fail. */
	(void)curl_easy_setopt(cl->curl, CURLOPT_HTTPHEADER, NULL);
	(void)curl_easy_setopt(cl->curl, CURLOPT_ERRORBUFFER, NULL);
	curl_slist_free_all(list);
	return ret;
}

/* ---- the connection ------------------------------------------------------------ */

void s3_client_close(struct s3_client *cl)
{
	if (cl == NULL)
		return;
	if (cl->curl != NULL)
		curl_easy_cleanup(cl->curl);
	OPENSSL_cleanse(cl->secret_access_key, sizeof(cl->secret_access_key));
	free(cl);
	curl_global_cleanup();
}

/* Where distributions keep the system's CA bundle, the most widespread first. */
static const char *const ca_bundles[] = {
	"/etc/ssl/certs/ca-certificates.crt",                /* Debian, Ubuntu, Alpine, Arch */
	"/etc/pki/tls/certs/ca-bundle.crt",                  /* RHEL, CentOS, CloudLinux, Fedora */
	"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", /* RHEL 7 and later, by itself */
	"/etc/ssl/ca-bundle.pem",                            /* SUSE */
	"/etc/ssl/cert.pem",                                 /* Alpine, and the BSDs' place */
};

const char *s3_client_ca_bundle(const char *configured, bool built_in,
				bool (*readable)(const char *path))
{
	size_t i;

	if (configured[0] != '\0')
		return configured;
	if (built_in)
		return "";
	for (i = 0; i < sizeof(ca_bundles) / sizeof(ca_bundles[0]); i++)
		if (readable(ca_bundles[i]))
			return ca_bundles[i];
	return NULL;
}

static bool readable_file(const char *path)
{
	return access(path, R_OK) == 0;
}

int s3_client_open(const struct config *cfg, struct s3_client **out, char *errbuf, size_t errlen)
{
	const curl_version_info_data *curl_info;
	struct s3_client *cl;
	const char *host, *ca;

	*out = NULL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(errbuf, errlen, "s3 store: libcurl failed to initialise");
		return -1;
	}
	cl = calloc(1, sizeof(*cl));
	if (cl == NULL) {
		curl_global_cleanup();
		snprintf(errbuf, errlen, "s3 store: out of memory");
		return -1;
	}
	if ((cl->curl = curl_easy_init()) == NULL) {
		s3_client_close(cl);
		snprintf(errbuf, errlen, "s3 store: out of memory");
		return -1;
	}
	/* The config module validated these; copy what the requests need. */
	snprintf(cl->endpoint, sizeof(cl->endpoint), "%s", cfg->s3_endpoint);
	host = strstr(cl->endpoint, "://") + 3;
	snprintf(cl->host, sizeof(cl->host), "%s", host);
	snprintf(cl->bucket, sizeof(cl->bucket), "%s", cfg->s3_bucket);
	snprintf(cl->access_key_id, sizeof(cl->access_key_id), "%s", cfg->s3_access_key_id);
	snprintf(cl->secret_access_key, sizeof(cl->secret_access_key), "%s",
		 cfg->s3_secret_access_key);
	snprintf(cl->region, sizeof(cl->region), "%s", cfg->s3_region);
	curl_info = curl_version_info(CURLVERSION_NOW);
	ca = s3_client_ca_bundle(cfg->s3_ca_file,
				 curl_info->cainfo != NULL || curl_info->capath != NULL,
				 readable_file);
	if (ca == NULL && strncmp(cl->endpoint, "https:", 6) == 0) {
		s3_client_close(cl);
		snprintf(errbuf, errlen, "s3 store: no CA bundle to check %s with: none in the "
			 "usual places (%s, ...); name one in R2MPU_S3_CA_FILE", cfg->s3_endpoint,
			 ca_bundles[0]);
		return -1;
	}
	snprintf(cl->ca_file, sizeof(cl->ca_file), "%s", ca != NULL ? ca : "");
	snprintf(cl->proxy, sizeof(cl->proxy), "%s", cfg->s3_proxy);
	cl->connect_timeout = (long)cfg->s3_connect_timeout;
	cl->timeout = (long)cfg->s3_timeout;
	*out = cl;
	return 0;
}
