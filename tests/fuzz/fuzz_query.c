/* SPDX-License-Identifier: MIT */
/* fuzz_query.c: libFuzzer target for query_parse() and multipart_part_number_parse() */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "multipart.h"
#include "uri.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *qs = malloc(size + 1);
	struct query q;
	struct r2err err;

	if (qs == NULL)
		return 0;
	memcpy(qs, data, size);
	qs[size] = '\0';
	if (query_parse(qs, &q, &err) == 0) {
		if (q.part_number != NULL)
			(void)multipart_part_number_parse(q.part_number);
		query_free(&q);
	} else if (err.status < 400 || err.status > 599) {
		abort();
	}
	free(qs);
	return 0;
}
