# SPDX-License-Identifier: GPL-2.0
"""memscope record and report: a flight recorder in SQLite, checked against the live
commands, the kernel's counters, kill -9, a full disk, and a real browser."""
import contextlib
import datetime
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import stat
import subprocess
import tempfile
import time

import pytest

from conftest import (loads, MEMSCOPE, ROOT, SLOWDOWN, WORKLOAD, AVOID_HOOKS, HugepageOvershoot,
                      MemoryCgroup, drop_caches, run, wait_attached)


def vmstat_steal():
    """Pages reclaimed, by the kernel's count: pgsteal_anon + pgsteal_file (5.8+) count
    every reclaimer, memcg reclaim included (pgsteal_kswapd/direct leave it out)."""
    with open("/proc/vmstat") as f:
        v = dict((k, int(n)) for k, n in (l.split() for l in f))
    return v["pgsteal_anon"] + v["pgsteal_file"]


def psi_some_total_us():
    """The system's memory 'some' stall so far, in µs (None without PSI)."""
    try:
        with open("/proc/pressure/memory") as f:
            return int(re.search(r"^some .*total=(\d+)", f.read(), re.M).group(1))
    except OSError:
        return None


def start(*args, **kw):
    return subprocess.Popen([MEMSCOPE, *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


def stop(p, timeout=60):
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=timeout * SLOWDOWN)
    assert p.returncode == 0, err
    return out, err


def db_rows(path, sql, *args, raw=False):
    """Rows of a query; raw: TEXT as the bytes stored (a name may be any bytes)."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    if raw:
        con.text_factory = bytes
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def wait_for(cond, what, timeout=60):
    end = time.time() + timeout * SLOWDOWN
    while not cond():
        assert time.time() < end, f"{what}: not within {timeout * SLOWDOWN:.0f} s"
        time.sleep(0.05)


def oom_killed(cg, name=None):
    """A workload named name (any bytes) OOM-killed in memory cgroup cg; its pid."""
    args = [WORKLOAD] + (["--name", name] if name else []) + ["--anon", "256"]
    p = subprocess.Popen(["sh", "-c", "echo 0 > /proc/self/oom_score_adj; "
                          f'echo $$ > {cg.path}/cgroup.procs && exec "$0" "$@"', *args],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert p.wait(timeout=60 * SLOWDOWN) == -signal.SIGKILL
    return p.pid


def kill_snapshots(db):
    """The OOM kills recorded whose snapshot is written: {victim pid: (event ts, snapshot ts)}."""
    return {pid: (ets, sts) for pid, ets, sts in db_rows(
        db, "SELECT json_extract(e.record, '$.victim.pid'), e.ts, s.ts FROM events e "
            "JOIN samples s ON s.id = e.sample_id WHERE e.kind = 'oom_kill'")}


def only_first_pass():
    # the database's own behaviour does not change with the hooks: one pass checks it
    if AVOID_HOOKS:
        pytest.skip("the database layer is the same with every hook; pass 1 checks it")


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    """~30 s recorded while a memcg reclaims, is OOM-killed, and order-9 allocations
    fail; memscope oom and paf watch the same window."""
    path = str(tmp_path_factory.mktemp("rec") / "m.db")
    data = os.path.join(os.environ.get("MEMSCOPE_TEST_DATA_DIR", "/var/tmp"), "memscope-rec.dat")
    subprocess.run(["dd", "if=/dev/zero", f"of={data}", "bs=1M", "count=256"], check=True,
                   capture_output=True)
    cg = MemoryCgroup("memscope-test-record", 64 << 20)
    rec = start("record", "--db", path, "-i", 1, "--stall-ms", 0, "--snapshot-order", 9,
                "--psi", "some 1 2000000")
    oom = start("oom", "--json")
    paf = start("paf", "--json", "--order", 9)
    try:
        for p in (rec, oom, paf):
            wait_attached(p)
        steal0, psi0 = vmstat_steal(), psi_some_total_us()
        began = time.time()
        time.sleep(2)
        drop_caches()
        cg.run(f"cat {data}").wait(timeout=120 * SLOWDOWN)  # memcg reclaim
        w = cg.run(f"{WORKLOAD} --anon 256")
        assert w.wait(timeout=60 * SLOWDOWN) == -signal.SIGKILL
        HugepageOvershoot().run()
        time.sleep(max(3, 15 - (time.time() - began)))  # calm after: 15 s at least
        oom_out, _ = stop(oom)
        paf_out, _ = stop(paf)
        _, rec_err = stop(rec)
        steal1, psi1 = vmstat_steal(), psi_some_total_us()
    finally:
        for p in (rec, oom, paf):
            if p.poll() is None:
                p.kill()
        cg.remove()
        os.unlink(data)
    yield {"db": path, "victim": w.pid, "cg": cg.rel, "steal": steal1 - steal0,
           "psi_some_us": None if psi0 is None else psi1 - psi0, "stderr": rec_err,
           "oom": [loads(l) for l in oom_out.splitlines()],
           "paf": [loads(l) for l in paf_out.splitlines()]}


def test_the_database_holds_the_kill_as_memscope_oom_printed_it(recording):
    db = recording["db"]
    kills = [json.loads(r) for (r,) in db_rows(db, "SELECT record FROM events WHERE kind = 'oom_kill'")]
    mine = [k for k in kills if k["victim"]["pid"] == recording["victim"]]
    live = [k for k in recording["oom"] if k["type"] == "oom" and
            k["victim"]["pid"] == recording["victim"]]
    assert len(mine) == 1 and len(live) == 1, (kills, recording["oom"])
    assert mine[0]["victim"] == live[0]["victim"]
    for key in ("constraint", "constraint_source", "memcg", "oom_control"):
        assert mine[0][key] == live[0][key], key
    assert mine[0]["memcg"]["path"] == recording["cg"]
    assert mine[0]["reaper"] is None  # the recorder does not follow the reaper
    # the kill took a snapshot at once: every process then, more than an interval keeps
    (snap,) = db_rows(db, "SELECT sample_id FROM events WHERE kind = 'oom_kill' AND "
                      "json_extract(record, '$.victim.pid') = ?", recording["victim"])
    assert snap[0], "the kill has no snapshot"
    (kind, reason), = db_rows(db, "SELECT kind, reason FROM samples WHERE id = ?", snap[0])
    assert kind == "snapshot" and f"oom_kill pid {recording['victim']}" in reason.split("; ")
    nproc = db_rows(db, "SELECT COUNT(*) FROM proc WHERE sample_id = ?", snap[0])[0][0]
    nzone = db_rows(db, "SELECT COUNT(*) FROM zone WHERE sample_id = ?", snap[0])[0][0]
    assert nproc >= 3 and nzone >= 1
    # the interval that held the kill counted it
    assert db_rows(db, "SELECT SUM(oom_kills) FROM samples WHERE kind = 'interval'")[0][0] >= 1


def test_the_database_holds_each_failure_as_memscope_paf_printed_it(recording):
    db = recording["db"]
    rec = [json.loads(r) for (r,) in db_rows(
        db, "SELECT record FROM events WHERE kind = 'failure' AND "
            "json_extract(record, '$.order') = 9 ORDER BY ts")]
    live = [r for r in recording["paf"] if r["type"] == "paf"]
    assert live, "no order-9 failure: the test is void"
    assert len(rec) == len(live)
    for a, b in zip(rec, live):
        for key in ("pid", "tid", "comm", "order", "gfp", "gfp_flags", "verdict_kind",
                    "highest_zone", "migratetype"):
            assert a[key] == b[key], key
        # each program read the zones itself at that failure: the free pages may have moved
        # by a few pages between the two reads; the watermarks are the same
        for za, zb in zip(a["zones"], b["zones"]):
            for key in ("zone", "min_bytes", "low_bytes", "high_bytes"):
                assert za["zone"][key] == zb["zone"][key] if "zone" in za and isinstance(
                    za["zone"], dict) else za[key] == zb[key]
        assert a["verdict"].split(":")[0] == b["verdict"].split(":")[0]
    # an order-9 failure (>= --snapshot-order) took a snapshot
    reasons = [r for (r,) in db_rows(db, "SELECT reason FROM samples WHERE kind = 'snapshot'")]
    assert any("alloc_failure order 9" in r for r in reasons), reasons
    assert all(s for (s,) in db_rows(db, "SELECT sample_id FROM events WHERE kind = 'failure' "
                                     "AND json_extract(record, '$.order') = 9"))
    assert db_rows(db, "SELECT SUM(failures) FROM samples")[0][0] >= len(live)


def test_intervals_count_reclaim_as_the_kernel_does(recording):
    db = recording["db"]
    reclaimed = db_rows(db, "SELECT SUM(reclaimed_pages) FROM reclaim")[0][0]
    # /proc/vmstat's pgsteal_* read around the recorder: the same pages, counted by the
    # kernel; the recorder attached before the first read and wrote its last interval
    # at its stop, before the second
    assert reclaimed > 0, "no reclaim: the test is void"
    assert recording["steal"] - 64 <= reclaimed <= recording["steal"] * 1.02 + 64, \
        (reclaimed, recording["steal"])
    stalls = db_rows(db, "SELECT SUM(count) FROM reclaim_stalls WHERE reclaimer = 'memcg'")[0][0]
    events = db_rows(db, "SELECT COUNT(*) FROM events WHERE kind = 'stall' AND "
                     "json_extract(record, '$.reclaimer') = 'memcg'")[0][0]
    # --stall-ms 0: every stall is also an event, so the histograms and events agree
    lost = db_rows(db, "SELECT SUM(events_lost) FROM samples")[0][0]
    assert stalls > 0 and stalls - lost <= events <= stalls, (stalls, events, lost)
    # each interval's sample and its system row
    n = db_rows(db, "SELECT COUNT(*) FROM samples WHERE kind = 'interval'")[0][0]
    assert n >= 14
    assert db_rows(db, "SELECT COUNT(*) FROM node WHERE scope = 'total' AND sample_id IN "
                   "(SELECT id FROM samples WHERE kind = 'interval')")[0][0] == n
    assert db_rows(db, "SELECT COUNT(compact_stalls) FROM samples WHERE kind = 'interval'")[0][0] == n
    # the overshoot woke kswapd: its wake-ups went into the interval that saw them
    assert db_rows(db, "SELECT SUM(wakeups) FROM kswapd")[0][0] > 0
    assert db_rows(db, "PRAGMA integrity_check")[0][0] == "ok"


def test_psi_is_a_trigger_or_said_to_be_missing(recording):
    db = recording["db"]
    psi = db_rows(db, "SELECT COUNT(psi_some_avg10_percent) FROM samples")[0][0]
    if not os.path.exists("/proc/pressure/memory"):
        assert psi == 0  # NULL, not a made-up zero
        return
    assert psi > 0
    reasons = [r for (r,) in db_rows(db, "SELECT reason FROM samples WHERE kind = 'snapshot'")]
    # the kernel's own count says whether there was a stall to trigger on
    assert any("psi some 1 2000000" in r for r in reasons), (
        reasons, recording["psi_some_us"], recording["stderr"])


def test_report_lists_the_incidents_in_order(recording):
    recs = [loads(l) for l in run("report", "--db", recording["db"], "--json",
                                  check=True).stdout.splitlines()]
    inc = [r for r in recs if r["type"] == "report_incident"]
    ivs = [r for r in recs if r["type"] == "report_interval"]
    assert [r["ts"] for r in inc] == sorted(r["ts"] for r in inc)
    kinds = [r["kind"] for r in inc]
    kill = kinds.index("oom_kill")
    # the overshoot came after the kill: a failure its caller allowed (__GFP_NOWARN)
    assert "failure_allowed" in kinds[kill:], kinds
    assert "snapshot" in kinds and "stalls" in kinds
    k = inc[kill]
    assert f"pid {recording['victim']}" in k["summary"] and k["snapshot_id"]
    # the event's record nested as an object, not a string of JSON
    assert k["record"]["victim"]["pid"] == recording["victim"]
    # ISO 8601 with the zone's offset: the same moment as ts
    for r in inc + ivs:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", r["time"]), r
        assert abs(datetime.datetime.fromisoformat(r["time"]).timestamp() - r["ts"]) < 1, r
    n = db_rows(recording["db"], "SELECT COUNT(*) FROM samples WHERE kind = 'interval'")[0][0]
    assert len(ivs) == n
    assert sum(r["oom_kills"] for r in ivs) >= 1
    total = db_rows(recording["db"], "SELECT available_bytes FROM node WHERE scope = 'total' "
                    "AND sample_id IN (SELECT id FROM samples WHERE kind = 'interval') "
                    "ORDER BY sample_id LIMIT 1")[0][0]
    assert ivs[0]["available_bytes"] == total
    text = run("report", "--db", recording["db"], check=True,
               env={**os.environ, "COLUMNS": "200"}).stdout
    assert "Incidents" in text and "Timeline" in text and "OOM kill of pid" in text
    # at 80 columns the incident still says what happened, beside its time and kind
    narrow = run("report", "--db", recording["db"], check=True,
                 env={**os.environ, "COLUMNS": "80"}).stdout
    assert re.search(rf"^\d\d:\d\d:\d\d oom_kill +OOM kill of pid {recording['victim']} ",
                     narrow, re.M), narrow
    assert not re.search(r"columns? past", narrow.split("Timeline")[0]), narrow
    # the allowed failures: one line that says so, not an incident each
    assert re.search(r"allocation failures? of order 9 \(the first by \S+\) that the caller "
                     r"allowed", " ".join(narrow.split())), narrow
    # a window: --since/--until cut it
    mid = ivs[len(ivs) // 2]["ts"]
    iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(mid)) + "Z"
    later = [loads(l) for l in run("report", "--db", recording["db"], "-j", "--since", iso,
                                   check=True).stdout.splitlines()]
    assert 0 < len([r for r in later if r["type"] == "report_interval"]) < len(ivs)


def test_report_at_shows_the_snapshot_of_the_kill(recording):
    (ts,), = db_rows(recording["db"], "SELECT ts FROM samples WHERE reason LIKE '%oom_kill%'")
    iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + "Z"
    recs = [loads(l) for l in run("report", "--db", recording["db"], "-j", "--at", iso,
                                  check=True).stdout.splitlines()]
    types = {r["type"] for r in recs}
    assert {"sys", "zone", "proc"} <= types, types
    # the moment, not the whole timeline
    assert "report_interval" not in types, types
    text = run("report", "--db", recording["db"], "--at", iso, check=True).stdout
    assert "Largest processes" in text and "Zones" in text and "Timeline" not in text
    # --at takes back the very forms the report prints: -j's time, and text's clock
    full = [loads(l) for l in run("report", "--db", recording["db"], "-j",
                                  check=True).stdout.splitlines()]
    kill = next(r for r in full if r["type"] == "report_incident" and r["kind"] == "oom_kill")
    clock = re.search(r"^(\d\d:\d\d:\d\d) oom_kill ",
                      run("report", "--db", recording["db"], check=True).stdout, re.M)[1]
    for when in (kill["time"], clock):
        p = run("report", "--db", recording["db"], "--at", when)
        assert p.returncode == 0, (when, p.stderr)
        # (the clock has no fraction: the interval or snapshot of that second)
        assert re.search(r"the (snapshot|interval)( \([^)]*\))? at", p.stdout), p.stdout
        assert "Largest processes" in p.stdout and "OOM kill of pid" in p.stdout, p.stdout


def test_the_schema_is_documented_as_it_is(recording):
    doc = open(os.path.join(ROOT, "docs", "RECORDER.md")).read()
    assert run("help", "recorder", check=True).stdout == doc, "docs/RECORDER.md is stale: make docs"
    tables = [t for (t,) in db_rows(recording["db"], "SELECT name FROM sqlite_master WHERE "
                                    "type = 'table' AND name != 'meta'")]
    for t in tables:
        section = doc.split(f"\n## {t}\n")[1].split("\n## ")[0]
        cols = [c for (c,) in db_rows(recording["db"], f"SELECT name FROM pragma_table_info('{t}')")]
        for c in cols:
            assert f"| `{c}` |" in section, (t, c)
    assert db_rows(recording["db"], "PRAGMA user_version")[0][0] == 1


def test_report_needs_no_privilege(recording):
    """Any user who may read the database reads the report; one who may not create its
    -shm file beside it is told why in one line."""
    home = tempfile.mkdtemp(prefix="memscope-report-")
    try:
        db = os.path.join(home, "m.db")
        shutil.copy(recording["db"], db)
        os.chmod(db, 0o644)
        nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", MEMSCOPE]
        os.chmod(home, 0o755)
        p = subprocess.run(nobody + ["report", "--db", db], capture_output=True, text=True)
        assert p.returncode == 1 and len(p.stderr.strip().splitlines()) == 1, p.stderr
        assert "-shm" in p.stderr
        os.chmod(home, 0o777)
        p = subprocess.run(nobody + ["report", "--db", db, "-j"], capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        assert any(loads(l)["type"] == "report_interval" for l in p.stdout.splitlines())
    finally:
        shutil.rmtree(home)


def test_report_bad_input():
    for args in (["--since", "yesterday-ish"], ["--at", "2h", "--html", "/tmp/x.html"],
                 ["--until", "12q"], ["--db", ""],
                 ["--since", "1m", "--until", "2h"],  # a window that ends before it begins
                 ["--since", "2026-11-27T03:00:00Z", "--until", "2026-11-27T02:00:00Z"]):
        p = run("report", *args)
        assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1, (args, p.stderr)
    p = run("report", "--db", "/nonexistent/memscope.db")
    assert p.returncode == 1 and "memscope record" in p.stderr
    with tempfile.NamedTemporaryFile(suffix=".db") as f:
        f.write(b"not a database at all" * 100)
        f.flush()
        p = run("report", "--db", f.name)
        assert p.returncode == 1 and len(p.stderr.strip().splitlines()) == 1, p.stderr
    for args in (["--retain", "10"], ["--max-size", "12X"], ["--psi", "some 5"],
                 ["--top", "-1"], ["--interval", "0"]):
        p = run("record", "--db", "/tmp/memscope-never.db", *args)
        assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1, (args, p.stderr)
    assert not os.path.exists("/tmp/memscope-never.db")


# ---- report --html FILE: what FILE is ----

def page_ok(data):
    return data.startswith(b"<!DOCTYPE html>") and data.rstrip().endswith(b"</html>")


def test_html_replaces_only_a_regular_file(recording, tmp_path):
    """A regular file (or none) is replaced whole by a rename; the new file is made under
    a name nobody can plant: a symbolic link at the old FILE.tmp.PID was followed."""
    db = recording["db"]
    page = tmp_path / "night.html"
    page.write_text("old page")
    assert run("report", "--db", db, "--html", page).returncode == 0
    assert page_ok(page.read_bytes()) and not page.is_symlink()
    # memscope as pid 1 of a new pid namespace: the old name was night.html.tmp.1
    victim = tmp_path / "victim"
    victim.write_text("not a page")
    os.symlink(victim, f"{page}.tmp.1")
    p = subprocess.run(["unshare", "--pid", "--fork", MEMSCOPE, "report", "--db", db,
                        "--html", page], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert victim.read_text() == "not a page", "the planted link was followed"
    assert page_ok(page.read_bytes())
    assert sorted(os.listdir(tmp_path)) == sorted(["night.html", "night.html.tmp.1", "victim"])


def test_html_writes_through_what_it_must_not_replace(recording, tmp_path):
    """A FIFO, a symbolic link or a character device is written through and stays what
    it was (as root, --html /dev/full once replaced the device node with a file)."""
    db = recording["db"]
    fifo, got = tmp_path / "fifo", tmp_path / "read"
    os.mkfifo(fifo)
    with open(got, "wb") as out:  # a file: a pipe back to us would fill while we wait
        reader = subprocess.Popen(["cat", fifo], stdout=out)
    try:
        p = run("report", "--db", db, "--html", fifo)
        assert p.returncode == 0, p.stderr
        assert stat.S_ISFIFO(os.lstat(fifo).st_mode), "the FIFO was replaced"
        assert reader.wait(timeout=60) == 0 and page_ok(got.read_bytes())
    finally:
        reader.kill()
        reader.wait()
    target, link = tmp_path / "target.html", tmp_path / "link.html"
    target.write_text("old page")
    link.symlink_to(target)
    assert run("report", "--db", db, "--html", link).returncode == 0
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert page_ok(target.read_bytes())
    # character devices made for the test: /dev/full's numbers, then /dev/null's
    full, null = tmp_path / "full", tmp_path / "null"
    os.mknod(full, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
    os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    p = run("report", "--db", db, "--html", full)
    assert p.returncode == 1 and p.stderr.strip().splitlines() == [
        f"memscope: report: cannot write {full}: No space left on device"], p.stderr
    assert run("report", "--db", db, "--html", null).returncode == 0
    for dev, numbers in ((full, (1, 7)), (null, (1, 3))):
        st = os.lstat(dev)
        assert stat.S_ISCHR(st.st_mode) and (os.major(st.st_rdev), os.minor(st.st_rdev)) == numbers
    # nothing was left beside them
    assert sorted(os.listdir(tmp_path)) == ["fifo", "full", "link.html", "null", "read",
                                            "target.html"]


def test_html_refuses_a_directory_and_a_block_device(recording, tmp_path):
    blk, link = tmp_path / "disk", tmp_path / "to-disk"
    os.mknod(blk, 0o600 | stat.S_IFBLK, os.makedev(7, 255))  # never opened
    link.symlink_to(blk)
    for path in (tmp_path, blk, link):
        p = run("report", "--db", recording["db"], "--html", path)
        assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1, (path, p.stderr)
        assert p.stdout == ""  # refused before anything was read
    assert stat.S_ISBLK(os.lstat(blk).st_mode) and link.is_symlink()


def test_html_to_standard_output_says_why_it_failed(recording):
    p = subprocess.run(f"{MEMSCOPE} report --db {recording['db']} --html - > /dev/full",
                       shell=True, capture_output=True, text=True, timeout=60)
    assert p.returncode == 1
    assert p.stderr.strip().splitlines() == [
        "memscope: cannot write output: No space left on device"], p.stderr
    # a closed pipe is no error
    p = subprocess.run(f"{MEMSCOPE} report --db {recording['db']} --html - | head -c 15",
                       shell=True, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and p.stdout == "<!DOCTYPE html>" and p.stderr == ""


def test_report_says_a_damaged_database_is_damaged(recording, tmp_path):
    """A page of the proc table overwritten: quick_check finds it; the report shows what
    it can read and ends with one line that says so, exit 1 (it printed as if whole)."""
    db = str(tmp_path / "damaged.db")
    shutil.copy(recording["db"], db)
    pages = [n for (n,) in db_rows(db, "SELECT pageno FROM dbstat WHERE name = 'proc' AND "
                                       "pagetype = 'leaf' ORDER BY pageno")]
    size = db_rows(db, "PRAGMA page_size")[0][0]
    with open(db, "r+b") as f:
        f.seek(pages[len(pages) // 2] * size - size + 100)  # its cell pointers
        f.write(b"\xff" * 200)
    assert db_rows(db, "PRAGMA quick_check")[0][0] != "ok", "the damage did not take: void"
    p = run("report", "--db", db)
    assert p.returncode == 1 and "Incidents" in p.stdout
    (line,) = p.stderr.strip().splitlines()
    assert line.startswith(f"memscope: report: {db} is damaged (quick_check: ") and \
        f"sqlite3 {db} .recover" in line, line
    p = run("report", "--db", db, "-j")
    last = loads(p.stdout.splitlines()[-1])
    assert p.returncode == 1 and last["type"] == "error" and last["exit_status"] == 1
    assert run("report", "--db", recording["db"]).returncode == 0  # the whole one is whole


# ---- the wall clock steps ----

CLOCKSTEP = os.path.join(ROOT, "build", "tests", "libclockstep.so")


def test_a_wall_clock_step_moves_events_with_the_samples(tmp_path):
    """NTP steps the wall clock of a recorder that runs for days: an event is stamped by
    the clock as it is when the event comes, as the samples around it are (the offset
    learnt once put it an hour away from them); interval lengths and the gap between
    snapshots are measured on the monotonic clock."""
    only_first_pass()
    db = str(tmp_path / "m.db")
    # the recorder's own wall clock goes back an hour at SIGUSR1 (tests/e2e/clockstep.c)
    env = {**os.environ, "LD_PRELOAD": CLOCKSTEP, "CLOCKSTEP_SECONDS": "-3600",
           "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"}
    cg = MemoryCgroup("memscope-test-clockstep", 64 << 20)
    rec = start("record", "--db", db, "-i", 0.5, "--psi", "off", env=env)
    try:
        wait_attached(rec)
        first = oom_killed(cg)
        wait_for(lambda: first in kill_snapshots(db), "the first kill's snapshot")
        rec.send_signal(signal.SIGUSR1)
        wait_for(lambda: db_rows(db, "SELECT COUNT(*) FROM samples WHERE ts < ?",
                                 time.time() - 1800)[0][0], "a sample after the step")
        second = oom_killed(cg)
        wait_for(lambda: second in kill_snapshots(db), "the second kill's snapshot")
        time.sleep(1)  # and intervals after it
        stop(rec)
    finally:
        if rec.poll() is None:
            rec.kill()
        cg.remove()
    kills = kill_snapshots(db)
    for pid in (first, second):
        ets, sts = kills[pid]
        # the snapshot is taken right after its kill, on the same clock
        assert abs(sts - ets) < 600, (pid, ets, sts)
    assert kills[second][0] < time.time() - 1800  # stepped with the samples
    # every interval's length on the monotonic clock (the one across the step was NULL)
    lengths = [v for (v,) in db_rows(db, "SELECT interval_s FROM samples WHERE kind = 'interval'")]
    assert len(lengths) >= 4 and all(v is not None and 0 < v < 60 for v in lengths), lengths


class _Forked:
    """unshare --fork's child, for wait_attached: the recorder is the child."""

    def __init__(self, parent):
        self.parent, self.stderr = parent, parent.stderr
        path = f"/proc/{parent.pid}/task/{parent.pid}/children"
        wait_for(lambda: parent.poll() is not None or open(path).read().split(),
                 "unshare's child")
        self.pid = int(open(path).read().split()[0])

    def poll(self):
        return self.parent.poll()


@pytest.mark.parametrize("how", ["exec", "fork"])
def test_events_line_up_with_samples_in_a_time_namespace(tmp_path, how):
    """A recorder in a time namespace (a container, a restored CRIU image) reads a boot
    clock moved by the namespace's offset, which BPF's timestamps do not have. unshare
    --fork runs it inside; without, 6.18 moves it in at the exec and 6.1 leaves it
    outside, where the file of offsets shows the new namespace's all the same."""
    only_first_pass()
    if not os.path.exists("/proc/self/timens_offsets"):
        pytest.skip("this kernel has no time namespaces (CONFIG_TIME_NS)")
    db = str(tmp_path / "m.db")
    cg = MemoryCgroup("memscope-test-timens", 64 << 20)
    # --kill-child: --fork, and the child is killed with unshare (a failed test's end)
    rec = subprocess.Popen(["unshare", "--time", "--boottime", "86400"] +
                           (["--kill-child"] if how == "fork" else []) +
                           [MEMSCOPE, "record", "--db", db, "-i", "0.5", "--psi", "off"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        p = _Forked(rec) if how == "fork" else rec
        wait_attached(p)
        if how == "fork":
            assert os.stat(f"/proc/{p.pid}/ns/time").st_ino != \
                os.stat("/proc/self/ns/time").st_ino, "not in the namespace: void"
        pid = oom_killed(cg)
        wait_for(lambda: pid in kill_snapshots(db), "the kill's snapshot")
        os.kill(p.pid, signal.SIGINT)
        _, err = rec.communicate(timeout=60 * SLOWDOWN)
        assert rec.returncode == 0, err
    finally:
        if rec.poll() is None:
            rec.kill()
            rec.wait()
        cg.remove()
    ets, sts = kill_snapshots(db)[pid]
    assert abs(sts - ets) < 600, (ets, sts)
    assert abs(ets - time.time()) < 3600, ets


@contextlib.contextmanager
def browser():
    """Debian's chromium, headless, driven by selenium. scripts/deps.sh installs both: a
    missing one fails the test (it is no kernel feature to skip for); the page does not
    depend on the kernel, and under emulation it is only slower."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(options=opts, service=Service(executable_path="/usr/bin/chromedriver"))
    try:
        # an emulated guest once took more than chromedriver's 300 s to render a page
        d.set_page_load_timeout(300 * SLOWDOWN)
        d.set_window_size(1100, 2600)
        yield d
    finally:
        d.quit()


def console_errors(d):
    return [e for e in d.get_log("browser") if e["level"] == "SEVERE"]


def test_html_report_in_a_real_browser(recording, tmp_path):
    from selenium.webdriver.common.by import By as by
    html = tmp_path / "report.html"
    run("report", "--db", recording["db"], "--html", str(html), check=True)
    page = html.read_text()
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in page and "<link" not in page and " src=" not in page
    n = db_rows(recording["db"], "SELECT COUNT(*) FROM samples WHERE kind = 'interval'")[0][0]
    incidents = len([1 for l in run("report", "--db", recording["db"], "-j").stdout.splitlines()
                     if loads(l)["type"] == "report_incident"])
    with browser() as d:
        d.get(f"file://{html}")
        plots = d.find_elements(by.CSS_SELECTOR, "svg")
        assert [p.get_attribute("id") for p in plots] == [
            "plot-memory", "plot-free", "plot-psi", "plot-reclaim", "plot-stalls",
            "plot-processes"]
        for p in plots:
            lines = p.find_elements(by.CSS_SELECTOR, "polyline.series")
            assert lines, p.get_attribute("id")
            for l in lines:
                pts = l.get_attribute("points").split()
                assert len(pts) == int(l.get_attribute("data-n"))
                if p.get_attribute("id") in ("plot-memory", "plot-free", "plot-reclaim",
                                             "plot-stalls"):
                    assert len(pts) == n, (p.get_attribute("id"), len(pts), n)
            assert len(p.find_elements(by.CSS_SELECTOR, "g.event")) == incidents
        marker = d.find_element(by.CSS_SELECTOR, "#plot-memory g.event.oom_kill circle")
        marker.click()
        detail = d.find_element(by.ID, "detail")
        assert detail.is_displayed() and "OOM kill of pid" in detail.text
        assert f'"pid":{recording["victim"]}' in detail.text.replace(" ", "")
        assert not console_errors(d)
        shot = os.environ.get("MEMSCOPE_REPORT_SCREENSHOT")
        if shot:
            d.save_screenshot(shot)


# ---- names a process gives itself ----

# prctl(PR_SET_NAME) takes any bytes and the kernel keeps 15: markup that opens the HTML
# parser's escaped script states, quotes, control bytes, a right-to-left override
# (U+202E), bytes that are not UTF-8.
HOSTILE = [b"<!--<script>", b"</script><b>x", b"\"'q\x1b[7m\x7f\tz",
           "\u202eevil".encode() + b"\xff\xfe"]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """A recording of processes with those names: each one OOM-killed (its name in the
    kill's event and summary), and one of each asleep (in every snapshot's processes)."""
    db = str(tmp_path_factory.mktemp("hostile") / "m.db")
    cg = MemoryCgroup("memscope-test-hostile", 64 << 20)
    sleepers = [subprocess.Popen([WORKLOAD, "--name", n, "--stop"]) for n in HOSTILE]
    rec = start("record", "--db", db, "-i", 0.5, "--psi", "off")
    try:
        wait_attached(rec)
        victims = [oom_killed(cg, n) for n in HOSTILE]
        wait_for(lambda: len(kill_snapshots(db)) == len(HOSTILE), "every kill's snapshot")
        stop(rec)
    finally:
        if rec.poll() is None:
            rec.kill()
        for p in sleepers:
            p.kill()
            p.wait()
        cg.remove()
    return {"db": db, "victims": dict(zip(victims, HOSTILE))}


def test_the_database_holds_hostile_names_as_the_kernel_gave_them(hostile):
    """docs/RECORDER.md: names are stored as the kernel gave them, whatever the bytes."""
    db = hostile["db"]
    for pid, name in hostile["victims"].items():
        (comm,), = db_rows(db, "SELECT json_extract(record, '$.victim.comm') FROM events "
                           "WHERE kind = 'oom_kill' AND json_extract(record, '$.victim.pid') "
                           "= ?", pid, raw=True)
        assert comm == name[:15], (pid, comm, name)
    comms = {c for (c,) in db_rows(db, "SELECT comm FROM proc", raw=True)}
    for name in HOSTILE:
        assert name[:15] in comms, name  # the sleeper, in the kills' snapshots


def test_the_text_report_shows_hostile_names_safely(hostile):
    raw = subprocess.run([MEMSCOPE, "report", "--db", hostile["db"]], capture_output=True,
                         timeout=60, env={**os.environ, "COLUMNS": "250"}).stdout
    text = raw.decode("utf-8")  # strict: valid UTF-8
    assert not any(c < " " and c != "\n" or c == "\x7f" for c in text), \
        [l for l in text.splitlines() if any(c < " " or c == "\x7f" for c in l)]
    for pid in hostile["victims"]:
        assert f"OOM kill of pid {pid} (" in text
    assert "OOM kill of pid" in text and "<!--<script>" in text  # shown as it is: text
    recs = [loads(l) for l in run("report", "--db", hostile["db"], "-j",
                                  check=True).stdout.splitlines()]
    kills = {r["record"]["victim"]["pid"]: r["record"]["victim"]["comm"]
             for r in recs if r["type"] == "report_incident" and r["kind"] == "oom_kill"}
    for pid, name in hostile["victims"].items():
        # JSON: every valid character as it is, each byte that is not UTF-8 as U+FFFD
        assert kills[pid] == name[:15].decode("utf-8", "replace"), (kills[pid], name)


def test_the_text_report_neutralizes_bidi_controls(hostile):
    """A right-to-left override in a name must not turn the rest of a terminal's line
    around (textsafe's rule for every text output)."""
    text = run("report", "--db", hostile["db"], check=True,
               env={**os.environ, "COLUMNS": "250"}).stdout
    assert "OOM kill of pid" in text
    assert not any(0x202a <= ord(c) <= 0x202e or 0x2066 <= ord(c) <= 0x2069 for c in text)


def test_the_page_still_works_with_hostile_names(hostile, tmp_path):
    """A name that holds "<!--<script>" kept the events' element open in the HTML
    parser: the page's code never ran, and a click on a marker did nothing."""
    from selenium.webdriver.common.by import By as by
    html = tmp_path / "hostile.html"
    run("report", "--db", hostile["db"], "--html", str(html), check=True)
    with browser() as d:
        d.get(f"file://{html}")
        rows = d.find_elements(by.CSS_SELECTOR, "#incidents tr")
        assert any("<!--<script>" in r.text for r in rows)  # text, not markup
        markers = d.find_elements(by.CSS_SELECTOR, "#plot-memory g.event.oom_kill circle")
        assert len(markers) == len(HOSTILE)
        detail = d.find_element(by.ID, "detail")
        seen = set()
        for m in markers:
            m.click()
            assert detail.is_displayed(), "the page's script did not run"
            rec = json.loads(detail.find_element(by.TAG_NAME, "pre").text)
            seen.add(rec["victim"]["pid"])
            assert "OOM kill of pid %d" % rec["victim"]["pid"] in detail.text
        assert seen == set(hostile["victims"])
        assert not console_errors(d)


def test_runs_as_nobody_with_cap_bpf_and_cap_perfmon():
    """contrib's systemd unit grants exactly these two capabilities."""
    from conftest import CLASSIC
    if CLASSIC:
        pytest.skip("classic tracepoints are attached through tracefs, root's only")
    unit = open(os.path.join(ROOT, "contrib", "systemd", "memscope-record.service")).read()
    assert "AmbientCapabilities=CAP_BPF CAP_PERFMON\n" in unit
    home = tempfile.mkdtemp(prefix="memscope-nobody-")  # pytest's tmp_path is root's only
    os.chmod(home, 0o777)
    db = os.path.join(home, "m.db")
    p = subprocess.Popen(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                          "--inh-caps=-all,+bpf,+perfmon", "--ambient-caps=+bpf,+perfmon",
                          MEMSCOPE, "record", "--db", db, "-i", "0.5"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_attached(p)
        time.sleep(1.5)
    finally:
        out, err = stop(p)
    assert "refused" not in err, err  # the PSI trigger too
    n = db_rows(db, "SELECT COUNT(*) FROM samples WHERE kind = 'interval'")[0][0]
    assert n >= 2 and db_rows(db, "SELECT COUNT(*) FROM proc")[0][0] > 0
    assert os.stat(db).st_uid == 65534
    shutil.rmtree(home)


# ---- the database survives ----

def test_a_second_recorder_on_the_same_database_is_refused(tmp_path):
    only_first_pass()
    db = str(tmp_path / "m.db")
    first = start("record", "--db", db, "-i", 1)
    try:
        wait_attached(first)
        p = run("record", "--db", db, "-i", 1, "-d", 2)
        assert p.returncode == 1
        assert p.stderr.strip().splitlines() == [
            f"memscope: record: {db} is being written by another memscope record "
            f"(pid {first.pid}); stop it, or give this one another --db"]
    finally:
        stop(first)
    assert db_rows(db, "PRAGMA integrity_check")[0][0] == "ok"


def test_a_new_database_appears_with_its_whole_schema(tmp_path):
    """A reader that opens the database the moment its path exists finds every table
    and the schema version, as the recorder leaves them: never an empty file (sqlite:
    'no such table: samples') or half a schema. Truth: the tables of the finished file."""
    only_first_pass()
    seen = []
    for i in range(10):
        db = str(tmp_path / f"m{i}.db")
        p = start("record", "--db", db, "-i", 0.2)
        try:
            end = time.time() + 60 * SLOWDOWN
            while not os.path.exists(db):
                assert p.poll() is None and time.time() < end, p.stderr.read()
            # every read until the first sample is written, the first one at once
            while True:
                schema = db_rows(db, "SELECT (SELECT group_concat(name) FROM (SELECT name "
                                 "FROM sqlite_master WHERE type = 'table' ORDER BY name)), "
                                 "(SELECT user_version FROM pragma_user_version)")[0]
                seen.append((db, schema))
                if "samples" in (schema[0] or "").split(",") and \
                        db_rows(db, "SELECT COUNT(*) FROM samples")[0][0]:
                    break
                assert p.poll() is None and time.time() < end, p.stderr.read()
        finally:
            stop(p)
    for db, schema in seen:
        whole = db_rows(db, "SELECT (SELECT group_concat(name) FROM (SELECT name FROM "
                        "sqlite_master WHERE type = 'table' ORDER BY name)), "
                        "(SELECT user_version FROM pragma_user_version)")[0]
        assert whole[1] == 1 and "samples" in whole[0].split(","), whole
        assert schema == whole, (db, schema, whole)


def test_kill_9_at_random_moments_loses_at_most_the_interval_in_progress(tmp_path):
    only_first_pass()
    db = str(tmp_path / "m.db")
    rng = random.Random(20261127)
    seen = 0
    for i in range(20):
        p = start("record", "--db", db, "-i", 0.2, "--top", 200)
        if i % 2:  # while it writes: after a sample of this run landed
            end = time.time() + 60 * SLOWDOWN
            while time.time() < end and (not os.path.exists(db) or db_rows(
                    db, "SELECT COUNT(*) FROM samples")[0][0] <= seen):
                time.sleep(0.02)
            time.sleep(rng.uniform(0, 0.4))
        else:  # anywhere, loading included
            time.sleep(rng.uniform(0, 1.5) * SLOWDOWN)
        before = db_rows(db, "SELECT COUNT(*) FROM samples")[0][0] if os.path.exists(db) else 0
        p.kill()
        p.wait()
        if not os.path.exists(db):
            continue
        assert db_rows(db, "PRAGMA integrity_check")[0][0] == "ok", i
        after = db_rows(db, "SELECT COUNT(*) FROM samples")[0][0]
        # what a reader saw committed is there; at most the one in progress came on top
        assert before <= after <= before + 1, (i, before, after)
        seen = after
    assert seen >= 10
    # and it records on after the last kill
    assert run("record", "--db", db, "-i", 0.2, "-d", 1).returncode == 0
    assert db_rows(db, "SELECT COUNT(*) FROM samples")[0][0] > seen


def test_a_full_disk_warns_once_and_recording_resumes(tmp_path):
    only_first_pass()
    mnt = tmp_path / "small"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(mnt)], check=True)
    db = str(mnt / "m.db")
    try:
        p = start("record", "--db", db, "-i", 0.2, "--top", 300)
        wait_attached(p)
        time.sleep(1)
        subprocess.run(["dd", "if=/dev/zero", f"of={mnt}/fill", "bs=64k"], capture_output=True)
        time.sleep(3 * SLOWDOWN)
        full_at = db_rows(db, "SELECT COUNT(*) FROM samples")[0][0]
        time.sleep(1.5 * SLOWDOWN)
        assert db_rows(db, "SELECT COUNT(*) FROM samples")[0][0] == full_at  # none fit
        os.unlink(f"{mnt}/fill")
        end = time.time() + 30 * SLOWDOWN
        while time.time() < end and db_rows(db, "SELECT COUNT(*) FROM samples")[0][0] <= full_at:
            time.sleep(0.1)
        _, err = stop(p)
        lines = err.strip().splitlines()
        warn = [l for l in lines if "cannot write" in l]
        assert len(warn) == 1 and "database or disk is full" in warn[0], lines
        assert any("writing" in l and "again" in l for l in lines), lines
        assert db_rows(db, "SELECT COUNT(*) FROM samples")[0][0] > full_at
        assert db_rows(db, "PRAGMA integrity_check")[0][0] == "ok"
    finally:
        subprocess.run(["umount", "-l", str(mnt)])


def test_retention_drops_old_samples_and_keeps_the_size(tmp_path):
    only_first_pass()
    db = str(tmp_path / "m.db")
    assert run("record", "--db", db, "-i", 0.2, "-d", 1).returncode == 0
    con = sqlite3.connect(db)
    old = con.execute("SELECT COUNT(*) FROM samples").fetchone()[0]
    con.execute("UPDATE samples SET ts = ts - 8 * 86400")  # recorded eight days ago
    con.execute("UPDATE events SET ts = ts - 8 * 86400")
    con.commit()
    con.close()
    assert run("record", "--db", db, "-i", 0.2, "-d", 1, "--retain", "7d").returncode == 0
    left = db_rows(db, "SELECT COUNT(*), MIN(ts) FROM samples")[0]
    assert 0 < left[0] and left[1] > time.time() - 3600, left
    assert db_rows(db, "SELECT COUNT(*) FROM proc WHERE sample_id NOT IN "
                   "(SELECT id FROM samples)")[0][0] == 0
    # --max-size: every process of 400 more, 10 samples a second, in a 1 MiB file
    sleepers = [subprocess.Popen(["sleep", "600"]) for _ in range(400)]
    try:
        p = run("record", "--db", db, "-i", 0.1, "-d", 6, "--top", 100000, "--max-size",
                "1M", timeout=120 * SLOWDOWN)
    finally:
        for s in sleepers:
            s.kill()
            s.wait()
    assert p.returncode == 0, p.stderr
    size = os.path.getsize(db) + (os.path.getsize(db + "-wal") if os.path.exists(db + "-wal") else 0)
    assert size <= (1 << 20) + (256 << 10), size
    ids = db_rows(db, "SELECT MIN(id), MAX(id) FROM samples")[0]
    assert ids[0] > old + 1, ids  # the oldest went first
    assert db_rows(db, "PRAGMA integrity_check")[0][0] == "ok"
