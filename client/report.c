/* SPDX-License-Identifier: MIT */
/* report.c: the one place that writes to the user -- messages, failures, the progress bar */
#include "client.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "plan.h"

volatile sig_atomic_t client_interrupted;

/* The bar on the screen, if any: a message clears it first. */
static struct progress *shown_bar;

static void clear_bar(void)
{
	if (shown_bar && shown_bar->shown) {
		fputs("\r\033[K", stderr);
		shown_bar->shown = 0;
	}
}

static void vsay(const char *fmt, va_list ap)
{
	clear_bar();
	fputs("r2mpu-client: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(fmt, ap);
	va_end(ap);
}

void say_verbose(const struct client_opts *o, const char *fmt, ...)
{
	va_list ap;

	if (!o->verbose)
		return;
	va_start(ap, fmt);
	vsay(fmt, ap);
	va_end(ap);
}

int say_failed(const struct xfer *x, const char *doing)
{
	char url[512], what[512];

	if (x->curl_code == CURLE_OK && x->status == 0 && !x->local_error) {
		/* No answer, and no error: the engine was stopped (SIGINT, SIGTERM) first. */
		say("%s: interrupted", doing);
		return EXIT_FAILED;
	}
	url_for_people(x->url, url, sizeof(url));
	xfer_describe(x, what, sizeof(what));
	say("%s failed: %s (%s %s%s)", doing, what, x->method, url,
	    x->attempts > 1 ? ", after retries" : "");
	if (x->local_error)
		return EXIT_FAILED;
	return (int)exit_code_of(x->curl_code, x->status, x->error_code);
}

struct engine *client_engine(const struct client_opts *o, const struct target *t, unsigned jobs)
{
	struct engine_opts eo = {
		.jobs = jobs, .retries = o->retries, .retry_base_ms = 500,
		.retry_cap_ms = 20000, .timeout_s = o->timeout_s,
		.token = t->is_signed ? NULL : o->token,
		.cacert = o->cacert, .verbose = o->verbose,
	};
	struct engine *e = engine_new(&eo);

	if (!e)
		say("libcurl could not start");
	return e;
}

static void one_done(struct xfer *x)
{
	*(int *)x->arg = 1;
}

static int one_pump(void *arg)
{
	struct engine *e = arg;

	if (client_interrupted)
		engine_stop(e);
	return 0;
}

enum outcome run_one(struct engine *e, struct xfer *x)
{
	int done = 0, stopped;

	x->done = one_done;
	x->arg = &done;   /* cppcheck-suppress autoVariables ; cleared before returning */
	engine_add(e, x);
	stopped = engine_run(e, one_pump, e) < 0;
	x->arg = NULL;
	if (stopped || !done)
		return OUTCOME_FATAL;
	return x->local_error ? OUTCOME_FATAL
		: outcome_of(x->curl_code, x->status, x->error_code) == OUTCOME_OK
		? OUTCOME_OK : OUTCOME_FATAL;
}

void progress_line(uint64_t done, uint64_t total, long long elapsed_ms, unsigned width,
		   char *out, unsigned outlen)
{
	char d[16], t[16], rate[20] = "", eta[32] = "", bar[64];
	double secs = elapsed_ms > 0 ? (double)elapsed_ms / 1000 : 0;
	double per_s = secs > 0.2 ? (double)done / secs : 0;
	int known = total != UINT64_MAX, n;

	/* A server may send more than it announced: the line never goes past the total. */
	if (known && done > total)
		done = total;
	format_size(done, d, sizeof(d));
	if (per_s > 0) {
		format_size((uint64_t)per_s, rate, sizeof(rate));
		strcat(rate, "/s");
	}
	if (!known) {
		snprintf(out, outlen, "  %s  %s", d, rate);
		return;
	}
	format_size(total, t, sizeof(t));
	if (per_s > 0 && done < total) {
		unsigned long long left = (unsigned long long)((double)(total - done) / per_s);

		if (left >= 3600)
			snprintf(eta, sizeof(eta), "ETA %llu:%02llu:%02llu", left / 3600,
				 left / 60 % 60, left % 60);
		else
			snprintf(eta, sizeof(eta), "ETA %llu:%02llu", left / 60, left % 60);
	}
	n = snprintf(out, outlen, "  %s / %s %3u%% ", d, t,
		     total ? (unsigned)(done * 100 / total) : 100);
	/* The bar gets what the numbers leave of the width, between 10 and 40 columns. */
	{
		int cols = (int)width - n - (int)strlen(rate) - (int)strlen(eta) - 7;
		int fill;

		if (cols > 40)
			cols = 40;
		if (cols < 10)
			cols = 0;
		fill = total && cols ? (int)((double)done / (double)total * cols) : 0;
		memset(bar, 0, sizeof(bar));
		if (cols) {
			bar[0] = '[';
			memset(bar + 1, '=', (size_t)fill);
			memset(bar + 1 + fill, ' ', (size_t)(cols - fill));
			if (fill > 0 && fill < cols)
				bar[fill] = '>';
			bar[cols + 1] = ']';
		}
	}
	if (n > 0 && (unsigned)n < outlen)
		snprintf(out + n, outlen - (unsigned)n, "%s  %s  %s", bar, rate, eta);
}

void progress_start(struct progress *p, int enabled, uint64_t total)
{
	memset(p, 0, sizeof(*p));
	p->enabled = enabled;
	p->total = total;
	p->start_ms = now_ms();
	if (enabled)
		shown_bar = p;
}

void progress_update(struct progress *p, uint64_t done)
{
	long long now = now_ms();
	char line[160];

	if (!p->enabled || (p->shown && now - p->drawn_ms < 250))
		return;
	p->drawn_ms = now;
	progress_line(done, p->total, now - p->start_ms, 79, line, sizeof(line));
	fprintf(stderr, "\r%s\033[K", line);
	p->shown = 1;
}

void progress_end(struct progress *p)
{
	if (shown_bar == p) {
		clear_bar();
		shown_bar = NULL;
	}
}
