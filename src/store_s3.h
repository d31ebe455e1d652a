/* SPDX-License-Identifier: MIT */
/* store_s3.h: the S3 store -- R2 or any S3-compatible server */
#ifndef R2MPU_STORE_S3_H
#define R2MPU_STORE_S3_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "store.h"

/*
 * What guards a part's bytes between the client and the store; r2mpu hashes a
 * part only where nothing else does.
 */
enum part_guard {
	/* The client's Content-MD5, passed on: the store refuses a part that does
	 * not match it, and r2mpu compares the store's ETag with it too. */
	PART_GUARD_STORE_CHECKS_MD5,
	/* No digest from the client, and https to the store: TLS guards the way
	 * there, and the store's ETag is handed out as it comes. */
	PART_GUARD_TLS,
	/* r2mpu's own MD5 as the part streams, compared with the client's
	 * Content-MD5 (the end of a part that does not match is kept back) and
	 * with the store's ETag. */
	PART_GUARD_R2MPU_MD5,
};

/* Pure: the guard of a part, given whether the client sent Content-MD5, the
 * store checks it (R2MPU_S3_CHECKS_MD5), and the endpoint is https. */
enum part_guard store_s3_part_guard(bool content_md5, bool store_checks_md5, bool https);

/* Fill *out with this backend's ops and state; errbuf gets the reason on -1. */
int store_s3_open(const struct config *cfg, struct store *out, char *errbuf, size_t errlen);

#endif
