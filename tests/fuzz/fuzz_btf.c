// SPDX-License-Identifier: GPL-2.0
/* Crafted BTF for the enum and type lookups memscope makes in the kernel's BTF. */
#include <stdint.h>
#include <string.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "kbtf.h"

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level, (void)fmt, (void)ap;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kbtf_enum names;
	struct btf *btf;
	char buf[64];
	long long v;
	int a, b, c, d;

	libbpf_set_print(quiet);
	btf = btf__new(data, size);
	if (libbpf_get_error(btf))
		return 0;
	kbtf_use(btf);
	kbtf_enum_value("MIGRATE_MOVABLE", &v);
	kbtf_enum_name("compact_result", 3);
	kbtf_enum_short("oom_constraint", 1, "CONSTRAINT_", buf, sizeof(buf));
	kbtf_enum_short("migratetype", 0, "MIGRATE_", buf, 4);
	kbtf_mm_counter_indices(&a, &b, &c, &d);
	kbtf_enum_copy("compact_result", "COMPACT_", &names);
	kbtf_release();
	kbtf_enum_text(&names, 1, buf, sizeof(buf));
	return 0;
}
