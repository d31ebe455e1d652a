/* SPDX-License-Identifier: MIT */
/* outcome.c: what an answer means -- done, try again, or stop with which exit code */
#include "outcome.h"

#include <string.h>

#include <curl/curl.h>

/* libcurl's results that say the network or the peer failed this time, not the request. */
static const CURLcode transient[] = {
	CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_CONNECT, CURLE_OPERATION_TIMEDOUT,
	CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE,
	CURLE_SSL_CONNECT_ERROR, CURLE_HTTP2, CURLE_HTTP2_STREAM, CURLE_HTTP3,
	CURLE_WEIRD_SERVER_REPLY,
};

/* The gateway's codes that mean "the store was busy or slow": worth another try. */
static const char *const transient_codes[] = { "StoreBusy", "StoreTimeout", "StoreUnavailable" };

static int is_transient_code(const char *code)
{
	if (!code)
		return 0;
	for (size_t i = 0; i < sizeof(transient_codes) / sizeof(transient_codes[0]); i++)
		if (strcmp(code, transient_codes[i]) == 0)
			return 1;
	return 0;
}

enum outcome outcome_of(int curl_code, long status, const char *error_code)
{
	if (curl_code != CURLE_OK) {
		for (size_t i = 0; i < sizeof(transient) / sizeof(transient[0]); i++)
			if ((CURLcode)curl_code == transient[i])
				return OUTCOME_RETRY;
		return OUTCOME_FATAL;
	}
	/* A redirect is no success: the client follows none (a token or a file would go
	 * with it), so the request was not done. */
	if (status >= 200 && status < 300)
		return OUTCOME_OK;
	if (status >= 500 || status == 429 || status == 408 || is_transient_code(error_code))
		return OUTCOME_RETRY;
	return OUTCOME_FATAL;
}

enum exit_code exit_code_of(int curl_code, long status, const char *error_code)
{
	if (curl_code != CURLE_OK)
		return outcome_of(curl_code, 0, NULL) == OUTCOME_RETRY ? EXIT_SERVER : EXIT_FAILED;
	if (status >= 200 && status < 300)
		return EXIT_DONE;
	if (error_code && (strcmp(error_code, "BadDigest") == 0 ||
			   strcmp(error_code, "StoreDigestMismatch") == 0 ||
			   strcmp(error_code, "PreconditionFailed") == 0))
		return EXIT_INTEGRITY;
	if (status == 401 || status == 403)
		return EXIT_AUTH;
	if (status == 404)
		return EXIT_NOT_FOUND;
	if (status == 412)
		return EXIT_INTEGRITY;
	if (outcome_of(CURLE_OK, status, error_code) == OUTCOME_RETRY)
		return EXIT_SERVER;
	return EXIT_REFUSED;
}

unsigned retry_delay_ms(unsigned retry, unsigned base_ms, unsigned cap_ms, double r)
{
	unsigned long long span = base_ms;

	for (unsigned i = 1; i < retry && span < cap_ms; i++)
		span *= 2;
	if (span > cap_ms)
		span = cap_ms;
	if (r < 0 || r >= 1)
		r = 0;
	return (unsigned)((double)span * r);
}
