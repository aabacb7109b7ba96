# SPDX-License-Identifier: GPL-2.0
"""memscope cgroup against the cgroup's own files (v1 here, v2 in make test-vm's guest)."""
import os
import signal
import subprocess
import time

import pytest

from conftest import (DATA_DIR, MEMSCOPE, SLOWDOWN, WORKLOAD, MemoryCgroup, drop_caches,
                      kills_name_victim_memcg, loads, proc_state, run, run_json,
                      wait_attached)


def files(cg):
    """Every memory file of the cgroup, as text."""
    out = {}
    for name in os.listdir(cg.path):
        if name.startswith("memory."):
            try:
                with open(os.path.join(cg.path, name)) as f:
                    out[name] = f.read()
            except OSError:
                pass
    return out


def kv(text):
    return {k: int(v) for k, v in (l.split()[:2] for l in text.splitlines() if len(l.split()) >= 2
                                   and l.split()[1].isdigit())}


def truth(f):
    """memscope's fields from the files, as the record documents them."""
    if "memory.current" in f:  # v2
        st = kv(f["memory.stat"])
        t = {"usage_bytes": int(f["memory.current"]),
             "limit_bytes": None if f["memory.max"].strip() == "max" else int(f["memory.max"]),
             "anon_bytes": st["anon"], "file_bytes": st["file"], "shmem_bytes": st["shmem"],
             "file_mapped_bytes": st["file_mapped"], "events_oom_kill":
             kv(f["memory.events"])["oom_kill"], "failcnt": None, "soft_limit_bytes": None}
        prefix = ""
    else:
        st = kv(f["memory.stat"])
        t = {"usage_bytes": int(f["memory.usage_in_bytes"]),
             "limit_bytes": int(f["memory.limit_in_bytes"]),
             "anon_bytes": st["total_rss"], "file_bytes": st["total_cache"],
             "shmem_bytes": st["total_shmem"], "file_mapped_bytes": st["total_mapped_file"],
             "events_oom_kill": kv(f["memory.oom_control"])["oom_kill"],
             "failcnt": int(f["memory.failcnt"]), "high_bytes": None}
        prefix = "total_"
    for k in ("active_anon", "inactive_anon", "active_file", "inactive_file", "unevictable"):
        t[f"{k}_bytes"] = st[prefix + k]
    t["refault_file_pages"] = st[prefix + "workingset_refault_file"]
    return t


@pytest.fixture
def loaded_cgroup():
    cg = MemoryCgroup("memscope-test-cgroup", 256 << 20)
    # started inside: pages charged before a move stay with the old cgroup
    w = cg.run(f"{WORKLOAD} --anon 32 --file 16:{DATA_DIR}/memscope-cgroup-test.dat --shm 8 "
               "--stop")
    try:
        end = time.time() + 30 * SLOWDOWN
        while proc_state(w.pid) != "T":
            assert time.time() < end and w.poll() is None, "the workload did not stop"
            time.sleep(0.02)
        yield cg, w
    finally:
        w.kill()
        w.wait()
        time.sleep(0.1)
        cg.remove()
        try:
            os.unlink(f"{DATA_DIR}/memscope-cgroup-test.dat")
        except OSError:
            pass


def test_every_figure_equals_the_cgroup_files(loaded_cgroup):
    cg, w = loaded_cgroup
    before = files(cg)
    recs = run_json("cgroup", "--cgroup", cg.rel)
    after = files(cg)
    assert [r["path"] for r in recs] == [cg.rel]
    r = recs[0]
    a, b = truth(before), truth(after)
    # a stopped workload: nothing moves but the kernel's own bits (tolerance: 1 MiB)
    for key in a:
        if a[key] is None:
            assert r[key] is None, key
        elif key.endswith("_bytes"):
            lo, hi = min(a[key], b[key]), max(a[key], b[key])
            assert lo - (1 << 20) <= r[key] <= hi + (1 << 20), (key, r[key], a[key], b[key])
        else:
            assert min(a[key], b[key]) <= r[key] <= max(a[key], b[key]), (key, r[key], a[key])
    assert r["limit_bytes"] == 256 << 20
    assert abs(r["limit_used_percent"] - 100 * r["usage_bytes"] / r["limit_bytes"]) < 0.01
    assert r["working_set_bytes"] == max(0, r["usage_bytes"] - r["inactive_file_bytes"])
    assert r["anon_bytes"] >= 32 << 20 and r["shmem_bytes"] >= 8 << 20
    assert r["file_bytes"] >= 16 << 20
    # the processes: exactly the workload, as /proc/PID/status tells its RSS
    assert r["nr_processes"] == 1 and [p["pid"] for p in r["top_processes"]] == [w.pid]
    assert r["top_processes"][0]["cgroup"] == cg.rel
    assert r["container"] is None and r["pod_uid"] is None
    assert r["version"] == (2 if "memory.current" in before else 1)
    psi_file = os.path.exists(f"{cg.path}/memory.pressure")
    assert (r["psi_some_total_ns"] is not None) == psi_file, (r["psi_some_total_ns"], psi_file)
    if r["version"] == 1:
        assert r["high_bytes"] is None and r["swap_limit_bytes"] is None


def test_tree_lists_parents_before_children_and_text_has_units(loaded_cgroup):
    cg, _ = loaded_cgroup
    recs = run_json("cgroup", "--tree")
    paths = [r["path"] for r in recs]
    assert paths[0] == "/" and cg.rel in paths
    for i, p in enumerate(paths[1:], 1):
        parent = p.rsplit("/", 1)[0] or "/"
        assert parent in paths[:i], (p, paths[:i])
    out = run("cgroup", "--tree", env={**os.environ, "COLUMNS": "200"}, check=True).stdout
    assert "USAGE" in out.splitlines()[0] and "MiB" in out
    assert "  " + cg.rel[1:] in out  # indented below the root


def test_sort_top_and_bad_input():
    recs = run_json("cgroup", "-s", "usage", "--top", 2)
    assert len(recs) <= 2
    assert [r["usage_bytes"] or 0 for r in recs] == \
        sorted((r["usage_bytes"] or 0 for r in recs), reverse=True)
    for args in (["--cgroup", "/no/such/memscope/cgroup"], ["-s", "bogus"], ["--top", "0"],
                 ["--tree", "-s", "usage"]):
        p = run("cgroup", *args)
        assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1, (args, p.stderr)


def memcg_read(cg, path):
    drop_caches()
    cg.run(f"cat {path}").wait(timeout=120 * SLOWDOWN)


def test_live_attributes_reclaim_and_kills_as_the_cgroup_counts_them(data_file):
    cg = MemoryCgroup("memscope-test-cgroup-live", 64 << 20)
    try:
        start = truth(files(cg))
        p = subprocess.Popen([MEMSCOPE, "cgroup", "--json", "-i", "1", "--cgroup", cg.rel],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_attached(p)
        memcg_read(cg, data_file)
        w = cg.run(f"{WORKLOAD} --anon 256")
        assert w.wait(timeout=60 * SLOWDOWN) == -signal.SIGKILL
        time.sleep(2.5)  # the interval holding the kill has been reported
        end = truth(files(cg))
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=30 * SLOWDOWN)
    finally:
        cg.remove()
    assert p.returncode == 0, err
    recs = [loads(l) for l in out.splitlines()]
    mine = [r for r in recs if r["type"] == "cgroup" and r["path"] == cg.rel]
    assert mine
    assert end["events_oom_kill"] - start["events_oom_kill"] == 1, "void: no OOM kill"
    if kills_name_victim_memcg():
        assert sum(r["oom_kills"] for r in mine) == 1
    else:  # the kernel's events name no victim's cgroup: unknown, not 0
        assert all(r["oom_kills"] is None for r in mine), mine
    stalls = sum(r["stalls"] for r in mine)
    reclaimed = sum(r["reclaim_reclaimed_pages"] for r in mine)
    assert stalls > 0 and reclaimed > 0, (stalls, reclaimed)
    assert any(r["stall_p99_at_most_ns"] for r in mine if r["stalls"])
    for r in mine:
        assert sum(b["count"] for b in r["stall_histogram"]) == r["stalls"]
    # the refault estimate appears from the second interval on
    assert any(r["working_set_refault_bytes"] is not None for r in mine[1:])
