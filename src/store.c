/* SPDX-License-Identifier: MIT */
/* store.c: what both store backends share -- listings of uploads in progress, their order and pages */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void upload_list_free(struct upload_info *u, size_t count)
{
	size_t i;

	for (i = 0; u != NULL && i < count; i++) {
		free(u[i].key);
		free(u[i].upload_id);
	}
	free(u);
}

int upload_info_cmp(const struct upload_info *x, const struct upload_info *y)
{
	int c = strcmp(x->key, y->key);

	if (c != 0)
		return c;
	if (x->initiated != y->initiated)
		return x->initiated < y->initiated ? -1 : 1;
	return strcmp(x->upload_id, y->upload_id);
}

/*
 * Where e's key stands to the page's key marker, in both orders: 1 after it
 * (or no marker), -1 before it, 0 the marker's own key (the id decides).
 */
static int after_key_marker(const struct upload_info *e, const struct upload_page *page)
{
	int c;

	if (page->key_marker == NULL)
		return 1;
	c = strcmp(e->key, page->key_marker);
	return c > 0 ? 1 : c < 0 ? -1 : 0;
}

bool upload_after_marker(const struct upload_info *e, const struct upload_page *page,
			 const struct upload_info *marker)
{
	int k = after_key_marker(e, page);

	if (k != 0)
		return k > 0;
	if (page->upload_id_marker == NULL)
		return false;
	if (marker != NULL)
		return upload_info_cmp(e, marker) > 0;
	return strcmp(e->upload_id, page->upload_id_marker) != 0;
}

static int by_key_then_time(const void *a, const void *b)
{
	return upload_info_cmp(a, b);
}

void upload_list_free_tail(struct upload_info *u, size_t from, size_t count)
{
	size_t i;

	for (i = from; i < count; i++) {
		free(u[i].key);
		free(u[i].upload_id);
		u[i].key = u[i].upload_id = NULL;
	}
}

void upload_list_sort(struct upload_info *u, size_t count)
{
	if (count > 1)
		qsort(u, count, sizeof(*u), by_key_then_time);
}

static int by_key_then_id(const void *a, const void *b)
{
	const struct upload_info *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c != 0 ? c : strcmp(x->upload_id, y->upload_id);
}

void upload_list_sort_by_id(struct upload_info *u, size_t count)
{
	if (count > 1)
		qsort(u, count, sizeof(*u), by_key_then_id);
}

bool upload_after_id_marker(const struct upload_info *e, const struct upload_page *page)
{
	int k = after_key_marker(e, page);

	if (k != 0)
		return k > 0;
	return page->upload_id_marker != NULL && strcmp(e->upload_id, page->upload_id_marker) > 0;
}
