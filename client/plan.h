/* SPDX-License-Identifier: MIT */
/* plan.h: how a file is cut into parts, under R2's rules (pure, unit-tested) */
#ifndef R2MPU_CLIENT_PLAN_H
#define R2MPU_CLIENT_PLAN_H

#include <stdint.h>

#define MiB (1024ULL * 1024)
#define PLAN_MIN_PART (5 * MiB)          /* R2 and S3: every part but the last */
#define PLAN_MAX_PART (5120 * MiB)       /* 5 GiB */
#define PLAN_MAX_PARTS 10000
#define PLAN_MAX_OBJECT (5ULL * 1024 * 1024 * MiB)   /* R2's 5 TiB */
/* The part size the client prefers when nothing forces a larger one: large enough that a
 * part's request overhead (and the gateway's fsync per part) is small against its bytes. */
#define PLAN_PREFERRED_PART (16 * MiB)
/* Input of unknown size (a pipe): the part size unless --part-size says otherwise. Each
 * part in flight is spooled to a file of this size; 10,000 of them make 156 GiB. */
#define PLAN_STREAM_PART (16 * MiB)

struct plan {
	uint64_t size;        /* the object's size */
	uint64_t part_size;   /* every part but the last */
	uint32_t parts;       /* 0 for an empty object */
	uint64_t last_size;   /* the last part's size (== part_size when it divides evenly) */
};

/*
 * The plan for an object of `size` bytes sent `jobs` parts at a time. With part_size 0
 * the size is chosen: the preferred size, or smaller (down to 5 MiB) so that every job
 * has a part, or larger (whole MiB) so that there are at most 10,000 parts. A given
 * part_size is kept as it is. Returns 0, or -1 with a message in err when no plan can
 * follow the rules (too large, a part size outside 5 MiB..5 GiB).
 */
int plan_make(uint64_t size, uint64_t part_size, unsigned jobs, struct plan *p,
	      char *err, unsigned errlen);

/* Part n's (1-based) offset and length under p. */
uint64_t plan_part_offset(const struct plan *p, uint32_t n);
uint64_t plan_part_length(const struct plan *p, uint32_t n);

/*
 * "16M", "5MiB", "1G", "1048576": a byte count with an optional binary suffix
 * (K, M, G, T, with or without "iB"). Returns 0, or -1 for anything else (a sign,
 * a fraction, an overflow).
 */
int parse_size(const char *s, uint64_t *out);

/* "16 MiB", "1.5 GiB", "512 B": a size for people, in out (at least 16 bytes). */
void format_size(uint64_t n, char *out, unsigned outlen);

#endif
