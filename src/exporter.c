// SPDX-License-Identifier: GPL-2.0
/* memscope exporter: the memory subsystem as Prometheus metrics, always on. */
#include <arpa/inet.h>
#include <malloc.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <microhttpd.h>
#include "cgroups.h"
#include "cachefiles.h"
#include "commands.h"
#include "failures.h"
#include "filters.h"
#include "kbtf.h"
#include "kills.h"
#include "memcgs.h"
#include "meminfo.h"
#include "memparts.h"
#include "metrics.h"
#include "nodes.h"
#include "output.h"
#include "pressure.h"
#include "procs.h"
#include "runtime.h"
#include "slabs.h"
#include "util.h"
#include "verdict.h"
#include "vmscan.h"
#include "websec.h"

/*
 * Prometheus' list of default ports (github.com/prometheus/prometheus/wiki/
 * Default-port-allocations) filled 9100-9999; newer exporters take ports past it.
 */
#define EXPORTER_DEFAULT_PORT 39177
#define MAX_CONNECTIONS 32
#define CLIENT_CONNECTIONS 8 /* per client address */
#define SPARE_CONNECTIONS 4  /* kept for a scrape while other clients wait (see slots) */
#define REQUEST_MEMORY 16384 /* bytes per connection: a larger request is refused */
#define REQUEST_TIMEOUT_S 10 /* idle or not: a request arrives and is answered within it */
/* a memory cgroup OOM-killed this recently is served ahead of the largest (--memcgs) */
#define KILLED_RECENTLY_NS (15 * 60 * 1000000000ULL)

static struct {
	struct sockaddr_storage addr;
	socklen_t addr_len;
	char listen[128];
	long processes, memcgs, slabs, files;
	struct ms_cgroup_filter cgroup;
	const char *web_config;	 /* --web-config FILE */
	struct web_config *web0; /* as read at start */
} cfg = { .memcgs = 10, .slabs = 10 };

enum { OPT_LISTEN, OPT_PROCESSES, OPT_MEMCGS, OPT_CGROUP, OPT_SLABS, OPT_FILES,
       OPT_WEB_CONFIG };

static const struct ms_cmd_opt exporter_opts[] = {
	{ "listen", 'l', required_argument, "ADDR:PORT",
	  "where to serve (default 127.0.0.1:39177); [::1]:PORT for IPv6; :PORT for every "
	  "interface", OPT_LISTEN },
	{ "processes", 0, required_argument, "N",
	  "also the N largest processes by RSS, labelled pid and comm (default 0: none)",
	  OPT_PROCESSES },
	{ "memcgs", 0, required_argument, "N",
	  "per memory cgroup families for the N largest by usage, each scrape (default 10; "
	  "0: none); one OOM-killed in the last 15 minutes comes first", OPT_MEMCGS },
	{ "cgroup", 0, required_argument, "PATH",
	  "--memcgs chooses among this memory cgroup and those below it", OPT_CGROUP },
	{ "slabs", 0, required_argument, "N",
	  "the N largest slab caches, labelled name (default 10; 0: none)", OPT_SLABS },
	{ "files", 0, required_argument, "N",
	  "the N files processes hold with most page cache, labelled path and dev (default "
	  "0: none; each scrape walks every process's files)", OPT_FILES },
	{ "web-config", 0, required_argument, "FILE",
	  "TLS and basic auth as FILE says (Prometheus exporters' --web.config.file); "
	  "SIGHUP reads it again", OPT_WEB_CONFIG },
	{ NULL, 0, 0, NULL, NULL, 0 },
};

/* "ADDR:PORT", "[ADDR6]:PORT"; bad input exits 2. */
static void parse_listen(const char *arg)
{
	char host[64];
	const char *colon = strrchr(arg, ':');
	size_t hl = colon ? (size_t)(colon - arg) : 0;
	long port;

	if (!colon || hl >= sizeof(host) || strlen(arg) >= sizeof(cfg.listen))
		ms_usage_error("--listen: give ADDR:PORT, e.g. 127.0.0.1:%d or [::1]:%d",
			       EXPORTER_DEFAULT_PORT, EXPORTER_DEFAULT_PORT);
	port = ms_parse_long("--listen port", colon + 1, 1, 65535);
	memcpy(host, arg, hl);
	host[hl] = 0;
	if (!hl) /* ":PORT", as Go exporters take it: every IPv4 interface */
		strcpy(host, "0.0.0.0");
	else if (!strcmp(host, "localhost"))
		strcpy(host, "127.0.0.1");
	memset(&cfg.addr, 0, sizeof(cfg.addr));
	if (hl > 1 && host[0] == '[' && host[hl - 1] == ']') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&cfg.addr;

		host[hl - 1] = 0;
		if (inet_pton(AF_INET6, host + 1, &a->sin6_addr) != 1)
			ms_usage_error("--listen: '%s' is no IPv6 address", host + 1);
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		cfg.addr_len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&cfg.addr;

		if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
			ms_usage_error("--listen: '%s' is no IPv4 address (IPv6: [ADDR]:PORT)",
				       host);
		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		cfg.addr_len = sizeof(*a);
	}
	snprintf(cfg.listen, sizeof(cfg.listen), "%s", arg);
}

static void exporter_parse_opt(int id, const char *arg)
{
	if (id == OPT_LISTEN)
		parse_listen(arg);
	else if (id == OPT_PROCESSES)
		cfg.processes = ms_parse_long("--processes", arg, 0, 100000);
	else if (id == OPT_SLABS)
		cfg.slabs = ms_parse_long("--slabs", arg, 0, 10000);
	else if (id == OPT_FILES)
		cfg.files = ms_parse_long("--files", arg, 0, 10000);
	else if (id == OPT_WEB_CONFIG)
		cfg.web_config = arg;
	else if (id == OPT_MEMCGS)
		cfg.memcgs = ms_parse_long("--memcgs", arg, 0, 10000);
	else
		ms_cgroup_filter_parse(arg, &cfg.cgroup);
}

/* The web configuration, read before anything is loaded: a bad file exits 2. */
static void read_web_config(void)
{
	char err[512];

	if (!cfg.web_config)
		return;
	cfg.web0 = web_config_load(cfg.web_config, err, sizeof(err));
	if (!cfg.web0)
		ms_usage_error("--web-config %s: %s", cfg.web_config, err);
	if (web_config_tls(cfg.web0) && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
		ms_fatal("exporter: this libmicrohttpd was built without HTTPS; install one with "
			 "it (Debian's libmicrohttpd12 has it)");
}

static void exporter_check(const struct ms_opts *o)
{
	(void)o;
	if (cfg.cgroup.id && !cfg.memcgs)
		ms_usage_error("--cgroup chooses the memory cgroups --memcgs serves: not with "
			       "--memcgs 0");
	if (!cfg.addr_len) {
		char def[32];

		snprintf(def, sizeof(def), "127.0.0.1:%d", EXPORTER_DEFAULT_PORT);
		parse_listen(def);
	}
	read_web_config();
}

static bool is_loopback(void)
{
	if (cfg.addr.ss_family == AF_INET)
		return (ntohl(((struct sockaddr_in *)&cfg.addr)->sin_addr.s_addr) >> 24) == 127;
	return IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)&cfg.addr)->sin6_addr);
}

/* The listening socket, made here so that a port in use is said plainly. */
static int listen_socket(void)
{
	int one = 1, fd = socket(cfg.addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		ms_fatal("exporter: cannot create a socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (cfg.addr.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&cfg.addr, cfg.addr_len) < 0) {
		int e = errno;

		ms_fatal("exporter: cannot listen on %s: %s%s", cfg.listen, strerror(e),
			 e == EADDRINUSE ? " (another program has the port; pick another with "
			 "--listen)" : e == EADDRNOTAVAIL ? " (no interface has that address)" : "");
	}
	if (listen(fd, 64) < 0)
		ms_fatal("exporter: cannot listen on %s: %s", cfg.listen, strerror(errno));
	return fd;
}

/*
 * Give back what opening took: the kernel's BTF (several MiB parsed). The decoders copied
 * the names they need, so no event parses it again (events come when memory is short).
 */
static void shrink(void)
{
	kbtf_release();
	malloc_trim(0);
}

/* ---- what the events counted (the ring buffers are read under the lock) ---- */

struct failure_count {
	uint32_t order;
	char zone[SYS_ZONE_NAME], reason[24];
	bool allowed; /* __GFP_NOWARN: the caller handles the failure */
	uint64_t n;
};

/* Kills by constraint: every constraint from the start, so a first kill is an increase. */
static const char *const constraints[] = { "memcg", "global", "cpuset", "memory_policy",
					   "unknown" };

/* Series of one label (and failures' failure_allowed) counted by their values; those
 * added at the start exist from 0. */
struct count {
	char *labels; /* the series */
	uint64_t n;
};

struct counts {
	const char *label;
	struct count *c;
	int n;
};

/* What the events say of one memory cgroup: its kills, and when the last one was. */
struct memcg_kill {
	uint64_t id, n, last_ns;
};

static struct {
	pthread_mutex_t lock;
	struct ring_buffer *rb;
	struct paf_decoder dec;
	struct paf_row *row; /* scratch for one failure */
	struct failure_count *fail;
	int nfail;
	/* kills; failures by the verdict's class alone and whether the caller allowed them */
	struct counts by_constraint, by_reason;
	struct memcg_kill *mkill;
	int nmkill;
	struct kill_controls controls; /* oom_kill_process's oom_control, for the next kill */
	const char *control_hook;
	struct oom_victim_row last_victim;
	char *victim_info; /* the info family's labels: comm, cgroup, constraint */
	double last_kill_time;
	bool has_victim;
	uint64_t scrapes, requests_refused;
	struct nodes *nodes;
	struct reclaim *reclaim;
	struct failures *failures;
	struct kills *kills;
	struct procs *procs;
	/* --memcgs: this scrape's and the previous one's cgroups, what BPF attributed */
	struct memcg_counters *counters; /* NULL: the cgroups' files */
	struct memcg_list cur, prev;
	struct memcg_attribution attr;
	struct memcg_ids all, missing; /* every memcg walked; those gone at the last scrape */
	struct slabs *slabs;	     /* NULL: --slabs 0, or it could not be had (said once) */
	struct cachefiles *files;    /* the same for --files */
} ex = { .lock = PTHREAD_MUTEX_INITIALIZER, .by_constraint = { "constraint" },
	  .by_reason = { "reason" } };

static void *grow(void *p, int n, size_t size)
{
	/* arrays grow by 16 entries; a closed set of labels keeps them small */
	if (n % 16 == 0 && !(p = realloc(p, (n + 16) * size)))
		ms_fatal("out of memory");
	return p;
}

static const char *allowed_text(bool allowed)
{
	return allowed ? "true" : "false";
}

/* The series of these labels (taken); one not seeded (a newer kernel's) from its first
 * event. */
static struct count *count_of_labels(struct counts *t, char *labels)
{
	int i;

	for (i = 0; i < t->n && strcmp(t->c[i].labels, labels); i++)
		;
	if (i < t->n) {
		free(labels);
	} else {
		t->c = grow(t->c, t->n++, sizeof(*t->c));
		t->c[i] = (struct count){ .labels = labels };
	}
	return &t->c[i];
}

static struct count *count_of(struct counts *t, const char *value)
{
	return count_of_labels(t, metrics_labels(t->label, value, NULL));
}

static struct count *reason_count_of(const char *reason, bool allowed)
{
	return count_of_labels(&ex.by_reason, metrics_labels("reason", reason, "failure_allowed",
							     allowed_text(allowed), NULL));
}

static void counts_free(struct counts *t)
{
	for (int i = 0; i < t->n; i++)
		free(t->c[i].labels);
	free(t->c);
}

static int on_failure(void *ctx, void *data, size_t len)
{
	const struct paf_event *e = data;
	const char *zone;
	int i;

	(void)ctx;
	if (len < sizeof(*e))
		return 0;
	paf_row_of(&ex.dec, e, ex.row);
	zone = record_is_null(&paf_desc, ex.row, "highest_zone") ? "unknown" : ex.row->highest_zone;
	for (i = 0; i < ex.nfail; i++)
		if (ex.fail[i].order == e->order && !strcmp(ex.fail[i].zone, zone) &&
		    !strcmp(ex.fail[i].reason, ex.row->verdict_kind) &&
		    ex.fail[i].allowed == ex.row->failure_allowed)
			break;
	if (i == ex.nfail) {
		ex.fail = grow(ex.fail, ex.nfail++, sizeof(*ex.fail));
		memset(&ex.fail[i], 0, sizeof(ex.fail[i]));
		ex.fail[i].order = e->order;
		snprintf(ex.fail[i].zone, sizeof(ex.fail[i].zone), "%s", zone);
		snprintf(ex.fail[i].reason, sizeof(ex.fail[i].reason), "%s", ex.row->verdict_kind);
		ex.fail[i].allowed = ex.row->failure_allowed;
	}
	ex.fail[i].n++;
	reason_count_of(ex.row->verdict_kind, ex.row->failure_allowed)->n++;
	return 0;
}

static void count_memcg_kill(uint64_t id, uint64_t ts_ns)
{
	int i;

	for (i = 0; i < ex.nmkill && ex.mkill[i].id != id; i++)
		;
	if (i == ex.nmkill) {
		ex.mkill = grow(ex.mkill, ex.nmkill++, sizeof(*ex.mkill));
		ex.mkill[i] = (struct memcg_kill){ .id = id };
	}
	ex.mkill[i].n++;
	ex.mkill[i].last_ns = ts_ns;
}

static void count_kill(const struct oom_event *e, const struct oom_event *control)
{
	const char *constraint;
	struct kill_verdict v;
	char comm[MS_COMM_LEN + 1];
	uint64_t id;
	bool named;

	kill_explain(e, control, ex.control_hook, &v);
	constraint = v.constraint ? v.constraint : "unknown";
	count_of(&ex.by_constraint, constraint)->n++;
	named = kill_victim_memcg_id(e, &id);
	if (named)
		count_memcg_kill(id, e->ts_ns);
	oom_victim_row_of(e, &ex.last_victim);
	snprintf(comm, sizeof(comm), "%.*s", MS_COMM_LEN, ex.last_victim.comm);
	free(ex.victim_info);
	/* the trigger's cgroup is not the victim's to name */
	ex.victim_info = metrics_labels("comm", comm, "cgroup", named ? v.path : NULL,
					"constraint", constraint, NULL);
	ex.last_kill_time = ms_boot_ns_to_real(e->ts_ns);
	ex.has_victim = true;
}

static int on_oom(void *ctx, void *data, size_t len)
{
	const struct oom_event *e = data, *control;

	(void)ctx;
	if (len >= sizeof(*e) && kill_controls_take(&ex.controls, e, &control))
		count_kill(e, control);
	return 0;
}

/* ---- the families: named once, for the scrape and the documentation ---- */

static const char *const node_labels[] = { "node", NULL };
static const char *const zone_labels[] = { "node", "zone", NULL };
static const char *const reclaim_labels[] = { "node", "reclaimer", NULL };
static const char *const proc_labels[] = { "pid", "comm", NULL };
/* the memory cgroup families' labels, made here (the path is "cgroup", as cAdvisor's id) */
static const char memcg_labels[] = "cgroup; where known: container, pod_uid, qos_class";
static const char *const slab_labels[] = { "name", NULL };
static const char *const file_labels[] = { "path", "dev", NULL };
/* live-only or per-interval fields: no metric of a scrape */
static const char *const slab_omit[] = { "allocs_per_s", "frees_per_s", "growth_objects",
					 "object_size_bytes", NULL };
static const char *const file_omit[] = { "added_bytes", "deleted_bytes", "nr_holders", NULL };

/* Families made from a record's description: prefix + field key (metrics.h). */
struct record_view {
	const char *title;
	struct metrics_view v;
	const char *labels; /* documented: the labels the exporter adds (or NULL) */
};

/* system-wide facts, null for a node: no node family */
static const char *const total_only[] = { "available_bytes", "used_bytes", "unmanaged_bytes",
					  "zones_present_unmanaged_bytes", NULL };
/* what a scrape has no value for (live, per interval), or serves otherwise (the histogram) */
static const char *const memcg_omit[] = { "limit_used_percent", "psi_some_avg10_percent",
					  "psi_full_avg10_percent", "stalls", "stall_total_ns",
					  "stall_p99_at_most_ns", "nr_processes", NULL };

/* HELP where the record's text says "in the interval" or means two things */
static const char *const system_help[] = {
	"total_bytes", "usable memory: MemTotal (RAM less what the kernel reserved at boot)",
	NULL };
static const char *const node_help[] = {
	"total_bytes", "memory the node's zones manage (the sum of their managed pages)",
	"free_bytes", "free pages in the node's zones", NULL };
static const char *const kswapd_help[] = {
	"wakeups", "times kswapd left a full sleep (an mm_vmscan_kswapd_wake after its "
	"mm_vmscan_kswapd_sleep), since memscope started",
	"awake_ns", "time from each kswapd wake-up to its next full sleep, since memscope "
	"started; one still going counts up to the scrape",
	NULL };
static const char *const memcg_help[] = {
	"working_set_refault_bytes",
	"memscope's working set: anon + active file + the file pages refaulted since the "
	"previous scrape (at most inactive file); absent on a cgroup's first scrape, and "
	"with no refault_file_bytes_total",
	"reclaim_scanned_pages",
	"what its tasks' own (direct and memcg) reclaim scanned, attributed in BPF since "
	"memscope started",
	"reclaim_reclaimed_pages", "of those, reclaimed",
	"oom_kills",
	"OOM kills of its processes seen by memscope (BPF) since it started: 0 from the "
	"cgroup's first scrape; unknown where the kernel's events name no victim's memory "
	"cgroup (mark_victim with the pid alone, no lookup of its task)", NULL };

enum { V_SYSTEM, V_MEMINFO, V_NODE, V_ZONE, V_RECLAIM, V_KSWAPD, V_VICTIM, V_MEMCG,
       V_PROCESS, V_PARTS, V_SLAB, V_FILE, V_NR };

static const struct record_view views[V_NR] = {
	[V_SYSTEM] = { "The system (/proc/meminfo's figures, as `sys`'s total)",
		       { "memscope_system_", &node_desc, NULL, NULL, system_help } },
	[V_MEMINFO] = { "The system: swap, commit, vmalloc, per-CPU and HugeTLB (/proc/meminfo)",
			{ "memscope_system_", &meminfo_desc, NULL, NULL, NULL } },
	[V_NODE] = { "Each NUMA node (its zones' and node's counters)",
		     { "memscope_node_", &node_desc, node_labels, total_only, node_help } },
	[V_ZONE] = { "Each zone of each node", { "memscope_zone_", &zone_desc, zone_labels, NULL } },
	[V_RECLAIM] = { "Reclaim per node and reclaimer, since start",
			{ "memscope_reclaim_", &reclaim_desc, reclaim_labels, NULL } },
	[V_KSWAPD] = { "kswapd per node, since start",
		       { "memscope_reclaim_kswapd_", &reclaim_kswapd_desc, node_labels, NULL,
			 kswapd_help } },
	[V_VICTIM] = { "The last OOM kill's victim (once there was one; no labels: one series "
		       "each, replaced by the next kill)",
		       { "memscope_oom_last_victim_", &oom_victim_desc, NULL, NULL } },
	[V_MEMCG] = { "Each memory cgroup (--memcgs N: the N largest by usage, --cgroup PATH)",
		      { "memscope_memcg_", &memcg_desc, NULL, memcg_omit, memcg_help },
		      memcg_labels },
	[V_PROCESS] = { "The largest processes by RSS (--processes N)",
			{ "memscope_process_", &proc_desc, proc_labels, NULL } },
	[V_PARTS] = { "Every byte of MemTotal, in parts that sum to it (as `sys`)",
		      { "memscope_memory_", &mem_accounting_desc, NULL, NULL } },
	[V_SLAB] = { "The largest slab caches (--slabs N)",
		     { "memscope_slab_", &slab_desc, slab_labels, slab_omit } },
	[V_FILE] = { "The files processes hold with most page cache (--files N)",
		     { "memscope_cache_file_", &cache_file_desc, file_labels, file_omit } },
};

/* Families made here. */
struct family {
	const char *name, *type, *labels, *help, *equivalent;
	int in; /* documented in the table of view in - 1; 0: "Events, pressure, ..." */
};

enum { F_PSI_SOME, F_PSI_FULL, F_STALL, F_STALL_MAX, F_COMPACT, F_FAILURES, F_FAIL_REASONS,
       F_KILLS,
       F_VICTIM_INFO, F_LAST_KILL, F_MEMCG_STALL, F_LOST, F_BUILD, F_SCRAPES, F_SCRAPE_TIME,
       F_NR };

static const struct family fams[F_NR] = {
	[F_PSI_SOME] = { "memscope_pressure_memory_some_seconds_total", "counter", "",
			 "time some task stalled on memory (/proc/pressure/memory, some)",
			 "node_pressure_memory_waiting_seconds_total" },
	[F_PSI_FULL] = { "memscope_pressure_memory_full_seconds_total", "counter", "",
			 "time all non-idle tasks stalled on memory (/proc/pressure/memory, full)",
			 "node_pressure_memory_stalled_seconds_total" },
	[F_STALL] = { "memscope_reclaim_stall_seconds", "histogram", "reclaimer, le",
		      "time a task spent stalled in reclaim, per stall (direct, memcg, node, "
		      "other); buckets are the in-kernel log2 microsecond slots", NULL },
	[F_STALL_MAX] = { "memscope_reclaim_stall_max_seconds", "gauge", "reclaimer",
			  "the longest stall since memscope started", NULL },
	[F_COMPACT] = { "memscope_compaction_stalls_total", "counter", "",
			"allocations that stalled to compact memory (direct compaction)",
			"node_vmstat_compact_stall (with --collector.vmstat.fields)" },
	[F_FAILURES] = { "memscope_page_alloc_failures_total", "counter",
			 "order, zone, reason, failure_allowed",
			 "failed page allocations by order, the highest zone the request may use, "
			 "the verdict's class (low_memory, fragmentation, cma_not_usable, gave_up "
			 "or unknown) and failure_allowed: true when the caller said it handles the "
			 "failure (__GFP_NOWARN: a pool or cache growing until memory runs out, no "
			 "incident by itself); a series from its first failure", NULL },
	[F_FAIL_REASONS] = { "memscope_page_alloc_failures_by_reason_total", "counter",
			     "reason, failure_allowed",
			     "the same failures by the verdict's class and failure_allowed alone, "
			     "each pair from 0 at the start (a first failure is an increase)", NULL },
	[F_KILLS] = { "memscope_oom_kills_total", "counter", "constraint",
		      "OOM kills by constraint: memcg, global, cpuset, memory_policy or unknown, "
		      "each from 0 at the start (a first kill is an increase)",
		      "node_vmstat_oom_kill (the sum)" },
	[F_VICTIM_INFO] = { "memscope_oom_last_victim_info", "gauge", "comm, cgroup, constraint",
			    "always 1: the last OOM kill's victim (its name, memory cgroup where "
			    "known, and constraint); one series, replaced by the next kill", NULL,
			    V_VICTIM + 1 },
	[F_LAST_KILL] = { "memscope_oom_last_kill_timestamp_seconds", "gauge", "",
			  "when the last OOM kill was (Unix time)", NULL, V_VICTIM + 1 },
	[F_MEMCG_STALL] = { "memscope_memcg_reclaim_stall_seconds", "histogram",
			    "cgroup, le; where known: container, pod_uid, qos_class",
			    "reclaim stalls of the cgroup's tasks (direct and memcg reclaim), "
			    "attributed in BPF since memscope started; buckets of powers of 4 "
			    "microseconds, 16 us to 4.2 s", NULL, V_MEMCG + 1 },
	[F_LOST] = { "memscope_events_lost_total", "counter", "source",
		     "what memscope could not count: kernel events a full ring buffer lost (paf, "
		     "oom) and reclaim of memory cgroups its table had no room for "
		     "(memcg_table)", NULL },
	[F_BUILD] = { "memscope_build_info", "gauge", "version",
		      "the memscope that serves these metrics (always 1)", NULL },
	[F_SCRAPES] = { "memscope_exporter_scrapes_total", "counter", "",
			"scrapes served, this one included", NULL },
	[F_SCRAPE_TIME] = { "memscope_exporter_scrape_duration_seconds", "gauge", "",
			    "time this scrape took to gather, before rendering", NULL },
};

static void add(struct metrics *m, int f, const char *labels, double v)
{
	metrics_add(m, fams[f].name, fams[f].type, fams[f].help, labels, v);
}

static void add_u64(struct metrics *m, int f, const char *labels, uint64_t v)
{
	metrics_add_u64(m, fams[f].name, fams[f].type, fams[f].help, labels, v);
}

static void add_view(struct metrics *m, int v, const void *rec, const char *labels)
{
	metrics_record(m, &views[v].v, rec, labels);
}

/* A sample of a family with one label. */
static void add_labelled(struct metrics *m, int f, const char *label, const char *value,
			 uint64_t v)
{
	char *lab = metrics_labels(label, value, NULL);

	add_u64(m, f, lab, v);
	free(lab);
}

/* ---- a scrape: current state, and the counters kept since start ---- */

static void scrape_nodes(struct metrics *m, int *node_ids, int *nr)
{
	static struct sys_node nodes[SYS_MAX_NODES];
	struct ms_meminfo mi;
	struct meminfo_row mr;
	struct node_row row;
	int n = nodes_read(ex.nodes, nodes, SYS_MAX_NODES);
	bool has_mi = meminfo_read(&mi);

	total_row_of(nodes, n, has_mi ? &mi : NULL, &row);
	add_view(m, V_SYSTEM, &row, NULL);
	if (has_mi) {
		meminfo_row_of(&mi, &mr);
		add_view(m, V_MEMINFO, &mr, NULL);
	}
	for (int i = 0; i < n; i++) {
		node_row_of(&nodes[i], &row);
		add_view(m, V_NODE, &row, NULL);
		for (int z = 0; z < (int)nodes[i].nr_zones && z < SYS_MAX_ZONES; z++) {
			struct zone_row zr;

			zone_row_of(&nodes[i], z, &zr);
			add_view(m, V_ZONE, &zr, NULL);
		}
		node_ids[i] = nodes[i].nid;
	}
	*nr = n;
}

static void scrape_pressure(struct metrics *m)
{
	struct psi p;

	if (!psi_read_memory(&p))
		return; /* no PSI in this kernel (or psi=0): no series, not zeros */
	add(m, F_PSI_SOME, NULL, p.some_total_ns / 1e9);
	add(m, F_PSI_FULL, NULL, p.full_total_ns / 1e9);
}

/* Stall latency from the in-kernel log2 buckets: slot i holds [2^i, 2^(i+1)) us. */
static void stall_histogram(struct metrics *m, int kind, const struct rc_stall_stats *s)
{
	char *lab = metrics_labels("reclaimer", reclaim_kind_names[kind], NULL);
	double le[RC_HIST_SLOTS - 1];

	for (int i = 0; i < RC_HIST_SLOTS - 1; i++) /* the last slot: above all of them */
		le[i] = (double)(1ULL << (i + 1)) * 1e-6;
	metrics_histogram(m, fams[F_STALL].name, fams[F_STALL].help, lab, le,
			  (const uint64_t *)s->hist, RC_HIST_SLOTS - 1, s->total_ns / 1e9);
	add(m, F_STALL_MAX, lab, s->max_ns / 1e9);
	free(lab);
}

static void scrape_reclaim(struct metrics *m, const int *node_ids, int nr)
{
	static struct reclaim_snapshot s;
	static const struct rc_target none;

	reclaim_read(ex.reclaim, &s);
	for (int i = 0; i < nr; i++) {
		int n = node_ids[i];
		struct reclaim_kswapd_row kr;

		if (!reclaim_kswapd_row_of(&s, NULL, n, &kr))
			continue;
		for (int k = 0; k < RC_NR_KIND; k++) {
			struct reclaim_row row;

			reclaim_row_of(n, k, &s.stats[n * RC_NR_KIND + k], &s.target[n * RC_NR_KIND + k],
				       &none, reclaim_target_hook(ex.reclaim), &row);
			add_view(m, V_RECLAIM, &row, NULL);
		}
		add_view(m, V_KSWAPD, &kr, NULL);
	}
	for (int k = 0; k < RC_NR_KIND; k++)
		if (k != RC_KSWAPD) /* kswapd is the reclaimer nobody waits for */
			stall_histogram(m, k, &s.stalls[k]);
	add_u64(m, F_COMPACT, NULL, s.compact_stalls);
}

static void scrape_events(struct metrics *m)
{
	char order[16];

	for (int i = 0; i < ex.nfail; i++) {
		char *lab;

		snprintf(order, sizeof(order), "%u", ex.fail[i].order);
		lab = metrics_labels("order", order, "zone", ex.fail[i].zone, "reason",
				     ex.fail[i].reason, "failure_allowed",
				     allowed_text(ex.fail[i].allowed), NULL);
		add_u64(m, F_FAILURES, lab, ex.fail[i].n);
		free(lab);
	}
	for (int i = 0; i < ex.by_reason.n; i++)
		add_u64(m, F_FAIL_REASONS, ex.by_reason.c[i].labels, ex.by_reason.c[i].n);
	for (int i = 0; i < ex.by_constraint.n; i++)
		add_u64(m, F_KILLS, ex.by_constraint.c[i].labels, ex.by_constraint.c[i].n);
	if (!ex.has_victim)
		return;
	add_view(m, V_VICTIM, &ex.last_victim, NULL);
	add_u64(m, F_VICTIM_INFO, ex.victim_info, 1);
	add(m, F_LAST_KILL, NULL, ex.last_kill_time);
}

/* ---- memory cgroups (--memcgs) ---- */

/* Coarser than the kernel's log2 slots: every second one of them, 16 us to 4.2 s. */
#define MEMCG_BUCKETS 10
static const int memcg_bucket_top[MEMCG_BUCKETS] = { 3, 5, 7, 9, 11, 13, 15, 17, 19, 21 };

static void memcg_histogram(struct metrics *m, const struct memcg_attributed *a,
			    const char *labels)
{
	static const struct memcg_attributed none;
	uint64_t in[MEMCG_BUCKETS + 1] = { 0 };
	double le[MEMCG_BUCKETS];
	int b = 0;

	if (!a)
		a = &none;
	for (int i = 0; i < RC_HIST_SLOTS; i++) {
		while (b < MEMCG_BUCKETS && i > memcg_bucket_top[b])
			b++;
		in[b] += a->m.hist[i]; /* b == MEMCG_BUCKETS: above the last bound */
	}
	for (int i = 0; i < MEMCG_BUCKETS; i++)
		le[i] = (double)(1ULL << (memcg_bucket_top[i] + 1)) * 1e-6;
	metrics_histogram(m, fams[F_MEMCG_STALL].name, fams[F_MEMCG_STALL].help, labels, le, in,
			  MEMCG_BUCKETS, a->m.total_ns / 1e9);
}

static const char *label_or_null(const struct memcg_row *r, const char *key, const char *v)
{
	return record_is_null(&memcg_desc, r, key) ? NULL : v;
}

/* What BPF counted of cgroups that are gone is dropped once two walks missed them (one
 * may have run before a new cgroup's first reclaim). */
static void forget_gone(void)
{
	struct memcg_ids missing = { 0 };
	int kept = 0;

	for (size_t i = 0; i < ex.attr.n; i++) {
		uint64_t id = ex.attr.a[i].id;

		if (memcg_ids_has(&ex.all, id))
			continue;
		if (memcg_ids_has(&ex.missing, id))
			reclaim_forget_memcg(ex.reclaim, id);
		else
			memcg_ids_add(&missing, id);
	}
	memcg_ids_sort(&missing);
	memcg_ids_free(&ex.missing);
	ex.missing = missing;
	for (int i = 0; i < ex.nmkill; i++) /* kills of cgroups gone: no series to serve */
		if (memcg_ids_has(&ex.all, ex.mkill[i].id))
			ex.mkill[kept++] = ex.mkill[i];
	ex.nmkill = kept;
}

/* BPF's counts since start, with the kills; the cgroups killed lately, to serve first. */
static void attribution(struct memcg_ids *recent)
{
	uint64_t now = ms_boot_ns();

	memcg_attribution_read(&ex.attr, ex.reclaim);
	for (int i = 0; i < ex.nmkill; i++) {
		memcg_attributed_of(&ex.attr, ex.mkill[i].id)->kills = ex.mkill[i].n;
		if (now - ex.mkill[i].last_ns < KILLED_RECENTLY_NS)
			memcg_ids_add(recent, ex.mkill[i].id);
	}
	memcg_ids_sort(recent);
}

static void serve_memcg(struct metrics *m, struct memcg_row *r)
{
	const struct memcg_attributed *a = memcg_attributed_find(&ex.attr, r->id);
	char *lab = metrics_labels("cgroup", r->path,
				   "container", label_or_null(r, "container", r->container),
				   "pod_uid", label_or_null(r, "pod_uid", r->pod_uid),
				   "qos_class", label_or_null(r, "qos_class", r->qos_class), NULL);

	memcg_fill_live(r, a, NULL); /* since start: 0 for a cgroup without any */
	if (!kills_victim_memcg(ex.kills)) /* kills name no victim's cgroup: no count */
		record_null(&memcg_desc, r, "oom_kills");
	memcg_add_refaults(r, memcg_list_find(&ex.prev, r->id));
	add_view(m, V_MEMCG, r, lab);
	memcg_histogram(m, a, lab);
	free(lab);
}

static void scrape_memcgs(struct metrics *m)
{
	struct memcg_ids recent = { 0 };
	struct memcg_list swap;

	attribution(&recent);
	if (memcgs_read_top(ex.counters, cfg.cgroup.id ? cfg.cgroup.path : NULL, cfg.memcgs,
			    &recent, &ex.all, &ex.cur) >= 0) {
		for (size_t i = 0; i < ex.cur.n; i++)
			serve_memcg(m, &ex.cur.r[i]);
		forget_gone();
		swap = ex.prev, ex.prev = ex.cur, ex.cur = swap;
	} /* else no memory cgroup hierarchy: no such family */
	memcg_ids_free(&recent);
}

static void scrape_processes(struct metrics *m)
{
	struct proc_list l = { 0 };
	static bool said;

	procs_snapshot(ex.procs, &l);
	if (!said && procs_pid_namespace(ex.procs))
		ms_warn("exporter: --processes: %s", PROCS_PIDNS_SCOPE);
	said = true;
	proc_list_sort_rss(&l);
	for (size_t i = 0; i < l.n && i < (size_t)cfg.processes; i++) {
		struct proc_row row;

		proc_row_of(&l.r[i], NULL, &row);
		add_view(m, V_PROCESS, &row, NULL);
	}
	proc_list_free(&l);
}

/* Reclaim of memory cgroups reclaim's per-cgroup table had no room for. */
static uint64_t memcg_table_lost(void)
{
	int n;
	struct ms_loss *l = reclaim_losses(ex.reclaim, &n);

	for (int i = 0; i < n; i++)
		if (!strcmp(l[i].field, "untracked_memcgs"))
			return *l[i].count;
	return 0;
}

static void scrape_parts(struct metrics *m)
{
	struct mem_accounting a;

	if (mem_accounting_read(&a))
		add_view(m, V_PARTS, &a, NULL);
}

/* A failed read leaves the families out of this scrape; the next one tries again. */
static void scrape_slabs(struct metrics *m)
{
	struct slab_snapshot s = { 0 };
	char err[256];

	if (!slabs_read(ex.slabs, &s, err, sizeof(err))) {
		slab_snapshot_sort(&s);
		for (size_t i = 0; i < s.n && i < (size_t)cfg.slabs; i++) {
			struct slab_row row;

			slab_row_of(&s.c[i], NULL, ms_page_size(), &row);
			add_view(m, V_SLAB, &row, NULL);
		}
	}
	slab_snapshot_free(&s);
}

static void scrape_files(struct metrics *m)
{
	struct cache_list l = { 0 };
	char err[256];

	if (!cachefiles_read(ex.files, &l, err, sizeof(err))) {
		cache_list_sort(&l);
		for (size_t i = 0; i < l.n && i < (size_t)cfg.files; i++) {
			struct cache_file_row row;

			cache_file_row_of(&l.f[i], ms_page_size(), &row);
			add_view(m, V_FILE, &row, NULL);
		}
	}
	cache_list_free(&l);
}

static void scrape_self(struct metrics *m, uint64_t start_ns)
{
	struct failures_totals ft;

	failures_totals(ex.failures, &ft);
	add_labelled(m, F_LOST, "source", "paf", ft.lost);
	add_labelled(m, F_LOST, "source", "oom", *kills_lost(ex.kills));
	if (cfg.memcgs)
		add_labelled(m, F_LOST, "source", "memcg_table", memcg_table_lost());
	add_labelled(m, F_BUILD, "version", MEMSCOPE_VERSION, 1);
	add_u64(m, F_SCRAPES, NULL, ++ex.scrapes);
	add(m, F_SCRAPE_TIME, NULL, (ms_now_ns() - start_ns) / 1e9);
}

/* The whole exposition; called under the lock. */
static char *scrape(size_t *len)
{
	uint64_t start = ms_now_ns();
	struct metrics *m = metrics_new();
	int node_ids[SYS_MAX_NODES], nr;
	char *text;

	ring_buffer__consume(ex.rb); /* events up to now count in this scrape */
	scrape_nodes(m, node_ids, &nr);
	scrape_pressure(m);
	scrape_reclaim(m, node_ids, nr);
	scrape_events(m);
	if (cfg.memcgs)
		scrape_memcgs(m);
	if (cfg.processes)
		scrape_processes(m);
	scrape_parts(m);
	if (ex.slabs)
		scrape_slabs(m);
	if (ex.files)
		scrape_files(m);
	scrape_self(m, start);
	text = metrics_render(m, len);
	metrics_free(m);
	return text;
}

/* ---- connections ---- */

/*
 * MHD bounds the connections, those of one client address and the time one stays idle.
 * The rest is bounded here. A client that trickles a header line every few seconds is
 * never idle: each request must arrive and be answered within REQUEST_TIMEOUT_S as a
 * whole (the event loop cuts it). And clients that only wait cannot take every slot:
 * past MAX_CONNECTIONS - SPARE_CONNECTIONS a new connection cuts the one that has waited
 * longest for its request, so that a scrape still gets in. A cut is a shutdown(): MHD
 * sees the end of the stream and closes the connection in its own thread.
 */
struct slot {
	struct MHD_Connection *c; /* NULL: free */
	struct web_config *web;	  /* a TLS session's settings, held while it lives */
	int fd;
	uint64_t since_ns; /* when it began to wait for its request */
	bool answering, cut;
};

static struct {
	pthread_mutex_t lock; /* MHD's thread and the event loop */
	struct slot s[MAX_CONNECTIONS];
} slots = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void slot_cut(struct slot *s)
{
	shutdown(s->fd, SHUT_RDWR);
	s->cut = true;
}

/* Past the live connections allowed, cut the one that has waited longest. */
static void slots_make_room(const struct slot *new)
{
	struct slot *oldest = NULL;
	int live = 0;

	for (int i = 0; i < MAX_CONNECTIONS; i++) {
		struct slot *s = &slots.s[i];

		if (!s->c || s->cut)
			continue;
		live++;
		if (s != new && !s->answering && (!oldest || s->since_ns < oldest->since_ns))
			oldest = s;
	}
	if (live > MAX_CONNECTIONS - SPARE_CONNECTIONS && oldest)
		slot_cut(oldest);
}

static struct slot *slot_take(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);

	for (int i = 0; info && i < MAX_CONNECTIONS; i++) {
		struct slot *s = &slots.s[i];

		if (s->c)
			continue;
		*s = (struct slot){ .c = c, .fd = info->connect_fd, .since_ns = ms_now_ns() };
		slots_make_room(s);
		return s;
	}
	return NULL; /* MHD allows no more than there are slots */
}

/* ---- the web configuration in force (--web-config), replaced by a reload ---- */

static struct {
	pthread_mutex_t lock;
	struct web_config *cur; /* NULL: plain HTTP, nobody asked for a password */
} web = { .lock = PTHREAD_MUTEX_INITIALIZER };

static volatile sig_atomic_t reload_asked;

/* The configuration in force, held: web_config_drop it when done. */
static struct web_config *web_current(void)
{
	struct web_config *w;

	pthread_mutex_lock(&web.lock);
	w = web.cur;
	if (w)
		web_config_hold(w);
	pthread_mutex_unlock(&web.lock);
	return w;
}

/*
 * MHD made the TLS session with credentials that give no certificate; here it gets
 * the current configuration's (certificate, client CA, versions and suites), which it
 * keeps until it closes: so a reload changes the next connection, and a session never
 * sees its settings freed under it.
 */
static void tls_begin(struct MHD_Connection *c, struct slot *s)
{
	const union MHD_ConnectionInfo *info;

	if (!(s->web = web_current()))
		return;
	if (!web_config_tls(s->web)) { /* plain HTTP: nothing to hold */
		web_config_drop(s->web);
		s->web = NULL;
		return;
	}
	info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (!info || web_config_session(s->web, info->tls_session))
		slot_cut(s);
}

/* MHD_OPTION_NOTIFY_CONNECTION: a connection's slot from accept to close. */
static void on_connection(void *cls, struct MHD_Connection *c, void **ctx,
			  enum MHD_ConnectionNotificationCode code)
{
	struct slot *s;

	(void)cls;
	pthread_mutex_lock(&slots.lock);
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		*ctx = s = slot_take(c);
		if (s)
			tls_begin(c, s);
	} else if ((s = *ctx)) { /* MHD closes the socket after this: no cut may touch it */
		web_config_drop(s->web);
		memset(s, 0, sizeof(*s));
	}
	pthread_mutex_unlock(&slots.lock);
}

static struct slot *slot_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return info ? info->socket_context : NULL;
}

/* The request is whole and being answered: no longer one that merely waits. */
static void slot_answering(struct MHD_Connection *c)
{
	struct slot *s = slot_of(c);

	pthread_mutex_lock(&slots.lock);
	if (s)
		s->answering = true;
	pthread_mutex_unlock(&slots.lock);
}

/* MHD_OPTION_NOTIFY_COMPLETED: answered; a kept-alive connection waits for the next. */
static void on_completed(void *cls, struct MHD_Connection *c, void **state,
			 enum MHD_RequestTerminationCode code)
{
	struct slot *s = slot_of(c);

	(void)cls, (void)state, (void)code;
	pthread_mutex_lock(&slots.lock);
	if (s) {
		s->answering = false;
		s->since_ns = ms_now_ns();
	}
	pthread_mutex_unlock(&slots.lock);
}

/* Cut every request that took longer than REQUEST_TIMEOUT_S, idle or not. */
static void slots_cut_late(void)
{
	uint64_t now;

	pthread_mutex_lock(&slots.lock);
	now = ms_now_ns(); /* after every since_ns set under the lock */
	for (int i = 0; i < MAX_CONNECTIONS; i++) {
		struct slot *s = &slots.s[i];

		if (s->c && !s->cut && now - s->since_ns > REQUEST_TIMEOUT_S * 1000000000ULL)
			slot_cut(s);
	}
	pthread_mutex_unlock(&slots.lock);
}

/* ---- HTTP ---- */

static const char index_page[] =
	"<!DOCTYPE html>\n<html><head><title>memscope exporter</title></head><body>\n"
	"<h1>memscope exporter</h1>\n<p>The Linux memory subsystem as Prometheus metrics: "
	"<a href=\"/metrics\">/metrics</a>.</p>\n</body></html>\n";

/* The answer to a request, with the headers the web configuration w sets (if any). */
static enum MHD_Result reply(struct MHD_Connection *c, const struct web_config *w,
			     unsigned int status, const char *type, void *body, size_t len,
			     enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result ret;

	if (!r) { /* MHD closes the connection; the text is still ours */
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	for (int i = 0; w && i < web_config_nheaders(w); i++) {
		const char *value, *name = web_config_header(w, i, &value);

		MHD_add_response_header(r, name, value);
	}
	if (status == MHD_HTTP_UNAUTHORIZED) /* 401 with WWW-Authenticate: Basic */
		ret = MHD_queue_basic_auth_fail_response(c, "memscope", r);
	else
		ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result error_reply(struct MHD_Connection *c, const struct web_config *w,
				   unsigned int status, const char *text)
{
	return reply(c, w, status, "text/plain; charset=utf-8", (void *)text, strlen(text),
		     MHD_RESPMEM_PERSISTENT);
}

/* Basic auth as the web configuration in force asks (none: everyone may read). */
static bool authorized(struct MHD_Connection *c, struct web_config *w)
{
	char *pass = NULL, *user;
	bool ok;

	if (!w || !web_config_has_users(w))
		return true;
	user = MHD_basic_auth_get_username_password(c, &pass);
	ok = user && pass && web_config_auth(w, user, pass);
	if (pass)
		explicit_bzero(pass, strlen(pass));
	MHD_free(user);
	MHD_free(pass);
	return ok;
}

static enum MHD_Result route(struct MHD_Connection *c, const struct web_config *w,
			     const char *url, const char *method)
{
	bool get = !strcmp(method, MHD_HTTP_METHOD_GET), head = !strcmp(method, "HEAD");
	size_t len;
	char *text;

	if (!get && !head)
		return error_reply(c, w, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n");
	if (!strcmp(url, "/"))
		return reply(c, w, MHD_HTTP_OK, "text/html; charset=utf-8", (void *)index_page,
			     sizeof(index_page) - 1, MHD_RESPMEM_PERSISTENT);
	if (strcmp(url, "/metrics"))
		return error_reply(c, w, MHD_HTTP_NOT_FOUND, "not found: try /metrics\n");
	pthread_mutex_lock(&ex.lock);
	text = scrape(&len);
	pthread_mutex_unlock(&ex.lock);
	return reply(c, w, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", text, len,
		     MHD_RESPMEM_MUST_FREE);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **state)
{
	static int headers_seen;
	struct web_config *w;
	enum MHD_Result ret;

	(void)cls, (void)version, (void)upload;
	if (!*state) { /* headers only: wait for the body (if any) before answering */
		*state = &headers_seen;
		return MHD_YES;
	}
	if (*upload_size) { /* a body is ignored: nothing here takes input */
		*upload_size = 0;
		return MHD_YES;
	}
	slot_answering(c);
	w = web_current(); /* read for each request, as the exporter toolkit does */
	if (authorized(c, w))
		ret = route(c, w, url, method);
	else
		ret = error_reply(c, w, MHD_HTTP_UNAUTHORIZED, "unauthorized\n");
	web_config_drop(w);
	return ret;
}

/*
 * With TLS, MHD's own credentials give no certificate (a session on_connection did not
 * set up fails its handshake); each session gets the configuration in force instead.
 * SIGHUP is blocked in MHD's thread, so that it interrupts the event loop's wait.
 */
static struct MHD_Daemon *serve(int fd)
{
	bool tls = web.cur && web_config_tls(web.cur);
	struct MHD_Daemon *d;
	sigset_t hup, old;

	sigemptyset(&hup);
	sigaddset(&hup, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &hup, &old);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
			     (cfg.addr.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0) |
			     (tls ? MHD_USE_TLS : 0),
			     0, NULL, NULL, on_request, NULL,
			     MHD_OPTION_LISTEN_SOCKET, fd,
			     MHD_OPTION_CONNECTION_LIMIT, (unsigned int)MAX_CONNECTIONS,
			     MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)CLIENT_CONNECTIONS,
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)REQUEST_TIMEOUT_S,
			     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)REQUEST_MEMORY,
			     MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL,
			     MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
			     tls ? MHD_OPTION_HTTPS_CERT_CALLBACK : MHD_OPTION_END,
			     web_tls_no_certificate, MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!d)
		ms_fatal("exporter: cannot start the HTTP server on %s", cfg.listen);
	return d;
}

/* ---- the run ---- */

/* The slab and file families are extras: without them the exporter serves the rest. */
static void open_optional(void)
{
	struct slabs_opts so = { 0 };
	struct cachefiles_opts co = { 0 };
	char err[256];

	if (cfg.slabs && slabs_open(&so, &ex.slabs, err, sizeof(err)))
		ms_warn("exporter: no slab cache families: %s", err);
	if (cfg.files && cachefiles_open(&co, &ex.files, err, sizeof(err)))
		ms_warn("exporter: no page cache file families: %s", err);
}

static void open_collectors(void)
{
	static const struct ms_filter all;
	static const struct reclaim_want plain, by_memcg = { .by_memcg = true };
	/*
	 * Smaller event rings than the watching commands take: the loop reads them as they
	 * fill, and the kernel maps each ring's pages twice into our RSS. A burst past
	 * them is counted in memscope_events_lost_total.
	 */
	static const struct failures_want events = { .events = true, .order_eq = -1,
						     .order_min = -1, .ring_bytes = 512 << 10 };
	static const struct kills_want kills_plain = { .ring_bytes = 256 << 10 };

	ex.nodes = nodes_open(0);
	ex.reclaim = reclaim_open(&all, cfg.memcgs ? &by_memcg : &plain);
	ex.failures = failures_open(&all, &events);
	ex.kills = kills_open(&kills_plain);
	ex.control_hook = kills_control_hook(ex.kills);
	if (cfg.processes)
		ex.procs = procs_open(&all);
	for (size_t i = 0; i < ARRAY_SIZE(constraints); i++)
		count_of(&ex.by_constraint, constraints[i]);
	/* every verdict class paf has (those past the last are "unknown") */
	for (int k = 0; k == 0 || strcmp(verdict_kind_name(k), verdict_kind_name(0)); k++) {
		reason_count_of(verdict_kind_name(k), false);
		reason_count_of(verdict_kind_name(k), true);
	}
	if (cfg.memcgs && !memcg_root())
		ms_warn("exporter: no memory cgroup hierarchy is mounted: no memscope_memcg_ "
			"families (--memcgs)");
	else if (cfg.memcgs)
		ex.counters = memcg_counters_open();
	open_optional();
	paf_decoder_init(&ex.dec, false);
	if (!(ex.row = calloc(1, sizeof(*ex.row))))
		ms_fatal("out of memory");
	ex.rb = ring_buffer__new(failures_events_fd(ex.failures), on_failure, NULL, NULL);
	if (!ex.rb || ring_buffer__add(ex.rb, kills_events_fd(ex.kills), on_oom, NULL))
		ms_bpf_fail("creating the event ring buffers", errno);
}

static void close_collectors(void)
{
	ring_buffer__free(ex.rb);
	procs_close(ex.procs);
	slabs_close(ex.slabs);
	cachefiles_close(ex.files);
	kills_close(ex.kills);
	failures_close(ex.failures);
	reclaim_close(ex.reclaim);
	nodes_close(ex.nodes);
	paf_decoder_free(&ex.dec);
	free(ex.row);
	free(ex.fail);
	counts_free(&ex.by_constraint);
	counts_free(&ex.by_reason);
	free(ex.mkill);
	free(ex.victim_info);
	memcg_counters_close(ex.counters);
	memcg_list_free(&ex.cur);
	memcg_list_free(&ex.prev);
	memcg_attribution_free(&ex.attr);
	memcg_ids_free(&ex.all);
	memcg_ids_free(&ex.missing);
}

static void say_serving(void)
{
	if (out_json_mode()) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "type", json_object_new_string("exporter"));
		json_object_object_add(o, "listen", json_object_new_string(cfg.listen));
		json_object_object_add(o, "url_path", json_object_new_string("/metrics"));
		out_json(o);
	} else {
		out_printf("serving Prometheus metrics on http%s://%s/metrics; Ctrl-C to stop\n",
			   web.cur && web_config_tls(web.cur) ? "s" : "", cfg.listen);
	}
	out_flush();
}

static void on_hangup(int sig)
{
	(void)sig;
	reload_asked = 1;
}

/*
 * SIGHUP: the file and every certificate and key it names, read again. Connections
 * made from now on use the new one; the collectors and counters are untouched. A bad
 * file keeps the one in force. TLS cannot come or go without a new HTTP server.
 */
static void web_reload(void)
{
	char err[512], what[256];
	struct web_config *w, *old;

	reload_asked = 0;
	w = web_config_load(cfg.web_config, err, sizeof(err));
	if (w && web_config_tls(w) != web_config_tls(web.cur)) {
		snprintf(err, sizeof(err), "a reload cannot turn TLS %s (restart memscope)",
			 web_config_tls(w) ? "on" : "off");
		web_config_drop(w);
		w = NULL;
	}
	if (!w) {
		ms_warn("exporter: --web-config %s: %s; kept the configuration in force",
			cfg.web_config, err);
		return;
	}
	pthread_mutex_lock(&web.lock);
	old = web.cur;
	web.cur = w;
	pthread_mutex_unlock(&web.lock);
	web_config_drop(old);
	web_config_describe(w, what, sizeof(what));
	ms_message("exporter: reloaded %s: %s", cfg.web_config, what);
}

static void web_start(void)
{
	struct sigaction sa = { .sa_handler = on_hangup, .sa_flags = SA_RESTART };
	char what[256];

	web.cur = cfg.web0;
	if (!web.cur)
		return; /* SIGHUP keeps its default: nothing to read again */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
	web_config_describe(web.cur, what, sizeof(what));
	ms_message("exporter: --web-config %s: %s", cfg.web_config, what);
}

/* Read events as they come, so the counters are current between scrapes. */
static void event_loop(double duration)
{
	uint64_t end = duration > 0 ? ms_now_ns() + (uint64_t)(duration * 1e9) : 0;
	int efd = ring_buffer__epoll_fd(ex.rb);

	while (!ms_stopping() && (!end || ms_now_ns() < end)) {
		struct epoll_event ev;
		int n = epoll_wait(efd, &ev, 1, 200);

		if (n < 0 && errno != EINTR)
			ms_fatal("exporter: waiting for events: %s", strerror(errno));
		if (reload_asked)
			web_reload();
		slots_cut_late();
		if (n <= 0)
			continue;
		pthread_mutex_lock(&ex.lock);
		ring_buffer__consume(ex.rb);
		pthread_mutex_unlock(&ex.lock);
	}
}

static int exporter_run(const struct ms_opts *o)
{
	int fd = listen_socket();
	struct MHD_Daemon *d;

	web_start();
	if (!is_loopback() && (!web.cur || (!web_config_tls(web.cur) &&
					    !web_config_has_users(web.cur))))
		ms_warn("exporter: %s is reachable from other machines; the metrics name "
			"processes and cgroups (loopback only: --listen 127.0.0.1:PORT; or TLS "
			"and basic auth: --web-config FILE)", cfg.listen);
	open_collectors();
	shrink();
	d = serve(fd);
	say_serving();
	ms_ready();
	event_loop(o->duration);
	MHD_stop_daemon(d); /* closes the listening socket too */
	close_collectors();
	web_config_drop(web.cur);
	web.cur = NULL;
	return 0;
}

/* ---- the documentation: memscope help metrics ---- */

#define NF_MEMINFO(name, group, label, a, b, m1, m2, m3, help) { #name "_bytes", m1, m2 },
static const struct {
	const char *key;
	enum mi_item one, two;
} node_sources[] = { NODE_FACTS(NF_MEMINFO) };
#undef NF_MEMINFO

static const struct {
	const char *ours, *theirs;
} equivalents[] = {
	{ "memscope_zone_free_blocks", "node_buddyinfo_blocks (size is the order)" },
	{ "memscope_zone_free_bytes", "node_zoneinfo_nr_free_pages (pages)" },
	{ "memscope_zone_min_bytes", "node_zoneinfo_min_pages (pages)" },
	{ "memscope_zone_low_bytes", "node_zoneinfo_low_pages (pages)" },
	{ "memscope_zone_high_bytes", "node_zoneinfo_high_pages (pages)" },
	{ "memscope_zone_managed_bytes", "node_zoneinfo_managed_pages (pages)" },
	{ "memscope_zone_present_bytes", "node_zoneinfo_present_pages (pages)" },
	{ "memscope_zone_spanned_bytes", "node_zoneinfo_spanned_pages (pages)" },
	{ "memscope_reclaim_scanned_bytes_total",
	  "node_vmstat_pgscan_kswapd, _direct (pages; with --collector.vmstat.fields)" },
	{ "memscope_reclaim_reclaimed_bytes_total",
	  "node_vmstat_pgsteal_kswapd, _direct (pages; with --collector.vmstat.fields)" },
	/* cAdvisor's families of the same fact */
	{ "memscope_memcg_usage_bytes", "container_memory_usage_bytes" },
	{ "memscope_memcg_limit_bytes", "container_spec_memory_limit_bytes" },
	{ "memscope_memcg_peak_bytes", "container_memory_max_usage_bytes" },
	{ "memscope_memcg_low_bytes", "container_spec_memory_reservation_limit_bytes (v2)" },
	{ "memscope_memcg_soft_limit_bytes",
	  "container_spec_memory_reservation_limit_bytes (v1)" },
	{ "memscope_memcg_anon_bytes", "container_memory_rss" },
	{ "memscope_memcg_file_bytes", "container_memory_cache" },
	{ "memscope_memcg_active_file_bytes", "container_memory_total_active_file_bytes" },
	{ "memscope_memcg_inactive_file_bytes", "container_memory_total_inactive_file_bytes" },
	{ "memscope_memcg_file_mapped_bytes", "container_memory_mapped_file" },
	{ "memscope_memcg_kernel_bytes", "container_memory_kernel_usage" },
	{ "memscope_memcg_swap_bytes", "container_memory_swap" },
	{ "memscope_memcg_swap_limit_bytes", "container_spec_memory_swap_limit_bytes" },
	{ "memscope_memcg_working_set_bytes", "container_memory_working_set_bytes" },
	{ "memscope_memcg_failcnt_total", "container_memory_failcnt" },
	{ "memscope_memcg_faults_total",
	  "container_memory_failures_total{failure_type=\"pgfault\"}" },
	{ "memscope_memcg_major_faults_total",
	  "container_memory_failures_total{failure_type=\"pgmajfault\"}" },
	{ "memscope_memcg_events_oom_kill_total", "container_oom_events_total" },
	{ "memscope_memcg_psi_some_seconds_total",
	  "container_pressure_memory_waiting_seconds_total" },
	{ "memscope_memcg_psi_full_seconds_total",
	  "container_pressure_memory_stalled_seconds_total" },
};

/* node_exporter's meminfo name: "Active(anon)" becomes Active_anon; kB lines are _bytes. */
static const char *node_memory_name(const char *line, bool bytes)
{
	static char buf[96];
	char *p;

	snprintf(buf, sizeof(buf), "node_memory_%s", line);
	while ((p = strchr(buf, '(')))
		*p = '_';
	while ((p = strchr(buf, ')')))
		memmove(p, p + 1, strlen(p));
	if (bytes)
		strcat(buf, "_bytes");
	return buf;
}

/* The node_exporter (or cAdvisor) family of the same fact. */
static const char *equivalent(const char *name)
{
	const char *prefix = views[V_SYSTEM].v.prefix, *key = name + strlen(prefix), *line;

	for (size_t i = 0; i < ARRAY_SIZE(equivalents); i++)
		if (!strcmp(name, equivalents[i].ours))
			return equivalents[i].theirs;
	if (strncmp(name, prefix, strlen(prefix)))
		return NULL;
	if ((line = meminfo_line_of(key)))
		return node_memory_name(line, strstr(key, "_bytes") != NULL);
	for (size_t i = 0; i < ARRAY_SIZE(node_sources); i++)
		if (!strcmp(key, node_sources[i].key) && node_sources[i].one != MI_NR &&
		    node_sources[i].two == MI_NR)
			return node_memory_name(meminfo_name(node_sources[i].one), true);
	return NULL;
}

static void table_head(const char *title)
{
	printf("\n## %s\n\n| metric | type | labels | meaning | node_exporter / cAdvisor |\n"
	       "|---|---|---|---|---|\n", title);
}

static void family_docs(int in)
{
	for (int f = 0; f < F_NR; f++)
		if (fams[f].in == in)
			metrics_doc_row(stdout, fams[f].name, fams[f].type, fams[f].labels,
					fams[f].help, fams[f].equivalent);
}

static const char docs_intro[] =
	"# memscope metrics\n\n"
	"Generated by `make docs` from the record descriptions (`memscope help metrics`).\n"
	"`memscope exporter` serves them on GET /metrics (Prometheus text format 0.0.4).\n"
	"Names: the `memscope_` prefix, base units (`_bytes`, `_seconds`), `_total` for "
	"counters.\n"
	"A value the kernel cannot give has no series (absent), never a made-up zero.\n"
	"Counters count from the exporter's start and never reset while it runs; those "
	"read from the kernel's files (a cgroup's memory.events, PSI totals) count from "
	"the kernel's start or the cgroup's creation.\n\n"
	"**Pages are served as bytes.** The kernel counts reclaim, refaults and the pages a "
	"cgroup's reclaim scanned in pages; memscope multiplies them by the page size and "
	"serves `_bytes` families instead of `_pages` ones, not beside them: Prometheus' "
	"convention is one base unit per fact, a node_exporter user reads memory in bytes "
	"(`node_memory_*_bytes`), and the page size differs between machines (4 KiB on "
	"x86-64, 16 or 64 KiB on some arm64), so bytes are what adds up across a fleet. "
	"node_exporter's `node_vmstat_pgscan_*` and `pgsteal_*` are pages: multiply them by "
	"the page size to compare.\n\n"
	"**Cardinality.** `pid` only in `--processes N` families (N series each; processes "
	"come and go, so keep N small). The OOM kill families have one series per constraint "
	"(five, all from the start) and one last-victim series at a time. Per memory "
	"cgroup: `--memcgs N` (default 10, 0 for none) serves at most N cgroups, chosen at "
	"each scrape: those with an OOM kill memscope saw in the last 15 minutes first, "
	"then the largest by usage (memory.current or memory.usage_in_bytes), among the "
	"cgroups at or below `--cgroup PATH` (default: all but the root, whose figures are "
	"the system's; a machine with no cgroup below the root has no `memscope_memcg_` "
	"family). A family from a line of memory.stat the kernel does not write (its HELP "
	"says since when) has no series. Every cgroup's counters (usage, limits, peak, "
	"swap, events, v1's failcnt, kmem and soft limit) come from one pass of a BPF "
	"cgroup iterator (6.1+) "
	"and only the N's memory.stat (and v2's memory.pressure) is read, from files held "
	"open while the cgroup is served; on older kernels, or past 4096 cgroups, each "
	"cgroup's usage file is read and the N's files whole. "
	"Cgroups come and go, and so does their rank: a cgroup that drops out of the N, or "
	"is removed, is not in the next scrape, and Prometheus marks its series stale at "
	"once (they end; queries stop returning them). When it comes back its series "
	"resume under the same labels, counters at their current value: the counters are "
	"the kernel's (memory.events, refaults, PSI) or memscope's since its start, never "
	"reset by leaving, so `rate()` and `increase()` see no reset, only a gap, and a "
	"window that holds no sample from before the gap sees nothing of what happened in "
	"it. The same holds for a cgroup's first scrape: a series starts at the counter's "
	"value then, and `increase()` over its first sample is 0. So alert on per-cgroup "
	"counters only for cgroups that stay in the N, and on OOM kills with "
	"`memscope_oom_kills_total`, which exists from the start (contrib/prometheus).\n\n"
	"Label values show names as text output does: each control character (newline and "
	"tab included) and each invalid UTF-8 byte is replaced by `?`, so that a scrape "
	"read on a terminal runs nothing; only `\\` and `\"` are escaped (as `\\\\` and "
	"`\\\"`). A label is never cut: `cgroup` is the cgroup's whole path as "
	"/proc/PID/cgroup names it; `container`, `pod_uid` and `qos_class` are what the "
	"path says (a systemd unit, `docker 0123456789ab`, `k8s pod <uid>, containerd "
	"<id>`; see `memscope help fields`, record cgroup) and absent where it says "
	"nothing.\n";

static void exporter_docs(void)
{
	fputs(docs_intro, stdout);
	for (int v = 0; v < V_NR; v++) {
		table_head(views[v].title);
		metrics_record_docs(stdout, &views[v].v, views[v].labels, equivalent);
		family_docs(v + 1);
	}
	table_head("Events, pressure and the exporter itself");
	family_docs(0);
}

static const struct ms_opt_value exporter_values[] = {
	{ "web-config", MS_ARG_FILE, NULL },
	{ NULL, 0, NULL },
};

const struct ms_cmd cmd_exporter = {
	.name = "exporter",
	.summary = "serve the memory subsystem as Prometheus metrics (always on, for fleets)",
	.details =
		"Serves GET /metrics in the Prometheus text format 0.0.4: system, node and zone\n"
		"state, swap, HugeTLB, PSI, reclaim counters and stall-latency histograms, page\n"
		"allocation failures by verdict, OOM kills by constraint and the last victim,\n"
		"per memory cgroup usage, limit, working set (both ways), stalls and kills for\n"
		"the largest (--memcgs), and optionally the largest processes. Counters live in\n"
		"kernel maps from start to exit: a scrape never resets them and never waits.\n"
		"Listens on loopback unless told otherwise. Metric names, labels and the rule\n"
		"for cgroups that come and go: docs/METRICS.md (memscope help metrics).\n"
		"Off loopback, --web-config FILE reads Prometheus exporters' web configuration\n"
		"(--web.config.file: TLS certificate and key, client CA and client_auth_type,\n"
		"versions, cipher suites, curves, headers, basic_auth_users with bcrypt hashes);\n"
		"an option memscope cannot honour is refused. SIGHUP reads the file and its\n"
		"certificates again for the next connections; the counters go on.",
	.examples = "  memscope exporter                          127.0.0.1:39177\n"
		    "  memscope exporter --listen 0.0.0.0:39177   for a fleet's Prometheus\n"
		    "  memscope exporter --memcgs 50 --cgroup /kubepods   the 50 largest pods'\n"
		    "  memscope exporter --listen 0.0.0.0:39177 --web-config /etc/memscope/web.yml\n"
		    "  memscope exporter --processes 20           with the 20 largest processes\n"
		    "  curl -s localhost:39177/metrics | grep memscope_oom_kills_total\n",
	.shared = MS_OPT_DURATION,
	.opts = exporter_opts,
	.values = exporter_values,
	.parse_opt = exporter_parse_opt,
	.check = exporter_check,
	.run = exporter_run,
	.topic = "metrics",
	.topic_docs = exporter_docs,
};
