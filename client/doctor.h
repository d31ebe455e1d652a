/* SPDX-License-Identifier: MIT */
/* doctor.h: what a failed step of `check` means, in words (pure, unit-tested) */
#ifndef R2MPU_CLIENT_DOCTOR_H
#define R2MPU_CLIENT_DOCTOR_H

enum check_step { STEP_CREATE = 1, STEP_PART = 2, STEP_ABORT = 4 };

/*
 * The known cause of a step's failure with this status and X-R2mpu-Error (NULL or ""
 * when the answer has none: the web server, not r2mpu, wrote it), or NULL when none
 * is known. token_sent: the request carried a bearer token. A static string.
 */
const char *check_cause(enum check_step step, long status, const char *error_code,
			int token_sent);

/* A warning when the key the gateway made looks like it holds the program's path. */
const char *check_key_warning(const char *key);

#endif
