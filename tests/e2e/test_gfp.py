# SPDX-License-Identifier: GPL-2.0
"""memscope gfp decodes masks exactly as the running kernel prints them in tracefs."""
import json
import os
import re
import subprocess
import time

import pytest

from conftest import TRACEFS, ensure_tracefs, run, run_json


def capture_kernel_pairs():
    """(mask, string) pairs from two tracefs instances recording the same events:
    one with the 'fields' option (raw mask), one with the kernel's decoded output."""
    inst = [os.path.join(TRACEFS, "instances", f"memscope_gfp_{i}") for i in (0, 1)]
    for d in inst:
        os.makedirs(d, exist_ok=True)
    try:
        with open(os.path.join(inst[0], "options", "fields"), "w") as f:
            f.write("1")
        for d in inst:
            with open(os.path.join(d, "buffer_size_kb"), "w") as f:
                f.write("16384")
            with open(os.path.join(d, "events/kmem/mm_page_alloc/enable"), "w") as f:
                f.write("1")
        # Some variety: page cache, anonymous memory, a fork, slab.
        subprocess.run("cat /usr/bin/* >/dev/null 2>&1; ls -R /usr/share >/dev/null; "
                       "python3 -c 'x=bytearray(32<<20)'", shell=True)
        for d in inst:
            with open(os.path.join(d, "tracing_on"), "w") as f:
                f.write("0")
        # The same event in both: same task, CPU and page frame. Events recorded while
        # only one instance was enabled have no twin (a busy machine has some).
        streams = []
        for d in inst:
            events = {}
            for line in open(os.path.join(d, "trace")):
                m = re.match(r"\s*(\S+)\s+\[(\d+)\].*?pfn=(0x[0-9a-f]+).*?gfp_flags=(\S+)", line)
                if m:
                    key = m.group(1, 2, 3)
                    events[key] = None if key in events else m.group(4)  # ambiguous: drop
            streams.append(events)
        pairs = {}
        for key, mask in streams[0].items():
            flags = streams[1].get(key)
            if mask and flags:
                pairs.setdefault(int(mask, 16), set()).add(flags)
        return pairs
    finally:
        for d in inst:
            for _ in range(10):
                try:
                    os.rmdir(d)
                    break
                except OSError:
                    time.sleep(0.2)


def test_decoded_flags_equal_tracefs():
    assert ensure_tracefs()
    if not os.path.exists(os.path.join(TRACEFS, "options", "fields")):
        pytest.skip("this kernel's tracefs has no 'fields' option to pair raw masks with "
                    "decoded strings; test_paf compares a real failure's flags instead")
    pairs = capture_kernel_pairs()
    assert len(pairs) >= 3, pairs
    for mask, names in pairs.items():
        assert len(names) == 1, (hex(mask), names)  # the capture itself is consistent
    masks = sorted(pairs)
    recs = run_json("gfp", *[hex(m) for m in masks])
    # one record per mask asked, in order: printing nothing (or less) must fail
    assert [r["mask"] for r in recs] == masks, (recs, masks)
    for rec in recs:
        assert rec["source"] == "tracefs"
        assert {"|".join(rec["flags"])} == pairs[rec["mask"]], hex(rec["mask"])
    # the text form says the same, one "mask<TAB>flags" line per mask
    text = run("gfp", *[hex(m) for m in masks], check=True).stdout.splitlines()
    assert [(int(a, 16), b) for a, b in (l.split("	") for l in text)] == \
        [(m, next(iter(pairs[m]))) for m in masks], text


def test_zero_mask_is_none():
    assert run("gfp", "0", check=True).stdout.split() == ["0", "none"]


def test_bad_mask_is_usage_error():
    p = run("gfp", "0xzz")
    assert p.returncode == 2
    assert len(p.stderr.strip().splitlines()) == 1


def test_names_give_the_kernels_mask_and_a_bad_argument_spares_the_others():
    """Names decode to a mask as well: what the kernel printed for each captured mask
    gives that mask back, at 80 columns; one bad argument among them is named on one
    line (exit 2), and every other one is still decoded."""
    assert ensure_tracefs()
    if not os.path.exists(os.path.join(TRACEFS, "options", "fields")):
        pytest.skip("this kernel's tracefs has no 'fields' option to pair raw masks with "
                    "decoded strings")
    pairs = {mask: names.pop() for mask, names in capture_kernel_pairs().items()}
    assert len(pairs) >= 3, pairs
    names = list(pairs.values())
    args = names[:1] + ["NOT_A_FLAG"] + names[1:]
    p = run("gfp", *args, env=dict(os.environ, COLUMNS="80"))
    assert p.returncode == 2
    assert p.stderr.strip().splitlines() == [p.stderr.strip()] and "NOT_A_FLAG" in p.stderr
    lines = p.stdout.splitlines()
    assert all(len(l) <= 80 for l in lines), p.stdout
    # one mask a line, its names wrapped between names onto indented lines
    decoded = []
    for line in lines:
        if line.startswith(" "):
            decoded[-1][1] += line.strip()
        else:
            decoded.append(line.split(None, 1))
    assert [(int(m, 16), n) for m, n in decoded] == \
        [(next(m for m, n in pairs.items() if n == want), want) for want in names]
    p = run("gfp", "--json", *args)
    recs = [json.loads(l) for l in p.stdout.splitlines()]
    good = [r for r in recs if r["type"] == "gfp"]
    assert [r["input"] for r in good] == names
    assert all(pairs[r["mask"]] == "|".join(r["flags"]) for r in good)
    assert recs[-1]["type"] == "error" and recs[-1]["exit_status"] == 2
