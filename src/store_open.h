/* SPDX-License-Identifier: MIT */
/* store_open.h: opening the store the configuration names -- the one place that knows every backend */
#ifndef R2MPU_STORE_OPEN_H
#define R2MPU_STORE_OPEN_H

#include <stddef.h>

#include "config.h"
#include "store.h"

/*
 * Open the store cfg->store names into *out (metered, store_metered.h, with
 * R2MPU_METRICS); errbuf gets the reason on -1.
 */
int store_open(const struct config *cfg, struct store *out, char *errbuf, size_t errlen);
void store_close(struct store *s);   /* s may be NULL or never opened */

#endif
