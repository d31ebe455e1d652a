/* SPDX-License-Identifier: MIT */
/* test_config.c: unit tests for config.c -- size/duration/bool parsers, defaults, file, environment */
#include "check_main.h"
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

#define OPT(s) ((s) != NULL ? (s) : "(null)")

#define GIB (1ULL << 30)
#define SECRET_32 "0123456789abcdef0123456789abcdef"

/* ---- config_parse_size ------------------------------------------------- */

static const struct u64_row {
	const char *in;
	int rc;
	uint64_t value;
} size_rows[] = {
	{ "0", 0, 0 },
	{ "1", 0, 1 },
	{ "5368709120", 0, 5 * GIB },
	{ "1K", 0, 1024 },
	{ "1KiB", 0, 1024 },
	{ "64M", 0, 64ULL << 20 },
	{ "3MiB", 0, 3145728 },
	{ "5G", 0, 5368709120ULL },
	{ "2GiB", 0, 2147483648ULL },
	{ "1T", 0, 1099511627776ULL },
	{ "1TiB", 0, 1099511627776ULL },
	{ "0G", 0, 0 },
	{ "007M", 0, 7ULL << 20 },
	{ "18446744073709551615", 0, UINT64_MAX },
	{ "17179869183G", 0, 18446744072635809792ULL },
	{ "16777215T", 0, 18446742974197923840ULL },
	{ "", -1, 0 },
	{ NULL, -1, 0 },
	{ "-1", -1, 0 },
	{ "+1", -1, 0 },
	{ " 1", -1, 0 },
	{ "1 ", -1, 0 },
	{ "5X", -1, 0 },
	{ "G", -1, 0 },
	{ "5 G", -1, 0 },
	{ "5GB", -1, 0 },
	{ "5Gi", -1, 0 },
	{ "1.5G", -1, 0 },
	{ "0x10", -1, 0 },
	{ "18446744073709551616", -1, 0 },
	{ "99999999999999999999", -1, 0 },
	{ "17179869184G", -1, 0 },
	{ "16777216T", -1, 0 },
	{ "18014398509481984K", -1, 0 },
};

/* One row of a parser table: rc, the value, and *out untouched on error. */
static void check_u64_row(const struct u64_row *r, int (*parse)(const char *, uint64_t *),
			  const char *name)
{
	uint64_t out = 777;
	int rc = parse(r->in, &out);

	ck_assert_msg(rc == r->rc, "%s(\"%s\") rc %d, expected %d", name, OPT(r->in), rc, r->rc);
	if (r->rc == 0)
		ck_assert_msg(out == r->value, "%s(\"%s\") = %" PRIu64 ", expected %" PRIu64,
			      name, OPT(r->in), out, r->value);
	else
		ck_assert_msg(out == 777, "%s(\"%s\") wrote %" PRIu64 " on error", name,
			      OPT(r->in), out);
}

START_TEST(test_parse_size)
{
	check_u64_row(&size_rows[_i], config_parse_size, "config_parse_size");
}
END_TEST

/* ---- config_parse_duration --------------------------------------------- */

static const struct u64_row duration_rows[] = {
	{ "0", 0, 0 },
	{ "3600", 0, 3600 },
	{ "90s", 0, 90 },
	{ "15m", 0, 900 },
	{ "2h", 0, 7200 },
	{ "1d", 0, 86400 },
	{ "7d", 0, 604800 },
	{ "0d", 0, 0 },
	{ "18446744073709551615", 0, UINT64_MAX },
	{ "18446744073709551615s", 0, UINT64_MAX },
	{ "307445734561825860m", 0, 18446744073709551600ULL },
	{ "213503982334601d", 0, 18446744073709526400ULL },
	{ "", -1, 0 },
	{ NULL, -1, 0 },
	{ "-1", -1, 0 },
	{ "+1", -1, 0 },
	{ " 1", -1, 0 },
	{ "1 ", -1, 0 },
	{ "1w", -1, 0 },
	{ "1 h", -1, 0 },
	{ "h", -1, 0 },
	{ "1H", -1, 0 },
	{ "1.5h", -1, 0 },
	{ "1hm", -1, 0 },
	{ "1ms", -1, 0 },
	{ "99999999999999999999", -1, 0 },
	{ "307445734561825861m", -1, 0 },
	{ "213503982334602d", -1, 0 },
};

START_TEST(test_parse_duration)
{
	check_u64_row(&duration_rows[_i], config_parse_duration, "config_parse_duration");
}
END_TEST

/* ---- config_parse_bool ------------------------------------------------- */

static const struct bool_row {
	const char *in;
	int rc;
	bool value;
} bool_rows[] = {
	{ "1", 0, true }, { "true", 0, true }, { "yes", 0, true }, { "on", 0, true },
	{ "TRUE", 0, true }, { "Yes", 0, true }, { "ON", 0, true },
	{ "0", 0, false }, { "false", 0, false }, { "no", 0, false }, { "off", 0, false },
	{ "FALSE", 0, false }, { "No", 0, false }, { "Off", 0, false },
	{ "", -1, false }, { NULL, -1, false }, { "2", -1, false }, { "10", -1, false },
	{ "y", -1, false }, { "n", -1, false }, { "t", -1, false }, { "truee", -1, false },
	{ " 1", -1, false }, { "1 ", -1, false }, { "enabled", -1, false },
};

START_TEST(test_parse_bool)
{
	const struct bool_row *r = &bool_rows[_i];
	bool out = !r->value;   /* so that a missing write is seen */
	int rc = config_parse_bool(r->in, &out);

	ck_assert_msg(rc == r->rc, "config_parse_bool(\"%s\") rc %d, expected %d", OPT(r->in),
		      rc, r->rc);
	if (r->rc == 0)
		ck_assert_msg(out == r->value, "config_parse_bool(\"%s\") = %d, expected %d",
			      OPT(r->in), out, r->value);
}
END_TEST

/* ---- config_load ------------------------------------------------------- */

/* A path with CONFIG_STRING_MAX - 1 bytes (fits) and one with CONFIG_STRING_MAX (does not). */
#define X16 "xxxxxxxxxxxxxxxx"
#define X256 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16
#define ROOT_1023 "/" X256 X256 X256 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 \
	X16 "xxxxxxxxxxxxxx"
#define ROOT_1024 ROOT_1023 "x"
_Static_assert(sizeof(ROOT_1023) == CONFIG_STRING_MAX, "ROOT_1023 is 1023 bytes");

struct env_var {
	const char *name;
	const char *value;
};

/* The environment config_load sees: the current row, plus R2MPU_CONFIG when it has a file. */
static const struct env_var *fake_env;
static const char *fake_config_path;

static const char *fake_getenv(const char *name)
{
	const struct env_var *e;

	for (e = fake_env; e != NULL && e->name != NULL; e++)
		if (strcmp(e->name, name) == 0)
			return e->value;
	if (fake_config_path != NULL && strcmp(name, "R2MPU_CONFIG") == 0)
		return fake_config_path;
	return NULL;
}

struct cfg_expect {
	const char *store;
	const char *fs_root;
	bool fs_fsync;
	uint64_t max_part_size;
	uint64_t upload_ttl;
	const char *mount;
};

#define DEFAULTS { "fs", "/var/lib/r2mpu", true, 5 * GIB, 604800, "" }

#define FILE_SAMPLE \
	"# r2mpu test configuration\n" \
	"\n" \
	"   \n" \
	"  R2MPU_FS_ROOT = /srv/from-file  \n" \
	"R2MPU_UPLOAD_TTL=2h\n" \
	"\t# an indented comment\n" \
	"R2MPU_FS_FSYNC\t=\tfalse\n" \
	"R2MPU_MOUNT= /m\n"

static const struct load_row {
	const char *name;
	struct env_var env[8];   /* terminated by a NULL name */
	const char *file;        /* R2MPU_CONFIG's contents, or NULL for no file */
	int rc;
	struct cfg_expect want;  /* when rc is 0 */
	const char *err[2];      /* when rc is -1: substrings errbuf must contain */
} load_rows[] = {
	{ "defaults", { { NULL, NULL } }, NULL, 0, DEFAULTS, { NULL, NULL } },
	{ "empty R2MPU_CONFIG is no file", { { "R2MPU_CONFIG", "" } }, NULL, 0, DEFAULTS,
	  { NULL, NULL } },
	{ "environment overrides",
	  { { "R2MPU_STORE", "fs" }, { "R2MPU_FS_ROOT", "/srv/r2" }, { "R2MPU_FS_FSYNC", "off" },
	    { "R2MPU_MAX_PART_SIZE", "64M" }, { "R2MPU_UPLOAD_TTL", "2h" },
	    { "R2MPU_MOUNT", "/files" } },
	  NULL, 0, { "fs", "/srv/r2", false, 64ULL << 20, 7200, "/files" }, { NULL, NULL } },
	{ "5G is the limit", { { "R2MPU_MAX_PART_SIZE", "5G" }, { "R2MPU_FS_FSYNC", "YES" } },
	  NULL, 0, DEFAULTS, { NULL, NULL } },
	{ "1 byte parts, 1 s TTL",
	  { { "R2MPU_MAX_PART_SIZE", "1" }, { "R2MPU_UPLOAD_TTL", "1" } },
	  NULL, 0, { "fs", "/var/lib/r2mpu", true, 1, 1, "" }, { NULL, NULL } },
	{ "longest fs_root", { { "R2MPU_FS_ROOT", ROOT_1023 } }, NULL, 0,
	  { "fs", ROOT_1023, true, 5 * GIB, 604800, "" }, { NULL, NULL } },
	{ "nested mount", { { "R2MPU_MOUNT", "/a/b" } }, NULL, 0,
	  { "fs", "/var/lib/r2mpu", true, 5 * GIB, 604800, "/a/b" }, { NULL, NULL } },

	{ "bad size", { { "R2MPU_MAX_PART_SIZE", "lots" } }, NULL, -1, DEFAULTS,
	  { "R2MPU_MAX_PART_SIZE", "lots" } },
	{ "6G > 5G", { { "R2MPU_MAX_PART_SIZE", "6G" } }, NULL, -1, DEFAULTS,
	  { "R2MPU_MAX_PART_SIZE", NULL } },
	{ "5G + 1", { { "R2MPU_MAX_PART_SIZE", "5368709121" } }, NULL, -1, DEFAULTS,
	  { "R2MPU_MAX_PART_SIZE", NULL } },
	{ "0 byte parts", { { "R2MPU_MAX_PART_SIZE", "0" } }, NULL, -1, DEFAULTS,
	  { "R2MPU_MAX_PART_SIZE", NULL } },
	{ "TTL 0", { { "R2MPU_UPLOAD_TTL", "0" } }, NULL, -1, DEFAULTS,
	  { "R2MPU_UPLOAD_TTL", NULL } },
	{ "TTL 1w", { { "R2MPU_UPLOAD_TTL", "1w" } }, NULL, -1, DEFAULTS,
	  { "R2MPU_UPLOAD_TTL", NULL } },
	{ "bad bool", { { "R2MPU_FS_FSYNC", "maybe" } }, NULL, -1, DEFAULTS,
	  { "R2MPU_FS_FSYNC", NULL } },
	{ "mount files", { { "R2MPU_MOUNT", "files" } }, NULL, -1, DEFAULTS,
	  { "R2MPU_MOUNT", NULL } },
	{ "mount /files/", { { "R2MPU_MOUNT", "/files/" } }, NULL, -1, DEFAULTS,
	  { "R2MPU_MOUNT", NULL } },
	{ "mount / is the root", { { "R2MPU_MOUNT", "/" } }, NULL, 0,
	  { "fs", "/var/lib/r2mpu", true, 5 * GIB, 604800, "/" }, { NULL, NULL } },
	{ "mount //", { { "R2MPU_MOUNT", "//" } }, NULL, -1, DEFAULTS, { "R2MPU_MOUNT", NULL } },
	{ "store s4", { { "R2MPU_STORE", "s4" } }, NULL, -1, DEFAULTS, { "R2MPU_STORE", "s4" } },
	{ "store empty", { { "R2MPU_STORE", "" } }, NULL, -1, DEFAULTS, { "R2MPU_STORE", NULL } },
	{ "store too long", { { "R2MPU_STORE", "fsfsfsfsfsfsfsfs" } }, NULL, -1, DEFAULTS,
	  { "R2MPU_STORE", NULL } },
	{ "fs_root empty", { { "R2MPU_FS_ROOT", "" } }, NULL, -1, DEFAULTS,
	  { "R2MPU_FS_ROOT", NULL } },
	{ "fs_root too long", { { "R2MPU_FS_ROOT", ROOT_1024 } }, NULL, -1, DEFAULTS,
	  { "R2MPU_FS_ROOT", NULL } },

	{ "file applied", { { NULL, NULL } }, FILE_SAMPLE, 0,
	  { "fs", "/srv/from-file", false, 5 * GIB, 7200, "/m" }, { NULL, NULL } },
	{ "environment wins over file",
	  { { "R2MPU_UPLOAD_TTL", "30m" }, { "R2MPU_FS_ROOT", "/env" } }, FILE_SAMPLE, 0,
	  { "fs", "/env", false, 5 * GIB, 1800, "/m" }, { NULL, NULL } },
	{ "empty file", { { NULL, NULL } }, "", 0, DEFAULTS, { NULL, NULL } },
	{ "no final newline", { { NULL, NULL } }, "R2MPU_MAX_PART_SIZE=1M", 0,
	  { "fs", "/var/lib/r2mpu", true, 1ULL << 20, 604800, "" }, { NULL, NULL } },
	{ "CRLF lines", { { NULL, NULL } }, "# c\r\nR2MPU_UPLOAD_TTL=1h\r\n\r\n", 0,
	  { "fs", "/var/lib/r2mpu", true, 5 * GIB, 3600, "" }, { NULL, NULL } },
	{ "'=' in a value", { { NULL, NULL } }, "R2MPU_FS_ROOT=/a=b\n", 0,
	  { "fs", "/a=b", true, 5 * GIB, 604800, "" }, { NULL, NULL } },
	{ "later line wins", { { NULL, NULL } }, "R2MPU_UPLOAD_TTL=1h\nR2MPU_UPLOAD_TTL=2h\n", 0,
	  { "fs", "/var/lib/r2mpu", true, 5 * GIB, 7200, "" }, { NULL, NULL } },
	{ "unknown key in file", { { NULL, NULL } }, "# c\n\nR2MPU_NOPE=1\n", -1, DEFAULTS,
	  { "line 3", "R2MPU_NOPE" } },
	{ "key case matters", { { NULL, NULL } }, "r2mpu_fs_root=/x\n", -1, DEFAULTS,
	  { "line 1", "r2mpu_fs_root" } },
	{ "line without '='", { { NULL, NULL } }, "R2MPU_FS_ROOT=/x\nR2MPU_FS_FSYNC\n", -1,
	  DEFAULTS, { "line 2", NULL } },
	{ "bad value in file", { { NULL, NULL } }, "\nR2MPU_UPLOAD_TTL=soon\n", -1, DEFAULTS,
	  { "R2MPU_UPLOAD_TTL", "line 2" } },
	{ "file error not masked by environment", { { "R2MPU_UPLOAD_TTL", "1h" } },
	  "R2MPU_UPLOAD_TTL=soon\n", -1, DEFAULTS, { "R2MPU_UPLOAD_TTL", "line 1" } },
	{ "file value validated", { { NULL, NULL } }, "R2MPU_MOUNT=/files/\n", -1, DEFAULTS,
	  { "R2MPU_MOUNT", NULL } },
	{ "missing file", { { "R2MPU_CONFIG", "/nonexistent/r2mpu-test.conf" } }, NULL, -1,
	  DEFAULTS, { "R2MPU_CONFIG", "/nonexistent/r2mpu-test.conf" } },
	/* What the format does not do is refused, with the line, for every kind of value. */
	{ "inline comment on a path", { { NULL, NULL } }, "\nR2MPU_FS_ROOT=/srv/x   # where\n",
	  -1, DEFAULTS, { "line 2", "not a comment" } },
	{ "inline comment on a size", { { NULL, NULL } }, "R2MPU_MAX_PART_SIZE=1M\t#big\n",
	  -1, DEFAULTS, { "line 1", "R2MPU_MAX_PART_SIZE" } },
	{ "double quotes", { { NULL, NULL } }, "R2MPU_FS_ROOT=\"/x\"\n", -1, DEFAULTS,
	  { "line 1", "quotes" } },
	{ "single quotes on a switch", { { NULL, NULL } }, "R2MPU_FS_FSYNC='no'\n", -1,
	  DEFAULTS, { "line 1", "quotes" } },
	{ "# inside a value", { { NULL, NULL } }, "R2MPU_FS_ROOT=/srv/a#b\n", 0,
	  { "fs", "/srv/a#b", true, 5 * GIB, 604800, "" }, { NULL, NULL } },
	{ "quote inside a value", { { NULL, NULL } }, "R2MPU_FS_ROOT=/srv/it's\n", 0,
	  { "fs", "/srv/it's", true, 5 * GIB, 604800, "" }, { NULL, NULL } },
};

/* Write `contents` to a new temporary file; the caller unlinks and frees the path. */
static char *write_temp_file(const char *contents)
{
	const char *dir = getenv("TMPDIR");
	size_t len = strlen(contents);
	char *path;
	FILE *f;
	int fd;

	if (dir == NULL || dir[0] == '\0')
		dir = "/tmp";
	ck_assert_int_ge(asprintf(&path, "%s/r2mpu-test-config-XXXXXX", dir), 0);
	fd = mkstemp(path);
	ck_assert_msg(fd >= 0, "mkstemp(%s) failed", path);
	f = fdopen(fd, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(contents, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

START_TEST(test_config_load)
{
	const struct load_row *r = &load_rows[_i];
	struct config cfg;
	char errbuf[256] = "";
	char *path = NULL;
	int rc, k;

	if (r->file != NULL)
		path = write_temp_file(r->file);
	fake_env = r->env;
	fake_config_path = path;
	memset(&cfg, 0xa5, sizeof(cfg));
	rc = config_load(&cfg, fake_getenv, NULL, errbuf, sizeof(errbuf));
	fake_env = NULL;
	fake_config_path = NULL;
	if (path != NULL) {
		unlink(path);
		free(path);
	}

	if (r->rc == 0) {
		const struct cfg_expect *w = &r->want;

		ck_assert_msg(rc == 0, "config_load(%s): rc %d: %s", r->name, rc, errbuf);
		ck_assert_msg(strcmp(cfg.store, w->store) == 0,
			      "config_load(%s): store \"%s\", expected \"%s\"", r->name,
			      cfg.store, w->store);
		ck_assert_msg(strcmp(cfg.fs_root, w->fs_root) == 0,
			      "config_load(%s): fs_root \"%.64s\", expected \"%.64s\"", r->name,
			      cfg.fs_root, w->fs_root);
		ck_assert_msg(cfg.fs_fsync == w->fs_fsync,
			      "config_load(%s): fs_fsync %d, expected %d", r->name, cfg.fs_fsync,
			      w->fs_fsync);
		ck_assert_msg(cfg.max_part_size == w->max_part_size,
			      "config_load(%s): max_part_size %" PRIu64 ", expected %" PRIu64,
			      r->name, cfg.max_part_size, w->max_part_size);
		ck_assert_msg(cfg.upload_ttl == w->upload_ttl,
			      "config_load(%s): upload_ttl %" PRIu64 ", expected %" PRIu64,
			      r->name, cfg.upload_ttl, w->upload_ttl);
		ck_assert_msg(strcmp(cfg.mount, w->mount) == 0,
			      "config_load(%s): mount \"%s\", expected \"%s\"", r->name,
			      cfg.mount, w->mount);
		return;
	}
	ck_assert_msg(rc == -1, "config_load(%s): rc %d, expected -1", r->name, rc);
	ck_assert_msg(memchr(errbuf, '\0', sizeof(errbuf)) != NULL && errbuf[0] != '\0',
		      "config_load(%s): no error message", r->name);
	for (k = 0; k < 2; k++)
		if (r->err[k] != NULL)
			ck_assert_msg(strstr(errbuf, r->err[k]) != NULL,
				      "config_load(%s): error \"%s\" does not mention \"%s\"",
				      r->name, errbuf, r->err[k]);
}
END_TEST

/* A short errbuf gets a truncated, NUL-terminated prefix of the message. */
START_TEST(test_config_load_short_errbuf)
{
	static const struct env_var env[] = { { "R2MPU_STORE", "s4" }, { NULL, NULL } };
	struct config cfg;
	char full[256], small[10];
	int rc_full, rc_small;

	fake_env = env;
	rc_full = config_load(&cfg, fake_getenv, NULL, full, sizeof(full));
	memset(small, 'Z', sizeof(small));
	rc_small = config_load(&cfg, fake_getenv, NULL, small, sizeof(small));
	fake_env = NULL;

	ck_assert_int_eq(rc_full, -1);
	ck_assert_int_eq(rc_small, -1);
	ck_assert_msg(strlen(small) == sizeof(small) - 1 &&
		      strncmp(small, full, sizeof(small) - 1) == 0,
		      "short errbuf holds \"%.*s\", expected a prefix of \"%s\"",
		      (int)sizeof(small), small, full);
}
END_TEST

/* ---- the S3 store's keys (R2MPU_STORE=s3) -------------------------------------- */

/* fake_getenv answers with a name's first row: rows that set a key again use the second. */
#define S3_KEYS_BUT_BUCKET { "R2MPU_STORE", "s3" }, { "R2MPU_S3_ACCESS_KEY_ID", "AKID" }, \
	{ "R2MPU_S3_SECRET_ACCESS_KEY", "SECRET-do-not-print" }
#define S3_OK_KEYS S3_KEYS_BUT_BUCKET, { "R2MPU_S3_BUCKET", "my-bucket" }

static const struct s3_row {
	const char *name;
	struct env_var env[8];
	const char *endpoint;    /* rc 0: the endpoint after loading */
	const char *err;         /* rc -1: errbuf contains this */
} s3_rows[] = {
	{ "endpoint", { S3_OK_KEYS, { "R2MPU_S3_ENDPOINT", "http://127.0.0.1:9000" } },
	  "http://127.0.0.1:9000", NULL },
	{ "trailing slash dropped", { S3_OK_KEYS, { "R2MPU_S3_ENDPOINT", "https://s3.example/" } },
	  "https://s3.example", NULL },
	{ "R2 account id", { S3_OK_KEYS, { "R2MPU_R2_ACCOUNT_ID", "0123abcdef" } },
	  "https://0123abcdef.r2.cloudflarestorage.com", NULL },
	{ "both endpoint and account", { S3_OK_KEYS, { "R2MPU_R2_ACCOUNT_ID", "abc" },
	  { "R2MPU_S3_ENDPOINT", "https://x" } }, NULL, "not both" },
	{ "bad account id", { S3_OK_KEYS, { "R2MPU_R2_ACCOUNT_ID", "abc/../x" } }, NULL,
	  "R2MPU_R2_ACCOUNT_ID" },
	{ "no endpoint", { S3_OK_KEYS }, NULL, "R2MPU_S3_ENDPOINT" },
	{ "ftp endpoint", { S3_OK_KEYS, { "R2MPU_S3_ENDPOINT", "ftp://x" } }, NULL,
	  "R2MPU_S3_ENDPOINT" },
	{ "endpoint with a path", { S3_OK_KEYS, { "R2MPU_S3_ENDPOINT", "https://x/bucket" } }, NULL,
	  "R2MPU_S3_ENDPOINT" },
	{ "endpoint with a user", { S3_OK_KEYS, { "R2MPU_S3_ENDPOINT", "https://u@x" } }, NULL,
	  "R2MPU_S3_ENDPOINT" },
	{ "bucket too short", { S3_KEYS_BUT_BUCKET, { "R2MPU_S3_ENDPOINT", "https://x" },
	  { "R2MPU_S3_BUCKET", "ab" } }, NULL, "R2MPU_S3_BUCKET" },
	{ "bucket upper case", { S3_KEYS_BUT_BUCKET, { "R2MPU_S3_ENDPOINT", "https://x" },
	  { "R2MPU_S3_BUCKET", "MyBucket" } }, NULL, "R2MPU_S3_BUCKET" },
	{ "no secret", { { "R2MPU_STORE", "s3" }, { "R2MPU_S3_BUCKET", "bkt" },
	  { "R2MPU_S3_ACCESS_KEY_ID", "AKID" }, { "R2MPU_S3_ENDPOINT", "https://x" } }, NULL,
	  "R2MPU_S3_SECRET_ACCESS_KEY" },
	{ "bad region", { S3_OK_KEYS, { "R2MPU_S3_ENDPOINT", "https://x" },
	  { "R2MPU_S3_REGION", "us east" } }, NULL, "R2MPU_S3_REGION" },
	{ "zero timeout", { S3_OK_KEYS, { "R2MPU_S3_ENDPOINT", "https://x" },
	  { "R2MPU_S3_TIMEOUT", "0" } }, NULL, "R2MPU_S3_TIMEOUT" },
};

START_TEST(test_config_s3)
{
	const struct s3_row *r = &s3_rows[_i];
	struct config cfg;
	char errbuf[256] = "";
	int rc;

	fake_env = r->env;
	rc = config_load(&cfg, fake_getenv, NULL, errbuf, sizeof(errbuf));
	fake_env = NULL;
	if (r->endpoint != NULL) {
		ck_assert_msg(rc == 0, "%s: %s", r->name, errbuf);
		ck_assert_str_eq(cfg.s3_endpoint, r->endpoint);
		ck_assert_str_eq(cfg.s3_region, "auto");           /* R2's, by default */
		ck_assert_int_eq(cfg.s3_connect_timeout, 10);
		ck_assert_int_eq(cfg.s3_timeout, 60);
	} else {
		ck_assert_msg(rc == -1, "%s: accepted", r->name);
		ck_assert_msg(strstr(errbuf, r->err) != NULL, "%s: \"%s\" lacks \"%s\"", r->name,
			      errbuf, r->err);
	}
	/* The secret never appears in a message. */
	ck_assert_msg(strstr(errbuf, "SECRET-do-not-print") == NULL, "%s: %s", r->name, errbuf);
}
END_TEST

/*
 * The settings file's and the secret files' modes: what others may do with
 * them. Each row writes the file (mkstemp: 0600), chmods it, then loads.
 */
static const struct mode_row {
	const char *name;
	const char *file;            /* R2MPU_CONFIG's contents */
	mode_t mode;
	const char *secret_file;     /* a secret file's contents, or NULL */
	mode_t secret_mode;
	const char *secret_key;      /* the _FILE key naming it (in the environment) */
	const char *err;             /* NULL: loads, and the secret is secret_want */
	const char *secret_want;
} mode_rows[] = {
	{ "readable file, no secret", "R2MPU_UPLOAD_TTL=1h\n", 0644, NULL, 0, NULL, NULL, "" },
	{ "world-writable file", "R2MPU_UPLOAD_TTL=1h\n", 0602, NULL, 0, NULL,
	  "others may write", "" },
	{ "readable file with a secret",
	  "R2MPU_SIGNING_SECRET=" SECRET_32 "\n", 0644, NULL, 0, NULL,
	  "sets R2MPU_SIGNING_SECRET and others may read it", "" },
	{ "group-readable file with a secret",
	  "R2MPU_SIGNING_SECRET=" SECRET_32 "\n", 0640, NULL, 0, NULL, NULL, SECRET_32 },
	{ "readable file, the secret empty", "R2MPU_SIGNING_SECRET=\n", 0644, NULL, 0, NULL,
	  NULL, "" },
	{ "secret from a file", "", 0644, SECRET_32 "\n", 0400, "R2MPU_SIGNING_SECRET_FILE",
	  NULL, SECRET_32 },
	{ "secret file without a newline", "", 0644, SECRET_32, 0640,
	  "R2MPU_SIGNING_SECRET_FILE", NULL, SECRET_32 },
	{ "secret file, CRLF", "", 0644, SECRET_32 "\r\n", 0600, "R2MPU_SIGNING_SECRET_FILE",
	  NULL, SECRET_32 },
	{ "secret file others may read", "", 0644, SECRET_32 "\n", 0644,
	  "R2MPU_SIGNING_SECRET_FILE", "others may not read", "" },
	{ "secret file of two lines", "", 0644, SECRET_32 "\nmore\n", 0600,
	  "R2MPU_SIGNING_SECRET_FILE", "one line", "" },
	{ "secret file empty", "", 0644, "\n", 0600, "R2MPU_SIGNING_SECRET_FILE", "one line", "" },
	{ "secret and its file", "R2MPU_SIGNING_SECRET=" SECRET_32 "\n", 0600, SECRET_32, 0600,
	  "R2MPU_SIGNING_SECRET_FILE", "not both", "" },
	{ "S3 secret from a file",
	  "R2MPU_STORE=s3\nR2MPU_S3_ENDPOINT=https://x\nR2MPU_S3_BUCKET=bkt\n"
	  "R2MPU_S3_ACCESS_KEY_ID=AKID\n", 0644, "s3-secret\n", 0600,
	  "R2MPU_S3_SECRET_ACCESS_KEY_FILE", NULL, "" },
};

START_TEST(test_config_modes)
{
	const struct mode_row *r = &mode_rows[_i];
	struct env_var env[2] = { { NULL, NULL }, { NULL, NULL } };
	char *path = write_temp_file(r->file), *secret_path = NULL;
	char errbuf[256] = "";
	struct config cfg;
	int rc;

	ck_assert_int_eq(chmod(path, r->mode), 0);
	if (r->secret_file != NULL) {
		secret_path = write_temp_file(r->secret_file);
		ck_assert_int_eq(chmod(secret_path, r->secret_mode), 0);
		env[0].name = r->secret_key;
		env[0].value = secret_path;
	}
	fake_env = env;
	fake_config_path = path;
	rc = config_load(&cfg, fake_getenv, NULL, errbuf, sizeof(errbuf));
	fake_env = NULL;
	fake_config_path = NULL;
	unlink(path);
	free(path);
	if (secret_path != NULL) {
		unlink(secret_path);
		free(secret_path);
	}
	if (r->err == NULL) {
		ck_assert_msg(rc == 0, "%s: %s", r->name, errbuf);
		ck_assert_str_eq(cfg.signing_secret, r->secret_want);
		if (strcmp(r->secret_key ? r->secret_key : "", "R2MPU_S3_SECRET_ACCESS_KEY_FILE") == 0)
			ck_assert_str_eq(cfg.s3_secret_access_key, "s3-secret");
	} else {
		ck_assert_msg(rc == -1, "%s: accepted", r->name);
		ck_assert_msg(strstr(errbuf, r->err) != NULL, "%s: \"%s\" lacks \"%s\"", r->name,
			      errbuf, r->err);
	}
	ck_assert_msg(strstr(errbuf, SECRET_32) == NULL, "%s: the secret in \"%s\"", r->name,
		      errbuf);
}
END_TEST

/* R2MPU_CONFIG unset: the default file when it exists; set and empty: no file. */
START_TEST(test_config_default_file)
{
	static const struct env_var none[] = { { NULL, NULL } };
	static const struct env_var empty[] = { { "R2MPU_CONFIG", "" }, { NULL, NULL } };
	char *path = write_temp_file("R2MPU_UPLOAD_TTL=1h\n");
	char errbuf[256] = "";
	struct config cfg;

	fake_env = none;
	ck_assert_int_eq(config_load(&cfg, fake_getenv, path, errbuf, sizeof(errbuf)), 0);
	ck_assert_int_eq(cfg.upload_ttl, 3600);
	ck_assert_int_eq(config_load(&cfg, fake_getenv, "/nonexistent/r2mpu.conf", errbuf,
					  sizeof(errbuf)), 0);
	ck_assert_int_eq(cfg.upload_ttl, 604800);
	fake_env = empty;
	ck_assert_int_eq(config_load(&cfg, fake_getenv, path, errbuf, sizeof(errbuf)), 0);
	ck_assert_int_eq(cfg.upload_ttl, 604800);
	fake_env = NULL;
	unlink(path);
	free(path);
}
END_TEST

/* ---- the settings file beside the program ----------------------------- */

static const struct beside_row {
	const char *program;
	const char *expected;   /* NULL: none */
} beside_rows[] = {
	{ "/home/alice/public_html/upload/r2mpu.fcgi", "/home/alice/public_html/upload/r2mpu.conf" },
	{ "/r2mpu.fcgi", "/r2mpu.conf" },                   /* a chroot's top */
	{ "./r2mpu-static.fcgi", "./r2mpu.conf" },          /* a shell in the folder */
	{ "cgi-bin/r2mpu.fcgi", "cgi-bin/r2mpu.conf" },
	{ "/usr/lib/cgi-bin/r2mpu.conf.d/x", "/usr/lib/cgi-bin/r2mpu.conf.d/r2mpu.conf" },
	{ "r2mpu", NULL },                                  /* found on PATH: no directory */
	{ "", NULL },
	{ NULL, NULL },                                     /* no argv[0] at all */
	{ ROOT_1023 "/r2mpu.fcgi", NULL },                  /* does not fit */
};

START_TEST(test_config_file_beside)
{
	const struct beside_row *r = &beside_rows[_i];
	char out[CONFIG_STRING_MAX];
	bool found;

	memset(out, 'X', sizeof(out));
	found = config_file_beside(r->program, out, sizeof(out));
	if (r->expected == NULL)
		ck_assert_msg(!found, "config_file_beside(\"%.40s\") = \"%.40s\", expected none",
			      r->program ? r->program : "(null)", out);
	else
		ck_assert_msg(found && strcmp(out, r->expected) == 0,
			      "config_file_beside(\"%s\") = %s \"%s\", expected \"%s\"", r->program,
			      found ? "found" : "none", found ? out : "", r->expected);
}
END_TEST

/* Whose file beside the program is trusted: suexec's rule, as a table. */
#define ME 1000
static const struct trust_row {
	const char *what;
	mode_t file_mode, dir_mode;
	uid_t file_uid, dir_uid;
	bool trusted;
} trust_rows[] = {
	{ "mine, 600 in a 755 folder of mine", S_IFREG | 0600, S_IFDIR | 0755, ME, ME, true },
	{ "root's, in root's folder", S_IFREG | 0644, S_IFDIR | 0755, 0, 0, true },
	{ "mine, readable by all (no secret in it)", S_IFREG | 0644, S_IFDIR | 0711, ME, ME, true },
	{ "another user's file", S_IFREG | 0600, S_IFDIR | 0755, 1001, ME, false },
	{ "mine in another user's folder", S_IFREG | 0600, S_IFDIR | 0755, ME, 1001, false },
	{ "group may write the file", S_IFREG | 0620, S_IFDIR | 0755, ME, ME, false },
	{ "others may write the file", S_IFREG | 0602, S_IFDIR | 0755, ME, ME, false },
	{ "a 777 upload folder", S_IFREG | 0600, S_IFDIR | 0777, ME, ME, false },
	{ "a sticky /tmp-like folder", S_IFREG | 0600, S_IFDIR | 01777, ME, 0, false },
	{ "a group-writable folder", S_IFREG | 0600, S_IFDIR | 0775, ME, ME, false },
	{ "a directory named r2mpu.conf", S_IFDIR | 0700, S_IFDIR | 0755, ME, ME, false },
	{ "a FIFO", S_IFIFO | 0600, S_IFDIR | 0755, ME, ME, false },
};

START_TEST(test_config_beside_trust)
{
	const struct trust_row *r = &trust_rows[_i];
	struct stat file = { 0 }, dir = { 0 };
	const char *why;

	file.st_mode = r->file_mode;
	file.st_uid = r->file_uid;
	dir.st_mode = r->dir_mode;
	dir.st_uid = r->dir_uid;
	why = config_beside_untrusted(&file, &dir, ME);
	ck_assert_msg((why == NULL) == r->trusted, "%s: %s", r->what,
		      why ? why : "trusted, expected refused");
}
END_TEST

/* config_load: the file beside the program is read; R2MPU_CONFIG still wins over it. */
START_TEST(test_config_load_beside)
{
	static const struct env_var none[] = { { NULL, NULL } };
	char dir[] = "/tmp/r2mpu-beside-XXXXXX", program[64], conf[64], path[64], errbuf[256] = "";
	char chosen[CONFIG_STRING_MAX];
	char *other = write_temp_file("R2MPU_UPLOAD_TTL=2h\n");
	const struct env_var named[] = { { "R2MPU_CONFIG", other }, { NULL, NULL } };
	struct config cfg;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(program, sizeof(program), "%s/r2mpu.fcgi", dir);
	snprintf(conf, sizeof(conf), "%s/r2mpu.conf", dir);
	f = fopen(conf, "w");
	ck_assert_ptr_nonnull(f);
	fputs("R2MPU_UPLOAD_TTL=1h\nR2MPU_FS_ROOT=data\nR2MPU_TOKENS_FILE=private/tokens\n"
	      "R2MPU_S3_CA_FILE=/etc/ca.pem\nR2MPU_MOUNT=/up\n", f);
	ck_assert_int_eq(fclose(f), 0);

	fake_env = none;
	ck_assert_msg(config_default_file(program, chosen, sizeof(chosen), errbuf,
					  sizeof(errbuf)) == 0, "%s", errbuf);
	ck_assert_str_eq(chosen, conf);
	ck_assert_msg(config_load(&cfg, fake_getenv, chosen, errbuf, sizeof(errbuf)) == 0, "%s",
		      errbuf);
	ck_assert_int_eq(cfg.upload_ttl, 3600);
	ck_assert_str_eq(cfg.file, conf);
	/* Paths in the file are the folder's: relative ones from the file's directory. */
	snprintf(path, sizeof(path), "%s/data", dir);
	ck_assert_str_eq(cfg.fs_root, path);
	snprintf(path, sizeof(path), "%s/private/tokens", dir);
	ck_assert_str_eq(cfg.tokens_file, path);
	ck_assert_str_eq(cfg.s3_ca_file, "/etc/ca.pem");
	ck_assert_str_eq(cfg.mount, "/up");   /* not a path of a file */
	fake_env = named;
	ck_assert_msg(config_load(&cfg, fake_getenv, chosen, errbuf, sizeof(errbuf)) == 0, "%s",
		      errbuf);
	ck_assert_int_eq(cfg.upload_ttl, 7200);
	fake_env = none;
	/* None beside the program: the machine's. */
	ck_assert_int_eq(config_default_file("/nonexistent/r2mpu.fcgi", chosen, sizeof(chosen),
					     errbuf, sizeof(errbuf)), 0);
	ck_assert_str_eq(chosen, CONFIG_DEFAULT_FILE);
	/* One others may write: refused, not read, and not passed over for /etc's. */
	ck_assert_int_eq(chmod(conf, 0666), 0);
	ck_assert_int_eq(config_default_file(program, chosen, sizeof(chosen), errbuf,
					     sizeof(errbuf)), -1);
	ck_assert_msg(strstr(errbuf, "others may write it") != NULL, "%s", errbuf);
	fake_env = NULL;
	unlink(conf);
	rmdir(dir);
	unlink(other);
	free(other);
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc;

	tc = tcase_create("parsers");
	tcase_add_loop_test(tc, test_parse_size, 0, NROWS(size_rows));
	tcase_add_loop_test(tc, test_parse_duration, 0, NROWS(duration_rows));
	tcase_add_loop_test(tc, test_parse_bool, 0, NROWS(bool_rows));
	suite_add_tcase(s, tc);

	tc = tcase_create("config_load");
	tcase_add_loop_test(tc, test_config_s3, 0, NROWS(s3_rows));
	tcase_add_loop_test(tc, test_config_load, 0, NROWS(load_rows));
	tcase_add_test(tc, test_config_load_short_errbuf);
	tcase_add_loop_test(tc, test_config_modes, 0, NROWS(mode_rows));
	tcase_add_test(tc, test_config_default_file);
	tcase_add_loop_test(tc, test_config_file_beside, 0, NROWS(beside_rows));
	tcase_add_test(tc, test_config_load_beside);
	tcase_add_loop_test(tc, test_config_beside_trust, 0, NROWS(trust_rows));
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(config_suite)
