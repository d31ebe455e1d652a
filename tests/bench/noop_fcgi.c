/* SPDX-License-Identifier: MIT */
/* noop_fcgi.c: the ceiling for make bench -- a FastCGI app that answers r2mpu's API minimally and discards every body */
/*
 * Served by the same lighttpd config as r2mpu, it measures what the client,
 * lighttpd and FastCGI cost with no store behind them: r2mpu's throughput
 * as a fraction of this one's is what r2mpu itself adds. It keeps nothing.
 * Answers: mpu-create {"key","uploadId":"noop"}; mpu-uploadpart reads the
 * body in 256 KiB reads (r2mpu's buffer) and answers {"partNumber","etag"}
 * with a fixed etag; mpu-complete reads its body, answers 200 with an ETag;
 * mpu-abort and delete 204; anything else 404. A benchmark tool, never a
 * gateway: it checks nothing.
 */
#include <fcgi_stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK (256 * 1024)
#define FIXED_ETAG "00000000000000000000000000000000"

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

/* Read and drop the request body: CONTENT_LENGTH bytes, as r2mpu reads a part. */
static void discard_body(char *buf)
{
	const char *cl = getenv("CONTENT_LENGTH");
	unsigned long long left = cl != NULL ? strtoull(cl, NULL, 10) : 0;

	while (left > 0) {
		size_t want = left < CHUNK ? (size_t)left : CHUNK;
		size_t got = fread(buf, 1, want, stdin);

		if (got == 0)
			break;
		left -= got;
	}
}

int main(void)
{
	char *buf = malloc(CHUNK);

	if (buf == NULL)
		return 1;
	while (FCGI_Accept() >= 0) {
		const char *query = getenv("QUERY_STRING");
		const char *path = getenv("PATH_INFO");
		char action[32], part[16];

		query_value(query != NULL ? query : "", "action", action, sizeof(action));
		discard_body(buf);
		if (strcmp(action, "mpu-create") == 0) {
			printf("Status: 200 OK\r\nContent-Type: application/json\r\n\r\n"
			       "{\"key\":\"%s\",\"uploadId\":\"noop\"}",
			       path != NULL && path[0] == '/' ? path + 1 : "");
		} else if (strcmp(action, "mpu-uploadpart") == 0) {
			query_value(query, "partNumber", part, sizeof(part));
			printf("Status: 200 OK\r\nContent-Type: application/json\r\n\r\n"
			       "{\"partNumber\":%d,\"etag\":\"" FIXED_ETAG "\"}", atoi(part));
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
