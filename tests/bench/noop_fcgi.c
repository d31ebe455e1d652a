/* SPDX-License-Identifier: MIT */
/* noop_fcgi.c: the ceilings for make bench -- a FastCGI app that answers r2mpu's API minimally, doing only the work it is told to */
/*
 * Served by the same lighttpd config as r2mpu, it measures what the client,
 * lighttpd and FastCGI cost with no store behind them: r2mpu's throughput
 * as a fraction of this one's is what r2mpu itself adds. It keeps nothing.
 * Answers: mpu-create {"key","uploadId":"noop"}; mpu-uploadpart reads the
 * body in 256 KiB reads (r2mpu's buffer) and answers {"partNumber","etag"};
 * mpu-complete reads its body, answers 200 with an ETag; mpu-abort and
 * delete 204; anything else 404. A benchmark tool, never a gateway: it
 * checks nothing.
 *
 * NOOP_WORK says what it does with a part's bytes, so that the bench can
 * tell r2mpu's own cost from the work any store with S3's answers must do:
 *   (unset)      discards them; the etag is a fixed string
 *   md5          hashes them: the etag is their MD5, as S3 and R2 give it
 *   md5-durable  hashes them and writes them to a file in NOOP_DIR, made
 *                durable with fdatasync() before the answer, then removed:
 *                the least a file store that loses nothing must do (its
 *                writeback started every WRITEBACK_STEP, as r2mpu's is, so
 *                that the sync waits for the tail only)
 */
#define _GNU_SOURCE
#include <fcgi_stdio.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#define CHUNK (256 * 1024)
#define FIXED_ETAG "00000000000000000000000000000000"
#define WRITEBACK_STEP (8 << 20)

/* The value of `name` in the query string, copied into out (not decoded: the
 * bench sends plain values); "" when absent. */
static void query_value(const char *query, const char *name, char *out, size_t outlen)
{
	size_t n = strlen(name);
	const char *p = query;

	out[0] = '\0';
	while (p != NULL && *p != '\0') {
		if (strncmp(p, name, n) == 0 && p[n] == '=') {
			const char *v = p + n + 1;
			size_t len = strcspn(v, "&");

			if (len >= outlen)
				len = outlen - 1;
			memcpy(out, v, len);
			out[len] = '\0';
			return;
		}
		p = strchr(p, '&');
		if (p != NULL)
			p++;
	}
}

/* What NOOP_WORK asks of a part's bytes. */
struct work {
	bool md5;
	const char *dir;          /* md5-durable: where each part is written; else NULL */
};

/* A write of all of buf, or false. */
static bool write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n <= 0)
			return false;
		buf += n;
		len -= (size_t)n;
	}
	return true;
}

/*
 * Read the request body, CONTENT_LENGTH bytes, as r2mpu reads a part, and
 * do the work asked with it; the etag into etag (33 bytes). false when the
 * file could not be written.
 */
static bool take_body(char *buf, const struct work *w, char etag[33])
{
	const char *cl = getenv("CONTENT_LENGTH");
	unsigned long long left = cl != NULL ? strtoull(cl, NULL, 10) : 0;
	EVP_MD_CTX *md = w->md5 ? EVP_MD_CTX_new() : NULL;
	char path[4096];
	off_t written = 0, synced = 0;
	int fd = -1;
	bool ok = true;

	strcpy(etag, FIXED_ETAG);
	if (w->md5 && (md == NULL || EVP_DigestInit_ex(md, EVP_md5(), NULL) != 1))
		ok = false;
	if (ok && w->dir != NULL) {
		snprintf(path, sizeof(path), "%s/part-%ld", w->dir, (long)getpid());
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		ok = fd >= 0;
	}
	while (left > 0) {
		size_t want = left < CHUNK ? (size_t)left : CHUNK;
		size_t got = fread(buf, 1, want, stdin);

		if (got == 0)
			break;
		left -= got;
		if (ok && md != NULL)
			EVP_DigestUpdate(md, buf, got);
		if (ok && fd >= 0) {
			ok = write_all(fd, buf, got);
			written += (off_t)got;
			if (written - synced >= WRITEBACK_STEP) {
				(void)sync_file_range(fd, synced, written - synced,
						      SYNC_FILE_RANGE_WRITE);
				synced = written;
			}
		}
	}
	if (fd >= 0) {
		ok = ok && fdatasync(fd) == 0;
		close(fd);
		unlink(path);
	}
	if (ok && md != NULL) {
		unsigned char d[16];
		unsigned int n = 0;
		int i;

		EVP_DigestFinal_ex(md, d, &n);
		for (i = 0; i < 16; i++)
			sprintf(etag + 2 * i, "%02x", d[i]);
	}
	EVP_MD_CTX_free(md);
	return ok;
}

int main(void)
{
	char *buf = malloc(CHUNK);
	const char *mode = getenv("NOOP_WORK");
	struct work w = { .md5 = false, .dir = NULL };

	if (buf == NULL)
		return 1;
	if (mode != NULL && strcmp(mode, "md5") == 0) {
		w.md5 = true;
	} else if (mode != NULL && strcmp(mode, "md5-durable") == 0) {
		w.md5 = true;
		w.dir = getenv("NOOP_DIR");
		if (w.dir == NULL)
			return 1;
	} else if (mode != NULL && mode[0] != '\0') {
		return 1;
	}
	while (FCGI_Accept() >= 0) {
		const char *query = getenv("QUERY_STRING");
		const char *path = getenv("PATH_INFO");
		char action[32], part[16], etag[33];
		bool stored;

		query_value(query != NULL ? query : "", "action", action, sizeof(action));
		stored = take_body(buf, &w, etag);
		if (!stored) {
			printf("Status: 500 Internal Server Error\r\nContent-Type: text/plain\r\n\r\n"
			       "noop: the part could not be written\n");
		} else if (strcmp(action, "mpu-create") == 0) {
			printf("Status: 200 OK\r\nContent-Type: application/json\r\n\r\n"
			       "{\"key\":\"%s\",\"uploadId\":\"noop\"}",
			       path != NULL && path[0] == '/' ? path + 1 : "");
		} else if (strcmp(action, "mpu-uploadpart") == 0) {
			query_value(query, "partNumber", part, sizeof(part));
			printf("Status: 200 OK\r\nContent-Type: application/json\r\n\r\n"
			       "{\"partNumber\":%d,\"etag\":\"%s\"}", atoi(part), etag);
		} else if (strcmp(action, "mpu-complete") == 0) {
			printf("Status: 200 OK\r\nETag: \"" FIXED_ETAG "-1\"\r\n"
			       "Content-Length: 0\r\n\r\n");
		} else if (strcmp(action, "mpu-abort") == 0 || strcmp(action, "delete") == 0) {
			printf("Status: 204 No Content\r\n\r\n");
		} else {
			printf("Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\nno-op\n");
		}
	}
	free(buf);
	return 0;
}
