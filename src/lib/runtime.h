/* SPDX-License-Identifier: GPL-2.0 */
/* Run-time environment: signals, privileges, kernel prerequisites, the report loop. */
#ifndef MEMSCOPE_RUNTIME_H
#define MEMSCOPE_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "msg.h"

enum ms_stop_reason { MS_RUNNING, MS_STOP_SIGNAL, MS_STOP_PIPE, MS_STOP_DONE };

void ms_runtime_init(bool verbose);
bool ms_verbose(void); /* -v: show the libbpf and verifier logs */
void ms_request_stop(enum ms_stop_reason why);
enum ms_stop_reason ms_stop_reason(void);
static inline bool ms_stopping(void)
{
	return ms_stop_reason() != MS_RUNNING;
}


/* Is this capability (CAP_* of linux/capability.h) effective? */
bool ms_has_cap(int cap);
struct bpf_object_open_opts;
/* Options for opening every BPF object (NULL: libbpf's defaults). */
const struct bpf_object_open_opts *ms_bpf_open_opts(void);
/* Exit 1 with a clear line unless we may load BPF programs and the kernel has BTF. */
void ms_require_bpf(void);
/* Mount tracefs when it is missing; returns its path or NULL (errno set). */
const char *ms_tracefs(void);
/* Like ms_tracefs, but exit 1 with the fix when it cannot be had. */
const char *ms_require_tracefs(void);

/* The page size (the kernel's counters and records are in pages). */
unsigned long ms_page_size(void);
uint64_t ms_now_ns(void); /* CLOCK_MONOTONIC */
double ms_wall_now(void); /* CLOCK_REALTIME, seconds since the epoch */
/* The clock of bpf_ktime_get_boot_ns: CLOCK_BOOTTIME, a time namespace's offset undone */
uint64_t ms_boot_ns(void);
/*
 * While sleeping, call fn(timeout_ms, ctx) instead of nanosleep, e.g. to poll a
 * ring buffer between reports. NULL restores plain sleeping.
 */
void ms_set_idle(void (*fn)(int timeout_ms, void *ctx), void *ctx);
/* Sleep up to ns; returns early when a stop was requested. */
void ms_sleep_ns(uint64_t ns);

/*
 * Every hook is attached and the watch begins: tell a supervisor that waits for it
 * ($NOTIFY_SOCKET, systemd's Type=notify). Once per process; nothing without it.
 */
void ms_ready(void);

/* The report loop: -i / -c / -d (ticker_init calls ms_ready). */
struct ms_ticker {
	uint64_t interval_ns, deadline_ns, next_ns;
	long count, done;
};
void ticker_init(struct ms_ticker *t, double interval, long count, double duration);
/* Wait for the next report; false when the run is over. */
bool ticker_wait(struct ms_ticker *t);



/*
 * For collectors, which return errors instead of exiting: the message into err and
 * -e (a positive errno, or -EIO for 0) returned; ms_bpf_err says it as ms_bpf_fail does.
 */
int ms_err(char *err, size_t len, int e, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int ms_bpf_err(char *err, size_t len, int e, const char *what);
/* A BPF object failed to load or attach: exit 1 with the fix (-v shows the log). */
void ms_bpf_fail(const char *what, int err) __attribute__((noreturn));
struct bpf_loader_ctx;
/* -v: a buffer for the kernel's log of a light skeleton's load (free it); else NULL. */
char *ms_lite_log(struct bpf_loader_ctx *ctx);
/* A light skeleton failed: print its log if any, then as ms_bpf_fail. */
void ms_lite_fail(const char *what, int err, char *log) __attribute__((noreturn));
/*
 * Wall-clock seconds of a bpf_ktime_get_boot_ns() timestamp, with the two clocks'
 * offset as it is now: after an NTP step an event is placed by the stepped wall clock,
 * as the samples written beside it are.
 */
double ms_boot_ns_to_real(uint64_t boot_ns);

/*
 * Deliver a BPF ring buffer's records to cb until a stop (signal, closed pipe,
 * ms_request_stop from cb) or duration seconds (0: no limit). Exits 1 on error.
 */
void ms_ringbuf_run(int map_fd, int (*cb)(void *ctx, void *data, size_t len), void *ctx,
		    double duration);

/*
 * After a run: deliver records still arriving until caught_up(ctx) says all that the
 * kernel counted was delivered, or timeout_ms passed (a record reserved just before the
 * end is submitted a moment later).
 */
void ms_ringbuf_drain(int map_fd, int (*cb)(void *ctx, void *data, size_t len), void *ctx,
		      bool (*caught_up)(void *ctx), int timeout_ms);

#endif
