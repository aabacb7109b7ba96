// SPDX-License-Identifier: GPL-2.0
/* A tracepoint's format text (the GFP flag table is read from it) and the masks decoded
 * with the table it gives. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "gfp.h"
#include "tracefmt.h"

static int ident(const char *name, unsigned long *value)
{
	*value = strlen(name); /* any enum constant resolves to something */
	return name[0] == 'X' ? -1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gfp_table t;
	char *text = malloc(size + 1), buf[512];
	unsigned long v;

	memcpy(text, data, size);
	text[size] = 0;
	memset(&t, 0, sizeof(t));
	if (gfp_table_parse_format(&t, text, ident) > 0) {
		gfp_format(&t, 0x346cca, buf, sizeof(buf));
		gfp_format(&t, ~0UL, buf, sizeof(buf));
		gfp_format(&t, size, buf, 8);
	}
	gfp_eval_expr(text, &v, ident);
	free(text);
	return 0;
}
