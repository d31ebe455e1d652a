/* SPDX-License-Identifier: MIT */
/* hooks.h: the application's commands at an upload's create and complete -- an environment in, a verdict out, bounded in time */
#ifndef R2MPU_HOOKS_H
#define R2MPU_HOOKS_H

#include <stdbool.h>
#include <stddef.h>

/*
 * A hook is an executable file (R2MPU_HOOK_CREATE, R2MPU_HOOK_COMPLETE) run
 * with no shell, as `PATH EVENT`, in its own process group, with stdin from
 * /dev/null, stderr r2mpu's, no other descriptor of r2mpu's, no signal
 * blocked, ignored or handled, and an environment of PATH and the R2MPU_
 * variables the caller adds, nothing else of r2mpu's (no secret). r2mpu
 * waits for it, at most a timeout; when it exits, what it left running in
 * its process group is killed too. A value that came
 * from a client is percent-encoded (uri_encode: only A-Z a-z 0-9 - _ . ~ and
 * / stay as they are), so no byte of it can be a newline, a quote or a shell
 * character to a script that uses it carelessly.
 */

#define HOOK_VARS_MAX 32
#define HOOK_MESSAGE_MAX 200      /* bytes of the first line of a refusal kept */

/* The environment: "NAME=value" strings, owned, NULL-terminated. */
struct hook_env {
	char *vars[HOOK_VARS_MAX + 1];
	size_t n;
};

/*
 * Add NAME=value (value may be NULL: not added). encode: value is a
 * client's bytes, percent-encoded; else it is r2mpu's own text (a number,
 * an ETag, "token line 3"). -1 when full or out of memory.
 */
int hook_env_add(struct hook_env *e, const char *name, const char *value, size_t len,
		 bool encode);
void hook_env_free(struct hook_env *e);

enum hook_outcome {
	HOOK_OK,           /* exit status 0 */
	HOOK_REFUSED,      /* another exit status: *message is the first line it printed */
	HOOK_FAILED,       /* it could not be run, died of a signal, outlived the timeout,
			    * or its status was lost (SIGCHLD ignored): *why */
};

/*
 * Run the hook and wait for it, at most timeout_s seconds (then its whole
 * process group is killed). The first line of its stdout, control bytes
 * and non-ASCII replaced by '?', at most HOOK_MESSAGE_MAX bytes, goes to
 * message; the rest of its output is read and dropped.
 */
enum hook_outcome hook_run(const char *path, const char *event, const struct hook_env *env,
			   unsigned timeout_s, char message[HOOK_MESSAGE_MAX + 1],
			   char *why, size_t whylen);

/*
 * Start the hook from a child of this process (a watcher, in a session of
 * its own) and return at once: the watcher waits for the hook, at most
 * timeout_s, and logs what went wrong (can_log false: plain CGI, whose
 * stderr the web server reads to its end, so it keeps none). Never waits:
 * with CHILDREN_MAX (8) of this process's hooks still running, -1 and
 * nothing is run (why); so a pool runs at most 8 per process.
 */
int hook_spawn(const char *path, const char *event, const struct hook_env *env,
	       unsigned timeout_s, bool can_log, char *why, size_t whylen);
/* Collect this process's watchers that are done (never waits). */
void hook_reap(void);

/* Pure: a message a client may read, from a hook's output (see hook_run). */
void hook_message(const char *out, size_t len, char message[HOOK_MESSAGE_MAX + 1]);

#endif
