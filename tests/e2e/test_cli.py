# SPDX-License-Identifier: GPL-2.0
"""Bad input exits 2 with one line and loads nothing; signals and closed pipes clean up."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import MEMSCOPE, SLOWDOWN, bpf_prog_ids, run


def unused_pid():
    pid = 4000000
    while os.path.exists(f"/proc/{pid}"):
        pid -= 1
    return pid


BAD_INPUT = [
    ["--bogus"],
    ["nosuchcommand"],
    ["-d", "0"],
    ["-i", "1"],
    ["proc", "--bogus"],
    ["proc", "-i"],
    ["proc", "-i", "abc"],
    ["proc", "-i", "-1"],
    ["proc", "-i", "0"],
    ["proc", "-i", "1x"],
    ["proc", "-c", "0"],
    ["proc", "-c", "-3"],
    ["proc", "-c", "99999999999999999999"],
    ["proc", "-d", "0"],
    ["proc", "-p", str(unused_pid())],
    ["proc", "-p", "1,abc"],
    ["proc", "--comm", "a-name-longer-than-15"],
    ["proc", "--top", "0"],
    ["proc", "-s", "bogus"],
    ["proc", "--once", "-i", "1"],
    ["proc", "--cgroup", "/nonexistent"],
    ["proc", "--cgroup", "/tmp"],
    ["proc", "extra-argument"],
    ["features", "-i", "1"],
    ["sys", "--on", "bogus"],
    ["sys", "--on", ""],
    ["sys", "-p", "1"],
    ["sys", "-i", "0.001"],
    ["paf", "--order", "x"],
    ["paf", "--order", "99"],
    ["paf", "--min-order", "-1"],
    ["paf", "--summary", "--stack"],
    ["paf", "-i", "1"],
    ["gfp"],
    ["reclaim", "--cgroup", "/tmp"],
    ["reclaim", "--bogus"],
    ["reclaim", "-c", "x"],
    ["oom", "-i", "1"],
    ["oom", "-p", "1"],
    ["oom", "--detail=yes"],
    ["help", "nosuchcommand"],
    ["--avoid-hooks"],
    ["--avoid-hooks", "bogus", "features"],
    ["proc", "--avoid-hooks", "iter/task"],
    ["features", "--avoid-hooks"],
    ["--avoid-hooks", ",", "features"],
    ["proc", "--once", "-p", "1,,2"],
    ["proc", "--once", "-p", ",1"],
    ["proc", "--once", "-p", "1,"],
    ["sys", "--on", "reclaim,,failure"],
    ["paf", "--order", "3", "--min-order", "5"],
    ["proc", "--once", "--json=1"],
    ["proc", "-i", "0x10"],
    ["--nosuch", "proc"],
    ["report", "--at", "garbage"],
]


@pytest.mark.parametrize("args", BAD_INPUT, ids=lambda a: " ".join(a) or "(none)")
def test_bad_input_exits_2_with_one_line_and_loads_nothing(args):
    before = bpf_prog_ids()
    p = run(*args)
    assert p.returncode == 2, (p.returncode, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("memscope: "), p.stderr
    assert p.stdout == ""
    assert bpf_prog_ids() <= before


def test_help_and_version():
    for args in (["--help"], ["help", "proc"], ["proc", "--help"], ["-V"]):
        p = run(*args)
        assert p.returncode == 0 and p.stdout, args
    assert "Examples:" in run("help", "proc").stdout
    assert run("help", "proc").stdout == run("proc", "-h").stdout


def test_bad_input_is_blamed_on_what_was_typed():
    """Each line names the option as typed and the command it belongs to (issue 26)."""
    err = run("--nosuch", "proc").stderr
    assert "'--nosuch'" in err and "'proc'" in err and "summary" not in err, err
    # the health report's own bad option is still the health report's
    assert "summary: unknown option '--nosuch'" in run("--nosuch").stderr
    # every number is decimal: strtod would read 0x10 as 16 seconds
    for args in (["proc", "-i", "0x10"], ["proc", "-c", "0x10"], ["-d", "0X2"]):
        p = run(*args)
        assert p.returncode == 2 and "hexadecimal" in p.stderr, (args, p.stderr)
    for opt in ("--at", "--since", "--until"):
        err = run("report", opt, "garbage").stderr
        assert err.startswith(f"memscope: {opt}: 'garbage' is neither a time"), err


@pytest.mark.parametrize("args", [["-V"], ["--version"], ["help"], ["--help"], ["help", "proc"],
                                  ["proc", "--help"], ["help", "fields"], ["help", "metrics"],
                                  ["help", "recorder"], ["-h"]],
                         ids=lambda a: " ".join(a))
def test_json_help_and_version_are_records(args):
    """With -j every line is a JSON record, help and version too; the lines of a help
    record are the text memscope prints without -j."""
    from conftest import loads
    text = run(*args)
    js = run("-j", *args)
    assert text.returncode == js.returncode == 0, (text.stderr, js.stderr)
    recs = [loads(line) for line in js.stdout.splitlines()]
    assert recs and text.stdout, "no output: the test is void"
    if args[0] in ("-V", "--version"):
        assert [r["type"] for r in recs] == ["version"]
        assert text.stdout == f"memscope {recs[0]['version']}\n"
    else:
        assert {r["type"] for r in recs} == {"help"}
        assert "".join(r["line"] + "\n" for r in recs) == text.stdout


def test_live_proc_says_why_a_pid_is_not_shown():
    """-p PID of a process without an address space (a zombie): live mode says so once,
    as the snapshot does, instead of printing nothing and saying nothing."""
    parent = subprocess.Popen([sys.executable, "-c", "import os, time; pid = os.fork()\n"
                               "if pid == 0: os._exit(0)\n"
                               "print(pid, flush=True); time.sleep(60)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        pid = int(parent.stdout.readline())  # never waited for: a zombie
        for _ in range(100):
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    break
            time.sleep(0.02)
        else:
            raise AssertionError("the child did not become a zombie: void")
        for args in (["--once"], ["-i", "0.2", "-c", "2"]):
            p = run("proc", "-p", pid, *args)
            assert p.returncode == 0, p.stderr
            assert p.stderr == f"memscope: pid {pid} is not shown: it has no address space " \
                               "(exiting or a kernel thread)\n", (args, p.stderr)
    finally:
        parent.kill()
        parent.wait()


def test_not_root_is_a_runtime_error():
    p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        "--inh-caps=-all", MEMSCOPE, "proc", "--once"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 1
    assert "root" in p.stderr and len(p.stderr.strip().splitlines()) == 1


def test_no_hook_left_is_a_runtime_error(no_bpf_leak):
    # every tracepoint probe has tp_btf, raw_tp and classic tracepoint variants
    p = run("--avoid-hooks", "tp_btf,raw_tp,tracepoint", "reclaim", "-d", "1")
    assert p.returncode == 1, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "no working hook" in lines[0] and "--avoid-hooks" in lines[0]


def start_live(*extra):
    p = subprocess.Popen([MEMSCOPE, "proc", "-i", "0.2", *extra], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    # wait for the first report: the programs are loaded and attached by then
    assert p.stdout.readline()
    return p


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_ends_cleanly(sig, no_bpf_leak):
    p = start_live()
    p.send_signal(sig)
    _, err = p.communicate(timeout=10)
    assert p.returncode == 0, err
    assert err == ""


def test_signal_while_blocked_on_a_full_pipe_loses_nothing(no_bpf_leak):
    """Ctrl-C while a write waits for the reader: the write goes on (SA_RESTART), the
    run ends cleanly, every line whole (it used to fail with EINTR)."""
    import time
    p = subprocess.Popen([MEMSCOPE, "-j", "proc", "-i", "0.05", "--top", "1000"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(2 * SLOWDOWN)  # far more than a pipe holds is waiting by now
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0 and err == b"", err
    # a pipe's worth (64 KiB, less what partly filled pages waste): it was blocked
    assert len(out) > 48 << 10, len(out)
    assert all(json.loads(l)["type"] == "proc" for l in out.splitlines())


def test_closed_pipe_ends_quietly(no_bpf_leak):
    p = subprocess.run(f"{MEMSCOPE} proc -i 0.1 --top 50 | head -1", shell=True,
                       capture_output=True, text=True, timeout=20)
    assert p.returncode == 0
    assert p.stdout.count("\n") == 1
    assert p.stderr == ""


def test_duration_ends_on_time(no_bpf_leak):
    t = time.monotonic()
    p = run("proc", "-d", "1", "-i", "0.3")
    assert p.returncode == 0
    assert time.monotonic() - t < 5


LIVE_COMMANDS = [["proc", "-i", "0.2"], ["sys", "-i", "0.2"], ["paf"], ["reclaim", "-i", "0.5"],
                 ["oom"], ["cgroup", "-i", "0.5"], ["-d", "30"]]
# those that write every interval: a closed pipe is noticed at the next report
PERIODIC = [c for c in LIVE_COMMANDS if "-i" in c]


def random_moments(n):
    """n delays from 0 to 1.5 s (native speed): during loading, attaching and running."""
    import random
    rnd = random.Random(int(os.environ.get("MEMSCOPE_TEST_SEED", "1")))
    return [rnd.uniform(0, 1.5) * SLOWDOWN for _ in range(n)]


def stop(p, how):
    """End p by a signal, or by closing the pipe it writes to; returns its stderr."""
    if how == "SIGPIPE":
        p.stdout.close()
        p.wait(timeout=30 * SLOWDOWN)
        return p.stderr.read().decode()
    p.send_signal(getattr(signal, how))
    return p.communicate(timeout=30 * SLOWDOWN)[1].decode()


@pytest.mark.parametrize("how", ["SIGINT", "SIGTERM", "SIGPIPE"])
def test_stopped_at_random_moments_leaves_nothing(how, no_bpf_leak):
    """20 runs each (5 under emulation), cycling through the live commands: a signal or a
    closed pipe at any moment ends memscope quietly, and nothing stays loaded (the
    fixture compares the kernel's program, map and link lists before and after)."""
    cmds = PERIODIC if how == "SIGPIPE" else LIVE_COMMANDS
    for i, delay in enumerate(random_moments(20 if SLOWDOWN == 1 else 5)):
        args = cmds[i % len(cmds)]
        p = subprocess.Popen([MEMSCOPE, *args], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        time.sleep(delay)
        err = stop(p, how)
        # a signal before the handlers exist takes its default action: no message then
        signo = getattr(signal, how)
        assert p.returncode in (0, -signo), (args, delay, p.returncode, err)
        assert not err.strip(), (args, delay, err)
