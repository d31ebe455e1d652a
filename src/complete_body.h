/* SPDX-License-Identifier: MIT */
/* complete_body.h: the mpu-complete JSON body, {"parts":[{"partNumber":N,"etag":E},...]} */
#ifndef R2MPU_COMPLETE_BODY_H
#define R2MPU_COMPLETE_BODY_H

#include <stddef.h>
#include <stdint.h>

#include "errors.h"
#include "multipart.h"

#define COMPLETE_BODY_MAX (1024 * 1024)   /* bytes; a larger body is 413 */

/*
 * Parse and check a complete body of `len` bytes (not NUL-terminated).
 * 400 when it is not one JSON object with a "parts" array of objects each
 * having an integer partNumber 1..10000 and a string etag, or when the part
 * numbers are not strictly increasing (InvalidPartOrder). Members other than
 * these are ignored. An empty array is valid (a 0-byte object).
 * On success the caller frees with part_list_free().
 */
int complete_body_parse(const char *body, size_t len, struct part_list *out,
			struct r2err *err);

#endif
