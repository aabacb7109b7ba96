/* SPDX-License-Identifier: GPL-2.0 */
/* Small readers of /proc and /sys files. */
#ifndef MEMSCOPE_PROCFS_H
#define MEMSCOPE_PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Read a whole small file into buf (NUL-terminated); bytes read or -1. */
long read_text_file(const char *path, char *buf, size_t len);
/* A whole file of any length, NUL-terminated (free it); NULL when unreadable. */
char *read_whole_file(const char *path);
/* First line of a file, trailing newline removed; false when unreadable. */
bool read_line_file(const char *path, char *buf, size_t len);
/* Value of "Key:  123 kB" in a meminfo-style text, in bytes when it has kB; false if absent. */
bool meminfo_value(const char *text, const char *key, uint64_t *value);

/* A number field of /proc/PID/status ("Tgid", "Kthread"); false when absent. */
bool proc_status_field(int pid, const char *key, long long *value);
/*
 * Why a process has no memory to show: "a kernel thread: it has no address space",
 * "no address space (exiting)", or NULL when it has one.
 */
const char *proc_no_mm_reason(int pid);

#endif
