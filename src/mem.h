/* SPDX-License-Identifier: MIT */
/* mem.h: memory that grows within a bound -- arrays of records, and byte buffers */
#ifndef R2MPU_MEM_H
#define R2MPU_MEM_H

#include <stddef.h>

/*
 * Make room for `need` elements in the array `arr` (a `T *` variable, NULL
 * at first), whose capacity is *cap elements: the capacity doubles from 16
 * until it holds `need`, never beyond `max` elements. 0, or -1 when need >
 * max, max elements would not fit in a size_t, or memory runs out; on -1
 * the array and *cap are unchanged (still the caller's).
 */
#define MEM_GROW(arr, cap, need, max) mem_grow(&(arr), (cap), (need), sizeof(*(arr)), (max))

/* What MEM_GROW calls: array_ptr is the address of a `T *`, size is sizeof(T). */
int mem_grow(void *array_ptr, size_t *cap, size_t need, size_t size, size_t max);

/*
 * Bytes appended to a buffer of at most `max` bytes, kept NUL-terminated
 * (data is NULL until the first append). Zero-initialise with the bound:
 * struct buf b = { .max = N };
 */
struct buf {
	char *data;     /* owned; free with buf_free() */
	size_t len;
	size_t cap;
	size_t max;
};
/* -1 when the buffer would hold more than max bytes or memory runs out (b unchanged). */
int buf_append(struct buf *b, const void *data, size_t len);
void buf_free(struct buf *b);   /* b may be NULL; leaves it empty, max kept */

#endif
