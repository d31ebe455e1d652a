/* SPDX-License-Identifier: MIT */
/* mkman.c: fill in a man page template (man/PAGE.in) from r2mpu's own tables, at build time */
/*
 *   mkman VERSION DATE < TEMPLATE > PAGE
 *
 * Copies TEMPLATE, replacing @VERSION@ and @DATE@ anywhere, and a line that is
 * exactly @SETTINGS@ with every setting of config.c's table (config_key_doc):
 * the same names, defaults and meanings that `r2mpu.fcgi --help` prints.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"

/* Text as roff reads it: a backslash is \e and a hyphen-minus \- (so that
 * copying an option or a path from the rendered page gives what was meant). */
static void put_roff_text(const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", stdout);      /* not a request at the start of a line */
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			fputs("\\e", stdout);
		else if (*s == '-')
			fputs("\\-", stdout);
		else
			putchar(*s);
	}
}

static void put_settings(void)
{
	struct config_key_doc doc;
	size_t i;

	for (i = 0; config_key_doc(i, &doc); i++) {
		printf(".TP\n.B %s\n", doc.name);
		put_roff_text(doc.help);
		fputs(".\n", stdout);
		if (doc.def[0] != '\0') {
			fputs("Default: \\fB", stdout);
			put_roff_text(doc.def);
			fputs("\\fR.\n", stdout);
		} else {
			fputs("Default: empty.\n", stdout);
		}
	}
}

/* One template line, its @VERSION@ and @DATE@ replaced. */
static void put_line(const char *line, const char *version, const char *date)
{
	static const struct { const char *token; int which; } tokens[] = {
		{ "@VERSION@", 0 }, { "@DATE@", 1 },
	};
	const char *p = line;

	while (*p != '\0') {
		size_t i, n = sizeof(tokens) / sizeof(tokens[0]);

		for (i = 0; i < n; i++) {
			size_t len = strlen(tokens[i].token);

			if (strncmp(p, tokens[i].token, len) == 0) {
				fputs(tokens[i].which == 0 ? version : date, stdout);
				p += len;
				break;
			}
		}
		if (i == n)
			putchar(*p++);
	}
}

int main(int argc, char **argv)
{
	char line[4096];

	if (argc != 3) {
		fputs("usage: mkman VERSION DATE < TEMPLATE > PAGE\n", stderr);
		return 2;
	}
	while (fgets(line, sizeof(line), stdin) != NULL) {
		if (strcmp(line, "@SETTINGS@\n") == 0)
			put_settings();
		else
			put_line(line, argv[1], argv[2]);
	}
	return ferror(stdin) || fflush(stdout) != 0 || ferror(stdout) ? 1 : 0;
}
