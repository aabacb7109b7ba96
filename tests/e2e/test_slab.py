# SPDX-License-Identifier: GPL-2.0
"""memscope slab against /proc/slabinfo read around it: every cache, negative dentries
growing the dentry cache, allocation rates and sites from the kmem tracepoints."""
import json
import os
import subprocess
import tempfile

import pytest

from conftest import CLASSIC, DATA_DIR, MEMSCOPE, loads, run_json, within_bracket

PAGE = os.sysconf("SC_PAGE_SIZE")


def slabinfo():
    """{cache: (active objects, objects, objsize, slabs, pages per slab)}."""
    caches = {}
    with open("/proc/slabinfo") as f:
        for line in f:
            if line.startswith(("slabinfo", "#")):
                continue
            p = line.split()
            caches[p[0]] = (int(p[1]), int(p[2]), int(p[3]), int(p[14]), int(p[5]))
    return caches


def has_kmem_cache_iter():
    """Does the kernel have the kmem_cache iterator (6.13+)? Its context type in BTF."""
    out = subprocess.run(["bpftool", "btf", "dump", "file", "/sys/kernel/btf/vmlinux"],
                         capture_output=True, text=True, check=True).stdout
    return "'bpf_iter__kmem_cache'" in out


def alloc_events_name_cache():
    """Do the kmem_cache_alloc events memscope uses here name the cache? The classic
    record of 6.1 has no name field (its kmem_cache_free record has one)."""
    if not CLASSIC:
        return True
    for tracefs in ("/sys/kernel/tracing", "/sys/kernel/debug/tracing"):
        path = f"{tracefs}/events/kmem/kmem_cache_alloc/format"
        if os.path.exists(path):
            with open(path) as f:
                return " name;" in f.read()
    raise AssertionError("no tracefs")


# A cache whose objects come and go while the two are read (anon_vma, vm_area_struct of
# processes starting; kmalloc) may differ by this much from both readings.
SLACK = 64
# memscope's own process, between the readings: its address space (maple tree nodes,
# VMAs, anon_vma chains), its files and BPF objects come and go with it, so a cache of
# those can show more than either reading did. Measured: up to ~140 maple nodes.
OBSERVED = ("maple_node", "vm_area_struct", "anon_vma", "anon_vma_chain", "filp",
            "kmalloc-", "kmalloc-cg-", "pid", "cred", "mm_struct", "task_struct",
            "files_cache", "signal_cache", "sighand_cache", "lsm_file_cache",
            "buffer_head", "dentry", "radix_tree_node", "xfs_", "ext4_")
OBSERVED_SLACK = 1024


@pytest.mark.parametrize("source", ["default", "slabinfo"])
def test_every_cache_as_slabinfo_counts_it(source):
    before = slabinfo()
    recs = run_json("slab", "--top", "0", *(["--slabinfo"] if source == "slabinfo" else []))
    after = slabinfo()
    total = [r for r in recs if r["type"] == "slab_total"][0]
    rows = {r["name"]: r for r in recs if r["type"] == "slab"}
    want = "iter/kmem_cache" if source == "default" and has_kmem_cache_iter() \
        else "/proc/slabinfo"
    assert total["source"] == want
    # why /proc/slabinfo is read, in words; nothing to explain with the iterator
    if source == "slabinfo":
        assert total["source_why"] == "asked for by --slabinfo"
    elif want == "/proc/slabinfo":
        assert total["source_why"] == "this kernel has no kmem_cache iterator (6.13+)"
    else:
        assert total["source_why"] is None
    assert set(rows) >= set(before) & set(after), "a cache is missing"
    assert total["caches"] == len(rows)
    for name in set(before) & set(after):
        r, b, a = rows[name], before[name], after[name]
        slack = OBSERVED_SLACK if name.startswith(OBSERVED) else SLACK
        assert within_bracket(r["objects_active"], b[0], a[0], 0.02, slack), (name, r, b, a)
        assert within_bracket(r["objects_in_slabs"], b[1], a[1], 0.02, slack), (name, r, b, a)
        assert r["size_bytes"] == b[2], name
        assert within_bracket(r["slabs"], b[3], a[3], 0.02, slack), (name, r, b, a)
        assert r["pages_per_slab"] == b[4], name
        assert r["cache_bytes"] == r["slabs"] * r["pages_per_slab"] * PAGE, name
        if source == "default" and want == "iter/kmem_cache":
            # the kernel's own flag, as SLUB's sysfs shows it
            flag = f"/sys/kernel/slab/{name}/reclaim_account"
            if os.path.exists(flag):
                with open(flag) as f:
                    assert r["reclaimable"] == (f.read().strip() == "1"), name
    # the caches are all of Slab but kmalloc's large allocations (pages, SUnreclaim)
    assert total["caches_bytes"] <= total["meminfo_slab_bytes"] * 1.02


def test_text_says_where_the_caches_were_read_and_why():
    """At 80 columns: the iterator, or /proc/slabinfo and the reason (a kernel before
    6.13 has no kmem_cache iterator)."""
    env = dict(os.environ, COLUMNS="80")
    out = subprocess.run([MEMSCOPE, "slab", "--top", "3"], capture_output=True, text=True,
                         env=env, check=True).stdout
    lines = out.splitlines()
    assert all(len(l) <= 80 for l in lines), max(lines, key=len)
    head = " ".join(l.strip() for l in lines[:3])
    if has_kmem_cache_iter():
        assert "Read from iter/kmem_cache." in head, out
    else:
        assert "Read from /proc/slabinfo: this kernel has no kmem_cache iterator " \
            "(6.13+)." in head, out
    out = subprocess.run([MEMSCOPE, "slab", "--top", "3", "--slabinfo"], capture_output=True,
                         text=True, env=env, check=True).stdout
    head = " ".join(l.strip() for l in out.splitlines()[:3])
    assert "Read from /proc/slabinfo: asked for by --slabinfo." in head, out


def test_bad_input():
    for args in (["--sort", "nosuch"], ["--top", "-1"], ["--stacks"], ["-s", "growth"],
                 ["--memcg", "-i", "1"]):
        p = subprocess.run([MEMSCOPE, "slab", *args], capture_output=True, text=True)
        assert p.returncode == 2, (args, p.stderr)
        assert len(p.stderr.strip().splitlines()) == 1, p.stderr


def negative_dentries(n, where):
    """stat() n names that do not exist: each leaves a negative dentry (on a disk file
    system: tmpfs deletes a negative dentry at once, always_delete_dentry)."""
    code = ("import os,sys\nd=sys.argv[1]\nfor i in range(int(sys.argv[2])):\n"
            " try: os.stat(os.path.join(d, 'missing-%d' % i))\n except OSError: pass\n")
    subprocess.run(["python3", "-c", code, where, str(n)], check=True, timeout=300)


def test_negative_dentries_grow_the_dentry_cache():
    """300,000 stats of missing names: the dentry cache grows by what slabinfo says, in the
    report after them, with as many allocations counted from the tracepoint."""
    n = 300000
    with tempfile.TemporaryDirectory(dir=DATA_DIR) as where:
        p = subprocess.Popen([MEMSCOPE, "-j", "slab", "-i", "1", "--top", "0", "-s",
                              "growth"], stdout=subprocess.PIPE, text=True)
        try:
            reports, cur = [], []
            for line in p.stdout:
                rec = loads(line)
                if rec["type"] == "slab_total" and cur:
                    reports.append(cur)
                    cur = []
                    if len(reports) == 1:
                        before = slabinfo()["dentry"][0]
                        negative_dentries(n, where)
                        after = slabinfo()["dentry"][0]
                    elif len(reports) == 4:
                        break
                cur.append(rec)
        finally:
            p.stdout.close()  # a report blocked on the full pipe ends too
            p.terminate()
            p.wait()
    assert len(reports) == 4, (len(reports), p.returncode)
    # the reports after the first: their growth adds up to what slabinfo saw, and more
    grown = sum(r["growth_objects"] for rep in reports[1:] for r in rep
                if r["type"] == "slab" and r["name"] == "dentry")
    assert after - before >= n * 0.95, (before, after)
    assert within_bracket(grown, after - before, after - before, 0.05, 2000), \
        (grown, before, after)
    rates = [r["allocs_per_s"] for rep in reports[1:] for r in rep
             if r["type"] == "slab" and r["name"] == "dentry"]
    if not alloc_events_name_cache():
        # the events name no cache: its rates are unknown (null), never 0
        assert rates and all(x is None for x in rates), rates
        return
    # each missing name took one dentry from the cache: the rates times their intervals
    allocs = 0
    for prev, rep in zip(reports, reports[1:]):
        dt = rep[0]["ts"] - prev[0]["ts"]
        allocs += dt * sum(r["allocs_per_s"] for r in rep
                           if r["type"] == "slab" and r["name"] == "dentry")
    assert n * 0.98 <= allocs <= n * 1.2 + 5000, allocs


def test_stacks_name_the_call_site():
    """--stacks: the dentries' allocation site is d_alloc's."""
    with tempfile.TemporaryDirectory(dir=DATA_DIR) as where:
        p = subprocess.Popen([MEMSCOPE, "-j", "slab", "-i", "1", "-s", "growth", "--stacks",
                              "--stack-every", "16"], stdout=subprocess.PIPE, text=True)
        try:
            sites, seen_totals = [], 0
            for line in p.stdout:
                rec = loads(line)
                if rec["type"] == "slab_total":
                    seen_totals += 1
                    if seen_totals == 2:
                        negative_dentries(100000, where)
                    elif seen_totals == 4:
                        break
                    assert rec["stack_every"] == 16
                elif rec["type"] == "slab_site":
                    sites.append(rec)
        finally:
            p.stdout.close()  # a report blocked on the full pipe ends too
            p.terminate()
            p.wait()
    dentry = [s for s in sites if s["cache"] == "dentry"]
    if not alloc_events_name_cache():
        # only kmalloc's size classes can have sites: the events name no other cache
        assert all(s["cache"].startswith("kmalloc-") for s in sites), sites[:5]
        return
    assert dentry, sites[:5]
    assert any("d_alloc" in f for s in dentry for f in s["stack"]), dentry[0]
    assert all(s["estimated_allocs"] == s["samples"] * 16 for s in dentry)


def v1_kmem_usage():
    """memory.kmem.usage_in_bytes of every v1 memory cgroup: {path: bytes}."""
    top = "/sys/fs/cgroup/memory"
    usage = {}
    for d, _, files in os.walk(top):
        if "memory.kmem.usage_in_bytes" in files:
            try:
                with open(os.path.join(d, "memory.kmem.usage_in_bytes")) as f:
                    usage["/" + os.path.relpath(d, top).lstrip(".")] = int(f.read())
            except OSError:
                pass  # removed while walked
    return usage


def test_memcg_slab_from_the_files():
    # read around memscope's read: the root's kernel memory moves by megabytes
    # while other cgroups come and go (CI saw 2.7 MB then 9.4 MB)
    before = v1_kmem_usage()
    recs = run_json("slab", "--memcg")
    after = v1_kmem_usage()
    assert recs, "no cgroup"
    root = recs[0]
    assert root["path"] == "/"
    for r in recs:
        if r["source"].startswith("v2"):
            continue
        # v1: memory.kmem.usage_in_bytes where the kernel has it
        if r["path"] in before and r["path"] in after:
            assert within_bracket(r["kernel_bytes"], before[r["path"]], after[r["path"]],
                                  0.05, 4 << 20), r
