// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "output.h"
#include "runtime.h"
#include "units.h"

#define MS_MAX_COLS 32

struct ms_table {
	const struct ms_col *cols;
	int ncols;
	json_object **rows;
	int nrows, cap;
};

static bool json_mode;

void out_init(bool json)
{
	json_mode = json;
}

bool out_json_mode(void)
{
	return json_mode;
}

/* A closed pipe (memscope ... | head -1) ends the run quietly. */
static void check_stdout(void)
{
	if (ferror(stdout)) {
		if (errno == EPIPE)
			ms_request_stop(MS_STOP_PIPE);
		clearerr(stdout);
	}
}

void out_flush(void)
{
	if (fflush(stdout))
		check_stdout();
	check_stdout();
}

void out_printf(const char *fmt, ...)
{
	va_list ap;

	if (ms_stop_reason() == MS_STOP_PIPE)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	check_stdout();
}

json_object *json_u64(uint64_t v)
{
	return json_object_new_uint64(v);
}

void out_json(json_object *rec)
{
	if (ms_stop_reason() != MS_STOP_PIPE) {
		fputs(json_object_to_json_string_ext(rec, JSON_C_TO_STRING_PLAIN |
							  JSON_C_TO_STRING_NOSLASHESCAPE),
		      stdout);
		fputc('\n', stdout);
		out_flush();
	}
	json_object_put(rec);
}

struct ms_table *table_new(const struct ms_col *cols, int ncols)
{
	struct ms_table *t = calloc(1, sizeof(*t));

	if (!t || ncols > MS_MAX_COLS)
		abort();
	t->cols = cols;
	t->ncols = ncols;
	return t;
}

void table_add(struct ms_table *t, json_object *row)
{
	if (json_mode) {
		out_json(row);
		return;
	}
	if (t->nrows == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 64;
		t->rows = realloc(t->rows, t->cap * sizeof(*t->rows));
		if (!t->rows)
			abort();
	}
	t->rows[t->nrows++] = row;
}

const char *out_format_value(json_object *v, enum ms_col_kind kind, char *buf, size_t len)
{
	if (!v)
		return "-";
	switch (kind) {
	case COL_STR:
		return json_object_get_string(v);
	case COL_INT:
		if (json_object_is_type(v, json_type_int))
			snprintf(buf, len, "%" PRId64, json_object_get_int64(v));
		else
			snprintf(buf, len, "%s", json_object_get_string(v));
		return buf;
	case COL_BYTES:
		return fmt_bytes(buf, len, json_object_get_uint64(v));
	case COL_BYTES_DELTA:
		return fmt_bytes_delta(buf, len, json_object_get_int64(v));
	case COL_COUNT:
		return fmt_count(buf, len, json_object_get_double(v));
	case COL_FLOAT3:
		snprintf(buf, len, "%.3f", json_object_get_double(v));
		return buf;
	}
	return "?";
}

void table_flush(struct ms_table *t)
{
	int width[MS_MAX_COLS] = { 0 };
	char buf[128];

	if (json_mode || !t->nrows)
		return;
	for (int c = 0; c < t->ncols; c++) {
		width[c] = strlen(t->cols[c].head);
		for (int r = 0; r < t->nrows; r++) {
			json_object *v = NULL;
			int w;

			json_object_object_get_ex(t->rows[r], t->cols[c].key, &v);
			w = strlen(out_format_value(v, t->cols[c].kind, buf, sizeof(buf)));
			if (w > width[c])
				width[c] = w;
		}
	}
	for (int c = 0; c < t->ncols; c++)
		out_printf(c ? " %*s" : "%*s", t->cols[c].left ? -width[c] : width[c],
			   t->cols[c].head);
	out_printf("\n");
	for (int r = 0; r < t->nrows; r++) {
		for (int c = 0; c < t->ncols; c++) {
			json_object *v = NULL;

			json_object_object_get_ex(t->rows[r], t->cols[c].key, &v);
			out_printf(c ? " %*s" : "%*s", t->cols[c].left ? -width[c] : width[c],
				   out_format_value(v, t->cols[c].kind, buf, sizeof(buf)));
		}
		out_printf("\n");
		json_object_put(t->rows[r]);
	}
	t->nrows = 0;
	out_flush();
}

void table_free(struct ms_table *t)
{
	if (!t)
		return;
	for (int r = 0; r < t->nrows; r++)
		json_object_put(t->rows[r]);
	free(t->rows);
	free(t);
}
