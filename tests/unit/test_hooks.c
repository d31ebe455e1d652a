/* SPDX-License-Identifier: MIT */
/* test_hooks.c: unit tests for hooks.c -- the environment's escaping, the refusal's line, the verdicts and the timeout */
#include "check_main.h"

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hooks.h"

static uint64_t ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* A new directory dir (a mkdtemp template) holding an executable dir/hook: #!/bin/sh, then body. */
static void write_hook(char *dir, char path[64], const char *body)
{
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, 64, "%s/hook", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "#!/bin/sh\n%s\n", body);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(chmod(path, 0700), 0);
}

static void on_usr1(int sig)
{
	(void)sig;
}

/* ---- the environment: client bytes percent-encoded, r2mpu's own text as is --- */

static const struct env_row {
	const char *value;
	size_t len;
	bool encode;
	const char *var;
} env_rows[] = {
	{ "a/b.c~d_e-f", 11, true, "V=a/b.c~d_e-f" },
	{ "a b\n$(x)`y`\"'\\;|&<>*?", 21, true,
	  "V=a%20b%0A%24%28x%29%60y%60%22%27%5C%3B%7C%26%3C%3E%2A%3F" },
	{ "caf\xc3\xa9", 5, true, "V=caf%C3%A9" },
	{ "a\0b", 3, true, "V=a%00b" },                  /* a NUL in a key cannot cut it short */
	{ "", 0, true, "V=" },
	{ "token line 3", 12, false, "V=token line 3" },
	{ "a\0b", 3, false, "V=a" },
};

START_TEST(env_escaping)
{
	struct hook_env e = { 0 };
	const struct env_row *r = &env_rows[_i];

	ck_assert_int_eq(hook_env_add(&e, "V", r->value, r->len, r->encode), 0);
	ck_assert_uint_eq(e.n, 1);
	ck_assert_str_eq(e.vars[0], r->var);
	ck_assert_ptr_null(e.vars[1]);
	hook_env_free(&e);
}
END_TEST

START_TEST(env_bounds)
{
	struct hook_env e = { 0 };
	char name[16];
	int i;

	ck_assert_int_eq(hook_env_add(&e, "NONE", NULL, 0, true), 0);    /* absent: not added */
	ck_assert_uint_eq(e.n, 0);
	for (i = 0; i < HOOK_VARS_MAX; i++) {
		snprintf(name, sizeof(name), "V%d", i);
		ck_assert_int_eq(hook_env_add(&e, name, "x", 1, false), 0);
	}
	ck_assert_int_eq(hook_env_add(&e, "ONE_TOO_MANY", "x", 1, false), -1);
	ck_assert_ptr_null(e.vars[HOOK_VARS_MAX]);
	hook_env_free(&e);
	ck_assert_uint_eq(e.n, 0);
}
END_TEST

/* ---- the line a client reads ------------------------------------------------------ */

static const struct message_row {
	const char *out;
	const char *message;
} message_rows[] = {
	{ "quota exceeded\nsecond line\n", "quota exceeded" },
	{ "windows\r\n", "windows" },
	{ "\x1b[31mred\x1b[0m", "?[31mred?[0m" },
	{ "caf\xc3\xa9", "caf??" },
	{ "", "" },
	{ "\n", "" },
	{ "<script>alert(1)</script>", "<script>alert(1)</script>" },   /* sent as text/plain */
};

START_TEST(messages)
{
	char m[HOOK_MESSAGE_MAX + 1];

	hook_message(message_rows[_i].out, strlen(message_rows[_i].out), m);
	ck_assert_str_eq(m, message_rows[_i].message);
}
END_TEST

START_TEST(message_bound)
{
	char out[1000], m[HOOK_MESSAGE_MAX + 1];

	memset(out, 'x', sizeof(out));
	hook_message(out, sizeof(out), m);
	ck_assert_uint_eq(strlen(m), HOOK_MESSAGE_MAX);
}
END_TEST

/* ---- running one: verdicts, the timeout -------------------------------------------- */

static const struct run_row {
	const char *script;       /* the hook's body, after #!/bin/sh */
	enum hook_outcome outcome;
	const char *message;      /* the first line it printed ("": not checked) */
	const char *why;          /* a part of it, HOOK_FAILED */
	bool hostile_parent;      /* r2mpu as a server leaves it: SIGTERM blocked, SIGPIPE
				   * ignored, a handler for SIGUSR1, stdin a pipe with data */
	bool sigchld_ignored;     /* whoever started r2mpu ignored SIGCHLD */
} run_rows[] = {
	{ "exit 0", HOOK_OK, "", NULL, false, false },
	{ "echo no; exit 1", HOOK_REFUSED, "no", NULL, false, false },
	/* The hook's own 126 or 127 is its verdict; only an exec that fails is a failure. */
	{ "echo gone; exit 127", HOOK_REFUSED, "gone", NULL, false, false },
	{ "[ \"$1\" = create ] && [ \"$V\" = a%20b ] && [ -z \"$HOME\" ] || exit 9", HOOK_OK, "",
	  NULL, false, false },
	/* Nothing of r2mpu's: stdin /dev/null, no descriptor beyond 0-2 (3 is ls's own) */
	{ "read x && exit 1; exit 0", HOOK_OK, "", NULL, true, false },
	{ "exec ls -m /proc/self/fd", HOOK_OK, "0, 1, 2, 3", NULL, true, false },
	/* ... no signal blocked, ignored or caught */
	/* (signals 1-31: glibc keeps 32 and 33 for itself, as whoever started us left them) */
	{ "b=$(sed -n 's/^SigBlk:\\s*//p' /proc/$$/status); i=$(sed -n 's/^SigIgn:\\s*//p' "
	  "/proc/$$/status); echo blocked=$((0x$b & 0x7fffffff)) ignored=$((0x$i & 0x7fffffff))",
	  HOOK_OK, "blocked=0 ignored=0", NULL, true, false },
	{ "kill -9 $$", HOOK_FAILED, "", "died of signal 9", false, false },
	{ "sleep 30", HOOK_FAILED, "", "did not finish within 1 s", false, false },
	{ "exec 1>&-; sleep 30", HOOK_FAILED, "", "did not finish within 1 s", false, false },
	{ "yes | head -c 1000000; exit 5", HOOK_REFUSED, "y", NULL, false, false },
	/* Exit status 1 with SIGCHLD ignored: lost, so never taken for a yes. */
	{ "exit 1", HOOK_FAILED, "", "status is lost", false, true },
};

START_TEST(runs)
{
	char dir[] = "/tmp/r2mpu-test-hooks-XXXXXX", path[64], message[HOOK_MESSAGE_MAX + 1];
	char why[256];
	struct hook_env env = { 0 };
	const struct run_row *r = &run_rows[_i];
	sigset_t block, saved;
	int in[2], saved_in = dup(STDIN_FILENO);
	uint64_t t0;
	enum hook_outcome o;

	write_hook(dir, path, r->script);
	ck_assert_int_eq(hook_env_add(&env, "V", "a b", 3, true), 0);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	if (r->hostile_parent) {
		sigprocmask(SIG_BLOCK, &block, &saved);
		signal(SIGPIPE, SIG_IGN);
		signal(SIGUSR1, on_usr1);
		ck_assert_int_eq(pipe(in), 0);
		ck_assert_int_eq(write(in[1], "data\n", 5), 5);
		close(in[1]);
		dup2(in[0], STDIN_FILENO);
		close(in[0]);
	}
	if (r->sigchld_ignored)
		signal(SIGCHLD, SIG_IGN);
	t0 = ms();
	o = hook_run(path, "create", &env, 1, message, why, sizeof(why));
	signal(SIGCHLD, SIG_DFL);
	if (r->hostile_parent) {
		sigprocmask(SIG_SETMASK, &saved, NULL);
		signal(SIGPIPE, SIG_DFL);
		signal(SIGUSR1, SIG_DFL);
		dup2(saved_in, STDIN_FILENO);
	}
	close(saved_in);
	ck_assert_msg(o == r->outcome, "row %d: outcome %d (%s)", _i, (int)o,
		      o == HOOK_FAILED ? why : message);
	ck_assert_uint_lt(ms() - t0, 10000);    /* the 1 s timeout, and a loaded machine */
	if (r->message[0] != '\0')
		ck_assert_str_eq(message, r->message);
	if (r->why != NULL)
		ck_assert_msg(strstr(why, r->why) != NULL, "why: %s", why);
	hook_env_free(&env);
	unlink(path);
	rmdir(dir);
}
END_TEST

/* Alive and not a zombie (an orphan killed waits for init to reap it). */
static bool running(int pid)
{
	char path[64], text[512], *p;
	FILE *f;
	bool alive = false;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return false;
	if (fgets(text, sizeof(text), f) != NULL && (p = strrchr(text, ')')) != NULL)
		alive = p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
	fclose(f);
	return alive;
}

/* What a hook leaves running is killed when it exits, and r2mpu does not wait for it. */
START_TEST(leftovers_killed)
{
	char dir[] = "/tmp/r2mpu-test-hooks-XXXXXX", path[64], pidfile[64], message[HOOK_MESSAGE_MAX + 1];
	char why[256];
	struct hook_env env = { 0 };
	uint64_t took;
	FILE *f;
	int pid = 0;

	/* The background job keeps the hook's stdout open. */
	write_hook(dir, path, "sleep 30 &\necho $! > \"$(dirname \"$0\")/pid\"\nexit 0");
	snprintf(pidfile, sizeof(pidfile), "%s/pid", dir);
	took = ms();
	ck_assert_int_eq(hook_run(path, "complete", &env, 20, message, why, sizeof(why)), HOOK_OK);
	took = ms() - took;
	/* Not the 20 s timeout, nor the 30 s of the sleep: it ended with the hook. */
	ck_assert_msg(took < 10000, "waited %llu ms for the hook's leftover",
		      (unsigned long long)took);
	f = fopen(pidfile, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fscanf(f, "%d", &pid), 1);
	fclose(f);
	for (int i = 0; i < 100 && running(pid); i++)
		usleep(10000);
	ck_assert_msg(!running(pid), "the hook's sleep %d still runs", pid);
	unlink(pidfile);
	unlink(path);
	rmdir(dir);
}
END_TEST

/* A spawned hook runs beside this process, never holding it: at most 8 at once, then refused. */
START_TEST(spawned_beside)
{
	char dir[] = "/tmp/r2mpu-test-hooks-XXXXXX", path[64], mark[80], why[256];
	struct hook_env env = { 0 };
	int i;

	write_hook(dir, path, "sleep 2\ntouch \"$(dirname \"$0\")/done\"");
	snprintf(mark, sizeof(mark), "%s/done", dir);
	for (i = 0; i < 8; i++)
		ck_assert_int_eq(hook_spawn(path, "complete", &env, 30, true, why, sizeof(why)), 0);
	/* Returned before any of them could end, and the ninth is refused, not waited for. */
	ck_assert_int_ne(access(mark, F_OK), 0);
	ck_assert_int_eq(hook_spawn(path, "complete", &env, 30, true, why, sizeof(why)), -1);
	ck_assert_msg(strstr(why, "8 of this process's hooks are still running") != NULL, "%s", why);
	ck_assert_int_ne(access(mark, F_OK), 0);
	/* Once they are done and reaped, there is room again. */
	for (i = 0; i < 1000 && hook_spawn("/bin/true", "complete", &env, 30, true, why,
					   sizeof(why)) < 0; i++) {
		usleep(20000);
		hook_reap();
	}
	ck_assert_msg(i < 1000, "no room after the hooks ended: %s", why);
	ck_assert_int_eq(access(mark, F_OK), 0);
	snprintf(mark, sizeof(mark), "sleep 3; rm -rf %s", dir);   /* after the last touch */
	ck_assert_int_eq(system(mark), 0);
	hook_reap();
}
END_TEST

START_TEST(missing)
{
	char message[HOOK_MESSAGE_MAX + 1], why[256];
	struct hook_env env = { 0 };

	ck_assert_int_eq(hook_run("/nonexistent/hook", "create", &env, 1, message, why,
				  sizeof(why)), HOOK_FAILED);
	ck_assert_ptr_nonnull(strstr(why, "cannot run: No such file or directory"));
}
END_TEST

static Suite *hooks_suite(void)
{
	Suite *s = suite_create("hooks");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, env_escaping, 0, NROWS(env_rows));
	tcase_add_test(tc, env_bounds);
	tcase_add_loop_test(tc, messages, 0, NROWS(message_rows));
	tcase_add_test(tc, message_bound);
	tcase_add_loop_test(tc, runs, 0, NROWS(run_rows));
	tcase_add_test(tc, leftovers_killed);
	tcase_add_test(tc, spawned_beside);
	tcase_add_test(tc, missing);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(hooks_suite)
