// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <elfutils/libdwfl.h>
#include "usyms.h"

struct usyms {
	Dwfl *dwfl;
};

static char *debuginfo_path;
static const Dwfl_Callbacks proc_callbacks = {
	.find_elf = dwfl_linux_proc_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.debuginfo_path = &debuginfo_path,
};

Dwfl *usyms_dwfl_open(int pid)
{
	Dwfl *dwfl = dwfl_begin(&proc_callbacks);

	if (dwfl && (dwfl_linux_proc_report(dwfl, pid) || dwfl_report_end(dwfl, NULL, NULL))) {
		dwfl_end(dwfl);
		dwfl = NULL;
	}
	return dwfl;
}

struct usyms *usyms_open(int pid)
{
	struct usyms *u = calloc(1, sizeof(*u));

	if (u && !(u->dwfl = usyms_dwfl_open(pid))) {
		free(u);
		u = NULL;
	}
	return u;
}

void usyms_close(struct usyms *u)
{
	if (!u)
		return;
	dwfl_end(u->dwfl);
	free(u);
}

static const char *base_name(const char *path)
{
	const char *s = path ? strrchr(path, '/') : NULL;

	return s ? s + 1 : path;
}

const char *usyms_module(struct usyms *u, uint64_t addr)
{
	Dwfl_Module *mod = u ? dwfl_addrmodule(u->dwfl, addr) : NULL;

	return mod ? dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL, NULL) : NULL;
}

const char *usyms_format(struct usyms *u, uint64_t addr, bool ret, char *buf, size_t len,
			 const char **fn)
{
	/* a return address may be past the calling function's end: look up the call */
	Dwarf_Addr at = ret && addr ? addr - 1 : addr;
	Dwfl_Module *mod = u ? dwfl_addrmodule(u->dwfl, at) : NULL;
	const char *file = NULL, *name = NULL;
	GElf_Off off = 0;
	GElf_Sym sym;
	Dwfl_Line *line;
	int lineno = 0;

	if (mod)
		name = dwfl_module_addrinfo(mod, at, &off, &sym, NULL, NULL, NULL);
	if (mod && (line = dwfl_module_getsrc(mod, at)))
		file = dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL);
	*fn = name;
	if (name && file)
		snprintf(buf, len, "%s+0x%llx (%s:%d)", name,
			 (unsigned long long)(off + (at != addr)), base_name(file), lineno);
	else if (name)
		snprintf(buf, len, "%s+0x%llx [%s]", name, (unsigned long long)(off + (at != addr)),
			 base_name(usyms_module(u, at)));
	else if (mod)
		snprintf(buf, len, "0x%llx [%s]", (unsigned long long)addr,
			 base_name(usyms_module(u, at)));
	else
		snprintf(buf, len, "0x%llx", (unsigned long long)addr);
	return buf;
}
