// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "runtime.h"
#include "tracefmt.h"

/*
 * A tiny evaluator for the constant expressions in tracefs format files:
 * numbers (with U/L suffixes), casts such as "( unsigned long)" or "( gfp_t)",
 * parentheses, ~ ! - + unary, * / % + - << >> & ^ | binary.
 */
struct lexer {
	const char *p;
	gfp_ident_fn ident;
	int err;
};

static void skip_ws(struct lexer *lx)
{
	while (isspace((unsigned char)*lx->p))
		lx->p++;
}

static bool is_ident_start(char c)
{
	return isalpha((unsigned char)c) || c == '_';
}

static unsigned long parse_or(struct lexer *lx);
static unsigned long parse_unary(struct lexer *lx);

/* Is the parenthesis at p the start of a cast: "(" identifiers [*] ")" then an operand? */
static const char *cast_end(const char *p)
{
	bool any = false;

	p++;
	for (;;) {
		while (isspace((unsigned char)*p))
			p++;
		if (is_ident_start(*p)) {
			while (isalnum((unsigned char)*p) || *p == '_')
				p++;
			any = true;
		} else if (*p == '*' && any) {
			p++;
		} else
			break;
	}
	if (!any || *p != ')')
		return NULL;
	p++;
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '(' || *p == '~' || isalnum((unsigned char)*p) || *p == '_')
		return p;
	return NULL;
}

/* "(expr)" or a cast "( type)" before a value, which leaves the value as it is. */
static unsigned long parse_paren(struct lexer *lx)
{
	const char *after = cast_end(lx->p);
	unsigned long v;

	if (after) {
		lx->p = after;
		return parse_unary(lx);
	}
	lx->p++;
	v = parse_or(lx);
	skip_ws(lx);
	if (*lx->p != ')') {
		lx->err = -EINVAL;
		return 0;
	}
	lx->p++;
	return v;
}

/* A number with its U/L suffixes. */
static unsigned long parse_number(struct lexer *lx)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(lx->p, &end, 0);
	if (errno) {
		lx->err = -EINVAL;
		return 0;
	}
	lx->p = end;
	while (*lx->p == 'u' || *lx->p == 'U' || *lx->p == 'l' || *lx->p == 'L')
		lx->p++;
	return v;
}

/* A name the format leaves unresolved (an enum constant): the caller resolves it. */
static unsigned long parse_ident(struct lexer *lx)
{
	unsigned long v = 0;
	char name[128];
	size_t n = 0;

	while ((isalnum((unsigned char)*lx->p) || *lx->p == '_') && n < sizeof(name) - 1)
		name[n++] = *lx->p++;
	name[n] = 0;
	if (!lx->ident || lx->ident(name, &v)) {
		lx->err = -ENOENT;
		return 0;
	}
	return v;
}

static unsigned long parse_unary(struct lexer *lx)
{
	char c;

	skip_ws(lx);
	if (lx->err)
		return 0;
	c = *lx->p;
	if (c == '~' || c == '!' || c == '-' || c == '+') {
		unsigned long v;

		lx->p++;
		v = parse_unary(lx);
		return c == '~' ? ~v : c == '!' ? !v : c == '-' ? -v : v;
	}
	if (c == '(')
		return parse_paren(lx);
	if (isdigit((unsigned char)c))
		return parse_number(lx);
	if (is_ident_start(c))
		return parse_ident(lx);
	lx->err = -EINVAL;
	return 0;
}

static unsigned long parse_mul(struct lexer *lx)
{
	unsigned long v = parse_unary(lx);

	for (;;) {
		skip_ws(lx);
		char op = *lx->p;

		if (op != '*' && op != '/' && op != '%')
			return v;
		lx->p++;
		unsigned long r = parse_unary(lx);

		if (op == '*')
			v *= r;
		else if (!r)
			lx->err = -EDOM;
		else
			v = op == '/' ? v / r : v % r;
	}
}

static unsigned long parse_add(struct lexer *lx)
{
	unsigned long v = parse_mul(lx);

	for (;;) {
		skip_ws(lx);
		char op = *lx->p;

		if (op != '+' && op != '-')
			return v;
		lx->p++;
		unsigned long r = parse_mul(lx);

		v = op == '+' ? v + r : v - r;
	}
}

static unsigned long parse_shift(struct lexer *lx)
{
	unsigned long v = parse_add(lx);

	for (;;) {
		skip_ws(lx);
		if ((lx->p[0] != '<' && lx->p[0] != '>') || lx->p[1] != lx->p[0])
			return v;
		bool left = lx->p[0] == '<';

		lx->p += 2;
		unsigned long r = parse_add(lx);

		if (r >= 8 * sizeof(unsigned long))
			lx->err = -ERANGE;
		else
			v = left ? v << r : v >> r;
	}
}

static unsigned long parse_and(struct lexer *lx)
{
	unsigned long v = parse_shift(lx);

	for (;;) {
		skip_ws(lx);
		if (lx->p[0] != '&' || lx->p[1] == '&')
			return v;
		lx->p++;
		v &= parse_shift(lx);
	}
}

static unsigned long parse_xor(struct lexer *lx)
{
	unsigned long v = parse_and(lx);

	for (;;) {
		skip_ws(lx);
		if (*lx->p != '^')
			return v;
		lx->p++;
		v ^= parse_and(lx);
	}
}

static unsigned long parse_or(struct lexer *lx)
{
	unsigned long v = parse_xor(lx);

	for (;;) {
		skip_ws(lx);
		if (lx->p[0] != '|' || lx->p[1] == '|')
			return v;
		lx->p++;
		v |= parse_xor(lx);
	}
}

int gfp_eval_expr(const char *expr, unsigned long *value, gfp_ident_fn ident)
{
	struct lexer lx = { .p = expr, .ident = ident };
	unsigned long v = parse_or(&lx);

	skip_ws(&lx);
	if (lx.err)
		return lx.err;
	if (*lx.p)
		return -EINVAL;
	*value = v;
	return 0;
}

/* Copy the text up to the next top-level comma of an initializer "{ expr, "NAME" }". */
static const char *take_expr(const char *p, char *out, size_t len)
{
	int depth = 0;
	size_t n = 0;

	for (; *p; p++) {
		if (*p == '(')
			depth++;
		else if (*p == ')')
			depth--;
		else if (*p == ',' && depth == 0)
			break;
		if (n < len - 1)
			out[n++] = *p;
	}
	out[n] = 0;
	return *p == ',' ? p + 1 : NULL;
}

/* Parse the { expr, "NAME" } pairs starting at p (at or before the first '{'). */
static int parse_pairs(struct gfp_table *t, const char *p, gfp_ident_fn ident)
{
	char expr[4096];

	t->n = 0;
	for (;;) {
		const char *q, *name_end;
		unsigned long mask;

		p = strchr(p, '{');
		if (!p)
			break;
		p = take_expr(p + 1, expr, sizeof(expr));
		if (!p)
			break;
		while (isspace((unsigned char)*p))
			p++;
		if (*p != '"') /* the { -1, NULL } terminator */
			break;
		q = p + 1;
		name_end = strchr(q, '"');
		if (!name_end)
			return -1;
		if (gfp_eval_expr(expr, &mask, ident))
			return -1;
		if (t->n == GFP_MAX_FLAGS)
			return -1;
		snprintf(t->flag[t->n].name, sizeof(t->flag[t->n].name), "%.*s",
			 (int)(name_end - q), q);
		t->flag[t->n].mask = mask;
		t->n++;
		p = name_end + 1;
	}
	return t->n ? t->n : -1;
}

int gfp_table_parse_format(struct gfp_table *t, const char *text, gfp_ident_fn ident)
{
	const char *p = strstr(text, "__print_flags(");

	t->n = 0;
	t->source = GFP_SRC_NONE;
	if (!p)
		return -1;
	/* Skip the value and the delimiter arguments: __print_flags(val, "|", {...}, ...) */
	p = strchr(p, '"');
	if (!p || !(p = strchr(p + 1, '"')))
		return -1;
	if (parse_pairs(t, p + 1, ident) < 0)
		return -1;
	t->source = GFP_SRC_TRACEFS;
	return t->n;
}

int trace_symbol_value(const char *event, const char *name, long long *value)
{
	const char *tfs = ms_tracefs();
	struct gfp_table t;
	char path[256], *buf = NULL, *p;
	size_t cap = 0;
	int rc = -1;
	FILE *f;

	if (!tfs)
		return -1;
	snprintf(path, sizeof(path), "%s/events/%s/format", tfs, event);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (getdelim(&buf, &cap, '\0', f) <= 0)
		goto out;
	/* the value's name in a symbol table (enums) or a flag table (bits) */
	for (int k = 0; k < 2 && rc; k++) {
		p = strstr(buf, k ? "__print_flags(" : "__print_symbolic(");
		if (!p || parse_pairs(&t, p, NULL) <= 0)
			continue;
		for (int i = 0; i < t.n && rc; i++)
			if (!strcmp(t.flag[i].name, name)) {
				*value = (long long)t.flag[i].mask;
				rc = 0;
			}
	}
out:
	free(buf);
	fclose(f);
	return rc;
}
