/* SPDX-License-Identifier: MIT */
/* conn.h: the connection to the web server -- FastCGI or CGI, one request at a time, each held to a pace */
#ifndef R2MPU_CONN_H
#define R2MPU_CONN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * What a peer may cost this process. A request's body, and an answer's,
 * must keep moving at min_rate bytes/s: a direction starts with
 * io_timeout seconds of grace, each byte earns 1/min_rate s more (at most
 * two io_timeouts held at once), and one that runs out is ended; 0 turns
 * the rate off. Apart from that, no single wait for the peer lasts longer
 * than io_timeout: a silent FastCGI connection, or one that delivers its
 * parameters slowly, is dropped.
 */
struct conn_limits {
	uint64_t min_rate;          /* bytes/s, 0: no minimum */
	unsigned io_timeout;        /* seconds, at least 1 */
};

/*
 * The pace's arithmetic, pure (times in ms since the direction began):
 * conn_pace_earned_ms() is what `bytes` moved in all have earned (1000 /
 * min_rate ms each; counted on the total, so no rounding is lost);
 * conn_pace_credit() is the bucket's new end after gaining gained_ms at
 * now_ms, never further than now_ms + credit_max_ms; conn_pace_left() is
 * how long the next byte may still be waited for: at most idle_ms, never
 * past the bucket's end (when min_rate > 0) nor past limit_ms (when > 0).
 * <= 0: too slow.
 */
int64_t conn_pace_earned_ms(uint64_t bytes, uint64_t min_rate);
int64_t conn_pace_credit(int64_t deadline_ms, int64_t now_ms, int64_t gained_ms,
			 int64_t credit_max_ms);
int64_t conn_pace_left(int64_t deadline_ms, int64_t now_ms, uint64_t min_rate, int64_t idle_ms,
		       int64_t limit_ms);

/*
 * Once per process, before conn_accept(): FastCGI when fd 0 is a
 * listening socket (lighttpd, mod_fcgid, the standalone workers), plain
 * CGI otherwise (one request, from the environment and fds 0/1).
 */
int conn_init(const struct conn_limits *limits);
bool conn_is_cgi(void);

/*
 * Wait for the next request: 0 when one is here, -1 when the process
 * should end (*stop was set by a signal, CGI's one request was served,
 * or the listening socket failed). Parameters of a request are read
 * within io_timeout, or the connection is dropped and the wait goes on.
 */
int conn_accept(volatile sig_atomic_t *stop);

/* A request parameter (CGI: the environment), or NULL. Valid until conn_finish(). */
const char *conn_param(const char *name);

/*
 * Up to len bytes of the request body: >0 read, 0 at its end, -1 when
 * the peer failed or fell below the pace (then conn_too_slow()).
 */
ssize_t conn_read(char *buf, size_t len);

/* All of buf to the answer stream: 0, or -1 (peer gone, or too slow). */
int conn_write(const void *buf, size_t len);
/* What conn_write() buffered, to the server now: 0, or -1 as conn_write(). */
int conn_flush(void);

/* The last failure of conn_read or conn_write was the pace, not the peer going away. */
bool conn_too_slow(void);

/*
 * End the request: the answer goes out, then an unread body -- `unread`
 * bytes of it, or -1 when its length is not known (0: none) -- is dealt
 * with. Where the web server needs it (plain CGI under mod_cgid, nginx
 * and Apache's FastCGI modules, which lose the answer when the body
 * cannot be written) it is read and dropped, up to max_drain bytes, for
 * at most a second and only while it keeps coming; anywhere else, and
 * after that, it is never read and the connection is closed. A refused
 * request frees the process at once, whatever the client does. Every
 * FastCGI connection is closed after its request.
 */
void conn_finish(int64_t unread, uint64_t max_drain);


#endif
