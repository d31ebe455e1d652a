/* SPDX-License-Identifier: MIT */
/* fuzz_range.c: libFuzzer target for http_range_parse(), the entity-tag lists and Content-Length */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t sizes[] = { 0, 1, 1000, UINT64_MAX };
	char *hdr = malloc(size + 1);
	uint64_t first, length;
	int64_t cl;
	size_t i;

	if (hdr == NULL)
		return 0;
	memcpy(hdr, data, size);
	hdr[size] = '\0';
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		/* A range that is OK lies inside the object. */
		if (http_range_parse(hdr, sizes[i], &first, &length) == RANGE_OK &&
		    (length == 0 || first >= sizes[i] || length > sizes[i] - first))
			abort();
	}
	(void)http_etag_list_matches(hdr, "abc", true);
	(void)http_preconditions(hdr, hdr, "abc-2");
	(void)http_if_range_allows(hdr, "abc");
	if (http_content_length_parse(hdr, &cl) == 0 && cl < 0)
		abort();
	free(hdr);
	return 0;
}
