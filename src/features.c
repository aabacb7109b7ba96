// SPDX-License-Identifier: GPL-2.0
/* memscope features: what this kernel offers memscope, and which hook each probe uses. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/utsname.h>
#include "commands.h"
#include "cgroups.h"
#include "hooks.h"
#include "output.h"
#include "record.h"
#include "procfs.h"
#include "runtime.h"

static int count_numa_nodes(void)
{
	DIR *d = opendir("/sys/devices/system/node");
	struct dirent *e;
	int n = 0, id;

	if (!d)
		return 1; /* kernels without NUMA have one node */
	while ((e = readdir(d)))
		if (sscanf(e->d_name, "node%d", &id) == 1)
			n++;
	closedir(d);
	return n ? n : 1;
}

static const char *yes_no(bool b)
{
	return b ? "yes" : "no";
}

/* ---- the "features" record ---- */

#define MAX_PROBES 64
#define MAX_TPS 48
#define MAX_LIMITS 16

struct kind_part {
	uint64_t null_mask;
	bool available, avoided;
	char error[160];
};

struct hooks_part {
	uint64_t null_mask;
	struct kind_part kind[HK_NR];
};

struct tp_part {
	uint64_t null_mask;
	char name[64];
	bool tracefs, btf;
};

struct probe_part {
	uint64_t null_mask;
	char command[16], probe[64], hook[16];
	bool optional;
};

/* What does not work here, and what that costs. */
struct limit_part {
	uint64_t null_mask;
	char commands[64], what[200], needs[64];
	bool runs; /* the commands still run */
};

struct features_row {
	uint64_t null_mask;
	char bottom_line[160];
	uint32_t nr_limits;
	struct limit_part limits[MAX_LIMITS];
	char kernel[65], machine[65], memcg_v1[256], memcg_v2[256], tracefs[64];
	uint64_t page_size_bytes;
	int32_t numa_nodes;
	bool psi, btf;
	struct hooks_part hooks;
	uint32_t nr_tps, nr_probes;
	struct tp_part tracepoints[MAX_TPS];
	struct probe_part probes[MAX_PROBES];
};

static const struct field kind_fields[] = {
	FLD(struct kind_part, available, "available", NULL, FT_BOOL, FU_NONE, FK_LABEL, 0,
	    "a program of this kind really loaded and attached"),
	FLD(struct kind_part, error, "error", NULL, FT_STR, FU_NONE, FK_LABEL, FF_NULL,
	    "why not, where it did not; null when it did"),
	FLD(struct kind_part, avoided, "avoided", NULL, FT_BOOL, FU_NONE, FK_LABEL, 0,
	    "--avoid-hooks names it"),
};
static const struct record_desc kind_desc =
	RECORD_DESC("features.hooks.KIND", "one hook kind", kind_fields, struct kind_part);

#define HK_FIELD(e, name)                                                                  \
	FLD_REC(struct hooks_part, kind[e], name, 0, &kind_desc, "the hook kind " name),
static const struct field hooks_fields[] = { HOOK_KINDS(HK_FIELD) };
#undef HK_FIELD
static const struct record_desc hooks_desc =
	RECORD_DESC("features.hooks", "each hook kind, tried by loading and attaching a program",
		    hooks_fields, struct hooks_part);

static const struct field tp_fields[] = {
	FLD(struct tp_part, name, "name", NULL, FT_STR, FU_NONE, FK_LABEL, 0,
	    "category:event"),
	FLD(struct tp_part, tracefs, "tracefs", NULL, FT_BOOL, FU_NONE, FK_LABEL, 0,
	    "tracefs lists it"),
	FLD(struct tp_part, btf, "btf", NULL, FT_BOOL, FU_NONE, FK_LABEL, 0,
	    "the kernel's BTF has its btf_trace_ type (tp_btf, raw_tp)"),
};
static const struct record_desc tp_desc =
	RECORD_DESC("features.tracepoints", "a tracepoint memscope uses", tp_fields,
		    struct tp_part);

static const struct field probe_fields[] = {
	FLD(struct probe_part, command, "command", NULL, FT_STR, FU_NONE, FK_LABEL, 0,
	    "the command"),
	FLD(struct probe_part, probe, "probe", NULL, FT_STR, FU_NONE, FK_LABEL, 0,
	    "the tracepoint or function it hooks"),
	FLD(struct probe_part, hook, "hook", NULL, FT_STR, FU_NONE, FK_LABEL, FF_NULL,
	    "the kind of hook it takes here; null: none works"),
	FLD(struct probe_part, optional, "optional", NULL, FT_BOOL, FU_NONE, FK_LABEL, 0,
	    "the command works without it"),
};
static const struct record_desc probe_desc =
	RECORD_DESC("features.probes", "a command's probe and the hook it takes here",
		    probe_fields, struct probe_part);

#define L(m, ft, help) FLD(struct limit_part, m, #m, NULL, ft, FU_NONE, FK_LABEL, 0, help)
static const struct field limit_fields[] = {
	L(commands, FT_STR, "the commands it concerns, comma-separated"),
	L(what, FT_STR, "what they cannot do or show here"),
	L(needs, FT_STR, "what it would take: the hook kinds tried, or a kernel feature"),
	L(runs, FT_BOOL, "the commands still run without it"),
};
#undef L
static const struct record_desc limit_desc =
	RECORD_DESC("features.limits", "something memscope cannot do on this kernel, and why",
		    limit_fields, struct limit_part);

#define F(m, ft, flags, help) FLD(struct features_row, m, #m, NULL, ft, FU_NONE, FK_LABEL, flags, help)
static const struct field features_fields[] = {
	F(bottom_line, FT_STR, 0, "in one sentence: what works here, and how many limits"),
	FLD_RECS(struct features_row, limits, nr_limits, "limits", &limit_desc,
		 "what does not work here and what that costs; [] when everything works"),
	F(kernel, FT_STR, 0, "kernel release"),
	F(machine, FT_STR, 0, "architecture"),
	FLD(struct features_row, page_size_bytes, "page_size_bytes", NULL, FT_U64, FU_BYTES,
	    FK_GAUGE, 0, "page size"),
	F(numa_nodes, FT_S32, 0, "NUMA nodes"),
	F(memcg_v1, FT_STR, FF_NULL, "the v1 memory controller's mount; null: none"),
	F(memcg_v2, FT_STR, FF_NULL, "a cgroup2 mount with memory enabled; null: none"),
	F(psi, FT_BOOL, 0, "pressure stall information is on"),
	F(btf, FT_BOOL, 0, "the kernel has BTF"),
	F(tracefs, FT_STR, FF_NULL, "where tracefs is (mounted by memscope if it was not)"),
	FLD_REC(struct features_row, hooks, "hooks", 0, &hooks_desc, "each hook kind"),
	FLD_RECS(struct features_row, tracepoints, nr_tps, "tracepoints", &tp_desc,
		 "the tracepoints the commands use"),
	FLD_RECS(struct features_row, probes, nr_probes, "probes", &probe_desc,
		 "each command's probes"),
};
#undef F
static const struct record_desc features_desc =
	RECORD_DESC("features", "memscope features: what this kernel offers memscope",
		    features_fields, struct features_row);

static void copy_or_null(struct features_row *r, const char *key, char *dst, size_t len,
			 const char *src)
{
	if (src && *src)
		snprintf(dst, len, "%s", src);
	else
		record_null(&features_desc, r, key);
}

static void system_of(struct features_row *r)
{
	char v1[256], v2[256], buf[256];
	struct utsname un;

	uname(&un);
	memcg_mounts(v1, v2, sizeof(v1));
	snprintf(r->kernel, sizeof(r->kernel), "%s", un.release);
	snprintf(r->machine, sizeof(r->machine), "%s", un.machine);
	r->page_size_bytes = ms_page_size();
	r->numa_nodes = count_numa_nodes();
	copy_or_null(r, "memcg_v1", r->memcg_v1, sizeof(r->memcg_v1), v1);
	copy_or_null(r, "memcg_v2", r->memcg_v2, sizeof(r->memcg_v2), v2);
	r->psi = read_line_file("/proc/pressure/memory", buf, sizeof(buf));
	r->btf = access("/sys/kernel/btf/vmlinux", R_OK) == 0;
	copy_or_null(r, "tracefs", r->tracefs, sizeof(r->tracefs), ms_tracefs());
}

/* Each hook kind, tried by really loading and attaching a program. */
static void hooks_of(struct hooks_part *h)
{
	for (int k = 0; k < HK_NR; k++) {
		struct kind_part *p = &h->kind[k];

		p->available = hook_kind_works(k);
		p->avoided = hook_kind_avoided(k);
		if (p->available)
			record_null(&kind_desc, p, "error");
		else
			snprintf(p->error, sizeof(p->error), "%s", hook_kind_error(k));
	}
}

static void add_tracepoint(struct features_row *r, const char *name)
{
	const char *colon = strchr(name, ':');
	struct tp_part *t;
	char cat[64];

	for (uint32_t i = 0; i < r->nr_tps; i++)
		if (!strcmp(r->tracepoints[i].name, name))
			return;
	if (!colon || r->nr_tps == MAX_TPS)
		return;
	t = &r->tracepoints[r->nr_tps++];
	snprintf(cat, sizeof(cat), "%.*s", (int)(colon - name), name);
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->tracefs = tracepoint_in_tracefs(cat, colon + 1);
	t->btf = tracepoint_in_btf(colon + 1);
}

/* The hook each command's probe takes here; the tracepoints they use. */
static void probes_of(struct features_row *r)
{
	for (int c = 0; c < ms_nr_commands; c++) {
		const struct ms_cmd *cmd = ms_commands[c];

		for (int h = 0; h < cmd->nr_hooks && r->nr_probes < MAX_PROBES; h++) {
			const struct hook_spec *spec = &cmd->hooks[h];
			struct probe_part *p = &r->probes[r->nr_probes++];
			int v = hook_spec_choice(spec);

			add_tracepoint(r, spec->name);
			snprintf(p->command, sizeof(p->command), "%s", cmd->name);
			snprintf(p->probe, sizeof(p->probe), "%s", spec->name);
			if (v == HOOK_NONE)
				record_null(&probe_desc, p, "hook");
			else
				snprintf(p->hook, sizeof(p->hook), "%s",
					 hook_kind_name(spec->v[v].kind));
			p->optional = spec->optional;
		}
	}
}

/* ---- the bottom line ---- */

static struct limit_part *limit_of(struct features_row *r, const char *what)
{
	struct limit_part *l;

	for (uint32_t i = 0; i < r->nr_limits; i++)
		if (!strcmp(r->limits[i].what, what))
			return &r->limits[i];
	if (r->nr_limits == MAX_LIMITS)
		return NULL;
	l = &r->limits[r->nr_limits++];
	snprintf(l->what, sizeof(l->what), "%s", what);
	l->runs = true;
	return l;
}

static void add_command(struct limit_part *l, const char *cmd)
{
	size_t n = strlen(cmd);

	for (const char *p = l->commands; (p = strstr(p, cmd)); p += n)
		if ((p == l->commands || p[-1] == ' ') && (!p[n] || p[n] == ','))
			return;
	snprintf(l->commands + strlen(l->commands), sizeof(l->commands) - strlen(l->commands),
		 "%s%s", l->commands[0] ? ", " : "", cmd);
}

/* "fentry or kprobe": the kinds a probe could have taken. */
static void kinds_of(const struct hook_spec *spec, char *buf, size_t len)
{
	int n = 0;

	buf[0] = 0;
	for (int v = 0; v < HOOK_MAX_VARIANTS && spec->v[v].prog; v++, n++)
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s",
			 !n ? "" : v + 1 < HOOK_MAX_VARIANTS && spec->v[v + 1].prog ? ", " : " or ",
			 hook_kind_name(spec->v[v].kind));
}

/* A probe with these words works somewhere (stand-ins for one another). */
static bool stand_in_works(const char *without)
{
	for (int c = 0; c < ms_nr_commands; c++)
		for (int h = 0; h < ms_commands[c]->nr_hooks; h++) {
			const struct hook_spec *spec = &ms_commands[c]->hooks[h];

			if (spec->without && !strcmp(spec->without, without) &&
			    hook_spec_choice(spec) != HOOK_NONE)
				return true;
		}
	return false;
}

static void probe_limits(struct features_row *r)
{
	for (int c = 0; c < ms_nr_commands; c++)
		for (int h = 0; h < ms_commands[c]->nr_hooks; h++) {
			const struct hook_spec *spec = &ms_commands[c]->hooks[h];
			struct limit_part *l;
			char what[200];

			if (hook_spec_choice(spec) != HOOK_NONE ||
			    (spec->without && stand_in_works(spec->without)))
				continue;
			if (spec->without)
				snprintf(what, sizeof(what), "%s", spec->without);
			else
				snprintf(what, sizeof(what), "%s %s", spec->optional ?
					 "runs without" : "cannot run: no working hook on", spec->name);
			if (!(l = limit_of(r, what)))
				return;
			add_command(l, ms_commands[c]->name);
			kinds_of(spec, l->needs, sizeof(l->needs));
			l->runs &= spec->optional;
		}
}

static void system_limit(struct features_row *r, bool missing, const char *cmds,
			 const char *what, const char *needs, bool runs)
{
	struct limit_part *l;

	if (!missing || !(l = limit_of(r, what)))
		return;
	snprintf(l->commands, sizeof(l->commands), "%s", cmds);
	snprintf(l->needs, sizeof(l->needs), "%s", needs);
	l->runs = runs;
}

/* What works, what is missing and what that costs: the first thing features says. */
static void limits_of(struct features_row *r)
{
	int stopped = 0;

	probe_limits(r);
	system_limit(r, !hook_kind_works(HK_UPROBE), "leak",
		     "leak cannot trace a process (leak --kernel still can)", "uprobe", true);
	system_limit(r, !r->psi, "summary, cgroup, exporter, record",
		     "no pressure stall figures (they are null)", "PSI (boot with psi=1)", true);
	system_limit(r, !r->memcg_v1[0] && !r->memcg_v2[0], "cgroup, summary",
		     "no memory cgroup figures", "a memory cgroup hierarchy (v1 or v2)", true);
	for (uint32_t i = 0; i < r->nr_limits; i++)
		stopped += !r->limits[i].runs;
	if (!r->nr_limits)
		snprintf(r->bottom_line, sizeof(r->bottom_line),
			 "everything memscope uses works here");
	else if (!stopped)
		snprintf(r->bottom_line, sizeof(r->bottom_line),
			 "every command runs here, with %u limit%s:", r->nr_limits,
			 r->nr_limits == 1 ? "" : "s");
	else
		snprintf(r->bottom_line, sizeof(r->bottom_line),
			 "%d command%s cannot run here, and %u other limit%s:", stopped,
			 stopped == 1 ? "" : "s", r->nr_limits - stopped,
			 r->nr_limits - stopped == 1 ? "" : "s");
}

static void print_bottom_line(const struct features_row *r)
{
	out_wrap("in short      ", "              ", r->bottom_line);
	for (uint32_t i = 0; i < r->nr_limits; i++) {
		const struct limit_part *l = &r->limits[i];
		char text[400];

		snprintf(text, sizeof(text), "%s: %s; needs %s, which %s not work here",
			 l->commands, l->what, l->needs, strstr(l->needs, " or ") ? "do" : "does");
		out_wrap("  - ", "    ", text);
	}
	out_printf("\n");
}

/* ---- text ---- */

static void print_system(const struct features_row *r)
{
	out_printf("kernel        %s (%s), page size %llu, %d NUMA node%s\n", r->kernel, r->machine,
		   (unsigned long long)r->page_size_bytes, r->numa_nodes,
		   r->numa_nodes > 1 ? "s" : "");
	out_printf("BTF           %s\n", r->btf ? "/sys/kernel/btf/vmlinux" : "missing");
	out_printf("tracefs       %s\n", r->tracefs[0] ? r->tracefs : "missing");
	out_printf("memcg         v1: %s, v2: %s\n", r->memcg_v1[0] ? r->memcg_v1 : "no",
		   r->memcg_v2[0] ? r->memcg_v2 : "no");
	out_printf("PSI           %s\n", yes_no(r->psi));
}

static void print_hooks(const struct hooks_part *h)
{
	out_printf("\nhooks (each loaded and attached for real):\n");
	for (int k = 0; k < HK_NR; k++) {
		const struct kind_part *p = &h->kind[k];

		out_printf("  %-16s %s%s%s%s%s\n", hook_kind_name(k),
			   p->available ? "available" : "unavailable", p->available ? "" : " (",
			   p->available ? "" : p->error, p->available ? "" : ")",
			   p->avoided ? ", avoided (--avoid-hooks)" : "");
	}
}

/* The tracepoints, and the hook per probe, in columns as wide as the longest name. */
static void print_probes(const struct features_row *r)
{
	int w = 0;

	for (uint32_t i = 0; i < r->nr_probes; i++)
		if ((int)strlen(r->probes[i].probe) > w)
			w = strlen(r->probes[i].probe);
	if (r->nr_tps)
		out_printf("\ntracepoints used:\n");
	for (uint32_t i = 0; i < r->nr_tps; i++)
		out_printf("  %-*s %s\n", w, r->tracepoints[i].name,
			   r->tracepoints[i].tracefs || r->tracepoints[i].btf ? "present" : "missing");
	if (r->nr_probes)
		out_printf("\nhook per probe on this kernel:\n");
	for (uint32_t i = 0; i < r->nr_probes; i++) {
		const struct probe_part *p = &r->probes[i];

		out_printf("  %-8s %-*s %s\n", p->command, w, p->probe,
			   p->hook[0] ? p->hook : "none (unavailable)");
	}
}

static int features_run(const struct ms_opts *o)
{
	struct features_row *r = calloc(1, sizeof(*r));

	(void)o;
	if (!r)
		ms_fatal("out of memory");
	ms_require_bpf();
	system_of(r);
	hooks_of(&r->hooks);
	probes_of(r);
	limits_of(r);
	if (out_json_mode()) {
		out_json(record_json(&features_desc, r, ms_wall_now()));
	} else {
		print_bottom_line(r);
		print_system(r);
		print_hooks(&r->hooks);
		print_probes(r);
		out_flush();
	}
	free(r);
	return 0;
}

const struct ms_cmd cmd_features = {
	.name = "features",
	.summary = "what this kernel offers memscope, tested by loading real programs",
	.details = "Loads and attaches one tiny BPF program per hook kind (tp_btf, raw_tp,\n"
		   "tracepoint, fentry, kprobe, uprobe, iterators) and reports what works,\n"
		   "which tracepoints exist, and which hook each memscope probe will use.",
	.examples = "  memscope features\n  memscope features --json | python3 -m json.tool\n",
	.run = features_run,
	.records = (const struct record_desc *const[]){ &features_desc, &limit_desc, &hooks_desc,
		&kind_desc, &tp_desc, &probe_desc, NULL },
};
