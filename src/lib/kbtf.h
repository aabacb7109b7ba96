/* SPDX-License-Identifier: GPL-2.0 */
/* The running kernel's BTF, loaded once per run, and look-ups in it. */
#ifndef MEMSCOPE_KBTF_H
#define MEMSCOPE_KBTF_H

#include <stdbool.h>
#include <stddef.h>

struct btf;

/* vmlinux BTF, or NULL when the kernel has none. Owned here; do not free. */
struct btf *kbtf_vmlinux(void);
/* Free it (about 15 MiB parsed); the next kbtf_vmlinux() parses it again. */
void kbtf_release(void);
/* Tests: look things up in this BTF instead of the kernel's (kbtf_release frees it). */
void kbtf_use(struct btf *btf);
/*
 * Value of an enumerator, searched in every enum (named or anonymous): for
 * constants like MM_ANONPAGES whose enum has no name, so CO-RE cannot relocate it.
 */
int kbtf_enum_value(const char *name, long long *value);

/* Indices of MM_FILEPAGES, MM_ANONPAGES, MM_SHMEMPAGES, MM_SWAPENTS; 0 or -ENOENT. */
int kbtf_mm_counter_indices(int *file, int *anon, int *shmem, int *swap);

/* Name of the enumerator with this value in the named enum (e.g. "compact_result"), or NULL. */
const char *kbtf_enum_name(const char *enum_name, long long value);
/*
 * The same, without its prefix and in lower case, as the output shows it
 * ("COMPACT_COMPLETE" -> "complete"); the number when the kernel has no such value.
 */
const char *kbtf_enum_short(const char *enum_name, long long value, const char *prefix,
			    char *buf, size_t len);

/*
 * An enum's names copied out of the BTF in kbtf_enum_short's form, for decoding events
 * later without the BTF (parsing it again costs MiB and CPU, often when memory is short).
 */
#define KBTF_ENUM_MAX 32
struct kbtf_enum {
	int n;
	long long value[KBTF_ENUM_MAX];
	char name[KBTF_ENUM_MAX][32];
};
/* Copy the named enum (its first KBTF_ENUM_MAX enumerators); 0, or -ENOENT: none copied. */
int kbtf_enum_copy(const char *enum_name, const char *prefix, struct kbtf_enum *out);
/* kbtf_enum_short's answer from the copy: the short name, or the number. */
const char *kbtf_enum_text(const struct kbtf_enum *en, long long value, char *buf, size_t len);

/* Is argument n (0-based, after the hidden context) of tracepoint `event` a pointer? -1 if unknown. */
int kbtf_tp_arg_is_ptr(const char *event, int n);

#endif
