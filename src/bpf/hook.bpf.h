/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One handler under each hook kind that can carry it. User space keeps the variant
 * that really works on the running kernel (src/lib/hooks.c, or --avoid-hooks) and
 * turns the others' autoload off; the program names are those its hook tables list.
 */
#ifndef MEMSCOPE_HOOK_BPF_H
#define MEMSCOPE_HOOK_BPF_H

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

/* tracepoint tp as tp_btf (prog_btf) and raw_tp (prog_raw); body sees the arguments. */
#define MS_TRACEPOINT(prog, tp, body, args...)                                             \
	SEC("tp_btf/" #tp)                                                                 \
	int BPF_PROG(prog##_btf, ##args)                                                   \
	{                                                                                  \
		body;                                                                      \
		return 0;                                                                  \
	}                                                                                  \
	SEC("raw_tp/" #tp)                                                                 \
	int BPF_PROG(prog##_raw, ##args)                                                   \
	{                                                                                  \
		body;                                                                      \
		return 0;                                                                  \
	}

/*
 * The classic tracepoint cat:tp as prog_tp, the last fallback (through tracefs, on
 * every kernel with tracepoints). Its context is the event's record,
 * struct trace_event_raw_<raw> (raw: the event's class, as vmlinux.h names it), whose
 * fields CO-RE relocates; body reads them as ctx->field. The record holds values,
 * not the kernel objects tp_btf and raw_tp receive: the body says what it can do.
 */
#define MS_CLASSIC(prog, cat, tp, raw, body)                                               \
	SEC("tracepoint/" #cat "/" #tp)                                                    \
	int prog##_tp(struct trace_event_raw_##raw *ctx)                                   \
	{                                                                                  \
		body;                                                                      \
		return 0;                                                                  \
	}

/* kernel function fn as fentry (prog_fentry) and kprobe (prog_kprobe). */
#define MS_FUNCTION(prog, fn, body, args...)                                               \
	SEC("fentry/" #fn)                                                                 \
	int BPF_PROG(prog##_fentry, ##args)                                                \
	{                                                                                  \
		body;                                                                      \
		return 0;                                                                  \
	}                                                                                  \
	SEC("kprobe/" #fn)                                                                 \
	int BPF_KPROBE(prog##_kprobe, ##args)                                              \
	{                                                                                  \
		body;                                                                      \
		return 0;                                                                  \
	}

#endif
