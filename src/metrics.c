/* SPDX-License-Identifier: MIT */
/* metrics.c: the pool's counters in a shared mapping, updated with atomic adds, and their Prometheus text */
#include "metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "action.h"

#define ACTIONS_MAX 16                         /* action.h's, and "other" last */
#define STATUS_FIRST 100
#define STATUSES 500                           /* 100..599 */
#define SLOTS 1024                             /* processes with a part in flight at once */

_Static_assert(ACTIONS < ACTIONS_MAX, "the file's layout has room for the actions");

/* The store error codes counted by name; any other is "other" (the last). */
static const char *const store_codes[] = {
	"NoSuchKey", "NoSuchUpload", "InvalidPart", "InvalidPartOrder", "EntityTooSmall",
	"EntityTooLarge", "BadDigest", "InvalidDigest", "PreconditionFailed", "InvalidRange",
	"TooManyUploads", "InsufficientStorage", "StoreError", "StoreUnreachable",
	"StoreTimeout", "StoreBusy", "StoreUnavailable", "StoreAuthFailed",
	"StoreDigestMismatch", "StoreMisconfigured", "InternalError", "other",
};
#define CODES (sizeof(store_codes) / sizeof(store_codes[0]))

static const char *const op_names[METRICS_STORE_OPS] = {
	[METRICS_OP_CREATE] = "create", [METRICS_OP_UPLOAD_PART] = "upload_part",
	[METRICS_OP_COMPLETE] = "complete", [METRICS_OP_ABORT] = "abort",
	[METRICS_OP_GET] = "get", [METRICS_OP_DELETE] = "delete",
	[METRICS_OP_LIST_PARTS] = "list_parts", [METRICS_OP_LIST_UPLOADS] = "list_uploads",
	[METRICS_OP_PROBE] = "probe",
};

/* Upper bounds of the latency buckets, microseconds; +Inf is the count. */
static const uint64_t bucket_usec[] = {
	1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000, 30000000, 60000000,
};
#define BUCKETS (sizeof(bucket_usec) / sizeof(bucket_usec[0]))

/* The file's layout: every field a counter that starts at zero. */
struct metrics_shared {
	uint64_t magic;
	uint64_t requests[ACTIONS_MAX][STATUSES];
	uint64_t bytes_in, bytes_out;
	uint64_t store_errors[METRICS_STORE_OPS][CODES];
	uint64_t store_bucket[METRICS_STORE_OPS][BUCKETS];   /* not cumulative: one each */
	uint64_t store_count[METRICS_STORE_OPS];
	uint64_t store_usec[METRICS_STORE_OPS];
	struct {
		uint64_t owner;          /* 0: free; else owner_of() the holder, one word so
					  * that one compare-and-swap takes or frees it */
		uint64_t parts;          /* in flight in that process */
	} slots[SLOTS];
};

static struct metrics_shared *m;     /* NULL: not open, or R2MPU_METRICS=0 */
static bool m_shared;                /* a file every process of the pool maps */
static uint64_t layout_magic;        /* layout_hash(), once */
static size_t my_slot = SLOTS;       /* this process's slot while a part is in flight */

static void add(uint64_t *counter, uint64_t n)
{
	__atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

static uint64_t get(const uint64_t *counter)
{
	return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

static uint64_t fnv1a(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

/*
 * The file's magic: a hash of everything its layout depends on (the names
 * and order of actions, codes and operations, the buckets, the sizes), so a
 * file another version laid out differently is refused, never misread.
 */
static uint64_t layout_hash(void)
{
	uint64_t h = 0xcbf29ce484222325ULL, sizes[] = { sizeof(struct metrics_shared), SLOTS,
						       ACTIONS, STATUSES, CODES, BUCKETS };
	int i;

	for (i = 0; i < ACTIONS; i++)
		h = fnv1a(h, action_name(i), strlen(action_name(i)) + 1);
	for (i = 0; i < (int)CODES; i++)
		h = fnv1a(h, store_codes[i], strlen(store_codes[i]) + 1);
	for (i = 0; i < METRICS_STORE_OPS; i++)
		h = fnv1a(h, op_names[i], strlen(op_names[i]) + 1);
	h = fnv1a(h, bucket_usec, sizeof(bucket_usec));
	h = fnv1a(h, sizes, sizeof(sizes));
	return h | 1;     /* never 0: 0 is a new file's */
}

void metrics_default_path(const struct config *cfg, unsigned uid, char *out, size_t outlen)
{
	const char *const fields[] = { cfg->store, cfg->fs_root, cfg->s3_endpoint,
				       cfg->r2_account_id, cfg->s3_bucket, cfg->mount };
	uint64_t h = 0xcbf29ce484222325ULL;      /* FNV-1a: a name, not a secret */
	size_t i;

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		h = fnv1a(h, fields[i], strlen(fields[i]) + 1);   /* each with its NUL */
	snprintf(out, outlen, "/dev/shm/r2mpu-metrics-v1-%u-%016" PRIx64, uid, h);
}

/* The file mapped, or NULL with why. */
static struct metrics_shared *map_file(const char *path, char *why, size_t whylen)
{
	struct metrics_shared *p = NULL;
	struct stat st;
	uint64_t expected = 0;
	int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0) {
		snprintf(why, whylen, "cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077) != 0) {
		snprintf(why, whylen, "%s is not a regular file of this user's that only it "
			 "can read", path);
		goto out;
	}
	if (st.st_size != 0 && (uint64_t)st.st_size != sizeof(*p)) {
		snprintf(why, whylen, "%s is %jd bytes, not this version's %zu: another "
			 "r2mpu's? remove it", path, (intmax_t)st.st_size, sizeof(*p));
		goto out;
	}
	/*
	 * Allocated, not sparse: a full /dev/shm fails here, not as SIGBUS in a
	 * request. (Done by every opener: it is no-op once done.) Then the size
	 * again, as it must be now, and one name only.
	 */
	if ((errno = posix_fallocate(fd, 0, sizeof(*p))) != 0) {
		snprintf(why, whylen, "cannot size %s: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) < 0 || (uint64_t)st.st_size != sizeof(*p) || st.st_nlink != 1) {
		snprintf(why, whylen, "%s changed while it was opened, or has another name", path);
		goto out;
	}
	p = mmap(NULL, sizeof(*p), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		snprintf(why, whylen, "cannot map %s: %s", path, strerror(errno));
		p = NULL;
		goto out;
	}
	if (!__atomic_compare_exchange_n(&p->magic, &expected, layout_magic, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE) &&
	    expected != layout_magic) {
		snprintf(why, whylen, "%s is not r2mpu's metrics of this version: remove it",
			 path);
		munmap(p, sizeof(*p));
		p = NULL;
	}
out:
	close(fd);
	return p;
}

int metrics_open(const struct config *cfg, char *where, size_t wlen)
{
	char path[CONFIG_STRING_MAX + 64], why[CONFIG_STRING_MAX + 160];

	metrics_close();
	if (layout_magic == 0)
		layout_magic = layout_hash();
	if (cfg->metrics_file[0] != '\0')
		snprintf(path, sizeof(path), "%s", cfg->metrics_file);
	else
		metrics_default_path(cfg, (unsigned)geteuid(), path, sizeof(path));
	m = map_file(path, why, sizeof(why));
	if (m != NULL) {
		m_shared = true;
		snprintf(where, wlen, "%s", path);
		return 0;
	}
	/* Shared still with the workers a standalone master forks from here on. */
	m = mmap(NULL, sizeof(*m), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		m = NULL;
	else
		m->magic = layout_magic;
	m_shared = false;
	snprintf(where, wlen, "this process's own (%s)", why);
	return 1;
}

void metrics_close(void)
{
	if (m != NULL)
		munmap(m, sizeof(*m));
	m = NULL;
	my_slot = SLOTS;
}

void metrics_count_request(int action, int status, uint64_t bytes_in, uint64_t bytes_out)
{
	if (m == NULL || status < STATUS_FIRST || status >= STATUS_FIRST + STATUSES)
		return;
	if (action < 0 || action >= ACTIONS)
		action = ACTIONS;          /* other */
	add(&m->requests[action][status - STATUS_FIRST], 1);
	add(&m->bytes_in, bytes_in);
	add(&m->bytes_out, bytes_out);
}

void metrics_count_store(enum metrics_store_op op, uint64_t usec, const char *err_code)
{
	size_t i;

	if (m == NULL || (unsigned)op >= METRICS_STORE_OPS)
		return;
	for (i = 0; i < BUCKETS && usec > bucket_usec[i]; i++)
		continue;
	if (i < BUCKETS)
		add(&m->store_bucket[op][i], 1);
	add(&m->store_count[op], 1);
	add(&m->store_usec[op], usec);
	if (err_code == NULL)
		return;
	for (i = 0; i < CODES - 1 && strcmp(store_codes[i], err_code) != 0; i++)
		continue;
	add(&m->store_errors[op][i], 1);
}

/* A process's start time, in clock ticks since boot (/proc/PID/stat, field 22); 0: unknown. */
static uint64_t started_at(pid_t pid)
{
	char path[64], text[1024], *p;
	unsigned long long t = 0;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	text[n] = '\0';
	p = strrchr(text, ')');           /* the name may hold spaces and parentheses */
	for (field = 2; p != NULL && field < 22; field++)
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p + 1, "%llu", &t) != 1)
		return 0;
	return t;
}

/*
 * A slot's owner in one word: the pid (Linux's are below 2^22) and its
 * start time (42 bits of clock ticks), so that a reused pid is not taken
 * for the process that held the slot.
 */
#define PID_BITS 22
#define PID_MASK ((1ULL << PID_BITS) - 1)

static uint64_t owner_of(pid_t pid)
{
	return (started_at(pid) << PID_BITS) | ((uint64_t)pid & PID_MASK);
}

static bool owner_alive(uint64_t owner)
{
	pid_t pid = (pid_t)(owner & PID_MASK);
	uint64_t started = owner >> PID_BITS, now;

	if (owner == 0 || (kill(pid, 0) < 0 && errno != EPERM))
		return false;
	now = started_at(pid);
	return started == 0 || now == 0 || ((now << PID_BITS) >> PID_BITS) == started;
}

static uint64_t my_owner;             /* owner_of(getpid()), for my_owner_pid */
static pid_t my_owner_pid;

void metrics_part_begin(void)
{
	uint64_t seen;
	pid_t me;
	size_t i;

	if (m == NULL)
		return;
	if (my_slot < SLOTS && my_owner_pid != getpid())
		my_slot = SLOTS;         /* a fork's: the slot is its parent's */
	if (my_slot < SLOTS) {           /* a part already in flight here */
		add(&m->slots[my_slot].parts, 1);
		return;
	}
	me = getpid();
	if (my_owner_pid != me) {        /* first part here (or a fork's) */
		my_owner = owner_of(me);
		my_owner_pid = me;
	}
	for (i = 0; i < SLOTS; i++) {
		seen = __atomic_load_n(&m->slots[i].owner, __ATOMIC_ACQUIRE);
		if ((seen == 0 || !owner_alive(seen)) &&
		    __atomic_compare_exchange_n(&m->slots[i].owner, &seen, my_owner, false,
						__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			__atomic_store_n(&m->slots[i].parts, 1, __ATOMIC_RELEASE);
			my_slot = i;
			return;
		}
	}
	/* Every slot held by a live process: this part goes uncounted. */
}

void metrics_part_end(void)
{
	uint64_t mine = my_owner;

	if (m == NULL || my_slot >= SLOTS)
		return;
	if (__atomic_sub_fetch(&m->slots[my_slot].parts, 1, __ATOMIC_ACQ_REL) == 0) {
		/* Free again; only if still ours (it is: nobody takes a live holder's slot). */
		__atomic_compare_exchange_n(&m->slots[my_slot].owner, &mine, 0, false,
					    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
		my_slot = SLOTS;
	}
}

static int appendf(struct buf *out, const char *fmt, ...) __attribute__((format(__printf__, 2, 3)));
static int appendf(struct buf *out, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line))
		return -1;
	return buf_append(out, line, (size_t)n);
}

static int render_requests(struct buf *out)
{
	int a, s;
	uint64_t v;

	if (appendf(out, "# HELP r2mpu_requests_total Requests answered, by action and "
		    "status.\n# TYPE r2mpu_requests_total counter\n") < 0)
		return -1;
	for (a = 0; a <= ACTIONS; a++)
		for (s = 0; s < STATUSES; s++)
			if ((v = get(&m->requests[a][s])) != 0 &&
			    appendf(out, "r2mpu_requests_total{action=\"%s\",status=\"%d\"} %" PRIu64
				    "\n", a < ACTIONS ? action_name(a) : "other",
				    s + STATUS_FIRST, v) < 0)
				return -1;
	return appendf(out, "# HELP r2mpu_received_bytes_total Request body bytes read.\n"
		       "# TYPE r2mpu_received_bytes_total counter\n"
		       "r2mpu_received_bytes_total %" PRIu64 "\n"
		       "# HELP r2mpu_sent_bytes_total Response body bytes written.\n"
		       "# TYPE r2mpu_sent_bytes_total counter\n"
		       "r2mpu_sent_bytes_total %" PRIu64 "\n",
		       get(&m->bytes_in), get(&m->bytes_out));
}

static int render_store(struct buf *out)
{
	size_t op, i;
	uint64_t v, cumulative;

	if (appendf(out, "# HELP r2mpu_store_errors_total Store calls that failed, by "
		    "operation and error code.\n# TYPE r2mpu_store_errors_total counter\n") < 0)
		return -1;
	for (op = 0; op < METRICS_STORE_OPS; op++)
		for (i = 0; i < CODES; i++)
			if ((v = get(&m->store_errors[op][i])) != 0 &&
			    appendf(out, "r2mpu_store_errors_total{operation=\"%s\",code=\"%s\"} %"
				    PRIu64 "\n", op_names[op], store_codes[i], v) < 0)
				return -1;
	if (appendf(out, "# HELP r2mpu_store_latency_seconds Time of each store call (a part's "
		    "and a get's include the body's transfer).\n"
		    "# TYPE r2mpu_store_latency_seconds histogram\n") < 0)
		return -1;
	for (op = 0; op < METRICS_STORE_OPS; op++) {
		cumulative = 0;
		for (i = 0; i < BUCKETS; i++) {
			cumulative += get(&m->store_bucket[op][i]);
			if (appendf(out, "r2mpu_store_latency_seconds_bucket{operation=\"%s\","
				    "le=\"%g\"} %" PRIu64 "\n", op_names[op],
				    (double)bucket_usec[i] / 1e6, cumulative) < 0)
				return -1;
		}
		/* The count is read after the buckets: +Inf never falls below them. */
		v = get(&m->store_count[op]);
		if (v < cumulative)
			v = cumulative;
		if (appendf(out, "r2mpu_store_latency_seconds_bucket{operation=\"%s\",le=\"+Inf\"} %"
			    PRIu64 "\nr2mpu_store_latency_seconds_sum{operation=\"%s\"} %.6f\n"
			    "r2mpu_store_latency_seconds_count{operation=\"%s\"} %" PRIu64 "\n",
			    op_names[op], v, op_names[op],
			    (double)get(&m->store_usec[op]) / 1e6, op_names[op], v) < 0)
			return -1;
	}
	return 0;
}

int metrics_render(struct buf *out)
{
	uint64_t parts = 0;
	size_t i;

	if (m == NULL)
		return -1;
	for (i = 0; i < SLOTS; i++)
		if (owner_alive(__atomic_load_n(&m->slots[i].owner, __ATOMIC_ACQUIRE)))
			parts += get(&m->slots[i].parts);
	if (render_requests(out) < 0 || render_store(out) < 0)
		return -1;
	return appendf(out, "# HELP r2mpu_parts_in_flight Parts streaming now, in live "
		       "processes.\n# TYPE r2mpu_parts_in_flight gauge\n"
		       "r2mpu_parts_in_flight %" PRIu64 "\n"
		       "# HELP r2mpu_metrics_shared 1: these counts are the whole pool's (a "
		       "shared file); 0: only this process's.\n"
		       "# TYPE r2mpu_metrics_shared gauge\nr2mpu_metrics_shared %d\n",
		       parts, m_shared ? 1 : 0);
}
