/* SPDX-License-Identifier: MIT */
/* errors.c: filling error values and writing the server log */
#include "errors.h"

#include <stdio.h>

int r2err_set(struct r2err *err, int status, const char *code,
	      const char *fmt, ...)
{
	va_list ap;

	err->status = status;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return -1;
}

int r2err_out_of_memory(struct r2err *err)
{
	return r2err_set(err, 500, "InternalError", "Out of memory");
}
