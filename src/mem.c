/* SPDX-License-Identifier: MIT */
/* mem.c: memory that grows within a bound -- arrays of records, and byte buffers */
#include "mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define GROW_FIRST 16

int mem_grow(void *array_ptr, size_t *cap, size_t need, size_t size, size_t max)
{
	size_t n = *cap ? *cap : GROW_FIRST;
	void *array, *grown;

	if (need <= *cap)
		return 0;
	if (need > max || size == 0 || max > SIZE_MAX / size)
		return -1;
	while (n < need)
		n = n > max / 2 ? max : 2 * n;
	if (n > max)
		n = max;
	/* The T * is read and written as bytes: a T * is not a void * to the compiler. */
	memcpy(&array, array_ptr, sizeof(array));
	grown = realloc(array, n * size);
	if (grown == NULL)
		return -1;
	memcpy(array_ptr, &grown, sizeof(grown));
	*cap = n;
	return 0;
}

int buf_append(struct buf *b, const void *data, size_t len)
{
	/* Room for the NUL too: the bound is on the bytes, not the allocation. */
	if (len > b->max - b->len || MEM_GROW(b->data, &b->cap, b->len + len + 1, b->max + 1) < 0)
		return -1;
	if (len > 0)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

void buf_free(struct buf *b)
{
	if (b == NULL)
		return;
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
