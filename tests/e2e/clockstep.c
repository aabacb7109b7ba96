// SPDX-License-Identifier: GPL-2.0
/*
 * libclockstep.so, preloaded into one process (LD_PRELOAD): steps its wall clock as
 * NTP steps the system's. Each SIGUSR1 moves what clock_gettime() gives for
 * CLOCK_REALTIME by CLOCKSTEP_SECONDS (default -3600); the monotonic and boot clocks,
 * and the kernel's own timestamps (BPF's), stay where they are. The machine's clock,
 * which other processes share, is never touched.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>

static volatile sig_atomic_t steps;
static long step_s = -3600;
static int (*real_clock_gettime)(clockid_t id, struct timespec *ts);

static void on_usr1(int sig)
{
	(void)sig;
	steps++;
}

__attribute__((constructor)) static void clockstep_init(void)
{
	struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_RESTART };
	const char *v = getenv("CLOCKSTEP_SECONDS");

	if (v)
		step_s = atol(v);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
}

int clock_gettime(clockid_t id, struct timespec *ts)
{
	int rc;

	/* other libraries' constructors may ask the time before ours has run */
	if (!real_clock_gettime)
		real_clock_gettime = dlsym(RTLD_NEXT, "clock_gettime");
	rc = real_clock_gettime(id, ts);

	if (!rc && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE))
		ts->tv_sec += steps * step_s;
	return rc;
}
