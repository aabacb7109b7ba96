// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "output.h"
#include "msg.h"
#include "runtime.h"
#include "record.h"
#include "strbuf.h"
#include "textsafe.h"
#include "units.h"

#define MS_MAX_COLS 32

struct ms_table {
	const struct ms_col *cols;
	int ncols;
	json_object **rows;
	int nrows, cap;
	long printed; /* JSON mode: rows printed at once */
	int width[MS_MAX_COLS];
	bool shown[MS_MAX_COLS]; /* the columns the line holds, picked at the first flush */
	bool chosen, live, hint_given;
};

static bool json_mode, json_errors;
static int write_errno; /* the first failed write to stdout, other than a closed pipe */

bool out_utf8(void)
{
	static int utf8 = -1;

	if (utf8 < 0) {
		static const char *const vars[] = { "LC_ALL", "LC_CTYPE", "LANG" };
		const char *v = NULL;

		/* the first one set decides, as setlocale() would */
		for (size_t i = 0; i < 3 && !(v && *v); i++)
			v = getenv(vars[i]);
		utf8 = v && (strcasestr(v, "utf-8") || strcasestr(v, "utf8"));
	}
	return utf8;
}

const char *out_arrow(void)
{
	return out_utf8() ? "\u2192" : "->";
}

const char *out_dash(void)
{
	return out_utf8() ? "\u2014" : "-";
}

void out_init(bool json)
{
	json_mode = json;
}

bool out_json_mode(void)
{
	return json_mode;
}

/*
 * A closed pipe (memscope ... | head -1) ends the run quietly; any other failed
 * write (a full disk, a bad descriptor) ends it too, and makes the exit status 1.
 */
static void check_stdout(void)
{
	if (ferror(stdout)) {
		if (errno != EPIPE && !write_errno)
			write_errno = errno ? errno : EIO;
		ms_request_stop(MS_STOP_PIPE);
		clearerr(stdout);
	}
}

void out_errors_as_json(bool on)
{
	json_errors = on;
	ms_on_fail(on ? out_error_record : NULL);
}

struct error_row {
	uint64_t null_mask;
	char message[1024];
	int32_t exit_status;
};

static const struct field error_fields[] = {
	FLD(struct error_row, message, "message", NULL, FT_STR, FU_NONE, FK_LABEL, 0,
	    "the line memscope wrote on stderr"),
	FLD(struct error_row, exit_status, "exit_status", NULL, FT_S32, FU_NONE, FK_LABEL, 0,
	    "2: bad input, 1: a runtime failure"),
};
const struct record_desc error_desc =
	RECORD_DESC("error", "with -j, the last record when memscope ends with an error",
		    error_fields, struct error_row);

void out_error_record(const char *message, int exit_status)
{
	struct error_row row = { .exit_status = exit_status };
	json_object *r;

	if (!json_errors || ms_stop_reason() == MS_STOP_PIPE)
		return;
	snprintf(row.message, sizeof(row.message), "%s", message);
	r = record_json(&error_desc, &row, ms_wall_now());
	fputs(json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN |
						 JSON_C_TO_STRING_NOSLASHESCAPE), stdout);
	fputc('\n', stdout);
	fflush(stdout);
	json_object_put(r);
}

/* ---- -j help, -j -V: documentation as records, so every line of -j output is JSON ---- */

struct help_row {
	uint64_t null_mask;
	char topic[32];
	char line[16384]; /* a markdown paragraph is one line */
};

static const struct field help_fields[] = {
	FLD(struct help_row, topic, "topic", NULL, FT_STR, FU_NONE, FK_LABEL, 0,
	    "what the help is about: memscope, a command, fields, metrics, recorder"),
	FLD(struct help_row, line, "line", NULL, FT_STR, FU_NONE, FK_LABEL, 0,
	    "one line of the text 'memscope help' prints without -j"),
};
const struct record_desc help_desc =
	RECORD_DESC("help", "with -j, each line of a help text", help_fields, struct help_row);

struct version_row {
	uint64_t null_mask;
	char version[64];
};

static const struct field version_fields[] = {
	FLD(struct version_row, version, "version", NULL, FT_STR, FU_NONE, FK_LABEL, 0,
	    "memscope's version"),
};
const struct record_desc version_desc =
	RECORD_DESC("version", "with -j, what -V prints", version_fields, struct version_row);

static FILE *doc_stdout; /* the real standard output while a help text is kept */
static char *doc_text;
static size_t doc_len;

void out_doc_begin(void)
{
	FILE *keep;

	if (!json_errors || doc_stdout)
		return;
	fflush(stdout);
	keep = open_memstream(&doc_text, &doc_len);
	if (!keep)
		abort();
	/* glibc's stdout is an ordinary variable: the printers need not know */
	doc_stdout = stdout;
	stdout = keep;
}

void out_doc_end(const char *topic)
{
	struct help_row row = { 0 };

	if (!doc_stdout)
		return;
	fclose(stdout);
	stdout = doc_stdout;
	doc_stdout = NULL;
	snprintf(row.topic, sizeof(row.topic), "%s", topic);
	for (char *line = doc_text, *nl; line < doc_text + doc_len; line = nl + 1) {
		nl = strchrnul(line, '\n');
		snprintf(row.line, sizeof(row.line), "%.*s", (int)(nl - line), line);
		out_json(record_json(&help_desc, &row, ms_wall_now()));
	}
	free(doc_text);
	doc_text = NULL;
}

bool out_version(const char *version)
{
	struct version_row row = { 0 };

	if (!json_errors)
		return false;
	snprintf(row.version, sizeof(row.version), "%s", version);
	out_json(record_json(&version_desc, &row, ms_wall_now()));
	return true;
}

void out_check_stdout_open(void)
{
	if (fcntl(STDOUT_FILENO, F_GETFD) < 0) {
		/* keep fd 1 taken so no file memscope opens becomes "standard output" */
		open("/dev/null", O_RDONLY | O_CLOEXEC);
		fprintf(stderr, "%s: cannot write output: standard output is closed\n", ms_prog);
		exit(MS_EXIT_RUNTIME);
	}
}

int out_finish(int status)
{
	if (ms_stop_reason() != MS_STOP_PIPE && fflush(stdout))
		check_stdout();
	if (write_errno) {
		fprintf(stderr, "%s: cannot write output: %s\n", ms_prog, strerror(write_errno));
		return MS_EXIT_RUNTIME;
	}
	return status;
}

void out_flush(void)
{
	if (fflush(stdout))
		check_stdout();
	check_stdout();
}

/* Text for a terminal: what the kernel hands over (names, paths) is shown safely. */
void out_printf(const char *fmt, ...)
{
	char *text = NULL, *safe;
	va_list ap;
	int n;

	if (ms_stop_reason() == MS_STOP_PIPE)
		return;
	va_start(ap, fmt);
	n = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	safe = malloc(n + 1);
	if (!safe)
		abort();
	fputs(text_safe(text, n, true, safe, n + 1), stdout);
	free(safe);
	free(text);
	check_stdout();
}

json_object *json_u64(uint64_t v)
{
	return json_object_new_uint64(v);
}

json_object *json_fixed(double v, int decimals)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%.*f", decimals, v);
	return json_object_new_double_s(v, buf);
}

json_object *json_ts(double ts)
{
	return json_fixed(ts, 6);
}

void out_json(json_object *rec)
{
	if (ms_stop_reason() != MS_STOP_PIPE) {
		const char *text = json_object_to_json_string_ext(
			rec, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		char *fixed = json_utf8_fix(text); /* a process name may be any bytes */

		fputs(fixed ? fixed : text, stdout);
		fputc('\n', stdout);
		free(fixed);
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
		t->printed++;
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

long table_rows(const struct ms_table *t)
{
	return t->nrows + t->printed;
}

const char *out_format_value(json_object *v, enum ms_col_kind kind, char *buf, size_t len)
{
	if (!v)
		return "-";
	switch (kind) {
	case COL_STR: /* a cell is one line: no newline, no escape sequence */
		return text_safe(json_object_get_string(v), len, false, buf, len);
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
	case COL_DURATION:
		return fmt_duration_ns(buf, len, json_object_get_uint64(v));
	case COL_PERCENT: /* 0.05 % of a limit still shows as more than nothing */
		snprintf(buf, len, "%.*f%%", json_object_get_double(v) < 1 ? 2 : 1,
			 json_object_get_double(v));
		return buf;
	case COL_BYTES_LIST: {
		struct strbuf sb;
		char one[32];

		sb_init(&sb, buf, len);
		for (size_t i = 0; i < json_object_array_length(v); i++)
			sb_add(&sb, "%s%s", i ? "," : "",
			       fmt_bytes(one, sizeof(one),
					 json_object_get_uint64(json_object_array_get_idx(v, i))));
		return buf;
	}
	}
	return "?";
}

/* Columns on a terminal line: COLUMNS, else the terminal's, else 80. */
int out_width(void)
{
	const char *env = getenv("COLUMNS");
	struct winsize ws;

	if (env && atoi(env) > 0)
		return atoi(env);
	if (isatty(STDOUT_FILENO) && !ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_col > 0)
		return ws.ws_col;
	return 80;
}

/* Width on a terminal: characters, not bytes (each UTF-8 sequence counts once). */
static int display_width_n(const char *s, size_t n)
{
	int w = 0;

	for (size_t i = 0; i < n && s[i]; i++)
		w += ((unsigned char)s[i] & 0xc0) != 0x80;
	return w;
}

static int display_width(const char *s)
{
	return display_width_n(s, (size_t)-1);
}

/* A paragraph being wrapped: where the line is, where it began. */
struct wrap {
	const char *indent;
	int limit, col, start;
};

static void wrap_begin(struct wrap *w, const char *first, const char *indent)
{
	w->indent = indent;
	w->limit = out_width();
	w->col = w->start = display_width(first);
	out_printf("%s", first);
}

/* One unbreakable piece of n bytes (w characters); the space (if any) goes before it,
 * so no line ends in one. */
static void wrap_piece(struct wrap *w, const char *s, size_t n, int width, bool space)
{
	if (w->col > w->start && w->col + space + width > w->limit) {
		out_printf("\n%s", w->indent);
		w->col = w->start = display_width(w->indent);
	} else if (w->col > w->start && space) {
		out_printf(" ");
		w->col++;
	}
	out_printf("%.*s", (int)n, s);
	w->col += width;
}

void out_wrap_list(const char *first, const char *indent, const char *const *items, int n,
		   const char *sep, bool space)
{
	struct wrap w;
	char one[256];

	wrap_begin(&w, first, indent);
	for (int i = 0; i < n; i++) {
		/* the separator stays with its item */
		int len = snprintf(one, sizeof(one), "%s%s", items[i], i < n - 1 ? sep : "");

		wrap_piece(&w, one, len, display_width(one), space);
	}
	out_printf("\n");
}

/* A number and its unit ("0 B", "1.5 MiB", "12 us") stay on one line: the word's length. */
static size_t with_unit(const char *p, size_t word)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "ns", "us", "ms",
					     "s", "%" };
	const char *next = p + word + (p[word] == ' ');
	size_t len = strcspn(next, " ");

	if (!word || !isdigit((unsigned char)p[word - 1]) || p[word] != ' ')
		return word;
	/* the unit may carry the sentence's punctuation: "0 B)," */
	while (len && strchr(",;:)", next[len - 1]))
		len--;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (len == strlen(units[i]) && !strncmp(next, units[i], len))
			return word + 1 + strcspn(next, " ");
	return word;
}

void out_wrap(const char *first, const char *indent, const char *text)
{
	struct wrap w;

	wrap_begin(&w, first, indent);
	for (const char *p = text; *p; p += strspn(p, " ")) {
		size_t word = with_unit(p, strcspn(p, " "));

		if (word)
			wrap_piece(&w, p, word, display_width_n(p, word), true);
		p += word;
	}
	out_printf("\n");
}

/* One cell, padded to w characters (not after the line's last cell). */
static void cell(struct strbuf *sb, const char *text, int w, bool left, bool first, bool last)
{
	int pad = w - display_width(text);

	if (!first)
		sb_add(sb, " ");
	if (!left)
		sb_add(sb, "%*s", pad > 0 ? pad : 0, "");
	sb_add(sb, "%s", text);
	if (left && !last)
		sb_add(sb, "%*s", pad > 0 ? pad : 0, "");
}

/* The room a number takes at most in a live table ("1023.9 MiB", "+1023.9 MiB"). */
static int live_width(enum ms_col_kind kind)
{
	switch (kind) {
	case COL_BYTES:
		return 10;
	case COL_DURATION:
		return 9;
	case COL_BYTES_DELTA:
		return 11;
	case COL_COUNT:
		return 6;
	default:
		return 0;
	}
}

/* Digits of the largest pid (kernel.pid_max): a live PID column's room. */
static int pid_width(void)
{
	static int w;
	FILE *f;
	long max = 4194304; /* PID_MAX_LIMIT on 64-bit */

	if (w)
		return w;
	f = fopen("/proc/sys/kernel/pid_max", "r");
	if (f) {
		if (fscanf(f, "%ld", &max) != 1 || max < 1)
			max = 4194304;
		fclose(f);
	}
	for (w = 1; max >= 10; max /= 10)
		w++;
	return w;
}

void table_set_live(struct ms_table *t)
{
	t->live = true;
}

/* Widths only grow while a table lives, so columns stay put between intervals. */
static void measure(struct ms_table *t, char *buf, size_t len)
{
	for (int c = 0; c < t->ncols; c++) {
		int w = display_width(t->cols[c].head);

		if (t->live && w < live_width(t->cols[c].kind))
			w = live_width(t->cols[c].kind);
		if (t->live && (!strcmp(t->cols[c].key, "pid") || !strcmp(t->cols[c].key, "tid")) &&
		    w < pid_width())
			w = pid_width();
		if (t->live && !strcmp(t->cols[c].key, "comm") && w < 15)
			w = 15; /* TASK_COMM_LEN - 1 */
		if (w > t->width[c])
			t->width[c] = w;
		for (int r = 0; r < t->nrows; r++) {
			json_object *v = NULL;

			json_object_object_get_ex(t->rows[r], t->cols[c].key, &v);
			w = display_width(out_format_value(v, t->cols[c].kind, buf, len));
			if (w > t->width[c])
				t->width[c] = w;
		}
	}
}

#define NAME_MIN 24

/* A name or path (left-aligned text) gives way to numbers, down to NAME_MIN. */
static bool elastic(const struct ms_col *c)
{
	return c->left && c->kind == COL_STR;
}

static int min_width(const struct ms_table *t, int c)
{
	int head = display_width(t->cols[c].head);

	if (!elastic(&t->cols[c]) || t->width[c] <= NAME_MIN)
		return t->width[c];
	return head > NAME_MIN ? head : NAME_MIN;
}

/* The line's width with the shown columns, names at their narrowest. */
static int narrowest_line(const struct ms_table *t)
{
	int w = -1;

	for (int c = 0; c < t->ncols; c++)
		if (t->shown[c])
			w += 1 + min_width(t, c);
	return w;
}

/* '-' (null) or nothing in every row of this flush. */
static bool column_empty(const struct ms_table *t, int c, char *buf, size_t len)
{
	for (int r = 0; r < t->nrows; r++) {
		json_object *v = NULL;
		const char *text;

		json_object_object_get_ex(t->rows[r], t->cols[c].key, &v);
		text = out_format_value(v, t->cols[c].kind, buf, len);
		if (*text && strcmp(text, "-"))
			return false;
	}
	return true;
}

static void choose_columns(struct ms_table *t, char *buf, size_t len)
{
	int limit = out_width();

	t->shown[0] = true;
	for (int key = 1; key >= 0; key--)
		for (int c = 1; c < t->ncols; c++) {
			if (t->cols[c].must != key || (!key && column_empty(t, c, buf, len)))
				continue;
			t->shown[c] = true;
			if (narrowest_line(t) > limit)
				t->shown[c] = false;
		}
	t->chosen = true;
}

/* A later flush whose numbers grew past the line: the rightmost columns go, keys last. */
static void keep_fitting(struct ms_table *t)
{
	for (int key = 0; key <= 1; key++)
		for (int c = t->ncols - 1; c > 0 && narrowest_line(t) > out_width(); c--)
			if (t->shown[c] && t->cols[c].must == key)
				t->shown[c] = false;
}

/* What each shown column gets: its width; names what the line leaves them. */
static void layout(const struct ms_table *t, int *w)
{
	int spare = out_width() - narrowest_line(t);

	for (int c = 0; c < t->ncols; c++) {
		int more = t->width[c] - min_width(t, c);

		w[c] = min_width(t, c);
		if (more > 0 && spare > 0) {
			w[c] += more < spare ? more : spare;
			spare -= more < spare ? more : spare;
		}
	}
}

const char *out_shorten(const char *s, int w, char *buf, size_t len)
{
	const char *ell = out_utf8() ? "\u2026" : "...";
	int ell_w = out_utf8() ? 1 : 3, n = display_width(s), keep;
	size_t head = strspn(s, " "), i;
	const char *slash = s[head] == '/' ? strchr(s + head + 1, '/') : NULL;

	if (n <= w || w <= ell_w)
		return s;
	/* a path keeps its first component when the end still gets 8 characters */
	if (slash && display_width_n(s, slash + 1 - s) + ell_w + 8 <= w)
		head = slash + 1 - s;
	keep = w - display_width_n(s, head) - ell_w;
	if (keep < 1)
		return s;
	/* the last keep characters */
	for (i = strlen(s); i > 0 && keep; i--)
		keep -= ((unsigned char)s[i - 1] & 0xc0) != 0x80;
	snprintf(buf, len, "%.*s%s%s", (int)head, s, ell, s + i);
	return buf;
}

static void print_line(const struct ms_table *t, const int *w, json_object *row, char *buf,
		       size_t len)
{
	char line[4096], short_text[512];
	struct strbuf sb;
	int last = 0;

	for (int c = 0; c < t->ncols; c++)
		if (t->shown[c])
			last = c;
	sb_init(&sb, line, sizeof(line));
	for (int c = 0; c < t->ncols; c++) {
		json_object *v = NULL;
		const char *text = t->cols[c].head;

		if (!t->shown[c])
			continue;
		if (row) {
			json_object_object_get_ex(row, t->cols[c].key, &v);
			text = out_format_value(v, t->cols[c].kind, buf, len);
		}
		if (elastic(&t->cols[c]))
			text = out_shorten(text, w[c], short_text, sizeof(short_text));
		cell(&sb, text, w[c], t->cols[c].left, c == 0, c == last);
	}
	out_printf("%s\n", line);
}

/* The columns of the next flush (the first flush's, kept): measured and chosen. */
static void pick(struct ms_table *t, char *buf, size_t len)
{
	measure(t, buf, len);
	if (!t->chosen)
		choose_columns(t, buf, len);
	keep_fitting(t);
}

bool table_shows(struct ms_table *t, const char *key)
{
	char buf[512];

	if (json_mode || !t->nrows)
		return false;
	pick(t, buf, sizeof(buf));
	for (int c = 0; c < t->ncols; c++)
		if (!strcmp(t->cols[c].key, key))
			return t->shown[c];
	return false;
}

void table_flush(struct ms_table *t)
{
	char buf[512];
	int w[MS_MAX_COLS], hidden = 0;

	if (json_mode || !t->nrows)
		return;
	pick(t, buf, sizeof(buf));
	layout(t, w);
	print_line(t, w, NULL, buf, sizeof(buf));
	for (int c = 0; c < t->ncols; c++)
		hidden += !t->shown[c] && !column_empty(t, c, buf, sizeof(buf));
	for (int r = 0; r < t->nrows; r++) {
		print_line(t, w, t->rows[r], buf, sizeof(buf));
		json_object_put(t->rows[r]);
	}
	if (hidden && !t->hint_given) {
		out_printf("(%d more column%s past %d: set COLUMNS, widen the terminal, or -j)\n",
			   hidden, hidden == 1 ? "" : "s", out_width());
		t->hint_given = true;
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
