/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the running kernel really offers, found by loading and attaching tiny
 * programs, and the choice of one hook variant per memscope probe from that.
 */
#ifndef MEMSCOPE_HOOKS_H
#define MEMSCOPE_HOOKS_H

#include <stdbool.h>
#include <stddef.h>

struct bpf_object;

/* Each kind of hook: X(enumerator, the name users see). */
#define HOOK_KINDS(X)                                                                      \
	X(HK_TP_BTF, "tp_btf")                                                             \
	X(HK_RAW_TP, "raw_tp")                                                             \
	X(HK_TRACEPOINT, "tracepoint")                                                     \
	X(HK_FENTRY, "fentry")                                                             \
	X(HK_KPROBE, "kprobe")                                                             \
	X(HK_UPROBE, "uprobe")                                                             \
	X(HK_ITER_TASK, "iter/task")                                                       \
	X(HK_ITER_TASK_VMA, "iter/task_vma")                                               \
	X(HK_ITER_CGROUP, "iter/cgroup")                                                   \
	X(HK_ITER_KMEM_CACHE, "iter/kmem_cache")                                           \
	X(HK_RINGBUF, "ringbuf")

#define HK_ENUM(e, name) e,
enum hook_kind { HOOK_KINDS(HK_ENUM) HK_NR };
#undef HK_ENUM

const char *hook_kind_name(enum hook_kind k);
/* Really load (and attach) a tiny program of this kind; cached per run. */
bool hook_kind_works(enum hook_kind k);
/* Why the last probe of k failed ("" when it worked). */
const char *hook_kind_error(enum hook_kind k);

bool tracepoint_in_tracefs(const char *category, const char *event);
/* tp_btf/raw_tp need the kernel's btf_trace_<event> type. */
bool tracepoint_in_btf(const char *event);
/* A function the kernel can hook by name (BTF FUNC, not inlined away). */
bool kernel_func_in_btf(const char *name);

/* A classic tracepoint program may look a task up by pid (bpf_task_from_pid): loaded. */
bool tracepoint_finds_tasks(void);

/* The most variants a probe has (bounds loops over hook_spec.v[]). */
#define HOOK_MAX_VARIANTS 4

struct hook_variant {
	enum hook_kind kind;
	const char *prog; /* program name in the command's BPF object */
};

/* One probe of a command: a tracepoint or function, with variants best first. */
struct hook_spec {
	const char *name; /* "kmem:mm_page_alloc" or a function name */
	bool optional;	  /* the command still works without it */
	struct hook_variant v[HOOK_MAX_VARIANTS];
	const char *without; /* optional: what is missing where no variant works (features) */
};

#define HOOK_NONE (-1)

/*
 * Table lines whose program names are those src/bpf/hook.bpf.h makes:
 * MS_TRACEPOINT + MS_CLASSIC(prog) give prog_btf, prog_raw and prog_tp;
 * MS_FUNCTION(prog) gives prog_fentry and prog_kprobe.
 */
#define HOOK_TP(tp, prog, optional)                                                        \
	{ tp, optional,                                                                    \
	  { { HK_TP_BTF, prog "_btf" }, { HK_RAW_TP, prog "_raw" },                        \
	    { HK_TRACEPOINT, prog "_tp" } }, NULL }
#define HOOK_FN(fn, prog, optional)                                                        \
	{ fn, optional, { { HK_FENTRY, prog "_fentry" }, { HK_KPROBE, prog "_kprobe" } }, NULL }
/* An optional function probe, and what its command shows without it (the same words for
 * probes that stand in for one another: one of them working is enough). */
#define HOOK_FN_OPT(fn, prog, without_)                                                    \
	{ fn, true, { { HK_FENTRY, prog "_fentry" }, { HK_KPROBE, prog "_kprobe" } }, without_ }

/* Index of the probe named name in specs; an unknown name is a bug: exit 1. */
int hook_index(const struct hook_spec *specs, int n, const char *name);
/* The kind chosen for probe name (after hooks_select), or NULL when it has none. */
const char *hook_chosen_kind(const struct hook_spec *specs, int n, const int *chosen,
			     const char *name);

/*
 * For each spec pick the first variant that works here, disable the autoload
 * of all other variants' programs. chosen[i] is the variant index or HOOK_NONE.
 * Returns 0, or -1 when a required hook has no working variant (err says which).
 */
int hooks_select(struct bpf_object *obj, const struct hook_spec *specs, int n, int *chosen,
		 char *err, size_t errlen);
/*
 * Never choose hooks of the kinds in list ("raw_tp,kprobe"): a way around a kind
 * that misbehaves on some kernel, and how the tests drive every fallback variant.
 * Returns 0, or -1 with err naming the bad kind.
 */
int hooks_avoid(const char *list, char *err, size_t errlen);
bool hook_kind_avoided(enum hook_kind k);
/* Without an object: which variant would be chosen (for `features`). */
int hook_spec_choice(const struct hook_spec *spec);

#endif
