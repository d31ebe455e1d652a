/* SPDX-License-Identifier: MIT */
/* store_metered.h: a store that times and counts every call of the store it wraps (metrics.h) */
#ifndef R2MPU_STORE_METERED_H
#define R2MPU_STORE_METERED_H

#include <stddef.h>

#include "store.h"

/*
 * Wrap *s: from now on each call goes to the store it was, timed, its
 * failure counted by code, and an upload_part counted as in flight while it
 * runs. The wrapper owns the inner store: store_close closes both. -1 (s
 * unchanged, still the caller's) when memory runs out.
 */
int store_metered_wrap(struct store *s, char *errbuf, size_t errlen);

#endif
