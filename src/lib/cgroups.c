// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "cgroups.h"
#include "procfs.h"

void memcg_mounts(char *v1, char *v2, size_t len)
{
	char dev[256], dir[256], type[64], opts[512], ctl[512], path[300];
	FILE *f = fopen("/proc/mounts", "r");

	v1[0] = v2[0] = 0;
	if (!f)
		return;
	while (fscanf(f, "%255s %255s %63s %511s %*d %*d", dev, dir, type, opts) == 4) {
		if (!strcmp(type, "cgroup") && !v1[0]) {
			char *save;

			for (char *tok = strtok_r(opts, ",", &save); tok;
			     tok = strtok_r(NULL, ",", &save))
				if (!strcmp(tok, "memory"))
					snprintf(v1, len, "%s", dir);
		} else if (!strcmp(type, "cgroup2") && !v2[0]) {
			snprintf(path, sizeof(path), "%s/cgroup.controllers", dir);
			if (read_line_file(path, ctl, sizeof(ctl)) && strstr(ctl, "memory"))
				snprintf(v2, len, "%s", dir);
		}
	}
	fclose(f);
}

const char *memcg_root(void)
{
	static char root[256];
	static bool looked;
	char v2[256];

	if (!looked) {
		memcg_mounts(root, v2, sizeof(root));
		if (!root[0])
			snprintf(root, sizeof(root), "%s", v2);
		looked = true;
	}
	return root[0] ? root : NULL;
}

bool memcg_relative(const char *root, const char *abs, char *rel, size_t len)
{
	size_t n = strlen(root);

	while (n > 1 && root[n - 1] == '/')
		n--;
	if (strncmp(abs, root, n) || (abs[n] && abs[n] != '/'))
		return false;
	abs += n;
	while (abs[0] == '/' && abs[1] == '/')
		abs++;
	snprintf(rel, len, "%s", *abs ? abs : "/");
	/* no trailing slash, as the kernel prints it */
	for (size_t l = strlen(rel); l > 1 && rel[l - 1] == '/'; l--)
		rel[l - 1] = 0;
	return true;
}

struct find_id {
	uint64_t id;
	char *out;
	size_t len;
	bool found;
};

static void match_id(const char *abs, const char *rel, uint64_t id, int depth, void *ctx)
{
	struct find_id *f = ctx;

	(void)abs, (void)depth;
	if (!f->found && id == f->id) {
		snprintf(f->out, f->len, "%s", rel);
		f->found = true;
	}
}

bool memcg_path_by_id(uint64_t id, char *out, size_t len)
{
	struct find_id f = { id, out, len, false };

	return !memcg_walk(match_id, &f) && f.found;
}

static bool is_dir(const char *p)
{
	struct stat st;

	return !stat(p, &st) && S_ISDIR(st.st_mode);
}

bool memcg_resolve(const char *arg, char *abs, size_t abs_len, char *rel, size_t rel_len)
{
	const char *root = memcg_root();

	if (root && memcg_relative(root, arg, rel, rel_len) && is_dir(arg)) {
		snprintf(abs, abs_len, "%s", arg);
		return true;
	}
	if (root && arg[0] == '/') {
		snprintf(abs, abs_len, "%s%s", root, strcmp(arg, "/") ? arg : "");
		if (is_dir(abs))
			return memcg_relative(root, abs, rel, rel_len);
	}
	/* a directory outside the hierarchy: the caller says what it is not */
	snprintf(abs, abs_len, "%s", arg);
	snprintf(rel, rel_len, "%s", arg);
	return is_dir(arg);
}

bool memcg_hier_is_v2(void)
{
	static int v2 = -1;

	if (v2 < 0) {
		char a[256], b[256];

		memcg_mounts(a, b, sizeof(a));
		v2 = !a[0] && b[0];
	}
	return v2;
}

typedef void (*memcg_cb)(const char *abs, const char *rel, uint64_t id, int depth, void *ctx);

/*
 * Directories only, from readdir's d_type and d_ino (kernfs fills both: d_ino is the
 * kernfs id): nftw would stat every one of the ~30 files of each cgroup.
 */
static void walk_dir(char *abs, size_t len, size_t root_len, int depth, memcg_cb cb, void *ctx)
{
	size_t n = strlen(abs);
	struct dirent *d;
	DIR *dir;

	if (depth > 64 || !(dir = opendir(abs)))
		return;
	while ((d = readdir(dir))) {
		if (d->d_type != DT_DIR || d->d_name[0] == '.' ||
		    n + 1 + strlen(d->d_name) >= len)
			continue;
		snprintf(abs + n, len - n, "/%s", d->d_name);
		cb(abs, abs + root_len, d->d_ino, depth + 1, ctx);
		walk_dir(abs, len, root_len, depth + 1, cb, ctx);
		abs[n] = 0;
	}
	closedir(dir);
}

int memcg_walk(memcg_cb cb, void *ctx)
{
	const char *root = memcg_root();
	char abs[4096];
	struct stat st;
	size_t n;

	if (!root || stat(root, &st))
		return -1;
	snprintf(abs, sizeof(abs), "%s", root);
	for (n = strlen(abs); n > 1 && abs[n - 1] == '/'; n--)
		abs[n - 1] = 0;
	cb(abs, "/", st.st_ino, 0, ctx);
	walk_dir(abs, sizeof(abs), n, 0, cb, ctx);
	return 0;
}

struct id_path {
	uint64_t id;
	char *path;
};

static struct {
	struct id_path *e;
	size_t n, cap;
} ids;

static void add_id(const char *abs, const char *rel, uint64_t id, int depth, void *ctx)
{
	(void)abs, (void)depth, (void)ctx;
	if (ids.n == ids.cap) {
		ids.cap = ids.cap ? ids.cap * 2 : 64;
		ids.e = realloc(ids.e, ids.cap * sizeof(*ids.e));
		if (!ids.e)
			abort();
	}
	ids.e[ids.n].id = id;
	ids.e[ids.n++].path = strdup(rel);
}

static int by_id(const void *a, const void *b)
{
	const struct id_path *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

static const char *find_id(uint64_t id)
{
	struct id_path key = { .id = id }, *e;

	e = ids.n ? bsearch(&key, ids.e, ids.n, sizeof(*e), by_id) : NULL;
	return e ? e->path : NULL;
}

static struct timespec last_walk;

void memcg_paths_walk(void)
{
	clock_gettime(CLOCK_MONOTONIC, &last_walk);
	for (size_t i = 0; i < ids.n; i++)
		free(ids.e[i].path);
	ids.n = 0;
	memcg_walk(add_id, NULL);
	qsort(ids.e, ids.n, sizeof(*ids.e), by_id);
}

const char *memcg_path_known(uint64_t id)
{
	return find_id(id);
}

const char *memcg_path_cached(uint64_t id)
{
	const char *p = find_id(id);
	struct timespec now;

	if (p || !id)
		return p;
	/* a gone cgroup (its processes may outlive it) must not walk the tree per lookup */
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (ids.n && (now.tv_sec - last_walk.tv_sec) * 1000000000L + now.tv_nsec -
		     last_walk.tv_nsec < 500000000L)
		return NULL;
	memcg_paths_walk(); /* a cgroup made since: walk again */
	return find_id(id);
}
