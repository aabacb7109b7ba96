# SPDX-License-Identifier: GPL-2.0
"""memscope sys against /proc/meminfo, node meminfo, /proc/zoneinfo, buddyinfo, debugfs."""
import json
import os
import re
import subprocess
import time

import pytest

from conftest import (loads, MEMSCOPE, MemoryCgroup, Workload, drop_caches,
                      kernel_has_enumerator, meminfo, run, run_json, scaled_mib, wait_attached,
                      within_bracket)

PAGE = os.sysconf("SC_PAGE_SIZE")


def truth_total(m):
    """memscope total-row field -> value computed from one /proc/meminfo reading."""
    return {
        "total_bytes": m["MemTotal"], "free_bytes": m["MemFree"],
        "active_bytes": m["Active"], "inactive_bytes": m["Inactive"],
        "active_anon_bytes": m["Active(anon)"], "inactive_anon_bytes": m["Inactive(anon)"],
        "active_file_bytes": m["Active(file)"], "inactive_file_bytes": m["Inactive(file)"],
        "unevictable_bytes": m["Unevictable"], "mlocked_bytes": m["Mlocked"],
        "dirty_bytes": m["Dirty"], "writeback_bytes": m["Writeback"],
        "writeback_tmp_bytes": m.get("WritebackTmp"),
        "anon_pages_bytes": m["AnonPages"], "mapped_bytes": m["Mapped"],
        "shmem_bytes": m["Shmem"],
        # fs/proc/meminfo.c: Cached = file pages - swap cache - buffers
        "file_pages_bytes": m["Cached"] + m["Buffers"] + m["SwapCached"],
        "swap_cached_bytes": m["SwapCached"],
        "kreclaimable_bytes": m["KReclaimable"], "slab_bytes": m["Slab"],
        "sreclaimable_bytes": m["SReclaimable"], "sunreclaim_bytes": m["SUnreclaim"],
        "kernel_stack_bytes": m["KernelStack"], "page_tables_bytes": m["PageTables"],
        "nfs_unstable_bytes": m.get("NFS_Unstable"),
        "anon_huge_pages_bytes": m["AnonHugePages"],
        "shmem_huge_pages_bytes": m["ShmemHugePages"],
    }


def truth_node(m):
    t = truth_total(dict(m, Cached=m["FilePages"], Buffers=0, SwapCached=0,
                         MemTotal=m["MemTotal"]))
    t.pop("swap_cached_bytes")
    return t


# Counters the running kernel may not have; memscope must then say null, not 0.
OPTIONAL = {"writeback_tmp_bytes": "NR_WRITEBACK_TEMP", "nfs_unstable_bytes": "NR_UNSTABLE_NFS"}


# Counters memscope's own process moves while it reads them: its anonymous memory and
# the pages of its binary and libraries it maps. Allowed for, measured not guessed.
OBSERVED = {"anon_pages_bytes", "active_anon_bytes", "inactive_anon_bytes", "active_bytes",
            "inactive_bytes", "mapped_bytes"}
_observer = []


def observer_bytes():
    """memscope's own RSS (anon + file), as it reports itself; proc is /proc-exact."""
    if not _observer:
        me = [r for r in run_json("proc", "--once", "--comm", "memscope")]
        _observer.append(max(r["rss_anon_bytes"] + r["rss_file_bytes"] for r in me))
    return _observer[0]


def check_row(row, before, after):
    for key, want_before in before.items():
        got = row[key]
        if key in OPTIONAL and not kernel_has_enumerator(OPTIONAL[key]):
            assert got is None, f"{key}: the kernel has no {OPTIONAL[key]}, got {got}"
            continue
        assert got is not None, key
        extra = observer_bytes() if key in OBSERVED else 0
        assert within_bracket(got, want_before - extra, after[key] + extra), \
            (key, got, want_before, after[key], extra)


def pcp_high_bytes():
    """What the per-CPU page lists may hold (/proc/zoneinfo pagesets "high"): pages there
    are in no free counter, so MemFree and MemAvailable move by up to this much when
    another CPU's lists fill or drain between two reads."""
    with open("/proc/zoneinfo") as f:
        return sum(int(m) for m in re.findall(r"^\s+high:\s+(\d+)$", f.read(), re.M)) * os.sysconf("SC_PAGE_SIZE")


def test_total_row_matches_meminfo():
    # up to three tries a second apart: right after a test frees a large workload (a
    # small guest) the per-CPU lists drain while memscope loads
    for attempt in range(3):
        before_avail = meminfo()["MemAvailable"]
        before = truth_total(meminfo())
        recs = run_json("sys", "-c", 1)
        after = truth_total(meminfo())
        after_avail = meminfo()["MemAvailable"]
        total = [r for r in recs if r["type"] == "sys" and r["scope"] == "total"]
        assert len(total) == 1
        t = total[0]
        # The system's totals are /proc/meminfo's, even where the zones manage less
        # (deferred memory init right after boot, hot-plug, balloons).
        if within_bracket(t["available_bytes"], before_avail, after_avail) or attempt == 2:
            break
        time.sleep(1)
    check_row(t, before, after)
    assert within_bracket(t["available_bytes"], before_avail, after_avail,
                          abs_slack=max(1 << 20, pcp_high_bytes())), \
        (t["available_bytes"], before_avail, after_avail, pcp_high_bytes())
    # free(1) of procps 4: used = total - available
    assert t["used_bytes"] == t["total_bytes"] - t["available_bytes"]


def zone_managed_bytes():
    return sum(z["managed"] for z in zoneinfo().values()) * PAGE


def test_total_says_how_much_memory_no_zone_manages():
    """MemTotal - the zones' managed pages: reported always, explained when beyond the
    slack. Right after a deferred_init=lazy boot that is most of the memory (the unit
    tests hold captured states of both kinds); zones may grow while this runs."""
    m0, z0 = meminfo()["MemTotal"], zone_managed_bytes()
    t = [r for r in run_json("sys") if r.get("scope") == "total"][0]
    m1, z1 = meminfo()["MemTotal"], zone_managed_bytes()
    lo, hi = min(m0 - z0, m1 - z1), max(m0 - z0, m1 - z1)
    assert lo <= t["unmanaged_bytes"] <= hi, (t["unmanaged_bytes"], lo, hi)
    slack = max(m1 // 100, 1 << 20)
    if lo > slack:
        assert t["unmanaged_reason"], t
        text = run("sys", check=True).stdout
        assert "of MemTotal in no zone's managed pages" in text
    elif hi <= slack:
        assert t["unmanaged_reason"] is None
        assert "note:" not in run("sys", check=True).stdout


def test_node_rows_match_node_meminfo():
    nodes = sorted(int(d[4:]) for d in os.listdir("/sys/devices/system/node")
                   if re.fullmatch(r"node\d+", d))
    path = "/sys/devices/system/node/node{}/meminfo"
    before = {n: truth_node(meminfo(path.format(n))) for n in nodes}
    recs = run_json("sys")
    after = {n: truth_node(meminfo(path.format(n))) for n in nodes}
    rows = {r["node"]: r for r in recs if r["type"] == "sys" and r["scope"] == "node"}
    assert sorted(rows) == nodes
    for n in nodes:
        check_row(rows[n], before[n], after[n])
        # the kernel computes availability system-wide only: no made-up node figure
        assert rows[n]["available_bytes"] is None and rows[n]["used_bytes"] is None


def test_memscope_never_takes_a_huge_page_of_its_own():
    """With THP "always", a 2 MiB range of memscope's own memory became a huge page and
    sys's AnonHugePages counted it (the 6.1 guest): the observer opts out of THP."""
    live = subprocess.Popen([MEMSCOPE, "sys", "-i", "60", "-c", "2"], stdout=subprocess.DEVNULL)
    try:
        wait_attached(live)
        with open(f"/proc/{live.pid}/status") as f:
            status = dict(line.split(":", 1) for line in f)
        assert status["THP_enabled"].strip() == "0"
        with open(f"/proc/{live.pid}/smaps_rollup") as f:
            huge = [line.split()[1] for line in f if line.startswith("AnonHugePages:")]
        assert huge == ["0"]
    finally:
        live.terminate()
        live.wait(timeout=30)


def zoneinfo():
    """{(node, zone): {field: value, 'protection': [...]}} from /proc/zoneinfo."""
    zones, cur = {}, None
    with open("/proc/zoneinfo") as f:
        for line in f:
            m = re.match(r"Node (\d+), zone\s+(\S+)", line)
            if m:
                cur = zones.setdefault((int(m[1]), m[2]), {})
                continue
            parts = line.split()
            if cur is None or not parts:
                continue
            if parts[0] == "pages" and parts[1] == "free":
                cur["free"] = int(parts[2])
            elif parts[0] in ("boost", "min", "low", "high", "promo", "spanned", "present",
                              "managed") and len(parts) == 2 and "free" in cur \
                    and parts[0] not in cur:
                cur[parts[0]] = int(parts[1])
            elif parts[0] == "protection:":
                cur["protection"] = [int(x) for x in re.findall(r"\d+", line)]
    return zones


def buddyinfo():
    out = {}
    with open("/proc/buddyinfo") as f:
        for line in f:
            m = re.match(r"Node (\d+), zone\s+(\S+)\s+(.*)", line)
            out[(int(m[1]), m[2])] = [int(x) for x in m[3].split()]
    return out


def pages_bracket(value, a, b):
    return within_bracket(value * PAGE, a * PAGE, b * PAGE)


def test_zones_match_zoneinfo_and_buddyinfo():
    zi_before, bi_before = zoneinfo(), buddyinfo()
    recs = run_json("sys", "--zones")
    zi_after, bi_after = zoneinfo(), buddyinfo()
    zones = {(r["node"], r["zone"]): r for r in recs if r["type"] == "zone"}
    assert set(zones) == set(zi_before)
    for key, z in zones.items():
        b, a = zi_before[key], zi_after[key]
        for field in ("free", "min", "low", "high", "boost", "spanned", "present", "managed",
                      "promo"):
            if field not in b:
                # 6.1 has WMARK_PROMO but its zoneinfo does not print it: nothing to
                # compare with; a kernel without the watermark must give null
                if field == "promo" and not kernel_has_enumerator("WMARK_PROMO"):
                    assert z["promo_bytes"] is None
                continue
            # JSON sizes are bytes (zoneinfo prints pages)
            assert within_bracket(z[f"{field}_bytes"], b[field] * PAGE, a[field] * PAGE), \
                (key, field)
        assert z["protection_bytes"] == [p * PAGE for p in a["protection"]] or \
            z["protection_bytes"] == [p * PAGE for p in b["protection"]], key
        if key in bi_before:
            assert z["populated"]
            for order, got in enumerate(z["free_blocks"]):
                # 1 MiB of slack expressed in blocks of this order
                lo = min(bi_before[key][order], bi_after[key][order])
                hi = max(bi_before[key][order], bi_after[key][order])
                slack = max(0.01 * hi, (1 << 20) / (PAGE << order))
                assert lo - slack <= got <= hi + slack, (key, order, got, lo, hi)
        else:
            assert not z["populated"]


def extfrag(name):
    path = f"/sys/kernel/debug/extfrag/{name}"
    out = {}
    with open(path) as f:
        for line in f:
            m = re.match(r"Node (\d+), zone\s+(\S+)\s+(.*)", line)
            out[(int(m[1]), m[2])] = [float(x) for x in m[3].split()]
    return out


def test_frag_matches_debugfs():
    if not os.path.isdir("/sys/kernel/debug/extfrag"):
        subprocess.run(["mount", "-t", "debugfs", "nodev", "/sys/kernel/debug"])
    if not os.path.isdir("/sys/kernel/debug/extfrag"):
        pytest.skip("debugfs extfrag/ is not available on this kernel")
    # The indices follow the free lists, which move: take the truth around our reading
    # on a quiet system and require our value between the two readings (± 0.002).
    u0, f0 = extfrag("unusable_index"), extfrag("extfrag_index")
    recs = run_json("sys", "--frag")
    u1, f1 = extfrag("unusable_index"), extfrag("extfrag_index")
    zones = {(r["node"], r["zone"]): r for r in recs if r["type"] == "zone" and r["populated"]}
    assert set(zones) == set(u0)
    for key, z in zones.items():
        for got_list, a, b in ((z["unusable_index"], u0[key], u1[key]),
                               (z["fragmentation_index"], f0[key], f1[key])):
            assert len(got_list) == len(a)
            for got, x, y in zip(got_list, a, b):
                assert min(x, y) - 0.002 <= got <= max(x, y) + 0.002, (key, got_list, a, b)


def test_free_memory_movement_shows_in_samples():
    """Allocate and free 1 GiB while sampling: memscope's free follows /proc/meminfo's.
    The drop is not the full 1 GiB: pages on the per-CPU free lists (up to pcp high,
    over 1 GiB per CPU here) do not count as free, in the kernel's own MemFree either."""
    import threading
    truth, stop = [], threading.Event()

    def sample():
        while not stop.is_set():
            truth.append(meminfo()["MemFree"])
            time.sleep(0.05)

    t = threading.Thread(target=sample)
    t.start()
    live = subprocess.Popen([MEMSCOPE, "sys", "-i", "0.2", "-d", "4", "--json"],
                            stdout=subprocess.PIPE, text=True)
    wait_attached(live)
    time.sleep(1)
    mib = scaled_mib(1024)
    w = Workload("--anon", mib, "--stop")
    w.wait_stopped()
    time.sleep(1)
    w.kill()
    out, _ = live.communicate(timeout=20)
    stop.set()
    t.join()
    free = [loads(l)["free_bytes"] for l in out.splitlines() if '"scope":"total"' in l]
    assert len(free) >= 15
    truth_drop = max(truth) - min(truth)
    assert truth_drop >= min(128, mib // 4) << 20, "the workload did not move MemFree: void"
    assert max(free) - min(free) >= truth_drop // 2, (free, truth_drop)
    slack = 1 << 20
    assert all(min(truth) - slack <= f <= max(truth) + slack for f in free)


def test_on_reclaim_snapshots_during_memcg_reclaim(data_file):
    drop_caches()
    cg = MemoryCgroup("memscope-test-sys", 64 << 20)
    try:
        live = subprocess.Popen([MEMSCOPE, "sys", "--on", "reclaim", "-c", "3", "-d", "20",
                                 "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        wait_attached(live)
        reader = cg.run(f"cat {data_file}")
        reader.wait(timeout=60)
        out, _ = live.communicate(timeout=30)
        assert live.returncode == 0
        recs = [loads(l) for l in out.splitlines()]
        evs = [r for r in recs if "event" in r]
        assert len(evs) >= 1, out[:500]
        assert all(r["event"]["kind"] in ("memcg_reclaim", "direct_reclaim") for r in evs)
        assert any(r["event"]["kind"] == "memcg_reclaim" for r in evs)
        assert all(r["total_bytes"] > 0 and r["free_bytes"] > 0 for r in evs)
    finally:
        cg.remove()


def test_text_output_groups_and_absent_values():
    out = run("sys", check=True).stdout
    assert "memory" in out and "total" in out and ("GiB" in out or "MiB" in out)
    if not kernel_has_enumerator("NR_WRITEBACK_TEMP"):
        line = next(l for l in out.splitlines() if "writeback tmp" in l)
        assert line.split()[-1] == "-"
