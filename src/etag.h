/* SPDX-License-Identifier: MIT */
/* etag.h: R2's ETags -- the MD5 of a part, and the multipart "md5-of-md5s-N" */
#ifndef R2MPU_ETAG_H
#define R2MPU_ETAG_H

#include <stddef.h>

#include "digest.h"

#define ETAG_MAX 64   /* "<32 hex>-10000" and its NUL fit easily */

/* The plain ETag of one body: hex MD5. */
void etag_from_md5(const unsigned char md5[MD5_LEN], char out[ETAG_MAX]);

/*
 * The multipart ETag: hex MD5 of the concatenated binary part MD5s, then
 * "-N". With no parts it is the MD5 of the empty body (a 0-byte object, as
 * a plain PUT would give). Returns -1 when OpenSSL fails.
 */
int etag_multipart(const unsigned char (*part_md5s)[MD5_LEN], size_t n,
		   char out[ETAG_MAX]);

/*
 * Compare a client's etag with ours: surrounding double quotes on the
 * client's are ignored, hex case too. Our etag is lower case, unquoted.
 */
int etag_equal(const char *theirs, const char *ours);

#endif
