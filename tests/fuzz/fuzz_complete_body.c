/* SPDX-License-Identifier: MIT */
/* fuzz_complete_body.c: libFuzzer target for complete_body_parse() */
#include <stdint.h>
#include <stdlib.h>

#include "complete_body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct part_list pl;
	struct r2err err;
	size_t i;

	if (complete_body_parse((const char *)data, size, &pl, &err) == 0) {
		/* What is accepted is in order and in range. */
		for (i = 0; i < pl.count; i++)
			if (pl.parts[i].number < 1 || pl.parts[i].number > 10000 ||
			    (i > 0 && pl.parts[i].number <= pl.parts[i - 1].number))
				abort();
		part_list_free(&pl);
	} else if (err.status != 400 && err.status != 413 && err.status != 500) {
		abort();
	}
	return 0;
}
