/* main.c: the accept loop -- configuration once, then one request at a time, FastCGI or CGI */
#include "fcgi_stdio.h"   /* first: FCGI_Accept and the per-request stdio */

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "request.h"
#include "response.h"
#include "route.h"
#include "store.h"

#define R2MPU_VERSION "0.1.0"

static volatile sig_atomic_t stop_requested;

static void on_term(int sig)
{
	(void)sig;
	stop_requested = 1;
	FCGX_ShutdownPending();   /* makes a blocked accept give up */
}

/*
 * SIGTERM while idle must interrupt accept() (no SA_RESTART); while a
 * request is in flight it must not interrupt its reads and writes
 * (SA_RESTART), so the request finishes and the loop then ends.
 */
static void set_term_handler(bool restart)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sa.sa_flags = restart ? SA_RESTART : 0;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
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
	print_line("usage: r2mpu.fcgi [--help | --version]");
	print_line("");
	print_line("A FastCGI (or plain CGI) responder for multipart uploads to an object");
	print_line("store: R2's multipart API over HTTP, as Cloudflare's example Worker.");
	print_line("Run it from a web server (lighttpd, Apache mod_fcgid/mod_cgid, nginx");
	print_line("through a FastCGI spawner); configure it with these variables:");
	print_line("");
	config_print_keys(print_line);
}

/* One request: read it, route it, answer it, free it. */
static void serve_one(const struct config *cfg, struct store *store)
{
	struct request req;
	struct response res;
	struct r2err err;
	const char *method = getenv("REQUEST_METHOD");

	response_init(&res, method != NULL && strcmp(method, "HEAD") == 0);
	if (request_read(&req, cfg, &err) < 0)
		send_error(&res, &err);
	else
		route_request(cfg, store, &req, &res);
	request_free(&req);
}

int main(int argc, char **argv)
{
	struct config cfg;
	struct store store;
	char errbuf[512];

	if (argc > 1) {
		if (strcmp(argv[1], "--version") == 0) {
			print_line("r2mpu " R2MPU_VERSION);
			return 0;
		}
		usage();
		return strcmp(argv[1], "--help") == 0 ? 0 : 2;
	}
	/* The process environment is read now: FCGI_Accept replaces environ. */
	if (config_load(&cfg, process_getenv, errbuf, sizeof(errbuf)) < 0 ||
	    store_open(&cfg, &store, errbuf, sizeof(errbuf)) < 0) {
		log_error("configuration error: %s", errbuf);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);   /* a gone client is a write error, not a death */
	for (;;) {
		int rc;

		set_term_handler(false);
		if (stop_requested)
			break;
		rc = FCGI_Accept();
		if (rc < 0)
			break;
		set_term_handler(true);
		serve_one(&cfg, &store);
		FCGI_Finish();
		if (stop_requested)
			break;
	}
	store_close(&store);
	return 0;
}
