// SPDX-License-Identifier: GPL-2.0
/* A loaded web configuration: TLS sessions and basic auth (see websec.h). */
#include <crypt.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>
#include "strbuf.h"
#include "textsafe.h"
#include "webconfig.h"
#include "websec.h"

#define PEM_MAX (1 << 20) /* a certificate file larger than this is no certificate */
#define MAC_LEN 32	  /* HMAC-SHA256 */

struct auth_user {
	char *name, *hash;
	unsigned char good[MAC_LEN]; /* the keyed hash of the last password that matched */
	bool cached;
};

struct web_config {
	int refs;
	bool tls;
	gnutls_certificate_credentials_t cred;
	gnutls_priority_t prio;
	enum web_client_auth client_auth;
	int min_version, max_version;
	struct web_spec spec; /* the headers and the file's own words */
	pthread_mutex_t lock; /* the users' cache and the bcrypt scratch */
	struct auth_user *users;
	int nusers;
	char decoy[CRYPT_OUTPUT_SIZE]; /* checked for an unknown user: the same time spent */
	unsigned char mac_key[MAC_LEN];
	struct crypt_data *crypt;
};

/* ---- loading ---- */

static int say(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int say(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* A whole small file; relative names are read beside the configuration file. */
static int read_file(const char *dir, const char *name, char **text, size_t *len)
{
	char path[4096];
	FILE *f;
	int e = 0;

	if (snprintf(path, sizeof(path), "%s%s%s", name[0] == '/' ? "" : dir,
		     name[0] == '/' ? "" : "/", name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	if (!(f = fopen(path, "re")))
		return -errno;
	if (!(*text = malloc(PEM_MAX + 1))) {
		fclose(f);
		return -ENOMEM;
	}
	*len = fread(*text, 1, PEM_MAX + 1, f);
	if (ferror(f))
		e = -EIO;
	else if (*len > PEM_MAX)
		e = -EFBIG;
	fclose(f);
	if (e) {
		free(*text);
		return e;
	}
	(*text)[*len] = 0;
	return 0;
}

/* The PEM text of an inline option or of the file it names. */
static int pem(const char *inline_text, const char *file, const char *dir, const char *what,
	       gnutls_datum_t *d, char *err, size_t errlen)
{
	size_t len;
	char *text;
	int e;

	if (inline_text) {
		d->data = (unsigned char *)strdup(inline_text);
		d->size = strlen(inline_text);
		return d->data ? 0 : say(err, errlen, "out of memory");
	}
	e = read_file(dir, file, &text, &len);
	if (e)
		return say(err, errlen, "tls_server_config: %s %s: %s", what, file,
			   e == -EFBIG ? "larger than 1 MiB" : strerror(-e));
	d->data = (unsigned char *)text;
	d->size = len;
	return 0;
}

static void pem_free(gnutls_datum_t *d)
{
	if (d->data)
		gnutls_memset(d->data, 0, d->size); /* a key's text */
	free(d->data);
	d->data = NULL;
}

static int load_keypair(struct web_config *w, const char *dir, char *err, size_t errlen)
{
	const struct web_spec *s = &w->spec;
	gnutls_datum_t cert = { 0 }, key = { 0 };
	int r = -1;

	if (pem(s->cert, s->cert_file, dir, "cert_file", &cert, err, errlen) ||
	    pem(s->key, s->key_file, dir, "key_file", &key, err, errlen))
		goto out;
	r = gnutls_certificate_set_x509_key_mem2(w->cred, &cert, &key, GNUTLS_X509_FMT_PEM, NULL,
						 0);
	if (r < 0)
		say(err, errlen, "tls_server_config: the certificate and key: %s%s",
		    gnutls_strerror(r),
		    strstr((char *)key.data, "ENCRYPTED") ?
			    " (the key is encrypted; the file format has no password: give it "
			    "unencrypted, readable by memscope only)" : "");
out:
	pem_free(&cert);
	pem_free(&key);
	return r < 0 ? -1 : 0;
}

static int load_client_ca(struct web_config *w, const char *dir, char *err, size_t errlen)
{
	const struct web_spec *s = &w->spec;
	gnutls_datum_t ca = { 0 };
	int n;

	if (!s->client_ca && !s->client_ca_file)
		return 0;
	if (pem(s->client_ca, s->client_ca_file, dir, "client_ca_file", &ca, err, errlen))
		return -1;
	n = gnutls_certificate_set_x509_trust_mem(w->cred, &ca, GNUTLS_X509_FMT_PEM);
	pem_free(&ca);
	if (n <= 0)
		return say(err, errlen, "tls_server_config: client_ca%s: %s",
			   s->client_ca_file ? "_file" : "",
			   n < 0 ? gnutls_strerror(n) : "no certificate in it");
	return 0;
}

/* GnuTLS's names of a suite's key exchange, cipher and MAC; false if it has none. */
static bool suite_parts(uint16_t id, const char **kx, const char **cipher, const char **mac)
{
	unsigned char cs[2];
	gnutls_kx_algorithm_t k;
	gnutls_cipher_algorithm_t c;
	gnutls_mac_algorithm_t m;

	for (size_t i = 0; gnutls_cipher_suite_info(i, cs, &k, &c, &m, NULL); i++) {
		if (cs[0] << 8 != (id & 0xff00) || cs[1] != (id & 0xff))
			continue;
		*kx = gnutls_kx_get_name(k);
		*cipher = gnutls_cipher_get_name(c);
		*mac = gnutls_mac_get_name(m);
		return *kx && *cipher && *mac;
	}
	return false;
}

/* Names for one part of a priority string, each once, in the order first met. */
struct names {
	const char *v[WEB_MAX_CIPHERS + 4];
	int n;
};

static void add_name(struct names *l, const char *name)
{
	for (int i = 0; i < l->n; i++)
		if (!strcmp(l->v[i], name))
			return;
	l->v[l->n++] = name;
}

static void add_part(struct strbuf *sb, const char *all, const struct names *l)
{
	sb_add(sb, ":-%s", all);
	for (int i = 0; i < l->n; i++)
		sb_add(sb, ":+%s", l->v[i]);
}

/* The cipher_suites as GnuTLS priorities: the key exchanges, ciphers and MACs named. */
static int suite_priorities(const struct web_spec *s, struct strbuf *sb, char *err,
			    size_t errlen)
{
	static const char *const tls13[] = { "AES-128-GCM", "AES-256-GCM", "CHACHA20-POLY1305" };
	struct names kx = { .n = 0 }, ciphers = { .n = 0 }, macs = { .n = 0 };

	for (int i = 0; i < s->nciphers; i++) {
		const char *k, *c, *m;

		if (s->ciphers[i] >> 8 == 0x13)
			continue; /* TLS 1.3's suites are not chosen, as in Go */
		if (!suite_parts(s->ciphers[i], &k, &c, &m))
			return say(err, errlen, "cipher_suites: GnuTLS has no %s",
				   web_cipher_name(s->ciphers[i]));
		add_name(&kx, k);
		add_name(&ciphers, c);
		add_name(&macs, m);
	}
	if (s->max_version >= 13) { /* Go's TLS 1.3 suites, always on */
		for (size_t i = 0; i < sizeof(tls13) / sizeof(tls13[0]); i++)
			add_name(&ciphers, tls13[i]);
		add_name(&macs, "AEAD");
	}
	add_part(sb, "KX-ALL", &kx);
	add_part(sb, "CIPHER-ALL", &ciphers);
	add_part(sb, "MAC-ALL", &macs);
	return 0;
}

static bool listed(const struct web_spec *s, uint16_t id)
{
	for (int i = 0; i < s->nciphers; i++)
		if (s->ciphers[i] == id)
			return true;
	return false;
}

/*
 * GnuTLS enables the cross product of what a priority string names. When that is more
 * than the suites listed, the file cannot be honoured: say which suite would come too.
 */
static int check_suites(const struct web_config *w, char *err, size_t errlen)
{
	const struct web_spec *s = &w->spec;
	bool tls13 = false;
	unsigned int idx;

	for (unsigned int i = 0;; i++) {
		unsigned char cs[2];
		int r = gnutls_priority_get_cipher_suite_index(w->prio, i, &idx);
		const char *theirs;
		uint16_t id;

		if (r == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (r < 0 || !(theirs = gnutls_cipher_suite_info(idx, cs, NULL, NULL, NULL, NULL)))
			continue;
		id = cs[0] << 8 | cs[1];
		if (cs[0] == 0x13) {
			tls13 = true;
		} else if (!listed(s, id)) {
			const char *name = web_cipher_name(id);

			return say(err, errlen, "cipher_suites: with these, GnuTLS would also offer "
				   "%s (it enables every pairing of the key exchanges, ciphers and "
				   "MACs named); list it too%s", name ? name : theirs,
				   s->max_version >= 13 ? ", or set max_version: TLS12 (TLS 1.3 "
				   "needs its ciphers)" : "");
		}
	}
	if (s->max_version >= 13 && !tls13)
		return say(err, errlen, "cipher_suites: GnuTLS would turn TLS 1.3 off with these; "
			   "set max_version: TLS12");
	return 0;
}

static int load_priorities(struct web_config *w, char *err, size_t errlen)
{
	const struct web_spec *s = &w->spec;
	char text[1024];
	struct strbuf sb;
	const char *at;
	int r;

	sb_init(&sb, text, sizeof(text));
	sb_add(&sb, "NORMAL:-VERS-ALL");
	for (int v = s->max_version; v >= s->min_version; v--)
		sb_add(&sb, ":+VERS-TLS1.%d", v - 10);
	if (s->nciphers && suite_priorities(s, &sb, err, errlen))
		return -1;
	if (s->ncurves)
		sb_add(&sb, ":-GROUP-ALL");
	for (int i = 0; i < s->ncurves; i++)
		sb_add(&sb, ":+%s", s->curves[i]);
	if (s->prefer_server_ciphers)
		sb_add(&sb, ":%%SERVER_PRECEDENCE");
	r = gnutls_priority_init(&w->prio, text, &at);
	if (r < 0) {
		w->prio = NULL;
		return say(err, errlen, "tls_server_config: GnuTLS refused the settings as "
			   "priorities '%s' at '%s': %s", text, at ? at : "", gnutls_strerror(r));
	}
	return s->nciphers ? check_suites(w, err, errlen) : 0;
}

static int load_tls(struct web_config *w, const char *dir, char *err, size_t errlen)
{
	int r = gnutls_certificate_allocate_credentials(&w->cred);

	if (r < 0)
		return say(err, errlen, "TLS credentials: %s", gnutls_strerror(r));
	w->tls = true;
	w->client_auth = w->spec.client_auth;
	return load_keypair(w, dir, err, errlen) || load_client_ca(w, dir, err, errlen) ||
			       load_priorities(w, err, errlen) ? -1 : 0;
}

static int load_users(struct web_config *w, char *err, size_t errlen)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	unsigned long cost = 4;

	if (!w->spec.nusers)
		return 0;
	w->users = calloc(w->spec.nusers, sizeof(*w->users));
	w->crypt = calloc(1, sizeof(*w->crypt));
	if (!w->users || !w->crypt)
		return say(err, errlen, "out of memory");
	for (int i = 0; i < w->spec.nusers; i++) {
		const char *h = w->spec.users[i].hash;

		w->users[i].name = w->spec.users[i].name;
		w->users[i].hash = w->spec.users[i].hash;
		if ((unsigned long)strtoul(h + 4, NULL, 10) > cost)
			cost = strtoul(h + 4, NULL, 10);
	}
	w->nusers = w->spec.nusers;
	/* the decoy costs what the dearest user's hash costs */
	if (!crypt_gensalt_rn("$2b$", cost, NULL, 0, salt, sizeof(salt)) ||
	    !crypt_rn("", salt, w->crypt, sizeof(*w->crypt)))
		return say(err, errlen, "basic_auth_users: this libcrypt has no bcrypt");
	snprintf(w->decoy, sizeof(w->decoy), "%s", w->crypt->output);
	for (int i = 0; i < w->nusers; i++) {
		const char *out = crypt_rn("", w->users[i].hash, w->crypt, sizeof(*w->crypt));

		if (!out || strlen(out) != 60) /* libcrypt's own view of the hash */
			return say(err, errlen, "basic_auth_users: %s: libcrypt refused the hash",
				   w->users[i].name);
	}
	return gnutls_rnd(GNUTLS_RND_KEY, w->mac_key, sizeof(w->mac_key)) < 0 ?
		       say(err, errlen, "no random numbers for the password cache") : 0;
}

struct web_config *web_config_load(const char *path, char *err, size_t errlen)
{
	struct web_config *w = calloc(1, sizeof(*w));
	char dir[4096], *slash, *text = NULL;
	size_t len;
	int e;

	if (!w) {
		say(err, errlen, "out of memory");
		return NULL;
	}
	w->refs = 1;
	pthread_mutex_init(&w->lock, NULL);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash)
		*(slash == dir ? slash + 1 : slash) = 0;
	else
		strcpy(dir, ".");
	e = read_file(".", path, &text, &len);
	if (e) {
		say(err, errlen, "%s", e == -EFBIG ? "larger than 1 MiB" : strerror(-e));
	} else if (!web_spec_parse(text, len, &w->spec, err, errlen)) {
		if ((!w->spec.tls || !load_tls(w, dir, err, errlen)) && !load_users(w, err, errlen)) {
			free(text);
			return w;
		}
	}
	free(text);
	web_config_drop(w);
	snprintf(dir, sizeof(dir), "%s", err); /* one line, whatever the file named */
	text_safe(dir, sizeof(dir), false, err, errlen);
	return NULL;
}

/* ---- in use ---- */

void web_config_hold(struct web_config *w)
{
	__atomic_add_fetch(&w->refs, 1, __ATOMIC_RELAXED);
}

void web_config_drop(struct web_config *w)
{
	if (!w || __atomic_sub_fetch(&w->refs, 1, __ATOMIC_ACQ_REL))
		return;
	if (w->cred)
		gnutls_certificate_free_credentials(w->cred);
	if (w->prio)
		gnutls_priority_deinit(w->prio);
	gnutls_memset(w->mac_key, 0, sizeof(w->mac_key));
	for (int i = 0; i < w->nusers; i++)
		gnutls_memset(w->users[i].good, 0, MAC_LEN);
	if (w->crypt)
		gnutls_memset(w->crypt, 0, sizeof(*w->crypt));
	free(w->crypt);
	free(w->users);
	web_spec_free(&w->spec);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

bool web_config_tls(const struct web_config *w)
{
	return w->tls;
}

bool web_config_has_users(const struct web_config *w)
{
	return w->nusers > 0;
}

void web_config_describe(const struct web_config *w, char *buf, size_t len)
{
	static const char *const clients[] = {
		[WEB_NO_CLIENT_CERT] = "no client certificates",
		[WEB_REQUEST_CLIENT_CERT] = "client certificates requested, not verified",
		[WEB_REQUIRE_ANY_CLIENT_CERT] = "client certificates required, not verified",
		[WEB_VERIFY_CLIENT_CERT_IF_GIVEN] = "client certificates verified when given",
		[WEB_REQUIRE_AND_VERIFY_CLIENT_CERT] = "client certificates required and verified",
	};
	struct strbuf sb;

	sb_init(&sb, buf, len);
	if (w->tls) {
		sb_add(&sb, "TLS 1.%d", w->spec.min_version - 10);
		if (w->spec.max_version != w->spec.min_version)
			sb_add(&sb, "-1.%d", w->spec.max_version - 10);
		sb_add(&sb, ", %s", clients[w->client_auth]);
	} else {
		sb_add(&sb, "no TLS (plain HTTP%s)", w->nusers ? ": passwords cross the network "
			"readable" : "");
	}
	if (w->nusers)
		sb_add(&sb, ", basic auth (%d user%s)", w->nusers, w->nusers > 1 ? "s" : "");
	else
		sb_add(&sb, ", no basic auth");
}

/* The client's certificate, when it gave one, against client_ca (for client use). */
static int verify_client(gnutls_session_t s)
{
	gnutls_typed_vdata_st purpose = { .type = GNUTLS_DT_KEY_PURPOSE_OID,
					  .data = (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT };
	unsigned int n = 0, status = 0;

	if (!gnutls_certificate_get_peers(s, &n) || !n)
		return 0; /* none: GNUTLS_CERT_REQUIRE refused that where it must */
	if (gnutls_certificate_verify_peers(s, &purpose, 1, &status) < 0 || status)
		return GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR;
	return 0;
}

int web_config_session(struct web_config *w, gnutls_session_t s)
{
	static const gnutls_certificate_request_t request[] = {
		[WEB_NO_CLIENT_CERT] = GNUTLS_CERT_IGNORE,
		[WEB_REQUEST_CLIENT_CERT] = GNUTLS_CERT_REQUEST,
		[WEB_REQUIRE_ANY_CLIENT_CERT] = GNUTLS_CERT_REQUIRE,
		[WEB_VERIFY_CLIENT_CERT_IF_GIVEN] = GNUTLS_CERT_REQUEST,
		[WEB_REQUIRE_AND_VERIFY_CLIENT_CERT] = GNUTLS_CERT_REQUIRE,
	};

	if (!w->tls || gnutls_priority_set(s, w->prio) < 0 ||
	    gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, w->cred) < 0)
		return -1;
	gnutls_certificate_server_set_request(s, request[w->client_auth]);
	if (w->client_auth == WEB_VERIFY_CLIENT_CERT_IF_GIVEN ||
	    w->client_auth == WEB_REQUIRE_AND_VERIFY_CLIENT_CERT)
		gnutls_session_set_verify_function(s, verify_client);
	return 0;
}

/* Equal, in a time that does not depend on where they differ. */
static bool same(const void *a, const void *b, size_t n)
{
	const volatile unsigned char *x = a, *y = b;
	unsigned char d = 0;

	for (size_t i = 0; i < n; i++)
		d |= x[i] ^ y[i];
	return !d;
}

/* A keyed hash of the credentials: what the cache keeps instead of a password. */
static int credentials_mac(const struct web_config *w, const char *user, const char *pass,
			   unsigned char *mac)
{
	size_t ul = strlen(user) + 1, pl = strlen(pass);
	char *both = malloc(ul + pl);
	int r;

	if (!both)
		return -1;
	memcpy(both, user, ul);
	memcpy(both + ul, pass, pl);
	r = gnutls_hmac_fast(GNUTLS_MAC_SHA256, w->mac_key, sizeof(w->mac_key), both, ul + pl,
			     mac);
	gnutls_memset(both, 0, ul + pl);
	free(both);
	return r;
}

/*
 * bcrypt costs tens of milliseconds by design; Prometheus sends the same credentials
 * every scrape, so the last password that matched is remembered (as a keyed hash) and
 * a scrape costs one HMAC. A wrong one always pays the bcrypt, unknown users too.
 */
bool web_config_auth(struct web_config *w, const char *user, const char *pass)
{
	unsigned char mac[MAC_LEN];
	struct auth_user *u = NULL;
	const char *out;
	bool ok;

	if (!w->nusers)
		return true;
	if (!user || !pass || strlen(pass) > 72) /* bcrypt reads 72 bytes: more is refused */
		return false;
	for (int i = 0; i < w->nusers && !u; i++)
		if (!strcmp(w->users[i].name, user))
			u = &w->users[i];
	if (credentials_mac(w, user, pass, mac) < 0)
		return false;
	pthread_mutex_lock(&w->lock);
	ok = u && u->cached && same(mac, u->good, MAC_LEN);
	if (!ok) {
		const char *hash = u ? u->hash : w->decoy;

		out = crypt_rn(pass, hash, w->crypt, sizeof(*w->crypt));
		ok = out && strlen(out) == strlen(hash) && same(out, hash, strlen(hash)) && u;
		if (ok) {
			memcpy(u->good, mac, MAC_LEN);
			u->cached = true;
		}
	}
	pthread_mutex_unlock(&w->lock);
	gnutls_memset(mac, 0, sizeof(mac));
	return ok;
}

int web_config_nheaders(const struct web_config *w)
{
	return w->spec.nheaders;
}

const char *web_config_header(const struct web_config *w, int i, const char **value)
{
	*value = w->spec.headers[i].value;
	return w->spec.headers[i].name;
}

int web_tls_no_certificate(gnutls_session_t s, const gnutls_datum_t *req_ca_dn, int nreqs,
			   const gnutls_pk_algorithm_t *algos, int nalgos, gnutls_pcert_st **pcert,
			   unsigned int *npcert, gnutls_privkey_t *key)
{
	(void)s, (void)req_ca_dn, (void)nreqs, (void)algos, (void)nalgos;
	*pcert = NULL;
	*npcert = 0;
	*key = NULL;
	return -1;
}
