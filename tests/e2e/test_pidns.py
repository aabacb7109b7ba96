# SPDX-License-Identifier: GPL-2.0
"""memscope in a PID namespace of its own (a container without the host's PIDs): its
task iterator sees none of the kernel's threads, kswapd included, yet every node must
be found; the per-process lists hold that namespace's processes and say so."""
import os
import re
import sqlite3
import subprocess
import time
import urllib.request

from conftest import MEMSCOPE, SLOWDOWN, loads, meminfo, run_json
from test_exporter import free_port
from test_sys import check_row, truth_node

# --kill-child: memscope (the namespace's pid 1) gets SIGTERM when unshare does
PIDNS = ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child=SIGTERM"]
NODE_DIR = "/sys/devices/system/node"


def in_pidns(*args, timeout=120):
    return subprocess.run([*PIDNS, MEMSCOPE, *map(str, args)], capture_output=True, text=True,
                          timeout=timeout * SLOWDOWN)


def nodes_with_memory():
    """Node ids whose meminfo counts memory (a node of CPUs only has no zone to show)."""
    ids = (int(d[4:]) for d in os.listdir(NODE_DIR) if re.fullmatch(r"node\d+", d))
    return sorted(n for n in ids if meminfo(f"{NODE_DIR}/node{n}/meminfo")["MemTotal"])


def node_rows(records):
    return {r["node"]: r for r in records if r["type"] == "sys" and r["scope"] == "node"}


def test_sys_finds_every_node_as_node_meminfo_has_it():
    nodes = nodes_with_memory()
    path = NODE_DIR + "/node{}/meminfo"
    # up to three tries a second apart: the page cache may still move while the files
    # of unshare and memscope are first read (a guest just booted)
    for attempt in range(3):
        before = {n: truth_node(meminfo(path.format(n))) for n in nodes}
        p = in_pidns("sys", "--zones", "--json")
        after = {n: truth_node(meminfo(path.format(n))) for n in nodes}
        assert p.returncode == 0, p.stderr
        recs = [loads(l) for l in p.stdout.splitlines()]
        rows = node_rows(recs)
        assert sorted(rows) == nodes
        try:
            for n in nodes:
                check_row(rows[n], before[n], after[n])
            break
        except AssertionError:
            if attempt == 2:
                raise
            time.sleep(1)
    # the same zones as outside the namespace
    zones = {(r["node"], r["zone"]) for r in recs if r["type"] == "zone"}
    assert zones == {(r["node"], r["zone"]) for r in run_json("sys", "--zones")
                     if r["type"] == "zone"}


def test_health_report_says_its_processes_are_the_namespace_s():
    p = in_pidns("--json", "-d", 1)
    assert p.returncode == 0, p.stderr
    rec = loads(p.stdout.splitlines()[-1])
    assert sorted(n["node"] for n in rec["nodes"]) == nodes_with_memory()
    assert "PID namespace" in rec["processes_scope"]
    # memscope is the namespace's first process: said apart, not listed
    assert rec["memory"]["memscope_rss_bytes"] > 0
    assert not [t for t in rec["top_processes"] if t["comm"] == "memscope"], rec
    text = in_pidns("-d", 0.5)
    assert text.returncode == 0 and "in a PID namespace: only its own processes" in text.stdout
    # outside one, every process
    host = [r for r in run_json("-d", 0.5) if r["type"] == "summary"][0]
    assert host["processes_scope"] is None


def test_record_records_every_node(tmp_path):
    db = tmp_path / "m.db"
    p = in_pidns("record", "--db", db, "-i", 0.5, "-d", 2)
    assert p.returncode == 0, p.stderr
    assert "in a PID namespace: only its own processes" in p.stderr
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        ids = con.execute("SELECT DISTINCT node FROM node WHERE scope = 'node'").fetchall()
        samples = con.execute("SELECT COUNT(*) FROM samples").fetchone()[0]
    finally:
        con.close()
    assert sorted(i for (i,) in ids) == nodes_with_memory()
    assert samples >= 2


def test_exporter_serves_every_node_scrape_after_scrape():
    port = free_port()
    p = subprocess.Popen([*PIDNS, MEMSCOPE, "exporter", "--listen", f"127.0.0.1:{port}",
                          "--processes", "5", "-d", str(60 * SLOWDOWN)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        bodies = [scrape(port, p) for _ in range(3)]
        assert p.poll() is None, "the exporter died while serving"
    finally:
        p.kill()  # unshare blocks SIGTERM; its end sends memscope one (--kill-child)
        out, err = p.communicate(timeout=60 * SLOWDOWN)
    for body in bodies:
        ids = re.findall(r'^memscope_node_total_bytes\{node="(\d+)"\}', body, re.M)
        assert sorted(int(n) for n in ids) == nodes_with_memory(), body[:2000]
    assert "in a PID namespace: only its own processes" in err


def scrape(port, p, timeout=60):
    """One scrape, waiting for the exporter to serve (its readiness message names its
    pid in the namespace, which the tests' listener cannot tell from the host's)."""
    end = time.time() + timeout * SLOWDOWN
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as r:
                assert r.status == 200
                return r.read().decode()
        except (ConnectionError, urllib.error.URLError):
            if p.poll() is not None:
                raise AssertionError(f"the exporter exited {p.returncode}: {p.stderr.read()}")
            if time.time() > end:
                raise
            time.sleep(0.2)
