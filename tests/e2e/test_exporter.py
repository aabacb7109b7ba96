# SPDX-License-Identifier: GPL-2.0
"""memscope exporter, scraped directly and by a real Prometheus server (Debian's), checked
against /proc/meminfo, real kills and failures, and memscope reclaim's own count."""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import json

import pytest

from conftest import (MEMSCOPE, ROOT, SLOWDOWN, WORKLOAD, HugepageOvershoot, MemoryCgroup,
                      TraceInstance, drop_caches, kills_name_victim_memcg, loads, meminfo,
                      proc_state, run, trace_overruns, wait_attached, within_bracket)
from test_proc import pids_the_kernel_iterator_yields

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse(text):
    """The exposition as {name: [(labels dict, value)]}, with each family's TYPE."""
    samples, types = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            types[name] = kind
            continue
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, f"not a sample line: {line!r}"
        labels = dict(LABEL.findall(m[2] or ""))
        samples.setdefault(m[1], []).append((labels, float(m[3])))
    return samples, types


def value(samples, name, **labels):
    """The one sample of name whose labels include these."""
    found = [v for l, v in samples.get(name, []) if all(l.get(k) == x for k, x in labels.items())]
    assert len(found) == 1, (name, labels, samples.get(name))
    return found[0]


def total(samples, name, **labels):
    return sum(v for l, v in samples.get(name, [])
               if all(l.get(k) == x for k, x in labels.items()))


class Exporter:
    def __init__(self, *args, env=None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.p = subprocess.Popen([MEMSCOPE, "exporter", "--listen", f"127.0.0.1:{self.port}",
                                   *map(str, args)], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True,
                                  env=dict(os.environ, **(env or {})))
        wait_attached(self.p)
        self.get("/")  # serving

    def get(self, path="/metrics", method="GET", timeout=30 * SLOWDOWN):
        end = time.time() + timeout
        while True:
            try:
                req = urllib.request.Request(self.url + path, method=method)
                with urllib.request.urlopen(req, timeout=timeout) as r:
                    return r.status, dict(r.headers), r.read().decode()
            except urllib.error.HTTPError as e:
                return e.code, dict(e.headers), e.read().decode()
            except (ConnectionError, urllib.error.URLError):
                if time.time() > end:
                    raise
                time.sleep(0.1)

    def scrape(self):
        status, headers, body = self.get()
        assert status == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return body

    def scrape_until(self, done, timeout=30):
        """Scrape every 0.5 s until done(text) or timeout seconds; the last text."""
        end = time.time() + timeout * SLOWDOWN
        while True:
            body = self.scrape()
            if done(body) or time.time() > end:
                return body
            time.sleep(0.5)

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        out, err = self.p.communicate(timeout=30 * SLOWDOWN)
        assert self.p.returncode == 0, err
        return out, err


@pytest.fixture
def exporter():
    e = Exporter("--processes", 5)
    yield e
    if e.p.poll() is None:
        e.stop()


def documented():
    """docs/METRICS.md's families: {name: (type, labels always there, labels where known)}
    from cells such as "cgroup, le; where known: container, pod_uid"."""
    with open(os.path.join(ROOT, "docs", "METRICS.md")) as f:
        rows = re.findall(r"^\| `(memscope_\w+)` \| (\w+) \| ([^|]*) \|", f.read(), re.M)

    def names(text):
        return {l.strip() for l in text.split(",") if l.strip()}
    out = {}
    for n, t, lab in rows:
        always, _, known = lab.partition("; where known:")
        out[n] = (t, names(always), names(known))
    return out


def labels_as_documented(name, labels, docs, extra=()):
    """The sample's labels are its family's: all of those always there, and only those
    where known besides (extra: what Prometheus adds)."""
    family = re.sub(r"_(bucket|sum|count)$", "", name) if name not in docs else name
    _, always, known = docs[family]
    if not name.endswith("_bucket"):
        always = always - {"le"}
    got = set(labels) - set(extra)
    assert always <= got <= always | known, (name, labels, always, known)


def test_metrics_docs_are_generated_and_current():
    p = run("help", "metrics", check=True)
    with open(os.path.join(ROOT, "docs", "METRICS.md")) as f:
        assert p.stdout == f.read(), "docs/METRICS.md is stale: make docs"


def test_promtool_accepts_a_scrape_and_the_rules(exporter):
    body = exporter.scrape()
    p = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True,
                       text=True)
    assert p.returncode == 0 and not p.stdout.strip() and not p.stderr.strip(), \
        p.stdout + p.stderr
    p = subprocess.run(["promtool", "check", "rules", RULES], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr


def test_every_rule_has_promtool_tests_that_fire_and_stay_silent():
    """contrib's promtool tests pass, and each alert rule has a case where it fires and
    one where it is expected not to (the first-kill case among MemscopeOOMKill's)."""
    import yaml
    tests = os.path.join(ROOT, "contrib", "prometheus", "memscope-rules.test.yml")
    p = subprocess.run(["promtool", "test", "rules", tests], capture_output=True, text=True)
    assert p.returncode == 0 and "SUCCESS" in p.stdout, p.stdout + p.stderr
    with open(RULES) as f:
        alerts = {r["alert"] for g in yaml.safe_load(f)["groups"] for r in g["rules"]}
    with open(tests) as f:
        cases = yaml.safe_load(f)["tests"]
    fire = {c["alertname"] for t in cases for c in t["alert_rule_test"] if c["exp_alerts"]}
    quiet = {c["alertname"] for t in cases for c in t["alert_rule_test"] if not c["exp_alerts"]}
    assert alerts and alerts <= fire and alerts <= quiet, (alerts - fire, alerts - quiet)
    # the first kill of a cgroup first served at its kill: its own series born at 1
    born = [s for t in cases for s in t["input_series"]
            if s["series"].startswith("memscope_memcg_oom_kills_total") and
            s["values"].startswith("_ _ 1")]
    assert born, "no promtool case for a cgroup's first kill"


def test_families_documented_with_their_labels_and_values_true(exporter):
    before, rss_before = meminfo(), all_rss()
    body = exporter.scrape()
    samples, types = parse(body)
    after, rss_after = meminfo(), all_rss()
    # a counter counts since the start, whatever an interval view says of the same field;
    # a node's total is its zones', not the system's MemTotal
    helps = dict(l[len("# HELP "):].split(" ", 1) for l in body.splitlines()
                 if l.startswith("# HELP "))
    for name, kind in types.items():
        assert kind != "counter" or "interval" not in helps[name], (name, helps[name])
    assert "MemTotal" not in helps["memscope_node_total_bytes"], helps["memscope_node_total_bytes"]
    docs = documented()
    for name, kind in types.items():
        assert name in docs, f"{name} is served but not in docs/METRICS.md"
        assert docs[name][0] == kind, (name, kind, docs[name])
    for name, rows in samples.items():
        for labels, _ in rows:
            labels_as_documented(name, labels, docs)
    # every always-present family is there (the rest need an event, --processes, or a
    # memory cgroup of the kind; test_memcg_families_equal_the_cgroup_files has those)
    needs_event = {"memscope_page_alloc_failures_total", "memscope_oom_last_kill_timestamp_seconds"}
    for name in docs:
        if name.startswith(("memscope_oom_last_victim_", "memscope_memcg_")) or \
                name in needs_event:
            continue
        if name.startswith("memscope_pressure_") and not os.path.exists("/proc/pressure/memory"):
            continue
        if name.startswith("memscope_reclaim_to_reclaim") or name in (
                "memscope_system_writeback_tmp_bytes", "memscope_system_nfs_unstable_bytes",
                "memscope_node_writeback_tmp_bytes", "memscope_node_nfs_unstable_bytes",
                "memscope_zone_promo_bytes", "memscope_zone_free_cma_bytes",
                "memscope_zone_unusable_index", "memscope_zone_fragmentation_index",
                "memscope_memory_zswap_bytes", "memscope_memory_unaccepted_bytes"):
            continue  # absent where this kernel has no such counter (or no hook)
        if name.startswith("memscope_cache_file_"):
            continue  # with --files N only
        assert name in types, f"{name} documented but not served"
    # the values: within /proc/meminfo read around the scrape
    for ours, theirs in (("free", "MemFree"), ("available", "MemAvailable"),
                         ("total", "MemTotal")):
        got = value(samples, f"memscope_system_{ours}_bytes")
        assert within_bracket(got, before[theirs], after[theirs]), (ours, got, before[theirs])
    assert value(samples, "memscope_build_info") == 1
    # the five largest, or every process with memory where there are fewer (a small guest)
    listed = len(samples["memscope_process_rss_bytes"])
    assert listed == 5 or listed == len([d for d in os.listdir("/proc") if d.isdigit() and
                                         "VmSize" in open_status(d)]), listed
    # each listed process is what /proc says it is, and none left out is clearly larger
    # (which processes are largest depends on what else runs: not asserted by name)
    # (/proc read before and after the scrape: a process may grow meanwhile, a linker say)
    rss = {p: min(v, rss_before[p]) for p, v in rss_after.items() if p in rss_before}
    rows = samples["memscope_process_rss_bytes"]
    for labels, v in rows:
        pid = labels["pid"]
        if pid in rss:
            assert within_bracket(v, rss_before[pid], rss_after[pid], 0.01), (labels, v)
    smallest = min(v for _, v in rows)
    listed_pids = {l["pid"] for l, _ in rows}
    # a process the kernel's task iterator never yields cannot be listed (PID 1 on
    # this machine: bpftool's own iterator agrees; see test_proc)
    yielded = {str(p) for p in pids_the_kernel_iterator_yields()}
    larger = [p for p, v in rss.items() if p not in listed_pids and p in yielded and
              v > smallest + (8 << 20)]
    assert not larger, (larger, smallest)


def all_rss():
    """VmRSS of every process now: {pid (text): bytes}."""
    rss = {}
    for pid in (d for d in os.listdir("/proc") if d.isdigit()):
        m = re.search(r"^VmRSS:\s+(\d+) kB", open_status(pid), re.M)
        if m:
            rss[pid] = int(m.group(1)) << 10
    return rss


def open_status(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            return f.read()
    except OSError:
        return ""


def memcg_hierarchy():
    """The memory controller's mount and the memory.stat line of file refaults there."""
    if os.path.exists("/sys/fs/cgroup/cgroup.controllers") and \
            "memory" in open("/sys/fs/cgroup/cgroup.controllers").read():
        return "/sys/fs/cgroup", "workingset_refault_file"
    return "/sys/fs/cgroup/memory", "total_workingset_refault_file"  # v1: the subtree's


def file_refaults():
    """{cgroup: memory.stat's file refaults (pages), None where the kernel writes no such
    line (v2 before 5.9, v1 before 6.1)} for each cgroup below the root."""
    top, key = memcg_hierarchy()
    out = {}
    for d, _, _ in os.walk(top):
        try:
            with open(os.path.join(d, "memory.stat")) as f:
                lines = dict(l.split() for l in f if l.strip())
        except OSError:
            continue  # gone, or the root's (v2 before 6.x has none)
        if d != top:
            out[d[len(top):]] = int(lines[key]) if key in lines else None
    return out


@pytest.fixture
def own_memcg():
    """A memory cgroup with a process in it: a machine with none below the root (the test
    guest) has one for the exporter to serve."""
    cg = MemoryCgroup("memscope-test-exporter-counters", 256 << 20)
    p = cg.run("sleep 600")
    while not open(f"{cg.path}/cgroup.procs").read().strip():
        time.sleep(0.05)
    yield cg
    p.kill()
    p.wait()
    cg.remove()


def test_counters_never_decrease_between_scrapes(own_memcg, exporter):
    before = file_refaults()
    first, types = parse(exporter.scrape())
    after = file_refaults()
    drop_caches()
    second, _ = parse(exporter.scrape())
    counters = [n for n, t in types.items() if t == "counter"]
    assert "memscope_reclaim_scanned_bytes_total" in counters
    # file refaults: a series exactly for each served cgroup whose memory.stat has the
    # line, its value the kernel's between the reads around the scrape; none elsewhere
    served = {l["cgroup"] for l, _ in first["memscope_memcg_usage_bytes"]}
    assert served, "no memory cgroup served: the check below is void"
    name = "memscope_memcg_refault_file_bytes_total"
    got = {l["cgroup"]: v for l, v in first.get(name, [])}
    page = os.sysconf("SC_PAGE_SIZE")
    for cg in served & before.keys() & after.keys():
        if before[cg] is None:
            assert cg not in got, (cg, got[cg])
        else:
            assert cg in got and before[cg] * page <= got[cg] <= after[cg] * page, \
                (cg, before[cg], after[cg], got.get(cg))
    # (a cgroup made or removed around the scrape: whichever read saw it)
    known = [before.get(cg, after.get(cg)) is not None for cg in served]
    assert (name in counters) == any(known), (served, got)
    for name in counters:
        for labels, v in first[name]:
            later = [w for l, w in second[name] if l == labels]
            # a memory cgroup may leave the largest few (--memcgs) between the scrapes
            assert later or "cgroup" in labels, (name, labels)
            assert not later or later[0] >= v, (name, labels, v, later)
    assert value(second, "memscope_exporter_scrapes_total") == \
        value(first, "memscope_exporter_scrapes_total") + 1


def memcg_read(path):
    """A file not in the page cache read in a 64 MiB memory cgroup: memcg reclaim stalls."""
    drop_caches()
    cg = MemoryCgroup("memscope-test-exporter-reclaim", 64 << 20)
    try:
        cg.run(f"cat {path}").wait(timeout=120 * SLOWDOWN)
    finally:
        cg.remove()


def test_stall_histogram_counts_what_reclaim_counts(exporter, data_file):
    reclaim = subprocess.Popen([MEMSCOPE, "reclaim", "--json", "-i", "1"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_attached(reclaim)
    before, _ = parse(exporter.scrape())
    memcg_read(data_file)
    time.sleep(1.5)  # reclaim's interval holding the last stall has ended
    after, _ = parse(exporter.scrape())
    reclaim.send_signal(signal.SIGINT)
    out, err = reclaim.communicate(timeout=30 * SLOWDOWN)
    assert reclaim.returncode == 0, err
    counted = sum(r["count"] for r in map(loads, out.splitlines())
                  if r["type"] == "reclaim_stalls" and r["reclaimer"] == "memcg")
    assert counted > 0, "the workload caused no memcg reclaim stall: test is void"
    name = "memscope_reclaim_stall_seconds"
    grew = (value(after, name + "_count", reclaimer="memcg") -
            value(before, name + "_count", reclaimer="memcg"))
    assert grew == counted
    buckets = [(float(l["le"]), v) for l, v in after[name + "_bucket"]
               if l["reclaimer"] == "memcg"]
    assert [b for b, _ in buckets] == sorted(b for b, _ in buckets)
    assert all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:])), "not cumulative"
    assert buckets[-1] == (float("inf"), value(after, name + "_count", reclaimer="memcg"))
    assert value(after, name + "_sum", reclaimer="memcg") > value(before, name + "_sum",
                                                                  reclaimer="memcg")


RULES = os.path.join(ROOT, "contrib", "prometheus", "memscope-rules.yml")


class Prometheus:
    """Debian's Prometheus server, scraping the exporter every second (or these jobs),
    and evaluating the rules every second, with rules=True."""

    def __init__(self, target, rules=False, jobs=None):
        self.dir = tempfile.mkdtemp(prefix="memscope-prom-")
        self.port = free_port()
        cfg = os.path.join(self.dir, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                    "  evaluation_interval: 1s\n" +
                    (f"rule_files: ['{RULES}']\n" if rules else "") +
                    "scrape_configs:\n" + (jobs or "  - job_name: memscope\n    static_configs:\n"
                                            f"      - targets: ['{target}']\n"))
        self.p = subprocess.Popen(["prometheus", f"--config.file={cfg}",
                                   f"--storage.tsdb.path={self.dir}/data",
                                   f"--web.listen-address=127.0.0.1:{self.port}",
                                   "--log.level=warn"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.wait(lambda: self.api("query", query="up")["data"]["result"], 60 * SLOWDOWN)

    def api(self, what, **params):
        url = f"http://127.0.0.1:{self.port}/api/v1/{what}?{urllib.parse.urlencode(params)}"
        try:
            with urllib.request.urlopen(url, timeout=10 * SLOWDOWN) as r:
                return json.load(r)
        except (ConnectionError, urllib.error.URLError):
            if self.p.poll() is not None:
                raise AssertionError("prometheus exited: " + self.p.stderr.read())
            return {"data": {"result": []}}

    def query(self, q):
        """{labels without __name__: value} of an instant query."""
        res = self.api("query", query=q)["data"]["result"]
        return {tuple(sorted((k, v) for k, v in r["metric"].items() if k != "__name__")):
                float(r["value"][1]) for r in res}

    def query_range(self, q, start, end):
        """[(labels, [values])] of a range query at 1 s steps; a query Prometheus
        refuses fails the test with its error."""
        url = f"http://127.0.0.1:{self.port}/api/v1/query_range?" + urllib.parse.urlencode(
            {"query": q, "start": start, "end": end, "step": 1})
        try:
            with urllib.request.urlopen(url, timeout=30 * SLOWDOWN) as r:
                res = json.load(r)
        except urllib.error.HTTPError as e:
            raise AssertionError(f"{q}: {e.read().decode()}")
        return [(r["metric"], [float(v) for _, v in r["values"]])
                for r in res["data"]["result"]]

    def wait(self, cond, timeout):
        end = time.time() + timeout
        while time.time() < end:
            got = cond()
            if got:
                return got
            time.sleep(0.5)
        raise AssertionError("prometheus: timed out")

    def stop(self):
        self.p.terminate()
        self.p.wait(timeout=30)
        shutil.rmtree(self.dir, ignore_errors=True)


def allowed_split(samples):
    """Failures so far by failure_allowed, by order and zone and by reason alone."""
    return {name: {a: total(samples, name, failure_allowed=a) for a in ("true", "false")}
            for name in ("memscope_page_alloc_failures_total",
                         "memscope_page_alloc_failures_by_reason_total")}


def test_failures_are_split_by_whether_the_caller_allowed_them(exporter):
    """failure_allowed is "true" for a failure whose flags hold __GFP_NOWARN, "false" for
    any other, in both failure families, and every reason has both series from 0 at the
    start. Truth: the kernel's own mm_page_alloc failure records (pfn -1) with their
    flags, over the huge page pool's overshoot (order-9 failures with __GFP_NOWARN)."""
    first, _ = parse(exporter.scrape())
    for reason in {l["reason"] for l, _ in
                   first["memscope_page_alloc_failures_by_reason_total"]}:
        for a in ("true", "false"):
            value(first, "memscope_page_alloc_failures_by_reason_total", reason=reason,
                  failure_allowed=a)
    trace = TraceInstance("memscope_exporter_allowed", "kmem/mm_page_alloc",
                          "pfn == 18446744073709551615")
    with open(os.path.join(trace.dir, "buffer_size_kb"), "w") as f:
        f.write("16384")
    h = HugepageOvershoot()
    try:
        before, _ = parse(exporter.scrape())
        h.run()
        after, _ = parse(exporter.scrape())
        kernel = trace.lines()
        overruns = trace_overruns(trace)
    finally:
        h.restore()
        trace.remove()
    assert not overruns, "tracefs lost failures: void"
    nowarn = [l for l in kernel if "__GFP_NOWARN" in l.split("gfp_flags=")[-1]]
    assert nowarn, "tracefs saw no failure with __GFP_NOWARN: the test is void"
    assert total(after, "memscope_events_lost_total") == \
        total(before, "memscope_events_lost_total")
    b, a = allowed_split(before), allowed_split(after)
    for name in a:
        got = {k: a[name][k] - b[name][k] for k in a[name]}
        assert got == {"true": len(nowarn), "false": len(kernel) - len(nowarn)}, \
            (name, got, len(kernel), len(nowarn))


def test_prometheus_scrapes_kills_and_failures(exporter):
    prom = Prometheus(f"127.0.0.1:{exporter.port}")
    cg = MemoryCgroup("memscope-test-exporter-oom", 64 << 20)
    try:
        up = prom.wait(lambda: prom.query('up{job="memscope"} == 1'), 30 * SLOWDOWN)
        assert up
        # every documented always-there family arrived through Prometheus with its labels
        for name in ("memscope_system_available_bytes", "memscope_zone_free_blocks",
                     "memscope_reclaim_scanned_bytes_total", "memscope_reclaim_stall_seconds_bucket",
                     "memscope_build_info", "memscope_process_rss_bytes"):
            rows = prom.wait(lambda: prom.query(name), 30 * SLOWDOWN)
            for labels in rows:
                labels_as_documented(name, dict(labels), documented(), ("instance", "job"))
        base = prom.query("sum(memscope_page_alloc_failures_total{order=\"9\"})")
        w = cg.run(f"{WORKLOAD} --anon 256")
        assert w.wait(timeout=60 * SLOWDOWN) == -signal.SIGKILL
        HugepageOvershoot().run()
        kills = prom.wait(lambda: prom.query(
            'memscope_oom_kills_total{constraint="memcg"} >= 1'), 30 * SLOWDOWN)
        assert list(kills.values()) == [1.0]
        rose = prom.wait(lambda: prom.query(
            'sum(memscope_page_alloc_failures_total{order="9"})'), 30 * SLOWDOWN)
        assert list(rose.values())[0] >= 1 + (list(base.values())[0] if base else 0)
        victim = prom.wait(lambda: prom.query(f"memscope_oom_last_victim_pid == {w.pid}"),
                           30 * SLOWDOWN)
        assert list(victim.values()) == [w.pid]
        assert prom.query("memscope_oom_last_victim_rss_anon_bytes >= 33554432")
        info = prom.query("memscope_oom_last_victim_info")
        assert [dict(k) for k in info] == [{"instance": f"127.0.0.1:{exporter.port}",
                                            "job": "memscope", "comm": "workload",
                                            "cgroup": cg.rel, "constraint": "memcg"}], info
    finally:
        prom.stop()
        cg.remove()


# ---- the fleet view: memory cgroups, HugeTLB, the rules and the dashboard, in Prometheus ----

# A reader that stops itself (so the tracing can start on its pid), then reads a file
# twice through its cgroup's limit: memcg reclaim stalls and page cache refaults.
READER = ("import os, signal, sys\n"
          "os.kill(os.getpid(), signal.SIGSTOP)\n"
          "for _ in range(2):\n"
          "    with open(sys.argv[1], 'rb', buffering=0) as f:\n"
          "        while f.read(1 << 20):\n"
          "            pass\n")


def start_in(cg, *argv):
    """argv started inside cg (killable by the OOM killer where the runner is not)."""
    return subprocess.Popen(["sh", "-c", 'echo 0 > /proc/self/oom_score_adj; '
                             'echo $$ > "$1/cgroup.procs" && shift && exec "$@"', "sh",
                             cg.path, *argv], stdout=subprocess.DEVNULL)


def traced(name, event, pid):
    """A tracefs instance recording event for one pid, with room for every event."""
    t = TraceInstance(name, event, f"common_pid == {pid}")
    with open(os.path.join(t.dir, "buffer_size_kb"), "w") as f:
        f.write("16384")
    return t


class Fleet:
    """Three memory cgroups below one parent, the exporter serving them (--cgroup) and a
    real Prometheus scraping it every second with contrib's rules loaded, while: a holds
    40 MiB (stopped), b reads a 256 MiB file twice through its 64 MiB limit (memcg reclaim
    stalls, refaults; traced for the truth), c is OOM-killed once it has been served,
    and an order-9 allocation fails."""

    def __init__(self, data_file):
        self.parent = parent_cgroup("memscope-test-fleet")
        self.cg = {k: MemoryCgroup(f"{self.parent.rel[1:]}/{k}", 64 << 20) for k in "abc"}
        self.procs, self.traces = [], []
        self.holder = self.cg["a"].run(f"{WORKLOAD} --anon 40 --stop")
        self.procs.append(self.holder)
        wait_stopped([self.holder])
        self.e = Exporter("--memcgs", 10, "--cgroup", self.parent.rel)
        self.prom = Prometheus(f"127.0.0.1:{self.e.port}", rules=True)
        self.start = time.time()
        rel = {k: cg.rel for k, cg in self.cg.items()}
        # every cgroup served, c with no kill yet, before anything happens
        self.prom.wait(lambda: len(self.prom.query(
            f'memscope_memcg_oom_kills_total{{cgroup=~"{self.parent.rel}/.*"}} == 0')) == 3,
            30 * SLOWDOWN)
        drop_caches()
        reader = start_in(self.cg["b"], sys.executable, "-c", READER, data_file)
        self.procs.append(reader)
        wait_stopped([reader])
        self.traces = [traced(f"memscope-fleet-{n}", f"vmscan/mm_vmscan_{n}", reader.pid)
                       for n in ("memcg_reclaim_end", "direct_reclaim_end",
                                 "lru_shrink_inactive")]
        reader.send_signal(signal.SIGCONT)
        assert reader.wait(timeout=300 * SLOWDOWN) == 0
        self.before_kill = time.time()
        killed = self.cg["c"].run(f"{WORKLOAD} --anon 256")
        assert killed.wait(timeout=60 * SLOWDOWN) == -signal.SIGKILL, "no OOM kill: void"
        self.victim = killed.pid
        HugepageOvershoot().run()
        self.settled = time.time()
        # a scrape after all that
        self.prom.wait(lambda: self.prom.query(
            f'timestamp(up{{job="memscope"}}) > {self.settled + 1}'), 30 * SLOWDOWN)
        self.rel = rel

    def stop(self):
        for t in self.traces:
            t.remove()
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.prom.stop()
        if self.e.p.poll() is None:
            self.e.stop()
        for cg in self.cg.values():
            cg.remove()
        self.parent.remove()


@pytest.fixture(scope="module")
def fleet(data_file):
    f = Fleet.__new__(Fleet)
    try:
        f.__init__(data_file)
        yield f
    finally:
        if hasattr(f, "prom"):
            f.stop()
        else:
            for p in getattr(f, "procs", []):
                p.kill()
            for cg in getattr(f, "cg", {}).values():
                cg.remove()
            if hasattr(f, "parent"):
                f.parent.remove()
            if hasattr(f, "e"):
                f.e.stop()


def strace_of(pid, args, action):
    """What strace args saw of process pid (all its threads) while action() ran."""
    out = tempfile.mktemp(prefix="memscope-strace-")
    st = subprocess.Popen(["strace", "-f", "-qq", *args, "-o", out, "-p", str(pid)],
                          stderr=subprocess.PIPE, text=True)
    try:
        # strace is attached once the tracer shows in the process's status
        end = time.time() + 30 * SLOWDOWN
        while "TracerPid:\t0" in open_status(pid) and time.time() < end:
            time.sleep(0.1)
        assert "TracerPid:\t0" not in open_status(pid), "strace did not attach"
        action()
        if st.poll() is None:
            st.terminate()
        st.wait(timeout=30 * SLOWDOWN)
        with open(out) as f:
            return f.read()
    finally:
        if st.poll() is None:
            st.kill()
            st.wait()
        if os.path.exists(out):
            os.unlink(out)


def test_memcg_scrape_reads_no_file_twice_and_no_usage_file(fleet):
    """The cgroups' counters come from one pass of the kernel's cgroup iterator, and a
    served cgroup's memory.stat stays open from one scrape to the next: once they are
    served, scrapes open no cgroup file at all (strace; each opens /proc/meminfo)."""
    trace = strace_of(fleet.e.p.pid, ["-e", "trace=openat,open"],
                      lambda: [fleet.e.scrape() for _ in range(3)])
    opened = re.findall(r'open(?:at)?\(.*?"([^"]*/memory\.[^"]*)"', trace)
    assert trace.count('"/proc/meminfo"') >= 3, "the scrapes were not traced: void"
    assert not opened, opened


def memcg_truth(cg):
    """The exporter's families of a cgroup from its own files (as memscope cgroup's test
    reads them)."""
    from test_cgroup import files, kv, truth
    f = files(cg)
    t = truth(f)
    page = os.sysconf("SC_PAGE_SIZE")
    v2 = "memory.current" in f
    out = {"usage_bytes": t["usage_bytes"], "limit_bytes": t["limit_bytes"],
           "anon_bytes": t["anon_bytes"], "file_bytes": t["file_bytes"],
           "inactive_file_bytes": t["inactive_file_bytes"],
           "working_set_bytes": max(0, t["usage_bytes"] - t["inactive_file_bytes"]),
           "events_oom_kill_total": t["events_oom_kill"],
           "refault_file_bytes_total": t["refault_file_pages"] * page}
    if v2:
        out["events_max_total"] = kv(f["memory.events"])["max"]
    else:
        out["failcnt_total"] = t["failcnt"]
    return out


def served_now(prom, cgroup, keys):
    """{key: value} of the cgroup's families in Prometheus' latest scrape."""
    q = "|".join(keys)
    res = prom.api("query", query=f'{{__name__=~"memscope_memcg_({q})",cgroup="{cgroup}"}}')
    out = {}
    for r in res["data"]["result"]:
        key = r["metric"]["__name__"][len("memscope_memcg_"):]
        assert key not in out, f"{cgroup}: two series of {key}"
        out[key] = float(r["value"][1])
    return out


def test_memcg_families_equal_the_cgroup_files(fleet):
    """Through Prometheus: each cgroup's usage, limit, breakdown, working set, refaults,
    limit hits and OOM kills (the kernel's counter and memscope's own) equal the cgroup's
    files read around the scrape; c's one kill is 1 in both, a's and b's 0. Where the
    kernel's events name no victim's cgroup, memscope's own count is absent, not 0."""
    named = kills_name_victim_memcg()
    for name, cg in fleet.cg.items():
        for _ in range(20):  # until a scrape falls between two equal readings
            before, t0 = memcg_truth(cg), time.time()
            fleet.prom.wait(lambda: fleet.prom.query(
                f'timestamp(memscope_memcg_usage_bytes{{cgroup="{cg.rel}"}}) > {t0}'),
                30 * SLOWDOWN)
            got = served_now(fleet.prom, cg.rel, list(before) + ["oom_kills_total"])
            if memcg_truth(cg) == before:
                break
        else:
            raise AssertionError(f"{name}'s files never held still across a scrape")
        for key, want in before.items():
            assert got.get(key) == want, (name, key, got.get(key), want)
        if named:
            assert got["oom_kills_total"] == before["events_oom_kill_total"], (name, got)
        else:
            assert "oom_kills_total" not in got, (name, got)
        assert before["limit_bytes"] == 64 << 20
    assert memcg_truth(fleet.cg["c"])["events_oom_kill_total"] == 1
    assert memcg_truth(fleet.cg["a"])["usage_bytes"] >= 40 << 20


def test_memcg_reclaim_attributed_as_the_kernel_traced_it(fleet):
    """b's reader: its stalls (the histogram's count) are its memcg_reclaim_end and
    direct_reclaim_end events, its scanned and reclaimed bytes the sums of its
    lru_shrink_inactive events (tracefs, filtered by its pid); a, which only sleeps,
    has none."""
    assert all(trace_overruns(t) == 0 for t in fleet.traces), "the trace lost events"
    ends = [len(t.lines()) for t in fleet.traces[:2]]
    shrink = [tuple(map(int, re.search(r"nr_scanned=(\d+) nr_reclaimed=(\d+)", l).groups()))
              for l in fleet.traces[2].lines()]
    assert sum(ends) > 0 and shrink, "the reader did not reclaim: void"
    page = os.sysconf("SC_PAGE_SIZE")
    b, a = fleet.rel["b"], fleet.rel["a"]
    q = fleet.prom.query
    assert list(q(f'memscope_memcg_reclaim_stall_seconds_count{{cgroup="{b}"}}').values()) \
        == [sum(ends)]
    assert list(q(f'memscope_memcg_reclaim_scanned_bytes_total{{cgroup="{b}"}}').values()) \
        == [sum(s for s, _ in shrink) * page]
    assert list(q(f'memscope_memcg_reclaim_reclaimed_bytes_total{{cgroup="{b}"}}').values()) \
        == [sum(r for _, r in shrink) * page]
    assert list(q(f'memscope_memcg_reclaim_stall_seconds_count{{cgroup="{a}"}}').values()) \
        == [0]
    buckets = q(f'memscope_memcg_reclaim_stall_seconds_bucket{{cgroup="{b}"}}')
    assert max(buckets.values()) == sum(ends) and len(buckets) == 11
    # the refault estimate of the working set: anon + active file at least, at most usage
    wsr = list(q(f'memscope_memcg_working_set_refault_bytes{{cgroup="{b}"}}').values())
    usage = list(q(f'memscope_memcg_usage_bytes{{cgroup="{b}"}}').values())
    assert wsr and 0 < wsr[0] <= usage[0]


def test_first_kill_of_a_cgroup_alerts(fleet):
    """c's first OOM kill: its kill counter was served at 0 before it and 1 after, the
    machine's memscope_oom_kills_total rose from 0, and contrib's MemscopeOOMKill fired
    in Prometheus, naming the victim and its cgroup. Where the kernel's events name no
    victim's cgroup: no counter of c at all, and the cgroup is unknown."""
    c = fleet.rel["c"]
    named = kills_name_victim_memcg()
    now = time.time()
    series = fleet.prom.query_range(f'memscope_memcg_oom_kills_total{{cgroup="{c}"}}',
                                    fleet.start, now)
    if named:
        assert len(series) == 1 and series[0][1][0] == 0 and series[0][1][-1] == 1, series
    else:
        assert series == [], series
    total = fleet.prom.query_range('memscope_oom_kills_total{constraint="memcg"}',
                                   fleet.start, now)
    assert total[0][1][0] == 0 and total[0][1][-1] == 1, total
    res = fleet.prom.wait(lambda: fleet.prom.api("query", query=(
        'ALERTS{alertname="MemscopeOOMKill",alertstate="firing",constraint="memcg"}'))
        ["data"]["result"], 30 * SLOWDOWN)
    assert len(res) == 1
    rules = fleet.prom.api("rules", type="alert")["data"]["groups"][0]["rules"]
    alert = [a for r in rules if r["name"] == "MemscopeOOMKill" for a in r["alerts"]]
    where = c if named else "unknown"
    assert f"The last victim: workload in memory cgroup {where}." in \
        alert[0]["annotations"]["description"], alert


def dashboard():
    with open(os.path.join(ROOT, "contrib", "grafana", "memscope.json")) as f:
        return json.load(f)


# The variables Grafana fills in, as the test's Prometheus (1 s scrapes) needs them.
GRAFANA_VARS = {"$__rate_interval": "10s", "$__interval": "5s", "$__range": "300s",
                "$instance": ".*", "$cgroup": ".*"}


def expand(expr):
    for k, v in sorted(GRAFANA_VARS.items(), key=lambda kv: -len(kv[0])):
        expr = expr.replace(k, v)
    return expr


def test_dashboard_queries_return_data(fleet):
    """Every query of contrib/grafana/memscope.json (each panel's, each annotation's, each
    variable's) run against the Prometheus that scraped the fleet's workload: each panel
    and annotation has a number (not NaN) somewhere in the run, every query is valid."""
    d = dashboard()
    now = time.time()
    empty = []
    for p in d["panels"]:
        if p["type"] == "row":
            continue
        found = False
        for t in p["targets"]:
            for _, values in fleet.prom.query_range(expand(t["expr"]), fleet.start, now):
                found |= any(v == v for v in values)  # NaN != NaN
        if not found:
            empty.append(p["title"])
    for a in d["annotations"]["list"]:
        if "expr" in a and not fleet.prom.query_range(expand(a["expr"]), fleet.start, now):
            empty.append("annotation " + a["name"])
    for v in d["templating"]["list"]:
        if v["type"] != "query":
            continue
        m = re.fullmatch(r"label_values\((.*), (\w+)\)", v["query"]["query"])
        got = fleet.prom.api(f"label/{m[2]}/values", **{"match[]": expand(m[1])})["data"]
        if not got:
            empty.append("variable " + v["name"])
    assert not empty, f"no data: {empty}"


# Grafana's classic dashboard model (the one its dashboard library imports), as its
# schema kind states it: the version this JSON is written for is the one documented.
GRAFANA_SCHEMA_VERSION = 39
PANEL_TYPES = {"row", "timeseries", "table", "bargauge", "stat", "gauge", "heatmap", "text"}


def test_dashboard_is_a_grafana_dashboard_of_the_documented_schema():
    d = dashboard()
    with open(os.path.join(ROOT, "README.md")) as f:
        assert f"schemaVersion {GRAFANA_SCHEMA_VERSION}" in f.read()
    assert d["schemaVersion"] == GRAFANA_SCHEMA_VERSION
    assert d["title"] and 8 <= len(d["uid"]) <= 40 and d["graphTooltip"] in (0, 1, 2)
    names = {v["name"] for v in d["templating"]["list"]}
    assert {"datasource", "instance", "cgroup"} <= names
    for v in d["templating"]["list"]:
        assert v["type"] in ("query", "datasource", "custom", "interval", "constant",
                             "textbox", "adhoc"), v
        assert v["hide"] in (0, 1, 2)
    ds = {"type": "prometheus", "uid": "${datasource}"}
    for a in d["annotations"]["list"]:
        assert {"name", "datasource", "enable", "iconColor"} <= set(a), a
        assert a.get("builtIn") or a["datasource"] == ds
    ids, cells, y_row = set(), set(), -1
    for p in d["panels"]:
        assert p["type"] in PANEL_TYPES and p["title"], p
        assert p["id"] not in ids
        ids.add(p["id"])
        g = p["gridPos"]
        assert g["h"] > 0 and 0 < g["w"] <= 24 and 0 <= g["x"] < 24 and g["x"] + g["w"] <= 24
        assert g["y"] >= y_row, "panels out of order"
        y_row = g["y"] if p["type"] == "row" else y_row
        for x in range(g["x"], g["x"] + g["w"]):  # no panel over another
            for y in range(g["y"], g["y"] + g["h"]):
                assert (x, y) not in cells, p["title"]
                cells.add((x, y))
        if p["type"] == "row":
            continue
        assert p["datasource"] == ds and p["targets"], p["title"]
        refs = [t["refId"] for t in p["targets"]]
        assert len(set(refs)) == len(refs)
        for t in p["targets"]:
            assert t["datasource"] == ds and t["expr"]
    text = json.dumps(d)
    for family in set(re.findall(r"memscope_\w+", text)):
        base = re.sub(r"_(bucket|sum|count)$", "", family)
        assert family in documented() or base in documented(), family


def test_hugetlb_families_equal_meminfo():
    """A pool of 4 huge pages, 2 more allowed as surplus, and a mapping of 5 of them with
    one touched: 5 in the pool (1 surplus), 4 free, 4 reserved. Through Prometheus, every
    HugeTLB family equals /proc/meminfo's line read around the scrape."""
    files = {k: f"/proc/sys/vm/{k}" for k in ("nr_hugepages", "nr_overcommit_hugepages")}
    orig = {k: open(p).read().strip() for k, p in files.items()}
    e = Exporter("--memcgs", 0)
    prom = Prometheus(f"127.0.0.1:{e.port}")
    holder = None
    want = {"hugetlb_pages": "HugePages_Total", "hugetlb_free_pages": "HugePages_Free",
            "hugetlb_reserved_pages": "HugePages_Rsvd", "hugetlb_surplus_pages": "HugePages_Surp",
            "hugetlb_page_size_bytes": "Hugepagesize", "hugetlb_bytes": "Hugetlb"}
    try:
        with open(files["nr_hugepages"], "w") as f:
            f.write("4")
        with open(files["nr_overcommit_hugepages"], "w") as f:
            f.write("2")
        assert meminfo()["HugePages_Total"] == 4, "no room for 4 huge pages: void"
        size = meminfo()["Hugepagesize"]
        holder = subprocess.Popen(
            [sys.executable, "-c", "import mmap, sys, time\n"
             f"m = mmap.mmap(-1, 5 * {size}, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | "
             "0x40000)\nm[0] = 1\nprint('ready', flush=True)\ntime.sleep(600)"],
            stdout=subprocess.PIPE, text=True)
        assert holder.stdout.readline() == "ready\n"
        before, t0 = meminfo(), time.time()
        assert (before["HugePages_Total"], before["HugePages_Free"], before["HugePages_Rsvd"],
                before["HugePages_Surp"]) == (5, 4, 4, 1), before
        prom.wait(lambda: prom.query(f'timestamp(up{{job="memscope"}}) > {t0}'), 30 * SLOWDOWN)
        got = {k: prom.query(f"memscope_system_{k}") for k in want}
        after = meminfo()
    finally:
        if holder:
            holder.kill()
            holder.wait()
        for k, p in files.items():
            with open(p, "w") as f:
                f.write(orig[k])
        prom.stop()
        e.stop()
    for key, line in want.items():
        assert before.get(line) == after.get(line), line
        # a line this kernel lacks (Hugetlb before 5.16): no series
        assert list(got[key].values()) == ([before[line]] if line in before else []), \
            (key, got[key], before.get(line))


# ---- bad input and hostile clients ----

def test_bad_listen_is_a_usage_error():
    for arg in ("nonsense", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:70000", "300.1.1.1:9",
                "[::1:9", "localhost", "example.com:80", ""):
        p = run("exporter", "--listen", arg)
        assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1, (arg, p.stderr)
    p = run("exporter", "--processes", "-1")
    assert p.returncode == 2


def test_port_in_use_is_one_line_and_exit_1():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        p = run("exporter", "--listen", f"127.0.0.1:{s.getsockname()[1]}", "-d", 5)
    assert p.returncode == 1 and len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert "in use" in p.stderr


def test_non_loopback_listen_warns():
    port = free_port()
    p = run("exporter", "--listen", f"0.0.0.0:{port}", "-d", 1, timeout=120 * SLOWDOWN)
    assert p.returncode == 0, p.stderr
    assert "reachable from other machines" in p.stderr


def raw(port, data, wait=5):
    """Send raw bytes; the status code of the answer, or None when the server closed."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait * SLOWDOWN) as s:
        try:
            s.sendall(data)
            got = s.recv(4096)
        except (ConnectionError, socket.timeout):
            return None
    m = re.match(rb"HTTP/1\.[01] (\d{3})", got)
    return int(m[1]) if m else None


def test_hostile_requests_are_refused_and_others_still_served(exporter):
    port = exporter.port
    assert raw(port, b"\x00\x01\x02 garbage\r\n\r\n") in (400, None)
    big = raw(port, b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 65536 + b"\r\n\r\n")
    assert big is None or 400 <= big < 500, big
    # a slow client holds a connection with half a request; others are still served
    slow = socket.create_connection(("127.0.0.1", port))
    slow.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
    try:
        assert exporter.get("/metrics")[0] == 200
        assert exporter.get("/nope")[0] == 404
        status, headers, _ = exporter.get("/metrics", method="POST")
        assert status == 405 and "GET" in headers.get("Allow", "")
        status, _, body = exporter.get("/metrics", method="HEAD")
        assert status == 200 and body == ""
        # no query parameter changes what is served
        a, _ = parse(exporter.get("/metrics?processes=0&debug=1")[2])
        assert set(a) == set(parse(exporter.scrape())[0])
        assert "memscope_process_rss_bytes" in a
    finally:
        slow.close()
    assert exporter.p.poll() is None


def test_exit_on_sigterm_leaves_nothing(no_bpf_leak):
    e = Exporter()
    e.scrape()
    e.stop()


def test_runs_as_nobody_with_cap_bpf_and_cap_perfmon():
    """contrib's systemd unit grants exactly these two capabilities."""
    from conftest import CLASSIC
    if CLASSIC:
        pytest.skip("classic tracepoints are attached through tracefs, root's only")
    port = free_port()
    p = subprocess.Popen(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                          "--inh-caps=-all,+bpf,+perfmon", "--ambient-caps=+bpf,+perfmon",
                          MEMSCOPE, "exporter", "--listen", f"127.0.0.1:{port}",
                          "--processes", "3"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    try:
        wait_attached(p)
        e = Exporter.__new__(Exporter)
        e.port, e.url, e.p = port, f"http://127.0.0.1:{port}", p
        samples, _ = parse(e.scrape())
        assert 1 <= len(samples["memscope_process_rss_bytes"]) <= 3
        assert value(samples, "memscope_system_available_bytes") > 0
    finally:
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=30 * SLOWDOWN)
    assert p.returncode == 0, err


def parent_cgroup(name):
    """A memory cgroup for test cgroups below it (cgroup v2: memory enabled for them)."""
    cg = MemoryCgroup(name, 1 << 30)
    control = os.path.join(cg.path, "cgroup.subtree_control")
    if os.path.exists(control):
        with open(control, "w") as f:
            f.write("+memory")
    return cg


def usage_file(cg):
    name = "memory.current" if os.path.exists(f"{cg.path}/memory.current") else \
        "memory.usage_in_bytes"
    with open(f"{cg.path}/{name}") as f:
        return int(f.read())


def wait_stopped(procs):
    end = time.time() + 60 * SLOWDOWN
    for p in procs:
        while proc_state(p.pid) != "T":
            assert time.time() < end and p.poll() is None, "a workload did not stop"
            time.sleep(0.02)


def served_cgroups(samples):
    """{cgroup: {family: number of series}} of the memscope_memcg_ families but buckets."""
    out = {}
    for name, rows in samples.items():
        if not name.startswith("memscope_memcg_") or name.endswith("_bucket"):
            continue
        for labels, _ in rows:
            fams = out.setdefault(labels["cgroup"], {})
            fams[name] = fams.get(name, 0) + 1
    return out


CHURN_BOUND = 10


@pytest.mark.parametrize("way", ["iterator", "files"])
def test_memcg_series_stay_within_the_bound_while_cgroups_come_and_go(way):
    """--memcgs 10 while 200 memory cgroups come and go, 20 at a time, each holding 1 to
    20 MiB: every scrape serves at most 10 cgroups, one series each per family, and they
    are the 10 largest by the cgroups' own usage; Prometheus never held more than 10 at
    once, saw many more over the run (they did turn over), and none once removed. Both
    ways: the kernel's cgroup iterator, and the files (where the iterator's table is too
    small for the cgroups, or a kernel has none)."""
    parent = parent_cgroup("memscope-test-churn")
    e = Exporter("--memcgs", CHURN_BOUND, "--cgroup", parent.rel,
                 env={"MEMSCOPE_TEST_MEMCG_RECS": "8"} if way == "files" else None)
    prom = Prometheus(f"127.0.0.1:{e.port}")
    live, checked_rank = [], 0
    try:
        start = time.time()
        for wave in range(10):
            born = [MemoryCgroup(f"{parent.rel[1:]}/w{wave}-{i}", 64 << 20) for i in range(20)]
            procs = [cg.run(f"{WORKLOAD} --anon {(i * 7 + wave) % 20 + 1} --stop")
                     for i, cg in enumerate(born)]
            wait_stopped(procs)
            for cg, p in live:  # the previous wave goes
                p.kill()
                p.wait()
                cg.remove()
            live = list(zip(born, procs))
            everyone = [parent] + born
            before = {cg.rel: usage_file(cg) for cg in everyone}
            samples, _ = parse(e.scrape())
            after = {cg.rel: usage_file(cg) for cg in everyone}
            served = served_cgroups(samples)
            assert len(served) <= CHURN_BOUND, sorted(served)
            for cgroup, fams in served.items():
                assert set(fams.values()) == {1}, (cgroup, fams)
            # the largest by usage, where no usage moved across the scrape enough to
            # change which they are
            rank = sorted(before, key=lambda c: (-before[c], c))
            if set(rank[:CHURN_BOUND]) == set(sorted(after, key=lambda c: (-after[c], c))
                                              [:CHURN_BOUND]):
                assert set(served) == set(rank[:CHURN_BOUND]), (sorted(served), before)
                checked_rank += 1
        for cg, p in live:
            p.kill()
            p.wait()
            cg.remove()
        live = []
        gone = time.time()
        # Prometheus' own view: the bound at every scrape, the turnover, the staleness
        prom.wait(lambda: prom.query(f'timestamp(up{{job="memscope"}}) > {gone + 2}'),
                  30 * SLOWDOWN)
        span = int(time.time() - start) + 5
        most = prom.query(f"max_over_time(count(memscope_memcg_usage_bytes)[{span}s:1s])")
        seen = prom.query("count(count by (cgroup) "
                          f"(count_over_time(memscope_memcg_usage_bytes[{span}s])))")
        left = prom.query('memscope_memcg_usage_bytes{cgroup=~".+/w.*"}')
        samples, _ = parse(e.scrape())
    finally:
        for cg, p in live:
            p.kill()
            p.wait()
            cg.remove()
        prom.stop()
        e.stop()
        parent.remove()
    assert checked_rank >= 5, f"the largest changed during {10 - checked_rank} of 10 scrapes"
    assert list(most.values()) and max(most.values()) <= CHURN_BOUND, most
    assert list(seen.values())[0] > 3 * CHURN_BOUND, f"no turnover: {seen}"
    assert not left, left
    assert list(served_cgroups(samples)) == [parent.rel]


# ---- the exporter's own resources ----


def rchar(pid):
    """Bytes process pid has read with read() and friends (/proc/PID/io)."""
    with open(f"/proc/{pid}/io") as f:
        return int(dict(l.split(": ") for l in f.read().splitlines())["rchar"])


def test_events_never_parse_the_kernel_btf_again():
    """Decoding a failure or a kill must not read the kernel's BTF (MiB, when memory is
    short): the exporter read it once at start, then never again."""
    btf = os.path.getsize("/sys/kernel/btf/vmlinux")
    e = Exporter()
    cg = MemoryCgroup("memscope-test-exporter-btf", 64 << 20)
    try:
        e.scrape()
        before = rchar(e.p.pid)
        assert cg.run(f"{WORKLOAD} --anon 256").wait(timeout=60 * SLOWDOWN) == -signal.SIGKILL
        HugepageOvershoot().run()
        samples, _ = parse(e.scrape_until(lambda text: all(
            total(parse(text)[0], name) for name in ("memscope_oom_kills_total",
                                                     "memscope_page_alloc_failures_total"))))
        kills = total(samples, "memscope_oom_kills_total")
        failures = total(samples, "memscope_page_alloc_failures_total")
        read = rchar(e.p.pid) - before
    finally:
        cg.remove()
        e.stop()
    assert kills >= 1 and failures >= 1, "no kill or failure arrived: test is void"
    assert read < btf // 2, f"read {read} bytes after start: the kernel's BTF ({btf}) again"


# ---- names a process or a cgroup gives itself ----

# What a terminal acts on (ESC, TAB, CR, BS, BEL, DEL), bidirectional controls (U+202E,
# U+2066), invalid UTF-8 and what the exposition escapes (quote, backslash, newline), each
# name within the kernel's 15 bytes. The last one is also an OOM victim's.
HOSTILE_COMMS = [b"\x1b[2J\t\r\x08\x07\x7fx", "\u202eevil\u2066x".encode(), b'a"b\\c\n\xff\xfe']
# A 255-byte cgroup name (a v1 cgroup may not have a newline in its name; all else goes),
# mostly what takes more room once escaped or replaced.
HOSTILE_CGROUP = b"memscope-test-\x1b\t\xe2\x80\xae" + (b'"\\\xff' * 79)[:236]
assert len(HOSTILE_CGROUP) == 255


def named_process(name, then="import time; time.sleep(300)"):
    """python3 -c, named name (prctl(PR_SET_NAME)), then doing then."""
    return [sys.executable, "-c", "import ctypes; ctypes.CDLL(None).prctl(15, %r, 0, 0, 0); "
            "print('ready', flush=True); %s" % (name, then)]


def text_comm(pid):
    """The process's name as `memscope proc` shows it in text."""
    out = subprocess.run([MEMSCOPE, "proc", "--once", "-p", str(pid)], capture_output=True,
                         timeout=60 * SLOWDOWN, env=dict(os.environ, COLUMNS="250")).stdout
    rows = out.decode("utf-8").splitlines()
    assert len(rows) == 2, rows
    return rows[1].split()[1]


def shown(raw, bidi_as):
    """A name as text output shows it (textsafe): '?' for each C0 control, DEL, C1 control
    and invalid byte; U+202E as bidi_as (what `memscope proc` made of it)."""
    out = []
    for ch in raw.decode("utf-8", "surrogateescape"):
        o = ord(ch)
        bad = o < 0x20 or o == 0x7f or 0x80 <= o < 0xa0 or 0xdc80 <= o <= 0xdcff
        out.append("?" if bad else bidi_as if ch == "\u202e" else ch)
    return "".join(out)


def test_hostile_names_in_labels_are_safe_and_the_scrape_valid():
    """Process names with control bytes, bidirectional controls, invalid UTF-8, quotes,
    backslashes and newlines, and an OOM kill in a 255-byte cgroup name full of them: the
    labels show what text output shows, the scrape has no byte a terminal acts on, and
    promtool and the Python client's text parser take it whole."""
    from prometheus_client.parser import text_string_to_metric_families
    procs = [subprocess.Popen(named_process(n), stdout=subprocess.PIPE) for n in HOSTILE_COMMS]
    e = Exporter("--processes", 100000)
    cg = MemoryCgroup(os.fsdecode(HOSTILE_CGROUP), 64 << 20)
    try:
        for p, name in zip(procs, HOSTILE_COMMS):
            assert p.stdout.readline() == b"ready\n"
            with open(f"/proc/{p.pid}/comm", "rb") as f:
                assert f.read().rstrip(b"\n") == name[:15], "prctl did not set the name: void"
        want_comm = {p.pid: text_comm(p.pid) for p in procs}
        bidi_as = want_comm[procs[1].pid].split("evil")[0]  # what textsafe makes of U+202E
        victim = subprocess.Popen(
            ["sh", "-c", 'echo 0 > /proc/self/oom_score_adj; echo $$ > "$1/cgroup.procs" && '
             'shift && exec "$@"', "sh", os.fsencode(cg.path),
             *named_process(HOSTILE_COMMS[2], "x = b'\\1' * (256 << 20)")],
            stdout=subprocess.DEVNULL)
        assert victim.wait(timeout=60 * SLOWDOWN) == -signal.SIGKILL, "no OOM kill: void"
        body = e.scrape_until(lambda text: "memscope_oom_last_victim_info{" in text)
    finally:
        for p in procs:
            p.kill()
            p.wait()
        e.stop()
        cg.remove()
    p = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True,
                       text=True)
    assert p.returncode == 0 and not p.stdout.strip() and not p.stderr.strip(), \
        p.stdout + p.stderr
    # bidirectional controls go where text output has them go (textsafe decides)
    gone = {c for c in "\u202e\u2066" if c not in want_comm[procs[1].pid]}
    bad = sorted({hex(ord(c)) for c in body if (ord(c) < 0x20 and c != "\n") or
                  0x7f <= ord(c) < 0xa0 or c in gone})
    assert not bad, f"the scrape carries {bad}"
    samples = [s for fam in text_string_to_metric_families(body) for s in fam.samples]
    memcg = "/" + shown(HOSTILE_CGROUP, bidi_as)
    named = kills_name_victim_memcg()  # else the victim's cgroup is unknown: no label
    info = [s.labels for s in samples if s.name == "memscope_oom_last_victim_info"]
    assert info == [{"comm": shown(HOSTILE_COMMS[2], bidi_as), **({"cgroup": memcg} if named
                     else {}), "constraint": "memcg"}], (info, memcg)
    # served first (killed in the last 15 minutes), under the name text output shows
    kills = [(s.labels, s.value) for s in samples if s.name == "memscope_memcg_oom_kills_total"
             and s.labels["cgroup"] == memcg]
    assert kills == ([({"cgroup": memcg}, 1)] if named else []), kills
    for p in procs:
        rows = [s.labels for s in samples if s.name == "memscope_process_rss_bytes" and
                s.labels["pid"] == str(p.pid)]
        assert rows == [{"pid": str(p.pid), "comm": want_comm[p.pid]}], (rows, want_comm)


# ---- clients that hold connections, and the HTTP server's resources ----

def connect_from(port, source, timeout=5):
    """A connection to the exporter from another loopback address (another client)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout * SLOWDOWN,
                                 source_address=(source, 0))
    s.settimeout(None)  # blocking: closed_by_server's look must not wait
    return s


def closed_by_server(s):
    """Has the server closed this connection (end of stream, reset or an answer)?"""
    try:
        return s.recv(1, socket.MSG_DONTWAIT) is not None
    except BlockingIOError:
        return False
    except OSError:
        return True


def test_one_client_cannot_take_every_connection(exporter):
    """A client holding idle connections gets 8 of the 32; a scrape still gets in."""
    hog = [connect_from(exporter.port, "127.0.0.2") for _ in range(32)]
    try:
        end = time.time() + 5 * SLOWDOWN
        while True:
            open_ = [s for s in hog if not closed_by_server(s)]
            if len(open_) <= 8 or time.time() > end:
                break
            time.sleep(0.1)
        assert len(open_) == 8, f"one client holds {len(open_)} connections"
        assert exporter.get("/metrics", timeout=15 * SLOWDOWN)[0] == 200
    finally:
        for s in hog:
            s.close()


def test_a_request_has_a_deadline_as_a_whole(exporter):
    """A client that sends a header line every 2 s is never idle; it is cut all the same
    (10 s per request; the bound here is generous)."""
    s = connect_from(exporter.port, "127.0.0.2")
    start = time.time()
    try:
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
        n = 0
        while not closed_by_server(s) and time.time() < start + 60 * SLOWDOWN:
            time.sleep(2)
            try:
                s.sendall(b"X-Slow-%d: y\r\n" % n)
            except OSError:
                break
            n += 1
        held = time.time() - start
    finally:
        s.close()
    assert held < 30 * SLOWDOWN, f"a trickling request held its connection {held:.0f} s"


class Trickler(threading.Thread):
    """A client on its own loopback address that sends a request line, then one header
    line every 3 s, and comes back when the server cuts it."""

    def __init__(self, port, source, stop):
        super().__init__(daemon=True)
        self.port, self.source, self.stop = port, source, stop
        self.open = False

    def run(self):
        while not self.stop.is_set():
            try:
                s = connect_from(self.port, self.source)
            except OSError:
                self.stop.wait(0.5)
                continue
            self.open = True
            try:
                s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
                n = 0
                while not self.stop.wait(3) and not closed_by_server(s):
                    s.sendall(b"X-Slow-%d: y\r\n" % n)
                    n += 1
            except OSError:
                pass
            finally:
                self.open = False
                s.close()
            self.stop.wait(0.5)


def test_scrapes_succeed_while_trickling_clients_hold_the_slots(exporter):
    """40 clients, each on its own address (so no per-client limit applies), trickle
    requests for 60 s; a scrape every 2 s must succeed all the same."""
    stop = threading.Event()
    clients = [Trickler(exporter.port, f"127.0.0.{i}", stop) for i in range(2, 42)]
    for c in clients:
        c.start()
    failed, most = [], 0
    try:
        end = time.time() + 60
        while time.time() < end:
            time.sleep(2)
            most = max(most, sum(c.open for c in clients))
            try:
                status = exporter.get("/metrics", timeout=15 * SLOWDOWN)[0]
            except (OSError, urllib.error.URLError) as e:
                status = repr(e)
            if status != 200:
                failed.append(status)
    finally:
        stop.set()
        for c in clients:
            c.join(timeout=10)
    assert most >= 32, f"at most {most} trickling connections: the slots were not all taken"
    assert not failed, f"{len(failed)} scrapes failed: {failed[:3]}"
    assert exporter.p.poll() is None


def sanitized():
    """Is memscope the AddressSanitizer build (make test-sanitize)?"""
    return "libasan" in subprocess.run(["ldd", MEMSCOPE], capture_output=True,
                                       text=True).stdout


def test_a_response_that_cannot_be_made_gives_its_text_back():
    """When MHD cannot make the response (memory short), the scrape's text is freed: the
    libfailresp.so preload fails every such response and watches free()."""
    if sanitized():
        pytest.skip("the preload replaces free(): not with AddressSanitizer's allocator")
    report = tempfile.mktemp(prefix="memscope-failresp-")
    env = dict(os.environ, LD_PRELOAD=os.path.join(ROOT, "build", "tests", "libfailresp.so"),
               FAILRESP_REPORT=report)
    port = free_port()
    p = subprocess.Popen([MEMSCOPE, "exporter", "--listen", f"127.0.0.1:{port}"], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_attached(p)
        for _ in range(3):
            with socket.create_connection(("127.0.0.1", port), timeout=30 * SLOWDOWN) as s:
                s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
                assert s.recv(4096) == b"", "answered: the preload did not fail the response"
    finally:
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=30 * SLOWDOWN)
    assert p.returncode == 0, err
    with open(report) as f:
        got = f.read().split()
    os.unlink(report)
    assert got == ["failed", "3", "freed", "3"], got


def test_the_listening_socket_is_closed_once(exporter):
    """MHD_stop_daemon closes the listening socket: closing it again could close a file
    another thread has just opened under the same number."""
    if sanitized():
        pytest.skip("LeakSanitizer at exit cannot stop threads that strace traces")
    def scrape_and_stop():
        exporter.scrape()
        exporter.stop()
    failed = strace_of(exporter.p.pid, ["-Z", "-e", "trace=close"], scrape_and_stop)
    assert "EBADF" not in failed, failed
