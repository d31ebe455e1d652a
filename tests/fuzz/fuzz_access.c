/* SPDX-License-Identifier: MIT */
/* fuzz_access.c: libFuzzer target for the access rules -- tokens files, signed-URL queries, Content-MD5, CORS */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "access.h"
#include "cors.h"
#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SECRET "fuzz-secret-0123456789abcdef0123"

/* The input as text: a tokens file, a query string, a header value. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned needs[] = { RIGHT_READ, RIGHT_WRITE, RIGHT_DELETE,
					  RIGHT_READ | RIGHT_WRITE };
	char *text = malloc(size + 1), errbuf[256];
	struct access a;
	struct query q;
	struct r2err err;
	struct access_grant grant;
	unsigned char md5[16];
	size_t i;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	memset(&a, 0, sizeof(a));
	(void)access_parse_tokens(&a, text, errbuf, sizeof(errbuf));
	access_free(&a);

	memset(&a, 0, sizeof(a));
	a.secret = SECRET;
	if (access_parse_tokens(&a, "tok-a-0123456789abcdef rw a/\n", errbuf, sizeof(errbuf)) < 0)
		abort();
	if (query_parse(text, &q, &err) == 0) {
		for (i = 0; i < sizeof(needs) / sizeof(needs[0]); i++) {
			struct access_request r = { .authorization = text, .query = &q,
						    .key = "a/k", .key_len = 3,
						    .key_is_prefix = (i & 1) != 0, .host = text,
						    .remote_addr = text,
						    .now = 1767225000 };

			/* A grant carries a right asked for; a refusal is a 401 or 403. */
			if (access_check(&a, &r, needs[i], &grant, &err) == 0) {
				if ((grant.rights & needs[i]) == 0)
					abort();
			} else if (err.status != 401 && err.status != 403) {
				abort();
			}
		}
		query_free(&q);
	}
	access_free(&a);

	(void)http_content_md5_parse(text, md5);
	(void)cors_origin_allowed(text, "https://a.example");
	(void)cors_origin_allowed("https://a.example, *", text);
	(void)cors_headers_allowed(text);
	(void)access_key_has_dot_segment(text, size);
	free(text);
	return 0;
}
