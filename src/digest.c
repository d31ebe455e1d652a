/* SPDX-License-Identifier: MIT */
/* digest.c: MD5, SHA-256, HMAC-SHA256 and hex, over OpenSSL */
#include "digest.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

int md5_init(struct md5 *m)
{
	m->ctx = EVP_MD_CTX_new();
	if (m->ctx == NULL)
		return -1;
	if (EVP_DigestInit_ex(m->ctx, EVP_md5(), NULL) != 1) {
		md5_free(m);
		return -1;
	}
	return 0;
}

void md5_update(struct md5 *m, const void *data, size_t len)
{
	EVP_DigestUpdate(m->ctx, data, len);
}

void md5_final(struct md5 *m, unsigned char out[MD5_LEN])
{
	unsigned int n = MD5_LEN;

	EVP_DigestFinal_ex(m->ctx, out, &n);
	md5_free(m);
}

void md5_free(struct md5 *m)
{
	EVP_MD_CTX_free(m->ctx);
	m->ctx = NULL;
}

void hex_encode(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

int hex_decode(const char *hex, unsigned char *out, size_t n)
{
	size_t i;

	if (strlen(hex) != 2 * n)
		return -1;
	for (i = 0; i < 2 * n; i++)
		if (!isxdigit((unsigned char)hex[i]))
			return -1;
	for (i = 0; i < n; i++) {
		unsigned int b;

		if (sscanf(hex + 2 * i, "%2x", &b) != 1)
			return -1;
		out[i] = (unsigned char)b;
	}
	return 0;
}

int sha256(const void *data, size_t len, unsigned char out[SHA256_LEN])
{
	unsigned int n = SHA256_LEN;

	return EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) == 1 && n == SHA256_LEN ? 0 : -1;
}

int sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN + 1])
{
	unsigned char digest[SHA256_LEN];

	out[0] = '\0';
	if (sha256(data, len, digest) < 0)
		return -1;
	hex_encode(digest, sizeof(digest), out);
	return 0;
}

int hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen,
		unsigned char out[SHA256_LEN])
{
	unsigned int n = SHA256_LEN;

	if (klen > (size_t)0x7fffffff)
		return -1;
	return HMAC(EVP_sha256(), key, (int)klen, msg, mlen, out, &n) != NULL &&
	       n == SHA256_LEN ? 0 : -1;
}
