/* SPDX-License-Identifier: MIT */
/* standalone.c: r2mpu as its own FastCGI server -- a socket, worker processes, supervision */
#include "standalone.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <grp.h>
#include <pwd.h>

#include "errors.h"
#include "log.h"

#define LISTEN_BACKLOG 128
#define FAST_DEATH_SECONDS 2      /* a worker dying sooner than this is throttled */
#define FAST_DEATHS_MAX 10        /* ... and this many such deaths in a row stop it all */

static volatile sig_atomic_t got_term, got_child, got_hup;

static void on_signal(int sig)
{
	if (sig == SIGCHLD)
		got_child = 1;
	else if (sig == SIGHUP)
		got_hup = 1;
	else
		got_term = 1;        /* SIGTERM, SIGINT, SIGUSR1 */
}

int standalone_parse_workers(const char *s)
{
	long v = 0;
	size_t i;

	if (s == NULL || s[0] == '\0' || strlen(s) > 3)
		return -1;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v >= 1 && v <= STANDALONE_WORKERS_MAX ? (int)v : -1;
}

#define SYSTEMD_FIRST_FD 3       /* sd_listen_fds(3): passed sockets start here */

/*
 * The one listening socket systemd passes to a socket-activated service: its
 * protocol (LISTEN_PID names this process, LISTEN_FDS counts the sockets from
 * fd 3), read here without libsystemd. The variables are removed, so the
 * workers' environment does not claim sockets it no longer describes.
 */
static int systemd_listener(char *errbuf, size_t errlen)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	int accepting = 0;
	socklen_t len = sizeof(accepting);
	char *end;
	long v;

	if (pid == NULL || fds == NULL) {
		snprintf(errbuf, errlen, "--listen systemd: no socket from systemd "
			 "(LISTEN_PID and LISTEN_FDS are not set)");
		return -1;
	}
	errno = 0;
	v = strtol(pid, &end, 10);
	if (errno != 0 || *end != '\0' || end == pid || v != (long)getpid()) {
		snprintf(errbuf, errlen, "--listen systemd: LISTEN_PID is not this process");
		return -1;
	}
	if (strcmp(fds, "1") != 0) {
		snprintf(errbuf, errlen, "--listen systemd: LISTEN_FDS=%.16s; one socket "
			 "expected (one ListenStream= in the socket unit)", fds);
		return -1;
	}
	if (getsockopt(SYSTEMD_FIRST_FD, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) < 0 ||
	    !accepting) {
		snprintf(errbuf, errlen, "--listen systemd: fd %d is not a listening socket "
			 "(Accept=no in the socket unit)", SYSTEMD_FIRST_FD);
		return -1;
	}
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return SYSTEMD_FIRST_FD;
}

/*
 * A listening unix socket at path, made with `mode` (through the umask, so
 * it never exists with more); a socket left by an earlier run is replaced,
 * anything else there is not.
 */
static int unix_listener(const char *path, int mode, char *errbuf, size_t errlen)
{
	struct sockaddr_un un;
	struct stat st;
	mode_t old_umask;
	int fd, rc;

	if (strlen(path) >= sizeof(un.sun_path)) {
		snprintf(errbuf, errlen, "--listen %s: path too long", path);
		return -1;
	}
	memset(&un, 0, sizeof(un));
	un.sun_family = AF_UNIX;
	memcpy(un.sun_path, path, strlen(path) + 1);
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	old_umask = umask((mode_t)(~mode & 0777));
	rc = fd < 0 ? -1 : bind(fd, (struct sockaddr *)&un, sizeof(un));
	umask(old_umask);
	if (fd < 0 || rc < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
		snprintf(errbuf, errlen, "--listen %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/*
 * Split "host:port", "[v6]:port" or ":port" (127.0.0.1) into host and port.
 * -1 when it is none of these.
 */
int standalone_split_address(const char *address, char *host, size_t hostlen,
			     char *port, size_t portlen)
{
	const char *colon, *h = address;
	size_t hl;

	if (address[0] == '[') {
		const char *close = strchr(address, ']');

		if (close == NULL || close[1] != ':')
			return -1;
		h = address + 1;
		hl = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(address, ':');
		if (colon == NULL || memchr(address, ':', (size_t)(colon - address)) != NULL)
			return -1;     /* a bare IPv6 address needs its brackets */
		hl = (size_t)(colon - address);
	}
	if (hl == 0) {
		h = "127.0.0.1";
		hl = strlen(h);
	}
	if (hl >= hostlen || strlen(colon + 1) >= portlen || colon[1] == '\0' ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1) || atoi(colon + 1) < 1 ||
	    atoi(colon + 1) > 65535)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	snprintf(port, portlen, "%s", colon + 1);
	return 0;
}

/*
 * A listening socket for "host:port" (a name or an IPv4 or IPv6 address),
 * ":port" or a path (made with `mode`). A name binds its first address that
 * can be bound (localhost: ::1 or 127.0.0.1, as /etc/hosts has it); `bound`
 * gets the one it took, for the log.
 */
static int open_listener(const char *address, int mode, char *bound, size_t boundlen,
			 char *errbuf, size_t errlen)
{
	struct addrinfo hints, *found = NULL, *ai;
	char host[256], port[8];
	int fd = -1, one = 1, rc, saved = 0;

	snprintf(bound, boundlen, "%s", address);
	if (address[0] == '/')
		return unix_listener(address, mode, errbuf, errlen);
	if (standalone_split_address(address, host, sizeof(host), port, sizeof(port)) < 0) {
		snprintf(errbuf, errlen, "--listen %s: expected host:port, [ipv6]:port, :port or "
			 "/path/to/socket", address);
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(host, port, &hints, &found);
	if (rc != 0) {
		snprintf(errbuf, errlen, "--listen %s: %s", address, gai_strerror(rc));
		return -1;
	}
	/* The first of the name's addresses that binds (localhost: 127.0.0.1 or ::1). */
	for (ai = found; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, LISTEN_BACKLOG) == 0) {
			char h[NI_MAXHOST];

			if (getnameinfo(ai->ai_addr, ai->ai_addrlen, h, sizeof(h), NULL, 0,
					NI_NUMERICHOST) == 0)
				snprintf(bound, boundlen, ai->ai_family == AF_INET6 ? "[%s]:%s" :
					 "%s:%s", h, port);
			break;
		}
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(found);
	if (fd < 0)
		snprintf(errbuf, errlen, "--listen %s: %s", address, strerror(saved));
	return fd;
}

/* Fork one worker; it never returns. -1 in the parent when fork fails. */
static pid_t spawn(const struct config *cfg, int (*serve)(const struct config *),
		   const sigset_t *old_mask)
{
	pid_t parent = getpid(), pid = fork();

	if (pid != 0)
		return pid;
	/*
	 * A worker dies with its supervisor, even one killed outright: SIGTERM,
	 * so the request in flight finishes. Orphans would keep the socket and
	 * serve settings nobody supervises (and a restart would find it taken).
	 */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
		_exit(0);
	/* The worker: default signals, then the ordinary accept loop on fd 0. */
	signal(SIGCHLD, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_IGN);     /* reloading is the supervisor's; a worker serves on */
	signal(SIGUSR1, SIG_DFL);
	sigprocmask(SIG_SETMASK, old_mask, NULL);
	_exit(serve(cfg));
}

/* SIGHUP: new settings, then new workers; the old ones finish their request and leave. */
static void reload_workers(struct config *cfg, int workers, pid_t *pids, pid_t *retiring,
			   time_t *born, int (*serve)(const struct config *),
			   int (*reload)(struct config *, char *, size_t), const sigset_t *old_mask)
{
	char why[512];
	int i;

	if (reload(cfg, why, sizeof(why)) < 0) {
		log_error("SIGHUP: the new settings are refused, the workers serve on with "
			  "the old ones: %s", why);
		return;
	}
	for (i = 0; i < workers; i++) {
		if (pids[i] > 0) {
			/* One still retiring from an earlier reload stays SIGTERMed, and
			 * the stop waits for every child, so it need not be tracked. */
			if (retiring[i] <= 0)
				retiring[i] = pids[i];
			kill(pids[i], SIGTERM);
		}
		pids[i] = spawn(cfg, serve, old_mask);
		born[i] = time(NULL);
	}
	log_info("SIGHUP: settings read again; %d new workers", workers);
}

int standalone_parse_mode(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	long v;

	if ((n != 3 && n != 4) || strspn(s, "01234567") != n)
		return -1;
	v = strtol(s, NULL, 8);
	return v <= 0777 ? (int)v : -1;
}

/* A unix socket's owner ("USER[:GROUP]"), before privileges are dropped. */
static int socket_owner(const char *path, const char *owner, char *errbuf, size_t errlen)
{
	char user[64], *colon;
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;

	if (owner != NULL) {
		if (strlen(owner) >= sizeof(user)) {
			snprintf(errbuf, errlen, "--socket-owner: too long");
			return -1;
		}
		snprintf(user, sizeof(user), "%s", owner);
		colon = strchr(user, ':');
		if (colon != NULL) {
			struct group *gr = getgrnam(colon + 1);

			*colon = '\0';
			if (gr == NULL) {
				snprintf(errbuf, errlen, "--socket-owner: no group %.64s", colon + 1);
				return -1;
			}
			gid = gr->gr_gid;
		}
		if (user[0] != '\0') {
			struct passwd *pw = getpwnam(user);

			if (pw == NULL) {
				snprintf(errbuf, errlen, "--socket-owner: no user %.64s", user);
				return -1;
			}
			uid = pw->pw_uid;
		}
		if (lchown(path, uid, gid) < 0) {
			snprintf(errbuf, errlen, "--socket-owner %.64s: %s", owner, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/*
 * Become --user and --group once the socket is open: the group (the user's
 * own unless told), the user's supplementary groups (none for a group alone),
 * then the user; and make sure root cannot be had back.
 */
static int drop_privileges(const char *user, const char *group, char *errbuf, size_t errlen)
{
	struct passwd *pw = NULL;
	struct group *gr = NULL;
	gid_t gid;

	if (user == NULL && group == NULL)
		return 0;
	if (user != NULL && (pw = getpwnam(user)) == NULL) {
		snprintf(errbuf, errlen, "--user: no user %.64s", user);
		return -1;
	}
	if (group != NULL && (gr = getgrnam(group)) == NULL) {
		snprintf(errbuf, errlen, "--group: no group %.64s", group);
		return -1;
	}
	if (gr != NULL)
		gid = gr->gr_gid;
	else if (pw != NULL)
		gid = pw->pw_gid;
	else
		return 0;            /* neither was asked for: returned above already */
	if ((pw != NULL ? initgroups(pw->pw_name, gid) : setgroups(1, &gid)) < 0 ||
	    setgid(gid) < 0 || (pw != NULL && setuid(pw->pw_uid) < 0)) {
		snprintf(errbuf, errlen, "--user/--group: %s (it takes root to change them)",
			 strerror(errno));
		return -1;
	}
	if (pw != NULL && pw->pw_uid != 0 && setuid(0) == 0) {
		snprintf(errbuf, errlen, "--user: root could be had back");
		return -1;
	}
	return 0;
}

int standalone_run(struct config *cfg, const struct standalone_options *opt,
		   const struct standalone_hooks *hooks, char *errbuf, size_t errlen)
{
	const char *address = opt->address;
	char bound[NI_MAXHOST + 16];
	int workers = opt->workers;
	int (*serve)(const struct config *) = hooks->serve;
	int (*reload)(struct config *, char *, size_t) = hooks->reload;
	pid_t pids[STANDALONE_WORKERS_MAX], retiring[STANDALONE_WORKERS_MAX];
	time_t born[STANDALONE_WORKERS_MAX];
	struct sigaction sa;
	sigset_t block, old_mask;
	int fd, i, alive = 0, fast_deaths = 0, rc = 0;

	/* Our own socket, not FCGX_OpenSocket(): libfcgi exit()s when bind fails. */
	snprintf(bound, sizeof(bound), "%s", address);
	if (strcmp(address, "systemd") == 0)
		fd = systemd_listener(errbuf, errlen);
	else
		fd = open_listener(address, opt->socket_mode, bound, sizeof(bound), errbuf, errlen);
	if (fd < 0)
		return 1;
	/* libfcgi's workers accept on fd 0: that is what makes them FastCGI. */
	if (fd != 0 && (dup2(fd, 0) < 0 || close(fd) < 0)) {
		snprintf(errbuf, errlen, "--listen: dup2: %s", strerror(errno));
		return 1;
	}
	if (address[0] == '/' && socket_owner(address, opt->socket_owner, errbuf, errlen) < 0)
		return 1;
	if (drop_privileges(opt->user, opt->group, errbuf, errlen) < 0)
		return 1;
	/*
	 * The settings, the access rules and the store once more, as the user the
	 * workers run as (and a SIGHUP reads them): files it cannot read, or a
	 * store it cannot write, refuse the start instead of every reload.
	 */
	if (reload(cfg, errbuf, errlen) < 0)
		return 1;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* Signals wait for sigsuspend(), so none is lost between checks. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &old_mask);

	for (i = 0; i < workers; i++) {
		pids[i] = spawn(cfg, serve, &old_mask);
		retiring[i] = -1;
		born[i] = time(NULL);
		alive += pids[i] > 0;
	}
	log_info("listening on %s with %d workers", bound, alive);
	while (!got_term) {
		pid_t pid;
		int status;

		sigsuspend(&old_mask);
		got_child = 0;
		if (got_hup && !got_term) {
			got_hup = 0;
			reload_workers(cfg, workers, pids, retiring, born, serve, reload, &old_mask);
		}
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			for (i = 0; i < workers; i++)
				if (retiring[i] == pid)
					retiring[i] = -1;     /* left after a reload, as asked */
			for (i = 0; i < workers; i++) {
				if (pids[i] != pid)
					continue;
				pids[i] = -1;      /* reaped: never signalled again */
				if (got_term)
					break;
				log_error("worker %ld %s %d; starting another", (long)pid,
					  WIFSIGNALED(status) ? "died of signal" : "exited with",
					  WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
				/* A worker that dies at once would otherwise spin: slow it,
				 * and give up when every new one does (it cannot serve). */
				if (time(NULL) - born[i] >= FAST_DEATH_SECONDS) {
					fast_deaths = 0;
				} else if (++fast_deaths >= FAST_DEATHS_MAX) {
					log_error("%d workers in a row died at start: stopping",
						  fast_deaths);
					got_term = 1;
					rc = 1;
					break;
				} else {
					sleep(1);
				}
				pids[i] = spawn(cfg, serve, &old_mask);
				born[i] = time(NULL);
			}
		}
	}
	/* Stop: each worker finishes its request in flight, then leaves. */
	for (i = 0; i < workers; i++) {
		if (pids[i] > 0)
			kill(pids[i], SIGTERM);
		if (retiring[i] > 0)
			kill(retiring[i], SIGTERM);
	}
	/* Every child, a worker retiring from an earlier reload included. */
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
	if (address[0] == '/')
		unlink(address);
	log_info("stopped");
	return rc;
}
