/* SPDX-License-Identifier: MIT */
/* store_open.c: opening the store the configuration names -- the one place that knows every backend */
#include "store_open.h"

#include <stdio.h>
#include <string.h>

#include "store_fs.h"
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
	size_t i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (strcmp(cfg->store, backends[i].name) == 0)
			return backends[i].open(cfg, out, errbuf, errlen);
	snprintf(errbuf, errlen, "R2MPU_STORE: unknown store \"%s\"", cfg->store);
	return -1;
}

void store_close(struct store *s)
{
	if (s != NULL && s->ops != NULL)
		s->ops->close(s->state);
	if (s != NULL)
		s->ops = NULL;      /* a second close does nothing */
}
