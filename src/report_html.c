// SPDX-License-Identifier: GPL-2.0
/*
 * The report as one HTML page that needs nothing from the network: each plot is an
 * inline SVG (one polyline per series, one point per interval where it has a value),
 * the events are markers on every plot (hover: the summary; click: the whole record
 * below), and the records ride along as JSON in the page.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "outfile.h"
#include "report_html.h"
#include "textsafe.h"
#include "units.h"

#define W 960
#define H 230
#define ML 78 /* room for the y labels */
#define MR 16
#define MT 12
#define MB 28
#define MAX_SERIES 8

enum yunit { Y_BYTES, Y_PERCENT, Y_PAGES, Y_NS };

struct series {
	const char *name, *color;
	double *v; /* one per interval; NAN: no value there */
};

struct plot {
	const char *id, *title, *what;
	enum yunit unit;
	bool stacked;
	bool log; /* y on a log scale: free memory hundreds of times its watermarks */
	struct series s[MAX_SERIES];
	int ns;
	double max, lo; /* the y axis: 0 (log: lo) to max */
};

/* The page's x axis: the intervals' times, and the span shown. */
struct axis {
	double *t;
	int n;
	double t0, t1;
};

static const char *const palette[MAX_SERIES] = { "#d95f02", "#1b9e77", "#7570b3", "#e7298a",
						 "#66a61e", "#e6ab02", "#a6761d", "#666666" };

static void esc(FILE *o, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", o); break;
		case '<': fputs("&lt;", o); break;
		case '>': fputs("&gt;", o); break;
		case '"': fputs("&quot;", o); break;
		case '\'': fputs("&#39;", o); break;
		default: fputc(*s, o);
		}
	}
}

/*
 * JSON inside a <script> element. Escaping "/" is not enough: a name holding "<!--"
 * and "<script" (prctl takes any 15 bytes) puts the HTML parser in the script's
 * "double escaped" state, where the element's own "</script>" no longer ends it and
 * the page's code never runs. So '<', '>' and '&' go as \u escapes, which JSON.parse
 * reads back as the same characters (outside strings JSON has none of them); invalid
 * UTF-8 goes as U+FFFD, as memscope's JSON output gives it.
 */
static void json_in_html(FILE *o, const char *json)
{
	char *fixed = json_utf8_fix(json);

	for (const char *s = fixed ? fixed : json; *s; s++) {
		if (*s == '<' || *s == '>' || *s == '&')
			fprintf(o, "\\u%04x", *s);
		else
			fputc(*s, o);
	}
	free(fixed);
}

static char *ylabel(char *buf, size_t len, enum yunit u, double v)
{
	switch (u) {
	case Y_BYTES:
		return fmt_bytes(buf, len, (uint64_t)v);
	case Y_PERCENT:
		snprintf(buf, len, "%.1f%%", v);
		return buf;
	case Y_NS:
		return fmt_duration_ns(buf, len, (uint64_t)v);
	default:
		return fmt_count(buf, len, v);
	}
}

static double xpos(const struct axis *a, double t)
{
	return ML + (t - a->t0) / (a->t1 - a->t0) * (W - ML - MR);
}

static double ypos(const struct plot *p, double v)
{
	double f = v / p->max;

	if (p->log)
		f = (log10(v > p->lo ? v : p->lo) - log10(p->lo)) / (log10(p->max) - log10(p->lo));
	return H - MB - f * (H - MB - MT);
}

/* The smallest positive value, the bottom of a log axis. */
static double bottom_of(const struct plot *p, const struct axis *a)
{
	double lo = 0;

	for (int k = 0; k < p->ns; k++)
		for (int i = 0; i < a->n; i++)
			if (p->s[k].v[i] > 0 && (!lo || p->s[k].v[i] < lo))
				lo = p->s[k].v[i];
	return lo > 0 && lo < p->max ? lo / 2 : p->max / 1024;
}

static double top_of(const struct plot *p, const struct axis *a)
{
	double max = 0;

	for (int i = 0; i < a->n; i++) {
		double sum = 0;

		for (int k = 0; k < p->ns; k++) {
			double v = p->s[k].v[i];

			if (isnan(v))
				continue;
			sum = p->stacked ? sum + v : v;
			if (sum > max)
				max = sum;
		}
	}
	return max > 0 ? max * 1.05 : 1;
}

static void frame(FILE *o, const struct plot *p, const struct axis *a)
{
	char b[32], t[32];

	fprintf(o, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n", ML,
		H - MB, W - MR, H - MB);
	for (int k = 0; k <= 2; k++) {
		double v = p->log ? p->lo * pow(p->max / p->lo, k / 2.0) : p->max * k / 2;
		double y = ypos(p, v);

		fprintf(o, "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>"
			"<text class=\"ylab\" x=\"%d\" y=\"%.1f\">%s</text>\n", ML, y, W - MR, y,
			ML - 6, y + 4, ylabel(b, sizeof(b), p->unit, v));
	}
	fprintf(o, "<text class=\"xlab\" x=\"%d\" y=\"%d\">%s</text>", ML, H - 8,
		fmt_clock(t, sizeof(t), a->t0, false));
	fprintf(o, "<text class=\"xlab end\" x=\"%d\" y=\"%d\">%s</text>\n", W - MR, H - 8,
		fmt_clock(t, sizeof(t), a->t1, false));
}

/* One series: its polyline (stacked: on top of the ones before, filled down to them). */
/* One series: its polyline (stacked: on top of the ones before, the band between filled). */
static void draw_series(FILE *o, const struct plot *p, int k, const struct axis *a,
			double *base)
{
	const struct series *s = &p->s[k];
	int n = 0;

	if (p->stacked) {
		fprintf(o, "<polygon class=\"area\" fill=\"%s\" points=\"", s->color);
		for (int i = 0; i < a->n; i++)
			if (!isnan(s->v[i]))
				fprintf(o, "%.1f,%.1f ", xpos(a, a->t[i]), ypos(p, base[i] + s->v[i]));
		for (int i = a->n - 1; i >= 0; i--)
			if (!isnan(s->v[i]))
				fprintf(o, "%.1f,%.1f ", xpos(a, a->t[i]), ypos(p, base[i]));
		fprintf(o, "\"/>\n");
	}
	fprintf(o, "<polyline class=\"series\" data-name=\"");
	esc(o, s->name);
	fprintf(o, "\" stroke=\"%s\" points=\"", s->color);
	for (int i = 0; i < a->n; i++) {
		double v = s->v[i];

		if (isnan(v))
			continue;
		if (p->stacked)
			v = base[i] += v;
		fprintf(o, "%s%.1f,%.1f", n++ ? " " : "", xpos(a, a->t[i]), ypos(p, v));
	}
	fprintf(o, "\" data-n=\"%d\"/>\n", n);
}

/* Each kind of event on its own row, so that a kill and its snapshot do not overlap. */
static int marker_row(const char *kind)
{
	static const char *const rows[] = { "oom_kill", "failure", "snapshot", "pressure",
					    "stalls", "stall" };

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (!strcmp(kind, rows[i]))
			return (int)i;
	return 0;
}

static void markers(FILE *o, const struct recording *r, const struct axis *a)
{
	char t[32];

	for (int i = 0; i < r->nev; i++) {
		const struct revent *e = &r->ev[i];
		double x = xpos(a, e->ts);

		fprintf(o, "<g class=\"event ");
		esc(o, e->kind);
		fprintf(o, "\" data-i=\"%d\"><line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>"
			"<circle cx=\"%.1f\" cy=\"%d\" r=\"5\"/><title>%s ", i, x, MT, x, H - MB, x,
			MT + 4 + 12 * marker_row(e->kind), fmt_clock(t, sizeof(t), e->ts, false));
		esc(o, e->summary);
		fprintf(o, "</title></g>\n");
	}
}

static void draw(FILE *o, struct plot *p, const struct recording *r, const struct axis *a)
{
	double *base = calloc(a->n + 1, sizeof(double));

	if (!base)
		return;
	fprintf(o, "<section class=\"plot\"><h2>%s</h2><p class=\"what\">%s</p>"
		"<p class=\"legend\">", p->title, p->what);
	for (int k = 0; k < p->ns; k++) {
		fprintf(o, "<span><i style=\"background:%s\"></i>", p->s[k].color);
		esc(o, p->s[k].name);
		fprintf(o, "</span>");
	}
	fprintf(o, "</p>\n<svg id=\"%s\" class=\"%s\" viewBox=\"0 0 %d %d\" width=\"%d\" "
		"height=\"%d\" xmlns=\"http://www.w3.org/2000/svg\">\n", p->id,
		p->stacked ? "stacked" : p->log ? "lines log" : "lines", W, H, W, H);
	p->max = top_of(p, a);
	p->lo = bottom_of(p, a);
	frame(o, p, a);
	for (int k = 0; k < p->ns; k++)
		draw_series(o, p, k, a, base);
	markers(o, r, a);
	fprintf(o, "</svg></section>\n");
	free(base);
}

/* ---- the plots' data ---- */

static void plot_init(struct plot *p, const char *id, const char *title, const char *what,
		      enum yunit unit, bool stacked)
{
	memset(p, 0, sizeof(*p));
	p->id = id;
	p->title = title;
	p->what = what;
	p->unit = unit;
	p->stacked = stacked;
}

static double *column(const struct axis *a)
{
	double *v = malloc(sizeof(double) * (a->n + 1));

	if (!v)
		abort();
	for (int i = 0; i < a->n; i++)
		v[i] = NAN;
	return v;
}

static void add(struct plot *p, const char *name, double *v)
{
	p->s[p->ns].name = name;
	p->s[p->ns].color = palette[p->ns % MAX_SERIES];
	p->s[p->ns++].v = v;
}

/* The intervals (snapshots are markers' business): index i of the axis. */
static const struct rsample **intervals(const struct recording *r, struct axis *a)
{
	const struct rsample **s = calloc(r->n + 1, sizeof(*s));

	a->t = calloc(r->n + 1, sizeof(double));
	if (!s || !a->t)
		abort();
	for (int i = 0; i < r->n; i++)
		if (!r->s[i].snapshot) {
			a->t[a->n] = r->s[i].ts;
			s[a->n++] = &r->s[i];
		}
	a->t0 = a->n ? a->t[0] : 0;
	a->t1 = a->n ? a->t[a->n - 1] : 1;
	for (int i = 0; i < r->nev; i++) {
		if (!a->n || r->ev[i].ts < a->t0)
			a->t0 = r->ev[i].ts;
		if (!a->n || r->ev[i].ts > a->t1)
			a->t1 = r->ev[i].ts;
	}
	if (a->t1 - a->t0 < 1)
		a->t1 = a->t0 + 1;
	return s;
}

static void memory_plot(struct plot *p, const struct rsample **s, const struct axis *a)
{
	static const struct {
		int m;
		const char *name;
	} parts[] = { { MEM_ANON, "anon" }, { MEM_FILE, "file (page cache)" },
		      { MEM_SLAB, "slab" }, { MEM_KERNEL_OTHER, "kernel stacks + page tables" },
		      { MEM_FREE, "free" } };

	plot_init(p, "plot-memory", "Memory by category",
			    "stacked: anon, page cache, slab, kernel, free (bytes)", Y_BYTES, true);
	for (size_t k = 0; k < sizeof(parts) / sizeof(parts[0]); k++) {
		double *v = column(a);

		for (int i = 0; i < a->n; i++)
			if (s[i]->has_mem)
				v[i] = s[i]->mem[parts[k].m];
		add(p, parts[k].name, v);
	}
}

static void free_plot(struct plot *p, const struct rsample **s, const struct axis *a)
{
	static const char *const names[] = { "free", "min watermark", "low watermark",
					     "high watermark" };

	plot_init(p, "plot-free", "Free memory and the watermarks",
			    "MemFree against the zones' min, low and high watermarks summed "
			    "(log scale)", Y_BYTES, false);
	p->log = true;
	for (int k = 0; k < 4; k++) {
		double *v = column(a);

		for (int i = 0; i < a->n; i++)
			if (s[i]->has_mem)
				v[i] = k ? s[i]->wmark[k - 1] : s[i]->mem[MEM_FREE];
		add(p, names[k], v);
	}
}

static void psi_plot(struct plot *p, const struct rsample **s, const struct axis *a)
{
	double *some = column(a), *full = column(a);

	plot_init(p, "plot-psi", "Memory pressure (PSI)",
			    "share of time some / all tasks stalled on memory, avg10", Y_PERCENT, false);
	for (int i = 0; i < a->n; i++)
		if (s[i]->has_psi) {
			some[i] = s[i]->psi_some;
			full[i] = s[i]->psi_full;
		}
	add(p, "some", some);
	add(p, "full", full);
}

static void reclaim_plot(struct plot *p, const struct rsample **s, const struct axis *a)
{
	double *sc = column(a), *rc = column(a);

	plot_init(p, "plot-reclaim", "Reclaim", "pages scanned and reclaimed per interval",
			    Y_PAGES, false);
	for (int i = 0; i < a->n; i++)
		if (s[i]->has_reclaim) {
			sc[i] = s[i]->scanned;
			rc[i] = s[i]->reclaimed;
		}
	add(p, "scanned", sc);
	add(p, "reclaimed", rc);
}

static void stall_plot(struct plot *p, const struct rsample **s, const struct axis *a)
{
	double *p50 = column(a), *p99 = column(a);

	plot_init(p, "plot-stalls", "Reclaim stalls",
			    "p50 and p99 of direct, memcg and node reclaim stalls (upper bounds "
			    "of log2 buckets); 0: no stall", Y_NS, false);
	for (int i = 0; i < a->n; i++) {
		p50[i] = s[i]->p50;
		p99[i] = s[i]->p99;
	}
	add(p, "p50", p50);
	add(p, "p99", p99);
}

static bool same_process(const struct rproc *x, const struct rproc *y)
{
	return x->pid == y->pid && !strcmp(x->comm, y->comm);
}

/* The largest RSS among processes not yet plotted (NULL: none left). */
static const struct rproc *next_largest(const struct recording *r, const struct rproc **taken,
					int ntaken)
{
	const struct rproc *best = NULL;

	for (int i = 0; i < r->nproc; i++) {
		bool seen = false;

		for (int j = 0; j < ntaken && !seen; j++)
			seen = same_process(taken[j], &r->proc[i]);
		if (!seen && (!best || r->proc[i].rss > best->rss))
			best = &r->proc[i];
	}
	return best;
}

/* The five processes with the largest RSS seen, each with its RSS where recorded. */
static void process_plot(struct plot *p, const struct recording *r, const struct axis *a,
			 const struct rsample **s, char names[][48])
{
	const struct rproc *taken[5];
	int *at = malloc(sizeof(int) * (r->n + 1)); /* a sample's place on the axis */

	if (!at)
		abort();
	plot_init(p, "plot-processes", "Largest processes",
		  "RSS of the five largest, where they were among the recorded top", Y_BYTES,
		  false);
	for (int i = 0; i < r->n; i++)
		at[i] = -1;
	for (int j = 0; j < a->n; j++)
		at[s[j] - r->s] = j;
	for (int k = 0; k < 5 && (taken[k] = next_largest(r, taken, k)); k++) {
		double *v = column(a);

		snprintf(names[k], 48, "%d %s", taken[k]->pid, taken[k]->comm);
		for (int i = 0; i < r->nproc; i++)
			if (at[r->proc[i].sample] >= 0 && same_process(&r->proc[i], taken[k]))
				v[at[r->proc[i].sample]] = r->proc[i].rss;
		add(p, names[k], v);
	}
	free(at);
}

/* ---- the page ---- */

static const char style[] =
	"body{font:14px system-ui,sans-serif;margin:24px;color:#222;max-width:1000px}"
	"h1{font-size:20px}h2{font-size:16px;margin:18px 0 2px}.what{color:#666;margin:0}"
	".legend span{margin-right:14px}.legend i{display:inline-block;width:10px;height:10px;"
	"margin-right:4px}svg{background:#fafafa;border:1px solid #ddd}"
	"polyline{fill:none;stroke-width:1.6}.stacked polyline{stroke-width:1.2}"
	".area{opacity:.35;stroke:none}.axis{stroke:#888}.grid{stroke:#e4e4e4}text{font-size:11px;fill:#555}"
	".ylab{text-anchor:end}.xlab.end{text-anchor:end}"
	".event line{stroke:#c00;stroke-dasharray:3 3}.event circle{fill:#c00;cursor:pointer}"
	".event.failure circle{fill:#e67e00}.event.stall circle,.event.stalls circle{fill:#888}"
	".event.snapshot circle{fill:#36c}.event.pressure circle{fill:#a0a}"
	"#detail{border:1px solid #ccc;padding:8px;background:#fff;margin-top:16px}"
	"pre{white-space:pre-wrap;font-size:12px}table{border-collapse:collapse}"
	"td,th{padding:2px 10px;text-align:left;border-bottom:1px solid #eee}";

static const char script[] =
	"(function(){var ev=JSON.parse(document.getElementById('events').textContent);"
	"var d=document.getElementById('detail');"
	"document.querySelectorAll('.event').forEach(function(m){m.addEventListener('click',"
	"function(){var e=ev[+m.getAttribute('data-i')];d.hidden=false;"
	"d.querySelector('h3').textContent=e.time+'  '+e.kind+': '+e.summary;"
	"d.querySelector('pre').textContent=e.record?JSON.stringify(e.record,null,2):"
	"'(derived by the report from the intervals)';});});})();";

static void events_json(FILE *o, const struct recording *r)
{
	json_object *a = json_object_new_array();
	char t[32];

	for (int i = 0; i < r->nev; i++) {
		json_object *e = json_object_new_object();

		json_object_object_add(e, "time", json_object_new_string(
			fmt_clock(t, sizeof(t), r->ev[i].ts, true)));
		json_object_object_add(e, "kind", json_object_new_string(r->ev[i].kind));
		json_object_object_add(e, "summary", json_object_new_string(r->ev[i].summary));
		json_object_object_add(e, "record", r->ev[i].record ?
				       json_tokener_parse(r->ev[i].record) : NULL);
		json_object_array_add(a, e);
	}
	fprintf(o, "<script type=\"application/json\" id=\"events\">");
	json_in_html(o, json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN));
	fprintf(o, "</script>\n");
	json_object_put(a);
}

static void incidents_table(FILE *o, const struct recording *r)
{
	char t[32];

	fprintf(o, "<h2>Incidents</h2>");
	if (!r->nev) {
		fprintf(o, "<p>none</p>\n");
		return;
	}
	fprintf(o, "<table id=\"incidents\"><tr><th>time</th><th>kind</th><th>what</th></tr>\n");
	for (int i = 0; i < r->nev; i++) {
		fprintf(o, "<tr><td>%s</td><td>", fmt_clock(t, sizeof(t), r->ev[i].ts, false));
		esc(o, r->ev[i].kind);
		fprintf(o, "</td><td>");
		esc(o, r->ev[i].summary);
		fprintf(o, "</td></tr>\n");
	}
	fprintf(o, "</table>\n");
}

static void page(FILE *o, const char *db, const struct recording *r)
{
	struct plot plots[6];
	char names[5][48];
	struct axis a = { 0 };
	const struct rsample **s = intervals(r, &a);
	char t0[32], t1[32];

	memory_plot(&plots[0], s, &a);
	free_plot(&plots[1], s, &a);
	psi_plot(&plots[2], s, &a);
	reclaim_plot(&plots[3], s, &a);
	stall_plot(&plots[4], s, &a);
	process_plot(&plots[5], r, &a, s, names);
	fprintf(o, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		"<title>memscope report</title><style>%s</style></head><body>\n<h1>memscope "
		"report: ", style);
	esc(o, db);
	fprintf(o, "</h1>\n<p>%d intervals, %s to %s (local time); %d incidents (listed "
		"below the plots). Hover a marker for its summary, click it for the whole "
		"record.</p>\n", a.n,
		fmt_clock(t0, sizeof(t0), a.t0, false), fmt_clock(t1, sizeof(t1), a.t1, false),
		r->nev);
	for (int k = 0; k < 6; k++) {
		draw(o, &plots[k], r, &a);
		for (int j = 0; j < plots[k].ns; j++)
			free(plots[k].s[j].v);
	}
	fprintf(o, "<div id=\"detail\" hidden><h3></h3><pre></pre></div>\n");
	incidents_table(o, r);
	events_json(o, r);
	fprintf(o, "<script>%s</script>\n</body></html>\n", script);
	free(s);
	free(a.t);
}

bool report_html_write(const char *path, const char *db, const struct recording *r, char *err,
		       size_t len)
{
	struct outfile o;

	if (!strcmp(path, "-")) { /* the caller checks standard output, as all output */
		page(stdout, db, r);
		return true;
	}
	if (!outfile_open(&o, path, err, len))
		return false;
	page(o.f, db, r);
	return outfile_close(&o, err, len);
}
