/* SPDX-License-Identifier: MIT */
/* errors.c: filling error values and writing the server log */
#include "errors.h"

#include <stdio.h>
#include <unistd.h>

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

void log_error(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	/* One write() per line, so lines from many processes do not interleave. */
	n = snprintf(line, sizeof(line), "r2mpu[%ld]: ", (long)getpid());
	if (n < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	/* Client text may be in the line: no control byte may forge another line. */
	for (n = 0; line[n] != '\0'; n++)
		if ((unsigned char)line[n] < 0x20 || line[n] == 0x7f)
			line[n] = '?';
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) < 0) {
		/* Nowhere left to report it. */
	}
}
