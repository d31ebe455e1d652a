/* SPDX-License-Identifier: MIT */
/* store_fs.c: the embedded store -- objects and uploads in a local directory, with R2's rules */
#include "store_fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "http.h"
#include "mem.h"
#include "log.h"

/*
 * Layout under R2MPU_FS_ROOT (every name is made of hex digits we chose,
 * never of the key, so no key can reach outside the store):
 *
 *   objects/<h[0..2]>/<h>   one object; h = SHA-256(key) in hex. A manifest
 *                           (R2MPUOB2) naming its data directory, or, as
 *                           written before manifests and where links are
 *                           refused, header + data (R2MPUOB1)
 *   data/<h[0..2]>/<h>.<d>/ the bytes of the object whose manifest names d:
 *                           00000, 00001... are its parts' files, hard links
 *                           of what the upload stored (header + data)
 *   uploads/<id>/meta       an upload in progress (JSON); also its lock
 *   uploads/<id>/part.NNNNN one uploaded part: header + data
 *   uploads/.sweep          when expired uploads were last removed
 *   tmp/                    files being written, renamed into place when whole
 *
 * Concurrency (many processes, no shared memory): an upload's meta file is
 * its lock. Publishing a part takes it shared; complete and abort take it
 * exclusive and unlink meta first, so whoever waited on the lock sees
 * st_nlink == 0 and answers NoSuchUpload. Objects and parts appear by
 * rename(), whole or not at all.
 *
 * A complete is O(1) in the object's size: it links the parts into a new
 * data directory and publishes a manifest naming it in one rename. A data
 * directory's lock is held shared by each GET reading it and exclusive by
 * the complete making it until it is published; one that no manifest names
 * any more is removed by whoever unnamed it, or, while a GET still reads
 * it (or after a crash), by the sweep.
 */

#define OBJ_MAGIC "R2MPUOB1"        /* an object: header + data */
#define MANIFEST_MAGIC "R2MPUOB2"   /* an object: header + part sizes; data in data/ */
#define PART_MAGIC "R2MPUPT1"
#define MAGIC_LEN 8
#define PART_HEADER_LEN (MAGIC_LEN + MD5_LEN + 8)
#define OBJ_HEADER_MAX (64 * 1024)
#define UPLOAD_ID_LEN 32
#define DATA_ID_LEN 32
#define DATA_PATH_MAX 128          /* "data/ab/<64 hex>.<32 hex>" */
#define SWEEP_INTERVAL_MAX 3600        /* seconds between sweeps, at most */

struct fs_store {
	int root_fd;          /* O_DIRECTORY of R2MPU_FS_ROOT */
	bool fsync;
	uint64_t ttl;
	char *chunk;          /* STREAM_CHUNK bytes, reused by every request */
};

/* ---- small helpers ------------------------------------------------------ */

static int io_error(struct r2err *err, const char *what, const char *name)
{
	int e = errno;

	log_error("fs store: %s %s: %s", what, name, strerror(e));
	if (e == ENOSPC || e == EDQUOT)
		return r2err_set(err, 507, "InsufficientStorage",
				 "InsufficientStorage: the store is out of space");
	return r2err_set(err, 500, "InternalError", "InternalError: store I/O error");
}

static void put_be64(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)(v & 0xff);
}

static void put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t get_be32(const unsigned char *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static uint64_t get_be64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read exactly len bytes at offset; -1 with errno (EIO for a short file). */
static int pread_all(int fd, void *buf, size_t len, off_t off)
{
	char *p = buf;

	while (len > 0) {
		ssize_t n = pread(fd, p, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

/*
 * Has `span` seconds passed since `since`? A time after `now` is age 0: on a
 * shared directory another host's clock may be ahead of ours, and a clock
 * may be stepped back; what such a host just made is young, not old.
 */
static bool age_at_least(time_t since, time_t now, uint64_t span)
{
	return now >= since && (uint64_t)(now - since) >= span;
}

/* The one expiry rule: an upload expires a TTL after its creation, never sooner. */
static bool upload_expired(const struct fs_store *fs, int64_t created, time_t now)
{
	return age_at_least((time_t)created, now, fs->ttl);
}

/* len lowercase hex digits, as random_hex and sha256_hex write them. */
static bool hex_digits(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* An upload's or a data directory's id: 32 hex digits (random_hex of 16 bytes). */
static bool hex_id_valid(const char *id)
{
	return hex_digits(id, UPLOAD_ID_LEN) && id[UPLOAD_ID_LEN] == '\0';
}

static int random_hex(char *out, size_t nbytes)
{
	unsigned char raw[32];

	if (nbytes > sizeof(raw) || getrandom(raw, nbytes, 0) != (ssize_t)nbytes)
		return -1;
	hex_encode(raw, nbytes, out);
	return 0;
}

/* Where the object of a key lives; from the hex of SHA-256(key), so names are fixed-size hex. */
struct object_name {
	char hex[SHA256_HEX_LEN + 1];
	char dir[16];            /* "objects/ab" */
	char path[96];           /* "objects/ab/<hex>" */
	char data_dir[16];       /* "data/ab", where its data directories are */
};

static void object_name_of_hex(const char *hex, struct object_name *n)
{
	memcpy(n->hex, hex, SHA256_HEX_LEN);
	n->hex[SHA256_HEX_LEN] = '\0';
	snprintf(n->dir, sizeof(n->dir), "objects/%.2s", n->hex);
	snprintf(n->path, sizeof(n->path), "objects/%.2s/%s", n->hex, n->hex);
	snprintf(n->data_dir, sizeof(n->data_dir), "data/%.2s", n->hex);
}

static int object_name(const char *key, struct object_name *n)
{
	char hex[SHA256_HEX_LEN + 1];

	if (sha256_hex(key, strlen(key), hex) < 0)
		return -1;
	object_name_of_hex(hex, n);
	return 0;
}

/* A fresh name in tmp/ (64 bytes): "tmp/<kind>-<32 hex>"; -1 when there is no randomness. */
static int tmp_name(const char *kind, char name[64])
{
	char rnd[33];

	if (random_hex(rnd, 16) < 0)
		return -1;
	snprintf(name, 64, "tmp/%s-%s", kind, rnd);
	return 0;
}

/* A new file in tmp/ for writing; its name goes to name (64 bytes). */
static int tmp_create(struct fs_store *fs, const char *kind, char name[64], struct r2err *err)
{
	int fd;

	if (tmp_name(kind, name) < 0)
		return r2err_set(err, 500, "InternalError", "InternalError: no randomness");
	fd = openat(fs->root_fd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return io_error(err, "create", name);
	return fd;
}

static void tmp_discard(struct fs_store *fs, int fd, const char *name)
{
	if (fd >= 0)
		close(fd);
	if (name[0] != '\0')
		unlinkat(fs->root_fd, name, 0);
}

/*
 * A new file's bytes made durable (with R2MPU_FS_FSYNC). fdatasync: its size
 * and blocks go with the data, its times need not; its name is the directory's,
 * synced by whoever renames it into place.
 */
static int sync_file(struct fs_store *fs, int fd, const char *name, struct r2err *err)
{
	if (fs->fsync && fdatasync(fd) < 0)
		return io_error(err, "fsync", name);
	return 0;
}

/*
 * Written bytes [from, to) of a file that will be synced: their writeback
 * started now, in the background, so that the sync at the end waits for the
 * last of them, not all (with R2MPU_FS_FSYNC, once WRITEBACK_STEP have gathered).
 */
#define WRITEBACK_STEP (8u << 20)

static void writeback_start(struct fs_store *fs, int fd, off_t *from, off_t to)
{
	if (!fs->fsync || to - *from < (off_t)WRITEBACK_STEP)
		return;
	(void)sync_file_range(fd, *from, to - *from, SYNC_FILE_RANGE_WRITE);
	*from = to;
}

/* A directory under the root, as an fd; -1 with errno. */
static int dir_fd(const struct fs_store *fs, const char *dir)
{
	return openat(fs->root_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* The same, for readdir(); NULL with errno. dirfd() names the files in it. */
static DIR *dir_open(const struct fs_store *fs, const char *dir)
{
	int fd = dir_fd(fs, dir), e;
	DIR *d;

	if (fd < 0)
		return NULL;
	d = fdopendir(fd);
	if (d == NULL) {
		e = errno;     /* for the caller's message, past close() */
		close(fd);
		errno = e;
	}
	return d;
}

/* A directory's entries made durable (with R2MPU_FS_FSYNC): -1 with errno when they may not be. */
static int sync_dir(struct fs_store *fs, const char *dir)
{
	int fd, rc, e;

	if (!fs->fsync)
		return 0;
	fd = dir_fd(fs, dir);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	e = errno;
	close(fd);
	errno = e;
	return rc;
}

/* A bucket (objects/ab, data/ab) made when missing; a new one made durable in its parent. */
static int bucket_make(struct fs_store *fs, const char *bucket, const char *parent)
{
	if (mkdirat(fs->root_fd, bucket, 0700) == 0)
		return sync_dir(fs, parent);
	return errno == EEXIST ? 0 : -1;
}

/*
 * Empty and remove directory `name` (under the root), open as dfd; the caller
 * keeps others out (a data directory's lock, an upload's meta lock).
 */
static void dir_remove(struct fs_store *fs, const char *name, int dfd)
{
	int fd = fcntl(dfd, F_DUPFD_CLOEXEC, 0);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;

	if (d == NULL && fd >= 0)
		close(fd);
	while (d != NULL && (de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			unlinkat(dirfd(d), de->d_name, 0);
	if (d != NULL)
		closedir(d);
	if (unlinkat(fs->root_fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		log_error("fs store: cannot remove %s: %s", name, strerror(errno));
}

/* Read a small JSON file (at most OBJ_HEADER_MAX bytes) from an open fd at offset. */
static json_object *json_read_fd(int fd, off_t off, size_t len)
{
	json_object *obj = NULL;
	char *buf;

	if (len == 0 || len > OBJ_HEADER_MAX)
		return NULL;
	buf = malloc(len);
	if (buf != NULL && pread_all(fd, buf, len, off) == 0) {
		json_tokener *tok = json_tokener_new_ex(8);

		if (tok != NULL) {
			obj = json_tokener_parse_ex(tok, buf, (int)len);
			json_tokener_free(tok);
		}
	}
	free(buf);
	return obj;
}

static const char *json_str(json_object *o, const char *name)
{
	json_object *v;

	if (!json_object_object_get_ex(o, name, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int64_t json_int(json_object *o, const char *name)
{
	json_object *v;

	if (!json_object_object_get_ex(o, name, &v) || !json_object_is_type(v, json_type_int))
		return -1;
	return json_object_get_int64(v);
}

static json_object *meta_to_json(const struct http_meta *meta)
{
	json_object *http = json_object_new_object();
	int i;

	for (i = 0; http != NULL && i < META_NFIELDS; i++)
		if (meta->value[i] != NULL)
			json_object_object_add(http, http_meta_header[i],
					       json_object_new_string(meta->value[i]));
	return http;
}

/* Borrowed pointers into `o`: valid while o lives. */
static void meta_from_json(json_object *o, struct http_meta *meta)
{
	json_object *http;
	int i;

	memset(meta, 0, sizeof(*meta));
	if (!json_object_object_get_ex(o, "http", &http))
		return;
	for (i = 0; i < META_NFIELDS; i++)
		meta->value[i] = (char *)json_str(http, http_meta_header[i]);
}

/* ---- uploads ------------------------------------------------------------ */

/* An upload's meta file (uploads/<id>/meta), read and checked. */
struct upload_meta {
	json_object *doc;        /* owned; key and http point into it */
	const char *key;         /* the key the upload is for */
	int64_t created;         /* when it began, seconds since the epoch (>= 0) */
	struct http_meta http;   /* what the object will keep: borrowed, never freed */
};

static void upload_meta_free(struct upload_meta *m)
{
	json_object_put(m->doc);
	memset(m, 0, sizeof(*m));
}

/*
 * The one reader of an upload's meta, from its open file: 0, or -1 (m left
 * empty) when it cannot be read or is not an upload's (no key, no start).
 */
static int upload_meta_read(int fd, struct upload_meta *m)
{
	struct stat st;

	memset(m, 0, sizeof(*m));
	if (fstat(fd, &st) < 0)
		return -1;
	m->doc = json_read_fd(fd, 0, (size_t)st.st_size);
	if (m->doc == NULL)
		return -1;
	m->key = json_str(m->doc, "key");
	m->created = json_int(m->doc, "created");
	if (m->key == NULL || m->created < 0) {
		upload_meta_free(m);
		return -1;
	}
	meta_from_json(m->doc, &m->http);
	return 0;
}

/* The meta of upload `id` by name, unlocked: -1 too when it is gone (finished meanwhile). */
static int upload_meta_load(struct fs_store *fs, const char *id, struct upload_meta *m)
{
	char path[96];
	int fd, rc;

	memset(m, 0, sizeof(*m));
	snprintf(path, sizeof(path), "uploads/%.32s/meta", id);
	fd = openat(fs->root_fd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = upload_meta_read(fd, m);
	close(fd);
	return rc;
}

struct upload {
	int fd;                  /* uploads/<id>/meta, locked */
	struct upload_meta meta; /* its contents */
	char dir[64];            /* "uploads/<id>" */
};

static void upload_close(struct upload *u)
{
	if (u->fd >= 0)
		close(u->fd);        /* drops the lock */
	upload_meta_free(&u->meta);
	u->fd = -1;
}

/*
 * Open and lock (LOCK_SH or LOCK_EX) an upload of `key`. NoSuchUpload when
 * the id is malformed, unknown, finished, expired or belongs to another key.
 */
static int upload_open(struct fs_store *fs, const char *key, const char *id, int lock,
		       struct upload *u, struct r2err *err)
{
	char path[96];
	struct stat st;

	u->fd = -1;
	memset(&u->meta, 0, sizeof(u->meta));
	if (!hex_id_valid(id))
		return multipart_no_such_upload(err);
	snprintf(u->dir, sizeof(u->dir), "uploads/%s", id);
	snprintf(path, sizeof(path), "%s/meta", u->dir);
	u->fd = openat(fs->root_fd, path, O_RDONLY | O_CLOEXEC);
	if (u->fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return multipart_no_such_upload(err);
		return io_error(err, "open", path);
	}
	while (flock(u->fd, lock) < 0) {
		if (errno != EINTR) {
			io_error(err, "lock", path);
			goto fail;
		}
	}
	if (fstat(u->fd, &st) < 0) {
		io_error(err, "stat", path);
		goto fail;
	}
	if (st.st_nlink == 0)       /* completed or aborted while we waited */
		goto gone;
	if (upload_meta_read(u->fd, &u->meta) < 0) {
		log_error("fs store: %s is corrupt", path);
		goto gone;
	}
	if (strcmp(u->meta.key, key) != 0 || upload_expired(fs, u->meta.created, time(NULL)))
		goto gone;
	return 0;
gone:
	multipart_no_such_upload(err);
fail:
	upload_close(u);
	return -1;
}

/* Remove an upload whose meta fd we hold exclusively locked: meta first. */
static void upload_remove(struct fs_store *fs, const char *dir)
{
	char path[128];
	int dfd;

	snprintf(path, sizeof(path), "%s/meta", dir);
	unlinkat(fs->root_fd, path, 0);
	dfd = dir_fd(fs, dir);
	if (dfd < 0)
		return;
	dir_remove(fs, dir, dfd);
	close(dfd);
}

/*
 * Is a sweep due, the last one having been at `last`? A last sweep "in the
 * future" (our clock was stepped back, or another host's is ahead) makes it
 * due rather than putting it off that long: sweeping resets the time.
 */
static bool sweep_due(time_t last, time_t now, uint64_t interval)
{
	return last > now || age_at_least(last, now, interval);
}

/* The sweep's walk of uploads/: expired uploads, and directories a crash left without meta. */
static void sweep_uploads(struct fs_store *fs, time_t now, uint64_t interval)
{
	DIR *d = dir_open(fs, "uploads");
	struct dirent *de;

	while (d != NULL && (de = readdir(d)) != NULL) {
		struct upload_meta m;
		char dir[64], path[96];
		struct stat st;
		int fd;

		if (!hex_id_valid(de->d_name))
			continue;
		snprintf(dir, sizeof(dir), "uploads/%.32s", de->d_name);
		snprintf(path, sizeof(path), "%s/meta", dir);
		fd = openat(fs->root_fd, path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			/* No meta: a crash between mkdir and meta, or during removal. */
			if (fstatat(fs->root_fd, dir, &st, 0) == 0 &&
			    age_at_least(st.st_mtime, now, interval))
				upload_remove(fs, dir);
			continue;
		}
		/*
		 * Expired: upload_open refuses it, so take the lock directly,
		 * without waiting (one in use now is left for the next sweep).
		 * A corrupt meta is left for an operator: upload_open logs it.
		 */
		if (upload_meta_read(fd, &m) == 0 && upload_expired(fs, m.created, now) &&
		    flock(fd, LOCK_EX | LOCK_NB) == 0 && fstat(fd, &st) == 0 && st.st_nlink > 0)
			upload_remove(fs, dir);
		upload_meta_free(&m);
		close(fd);
	}
	if (d != NULL)
		closedir(d);
}

/* The sweep's walk of tmp/: files a TTL old, left by a crash mid-write, and tombstones. */
static void sweep_tmp(struct fs_store *fs, time_t now)
{
	DIR *d = dir_open(fs, "tmp");
	struct dirent *de;

	while (d != NULL && (de = readdir(d)) != NULL) {
		char name[300];
		struct stat st;
		int fd;

		if (de->d_name[0] == '.' || fstatat(dirfd(d), de->d_name, &st, 0) < 0)
			continue;
		if (!S_ISDIR(st.st_mode)) {
			if (age_at_least(st.st_mtime, now, fs->ttl))
				unlinkat(dirfd(d), de->d_name, 0);
			continue;
		}
		/* A data directory's tombstone, its removal cut short: no path names it. */
		snprintf(name, sizeof(name), "tmp/%s", de->d_name);
		fd = dir_fd(fs, name);
		if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0)
			dir_remove(fs, name, fd);
		if (fd >= 0)
			close(fd);
	}
	if (d != NULL)
		closedir(d);
}

static void sweep_data(struct fs_store *fs, time_t now, uint64_t interval);

/*
 * Remove uploads older than the TTL, upload directories left without meta
 * by a crash, stale temporary files, and data directories no manifest names. At most once per interval across
 * all processes (uploads/.sweep's mtime, claimed with a non-blocking lock),
 * so it costs nothing on the request path most of the time.
 */
static void sweep_expired(struct fs_store *fs)
{
	uint64_t interval = fs->ttl < SWEEP_INTERVAL_MAX ? fs->ttl : SWEEP_INTERVAL_MAX;
	time_t now = time(NULL);
	struct stat st;
	int fd;

	fd = openat(fs->root_fd, "uploads/.sweep", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	if (fstat(fd, &st) < 0 || !sweep_due(st.st_mtime, now, interval) ||
	    flock(fd, LOCK_EX | LOCK_NB) < 0)
		goto out;
	if (fstat(fd, &st) < 0 || !sweep_due(st.st_mtime, now, interval))
		goto out;                     /* another process has just swept */
	futimens(fd, NULL);
	sweep_uploads(fs, now, interval);
	sweep_tmp(fs, now);
	sweep_data(fs, now, interval);
out:
	close(fd);
}

static int fs_create(void *state, const char *key, const struct http_meta *meta,
		     char **upload_id, struct r2err *err)
{
	struct fs_store *fs = state;
	json_object *obj = NULL;
	char id[UPLOAD_ID_LEN + 1], dir[64], tmp[96], path[96];
	const char *text;
	int fd = -1, rc = -1;

	*upload_id = NULL;
	sweep_expired(fs);
	if (random_hex(id, UPLOAD_ID_LEN / 2) < 0)
		return r2err_set(err, 500, "InternalError", "InternalError: no randomness");
	snprintf(dir, sizeof(dir), "uploads/%s", id);
	snprintf(tmp, sizeof(tmp), "%s/meta.new", dir);
	snprintf(path, sizeof(path), "%s/meta", dir);
	if (mkdirat(fs->root_fd, dir, 0700) < 0)
		return io_error(err, "mkdir", dir);

	obj = json_object_new_object();
	if (obj == NULL)
		goto oom;
	json_object_object_add(obj, "key", json_object_new_string(key));
	json_object_object_add(obj, "created", json_object_new_int64((int64_t)time(NULL)));
	json_object_object_add(obj, "http", meta_to_json(meta));
	text = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN);
	if (text == NULL)
		goto oom;
	fd = openat(fs->root_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || write_all(fd, text, strlen(text)) < 0) {
		io_error(err, "write", tmp);
		goto out;
	}
	if (sync_file(fs, fd, tmp, err) < 0)
		goto out;
	if (renameat(fs->root_fd, tmp, fs->root_fd, path) < 0) {
		io_error(err, "rename", tmp);
		goto out;
	}
	*upload_id = strdup(id);
	if (*upload_id == NULL)
		goto oom;
	rc = 0;
	goto out;
oom:
	r2err_out_of_memory(err);
out:
	if (fd >= 0)
		close(fd);
	if (rc < 0) {
		unlinkat(fs->root_fd, tmp, 0);
		unlinkat(fs->root_fd, path, 0);
		unlinkat(fs->root_fd, dir, AT_REMOVEDIR);
	}
	json_object_put(obj);
	return rc;
}

/* ---- parts -------------------------------------------------------------- */

static int fs_upload_part(void *state, const char *key, const char *upload_id,
			  int part_number, struct byte_source *body,
			  const unsigned char *content_md5,
			  char etag[ETAG_MAX], struct r2err *err)
{
	struct fs_store *fs = state;
	struct upload u;
	struct md5 md5 = { 0 };
	unsigned char header[PART_HEADER_LEN], digest[MD5_LEN];
	char tmp[64] = "", path[96];
	uint64_t left = body->length;
	off_t synced = PART_HEADER_LEN;
	struct stat st;
	int fd = -1, rc = -1;

	/* Refuse an unknown upload before reading a byte; don't hold the lock meanwhile. */
	if (upload_open(fs, key, upload_id, LOCK_SH, &u, err) < 0)
		return -1;
	flock(u.fd, LOCK_UN);
	if ((fd = tmp_create(fs, "part", tmp, err)) < 0) {
		tmp[0] = '\0';
		goto out;
	}
	if (md5_init(&md5) < 0) {
		r2err_out_of_memory(err);
		goto out;
	}
	memset(header, 0, sizeof(header));
	if (write_all(fd, header, sizeof(header)) < 0) {
		io_error(err, "write", tmp);
		goto out;
	}
	while (left > 0) {
		size_t want = left < STREAM_CHUNK ? (size_t)left : STREAM_CHUNK;
		ssize_t n = body->read(body->ctx, fs->chunk, want);

		if (n <= 0) {
			r2err_set(err, 400, "IncompleteBody",
				  "IncompleteBody: the request body ended after %llu of "
				  "%llu bytes; nothing was stored",
				  (unsigned long long)(body->length - left),
				  (unsigned long long)body->length);
			goto out;
		}
		md5_update(&md5, fs->chunk, (size_t)n);
		if (write_all(fd, fs->chunk, (size_t)n) < 0) {
			io_error(err, "write", tmp);
			goto out;
		}
		left -= (uint64_t)n;
		writeback_start(fs, fd, &synced, (off_t)(PART_HEADER_LEN + body->length - left));
	}
	md5_final(&md5, digest);
	if (content_md5 != NULL && memcmp(digest, content_md5, MD5_LEN) != 0) {
		multipart_bad_digest(err);
		goto out;
	}
	memcpy(header, PART_MAGIC, MAGIC_LEN);
	memcpy(header + MAGIC_LEN, digest, MD5_LEN);
	put_be64(header + MAGIC_LEN + MD5_LEN, body->length);
	if (pwrite(fd, header, sizeof(header), 0) != (ssize_t)sizeof(header)) {
		io_error(err, "write", tmp);
		goto out;
	}
	if (sync_file(fs, fd, tmp, err) < 0)
		goto out;

	/* Publish under the shared lock: complete/abort cannot run meanwhile. */
	while (flock(u.fd, LOCK_SH) < 0) {
		if (errno != EINTR) {
			io_error(err, "lock", u.dir);
			goto out;
		}
	}
	if (fstat(u.fd, &st) < 0 || st.st_nlink == 0) {
		multipart_no_such_upload(err);
		goto out;
	}
	snprintf(path, sizeof(path), "%s/part.%05d", u.dir, part_number);
	if (renameat(fs->root_fd, tmp, fs->root_fd, path) < 0) {
		io_error(err, "rename", tmp);
		goto out;
	}
	tmp[0] = '\0';
	(void)sync_dir(fs, u.dir);  /* lost on a power cut, it is sent again: InvalidPart says so */
	etag_from_md5(digest, etag);
	rc = 0;
out:
	md5_free(&md5);
	tmp_discard(fs, fd, tmp);
	upload_close(&u);
	return rc;
}

/* Header of a part file: its MD5 and size; -1 when missing or corrupt. */
static int part_read_header(int fd, unsigned char md5[MD5_LEN], uint64_t *size)
{
	unsigned char h[PART_HEADER_LEN];
	struct stat st;

	if (pread_all(fd, h, sizeof(h), 0) < 0 || memcmp(h, PART_MAGIC, MAGIC_LEN) != 0)
		return -1;
	memcpy(md5, h + MAGIC_LEN, MD5_LEN);
	*size = get_be64(h + MAGIC_LEN + MD5_LEN);
	if (fstat(fd, &st) < 0 || (uint64_t)st.st_size != *size + PART_HEADER_LEN)
		return -1;
	return 0;
}

/* Append `len` bytes of `in` at `off` to `out`: in the kernel where it can. */
static int copy_range(struct fs_store *fs, int in, off_t off, int out, uint64_t len)
{
	bool kernel = true;

	while (len > 0) {
		size_t want = len < (1u << 30) ? (size_t)len : (1u << 30);
		ssize_t n = -1;

		if (kernel) {
			n = copy_file_range(in, &off, out, NULL, want, 0);
			if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL ||
				      errno == EOPNOTSUPP)) {
				kernel = false;
				continue;
			}
		} else {
			if (want > STREAM_CHUNK)
				want = STREAM_CHUNK;
			n = pread(in, fs->chunk, want, off);
			if (n > 0 && write_all(out, fs->chunk, (size_t)n) < 0)
				return -1;
			if (n > 0)
				off += n;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		len -= (uint64_t)n;
	}
	return 0;
}

/*
 * Check the listed parts against what was uploaded and R2's rules; fill
 * md5s[], sizes[] and *total. Runs under the exclusive lock, so parts
 * cannot change.
 */
static int check_parts(struct fs_store *fs, const struct upload *u,
		       const struct part_list *parts, unsigned char (*md5s)[MD5_LEN],
		       uint64_t *sizes, uint64_t *total, struct r2err *err)
{
	size_t i;

	*total = 0;
	for (i = 0; i < parts->count; i++) {
		const struct part_ref *p = &parts->parts[i];
		char path[96], ours[ETAG_MAX];
		int fd, found;

		snprintf(path, sizeof(path), "%s/part.%05d", u->dir, p->number);
		fd = openat(fs->root_fd, path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 && errno != ENOENT)
			return io_error(err, "open", path);
		found = fd >= 0 && part_read_header(fd, md5s[i], &sizes[i]) == 0;
		if (fd >= 0)
			close(fd);
		if (found)
			etag_from_md5(md5s[i], ours);
		if (!found || !etag_equal(p->etag, ours))
			return multipart_invalid_part(err, p->number);
		*total += sizes[i];
	}
	return multipart_check_sizes(parts, sizes, err);
}

/*
 * An object file, either layout: R2MPUOB2, a manifest -- magic, 4-byte
 * length, JSON (key, etag, size, http, data, parts), then each part's size
 * as 8 bytes -- whose bytes are the part files of its data directory; or
 * R2MPUOB1, written before manifests and where links are refused -- magic,
 * 4-byte length, JSON, then the bytes themselves.
 */
struct object_file {
	json_object *hdr;            /* owned; info.meta points into it */
	struct object_info info;
	off_t data_off;              /* R2MPUOB1: where the bytes begin */
	char data[DATA_ID_LEN + 1];  /* R2MPUOB2: its data directory's id; "" for R2MPUOB1 */
	uint64_t *sizes;             /* R2MPUOB2: each part's size, nparts of them; owned */
	size_t nparts;
};

static void object_file_free(struct object_file *o)
{
	json_object_put(o->hdr);
	free(o->sizes);
	memset(o, 0, sizeof(*o));
}

/* The one reader of an object file: 0, or -1 with errno EIO when it is not whole. */
static int object_file_read(int fd, struct object_file *o)
{
	unsigned char prefix[MAGIC_LEN + 4];
	const char *etag, *data;
	int64_t size, nparts;
	uint64_t sum = 0;
	struct stat st;
	bool manifest;
	size_t i;

	memset(o, 0, sizeof(*o));
	if (pread_all(fd, prefix, sizeof(prefix), 0) < 0 || fstat(fd, &st) < 0)
		goto bad;
	manifest = memcmp(prefix, MANIFEST_MAGIC, MAGIC_LEN) == 0;
	if (!manifest && memcmp(prefix, OBJ_MAGIC, MAGIC_LEN) != 0)
		goto bad;
	o->data_off = (off_t)sizeof(prefix) + (off_t)get_be32(prefix + MAGIC_LEN);
	o->hdr = json_read_fd(fd, sizeof(prefix), (size_t)(o->data_off - (off_t)sizeof(prefix)));
	etag = o->hdr ? json_str(o->hdr, "etag") : NULL;
	size = o->hdr ? json_int(o->hdr, "size") : -1;
	if (etag == NULL || strlen(etag) >= ETAG_MAX || size < 0)
		goto bad;
	o->info.size = (uint64_t)size;
	memcpy(o->info.etag, etag, strlen(etag) + 1);
	o->info.last_modified = st.st_mtime;
	meta_from_json(o->hdr, &o->info.meta);
	if (!manifest) {
		if (st.st_size < o->data_off || (uint64_t)(st.st_size - o->data_off) != o->info.size)
			goto bad;
		return 0;
	}
	data = json_str(o->hdr, "data");
	nparts = json_int(o->hdr, "parts");
	if (data == NULL || !hex_id_valid(data) || nparts < 1 || nparts > PART_NUMBER_MAX ||
	    (uint64_t)st.st_size != (uint64_t)o->data_off + (uint64_t)nparts * 8)
		goto bad;
	memcpy(o->data, data, DATA_ID_LEN + 1);
	o->nparts = (size_t)nparts;
	o->sizes = malloc(o->nparts * 8);
	if (o->sizes == NULL || pread_all(fd, o->sizes, o->nparts * 8, o->data_off) < 0)
		goto bad;
	for (i = 0; i < o->nparts; i++) {
		uint64_t v = get_be64((const unsigned char *)o->sizes + 8 * i);

		if (v > UINT64_MAX - sum)
			goto bad;
		o->sizes[i] = v;     /* in place: each 8 bytes are read before they are written */
		sum += v;
	}
	if (sum != o->info.size)
		goto bad;
	return 0;
bad:
	object_file_free(o);
	errno = EIO;
	return -1;
}

/*
 * The header of an object file: R2MPUOB2 with its data directory's id and
 * part count when data_id is given, else R2MPUOB1.
 */
static int object_write_header(int fd, const char *key, const char *etag, uint64_t size,
			       const struct http_meta *meta, const char *data_id, size_t nparts)
{
	json_object *o = json_object_new_object();
	unsigned char prefix[MAGIC_LEN + 4];
	const char *text;
	size_t len;
	int rc = -1;

	if (o == NULL)
		return -1;
	json_object_object_add(o, "key", json_object_new_string(key));
	json_object_object_add(o, "etag", json_object_new_string(etag));
	json_object_object_add(o, "size", json_object_new_int64((int64_t)size));
	json_object_object_add(o, "http", meta_to_json(meta));
	if (data_id != NULL) {
		json_object_object_add(o, "data", json_object_new_string(data_id));
		json_object_object_add(o, "parts", json_object_new_int64((int64_t)nparts));
	}
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	len = text ? strlen(text) : 0;
	if (len > 0 && len <= OBJ_HEADER_MAX) {
		memcpy(prefix, data_id != NULL ? MANIFEST_MAGIC : OBJ_MAGIC, MAGIC_LEN);
		put_be32(prefix + MAGIC_LEN, (uint32_t)len);
		if (write_all(fd, prefix, sizeof(prefix)) == 0 && write_all(fd, text, len) == 0)
			rc = 0;
	}
	json_object_put(o);
	return rc;
}

/* The data directory `id` of object n: "data/ab/<h>.<id>". */
static void data_path(const struct object_name *n, const char *id, char path[DATA_PATH_MAX])
{
	snprintf(path, DATA_PATH_MAX, "%s/%s.%s", n->data_dir, n->hex, id);
}

/* The id of the data directory n's object names now: "" for none (no object, R2MPUOB1). */
static int object_data_id(struct fs_store *fs, const struct object_name *n,
			  char id[DATA_ID_LEN + 1])
{
	struct object_file o;
	int fd = openat(fs->root_fd, n->path, O_RDONLY | O_CLOEXEC), rc;

	id[0] = '\0';
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	rc = object_file_read(fd, &o);
	close(fd);
	if (rc == 0)
		memcpy(id, o.data, sizeof(o.data));
	object_file_free(&o);
	return rc;
}

/*
 * Remove a data directory whose open fd we hold locked exclusively. It is
 * renamed to a tombstone in tmp/ first, so that at once no path names it: a
 * GET that locks it after us sees it gone, never half emptied. A crash
 * midway leaves the tombstone to the sweep.
 */
static void data_remove_locked(struct fs_store *fs, const char *path, int dfd)
{
	char dead[64];

	if (tmp_name("dead", dead) < 0 || renameat(fs->root_fd, path, fs->root_fd, dead) < 0) {
		if (errno != ENOENT)
			log_error("fs store: cannot remove %s: %s", path, strerror(errno));
		return;
	}
	dir_remove(fs, dead, dfd);
}

/*
 * Remove data directory `id` of object n, unless a GET is reading it or a
 * complete is publishing it (either holds its lock: the sweep comes back),
 * or, with `unless_named`, n's manifest names it -- read under the lock, so
 * a complete that publishes it just before is seen.
 */
static void data_remove(struct fs_store *fs, const struct object_name *n, const char *id,
			bool unless_named)
{
	char path[DATA_PATH_MAX], named[DATA_ID_LEN + 1];
	int dfd;

	data_path(n, id, path);
	dfd = dir_fd(fs, path);
	if (dfd < 0)
		return;
	if (flock(dfd, LOCK_EX | LOCK_NB) == 0 &&
	    (!unless_named || (object_data_id(fs, n, named) == 0 && strcmp(named, id) != 0)))
		data_remove_locked(fs, path, dfd);
	close(dfd);
}

/* An object file taken out of objects/ (to tmp/): gone, and the data it named with it. */
static void object_discard(struct fs_store *fs, const struct object_name *n, const char *tmp)
{
	struct object_file o;
	int fd = openat(fs->root_fd, tmp, O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (object_file_read(fd, &o) < 0)
			log_error("fs store: the object taken from %s was not whole", n->path);
		else if (o.data[0] != '\0')
			data_remove(fs, n, o.data, false);
		object_file_free(&o);
		close(fd);
	}
	unlinkat(fs->root_fd, tmp, 0);
}

/*
 * Put object file `tmp` in the place of n's object, atomically, and discard
 * the object it replaced. renameat2(RENAME_EXCHANGE) hands back exactly the
 * file it replaced, so when completes of one key race, each replaced data
 * directory is discarded once; a file system that cannot exchange gets a
 * plain rename, and the data named before it is removed unless named again.
 */
static int object_publish(struct fs_store *fs, const struct object_name *n, char tmp[64],
			  struct r2err *err)
{
	char replaced[DATA_ID_LEN + 1] = "";
	bool exchanged = false;
	int tries;

	if (bucket_make(fs, n->dir, "objects") < 0)
		return io_error(err, "mkdir", n->dir);
	for (tries = 0;; tries++) {
		if (renameat2(fs->root_fd, tmp, fs->root_fd, n->path, RENAME_EXCHANGE) == 0) {
			exchanged = true;
			break;
		}
		if (errno == ENOENT &&
		    renameat2(fs->root_fd, tmp, fs->root_fd, n->path, RENAME_NOREPLACE) == 0)
			break;
		if (errno == EEXIST && tries < 8)
			continue;      /* one appeared since: exchange with it */
		if (errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP) {
			/*
			 * No exchange here: what is replaced is read first, and
			 * checked again after (one that cannot be read is left
			 * to the sweep).
			 */
			(void)object_data_id(fs, n, replaced);
			if (renameat(fs->root_fd, tmp, fs->root_fd, n->path) == 0)
				break;
		}
		return io_error(err, "rename", tmp);
	}
	/*
	 * Durable before the replaced object's data goes: never a manifest
	 * without its data. When that cannot be known, the data is left to
	 * the sweep.
	 */
	if (sync_dir(fs, n->dir) < 0) {
		log_error("fs store: sync %s: %s", n->dir, strerror(errno));
		if (exchanged)
			unlinkat(fs->root_fd, tmp, 0);
	} else if (exchanged) {
		object_discard(fs, n, tmp);
	} else if (replaced[0] != '\0') {
		data_remove(fs, n, replaced, true);
	}
	tmp[0] = '\0';
	return 0;
}

/*
 * Hard-link the listed parts into a new data directory, as 00000, 00001...:
 * O(1) per part, and the upload keeps its own links until the object is
 * published, so a complete cut short can be sent again. 0 with *dfd the
 * directory, locked so that the sweep leaves it alone until it is published;
 * 1 when this file system refuses links (nothing made); -1 on error.
 */
static int data_link_parts(struct fs_store *fs, const struct upload *u,
			   const struct part_list *parts, const struct object_name *n,
			   char id[DATA_ID_LEN + 1], int *dfd, struct r2err *err)
{
	char path[DATA_PATH_MAX], from[96], to[24];
	size_t i;

	*dfd = -1;
	if (random_hex(id, DATA_ID_LEN / 2) < 0)
		return r2err_set(err, 500, "InternalError", "InternalError: no randomness");
	data_path(n, id, path);
	if (bucket_make(fs, n->data_dir, "data") < 0 || mkdirat(fs->root_fd, path, 0700) < 0) {
		if (errno == EMLINK)          /* a bucket full of directories: copy */
			return 1;
		return io_error(err, "mkdir", path);
	}
	*dfd = dir_fd(fs, path);
	if (*dfd < 0) {
		io_error(err, "open", path);
		goto fail;
	}
	while (flock(*dfd, LOCK_EX) < 0) {
		if (errno == EINTR)
			continue;
		/* Directories that cannot be locked (NFS): GETs could not lock them either. */
		log_info("fs store: lock %s: %s; completing by copying", path, strerror(errno));
		close(*dfd);
		*dfd = -1;
		unlinkat(fs->root_fd, path, AT_REMOVEDIR);
		return 1;
	}
	for (i = 0; i < parts->count; i++) {
		snprintf(from, sizeof(from), "%s/part.%05d", u->dir, parts->parts[i].number);
		snprintf(to, sizeof(to), "%05zu", i);
		if (linkat(fs->root_fd, from, *dfd, to, 0) == 0)
			continue;
		if (errno == EPERM || errno == EOPNOTSUPP || errno == EMLINK || errno == EXDEV) {
			log_info("fs store: %s: %s; completing by copying", from, strerror(errno));
			data_remove_locked(fs, path, *dfd);
			close(*dfd);
			*dfd = -1;
			return 1;
		}
		io_error(err, "link", from);
		goto fail;
	}
	if ((fs->fsync && fsync(*dfd) < 0) || sync_dir(fs, n->data_dir) < 0) {
		io_error(err, "fsync", path);
		goto fail;
	}
	return 0;
fail:
	if (*dfd >= 0) {
		data_remove_locked(fs, path, *dfd);
		close(*dfd);
		*dfd = -1;
	} else {
		unlinkat(fs->root_fd, path, AT_REMOVEDIR);
	}
	return -1;
}

/* The manifest of data directory `id` after its header: each part's size, 8 bytes. */
static int manifest_write_sizes(int fd, const uint64_t *sizes, size_t count)
{
	unsigned char *table = malloc(count * 8);
	size_t i;
	int rc;

	if (table == NULL)
		return -1;
	for (i = 0; i < count; i++)
		put_be64(table + 8 * i, sizes[i]);
	rc = write_all(fd, table, count * 8);
	free(table);
	return rc;
}

/* R2MPUOB1: the parts' bytes copied one after another, where links are refused. */
static int object_write_copy(struct fs_store *fs, int fd, const struct upload *u,
			     const struct part_list *parts, const uint64_t *sizes)
{
	char path[96];
	size_t i;

	for (i = 0; i < parts->count; i++) {
		int pfd, rc;

		snprintf(path, sizeof(path), "%s/part.%05d", u->dir, parts->parts[i].number);
		pfd = openat(fs->root_fd, path, O_RDONLY | O_CLOEXEC);
		if (pfd < 0)
			return -1;
		rc = copy_range(fs, pfd, PART_HEADER_LEN, fd, sizes[i]);
		close(pfd);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int fs_complete(void *state, const char *key, const char *upload_id,
		       const struct part_list *parts, char etag[ETAG_MAX], uint64_t *size,
		       struct r2err *err)
{
	struct fs_store *fs = state;
	struct upload u;
	struct object_name n;
	unsigned char (*md5s)[MD5_LEN] = NULL;
	uint64_t *sizes = NULL, total;
	char tmp[64] = "", id[DATA_ID_LEN + 1] = "", data[DATA_PATH_MAX];
	int fd = -1, dfd = -1, linked, rc = -1;

	if (upload_open(fs, key, upload_id, LOCK_EX, &u, err) < 0)
		return -1;
	md5s = calloc(parts->count ? parts->count : 1, MD5_LEN);
	sizes = calloc(parts->count ? parts->count : 1, sizeof(*sizes));
	if (md5s == NULL || sizes == NULL) {
		r2err_out_of_memory(err);
		goto out;
	}
	if (check_parts(fs, &u, parts, md5s, sizes, &total, err) < 0)
		goto out;
	if (etag_multipart((const unsigned char (*)[MD5_LEN])md5s, parts->count, etag) < 0) {
		r2err_out_of_memory(err);
		goto out;
	}
	if (object_name(key, &n) < 0) {
		r2err_set(err, 500, "InternalError", "InternalError: hashing failed");
		goto out;
	}
	/* No parts, an empty object: R2MPUOB1 holds it with no data directory. */
	linked = parts->count == 0 ? 1 : data_link_parts(fs, &u, parts, &n, id, &dfd, err);
	if (linked < 0)
		goto out;
	if ((fd = tmp_create(fs, "object", tmp, err)) < 0) {
		tmp[0] = '\0';
		goto out;
	}
	errno = EIO;     /* object_write_header can fail without setting errno */
	if (object_write_header(fd, key, etag, total, &u.meta.http,
				linked == 0 ? id : NULL, parts->count) < 0 ||
	    (linked == 0 ? manifest_write_sizes(fd, sizes, parts->count)
			 : object_write_copy(fs, fd, &u, parts, sizes)) < 0) {
		io_error(err, "write", tmp);
		goto out;
	}
	if (sync_file(fs, fd, tmp, err) < 0 || object_publish(fs, &n, tmp, err) < 0)
		goto out;
	id[0] = '\0';           /* published: the object's now */
	upload_remove(fs, u.dir);
	*size = total;
	rc = 0;
out:
	tmp_discard(fs, fd, tmp);
	if (dfd >= 0) {
		if (id[0] != '\0') {
			data_path(&n, id, data);
			data_remove_locked(fs, data, dfd);
		}
		close(dfd);         /* lets the sweep and readers at it */
	}
	free(sizes);
	free(md5s);
	upload_close(&u);
	return rc;
}

static int fs_abort(void *state, const char *key, const char *upload_id, struct r2err *err)
{
	struct fs_store *fs = state;
	struct upload u;

	if (upload_open(fs, key, upload_id, LOCK_EX, &u, err) < 0)
		return -1;
	upload_remove(fs, u.dir);
	upload_close(&u);
	return 0;
}

/* ---- objects ------------------------------------------------------------ */

/* Send `length` bytes from `first` of an R2MPUOB1 object; what is cut short is logged. */
static void object_stream_copy(struct fs_store *fs, int fd, const struct object_file *o,
			       uint64_t first, uint64_t length, struct object_sink *sink,
			       const char *path)
{
	uint64_t done = 0;

	while (done < length) {
		size_t want = length - done < STREAM_CHUNK ? (size_t)(length - done) : STREAM_CHUNK;

		if (pread_all(fd, fs->chunk, want, o->data_off + (off_t)(first + done)) < 0) {
			/* Headers are out: all we can do is log and cut the answer short. */
			log_error("fs store: read %s: %s", path, strerror(errno));
			return;
		}
		if (sink->write(sink->ctx, fs->chunk, want) < 0)
			return;
		done += want;
	}
}

/* The same across the part files of a manifest's data directory (dfd, locked shared). */
static void object_stream_parts(struct fs_store *fs, int dfd, const struct object_file *o,
				uint64_t first, uint64_t length, struct object_sink *sink,
				const char *path)
{
	uint64_t base = 0;
	size_t i = 0;

	while (i < o->nparts && base + o->sizes[i] <= first)
		base += o->sizes[i++];
	for (; length > 0 && i < o->nparts; base += o->sizes[i++]) {
		uint64_t off = first - base, n = o->sizes[i] - off;
		char name[24];
		struct stat st;
		int pfd;

		if (n > length)
			n = length;
		snprintf(name, sizeof(name), "%05zu", i);
		pfd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
		if (pfd < 0 || fstat(pfd, &st) < 0 ||
		    (uint64_t)st.st_size != PART_HEADER_LEN + o->sizes[i]) {
			log_error("fs store: %s/%s is missing or not whole", path, name);
			if (pfd >= 0)
				close(pfd);
			return;
		}
		while (n > 0) {
			size_t want = n < STREAM_CHUNK ? (size_t)n : STREAM_CHUNK;

			if (pread_all(pfd, fs->chunk, want, (off_t)(PART_HEADER_LEN + off)) < 0) {
				log_error("fs store: read %s/%s: %s", path, name, strerror(errno));
				close(pfd);
				return;
			}
			if (sink->write(sink->ctx, fs->chunk, want) < 0) {
				close(pfd);
				return;
			}
			off += want;
			n -= want;
			first += want;
			length -= want;
		}
		close(pfd);
	}
}

/* What a GET or HEAD with these conditions and range answers, and which bytes. */
static enum get_outcome get_decide(const struct get_request *req, const struct object_info *info,
				   uint64_t *first, uint64_t *length)
{
	enum get_outcome outcome = http_preconditions(req->if_match, req->if_none_match, info->etag);

	*first = 0;
	*length = info->size;
	if (outcome != GET_WHOLE || !http_if_range_allows(req->if_range, info->etag))
		return outcome;
	switch (http_range_parse(req->range, info->size, first, length)) {
	case RANGE_OK:
		return GET_RANGE;
	case RANGE_UNSATISFIABLE:
		return GET_RANGE_NOT_SATISFIABLE;
	case RANGE_NONE:
		break;
	}
	return outcome;
}

/* How often a GET reads the object again when it was replaced under it, before 503. */
#define GET_ATTEMPTS 8

static int fs_get(void *state, const char *key, const struct get_request *req,
		  struct object_sink *sink, struct r2err *err)
{
	struct fs_store *fs = state;
	struct object_name n;
	struct object_file o;
	char data[DATA_PATH_MAX];
	uint64_t first, length;
	enum get_outcome outcome;
	struct stat st, now;
	int attempt, fd = -1, dfd = -1, rc = -1;

	memset(&o, 0, sizeof(o));
	if (object_name(key, &n) < 0)
		return r2err_set(err, 500, "InternalError", "InternalError: hashing failed");
	for (attempt = 0; attempt < GET_ATTEMPTS; attempt++) {
		fd = openat(fs->root_fd, n.path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			if (errno == ENOENT)
				return r2err_set(err, 404, "NoSuchKey", "Object Not Found");
			return io_error(err, "open", n.path);
		}
		if (object_file_read(fd, &o) < 0 || fstat(fd, &st) < 0) {
			io_error(err, "read", n.path);
			goto out;
		}
		outcome = get_decide(req, &o.info, &first, &length);
		if (req->head || (outcome != GET_WHOLE && outcome != GET_RANGE) || o.data[0] == '\0')
			break;
		/*
		 * The data directory, locked shared for the whole answer: a replace
		 * or delete leaves it to the sweep meanwhile. One removed before we
		 * got here is gone, or a tombstone: the object was replaced, so read
		 * it again; a manifest still in place without it is corrupt.
		 */
		data_path(&n, o.data, data);
		dfd = dir_fd(fs, data);
		if (dfd >= 0) {
			struct stat named;

			while (flock(dfd, LOCK_SH) < 0) {
				if (errno != EINTR) {
					io_error(err, "lock", data);
					goto out;
				}
			}
			/* Still the directory its path names, not a tombstone. */
			if (fstat(dfd, &now) == 0 && fstatat(fs->root_fd, data, &named, 0) == 0 &&
			    named.st_ino == now.st_ino && named.st_dev == now.st_dev)
				break;
		} else if (errno != ENOENT) {
			io_error(err, "open", data);
			goto out;
		}
		if (fstatat(fs->root_fd, n.path, &now, 0) == 0 && now.st_ino == st.st_ino &&
		    now.st_dev == st.st_dev) {
			errno = EIO;
			io_error(err, "find the data of", n.path);
			goto out;
		}
		if (dfd >= 0)
			close(dfd);
		dfd = -1;
		close(fd);
		fd = -1;
		object_file_free(&o);
	}
	if (attempt == GET_ATTEMPTS) {
		r2err_set(err, 503, "StoreBusy",
			  "Service Unavailable: the object was replaced while being read; retry");
		goto out;
	}
	rc = 0;
	if (sink->begin(sink->ctx, outcome, &o.info, first, length) < 0 ||
	    req->head || (outcome != GET_WHOLE && outcome != GET_RANGE))
		goto out;
	if (dfd >= 0)
		object_stream_parts(fs, dfd, &o, first, length, sink, data);
	else
		object_stream_copy(fs, fd, &o, first, length, sink, n.path);
out:
	object_file_free(&o);
	if (dfd >= 0)
		close(dfd);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* Taken out of objects/ by a rename first, so that exactly what was deleted is discarded. */
static int fs_delete(void *state, const char *key, struct r2err *err)
{
	struct fs_store *fs = state;
	struct object_name n;
	char gone[64];

	if (object_name(key, &n) < 0)
		return r2err_set(err, 500, "InternalError", "InternalError: hashing failed");
	if (tmp_name("gone", gone) < 0)
		return r2err_set(err, 500, "InternalError", "InternalError: no randomness");
	if (renameat(fs->root_fd, n.path, fs->root_fd, gone) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return io_error(err, "rename", n.path);
	}
	if (sync_dir(fs, n.dir) < 0) {
		/* A power cut could bring the object back: its data stays, for the sweep. */
		log_error("fs store: sync %s: %s", n.dir, strerror(errno));
		unlinkat(fs->root_fd, gone, 0);
		return 0;
	}
	object_discard(fs, &n, gone);
	return 0;
}

/*
 * The sweep's walk of data/: directories an interval old that no manifest
 * names -- left by a crash mid-complete, or by a replace or delete while a
 * GET was reading them. data_remove() decides under the directory's lock.
 */
static void sweep_data(struct fs_store *fs, time_t now, uint64_t interval)
{
	DIR *top = dir_open(fs, "data");
	struct dirent *b;

	while (top != NULL && (b = readdir(top)) != NULL) {
		char bucket[16];
		struct dirent *de;
		DIR *d;

		if (strlen(b->d_name) != 2 || !hex_digits(b->d_name, 2))
			continue;
		snprintf(bucket, sizeof(bucket), "data/%.2s", b->d_name);
		d = dir_open(fs, bucket);
		while (d != NULL && (de = readdir(d)) != NULL) {
			const char *name = de->d_name;
			char named[DATA_ID_LEN + 1];
			struct object_name n;
			struct stat st;

			/* "<64 hex>.<32 hex>", in the bucket of its first two digits */
			if (!hex_digits(name, SHA256_HEX_LEN) || name[SHA256_HEX_LEN] != '.' ||
			    !hex_id_valid(name + SHA256_HEX_LEN + 1) ||
			    memcmp(name, b->d_name, 2) != 0)
				continue;
			if (fstatat(dirfd(d), name, &st, 0) < 0 ||
			    !age_at_least(st.st_mtime, now, interval))
				continue;
			object_name_of_hex(name, &n);
			/* Named (nearly always): one small read, no lock. */
			if (object_data_id(fs, &n, named) == 0 &&
			    strcmp(named, name + SHA256_HEX_LEN + 1) == 0)
				continue;
			data_remove(fs, &n, name + SHA256_HEX_LEN + 1, true);
		}
		if (d != NULL)
			closedir(d);
	}
	if (top != NULL)
		closedir(top);
}

/* ---- listing ------------------------------------------------------------ */

static int by_part_number(const void *a, const void *b)
{
	const struct part_info *x = a, *y = b;

	return (x->number > y->number) - (x->number < y->number);
}

/* "part.NNNNN" -> NNNNN (1..10000), else -1. */
static int part_file_number(const char *name)
{
	int n = 0, i;

	if (strncmp(name, "part.", 5) != 0 || strlen(name) != 10)
		return -1;
	for (i = 5; i < 10; i++) {
		if (name[i] < '0' || name[i] > '9')
			return -1;
		n = n * 10 + (name[i] - '0');
	}
	return n >= 1 && n <= PART_NUMBER_MAX ? n : -1;
}

static int fs_list_parts(void *state, const char *key, const char *upload_id,
			 struct part_info **parts, size_t *count, struct r2err *err)
{
	struct fs_store *fs = state;
	struct part_info *list = NULL;
	struct upload u;
	struct dirent *de;
	size_t n = 0, cap = 0;
	DIR *d = NULL;
	int rc = -1;

	*parts = NULL;
	*count = 0;
	/* Shared: parts may still arrive, but complete and abort wait. */
	if (upload_open(fs, key, upload_id, LOCK_SH, &u, err) < 0)
		return -1;
	d = dir_open(fs, u.dir);
	if (d == NULL) {
		io_error(err, "open", u.dir);
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		unsigned char md5[MD5_LEN];
		int number = part_file_number(de->d_name), fd;
		uint64_t size;

		if (number < 0)
			continue;
		fd = openat(dirfd(d), de->d_name, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;     /* replaced meanwhile: the new one is listed or not */
		if (part_read_header(fd, md5, &size) < 0) {
			/* Not listed, so a resuming client sends it again; say why. */
			log_error("fs store: %s/%s is corrupt", u.dir, de->d_name);
			close(fd);
			continue;
		}
		close(fd);
		/* part_file_number() admits 1..PART_NUMBER_MAX, a file each: the bound. */
		if (MEM_GROW(list, &cap, n + 1, PART_NUMBER_MAX) < 0) {
			r2err_out_of_memory(err);
			goto out;
		}
		list[n].number = number;
		list[n].size = size;
		etag_from_md5(md5, list[n].etag);
		n++;
	}
	if (n > 1)      /* qsort(NULL, 0, ...) is undefined */
		qsort(list, n, sizeof(*list), by_part_number);
	*parts = list;
	*count = n;
	list = NULL;
	rc = 0;
out:
	if (d != NULL)
		closedir(d);
	free(list);
	upload_close(&u);
	return rc;
}

static int fs_list_uploads(void *state, const char *prefix, const struct upload_page *page,
			   struct upload_info **uploads, size_t *count, bool *truncated,
			   struct r2err *err)
{
	struct fs_store *fs = state;
	struct upload_info *list = NULL, marker = { NULL, NULL, 0 };
	bool marker_known = false;
	size_t n = 0, cap = 0, plen = strlen(prefix), max = page->max;
	time_t now = time(NULL);
	struct dirent *de;
	DIR *d;

	*uploads = NULL;
	*count = 0;
	*truncated = false;
	d = dir_open(fs, "uploads");
	if (d == NULL)
		return io_error(err, "open", "uploads");
	/* The marker's start time places it among its key's uploads. */
	if (page->key_marker != NULL && page->upload_id_marker != NULL &&
	    hex_id_valid(page->upload_id_marker)) {
		struct upload_meta m;

		if (upload_meta_load(fs, page->upload_id_marker, &m) == 0 &&
		    strcmp(m.key, page->key_marker) == 0) {
			marker = (struct upload_info){ (char *)page->key_marker,
						       (char *)page->upload_id_marker,
						       (time_t)m.created };
			marker_known = true;
		}
		upload_meta_free(&m);
	}
	while ((de = readdir(d)) != NULL) {
		struct upload_meta m;

		if (!hex_id_valid(de->d_name))
			continue;
		/* Passed over: gone (finished meanwhile), corrupt, expired, not on this page. */
		if (upload_meta_load(fs, de->d_name, &m) < 0 ||
		    upload_expired(fs, m.created, now) ||
		    strncmp(m.key, prefix, plen) != 0 ||
		    !upload_after_marker(&(struct upload_info){ (char *)m.key, de->d_name,
							       (time_t)m.created },
					 page, marker_known ? &marker : NULL)) {
			upload_meta_free(&m);
			continue;
		}
		/*
		 * Keep the first `max` in the promised order, as S3 does, with
		 * at most twice that in memory: sort and cut when full.
		 */
		if (n == 2 * max) {
			upload_list_sort(list, n);
			upload_list_free_tail(list, max, n);
			n = max;
			*truncated = true;
		}
		/* The cut above keeps n below 2 * max (max <= LIST_UPLOADS_MAX): the bound. */
		if (MEM_GROW(list, &cap, n + 1, 2 * max) < 0) {
			upload_meta_free(&m);
			goto oom;
		}
		list[n].key = strdup(m.key);
		list[n].upload_id = strdup(de->d_name);
		list[n].initiated = (time_t)m.created;
		upload_meta_free(&m);
		n++;
		if (list[n - 1].key == NULL || list[n - 1].upload_id == NULL)
			goto oom;
	}
	closedir(d);
	upload_list_sort(list, n);
	if (n > max) {
		upload_list_free_tail(list, max, n);
		n = max;
		*truncated = true;
	}
	*uploads = list;
	*count = n;
	return 0;
oom:
	closedir(d);
	upload_list_free(list, n);
	return r2err_out_of_memory(err);
}

static void fs_close(void *state)
{
	struct fs_store *fs = state;

	if (fs == NULL)
		return;
	if (fs->root_fd >= 0)
		close(fs->root_fd);
	free(fs->chunk);
	free(fs);
}

static int fs_probe(void *st, struct r2err *err)
{
	struct fs_store *fs = st;
	char name[64] = "";
	int fd = tmp_create(fs, "probe", name, err), rc = -1;
	DIR *d;

	if (fd < 0)
		return -1;
	if (write(fd, "r2mpu", 5) != 5) {
		io_error(err, "write", name);
		goto out;
	}
	if (sync_file(fs, fd, name, err) < 0)
		goto out;
	d = dir_open(fs, "uploads");
	if (d == NULL) {
		io_error(err, "open", "uploads");
		goto out;
	}
	closedir(d);
	rc = 0;
out:
	tmp_discard(fs, fd, name);
	return rc;
}

static const struct store_ops fs_ops = {
	.create = fs_create,
	.upload_part = fs_upload_part,
	.complete = fs_complete,
	.abort = fs_abort,
	.get = fs_get,
	.delete = fs_delete,
	.list_parts = fs_list_parts,
	.list_uploads = fs_list_uploads,
	.probe = fs_probe,
	.close = fs_close,
};

int store_fs_open(const struct config *cfg, struct store *out, char *errbuf, size_t errlen)
{
	static const char *const subdirs[] = { "objects", "data", "uploads", "tmp" };
	struct fs_store *fs;
	size_t i;

	fs = calloc(1, sizeof(*fs));
	if (fs == NULL) {
		snprintf(errbuf, errlen, "fs store: out of memory");
		return -1;
	}
	fs->root_fd = -1;
	fs->chunk = malloc(STREAM_CHUNK);
	if (fs->chunk == NULL) {
		snprintf(errbuf, errlen, "fs store: out of memory");
		goto fail;
	}
	fs->fsync = cfg->fs_fsync;
	fs->ttl = cfg->upload_ttl;
	if (mkdir(cfg->fs_root, 0700) < 0 && errno != EEXIST) {
		snprintf(errbuf, errlen, "R2MPU_FS_ROOT: cannot create %s: %s", cfg->fs_root,
			 strerror(errno));
		goto fail;
	}
	fs->root_fd = open(cfg->fs_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fs->root_fd < 0) {
		snprintf(errbuf, errlen, "R2MPU_FS_ROOT: cannot open %s: %s", cfg->fs_root,
			 strerror(errno));
		goto fail;
	}
	for (i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
		if (mkdirat(fs->root_fd, subdirs[i], 0700) < 0 && errno != EEXIST) {
			snprintf(errbuf, errlen, "R2MPU_FS_ROOT: cannot create %s/%s: %s",
				 cfg->fs_root, subdirs[i], strerror(errno));
			goto fail;
		}
	}
	if (faccessat(fs->root_fd, "tmp", W_OK, AT_EACCESS) < 0 ||
	    faccessat(fs->root_fd, "data", W_OK, AT_EACCESS) < 0 ||
	    faccessat(fs->root_fd, "uploads", W_OK, AT_EACCESS) < 0) {
		snprintf(errbuf, errlen, "R2MPU_FS_ROOT: %s is not writable by this user",
			 cfg->fs_root);
		goto fail;
	}
	out->ops = &fs_ops;
	out->state = fs;
	return 0;
fail:
	fs_close(fs);
	return -1;
}
