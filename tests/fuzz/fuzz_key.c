/* SPDX-License-Identifier: MIT */
/* fuzz_key.c: libFuzzer target for uri_key_from_request() (REQUEST_URI, mount) and uri_key_validate() */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "uri.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *uri = malloc(size + 1), *key = NULL;
	size_t key_len;
	struct r2err err;

	if (uri == NULL)
		return 0;
	memcpy(uri, data, size);
	uri[size] = '\0';
	/* Whatever comes in, a key that comes out is "" (for the router) or valid. */
	if (uri_key_from_request(uri, "", NULL, NULL, &key, &key_len, &err) == 0) {
		if (key_len != strlen(key) || key_len > KEY_MAX_BYTES ||
		    (key_len > 0 && uri_key_validate(key, key_len, &err) < 0))
			abort();
		free(key);
	}
	if (uri_key_from_request(uri, "/cgi-bin/r2mpu.fcgi", "/x", "/files", &key, &key_len, &err) == 0)
		free(key);
	free(uri);
	return 0;
}
