/* SPDX-License-Identifier: MIT */
/* hooks.c: the application's commands at an upload's create and complete -- an environment in, a verdict out, bounded in time */
#include "hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "uri.h"

#define HOOK_PATH_ENV "PATH=/usr/local/bin:/usr/bin:/bin"
#define HOOK_OUTPUT_MAX (64 * 1024)     /* bytes of output read before the rest is dropped */

int hook_env_add(struct hook_env *e, const char *name, const char *value, size_t len,
		 bool encode)
{
	size_t nlen = strlen(name), cap = nlen + 2 + (encode ? 3 * len : len);
	char *var;

	if (value == NULL)
		return 0;
	if (e->n >= HOOK_VARS_MAX || (var = malloc(cap)) == NULL)
		return -1;
	memcpy(var, name, nlen);
	var[nlen] = '=';
	if (encode) {
		if (uri_encode(value, len, true, var + nlen + 1, cap - nlen - 1) < 0) {
			free(var);
			return -1;
		}
	} else {
		/* r2mpu's own text: never a NUL or a newline, but cut at one all the same. */
		len = strnlen(value, len);
		memcpy(var + nlen + 1, value, len);
		var[nlen + 1 + len] = '\0';
	}
	e->vars[e->n++] = var;
	e->vars[e->n] = NULL;
	return 0;
}

void hook_env_free(struct hook_env *e)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		free(e->vars[i]);
	e->n = 0;
	e->vars[0] = NULL;
}

void hook_message(const char *out, size_t len, char message[HOOK_MESSAGE_MAX + 1])
{
	const char *nl = memchr(out, '\n', len);
	size_t i;

	if (nl != NULL)
		len = (size_t)(nl - out);
	while (len > 0 && out[len - 1] == '\r')
		len--;
	for (i = 0; i < len && i < HOOK_MESSAGE_MAX; i++)
		message[i] = (out[i] >= 0x20 && out[i] < 0x7f) ? out[i] : '?';
	message[i] = '\0';
}

static uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* Close every descriptor from fd on (close_range needs Linux 5.9: else one by one). */
static void close_from(int fd)
{
	long max = sysconf(_SC_OPEN_MAX);

	if (close_range((unsigned)fd, ~0U, 0) == 0)
		return;
	for (; fd < (max > 0 && max < 65536 ? max : 65536); fd++)
		close(fd);
}

/* In a child that is about to fail: say why down err_fd (the parent reads an errno), and go. */
static void child_fails(int err_fd)
{
	int e = errno;

	if (write(err_fd, &e, sizeof(e)) < 0) {
		/* the parent then sees the 126 alone */
	}
	_exit(126);
}

/*
 * In the child: become the hook. stdout is out_fd, stderr r2mpu's; if it
 * cannot become the hook, the errno goes down err_fd (close-on-exec: nothing
 * when exec works). Never returns.
 */
static void become_hook(const char *path, const char *event, const struct hook_env *env,
			int out_fd, int err_fd)
{
	char *argv[] = { (char *)path, (char *)event, NULL };
	char *envp[HOOK_VARS_MAX + 2];
	sigset_t none;
	size_t i;
	int null, sig;

	/*
	 * r2mpu's handlers, its ignored SIGPIPE and SIGHUP, and the signals it
	 * blocks while serving would all outlive exec: the defaults first, then
	 * nothing blocked, so no signal reaches r2mpu's handlers in between.
	 */
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setpgid(0, 0);
	/* err_fd at 3 first: nothing below may land on it. */
	if (dup2(err_fd, 3) < 0 || fcntl(3, F_SETFD, FD_CLOEXEC) < 0)
		_exit(126);
	null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(out_fd, STDOUT_FILENO) < 0 ||
	    fcntl(STDIN_FILENO, F_SETFD, 0) < 0 || fcntl(STDOUT_FILENO, F_SETFD, 0) < 0)
		child_fails(3);
	/* Nothing else of r2mpu's: not the FastCGI socket, not the store's files. */
	close_from(4);
	envp[0] = (char *)HOOK_PATH_ENV;
	for (i = 0; i < env->n; i++)
		envp[i + 1] = env->vars[i];
	envp[i + 1] = NULL;
	execve(path, argv, envp);
	child_fails(3);
}

/* Children left to reap later: watchers (hook_spawn), and a hook SIGKILL did not end. */
#define CHILDREN_MAX 8
static pid_t children[CHILDREN_MAX];

static bool remember(pid_t pid)
{
	size_t i;

	for (i = 0; i < CHILDREN_MAX; i++)
		if (children[i] <= 0) {
			children[i] = pid;
			return true;
		}
	return false;
}

void hook_reap(void)
{
	size_t i;

	for (i = 0; i < CHILDREN_MAX; i++)
		if (children[i] > 0 && waitpid(children[i], NULL, WNOHANG) != 0)
			children[i] = 0;     /* reaped, or not ours any more */
}

/*
 * Wait until pid exits or the deadline (ms) passes, reading its output from
 * out_fd (-1: none) into buf (the rest dropped). Its process group is
 * killed before it is reaped (so the group id cannot have been reused):
 * on time, what it left running behind it; late, all of it. 0 with
 * *status; -1 on timeout; -2 when it cannot be waited for (SIGCHLD
 * ignored: reaped unseen), so its verdict is unknown.
 */
static int wait_hook(pid_t pid, int out_fd, uint64_t deadline, char *buf, size_t cap,
		     size_t *len, int *status)
{
	static char drop[4096];     /* output past the first HOOK_OUTPUT_MAX bytes */
	bool open_out = out_fd >= 0;
	uint64_t t;
	ssize_t n;
	int rc = -1;

	for (;;) {
		siginfo_t info = { 0 };

		if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) < 0) {
			if (errno == EINTR)
				continue;
			rc = -2;
			break;
		}
		if (info.si_pid == pid) {
			rc = 0;      /* exited, not yet reaped */
			break;
		}
		if ((t = now_ms()) >= deadline)
			break;
		/* Its output while it runs (a full pipe must not stall it); the exit every 20 ms. */
		struct pollfd p = { .fd = open_out ? out_fd : -1, .events = POLLIN };
		int slice = deadline - t < 20 ? (int)(deadline - t) : 20;

		if (poll(&p, 1, slice) > 0 && open_out) {
			n = read(out_fd, *len < cap ? buf + *len : drop,
				 *len < cap ? cap - *len : sizeof(drop));
			if (n > 0 && *len < cap)
				*len += (size_t)n;
			else if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
				open_out = false;
		}
	}
	if (rc == -2)
		return rc;
	kill(-pid, SIGKILL);
	if (rc == -1)
		kill(pid, SIGKILL);
	/* Reaped at once, unless even SIGKILL cannot end it (stuck in the kernel): then later. */
	deadline = now_ms() + 2000;
	while (waitpid(pid, status, WNOHANG) == 0) {
		if (now_ms() >= deadline) {
			remember(pid);
			return -1;
		}
		usleep(10000);
	}
	return rc;
}

static enum hook_outcome verdict(const char *event, int rc, int status, int child_errno,
				 unsigned timeout_s, char *why, size_t whylen)
{
	if (child_errno != 0)
		snprintf(why, whylen, "the %s hook cannot run: %s", event, strerror(child_errno));
	else if (rc == -1)
		snprintf(why, whylen, "the %s hook did not finish within %u s (killed)", event,
			 timeout_s);
	else if (rc < 0)
		snprintf(why, whylen, "the %s hook's exit status is lost (SIGCHLD ignored?)", event);
	else if (WIFSIGNALED(status))
		snprintf(why, whylen, "the %s hook died of signal %d", event, WTERMSIG(status));
	else if (WEXITSTATUS(status) != 0)
		return HOOK_REFUSED;
	else
		return HOOK_OK;
	return HOOK_FAILED;
}

enum hook_outcome hook_run(const char *path, const char *event, const struct hook_env *env,
			   unsigned timeout_s, char message[HOOK_MESSAGE_MAX + 1],
			   char *why, size_t whylen)
{
	static char out[HOOK_OUTPUT_MAX];
	size_t len = 0;
	int outp[2], errp[2], status = 0, rc, child_errno = 0;
	uint64_t deadline = now_ms() + (uint64_t)timeout_s * 1000;
	pid_t pid;

	message[0] = '\0';
	why[0] = '\0';
	if (pipe2(outp, O_CLOEXEC) < 0) {
		snprintf(why, whylen, "the %s hook: no pipe: %s", event, strerror(errno));
		return HOOK_FAILED;
	}
	if (pipe2(errp, O_CLOEXEC) < 0) {
		snprintf(why, whylen, "the %s hook: no pipe: %s", event, strerror(errno));
		close(outp[0]);
		close(outp[1]);
		return HOOK_FAILED;
	}
	pid = fork();
	if (pid == 0)
		become_hook(path, event, env, outp[1], errp[1]);
	fcntl(outp[0], F_SETFL, fcntl(outp[0], F_GETFL) | O_NONBLOCK);
	close(outp[1]);
	close(errp[1]);
	if (pid < 0) {
		snprintf(why, whylen, "the %s hook: cannot fork: %s", event, strerror(errno));
		close(outp[0]);
		close(errp[0]);
		return HOOK_FAILED;
	}
	setpgid(pid, pid);        /* as the child does: whichever runs first */
	rc = wait_hook(pid, outp[0], deadline, out, sizeof(out), &len, &status);
	if (read(errp[0], &child_errno, sizeof(child_errno)) != (ssize_t)sizeof(child_errno))
		child_errno = 0;
	close(outp[0]);
	close(errp[0]);
	hook_message(out, len, message);
	return verdict(event, rc, status, child_errno, timeout_s, why, whylen);
}

int hook_spawn(const char *path, const char *event, const struct hook_env *env,
	       unsigned timeout_s, bool can_log, char *why, size_t whylen)
{
	char message[HOOK_MESSAGE_MAX + 1], reason[256];
	enum hook_outcome outcome;
	pid_t pid;
	int null, sig;
	size_t i;

	hook_reap();
	for (i = 0; i < CHILDREN_MAX && children[i] > 0; i++)
		continue;
	if (i == CHILDREN_MAX) {
		snprintf(why, whylen, "the %s hook was not run: %d of this process's hooks are still "
			 "running", event, CHILDREN_MAX);
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(why, whylen, "the %s hook: cannot fork: %s", event, strerror(errno));
		return -1;
	}
	if (pid > 0) {
		children[i] = pid;
		return 0;
	}
	/*
	 * The watcher: a session of its own (a web server that kills the CGI
	 * script's group, or stops the pool, does not leave the hook unwatched:
	 * it ends within its timeout anyway), nothing of the request (the
	 * FastCGI socket at fd 0, stdout), r2mpu's signals ignored.
	 */
	setsid();
	null = open("/dev/null", O_RDWR);
	if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(null, STDOUT_FILENO) < 0 ||
	    (!can_log && dup2(null, STDERR_FILENO) < 0))
		_exit(1);
	close_from(3);
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP && sig != SIGCHLD)
			signal(sig, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	memset(children, 0, sizeof(children));    /* the serving process's, not this one's */
	outcome = hook_run(path, event, env, timeout_s, message, reason, sizeof(reason));
	if (outcome == HOOK_REFUSED)
		log_error("the %s hook exited non-zero: %s", event, message);
	else if (outcome == HOOK_FAILED)
		log_error("%s", reason);
	_exit(0);
}
