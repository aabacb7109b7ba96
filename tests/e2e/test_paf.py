# SPDX-License-Identifier: GPL-2.0
"""memscope paf reports real allocation failures, as the kernel's tracefs sees them."""
import json
import os
import re
import signal
import subprocess
import time

import pytest

from conftest import (loads, MEMSCOPE, HugepageOvershoot, TraceInstance, Workload, scaled_mib,
                      wait_attached, SLOWDOWN)
from test_sys import PAGE, zoneinfo

# The classic tracepoint's pfn is -1UL for a failed allocation.
FAILED = "pfn == 18446744073709551615"


def start_paf(*args):
    p = subprocess.Popen([MEMSCOPE, "paf", "--json", *map(str, args)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    wait_attached(p)
    return p


@pytest.fixture
def overshoot():
    h = HugepageOvershoot()
    yield h
    h.restore()


def test_hugepage_overshoot_failure_is_reported_and_explained(overshoot):
    trace = TraceInstance("memscope_paf_test", "kmem/mm_page_alloc", FAILED)
    try:
        zi_before = zoneinfo()
        # the writer's failure: on a busy host other processes' THP faults fail at order 9 too
        paf = start_paf("-c", 1, "--stack", "--order", 9, "--comm", "sh")
        writer = overshoot.run()
        # the failure happened before the writer exited: -c 1 ends paf, or nothing came
        try:
            paf.wait(timeout=10 * SLOWDOWN)
        except subprocess.TimeoutExpired:
            paf.send_signal(signal.SIGINT)
        out, err = paf.communicate(timeout=40)
        zi_after = zoneinfo()
        kernel_lines = [l for l in trace.lines() if "order=9" in l]
    finally:
        trace.remove()
    assert paf.returncode == 0, err
    recs = [loads(l) for l in out.splitlines()]
    fails = [r for r in recs if r["type"] == "paf"]
    assert len(fails) == 1, out[:2000]
    f = fails[0]
    assert f["order"] == 9 and f["size_bytes"] == 2 << 20
    assert f["pid"] == writer and f["comm"] == "sh"
    assert "__GFP_RETRY_MAYFAIL" in f["gfp_flags"] and "__GFP_NOWARN" in f["gfp_flags"]
    # the decoded flags are what the kernel itself printed for its failure event
    assert kernel_lines, "tracefs saw no failure: the test is void"
    kernel_flags = re.search(r"gfp_flags=(\S+)", kernel_lines[0])[1]
    assert "|".join(f["gfp_flags"]) == kernel_flags
    # zone watermarks equal /proc/zoneinfo (they include the boost, as zoneinfo does)
    node = f["cpu_node"]
    for z in f["zones"]:
        key = (node, z["zone"])
        for w in ("min", "low", "high"):
            assert z[f"{w}_bytes"] // PAGE in (zi_before[key][w], zi_after[key][w]), (key, w)
    # gfp_zone(__GFP_HIGHMEM|__GFP_MOVABLE) is ZONE_MOVABLE where the kernel has that zone
    assert f["highest_zone"] == ("Movable" if (node, "Movable") in zi_after else "Normal")
    # the slow path's story and a verdict
    assert f["slow_path"] is not None
    sp = f["slow_path"]
    assert sp["direct_reclaims"] + sp["compaction_tries"] + sp["reclaim_retries"] > 0
    assert f["slow_path_summary"]
    assert f["verdict"].startswith("order-9 (2.0 MiB) request:")
    assert f["verdict_kind"] in ("low_memory", "fragmentation", "gave_up")
    assert any("alloc" in frame for frame in f["stack"])
    stats = [r for r in recs if r["type"] == "paf_stats"]
    assert stats and stats[0]["lost"] == 0


def test_no_false_positives_under_ordinary_load(tmp_path):
    """Ordinary load (file reads, a build, a 1 GiB allocation): memscope reports exactly
    the failures tracefs records in the same window (normally none)."""
    trace = TraceInstance("memscope_paf_quiet", "kmem/mm_page_alloc", FAILED)
    try:
        paf = start_paf("-d", 600)
        subprocess.run("cat /usr/bin/* > /dev/null 2>&1", shell=True)
        subprocess.run(["cc", "-O2", "-o", str(tmp_path / "w"), "tests/e2e/workload.c"],
                       check=True)
        w = Workload("--anon", scaled_mib(1024), "--stop")
        w.wait_stopped()
        w.kill()
        # ended by a signal, not a duration: the window must cover all of the load,
        # however slow the machine (make test-vm)
        paf.send_signal(signal.SIGINT)
        out, _ = paf.communicate(timeout=30)
        trace_text = trace.lines()
        kernel_failures = len(trace_text)
    finally:
        trace.remove()
    recs = [loads(l) for l in out.splitlines()]
    reported = [r for r in recs if r["type"] == "paf"]
    stats = [r for r in recs if r["type"] == "paf_stats"][0]
    assert kernel_failures == stats["failures"], (kernel_failures, stats, trace_text[:5])
    # Exact on a real machine. Under emulation (make test-vm) one record of a burst is
    # sometimes missing although counted and not lost: a known, open defect (see the
    # README's "Known problems"); the tolerance there is one record, stated, not hidden.
    missing = stats["failures"] - len(reported)
    assert missing == 0 or (SLOWDOWN > 1 and missing == 1), (len(reported), stats)
    assert stats["lost"] == 0


def test_summary_counts_by_order_and_flags(overshoot):
    paf = start_paf("--summary", "-i", 1, "-d", 600)
    overshoot.run()
    time.sleep(1.5)  # one more interval is reported
    paf.send_signal(signal.SIGINT)
    out, err = paf.communicate(timeout=30)
    assert paf.returncode == 0, err
    rows = [loads(l) for l in out.splitlines()]
    counted = [r for r in rows if r["type"] == "paf_summary" and r["count"] > 0]
    assert any(r["order"] == 9 and r["comm"] == "sh" and "__GFP_RETRY_MAYFAIL" in r["gfp_flags"]
               for r in counted), rows
    assert sum(r["count"] for r in counted) == \
        [r for r in rows if r["type"] == "paf_stats"][0]["failures"]


def test_order_filter_in_kernel(overshoot):
    paf = start_paf("--order", 3, "-d", 600)
    overshoot.run()
    paf.send_signal(signal.SIGINT)  # after the load, however long it took
    out, _ = paf.communicate(timeout=30)
    recs = [loads(l) for l in out.splitlines()]
    assert not [r for r in recs if r["type"] == "paf"]  # the order-9 failures were filtered
    stats = [r for r in recs if r["type"] == "paf_stats"][0]
    assert stats["filtered"] >= 1


def test_text_block(overshoot):
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    p = subprocess.Popen([MEMSCOPE, "paf", "-c", "1", "-d", "20", "--order", "9", "--comm", "sh"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    wait_attached(p)
    overshoot.run()
    out, _ = p.communicate(timeout=40)
    joined = " ".join(l.strip() for l in out.splitlines())  # prose wraps to the line
    assert "allocation failure: pid" in joined and "order 9 (2.0 MiB)" in joined
    assert "verdict" in out and "slow path" in out and "Normal" in out
    # without COLUMNS or a terminal the block fits 80 columns (the table is cut)
    assert all(len(l) <= 80 for l in out.splitlines()), max(out.splitlines(), key=len)
