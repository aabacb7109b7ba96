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
                      drop_caches, loads, meminfo, run, wait_attached, within_bracket)

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
    def __init__(self, *args):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.p = subprocess.Popen([MEMSCOPE, "exporter", "--listen", f"127.0.0.1:{self.port}",
                                   *map(str, args)], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
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
    """docs/METRICS.md's families and their labels."""
    with open(os.path.join(ROOT, "docs", "METRICS.md")) as f:
        rows = re.findall(r"^\| `(memscope_\w+)` \| (\w+) \| ([^|]*) \|", f.read(), re.M)
    return {n: (t, {l.strip() for l in lab.split(",") if l.strip()}) for n, t, lab in rows}


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
    rules = os.path.join(ROOT, "contrib", "prometheus", "memscope-rules.yml")
    p = subprocess.run(["promtool", "check", "rules", rules], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr


def test_families_documented_with_their_labels_and_values_true(exporter):
    before = meminfo()
    samples, types = parse(exporter.scrape())
    after = meminfo()
    docs = documented()
    for name, kind in types.items():
        assert name in docs, f"{name} is served but not in docs/METRICS.md"
        assert docs[name][0] == kind, (name, kind, docs[name])
    for name, rows in samples.items():
        family = re.sub(r"_(bucket|sum|count)$", "", name) if name not in docs else name
        want = docs[family][1] - ({"le"} if not name.endswith("_bucket") else set())
        for labels, _ in rows:
            assert set(labels) == want, (name, labels, want)
    # every always-present family is there (the rest need an event or --processes)
    needs_event = {"memscope_page_alloc_failures_total", "memscope_oom_kills_total"}
    for name in docs:
        if name.startswith("memscope_oom_last_victim_") or name in needs_event:
            continue
        if name.startswith("memscope_pressure_") and not os.path.exists("/proc/pressure/memory"):
            continue
        if name.startswith("memscope_reclaim_to_reclaim") or name in (
                "memscope_system_writeback_tmp_bytes", "memscope_system_nfs_unstable_bytes",
                "memscope_node_writeback_tmp_bytes", "memscope_node_nfs_unstable_bytes",
                "memscope_zone_promo_bytes", "memscope_zone_free_cma_bytes",
                "memscope_zone_unusable_index", "memscope_zone_fragmentation_index"):
            continue  # absent where this kernel has no such counter (or no hook)
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
    rss = {}
    for pid in (d for d in os.listdir("/proc") if d.isdigit()):
        m = re.search(r"^VmRSS:\s+(\d+) kB", open_status(pid), re.M)
        if m:
            rss[pid] = int(m.group(1)) << 10
    rows = samples["memscope_process_rss_bytes"]
    for labels, v in rows:
        if labels["pid"] in rss:
            assert abs(v - rss[labels["pid"]]) <= max(v // 100, 1 << 20), (labels, v)
    smallest = min(v for _, v in rows)
    listed_pids = {l["pid"] for l, _ in rows}
    larger = [p for p, v in rss.items() if p not in listed_pids and v > smallest + (8 << 20)]
    assert not larger, (larger, smallest)


def open_status(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            return f.read()
    except OSError:
        return ""


def test_counters_never_decrease_between_scrapes(exporter):
    first, types = parse(exporter.scrape())
    drop_caches()
    second, _ = parse(exporter.scrape())
    counters = [n for n, t in types.items() if t == "counter"]
    assert "memscope_reclaim_scanned_pages_total" in counters
    for name in counters:
        for labels, v in first[name]:
            later = [w for l, w in second[name] if l == labels]
            assert later and later[0] >= v, (name, labels, v, later)
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


class Prometheus:
    """Debian's Prometheus server, scraping the exporter every second (or these jobs)."""

    def __init__(self, target, jobs=None):
        self.dir = tempfile.mkdtemp(prefix="memscope-prom-")
        self.port = free_port()
        cfg = os.path.join(self.dir, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
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


def test_prometheus_scrapes_kills_and_failures(exporter):
    prom = Prometheus(f"127.0.0.1:{exporter.port}")
    cg = MemoryCgroup("memscope-test-exporter-oom", 64 << 20)
    try:
        up = prom.wait(lambda: prom.query('up{job="memscope"} == 1'), 30 * SLOWDOWN)
        assert up
        # every documented always-there family arrived through Prometheus with its labels
        for name in ("memscope_system_available_bytes", "memscope_zone_free_blocks",
                     "memscope_reclaim_scanned_pages_total", "memscope_reclaim_stall_seconds_bucket",
                     "memscope_build_info", "memscope_process_rss_bytes"):
            rows = prom.wait(lambda: prom.query(name), 30 * SLOWDOWN)
            want = documented().get(name, documented().get(name[:-7], (None, set())))[1]
            for labels in rows:
                assert {k for k, _ in labels} == want | {"instance", "job"}, (name, labels)
        base = prom.query("sum(memscope_page_alloc_failures_total{order=\"9\"})")
        w = cg.run(f"{WORKLOAD} --anon 256")
        assert w.wait(timeout=60 * SLOWDOWN) == -signal.SIGKILL
        HugepageOvershoot().run()
        kills = prom.wait(lambda: prom.query(
            f'memscope_oom_kills_total{{memcg="{cg.rel}",constraint="memcg"}} >= 1'),
            30 * SLOWDOWN)
        assert list(kills.values()) == [1.0]
        rose = prom.wait(lambda: prom.query(
            'sum(memscope_page_alloc_failures_total{order="9"})'), 30 * SLOWDOWN)
        assert list(rose.values())[0] >= 1 + (list(base.values())[0] if base else 0)
        victim = prom.query(f'memscope_oom_last_victim_rss_anon_bytes{{pid="{w.pid}"}}')
        assert victim and list(victim.values())[0] >= 32 << 20
    finally:
        prom.stop()
        cg.remove()


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


def test_memcg_label_is_capped():
    """--memcgs 1: the first cgroup with a kill keeps its name, the next is "other"."""
    e = Exporter("--memcgs", "1")
    cgs = [MemoryCgroup(f"memscope-test-exporter-cap{i}", 64 << 20) for i in range(2)]
    try:
        for cg in cgs:
            assert cg.run(f"{WORKLOAD} --anon 256").wait(timeout=60 * SLOWDOWN) == \
                -signal.SIGKILL
        samples, _ = parse(e.scrape_until(
            lambda text: total(parse(text)[0], "memscope_oom_kills_total") >= 2))
        kills = {l["memcg"]: v for l, v in samples.get("memscope_oom_kills_total", [])}
    finally:
        for cg in cgs:
            cg.remove()
        e.stop()
    assert kills == {cgs[0].rel: 1, "other": 1}, kills


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
        body = e.scrape_until(lambda text: "memscope_oom_kills_total{" in text)
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
    kills = [s for s in samples if s.name == "memscope_oom_kills_total"]
    memcg = "/" + shown(HOSTILE_CGROUP, bidi_as)
    assert [(s.labels, s.value) for s in kills] == \
        [({"constraint": "memcg", "memcg": memcg}, 1)], (kills, memcg)
    victims = [s.labels for s in samples if s.name == "memscope_oom_last_victim_rss_anon_bytes"]
    assert victims == [{"pid": str(victim.pid), "comm": shown(HOSTILE_COMMS[2], bidi_as)}]
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
    out = tempfile.mktemp(prefix="memscope-strace-")
    st = subprocess.Popen(["strace", "-f", "-qq", "-Z", "-e", "trace=close", "-o", out,
                           "-p", str(exporter.p.pid)], stderr=subprocess.PIPE, text=True)
    try:
        # strace is attached once the tracer shows in the exporter's status
        end = time.time() + 30 * SLOWDOWN
        while "TracerPid:\t0" in open_status(exporter.p.pid) and time.time() < end:
            time.sleep(0.1)
        assert "TracerPid:\t0" not in open_status(exporter.p.pid), "strace did not attach"
        exporter.scrape()
        exporter.stop()
        st.wait(timeout=30 * SLOWDOWN)
        with open(out) as f:
            failed = f.read()
    finally:
        if st.poll() is None:
            st.kill()
            st.wait()
        if os.path.exists(out):
            os.unlink(out)
    assert "EBADF" not in failed, failed
