// SPDX-License-Identifier: GPL-2.0
/* memscope gfp: decode GFP masks with the running kernel's own flag names. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include "commands.h"
#include "gfp.h"
#include "output.h"
#include "record.h"
#include "runtime.h"

static const char *source_name(enum gfp_source s)
{
	return s == GFP_SRC_TRACEFS ? "tracefs" : s == GFP_SRC_BTF ? "btf" : "none";
}

static void gfp_check(const struct ms_opts *o)
{
	if (!o->nr_args)
		ms_usage_error("gfp: give at least one mask, e.g. 'memscope gfp 0x140cca'");
	for (int i = 0; i < o->nr_args; i++) {
		char *end;

		errno = 0;
		strtoul(o->args[i], &end, 0);
		if (end == o->args[i] || *end || errno || o->args[i][0] == '-')
			ms_usage_error("gfp: '%s' is not a mask (use hex like 0x140cca)",
				       o->args[i]);
	}
}

struct gfp_row {
	uint64_t null_mask;
	uint64_t mask;
	char flags[1024];
	char source[8];
};

static const struct field gfp_fields[] = {
	FLD(struct gfp_row, mask, "mask", NULL, FT_U64, FU_NONE, FK_LABEL, 0, "the GFP mask"),
	FLD(struct gfp_row, flags, "flags", NULL, FT_STR, FU_NONE, FK_LABEL, 0,
	    "the mask in the running kernel's own flag names"),
	FLD(struct gfp_row, source, "source", NULL, FT_STR, FU_NONE, FK_LABEL, 0,
	    "where the names come from: tracefs or btf"),
};
static const struct record_desc gfp_desc =
	RECORD_DESC("gfp", "memscope gfp: one decoded mask", gfp_fields, struct gfp_row);

static int gfp_run(const struct ms_opts *o)
{
	struct gfp_table t;
	char buf[1024];

	if (gfp_table_load(&t) < 0)
		ms_fatal("cannot read the kernel's GFP flag names: no tracefs "
			 "(mount -t tracefs nodev /sys/kernel/tracing) and no ___GFP_*_BIT in BTF");
	for (int i = 0; i < o->nr_args; i++) {
		unsigned long mask = strtoul(o->args[i], NULL, 0);

		gfp_format(&t, mask, buf, sizeof(buf));
		if (out_json_mode()) {
			struct gfp_row row = { .mask = mask };

			snprintf(row.flags, sizeof(row.flags), "%s", buf);
			snprintf(row.source, sizeof(row.source), "%s", source_name(t.source));
			out_json(record_json(&gfp_desc, &row, ms_wall_now()));
		} else {
			out_printf("%#lx\t%s\n", mask, buf);
		}
	}
	out_flush();
	return 0;
}

const struct ms_cmd cmd_gfp = {
	.name = "gfp",
	.summary = "decode GFP masks as the running kernel prints them",
	.details = "Uses the kernel's own flag table: tracefs events/kmem/mm_page_alloc/format\n"
		   "(composite names like GFP_KERNEL first), or the single ___GFP_*_BIT bits\n"
		   "of its BTF when tracefs is missing. Bits with no name print in hex.",
	.examples = "  memscope gfp 0x140cca\n  memscope gfp -j 0xcc0 0x2800\n",
	.operands = "MASK...",
	.check = gfp_check,
	.run = gfp_run,
	.records = (const struct record_desc *const[]){ &gfp_desc, NULL },
};
