/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The web configuration file of Prometheus' exporters (exporter-toolkit's
 * --web.config.file): TLS server settings, HTTP headers and basic-auth users, read
 * with libyaml into plain values. Every option memscope cannot honour is refused with
 * its line, never ignored. Loading the files it names is websec's.
 */
#ifndef MEMSCOPE_WEBCONFIG_H
#define MEMSCOPE_WEBCONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* client_auth_type, as Go's crypto/tls names its ClientAuthType values */
enum web_client_auth {
	WEB_NO_CLIENT_CERT,
	WEB_REQUEST_CLIENT_CERT,
	WEB_REQUIRE_ANY_CLIENT_CERT,
	WEB_VERIFY_CLIENT_CERT_IF_GIVEN,
	WEB_REQUIRE_AND_VERIFY_CLIENT_CERT,
};

#define WEB_MAX_CIPHERS 32
#define WEB_MAX_CURVES 8
#define WEB_MAX_HEADERS 5

struct web_user {
	char *name, *hash; /* hash: bcrypt, $2a$, $2b$ or $2y$ */
};

struct web_spec {
	/* TLS: on when any of the certificate, key, CA or client_auth_type is set */
	bool tls;
	char *cert, *key, *client_ca;                /* inline PEM */
	char *cert_file, *key_file, *client_ca_file; /* as written (relative: to the file) */
	enum web_client_auth client_auth;
	int min_version, max_version;		     /* 10..13 for TLS 1.0..1.3 */
	uint16_t ciphers[WEB_MAX_CIPHERS];	     /* IANA ids, in the order given */
	int nciphers;
	const char *curves[WEB_MAX_CURVES]; /* GnuTLS group names, in order */
	int ncurves;
	bool prefer_server_ciphers;
	bool http2; /* allowed, not required: clients fall back to HTTP/1.1 */
	struct {
		const char *name;
		char *value;
	} headers[WEB_MAX_HEADERS];
	int nheaders;
	struct web_user *users;
	int nusers;
};

/*
 * Parses the file's text. On a problem: -1, and err holds one line (with the line
 * number where there is one); s is then empty.
 */
int web_spec_parse(const char *text, size_t len, struct web_spec *s, char *err,
		   size_t errlen);
void web_spec_free(struct web_spec *s);

/* Go's name of a cipher suite (TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256), or NULL. */
const char *web_cipher_name(uint16_t id);

#endif
