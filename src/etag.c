/* SPDX-License-Identifier: MIT */
/* etag.c: R2's ETags -- the MD5 of a part, and the multipart "md5-of-md5s-N" */
#include "etag.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

void etag_from_md5(const unsigned char md5[MD5_LEN], char out[ETAG_MAX])
{
	hex_encode(md5, MD5_LEN, out);
}

int etag_multipart(const unsigned char (*part_md5s)[MD5_LEN], size_t n,
		   char out[ETAG_MAX])
{
	unsigned char digest[MD5_LEN];
	struct md5 m;
	size_t i;

	if (md5_init(&m) < 0)
		return -1;
	for (i = 0; i < n; i++)
		md5_update(&m, part_md5s[i], MD5_LEN);
	md5_final(&m, digest);
	etag_from_md5(digest, out);
	if (n > 0)
		snprintf(out + 2 * MD5_LEN, ETAG_MAX - 2 * MD5_LEN, "-%zu", n);
	return 0;
}

int etag_equal(const char *theirs, const char *ours)
{
	size_t tlen = strlen(theirs), olen = strlen(ours);

	if (tlen >= 2 && theirs[0] == '"' && theirs[tlen - 1] == '"') {
		theirs++;
		tlen -= 2;
	}
	return tlen == olen && strncasecmp(theirs, ours, olen) == 0;
}
