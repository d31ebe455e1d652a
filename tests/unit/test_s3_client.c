/* SPDX-License-Identifier: MIT */
/* test_s3_client.c: unit tests for s3_client.c's pure parts -- which CA bundle checks the store */
#include "check_main.h"
#include <stdbool.h>
#include <string.h>

#include "s3_client.h"

/* The files a row's machine has, as the `readable` the function is given. */
static const char *const *present;

static bool in_present(const char *path)
{
	size_t i;

	for (i = 0; present[i] != NULL; i++)
		if (strcmp(present[i], path) == 0)
			return true;
	return false;
}

#define FILES(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define DEBIAN "/etc/ssl/certs/ca-certificates.crt"
#define RHEL "/etc/pki/tls/certs/ca-bundle.crt"
#define RHEL_EXTRACTED "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem"
#define SUSE "/etc/ssl/ca-bundle.pem"
#define ALPINE_CERT_PEM "/etc/ssl/cert.pem"

static const struct ca_row {
	const char *what;
	const char *configured;
	bool built_in;
	const char *const *files;
	const char *expected;   /* NULL: none found */
} ca_rows[] = {
	{ "R2MPU_S3_CA_FILE wins over all", "/srv/ca.pem", true, FILES(DEBIAN), "/srv/ca.pem" },
	{ "configured, even where nothing else is", "/srv/ca.pem", false, FILES(NULL), "/srv/ca.pem" },
	{ "libcurl's own bundle: left to libcurl", "", true, FILES(RHEL), "" },
	{ "Debian, Ubuntu", "", false, FILES(DEBIAN, ALPINE_CERT_PEM), DEBIAN },
	{ "RHEL, CentOS, CloudLinux", "", false, FILES(RHEL, RHEL_EXTRACTED, ALPINE_CERT_PEM), RHEL },
	{ "RHEL with only the extracted bundle", "", false, FILES(RHEL_EXTRACTED), RHEL_EXTRACTED },
	{ "SUSE", "", false, FILES(SUSE), SUSE },
	{ "Alpine without ca-certificates' link", "", false, FILES(ALPINE_CERT_PEM), ALPINE_CERT_PEM },
	{ "an empty root: none", "", false, FILES(NULL), NULL },
	{ "a file elsewhere is not guessed", "", false, FILES("/usr/local/ca.pem"), NULL },
};

START_TEST(test_ca_bundle)
{
	const struct ca_row *r = &ca_rows[_i];
	const char *got;

	present = r->files;
	got = s3_client_ca_bundle(r->configured, r->built_in, in_present);
	if (r->expected == NULL)
		ck_assert_msg(got == NULL, "%s: got \"%s\", expected none", r->what, got);
	else
		ck_assert_msg(got != NULL && strcmp(got, r->expected) == 0,
			      "%s: got \"%s\", expected \"%s\"", r->what, got ? got : "(none)",
			      r->expected);
}
END_TEST

static Suite *s3_client_suite(void)
{
	Suite *s = suite_create("s3_client");
	TCase *tc = tcase_create("ca_bundle");

	tcase_add_loop_test(tc, test_ca_bundle, 0, NROWS(ca_rows));
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(s3_client_suite)
