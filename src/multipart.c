/* SPDX-License-Identifier: MIT */
/* multipart.c: R2's multipart rules -- the size rules of a complete, the errors both stores give */
#include "multipart.h"

#include <stdlib.h>
#include <string.h>

const char *const http_meta_header[META_NFIELDS] = {
	[META_CONTENT_TYPE] = "Content-Type",
	[META_CONTENT_DISPOSITION] = "Content-Disposition",
	[META_CONTENT_ENCODING] = "Content-Encoding",
	[META_CONTENT_LANGUAGE] = "Content-Language",
	[META_CACHE_CONTROL] = "Cache-Control",
	[META_EXPIRES] = "Expires",
};

void http_meta_free(struct http_meta *m)
{
	int i;

	if (m == NULL)
		return;
	for (i = 0; i < META_NFIELDS; i++) {
		free(m->value[i]);
		m->value[i] = NULL;
	}
}

void part_list_free(struct part_list *pl)
{
	if (pl == NULL)
		return;
	free(pl->parts);
	pl->parts = NULL;
	pl->count = 0;
}

int multipart_part_number_parse(const char *s)
{
	long v = 0;
	size_t i;

	if (s == NULL || s[0] == '\0' || strlen(s) > 5)
		return -1;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v >= 1 && v <= PART_NUMBER_MAX ? (int)v : -1;
}

int multipart_check_sizes(const struct part_list *parts, const uint64_t *sizes,
			  struct r2err *err)
{
	size_t i, last = parts->count ? parts->count - 1 : 0;
	uint64_t total = 0;

	_Static_assert(PART_NUMBER_MAX * PART_MAX_SIZE < UINT64_MAX / 2, "no overflow");
	for (i = 0; i < parts->count; i++) {
		int number = parts->parts[i].number;

		total += sizes[i];
		if (parts->max_total != 0 && total > parts->max_total)
			return r2err_set(err, 413, "EntityTooLarge",
					 "EntityTooLarge: the parts add up to more than the "
					 "%llu bytes this upload may have.",
					 (unsigned long long)parts->max_total);
		if (i < last && sizes[i] < PART_MIN_SIZE)
			return r2err_set(err, 400, "EntityTooSmall",
					 "EntityTooSmall: Your proposed upload is smaller than "
					 "the minimum allowed object size (part %d is %llu bytes; "
					 "all parts but the last must be at least 5 MiB).",
					 number, (unsigned long long)sizes[i]);
		if ((i < last && sizes[i] != sizes[0]) || (i == last && sizes[i] > sizes[0]))
			return r2err_set(err, 400, "InvalidPart",
					 "InvalidPart: Non Uniform Part Sizes: all parts but "
					 "the last must have the same size, and the last must "
					 "not be larger (part %d).", number);
	}
	return 0;
}

int multipart_no_such_upload(struct r2err *err)
{
	return r2err_set(err, 404, "NoSuchUpload",
			 "NoSuchUpload: The specified multipart upload does not exist.");
}

int multipart_invalid_part(struct r2err *err, int part_number)
{
	return r2err_set(err, 400, "InvalidPart",
			 "InvalidPart: One or more of the specified parts could not be found "
			 "or its etag does not match (part %d).", part_number);
}

int multipart_bad_digest(struct r2err *err)
{
	return r2err_set(err, 400, "BadDigest",
			 "BadDigest: The Content-MD5 you specified did not match what was "
			 "received; the part was not stored.");
}
