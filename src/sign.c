/* SPDX-License-Identifier: MIT */
/* sign.c: `r2mpu.fcgi sign` -- mint a signed URL on the command line */
#include "sign.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "access.h"
#include "uri.h"

#define SIGN_MAX_LIFETIME (366ULL * 86400)   /* a year: longer is a token, not a URL */

void sign_usage(void (*print)(const char *line))
{
	print("usage: r2mpu.fcgi sign [--rights LETTERS] [--expires-in DURATION]");
	print("                       [--max-size SIZE] [--prefix] [--base URL] [--] KEY");
	print("");
	print("Prints a URL that lets whoever holds it act on KEY until it expires,");
	print("signed with R2MPU_SIGNING_SECRET (from the environment or R2MPU_CONFIG).");
	print("Add the action to it: URL&action=mpu-create, ...&action=mpu-uploadpart&...");
	print("  --rights LETTERS     r read, w write (create, parts, complete, abort),");
	print("                       d delete; default w");
	print("  --expires-in DURATION  s/m/h/d, default 1h, at most 366d");
	print("  --max-size SIZE      largest part and object, bytes (K/M/G); default none");
	print("  --prefix             KEY is a prefix: the URL works for every key below");
	print("                       it (replace the path; keys with . or .. segments");
	print("                       are never covered)");
	print("  --base URL           what the gateway's keys are below, e.g.");
	print("                       https://files.example/r2mpu (default: none, the");
	print("                       URL starts with the key's path)");
}

int sign_command(const struct config *cfg, int argc, char **argv, time_t now,
		 char *out, size_t outlen, char *errbuf, size_t errlen)
{
	const char *key = NULL, *base = "", *rights_arg = "w";
	uint64_t lifetime = 3600, max_size = 0, expires;
	char sig[ACCESS_SIG_HEX + 1], path[3 * KEY_MAX_BYTES + 1], scope[3 * KEY_MAX_BYTES + 1];
	char letters[ACCESS_RIGHTS_MAX], max_field[48] = "";
	bool is_prefix = false;
	size_t base_len;
	unsigned rights;
	struct r2err err;
	int i, n;

	for (i = 0; i < argc; i++) {
		const char *a = argv[i];
		bool has_value = i + 1 < argc;

		if (strcmp(a, "--rights") == 0 && has_value)
			rights_arg = argv[++i];
		else if (strcmp(a, "--expires-in") == 0 && has_value) {
			if (config_parse_duration(argv[++i], &lifetime) < 0 || lifetime == 0 ||
			    lifetime > SIGN_MAX_LIFETIME)
				goto bad_value;
		} else if (strcmp(a, "--max-size") == 0 && has_value) {
			if (config_parse_size(argv[++i], &max_size) < 0 || max_size == 0)
				goto bad_value;
		} else if (strcmp(a, "--base") == 0 && has_value)
			base = argv[++i];
		else if (strcmp(a, "--prefix") == 0)
			is_prefix = true;
		else if (strcmp(a, "--") == 0 && i + 2 == argc && key == NULL)
			key = argv[++i];          /* a key that starts with '-' */
		else if (a[0] != '-' && key == NULL)
			key = a;
		else {
			snprintf(errbuf, errlen, "sign: unexpected argument \"%.64s\"", a);
			return -1;
		}
	}
	if (key == NULL) {
		snprintf(errbuf, errlen, "sign: which KEY?");
		return -1;
	}
	/* The pool's metrics are for a monitor's token, never a URL handed out. */
	if (access_rights_parse(rights_arg, &rights) < 0 || (rights & RIGHT_METRICS)) {
		snprintf(errbuf, errlen, "sign: --rights takes letters from \"rwd\"");
		return -1;
	}
	if ((key[0] != '\0' || !is_prefix) && uri_key_validate(key, strlen(key), &err) < 0) {
		snprintf(errbuf, errlen, "sign: %s", err.message);
		return -1;
	}
	if (cfg->signing_secret[0] == '\0' || strlen(cfg->signing_secret) < ACCESS_SECRET_MIN) {
		snprintf(errbuf, errlen, "sign: R2MPU_SIGNING_SECRET (at least %d characters) "
			 "must be set, as the gateway has it", ACCESS_SECRET_MIN);
		return -1;
	}
	expires = (uint64_t)now + lifetime;
	access_rights_string(rights, letters);
	if (access_sign(cfg->signing_secret, rights, is_prefix, key, strlen(key), expires,
			max_size, sig) < 0 ||
	    uri_encode(key, strlen(key), true, path, sizeof(path)) < 0 ||
	    uri_encode(key, strlen(key), false, scope, sizeof(scope)) < 0) {
		snprintf(errbuf, errlen, "sign: cannot sign this key");
		return -1;
	}
	if (max_size != 0)
		snprintf(max_field, sizeof(max_field), "&r2mpu-max=%llu",
			 (unsigned long long)max_size);
	base_len = strlen(base);
	while (base_len > 0 && base[base_len - 1] == '/')
		base_len--;
	n = snprintf(out, outlen, "%.*s/%s?%s%s%sr2mpu-rights=%s&r2mpu-expires=%llu%s"
		     "&r2mpu-signature=%s\n", (int)base_len, base, path, is_prefix ? "r2mpu-prefix=" : "",
		     is_prefix ? scope : "", is_prefix ? "&" : "", letters,
		     (unsigned long long)expires, max_field, sig);
	if (n < 0 || (size_t)n >= outlen) {
		snprintf(errbuf, errlen, "sign: the URL is too long");
		return -1;
	}
	return 0;
bad_value:
	snprintf(errbuf, errlen, "sign: bad value for %s: \"%.64s\"", argv[i - 1], argv[i]);
	return -1;
}
