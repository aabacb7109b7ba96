# SPDX-License-Identifier: GPL-2.0
"""memscope oom: a real memory-cgroup OOM kill, checked against the kernel's tracefs record."""
import json
import os
import re
import signal
import subprocess
import time

from conftest import (loads, proc_state, MEMSCOPE, WORKLOAD, MemoryCgroup, TraceInstance,
                      function_hooks_offered, run, run_json, wait_attached)


def start_oom(*args):
    p = subprocess.Popen([MEMSCOPE, "oom", "--json", *map(str, args)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    wait_attached(p)
    return p


def test_memcg_oom_kill_reported():
    trace = TraceInstance("memscope_oom_test", "oom/mark_victim")
    cg = MemoryCgroup("memscope-test-oom", 64 << 20)
    try:
        p = start_oom("-c", 1, "-d", 20, "--detail")
        w = cg.run(f"{WORKLOAD} --anon 256")
        status = w.wait(timeout=60)
        out, err = p.communicate(timeout=30)
        kernel = [l for l in trace.lines() if f"pid={w.pid} " in l]
    finally:
        trace.remove()
        cg.remove()
    assert status == -signal.SIGKILL  # the workload was killed
    assert p.returncode == 0, err
    kills = [loads(l) for l in out.splitlines()]
    kills = [k for k in kills if k["type"] == "oom"]
    assert len(kills) == 1, out
    k = kills[0]
    v = k["victim"]
    assert v["pid"] == w.pid and v["comm"] == "workload"
    assert kernel, "tracefs saw no mark_victim for the workload: test is void"
    kernel_anon_kb = int(re.search(r"anon-rss=(\d+)kB", kernel[0])[1])
    # the kernel printed anon-rss from the same mm at the same tracepoint
    assert abs(v["rss_anon_bytes"] - kernel_anon_kb * 1024) <= 1 << 20, \
        (v["rss_anon_bytes"], kernel_anon_kb)
    assert v["rss_anon_bytes"] >= 32 << 20
    assert k["constraint"] == "memcg"
    # whether a function hook works is the kernel's to say, not memscope's 'features'
    if function_hooks_offered():
        # a function hook works: the kernel's own struct oom_control
        assert k["constraint_source"].startswith("oom_control"), k["constraint_source"]
        assert k["oom_control"]["memcg"] == cg.rel
        assert k["oom_control"]["total_pages"] == 64 << 20 >> 12  # the memcg limit, in pages
    else:
        # no hook on oom_kill_process here: derived from the memcg being at its limit
        assert k["constraint_source"].startswith("derived")
        assert k["oom_control"] is None
    assert k["memcg"]["path"] == cg.rel and k["memcg"]["at_limit"]
    assert k["memcg"]["limit_bytes"] == 64 << 20
    assert k["trigger"]["pid"] == w.pid  # the workload's own fault invoked the killer
    d = k["detail"]
    assert d["node"]["total_bytes"] > 0 and d["zones"]
    # a memcg OOM: the tasks are the cgroup's, here the victim alone (if not yet gone)
    assert d["tasks_of"] == "memcg" and d["memcg"]["path"] == cg.rel
    assert {t["pid"] for t in d["top_processes_after"]} <= {w.pid}


def test_no_oom_no_report_and_duration_on_time():
    t = time.monotonic()
    p = run("oom", "-d", 2, "--json", timeout=20)
    assert p.returncode == 0
    assert time.monotonic() - t < 5
    assert p.stdout == ""


def test_adj_updates():
    p = start_oom("--adj", "-d", 4)
    sleeper = subprocess.Popen(["sleep", "10"])
    while open(f"/proc/{sleeper.pid}/comm").read().strip() != "sleep":
        time.sleep(0.01)  # until it has exec'd
    try:
        with open(f"/proc/{sleeper.pid}/oom_score_adj", "w") as f:
            f.write("500")  # raising needs no CAP_SYS_RESOURCE
        out, _ = p.communicate(timeout=20)
    finally:
        sleeper.kill()
    recs = [loads(l) for l in out.splitlines()]
    adj = [r for r in recs if r["type"] == "oom_score_adj" and r["pid"] == sleeper.pid]
    assert adj and adj[0]["oom_score_adj"] == 500 and adj[0]["comm"] == "sleep"



def kernel_oom_lines():
    """The kernel's own "oom-kill:" lines by victim pid: constraint and memcg names."""
    out = subprocess.run(["dmesg"], capture_output=True, text=True).stdout
    return {int(m["pid"]): m.groupdict() for m in
            re.finditer(r"oom-kill:constraint=(?P<constraint>\w+),.*?oom_memcg=(?P<oom_memcg>"
                        r"[^,]*),task_memcg=(?P<task_memcg>[^,]*),task=[^,]*,pid=(?P<pid>\d+)",
                        out)}


def test_oom_storm_records_belong_together():
    """Three memcg OOM kills in quick succession, each in its own cgroup with its own
    limit: every record's victim, memory cgroup and oom_control must be the same kill's
    (an OOM storm once mixed them up). Truth: the kernel's oom-kill line per victim."""
    cgs = [MemoryCgroup(f"memscope-test-storm{i}", (48 + 16 * i) << 20) for i in range(3)]
    try:
        p = start_oom("-c", 3, "-d", 30)
        ws = [cg.run(f"{WORKLOAD} --anon 256") for cg in cgs]
        for w in ws:
            w.wait(timeout=60)
        out, err = p.communicate(timeout=40)
    finally:
        for cg in cgs:
            cg.remove()
    assert p.returncode == 0, err
    kills = {k["victim"]["pid"]: k for k in map(json.loads, out.splitlines())
             if k["type"] == "oom"}
    kernel = kernel_oom_lines()
    by_pid = {w.pid: cg for w, cg in zip(ws, cgs)}
    assert set(kills) == set(by_pid), (sorted(kills), sorted(by_pid))
    for pid, k in kills.items():
        cg = by_pid[pid]
        assert pid in kernel, f"no oom-kill line for {pid} in the kernel log: test is void"
        assert kernel[pid]["task_memcg"] == cg.rel == k["memcg"]["path"], (pid, k, kernel[pid])
        assert k["memcg"]["limit_bytes"] == cg.limit, (pid, k)
        if k["oom_control"] is not None:
            assert k["oom_control"]["memcg"] == kernel[pid]["oom_memcg"] == cg.rel, (pid, k)
            assert k["oom_control"]["total_pages"] << 12 == cg.limit, (pid, k)


def memory_stat(cg):
    """The cgroup's own memory.stat in v2 names (v1's hierarchical total_ lines)."""
    v1_names = {"rss": "anon", "cache": "file", "mapped_file": "file_mapped"}
    out = {}
    with open(f"{cg.path}/memory.stat") as f:
        for line in f:
            key, val = line.split()
            if cg.path.startswith("/sys/fs/cgroup/memory/"):
                if not key.startswith("total_"):
                    continue
                key = v1_names.get(key[6:], key[6:])
            out[key] = int(val)
    return out


def test_memcg_oom_detail_lists_the_cgroups_own_tasks_and_memory_stat():
    """A memcg OOM's --detail is the cgroup's, as the kernel's own report gives it: its
    tasks (exactly its cgroup.procs, the victim perhaps still among them) and its
    memory.stat, not the largest processes of the machine. The text, at 80 columns,
    heads the trigger's stack."""
    cg = MemoryCgroup("memscope-test-oom-detail", 64 << 20)
    survivors = [cg.run(f"{WORKLOAD} --anon 8 --stop") for _ in range(2)]
    try:
        for w in survivors:
            end = time.time() + 30
            while proc_state(w.pid) != "T":
                assert time.time() < end and w.poll() is None, "a workload did not stop"
                time.sleep(0.02)
        p = start_oom("-c", 1, "-d", 60, "--detail")
        text = subprocess.Popen([MEMSCOPE, "oom", "-c", "1", "-d", "60", "--detail",
                                 "--stack"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=dict(os.environ, COLUMNS="80"))
        wait_attached(text)
        victim = cg.run(f"{WORKLOAD} --anon 256")
        assert victim.wait(timeout=60) == -signal.SIGKILL
        out, err = p.communicate(timeout=30)
        shown, _ = text.communicate(timeout=30)
        with open(f"{cg.path}/cgroup.procs") as f:
            procs = {int(x) for x in f.read().split()}
        stat = memory_stat(cg)
    finally:
        for w in survivors:
            w.kill()
            w.wait()
        cg.remove()
    assert p.returncode == 0, err
    k = [r for r in map(loads, out.splitlines()) if r["type"] == "oom"][0]
    assert k["victim"]["pid"] == victim.pid
    d = k["detail"]
    assert procs == {w.pid for w in survivors}, procs
    assert d["tasks_of"] == "memcg"
    listed = {t["pid"] for t in d["top_processes_after"]}
    assert listed - {victim.pid} == procs, (listed, procs)
    assert d["nr_tasks"] == len(listed)
    assert all(t["cgroup"] == cg.rel for t in d["top_processes_after"])
    m = d["memcg"]
    assert m["path"] == cg.rel and m["limit_bytes"] == 64 << 20
    # read right after the kill: the victim's anonymous memory may not be gone yet
    slack = 1 << 20
    assert stat["anon"] - slack <= m["anon_bytes"] <= \
        stat["anon"] + k["victim"]["rss_anon_bytes"] + slack, (m["anon_bytes"], stat)
    for key in ("file", "shmem", "file_mapped"):
        assert abs(m[f"{key}_bytes"] - stat[key]) <= slack, (key, m[f"{key}_bytes"], stat[key])
    # the text: the same cgroup and tasks, the stack under its own heading, 80 columns
    lines = shown.splitlines()
    assert all(len(l) <= 80 for l in lines), max(lines, key=len)
    prose = " ".join(l.strip() for l in lines)
    assert f"memcg {cg.rel} right after the kill: usage" in prose, shown
    assert "its tasks right after the kill" in prose
    for pid in procs:
        assert any(l.split()[:1] == [str(pid)] for l in lines), (pid, shown)
    i = next(i for i, l in enumerate(lines) if l.startswith("  stack "))
    assert lines[i - 1].startswith("  reaper ") and lines[i + 1].startswith("    "), shown
