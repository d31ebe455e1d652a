/* SPDX-License-Identifier: MIT */
/* standalone.h: r2mpu as its own FastCGI server -- a socket, worker processes, supervision */
#ifndef R2MPU_STANDALONE_H
#define R2MPU_STANDALONE_H

#include "config.h"

#define STANDALONE_WORKERS_MAX 256

struct standalone_options {
	const char *address;         /* --listen */
	int workers;                 /* --workers */
	const char *user, *group;    /* --user, --group: who to become once the socket is open */
	const char *socket_owner;    /* --socket-owner USER[:GROUP] of a unix socket, or NULL */
	int socket_mode;             /* --socket-mode of a unix socket (0660 unless told) */
};

struct standalone_hooks {
	int (*serve)(const struct config *cfg);    /* a worker's life; its exit status */
	int (*reload)(struct config *cfg, char *errbuf, size_t errlen);   /* SIGHUP */
};

/*
 * Listen on opt->address ("127.0.0.1:9000", "[::1]:9000", "localhost:9000",
 * ":9000", a unix socket path, or "systemd": the socket systemd passes,
 * LISTEN_FDS); give a unix socket its owner and mode; become opt->user and
 * opt->group; run hooks->reload (the settings, rules and store as that user),
 * and refuse to start when it fails; then run
 * opt->workers processes that each call hooks->serve(cfg) on that socket,
 * and replace any that dies. SIGTERM, SIGINT or SIGUSR1: every worker
 * finishes its request in flight, then all exit. SIGHUP: hooks->reload(cfg)
 * reads the settings again; when it succeeds, new workers start with them
 * and the old ones finish their request in flight and leave (on failure the
 * old ones serve on, and the reason is logged). Returns the process's exit
 * status: 1 when the socket, the users or the check fail (errbuf says why)
 * or when FAST_DEATHS_MAX workers in a row died at start.
 */
int standalone_run(struct config *cfg, const struct standalone_options *opt,
		   const struct standalone_hooks *hooks, char *errbuf, size_t errlen);

/* Parse --socket-mode: 3 or 4 octal digits, at most 0777; -1 otherwise. */
int standalone_parse_mode(const char *s);

/*
 * Split --listen's "host:port", "[v6]:port" or ":port" (host 127.0.0.1) into
 * host and port (digits, 1..65535). 0, or -1 when it is none of these.
 */
int standalone_split_address(const char *address, char *host, size_t hostlen,
			     char *port, size_t portlen);

/* Parse --workers: 1..STANDALONE_WORKERS_MAX, decimal; -1 otherwise. */
int standalone_parse_workers(const char *s);

#endif
