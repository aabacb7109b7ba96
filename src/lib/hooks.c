// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "hooks.h"
#include "kbtf.h"
#include "runtime.h"
#include "util.h"
#include "probe.skel.h"

#define HK_NAME(e, name) [e] = name,
static const char *const kind_names[HK_NR] = { HOOK_KINDS(HK_NAME) };
#undef HK_NAME

enum { UNKNOWN, WORKS, FAILS };
static int kind_state[HK_NR];
static char kind_error[HK_NR][160];
static bool kind_avoided[HK_NR];

const char *hook_kind_name(enum hook_kind k)
{
	return k < HK_NR ? kind_names[k] : "?";
}

const char *hook_kind_error(enum hook_kind k)
{
	return kind_error[k];
}

/* The target of the uprobe probe: a function of our own binary. */
__attribute__((noinline, used)) int memscope_uprobe_target(int x)
{
	__asm__ volatile("" ::: "memory");
	return x + 1;
}

/* libbpf 1.1 returns NULL with errno set in strict mode; keep both shapes working. */
static struct bpf_link *ERR_PTR_LINK(int err)
{
	errno = -err;
	return NULL;
}

static struct bpf_program *probe_prog(struct probe_bpf *s, enum hook_kind k)
{
	switch (k) {
	case HK_TP_BTF: return s->progs.probe_tp_btf;
	case HK_RAW_TP: return s->progs.probe_raw_tp;
	case HK_TRACEPOINT: return s->progs.probe_tracepoint;
	case HK_FENTRY: return s->progs.probe_fentry;
	case HK_KPROBE: return s->progs.probe_kprobe;
	case HK_UPROBE: return s->progs.probe_uprobe;
	case HK_ITER_TASK: return s->progs.probe_iter_task;
	case HK_ITER_TASK_VMA: return s->progs.probe_iter_task_vma;
	case HK_ITER_CGROUP: return s->progs.probe_iter_cgroup;
	case HK_ITER_KMEM_CACHE: return s->progs.probe_iter_kmem_cache;
	default: return NULL;
	}
}

static int try_ringbuf(char *why, size_t len)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, NULL, 0, 0, ms_page_size(), NULL);

	if (fd < 0) {
		snprintf(why, len, "map create: %s", strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

/* A cgroup iterator needs a cgroup to start from: any hierarchy's root. */
static struct bpf_link *attach_cgroup_iter(struct bpf_program *prog)
{
	static const char *const roots[] = { "/sys/fs/cgroup/unified", "/sys/fs/cgroup",
					     "/sys/fs/cgroup/memory" };
	union bpf_iter_link_info li = { .cgroup.order = BPF_CGROUP_ITER_SELF_ONLY };
	LIBBPF_OPTS(bpf_iter_attach_opts, io, .link_info = &li, .link_info_len = sizeof(li));
	struct bpf_link *link;
	int err = -ENOENT;

	for (size_t i = 0; i < ARRAY_SIZE(roots); i++) {
		int fd = open(roots[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (fd < 0)
			continue;
		li.cgroup.cgroup_fd = fd;
		link = bpf_program__attach_iter(prog, &io);
		err = libbpf_get_error(link);
		close(fd);
		if (!err)
			return link;
	}
	return ERR_PTR_LINK(err);
}

static struct bpf_link *attach_kind(struct bpf_program *prog, enum hook_kind k)
{
	if (k == HK_UPROBE) {
		LIBBPF_OPTS(bpf_uprobe_opts, uo, .func_name = "memscope_uprobe_target");

		return bpf_program__attach_uprobe_opts(prog, 0, "/proc/self/exe", 0, &uo);
	}
	if (k == HK_ITER_CGROUP)
		return attach_cgroup_iter(prog);
	if (k >= HK_ITER_TASK && k <= HK_ITER_KMEM_CACHE)
		return bpf_program__attach_iter(prog, NULL);
	return bpf_program__attach(prog);
}

static int try_kind(enum hook_kind k, char *why, size_t len)
{
	struct bpf_program *prog, *p;
	struct bpf_link *link = NULL;
	struct probe_bpf *s;
	int err;

	if (k == HK_RINGBUF)
		return try_ringbuf(why, len);
	if (k == HK_TRACEPOINT && !ms_tracefs()) {
		snprintf(why, len, "tracefs not mounted and cannot be mounted");
		return -1;
	}
	s = probe_bpf__open_opts(ms_bpf_open_opts());
	if (!s) {
		snprintf(why, len, "open: %s", strerror(errno));
		return -1;
	}
	prog = probe_prog(s, k);
	bpf_object__for_each_program(p, s->obj)
		bpf_program__set_autoload(p, p == prog);
	err = probe_bpf__load(s);
	if (err) {
		snprintf(why, len, "load: %s", strerror(-err));
	} else {
		link = attach_kind(prog, k);
		err = libbpf_get_error(link);
		if (err) {
			link = NULL;
			snprintf(why, len, "attach: %s", strerror(-err));
		}
	}
	bpf_link__destroy(link);
	probe_bpf__destroy(s);
	return err ? -1 : 0;
}

bool hook_kind_works(enum hook_kind k)
{
	if (k >= HK_NR)
		return false;
	if (kind_state[k] == UNKNOWN)
		kind_state[k] = try_kind(k, kind_error[k], sizeof(kind_error[k])) ? FAILS : WORKS;
	return kind_state[k] == WORKS;
}

bool tracepoint_in_tracefs(const char *category, const char *event)
{
	const char *tfs = ms_tracefs();
	char path[256];
	struct stat st;

	if (!tfs)
		return false;
	snprintf(path, sizeof(path), "%s/events/%s/%s", tfs, category, event);
	return stat(path, &st) == 0;
}

bool tracepoint_in_btf(const char *event)
{
	char name[128];
	struct btf *btf = kbtf_vmlinux();

	snprintf(name, sizeof(name), "btf_trace_%s", event);
	return btf && btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF) > 0;
}

bool kernel_func_in_btf(const char *name)
{
	struct btf *btf = kbtf_vmlinux();

	return btf && btf__find_by_name_kind(btf, name, BTF_KIND_FUNC) > 0;
}

/*
 * May a classic tracepoint program look a task up by pid? bpf_task_from_pid is a kfunc
 * (6.2), and which program types may call kfuncs differs between kernels
 * (bpf_prog_type_to_kfunc_hook in kernel/bpf/btf.c): load a program that calls it and
 * releases what it got, and see whether the verifier takes it.
 */
static int try_task_by_pid(void)
{
	struct btf *btf = kbtf_vmlinux();
	int from_pid = btf ? btf__find_by_name_kind(btf, "bpf_task_from_pid", BTF_KIND_FUNC) : -1;
	int release = btf ? btf__find_by_name_kind(btf, "bpf_task_release", BTF_KIND_FUNC) : -1;
	/* t = bpf_task_from_pid(1); if (t) bpf_task_release(t); return 0; */
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_1, .imm = 1 },
		{ .code = BPF_JMP | BPF_CALL, .src_reg = BPF_PSEUDO_KFUNC_CALL, .imm = from_pid },
		{ .code = BPF_JMP | BPF_JEQ | BPF_K, .dst_reg = BPF_REG_0, .off = 2 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = BPF_REG_1, .src_reg = BPF_REG_0 },
		{ .code = BPF_JMP | BPF_CALL, .src_reg = BPF_PSEUDO_KFUNC_CALL, .imm = release },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd;

	if (from_pid <= 0 || release <= 0)
		return FAILS;
	fd = bpf_prog_load(BPF_PROG_TYPE_TRACEPOINT, "ms_task_by_pid", "GPL", insns,
			   ARRAY_SIZE(insns), NULL);
	if (fd < 0)
		return FAILS;
	close(fd);
	return WORKS;
}

bool tracepoint_finds_tasks(void)
{
	static int state = UNKNOWN;

	if (state == UNKNOWN)
		state = try_task_by_pid();
	return state == WORKS;
}

/* Does the hook point itself exist for this variant's kind? */
static bool target_exists(const struct hook_spec *spec, enum hook_kind k)
{
	const char *colon = strchr(spec->name, ':');
	char category[64];

	if (!colon) /* a kernel function */
		return (k == HK_FENTRY || k == HK_KPROBE) && kernel_func_in_btf(spec->name);
	snprintf(category, sizeof(category), "%.*s", (int)(colon - spec->name), spec->name);
	switch (k) {
	case HK_TP_BTF:
		/* A built-in tracepoint that tracefs lists has its btf_trace_ type in a
		 * BTF kernel: a stat instead of parsing 6 MiB of BTF. */
		return tracepoint_in_tracefs(category, colon + 1) || tracepoint_in_btf(colon + 1);
	case HK_RAW_TP:
		return tracepoint_in_tracefs(category, colon + 1) || tracepoint_in_btf(colon + 1);
	case HK_TRACEPOINT:
		return tracepoint_in_tracefs(category, colon + 1);
	default:
		return false;
	}
}

int hooks_avoid(const char *list, char *err, size_t errlen)
{
	char buf[128], *save = NULL;

	if (!strpbrk(list, "abcdefghijklmnopqrstuvwxyz_")) {
		snprintf(err, errlen, "needs at least one of tp_btf, raw_tp, tracepoint, fentry, "
			 "kprobe");
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s", list);
	for (char *name = strtok_r(buf, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
		enum hook_kind k;

		/* only kinds that probe variants choose between */
		for (k = HK_TP_BTF; k <= HK_KPROBE; k++)
			if (!strcmp(name, kind_names[k]))
				break;
		if (k > HK_KPROBE) {
			snprintf(err, errlen, "'%s' is not one of tp_btf, raw_tp, tracepoint, "
				 "fentry, kprobe", name);
			return -1;
		}
		kind_avoided[k] = true;
	}
	return 0;
}

bool hook_kind_avoided(enum hook_kind k)
{
	return k < HK_NR && kind_avoided[k];
}

int hook_spec_choice(const struct hook_spec *spec)
{
	for (int v = 0; v < HOOK_MAX_VARIANTS && spec->v[v].prog; v++) {
		enum hook_kind k = spec->v[v].kind;

		if (!kind_avoided[k] && target_exists(spec, k) && hook_kind_works(k))
			return v;
	}
	return HOOK_NONE;
}

/* Would the probe's classic-tracepoint variant work but for a missing tracefs? */
static bool needs_tracefs(const struct hook_spec *spec)
{
	for (int v = 0; v < HOOK_MAX_VARIANTS && spec->v[v].prog; v++)
		if (spec->v[v].kind == HK_TRACEPOINT && !kind_avoided[HK_TRACEPOINT])
			return !ms_tracefs();
	return false;
}

static bool any_avoided(void)
{
	for (int k = 0; k < HK_NR; k++)
		if (kind_avoided[k])
			return true;
	return false;
}

int hooks_select(struct bpf_object *obj, const struct hook_spec *specs, int n, int *chosen,
		 char *err, size_t errlen)
{
	for (int i = 0; i < n; i++) {
		chosen[i] = hook_spec_choice(&specs[i]);
		for (int v = 0; v < HOOK_MAX_VARIANTS && specs[i].v[v].prog; v++) {
			struct bpf_program *p =
				bpf_object__find_program_by_name(obj, specs[i].v[v].prog);

			/* a typo here would load every variant of the probe */
			if (!p)
				ms_fatal("internal error: no BPF program %s for %s",
					 specs[i].v[v].prog, specs[i].name);
			bpf_program__set_autoload(p, v == chosen[i]);
		}
		if (chosen[i] == HOOK_NONE && !specs[i].optional) {
			snprintf(err, errlen,
				 "no working hook for %s on this kernel%s (see 'memscope features')%s",
				 specs[i].name, any_avoided() ? " with --avoid-hooks" : "",
				 needs_tracefs(&specs[i]) ? "; its classic tracepoint needs tracefs, "
				 "which is not mounted and could not be: mount -t tracefs nodev "
				 "/sys/kernel/tracing" : "");
			return -1;
		}
	}
	kbtf_release(); /* before libbpf parses its own copy for the load */
	return 0;
}

int hook_index(const struct hook_spec *specs, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(specs[i].name, name))
			return i;
	ms_fatal("internal error: no probe named %s", name);
}

const char *hook_chosen_kind(const struct hook_spec *specs, int n, const int *chosen,
			     const char *name)
{
	int i = hook_index(specs, n, name);

	return chosen[i] == HOOK_NONE ? NULL : hook_kind_name(specs[i].v[chosen[i]].kind);
}
