// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/libbpf.h>
#include "loss.h"
#include "output.h"
#include "record.h"
#include "runtime.h"

struct lost_row {
	uint64_t null_mask;
	char command[16];
};

static const struct field lost_fields[] = {
	FLD(struct lost_row, command, "command", NULL, FT_STR, FU_NONE, FK_LABEL, 0,
	    "the command that lost something; each further field is one of its counts "
	    "(untracked_processes, exits_unseen, stall_events, untimed_stalls, snapshots, "
	    "events), the total since start"),
};
const struct record_desc lost_desc =
	RECORD_DESC("lost", "what a command could not keep (full map or ring buffer), when it "
		    "grew", lost_fields, struct lost_row);

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
	{
		struct lost_row row = { 0 };
		json_object *head;

		clock_gettime(CLOCK_REALTIME, &now);
		snprintf(row.command, sizeof(row.command), "%s", command);
		head = record_json(&lost_desc, &row, now.tv_sec + now.tv_nsec / 1e9);
		json_object_put(r);
		r = head;
	}
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
