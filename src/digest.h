/* SPDX-License-Identifier: MIT */
/* digest.h: the digests r2mpu uses (MD5, SHA-256, HMAC-SHA256) and hex, over OpenSSL */
#ifndef R2MPU_DIGEST_H
#define R2MPU_DIGEST_H

#include <stddef.h>

#define MD5_LEN 16
#define SHA256_LEN 32
#define SHA256_HEX_LEN 64

struct evp_md_ctx_st;

/* Streaming MD5. md5_init returns -1 when OpenSSL cannot allocate. */
struct md5 {
	struct evp_md_ctx_st *ctx;   /* owned; freed by md5_final or md5_free */
};
int md5_init(struct md5 *m);
void md5_update(struct md5 *m, const void *data, size_t len);
void md5_final(struct md5 *m, unsigned char out[MD5_LEN]);
void md5_free(struct md5 *m);        /* safe after md5_final, and on a zeroed struct */

/* SHA-256 of a buffer; -1 when OpenSSL fails (out is then garbage: never compare it). */
int sha256(const void *data, size_t len, unsigned char out[SHA256_LEN]);
/* The same as lower-case hex (65 bytes with the NUL); -1 (out "") when OpenSSL fails. */
int sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN + 1]);
/* HMAC-SHA256 of msg under key; -1 when OpenSSL fails. out may alias key. */
int hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen,
		unsigned char out[SHA256_LEN]);

/* Lower-case hex of n bytes into out (2n+1 bytes with the NUL). */
void hex_encode(const unsigned char *in, size_t n, char *out);
/* Exactly 2n hex digits (either case) into n bytes; -1 otherwise. */
int hex_decode(const char *hex, unsigned char *out, size_t n);

#endif
