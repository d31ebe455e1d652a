/* SPDX-License-Identifier: MIT */
/* upload.c: `upload FILE URL` -- a file or a pipe in parts, resumed, checked end to end */
#include "client.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "digest.h"
#include "etag.h"
#include "plan.h"

#define READ_BUF (256 * 1024)   /* what the reader holds at once, whatever the part size */
#define RESUME_CANDIDATES 5     /* uploads of the key looked at, newest first */

enum part_state { PART_TODO, PART_HASHED, PART_SENDING, PART_DONE };

struct part {
	uint64_t off, len;             /* where its bytes are in fd */
	int fd;                        /* the file, or the part's spool file (a pipe) */
	unsigned char md5[MD5_LEN];    /* once PART_HASHED */
	enum part_state state;
	int listed;                    /* the gateway has a part of this number: etag */
	char etag[ETAG_MAX];
};

struct slot {                      /* a request in flight: at most jobs of them */
	struct xfer x;
	struct upload *u;
	uint32_t part;                 /* index into parts */
	int busy;
};

struct upload {
	const struct client_opts *o;
	struct target t;
	struct engine *e;
	int src_fd, stream;            /* stream: a pipe, read once, parts spooled */
	uint64_t src_base;             /* the offset stdin was at, when it is a file */
	struct stat src_st;
	struct plan plan;
	char *key, *upload_id;
	int resumed;

	pthread_mutex_t lock;          /* guards what the reader and the sender share: */
	pthread_cond_t room;           /* signalled when the reader may hash further */
	struct part *parts;
	uint32_t nparts, cap;          /* known so far (a pipe), all of them (a file) */
	unsigned ahead;                /* hashed parts not yet handed to the engine */
	int input_done, reader_error, stop_reader;
	int wake[2];                   /* send_all's pipe: a byte on it ends the reader's wait on stdin */

	uint32_t next_send;            /* the sender's cursor into parts */
	struct slot *slots;
	uint64_t bytes_done;
	uint32_t sent, reused;
	int failed;                    /* an exit code, once a request failed for good */
	int transient;                 /* ... after its retries, on what might pass later */
	struct progress bar;
};

/* A request for a URL target_url made (NULL when memory ran out: it then fails at once). */
static void request_init(struct xfer *x, const char *method, char *url)
{
	xfer_init(x, method, url);
	if (!url)
		x->local_error = ENOMEM;
}

/* An etag the gateway listed ("hex" or "\"hex\"") as the MD5 it names; -1 if not one. */
static int etag_to_md5(const char *etag, unsigned char md5[MD5_LEN])
{
	size_t n = strlen(etag);

	if (n == 34 && etag[0] == '"' && etag[33] == '"') {
		etag++;
		n -= 2;
	}
	return n == 2 * MD5_LEN ? hex_decode(etag, md5, MD5_LEN) : -1;
}

/* --- the reader: hashes parts ahead of the sender, in a thread of its own --- */

/* MD5 of len bytes at off in fd, read READ_BUF at a time; 0 or an errno. */
static int hash_range(int fd, uint64_t off, uint64_t len, unsigned char *buf,
		      unsigned char md5[MD5_LEN])
{
	struct md5 m;

	if (md5_init(&m) < 0)
		return ENOMEM;
	while (len > 0) {
		ssize_t r = pread(fd, buf, len < READ_BUF ? (size_t)len : READ_BUF, (off_t)off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			md5_free(&m);
			return r < 0 ? errno : EIO;   /* the file shrank */
		}
		md5_update(&m, buf, (size_t)r);
		off += (uint64_t)r;
		len -= (uint64_t)r;
	}
	md5_final(&m, md5);
	return 0;
}

/* A file of its own for one part of a pipe, gone from the directory already. */
static int spool_open(void)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	int fd;

	if (!dir || !*dir)
		dir = "/tmp";
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != ENOENT))
		return fd;
	snprintf(path, sizeof(path), "%s/r2mpu-client.XXXXXX", dir);
	fd = mkstemp(path);
	if (fd >= 0)
		unlink(path);
	return fd;
}

/* Reads the next part of the pipe into a spool file, hashing it; 0 or an errno.
 * *len is 0 at the end of the input. */
static int spool_part(struct upload *u, unsigned char *buf, struct part *p)
{
	struct md5 m;
	int err = 0;

	memset(p, 0, sizeof(*p));
	p->fd = spool_open();
	if (p->fd < 0)
		return errno;
	if (md5_init(&m) < 0)
		return ENOMEM;
	while (p->len < u->plan.part_size) {
		uint64_t want = u->plan.part_size - p->len;
		struct pollfd ready[2] = { { u->src_fd, POLLIN, 0 }, { u->wake[0], POLLIN, 0 } };
		ssize_t r;

		/* A pipe may stay silent for ever: the sender's stop must end the wait. */
		if (poll(ready, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			err = errno;
			break;
		}
		if (ready[1].revents) {
			err = ECANCELED;
			break;
		}
		r = read(u->src_fd, buf, want < READ_BUF ? (size_t)want : READ_BUF);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = errno;
			break;
		}
		if (r == 0)
			break;
		for (ssize_t w, done = 0; done < r; done += w) {
			w = pwrite(p->fd, buf + done, (size_t)(r - done), (off_t)(p->len + (uint64_t)done));
			if (w < 0 && errno == EINTR) {
				w = 0;
				continue;
			}
			if (w <= 0) {
				err = w < 0 ? errno : EIO;
				goto out;
			}
		}
		md5_update(&m, buf, (size_t)r);
		p->len += (uint64_t)r;
	}
out:
	md5_final(&m, p->md5);
	return err;
}

static void *reader(void *arg)
{
	struct upload *u = arg;
	unsigned char *buf = malloc(READ_BUF);
	int err = buf ? 0 : ENOMEM;

	for (uint32_t n = 0; !err; n++) {
		struct part spooled;
		int skip;

		pthread_mutex_lock(&u->lock);
		while (!u->stop_reader && u->ahead >= u->o->jobs)
			pthread_cond_wait(&u->room, &u->lock);
		skip = u->stop_reader || (!u->stream && n >= u->nparts);
		if (!skip && !u->stream && u->parts[n].state == PART_DONE)
			skip = 2;   /* listed and trusted (--no-verify): nothing to hash */
		pthread_mutex_unlock(&u->lock);
		if (skip == 2)
			continue;
		if (skip)
			break;
		if (!u->stream) {
			/* The part's slot is this thread's until it is marked hashed. */
			struct part *p = &u->parts[n];

			err = hash_range(p->fd, p->off, p->len, buf, p->md5);
			if (err)
				break;
			pthread_mutex_lock(&u->lock);
			p->state = PART_HASHED;
			if (!p->listed)
				u->ahead++;
			pthread_mutex_unlock(&u->lock);
		} else {
			err = spool_part(u, buf, &spooled);
			if (err || (spooled.len == 0 && n > 0)) {
				if (spooled.fd >= 0)
					close(spooled.fd);
				break;
			}
			pthread_mutex_lock(&u->lock);
			if (u->nparts == PLAN_MAX_PARTS) {
				err = EFBIG;
			} else if (u->nparts == u->cap) {
				uint32_t cap = u->cap ? u->cap * 2 : 64;
				struct part *grown = realloc(u->parts, cap * sizeof(*grown));

				if (grown) {
					u->parts = grown;
					u->cap = cap;
				} else {
					err = ENOMEM;
				}
			}
			if (!err && spooled.len > 0) {
				spooled.state = PART_HASHED;
				u->parts[u->nparts++] = spooled;
				u->ahead++;
				u->plan.size += spooled.len;
			}
			pthread_mutex_unlock(&u->lock);
			if (err || spooled.len < u->plan.part_size) {
				if (err || spooled.len == 0)
					close(spooled.fd);
				break;   /* a short part is the last one */
			}
		}
		engine_wakeup(u->e);
	}
	pthread_mutex_lock(&u->lock);
	u->reader_error = err;
	u->input_done = 1;
	pthread_mutex_unlock(&u->lock);
	engine_wakeup(u->e);
	free(buf);
	return NULL;
}

/* --- the sender: the engine's pump and its requests --- */

static void part_sent(struct xfer *x)
{
	struct slot *s = x->arg;
	struct upload *u = s->u;
	struct part *p;
	char hex[ETAG_MAX], doing[64];

	/* The reader may grow parts (a pipe) at any time: only under the lock. */
	pthread_mutex_lock(&u->lock);
	etag_from_md5(u->parts[s->part].md5, hex);
	pthread_mutex_unlock(&u->lock);
	snprintf(doing, sizeof(doing), "sending part %" PRIu32, s->part + 1);
	if (outcome_of(x->curl_code, x->status, x->error_code) != OUTCOME_OK || x->local_error) {
		if (!u->failed) {
			u->failed = say_failed(x, doing);
			u->transient = !x->local_error && outcome_of(x->curl_code, x->status,
								     x->error_code) == OUTCOME_RETRY;
		}
		engine_stop(u->e);
	} else if (!etag_equal(x->etag, hex)) {
		/* The gateway checked Content-MD5; an etag for other bytes is a broken peer. */
		say("%s: the gateway answered ETag %s for a part whose MD5 is %s", doing,
		    x->etag[0] ? x->etag : "(none)", hex);
		if (!u->failed)
			u->failed = EXIT_INTEGRITY;
		engine_stop(u->e);
	} else {
		pthread_mutex_lock(&u->lock);
		p = &u->parts[s->part];
		p->state = PART_DONE;
		u->bytes_done += p->len;
		u->sent++;
		if (u->stream) {
			close(p->fd);
			p->fd = -1;
		}
		pthread_mutex_unlock(&u->lock);
	}
	xfer_release(x);
	s->busy = 0;
}

static int send_part(struct upload *u, struct slot *s, uint32_t i)
{
	struct part *p = &u->parts[i];
	char b64[32];

	request_init(&s->x, "PUT", target_url(&u->t, "mpu-uploadpart", u->upload_id, i + 1));
	s->x.body_fd = p->fd;
	s->x.body_off = p->off;
	s->x.body_size = p->len;
	s->x.done = part_sent;
	s->x.arg = s;
	s->part = i;
	s->busy = 1;
	EVP_EncodeBlock((unsigned char *)b64, p->md5, MD5_LEN);
	if (xfer_header(&s->x, "Content-MD5: %s", b64) < 0 ||
	    xfer_header(&s->x, "Content-Type: application/octet-stream") < 0)
		s->x.local_error = ENOMEM;
	p->state = PART_SENDING;
	engine_add(u->e, &s->x);
	return 0;
}

/* A listed part whose bytes the local file also has: it need not be sent again. */
static int listed_matches(const struct part *p)
{
	unsigned char theirs[MD5_LEN];

	return etag_to_md5(p->etag, theirs) == 0 && memcmp(theirs, p->md5, MD5_LEN) == 0;
}

static int pump(void *arg)
{
	struct upload *u = arg;
	int more;

	if (client_interrupted || u->failed) {
		engine_stop(u->e);
		return 0;
	}
	pthread_mutex_lock(&u->lock);
	if (u->reader_error && !u->failed) {
		if (u->reader_error == EFBIG)
			say("the input is over %d parts of %" PRIu64 " bytes: give a larger "
			    "--part-size", PLAN_MAX_PARTS, u->plan.part_size);
		else
			say("reading the input: %s", strerror(u->reader_error));
		u->failed = EXIT_FAILED;
	}
	for (unsigned j = 0; j < u->o->jobs && !u->failed; j++) {
		struct slot *s = &u->slots[j];

		while (!s->busy && u->next_send < u->nparts) {
			struct part *p = &u->parts[u->next_send];

			if (p->state == PART_DONE) {
				u->next_send++;
				continue;
			}
			if (p->state != PART_HASHED)
				break;
			if (p->listed && listed_matches(p)) {
				p->state = PART_DONE;
				u->bytes_done += p->len;
				u->reused++;
				u->next_send++;
				continue;
			}
			if (p->listed)
				say_verbose(u->o, "part %" PRIu32 " on the gateway differs from the "
					    "file: sending it again", u->next_send + 1);
			else
				u->ahead--;
			pthread_cond_signal(&u->room);
			send_part(u, s, u->next_send++);
		}
	}
	more = !u->failed && !(u->input_done && u->next_send >= u->nparts);
	pthread_mutex_unlock(&u->lock);
	progress_update(&u->bar, u->bytes_done + engine_sending(u->e));
	if (u->failed)
		engine_stop(u->e);
	return more;
}

/* --- before and after: finding or creating the upload, completing it --- */

static const char *json_str(json_object *o, const char *name)
{
	json_object *v;

	return json_object_object_get_ex(o, name, &v) && json_object_is_type(v, json_type_string)
		? json_object_get_string(v) : NULL;
}

static json_object *answer_json(const struct xfer *x, const char *doing)
{
	json_object *j = x->answer ? json_tokener_parse(x->answer) : NULL;

	if (!j || !json_object_is_type(j, json_type_object)) {
		say("%s: the gateway's answer is not the JSON expected (is this URL an r2mpu "
		    "gateway?)", doing);
		json_object_put(j);
		return NULL;
	}
	return j;
}

/*
 * Takes the parts the gateway lists for upload_id when each has the size the plan
 * gives its number: 1 (taken), 0 (not this one), or -exit code.
 */
static int take_listed(struct upload *u, const char *upload_id)
{
	struct xfer x;
	json_object *j = NULL, *list;
	int rc = 0;
	size_t n;

	request_init(&x, "GET", target_url(&u->t, "mpu-listparts", upload_id, 0));
	x.answer_max = 4 << 20;   /* 10,000 parts listed */
	if (run_one(u->e, &x) != OUTCOME_OK) {
		rc = x.status == 404 && !u->o->upload_id ? 0 : -say_failed(&x, "listing the parts");
		goto out;
	}
	j = answer_json(&x, "listing the parts");
	if (!j || !json_object_object_get_ex(j, "parts", &list) ||
	    !json_object_is_type(list, json_type_array)) {
		rc = -EXIT_SERVER;
		goto out;
	}
	n = json_object_array_length(list);
	for (size_t i = 0; i < n; i++) {
		json_object *p = json_object_array_get_idx(list, i), *num, *size;
		const char *etag = json_str(p, "etag");
		int64_t number = -1;

		if (json_object_object_get_ex(p, "partNumber", &num))
			number = json_object_get_int64(num);
		if (!etag || number < 1 || number > u->nparts ||
		    !json_object_object_get_ex(p, "size", &size) ||
		    (uint64_t)json_object_get_int64(size) != u->parts[number - 1].len) {
			say_verbose(u->o, "upload %s has parts that do not fit this file's plan",
				    upload_id);
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++) {
		json_object *p = json_object_array_get_idx(list, i), *num;
		struct part *part;

		json_object_object_get_ex(p, "partNumber", &num);
		part = &u->parts[json_object_get_int64(num) - 1];
		if (part->listed)
			continue;       /* listed twice (a broken server): counted once */
		part->listed = 1;
		snprintf(part->etag, sizeof(part->etag), "%s", json_str(p, "etag"));
		/* Trusted by its size alone (--no-verify): its MD5 is the one it was sent with. */
		if (!u->o->verify && etag_to_md5(part->etag, part->md5) == 0) {
			part->state = PART_DONE;
			u->bytes_done += part->len;
			u->reused++;
		}
	}
	rc = 1;
out:
	json_object_put(j);
	xfer_release(&x);
	return rc;
}

/* Newest first: ISO 8601 times in UTC sort as strings. */
static int newest_first(const void *a, const void *b)
{
	const char *ta = json_str(*(json_object *const *)a, "initiated");
	const char *tb = json_str(*(json_object *const *)b, "initiated");

	return strcmp(tb ? tb : "", ta ? ta : "");
}

/*
 * Finds an upload of this key whose parts fit the plan (the newest that does): 1 when
 * found (u->upload_id, u->key and the listed parts set), 0 when there is none to
 * resume, or -exit code.
 */
static int find_upload(struct upload *u)
{
	struct xfer x;
	json_object *j = NULL, *list;
	json_object *mine[RESUME_CANDIDATES];
	const char *prefix;
	size_t n, found = 0;
	int rc = 0;

	request_init(&x, "GET", target_url(&u->t, "mpu-list", NULL, 0));
	x.answer_max = 16 << 20;   /* up to 10,000 uploads listed, as in `list` */
	if (run_one(u->e, &x) != OUTCOME_OK) {
		if (client_interrupted)
			rc = -EXIT_FAILED;
		else if (x.status == 401 || x.status == 403)
			/* A signed URL for one key, or a token without the read right: no
			 * way to find the upload, so a new one (--upload-id resumes). */
			say_verbose(u->o, "the gateway does not let this credential list "
				    "uploads: starting a new one");
		else
			rc = -say_failed(&x, "looking for an upload to resume");
		goto out;
	}
	j = answer_json(&x, "looking for an upload to resume");
	prefix = j ? json_str(j, "prefix") : NULL;
	if (!prefix || !json_object_object_get_ex(j, "uploads", &list) ||
	    !json_object_is_type(list, json_type_array)) {
		rc = -EXIT_SERVER;
		goto out;
	}
	/* The list is of every key that starts with this one: only this key's count. */
	n = json_object_array_length(list);
	for (size_t i = 0; i < n; i++) {
		json_object *up = json_object_array_get_idx(list, i);
		const char *key = json_str(up, "key");

		if (!key || strcmp(key, prefix) != 0 || !json_str(up, "uploadId"))
			continue;
		if (found < RESUME_CANDIDATES) {
			mine[found++] = up;
		} else {
			qsort(mine, found, sizeof(mine[0]), newest_first);
			if (newest_first(&up, &mine[found - 1]) < 0)
				mine[found - 1] = up;
		}
	}
	qsort(mine, found, sizeof(mine[0]), newest_first);
	for (size_t i = 0; i < found && rc == 0; i++) {
		const char *id = json_str(mine[i], "uploadId");

		rc = take_listed(u, id);
		if (rc == 1 && (!(u->upload_id = strdup(id)) || !(u->key = strdup(prefix)))) {
			say("out of memory");
			rc = -EXIT_FAILED;
		}
	}
out:
	json_object_put(j);
	xfer_release(&x);
	return rc;
}

static int create_upload(struct upload *u)
{
	struct xfer x;
	json_object *j = NULL;
	int rc = 0;

	request_init(&x, "POST", target_url(&u->t, "mpu-create", NULL, 0));
	if (u->o->content_type && xfer_header(&x, "Content-Type: %s", u->o->content_type) < 0)
		x.local_error = ENOMEM;
	if (run_one(u->e, &x) != OUTCOME_OK) {
		rc = say_failed(&x, "creating the upload");
		goto out;
	}
	j = answer_json(&x, "creating the upload");
	if (!j || !json_str(j, "key") || !json_str(j, "uploadId")) {
		rc = EXIT_SERVER;
		goto out;
	}
	u->key = strdup(json_str(j, "key"));
	u->upload_id = strdup(json_str(j, "uploadId"));
	if (!u->key || !u->upload_id) {
		say("out of memory");
		rc = EXIT_FAILED;
	}
out:
	json_object_put(j);
	xfer_release(&x);
	return rc;
}

static void abort_upload(struct upload *u)
{
	struct xfer x;

	request_init(&x, "DELETE", target_url(&u->t, "mpu-abort", u->upload_id, 0));
	client_interrupted = 0;   /* the abort itself must go out */
	if (run_one(u->e, &x) == OUTCOME_OK)
		say("aborted upload %s of %s", u->upload_id, u->key);
	else
		say_failed(&x, "aborting the upload");
	xfer_release(&x);
}

/* The object's ETag as the parts' MD5s make it, into out; -1 when it cannot be made. */
static int expected_etag(const struct upload *u, char out[ETAG_MAX])
{
	unsigned char (*md5s)[MD5_LEN] = calloc(u->nparts ? u->nparts : 1, MD5_LEN);
	int rc;

	if (!md5s)
		return -1;
	for (uint32_t i = 0; i < u->nparts; i++)
		memcpy(md5s[i], u->parts[i].md5, MD5_LEN);
	rc = etag_multipart((const unsigned char (*)[MD5_LEN])md5s, u->nparts, out);
	free(md5s);
	return rc;
}

/* The completed object's ETag, from a HEAD: for a complete whose answer was lost. */
static int object_etag(struct upload *u, char *out, size_t outlen)
{
	struct xfer x;
	int rc = -1;

	request_init(&x, "HEAD", target_url(&u->t, "get", NULL, 0));
	if (run_one(u->e, &x) == OUTCOME_OK) {
		snprintf(out, outlen, "%s", x.etag);
		rc = 0;
	}
	xfer_release(&x);
	return rc;
}

static int complete_upload(struct upload *u, const char *want, char *etag, size_t etaglen)
{
	size_t cap = 32 + (size_t)u->nparts * (40 + ETAG_MAX), len;
	char *body = malloc(cap);
	struct xfer x;
	int rc = 0;

	request_init(&x, "POST", target_url(&u->t, "mpu-complete", u->upload_id, 0));
	if (!body) {
		say("out of memory");
		xfer_release(&x);
		return EXIT_FAILED;
	}
	len = (size_t)snprintf(body, cap, "{\"parts\":[");
	for (uint32_t i = 0; i < u->nparts; i++) {
		char hex[ETAG_MAX];

		etag_from_md5(u->parts[i].md5, hex);
		len += (size_t)snprintf(body + len, cap - len, "%s{\"partNumber\":%" PRIu32
					",\"etag\":\"%s\"}", i ? "," : "", i + 1, hex);
	}
	len += (size_t)snprintf(body + len, cap - len, "]}");
	x.body = body;
	x.body_len = len;
	if (xfer_header(&x, "Content-Type: application/json") < 0)
		x.local_error = ENOMEM;
	if (run_one(u->e, &x) == OUTCOME_OK) {
		snprintf(etag, etaglen, "%s", x.etag);
	} else if (x.status == 404 && !client_interrupted &&
		   object_etag(u, etag, etaglen) == 0 && etag_equal(etag, want)) {
		/* An earlier attempt completed it and its answer was lost on the way (libcurl
		 * itself sends a request again when a kept connection turned out dead). The
		 * object's ETag is the MD5 of these parts' MD5s: it is this file. */
		say_verbose(u->o, "the complete was retried: the object is there already");
	} else {
		rc = say_failed(&x, "completing the upload");
		u->transient = !x.local_error &&
			       outcome_of(x.curl_code, x.status, x.error_code) == OUTCOME_RETRY;
	}
	xfer_release(&x);
	free(body);
	return rc;
}

/* --- the command --- */

static int open_source(struct upload *u, const char *path)
{
	off_t at;

	u->src_fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (u->src_fd < 0 || fstat(u->src_fd, &u->src_st) < 0) {
		say("%s: %s", path, strerror(errno));
		return -1;
	}
	if (S_ISDIR(u->src_st.st_mode)) {
		say("%s is a directory", path);
		return -1;
	}
	/* stdin redirected from a file is a file: parallel, resumable, from where it is. */
	u->stream = !S_ISREG(u->src_st.st_mode);
	if (!u->stream && u->src_fd == STDIN_FILENO && (at = lseek(u->src_fd, 0, SEEK_CUR)) > 0)
		u->src_base = (uint64_t)at;
	return 0;
}

/* Each part's place in the file, by the plan. */
static int lay_out_parts(struct upload *u)
{
	u->nparts = u->cap = u->plan.parts;
	u->parts = calloc(u->nparts ? u->nparts : 1, sizeof(*u->parts));
	if (!u->parts)
		return -1;
	for (uint32_t i = 0; i < u->nparts; i++) {
		u->parts[i].off = u->src_base + plan_part_offset(&u->plan, i + 1);
		u->parts[i].len = plan_part_length(&u->plan, i + 1);
		u->parts[i].fd = u->src_fd;
	}
	return 0;
}

static void print_plan(const struct upload *u, int json)
{
	char part[16], last[16], size[16];

	format_size(u->plan.size, size, sizeof(size));
	format_size(u->plan.part_size, part, sizeof(part));
	format_size(u->plan.last_size, last, sizeof(last));
	if (json)
		printf("{\"size\":%" PRIu64 ",\"partSize\":%" PRIu64 ",\"parts\":%" PRIu32
		       ",\"lastPartSize\":%" PRIu64 "}\n", u->plan.size, u->plan.part_size,
		       u->plan.parts, u->plan.last_size);
	else
		printf("%" PRIu64 " bytes (%s) in %" PRIu32 " parts of %" PRIu64 " bytes (%s), "
		       "the last %" PRIu64 " bytes (%s)\n", u->plan.size, size, u->plan.parts,
		       u->plan.part_size, part, u->plan.last_size, last);
}

static void print_result(const struct upload *u, int rc, const char *etag, long long ms)
{
	char secs[32];
	json_object *j;

	if (!u->o->json) {
		if (rc == EXIT_DONE && !u->o->quiet)
			printf("uploaded %s: ETag %s, %" PRIu64 " bytes\n", u->key, etag,
			       u->plan.size);
		return;
	}
	j = json_object_new_object();
	json_object_object_add(j, "ok", json_object_new_boolean(rc == EXIT_DONE));
	json_object_object_add(j, "exitCode", json_object_new_int(rc));
	if (u->key)
		json_object_object_add(j, "key", json_object_new_string(u->key));
	if (u->upload_id)
		json_object_object_add(j, "uploadId", json_object_new_string(u->upload_id));
	if (rc == EXIT_DONE)
		json_object_object_add(j, "etag", json_object_new_string(etag));
	json_object_object_add(j, "size", json_object_new_int64((int64_t)u->plan.size));
	json_object_object_add(j, "partSize", json_object_new_int64((int64_t)u->plan.part_size));
	json_object_object_add(j, "parts", json_object_new_int64(u->nparts));
	json_object_object_add(j, "partsSent", json_object_new_int64(u->sent));
	json_object_object_add(j, "partsReused", json_object_new_int64(u->reused));
	json_object_object_add(j, "resumed", json_object_new_boolean(u->resumed));
	snprintf(secs, sizeof(secs), "%.3f", (double)ms / 1000);
	json_object_object_add(j, "seconds", json_object_new_double_s((double)ms / 1000, secs));
	printf("%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN |
						       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(j);
}

static int send_all(struct upload *u)
{
	pthread_t thread;
	int rc;

	u->slots = calloc(u->o->jobs, sizeof(*u->slots));
	if (!u->slots)
		return EXIT_FAILED;
	for (unsigned j = 0; j < u->o->jobs; j++)
		u->slots[j].u = u;
	if (pipe2(u->wake, O_CLOEXEC) < 0) {
		say("cannot make a pipe: %s", strerror(errno));
		return EXIT_FAILED;
	}
	if (pthread_create(&thread, NULL, reader, u) != 0) {
		say("cannot start a thread");
		close(u->wake[0]);
		close(u->wake[1]);
		return EXIT_FAILED;
	}
	progress_start(&u->bar, u->o->progress, u->stream ? UINT64_MAX : u->plan.size);
	rc = engine_run(u->e, pump, u);
	pthread_mutex_lock(&u->lock);
	u->stop_reader = 1;
	pthread_cond_broadcast(&u->room);
	pthread_mutex_unlock(&u->lock);
	if (write(u->wake[1], "", 1) < 0)
		say("cannot wake the reader: %s", strerror(errno));
	pthread_join(thread, NULL);
	close(u->wake[0]);
	close(u->wake[1]);
	progress_end(&u->bar);
	/* Requests the engine dropped when it stopped still own their URLs. */
	for (unsigned j = 0; j < u->o->jobs; j++)
		if (u->slots[j].busy)
			xfer_release(&u->slots[j].x);
	if (u->failed)
		return u->failed;
	if (rc < 0 || client_interrupted)
		return EXIT_FAILED;
	return EXIT_DONE;
}

/* The file must be what it was when its parts were hashed, or the object mixes both. */
static int source_unchanged(const struct upload *u)
{
	struct stat now;

	if (u->stream)
		return 1;
	return fstat(u->src_fd, &now) == 0 && now.st_size == u->src_st.st_size &&
	       now.st_mtim.tv_sec == u->src_st.st_mtim.tv_sec &&
	       now.st_mtim.tv_nsec == u->src_st.st_mtim.tv_nsec;
}

int cmd_upload(const struct client_opts *o, char **args, int nargs)
{
	struct upload u = { .o = o, .src_fd = -1 };
	char err[256], want[ETAG_MAX] = "", etag[130] = "";
	long long start = now_ms();
	int rc = EXIT_DONE;

	pthread_mutex_init(&u.lock, NULL);
	pthread_cond_init(&u.room, NULL);
	if (nargs != 2 && !(o->plan_only && nargs == 1)) {
		say("upload needs a FILE (or - for stdin) and a URL");
		return EXIT_USAGE;
	}
	if (open_source(&u, args[0]) < 0) {
		rc = EXIT_FAILED;
		goto out;
	}
	if (u.stream) {
		if (o->plan_only || o->upload_id) {
			say("%s is not a file: its size is unknown and it cannot be resumed",
			    args[0]);
			rc = EXIT_USAGE;
			goto out;
		}
		u.plan.part_size = o->part_size ? o->part_size : PLAN_STREAM_PART;
		if (u.plan.part_size < PLAN_MIN_PART || u.plan.part_size > PLAN_MAX_PART) {
			say("a part size must be from 5 MiB to 5 GiB");
			rc = EXIT_USAGE;
			goto out;
		}
	} else if (plan_make((uint64_t)u.src_st.st_size - u.src_base, o->part_size, o->jobs,
			     &u.plan, err, sizeof(err)) < 0) {
		say("%s: %s", args[0], err);
		rc = EXIT_USAGE;
		goto out;
	}
	if (o->plan_only) {
		print_plan(&u, o->json);
		goto out;
	}
	if (target_parse(args[1], &u.t, err, sizeof(err)) < 0) {
		say("%s", err);
		rc = EXIT_USAGE;
		goto out;
	}
	if (!u.stream && lay_out_parts(&u) < 0) {
		say("out of memory");
		rc = EXIT_FAILED;
		goto out;
	}
	u.e = client_engine(o, &u.t, o->jobs);
	if (!u.e) {
		rc = EXIT_FAILED;
		goto out;
	}
	if (o->upload_id) {
		int found = take_listed(&u, o->upload_id);

		if (found == 0) {
			say("upload %s has parts that do not fit this file (other sizes)",
			    o->upload_id);
			rc = EXIT_REFUSED;
			goto out;
		}
		if (found < 0) {
			rc = -found;
			goto out;
		}
		if (!(u.upload_id = strdup(o->upload_id))) {
			rc = EXIT_FAILED;
			goto out;
		}
		u.resumed = 1;
	} else if (!u.stream) {
		int found = find_upload(&u);

		if (found < 0) {
			rc = -found;
			goto out;
		}
		u.resumed = found;
	}
	if (u.resumed)
		say_verbose(o, "resuming upload %s of %s", u.upload_id, u.key ? u.key : "");
	else if ((rc = create_upload(&u)) != EXIT_DONE)
		goto out;
	rc = send_all(&u);
	if (rc == EXIT_DONE && !source_unchanged(&u)) {
		say("%s changed while it was being sent: not completing the upload", args[0]);
		rc = EXIT_INTEGRITY;
	}
	if (rc == EXIT_DONE) {
		if (expected_etag(&u, want) < 0) {
			say("cannot compute the ETag (OpenSSL failed)");
			rc = EXIT_FAILED;
		} else if ((rc = complete_upload(&u, want, etag, sizeof(etag))) == EXIT_DONE &&
			   !etag_equal(etag, want)) {
			say("the object's ETag %s is not %s, the one its parts make: the stored "
			    "object is not this file", etag[0] ? etag : "(none)", want);
			rc = EXIT_INTEGRITY;
		}
	}
	if (rc != EXIT_DONE && u.upload_id) {
		if (client_interrupted && !u.stream)
			say("interrupted: upload %s of %s kept, %" PRIu32 " of %" PRIu32 " parts "
			    "there; run the same command again to resume it", u.upload_id, u.key,
			    u.sent + u.reused, u.nparts);
		else if (o->keep)
			say("upload %s of %s kept (--keep)", u.upload_id, u.key);
		else if (u.transient && !u.stream)
			/* The gateway or the network failing is no reason to lose the parts. */
			say("upload %s of %s kept: run the same command again to resume it when "
			    "the gateway answers", u.upload_id, u.key);
		else
			abort_upload(&u);
	}
	print_result(&u, rc, etag, now_ms() - start);
out:
	if (u.parts && u.stream)
		for (uint32_t i = 0; i < u.nparts; i++)
			if (u.parts[i].fd >= 0)
				close(u.parts[i].fd);
	if (u.src_fd > STDIN_FILENO)
		close(u.src_fd);
	engine_free(u.e);
	target_free(&u.t);
	free(u.parts);
	free(u.slots);
	free(u.key);
	free(u.upload_id);
	pthread_mutex_destroy(&u.lock);
	pthread_cond_destroy(&u.room);
	return rc;
}
