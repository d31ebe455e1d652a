/* SPDX-License-Identifier: MIT */
/* download.c: `download URL FILE` -- parallel ranges of one version of the object, resumable */
#include "client.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "digest.h"
#include "etag.h"
#include "plan.h"

#define CHUNK ((uint64_t)(16 * MiB))        /* one range request */
#define STATE_EVERY_MS 1000        /* how often the state file is brought up to date */
#define STATE_MAGIC "r2mpu-client download 2"

struct chunk_slot {
	struct xfer x;
	struct download *d;
	uint64_t chunk;
	int busy;
};

struct download {
	const struct client_opts *o;
	struct target t;
	struct engine *e;
	char *path, *part_path, *state_path;   /* FILE, FILE.part, FILE.r2mpu */
	int fd;                                /* FILE.part */
	unsigned long long part_ino;           /* its inode: a state is of this file only */
	char etag[130];                        /* as the gateway sent it, quotes and all */
	uint64_t size, chunks, next, done_chunks, bytes_done;
	unsigned char *done;                   /* one byte per chunk: 1 when it is on disk */
	struct chunk_slot *slots;
	long long saved_ms;
	int failed;
	struct progress bar;
};

static uint64_t chunk_length(const struct download *d, uint64_t c)
{
	return c + 1 == d->chunks ? d->size - c * CHUNK : CHUNK;
}

/*
 * The state file says which chunks FILE.part holds, for this ETag and size. Written
 * whole to a new file and renamed over the old one, after the data it describes is
 * on disk: a crash leaves an old state, never one that claims bytes that are not there.
 */
static int save_state(struct download *d)
{
	char tmp[4200];
	FILE *f;
	int ok;

	if (fdatasync(d->fd) < 0)
		return -1;
	snprintf(tmp, sizeof(tmp), "%s.new", d->state_path);
	f = fopen(tmp, "w");
	if (!f)
		return -1;
	fprintf(f, "%s\netag %s\nsize %" PRIu64 "\nchunk %llu\nfile %llu\ndone ", STATE_MAGIC,
		d->etag, d->size, (unsigned long long)CHUNK, d->part_ino);
	for (uint64_t c = 0; c < d->chunks; c++)
		fputc(d->done[c] ? '1' : '0', f);
	fputc('\n', f);
	ok = fflush(f) == 0 && fdatasync(fileno(f)) == 0;
	ok = fclose(f) == 0 && ok;
	if (!ok || rename(tmp, d->state_path) < 0) {
		unlink(tmp);
		return -1;
	}
	d->saved_ms = now_ms();
	return 0;
}

/* Takes the chunks a state file of the same ETag and size says are done; 0 if none. */
static int load_state(struct download *d)
{
	char line[256], want[256];
	unsigned long long size = 0, chunk = 0, ino = 0;
	FILE *f = fopen(d->state_path, "r");
	int c, n = 0;

	if (!f)
		return 0;
	snprintf(want, sizeof(want), "etag %s\n", d->etag);
	if (!fgets(line, sizeof(line), f) || strcmp(line, STATE_MAGIC "\n") != 0 ||
	    !fgets(line, sizeof(line), f) || strcmp(line, want) != 0 ||
	    fscanf(f, "size %llu\nchunk %llu\nfile %llu\ndone ", &size, &chunk, &ino) != 3 ||
	    size != d->size || chunk != CHUNK || ino != d->part_ino)
		goto out;
	for (uint64_t i = 0; i < d->chunks && (c = fgetc(f)) != EOF; i++) {
		if (c == '1') {
			d->done[i] = 1;
			d->done_chunks++;
			d->bytes_done += chunk_length(d, i);
			n++;
		}
	}
out:
	fclose(f);
	return n;
}

static void chunk_done(struct xfer *x)
{
	struct chunk_slot *s = x->arg;
	struct download *d = s->d;
	uint64_t len = chunk_length(d, s->chunk);
	char doing[64], range[96];

	snprintf(doing, sizeof(doing), "reading bytes %" PRIu64 "-%" PRIu64,
		 s->chunk * CHUNK, s->chunk * CHUNK + len - 1);
	snprintf(range, sizeof(range), "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64,
		 s->chunk * CHUNK, s->chunk * CHUNK + len - 1, d->size);
	if (x->overlong) {
		say("%s: the gateway sent more than the %" PRIu64 " bytes asked for", doing, len);
		d->failed = EXIT_SERVER;
	} else if (x->status == 412) {
		say("the object changed since this download began (its ETag is no longer %s): "
		    "run the same command again to start over", d->etag);
		d->failed = EXIT_INTEGRITY;
		unlink(d->state_path);
		unlink(d->part_path);
	} else if (outcome_of(x->curl_code, x->status, x->error_code) != OUTCOME_OK ||
		   x->local_error) {
		if (!d->failed)
			d->failed = say_failed(x, doing);
	} else if (x->status != 206 || x->written != len) {
		say("%s: the gateway answered %ld with %" PRIu64 " bytes, not 206 with %" PRIu64,
		    doing, x->status, x->written, len);
		d->failed = EXIT_SERVER;
	} else if (strcmp(x->content_range, range) != 0) {
		say("%s: the gateway sent \"Content-Range: %s\", not %s", doing,
		    x->content_range, range);
		d->failed = EXIT_SERVER;
	} else {
		d->done[s->chunk] = 1;
		d->done_chunks++;
		d->bytes_done += len;
	}
	if (d->failed)
		engine_stop(d->e);
	xfer_release(x);
	s->busy = 0;
}

static void get_chunk(struct download *d, struct chunk_slot *s, uint64_t c)
{
	uint64_t from = c * CHUNK, len = chunk_length(d, c);

	xfer_init(&s->x, "GET", target_url(&d->t, "get", NULL, 0));
	if (!s->x.url ||
	    xfer_header(&s->x, "Range: bytes=%" PRIu64 "-%" PRIu64, from, from + len - 1) < 0 ||
	    xfer_header(&s->x, "If-Match: %s", d->etag) < 0)
		s->x.local_error = ENOMEM;
	s->x.out_fd = d->fd;
	s->x.out_off = from;
	s->x.out_status = 206;
	s->x.out_max = len;
	s->x.done = chunk_done;
	s->x.arg = s;
	s->chunk = c;
	s->busy = 1;
	engine_add(d->e, &s->x);
}

static int pump(void *arg)
{
	struct download *d = arg;

	if (client_interrupted || d->failed) {
		engine_stop(d->e);
		return 0;
	}
	for (unsigned j = 0; j < d->o->jobs; j++) {
		while (d->next < d->chunks && d->done[d->next])
			d->next++;
		if (!d->slots[j].busy && d->next < d->chunks)
			get_chunk(d, &d->slots[j], d->next++);
	}
	if (now_ms() - d->saved_ms >= STATE_EVERY_MS && save_state(d) < 0) {
		say("%s: %s", d->state_path, strerror(errno));
		d->failed = EXIT_FAILED;
		engine_stop(d->e);
		return 0;
	}
	progress_update(&d->bar, d->bytes_done + engine_receiving(d->e));
	return d->next < d->chunks;
}

/*
 * Whether the file's bytes make the ETag: a plain MD5, or a multipart "md5-of-md5s-N"
 * for a part size that gives N parts. The part size is not in the ETag: every whole
 * number of MiB from 5 that gives N parts is tried, when there are at most 4 (a file of
 * many parts has one or two). 1: they do; 0: they do not; -1: cannot tell.
 */
static int content_matches(int fd, uint64_t size, const char *etag_in)
{
	enum { MAX_CANDIDATES = 4 };
	char etag[256], *dash;
	uint64_t parts = 1, psize[MAX_CANDIDATES];
	unsigned ncand = 0;
	unsigned char *buf = NULL, (*md5s[MAX_CANDIDATES])[MD5_LEN] = { 0 };
	struct md5 whole = { 0 }, cur[MAX_CANDIDATES] = { 0 };
	int multipart, rc = -1;

	snprintf(etag, sizeof(etag), "%s", etag_in[0] == '"' ? etag_in + 1 : etag_in);
	etag[strcspn(etag, "\"")] = '\0';
	dash = strchr(etag, '-');
	multipart = dash != NULL;
	if (multipart) {
		parts = strtoull(dash + 1, NULL, 10);
		if (parts == 0 || parts > PLAN_MAX_PARTS)
			return -1;
		for (uint64_t p = PLAN_MIN_PART; p <= PLAN_MAX_PART; p += MiB) {
			uint64_t n = size / p + (size % p != 0);

			if (n < parts)
				break;
			if (n == parts || (size == 0 && parts == 1)) {
				if (ncand == MAX_CANDIDATES)
					return -1;
				psize[ncand++] = p;
			}
		}
		if (ncand == 0)
			return -1;
	}
	if (!(buf = malloc(256 * 1024)))
		return -1;
	for (unsigned i = 0; i < ncand; i++)
		if (!(md5s[i] = calloc(parts, MD5_LEN)) || md5_init(&cur[i]) < 0)
			goto out;
	if (!multipart && md5_init(&whole) < 0)
		goto out;
	for (uint64_t off = 0; off < size; ) {
		ssize_t r = pread(fd, buf, 256 * 1024, (off_t)off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			goto out;
		if (!multipart)
			md5_update(&whole, buf, (size_t)r);
		for (unsigned i = 0; i < ncand; i++) {
			/* Feed each candidate's current part, closing parts at their ends. */
			for (uint64_t at = off; at < off + (uint64_t)r; ) {
				uint64_t end = (at / psize[i] + 1) * psize[i];
				uint64_t take = (end < off + (uint64_t)r ? end : off + (uint64_t)r) - at;

				md5_update(&cur[i], buf + (at - off), (size_t)take);
				at += take;
				if (at == end && at < size) {
					md5_final(&cur[i], md5s[i][at / psize[i] - 1]);
					if (md5_init(&cur[i]) < 0)
						goto out;
				}
			}
		}
		off += (uint64_t)r;
	}
	rc = 0;
	if (!multipart) {
		unsigned char md5[MD5_LEN];
		char hex[ETAG_MAX];

		md5_final(&whole, md5);
		etag_from_md5(md5, hex);
		rc = etag_equal(etag, hex);
	}
	for (unsigned i = 0; i < ncand && rc == 0; i++) {
		char made[ETAG_MAX];

		md5_final(&cur[i], md5s[i][parts - 1]);
		if (etag_multipart((const unsigned char (*)[MD5_LEN])md5s[i], parts, made) == 0 &&
		    etag_equal(etag, made))
			rc = 1;
	}
out:
	for (unsigned i = 0; i < MAX_CANDIDATES; i++) {
		md5_free(&cur[i]);
		free(md5s[i]);
	}
	md5_free(&whole);
	free(buf);
	return rc;
}

/* HEAD: the object's size and ETag, the version every range will ask for. */
static int look_up(struct download *d)
{
	struct xfer x;
	int rc = EXIT_DONE;

	xfer_init(&x, "HEAD", target_url(&d->t, "get", NULL, 0));
	if (!x.url)
		x.local_error = ENOMEM;
	if (run_one(d->e, &x) != OUTCOME_OK) {
		rc = say_failed(&x, "looking up the object");
	} else if (x.status != 200 || !x.etag[0] || x.content_length < 0) {
		say("looking up the object: the gateway answered %ld without the ETag and "
		    "Content-Length a download needs", x.status);
		rc = EXIT_SERVER;
	} else {
		snprintf(d->etag, sizeof(d->etag), "%s", x.etag);
		d->size = (uint64_t)x.content_length;
	}
	xfer_release(&x);
	return rc;
}

static int finish(struct download *d)
{
	int match = content_matches(d->fd, d->size, d->etag);

	if (match == 0) {
		say("the bytes downloaded do not make the object's ETag %s: starting over is "
		    "needed", d->etag);
		unlink(d->state_path);
		unlink(d->part_path);
		return EXIT_INTEGRITY;
	}
	if (match < 0)
		say_verbose(d->o, "the ETag %s does not tell the part size: the content was "
			    "checked by If-Match only", d->etag);
	if (fsync(d->fd) < 0 || rename(d->part_path, d->path) < 0) {
		say("%s: %s", d->path, strerror(errno));
		return EXIT_FAILED;
	}
	unlink(d->state_path);
	return EXIT_DONE;
}

static int names(struct download *d, const char *path)
{
	d->path = strdup(path);
	return d->path && asprintf(&d->part_path, "%s.part", path) >= 0 &&
	       asprintf(&d->state_path, "%s.r2mpu", path) >= 0 ? 0 : -1;
}

int cmd_download(const struct client_opts *o, char **args, int nargs)
{
	struct download d = { .o = o, .fd = -1 };
	char err[256];
	int rc = EXIT_DONE, resumed, fresh = 0;
	struct stat st;

	if (nargs != 2) {
		say("download needs a URL and a FILE to write");
		return EXIT_USAGE;
	}
	if (strcmp(args[1], "-") == 0) {
		say("download writes a FILE (its ranges arrive out of order), not stdout");
		return EXIT_USAGE;
	}
	if (target_parse(args[0], &d.t, err, sizeof(err)) < 0) {
		say("%s", err);
		return EXIT_USAGE;
	}
	if (names(&d, args[1]) < 0 || !(d.e = client_engine(o, &d.t, o->jobs)) ||
	    !(d.slots = calloc(o->jobs, sizeof(*d.slots)))) {
		rc = EXIT_FAILED;
		goto out;
	}
	for (unsigned j = 0; j < o->jobs; j++)
		d.slots[j].d = &d;
	if ((rc = look_up(&d)) != EXIT_DONE)
		goto out;
	d.chunks = d.size / CHUNK + (d.size % CHUNK != 0);
	if (!(d.done = calloc(d.chunks ? d.chunks : 1, 1))) {
		rc = EXIT_FAILED;
		goto out;
	}
	/* A FILE.part made now holds nothing, whatever a state file says (it was
	 * removed, or its name was lost in a crash): a state is of one file, by inode. */
	d.fd = open(d.part_path, O_RDWR | O_CLOEXEC);
	if (d.fd < 0 && errno == ENOENT) {
		fresh = 1;
		d.fd = open(d.part_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	}
	if (d.fd < 0 || fstat(d.fd, &st) < 0 || ftruncate(d.fd, (off_t)d.size) < 0) {
		say("%s: %s", d.part_path, strerror(errno));
		rc = EXIT_FAILED;
		goto out;
	}
	d.part_ino = (unsigned long long)st.st_ino;
	resumed = fresh ? 0 : load_state(&d);
	if (resumed)
		say_verbose(o, "resuming: %d of %" PRIu64 " ranges are there already", resumed,
			    d.chunks);
	if (save_state(&d) < 0) {
		say("%s: %s", d.state_path, strerror(errno));
		rc = EXIT_FAILED;
		goto out;
	}
	progress_start(&d.bar, o->progress, d.size);
	if (engine_run(d.e, pump, &d) < 0 || d.failed || d.done_chunks < d.chunks) {
		progress_end(&d.bar);
		for (unsigned j = 0; j < o->jobs; j++)
			if (d.slots[j].busy)
				xfer_release(&d.slots[j].x);
		rc = d.failed ? d.failed : EXIT_FAILED;
		if (rc != EXIT_INTEGRITY && save_state(&d) == 0)
			say("%s: %" PRIu64 " of %" PRIu64 " bytes kept; run the same command "
			    "again to resume", d.part_path, d.bytes_done, d.size);
		goto out;
	}
	progress_end(&d.bar);
	rc = finish(&d);
	if (rc == EXIT_DONE && o->json) {
		json_object *j = json_object_new_object();

		json_object_object_add(j, "ok", json_object_new_boolean(1));
		json_object_object_add(j, "file", json_object_new_string(d.path));
		json_object_object_add(j, "etag", json_object_new_string(d.etag));
		json_object_object_add(j, "size", json_object_new_int64((int64_t)d.size));
		printf("%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(j);
	} else if (rc == EXIT_DONE && !o->quiet) {
		printf("downloaded %s: ETag %s, %" PRIu64 " bytes\n", d.path, d.etag, d.size);
	}
out:
	if (d.fd >= 0)
		close(d.fd);
	engine_free(d.e);
	target_free(&d.t);
	free(d.done);
	free(d.slots);
	free(d.path);
	free(d.part_path);
	free(d.state_path);
	return rc;
}
