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

static json_object *json_str_or_null(const char *s)
{
	return s && *s ? json_object_new_string(s) : NULL;
}

static const char *yes_no(bool b)
{
	return b ? "yes" : "no";
}

static void add_system(json_object *rec)
{
	char v1[256], v2[256], buf[256];
	struct utsname un;

	uname(&un);
	memcg_mounts(v1, v2, sizeof(v1));
	json_object_object_add(rec, "type", json_object_new_string("features"));
	json_object_object_add(rec, "ts", json_ts(ms_wall_now()));
	json_object_object_add(rec, "kernel", json_object_new_string(un.release));
	json_object_object_add(rec, "machine", json_object_new_string(un.machine));
	json_object_object_add(rec, "page_size_bytes", json_u64(ms_page_size()));
	json_object_object_add(rec, "numa_nodes", json_object_new_int(count_numa_nodes()));
	json_object_object_add(rec, "memcg_v1", json_str_or_null(v1));
	json_object_object_add(rec, "memcg_v2", json_str_or_null(v2));
	json_object_object_add(rec, "psi", json_object_new_boolean(
				       read_line_file("/proc/pressure/memory", buf, sizeof(buf))));
	json_object_object_add(rec, "btf", json_object_new_boolean(
				       access("/sys/kernel/btf/vmlinux", R_OK) == 0));
	json_object_object_add(rec, "tracefs", json_str_or_null(ms_tracefs()));
}

/* Each hook kind, tried by really loading and attaching a program. */
static json_object *hooks_json(void)
{
	json_object *hooks = json_object_new_object();

	for (int k = 0; k < HK_NR; k++) {
		json_object *h = json_object_new_object();
		bool ok = hook_kind_works(k);

		json_object_object_add(h, "available", json_object_new_boolean(ok));
		json_object_object_add(h, "error", ok ? NULL : json_str_or_null(hook_kind_error(k)));
		json_object_object_add(h, "avoided", json_object_new_boolean(hook_kind_avoided(k)));
		json_object_object_add(hooks, hook_kind_name(k), h);
	}
	return hooks;
}

static void add_tracepoint(json_object *tps, const char *name)
{
	const char *colon = strchr(name, ':');
	json_object *t;
	char cat[64];

	if (!colon || json_object_object_get_ex(tps, name, NULL))
		return;
	snprintf(cat, sizeof(cat), "%.*s", (int)(colon - name), name);
	t = json_object_new_object();
	json_object_object_add(t, "tracefs",
			       json_object_new_boolean(tracepoint_in_tracefs(cat, colon + 1)));
	json_object_object_add(t, "btf", json_object_new_boolean(tracepoint_in_btf(colon + 1)));
	json_object_object_add(tps, name, t);
}

/* The hook each command's probe takes here; the tracepoints they use into tps. */
static json_object *probes_json(json_object *tps)
{
	json_object *probes = json_object_new_array();

	for (int c = 0; c < ms_nr_commands; c++) {
		const struct ms_cmd *cmd = ms_commands[c];

		for (int h = 0; h < cmd->nr_hooks; h++) {
			const struct hook_spec *spec = &cmd->hooks[h];
			json_object *p = json_object_new_object();
			int v = hook_spec_choice(spec);

			add_tracepoint(tps, spec->name);
			json_object_object_add(p, "command", json_object_new_string(cmd->name));
			json_object_object_add(p, "probe", json_object_new_string(spec->name));
			json_object_object_add(p, "hook", v == HOOK_NONE ? NULL :
				json_object_new_string(hook_kind_name(spec->v[v].kind)));
			json_object_object_add(p, "optional", json_object_new_boolean(spec->optional));
			json_object_array_add(probes, p);
		}
	}
	return probes;
}

static const char *str_of(json_object *o, const char *key)
{
	json_object *v = NULL;

	json_object_object_get_ex(o, key, &v);
	return v ? json_object_get_string(v) : NULL;
}

static bool bool_of(json_object *o, const char *key)
{
	json_object *v = NULL;

	json_object_object_get_ex(o, key, &v);
	return v && json_object_get_boolean(v);
}

static void print_system(json_object *rec)
{
	const char *v1 = str_of(rec, "memcg_v1"), *v2 = str_of(rec, "memcg_v2");

	out_printf("kernel        %s (%s), page size %lu, %d NUMA node%s\n", str_of(rec, "kernel"),
		   str_of(rec, "machine"), ms_page_size(), count_numa_nodes(),
		   count_numa_nodes() > 1 ? "s" : "");
	out_printf("BTF           %s\n", bool_of(rec, "btf") ? "/sys/kernel/btf/vmlinux" : "missing");
	out_printf("tracefs       %s\n", ms_tracefs() ? ms_tracefs() : "missing");
	out_printf("memcg         v1: %s, v2: %s\n", v1 ? v1 : "no", v2 ? v2 : "no");
	out_printf("PSI           %s\n", yes_no(bool_of(rec, "psi")));
}

static void print_hooks(json_object *hooks)
{
	out_printf("\nhooks (each loaded and attached for real):\n");
	json_object_object_foreach(hooks, name, h)
	{
		const char *e = str_of(h, "error");

		out_printf("  %-16s %s%s%s%s%s\n", name,
			   bool_of(h, "available") ? "available" : "unavailable", e ? " (" : "",
			   e ? e : "", e ? ")" : "",
			   bool_of(h, "avoided") ? ", avoided (--avoid-hooks)" : "");
	}
}

/* The tracepoints, and the hook per probe, in columns as wide as the longest name. */
static void print_probes(json_object *tps, json_object *probes)
{
	int w = 0;

	json_object_object_foreach(tps, name, t)
	{
		(void)t;
		if ((int)strlen(name) > w)
			w = strlen(name);
	}
	if (json_object_object_length(tps))
		out_printf("\ntracepoints used:\n");
	json_object_object_foreach(tps, tname, tp)
		out_printf("  %-*s %s\n", w, tname,
			   bool_of(tp, "tracefs") || bool_of(tp, "btf") ? "present" : "missing");
	if (json_object_array_length(probes))
		out_printf("\nhook per probe on this kernel:\n");
	for (size_t i = 0; i < json_object_array_length(probes); i++) {
		json_object *p = json_object_array_get_idx(probes, i);
		const char *hk = str_of(p, "hook");

		out_printf("  %-8s %-*s %s\n", str_of(p, "command"), w, str_of(p, "probe"),
			   hk ? hk : "none (unavailable)");
	}
}

static int features_run(const struct ms_opts *o)
{
	json_object *rec = json_object_new_object(), *hooks, *tps = json_object_new_object();
	json_object *probes;

	(void)o;
	ms_require_bpf();
	add_system(rec);
	hooks = hooks_json();
	probes = probes_json(tps);
	json_object_object_add(rec, "hooks", hooks);
	json_object_object_add(rec, "tracepoints", tps);
	json_object_object_add(rec, "probes", probes);
	if (out_json_mode()) {
		out_json(rec);
		return 0;
	}
	print_system(rec);
	print_hooks(hooks);
	print_probes(tps, probes);
	json_object_put(rec);
	out_flush();
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
};
