/* SPDX-License-Identifier: MIT */
/* store_fs.h: the file store -- a local directory, with R2's rules and ETags */
#ifndef R2MPU_STORE_FS_H
#define R2MPU_STORE_FS_H

#include <stddef.h>

#include "config.h"
#include "store.h"

/* Fill *out with this backend's ops and state; errbuf gets the reason on -1. */
int store_fs_open(const struct config *cfg, struct store *out, char *errbuf, size_t errlen);

#endif
