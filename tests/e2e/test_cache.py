# SPDX-License-Identifier: GPL-2.0
"""memscope cache against fincore and the file's own history: a file read is that file
with fincore's page count, a file written and not synced shows its dirty bytes, --all
finds a cached file no process holds, and the churn of a read is the file's size."""
import ctypes
import os
import subprocess
import time

import pytest

from conftest import DATA_DIR, MEMSCOPE, MemoryCgroup, loads, run_json, scaled_mib

PAGE = os.sysconf("SC_PAGE_SIZE")


def fincore_pages(path):
    out = subprocess.run(["fincore", "--raw", "--noheadings", "--output", "PAGES", path],
                         capture_output=True, text=True, check=True).stdout
    return int(out.split()[0])


def has_cachestat():
    """cachestat(2), 6.5+: EBADF on fd -1 where the call exists, ENOSYS where not."""
    libc = ctypes.CDLL(None, use_errno=True)
    rg = (ctypes.c_uint64 * 2)(0, 0)
    cs = (ctypes.c_uint64 * 5)()
    libc.syscall(451, -1, rg, cs, 0)
    return ctypes.get_errno() != 38


def make_file(path, mib):
    with open(path, "wb") as f:
        chunk = b"\xa5" * (1 << 20)
        for _ in range(mib):
            f.write(chunk)
        f.flush()
        os.fsync(f.fileno())


def drop_file_cache(path):
    fd = os.open(path, os.O_RDONLY)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    os.close(fd)


def row_of(recs, path):
    rows = [r for r in recs if r["type"] == "cache_file" and r["path"] == path]
    assert len(rows) == 1, [r.get("path") for r in recs if r["type"] == "cache_file"][:30]
    return rows[0]


@pytest.fixture
def big_file():
    mib = scaled_mib(512)
    path = os.path.join(DATA_DIR, "memscope-cache-test.dat")
    make_file(path, mib)
    yield path, mib
    os.unlink(path)


def test_a_file_read_is_that_file_with_fincores_pages(big_file):
    path, mib = big_file
    drop_file_cache(path)
    holder = subprocess.Popen(["python3", "-c", "import sys,os\nf=open(sys.argv[1],'rb')\n"
                               "while f.read(1<<20): pass\nprint('read', flush=True)\n"
                               "sys.stdin.read()", path], stdout=subprocess.PIPE,
                              stdin=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "read"
        before = fincore_pages(path)
        recs = run_json("cache", "--top", "0")
        after = fincore_pages(path)
        row = row_of(recs, path)
        assert min(before, after) * PAGE <= row["cached_bytes"] <= max(before, after) * PAGE
        assert before >= mib * 256 * 0.9, before  # the read filled the cache
        assert row["size_bytes"] == mib << 20
        assert row["seen_as"] == "open"
        assert row["holders"].startswith(f"{holder.pid}(python3)")
        st = os.stat(path)
        assert row["ino"] == st.st_ino
        assert row["dev"] == f"{os.major(st.st_dev)}:{os.minor(st.st_dev)}"
        if has_cachestat():
            assert row["dirty_bytes"] == 0 and row["writeback_bytes"] == 0
        else:
            assert row["dirty_bytes"] is None
        total = [r for r in recs if r["type"] == "cache_total"][0]
        assert total["cached_bytes"] >= row["cached_bytes"]
    finally:
        holder.kill()
        holder.wait()


def test_a_file_written_and_not_synced_shows_dirty_bytes():
    path = os.path.join(DATA_DIR, "memscope-dirty-test.dat")
    mib = 8
    fd = os.open(path, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
    try:
        os.write(fd, b"\x5a" * (mib << 20))
        recs = run_json("cache", "--top", "0")
        row = row_of(recs, path)
        if not has_cachestat():
            assert row["dirty_bytes"] is None
            return
        # not synced: every page written is dirty or, if writeback began, under it
        assert row["dirty_bytes"] + row["writeback_bytes"] == mib << 20, row
        assert row["cached_bytes"] == mib << 20
        os.fsync(fd)
        row = row_of(run_json("cache", "--top", "0"), path)
        assert row["dirty_bytes"] == 0 and row["writeback_bytes"] == 0, row
    finally:
        os.close(fd)
        os.unlink(path)


def test_text_says_why_dirty_is_unknown():
    """At 80 columns; before 6.5 (no cachestat) dirty and writeback pages are unknown:
    the text says so and why, as its table shows it (DIRTY and WB columns of '-', or no
    such columns: a table leaves out a column of '-' alone), never 0; JSON has null."""
    out = subprocess.run([MEMSCOPE, "cache", "--top", "5"], capture_output=True, text=True,
                         env=dict(os.environ, COLUMNS="80"), check=True).stdout
    lines = out.splitlines()
    assert all(len(l) <= 80 for l in lines), max(lines, key=len)
    at = next(i for i, l in enumerate(lines) if l.split()[:1] == ["CACHED"])
    said = " ".join(l.strip() for l in lines[:at])
    head = lines[at].split()
    dashes = "DIRTY and WB are '-': they need cachestat(2) (6.5+), which this kernel lacks"
    gone = ("dirty and writeback pages are unknown on this kernel (no DIRTY and WB "
            "columns): they need cachestat(2) (6.5+)")
    shown = "DIRTY" in head
    assert shown == ("WB" in head), lines[at]
    if has_cachestat():
        assert dashes not in said and gone not in said, out
    elif shown:
        assert dashes in said and gone not in said, out
        # numbers are a value and its unit (CACHED "1.5 MiB"): the cells from the right
        # of CACHED's two words, DIRTY's and WB's as '-'
        rows = [r.split() for r in lines[at + 1:] if r.strip() and not r.startswith("(")]
        assert rows and all(r[2:4] == ["-", "-"] for r in rows), out
    else:
        assert gone in said and dashes not in said, out
    recs = run_json("cache", "--top", "5")
    files = [r for r in recs if r["type"] == "cache_file"]
    total = [r for r in recs if r["type"] == "cache_total"]
    assert files and len(total) == 1, recs
    if not has_cachestat():
        for r in files + total:
            assert r["dirty_bytes"] is None and r["writeback_bytes"] is None, r


def test_all_finds_a_cached_file_no_process_holds(big_file):
    path, mib = big_file
    drop_file_cache(path)
    with open(path, "rb") as f:
        f.read(64 << 20)
    recs = run_json("cache", "--top", "0")
    assert not [r for r in recs if r["type"] == "cache_file" and r["path"] == path]
    before = fincore_pages(path)
    # the data directory's file system: a whole machine's walk is minutes under emulation
    recs = run_json("cache", "--all", "--under", DATA_DIR, "--top", "0", timeout=600)
    after = fincore_pages(path)
    row = row_of(recs, path)
    assert row["seen_as"] == "walk"
    assert min(before, after) * PAGE <= row["cached_bytes"] <= max(before, after) * PAGE
    assert before >= (64 << 20) // PAGE * 0.9
    total = [r for r in recs if r["type"] == "cache_total"][0]
    assert total["walked"] and total["walk_files"] > 0


def test_churn_of_a_read_is_the_files_size(big_file):
    path, mib = big_file
    drop_file_cache(path)
    st = os.stat(path)
    dev = f"{os.major(st.st_dev)}:{os.minor(st.st_dev)}"
    p = subprocess.Popen([MEMSCOPE, "-j", "cache", "-i", "1", "-s", "churn", "--top", "20"],
                         stdout=subprocess.PIPE, text=True)
    added, totals = 0, 0
    try:
        for line in p.stdout:
            rec = loads(line)
            if rec["type"] == "cache_total":
                totals += 1
                if totals == 1:
                    with open(path, "rb") as f:
                        while f.read(1 << 20):
                            pass
                elif totals == 4:
                    break
            elif rec["type"] == "cache_file" and rec["ino"] == st.st_ino and rec["dev"] == dev:
                added += rec["added_bytes"]
    finally:
        p.stdout.close()  # a report blocked on the full pipe ends too
        p.terminate()
        p.wait()
    # every page of the file entered the cache once (read-ahead reads no further than EOF)
    assert added == mib << 20, added


def test_its_own_descriptors_are_read_once_a_report(tmp_path):
    # a file memscope holds itself is never opened (closing it would drop its POSIX
    # locks): its own descriptors are listed once a report, not again for each file
    trace = tmp_path / "trace"
    # LeakSanitizer cannot run under ptrace (test-sanitize's build): only its leak check
    # is off here, the count of opens is the same
    env = dict(os.environ, ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") + ":detect_leaks=0")
    p = subprocess.run(["strace", "-f", "-qq", "-e", "trace=openat", "-o", str(trace),
                        MEMSCOPE, "cache", "--top", "0", "--json"],
                       capture_output=True, text=True, timeout=120, env=env)
    assert p.returncode == 0, p.stderr
    named = [r for r in map(loads, p.stdout.splitlines())
             if r["type"] == "cache_file" and r["path"]]
    scans = [ln for ln in trace.read_text().splitlines() if '"/proc/self/fd",' in ln]
    assert len(named) > 1
    assert len(scans) == 1, (len(scans), len(named))


def test_memcg_cache_from_the_files():
    recs = run_json("cache", "--memcg")
    root = [r for r in recs if r["path"] == "/"][0]
    assert root["file_bytes"] is not None and root["file_bytes"] > 0


def test_memcg_cache_names_a_deep_cgroup_whole():
    # two names of 200 bytes: a path past 256 bytes was cut to its first 255
    outer = MemoryCgroup("ms-" + "o" * 197, 1 << 30)
    inner = None
    try:
        if not outer.path.startswith("/sys/fs/cgroup/memory/"):
            with open(f"{outer.path}/cgroup.subtree_control", "w") as f:
                f.write("+memory")  # v2: its child gets memory files
        inner = MemoryCgroup(outer.rel[1:] + "/ms-" + "i" * 196, 1 << 30)
        recs = run_json("cache", "--memcg")
        assert inner.rel in [r["path"] for r in recs], len(inner.rel)
    finally:
        if inner:
            inner.remove()
        outer.remove()
