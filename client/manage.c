/* SPDX-License-Identifier: MIT */
/* manage.c: `list URL` and `abort URL UPLOAD_ID` -- the uploads in progress, and their end */
#include "client.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

static int open_target(const char *url, struct target *t)
{
	char err[256];

	if (target_parse(url, t, err, sizeof(err)) < 0) {
		say("%s", err);
		return -1;
	}
	return 0;
}

/* A string member, or "" -- for printing what a gateway sent. */
static const char *member(json_object *o, const char *name)
{
	json_object *v;

	return json_object_object_get_ex(o, name, &v) && json_object_is_type(v, json_type_string)
		? json_object_get_string(v) : "";
}

int cmd_list(const struct client_opts *o, char **args, int nargs)
{
	struct target t = { 0 };
	struct engine *e = NULL;
	struct xfer x = { 0 };
	json_object *j = NULL, *list;
	int rc = EXIT_DONE;

	if (nargs != 1) {
		say("list needs a URL: the gateway's, and a key prefix (/ for every key)");
		return EXIT_USAGE;
	}
	if (open_target(args[0], &t) < 0)
		return EXIT_USAGE;
	if (!(e = client_engine(o, &t, 1))) {
		rc = EXIT_FAILED;
		goto out;
	}
	xfer_init(&x, "GET", target_url(&t, "mpu-list", NULL, 0));
	x.answer_max = 16 << 20;
	if (!x.url)
		x.local_error = ENOMEM;
	if (run_one(e, &x) != OUTCOME_OK) {
		rc = say_failed(&x, "listing uploads");
		goto out;
	}
	j = x.answer ? json_tokener_parse(x.answer) : NULL;
	if (!j || !json_object_object_get_ex(j, "uploads", &list) ||
	    !json_object_is_type(list, json_type_array)) {
		say("listing uploads: the answer is not the JSON expected");
		rc = EXIT_SERVER;
		goto out;
	}
	if (o->json) {
		printf("%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		goto out;
	}
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *up = json_object_array_get_idx(list, i);
		const char *when = member(up, "initiated"), *id = member(up, "uploadId");
		const char *key = member(up, "key");
		char when_p[64], id_p[1024], key_p[4096];

		/* What the gateway sent, never a terminal's escape sequence. */
		printable(when, strlen(when), when_p, sizeof(when_p));
		printable(id, strlen(id), id_p, sizeof(id_p));
		printable(key, strlen(key), key_p, sizeof(key_p));
		printf("%-20s  %s  %s\n", when_p, id_p, key_p);
	}
	if (json_object_object_get_ex(j, "truncated", &list) && json_object_get_boolean(list))
		say("the gateway listed only the first uploads: give a longer prefix");
out:
	json_object_put(j);
	xfer_release(&x);
	engine_free(e);
	target_free(&t);
	return rc;
}

int cmd_abort(const struct client_opts *o, char **args, int nargs)
{
	struct target t = { 0 };
	struct engine *e = NULL;
	struct xfer x = { 0 };
	int rc = EXIT_DONE;

	if (nargs != 2) {
		say("abort needs the upload's URL (the gateway's and the key) and UPLOAD_ID");
		return EXIT_USAGE;
	}
	if (open_target(args[0], &t) < 0)
		return EXIT_USAGE;
	if (!(e = client_engine(o, &t, 1))) {
		rc = EXIT_FAILED;
		goto out;
	}
	xfer_init(&x, "DELETE", target_url(&t, "mpu-abort", args[1], 0));
	if (!x.url)
		x.local_error = ENOMEM;
	if (run_one(e, &x) != OUTCOME_OK)
		rc = say_failed(&x, "aborting the upload");
	else if (!o->quiet)
		printf("aborted %s\n", args[1]);
out:
	xfer_release(&x);
	engine_free(e);
	target_free(&t);
	return rc;
}
