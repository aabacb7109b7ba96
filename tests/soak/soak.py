#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""make soak: every live memscope command at once, for SOAK_MINUTES (default 30), while a
load cycles: 64-wide churn of short-lived processes, a memory-cgroup OOM kill every minute,
order-9 allocation failures, page-cache pressure in a small cgroup; the exporter is scraped
every second and the recorder writes every 10 s. Each memscope process's RSS and open fds are taken after 5 minutes and at the
end (growth <= 1 MiB, fds flat), events lost are read from the exporter and the commands'
own loss reports, the kernel log must stay clean, and every process must exit cleanly with
nothing left loaded. Not part of make test.

  soak.py [--minutes N] [--json FILE]
"""
import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from conftest import (MEMSCOPE, WORKLOAD, HugepageOvershoot, MemoryCgroup,  # noqa: E402
                      bpf_link_ids, bpf_map_ids, bpf_prog_ids)

COMMANDS = {
    "proc": ["proc", "-i", "1", "--top", "20"],
    "sys": ["sys", "-i", "1"],
    "paf": ["paf", "-j"],
    "reclaim": ["reclaim", "-i", "5", "--by-process"],
    "oom": ["oom", "-j"],
    "cgroup": ["cgroup", "-i", "5", "-j"],
    "record": ["record", "--db", "/var/tmp/memscope-soak.db", "-i", "10"],
}
DB = COMMANDS["record"][2]


def recorded():
    """What the recorder kept, and whether its database is whole."""
    import sqlite3
    con = sqlite3.connect(DB)
    try:
        q = lambda sql: con.execute(sql).fetchone()[0]  # noqa: E731
        return {"integrity": q("PRAGMA integrity_check"),
                "intervals": q("SELECT COUNT(*) FROM samples WHERE kind = 'interval'"),
                "snapshots": q("SELECT COUNT(*) FROM samples WHERE kind = 'snapshot'"),
                "oom_kills": q("SELECT COUNT(*) FROM events WHERE kind = 'oom_kill'"),
                "failures": q("SELECT COUNT(*) FROM events WHERE kind = 'failure'"),
                "events_lost": q("SELECT TOTAL(events_lost) FROM samples"),
                "bytes": sum(os.path.getsize(f) for f in (DB, DB + "-wal")
                             if os.path.exists(f))}
    finally:
        con.close()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def footprint(pid):
    with open(f"/proc/{pid}/status") as f:
        rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS"))
    return {"rss_kib": rss, "fds": len(os.listdir(f"/proc/{pid}/fd"))}


class Load:
    """The load generators, each a thread until stop is set."""

    def __init__(self, data_file):
        self.stop = threading.Event()
        self.data_file = data_file
        self.counts = {"churned": 0, "oom_kills": 0, "overshoots": 0, "reads": 0}
        self.threads = [threading.Thread(target=f, daemon=True) for f in
                        (self.churn, self.oom_every_minute, self.overshoot, self.page_cache)]

    def start(self):
        for t in self.threads:
            t.start()

    def churn(self):
        while not self.stop.is_set():
            subprocess.run(["sh", "-c", "for i in $(seq 64); do /bin/true & done; wait"])
            self.counts["churned"] += 64

    def oom_every_minute(self):
        cg = MemoryCgroup("memscope-soak-oom", 64 << 20)
        try:
            while not self.stop.wait(0 if not self.counts["oom_kills"] else 60):
                cg.run(f"{WORKLOAD} --anon 256").wait(timeout=120)
                self.counts["oom_kills"] += 1
        finally:
            cg.remove()

    def overshoot(self):
        while not self.stop.wait(180):
            HugepageOvershoot().run()
            self.counts["overshoots"] += 1

    def page_cache(self):
        cg = MemoryCgroup("memscope-soak-cache", 96 << 20)
        try:
            while not self.stop.wait(5):
                with open("/proc/sys/vm/drop_caches", "w") as f:
                    f.write("1")
                cg.run(f"cat {self.data_file}").wait(timeout=120)
                self.counts["reads"] += 1
        finally:
            cg.remove()


def scrape(port, lost):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        text = r.read().decode()
    for m in re.finditer(r'^memscope_events_lost_total\{source="(\w+)"\} (\d+)', text, re.M):
        lost[m[1]] = int(m[2])


def kernel_complaints(since_lines):
    log = subprocess.run(["dmesg"], capture_output=True, text=True).stdout.splitlines()
    return [l for l in log[since_lines:] if re.search(r"BUG:|WARNING:|soft lockup|rcu: INFO", l)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=float(os.environ.get("SOAK_MINUTES", 30)))
    ap.add_argument("--json", help="write the result here too")
    args = ap.parse_args()
    before = (bpf_prog_ids(), bpf_map_ids(), bpf_link_ids())
    dmesg_lines = len(subprocess.run(["dmesg"], capture_output=True, text=True).stdout
                      .splitlines())
    data = "/var/tmp/memscope-soak.dat"
    subprocess.run(["dd", "if=/dev/zero", f"of={data}", "bs=1M", "count=256"],
                   capture_output=True, check=True)
    port = free_port()
    cmds = {**COMMANDS, "exporter": ["exporter", "--listen", f"127.0.0.1:{port}",
                                     "--processes", "10"]}
    # stderr to files: a pipe nobody reads for 30 minutes could fill and block a writer
    logs = {k: open(f"/var/tmp/memscope-soak-{k}.err", "w+") for k in cmds}
    procs = {k: subprocess.Popen([MEMSCOPE, *v], stdout=subprocess.DEVNULL, stderr=logs[k])
             for k, v in cmds.items()}
    time.sleep(10)  # all loaded
    load = Load(data)
    load.start()
    lost, scrapes, failed_scrapes, at5 = {}, 0, 0, None
    t0 = time.time()
    end = t0 + args.minutes * 60
    try:
        while time.time() < end:
            for k, p in procs.items():
                assert p.poll() is None, f"memscope {k} exited {p.returncode}"
            try:
                scrape(port, lost)
                scrapes += 1
            except OSError:
                failed_scrapes += 1
            if at5 is None and time.time() - t0 >= min(300, args.minutes * 30):
                at5 = {k: footprint(p.pid) for k, p in procs.items()}
            time.sleep(1)
        at_end = {k: footprint(p.pid) for k, p in procs.items()}
    finally:
        load.stop.set()
        for t in load.threads:
            t.join(timeout=300)
    errs, codes = {}, {}
    for k, p in procs.items():
        p.send_signal(signal.SIGINT)
        codes[k] = p.wait(timeout=60)
        logs[k].seek(0)
        errs[k] = logs[k].read()
        logs[k].close()
        os.unlink(logs[k].name)
    os.unlink(data)
    rec = recorded()
    for f in (DB, DB + "-wal", DB + "-shm"):
        if os.path.exists(f):
            os.unlink(f)
    time.sleep(1)
    after = (bpf_prog_ids(), bpf_map_ids(), bpf_link_ids())
    left = [sorted(a - b) for a, b in zip(after, before)]
    growth = {k: {"rss_kib": at_end[k]["rss_kib"] - at5[k]["rss_kib"],
                  "fds": at_end[k]["fds"] - at5[k]["fds"]} for k in at_end}
    result = {
        "minutes": args.minutes, "load": load.counts, "scrapes": scrapes,
        "failed_scrapes": failed_scrapes, "at_5_min": at5, "at_end": at_end,
        "growth_after_5_min": growth, "exporter_events_lost": lost, "recorded": rec,
        "loss_warnings": {k: [l for l in e.splitlines() if "lost" in l or "not " in l]
                          for k, e in errs.items()},
        "stderr": {k: e.strip() for k, e in errs.items() if e.strip()},
        "exit_status": codes, "bpf_left_behind": left,
        "kernel_complaints": kernel_complaints(dmesg_lines),
    }
    ok = (all(g["rss_kib"] <= 1024 and g["fds"] <= 0 for g in growth.values()) and
          all(c == 0 for c in codes.values()) and not any(left) and
          not result["kernel_complaints"] and not failed_scrapes and
          rec["integrity"] == "ok" and rec["oom_kills"] >= load.counts.get("oom_kills", 0))
    result["ok"] = ok
    text = json.dumps(result, indent=1)
    print(text)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
