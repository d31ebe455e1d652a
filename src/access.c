/* SPDX-License-Identifier: MIT */
/* access.c: who may do what -- bearer tokens, signed URLs, and the explicit open switch */
#include "access.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cors.h"
#include "digest.h"
#include "http.h"
#include "mem.h"

#define TOKENS_FILE_MAX (4 * 1024 * 1024)   /* bytes */
#define SIGNED_URL_TAG "r2mpu-signed-url-v1"

int access_rights_parse(const char *s, unsigned *rights)
{
	unsigned r = 0, bit;

	if (s == NULL || s[0] == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		const char *at = strchr(ACCESS_RIGHTS_LETTERS, *s);

		if (at == NULL)
			return -1;
		bit = 1u << (at - ACCESS_RIGHTS_LETTERS);
		if (r & bit)
			return -1;
		r |= bit;
	}
	*rights = r;
	return 0;
}

void access_rights_string(unsigned rights, char out[ACCESS_RIGHTS_MAX])
{
	size_t i, n = 0;

	for (i = 0; ACCESS_RIGHTS_LETTERS[i] != '\0'; i++)
		if (rights & (1u << i))
			out[n++] = ACCESS_RIGHTS_LETTERS[i];
	out[n] = '\0';
}

bool access_key_has_dot_segment(const char *key, size_t len)
{
	size_t start = 0, i;

	for (i = 0; i <= len; i++) {
		if (i == len || key[i] == '/') {
			size_t seg = i - start;

			if ((seg == 1 && key[start] == '.') ||
			    (seg == 2 && key[start] == '.' && key[start + 1] == '.'))
				return true;
			start = i + 1;
		}
	}
	return false;
}

int access_sign(const char *secret, unsigned rights, bool is_prefix, const char *scope,
		size_t scope_len, uint64_t expires, uint64_t max_size,
		char out[ACCESS_SIG_HEX + 1])
{
	unsigned char mac[SHA256_LEN];
	char head[128], letters[ACCESS_RIGHTS_MAX];
	size_t hlen, tlen;
	char *msg;
	int n;

	out[0] = '\0';
	if (secret == NULL || secret[0] == '\0' || memchr(scope, '\n', scope_len) != NULL)
		return -1;
	access_rights_string(rights, letters);
	/*
	 * Fields one a line, the scope last but one: a scope never holds a
	 * newline (keys have no control characters), so no two different sets
	 * of fields give the same text.
	 */
	n = snprintf(head, sizeof(head), SIGNED_URL_TAG "\n%s\n%s\n%llu\n%llu\n", letters,
		     is_prefix ? "prefix" : "key", (unsigned long long)expires,
		     (unsigned long long)max_size);
	if (n < 0 || (size_t)n >= sizeof(head))
		return -1;
	hlen = (size_t)n;
	tlen = hlen + scope_len;
	msg = malloc(tlen);
	if (msg == NULL)
		return -1;
	memcpy(msg, head, hlen);
	memcpy(msg + hlen, scope, scope_len);
	n = hmac_sha256(secret, strlen(secret), msg, tlen, mac);
	free(msg);
	if (n < 0)
		return -1;
	_Static_assert(ACCESS_SIG_HEX == 2 * SHA256_LEN, "a signature is one HMAC-SHA256 in hex");
	hex_encode(mac, sizeof(mac), out);
	return 0;
}

void access_free(struct access *a)
{
	size_t i;

	if (a == NULL)
		return;
	for (i = 0; i < a->ntokens; i++)
		free(a->tokens[i].prefix);
	free(a->tokens);
	memset(a, 0, sizeof(*a));
}

/* One line "TOKEN RIGHTS PREFIX" into *t. -1 with errbuf naming the line. */
static int parse_token_line(char *line, int lineno, struct access_token *t,
			    char *errbuf, size_t errlen)
{
	char *fields[4], *save = NULL, *f;
	size_t nf = 0, tlen;
	struct r2err err;

	for (f = strtok_r(line, " \t\r", &save); f != NULL && nf < 4;
	     f = strtok_r(NULL, " \t\r", &save))
		fields[nf++] = f;
	if (nf != 3) {
		snprintf(errbuf, errlen, "R2MPU_TOKENS_FILE: line %d: expected TOKEN RIGHTS PREFIX",
			 lineno);
		return -1;
	}
	tlen = strlen(fields[0]);
	if (tlen < ACCESS_TOKEN_MIN || tlen > ACCESS_TOKEN_MAX) {
		snprintf(errbuf, errlen, "R2MPU_TOKENS_FILE: line %d: a token must have %d to %d "
			 "characters", lineno, ACCESS_TOKEN_MIN, ACCESS_TOKEN_MAX);
		return -1;
	}
	if (access_rights_parse(fields[1], &t->rights) < 0) {
		snprintf(errbuf, errlen, "R2MPU_TOKENS_FILE: line %d: rights are letters from "
			 "\"%s\", each at most once", lineno, ACCESS_RIGHTS_LETTERS);
		return -1;
	}
	if (sha256(fields[0], tlen, t->digest) < 0) {
		snprintf(errbuf, errlen, "R2MPU_TOKENS_FILE: line %d: SHA-256 failed", lineno);
		return -1;
	}
	if (strcmp(fields[2], "*") == 0) {
		t->prefix = strdup("");
		t->prefix_len = 0;
	} else if (uri_percent_decode(fields[2], strlen(fields[2]), false, &t->prefix,
				      &t->prefix_len, &err) < 0 ||
		   uri_key_validate(t->prefix, t->prefix_len, &err) < 0) {
		snprintf(errbuf, errlen, "R2MPU_TOKENS_FILE: line %d: prefix: %s", lineno,
			 err.message);
		return -1;
	}
	if (t->prefix == NULL) {
		snprintf(errbuf, errlen, "R2MPU_TOKENS_FILE: out of memory");
		return -1;
	}
	t->line = lineno;
	return 0;
}

int access_parse_tokens(struct access *a, const char *text, char *errbuf, size_t errlen)
{
	const char *p = text;
	char line[2 * ACCESS_TOKEN_MAX + 4 * KEY_MAX_BYTES];
	int lineno = 0, rc;
	size_t i;

	while (*p != '\0') {
		size_t len = strcspn(p, "\n");
		char *hash;

		lineno++;
		if (len >= sizeof(line)) {
			snprintf(errbuf, errlen, "R2MPU_TOKENS_FILE: line %d is too long", lineno);
			return -1;
		}
		memcpy(line, p, len);
		line[len] = '\0';
		p += len + (p[len] == '\n');
		hash = strchr(line, '#');
		if (hash != NULL)
			*hash = '\0';
		if (line[strspn(line, " \t\r")] == '\0')
			continue;
		if (a->ntokens == ACCESS_TOKENS_MAX) {
			snprintf(errbuf, errlen, "R2MPU_TOKENS_FILE: more than %d tokens",
				 ACCESS_TOKENS_MAX);
			return -1;
		}
		if (MEM_GROW(a->tokens, &a->tokens_cap, a->ntokens + 1, ACCESS_TOKENS_MAX) < 0) {
			snprintf(errbuf, errlen, "R2MPU_TOKENS_FILE: out of memory");
			return -1;
		}
		memset(&a->tokens[a->ntokens], 0, sizeof(a->tokens[0]));
		rc = parse_token_line(line, lineno, &a->tokens[a->ntokens], errbuf, errlen);
		OPENSSL_cleanse(line, sizeof(line));
		for (i = 0; rc == 0 && i < a->ntokens; i++) {
			/* Which line would win is nobody's guess: refuse the file. */
			if (memcmp(a->tokens[i].digest, a->tokens[a->ntokens].digest, 32) == 0) {
				snprintf(errbuf, errlen, "R2MPU_TOKENS_FILE: line %d repeats a token "
					 "of an earlier line", lineno);
				rc = -1;
			}
		}
		if (rc < 0) {
			free(a->tokens[a->ntokens].prefix);
			return -1;
		}
		a->ntokens++;
	}
	return 0;
}

/* The whole tokens file, which only its owner and group may read. */
static int load_tokens_file(struct access *a, const char *path, char *errbuf, size_t errlen)
{
	struct stat st;
	char *text = NULL;
	size_t got = 0;
	int fd, rc = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(errbuf, errlen, "R2MPU_TOKENS_FILE: cannot open %s: %s", path,
			 strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > TOKENS_FILE_MAX) {
		snprintf(errbuf, errlen, "R2MPU_TOKENS_FILE: %s is not a regular file of at "
			 "most %d bytes", path, TOKENS_FILE_MAX);
		goto out;
	}
	if (st.st_mode & (S_IROTH | S_IWOTH)) {
		snprintf(errbuf, errlen, "R2MPU_TOKENS_FILE: %s can be read or written by "
			 "anyone: chmod o-rw it", path);
		goto out;
	}
	text = malloc((size_t)st.st_size + 1);
	if (text == NULL) {
		snprintf(errbuf, errlen, "R2MPU_TOKENS_FILE: out of memory");
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, text + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(errbuf, errlen, "R2MPU_TOKENS_FILE: cannot read %s", path);
			goto out;
		}
		got += (size_t)n;
	}
	text[got] = '\0';
	if (strlen(text) != got) {
		snprintf(errbuf, errlen, "R2MPU_TOKENS_FILE: %s contains a NUL byte", path);
		goto out;
	}
	rc = access_parse_tokens(a, text, errbuf, errlen);
out:
	if (text != NULL)
		OPENSSL_cleanse(text, got);
	free(text);
	if (fd >= 0)
		close(fd);
	return rc;
}

int access_load(struct access *a, const struct config *cfg, char *errbuf, size_t errlen)
{
	memset(a, 0, sizeof(*a));
	a->open = cfg->open_access;
	a->secret = cfg->signing_secret;
	/* Open to this machine, and to every page a browser on it visits: never both. */
	if (a->open && cors_allows_any(cfg->cors_origins)) {
		snprintf(errbuf, errlen, "R2MPU_OPEN_ACCESS=yes with R2MPU_CORS_ORIGINS=*: any "
			 "web page a browser on this machine visits could read, write and "
			 "delete every key; list the pages' origins in R2MPU_CORS_ORIGINS");
		return -1;
	}
	if (cfg->signing_secret[0] != '\0' && strlen(cfg->signing_secret) < ACCESS_SECRET_MIN) {
		snprintf(errbuf, errlen, "R2MPU_SIGNING_SECRET: must be at least %d characters "
			 "(e.g. openssl rand -hex 32)", ACCESS_SECRET_MIN);
		return -1;
	}
	if (cfg->tokens_file[0] != '\0' &&
	    load_tokens_file(a, cfg->tokens_file, errbuf, errlen) < 0) {
		access_free(a);
		return -1;
	}
	if (!a->open && a->ntokens == 0 && a->secret[0] == '\0') {
		snprintf(errbuf, errlen, "no access rules: set R2MPU_TOKENS_FILE and/or "
			 "R2MPU_SIGNING_SECRET, or R2MPU_OPEN_ACCESS=yes to let anyone who can "
			 "reach the gateway read, write and delete every key");
		access_free(a);
		return -1;
	}
	return 0;
}

bool access_host_is_loopback(const char *host)
{
	size_t n = strcspn(host, ":");
	const char *p;

	if (strncmp(host, "[::1]", 5) == 0)
		return host[5] == '\0' || host[5] == ':';
	if ((n == 9 && strncasecmp(host, "localhost", 9) == 0) ||
	    (n == 10 && strncasecmp(host, "localhost.", 10) == 0))
		return true;
	/* 127.a.b.c, dotted decimal only */
	if (strncmp(host, "127.", 4) != 0)
		return false;
	for (p = host + 4; p < host + n; p++)
		if ((*p < '0' || *p > '9') && *p != '.')
			return false;
	return n > 4 && n <= 15;
}

bool access_addr_is_loopback(const char *addr)
{
	static const unsigned char v6_loopback[16] = { [15] = 1 };
	static const unsigned char v4_mapped[12] = { [10] = 0xff, [11] = 0xff };
	unsigned char a[16];

	if (addr == NULL)
		return false;
	if (inet_pton(AF_INET, addr, a) == 1)
		return a[0] == 127;
	if (inet_pton(AF_INET6, addr, a) != 1)
		return false;
	/* A dual-stack socket shows an IPv4 peer as ::ffff:a.b.c.d. */
	return memcmp(a, v6_loopback, 16) == 0 || (memcmp(a, v4_mapped, 12) == 0 && a[12] == 127);
}

/* Is the key inside the scope (an exact key, or a prefix)? */
static bool in_scope(const struct access_request *r, bool is_prefix, const char *scope,
		     size_t scope_len)
{
	if (!is_prefix)
		return r->key_len == scope_len && memcmp(r->key, scope, scope_len) == 0;
	if (scope_len == 0)
		return true;    /* every key: nothing to widen */
	return r->key_len >= scope_len && memcmp(r->key, scope, scope_len) == 0 &&
	       !access_key_has_dot_segment(r->key, r->key_len);
}

static int forbidden(struct r2err *err, const char *why)
{
	return r2err_set(err, 403, "AccessDenied", "Access denied: %s", why);
}

/* A number as it was signed: plain decimal (http_content_length_parse), no leading zero. */
static int signed_number(const char *s, uint64_t *out)
{
	int64_t v;

	if (s == NULL || (s[0] == '0' && s[1] != '\0') || http_content_length_parse(s, &v) < 0)
		return -1;
	*out = (uint64_t)v;
	return 0;
}

/* Rights letters in ACCESS_RIGHTS_LETTERS' order, as access_sign() signs them. */
static bool rights_canonical(const char *s)
{
	unsigned rights;
	char canonical[ACCESS_RIGHTS_MAX];

	if (access_rights_parse(s, &rights) < 0)
		return false;
	access_rights_string(rights, canonical);
	return strcmp(s, canonical) == 0;
}

static int check_signed_url(const struct access *a, const struct access_request *r,
			    unsigned needed, struct access_grant *grant, struct r2err *err)
{
	const struct query *q = r->query;
	const char *scope = q->sig_prefix != NULL ? q->sig_prefix : r->key;
	size_t scope_len = q->sig_prefix != NULL ? strlen(q->sig_prefix) : r->key_len;
	char expected[ACCESS_SIG_HEX + 1];
	uint64_t expires, max_size = 0;
	unsigned rights;

	if (a->secret[0] == '\0')
		return forbidden(err, "this gateway does not accept signed URLs");
	if (q->signature == NULL || q->sig_rights == NULL || q->sig_expires == NULL ||
	    access_rights_parse(q->sig_rights, &rights) < 0 || !rights_canonical(q->sig_rights) ||
	    signed_number(q->sig_expires, &expires) < 0 ||
	    (q->sig_max != NULL && (signed_number(q->sig_max, &max_size) < 0 || max_size == 0)) ||
	    strlen(q->signature) != ACCESS_SIG_HEX)
		return forbidden(err, "malformed signed URL (r2mpu-rights, r2mpu-expires and "
				 "r2mpu-signature are required)");
	/* As minted: lower-case hex, so the text compares as the MAC does. */
	if (strspn(q->signature, "0123456789abcdef") != ACCESS_SIG_HEX)
		return forbidden(err, "malformed signature");
	if (access_sign(a->secret, rights, q->sig_prefix != NULL, scope, scope_len, expires,
			max_size, expected) < 0)
		return forbidden(err, "the signed scope cannot be signed");
	if (CRYPTO_memcmp(q->signature, expected, ACCESS_SIG_HEX) != 0)
		return forbidden(err, "the signature does not match");
	if ((uint64_t)r->now > expires)
		return forbidden(err, "the signed URL has expired");
	if (!r->any_key && !in_scope(r, q->sig_prefix != NULL, scope, scope_len))
		return forbidden(err, "the key is outside the signed URL's scope");
	if (r->key_is_prefix && q->sig_prefix == NULL)
		return forbidden(err, "a signed URL for one key lists nothing below it");
	if ((rights & needed) == 0 || (rights & RIGHT_METRICS))
		return forbidden(err, "the signed URL does not allow this action");
	grant->rights = rights;
	grant->max_size = max_size;
	grant->scope = scope;     /* the query's prefix, or the request's key */
	grant->scope_is_prefix = q->sig_prefix != NULL;
	snprintf(grant->credential, sizeof(grant->credential), "signed URL");
	return 0;
}

/* "Bearer TOKEN" -> the token, or NULL for another scheme. */
static const char *bearer_token(const char *authorization)
{
	const char *p = authorization;

	if (strncasecmp(p, "Bearer", 6) != 0 || (p[6] != ' ' && p[6] != '\t'))
		return NULL;
	p += 6;
	while (*p == ' ' || *p == '\t')
		p++;
	return *p != '\0' ? p : NULL;
}

static int check_bearer(const struct access *a, const struct access_request *r,
			const char *token, unsigned needed, struct access_grant *grant,
			struct r2err *err)
{
	unsigned char digest[32];
	const struct access_token *match = NULL;
	size_t i, tlen = strcspn(token, " \t");

	if (token[tlen + strspn(token + tlen, " \t")] != '\0')
		return forbidden(err, "malformed bearer token");
	if (sha256(token, tlen, digest) < 0)
		return forbidden(err, "the token cannot be checked");
	/* Compare with every token, to the end: the time says nothing of which matched. */
	for (i = 0; i < a->ntokens; i++)
		if (CRYPTO_memcmp(digest, a->tokens[i].digest, sizeof(digest)) == 0)
			match = &a->tokens[i];
	if (match == NULL)
		return forbidden(err, "unknown token");
	if (!r->any_key && !in_scope(r, true, match->prefix, match->prefix_len))
		return forbidden(err, "the key is outside the token's prefix");
	if ((match->rights & needed) == 0)
		return forbidden(err, "the token does not allow this action");
	grant->rights = match->rights;
	grant->max_size = 0;
	grant->scope = match->prefix;
	grant->scope_is_prefix = true;
	snprintf(grant->credential, sizeof(grant->credential), "token line %d", match->line);
	return 0;
}

/*
 * Open access is for trying r2mpu on one's own machine: the peer must be
 * this machine (nobody else on the network), and the Host a loopback name
 * (no web page that rebound its DNS name to 127.0.0.1). A request that does
 * not say either is refused: an HTTP/1.0 request without Host would
 * otherwise pass the DNS-rebinding check unseen.
 */
static int check_open(const struct access_request *r, struct access_grant *grant,
		      struct r2err *err)
{
	if (r->host == NULL)
		return forbidden(err, "open access needs a Host header naming a loopback "
				 "host (127.0.0.1, localhost, [::1]); configure tokens or "
				 "signed URLs for anything else");
	if (!access_host_is_loopback(r->host))
		return forbidden(err, "open access serves loopback host names only "
				 "(127.0.0.1, localhost, [::1]); configure tokens or signed "
				 "URLs for anything else");
	if (!access_addr_is_loopback(r->remote_addr))
		return forbidden(err, "open access serves clients on this machine only "
				 "(a loopback peer address: 127.0.0.0/8, ::1); configure "
				 "tokens or signed URLs for anything else");
	grant->rights = RIGHT_READ | RIGHT_WRITE | RIGHT_DELETE | RIGHT_METRICS;
	grant->scope = "";
	grant->scope_is_prefix = true;
	snprintf(grant->credential, sizeof(grant->credential), "open");
	return 0;
}

int access_check(const struct access *a, const struct access_request *r, unsigned needed,
		 struct access_grant *grant, struct r2err *err)
{
	const struct query *q = r->query;
	const char *token;

	memset(grant, 0, sizeof(*grant));
	if (a->open)
		return check_open(r, grant, err);
	if (q->signature != NULL || q->sig_rights != NULL || q->sig_expires != NULL ||
	    q->sig_prefix != NULL || q->sig_max != NULL)
		return check_signed_url(a, r, needed, grant, err);
	if (r->authorization == NULL || r->authorization[0] == '\0')
		return r2err_set(err, 401, "Unauthorized", "Credentials required: an "
				 "Authorization: Bearer token or a signed URL");
	token = bearer_token(r->authorization);
	if (token == NULL)
		return r2err_set(err, 401, "Unauthorized", "Only Authorization: Bearer "
				 "tokens are accepted");
	if (a->ntokens == 0)
		return forbidden(err, "this gateway does not accept bearer tokens");
	return check_bearer(a, r, token, needed, grant, err);
}
