# SPDX-License-Identifier: GPL-2.0
"""memscope leak against a program that leaks a known amount (tests/e2e/leaky.c):
100 blocks of 64 KiB from leaky_function <- leaky_caller, exactly, through each
allocator entry point; the balanced path never; what came before attaching never."""
import json
import os
import re
import signal
import subprocess
import threading
import time

import pytest

from conftest import (MEMSCOPE, ROOT, SLOWDOWN, MemoryCgroup, TraceInstance, run,
                      trace_overruns, wait_attached)

LEAKY = os.path.join(ROOT, "build", "tests", "leaky")
LEAKY_NOFP = os.path.join(ROOT, "build", "tests", "leaky_nofp")
TSTALLOC = os.path.join(ROOT, "build", "tests", "libtstalloc.so")
BYTES, COUNT = 100 * 65536, 100


class Leaky:
    """The test program, stopped before it leaks until go()."""

    def __init__(self, mode, binary=LEAKY, env=None, groups=None):
        self.p = subprocess.Popen([binary, mode], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True, env=env,
                                  extra_groups=groups)
        self.pid = self.p.pid
        assert self.p.stdout.readline() == "ready\n"

    def go(self):
        self.p.stdin.write("go\n")
        self.p.stdin.flush()
        assert self.p.stdout.readline() == "done\n"

    def round(self, first, n):
        """"stacks" mode: n distinct stacks from first allocate and free once each."""
        self.p.stdin.write(f"{first} {n}\n")
        self.p.stdin.flush()
        assert self.p.stdout.readline() == "done\n"

    def kill(self):
        self.p.kill()
        self.p.wait()


class Leak:
    """memscope leak -j, its reports read as they come (each starts with a "leak" record)."""

    def __init__(self, *args, env=None):
        self.p = subprocess.Popen([MEMSCOPE, "-j", "leak", "-i", "0.5", "--min-age", "0.2",
                                   *map(str, args)], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, env=env)
        self.reports = []
        self.cond = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        wait_attached(self.p)

    def _read(self):
        for line in self.p.stdout:
            rec = json.loads(line)
            with self.cond:
                if rec["type"] == "leak":
                    self.reports.append([])
                if self.reports:
                    self.reports[-1].append(rec)
                self.cond.notify_all()

    def wait_for(self, pred, seconds):
        """The first report after now that satisfies pred (or the last one seen)."""
        with self.cond:
            start = len(self.reports)
            self.cond.wait_for(lambda: any(pred(r) for r in self.reports[start:-1]),
                               seconds * SLOWDOWN)
            done = self.reports[start:-1]
            return next((r for r in done if pred(r)), done[-1] if done else [])

    def stop(self):
        self.p.send_signal(signal.SIGINT)
        assert self.p.wait(timeout=30 * SLOWDOWN) == 0, self.p.stderr.read()
        self.reader.join(10)


def stacks(report):
    return [r for r in report if r["type"] == "leak_stack"]


def leaky_stack(report):
    return next((s for s in stacks(report)
                 if s["stack"] and s["stack"][0].startswith("leaky_function+")), None)


def exact(report):
    s = leaky_stack(report)
    return s is not None and s["allocations"] == COUNT


def traced_leak(mode, *args, binary=LEAKY, env=None, groups=None):
    """Leaky leaks while memscope leak -p traces it: the first report with the whole
    leak (or the last one seen), the test program and the memscope run."""
    w = Leaky(mode, binary, env, groups)
    try:
        m = Leak("-p", w.pid, *args)
        w.go()
        report = m.wait_for(exact, 30)
        m.stop()
    finally:
        w.kill()
    return report, w, m


@pytest.mark.parametrize("mode,extra", [
    ("malloc", []), ("calloc", []), ("realloc", []), ("posix_memalign", []),
    ("prefix", ["--lib", TSTALLOC, "--symbol-prefix", "tst_"])])
def test_leak_is_reported_exactly_at_its_stack(no_bpf_leak, mode, extra):
    report, w, m = traced_leak(mode, *extra)
    s = leaky_stack(report)
    assert s is not None, report
    # realloc: the 16-byte blocks it was given are freed by it, not counted
    assert (s["outstanding_bytes"], s["allocations"]) == (BYTES, COUNT), s
    assert s["stack"][1].startswith("leaky_caller+"), s["stack"]
    assert any(f.startswith("main+") for f in s["stack"]) and s["stack_complete"], s
    assert "leaky.c:" in s["stack"][0], "no file:line from the debug information"
    total = next(r for r in report if r["type"] == "leak")
    assert total["outstanding_bytes"] == BYTES and total["allocations"] == COUNT, total
    proc = next(r for r in report if r["type"] == "leak_process")
    assert (proc["pid"], proc["outstanding_bytes"], proc["stacks"]) == (w.pid, BYTES, 1), proc
    # the balanced path allocates and frees all along: never reported
    for rep in m.reports:
        for st in stacks(rep):
            assert not any("balanced_function" in f for f in st["stack"]), st


def test_a_process_in_many_groups_is_traced(no_bpf_leak):
    """1000 groups make /proc/PID/status 8 KiB, VmSize past its first 4 KiB: the
    process has an address space all the same."""
    groups = list(range(100000, 101000))
    report = traced_leak("malloc", groups=groups)[0]
    s = leaky_stack(report)
    assert s is not None, report
    assert (s["outstanding_bytes"], s["allocations"]) == (BYTES, COUNT), s


def test_a_walk_counts_each_allocation_once_while_the_process_frees(no_bpf_leak):
    """The balanced path allocates and frees as fast as it can while memscope reports ten
    times a second: the outstanding allocations are walked while entries go. Ground truth:
    the leak is 100 blocks exactly, and at most one balanced block is out at any time (it
    is younger than --min-age anyway); a report above that counted an entry twice."""
    w = Leaky("churn")
    try:
        m = Leak("-p", w.pid, "-i", "0.1")
        w.go()
        first = m.wait_for(exact, 30)
        seen = len(m.reports)
        m.wait_for(lambda r: len(m.reports) > seen + 40, 60)  # 40 reports more
        m.stop()
    finally:
        w.kill()
    assert exact(first), first
    whole = 0
    for rep in m.reports:
        s = leaky_stack(rep)
        total = next(r for r in rep if r["type"] == "leak")
        assert total["outstanding_bytes"] <= BYTES + 65536, total
        if s is not None:
            assert s["allocations"] <= COUNT and s["outstanding_bytes"] == 65536 * s["allocations"], s
            whole += s["allocations"] == COUNT
    assert whole >= 40, whole


def stacks_held(pid):
    """Stacks in the stack maps process pid has open: the kernel's own count (bpftool)."""
    n = 0
    for fd in os.listdir(f"/proc/{pid}/fdinfo"):
        with open(f"/proc/{pid}/fdinfo/{fd}") as f:
            info = dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
        if info.get("map_type") == "7":  # BPF_MAP_TYPE_STACK_TRACE
            out = subprocess.run(["bpftool", "-j", "map", "dump", "id", info["map_id"]],
                                 capture_output=True, text=True, check=True).stdout
            n += len(json.loads(out))
    return n


def test_stacks_of_freed_allocations_are_pruned(no_bpf_leak):
    """2048 distinct stacks, 256 at a time, each allocating and freeing once, with stack
    maps of 2048 stacks: the stacks of freed allocations must go, those of outstanding
    ones stay. Kept for ever, they filled the map and most new stacks were refused (37 %:
    1 - 1/e of 2048 fill 2048 slots, the rest collide); pruned, a round of 256 finds only
    its own in the map: 6 % collide (256 / 2 / 2048)."""
    env = dict(os.environ, MEMSCOPE_TEST_MAP_MAX="stacks=2048,stacks2=2048")
    w = Leaky("stacks")
    try:
        m = Leak("-p", w.pid, "-i", "0.2", env=env)
        w.go()
        first = m.wait_for(exact, 30)
        for r in range(8):
            w.round(256 * r, 256)
            done = time.time()
            # a stack map is pruned when it takes stacks again, 1 s after the last swap
            m.wait_for(lambda rep: rep[0]["ts"] > done + 1.5, 30)
        done = time.time()
        last = m.wait_for(lambda rep: rep[0]["ts"] > done + 2.5, 30)  # each pruned since
        held = stacks_held(m.p.pid)
        m.stop()
    finally:
        w.kill()
    assert exact(first) and exact(last), last
    later = m.reports[m.reports.index(first):]
    assert all(exact(rep) for rep in later), "the leak's stack was pruned"
    assert leaky_stack(last)["stack"][1].startswith("leaky_caller+"), last
    lost = [r for rep in m.reports for r in rep if r["type"] == "lost"]
    refused = lost[-1].get("stacks_lost", 0) + lost[-1].get("stack_collisions", 0) if lost else 0
    assert refused <= 2048 // 5, lost[-1]
    # the leak's and a few of libc's
    assert held <= 64, held


def test_growth_then_steady(no_bpf_leak):
    """The report after the leak shows it as growth; the next ones as no change."""
    w = Leaky("malloc")
    try:
        m = Leak("-p", w.pid)
        w.go()
        first = m.wait_for(exact, 30)
        later = m.wait_for(lambda r: leaky_stack(r) is not None, 30)
        m.stop()
    finally:
        w.kill()
    assert leaky_stack(later)["growth_bytes"] == 0, later
    grown = [leaky_stack(r)["growth_bytes"] for r in m.reports if leaky_stack(r)]
    assert sum(grown) == BYTES, grown
    assert first


def test_allocations_from_before_attaching_are_not_leaks(no_bpf_leak):
    w = Leaky("malloc")
    try:
        w.go()  # the leak happens before memscope attaches
        m = Leak("-p", w.pid)
        report = m.wait_for(lambda r: False, 2)
        m.stop()
    finally:
        w.kill()
    assert report, "no report"
    for rep in m.reports:
        assert leaky_stack(rep) is None, rep


def test_without_frame_pointers_the_output_says_the_stack_is_short(no_bpf_leak):
    report = traced_leak("malloc", binary=LEAKY_NOFP)[0]
    s = leaky_stack(report)
    assert s is not None, report  # the direct caller is there all the same
    assert s["outstanding_bytes"] == BYTES and not s["stack_complete"], s


@pytest.mark.parametrize("binary,env", [(LEAKY_NOFP, None), (LEAKY, None), (LEAKY_NOFP, {})],
                         ids=["no-frame-pointers", "frame-pointers", "empty-environment"])
def test_dwarf_unwinds_code_without_frame_pointers(no_bpf_leak, binary, env):
    """With an empty environment the frames are less than 2 KiB below the stack's top:
    an 8 KiB copy would fault there (the 6.1 guest's short environment found it)."""
    report = traced_leak("malloc", "--dwarf", binary=binary, env=env)[0]
    s = leaky_stack(report)
    assert s is not None, report
    assert (s["outstanding_bytes"], s["allocations"]) == (BYTES, COUNT), s
    assert s["stack"][1].startswith("leaky_caller+") and s["stack_complete"], s["stack"]
    assert any(f.startswith("main+") for f in s["stack"]), s["stack"]
    assert len(stacks(report)) == 1, stacks(report)  # one call site, one stack


def test_text_names_the_stack_and_the_sizes(no_bpf_leak):
    w = Leaky("malloc")
    try:
        p = subprocess.Popen([MEMSCOPE, "leak", "-p", str(w.pid), "-i", "1", "--min-age", "0"],
                             stdout=subprocess.PIPE, text=True)
        wait_attached(p)
        w.go()
        time.sleep(2.5 * SLOWDOWN)
        p.send_signal(signal.SIGINT)
        out = p.communicate(timeout=30)[0]
    finally:
        w.kill()
    assert "6.2 MiB in 100 allocations (malloc, pid %d leaky)" % w.pid in out, out
    assert "leaky_function+" in out and "leaky_caller+" in out, out


@pytest.mark.parametrize("args,status,says", [
    ([], 2, "which process"),
    (["--kernel", "-p", "1"], 2, "takes no -p"),
    (["--kernel", "--dwarf"], 2, "--dwarf"),
    (["-p", "999999999"], 2, "no process with PID"),
    (["-p", "1", "--lib", "/nonexistent.so"], 2, "not a file"),
    (["-p", "1", "--symbol-prefix", "je-"], 2, "prefix"),
    (["--comm", "no-such-name"], 2, "no process is named"),
    (["-p", "1", "--min-age", "-1"], 2, "--min-age"),
])
def test_bad_input_is_refused(args, status, says):
    p = run("leak", *args)
    assert p.returncode == status, (p.returncode, p.stderr)
    assert says in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr


def test_an_allocator_that_is_not_there_is_a_clear_failure(no_bpf_leak):
    w = Leaky("malloc")
    try:
        p = run("leak", "-p", str(w.pid), "--symbol-prefix", "nosuch_", "-c", "1")
    finally:
        w.kill()
    assert p.returncode == 1 and "nosuch_malloc" in p.stderr, p.stderr


def test_comm_traces_each_process_of_that_name(no_bpf_leak):
    a, b = Leaky("malloc"), Leaky("calloc")
    try:
        m = Leak("--comm", "leaky")
        a.go()
        b.go()
        report = m.wait_for(lambda r: [s["allocations"] for s in stacks(r)
                                       if s["stack"][0].startswith("leaky_function+")]
                            == [COUNT, COUNT], 30)
        m.stop()
    finally:
        a.kill()
        b.kill()
    procs = {r["pid"]: r for r in report if r["type"] == "leak_process"}
    assert set(procs) == {a.pid, b.pid}, report
    assert all(p["outstanding_bytes"] == BYTES and p["allocations"] == COUNT for p in procs.values()), procs


def test_the_end_of_the_traced_process_ends_the_run(no_bpf_leak):
    w = Leaky("malloc")
    p = subprocess.Popen([MEMSCOPE, "leak", "-p", str(w.pid), "-i", "0.3"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_attached(p)
        w.go()
    finally:
        w.kill()
    out, err = p.communicate(timeout=30 * SLOWDOWN)
    assert p.returncode == 0, err
    assert f"process {w.pid} (leaky) has exited" in err, err


def pipe_files(report):
    """Outstanding struct files made for pipes: the filp cache, from create_pipe_files."""
    return sum(s["allocations"] for s in stacks(report) if s["source"] == "filp" and
               any(f.startswith("create_pipe_files+") for f in s["stack"]))


def test_kernel_mode_sees_open_pipes_as_outstanding_files(no_bpf_leak):
    """300 pipes held open are 600 struct files from create_pipe_files, then none once
    closed. Tolerance: other processes' pipes older than --min-age, at most 10."""
    n = 300
    m = Leak("--kernel", "--top", "1000")
    fds = [os.pipe() for _ in range(n)]
    try:
        held = m.wait_for(lambda r: pipe_files(r) >= 2 * n, 30)
    finally:
        for a, b in fds:
            os.close(a)
            os.close(b)
    freed = m.wait_for(lambda r: pipe_files(r) <= 10, 30)
    m.stop()
    assert 2 * n <= pipe_files(held) <= 2 * n + 10, pipe_files(held)
    assert pipe_files(freed) <= 10, pipe_files(freed)
    srcs = {r["source"]: r for r in held if r["type"] == "leak_source"}
    assert srcs["filp"]["allocations"] >= 2 * n, srcs["filp"]
    total = next(r for r in held if r["type"] == "leak")
    assert total["processes"] is None and total["outstanding_bytes"] >= srcs["filp"]["outstanding_bytes"], total


def test_kernel_mode_says_a_refused_stack_collided(no_bpf_leak):
    """Stack maps of 64 stacks: the kernel's stacks soon find their slot taken by another.
    That is a hash collision and is said so; "full" was said of it before."""
    env = dict(os.environ, MEMSCOPE_TEST_MAP_MAX="stacks=64,stacks2=64")
    p = run("leak", "--kernel", "-c", "2", "-i", "1", env=env)
    assert p.returncode == 0, p.stderr
    assert "a hash collision in the stack map" in p.stderr, p.stderr
    assert "full" not in p.stderr, p.stderr


def test_without_root_one_line_says_to_run_as_root():
    """uprobes are refused to CAP_BPF + CAP_PERFMON alone (perf_event_open, 6.18); another
    user's mappings cannot be read: either way one line, exit 1."""
    setpriv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    sleeper = subprocess.Popen(setpriv + ["sleep", "60"])
    try:
        for pid in (sleeper.pid, os.getpid()):
            p = subprocess.run(setpriv + ["--inh-caps=-all,+bpf,+perfmon",
                                          "--ambient-caps=+bpf,+perfmon", MEMSCOPE, "leak",
                                          "-p", str(pid), "-c", "1"],
                               capture_output=True, text=True, timeout=60)
            if p.returncode == 0:  # a kernel that lets CAP_PERFMON create uprobes
                assert "allocation" in p.stdout, p.stdout
                continue
            lines = p.stderr.strip().splitlines()
            assert p.returncode == 1 and len(lines) == 1, p.stderr
            assert "run memscope leak as root" in lines[0], p.stderr
    finally:
        sleeper.kill()
        sleeper.wait()


def memcg_percpu(report):
    """Outstanding per-CPU areas a memory cgroup's creation made."""
    return sum(s["allocations"] for s in stacks(report) if s["source"] == "percpu" and
               any(f.startswith("mem_cgroup_css_alloc+") for f in s["stack"]))


def test_kernel_mode_sees_per_cpu_areas_of_new_memory_cgroups(no_bpf_leak):
    """Each new memory cgroup allocates the same per-CPU areas (its statistics): n of
    them make a multiple of n, all from mem_cgroup_css_alloc."""
    n = 4
    m = Leak("--kernel", "--top", "1000")
    cgs = []
    try:
        cgs = [MemoryCgroup(f"memscope-test-leak-{i}", 64 << 20) for i in range(n)]
        made = time.time()
        # a report made after all of them were older than --min-age (0.2 s)
        report = m.wait_for(lambda r: r[0]["ts"] > made + 0.3, 30)
    finally:
        m.stop()
        for cg in cgs:
            cg.remove()
    got = memcg_percpu(report)
    assert got >= n and got % n == 0, got


def by_source(report, prefix):
    return sum(r["outstanding_bytes"] for r in report
               if r["type"] == "leak_source" and r["source"].startswith(prefix))


def readahead(report, prefix):
    """Bytes of stacks that read a file ahead, from sources named prefix."""
    return sum(s["outstanding_bytes"] for s in stacks(report)
               if s["source"].startswith(prefix) and
               any(f.startswith(("page_cache_ra_", "ondemand_readahead+",
                                 "page_cache_async_ra+", "page_cache_sync_ra+"))
                   for f in s["stack"]))


class PageCacheTrace(TraceInstance):
    """The page cache's own events, in boot time: what every file put into the page cache
    (filemap:mm_filemap_add_to_page_cache) and what left it (..._delete_from_...)."""

    DELETE = "filemap/mm_filemap_delete_from_page_cache"
    EVENT = re.compile(r" (\d+\.\d+): mm_filemap_(add_to|delete_from)_page_cache: .*"
                       r"pfn=0x([0-9a-f]+)(?:.* order=(\d+))?")

    def __init__(self):
        super().__init__("memscope-test-page-cache", "filemap/mm_filemap_add_to_page_cache")
        # room for a dropped cache's deletions; a new clock empties the ring
        for name, value in (("buffer_size_kb", "16384"), ("trace_clock", "boot"),
                            (f"events/{self.DELETE}/enable", "1")):
            with open(f"{self.dir}/{name}", "w") as f:
                f.write(value)

    def remove(self):
        with open(f"{self.dir}/events/{self.DELETE}/enable", "w") as f:
            f.write("0")
        super().remove()

    def folios(self):
        """[(added, deleted or inf, bytes)] of the folios added since it started (boot
        seconds). 6.1's events have no order: its page cache took order-0 pages there."""
        page = os.sysconf("SC_PAGE_SIZE")
        held, out = {}, []
        for line in self.lines():
            m = self.EVENT.search(line)
            if m and m[2] == "add_to":
                held[m[3]] = (float(m[1]), page << int(m[4] or 0))
            elif m and m[3] in held:
                added, size = held.pop(m[3])
                out.append((added, float(m[1]), size))
        return out + [(added, float("inf"), size) for added, size in held.values()]


def boot_time(report):
    """A report's wall-clock stamp on the boot clock (tracefs's trace_clock boot)."""
    return report[0]["ts"] - time.time() + time.clock_gettime(time.CLOCK_BOOTTIME)


def page_cache_held(folios, since, report):
    """Bytes of page cache the kernel took after since and still held when memscope made
    report: all memscope may show as page cache then (it shows pages it saw allocated,
    since it started, older than --min-age when it stamped the report)."""
    t = boot_time(report)
    return sum(size for added, deleted, size in folios if since <= added <= t < deleted)


def page_cache_left(folios, since, report):
    """Bytes of page cache taken after since that had left it when memscope made report:
    all that memscope may show as pages read ahead yet not page cache (a truncated
    file's folios live on while an LRU batch holds them)."""
    t = boot_time(report)
    return sum(size for added, deleted, size in folios if since <= added and deleted <= t)


def test_kernel_mode_tells_page_cache_from_leaks(no_bpf_leak, data_file):
    """A 256 MiB file read through the page cache: its pages are page cache, not a kernel
    leak: they show as page-cache-order-N, as much as fincore says the file has cached,
    never as pages-order-N, nor is anonymous memory held meanwhile; dropped, they are
    gone. Other processes fill the page cache meanwhile (running programs fault theirs
    in, tens of MiB in seconds here): the upper bounds are what tracefs saw the page
    cache take and keep (or let go) since memscope started, every file's."""
    from conftest import Workload, drop_caches, scaled_mib
    drop_caches()
    trace = PageCacheTrace()
    anon = None
    try:
        since = time.clock_gettime(time.CLOCK_BOOTTIME)
        m = Leak("--kernel", "--top", "100000")
        try:
            # anonymous memory held meanwhile: pages, never page cache
            anon = Workload("--anon", scaled_mib(64), "--stop")
            anon.wait_stopped()
            subprocess.run(["cat", data_file], stdout=subprocess.DEVNULL, check=True)
            read = time.time()
            cached = int(subprocess.run(["fincore", "-bno", "RES", data_file],
                                        capture_output=True, text=True, check=True).stdout)
            report = m.wait_for(lambda r: r[0]["ts"] > read + 0.3, 30)
            drop_caches()
            dropped = time.time()
            after = m.wait_for(lambda r: r[0]["ts"] > dropped + 0.3, 30)
        finally:
            if anon:
                anon.kill()
            m.stop()
        folios = trace.folios()
        assert not trace_overruns(trace), "void: the trace lost page cache events"
    finally:
        trace.remove()
    assert cached >= 200 << 20, "void: the file is not in the page cache"
    held = page_cache_held(folios, since, report)
    assert held >= cached, ("void: tracefs did not see the file enter the page cache",
                            held, cached)
    page_cache = by_source(report, "page-cache-order-")
    # the file's pages, and no more than the kernel really held (1 MiB: none, but the
    # report's stamp read against the boot clock)
    assert cached * 0.95 <= page_cache <= held + (1 << 20), (page_cache, cached, held)
    assert readahead(report, "page-cache-order-") >= cached * 0.95
    left = page_cache_left(folios, since, report)
    assert readahead(report, "pages-order-") <= left + (1 << 20), (
        readahead(report, "pages-order-"), left)
    held = page_cache_held(folios, since, after)
    assert by_source(after, "page-cache-order-") <= held + (1 << 20), (
        by_source(after, "page-cache-order-"), held)
