# SPDX-License-Identifier: GPL-2.0
"""Text fits 80 columns: every command that prints text, run at COLUMNS=80 while the
kernel gives it something to say (a memcg reclaiming and OOM-killed, order-9
allocations failing, a process leaking), fails on any longer line. The commands come
from 'memscope --help', so a new one is covered the day it lands."""
import os
import re
import signal
import subprocess
import tempfile
import time

import pytest

from conftest import (MEMSCOPE, ROOT, SLOWDOWN, WORKLOAD, HugepageOvershoot, MemoryCgroup,
                      drop_caches, wait_attached)

WIDTH = 80
ENV = dict(os.environ, COLUMNS=str(WIDTH), LANG="C.UTF-8", LC_ALL="C.UTF-8")
LEAKY = os.path.join(ROOT, "build", "tests", "leaky")
# interactive (a full-screen view, not lines of text), or no text but its help (the
# exporter serves metrics)
INTERACTIVE = {"top", "exporter"}


def listed_commands():
    """The commands 'memscope --help' lists (help itself aside)."""
    out = subprocess.run([MEMSCOPE, "--help"], capture_output=True, text=True,
                         env=ENV).stdout
    block = out.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
    names = [m.group(1) for m in re.finditer(r"^  ([a-z][a-z0-9-]*)\s", block, re.M)]
    return [n for n in names if n != "help"]


COMMANDS = listed_commands()

# Live commands: started before the trouble, stopped (SIGINT) after it. {DB}, {LEAKY}:
# the recording and the leaking process.
LIVE = {
    "proc": [["proc", "-i", "1"], ["proc", "-i", "1", "--comm", "workload"]],
    "sys": [["sys", "-i", "2"], ["sys", "-z", "-i", "3"], ["sys", "--on", "failure,reclaim"]],
    "paf": [["paf"], ["paf", "--stack"], ["paf", "--summary", "-i", "2"]],
    "reclaim": [["reclaim", "-i", "1"], ["reclaim", "--events"],
                ["reclaim", "--by-process", "--slab", "-i", "3"]],
    "oom": [["oom", "--detail", "--stack"]],
    "cgroup": [["cgroup", "-i", "1"]],
    "leak": [["leak", "-p", "{LEAKY}", "-i", "1"], ["leak", "--kernel", "-i", "2"]],
    "record": [["record", "--db", "{DB}", "-i", "1", "--stall-ms", "0",
                "--snapshot-order", "9"]],
    "summary": [["summary", "-d", "10"]],
}
# Run once the trouble is over; {AT}: the moment of the OOM kill, as report prints it.
AFTER = {
    "proc": [["proc", "--once"]],
    "sys": [["sys", "-c", "1"], ["sys", "-z", "--frag", "-c", "1"]],
    "cgroup": [["cgroup"], ["cgroup", "--tree"]],
    "report": [["report", "--db", "{DB}"], ["report", "--db", "{DB}", "--at", "{AT}"]],
    "features": [["features"]],
    "gfp": [["gfp", "0x346cca", "GFP_KERNEL", "0xffffffff"]],
    "summary": [["summary", "-d", "2"]],
}


def start(args):
    return subprocess.Popen([MEMSCOPE, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=ENV)


def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGINT)
    try:
        out, err = p.communicate(timeout=60 * SLOWDOWN)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
    return out + err


def fill(args, subst):
    return [subst.get(a.strip("{}"), a) if a.startswith("{") else a for a in args]


@pytest.fixture(scope="module")
def screens(tmp_path_factory):
    """{command: [(argv, text)]}: what each command printed at 80 columns."""
    tmp = tmp_path_factory.mktemp("columns")
    db = str(tmp / "m.db")
    data = os.path.join(os.environ.get("MEMSCOPE_TEST_DATA_DIR", "/var/tmp"),
                        "memscope-columns.dat")
    subprocess.run(["dd", "if=/dev/zero", f"of={data}", "bs=1M", "count=256"], check=True,
                   capture_output=True)
    leaky = subprocess.Popen([LEAKY, "malloc"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    assert leaky.stdout.readline() == "ready\n"
    subst = {"DB": db, "LEAKY": str(leaky.pid)}
    cg = MemoryCgroup("memscope-test-columns", 64 << 20)
    seen = {}
    live = []
    try:
        for cmd, runs in LIVE.items():
            for args in runs:
                args = fill(args, subst)
                live.append((cmd, args, start(args)))
        for _, args, p in live:
            if args[0] != "summary":
                wait_attached(p)
        leaky.stdin.write("go\n")
        leaky.stdin.flush()
        assert leaky.stdout.readline() == "done\n"
        # a process that grows while proc watches it
        grow = subprocess.Popen([WORKLOAD, "--anon", "64", "--stop"],
                                stdout=subprocess.DEVNULL)
        drop_caches()
        cg.run(f"cat {data}").wait(timeout=120 * SLOWDOWN)  # memcg reclaim
        w = cg.run(f"{WORKLOAD} --anon 256")
        assert w.wait(timeout=60 * SLOWDOWN) == -signal.SIGKILL
        HugepageOvershoot().run()
        time.sleep(4)
        grow.kill()
        grow.wait()
        for cmd, args, p in live:
            seen.setdefault(cmd, []).append((args, stop(p)))
    finally:
        for _, _, p in live:
            if p.poll() is None:
                p.kill()
        leaky.kill()
        leaky.wait()
        cg.remove()
        os.unlink(data)
    # the kill's moment, as the report prints it
    rep = subprocess.run([MEMSCOPE, "report", "--db", db], capture_output=True, text=True,
                         env=ENV).stdout
    m = re.search(r"^(\S+)\s+oom_kill", rep, re.M)
    assert m, rep
    subst["AT"] = m.group(1)
    for cmd, runs in AFTER.items():
        for args in runs:
            args = fill(args, subst)
            p = subprocess.run([MEMSCOPE, *args], capture_output=True, text=True, env=ENV,
                               timeout=120 * SLOWDOWN)
            seen.setdefault(cmd, []).append((args, p.stdout + p.stderr))
    # a command this file does not know yet: its plain form, for a few seconds
    for cmd in COMMANDS:
        if cmd in seen or cmd in INTERACTIVE:
            continue
        p = start([cmd])
        time.sleep(3 * SLOWDOWN)
        seen[cmd] = [([cmd], stop(p))]
    # (help fields, metrics and recorder print Markdown reference tables, docs/*.md)
    for cmd in COMMANDS:
        p = subprocess.run([MEMSCOPE, "help", cmd], capture_output=True, text=True, env=ENV)
        seen.setdefault("help", []).append((["help", cmd], p.stdout + p.stderr))
    p = subprocess.run([MEMSCOPE, "--help"], capture_output=True, text=True, env=ENV)
    seen["help"].append((["--help"], p.stdout + p.stderr))
    keep = os.environ.get("MEMSCOPE_TEST_SCREENS")  # a folder to read them in
    if keep:
        os.makedirs(keep, exist_ok=True)
        for cmd, runs in seen.items():
            with open(os.path.join(keep, cmd + ".txt"), "w") as f:
                for args, text in runs:
                    f.write(f"$ memscope {' '.join(args)}\n{text}\n")
    return seen


def too_long(text):
    """Lines over the width, or ending in a space."""
    return [l for l in text.splitlines() if len(l) > WIDTH or l.endswith(" ")]


@pytest.mark.parametrize("cmd", [c for c in COMMANDS if c not in INTERACTIVE] + ["help"])
def test_every_line_fits_80_columns(screens, cmd):
    assert cmd in screens, f"{cmd} was not run"
    for args, text in screens[cmd]:
        assert text.strip(), f"memscope {' '.join(args)} printed nothing: the test is void"
        long = too_long(text)
        assert not long, f"memscope {' '.join(args)}: {len(long)} lines over {WIDTH} " \
            "(or ending in a space):\n" + "\n".join(map(repr, long[:10]))


def test_the_trouble_was_seen(screens):
    """The situations really happened, so the screens above had something to say."""
    text = {c: "\n".join(t for _, t in runs) for c, runs in screens.items()}
    assert "oom_kill" in text["report"] or "OOM" in text["report"]
    assert re.search(r"order 9", text["paf"])
    assert "memcg" in text["reclaim"]
    assert "leaky_function" in text["leak"]


def test_a_missing_capability_is_said_once(screens):
    for args, text in screens["reclaim"]:
        lines = [l for l in text.splitlines() if "unavailable" in l or "not available" in l]
        assert len(lines) <= 1, f"memscope {' '.join(args)}:\n" + "\n".join(lines)


def test_live_proc_keeps_its_columns(screens):
    for args, text in screens["proc"]:
        heads = {l for l in text.splitlines() if re.match(r"^\s*PID\s", l)}
        assert len(heads) <= 1, f"memscope {' '.join(args)} changed its columns:\n" + \
            "\n".join(heads)


def test_cgroup_keeps_its_problem_columns_at_80(screens):
    """At 80 columns cgroup shows how full each cgroup is and its trouble (stalls,
    reclaim, kills), not names and paths alone; a long path keeps its tail."""
    runs = dict((" ".join(a), t) for a, t in screens["cgroup"])
    must = {"cgroup -i 1": ["CGROUP", "USAGE", "%LIM", "STALLS", "P99", "RECLAIMED", "KILLS"],
            "cgroup": ["CGROUP", "USAGE", "LIMIT", "%LIM", "OOMK"]}
    for args, heads in must.items():
        head = next(l for l in runs[args].splitlines() if l.startswith("CGROUP"))
        assert set(heads) <= set(head.split()), (args, head)
    # the test's own cgroup: its stalls in the live view, on its line, read under the
    # heading above it (which columns come between %LIM and STALLS depends on the
    # kernel: v2's PSI is one)
    stalls = [cell(head, l, "STALLS") for head, l in rows_under(runs["cgroup -i 1"], "CGROUP")
              if l.startswith("/memscope-test-columns")]
    assert any(s.isdigit() and int(s) > 0 for s in stalls), (stalls, runs["cgroup -i 1"])


def rows_under(text, first):
    """(heading, row) for each row of a table whose heading starts with first."""
    head = None
    for l in text.splitlines():
        if l.startswith(first):
            head = l
        elif head is not None and l.strip():
            yield head, l


def cell(head, row, name):
    """The text under a right-aligned column: from the end of the heading before it to
    the end of its own (columns are one space apart, numbers end under their heading)."""
    words = [(m.group(), m.start(), m.end()) for m in re.finditer(r"\S+", head)]
    at = next(i for i, w in enumerate(words) if w[0] == name)
    return row[words[at - 1][2]:words[at][2]].strip()
