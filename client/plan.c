/* SPDX-License-Identifier: MIT */
/* plan.c: how a file is cut into parts, under R2's rules */
#include "plan.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static uint64_t div_up(uint64_t a, uint64_t b)
{
	return a / b + (a % b != 0);
}

int plan_make(uint64_t size, uint64_t part_size, unsigned jobs, struct plan *p,
	      char *err, unsigned errlen)
{
	memset(p, 0, sizeof(*p));
	p->size = size;
	if (size > PLAN_MAX_OBJECT) {
		snprintf(err, errlen, "%llu bytes is over R2's limit of 5 TiB for an object",
			 (unsigned long long)size);
		return -1;
	}
	if (part_size == 0) {
		/* The smallest whole number of MiB that fits in 10,000 parts... */
		uint64_t least = div_up(div_up(size, PLAN_MAX_PARTS), MiB) * MiB;
		part_size = PLAN_PREFERRED_PART;
		/* ...smaller than preferred when that gives every job a part... */
		if (jobs > 1 && size / part_size < jobs)
			part_size = div_up(div_up(size, jobs), MiB) * MiB;
		if (part_size < PLAN_MIN_PART)
			part_size = PLAN_MIN_PART;
		if (part_size < least)
			part_size = least;
	} else if (part_size < PLAN_MIN_PART || part_size > PLAN_MAX_PART) {
		snprintf(err, errlen, "a part size must be from 5 MiB to 5 GiB");
		return -1;
	}
	if (div_up(size, part_size) > PLAN_MAX_PARTS) {
		snprintf(err, errlen, "%llu bytes in parts of %llu make more than %d parts: "
			 "choose parts of at least %llu MiB",
			 (unsigned long long)size, (unsigned long long)part_size, PLAN_MAX_PARTS,
			 (unsigned long long)div_up(div_up(size, PLAN_MAX_PARTS), MiB));
		return -1;
	}
	p->part_size = part_size;
	p->parts = (uint32_t)div_up(size, part_size);
	p->last_size = p->parts ? size - (uint64_t)(p->parts - 1) * part_size : 0;
	return 0;
}

uint64_t plan_part_offset(const struct plan *p, uint32_t n)
{
	return (uint64_t)(n - 1) * p->part_size;
}

uint64_t plan_part_length(const struct plan *p, uint32_t n)
{
	return n == p->parts ? p->last_size : p->part_size;
}

int parse_size(const char *s, uint64_t *out)
{
	static const struct { const char *suffix; unsigned shift; } units[] = {
		{ "", 0 }, { "K", 10 }, { "M", 20 }, { "G", 30 }, { "T", 40 },
		{ "KiB", 10 }, { "MiB", 20 }, { "GiB", 30 }, { "TiB", 40 },
	};
	uint64_t n = 0;
	const char *c = s;

	if (!isdigit((unsigned char)*c))
		return -1;
	for (; isdigit((unsigned char)*c); c++) {
		if (n > (UINT64_MAX - 9) / 10)
			return -1;
		n = n * 10 + (uint64_t)(*c - '0');
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(c, units[i].suffix) != 0)
			continue;
		if (units[i].shift && n > (UINT64_MAX >> units[i].shift))
			return -1;
		*out = n << units[i].shift;
		return 0;
	}
	return -1;
}

void format_size(uint64_t n, char *out, unsigned outlen)
{
	static const char *const names[] = { "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	int unit = -1;

	while (v >= 1024 && unit < 3) {
		v /= 1024;
		unit++;
	}
	if (unit < 0)
		snprintf(out, outlen, "%llu B", (unsigned long long)n);
	else
		snprintf(out, outlen, v < 10 && v != (double)(uint64_t)v ? "%.1f %s" : "%.0f %s",
			 v, names[unit]);
}
