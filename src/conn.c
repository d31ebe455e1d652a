/* SPDX-License-Identifier: MIT */
/* conn.c: the connection to the web server -- FastCGI or CGI, one request at a time, each held to a pace */
#include "conn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <fcgiapp.h>

#include "errors.h"
#include "log.h"

/*
 * Written against libfcgi 2.4.2 (Debian 12), whose FCGX_Stream fields
 * rdNext, stop and wrNext are public: what a stream holds is read from
 * them, so that only a call that may reach the socket is given a timeout.
 */

/* libfcgi's stream buffers are 8 KiB: an answer is written in pieces of that. */
#define FCGI_CHUNK 8192
#define CGI_OUT_MAX (16 * 1024)
/*
 * A refused request's unread body is read and dropped only where the web
 * server needs that (server_needs_drain()): for at most DRAIN_MS, and
 * only while it keeps coming (no gap over DRAIN_GAP_MS).
 */
#define DRAIN_MS 1000
#define DRAIN_GAP_MS 250
/* The pace's bucket holds at most this many io_timeouts (struct pace). */
#define PACE_CREDIT_MAX 2
/* After the parameters' deadline, wake libfcgi's own waits (its close) this often. */
#define NUDGE_USEC 100000
/* FCGI_WEB_SERVER_ADDRS: the peers a TCP listener accepts, as libfcgi's own accept does. */
#define WEB_SERVERS_MAX 16

/*
 * One direction of a request's body, held to the pace as a bucket of
 * time: it starts with io_timeout (the grace), each byte moved adds
 * 1/min_rate s, waiting spends it, and it never holds more than
 * PACE_CREDIT_MAX io_timeouts -- so a client that sent (or read) a burst
 * cannot then trickle for as long as the burst would buy at min_rate.
 * A client below min_rate for long enough runs out and is ended.
 */
struct pace {
	bool started;
	struct timespec start;
	int64_t deadline_ms;         /* since start: the bucket runs out then */
	uint64_t bytes;              /* moved so far ... */
	int64_t earned_ms;           /* ... and the time they have earned (no rounding lost) */
	int64_t limit_ms;            /* all of it within this, whatever the rate; 0: none */
	int64_t idle_ms;             /* the longest wait for a byte; 0: io_timeout */
};

/*
 * The process's one connection. FastCGI: r2mpu accepts the connection
 * itself (so that its timeouts are set before libfcgi reads a byte) and
 * hands it to libfcgi, which reads the request's records. libfcgi's
 * FCGX_Request has no listening socket (-1): when it drops a connection
 * (bad records, parameters too slow) it returns to us instead of
 * accepting one without our timeouts. Parameters are never copied into
 * environ, so nothing a request sends can become a process setting
 * (libcurl reads http_proxy from there). Every connection is closed after
 * its request (FCGI_KEEP_CONN is not honoured): a kept connection would
 * hold this process between requests, deaf to the listening socket.
 */
static struct {
	struct conn_limits lim;
	bool cgi;
	bool cgi_served;
	FCGX_Request req;
	struct pace in, out;
	int64_t rcv_ms, snd_ms;      /* the socket's SO_RCVTIMEO/SO_SNDTIMEO as set */
	bool too_slow;               /* the last failure was the pace */
	bool in_failed, out_failed;  /* a read or write failed: no more of that direction */
	bool body_ended;             /* the body was read to its end */
	struct in_addr web_servers[WEB_SERVERS_MAX];
	size_t nweb_servers;         /* 0: any peer */
	size_t olen;                 /* CGI: answer bytes waiting in obuf */
	char obuf[CGI_OUT_MAX];
} conn;

static volatile sig_atomic_t *stop_flag;
static volatile sig_atomic_t term_seen;

static void on_term(int sig)
{
	(void)sig;
	term_seen = 1;
	if (stop_flag != NULL)
		*stop_flag = 1;
}

static void on_alarm(int sig)
{
	(void)sig;     /* only to interrupt a wait: see fcgi_accept() */
}

/*
 * SIGTERM, SIGINT and SIGUSR1 (libfcgi's "stop after this request") are
 * held back (blocked, so pending) for the life of the process, and let
 * through only while it waits for a connection (ppoll() in
 * wait_for_connection()): a request that has begun is always served -- a
 * signal can neither break its reads and writes (SA_RESTART would not
 * restart them on sockets with timeouts) nor come between accept() and
 * the parameters -- and the wait after it ends the process.
 */
static void stop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGUSR1);
}

static void install(int sig, void (*handler)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;       /* no SA_RESTART: the wait it ends must fail */
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

static void alarm_arm(unsigned seconds)
{
	struct itimerval it = { .it_value = { .tv_sec = seconds },
				.it_interval = { .tv_usec = NUDGE_USEC } };

	setitimer(ITIMER_REAL, &it, NULL);
}

static void alarm_disarm(void)
{
	struct itimerval off;

	memset(&off, 0, sizeof(off));
	setitimer(ITIMER_REAL, &off, NULL);
}

/* FCGI_WEB_SERVER_ADDRS, "a.b.c.d,e.f.g.h": libfcgi's own accept honours it, so does ours. */
static int load_web_servers(void)
{
	const char *list = getenv("FCGI_WEB_SERVER_ADDRS");
	char addr[INET_ADDRSTRLEN];

	conn.nweb_servers = 0;
	while (list != NULL && *list != '\0') {
		size_t n = strcspn(list, ", ");

		if (n > 0) {
			if (n >= sizeof(addr) || conn.nweb_servers == WEB_SERVERS_MAX)
				return -1;
			memcpy(addr, list, n);
			addr[n] = '\0';
			if (inet_pton(AF_INET, addr, &conn.web_servers[conn.nweb_servers++]) != 1)
				return -1;
		}
		list += n + strspn(list + n, ", ");
	}
	return 0;
}

int conn_init(const struct conn_limits *limits)
{
	sigset_t held;
	int flags;

	conn.lim = *limits;
	if (conn.lim.io_timeout == 0)
		conn.lim.io_timeout = 1;
	/* Before libfcgi's initialisation, which takes SIGTERM only when nobody has. */
	install(SIGTERM, on_term);
	install(SIGINT, on_term);
	install(SIGALRM, on_alarm);
	stop_signals(&held);
	sigprocmask(SIG_BLOCK, &held, NULL);
	conn.cgi = FCGX_IsCGI();
	install(SIGUSR1, on_term);     /* after FCGX_IsCGI(), whose initialisation sets its own */
	if (conn.cgi) {
		/* Waits on the pipes are polled, within the pace (cgi_read(), cgi_write_out()). */
		fcntl(STDIN_FILENO, F_SETFL, fcntl(STDIN_FILENO, F_GETFL) | O_NONBLOCK);
		fcntl(STDOUT_FILENO, F_SETFL, fcntl(STDOUT_FILENO, F_GETFL) | O_NONBLOCK);
		return 0;
	}
	if (load_web_servers() < 0) {
		log_error("FCGI_WEB_SERVER_ADDRS: expected IPv4 addresses separated by commas");
		return -1;
	}
	/*
	 * Workers share the listening socket: one that lost the race for a
	 * connection polls again rather than block in accept(). (So every
	 * process on this socket must be r2mpu: a blocking accept elsewhere
	 * would see EAGAIN. On Linux an accepted socket does not inherit it.)
	 */
	flags = fcntl(0, F_GETFL);
	if (flags < 0 || fcntl(0, F_SETFL, flags | O_NONBLOCK) < 0 ||
	    FCGX_InitRequest(&conn.req, -1, 0) != 0)
		return -1;
	return 0;
}

bool conn_is_cgi(void)
{
	return conn.cgi;
}

/* ---- the pace -------------------------------------------------------------- */

int64_t conn_pace_earned_ms(uint64_t bytes, uint64_t min_rate)
{
	if (min_rate == 0)
		return 0;
	/* bytes * 1000 overflows past 16 EiB / 1000: no body is that large, but stay defined. */
	if (bytes > (uint64_t)INT64_MAX / 1000)
		return INT64_MAX / 2;
	return (int64_t)(bytes * 1000 / min_rate);
}

int64_t conn_pace_credit(int64_t deadline_ms, int64_t now_ms, int64_t gained_ms,
			 int64_t credit_max_ms)
{
	int64_t cap = now_ms + credit_max_ms;

	return gained_ms > cap - deadline_ms ? cap : deadline_ms + gained_ms;
}

int64_t conn_pace_left(int64_t deadline_ms, int64_t now_ms, uint64_t min_rate, int64_t idle_ms,
		       int64_t limit_ms)
{
	int64_t left = idle_ms;

	if (min_rate > 0 && deadline_ms - now_ms < left)
		left = deadline_ms - now_ms;
	if (limit_ms > 0 && limit_ms - now_ms < left)
		left = limit_ms - now_ms;
	return left;
}

static int64_t now_ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)(now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000;
}

static int64_t idle_limit_ms(const struct pace *p)
{
	return p->idle_ms > 0 ? p->idle_ms : (int64_t)conn.lim.io_timeout * 1000;
}

static void pace_start(struct pace *p)
{
	if (!p->started) {
		clock_gettime(CLOCK_MONOTONIC, &p->start);
		p->deadline_ms = (int64_t)conn.lim.io_timeout * 1000;
		p->started = true;
	}
}

/* n bytes moved: the bucket gains what they earned, up to its size. */
static void pace_moved(struct pace *p, uint64_t n)
{
	int64_t earned;

	if (conn.lim.min_rate == 0)
		return;
	pace_start(p);
	p->bytes += n;
	earned = conn_pace_earned_ms(p->bytes, conn.lim.min_rate);
	p->deadline_ms = conn_pace_credit(p->deadline_ms, now_ms_since(&p->start),
					  earned - p->earned_ms,
					  PACE_CREDIT_MAX * (int64_t)conn.lim.io_timeout * 1000);
	p->earned_ms = earned;
}

/* How long the next byte of this direction may still be waited for, in ms (<= 0: too slow). */
static int64_t pace_wait_ms(struct pace *p)
{
	pace_start(p);
	return conn_pace_left(p->deadline_ms, now_ms_since(&p->start), conn.lim.min_rate,
			      idle_limit_ms(p), p->limit_ms);
}

/* ---- FastCGI --------------------------------------------------------------- */

/*
 * Before a libfcgi call that may wait on the socket: each wait in it may
 * last only as long as the pace allows (SO_RCVTIMEO or SO_SNDTIMEO, set
 * again only when that has changed by much). -1 when the pace has run out.
 * Calls that libfcgi answers from its buffers never wait, and pay nothing.
 */
static int fcgi_allow_wait(struct pace *p, int optname, int64_t *set_ms)
{
	int64_t ms = pace_wait_ms(p);

	if (ms <= 0) {
		conn.too_slow = true;
		return -1;
	}
	if (ms < *set_ms - 10 || ms > *set_ms + 1000) {
		struct timeval tv = { .tv_sec = (time_t)(ms / 1000),
				      .tv_usec = (suseconds_t)(ms % 1000) * 1000 };

		if (setsockopt(conn.req.ipcFd, SOL_SOCKET, optname, &tv, sizeof(tv)) == 0)
			*set_ms = ms;
	}
	return 0;
}

/* A stream's failure: the socket's timeout (EAGAIN) is the pace. */
static void fcgi_failed(FCGX_Stream *stream, bool *failed)
{
	int e = FCGX_GetError(stream);

	if (e == EAGAIN || e == EWOULDBLOCK)
		conn.too_slow = true;
	*failed = true;
}

/* A new connection's limits; TCP_NODELAY as libfcgi sets it (records are written whole). */
static void socket_limits(int fd)
{
	struct timeval tv = { .tv_sec = (time_t)conn.lim.io_timeout };
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int one = 1;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	conn.rcv_ms = conn.snd_ms = (int64_t)conn.lim.io_timeout * 1000;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0 &&
	    (ss.ss_family == AF_INET || ss.ss_family == AF_INET6))
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* FCGI_WEB_SERVER_ADDRS allows this peer (IPv4 only, as libfcgi; anything else passes). */
static bool peer_allowed(const struct sockaddr_storage *peer)
{
	const struct sockaddr_in *in = (const struct sockaddr_in *)peer;
	size_t i;

	if (conn.nweb_servers == 0 || peer->ss_family != AF_INET)
		return true;
	for (i = 0; i < conn.nweb_servers; i++)
		if (in->sin_addr.s_addr == conn.web_servers[i].s_addr)
			return true;
	return false;
}

/* accept() errors that concern one connection, not the listening socket. */
static bool accept_error_passes(int e)
{
	return e == EINTR || e == ECONNABORTED || e == EPROTO || e == ENETDOWN ||
	       e == ENOPROTOOPT || e == EHOSTDOWN || e == ENONET || e == EHOSTUNREACH ||
	       e == EOPNOTSUPP || e == ENETUNREACH || e == EAGAIN || e == EWOULDBLOCK;
}

/* The next connection on the listening socket (fd 0), or -1 to stop. */
static int wait_for_connection(volatile sig_atomic_t *stop)
{
	sigset_t waiting, held;

	sigprocmask(SIG_BLOCK, NULL, &waiting);
	stop_signals(&held);
	sigdelset(&waiting, SIGTERM);
	sigdelset(&waiting, SIGINT);
	sigdelset(&waiting, SIGUSR1);
	for (;;) {
		struct pollfd pfd = { .fd = 0, .events = POLLIN };
		struct sockaddr_storage peer;
		socklen_t len = sizeof(peer);
		int fd;

		if (*stop)
			return -1;
		if (ppoll(&pfd, 1, NULL, &waiting) < 0) {
			if (errno == EINTR)
				continue;
			log_error("poll of the FastCGI socket: %s", strerror(errno));
			return -1;
		}
		fd = accept4(0, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC);
		if (fd >= 0 && !peer_allowed(&peer)) {
			close(fd);
			continue;
		}
		if (fd >= 0)
			return fd;
		if (accept_error_passes(errno))
			continue;
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			log_error("accept: %s; trying again in 1 s", strerror(errno));
			sleep(1);
			continue;
		}
		log_error("accept: %s", strerror(errno));
		return -1;
	}
}

static int fcgi_accept(volatile sig_atomic_t *stop)
{
	for (;;) {
		int fd = wait_for_connection(stop), rc;

		if (fd < 0)
			return -1;
		socket_limits(fd);
		conn.req.ipcFd = fd;
		/* Tells libfcgi's FCGX_Accept_r to use it rather than close it. */
		conn.req.keepConnection = 1;
		/* The parameters, whole, within io_timeout: a slow sender is dropped. */
		alarm_arm(conn.lim.io_timeout);
		rc = FCGX_Accept_r(&conn.req);
		alarm_disarm();
		if (rc == 0)
			return 0;
		/* libfcgi dropped that connection (closed, bad records, too slow). */
		conn.req.ipcFd = -1;
	}
}

static ssize_t fcgi_read(char *buf, size_t len)
{
	FCGX_Stream *in = conn.req.in;
	size_t got = 0;

	while (got < len && !conn.in_failed) {
		size_t avail = (size_t)(in->stop - in->rdNext);
		int n;

		if (avail == 0) {
			/* One byte makes libfcgi take the next record, from its buffer or the socket. */
			if (fcgi_allow_wait(&conn.in, SO_RCVTIMEO, &conn.rcv_ms) < 0) {
				conn.in_failed = true;
				break;
			}
			n = FCGX_GetStr(buf + got, 1, in);
		} else {
			n = FCGX_GetStr(buf + got, (int)(avail < len - got ? avail : len - got), in);
		}
		if (n <= 0) {
			if (FCGX_GetError(in) != 0)
				fcgi_failed(in, &conn.in_failed);
			else
				conn.body_ended = true;
			break;
		}
		got += (size_t)n;
		pace_moved(&conn.in, (uint64_t)n);
	}
	return got > 0 ? (ssize_t)got : conn.in_failed ? -1 : 0;
}

static int fcgi_write(const char *buf, size_t len)
{
	FCGX_Stream *out = conn.req.out;

	while (len > 0) {
		size_t n = len < FCGI_CHUNK ? len : FCGI_CHUNK;

		if (conn.out_failed)
			return -1;
		/* Only a full buffer writes to the socket: then the peer must keep pace. */
		if ((size_t)(out->stop - out->wrNext) < n &&
		    fcgi_allow_wait(&conn.out, SO_SNDTIMEO, &conn.snd_ms) < 0) {
			conn.out_failed = true;
			return -1;
		}
		if (FCGX_PutStr(buf, (int)n, out) != (int)n) {
			fcgi_failed(out, &conn.out_failed);
			return -1;
		}
		buf += n;
		len -= n;
		pace_moved(&conn.out, n);
	}
	return 0;
}

static int fcgi_flush(void)
{
	if (conn.out_failed)
		return -1;
	if (fcgi_allow_wait(&conn.out, SO_SNDTIMEO, &conn.snd_ms) < 0) {
		conn.out_failed = true;
		return -1;
	}
	if (FCGX_FFlush(conn.req.out) != 0) {
		fcgi_failed(conn.req.out, &conn.out_failed);
		return -1;
	}
	return 0;
}

/* ---- CGI: non-blocking pipes, polled within the pace -------------------------- */

static int cgi_wait(struct pace *p, int fd, short events)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = events };
		int64_t ms = pace_wait_ms(p);
		int rc;

		if (ms <= 0)
			break;
		rc = poll(&pfd, 1, (int)ms);
		if (rc > 0)
			return 0;
		if (rc < 0 && errno != EINTR)
			return -1;
		if (rc == 0)
			break;
	}
	conn.too_slow = true;
	return -1;
}

static ssize_t cgi_read(char *buf, size_t len)
{
	size_t got = 0;

	while (got < len && !conn.in_failed) {
		ssize_t n = read(STDIN_FILENO, buf + got, len - got);

		if (n > 0) {
			got += (size_t)n;
			pace_moved(&conn.in, (uint64_t)n);
		} else if (n == 0) {
			conn.body_ended = true;
			break;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (cgi_wait(&conn.in, STDIN_FILENO, POLLIN) < 0)
				conn.in_failed = true;
		} else if (errno != EINTR) {
			conn.in_failed = true;
		}
	}
	return got > 0 ? (ssize_t)got : conn.in_failed ? -1 : 0;
}

static int cgi_write_out(const char *buf, size_t len)
{
	while (len > 0 && !conn.out_failed) {
		ssize_t n = write(STDOUT_FILENO, buf, len);

		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			pace_moved(&conn.out, (uint64_t)n);
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (cgi_wait(&conn.out, STDOUT_FILENO, POLLOUT) < 0)
				conn.out_failed = true;
		} else if (n == 0 || errno != EINTR) {
			conn.out_failed = true;
		}
	}
	return conn.out_failed ? -1 : 0;
}

static int cgi_flush(void)
{
	size_t n = conn.olen;

	conn.olen = 0;
	return cgi_write_out(conn.obuf, n);
}

static int cgi_write(const char *buf, size_t len)
{
	if (conn.olen + len > sizeof(conn.obuf) && cgi_flush() < 0)
		return -1;
	if (len >= sizeof(conn.obuf))
		return cgi_write_out(buf, len);
	memcpy(conn.obuf + conn.olen, buf, len);
	conn.olen += len;
	return 0;
}

/* ---- the request ----------------------------------------------------------- */

int conn_accept(volatile sig_atomic_t *stop)
{
	stop_flag = stop;
	if (term_seen)
		*stop = 1;
	memset(&conn.in, 0, sizeof(conn.in));
	memset(&conn.out, 0, sizeof(conn.out));
	conn.too_slow = conn.in_failed = conn.out_failed = conn.body_ended = false;
	if (!conn.cgi)
		return fcgi_accept(stop);
	if (conn.cgi_served)
		return -1;
	conn.cgi_served = true;
	return 0;
}

const char *conn_param(const char *name)
{
	return conn.cgi ? getenv(name) : FCGX_GetParam(name, conn.req.envp);
}

ssize_t conn_read(char *buf, size_t len)
{
	if (len == 0)
		return 0;
	return conn.cgi ? cgi_read(buf, len) : fcgi_read(buf, len);
}

int conn_write(const void *buf, size_t len)
{
	if (len == 0)
		return 0;
	return conn.cgi ? cgi_write(buf, len) : fcgi_write(buf, len);
}

int conn_flush(void)
{
	return conn.cgi ? cgi_flush() : fcgi_flush();
}

bool conn_too_slow(void)
{
	return conn.too_slow;
}

/*
 * Most servers lose the answer when the body cannot be written to r2mpu
 * (tried: nginx 1.22 answers 502 "writev() failed (32: Broken pipe)
 * while sending request to upstream"; mod_proxy_fcgi 503 "Error
 * dispatching request"; mod_fcgid 500; mod_cgid breaks the answer).
 * lighttpd alone reads the answer whatever happens to the body.
 */
static bool server_needs_drain(void)
{
	const char *software = conn_param("SERVER_SOFTWARE");

	return conn.cgi || software == NULL || strncmp(software, "lighttpd", 8) != 0;
}

/*
 * Read and drop the rest of the body: at most max bytes, within DRAIN_MS,
 * and only while it keeps coming (no gap over DRAIN_GAP_MS): a body
 * already on its way is taken at loopback speed, a trickle is not waited for.
 */
static void drain(uint64_t max)
{
	char buf[16 * 1024];
	uint64_t dropped = 0;

	memset(&conn.in, 0, sizeof(conn.in));
	conn.in.limit_ms = DRAIN_MS;
	conn.in.idle_ms = DRAIN_GAP_MS;
	while (dropped < max && !conn.body_ended) {
		size_t want = max - dropped < sizeof(buf) ? (size_t)(max - dropped) : sizeof(buf);
		ssize_t n = conn.cgi ? cgi_read(buf, want) : fcgi_read(buf, want);

		if (n <= 0)
			break;
		dropped += (uint64_t)n;
	}
}

void conn_finish(int64_t unread, uint64_t max_drain)
{
	bool peer_keeps = !conn.cgi && conn.req.keepConnection;

	/* A peer judged too slow, or gone, gets nothing more: not even libfcgi's last records. */
	if (!conn.out_failed)
		conn_flush();
	if (unread != 0 && !conn.body_ended && !conn.in_failed && !conn.out_failed &&
	    server_needs_drain())
		drain(unread > 0 && (uint64_t)unread < max_drain ? (uint64_t)unread : max_drain);
	if (conn.cgi)
		return;
	conn.req.keepConnection = 0;
	if (conn.out_failed) {
		shutdown(conn.req.ipcFd, SHUT_RDWR);
	} else if ((unread != 0 && !conn.body_ended) || peer_keeps) {
		/*
		 * libfcgi's close lingers reading until its peer is quiet for
		 * 2 s (a trickling client would stretch that forever; a peer
		 * that keeps its connections never goes quiet): with the read
		 * side shut, it sees the end at once.
		 */
		shutdown(conn.req.ipcFd, SHUT_RD);
	}
	FCGX_Finish_r(&conn.req);
}
