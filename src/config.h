/* SPDX-License-Identifier: MIT */
/* config.h: r2mpu's settings -- one table of keys, read once before the first request */
#ifndef R2MPU_CONFIG_H
#define R2MPU_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#define CONFIG_STRING_MAX 1024

struct config {
	char file[CONFIG_STRING_MAX];        /* the settings file read; "": none */
	char store[16];                      /* R2MPU_STORE: "fs" */
	char fs_root[CONFIG_STRING_MAX];     /* R2MPU_FS_ROOT */
	bool fs_fsync;                       /* R2MPU_FS_FSYNC */
	uint64_t max_part_size;              /* R2MPU_MAX_PART_SIZE, bytes */
	uint64_t upload_ttl;                 /* R2MPU_UPLOAD_TTL, seconds */
	char mount[CONFIG_STRING_MAX];       /* R2MPU_MOUNT: URL prefix above the keys */
	/* The S3 store (R2MPU_STORE=s3). */
	char s3_endpoint[CONFIG_STRING_MAX]; /* R2MPU_S3_ENDPOINT, or made from ... */
	char r2_account_id[64];              /* R2MPU_R2_ACCOUNT_ID */
	char s3_bucket[64];                  /* R2MPU_S3_BUCKET */
	char s3_region[64];                  /* R2MPU_S3_REGION */
	char s3_access_key_id[128];          /* R2MPU_S3_ACCESS_KEY_ID */
	char s3_secret_access_key[128];      /* R2MPU_S3_SECRET_ACCESS_KEY: never printed */
	char s3_secret_access_key_file[CONFIG_STRING_MAX]; /* ..._FILE: read into it */
	char s3_ca_file[CONFIG_STRING_MAX];  /* R2MPU_S3_CA_FILE: extra CA bundle, optional */
	uint64_t s3_connect_timeout;         /* R2MPU_S3_CONNECT_TIMEOUT, seconds */
	uint64_t s3_timeout;                 /* R2MPU_S3_TIMEOUT: seconds without progress */
	bool s3_checks_md5;                  /* R2MPU_S3_CHECKS_MD5: the store verifies Content-MD5 */
	/* Who may do what (access.h) and from which web pages (cors.h). */
	bool open_access;                    /* R2MPU_OPEN_ACCESS: no credentials needed */
	char tokens_file[CONFIG_STRING_MAX]; /* R2MPU_TOKENS_FILE */
	char signing_secret[256];            /* R2MPU_SIGNING_SECRET: never printed */
	char signing_secret_file[CONFIG_STRING_MAX]; /* R2MPU_SIGNING_SECRET_FILE: read into it */
	char cors_origins[CONFIG_STRING_MAX];/* R2MPU_CORS_ORIGINS */
	/* What one request may cost (a hostile client's slow body, a flood of uploads). */
	uint64_t min_rate;                   /* R2MPU_MIN_RATE: bytes/s of a body, 0: off */
	uint64_t io_timeout;                 /* R2MPU_IO_TIMEOUT: seconds of grace/silence */
	uint64_t max_pending_uploads;        /* R2MPU_MAX_PENDING_UPLOADS: per scope */
	uint64_t max_parts;                  /* R2MPU_MAX_PARTS: part numbers 1..this */
	char inline_types[CONFIG_STRING_MAX];/* R2MPU_INLINE_TYPES: documents served inline */
	char s3_proxy[CONFIG_STRING_MAX];    /* R2MPU_S3_PROXY: the store's proxy, or none */
	char log_format[8];                  /* R2MPU_LOG_FORMAT: "text" or "json" */
	bool metrics;                        /* R2MPU_METRICS: count for ?action=metrics */
	char metrics_file[CONFIG_STRING_MAX];/* R2MPU_METRICS_FILE: "" = metrics_default_path */
	char hook_create[CONFIG_STRING_MAX]; /* R2MPU_HOOK_CREATE: "" none (hooks.h) */
	char hook_complete[CONFIG_STRING_MAX];/* R2MPU_HOOK_COMPLETE: "" none */
	uint64_t hook_timeout;               /* R2MPU_HOOK_TIMEOUT, seconds */
};

/*
 * The settings file when R2MPU_CONFIG is not set: r2mpu.conf in the program's
 * directory (a copy dropped in a web folder: no environment of the user's
 * reaches mod_fcgid, and suexec drops it), else the machine's; each only if
 * it exists.
 */
#define CONFIG_BESIDE_NAME "r2mpu.conf"
#define CONFIG_DEFAULT_FILE "/etc/r2mpu/r2mpu.conf"

/* Pure: "DIR/r2mpu.conf" for a program started as "DIR/NAME"; false when the
 * name has no directory (found on PATH) or the path does not fit. */
bool config_file_beside(const char *program, char *out, size_t outlen);
/*
 * Pure: why the file beside the program may not be trusted (a static string),
 * or NULL. suexec's rule: a regular file; it and its directory owned by r2mpu's
 * user (`euid`) or root, and neither writable by group or others. Otherwise
 * whoever can write there could open access, or name a hook for r2mpu to run.
 */
const char *config_beside_untrusted(const struct stat *file, const struct stat *dir, uid_t euid);

/*
 * The settings file when R2MPU_CONFIG is not set: the one beside `program`
 * (the program's path) if it exists, else CONFIG_DEFAULT_FILE, into out. -1,
 * the reason in errbuf, when the file beside the program exists but cannot be
 * trusted (config_beside_untrusted) or examined. Called once, at start-up, as
 * the user r2mpu was started as: the choice then holds for every reload.
 */
int config_default_file(const char *program, char *out, size_t outlen, char *errbuf,
			size_t errlen);

/*
 * Fill *cfg from the defaults, then the file named by R2MPU_CONFIG (unset:
 * `default_file` if it exists, or none when NULL; set and empty: none), then
 * the environment (which wins), then the secrets named by ..._FILE settings.
 * `getenv_fn` is getenv in the program and a table lookup in tests. On error,
 * a message naming the key (and the file's line) is written to errbuf and -1
 * returned. Secrets are never copied into errbuf.
 */
int config_load(struct config *cfg, const char *(*getenv_fn)(const char *name),
		const char *default_file, char *errbuf, size_t errlen);

/*
 * The settings as documentation shows them: i = 0 is R2MPU_CONFIG (the file),
 * then each key of the table in its order; false past the last. --help
 * (config_print_keys) and the man page r2mpu.conf(5) (man/mkman.c) are both
 * made from it, so they cannot differ. The strings are static.
 */
struct config_key_doc {
	const char *name;
	const char *def;        /* "" when the default is empty */
	const char *help;
};
bool config_key_doc(size_t i, struct config_key_doc *doc);

/* Print every setting, its default and its meaning (for --help). */
void config_print_keys(void (*print)(const char *line));

/* Pure parsers, exposed for the unit tests. Each returns -1 on bad input. */
int config_parse_size(const char *s, uint64_t *out);      /* "5368709120", "64M", "5G", "1KiB" */
int config_parse_duration(const char *s, uint64_t *out);  /* "3600", "90s", "15m", "2h", "7d" */
int config_parse_bool(const char *s, bool *out);          /* 1/0, true/false, yes/no, on/off */

#endif
