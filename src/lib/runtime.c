// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <linux/capability.h>
#include <bpf/libbpf.h>
#include <bpf/skel_internal.h>
#include "msg.h"
#include "runtime.h"

static volatile sig_atomic_t stop_reason;
static bool verbose_log;

static void on_signal(int sig)
{
	(void)sig;
	stop_reason = MS_STOP_SIGNAL;
}

void ms_request_stop(enum ms_stop_reason why)
{
	if (!stop_reason)
		stop_reason = why;
}

enum ms_stop_reason ms_stop_reason(void)
{
	return stop_reason;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	if (!verbose_log)
		return 0; /* failures are reported by our own one-line errors */
	return vfprintf(stderr, fmt, ap);
}

bool ms_verbose(void)
{
	return verbose_log;
}

void ms_runtime_init(bool verbose)
{
	/*
	 * SA_RESTART: a write blocked on a full pipe when Ctrl-C comes goes on, instead of
	 * failing with EINTR and losing the report being printed. The waits a stop must
	 * end (nanosleep, poll, epoll_wait) are never restarted, whatever the flag
	 * (signal(7)).
	 */
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };

	verbose_log = verbose;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN); /* seen as EPIPE on write instead */
	libbpf_set_print(libbpf_print);
}

/* The effective capabilities, from /proc/self/status (all when it cannot be read as root). */
static unsigned long long cap_eff(void)
{
	unsigned long long eff = 0;
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return geteuid() == 0 ? ~0ULL : 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			break;
	fclose(f);
	return eff;
}

bool ms_has_cap(int cap)
{
	return cap_eff() & (1ULL << cap);
}

void ms_require_bpf(void)
{
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	bool bpf = ms_has_cap(CAP_BPF), perfmon = ms_has_cap(CAP_PERFMON);

	/* CAP_SYS_ADMIN alone allows it too (kernels before 5.8 know no CAP_BPF) */
	if (!ms_has_cap(CAP_SYS_ADMIN) && !(bpf && perfmon))
		ms_fatal("needs root, or CAP_BPF and CAP_PERFMON, to load BPF programs "
			 "(missing: %s%s%s): run it with sudo", bpf ? "" : "CAP_BPF",
			 !bpf && !perfmon ? ", " : "", perfmon ? "" : "CAP_PERFMON");
	if (access("/sys/kernel/btf/vmlinux", R_OK))
		ms_fatal("this kernel has no BTF (/sys/kernel/btf/vmlinux is missing): "
			 "use a kernel built with CONFIG_DEBUG_INFO_BTF=y");
	/* Kernels before 5.11 charge BPF memory to RLIMIT_MEMLOCK. */
	setrlimit(RLIMIT_MEMLOCK, &rl);
}

const struct bpf_object_open_opts *ms_bpf_open_opts(void)
{
	/*
	 * A CO-RE type absent from vmlinux (an old layout's flavor) makes libbpf search
	 * kernel modules' BTF too, and iterating BTF objects needs CAP_SYS_ADMIN. Without
	 * it, name vmlinux's BTF as the only source: memscope needs no module types.
	 */
	static struct bpf_object_open_opts vmlinux_only = {
		.sz = sizeof(vmlinux_only),
		.btf_custom_path = "/sys/kernel/btf/vmlinux",
	};

	return ms_has_cap(CAP_SYS_ADMIN) ? NULL : &vmlinux_only;
}

const char *ms_tracefs(void)
{
	static const char *const paths[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	struct stat st;

	for (int i = 0; i < 2; i++) {
		char ev[64];

		snprintf(ev, sizeof(ev), "%s/events", paths[i]);
		if (!stat(ev, &st))
			return paths[i];
	}
	/* Not mounted (as on a fresh boot here): mount it ourselves. */
	if (!mount("nodev", paths[0], "tracefs", 0, NULL))
		return paths[0];
	return NULL;
}

const char *ms_require_tracefs(void)
{
	const char *p = ms_tracefs();

	if (!p)
		ms_fatal("tracefs is not mounted and could not be mounted (%s): "
			 "run 'mount -t tracefs nodev /sys/kernel/tracing' as root",
			 strerror(errno));
	return p;
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

uint64_t ms_now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

unsigned long ms_page_size(void)
{
	static unsigned long page;

	if (!page)
		page = sysconf(_SC_PAGESIZE);
	return page;
}

double ms_wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Is /proc/self/ns/<a> the same namespace as /proc/self/ns/<b>? */
static bool same_ns(const char *a, const char *b)
{
	struct stat x, y;
	char p[64], q[64];

	snprintf(p, sizeof(p), "/proc/self/ns/%s", a);
	snprintf(q, sizeof(q), "/proc/self/ns/%s", b);
	return !stat(p, &x) && !stat(q, &y) && x.st_ino == y.st_ino && x.st_dev == y.st_dev;
}

/*
 * A process in a time namespace (a container, a restored CRIU image) reads
 * CLOCK_BOOTTIME moved by the namespace's offset; BPF's bpf_ktime_get_boot_ns() is not
 * moved. /proc/self/timens_offsets (time_namespaces(7): Linux 5.6; the first kernels
 * named the clock by its number, 7) gives the offsets of the namespace the process's
 * children get: they are its own only when that is the namespace it is in. "unshare
 * --time CMD" moves CMD in at its exec on 6.18 (the kernel commit "fs/exec: switch
 * timens when a task gets a new mm"); on Debian's 6.1 CMD stays outside, with the new
 * namespace's offsets in that file (seen in make test-vm). Neither changes while
 * memscope runs.
 */
static int64_t timens_boot_offset_ns(void)
{
	static int64_t off;
	static bool read_once;
	long long sec, nsec;
	char line[128], clk[16];
	FILE *f;

	if (read_once)
		return off;
	read_once = true;
	if (!same_ns("time", "time_for_children") ||
	    !(f = fopen("/proc/self/timens_offsets", "re")))
		return off; /* 0: outside time namespaces; inside one, not told its own */
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%15s %lld %lld", clk, &sec, &nsec) == 3 &&
		    (!strcmp(clk, "boottime") || !strcmp(clk, "7")))
			off = sec * 1000000000LL + nsec;
	fclose(f);
	return off;
}

uint64_t ms_boot_ns(void)
{
	return clock_ns(CLOCK_BOOTTIME) - timens_boot_offset_ns();
}

static void (*idle_fn)(int timeout_ms, void *ctx);
static void *idle_ctx;

void ms_set_idle(void (*fn)(int timeout_ms, void *ctx), void *ctx)
{
	idle_fn = fn;
	idle_ctx = ctx;
}

void ms_sleep_ns(uint64_t ns)
{
	uint64_t end = ms_now_ns() + ns;

	/* Sleep in slices so a signal or closed pipe is noticed within 100 ms. */
	while (!ms_stopping()) {
		uint64_t now = ms_now_ns(), left;
		struct timespec ts;

		if (now >= end)
			break;
		left = end - now;
		if (left > 100000000ULL)
			left = 100000000ULL;
		if (idle_fn) {
			idle_fn((int)((left + 999999) / 1000000), idle_ctx);
			continue;
		}
		ts.tv_sec = left / 1000000000ULL;
		ts.tv_nsec = left % 1000000000ULL;
		nanosleep(&ts, NULL);
	}
}

/*
 * systemd's readiness protocol (sd_notify(3)): one datagram to $NOTIFY_SOCKET, a path
 * or, with a leading '@', an abstract name. Done by hand: one sendto is not worth
 * linking libsystemd, and the variable is absent everywhere else. Never blocking:
 * a supervisor that does not read must not stop memscope.
 */
void ms_ready(void)
{
	static bool sent;
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = path ? strlen(path) : 0;
	char msg[64];
	int fd, n;

	if (sent || len < 2 || len >= sizeof(sa.sun_path))
		return;
	sent = true;
	memcpy(sa.sun_path, path, len);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	n = snprintf(msg, sizeof(msg), "READY=1\nMAINPID=%d\n", (int)getpid());
	if (sendto(fd, msg, n, MSG_NOSIGNAL | MSG_DONTWAIT, (struct sockaddr *)&sa,
		   offsetof(struct sockaddr_un, sun_path) + len) < 0)
		ms_warn("cannot tell NOTIFY_SOCKET %s that memscope is ready: %s", path,
			strerror(errno));
	close(fd);
}

void ticker_init(struct ms_ticker *t, double interval, long count, double duration)
{
	uint64_t now = ms_now_ns();

	t->interval_ns = (interval > 0 ? interval : 1.0) * 1e9;
	t->deadline_ns = duration > 0 ? now + (uint64_t)(duration * 1e9) : 0;
	t->next_ns = now + t->interval_ns;
	t->count = count;
	t->done = 0;
	ms_ready();
}

bool ticker_wait(struct ms_ticker *t)
{
	uint64_t now = ms_now_ns(), until = t->next_ns;
	bool last = false;

	if (ms_stopping() || (t->count && t->done >= t->count))
		return false;
	if (t->deadline_ns && until >= t->deadline_ns) {
		/* The last report comes at the deadline, with a shorter interval. */
		until = t->deadline_ns;
		last = true;
	}
	if (until > now)
		ms_sleep_ns(until - now);
	if (ms_stop_reason() == MS_STOP_PIPE)
		return false;
	t->done++;
	t->next_ns += t->interval_ns;
	if (last)
		t->count = t->done; /* no report after this one */
	return true;
}

int ms_err(char *err, size_t len, int e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	if (e < 0)
		e = -e;
	return e ? -e : -EIO;
}

int ms_bpf_err(char *err, size_t len, int e, const char *what)
{
	if (e < 0)
		e = -e;
	return ms_err(err, len, e, "%s failed: %s%s", what, strerror(e), verbose_log ? "" :
		      " (run with -v to see the libbpf and verifier log)");
}

void ms_bpf_fail(const char *what, int err)
{
	if (err < 0)
		err = -err;
	ms_fatal("%s failed: %s%s", what, strerror(err),
		 verbose_log ? "" : " (run with -v to see the libbpf and verifier log)");
}

/*
 * Heap, not a static array: static buffers grew the BSS past 2 MiB, and with THP
 * "always" touching any BSS variable then faulted in a huge page of our own, which
 * sys's node AnonHugePages counted (6.1 guest).
 */
char *ms_lite_log(struct bpf_loader_ctx *ctx)
{
	const size_t size = 1 << 20;
	char *log;

	if (!verbose_log || !(log = calloc(1, size)))
		return NULL;
	ctx->log_level = 1;
	ctx->log_size = size;
	ctx->log_buf = (__u64)(unsigned long)log;
	return log;
}

void ms_lite_fail(const char *what, int err, char *log)
{
	if (log && log[0])
		fprintf(stderr, "%s", log);
	free(log);
	ms_bpf_fail(what, err);
}

/*
 * The wall clock minus the boot clock is read at each call, not learnt once: NTP steps
 * and slews the wall clock while the boot clock runs on, and an offset kept for days
 * (the recorder) put every later event away from the samples written beside it. The
 * boot clock is read on both sides of the wall clock: the pair is one instant to within
 * the calls' own time (three vDSO reads, well under a microsecond).
 */
double ms_boot_ns_to_real(uint64_t boot_ns)
{
	uint64_t before = ms_boot_ns(), after;
	struct timespec rt;
	int64_t offset;

	clock_gettime(CLOCK_REALTIME, &rt);
	after = ms_boot_ns();
	offset = (int64_t)(rt.tv_sec * 1000000000ULL + rt.tv_nsec) -
		 (int64_t)(before + (after - before) / 2);
	return ((int64_t)boot_ns + offset) / 1e9;
}

void ms_ringbuf_run(int map_fd, int (*cb)(void *ctx, void *data, size_t len), void *ctx,
		    double duration)
{
	uint64_t deadline = duration > 0 ? ms_now_ns() + (uint64_t)(duration * 1e9) : 0;
	struct ring_buffer *rb = ring_buffer__new(map_fd, cb, ctx, NULL);
	int err;

	if (!rb)
		ms_bpf_fail("creating the event ring buffer", errno);
	ms_ready();
	while (!ms_stopping() && (!deadline || ms_now_ns() < deadline)) {
		err = ring_buffer__poll(rb, 100);
		if (err < 0 && err != -EINTR)
			ms_bpf_fail("reading events", err);
	}
	if (ms_stop_reason() != MS_STOP_PIPE)
		ring_buffer__consume(rb);
	ring_buffer__free(rb);
}

void ms_ringbuf_drain(int map_fd, int (*cb)(void *ctx, void *data, size_t len), void *ctx,
		      bool (*caught_up)(void *ctx), int timeout_ms)
{
	uint64_t end = ms_now_ns() + timeout_ms * 1000000ULL;
	struct ring_buffer *rb;

	if (ms_stop_reason() == MS_STOP_PIPE || caught_up(ctx))
		return;
	rb = ring_buffer__new(map_fd, cb, ctx, NULL);
	if (!rb)
		return;
	while (!caught_up(ctx) && ms_now_ns() < end)
		ring_buffer__poll(rb, 20);
	ring_buffer__free(rb);
}
