/* SPDX-License-Identifier: MIT */
/* action.c: the actions r2mpu serves (?action=), by name -- for the routes and the metrics */
#include "action.h"

#include <stddef.h>
#include <string.h>

static const char *const names[ACTIONS] = {
	[ACTION_CREATE] = "mpu-create", [ACTION_COMPLETE] = "mpu-complete",
	[ACTION_UPLOAD_PART] = "mpu-uploadpart", [ACTION_ABORT] = "mpu-abort",
	[ACTION_LIST_PARTS] = "mpu-listparts", [ACTION_LIST_UPLOADS] = "mpu-list",
	[ACTION_DELETE] = "delete", [ACTION_GET] = "get", [ACTION_HEALTH] = "health",
	[ACTION_METRICS] = "metrics",
};

int action_id(const char *name)
{
	int i;

	for (i = 0; name != NULL && i < ACTIONS; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

const char *action_name(int id)
{
	return id >= 0 && id < ACTIONS ? names[id] : NULL;
}
