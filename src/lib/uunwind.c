// SPDX-License-Identifier: GPL-2.0
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <elfutils/libdwfl.h>
#include "usyms.h"
#include "uunwind.h"

struct uunwind {
	Dwfl *dwfl;
	int pid;
	/* the stack being unwound */
	uint64_t ip, sp, bp;
	const unsigned char *stack;
	size_t len;
};

/* One thread, whose registers and memory are the copy's. */
static pid_t next_thread(Dwfl *dwfl, void *arg, void **thread_argp)
{
	struct uunwind *u = arg;

	(void)dwfl;
	if (*thread_argp)
		return 0;
	*thread_argp = u;
	return u->pid;
}

static bool memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
	struct uunwind *u = arg;

	(void)dwfl;
	if (addr < u->sp || addr + sizeof(*result) > u->sp + u->len)
		return false;
	memcpy(result, u->stack + (addr - u->sp), sizeof(*result));
	return true;
}

static bool set_initial_registers(Dwfl_Thread *thread, void *arg)
{
	struct uunwind *u = arg;
	/* x86-64 DWARF register numbers: 6 is rbp, 7 is rsp */
	Dwarf_Word regs[2] = { u->bp, u->sp };

	dwfl_thread_state_register_pc(thread, u->ip);
	return dwfl_thread_state_registers(thread, 6, 2, regs);
}

static const Dwfl_Thread_Callbacks thread_callbacks = {
	.next_thread = next_thread,
	.memory_read = memory_read,
	.set_initial_registers = set_initial_registers,
};

struct uunwind *uunwind_open(int pid)
{
	struct uunwind *u = calloc(1, sizeof(*u));

	if (!u || !(u->dwfl = usyms_dwfl_open(pid))) {
		free(u);
		return NULL;
	}
	u->pid = pid;
	if (!dwfl_attach_state(u->dwfl, NULL, pid, &thread_callbacks, u)) {
		uunwind_close(u);
		return NULL;
	}
	return u;
}

void uunwind_close(struct uunwind *u)
{
	if (!u)
		return;
	dwfl_end(u->dwfl);
	free(u);
}

struct frames {
	uint64_t *pcs;
	int n, max;
};

static int on_frame(Dwfl_Frame *state, void *arg)
{
	struct frames *f = arg;
	Dwarf_Addr pc;

	if (!dwfl_frame_pc(state, &pc, NULL) || !pc)
		return DWARF_CB_ABORT;
	f->pcs[f->n++] = pc;
	return f->n < f->max ? DWARF_CB_OK : DWARF_CB_ABORT;
}

int uunwind_stack(struct uunwind *u, uint64_t ip, uint64_t sp, uint64_t bp, const void *stack,
		  size_t len, uint64_t *pcs, int max)
{
	struct frames f = { pcs, 0, max };

	u->ip = ip;
	u->sp = sp;
	u->bp = bp;
	u->stack = stack;
	u->len = len;
	/* it ends with an error where the call frame information or the copy ends */
	dwfl_getthread_frames(u->dwfl, u->pid, on_frame, &f);
	return f.n;
}
