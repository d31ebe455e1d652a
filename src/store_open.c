/* SPDX-License-Identifier: MIT */
/* store_open.c: opening the store the configuration names -- the one place that knows every backend */
#include "store_open.h"

#include <stdio.h>
#include <string.h>

#include "store_fs.h"
#include "store_metered.h"
#include "store_s3.h"

static const struct {
	const char *name;   /* R2MPU_STORE */
	int (*open)(const struct config *cfg, struct store *out, char *errbuf, size_t errlen);
} backends[] = {
	{ "fs", store_fs_open },
	{ "s3", store_s3_open },
};

int store_open(const struct config *cfg, struct store *out, char *errbuf, size_t errlen)
{
	size_t i, n = sizeof(backends) / sizeof(backends[0]);

	memset(out, 0, sizeof(*out));
	for (i = 0; i < n && strcmp(cfg->store, backends[i].name) != 0; i++)
		continue;
	if (i == n) {
		snprintf(errbuf, errlen, "R2MPU_STORE: unknown store \"%s\"", cfg->store);
		return -1;
	}
	if (backends[i].open(cfg, out, errbuf, errlen) < 0)
		return -1;
	if (cfg->metrics && store_metered_wrap(out, errbuf, errlen) < 0) {
		store_close(out);
		return -1;
	}
	return 0;
}

void store_close(struct store *s)
{
	if (s != NULL && s->ops != NULL)
		s->ops->close(s->state);
	if (s != NULL)
		s->ops = NULL;      /* a second close does nothing */
}
