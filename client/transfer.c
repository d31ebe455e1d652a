/* SPDX-License-Identifier: MIT */
/* transfer.c: HTTP requests over libcurl's multi interface, N at a time, retried when worth it */
#include "transfer.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "outcome.h"
#include "target.h"

#define POLL_MAX_MS 200

struct engine {
	struct engine_opts o;
	CURLM *multi;
	struct xfer *queue, *queue_tail;   /* to be sent, in order */
	struct xfer *waiting;              /* waiting for their retry, by due_ms */
	struct xfer *running;              /* in the multi handle */
	unsigned n_running;
	int stopped;
	uint64_t rng;
};

long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void xfer_init(struct xfer *x, const char *method, char *url)
{
	memset(x, 0, sizeof(*x));
	x->method = method;
	x->url = url;
	x->body_fd = -1;
	x->out_fd = -1;
}

void xfer_release(struct xfer *x)
{
	free(x->url);
	curl_slist_free_all(x->headers);
	free(x->answer);
	x->url = NULL;
	x->headers = NULL;
	x->answer = NULL;
	x->answer_len = 0;
}

int xfer_header(struct xfer *x, const char *fmt, ...)
{
	char line[1024];
	struct curl_slist *l;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line))
		return -1;
	l = curl_slist_append(x->headers, line);
	if (!l)
		return -1;
	x->headers = l;
	return 0;
}

_Static_assert(sizeof(off_t) == 8, "files over 4 GiB need 64-bit offsets");

void printable(const char *in, size_t len, char *out, size_t outlen)
{
	size_t o = 0;

	for (size_t i = 0; i < len && in[i] != '\n' && o + 1 < outlen; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c == '\r')
			continue;
		out[o++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	out[o] = '\0';
}

void xfer_describe(const struct xfer *x, char *out, size_t outlen)
{
	char msg[300] = "";

	if (x->local_error) {
		snprintf(out, outlen, "%s", strerror(x->local_error));
		return;
	}
	if (x->curl_code != CURLE_OK) {
		snprintf(out, outlen, "%s", x->curl_error[0] ? x->curl_error
			 : curl_easy_strerror((CURLcode)x->curl_code));
		return;
	}
	if (x->answer)
		printable(x->answer, x->answer_len, msg, sizeof(msg));
	snprintf(out, outlen, "HTTP %ld%s%s%s%s", x->status,
		 x->error_code[0] ? " " : "", x->error_code, msg[0] ? ": " : "", msg);
}

/* Copies a header's value (after "Name:") without its spaces and line end. */
static void header_value(const char *line, size_t len, size_t name_len, char *out,
			 size_t outlen)
{
	const char *v = line + name_len, *end = line + len;

	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
		end--;
	printable(v, (size_t)(end - v), out, outlen);
}

static int header_is(const char *line, size_t len, const char *name)
{
	size_t n = strlen(name);

	return len > n && strncasecmp(line, name, n) == 0 && line[n] == ':';
}

static size_t on_header(char *line, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * n;
	char value[32];

	if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) {
		/* A new answer (after a 100 Continue, or a redirect): forget the last one's. */
		x->etag[0] = x->error_code[0] = x->content_range[0] = '\0';
		x->retry_after_s = 0;
	} else if (header_is(line, len, "ETag")) {
		header_value(line, len, 5, x->etag, sizeof(x->etag));
	} else if (header_is(line, len, "X-R2mpu-Error")) {
		header_value(line, len, 14, x->error_code, sizeof(x->error_code));
	} else if (header_is(line, len, "Content-Range")) {
		header_value(line, len, 14, x->content_range, sizeof(x->content_range));
	} else if (header_is(line, len, "Retry-After")) {
		header_value(line, len, 12, value, sizeof(value));
		x->retry_after_s = (unsigned)strtoul(value, NULL, 10);
	}
	return len;
}

static int status_matches(long status, long want)
{
	return want ? status == want : status >= 200 && status < 300;
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * n, max = x->answer_max ? x->answer_max : XFER_ANSWER_MAX;
	long status = 0;

	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	if (x->out_fd >= 0 && status_matches(status, x->out_status)) {
		/* Never past what was asked for: it would land on the next range's bytes. */
		if (x->out_max && len > x->out_max - x->written) {
			x->overlong = 1;
			return 0;   /* libcurl ends the transfer with CURLE_WRITE_ERROR */
		}
		for (size_t done = 0; done < len; ) {
			ssize_t w = pwrite(x->out_fd, data + done, len - done,
					   (off_t)(x->out_off + x->written));
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				x->local_error = w < 0 ? errno : EIO;
				return 0;   /* libcurl ends the transfer with CURLE_WRITE_ERROR */
			}
			done += (size_t)w;
			x->written += (uint64_t)w;
		}
		return len;
	}
	if (x->answer_len < max) {
		size_t take = len < max - x->answer_len ? len : max - x->answer_len;
		char *grown = realloc(x->answer, x->answer_len + take + 1);

		if (!grown) {
			x->local_error = ENOMEM;
			return 0;
		}
		x->answer = grown;
		memcpy(x->answer + x->answer_len, data, take);
		x->answer_len += take;
		x->answer[x->answer_len] = '\0';
	}
	return len;   /* beyond answer_max: read and dropped */
}

static size_t on_read(char *buf, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	uint64_t total = x->body ? x->body_len : x->body_size;
	size_t want = size * n;

	if (want > total - x->read_pos)
		want = (size_t)(total - x->read_pos);
	if (want == 0)
		return 0;
	if (x->body) {
		memcpy(buf, x->body + x->read_pos, want);
	} else {
		ssize_t r;

		do
			r = pread(x->body_fd, buf, want, (off_t)(x->body_off + x->read_pos));
		while (r < 0 && errno == EINTR);
		if (r <= 0) {
			/* A file that shrank under us is a local failure, not a short part. */
			x->local_error = r < 0 ? errno : EIO;
			return CURL_READFUNC_ABORT;
		}
		want = (size_t)r;
	}
	x->read_pos += want;
	x->sent = x->read_pos;
	return want;
}

static int on_seek(void *arg, curl_off_t offset, int origin)
{
	struct xfer *x = arg;
	uint64_t total = x->body ? x->body_len : x->body_size;

	if (origin != SEEK_SET || offset < 0 || (uint64_t)offset > total)
		return CURL_SEEKFUNC_CANTSEEK;
	x->read_pos = (uint64_t)offset;
	x->sent = x->read_pos;
	return CURL_SEEKFUNC_OK;
}

static void log_attempt(const struct engine *e, const struct xfer *x, const char *what)
{
	char url[512];

	if (!e->o.verbose)
		return;
	url_for_people(x->url, url, sizeof(url));
	fprintf(stderr, "r2mpu-client: %s %s: %s\n", x->method, url, what);
}

/* Hands x to libcurl as a new attempt; -1 (with x's curl_code set) when it cannot. */
static int attempt(struct engine *e, struct xfer *x)
{
	CURL *h = curl_easy_init();
	int has_body = x->body != NULL || x->body_fd >= 0;

	x->curl_code = CURLE_OK;
	x->status = 0;
	x->curl_error[0] = x->etag[0] = x->error_code[0] = x->content_range[0] = '\0';
	x->answer_len = 0;
	if (x->answer)
		x->answer[0] = '\0';
	x->local_error = x->overlong = 0;
	x->written = x->read_pos = x->sent = 0;
	x->retry_after_s = 0;
	x->attempts++;
	x->easy = h;
	if (!h) {
		x->curl_code = CURLE_OUT_OF_MEMORY;
		return -1;
	}
	curl_easy_setopt(h, CURLOPT_URL, x->url);
	curl_easy_setopt(h, CURLOPT_PRIVATE, x);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->curl_error);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, x->headers);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)e->o.timeout_s);
	/* A request that moves no byte for timeout_s is dead, however long it may take. */
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)e->o.timeout_s);
	if (e->o.cacert)
		curl_easy_setopt(h, CURLOPT_CAINFO, e->o.cacert);
	if (has_body) {
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(h, CURLOPT_READDATA, x);
		curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(h, CURLOPT_SEEKDATA, x);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE,
				 (curl_off_t)(x->body ? x->body_len : x->body_size));
		if (strcmp(x->method, "PUT") != 0)
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, x->method);
	} else if (strcmp(x->method, "POST") == 0) {
		/* An empty body with its Content-Length: 0 (lighttpd answers 411 without). */
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
	} else if (strcmp(x->method, "HEAD") == 0) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (strcmp(x->method, "GET") != 0) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, x->method);
	}
	if (curl_multi_add_handle(e->multi, h) != CURLM_OK) {
		curl_easy_cleanup(h);
		x->easy = NULL;
		x->curl_code = CURLE_OUT_OF_MEMORY;
		return -1;
	}
	x->next = e->running;
	e->running = x;
	e->n_running++;
	return 0;
}

struct engine *engine_new(const struct engine_opts *o)
{
	struct engine *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->o = *o;
	if (e->o.jobs == 0)
		e->o.jobs = 1;
	if (e->o.timeout_s == 0)
		e->o.timeout_s = 60;
	e->rng = (uint64_t)now_ms() * 0x9E3779B97F4A7C15ULL ^ (uint64_t)getpid();
	e->multi = curl_multi_init();
	if (!e->multi) {
		free(e);
		return NULL;
	}
	/* Keep a connection for every job, so each part does not pay for a new one. */
	curl_multi_setopt(e->multi, CURLMOPT_MAXCONNECTS, (long)e->o.jobs + 2);
	return e;
}

void engine_free(struct engine *e)
{
	if (!e)
		return;
	curl_multi_cleanup(e->multi);
	free(e);
}

void engine_add(struct engine *e, struct xfer *x)
{
	if (!x->prepared) {
		/* Once per request: a retry goes through here again with the same headers. */
		x->prepared = 1;
		if (e->o.token && xfer_header(x, "Authorization: Bearer %s", e->o.token) < 0)
			x->local_error = ENOMEM;
		/* "Expect: 100-continue" costs a round trip per part; the gateway answers a
		 * refusal before reading the body anyway. */
		if ((x->body || x->body_fd >= 0) && xfer_header(x, "Expect:") < 0)
			x->local_error = ENOMEM;
	}
	x->next = NULL;
	if (e->queue_tail)
		e->queue_tail->next = x;
	else
		e->queue = x;
	e->queue_tail = x;
}

void engine_stop(struct engine *e)
{
	e->stopped = 1;
}

void engine_wakeup(struct engine *e)
{
	curl_multi_wakeup(e->multi);
}

uint64_t engine_sending(const struct engine *e)
{
	uint64_t n = 0;

	for (const struct xfer *x = e->running; x; x = x->next)
		n += x->sent;
	return n;
}

uint64_t engine_receiving(const struct engine *e)
{
	uint64_t n = 0;

	for (const struct xfer *x = e->running; x; x = x->next)
		n += x->written;
	return n;
}

static double random_fraction(struct engine *e)
{
	/* xorshift64*: jitter needs spread, not secrecy. */
	e->rng ^= e->rng >> 12;
	e->rng ^= e->rng << 25;
	e->rng ^= e->rng >> 27;
	return (double)((e->rng * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
}

static void wait_for_retry(struct engine *e, struct xfer *x)
{
	unsigned delay = retry_delay_ms(x->attempts, e->o.retry_base_ms, e->o.retry_cap_ms,
					random_fraction(e));
	struct xfer **p = &e->waiting;

	/* The server's Retry-After is a floor, within the same cap. */
	if (x->retry_after_s && (unsigned long long)x->retry_after_s * 1000 > delay)
		delay = x->retry_after_s * 1000ULL > e->o.retry_cap_ms ? e->o.retry_cap_ms
			: x->retry_after_s * 1000;
	x->due_ms = now_ms() + delay;
	while (*p && (*p)->due_ms <= x->due_ms)
		p = &(*p)->next;
	x->next = *p;
	*p = x;
}

/* An attempt ended: try again, or tell the caller. */
static void attempt_ended(struct engine *e, struct xfer *x, CURLcode result)
{
	struct xfer **p = &e->running;
	curl_off_t length;
	char what[400];

	while (*p != x)
		p = &(*p)->next;
	*p = x->next;
	e->n_running--;
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->status);
	if (curl_easy_getinfo(x->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length) != CURLE_OK)
		length = -1;
	x->content_length = length;
	curl_multi_remove_handle(e->multi, x->easy);
	curl_easy_cleanup(x->easy);
	x->easy = NULL;
	x->curl_code = result;
	if (e->o.verbose) {
		xfer_describe(x, what, sizeof(what));
		log_attempt(e, x, what);
	}
	if (!x->local_error && x->attempts <= e->o.retries &&
	    outcome_of(x->curl_code, x->status, x->error_code) == OUTCOME_RETRY) {
		wait_for_retry(e, x);
		return;
	}
	x->done(x);
}

static void drop_all(struct engine *e)
{
	while (e->running) {
		struct xfer *x = e->running;

		e->running = x->next;
		curl_multi_remove_handle(e->multi, x->easy);
		curl_easy_cleanup(x->easy);
		x->easy = NULL;
	}
	e->n_running = 0;
	e->queue = e->queue_tail = e->waiting = NULL;
}

int engine_run(struct engine *e, int (*pump)(void *arg), void *arg)
{
	e->stopped = 0;   /* a stop ends one run; the next (an abort after a failure) goes */
	for (;;) {
		long long now = now_ms();
		int timeout = POLL_MAX_MS, more, still;
		struct CURLMsg *msg;

		if (e->stopped)
			goto stopped;
		while (e->waiting && e->waiting->due_ms <= now) {
			struct xfer *x = e->waiting;

			e->waiting = x->next;
			engine_add(e, x);
		}
		more = pump(arg);
		if (e->stopped)
			goto stopped;
		while (e->queue && e->n_running < e->o.jobs) {
			struct xfer *x = e->queue;

			e->queue = x->next;
			if (!e->queue)
				e->queue_tail = NULL;
			if (x->local_error || attempt(e, x) < 0) {
				x->done(x);
				if (e->stopped)
					goto stopped;
			}
		}
		curl_multi_perform(e->multi, &still);
		while ((msg = curl_multi_info_read(e->multi, &still)) != NULL) {
			struct xfer *x = NULL;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
			attempt_ended(e, x, msg->data.result);
			if (e->stopped)
				goto stopped;
			timeout = 0;   /* start what done queued, and pump again, at once */
		}
		if (!more && !e->queue && !e->running && !e->waiting)
			return 0;
		if (e->queue && e->n_running < e->o.jobs)
			timeout = 0;
		if (e->waiting && e->waiting->due_ms - now < timeout)
			timeout = e->waiting->due_ms > now ? (int)(e->waiting->due_ms - now) : 0;
		if (timeout > 0)
			curl_multi_poll(e->multi, NULL, 0, timeout, NULL);
	}
stopped:
	drop_all(e);
	return -1;
}
