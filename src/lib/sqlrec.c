// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>
#include "sqlrec.h"
#include "strbuf.h"

static const struct {
	char code;
	const char *sql;
} sql_types[] = { { 'I', "INTEGER" }, { 'B', "INTEGER" }, { 'R', "REAL" }, { 'T', "TEXT" },
		  { 'J', "TEXT" } };

static const char *sql_type(char code)
{
	for (size_t i = 0; i < sizeof(sql_types) / sizeof(sql_types[0]); i++)
		if (sql_types[i].code == code)
			return sql_types[i].sql;
	return "TEXT";
}

static char type_code(const struct field *f)
{
	switch (f->type) {
	case FT_STR:
		return 'T';
	case FT_U32: case FT_S32: case FT_U64: case FT_S64:
		return 'I';
	case FT_BOOL:
		return 'B';
	case FT_F64:
		return 'R';
	default: /* arrays and nested parts */
		return 'J';
	}
}

/* The columns of a description: its JSON keys, inline parts flattened, text renderings out. */
static void add_columns(struct sqlrec_table *t, const struct record_desc *d)
{
	for (int i = 0; i < d->nr; i++) {
		const struct field *f = &d->fields[i];

		if (f->flags & FF_TEXT)
			continue;
		if (f->type == FT_REC && (f->flags & FF_INLINE)) {
			add_columns(t, f->sub);
			continue;
		}
		if (t->ncols == SQLREC_MAX_COLS)
			return;
		t->keys[t->ncols] = f->key;
		t->types[t->ncols++] = type_code(f);
	}
}

static int exec(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

static bool has_column(sqlite3 *db, const char *table, const char *col)
{
	sqlite3_stmt *st;
	bool found = false;
	char sql[256];

	snprintf(sql, sizeof(sql), "SELECT 1 FROM pragma_table_info('%s') WHERE name = ?", table);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return false;
	sqlite3_bind_text(st, 1, col, -1, SQLITE_STATIC);
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}

static int create(sqlite3 *db, const struct sqlrec_table *t)
{
	char buf[8192];
	struct strbuf sb;
	int rc;

	sb_init(&sb, buf, sizeof(buf));
	sb_add(&sb, "CREATE TABLE IF NOT EXISTS %s (sample_id INTEGER NOT NULL", t->name);
	for (int i = 0; i < t->ncols; i++)
		sb_add(&sb, ", %s %s", t->keys[i], sql_type(t->types[i]));
	sb_add(&sb, "); CREATE INDEX IF NOT EXISTS %s_sample ON %s (sample_id);", t->name,
		  t->name);
	rc = sb.truncated ? SQLITE_TOOBIG : exec(db, buf);
	for (int i = 0; rc == SQLITE_OK && i < t->ncols; i++) {
		char sql[256];

		if (has_column(db, t->name, t->keys[i]))
			continue;
		snprintf(sql, sizeof(sql), "ALTER TABLE %s ADD COLUMN %s %s", t->name, t->keys[i],
			 sql_type(t->types[i]));
		rc = exec(db, sql);
	}
	return rc;
}

void sqlrec_columns(struct sqlrec_table *t)
{
	t->ncols = 0;
	add_columns(t, t->d);
}

int sqlrec_open(sqlite3 *db, struct sqlrec_table *t)
{
	char buf[8192];
	struct strbuf sb;
	int rc;

	sqlrec_columns(t);
	rc = create(db, t);
	if (rc != SQLITE_OK)
		return rc;
	sb_init(&sb, buf, sizeof(buf));
	sb_add(&sb, "INSERT INTO %s (sample_id", t->name);
	for (int i = 0; i < t->ncols; i++)
		sb_add(&sb, ", %s", t->keys[i]);
	sb_add(&sb, ") VALUES (?");
	for (int i = 0; i < t->ncols; i++)
		sb_add(&sb, ", ?");
	sb_add(&sb, ")");
	if (sb.truncated)
		return SQLITE_TOOBIG;
	return sqlite3_prepare_v3(db, buf, -1, SQLITE_PREPARE_PERSISTENT, &t->ins, NULL);
}

static void bind(sqlite3_stmt *st, int i, json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		sqlite3_bind_null(st, i);
		break;
	case json_type_boolean:
		sqlite3_bind_int(st, i, json_object_get_boolean(v));
		break;
	case json_type_int:
		sqlite3_bind_int64(st, i, json_object_get_int64(v));
		break;
	case json_type_double:
		sqlite3_bind_double(st, i, json_object_get_double(v));
		break;
	case json_type_string:
		sqlite3_bind_text(st, i, json_object_get_string(v), -1, SQLITE_TRANSIENT);
		break;
	default:
		sqlite3_bind_text(st, i,
				  json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN),
				  -1, SQLITE_TRANSIENT);
	}
}

int sqlrec_put(struct sqlrec_table *t, const void *rec, int64_t sample_id)
{
	json_object *o = record_json(t->d, rec, 0), *v;
	int rc;

	sqlite3_reset(t->ins);
	sqlite3_bind_int64(t->ins, 1, sample_id);
	for (int i = 0; i < t->ncols; i++) {
		if (json_object_object_get_ex(o, t->keys[i], &v))
			bind(t->ins, i + 2, v);
		else
			sqlite3_bind_null(t->ins, i + 2);
	}
	rc = sqlite3_step(t->ins);
	sqlite3_reset(t->ins);
	sqlite3_clear_bindings(t->ins);
	json_object_put(o);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

void sqlrec_close(struct sqlrec_table *t)
{
	sqlite3_finalize(t->ins);
	t->ins = NULL;
}

static const char *help_of(const struct record_desc *d, const char *key)
{
	for (int i = 0; i < d->nr; i++) {
		const struct field *f = &d->fields[i];

		if (f->type == FT_REC && (f->flags & FF_INLINE)) {
			const char *h = help_of(f->sub, key);

			if (h)
				return h;
		} else if (!strcmp(f->key, key)) {
			return f->help;
		}
	}
	return NULL;
}

void sqlrec_docs(FILE *out, const struct sqlrec_table *t)
{
	struct sqlrec_table copy = *t;

	sqlrec_columns(&copy);
	for (int i = 0; i < copy.ncols; i++) {
		const char *h = help_of(copy.d, copy.keys[i]);

		fprintf(out, "| `%s` | %s%s | %s |\n", copy.keys[i], sql_type(copy.types[i]),
			copy.types[i] == 'J' ? " (JSON)" : copy.types[i] == 'B' ? " (0/1)" : "", h ? h : "");
	}
}

json_object *sqlrec_row_json(const struct sqlrec_table *t, sqlite3_stmt *st)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "type", json_object_new_string(t->d->type));
	for (int c = 0; c < sqlite3_column_count(st); c++) {
		const char *name = sqlite3_column_name(st, c);
		json_object *v = NULL;
		char type = 'T';

		for (int i = 0; i < t->ncols; i++)
			if (!strcmp(t->keys[i], name))
				type = t->types[i];
		switch (sqlite3_column_type(st, c)) {
		case SQLITE_INTEGER:
			v = type == 'B' ? json_object_new_boolean(sqlite3_column_int(st, c)) :
					  json_object_new_int64(sqlite3_column_int64(st, c));
			break;
		case SQLITE_FLOAT:
			v = json_object_new_double(sqlite3_column_double(st, c));
			break;
		case SQLITE_TEXT:
			if (type == 'J')
				v = json_tokener_parse((const char *)sqlite3_column_text(st, c));
			else
				v = json_object_new_string((const char *)sqlite3_column_text(st, c));
			break;
		default:
			break;
		}
		json_object_object_add(o, name, v);
	}
	return o;
}
