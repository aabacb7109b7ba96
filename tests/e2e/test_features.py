# SPDX-License-Identifier: GPL-2.0
"""memscope features agrees with the machine."""
import json
import os
import platform

import pytest

from conftest import (AVOID_HOOKS, loads, TRACEFS, ensure_tracefs, fentry_loads,
                      function_hooks_offered, run, run_json)


def test_features_json_is_one_valid_record():
    p = run("features", "--json", check=True)
    lines = p.stdout.strip().splitlines()
    assert len(lines) == 1
    rec = loads(lines[0])
    assert rec["type"] == "features"
    assert rec["kernel"] == platform.release()
    assert rec["page_size_bytes"] == os.sysconf("SC_PAGE_SIZE")
    assert rec["btf"] == os.path.exists("/sys/kernel/btf/vmlinux")
    assert rec["psi"] == os.path.exists("/proc/pressure/memory")
    assert rec["numa_nodes"] == online_nodes()


def range_list(text):
    """A kernel range list ("0-2,4") as a set of numbers."""
    out = set()
    for part in text.strip().split(","):
        lo, _, hi = part.partition("-")
        out |= set(range(int(lo), int(hi or lo) + 1))
    return out


def online_nodes():
    """How many NUMA nodes are online, told apart from how features.c counts them
    (node directories): the kernel's online mask, else, on a kernel built without NUMA,
    the nodes /proc/zoneinfo lists (one); the two agree where both exist."""
    zoneinfo_nodes = set()
    with open("/proc/zoneinfo") as f:
        for line in f:
            if line.startswith("Node "):
                zoneinfo_nodes.add(int(line.split()[1].rstrip(",")))
    try:
        with open("/sys/devices/system/node/online") as f:
            online = range_list(f.read())
    except FileNotFoundError:
        return len(zoneinfo_nodes)
    assert zoneinfo_nodes <= online, (zoneinfo_nodes, online)  # nodes with memory
    return len(online)


def test_kprobe_matches_kernel():
    """kprobe works exactly when the kernel has kprobe support (kprobe_events)."""
    ensure_tracefs()
    rec = run_json("features")[0]
    has_kprobes = os.path.exists(os.path.join(TRACEFS, "kprobe_events"))
    assert rec["hooks"]["kprobe"]["available"] == has_kprobes
    if not has_kprobes:
        assert rec["hooks"]["kprobe"]["error"]


def test_fentry_matches_an_independent_load(tmp_path):
    """Load a fentry-only object with bpftool: memscope must agree with the kernel."""
    loaded, err = fentry_loads()
    rec = run_json("features")[0]
    assert rec["hooks"]["fentry"]["available"] == loaded, err


def test_tp_btf_iterators_ringbuf_available_on_a_btf_kernel():
    rec = run_json("features")[0]
    for kind in ("tp_btf", "raw_tp", "iter/task", "ringbuf"):
        assert rec["hooks"][kind]["available"], (kind, rec["hooks"][kind])


def test_tracepoints_listed_match_tracefs():
    ensure_tracefs()
    rec = run_json("features")[0]
    for where in rec["tracepoints"]:
        name = where["name"]
        cat, ev = name.split(":")
        assert where["tracefs"] == os.path.isdir(os.path.join(TRACEFS, "events", cat, ev)), name
    for p in rec["probes"]:
        if not p["optional"]:
            assert p["hook"], f"{p['command']}: no hook for {p['probe']}"


def test_text_output_names_every_hook_kind():
    out = run("features", check=True).stdout
    for kind in ("tp_btf", "raw_tp", "tracepoint", "fentry", "kprobe", "iter/task", "ringbuf"):
        assert kind in out


def test_avoided_kind_is_never_chosen_and_the_next_variant_is():
    rec = run_json("--avoid-hooks", "tp_btf", "features")[0]
    # the suite's own --avoid-hooks (MEMSCOPE_TEST_AVOID_HOOKS) adds up with this one
    avoided = set(AVOID_HOOKS) | {"tp_btf"}
    for kind in ("tp_btf", "raw_tp", "tracepoint", "fentry", "kprobe"):
        assert rec["hooks"][kind]["avoided"] == (kind in avoided), kind
    hooks = {(p["command"], p["probe"]): p["hook"] for p in rec["probes"]}
    assert not avoided & set(hooks.values())
    # every tracepoint probe falls back to raw_tp, then to the classic tracepoint
    nxt = next(k for k in ("raw_tp", "tracepoint")
               if k not in avoided and rec["hooks"][k]["available"])
    for key in (("oom", "oom:mark_victim"),
                ("reclaim", "vmscan:mm_vmscan_lru_shrink_inactive"), ("paf", "kmem:mm_page_alloc"),
                ("sys", "kmem:mm_page_alloc")):
        assert hooks[key] == nxt, (key, hooks[key])


# Hook kinds the kernel under test is known to offer, named by the runner (make test-vm
# says fentry,kprobe for Debian's 6.1): there, their absence is a failure, not a skip.
EXPECTED_HOOKS = [h for h in os.environ.get("MEMSCOPE_TEST_EXPECT_HOOKS", "").split(",") if h]


def test_function_probes_take_the_richest_function_hook():
    """Whichever function hooks the kernel offers (found without memscope), the function
    probes take the richest: fentry over kprobe."""
    offered = function_hooks_offered()
    assert set(EXPECTED_HOOKS) - set(AVOID_HOOKS) <= offered, (EXPECTED_HOOKS, offered)
    if not offered:
        pytest.skip("this kernel offers neither fentry nor kprobe (or this pass avoids "
                    "them): the function probes have no hook to take")
    rec = run_json("features")[0]
    for kind in offered:
        assert rec["hooks"][kind]["available"], (kind, rec["hooks"][kind])
    fn = {p["probe"]: p["hook"] for p in rec["probes"]
          if p["probe"] in ("oom_kill_process", "shrink_folio_list", "shrink_page_list")}
    richest = next(k for k in ("fentry", "kprobe") if k in offered)
    assert fn["oom_kill_process"] == richest, fn
    # reclaim's target: whichever of the two names this kernel has
    assert richest in (fn["shrink_folio_list"], fn["shrink_page_list"]), fn


def function_hooks_work(rec):
    """fentry or kprobe works (and is not avoided): kprobe by the kernel's own word
    (kprobe_events), fentry as memscope found it, which test_fentry_matches_an_independent_load
    holds to bpftool's."""
    ensure_tracefs()
    kprobe = os.path.exists(os.path.join(TRACEFS, "kprobe_events"))
    fentry = rec["hooks"]["fentry"]["available"]
    return (kprobe and "kprobe" not in AVOID_HOOKS) or (fentry and "fentry" not in AVOID_HOOKS)


def test_bottom_line_comes_first_and_says_what_is_missing():
    """The first lines say what works and what is missing, with what that costs: without
    fentry and kprobe, oom's constraint and reclaim's nr_to_reclaim; at 80 columns."""
    p = run("features", check=True, env=dict(os.environ, COLUMNS="80"))
    lines = p.stdout.splitlines()
    assert all(len(l) <= 80 for l in lines), max(lines, key=len)
    assert lines[0].startswith("in short "), lines[:3]
    head = " ".join(l.strip() for l in lines[:lines.index("")])
    rec = run_json("features")[0]
    costs = {l["what"]: l for l in rec["limits"]}
    assert rec["bottom_line"] in head
    missing = [l for l in costs.values() if l["needs"] == "fentry or kprobe"]
    if function_hooks_work(rec):
        assert not missing, missing
        return
    whats = " ".join(l["what"] + " " + l["commands"] for l in missing)
    assert "struct oom_control" in whats and "oom" in whats, missing
    assert "nr_to_reclaim" in whats and "reclaim" in whats, missing
    assert all(l["runs"] for l in missing)
    assert rec["bottom_line"].startswith("every command runs here")
    for l in missing:
        assert l["what"] in head and "needs fentry or kprobe" in head
