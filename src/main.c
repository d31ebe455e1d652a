/* SPDX-License-Identifier: MIT */
/* main.c: the accept loop -- configuration once, then one request at a time, FastCGI or CGI */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "access.h"
#include "action.h"
#include "config.h"
#include "conn.h"
#include "cors.h"
#include "handlers.h"
#include "hooks.h"
#include "request.h"
#include "response.h"
#include "route.h"
#include "sign.h"
#include "standalone.h"
#include "store_open.h"
#include "log.h"
#include "metrics.h"

#ifndef R2MPU_VERSION
#error "R2MPU_VERSION: the Makefile passes it, from the file VERSION"
#endif
#define DRAIN_MAX (64 * 1024 * 1024)   /* an unread body drained: at most this much (conn_finish) */

static volatile sig_atomic_t stop_requested;
/* The access rules, loaded once in main() before any request; read-only after. */
static struct access access_rules;
/* The settings file when R2MPU_CONFIG names none (config_default_file), chosen at start. */
static char default_config[CONFIG_STRING_MAX];

/*
 * The file the kernel ran, however it was named: Apache starts CGI and
 * mod_fcgid programs with their bare name in argv[0], a shell with the path
 * typed, and a symbolic link would put the two in different directories.
 * Without /proc (a jail), argv[0] when it has a directory; else NULL (then
 * R2MPU_CONFIG names the file, or the machine's is read).
 */
static const char *program_path(const char *argv0)
{
	static char exe[CONFIG_STRING_MAX];
	ssize_t n;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0 && (size_t)n < sizeof(exe) - 1) {
		exe[n] = '\0';
		return exe;
	}
	return argv0 != NULL && strchr(argv0, '/') != NULL ? argv0 : NULL;
}

static const char *process_getenv(const char *name)
{
	return getenv(name);
}

/* Before the first accept libfcgi's stdout is not set up: write to fd 1. */
static void print_line(const char *line)
{
	if (write(STDOUT_FILENO, line, strlen(line)) < 0 || write(STDOUT_FILENO, "\n", 1) < 0) {
		/* nothing to do: stdout is closed */
	}
}

static void usage(void)
{
	print_line("usage: r2mpu.fcgi                       (spawned by a web server, or as CGI)");
	print_line("       r2mpu.fcgi --listen ADDRESS [--workers N] [--user U] [--group G] ...");
	print_line("       r2mpu.fcgi check                  (the settings, access rules and store)");
	print_line("       r2mpu.fcgi sign [OPTIONS] KEY     (see r2mpu.fcgi sign --help)");
	print_line("       r2mpu.fcgi --help | --version");
	print_line("");
	print_line("A FastCGI (or plain CGI) responder for multipart uploads to an object");
	print_line("store: R2's multipart API over HTTP, as Cloudflare's example Worker.");
	print_line("");
	print_line("Without options it serves the FastCGI socket a web server handed it");
	print_line("(lighttpd, Apache mod_fcgid), or one CGI request (mod_cgid).");
	print_line("");
	print_line("Standalone, for Apache mod_proxy_fcgi and nginx:");
	print_line("  --listen ADDRESS  host:port or [ipv6]:port (a name or an address; keep it");
	print_line("                    on loopback), :port (127.0.0.1), a unix socket path,");
	print_line("                    or systemd (the socket systemd passes: LISTEN_FDS)");
	print_line("  --user USER, --group GROUP");
	print_line("                    who to become once the socket is open (as root)");
	print_line("  --socket-owner USER[:GROUP], --socket-mode MODE");
	print_line("                    a unix socket's owner, and mode (octal, default 0660)");
	print_line("  --workers N       processes, each serving one request at a time, so N");
	print_line("                    parts stream in parallel (1-256, default 4). A worker");
	print_line("                    that dies is replaced; SIGTERM lets every request in");
	print_line("                    flight finish, then stops; SIGHUP reads the settings");
	print_line("                    again and replaces the workers as they finish.");
	print_line("");
	print_line("Settings, read once at start-up from the environment:");
	print_line("");
	config_print_keys(print_line);
}

static uint64_t ms_since(const struct timespec *t0)
{
	struct timespec t1;
	long long ms;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (long long)(t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
	return ms > 0 ? (uint64_t)ms : 0;
}

/* One request: read it, route it, answer it, log it, free it. */
static void serve_one(const struct config *cfg, struct store *store)
{
	struct request req;
	struct response res;
	struct r2err err;
	struct timespec t0;
	const char *method = conn_param("REQUEST_METHOD");
	const char *id;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	hook_reap();              /* complete hooks' watchers that are done (hooks.h) */
	id = log_begin_request(conn_param("HTTP_X_REQUEST_ID"));
	response_init(&res, method != NULL && strcmp(method, "HEAD") == 0);
	response_header(&res, "X-Request-Id", id);
	/* CORS first: a page must be able to read every error, a malformed URI's too. */
	rc = request_read(&req, cfg, &err);
	cors_add_headers(cfg, &req, &res);
	if (rc < 0)
		send_error(&res, &err);
	else
		route_request(cfg, &access_rules, store, &req, &res);
	/*
	 * Counted before the answer's end goes out: a client that has its answer
	 * and asks for the metrics next must find it counted, whichever
	 * process serves the scrape.
	 */
	metrics_count_request(action_id(req.query.action), res.status, req.body_read,
			      res.body_bytes);
	/* The answer goes out before the connection decides what to do with an unread body. */
	response_flush(&res);
	log_request(&(struct log_request){
		.method = method, .action = req.query.action, .key = req.key,
		.status = res.status, .bytes_in = req.body_read, .bytes_out = res.body_bytes,
		.ms = ms_since(&t0), .credential = req.credential[0] ? req.credential : "none" });
	conn_finish(request_body_unread(&req), DRAIN_MAX);
	if (req.complete_hook != NULL)
		handlers_after_request(cfg, &req, !conn_is_cgi());
	request_free(&req);
	log_end_request();
}

/*
 * The accept loop of one process: FastCGI on the socket at fd 0, or one
 * CGI request. The store is opened here, per process (its curl handle and
 * connections are this process's own). Returns the exit status.
 */
static int serve(const struct config *cfg)
{
	struct conn_limits limits = { .min_rate = cfg->min_rate,
				      .io_timeout = (unsigned)cfg->io_timeout };
	struct store store;
	char errbuf[512];

	if (conn_init(&limits) < 0) {
		log_error("cannot set up the FastCGI connection");
		return 1;
	}
	if (store_open(cfg, &store, errbuf, sizeof(errbuf)) < 0) {
		log_error("configuration error: %s", errbuf);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);   /* a gone client is a write error, not a death */
	while (conn_accept(&stop_requested) == 0)
		serve_one(cfg, &store);
	store_close(&store);
	return 0;
}

/*
 * The store opens and answers its probe (store_ops.probe), as the first
 * request would find it: what `check` proves, and standalone mode before it
 * starts its workers. 0, or 1 with the reason logged.
 */
static int check_store(const struct config *cfg)
{
	struct store store;
	struct r2err err;
	char errbuf[512];
	int rc = 0;

	if (store_open(cfg, &store, errbuf, sizeof(errbuf)) < 0) {
		log_error("the store does not open: %s", errbuf);
		return 1;
	}
	if (store.ops->probe(store.state, &err) < 0) {
		log_error("the store failed its check: %d %s: %s", err.status, err.code,
			  err.message);
		rc = 1;
	}
	store_close(&store);
	return rc;
}

/* The hooks the settings name can be run (by this user): else no request would work. */
static int hooks_runnable(const struct config *cfg, char *errbuf, size_t errlen)
{
	const char *const names[] = { "R2MPU_HOOK_CREATE", "R2MPU_HOOK_COMPLETE" };
	const char *const paths[] = { cfg->hook_create, cfg->hook_complete };
	size_t i;

	for (i = 0; i < 2; i++) {
		if (paths[i][0] != '\0' && access(paths[i], X_OK) < 0) {
			snprintf(errbuf, errlen, "%s: %.900s cannot be run: %s", names[i], paths[i],
				 strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* r2mpu.fcgi check: each thing checked on a line of stdout; exit 0, or 1 and why. */
static int check_main(void)
{
	struct config cfg;
	char errbuf[512], line[CONFIG_STRING_MAX + 128], path[CONFIG_STRING_MAX + 64];

	if (config_load(&cfg, process_getenv, default_config, errbuf, sizeof(errbuf)) < 0) {
		log_error("check: settings: %s", errbuf);
		return 1;
	}
	snprintf(line, sizeof(line), "settings: valid (file: %s; then the environment)",
		 cfg.file[0] ? cfg.file : "none");
	print_line(line);
	if (access_load(&access_rules, &cfg, errbuf, sizeof(errbuf)) < 0) {
		log_error("check: access rules: %s", errbuf);
		return 1;
	}
	snprintf(line, sizeof(line), "access rules: %zu tokens, signed URLs %s, open access %s",
		 access_rules.ntokens, cfg.signing_secret[0] ? "on" : "off",
		 cfg.open_access ? "ON: anyone who reaches the gateway" : "off");
	print_line(line);
	access_free(&access_rules);
	if (hooks_runnable(&cfg, errbuf, sizeof(errbuf)) < 0) {
		log_error("check: %s", errbuf);
		return 1;
	}
	snprintf(line, sizeof(line), "hooks: create %.500s, complete %.500s",
		 cfg.hook_create[0] ? cfg.hook_create : "none",
		 cfg.hook_complete[0] ? cfg.hook_complete : "none");
	print_line(line);
	if (check_store(&cfg) != 0)
		return 1;
	if (strcmp(cfg.store, "s3") == 0)
		snprintf(line, sizeof(line), "store: s3, bucket %.63s at %.900s: its uploads listed "
			 "(the bucket is there, the credentials are accepted)", cfg.s3_bucket,
			 cfg.s3_endpoint);
	else
		snprintf(line, sizeof(line), "store: fs in %.1000s: a file written, synced and "
			 "removed", cfg.fs_root);
	print_line(line);
	/* Named, not opened: a check run as root must not create the pool's file. */
	if (cfg.metrics_file[0] != '\0')
		snprintf(path, sizeof(path), "%s", cfg.metrics_file);
	else
		metrics_default_path(&cfg, (unsigned)geteuid(), path, sizeof(path));
	snprintf(line, sizeof(line), "metrics: %s%.1000s", cfg.metrics ? "kept in " : "off",
		 cfg.metrics ? path : "");
	print_line(line);
	print_line("ok");
	return 0;
}

/*
 * A standalone r2mpu serves nginx or mod_proxy_fcgi, which pass the whole
 * path and no PATH_INFO: without R2MPU_MOUNT nothing says where the location
 * r2mpu is served at ends, and every key would silently start with it.
 */
static int standalone_mount_set(const struct config *cfg, char *errbuf, size_t errlen)
{
	if (cfg->mount[0] != '\0')
		return 0;
	snprintf(errbuf, errlen, "R2MPU_MOUNT: a standalone r2mpu (--listen: nginx, Apache "
		 "mod_proxy_fcgi) gets no PATH_INFO; set it to the location r2mpu is served at "
		 "(e.g. /r2mpu), or / for the root");
	return -1;
}

/*
 * SIGHUP in standalone mode: the settings and access rules read afresh into
 * *cfg and access_rules, for the workers forked from now on; and the new
 * store checked. Nothing changes unless all of it is good (-1, errbuf).
 * The listening socket stays the one opened at start.
 */
static int reload_settings(struct config *cfg, char *errbuf, size_t errlen)
{
	static struct config old;    /* static: two configs do not fit a small stack twice */
	struct config fresh;
	struct access next;

	if (config_load(&fresh, process_getenv, default_config, errbuf, errlen) < 0 ||
	    standalone_mount_set(&fresh, errbuf, errlen) < 0 ||
	    hooks_runnable(&fresh, errbuf, errlen) < 0)
		return -1;
	if (check_store(&fresh) != 0) {
		snprintf(errbuf, errlen, "the new store failed its check");
		return -1;
	}
	/* The rules borrow the secret from *cfg: load them where it will live, and
	 * put the old settings back unless they load (the old rules untouched). */
	old = *cfg;
	*cfg = fresh;
	if (access_load(&next, cfg, errbuf, errlen) < 0) {
		*cfg = old;
		return -1;
	}
	access_free(&access_rules);
	access_rules = next;
	log_set_format(strcmp(cfg->log_format, "json") == 0 ? LOG_JSON : LOG_TEXT);
	return 0;
}

/* r2mpu.fcgi sign ...: the URL on stdout, or why not on stderr (exit 2). */
static int sign_main(int argc, char **argv)
{
	struct config cfg;
	char url[8 * 1024], errbuf[512];

	if (argc == 1 && strcmp(argv[0], "--help") == 0) {
		sign_usage(print_line);
		return 0;
	}
	if (config_load(&cfg, process_getenv, default_config, errbuf, sizeof(errbuf)) < 0 ||
	    sign_command(&cfg, argc, argv, time(NULL), url, sizeof(url), errbuf,
			 sizeof(errbuf)) < 0) {
		log_error("%s", errbuf);
		return 2;
	}
	if (write(STDOUT_FILENO, url, strlen(url)) < 0)
		return 1;
	return 0;
}

int main(int argc, char **argv)
{
	struct standalone_options opt = { .workers = 4, .socket_mode = 0660 };
	const struct standalone_hooks hooks = { serve, reload_settings };
	struct config cfg;
	char errbuf[512];
	int i;

	/* Before anything can drop privileges: a reload as another user finds the same file. */
	if (getenv("R2MPU_CONFIG") == NULL &&
	    config_default_file(program_path(argv[0]), default_config, sizeof(default_config),
				errbuf, sizeof(errbuf)) < 0) {
		log_error("configuration error: %s", errbuf);
		return 1;
	}
	if (argc >= 2 && strcmp(argv[1], "sign") == 0)
		return sign_main(argc - 2, argv + 2);
	if (argc == 2 && strcmp(argv[1], "check") == 0)
		return check_main();
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--version") == 0) {
			print_line("r2mpu " R2MPU_VERSION);
			return 0;
		} else if (strcmp(argv[i], "--help") == 0) {
			usage();
			return 0;
		} else if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc) {
			opt.address = argv[++i];
		} else if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc &&
			   (opt.workers = standalone_parse_workers(argv[++i])) > 0) {
			continue;
		} else if (strcmp(argv[i], "--user") == 0 && i + 1 < argc) {
			opt.user = argv[++i];
		} else if (strcmp(argv[i], "--group") == 0 && i + 1 < argc) {
			opt.group = argv[++i];
		} else if (strcmp(argv[i], "--socket-owner") == 0 && i + 1 < argc) {
			opt.socket_owner = argv[++i];
		} else if (strcmp(argv[i], "--socket-mode") == 0 && i + 1 < argc &&
			   (opt.socket_mode = standalone_parse_mode(argv[++i])) >= 0) {
			continue;
		} else {
			usage();
			return 2;
		}
	}
	/*
	 * A hook's exit status is its verdict: a SIGCHLD ignored by whoever
	 * started r2mpu (it outlives exec) would have the kernel reap hooks unseen.
	 */
	signal(SIGCHLD, SIG_DFL);
	/* The process environment; a request's parameters never reach it (conn.c). */
	if (config_load(&cfg, process_getenv, default_config, errbuf, sizeof(errbuf)) < 0) {
		log_error("configuration error: %s", errbuf);
		return 1;
	}
	log_set_format(strcmp(cfg.log_format, "json") == 0 ? LOG_JSON : LOG_TEXT);
	if (access_load(&access_rules, &cfg, errbuf, sizeof(errbuf)) < 0 ||
	    hooks_runnable(&cfg, errbuf, sizeof(errbuf)) < 0) {
		log_error("configuration error: %s", errbuf);
		access_free(&access_rules);
		return 1;
	}
	if (cfg.metrics && metrics_open(&cfg, errbuf, sizeof(errbuf)) != 0)
		log_error("metrics: the counts are %s", errbuf);
	if (opt.address == NULL && (opt.user || opt.group || opt.socket_owner)) {
		log_error("--user, --group and --socket-owner go with --listen");
		i = 2;
	} else if (opt.group != NULL && opt.user == NULL) {
		log_error("--group goes with --user (alone it would leave root its user)");
		i = 2;
	} else if (opt.address != NULL && opt.address[0] != '/' &&
		   (opt.socket_owner != NULL || opt.socket_mode != 0660)) {
		log_error("--socket-owner and --socket-mode are for a unix socket (--listen /path)");
		i = 2;
	} else if (opt.address == NULL) {
		i = serve(&cfg);
	} else if (standalone_mount_set(&cfg, errbuf, sizeof(errbuf)) < 0) {
		log_error("configuration error: %s", errbuf);
		i = 1;
	} else if ((i = standalone_run(&cfg, &opt, &hooks, errbuf, sizeof(errbuf))) != 0) {
		log_error("%s", errbuf);
	}
	access_free(&access_rules);
	metrics_close();
	return i;
}
