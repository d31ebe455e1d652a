/* SPDX-License-Identifier: MIT */
/* sign.h: `r2mpu.fcgi sign` -- mint a signed URL on the command line */
#ifndef R2MPU_SIGN_H
#define R2MPU_SIGN_H

#include <stddef.h>
#include <time.h>

#include "config.h"

/*
 * Parse the arguments after "sign" and write the signed URL (with a
 * newline) to out. 0 on success; -1 with a message in errbuf (usage, or a
 * configuration without R2MPU_SIGNING_SECRET). `now` is the clock.
 */
int sign_command(const struct config *cfg, int argc, char **argv, time_t now,
		 char *out, size_t outlen, char *errbuf, size_t errlen);

/* The usage text of the subcommand, a line at a time. */
void sign_usage(void (*print)(const char *line));

#endif
