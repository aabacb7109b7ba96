# SPDX-License-Identifier: GPL-2.0
"""Every byte of MemTotal: the parts sum to it exactly, each within /proc/meminfo (and
/proc/zoneinfo's per-CPU lists) read around it, the remainder never negative; the
largest owners named."""
import json
import os
import subprocess
import time

from conftest import MEMSCOPE, Workload, loads, meminfo, scaled_mib, within_bracket

PAGE = os.sysconf("SC_PAGE_SIZE")
PARTS = ["free", "free_pcp", "anon", "file", "shmem", "swap_cached", "slab_reclaimable",
         "slab_unreclaimable", "kernel_misc_reclaimable", "page_tables", "kernel_stack",
         "vmalloc", "percpu", "hugetlb", "zswap", "unaccepted", "other_kernel"]


def pcp_bytes():
    with open("/proc/zoneinfo") as f:
        return sum(int(l.split()[1]) for l in f if l.strip().startswith("count:")) * PAGE


def truth(m):
    """Each part from one /proc/meminfo reading, as fs/proc/meminfo.c's lines combine."""
    return {
        "free": m["MemFree"], "anon": m["AnonPages"],
        "file": m["Cached"] + m["Buffers"] - m["Shmem"], "shmem": m["Shmem"],
        "swap_cached": m["SwapCached"], "slab_reclaimable": m["SReclaimable"],
        "slab_unreclaimable": m["SUnreclaim"],
        "kernel_misc_reclaimable": m["KReclaimable"] - m["SReclaimable"],
        "page_tables": m["PageTables"] + m.get("SecPageTables", 0),
        "kernel_stack": m["KernelStack"], "percpu": m["Percpu"],
        "hugetlb": m.get("Hugetlb", m["HugePages_Total"] * m["Hugepagesize"]),
    }


def anon_by_process():
    """(RssAnon bytes, pid) of every process, from /proc/PID/status."""
    out = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("RssAnon:"):
                        out.append((int(line.split()[1]) * 1024, int(pid)))
        except OSError:
            pass
    return out


def run_json_reading_meminfo(*args):
    """memscope's records, /proc/meminfo read before, while and after it runs, and its
    pid: what memscope reads includes its own memory (its maps, its heap), which a
    reading taken only around it leaves out (its anon part stood 19 MB above both)."""
    readings = [meminfo()]
    p = subprocess.Popen([MEMSCOPE, "-j", *args], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    while p.poll() is None:
        readings.append(meminfo())
        time.sleep(0.02)
    out, err = p.communicate()
    assert p.returncode == 0, err
    readings.append(meminfo())
    return [loads(line) for line in out.splitlines() if line.strip()], readings, p.pid


def check_parts(parts, readings):
    before = readings[0]
    assert sum(parts[p + "_bytes"] or 0 for p in PARTS) == parts["total_bytes"], parts
    assert parts["total_bytes"] == before["MemTotal"]
    assert parts["other_kernel_bytes"] >= 0
    # nothing taken back on a machine without swap: the remainder stands as it is
    if not before["SwapTotal"]:
        assert parts["overlap_bytes"] == 0 and parts["adjusted"] == "", parts
    truths = [truth(m) for m in readings]
    for key in truths[0]:
        lo, hi = min(t[key] for t in truths), max(t[key] for t in truths)
        assert within_bracket(parts[key + "_bytes"], lo, hi, 0.01, 4 << 20), \
            (key, parts[key + "_bytes"], lo, hi)
    for key in ("zswap", "unaccepted"):
        line = {"zswap": "Zswap", "unaccepted": "Unaccepted"}[key]
        if line not in before:
            assert parts[key + "_bytes"] is None, key


def test_sys_parts_sum_to_memtotal():
    pcp_b = pcp_bytes()
    recs, readings, _ = run_json_reading_meminfo("sys")
    pcp_a = pcp_bytes()
    parts = [r for r in recs if r["type"] == "memory_parts"]
    assert len(parts) == 1
    check_parts(parts[0], readings)
    assert within_bracket(parts[0]["free_pcp_bytes"], pcp_b, pcp_a, 0.05, 4 << 20)


def test_health_report_parts_and_owners():
    mib = scaled_mib(256)
    w = Workload("--anon", mib, "--stop")
    try:
        w.wait_stopped()
        recs, readings, pid = run_json_reading_meminfo("-d", "0.5")
        rec = recs[0]
        check_parts(rec["memory_parts"], readings)
        owners = rec["memory_owners"]
        # memscope, gone when /proc is read, may name itself: its own anon is real
        anon = [o for o in owners if o["part"] == "anon" and o["kind"] == "process" and
                int(o["name"].split()[0]) != pid]
        truth = sorted(anon_by_process(), reverse=True)
        # the largest by RssAnon, as /proc says
        assert anon and within_bracket(anon[0]["held_bytes"], truth[0][0], truth[0][0],
                                       0.01, 1 << 20), (anon, truth[:3])
        top = {pid for _, pid in truth[:len(anon) + 2]}
        assert all(int(o["name"].split()[0]) in top for o in anon), (anon, truth[:5])
        if (mib << 20) > truth[min(2, len(truth) - 1)][0]:
            assert any(o["name"].startswith(f"{w.pid} (") for o in anon), anon
        assert [o for o in owners if o["part"] == "other_kernel" and o["kind"] == "command"
                and o["name"] == "memscope leak --kernel"]
        slab = [o for o in owners if o["kind"] == "slab_cache"]
        assert slab, owners
    finally:
        w.kill()


def test_exporter_serves_the_parts_the_caches_and_the_files(tmp_path):
    from test_exporter import Exporter, parse
    path = os.path.join(str(tmp_path), "held.dat")
    with open(path, "wb") as f:
        f.write(b"\x11" * (4 << 20))
    held = open(path, "rb")
    held.read()
    e = Exporter("--slabs", 5, "--files", 10000)
    try:
        before = meminfo()
        samples, types = parse(e.scrape())
        after = meminfo()
    finally:
        e.stop()
        held.close()
    parts = {p: samples[f"memscope_memory_{p}_bytes"][0][1] for p in PARTS
             if f"memscope_memory_{p}_bytes" in samples}
    assert sum(parts.values()) == samples["memscope_memory_total_bytes"][0][1]
    assert within_bracket(parts["anon"], before["AnonPages"], after["AnonPages"], 0.01, 8 << 20)
    caches = samples["memscope_slab_cache_bytes"]
    assert len(caches) == 5 and all(l["name"] for l, _ in caches)
    files = {l["path"]: v for l, v in samples["memscope_cache_file_cached_bytes"]}
    assert files.get(path) == 4 << 20, sorted(files)[:10]


def test_recorder_keeps_the_parts_and_report_at_shows_them(tmp_path):
    import sqlite3
    import subprocess
    import time
    from conftest import MEMSCOPE
    db = os.path.join(str(tmp_path), "m.db")
    subprocess.run([MEMSCOPE, "record", "--db", db, "-i", "1", "-c", "2", "--slabs", "3",
                    "--files", "3"], check=True, timeout=120, capture_output=True)
    con = sqlite3.connect(db)
    rows = con.execute("SELECT * FROM memory_parts").fetchall()
    cols = [d[0] for d in con.execute("SELECT * FROM memory_parts").description]
    # every interval, and every snapshot a trigger took (PSI, here, with others' tests)
    assert len(rows) == con.execute("SELECT count(*) FROM samples").fetchone()[0] >= 2
    for row in rows:
        r = dict(zip(cols, row))
        assert sum(r[p + "_bytes"] or 0 for p in PARTS) == r["total_bytes"]
    per_sample = con.execute("SELECT sample_id, count(*) FROM slab WHERE sample_id IN "
                             "(SELECT id FROM samples WHERE kind = 'interval') "
                             "GROUP BY sample_id").fetchall()
    assert [n for _, n in per_sample] == [3, 3]
    assert con.execute("SELECT count(*) FROM cache_file").fetchone()[0] >= 2
    (ts,), = con.execute("SELECT ts FROM samples WHERE kind = 'interval' ORDER BY id DESC "
                         "LIMIT 1").fetchall()
    con.close()
    iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + "Z"
    text = subprocess.run([MEMSCOPE, "report", "--db", db, "--at", iso], check=True,
                          capture_output=True, text=True).stdout
    assert "Every byte of MemTotal" in text and "Largest slab caches" in text, text
    recs = [json.loads(l) for l in subprocess.run(
        [MEMSCOPE, "report", "--db", db, "--at", iso, "-j"], check=True, capture_output=True,
        text=True).stdout.splitlines()]
    assert {"memory_parts", "slab", "cache_file"} <= {r["type"] for r in recs}
