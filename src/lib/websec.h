/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A loaded web configuration (webconfig.h's file with the certificates and keys it
 * names): GnuTLS credentials and priorities for each new TLS session, and basic-auth
 * checks against bcrypt hashes (libxcrypt's crypt_rn, compared in constant time).
 * Shared by reference: a reload makes a new one while sessions keep the old.
 */
#ifndef MEMSCOPE_WEBSEC_H
#define MEMSCOPE_WEBSEC_H

#include <stdbool.h>
#include <stddef.h>
#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>

struct web_config;

/* Reads FILE and everything it names; NULL and one line in err on any problem. */
struct web_config *web_config_load(const char *path, char *err, size_t errlen);
void web_config_hold(struct web_config *w);
void web_config_drop(struct web_config *w); /* the last drop frees it */

bool web_config_tls(const struct web_config *w);
bool web_config_has_users(const struct web_config *w);
/* What it protects with, in words: "TLS 1.2-1.3, client certificates ..., basic auth". */
void web_config_describe(const struct web_config *w, char *buf, size_t len);

/* A new server session: its credentials, priorities and client-certificate policy. */
int web_config_session(struct web_config *w, gnutls_session_t s);
/* true when no users are configured, or user and password match one (bcrypt). */
bool web_config_auth(struct web_config *w, const char *user, const char *pass);

/* The response headers the file sets. */
int web_config_nheaders(const struct web_config *w);
const char *web_config_header(const struct web_config *w, int i, const char **value);

/*
 * A certificate function for a TLS server whose every session web_config_session sets
 * up: it gives no certificate, so a session it was not done for fails its handshake.
 */
int web_tls_no_certificate(gnutls_session_t s, const gnutls_datum_t *req_ca_dn, int nreqs,
			   const gnutls_pk_algorithm_t *algos, int nalgos, gnutls_pcert_st **pcert,
			   unsigned int *npcert, gnutls_privkey_t *key);

#endif
