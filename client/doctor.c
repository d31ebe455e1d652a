/* SPDX-License-Identifier: MIT */
/* doctor.c: `check URL` -- a real upload's three steps on a scratch key, and what a failure means */
#include "doctor.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "client.h"
#include "digest.h"
#include "plan.h"

/* Just over the smallest part R2 allows: a server limit below it fails here, not later. */
#define CHECK_PART (PLAN_MIN_PART + 1)

#define ANY_STEP (STEP_CREATE | STEP_PART | STEP_ABORT)
#define NO_CODE ""     /* the answer has no X-R2mpu-Error: the web server wrote it */
#define ANY_CODE NULL

/* What a failed step means, first match wins. status 0 matches any 5xx. */
static const struct cause {
	unsigned steps;
	long status;
	const char *code;
	int token_sent;        /* -1: either */
	const char *text;
} causes[] = {
	{ ANY_STEP, 401, ANY_CODE, 1,
	  "the gateway got no token although one was sent: Apache keeps the Authorization "
	  "header from CGI and FastCGI programs unless `CGIPassAuth On` is set where r2mpu "
	  "is served (doc/deployment.md)" },
	{ ANY_STEP, 401, ANY_CODE, 0,
	  "the gateway wants a credential: give --token-file or R2MPU_TOKEN, or a signed URL" },
	{ ANY_STEP, 403, "AccessDenied", -1,
	  "the credential does not allow this key or action (the gateway's message says which)" },
	{ STEP_PART, 500, NO_CODE, -1,
	  "the web server refused the part before r2mpu saw it: mod_fcgid's "
	  "FcgidMaxRequestLen (128 KiB by default) is smaller than a part; set it, "
	  "LimitRequestBody and R2MPU_MAX_PART_SIZE to the largest part (doc/deployment.md)" },
	{ STEP_PART, 400, "MissingBody", -1,
	  "the part reached r2mpu empty: Apache's LimitRequestBody is smaller than mod_fcgid's "
	  "FcgidMaxRequestLen; raise it to the largest part (doc/deployment.md)" },
	{ STEP_PART, 413, NO_CODE, -1,
	  "the web server refused the part as too large: nginx's client_max_body_size "
	  "(1 MiB by default) must be at least the largest part, e.g. `client_max_body_size 5g`" },
	{ STEP_PART, 413, "EntityTooLarge", -1,
	  "r2mpu refused a part of 5 MiB + 1 byte: R2MPU_MAX_PART_SIZE (or the signed URL's "
	  "r2mpu-max) is below R2's smallest part" },
	{ ANY_STEP, 411, NO_CODE, -1,
	  "the web server wants a Content-Length and got a body without one: lighttpd answers "
	  "411 to a chunked body; something between this client and the server (a proxy) "
	  "turned the body chunked" },
	{ ANY_STEP, 404, "NotUnderMount", -1,
	  "the URL's path is outside the gateway's R2MPU_MOUNT: the URL is the mount point "
	  "followed by the key" },
	{ ANY_STEP, 404, NO_CODE, -1,
	  "no r2mpu answered at this URL (the web server's own 404): check the path to "
	  "r2mpu and the server's alias or rewrite for it" },
	{ ANY_STEP, 405, NO_CODE, -1,
	  "the web server refused the method before r2mpu saw it: it serves this path as "
	  "files, not through r2mpu" },
	{ ANY_STEP, 502, "StoreAuthFailed", -1,
	  "the store refused r2mpu's credentials: check R2MPU_S3_ACCESS_KEY_ID and "
	  "R2MPU_S3_SECRET_ACCESS_KEY in the gateway's config (`r2mpu check` on the server "
	  "says more)" },
	{ ANY_STEP, 0, NO_CODE, -1,
	  "the web server failed the request without r2mpu's answer: r2mpu may not start "
	  "there (see the web server's error log)" },
	{ ANY_STEP, 0, ANY_CODE, -1,
	  "the gateway or its store failed: the web server's error log has the detail" },
};

const char *check_cause(enum check_step step, long status, const char *error_code,
			int token_sent)
{
	const char *code = error_code ? error_code : "";

	for (size_t i = 0; i < sizeof(causes) / sizeof(causes[0]); i++) {
		const struct cause *c = &causes[i];

		if (!(c->steps & step))
			continue;
		if (c->status ? c->status != status : status < 500)
			continue;
		if (c->code && strcmp(c->code, code) != 0)
			continue;
		if (c->token_sent >= 0 && c->token_sent != (token_sent != 0))
			continue;
		return c->text;
	}
	return NULL;
}

const char *check_key_warning(const char *key)
{
	static const char *const program_paths[] = { "cgi-bin/", "r2mpu.fcgi/", "r2mpu.cgi/",
						     ".fcgi/", ".cgi/" };

	for (size_t i = 0; i < sizeof(program_paths) / sizeof(program_paths[0]); i++)
		if (strstr(key, program_paths[i]))
			return "the key holds the path to the program: set R2MPU_MOUNT to the "
			       "path r2mpu is served at, so that keys start after it";
	return NULL;
}

/* A failed step: what it was, the answer, and the cause when one is known. */
static int step_failed(const struct client_opts *o, const struct xfer *x,
		       enum check_step step, const char *doing)
{
	int rc = say_failed(x, doing);
	const char *why = x->curl_code == CURLE_OK && !x->local_error
		? check_cause(step, x->status, x->error_code, o->token != NULL) : NULL;

	if (x->curl_code == CURLE_COULDNT_CONNECT || x->curl_code == CURLE_COULDNT_RESOLVE_HOST)
		why = "nothing answers at this host and port";
	if (why)
		say("cause: %s", why);
	return rc;
}

static void scratch_name(char *out, size_t outlen)
{
	unsigned char r[6];
	char hex[13];

	if (RAND_bytes(r, sizeof(r)) != 1)
		memset(r, 0x5a, sizeof(r));
	hex_encode(r, sizeof(r), hex);
	snprintf(out, outlen, ".r2mpu-check-%s", hex);
}

int cmd_check(const struct client_opts *o, char **args, int nargs)
{
	struct target given = { 0 }, t = { 0 };
	struct engine *e = NULL;
	struct xfer x = { 0 };
	json_object *j = NULL, *v;
	char err[256], name[40], *key = NULL, *id = NULL, *part = NULL;
	unsigned char md5[MD5_LEN];
	char b64[32];
	int rc = EXIT_DONE, created = 0;

	if (nargs != 1) {
		say("check needs a URL: the gateway's, with a key prefix to try under");
		return EXIT_USAGE;
	}
	if (target_parse(args[0], &given, err, sizeof(err)) < 0) {
		say("%s", err);
		return EXIT_USAGE;
	}
	/* A URL signed for one key can only be that key; anything else gets a scratch key. */
	scratch_name(name, sizeof(name));
	if (given.is_signed && !given.signs_prefix) {
		t = given;
		memset(&given, 0, sizeof(given));
	} else if (target_child(&given, name, &t) < 0) {
		rc = EXIT_FAILED;
		goto out;
	}
	if (!(e = client_engine(o, &t, 1))) {
		rc = EXIT_FAILED;
		goto out;
	}

	xfer_init(&x, "POST", target_url(&t, "mpu-create", NULL, 0));
	if (run_one(e, &x) != OUTCOME_OK) {
		rc = step_failed(o, &x, STEP_CREATE, "creating an upload");
		goto out;
	}
	j = x.answer ? json_tokener_parse(x.answer) : NULL;
	if (!j || !json_object_object_get_ex(j, "key", &v) || !json_object_is_type(v, json_type_string) ||
	    !(key = strdup(json_object_get_string(v))) ||
	    !json_object_object_get_ex(j, "uploadId", &v) || !json_object_is_type(v, json_type_string) ||
	    !(id = strdup(json_object_get_string(v)))) {
		say("creating an upload: the answer is not r2mpu's JSON: is this URL an r2mpu "
		    "gateway?");
		rc = EXIT_SERVER;
		goto out;
	}
	created = 1;
	if (!o->quiet)
		printf("create: ok, key %s\n", key);
	if (check_key_warning(key))
		say("warning: %s", check_key_warning(key));
	xfer_release(&x);

	if (!(part = calloc(1, CHECK_PART)) || EVP_Digest(part, CHECK_PART, md5, NULL, EVP_md5(), NULL) != 1) {
		rc = EXIT_FAILED;
		goto out;
	}
	EVP_EncodeBlock((unsigned char *)b64, md5, MD5_LEN);
	xfer_init(&x, "PUT", target_url(&t, "mpu-uploadpart", id, 1));
	x.body = part;
	x.body_len = CHECK_PART;
	if (xfer_header(&x, "Content-MD5: %s", b64) < 0)
		x.local_error = ENOMEM;
	if (run_one(e, &x) != OUTCOME_OK) {
		rc = step_failed(o, &x, STEP_PART, "sending a part of 5 MiB + 1 byte");
		goto out;
	}
	if (!o->quiet)
		printf("part of %d bytes: ok\n", (int)CHECK_PART);
	xfer_release(&x);

	xfer_init(&x, "DELETE", target_url(&t, "mpu-abort", id, 0));
	created = 0;
	if (run_one(e, &x) != OUTCOME_OK) {
		rc = step_failed(o, &x, STEP_ABORT, "aborting the upload");
		goto out;
	}
	if (!o->quiet)
		printf("abort: ok\nthe gateway takes uploads at this URL\n");
out:
	xfer_release(&x);
	if (created) {
		/* Leave nothing behind: the scratch upload goes even when a step failed. */
		xfer_init(&x, "DELETE", target_url(&t, "mpu-abort", id, 0));
		client_interrupted = 0;
		run_one(e, &x);
		xfer_release(&x);
	}
	json_object_put(j);
	free(part);
	free(key);
	free(id);
	engine_free(e);
	target_free(&t);
	target_free(&given);
	return rc;
}
