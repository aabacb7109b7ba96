# SPDX-License-Identifier: GPL-2.0
"""memscope reclaim against the kernel's own counters (/proc/vmstat) and real workloads."""
import json
import signal
import subprocess
import time

from conftest import (loads, MEMSCOPE, HugepageOvershoot, MemoryCgroup, drop_caches,
                      function_hooks_offered, run, wait_attached)


def vmstat():
    with open("/proc/vmstat") as f:
        return {k: int(v) for k, v in (line.split() for line in f)}


def pgscan(v):
    return sum(v[k] for k in v if k.startswith("pgscan_") and k != "pgscan_direct_throttle"
               and k not in ("pgscan_anon", "pgscan_file"))


def pgsteal(v):
    return sum(v[k] for k in v if k.startswith("pgsteal_")
               and k not in ("pgsteal_anon", "pgsteal_file"))


def start(*args):
    p = subprocess.Popen([MEMSCOPE, "reclaim", "--json", *map(str, args)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_attached(p)
    return p


def memcg_read(path):
    """Read a file that is not cached, inside a 64 MiB memory cgroup: memcg reclaim."""
    drop_caches()
    cg = MemoryCgroup("memscope-test-reclaim", 64 << 20)
    try:
        reader = cg.run(f"cat {path}")
        reader.wait(timeout=60)
        return reader.pid
    finally:
        cg.remove()


def records(out, kind):
    return [r for r in (loads(l) for l in out.splitlines()) if r["type"] == kind]


def test_memcg_reclaim_attributed_with_latency_and_events(data_file):
    # One report, made at SIGINT once the reader has exited: a fixed interval could end
    # while it still reads (under emulation), and its later stalls would be events that
    # the report's counts do not hold yet.
    p = start("-i", 600, "-c", 1, "--by-process", "--events")
    pid = memcg_read(data_file)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0, err
    rows = records(out, "reclaim")
    memcg = [r for r in rows if r["reclaimer"] == "memcg"]
    assert memcg and sum(r["reclaimed_pages"] for r in memcg) > 0
    stalls = [s for s in records(out, "reclaim_stalls") if s["reclaimer"] == "memcg"]
    assert stalls and stalls[0]["count"] > 0 and stalls[0]["histogram"]
    assert sum(b["count"] for b in stalls[0]["histogram"]) == stalls[0]["count"]
    procs = [r for r in records(out, "reclaim_process") if r["pid"] == pid]
    assert procs and procs[0]["reclaimer"] == "memcg" and procs[0]["reclaimed_pages"] > 0
    events = [e for e in records(out, "reclaim_stall") if e["pid"] == pid]
    assert len(events) == procs[0]["count"]  # every stall of the reader, one record each
    assert all(e["reclaimer"] == "memcg" and e["latency_ns"] > 0 for e in events)
    # whether a function hook works is the kernel's to say, not memscope's 'features'
    if function_hooks_offered():
        # a function hook on shrink_folio_list gives scan_control.nr_to_reclaim
        assert any((r["to_reclaim_pages"] or 0) > 0 for r in memcg), memcg
    else:
        assert all(r["to_reclaim_pages"] is None for r in rows)  # not made up here


def test_totals_agree_with_vmstat(data_file):
    """Scanned and reclaimed summed by memscope equal the pgscan/pgsteal deltas within 5%.
    Global reclaim only: the kernel counts memcg-limit reclaim in the cgroup's own
    statistics, not in /proc/vmstat, so the workload is the huge-page overshoot (direct
    reclaim and kswapd) after filling the page cache."""
    subprocess.run(["cat", data_file], stdout=subprocess.DEVNULL, check=True)
    h = HugepageOvershoot()
    # one report whose window contains the two vmstat readings, however long the
    # overshoot takes (under emulation it may outlast any fixed duration)
    p = start("-i", 600, "-d", 600)
    before = vmstat()
    # An overshoot may find enough free memory (zones still growing after boot, the cache
    # already dropped) to reclaim little: repeat it, within the same window, a few times.
    for _ in range(3):
        try:
            h.run()
        finally:
            h.restore()
        time.sleep(2)  # let kswapd finish what the overshoot started
        after = vmstat()
        if pgscan(after) - pgscan(before) > 1000:
            break
        subprocess.run(["cat", data_file], stdout=subprocess.DEVNULL, check=True)
    p.send_signal(signal.SIGINT)
    out, _ = p.communicate(timeout=30)
    rows = [r for r in records(out, "reclaim") if r["reclaimer"] != "memcg"]
    scanned = sum(r["scanned_pages"] for r in rows)
    reclaimed = sum(r["reclaimed_pages"] for r in rows)
    d_scan, d_steal = pgscan(after) - pgscan(before), pgsteal(after) - pgsteal(before)
    assert d_scan > 1000, "the workload caused no reclaim: test is void"
    assert abs(scanned - d_scan) <= 0.05 * d_scan, (scanned, d_scan)
    assert abs(reclaimed - d_steal) <= 0.05 * d_steal, (reclaimed, d_steal)


def test_hugepage_overshoot_direct_reclaim_order_9():
    h = HugepageOvershoot()
    try:
        p = start("-i", 600, "-d", 600, "--events")
        writer = h.run()
    finally:
        h.restore()
    p.send_signal(signal.SIGINT)  # after the overshoot, however long it took
    out, _ = p.communicate(timeout=40)
    events = [e for e in records(out, "reclaim_stall")
              if e["reclaimer"] == "direct" and e["order"] == 9]
    # the writer's stalls (on a busy host other processes' THP faults reclaim at order 9 too)
    mine = [e for e in events if e["pid"] == writer]
    assert mine, out[:2000]
    assert all(e["comm"] == "sh" and "__GFP_RETRY_MAYFAIL" in e["gfp_flags"] for e in mine)


def quiet_run(*args):
    """memscope reclaim over a window in which /proc/vmstat counts no scan: up to five
    tries. A machine that reclaims in every one fails the test (a skip would hide it)."""
    for _ in range(5):
        before = vmstat()
        p = run("reclaim", "-i", 1, "-c", 1, *args, timeout=20)
        if pgscan(vmstat()) == pgscan(before):
            assert p.returncode == 0, p.stderr
            return p.stdout
        time.sleep(1)
    raise AssertionError("the machine reclaimed in each of five 1 s windows: none to compare")


def test_no_activity_reports_zero():
    assert "no reclaim activity" in quiet_run()
    recs = [loads(l) for l in quiet_run("--json").splitlines()]
    assert [r["scanned_pages"] for r in recs if r["type"] == "reclaim_interval"] == [0]
    assert not [r for r in recs if r["type"] in ("reclaim", "reclaim_stalls")]


def test_nested_stalls_are_both_counted():
    """memcg soft-limit reclaim (cgroup v1) runs inside direct reclaim: reclaim's own
    stall programs, run with BPF_PROG_TEST_RUN in that order, must count the direct
    stall as direct and the inner one as memcg (the inner one once swallowed the outer)."""
    import os
    from conftest import ROOT
    tool = os.path.join(ROOT, "build", "tests", "stall_nest")
    out = subprocess.run([tool], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out
    assert out.stdout.split() == ["direct", "1", "7", "memcg", "1", "5"], out.stdout
