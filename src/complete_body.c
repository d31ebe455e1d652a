/* SPDX-License-Identifier: MIT */
/* complete_body.c: the mpu-complete JSON body, {"parts":[{"partNumber":N,"etag":E},...]} */
#include "complete_body.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>


/* {"parts":[{...}]} is three levels deep; anything much deeper is abuse. */
#define JSON_MAX_DEPTH 8

static int shape_error(struct r2err *err, const char *what)
{
	return r2err_set(err, 400, "MalformedJSON",
			 "Invalid complete body: %s; expected "
			 "{\"parts\":[{\"partNumber\":N,\"etag\":\"...\"},...]}", what);
}

static int parse_part(json_object *item, size_t index, struct part_ref *ref,
		      struct r2err *err)
{
	json_object *num, *etag;
	int64_t n;
	const char *s;
	size_t slen;

	if (!json_object_is_type(item, json_type_object))
		return shape_error(err, "a part is not an object");
	if (!json_object_object_get_ex(item, "partNumber", &num) ||
	    !json_object_is_type(num, json_type_int))
		return r2err_set(err, 400, "MalformedJSON",
				 "Invalid complete body: part %zu has no integer partNumber",
				 index + 1);
	n = json_object_get_int64(num);
	if (n < 1 || n > PART_NUMBER_MAX)
		return r2err_set(err, 400, "InvalidArgument",
				 "Invalid complete body: partNumber must be from 1 to %d",
				 PART_NUMBER_MAX);
	if (!json_object_object_get_ex(item, "etag", &etag) ||
	    !json_object_is_type(etag, json_type_string))
		return r2err_set(err, 400, "MalformedJSON",
				 "Invalid complete body: part %d has no string etag", (int)n);
	s = json_object_get_string(etag);
	slen = (size_t)json_object_get_string_len(etag);
	if (slen == 0 || slen >= ETAG_MAX || memchr(s, '\0', slen) != NULL)
		return r2err_set(err, 400, "InvalidPart",
				 "InvalidPart: the etag of part %d is not a valid etag", (int)n);
	ref->number = (int)n;
	memcpy(ref->etag, s, slen + 1);
	return 0;
}

int complete_body_parse(const char *body, size_t len, struct part_list *out,
			struct r2err *err)
{
	json_tokener *tok = NULL;
	json_object *root = NULL, *parts;
	size_t i, n, used;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (len == 0)
		return r2err_set(err, 400, "MissingBody", "Missing or incomplete body");
	if (len > COMPLETE_BODY_MAX)
		return r2err_set(err, 413, "EntityTooLarge",
				 "Complete body is larger than %d bytes", COMPLETE_BODY_MAX);
	tok = json_tokener_new_ex(JSON_MAX_DEPTH);
	if (tok == NULL)
		return r2err_out_of_memory(err);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	root = json_tokener_parse_ex(tok, body, (int)len);
	if (root == NULL || json_tokener_get_error(tok) != json_tokener_success) {
		enum json_tokener_error e = json_tokener_get_error(tok);

		r2err_set(err, 400, "MalformedJSON", "Invalid complete body: %s",
			  e == json_tokener_continue ? "truncated JSON"
						     : json_tokener_error_desc(e));
		goto out;
	}
	used = json_tokener_get_parse_end(tok);
	for (; used < len; used++)
		if (memchr(" \t\r\n", body[used], 4) == NULL) {
			shape_error(err, "trailing data after the JSON object");
			goto out;
		}
	if (!json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "parts", &parts) ||
	    !json_object_is_type(parts, json_type_array)) {
		shape_error(err, "no \"parts\" array");
		goto out;
	}
	n = json_object_array_length(parts);
	if (n > PART_NUMBER_MAX) {
		r2err_set(err, 400, "InvalidArgument",
			  "Invalid complete body: more than %d parts", PART_NUMBER_MAX);
		goto out;
	}
	if (n > 0) {
		out->parts = calloc(n, sizeof(*out->parts));
		if (out->parts == NULL) {
			r2err_out_of_memory(err);
			goto out;
		}
	}
	for (i = 0; i < n; i++) {
		if (parse_part(json_object_array_get_idx(parts, i), i,
			       &out->parts[i], err) < 0)
			goto out;
		if (i > 0 && out->parts[i].number <= out->parts[i - 1].number) {
			r2err_set(err, 400, "InvalidPartOrder",
				  "InvalidPartOrder: part numbers must be strictly ascending "
				  "(part %d follows part %d)",
				  out->parts[i].number, out->parts[i - 1].number);
			goto out;
		}
	}
	out->count = n;
	rc = 0;
out:
	if (rc < 0)
		part_list_free(out);
	json_object_put(root);
	json_tokener_free(tok);
	return rc;
}
