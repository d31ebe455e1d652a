/* SPDX-License-Identifier: MIT */
/* config.c: r2mpu's settings -- one table of keys, read once before the first request */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "multipart.h"


/* KEY_PATH: a string that names a file or directory; in a settings file, a relative
 * one is taken from that file's directory, so a folder carries its own files. */
enum key_type { KEY_STRING, KEY_PATH, KEY_SIZE, KEY_DURATION, KEY_BOOL };

struct config_key {
	const char *name;
	enum key_type type;
	size_t offset;
	size_t size;             /* for KEY_STRING and KEY_PATH: the buffer's size */
	const char *def;         /* default, parsed like a user's value */
	const char *help;
	bool secret;             /* a file that sets it must not be readable by others */
};

#define FIELD(f) offsetof(struct config, f), sizeof(((struct config *)0)->f)

static const struct config_key keys[] = {
	{ "R2MPU_STORE", KEY_STRING, FIELD(store), "fs",
	  "where objects live: fs (a local directory) or s3 (R2 or any S3 API)" },
	{ "R2MPU_FS_ROOT", KEY_PATH, FIELD(fs_root), "/var/lib/r2mpu",
	  "fs store: directory holding objects, uploads and temporary files" },
	{ "R2MPU_FS_FSYNC", KEY_BOOL, FIELD(fs_fsync), "1",
	  "fs store: fsync parts and objects before answering (durability)" },
	{ "R2MPU_MAX_PART_SIZE", KEY_SIZE, FIELD(max_part_size), "5G",
	  "largest part accepted, bytes (K/M/G suffixes); larger gets 413" },
	{ "R2MPU_UPLOAD_TTL", KEY_DURATION, FIELD(upload_ttl), "7d",
	  "uploads not completed within this time are removed (s/m/h/d)" },
	{ "R2MPU_MOUNT", KEY_STRING, FIELD(mount), "",
	  "URL path prefix above the keys, e.g. /files, or / for the root (empty: SCRIPT_NAME "
	  "and PATH_INFO say, as lighttpd, CGI and mod_fcgid pass them; a standalone r2mpu, "
	  "for nginx or mod_proxy_fcgi, which pass no PATH_INFO, needs it set)" },
	{ "R2MPU_S3_ENDPOINT", KEY_STRING, FIELD(s3_endpoint), "",
	  "s3 store: http(s)://host[:port] of the S3 API" },
	{ "R2MPU_R2_ACCOUNT_ID", KEY_STRING, FIELD(r2_account_id), "",
	  "s3 store: R2 account id, meaning https://<id>.r2.cloudflarestorage.com" },
	{ "R2MPU_S3_BUCKET", KEY_STRING, FIELD(s3_bucket), "",
	  "s3 store: the bucket" },
	{ "R2MPU_S3_REGION", KEY_STRING, FIELD(s3_region), "auto",
	  "s3 store: the SigV4 region (R2: auto)" },
	{ "R2MPU_S3_ACCESS_KEY_ID", KEY_STRING, FIELD(s3_access_key_id), "",
	  "s3 store: access key id" },
	{ "R2MPU_S3_SECRET_ACCESS_KEY", KEY_STRING, FIELD(s3_secret_access_key), "",
	  "s3 store: secret access key (never printed or logged)", true },
	{ "R2MPU_S3_SECRET_ACCESS_KEY_FILE", KEY_PATH, FIELD(s3_secret_access_key_file), "",
	  "s3 store: a file holding the secret access key instead (systemd credentials); "
	  "others must not be able to read it" },
	{ "R2MPU_S3_CA_FILE", KEY_PATH, FIELD(s3_ca_file), "",
	  "s3 store: CA bundle to verify the endpoint with (empty: the system's: libcurl's own, or "
	  "the first found where Debian, RHEL, SUSE or Alpine keep it)" },
	{ "R2MPU_S3_PROXY", KEY_STRING, FIELD(s3_proxy), "",
	  "s3 store: proxy URL for the store's requests (empty: none; the environment's "
	  "http_proxy and the like are never used)" },
	{ "R2MPU_S3_CONNECT_TIMEOUT", KEY_DURATION, FIELD(s3_connect_timeout), "10",
	  "s3 store: connecting to the store gives up after this (s/m/h/d)" },
	{ "R2MPU_S3_TIMEOUT", KEY_DURATION, FIELD(s3_timeout), "60",
	  "s3 store: a transfer with no progress for this long fails with 504" },
	{ "R2MPU_S3_CHECKS_MD5", KEY_BOOL, FIELD(s3_checks_md5), "1",
	  "s3 store: the store refuses a part that does not match its Content-MD5 (R2, S3, "
	  "radosgw and MinIO do), so a part that carries one is passed on without r2mpu "
	  "hashing it; 0 for a store that ignores it (moto): r2mpu then hashes every part" },
	{ "R2MPU_OPEN_ACCESS", KEY_BOOL, FIELD(open_access), "0",
	  "1: ANYONE who reaches the gateway may read, write and delete every key" },
	{ "R2MPU_TOKENS_FILE", KEY_PATH, FIELD(tokens_file), "",
	  "file of bearer tokens, a line each: TOKEN RIGHTS PREFIX (* = all); RIGHTS are "
	  "letters: r read, w write, d delete, m metrics" },
	{ "R2MPU_SIGNING_SECRET", KEY_STRING, FIELD(signing_secret), "",
	  "secret (32+ characters) for signed URLs; never printed or logged", true },
	{ "R2MPU_SIGNING_SECRET_FILE", KEY_PATH, FIELD(signing_secret_file), "",
	  "a file holding the signing secret instead (systemd credentials); others must "
	  "not be able to read it" },
	{ "R2MPU_CORS_ORIGINS", KEY_STRING, FIELD(cors_origins), "",
	  "web page origins allowed to call the gateway: https://a.example ... or *" },
	{ "R2MPU_MIN_RATE", KEY_SIZE, FIELD(min_rate), "1K",
	  "slowest body accepted, bytes/s both ways: a part or GET slower than this for "
	  "about R2MPU_IO_TIMEOUT (after as much grace) is ended (0: no minimum)" },
	{ "R2MPU_IO_TIMEOUT", KEY_DURATION, FIELD(io_timeout), "20",
	  "a FastCGI connection or body silent this long is dropped (s/m/h/d)" },
	{ "R2MPU_MAX_PENDING_UPLOADS", KEY_SIZE, FIELD(max_pending_uploads), "1000",
	  "uploads in progress allowed under one credential's scope; more gets 429 "
	  "(0: no cap, and no listing of the store at each create)" },
	{ "R2MPU_MAX_PARTS", KEY_SIZE, FIELD(max_parts), "10000",
	  "highest part number accepted (1-10000, R2's limit)" },
	{ "R2MPU_LOG_FORMAT", KEY_STRING, FIELD(log_format), "text",
	  "the log's lines (stderr: the web server's error log): text, or json (an object "
	  "a line); each has the time, level, pid and request id, and a line per request" },
	{ "R2MPU_METRICS", KEY_BOOL, FIELD(metrics), "1",
	  "count requests, bytes and store calls for ?action=metrics (Prometheus), in a "
	  "mapping the pool shares (0: off)" },
	{ "R2MPU_METRICS_FILE", KEY_PATH, FIELD(metrics_file), "",
	  "the file the pool's counters live in, a regular file of r2mpu's user only it "
	  "can read (empty: /dev/shm/r2mpu-metrics-v1-UID-HASH, named after the store and "
	  "mount)" },
	{ "R2MPU_HOOK_CREATE", KEY_PATH, FIELD(hook_create), "",
	  "an executable run before each mpu-create (no shell, `PATH create`, the key, "
	  "credential and metadata in R2MPU_ variables, client bytes percent-encoded): "
	  "exit 0 allows it; another status refuses it with 403 and the first line of "
	  "its output; no answer within R2MPU_HOOK_TIMEOUT, 503" },
	{ "R2MPU_HOOK_COMPLETE", KEY_PATH, FIELD(hook_complete), "",
	  "an executable run after each successful mpu-complete, once the answer is out "
	  "(`PATH complete`, the key, size, ETag and credential in R2MPU_ variables); "
	  "the client does not wait for it, and its failure is only logged" },
	{ "R2MPU_HOOK_TIMEOUT", KEY_DURATION, FIELD(hook_timeout), "10",
	  "a hook still running after this long is killed, with what it started (s/m)" },
	{ "R2MPU_INLINE_TYPES", KEY_STRING, FIELD(inline_types), "",
	  "get: content types shown in the browser besides image/png, image/jpeg, "
	  "image/gif, image/webp, image/avif, text/plain, audio/* and video/* (but no "
	  "*/*+xml): type/subtype separated by spaces, matched exactly but for case and "
	  "parameters (e.g. application/pdf). Any other type, or none, is sent as an "
	  "attachment. All are sent with nosniff and a sandboxing CSP: no script runs" },
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

struct unit {
	const char *suffix;
	uint64_t mult;
};

/* Decimal digits, then one of the units' suffixes (exactly); no overflow. */
static int parse_with_units(const char *s, const struct unit *units, size_t n, uint64_t *out)
{
	char *end;
	unsigned long long v;
	size_t i;

	if (s == NULL || !isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (strcmp(end, units[i].suffix) == 0) {
			if (v > UINT64_MAX / units[i].mult)
				return -1;
			*out = v * units[i].mult;
			return 0;
		}
	}
	return -1;
}

int config_parse_size(const char *s, uint64_t *out)
{
	static const struct unit units[] = {
		{ "", 1 }, { "K", 1ULL << 10 }, { "KiB", 1ULL << 10 }, { "M", 1ULL << 20 },
		{ "MiB", 1ULL << 20 }, { "G", 1ULL << 30 }, { "GiB", 1ULL << 30 },
		{ "T", 1ULL << 40 }, { "TiB", 1ULL << 40 },
	};

	return parse_with_units(s, units, sizeof(units) / sizeof(units[0]), out);
}

int config_parse_duration(const char *s, uint64_t *out)
{
	static const struct unit units[] = {
		{ "", 1 }, { "s", 1 }, { "m", 60 }, { "h", 3600 }, { "d", 86400 },
	};

	return parse_with_units(s, units, sizeof(units) / sizeof(units[0]), out);
}

int config_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "1", "true", "yes", "on" };
	static const char *const no[] = { "0", "false", "no", "off" };
	size_t i;

	for (i = 0; s != NULL && i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return *out = true, 0;
		if (strcasecmp(s, no[i]) == 0)
			return *out = false, 0;
	}
	return -1;
}

static const struct config_key *find_key(const char *name)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

/* `file`: the settings file the value comes from, or NULL (a default, the environment). */
static int set_key(struct config *cfg, const struct config_key *k, const char *value,
		   const char *origin, const char *file, char *errbuf, size_t errlen)
{
	void *field = (char *)cfg + k->offset;
	const char *slash;
	int rc = 0, n;

	slash = file != NULL ? strrchr(file, '/') : NULL;
	if (k->type == KEY_PATH && value[0] != '\0' && value[0] != '/' && slash != NULL) {
		n = snprintf(field, k->size, "%.*s/%s", (int)(slash - file), file, value);
		if (n < 0 || (size_t)n >= k->size) {
			snprintf(errbuf, errlen, "%s (%s): with the file's directory, longer than "
				 "%zu bytes", k->name, origin, k->size - 1);
			return -1;
		}
		return 0;
	}
	switch (k->type) {
	case KEY_PATH:    /* absolute, or not from a file: as it is */
	case KEY_STRING:
		if (strlen(value) >= k->size) {
			snprintf(errbuf, errlen, "%s (%s): longer than %zu bytes",
				 k->name, origin, k->size - 1);
			return -1;
		}
		memcpy(field, value, strlen(value) + 1);
		return 0;
	case KEY_SIZE:
		rc = config_parse_size(value, field);
		break;
	case KEY_DURATION:
		rc = config_parse_duration(value, field);
		break;
	case KEY_BOOL:
		rc = config_parse_bool(value, field);
		break;
	}
	if (rc < 0)
		snprintf(errbuf, errlen, "%s (%s): cannot parse \"%.64s\"", k->name,
			 origin, value);
	return rc;
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/*
 * What the file format does not do, refused rather than guessed at: quotes
 * are not removed, and a # after a value is not a comment (it would be part
 * of the value). The same for every kind of value. NULL when the value is fine.
 */
static const char *value_surprise(const char *value)
{
	const char *p;

	if (value[0] == '"' || value[0] == '\'')
		return "quotes are not removed: write the value without them";
	for (p = value; *p != '\0'; p++)
		if (isspace((unsigned char)p[0]) && p[1] == '#')
			return "a # after a value is not a comment: put comments on lines of "
			       "their own";
	return NULL;
}

/*
 * Who besides its owner may touch the settings file: nobody else may write
 * it (they could open access to everyone), and nobody else may read it when
 * it sets a secret. `sets_secret` names the secret key set, or NULL.
 */
static int check_file_mode(int fd, const char *path, const char *sets_secret,
			   char *errbuf, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		snprintf(errbuf, errlen, "R2MPU_CONFIG: %s: %s", path, strerror(errno));
		return -1;
	}
	if (st.st_mode & S_IWOTH) {
		snprintf(errbuf, errlen, "R2MPU_CONFIG: others may write %s: chmod o-w it",
			 path);
		return -1;
	}
	if (sets_secret != NULL && (st.st_mode & S_IROTH)) {
		snprintf(errbuf, errlen, "R2MPU_CONFIG: %s sets %s and others may read it: "
			 "chmod o-r it, or name a file only r2mpu may read in %s_FILE", path,
			 sets_secret, sets_secret);
		return -1;
	}
	return 0;
}

static int load_file(struct config *cfg, const char *path, char *errbuf, size_t errlen)
{
	char line[CONFIG_STRING_MAX + 64], origin[64];
	const char *sets_secret = NULL;
	FILE *f;
	int lineno = 0, rc = -1;

	f = fopen(path, "r");
	if (f == NULL) {
		snprintf(errbuf, errlen, "R2MPU_CONFIG: cannot open %s: %s", path,
			 strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *eq, *name, *value;
		const struct config_key *k;
		const char *surprise;

		lineno++;
		snprintf(origin, sizeof(origin), "config file line %d", lineno);
		if (strchr(line, '\n') == NULL && !feof(f)) {
			snprintf(errbuf, errlen, "R2MPU_CONFIG: %s: line too long", origin);
			goto out;
		}
		name = trim(line);
		if (name[0] == '\0' || name[0] == '#')
			continue;
		eq = strchr(name, '=');
		if (eq == NULL) {
			snprintf(errbuf, errlen, "R2MPU_CONFIG: %s: expected KEY=value", origin);
			goto out;
		}
		*eq = '\0';
		name = trim(name);
		value = trim(eq + 1);
		k = find_key(name);
		if (k == NULL) {
			snprintf(errbuf, errlen, "R2MPU_CONFIG: %s: unknown key %.64s",
				 origin, name);
			goto out;
		}
		surprise = value_surprise(value);
		if (surprise != NULL) {
			snprintf(errbuf, errlen, "R2MPU_CONFIG: %s: %s: %s", origin, k->name,
				 surprise);
			goto out;
		}
		if (set_key(cfg, k, value, origin, path, errbuf, errlen) < 0)
			goto out;
		if (k->secret && value[0] != '\0')
			sets_secret = k->name;
	}
	if (ferror(f)) {
		snprintf(errbuf, errlen, "R2MPU_CONFIG: cannot read %s", path);
		goto out;
	}
	rc = check_file_mode(fileno(f), path, sets_secret, errbuf, errlen);
out:
	fclose(f);
	return rc;
}

static bool only_chars(const char *s, const char *allowed)
{
	return s[0] != '\0' && s[strspn(s, allowed)] == '\0';
}

/* The S3 keys, when R2MPU_STORE=s3. Fills in the endpoint from the R2 account id. */
static int validate_s3(struct config *cfg, char *errbuf, size_t errlen)
{
	static const char lower_digits[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	size_t len;

	if (cfg->r2_account_id[0] != '\0') {
		if (!only_chars(cfg->r2_account_id, lower_digits)) {
			snprintf(errbuf, errlen, "R2MPU_R2_ACCOUNT_ID: must be the account id "
				 "(lower-case letters and digits)");
			return -1;
		}
		if (cfg->s3_endpoint[0] != '\0') {
			snprintf(errbuf, errlen, "R2MPU_S3_ENDPOINT and R2MPU_R2_ACCOUNT_ID: "
				 "set one of them, not both");
			return -1;
		}
		snprintf(cfg->s3_endpoint, sizeof(cfg->s3_endpoint),
			 "https://%s.r2.cloudflarestorage.com", cfg->r2_account_id);
	}
	len = strlen(cfg->s3_endpoint);
	if (len > 0 && cfg->s3_endpoint[len - 1] == '/')
		cfg->s3_endpoint[len - 1] = '\0';      /* "http://host/" means "http://host" */
	if (strncmp(cfg->s3_endpoint, "https://", 8) != 0 &&
	    strncmp(cfg->s3_endpoint, "http://", 7) != 0) {
		snprintf(errbuf, errlen, "R2MPU_S3_ENDPOINT: must be an http:// or https:// URL "
			 "(or set R2MPU_R2_ACCOUNT_ID)");
		return -1;
	}
	if (strchr(cfg->s3_endpoint + 8, '/') != NULL || strchr(cfg->s3_endpoint, '?') != NULL ||
	    strchr(cfg->s3_endpoint, '@') != NULL) {
		snprintf(errbuf, errlen, "R2MPU_S3_ENDPOINT: only scheme://host[:port], with no "
			 "path, query or user");
		return -1;
	}
	if (strlen(cfg->s3_bucket) < 3 ||
	    !only_chars(cfg->s3_bucket, "abcdefghijklmnopqrstuvwxyz0123456789.-")) {
		snprintf(errbuf, errlen, "R2MPU_S3_BUCKET: must be 3 to 63 of a-z 0-9 . -");
		return -1;
	}
	if (!only_chars(cfg->s3_region, "abcdefghijklmnopqrstuvwxyz0123456789-_")) {
		snprintf(errbuf, errlen, "R2MPU_S3_REGION: must be a region name such as auto "
			 "or us-east-1");
		return -1;
	}
	if (cfg->s3_access_key_id[0] == '\0' || cfg->s3_secret_access_key[0] == '\0') {
		snprintf(errbuf, errlen, "R2MPU_S3_ACCESS_KEY_ID and R2MPU_S3_SECRET_ACCESS_KEY: "
			 "both are required for the s3 store");
		return -1;
	}
	if (cfg->s3_connect_timeout == 0 || cfg->s3_timeout == 0) {
		snprintf(errbuf, errlen, "R2MPU_S3_CONNECT_TIMEOUT and R2MPU_S3_TIMEOUT: must be "
			 "at least 1 second");
		return -1;
	}
	return 0;
}

static int validate(struct config *cfg, char *errbuf, size_t errlen)
{
	if (strcmp(cfg->store, "s3") == 0) {
		if (validate_s3(cfg, errbuf, errlen) < 0)
			return -1;
	} else if (strcmp(cfg->store, "fs") != 0) {
		snprintf(errbuf, errlen, "R2MPU_STORE: \"%.32s\" is not a store: use fs or s3",
			 cfg->store);
		return -1;
	}
	if (cfg->fs_root[0] == '\0') {
		snprintf(errbuf, errlen, "R2MPU_FS_ROOT: must not be empty");
		return -1;
	}
	if (cfg->max_part_size == 0 || cfg->max_part_size > PART_MAX_SIZE) {
		snprintf(errbuf, errlen, "R2MPU_MAX_PART_SIZE: must be from 1 byte to 5G");
		return -1;
	}
	if (cfg->io_timeout == 0 || cfg->io_timeout > 3600) {
		snprintf(errbuf, errlen, "R2MPU_IO_TIMEOUT: must be from 1 second to 1h");
		return -1;
	}
	if (cfg->max_parts == 0 || cfg->max_parts > PART_NUMBER_MAX) {
		snprintf(errbuf, errlen, "R2MPU_MAX_PARTS: must be from 1 to %d", PART_NUMBER_MAX);
		return -1;
	}
	if (strcmp(cfg->log_format, "text") != 0 && strcmp(cfg->log_format, "json") != 0) {
		snprintf(errbuf, errlen, "R2MPU_LOG_FORMAT: text or json");
		return -1;
	}
	if ((cfg->hook_create[0] != '\0' && cfg->hook_create[0] != '/') ||
	    (cfg->hook_complete[0] != '\0' && cfg->hook_complete[0] != '/')) {
		snprintf(errbuf, errlen, "R2MPU_HOOK_CREATE, R2MPU_HOOK_COMPLETE: an absolute "
			 "path to an executable (run without a shell)");
		return -1;
	}
	if (cfg->hook_timeout == 0 || cfg->hook_timeout > 600) {
		snprintf(errbuf, errlen, "R2MPU_HOOK_TIMEOUT: must be from 1 second to 10m");
		return -1;
	}
	if (cfg->upload_ttl == 0) {
		snprintf(errbuf, errlen, "R2MPU_UPLOAD_TTL: must be at least 1 second");
		return -1;
	}
	if (cfg->mount[0] != '\0' && strcmp(cfg->mount, "/") != 0 &&
	    (cfg->mount[0] != '/' || cfg->mount[strlen(cfg->mount) - 1] == '/')) {
		snprintf(errbuf, errlen, "R2MPU_MOUNT: must start with / and not end with "
			 "/ (e.g. /files), be / for the root, or be empty");
		return -1;
	}
	return 0;
}

/* A secret that may come from a file instead (`..._FILE`, for systemd credentials). */
static const struct secret_file {
	const char *name;        /* the secret's key */
	size_t path_offset;      /* struct config: the _FILE setting */
	size_t offset, size;     /* struct config: the secret */
} secret_files[] = {
	{ "R2MPU_SIGNING_SECRET", offsetof(struct config, signing_secret_file),
	  FIELD(signing_secret) },
	{ "R2MPU_S3_SECRET_ACCESS_KEY", offsetof(struct config, s3_secret_access_key_file),
	  FIELD(s3_secret_access_key) },
};

/* Up to len bytes of fd, to its end: a short read() is not the end. */
static ssize_t read_all(int fd, char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/*
 * Read one secret from its file: the whole file, less one final newline, no
 * other line break or NUL, which only its owner and group may read (as the
 * tokens file). Never both the secret and its file.
 */
static int read_secret_file(struct config *cfg, const struct secret_file *sf,
			    char *errbuf, size_t errlen)
{
	const char *path = (const char *)cfg + sf->path_offset;
	char *secret = (char *)cfg + sf->offset;
	struct stat st;
	ssize_t n;
	int fd, rc = -1;

	if (path[0] == '\0')
		return 0;
	if (secret[0] != '\0') {
		snprintf(errbuf, errlen, "%s and %s_FILE: set one of them, not both", sf->name,
			 sf->name);
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);   /* a FIFO must not block */
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(errbuf, errlen, "%s_FILE: cannot open %s: %s", sf->name, path,
			 strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || (st.st_mode & (S_IROTH | S_IWOTH))) {
		snprintf(errbuf, errlen, "%s_FILE: %s must be a file that others may not read "
			 "or write (chmod o-rw)", sf->name, path);
		goto out;
	}
	n = read_all(fd, secret, sf->size);
	if (n < 0 || (size_t)n >= sf->size) {
		snprintf(errbuf, errlen, "%s_FILE: %s: %s", sf->name, path,
			 n < 0 ? strerror(errno) : "longer than a secret may be");
		goto out;
	}
	secret[n] = '\0';
	if (n > 0 && secret[n - 1] == '\n')
		secret[--n] = '\0';
	if (n > 0 && secret[n - 1] == '\r')
		secret[--n] = '\0';
	if (n == 0 || strlen(secret) != (size_t)n || strpbrk(secret, "\r\n") != NULL) {
		snprintf(errbuf, errlen, "%s_FILE: %s must hold the secret on one line",
			 sf->name, path);
		goto out;
	}
	rc = 0;
out:
	if (rc < 0)
		memset(secret, 0, sf->size);
	if (fd >= 0)
		close(fd);
	return rc;
}

bool config_file_beside(const char *program, char *out, size_t outlen)
{
	const char *slash = program != NULL ? strrchr(program, '/') : NULL;
	int n;

	if (slash == NULL)
		return false;     /* found on PATH, or no name: no directory to look in */
	n = snprintf(out, outlen, "%.*s/" CONFIG_BESIDE_NAME, (int)(slash - program), program);
	return n > 0 && (size_t)n < outlen;
}

const char *config_beside_untrusted(const struct stat *file, const struct stat *dir, uid_t euid)
{
	if (!S_ISREG(file->st_mode))
		return "it is not a regular file";
	if (file->st_uid != euid && file->st_uid != 0)
		return "another user owns it";
	if (file->st_mode & (S_IWGRP | S_IWOTH))
		return "its group or others may write it";
	if (dir->st_uid != euid && dir->st_uid != 0)
		return "another user owns its directory";
	if (dir->st_mode & (S_IWGRP | S_IWOTH))
		return "its group or others may write its directory (and so put one there)";
	return NULL;
}

int config_default_file(const char *program, char *out, size_t outlen, char *errbuf,
			size_t errlen)
{
	char dir[CONFIG_STRING_MAX];
	struct stat file_st, dir_st;
	const char *why;

	/* Beside the program first: a copy dropped in a web folder with its own
	 * settings is not given the machine's. Found by where the program is, not
	 * named by anyone: trusted only as suexec trusts a program. */
	if (!config_file_beside(program, out, outlen))
		goto machine;
	if (stat(out, &file_st) < 0) {
		if (errno == ENOENT)
			goto machine;
		snprintf(errbuf, errlen, "%s: %s", out, strerror(errno));
		return -1;
	}
	/* Its directory: all of `out` before the slash config_file_beside put there. */
	snprintf(dir, sizeof(dir), "%.*s", (int)(strrchr(out, '/') - out), out);
	if (stat(dir[0] != '\0' ? dir : "/", &dir_st) < 0) {
		snprintf(errbuf, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	why = config_beside_untrusted(&file_st, &dir_st, geteuid());
	if (why != NULL) {
		snprintf(errbuf, errlen, "%s, the settings beside the program, is not used: %s "
			 "(only r2mpu's user or root may write it and its directory)", out, why);
		return -1;
	}
	return 0;
machine:
	snprintf(out, outlen, "%s", CONFIG_DEFAULT_FILE);
	return 0;
}

int config_load(struct config *cfg, const char *(*getenv_fn)(const char *name),
		const char *default_file, char *errbuf, size_t errlen)
{
	const char *file;
	size_t i;

	memset(cfg, 0, sizeof(*cfg));
	for (i = 0; i < NKEYS; i++)
		if (set_key(cfg, &keys[i], keys[i].def, "default", NULL, errbuf, errlen) < 0)
			return -1;
	file = getenv_fn("R2MPU_CONFIG");
	/* Unset: the default file, unless there is none (ENOENT; any other reason
	 * it cannot be read, a directory r2mpu may not search, is an error). */
	if (file == NULL && default_file != NULL &&
	    (access(default_file, F_OK) == 0 || errno != ENOENT))
		file = default_file;
	if (file != NULL && file[0] != '\0') {
		if (load_file(cfg, file, errbuf, errlen) < 0)
			return -1;
		snprintf(cfg->file, sizeof(cfg->file), "%s", file);
	}
	for (i = 0; i < NKEYS; i++) {
		const char *v = getenv_fn(keys[i].name);

		if (v != NULL && set_key(cfg, &keys[i], v, "environment", NULL, errbuf, errlen) < 0)
			return -1;
	}
	for (i = 0; i < sizeof(secret_files) / sizeof(secret_files[0]); i++)
		if (read_secret_file(cfg, &secret_files[i], errbuf, errlen) < 0)
			return -1;
	return validate(cfg, errbuf, errlen);
}

/* The file, which is not a key of the table: it says where the others come from. */
static const struct config_key_doc config_file_doc = {
	"R2MPU_CONFIG", CONFIG_BESIDE_NAME " beside the program, else " CONFIG_DEFAULT_FILE
	", if it exists",
	"file of KEY=value lines read first (the environment wins); set and empty: none"
};

bool config_key_doc(size_t i, struct config_key_doc *doc)
{
	if (i == 0) {
		*doc = config_file_doc;
		return true;
	}
	if (i - 1 >= NKEYS)
		return false;
	doc->name = keys[i - 1].name;
	doc->def = keys[i - 1].def;
	doc->help = keys[i - 1].help;
	return true;
}

void config_print_keys(void (*print)(const char *line))
{
	struct config_key_doc doc;
	char line[512];
	size_t i;

	for (i = 0; config_key_doc(i, &doc); i++) {
		snprintf(line, sizeof(line), "  %-31s %s (default: %s)", doc.name, doc.help,
			 doc.def[0] ? doc.def : "empty");
		print(line);
	}
}
