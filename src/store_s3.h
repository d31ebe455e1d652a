/* SPDX-License-Identifier: MIT */
/* store_s3.h: the S3 store -- R2 or any S3-compatible server */
#ifndef R2MPU_STORE_S3_H
#define R2MPU_STORE_S3_H

#include <stddef.h>

#include "config.h"
#include "store.h"

/* Fill *out with this backend's ops and state; errbuf gets the reason on -1. */
int store_s3_open(const struct config *cfg, struct store *out, char *errbuf, size_t errlen);

#endif
