/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Memory cgroups by the names the kernel prints: paths relative to the memory
 * hierarchy's root ("/a/b", as in /proc/PID/cgroup and the kernel's
 * "oom_memcg=/a/b"), whether that hierarchy is v1 or v2.
 */
#ifndef MEMSCOPE_CGROUPS_H
#define MEMSCOPE_CGROUPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Mount points of the v1 memory controller and of a v2 tree with memory ("" if none). */
void memcg_mounts(char *v1, char *v2, size_t len);
/* The root of the memory hierarchy in use (v1 when mounted, else v2); NULL if none. */
const char *memcg_root(void);
/* Is memcg_root() a v2 tree (else v1's memory controller)? */
bool memcg_hier_is_v2(void);
/*
 * The same from a table of every memory cgroup, walked again when id is not in it:
 * for many lookups (a process list). NULL when no cgroup has that id.
 */
const char *memcg_path_cached(uint64_t id);
/* The same without walking: NULL when the table does not have it (yet). */
const char *memcg_path_known(uint64_t id);
/* Walk again now: for ids known to exist (a BPF pass just saw them). */
void memcg_paths_walk(void);
/* Every memory cgroup directory: absolute and relative path, kernfs id, depth (root 0),
 * parents before children. -1 when there is no memory hierarchy. */
int memcg_walk(void (*cb)(const char *abs, const char *rel, uint64_t id, int depth, void *ctx),
	       void *ctx);
/* Relative path of the memory cgroup whose kernfs id (directory inode) is id. */
bool memcg_path_by_id(uint64_t id, char *out, size_t len);
/*
 * A user's --cgroup argument, relative to the root ("/a/b") or the full directory
 * ("/sys/fs/cgroup/memory/a/b"): the directory in abs, the kernel's name in rel.
 * False when neither form names a directory.
 */
bool memcg_resolve(const char *arg, char *abs, size_t abs_len, char *rel, size_t rel_len);
/* Pure part: rel of an absolute directory under root ("/" for root itself). */
bool memcg_relative(const char *root, const char *abs, char *rel, size_t len);

#endif
