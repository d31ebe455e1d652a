/* SPDX-License-Identifier: MIT */
/* access.h: who may do what -- bearer tokens, signed URLs, and the explicit open switch */
#ifndef R2MPU_ACCESS_H
#define R2MPU_ACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "config.h"
#include "errors.h"
#include "uri.h"

/* What a route needs, and what a credential grants. */
enum access_right {
	RIGHT_READ = 1 << 0,     /* get, head, mpu-listparts, mpu-list */
	RIGHT_WRITE = 1 << 1,    /* mpu-create, -uploadpart, -complete, -abort, -listparts */
	RIGHT_DELETE = 1 << 2,   /* delete */
	RIGHT_METRICS = 1 << 3,  /* metrics: the whole pool's counts, whatever the scope */
};
#define ACCESS_RIGHTS_LETTERS "rwdm"   /* the bits above, in order, as tokens and URLs spell them */

#define ACCESS_TOKEN_MIN 16          /* characters: shorter tokens are refused at start */
#define ACCESS_TOKEN_MAX 256
#define ACCESS_TOKENS_MAX 4096       /* lines in a tokens file */
#define ACCESS_SECRET_MIN 32         /* bytes of R2MPU_SIGNING_SECRET */
#define ACCESS_SIG_HEX 64            /* HMAC-SHA256, lower-case hex */

/* One line of the tokens file. Only a digest of the token is kept. */
struct access_token {
	unsigned char digest[32];    /* SHA-256 of the token */
	unsigned rights;             /* enum access_right bits */
	char *prefix;                /* owned; "" means every key */
	size_t prefix_len;
	int line;                    /* its line in the tokens file: how the log names it */
};

/* The rules, loaded once at start (access_load), read-only afterwards. */
struct access {
	bool open;                   /* R2MPU_OPEN_ACCESS: no credentials needed */
	struct access_token *tokens; /* owned, ntokens of them */
	size_t ntokens;
	size_t tokens_cap;           /* room for this many */
	const char *secret;          /* borrowed from the config; "" = no signed URLs */
};

/*
 * What access_check() found: the rights used, a signed URL's size limit,
 * and the credential's scope (the keys it covers, which R2MPU_MAX_PENDING_UPLOADS
 * counts under). The scope is borrowed: from the loaded rules (a token's
 * prefix), the request (a signed URL's prefix or key) or a literal (""
 * for open access); it lives as long as the request.
 */
struct access_grant {
	unsigned rights;
	uint64_t max_size;           /* bytes a part or the object may have; 0: no limit */
	const char *scope;           /* borrowed, NUL-terminated; "": every key */
	bool scope_is_prefix;        /* false: a signed URL's one exact key */
	char credential[24];         /* for the log, never the secret: "open", "token line 3", "signed URL" */
};

/* The parts of a request access_check() looks at; all borrowed. */
struct access_request {
	const char *authorization;   /* the Authorization header, or NULL */
	const struct query *query;   /* the r2mpu-* signed-URL parameters */
	const char *key;             /* decoded and valid; may be "" (mpu-list) */
	size_t key_len;
	bool key_is_prefix;          /* the route reads every key below `key` (mpu-list) */
	bool any_key;                /* the route is about no key (metrics): scopes do not apply */
	const char *host;            /* the Host header, or NULL (HTTP/1.0) */
	const char *remote_addr;     /* REMOTE_ADDR, the peer's address, or NULL */
	time_t now;
};

/*
 * Load the rules the configuration names: R2MPU_OPEN_ACCESS,
 * R2MPU_TOKENS_FILE, R2MPU_SIGNING_SECRET. With none of them, -1: r2mpu
 * never guesses that a gateway is meant to be open. Open access with
 * R2MPU_CORS_ORIGINS=* is -1 too: every web page could use it. errbuf gets
 * the reason. *a is always safe to free.
 */
int access_load(struct access *a, const struct config *cfg, char *errbuf, size_t errlen);
void access_free(struct access *a);   /* a may be NULL */

/*
 * Parse a tokens file's text into a->tokens (pure; for the unit tests too).
 * Lines: TOKEN RIGHTS PREFIX, whitespace-separated; '#' starts a comment.
 * RIGHTS is letters from "rwdm"; PREFIX is percent-decoded, "*" is every key.
 */
int access_parse_tokens(struct access *a, const char *text, char *errbuf, size_t errlen);

/*
 * May this request do `needed` (one enum access_right bit, or several of
 * which any one suffices)? 0 with *grant filled, or -1 with *err:
 * 401 with no credentials at all, 403 for wrong, expired, forged or
 * out-of-scope ones. A signed URL's parameters win over an Authorization
 * header when both are present. A signed URL for one key never covers a
 * route that reads below a key (key_is_prefix). Open access serves only
 * requests from a loopback peer (remote_addr, access_addr_is_loopback) that name a
 * loopback Host (127.0.0.0/8, localhost, [::1]): nobody else on the network
 * reaches it, nor a web page by DNS rebinding. Without a Host or a peer
 * address it cannot tell, so it refuses (403).
 */
int access_check(const struct access *a, const struct access_request *r, unsigned needed,
		 struct access_grant *grant, struct r2err *err);

/* "rwdm" letters <-> rights bits. Parsing: -1 on an unknown or repeated letter, or none. */
#define ACCESS_RIGHTS_MAX sizeof(ACCESS_RIGHTS_LETTERS)   /* letters and the NUL */
int access_rights_parse(const char *s, unsigned *rights);
void access_rights_string(unsigned rights, char out[ACCESS_RIGHTS_MAX]);

/*
 * The HMAC-SHA256 (lower-case hex) of a signed URL's fields: rights, scope
 * (the exact key, or a prefix when is_prefix), expiry (Unix seconds) and
 * size limit (0: none). The same function signs (`r2mpu.fcgi sign`) and checks.
 */
int access_sign(const char *secret, unsigned rights, bool is_prefix, const char *scope,
		size_t scope_len, uint64_t expires, uint64_t max_size,
		char out[ACCESS_SIG_HEX + 1]);

/* Pure: is this Host header (name[:port]) a loopback name? */
bool access_host_is_loopback(const char *host);

/*
 * Pure: is this peer address (REMOTE_ADDR: an IP address as text, no
 * brackets, no port) a loopback one: 127.0.0.0/8, ::1 or ::ffff:127.0.0.0/104?
 * NULL and anything that is not an address are not.
 */
bool access_addr_is_loopback(const char *addr);

/*
 * Does the key hold a "." or ".." path segment? Scoped credentials never
 * cover such keys: a server or client that resolves them would reach
 * outside the prefix.
 */
bool access_key_has_dot_segment(const char *key, size_t len);

#endif
