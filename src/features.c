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

struct features_row {
	uint64_t null_mask;
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

#define F(m, ft, flags, help) FLD(struct features_row, m, #m, NULL, ft, FU_NONE, FK_LABEL, flags, help)
static const struct field features_fields[] = {
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
	if (out_json_mode()) {
		out_json(record_json(&features_desc, r, ms_wall_now()));
	} else {
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
	.records = (const struct record_desc *const[]){ &features_desc, &hooks_desc, &kind_desc,
		&tp_desc, &probe_desc, NULL },
};
