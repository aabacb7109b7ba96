// SPDX-License-Identifier: GPL-2.0
/* memscope gfp: decode GFP masks with the running kernel's own flag names. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "commands.h"
#include "gfp.h"
#include "output.h"
#include "record.h"
#include "runtime.h"
#include "strbuf.h"

static const char *source_name(enum gfp_source s)
{
	return s == GFP_SRC_TRACEFS ? "tracefs" : s == GFP_SRC_BTF ? "btf" : "none";
}

static void gfp_check(const struct ms_opts *o)
{
	if (!o->nr_args)
		ms_usage_error("gfp: give at least one mask, e.g. 'memscope gfp 0x140cca' or "
			       "'memscope gfp GFP_KERNEL'");
}

struct gfp_row {
	uint64_t null_mask;
	char input[256];
	uint64_t mask;
	uint32_t nr_flags;
	char flags[GFP_MAX_NAMES][GFP_NAME_LEN];
	char source[8];
};

static const struct field gfp_fields[] = {
	FLD(struct gfp_row, input, "input", NULL, FT_STR, FU_NONE, FK_LABEL, 0,
	    "the argument as given: a mask, or flag names joined by '|'"),
	FLD(struct gfp_row, mask, "mask", NULL, FT_U64, FU_NONE, FK_LABEL, 0, "the GFP mask"),
	FLD_STRS(struct gfp_row, flags, nr_flags, "flags", 0,
		 "the mask in the running kernel's own flag names, as it prints them (composite "
		 "names first; bits no name covers last, in hex); [] for 0"),
	FLD(struct gfp_row, source, "source", NULL, FT_STR, FU_NONE, FK_LABEL, 0,
	    "where the names come from: tracefs or btf"),
};
static const struct record_desc gfp_desc =
	RECORD_DESC("gfp", "memscope gfp: one decoded mask", gfp_fields, struct gfp_row);

/* Text: the mask, then its names, wrapped between names to the line. */
static void print_mask(const struct gfp_table *t, const char *input, unsigned long mask)
{
	struct gfp_row row = { .mask = mask };
	const char *list[GFP_MAX_NAMES] = { "none" };
	char first[32], indent[32];

	snprintf(row.input, sizeof(row.input), "%s", input);
	row.nr_flags = gfp_names(t, mask, row.flags, GFP_MAX_NAMES);
	snprintf(row.source, sizeof(row.source), "%s", source_name(t->source));
	if (out_json_mode()) {
		out_json(record_json(&gfp_desc, &row, ms_wall_now()));
		return;
	}
	for (uint32_t i = 0; i < row.nr_flags; i++)
		list[i] = row.flags[i];
	snprintf(first, sizeof(first), "%#-10lx ", mask);
	snprintf(indent, sizeof(indent), "%*s", (int)strlen(first), "");
	out_wrap_list(first, indent, list, row.nr_flags ? row.nr_flags : 1, "|", false);
}

static int gfp_run(const struct ms_opts *o)
{
	char bad[512];
	struct strbuf sb;
	struct gfp_table t;
	int nbad = 0;

	if (gfp_table_load(&t) < 0)
		ms_fatal("cannot read the kernel's GFP flag names: no tracefs "
			 "(mount -t tracefs nodev /sys/kernel/tracing) and no ___GFP_*_BIT in BTF");
	/* every good argument is decoded; the bad ones are named together at the end */
	sb_init(&sb, bad, sizeof(bad));
	for (int i = 0; i < o->nr_args; i++) {
		unsigned long mask;

		if (gfp_parse(&t, o->args[i], &mask)) {
			sb_sep(&sb, ", ");
			sb_add(&sb, "'%s'", o->args[i]);
			nbad++;
			continue;
		}
		print_mask(&t, o->args[i], mask);
	}
	out_flush();
	if (nbad)
		ms_usage_error("gfp: %s: not %s or flag names of this kernel (e.g. 0x140cca, "
			       "GFP_KERNEL)", bad, nbad == 1 ? "a mask" : "masks");
	return 0;
}

const struct ms_cmd cmd_gfp = {
	.name = "gfp",
	.summary = "decode GFP masks as the running kernel prints them",
	.details = "Uses the kernel's own flag table: tracefs events/kmem/mm_page_alloc/format\n"
		   "(composite names like GFP_KERNEL first), or the single ___GFP_*_BIT bits\n"
		   "of its BTF when tracefs is missing. Bits with no name print in hex.\n"
		   "A MASK is a number or flag names joined by '|' (any case): names give\n"
		   "their mask. Each argument is decoded; bad ones are named at the end (exit 2).",
	.examples = "  memscope gfp 0x140cca\n  memscope gfp -j 0xcc0 0x2800\n"
		    "  memscope gfp GFP_KERNEL 'GFP_HIGHUSER_MOVABLE|__GFP_NOWARN'\n",
	.operands = "MASK...",
	.check = gfp_check,
	.run = gfp_run,
	.records = (const struct record_desc *const[]){ &gfp_desc, NULL },
};
