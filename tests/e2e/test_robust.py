# SPDX-License-Identifier: GPL-2.0
"""What a hostile process, a full disk, a closed stdout or partial privileges do to memscope."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import CLASSIC, MEMSCOPE, SLOWDOWN, MemoryCgroup, TraceInstance, data_file, \
    drop_caches, loads, run, run_json, wait_attached  # noqa: F401 (data_file is a fixture)

# A process name with a colour escape, a newline, a tab and bytes that are not UTF-8:
# prctl(PR_SET_NAME) accepts any bytes, and the kernel keeps 15 of them.
EVIL = b"\x1b[31mred\n\tx\xff\xfe"


@pytest.fixture
def evil_process():
    code = ("import ctypes, sys, time; ctypes.CDLL(None).prctl(15, %r, 0, 0, 0); "
            "print('ready', flush=True); time.sleep(60)" % EVIL)
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    assert p.stdout.readline() == b"ready\n"
    yield p
    p.kill()
    p.wait()


def test_hostile_process_name_is_safe_in_text_and_valid_in_json(evil_process):
    pid = evil_process.pid
    with open(f"/proc/{pid}/comm", "rb") as f:
        assert f.read().rstrip(b"\n") == EVIL[:15], "prctl did not set the name: void"
    text = subprocess.run([MEMSCOPE, "proc", "--once", "-p", str(pid)], capture_output=True,
                          timeout=60, env=dict(os.environ, COLUMNS="250")).stdout
    assert b"\x1b" not in text and b"\t" not in text and b"\xff" not in text
    lines = text.decode("utf-8").splitlines()  # strict: valid UTF-8
    assert len(lines) == 2, lines  # the header and one row: no newline from the name
    assert "?[31mred??x??" in lines[1]
    raw = subprocess.run([MEMSCOPE, "-j", "proc", "--once", "-p", str(pid)],
                         capture_output=True, timeout=60).stdout
    recs = [json.loads(line.decode("utf-8")) for line in raw.splitlines()]
    assert len(recs) == 1 and recs[0]["pid"] == pid
    # the name's valid characters survive, each invalid byte is U+FFFD
    assert recs[0]["comm"] == "\x1b[31mred\n\tx\ufffd\ufffd"


# U+202E RIGHT-TO-LEFT OVERRIDE: on a terminal, what follows it is shown reversed, so a
# process called "\u202egnp.exe" reads as "exe.png". Text must show it as a control.
RLO = "\u202e"


def test_bidirectional_override_in_names_is_a_control_in_text(tmp_path):
    """A process and a memory cgroup whose names hold U+202E: proc, cgroup and report
    print '?' in text where the kernel's own files hold the override; JSON keeps each name
    exactly as /proc and the cgroup's directory hold it, the override escaped."""
    from conftest import MemoryCgroup, scaled_mib
    name = (RLO + "gnp.exe").encode()
    code = ("import ctypes, time; ctypes.CDLL(None).prctl(15, %r, 0, 0, 0); "
            "x = bytearray(%d << 20); print('ready', flush=True); time.sleep(120)"
            % (name, scaled_mib(128)))
    cg = MemoryCgroup("memscope-test-" + RLO + "evil", 1 << 40)
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    try:
        assert p.stdout.readline() == b"ready\n"
        with open(f"{cg.path}/cgroup.procs", "w") as f:
            f.write(str(p.pid))
        # the ground truth: the kernel's own files hold the override
        with open(f"/proc/{p.pid}/comm", "rb") as f:
            assert f.read().rstrip(b"\n") == name, "prctl did not set the name: void"
        with open(f"/proc/{p.pid}/cgroup", "rb") as f:
            assert cg.rel.encode() in f.read(), "not in the cgroup: void"
        wide = dict(os.environ, COLUMNS="400")
        texts = {
            "proc": run("proc", "--once", "-p", p.pid, env=wide),
            "cgroup": run("cgroup", "--cgroup", cg.rel, env=wide),
        }
        db = str(tmp_path / "m.db")
        rec = run("record", "--db", db, "-i", "0.5", "-c", "2", "--top", "100",
                  "--memcgs", "10000", timeout=120)
        assert rec.returncode == 0, rec.stderr
        texts["report"] = run("report", "--db", db, "--at", "1m", env=wide)
        for cmd, t in texts.items():
            assert t.returncode == 0, (cmd, t.stderr)
            assert RLO not in t.stdout and RLO not in t.stderr, cmd
        assert "?gnp.exe" in texts["proc"].stdout, texts["proc"].stdout
        assert "memscope-test-?evil" in texts["cgroup"].stdout, texts["cgroup"].stdout
        assert "?gnp.exe" in texts["report"].stdout, texts["report"].stdout
        assert "memscope-test-?evil" in texts["report"].stdout, texts["report"].stdout
        raw = run("-j", "proc", "--once", "-p", p.pid).stdout
        assert RLO not in raw and "\\u202e" in raw, raw
        recs = [json.loads(line) for line in raw.splitlines()]
        assert [(r["comm"], r["cgroup"]) for r in recs] == [(name.decode(), cg.rel)]
        cgs = [json.loads(line) for line in run("-j", "cgroup", "--cgroup", cg.rel).stdout
               .splitlines()]
        assert [c["path"] for c in cgs if c["type"] == "cgroup"] == [cg.rel]
    finally:
        p.kill()
        p.wait()
        cg.remove()


def test_write_errors_exit_1_with_one_line():
    for redirect in (">/dev/full", ">&-"):
        p = subprocess.run(f"{MEMSCOPE} -j proc --once {redirect}", shell=True,
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 1, (redirect, p.returncode, p.stderr)
        lines = p.stderr.strip().splitlines()
        assert len(lines) == 1 and "cannot write output" in lines[0], (redirect, p.stderr)
    # a closed pipe is not an error (memscope ... | head -1)
    p = subprocess.run(f"{MEMSCOPE} proc --once | head -1", shell=True,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and p.stderr == ""


SETPRIV = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


@pytest.mark.parametrize("args", [["proc", "--once"], ["oom", "-d", "1"], ["-d", "1"],
                                  ["sys"], ["paf", "-d", "1"], ["reclaim", "-d", "1"],
                                  ["features"], ["proc", "-d", "1"]],
                         ids=lambda a: " ".join(a))
def test_cap_bpf_and_cap_perfmon_suffice(args):
    """The README promises CAP_BPF + CAP_PERFMON; without CAP_SYS_ADMIN libbpf may not
    iterate kernel BTF objects, so memscope must not need to."""
    if CLASSIC:
        pytest.skip("classic tracepoints are found and attached through tracefs, which "
                    "only root may read: the capabilities alone are not enough for them")
    p = subprocess.run(SETPRIV + ["--inh-caps=-all,+bpf,+perfmon",
                                  "--ambient-caps=+bpf,+perfmon", MEMSCOPE, *args],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr


def test_a_missing_capability_is_named():
    p = subprocess.run(SETPRIV + ["--inh-caps=-all,+bpf", "--ambient-caps=+bpf",
                                  MEMSCOPE, "proc", "--once"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 1
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "missing: CAP_PERFMON" in lines[0], p.stderr


def test_errors_end_the_json_stream_with_a_record():
    p = run("-j", "proc", "--bogus")
    assert p.returncode == 2
    recs = [json.loads(line) for line in p.stdout.splitlines()]
    assert len(recs) == 1 and recs[0]["type"] == "error" and recs[0]["exit_status"] == 2
    assert recs[0]["ts"] > 0
    assert "--bogus" in recs[0]["message"] and recs[0]["message"] in p.stderr
    p = subprocess.run(SETPRIV + ["--inh-caps=-all", MEMSCOPE, "-j", "sys"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 1
    recs = [json.loads(line) for line in p.stdout.splitlines()]
    assert len(recs) == 1 and recs[0]["type"] == "error" and recs[0]["exit_status"] == 1
    assert run("proc", "--bogus").stdout == ""  # without -j stdout stays empty


def test_global_flags_combine_and_errors_name_what_was_typed():
    p = run("-jv", "gfp", "0xcc0")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["flags"] == ["GFP_KERNEL"]
    p = run("proc", "--once", "--json=1")
    assert p.returncode == 2 and "'--json' takes no value" in p.stderr, p.stderr
    p = run("proc", "--once", "--no-such")
    assert p.returncode == 2 and "'--no-such'" in p.stderr


def test_pids_that_cannot_be_shown_say_why():
    p = run("proc", "--once", "-p", "2")  # kthreadd
    assert p.returncode == 0
    assert "kernel thread" in p.stderr and "pid 2" in p.stderr
    # a thread id stands for its process
    code = "import threading, time; threading.Thread(target=time.sleep, args=(60,)).start()"
    w = subprocess.Popen([sys.executable, "-c", code])
    try:
        for _ in range(100):
            tids = [int(t) for t in os.listdir(f"/proc/{w.pid}/task") if int(t) != w.pid]
            if tids:
                break
            time.sleep(0.05)
        p = run("-j", "proc", "--once", "-p", tids[0])
        assert p.returncode == 0, p.stderr
        assert f"{tids[0]} is a thread of process {w.pid}" in p.stderr
        assert [json.loads(line)["pid"] for line in p.stdout.splitlines()] == [w.pid]
        # -p twice adds up, as -p A,B does
        p = run("-j", "proc", "--once", "-p", w.pid, "-p", os.getpid())
        assert sorted(json.loads(line)["pid"] for line in p.stdout.splitlines()) == \
            sorted([w.pid, os.getpid()])
    finally:
        w.kill()
        w.wait()


def test_sys_on_event_text_names_order_zero(data_file):
    """memcg reclaim starts at order 0: the text heading must say so (it printed nothing)."""
    drop_caches()
    cg = MemoryCgroup("memscope-test-order0", 64 << 20)
    try:
        live = subprocess.Popen([MEMSCOPE, "sys", "--on", "reclaim", "-c", "1", "-d", "30"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_attached(live)
        cg.run(f"cat {data_file}").wait(timeout=60)
        out, err = live.communicate(timeout=40)
    finally:
        cg.remove()
    assert live.returncode == 0, err
    heads = [l for l in out.splitlines() if " by pid " in l]
    assert heads, out[:500]
    assert ", order 0 — node" in heads[0] or ", order 0 - node" in heads[0], heads[0]


def test_a_ring_buffer_overrun_is_counted_exactly(data_file):
    """A one-page event ring (MEMSCOPE_TEST_MAP_MAX) under memcg reclaim: every snapshot
    the kernel took is either delivered or counted lost, as many as tracefs saw."""
    trace = TraceInstance("memscope_ring_test", "vmscan/mm_vmscan_memcg_reclaim_begin")
    cg = MemoryCgroup("memscope-test-ring", 32 << 20)
    try:
        p = subprocess.Popen([MEMSCOPE, "sys", "--on", "reclaim", "-j"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True,
                             env={**os.environ, "MEMSCOPE_TEST_MAP_MAX": "events=4096"})
        wait_attached(p)
        before = len(trace.lines())
        drop_caches()
        cg.run(f"cat {data_file}").wait(timeout=120 * SLOWDOWN)
        time.sleep(1)
        seen = len(trace.lines()) - before
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=30 * SLOWDOWN)
    finally:
        trace.remove()
        cg.remove()
    recs = [loads(l) for l in out.splitlines()]
    delivered = sum(r["type"] == "sys_event" for r in recs)
    lost = max([r["snapshots"] for r in recs if r["type"] == "lost"] or [0])
    assert seen > 0, "void: no memcg reclaim"
    assert lost > 0, "void: the one-page ring did not overrun"
    # README, Known problems: now and then one event the kernel traced is neither
    # delivered nor counted lost (about 1 in 300 here, none reported as a BPF recursion
    # miss); more than one short, or any surplus, is a defect
    assert seen - 1 <= delivered + lost <= seen, (delivered, lost, seen)


def test_no_btf_is_one_line_with_the_fix():
    p = subprocess.run(["unshare", "-m", "sh", "-c", "mount -t tmpfs none /sys/kernel/btf && "
                        f"exec {MEMSCOPE} proc --once"], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 1 and len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert "CONFIG_DEBUG_INFO_BTF" in p.stderr


def test_no_tracefs_for_classic_tracepoints_is_one_line_with_the_fix():
    """tracefs unmounted and not mountable (no CAP_SYS_ADMIN) where only classic
    tracepoints may be used: the line names tracefs and the command that mounts it."""
    script = ("umount /sys/kernel/tracing 2>/dev/null; umount /sys/kernel/debug 2>/dev/null; "
              "mount -t tmpfs -o ro none /sys/kernel/tracing && "
              "mount -t tmpfs -o ro none /sys/kernel/debug && "
              "exec setpriv --inh-caps=-sys_admin --bounding-set=-sys_admin "
              f"{MEMSCOPE} --avoid-hooks tp_btf,raw_tp reclaim -d 1")
    p = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 1 and len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert "tracefs" in p.stderr and "mount -t tracefs" in p.stderr


@pytest.mark.parametrize("args", [["sys", "-i", "0.2", "-c", "1"], ["oom", "-d", "0.5"]])
def test_readiness_is_told_to_a_supervisor_socket(tmp_path, args):
    """systemd's Type=notify: READY=1 with memscope's own pid, on a path socket (the
    suite's wait_attached uses an abstract one), once per process."""
    import socket
    path = str(tmp_path / "notify")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    try:
        p = subprocess.Popen([MEMSCOPE, *args], env={**os.environ, "NOTIFY_SOCKET": path},
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, err = p.communicate(timeout=60 * SLOWDOWN)
        assert p.returncode == 0, err
        s.settimeout(0)
        msgs = []
        while True:
            try:
                msgs.append(s.recv(256).decode())
            except BlockingIOError:
                break
    finally:
        s.close()
    assert msgs == [f"READY=1\nMAINPID={p.pid}\n"]
