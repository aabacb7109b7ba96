// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/libbpf.h>
#include "loss.h"
#include "output.h"
#include "runtime.h"

void ms_report_losses(const char *command, struct ms_loss *l, int n)
{
	json_object *r = NULL;
	struct timespec now;

	for (int i = 0; i < n; i++) {
		uint64_t c = *l[i].count;

		if (c == l[i].reported)
			continue;
		if (!out_json_mode())
			ms_warn("%llu %s", (unsigned long long)(c - l[i].reported), l[i].what);
		l[i].reported = c;
		r = r ? r : json_object_new_object();
	}
	if (!r)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	json_object_object_add(r, "type", json_object_new_string("lost"));
	json_object_object_add(r, "ts", json_object_new_double(now.tv_sec + now.tv_nsec / 1e9));
	json_object_object_add(r, "command", json_object_new_string(command));
	for (int i = 0; i < n; i++)
		json_object_object_add(r, l[i].field, json_u64(l[i].reported));
	if (out_json_mode())
		out_json(r);
	else
		json_object_put(r);
}

void ms_test_map_sizes(struct bpf_object *obj)
{
	const char *env = getenv("MEMSCOPE_TEST_MAP_MAX");
	char buf[256], *save;

	if (!env)
		return;
	snprintf(buf, sizeof(buf), "%s", env);
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		struct bpf_map *m;

		if (!eq)
			continue;
		*eq = 0;
		m = bpf_object__find_map_by_name(obj, tok);
		if (m)
			bpf_map__set_max_entries(m, atoi(eq + 1));
	}
}
