# SPDX-License-Identifier: GPL-2.0
"""The output contract, over every command's -j output: each line valid UTF-8 JSON with
type and ts, every number's unit in its name, one name per fact; and the field
documentation generated from the record descriptions is the one in the repository."""
import json
import os
import re
import signal
import subprocess

import pytest

from conftest import MEMSCOPE, ROOT, WORKLOAD, MemoryCgroup, wait_attached

COMMANDS = [["features"], ["gfp", "0xcc0"], ["sys", "-c", "1", "--zones", "--frag"],
            ["proc", "--once"], ["proc", "-i", "0.3", "-c", "2", "--top", "5"], ["paf", "-d", "1"],
            ["paf", "--summary", "-i", "0.5", "-d", "1"],
            ["reclaim", "-i", "0.5", "-c", "2", "--by-process", "--slab"],
            ["oom", "--detail", "--stack"], ["-d", "0.5"], ["proc", "--bogus"],
            ["leak", "--kernel", "-i", "0.5", "-c", "1"], ["help", "fields"], ["-V"],
            ["slab", "-i", "0.5", "-c", "2", "--stacks", "--top", "3"], ["slab", "--memcg"],
            ["cache", "--top", "3"], ["cache", "-i", "0.5", "-c", "2"], ["sys", "--owners"]]
# the exit status each must end with: bad input is 2, everything else 0
STATUS = {"proc --bogus": 2}
_outputs = {}


def output(args):
    """(exit status, stdout) of memscope -j ARGS, run once for the module. oom runs while
    a memory cgroup's OOM kill happens (it prints only kills), then ends at SIGINT."""
    key = " ".join(args)
    if key not in _outputs:
        if args[0] == "oom":
            _outputs[key] = oom_with_a_kill(args)
        else:
            p = subprocess.run([MEMSCOPE, "-j", *args], capture_output=True, timeout=60)
            _outputs[key] = (p.returncode, p.stdout, p.stderr)
    return _outputs[key]


def oom_with_a_kill(args):
    cg = MemoryCgroup("memscope-test-contract", 64 << 20)
    try:
        p = subprocess.Popen([MEMSCOPE, "-j", *args], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        wait_attached(p)
        cg.run(f"{WORKLOAD} --anon 256").wait(timeout=60)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=30)
    finally:
        cg.remove()
    return p.returncode, out, err

# Where a unit suffix would be wrong: identities, labels, flags, and plain counts (of
# events, pages scanned as such, blocks), ratios and indices.
UNITS = ("_bytes", "_ns", "_pages", "_percent", "_per_s")
UNITLESS = re.compile(
    r"^(ts|id|pid|tid|.*_mask.*|.*_pid|.*_calls|node|nid|order|uid|mask|gfp|count|calls|cpu_node|"
    r"numa_nodes|exit_status|oom_score_adj|priority|.*_count|nr_.*|.*_index|"
    r".*_order|.*_order_.*|free_blocks.*|.*_avg\d+|.*_stalls|.*wakeups|rounds|.*_failures|failures|lost|"
    r"filtered|"
    r"retries|.*_retries|direct_reclaims|compaction_tries|reclaim_retries|kills|"
    r"histogram|max_no_progress_loops|compact_priority|.*_points|zones|"
    r"untracked_processes|exits_unseen|untimed_stalls|stall_events|snapshots|events|"
    r"hist.*|\d+|chosen_points|version|depth|events_.*|failcnt|stalls|oom_kills|.*_id|"
    r"untracked_memcgs|allocations|stacks|processes|unknown_frees|sample_every|"
    r"untracked_allocations|stacks_lost|stack_copies_lost|stack_collisions|unwound_stacks_lost|"
    r".*faults|"
    # slab and cache: objects, slabs and files counted
    r"objects_.*|.*_objects|slabs|.*_per_slab|caches|samples|estimated_allocs|stack_every|"
    r"untracked_caches|untracked_files|ino|files|walk_file_systems|walk_files|"
    r"walk_unreadable)$")
# Names that once stood for a fact another name now carries.
RETIRED = {"pte_bytes", "anon_rss_bytes", "file_rss_bytes", "shmem_rss_bytes",
           "total_vm_bytes", "pgtables_bytes", "free_pages", "min_pages", "low_pages",
           "high_pages", "protection_pages", "usecs_from", "total_ms", "max_ms", "nr_to_reclaim",
           "nr_requested", "totalpages",
           # PSI: one name per fact, as cgroup, report and the recorder name it
           "some_avg10", "some_avg60", "full_avg10", "full_avg60", "some_total_ns",
           "full_total_ns", "psi_some_ns", "psi_full_ns"}


def numbers(obj, path=""):
    """(key, value) of every number, however deep."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(v, bool):
                continue
            if isinstance(v, (int, float)):
                yield k, v
            else:
                yield from numbers(v, k)
    elif isinstance(obj, list):
        for v in obj:
            if isinstance(v, (dict, list)):
                yield from numbers(v, path)


def keys(obj):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield k
            yield from keys(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from keys(v)


def check_contract(rec):
    """type and ts, units in names, no retired name: for every record the suite parses."""
    assert isinstance(rec.get("type"), str), rec
    assert isinstance(rec.get("ts"), float) and rec["ts"] > 1.5e9, rec
    for k, _ in numbers(rec):
        assert k.endswith(UNITS) or UNITLESS.match(k), f"{rec['type']}: '{k}' has no unit"
    retired = RETIRED & set(keys(rec))
    assert not retired, f"{rec['type']}: retired names {retired}"


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a))
def test_every_json_line_keeps_the_contract(args):
    status, out, err = output(args)
    assert status == STATUS.get(" ".join(args), 0), err
    lines = out.splitlines()
    assert lines, "no output: the test is void"
    for raw in lines:
        check_contract(json.loads(raw.decode("utf-8")))  # strict UTF-8
        # no float noise (0.05, not 0.050000000000000003); ts has microseconds
        assert not re.search(rb"\.\d{7,}", raw), raw


def test_field_docs_are_generated_and_current():
    p = subprocess.run([MEMSCOPE, "help", "fields"], capture_output=True, text=True,
                       timeout=30, check=True)
    with open(os.path.join(ROOT, "docs", "FIELDS.md")) as f:
        doc = f.read()
    # the file is make docs' heading and then exactly what memscope prints
    heading = ("# memscope JSON records\n\nGenerated by `make docs` from the record "
               "descriptions (`memscope help fields`); do not edit.\n\n")
    assert p.stdout.count("\n### `") >= 20, "help fields describes hardly anything"
    assert doc == heading + p.stdout, "docs/FIELDS.md is stale: make docs"


def described_fields():
    """{record type: its JSON keys in order} from 'memscope help fields' (None where a
    part's fields stand inline and the keys are not listed one by one)."""
    doc = subprocess.run([MEMSCOPE, "help", "fields"], capture_output=True, text=True,
                         timeout=30, check=True).stdout
    described = {}
    for block in doc.split("### ")[1:]:
        name = re.match(r"`([\w.]+)`", block)[1]
        inline = "(every field of" in block
        described[name] = None if inline else re.findall(r"^\| `([\w/]+)` \|", block, re.M)
    return described


def test_every_record_prints_as_described():
    """Each record any command prints is a described type, with exactly its fields."""
    described = described_fields()
    seen = set()
    for args in COMMANDS:
        for line in output(args)[1].decode().splitlines():
            rec = json.loads(line)
            assert rec["type"] in described, f"{rec['type']} is not described"
            if described[rec["type"]] is not None and rec["type"] != "lost":
                assert list(rec) == described[rec["type"]], rec["type"]
            seen.add(rec["type"])
    assert {"sys", "zone", "proc", "features", "gfp", "summary", "reclaim_interval",
            "paf_summary", "paf_stats", "error", "leak", "leak_source", "leak_stack", "oom",
            "help", "version"} <= seen, seen


TEXT_COMMANDS = [["sys"], ["sys", "--zones", "--frag"], ["proc", "--once"],
                 ["proc", "-i", "0.3", "-c", "2"], ["reclaim", "-i", "0.3", "-c", "1"],
                 ["features"], ["-d", "0.5"], ["leak", "--kernel", "-i", "0.5", "-c", "1"]]  # gfp prints "mask<TAB>flags" lines for scripts


@pytest.mark.parametrize("args", TEXT_COMMANDS, ids=lambda a: " ".join(a))
def test_text_fits_80_columns_without_trailing_spaces(args):
    """Not on a terminal and without COLUMNS, text fits 80 columns (characters, not
    bytes); no line ends in a space. (paf and oom blocks need load: their verdicts wrap
    through the same writer.)"""
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    p = subprocess.run([MEMSCOPE, *args], capture_output=True, timeout=60, env=env)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.decode("utf-8").splitlines()
    assert lines
    for line in lines:
        assert len(line) <= 80, (len(line), line)
        assert not line.endswith(" "), repr(line)
    wide = subprocess.run([MEMSCOPE, *args], capture_output=True, timeout=60,
                          env=dict(env, COLUMNS="250")).stdout.decode("utf-8").splitlines()
    assert max(map(len, wide)) >= max(map(len, lines))


def test_ascii_outside_a_utf8_locale():
    env = {k: v for k, v in os.environ.items() if k not in ("LANG", "LC_ALL", "LC_CTYPE")}
    out = subprocess.run([MEMSCOPE, "-d", "0.3"], capture_output=True, timeout=60,
                         env=dict(env, LANG="C")).stdout
    assert out.isascii(), [c for c in out.decode() if not c.isascii()]
    out = subprocess.run([MEMSCOPE, "-d", "0.3"], capture_output=True, timeout=60,
                         env=dict(env, LANG="C.UTF-8")).stdout.decode()
    assert "\u2192" in out
