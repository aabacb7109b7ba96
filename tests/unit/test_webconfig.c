// SPDX-License-Identifier: GPL-2.0
/* The exporter-toolkit web configuration: what is read, and what is refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "webconfig.h"

#define HASH "$2y$10$X0h1gDsPszWURQaxFh.zoubFi6DXncSjhoQNJgRrnGs7EsimhC7zG"

static int parse(const char *text, struct web_spec *s, char *err)
{
	return web_spec_parse(text, strlen(text), s, err, 256);
}

static void test_full_file(void **state)
{
	static const char text[] =
		"tls_server_config:\n"
		"  cert_file: server.crt\n"
		"  key_file: /etc/memscope/server.key\n"
		"  client_auth_type: RequireAndVerifyClientCert\n"
		"  client_ca_file: ca.crt\n"
		"  min_version: TLS13\n"
		"  cipher_suites:\n"
		"    - TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\n"
		"    - TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256\n"
		"  prefer_server_cipher_suites: false\n"
		"  curve_preferences: [X25519, CurveP256]\n"
		"http_server_config:\n"
		"  http2: false\n"
		"  headers:\n"
		"    X-Frame-Options: deny\n"
		"    Strict-Transport-Security: max-age=31536000\n"
		"basic_auth_users:\n"
		"  prometheus: " HASH "\n"
		"  'alice': \"" HASH "\"\n";
	struct web_spec s;
	char err[256] = "";

	(void)state;
	assert_int_equal(parse(text, &s, err), 0);
	assert_true(s.tls);
	assert_string_equal(s.cert_file, "server.crt");
	assert_string_equal(s.key_file, "/etc/memscope/server.key");
	assert_string_equal(s.client_ca_file, "ca.crt");
	assert_int_equal(s.client_auth, WEB_REQUIRE_AND_VERIFY_CLIENT_CERT);
	assert_int_equal(s.min_version, 13);
	assert_int_equal(s.max_version, 13);
	assert_int_equal(s.nciphers, 2);
	assert_int_equal(s.ciphers[0], 0xc02f);
	assert_int_equal(s.ciphers[1], 0xcca8);
	assert_false(s.prefer_server_ciphers);
	assert_int_equal(s.ncurves, 2);
	assert_string_equal(s.curves[0], "GROUP-X25519");
	assert_string_equal(s.curves[1], "GROUP-SECP256R1");
	assert_false(s.http2);
	assert_int_equal(s.nheaders, 2);
	assert_string_equal(s.headers[0].name, "X-Frame-Options");
	assert_string_equal(s.headers[1].value, "max-age=31536000");
	assert_int_equal(s.nusers, 2);
	assert_string_equal(s.users[1].name, "alice");
	assert_string_equal(s.users[1].hash, HASH);
	web_spec_free(&s);
}

static void test_defaults(void **state)
{
	struct web_spec s;
	char err[256];

	(void)state;
	/* an empty file, or empty sections: plain HTTP, nobody asked for a password */
	assert_int_equal(parse("", &s, err), 0);
	assert_false(s.tls);
	assert_int_equal(s.nusers, 0);
	web_spec_free(&s);
	assert_int_equal(parse("tls_server_config:\nbasic_auth_users: {}\n", &s, err), 0);
	assert_false(s.tls);
	web_spec_free(&s);
	/* the toolkit's defaults: TLS 1.2 to 1.3, the server's preference, http2 allowed */
	assert_int_equal(parse("tls_server_config:\n  cert: x\n  key: y\n", &s, err), 0);
	assert_true(s.tls && s.prefer_server_ciphers && s.http2);
	assert_int_equal(s.min_version, 12);
	assert_int_equal(s.max_version, 13);
	assert_int_equal(s.client_auth, WEB_NO_CLIENT_CERT);
	web_spec_free(&s);
	/* the older name of RequireAnyClientCert */
	assert_int_equal(parse("tls_server_config:\n  cert: x\n  key: y\n"
			       "  client_auth_type: RequireClientCert\n", &s, err), 0);
	assert_int_equal(s.client_auth, WEB_REQUIRE_ANY_CLIENT_CERT);
	web_spec_free(&s);
}

/* Each refused with one line naming the problem (and its line where it has one). */
static void test_refused(void **state)
{
	static const struct {
		const char *text, *said;
	} bad[] = {
		{ "tls_server_config:\n  cert_file: a\n  key_file: b\n  certfile: c\n",
		  "line 4: tls_server_config: unknown option 'certfile'" },
		{ "tls_config:\n  cert_file: a\n", "line 1: unknown option 'tls_config'" },
		{ "tls_server_config: [a]\n", "expected a mapping" },
		{ "tls_server_config:\n  cert_file: a\n", "missing key_file" },
		{ "tls_server_config:\n  key_file: a\n", "missing cert_file" },
		{ "tls_server_config:\n  min_version: TLS12\n", "TLS would be off" },
		{ "tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS14\n",
		  "line 4: min_version: unknown TLS version 'TLS14'" },
		{ "tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS13\n"
		  "  max_version: TLS12\n", "above max_version" },
		{ "tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: Maybe\n",
		  "client_auth_type: unknown 'Maybe'" },
		{ "tls_server_config:\n  cert_file: a\n  key_file: b\n  client_ca_file: c\n",
		  "client_ca_file without a client_auth_type" },
		{ "tls_server_config:\n  cert_file: a\n  key_file: b\n"
		  "  client_auth_type: RequireAndVerifyClientCert\n", "needs client_ca_file" },
		{ "tls_server_config:\n  cert_file: a\n  key_file: b\n"
		  "  cipher_suites: [TLS_RSA_WITH_RC4_128_SHA]\n", "unknown cipher" },
		{ "tls_server_config:\n  cert_file: a\n  key_file: b\n"
		  "  curve_preferences: [CurveP224]\n", "unknown curve" },
		{ "tls_server_config:\n  cert_file: a\n  key_file: b\n"
		  "  client_allowed_sans: [x]\n", "client_allowed_sans is not supported" },
		{ "tls_server_config:\n  cert_file: a\n  cert: b\n  key_file: c\n", "not both" },
		{ "tls_server_config:\n  cert_file: a\n  cert_file: b\n", "'cert_file' given twice" },
		{ "tls_server_config:\n  cert_file: a\n  key_file: b\n"
		  "  prefer_server_cipher_suites: maybe\n", "not true or false" },
		{ "http_server_config:\n  headers:\n    X-Frame-Options: allow\n",
		  "X-Frame-Options: 'allow' is not allowed" },
		{ "http_server_config:\n  headers:\n    Server: memscope\n", "'Server' cannot be set" },
		{ "http_server_config:\n  http3: true\n", "unknown option 'http3'" },
		{ "basic_auth_users:\n  prom: secret\n", "line 2: basic_auth_users: prom: not a bcrypt" },
		{ "basic_auth_users:\n  prom: $1$abc$defghijklmnopqrstuvwxy\n", "not a bcrypt" },
		{ "basic_auth_users:\n  'a:b': " HASH "\n", "cannot be a user name" },
		{ "rate_limit:\n  interval: 1s\n  burst: 5\n", "rate_limit is not supported" },
		{ "tls_server_config:\n  cert_file: [a\n", "line " },
		{ "- a\n- b\n", "expected a mapping" },
		{ "basic_auth_users: {}\n---\nbasic_auth_users: {}\n", "a second YAML document" },
		/* a value quoted in the message keeps it one line (found by fuzz_webconfig) */
		{ "http_server_config:\n  http2: \"false\\n-----BEGIN-----\"\n",
		  "http2: 'false?-----BEGIN-----' is not true or false" },
	};
	struct web_spec s;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		if (parse(bad[i].text, &s, err) != -1 || !strstr(err, bad[i].said) ||
		    strchr(err, '\n'))
			fail_msg("case %zu: said '%s', want '%s'", i, err, bad[i].said);
		assert_int_equal(s.nusers, 0); /* nothing left behind */
	}
}

static void test_cipher_names(void **state)
{
	(void)state;
	assert_string_equal(web_cipher_name(0xc030), "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384");
	assert_string_equal(web_cipher_name(0x1303), "TLS_CHACHA20_POLY1305_SHA256");
	assert_null(web_cipher_name(0x000a)); /* 3DES: not among Go's secure suites */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_file),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_cipher_names),
	};

	return cmocka_run_group_tests_name("webconfig", tests, NULL, NULL);
}
