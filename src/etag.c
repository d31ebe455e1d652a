/* etag.c: R2's ETags -- the MD5 of a part, and the multipart "md5-of-md5s-N" */
#include "etag.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

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

void etag_from_md5(const unsigned char md5[MD5_LEN], char out[ETAG_MAX])
{
	hex_encode(md5, MD5_LEN, out);
}

int etag_multipart(const unsigned char (*part_md5s)[MD5_LEN], size_t n,
		   char out[ETAG_MAX])
{
	unsigned char digest[MD5_LEN];
	struct md5 m;
	size_t i;

	if (md5_init(&m) < 0)
		return -1;
	for (i = 0; i < n; i++)
		md5_update(&m, part_md5s[i], MD5_LEN);
	md5_final(&m, digest);
	etag_from_md5(digest, out);
	if (n > 0)
		snprintf(out + 2 * MD5_LEN, ETAG_MAX - 2 * MD5_LEN, "-%zu", n);
	return 0;
}

int etag_equal(const char *theirs, const char *ours)
{
	size_t tlen = strlen(theirs), olen = strlen(ours);

	if (tlen >= 2 && theirs[0] == '"' && theirs[tlen - 1] == '"') {
		theirs++;
		tlen -= 2;
	}
	return tlen == olen && strncasecmp(theirs, ours, olen) == 0;
}
