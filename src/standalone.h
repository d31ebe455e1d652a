/* SPDX-License-Identifier: MIT */
/* standalone.h: r2mpu as its own FastCGI server -- a socket, worker processes, supervision */
#ifndef R2MPU_STANDALONE_H
#define R2MPU_STANDALONE_H

#include "config.h"

#define STANDALONE_WORKERS_MAX 256

/*
 * Listen on `address` ("127.0.0.1:9000", ":9000", a unix socket path, or
 * "systemd": the socket systemd passes, LISTEN_FDS),
 * run `workers` processes that each call serve(cfg) on that socket, and
 * replace any that dies. SIGTERM, SIGINT or SIGUSR1: every worker finishes
 * its request in flight, then all exit. SIGHUP: reload(cfg) reads the
 * settings again; when it succeeds, new workers start with them and the old
 * ones finish their request in flight and leave (on failure the old ones
 * serve on, and the reason is logged). Returns the process's exit status: 1 when the socket cannot
 * be opened (errbuf says why) or when FAST_DEATHS_MAX workers in a row died
 * at start.
 */
int standalone_run(struct config *cfg, const char *address, int workers,
		   int (*serve)(const struct config *cfg),
		   int (*reload)(struct config *cfg, char *errbuf, size_t errlen),
		   char *errbuf, size_t errlen);

/*
 * Split --listen's "host:port", "[v6]:port" or ":port" (host 127.0.0.1) into
 * host and port (digits, 1..65535). 0, or -1 when it is none of these.
 */
int standalone_split_address(const char *address, char *host, size_t hostlen,
			     char *port, size_t portlen);

/* Parse --workers: 1..STANDALONE_WORKERS_MAX, decimal; -1 otherwise. */
int standalone_parse_workers(const char *s);

#endif
