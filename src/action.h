/* SPDX-License-Identifier: MIT */
/* action.h: the actions r2mpu serves (?action=), by name -- for the routes and the metrics */
#ifndef R2MPU_ACTION_H
#define R2MPU_ACTION_H

enum action {
	ACTION_CREATE, ACTION_COMPLETE, ACTION_UPLOAD_PART, ACTION_ABORT, ACTION_LIST_PARTS,
	ACTION_LIST_UPLOADS, ACTION_DELETE, ACTION_GET, ACTION_HEALTH, ACTION_METRICS,
	ACTIONS
};

/* Pure: an action's id (its name exactly), or -1 (NULL, or no such action). */
int action_id(const char *name);
/* Pure: its name ("mpu-create"), or NULL for no such id. */
const char *action_name(int id);

#endif
