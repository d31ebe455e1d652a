/* etag.h: R2's ETags -- the MD5 of a part, and the multipart "md5-of-md5s-N" */
#ifndef R2MPU_ETAG_H
#define R2MPU_ETAG_H

#include <stddef.h>

#define MD5_LEN 16
#define ETAG_MAX 64   /* "<32 hex>-10000" and its NUL fit easily */

struct evp_md_ctx_st;

/* Streaming MD5. md5_init returns -1 when OpenSSL cannot allocate. */
struct md5 {
	struct evp_md_ctx_st *ctx;   /* owned; freed by md5_final or md5_free */
};
int md5_init(struct md5 *m);
void md5_update(struct md5 *m, const void *data, size_t len);
void md5_final(struct md5 *m, unsigned char out[MD5_LEN]);
void md5_free(struct md5 *m);        /* safe after md5_final, and on a zeroed struct */

/* Lower-case hex of n bytes into out (2n+1 bytes with the NUL). */
void hex_encode(const unsigned char *in, size_t n, char *out);
/* Exactly 2n hex digits (either case) into n bytes; -1 otherwise. */
int hex_decode(const char *hex, unsigned char *out, size_t n);

/* The plain ETag of one body: hex MD5. */
void etag_from_md5(const unsigned char md5[MD5_LEN], char out[ETAG_MAX]);

/*
 * The multipart ETag: hex MD5 of the concatenated binary part MD5s, then
 * "-N". With no parts it is the MD5 of the empty body (a 0-byte object, as
 * a plain PUT would give). Returns -1 when OpenSSL fails.
 */
int etag_multipart(const unsigned char (*part_md5s)[MD5_LEN], size_t n,
		   char out[ETAG_MAX]);

/*
 * Compare a client's etag with ours: surrounding double quotes on the
 * client's are ignored, hex case too. Our etag is lower case, unquoted.
 */
int etag_equal(const char *theirs, const char *ours);

#endif
