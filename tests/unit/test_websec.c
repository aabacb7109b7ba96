// SPDX-License-Identifier: GPL-2.0
/* Basic auth against bcrypt hashes, and a loaded configuration's words. */
#include <crypt.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "websec.h"

static char path[] = "/tmp/memscope-test-websec-XXXXXX";

/* A configuration file with these lines; loaded, or NULL with err. */
static struct web_config *load(const char *text, char *err)
{
	int fd = mkstemp(path);
	struct web_config *w;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	w = web_config_load(path, err, 256);
	unlink(path);
	strcpy(path + strlen(path) - 6, "XXXXXX");
	return w;
}

/* bcrypt of pass at cost 4, as htpasswd -B would make it ($2y$) */
static const char *hash(const char *pass, const char *prefix)
{
	static char out[128];
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];

	assert_non_null(crypt_gensalt_rn("$2b$", 4, NULL, 0, salt, sizeof(salt)));
	snprintf(out, sizeof(out), "%s", crypt(pass, salt));
	memcpy(out, prefix, 4);
	return out;
}

static void test_basic_auth(void **state)
{
	char text[512], err[256] = "", what[256];
	struct web_config *w;

	(void)state;
	snprintf(text, sizeof(text), "basic_auth_users:\n  prom: %s\n", hash("s3cret", "$2y$"));
	snprintf(text + strlen(text), sizeof(text) - strlen(text), "  alice: %s\n",
		 hash("wonder", "$2b$"));
	w = load(text, err);
	assert_non_null(w);
	assert_true(web_config_has_users(w));
	assert_false(web_config_tls(w));
	for (int round = 0; round < 2; round++) { /* the second from the cache */
		assert_true(web_config_auth(w, "prom", "s3cret"));
		assert_true(web_config_auth(w, "alice", "wonder"));
		assert_false(web_config_auth(w, "prom", "s3cre"));
		assert_false(web_config_auth(w, "prom", "s3cret "));
		assert_false(web_config_auth(w, "prom", "wonder")); /* another user's */
		assert_false(web_config_auth(w, "alice", "s3cret"));
		assert_false(web_config_auth(w, "bob", "s3cret")); /* unknown: the decoy */
		assert_false(web_config_auth(w, "prom", ""));
		assert_false(web_config_auth(w, NULL, NULL));
	}
	web_config_describe(w, what, sizeof(what));
	assert_non_null(strstr(what, "no TLS"));
	assert_non_null(strstr(what, "basic auth (2 users)"));
	web_config_drop(w);
}

/* crypt_blowfish's published test vector, so the check is not libcrypt against itself */
static void test_known_vector(void **state)
{
	char err[256];
	struct web_config *w = load("basic_auth_users:\n"
				    "  a: $2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW\n"
				    "  y: $2y$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW\n",
				    err);

	(void)state;
	assert_non_null(w);
	assert_true(web_config_auth(w, "a", "U*U"));
	assert_true(web_config_auth(w, "y", "U*U"));
	assert_false(web_config_auth(w, "a", "U*V"));
	web_config_drop(w);
}

static void test_long_passwords_refused(void **state)
{
	char text[512], err[256], pass[80];
	struct web_config *w;

	(void)state;
	/* bcrypt reads 72 bytes: a password that only agrees on those is no match */
	memset(pass, 'a', 73);
	pass[73] = 0;
	snprintf(text, sizeof(text), "basic_auth_users:\n  prom: %s\n", hash(pass, "$2y$"));
	w = load(text, err);
	assert_non_null(w);
	pass[72] = 'b';
	assert_false(web_config_auth(w, "prom", pass));
	pass[72] = 'a';
	assert_false(web_config_auth(w, "prom", pass)); /* 73 bytes: refused, as Go refuses */
	pass[72] = 0;
	assert_true(web_config_auth(w, "prom", pass));
	web_config_drop(w);
}

static void test_no_users_no_auth(void **state)
{
	char err[256];
	struct web_config *w = load("http_server_config:\n  headers:\n"
				    "    X-Content-Type-Options: nosniff\n", err);
	const char *value;

	(void)state;
	assert_non_null(w);
	assert_true(web_config_auth(w, NULL, NULL));
	assert_int_equal(web_config_nheaders(w), 1);
	assert_string_equal(web_config_header(w, 0, &value), "X-Content-Type-Options");
	assert_string_equal(value, "nosniff");
	web_config_drop(w);
}

static void test_files_it_names(void **state)
{
	char err[256] = "";

	(void)state;
	assert_null(load("tls_server_config:\n  cert_file: /nonexistent/memscope.crt\n"
			 "  key_file: k\n", err));
	assert_non_null(strstr(err, "cert_file /nonexistent/memscope.crt: No such file"));
	assert_null(load("tls_server_config:\n  cert: not a certificate\n  key: nor a key\n",
			 err));
	assert_non_null(strstr(err, "the certificate and key: "));
	assert_null(web_config_load("/nonexistent/web.yml", err, sizeof(err)));
	assert_non_null(strstr(err, "No such file"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic_auth),
		cmocka_unit_test(test_known_vector),
		cmocka_unit_test(test_long_passwords_refused),
		cmocka_unit_test(test_no_users_no_auth),
		cmocka_unit_test(test_files_it_names),
	};

	return cmocka_run_group_tests_name("websec", tests, NULL, NULL);
}
