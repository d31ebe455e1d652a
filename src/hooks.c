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

/*
 * In the child: become the hook. stdout is out_fd (-1: /dev/null), stderr
 * the log's or /dev/null. Never returns.
 */
static void become_hook(const char *path, const char *event, const struct hook_env *env,
			int out_fd, bool keep_stderr)
{
	char *argv[] = { (char *)path, (char *)event, NULL };
	char *envp[HOOK_VARS_MAX + 2];
	sigset_t none;
	size_t i;
	int null = open("/dev/null", O_RDWR);
	int sig;

	/* r2mpu blocks signals while serving and ignores SIGPIPE and SIGHUP: exec keeps both. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	setpgid(0, 0);
	if (null < 0 || dup2(null, STDIN_FILENO) < 0 ||
	    dup2(out_fd >= 0 ? out_fd : null, STDOUT_FILENO) < 0 ||
	    (!keep_stderr && dup2(null, STDERR_FILENO) < 0))
		_exit(126);
	/* Nothing else of r2mpu's: not the FastCGI socket, not the store's files. */
	close_from(3);
	envp[0] = (char *)HOOK_PATH_ENV;
	for (i = 0; i < env->n; i++)
		envp[i + 1] = env->vars[i];
	envp[i + 1] = NULL;
	execve(path, argv, envp);
	dprintf(STDERR_FILENO, "r2mpu: the %s hook %s cannot run: %s\n", event, path,
		strerror(errno));
	_exit(127);
}

/* Wait for pid until deadline (ms), reading *out_fd's output into buf; -1 on timeout. */
static int wait_hook(pid_t pid, int out_fd, uint64_t deadline, char *buf, size_t cap,
		     size_t *len, int *status)
{
	char drop[4096];
	uint64_t t;
	ssize_t n;

	while (out_fd >= 0 && (t = now_ms()) < deadline) {
		struct pollfd p = { .fd = out_fd, .events = POLLIN };
		int left = (int)(deadline - t);

		if (poll(&p, 1, left) < 0 && errno != EINTR)
			break;
		if (p.revents == 0)
			continue;
		if (*len < cap)
			n = read(out_fd, buf + *len, cap - *len);
		else
			n = read(out_fd, drop, sizeof(drop));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;     /* EOF: it closed stdout (most likely it is exiting) */
		if (*len < cap)
			*len += (size_t)n;
	}
	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return 0;     /* not ours to wait for any more: nothing to kill */
		if (now_ms() >= deadline)
			break;
		usleep(10000);
	}
	kill(-pid, SIGKILL);      /* its process group: what it started too */
	kill(pid, SIGKILL);
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		continue;
	return -1;
}

static enum hook_outcome verdict(const char *event, int rc, int status, unsigned timeout_s,
				 char *why, size_t whylen)
{
	if (rc < 0)
		snprintf(why, whylen, "the %s hook did not finish within %u s (killed)", event,
			 timeout_s);
	else if (WIFSIGNALED(status))
		snprintf(why, whylen, "the %s hook died of signal %d", event, WTERMSIG(status));
	else if (WIFEXITED(status) && (WEXITSTATUS(status) == 126 || WEXITSTATUS(status) == 127))
		snprintf(why, whylen, "the %s hook could not run (exit %d)", event,
			 WEXITSTATUS(status));
	else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
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
	int pipefd[2], status = 0, rc;
	uint64_t deadline = now_ms() + (uint64_t)timeout_s * 1000;
	pid_t pid;

	message[0] = '\0';
	why[0] = '\0';
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		snprintf(why, whylen, "the %s hook: no pipe: %s", event, strerror(errno));
		return HOOK_FAILED;
	}
	pid = fork();
	if (pid == 0)
		become_hook(path, event, env, pipefd[1], true);
	close(pipefd[1]);
	if (pid < 0) {
		close(pipefd[0]);
		snprintf(why, whylen, "the %s hook: cannot fork: %s", event, strerror(errno));
		return HOOK_FAILED;
	}
	setpgid(pid, pid);        /* as the child does: whichever runs first */
	rc = wait_hook(pid, pipefd[0], deadline, out, sizeof(out), &len, &status);
	close(pipefd[0]);
	hook_message(out, len, message);
	return verdict(event, rc, status, timeout_s, why, whylen);
}

int hook_start(const char *path, const char *event, const struct hook_env *env,
	       unsigned timeout_s, bool log_stderr, char *why, size_t whylen)
{
	pid_t first = fork(), hook;
	int status = 0, rc;
	enum hook_outcome outcome;

	if (first < 0) {
		snprintf(why, whylen, "the %s hook: cannot fork: %s", event, strerror(errno));
		return -1;
	}
	if (first == 0) {
		/*
		 * The first child forks the watcher and leaves at once, so the
		 * watcher is nobody's child here: this process never waits for
		 * it. The watcher lets go of the request: the response's
		 * descriptors, the FastCGI socket.
		 */
		char reason[256];
		int null = open("/dev/null", O_RDWR);

		if (fork() != 0)
			_exit(0);
		setsid();
		if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(null, STDOUT_FILENO) < 0 ||
		    (!log_stderr && dup2(null, STDERR_FILENO) < 0))
			_exit(1);
		close_from(3);
		hook = fork();
		if (hook == 0)
			become_hook(path, event, env, -1, log_stderr);
		if (hook < 0)
			_exit(1);
		setpgid(hook, hook);
		rc = wait_hook(hook, -1, now_ms() + (uint64_t)timeout_s * 1000, NULL, 0, NULL,
			       &status);
		outcome = verdict(event, rc, status, timeout_s, reason, sizeof(reason));
		if (outcome == HOOK_OK)
			_exit(0);
		if (outcome == HOOK_REFUSED)
			snprintf(reason, sizeof(reason), "the %s hook exited with %d", event,
				 WEXITSTATUS(status));
		if (log_stderr)
			log_error("%s", reason);
		_exit(1);
	}
	while (waitpid(first, &status, 0) < 0 && errno == EINTR)
		continue;
	return 0;
}
