/* SPDX-License-Identifier: MIT */
/* stream.h: a request body as a stream of bytes, handed from the connection to a store */
#ifndef R2MPU_STREAM_H
#define R2MPU_STREAM_H

#include <stdint.h>
#include <sys/types.h>

/*
 * A request body flowing into a store. read() fills up to len bytes and
 * returns how many, 0 at the end, -1 on error. The store must read exactly
 * `length` bytes: fewer means the client went away, and nothing is stored.
 */
struct byte_source {
	ssize_t (*read)(void *ctx, char *buf, size_t len);
	void *ctx;
	uint64_t length;
};

/* The chunk size bodies flow through, both ways. */
#define STREAM_CHUNK (256 * 1024)

#endif
