/* SPDX-License-Identifier: MIT */
/* main.c: r2mpu-client's command line -- options, credentials, and the table of commands */
#include "client.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plan.h"

#ifndef R2MPU_VERSION
#define R2MPU_VERSION "unknown"
#endif

static const struct command {
	const char *name;
	int (*run)(const struct client_opts *o, char **args, int nargs);
	const char *usage;
} commands[] = {
	{ "upload", cmd_upload, "upload [options] FILE|- URL" },
	{ "download", cmd_download, "download [options] URL FILE" },
	{ "check", cmd_check, "check [options] URL" },
	{ "list", cmd_list, "list [options] URL" },
	{ "abort", cmd_abort, "abort [options] URL UPLOAD_ID" },
};

enum { OPT_TOKEN_FILE = 256, OPT_CACERT, OPT_PLAN, OPT_VERIFY, OPT_NO_VERIFY, OPT_KEEP,
       OPT_UPLOAD_ID, OPT_CONTENT_TYPE, OPT_JSON, OPT_RETRIES, OPT_TIMEOUT, OPT_PART_SIZE };

static const struct option options[] = {
	{ "token-file", required_argument, NULL, OPT_TOKEN_FILE },
	{ "cacert", required_argument, NULL, OPT_CACERT },
	{ "jobs", required_argument, NULL, 'j' },
	{ "retries", required_argument, NULL, OPT_RETRIES },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "part-size", required_argument, NULL, OPT_PART_SIZE },
	{ "plan", no_argument, NULL, OPT_PLAN },
	{ "verify", no_argument, NULL, OPT_VERIFY },
	{ "no-verify", no_argument, NULL, OPT_NO_VERIFY },
	{ "keep", no_argument, NULL, OPT_KEEP },
	{ "upload-id", required_argument, NULL, OPT_UPLOAD_ID },
	{ "content-type", required_argument, NULL, OPT_CONTENT_TYPE },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: r2mpu-client COMMAND [options] ARGS\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "       r2mpu-client %s\n", commands[i].usage);
	fprintf(f, "Credentials: --token-file FILE or R2MPU_TOKEN; a signed URL needs none.\n"
		"See r2mpu-client(1) for the options and the exit codes.\n");
}

/* A whole number in [min, max] or a usage error. */
static int parse_uint(const char *name, const char *s, unsigned min, unsigned max,
		      unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v < min || v > max) {
		fprintf(stderr, "r2mpu-client: --%s must be a whole number from %u to %u\n",
			name, min, max);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

/* The token: the file's first line, without its line end. Never from the command line,
 * where `ps` shows it to everyone on the machine. */
static char *read_token(const char *path)
{
	char line[4096];
	FILE *f = fopen(path, "r");

	if (!f) {
		fprintf(stderr, "r2mpu-client: --token-file %s: %s\n", path, strerror(errno));
		return NULL;
	}
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	line[strcspn(line, "\r\n")] = '\0';
	if (!line[0]) {
		fprintf(stderr, "r2mpu-client: --token-file %s is empty\n", path);
		return NULL;
	}
	return strdup(line);
}

static void on_signal(int sig)
{
	(void)sig;
	client_interrupted = 1;
}

int main(int argc, char **argv)
{
	struct client_opts o = { .jobs = 8, .retries = 6, .timeout_s = 60, .verify = 1 };
	const struct command *cmd = NULL;
	const char *token_file = NULL;
	char *token = NULL;
	struct sigaction sa;
	int c, rc;

	if (argc >= 2 && (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)) {
		printf("r2mpu-client %s\n", R2MPU_VERSION);
		return EXIT_DONE;
	}
	for (size_t i = 0; argc >= 2 && i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			cmd = &commands[i];
	if (!cmd) {
		int help = argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);

		usage(help ? stdout : stderr);
		return help ? EXIT_DONE : EXIT_USAGE;
	}
	argv++;
	argc--;
	while ((c = getopt_long(argc, argv, "j:qvhV", options, NULL)) != -1) {
		switch (c) {
		case OPT_TOKEN_FILE: token_file = optarg; break;
		case OPT_CACERT: o.cacert = optarg; break;
		case 'j':
			if (parse_uint("jobs", optarg, 1, 64, &o.jobs) < 0)
				return EXIT_USAGE;
			break;
		case OPT_RETRIES:
			if (parse_uint("retries", optarg, 0, 100, &o.retries) < 0)
				return EXIT_USAGE;
			break;
		case OPT_TIMEOUT:
			if (parse_uint("timeout", optarg, 1, 86400, &o.timeout_s) < 0)
				return EXIT_USAGE;
			break;
		case OPT_PART_SIZE:
			if (parse_size(optarg, &o.part_size) < 0 || o.part_size < PLAN_MIN_PART ||
			    o.part_size > PLAN_MAX_PART) {
				fprintf(stderr, "r2mpu-client: --part-size must be from 5M to 5G "
					"(a number of bytes, or with K, M, G)\n");
				return EXIT_USAGE;
			}
			break;
		case OPT_PLAN: o.plan_only = 1; break;
		case OPT_VERIFY: o.verify = 1; break;
		case OPT_NO_VERIFY: o.verify = 0; break;
		case OPT_KEEP: o.keep = 1; break;
		case OPT_UPLOAD_ID: o.upload_id = optarg; break;
		case OPT_CONTENT_TYPE: o.content_type = optarg; break;
		case OPT_JSON: o.json = 1; break;
		case 'q': o.quiet = 1; break;
		case 'v': o.verbose = 1; break;
		case 'h': usage(stdout); return EXIT_DONE;
		case 'V': printf("r2mpu-client %s\n", R2MPU_VERSION); return EXIT_DONE;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (token_file) {
		if (!(token = read_token(token_file)))
			return EXIT_USAGE;
	} else if (getenv("R2MPU_TOKEN") && *getenv("R2MPU_TOKEN")) {
		token = strdup(getenv("R2MPU_TOKEN"));
	}
	o.token = token;
	o.progress = !o.quiet && !o.json && isatty(STDERR_FILENO);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESETHAND;     /* a second Ctrl-C ends the client at once */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "r2mpu-client: libcurl could not start\n");
		return EXIT_FAILED;
	}
	rc = cmd->run(&o, argv + optind, argc - optind);
	curl_global_cleanup();
	free(token);
	return rc;
}
