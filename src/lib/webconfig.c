// SPDX-License-Identifier: GPL-2.0
/* The exporter-toolkit web configuration file, read with libyaml (see webconfig.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>
#include "textsafe.h"
#include "webconfig.h"

/* The suites Go's tls.CipherSuites() lists: the only names exporter-toolkit takes. */
static const struct {
	const char *name;
	uint16_t id;
} ciphers[] = {
	{ "TLS_RSA_WITH_AES_128_CBC_SHA", 0x002f },
	{ "TLS_RSA_WITH_AES_256_CBC_SHA", 0x0035 },
	{ "TLS_RSA_WITH_AES_128_GCM_SHA256", 0x009c },
	{ "TLS_RSA_WITH_AES_256_GCM_SHA384", 0x009d },
	{ "TLS_AES_128_GCM_SHA256", 0x1301 },
	{ "TLS_AES_256_GCM_SHA384", 0x1302 },
	{ "TLS_CHACHA20_POLY1305_SHA256", 0x1303 },
	{ "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", 0xc009 },
	{ "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", 0xc00a },
	{ "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", 0xc013 },
	{ "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", 0xc014 },
	{ "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", 0xc02b },
	{ "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", 0xc02f },
	{ "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", 0xc02c },
	{ "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", 0xc030 },
	{ "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", 0xcca8 },
	{ "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", 0xcca9 },
};

/* Go's curve names, as GnuTLS's priority strings name the same groups */
static const struct {
	const char *name, *group;
} curves[] = {
	{ "CurveP256", "GROUP-SECP256R1" },
	{ "CurveP384", "GROUP-SECP384R1" },
	{ "CurveP521", "GROUP-SECP521R1" },
	{ "X25519", "GROUP-X25519" },
};

static const char *const client_auths[] = {
	[WEB_NO_CLIENT_CERT] = "NoClientCert",
	[WEB_REQUEST_CLIENT_CERT] = "RequestClientCert",
	[WEB_REQUIRE_ANY_CLIENT_CERT] = "RequireAnyClientCert",
	[WEB_VERIFY_CLIENT_CERT_IF_GIVEN] = "VerifyClientCertIfGiven",
	[WEB_REQUIRE_AND_VERIFY_CLIENT_CERT] = "RequireAndVerifyClientCert",
};

/* the headers exporter-toolkit lets a file set, with their allowed values (if closed) */
static const struct {
	const char *name, *allowed[3];
} headers[] = {
	{ "Strict-Transport-Security", { NULL } },
	{ "X-Content-Type-Options", { "nosniff", NULL } },
	{ "X-Frame-Options", { "deny", "sameorigin", NULL } },
	{ "X-XSS-Protection", { NULL } },
	{ "Content-Security-Policy", { NULL } },
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

const char *web_cipher_name(uint16_t id)
{
	for (size_t i = 0; i < ARRAY_LEN(ciphers); i++)
		if (ciphers[i].id == id)
			return ciphers[i].name;
	return NULL;
}

struct yctx {
	yaml_document_t *doc;
	struct web_spec *s;
	bool tls_options; /* versions, suites, curves or preference given */
	char *err;
	size_t errlen;
};

/* One line, whatever the file held: its values are quoted with '?' for line breaks. */
static int fail(struct yctx *y, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[256], line[32] = "";
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n)
		snprintf(line, sizeof(line), "line %lu: ", (unsigned long)n->start_mark.line + 1);
	snprintf(y->err, y->errlen, "%s", line);
	text_safe(msg, sizeof(msg), false, y->err + strlen(line), y->errlen - strlen(line));
	return -1;
}

static yaml_node_t *node(struct yctx *y, int i)
{
	return yaml_document_get_node(y->doc, i);
}

/* An empty value, "~" or null: the option is not set (as Go's yaml reads it). */
static bool is_null(const yaml_node_t *n)
{
	const char *v = (const char *)n->data.scalar.value;

	return n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       (!*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
		!strcmp(v, "NULL"));
}

/* A scalar's text; NULL (and the error) when it is no scalar or holds a NUL. */
static const char *scalar(struct yctx *y, const yaml_node_t *n, const char *what)
{
	if (n->type != YAML_SCALAR_NODE) {
		fail(y, n, "%s: expected a single value", what);
		return NULL;
	}
	if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length) {
		fail(y, n, "%s: the value holds a NUL byte", what);
		return NULL;
	}
	return (const char *)n->data.scalar.value;
}

static int set_string(struct yctx *y, const yaml_node_t *n, const char *what, char **dst)
{
	const char *v = scalar(y, n, what);

	if (!v)
		return -1;
	free(*dst);
	*dst = strdup(v);
	return *dst ? 0 : fail(y, n, "out of memory");
}

/* YAML 1.1's booleans, as Go's yaml.v2 reads them */
static int set_bool(struct yctx *y, const yaml_node_t *n, const char *what, bool *dst)
{
	static const char *const yes[] = { "true", "True", "TRUE", "yes", "Yes", "YES",
					   "on", "On", "ON", "y", "Y" };
	static const char *const no[] = { "false", "False", "FALSE", "no", "No", "NO",
					  "off", "Off", "OFF", "n", "N" };
	const char *v = scalar(y, n, what);

	if (!v)
		return -1;
	for (size_t i = 0; i < ARRAY_LEN(yes); i++) {
		if (!strcmp(v, yes[i]) || !strcmp(v, no[i])) {
			*dst = !strcmp(v, yes[i]);
			return 0;
		}
	}
	return fail(y, n, "%s: '%s' is not true or false", what, v);
}

static int set_version(struct yctx *y, const yaml_node_t *n, const char *what, int *dst)
{
	const char *v = scalar(y, n, what);

	if (!v)
		return -1;
	if (strlen(v) == 5 && !strncmp(v, "TLS1", 4) && v[4] >= '0' && v[4] <= '3') {
		*dst = 10 + v[4] - '0';
		return 0;
	}
	return fail(y, n, "%s: unknown TLS version '%s' (TLS10, TLS11, TLS12 or TLS13)", what, v);
}

static int set_client_auth(struct yctx *y, const yaml_node_t *n)
{
	const char *v = scalar(y, n, "client_auth_type");

	if (!v)
		return -1;
	if (!strcmp(v, "RequireClientCert")) { /* the toolkit's older name */
		y->s->client_auth = WEB_REQUIRE_ANY_CLIENT_CERT;
		return 0;
	}
	for (size_t i = 0; i < ARRAY_LEN(client_auths); i++) {
		if (!strcmp(v, client_auths[i])) {
			y->s->client_auth = i;
			return 0;
		}
	}
	return fail(y, n, "client_auth_type: unknown '%s' (NoClientCert, RequestClientCert, "
		    "RequireAnyClientCert, VerifyClientCertIfGiven or "
		    "RequireAndVerifyClientCert)", v);
}

/* A sequence's items, each through one(); at most max of them. */
static int each_item(struct yctx *y, const yaml_node_t *n, const char *what, int max,
		     int (*one)(struct yctx *y, const yaml_node_t *item))
{
	int count = 0;

	if (n->type != YAML_SEQUENCE_NODE)
		return fail(y, n, "%s: expected a list", what);
	for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top;
	     i++) {
		if (++count > max)
			return fail(y, n, "%s: more than %d entries", what, max);
		if (one(y, node(y, *i)))
			return -1;
	}
	return 0;
}

static int one_cipher(struct yctx *y, const yaml_node_t *n)
{
	const char *v = scalar(y, n, "cipher_suites");

	if (!v)
		return -1;
	for (size_t i = 0; i < ARRAY_LEN(ciphers); i++) {
		if (strcmp(v, ciphers[i].name))
			continue;
		for (int j = 0; j < y->s->nciphers; j++)
			if (y->s->ciphers[j] == ciphers[i].id)
				return fail(y, n, "cipher_suites: %s twice", v);
		y->s->ciphers[y->s->nciphers++] = ciphers[i].id;
		return 0;
	}
	return fail(y, n, "cipher_suites: unknown cipher '%s' (Go's tls.CipherSuites() names)",
		    v);
}

static int one_curve(struct yctx *y, const yaml_node_t *n)
{
	const char *v = scalar(y, n, "curve_preferences");

	if (!v)
		return -1;
	for (size_t i = 0; i < ARRAY_LEN(curves); i++) {
		if (strcmp(v, curves[i].name))
			continue;
		for (int j = 0; j < y->s->ncurves; j++)
			if (y->s->curves[j] == curves[i].group)
				return fail(y, n, "curve_preferences: %s twice", v);
		y->s->curves[y->s->ncurves++] = curves[i].group;
		return 0;
	}
	return fail(y, n, "curve_preferences: unknown curve '%s' (CurveP256, CurveP384, "
		    "CurveP521 or X25519)", v);
}

/* A mapping's pairs, each key once, through one(). */
static int each_pair(struct yctx *y, const yaml_node_t *n, const char *what,
		     int (*one)(struct yctx *y, const char *key, const yaml_node_t *k,
				const yaml_node_t *v))
{
	if (n->type != YAML_MAPPING_NODE)
		return fail(y, n, "%s: expected a mapping of options", what);
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = node(y, p->key), *v = node(y, p->value);
		const char *key = scalar(y, k, what);

		if (!key)
			return -1;
		for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < p; q++)
			if (!strcmp((const char *)node(y, q->key)->data.scalar.value, key))
				return fail(y, k, "%s: '%s' given twice", what, key);
		if (is_null(v))
			continue; /* unset: the default */
		if (one(y, key, k, v))
			return -1;
	}
	return 0;
}

static int tls_option(struct yctx *y, const char *key, const yaml_node_t *k,
		      const yaml_node_t *v)
{
	struct web_spec *s = y->s;
	static const char *const strings[] = { "cert", "key", "client_ca", "cert_file",
					       "key_file", "client_ca_file" };
	char **dsts[] = { &s->cert, &s->key, &s->client_ca, &s->cert_file, &s->key_file,
			  &s->client_ca_file };

	for (size_t i = 0; i < ARRAY_LEN(strings); i++) {
		if (!strcmp(key, strings[i])) {
			s->tls = true;
			return set_string(y, v, key, dsts[i]);
		}
	}
	if (!strcmp(key, "client_auth_type")) {
		s->tls = true;
		return set_client_auth(y, v);
	}
	y->tls_options = true;
	if (!strcmp(key, "min_version"))
		return set_version(y, v, key, &s->min_version);
	if (!strcmp(key, "max_version"))
		return set_version(y, v, key, &s->max_version);
	if (!strcmp(key, "cipher_suites"))
		return each_item(y, v, key, WEB_MAX_CIPHERS, one_cipher);
	if (!strcmp(key, "curve_preferences"))
		return each_item(y, v, key, WEB_MAX_CURVES, one_curve);
	if (!strcmp(key, "prefer_server_cipher_suites"))
		return set_bool(y, v, key, &s->prefer_server_ciphers);
	if (!strcmp(key, "client_allowed_sans"))
		return fail(y, k, "tls_server_config: client_allowed_sans is not supported by "
			    "memscope: give the clients certificates of their own CA "
			    "(client_ca_file) instead");
	return fail(y, k, "tls_server_config: unknown option '%s'", key);
}

static int header_option(struct yctx *y, const char *key, const yaml_node_t *k,
			 const yaml_node_t *v)
{
	const char *value = scalar(y, v, key);
	struct web_spec *s = y->s;

	if (!value)
		return -1;
	for (size_t i = 0; i < ARRAY_LEN(headers); i++) {
		bool ok = !headers[i].allowed[0];

		if (strcmp(key, headers[i].name))
			continue;
		for (int j = 0; headers[i].allowed[j]; j++)
			ok |= !strcmp(value, headers[i].allowed[j]);
		if (!ok)
			return fail(y, v, "headers: %s: '%s' is not allowed (%s%s%s)", key, value,
				    headers[i].allowed[0], headers[i].allowed[1] ? " or " : "",
				    headers[i].allowed[1] ? headers[i].allowed[1] : "");
		if (strpbrk(value, "\r\n"))
			return fail(y, v, "headers: %s: a line break in the value", key);
		s->headers[s->nheaders].name = headers[i].name;
		if (!(s->headers[s->nheaders].value = strdup(value)))
			return fail(y, v, "out of memory");
		s->nheaders++;
		return 0;
	}
	return fail(y, k, "headers: '%s' cannot be set (Strict-Transport-Security, "
		    "X-Content-Type-Options, X-Frame-Options, X-XSS-Protection, "
		    "Content-Security-Policy)", key);
}

static int http_option(struct yctx *y, const char *key, const yaml_node_t *k,
		       const yaml_node_t *v)
{
	if (!strcmp(key, "http2"))
		return set_bool(y, v, key, &y->s->http2);
	if (!strcmp(key, "headers"))
		return each_pair(y, v, "headers", header_option);
	return fail(y, k, "http_server_config: unknown option '%s'", key);
}

/* "$2a$", "$2b$" or "$2y$", a two-digit cost 04..31, then 53 characters of salt and hash */
static bool bcrypt_shaped(const char *h)
{
	static const char b64[] = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	int cost;

	if (strlen(h) != 60 || strncmp(h, "$2", 2) || !strchr("aby", h[2]) || h[3] != '$' ||
	    h[4] < '0' || h[4] > '9' || h[5] < '0' || h[5] > '9' || h[6] != '$')
		return false;
	cost = (h[4] - '0') * 10 + h[5] - '0';
	return cost >= 4 && cost <= 31 && strspn(h + 7, b64) == 53;
}

static int user_option(struct yctx *y, const char *key, const yaml_node_t *k,
		       const yaml_node_t *v)
{
	const char *hash = scalar(y, v, key);
	struct web_spec *s = y->s;
	struct web_user *u;

	if (!hash)
		return -1;
	if (!*key || strchr(key, ':'))
		return fail(y, k, "basic_auth_users: '%s' cannot be a user name (empty or with ':')",
			    key);
	if (!bcrypt_shaped(hash))
		return fail(y, v, "basic_auth_users: %s: not a bcrypt hash ($2y$10$ and 53 "
			    "characters, as htpasswd -nBC 10 makes)", key);
	if (!(u = realloc(s->users, (s->nusers + 1) * sizeof(*u))))
		return fail(y, v, "out of memory");
	s->users = u;
	u += s->nusers;
	u->name = strdup(key);
	u->hash = strdup(hash);
	s->nusers++;
	return u->name && u->hash ? 0 : fail(y, v, "out of memory");
}

static int top_option(struct yctx *y, const char *key, const yaml_node_t *k,
		      const yaml_node_t *v)
{
	if (!strcmp(key, "tls_server_config"))
		return each_pair(y, v, key, tls_option);
	if (!strcmp(key, "http_server_config"))
		return each_pair(y, v, key, http_option);
	if (!strcmp(key, "basic_auth_users"))
		return each_pair(y, v, key, user_option);
	if (!strcmp(key, "rate_limit"))
		return fail(y, k, "rate_limit is not supported by memscope (it bounds connections "
			    "itself: 32, 8 per client address, 10 s per request)");
	return fail(y, k, "unknown option '%s' (tls_server_config, http_server_config or "
		    "basic_auth_users)", key);
}

/* What each option means alone is checked as read; here what they mean together. */
static int check_whole(struct yctx *y)
{
	struct web_spec *s = y->s;
	bool ca = s->client_ca || s->client_ca_file;

	if (!s->tls && y->tls_options)
		return fail(y, NULL, "tls_server_config: TLS options without cert_file and "
			    "key_file: TLS would be off");
	if (!s->tls)
		return 0;
	if ((s->cert && s->cert_file) || (s->key && s->key_file) ||
	    (s->client_ca && s->client_ca_file))
		return fail(y, NULL, "tls_server_config: give cert or cert_file, key or key_file, "
			    "client_ca or client_ca_file, not both");
	if (!s->cert && !s->cert_file)
		return fail(y, NULL, "tls_server_config: missing cert_file (or cert)");
	if (!s->key && !s->key_file)
		return fail(y, NULL, "tls_server_config: missing key_file (or key)");
	if (ca && s->client_auth == WEB_NO_CLIENT_CERT)
		return fail(y, NULL, "tls_server_config: client_ca_file without a client_auth_type "
			    "(RequireAndVerifyClientCert verifies clients against it)");
	if (!ca && (s->client_auth == WEB_VERIFY_CLIENT_CERT_IF_GIVEN ||
		    s->client_auth == WEB_REQUIRE_AND_VERIFY_CLIENT_CERT))
		return fail(y, NULL, "tls_server_config: client_auth_type %s needs client_ca_file "
			    "(the CA that signs the clients' certificates)",
			    client_auths[s->client_auth]);
	s->min_version = s->min_version ? s->min_version : 12; /* the toolkit's defaults */
	s->max_version = s->max_version ? s->max_version : 13;
	if (s->min_version > s->max_version)
		return fail(y, NULL, "tls_server_config: min_version TLS1%d is above max_version "
			    "TLS1%d", s->min_version - 10, s->max_version - 10);
	return 0;
}

static int parse_doc(struct yctx *y, yaml_parser_t *p)
{
	yaml_document_t next;
	yaml_node_t *root = yaml_document_get_root_node(y->doc);
	int ret = 0;

	if (root && !is_null(root))
		ret = each_pair(y, root, "the file", top_option);
	if (!ret && !yaml_parser_load(p, &next))
		return fail(y, NULL, "line %lu: %s", (unsigned long)p->problem_mark.line + 1,
			    p->problem);
	if (!ret) {
		root = yaml_document_get_root_node(&next);
		if (root)
			ret = fail(y, root, "a second YAML document: give one");
		yaml_document_delete(&next);
	}
	return ret ? ret : check_whole(y);
}

int web_spec_parse(const char *text, size_t len, struct web_spec *s, char *err,
		   size_t errlen)
{
	yaml_parser_t p;
	yaml_document_t doc;
	struct yctx y = { .doc = &doc, .s = s, .err = err, .errlen = errlen };
	int ret;

	memset(s, 0, sizeof(*s));
	/* exporter-toolkit's defaults (the versions' once TLS is known to be on) */
	s->prefer_server_ciphers = true;
	s->http2 = true;
	if (!yaml_parser_initialize(&p))
		return fail(&y, NULL, "out of memory");
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	if (!yaml_parser_load(&p, &doc)) {
		ret = fail(&y, NULL, "line %lu: %s%s%s", (unsigned long)p.problem_mark.line + 1,
			   p.problem ? p.problem : "not YAML", p.context ? " " : "",
			   p.context ? p.context : "");
		yaml_parser_delete(&p);
		return ret;
	}
	ret = parse_doc(&y, &p);
	yaml_document_delete(&doc);
	yaml_parser_delete(&p);
	if (ret)
		web_spec_free(s);
	return ret;
}

void web_spec_free(struct web_spec *s)
{
	char *strings[] = { s->cert, s->key, s->client_ca, s->cert_file, s->key_file,
			    s->client_ca_file };

	for (size_t i = 0; i < ARRAY_LEN(strings); i++)
		free(strings[i]);
	for (int i = 0; i < s->nheaders; i++)
		free(s->headers[i].value);
	for (int i = 0; i < s->nusers; i++) {
		free(s->users[i].name);
		free(s->users[i].hash);
	}
	free(s->users);
	memset(s, 0, sizeof(*s));
}
