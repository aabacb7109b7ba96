// SPDX-License-Identifier: GPL-2.0
/* An exporter-toolkit web configuration file (--web-config), as libyaml reads it. */
#include <stdint.h>
#include <string.h>
#include "webconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct web_spec s;
	char err[256];

	if (!web_spec_parse((const char *)data, size, &s, err, sizeof(err)))
		web_spec_free(&s);
	else if (!memchr(err, 0, sizeof(err)) || strchr(err, '\n'))
		__builtin_trap(); /* one line, always */
	return 0;
}
