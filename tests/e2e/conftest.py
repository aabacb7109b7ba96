# SPDX-License-Identifier: GPL-2.0
"""Shared fixtures for memscope's end-to-end tests: run the real binary as root."""
import json
import os
import signal
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# MEMSCOPE_BIN: another build of it (make test-sanitize runs its sanitized one)
MEMSCOPE = os.environ.get("MEMSCOPE_BIN", os.path.join(ROOT, "memscope"))
# MEMSCOPE_TEST_AVOID_HOOKS=tp_btf (or fentry, ...) runs the suite on the fallback hook
# variants: every memscope the tests start gets --avoid-hooks (an exec, so the pid and
# the comm stay memscope's).
AVOID_HOOKS = [k for k in os.environ.get("MEMSCOPE_TEST_AVOID_HOOKS", "").split(",") if k]
# The pass on classic tracepoints (tp_btf and raw_tp avoided): each one is attached through
# tracefs (perf_event_open), ~70 ms apiece here, and tracefs is root's only.
CLASSIC = "tp_btf" in AVOID_HOOKS and "raw_tp" in AVOID_HOOKS
if AVOID_HOOKS:
    import tempfile
    _dir = tempfile.mkdtemp(prefix="memscope-test-")
    os.chmod(_dir, 0o755)  # the not-root test runs it too
    _wrapper = os.path.join(_dir, "memscope")
    with open(_wrapper, "w") as f:
        f.write(f'#!/bin/sh\nexec {MEMSCOPE} --avoid-hooks {",".join(AVOID_HOOKS)} "$@"\n')
    os.chmod(_wrapper, 0o755)
    MEMSCOPE = _wrapper
TRACEFS = "/sys/kernel/tracing"


def run(*args, timeout=60, check=False, **kw):
    """Run memscope; returns CompletedProcess with text stdout/stderr."""
    p = subprocess.run([MEMSCOPE, *map(str, args)], capture_output=True, text=True,
                       timeout=timeout, **kw)
    if check and p.returncode != 0:
        raise AssertionError(f"memscope {' '.join(map(str, args))} exited {p.returncode}: "
                             f"{p.stderr}")
    return p


def loads(line):
    """One NDJSON record, held to the output contract (test_contract.py) on the way."""
    from test_contract import check_contract
    rec = json.loads(line)
    check_contract(rec)
    return rec


def run_json(*args, **kw):
    """Run memscope -j and parse its NDJSON lines."""
    p = run(*args, "--json", check=True, **kw)
    return [loads(line) for line in p.stdout.splitlines() if line.strip()]


def bpf_prog_ids():
    """IDs of all BPF programs loaded in the kernel (bpftool)."""
    out = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True,
                         check=True).stdout
    return {p["id"] for p in json.loads(out or "[]")}


def bpf_map_ids():
    out = subprocess.run(["bpftool", "-j", "map", "show"], capture_output=True, text=True,
                         check=True).stdout
    return {m["id"] for m in json.loads(out or "[]")}


def bpf_link_ids():
    out = subprocess.run(["bpftool", "-j", "link", "show"], capture_output=True, text=True,
                         check=True).stdout
    return {m["id"] for m in json.loads(out or "[]")}


def ensure_tracefs():
    if not os.path.isdir(os.path.join(TRACEFS, "events")):
        subprocess.run(["mount", "-t", "tracefs", "nodev", TRACEFS], check=False)
    return os.path.isdir(os.path.join(TRACEFS, "events"))


# One e2e run at a time on a machine: the tests compare the kernel's global lists of BPF
# objects, make memory cgroups OOM and fill the huge-page pool; two runs (two checkouts,
# a fallback pass started by hand) would see each other's. MEMSCOPE_TEST_LOCK=none
# skips it (a guest of make test-vm has a kernel of its own).
LOCK = os.environ.get("MEMSCOPE_TEST_LOCK", "/tmp/memscope-e2e.lock")


@pytest.fixture(scope="session", autouse=True)
def require_root_and_binary():
    if os.geteuid() != 0:
        pytest.exit("the end-to-end suite loads BPF programs: run it as root", returncode=1)
    if not os.access(MEMSCOPE, os.X_OK):
        pytest.exit(f"{MEMSCOPE} is not built: run make", returncode=1)
    if LOCK == "none":
        yield
        return
    import fcntl
    with open(LOCK, "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"\nwaiting for another end-to-end run to end ({LOCK})", flush=True)
            fcntl.flock(lock, fcntl.LOCK_EX)
        yield


@pytest.fixture
def no_bpf_leak():
    """Fails the test when memscope left a BPF program, map or link behind."""
    before = (bpf_prog_ids(), bpf_map_ids(), bpf_link_ids())
    yield
    # Objects are released when the process closes its fds; give the kernel a moment.
    import time
    for _ in range(20):
        after = (bpf_prog_ids(), bpf_map_ids(), bpf_link_ids())
        if all(a <= b for a, b in zip(after, before)):
            break
        time.sleep(0.1)
    new = [sorted(a - b) for a, b in zip(after, before)]
    assert not any(new), f"BPF objects left behind (progs, maps, links): {new}"


WORKLOAD = os.path.join(ROOT, "build", "tests", "workload")


class Workload:
    """A process with a known footprint (tests/e2e/workload.c)."""

    def __init__(self, *args, cgroup_procs=None):
        self.p = subprocess.Popen([WORKLOAD, *map(str, args)], stdout=subprocess.PIPE,
                                  text=True)
        self.pid = self.p.pid
        if cgroup_procs:
            with open(cgroup_procs, "w") as f:
                f.write(str(self.pid))

    def wait_stopped(self, timeout=60):
        """Wait until the process has stopped itself (state T); the timeout scales with
        MEMSCOPE_TEST_SLOWDOWN (an emulated guest touches memory slowly). It is a
        deadline for a hung workload, not a speed check: touching 1 GiB took over 10 s
        here with both CPUs busy right after boot (zones still growing)."""
        import time
        end = time.time() + timeout * SLOWDOWN
        while time.time() < end:
            if proc_state(self.pid) == "T":
                return
            time.sleep(0.02)
        raise AssertionError(f"workload {self.pid} did not stop")

    def cont(self):
        os.kill(self.pid, signal.SIGCONT)

    def kill(self):
        try:
            os.kill(self.pid, 9)
        except ProcessLookupError:
            pass
        self.p.wait()


def proc_state(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return None


def proc_status_kb(pid):
    """The memory lines of /proc/PID/status, in kB."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, val = line.partition(":")
            if val.strip().endswith("kB"):
                out[key] = int(val.split()[0])
    return out


def meminfo(path="/proc/meminfo"):
    """A meminfo-style file as {key: bytes} (plain counts for lines without kB)."""
    out = {}
    with open(path) as f:
        for line in f:
            if line.startswith("Node "):
                line = line.split(None, 2)[2]
            key, _, val = line.partition(":")
            parts = val.split()
            if parts:
                out[key] = int(parts[0]) * (1024 if parts[-1] == "kB" else 1)
    return out


_btf_raw = []


def kernel_has_enumerator(name):
    """Is this enumerator in the running kernel's BTF (bpftool's raw dump)?"""
    if not _btf_raw:
        _btf_raw.append(subprocess.run(["bpftool", "btf", "dump", "file",
                                        "/sys/kernel/btf/vmlinux"], capture_output=True,
                                       text=True, check=True).stdout)
    return f"'{name}' val=" in _btf_raw[0]


def within_bracket(value, a, b, rel=0.01, abs_slack=1 << 20):
    """value lies between two readings a and b of the truth, with slack
    max(rel of the larger reading, abs_slack)."""
    lo, hi = min(a, b), max(a, b)
    slack = max(rel * hi, abs_slack)
    return lo - slack <= value <= hi + slack


class MemoryCgroup:
    """A memory cgroup (v2 memory.max, or v1 memory.limit_in_bytes) removed on exit."""

    def __init__(self, name, limit_bytes):
        v2 = "/sys/fs/cgroup"
        if os.path.exists(f"{v2}/cgroup.controllers") and \
                "memory" in open(f"{v2}/cgroup.controllers").read():
            self.path, limit_file = f"{v2}/{name}", "memory.max"
        elif os.path.isdir("/sys/fs/cgroup/memory"):
            self.path, limit_file = f"/sys/fs/cgroup/memory/{name}", "memory.limit_in_bytes"
        else:
            import pytest
            pytest.skip("no memory cgroup controller on this machine")
        # the name the kernel prints (/proc/PID/cgroup, "oom_memcg=/name")
        self.rel = f"/{name}"
        self.limit = limit_bytes
        os.makedirs(self.path, exist_ok=True)
        with open(f"{self.path}/{limit_file}", "w") as f:
            f.write(str(limit_bytes))

    def run(self, cmd):
        """Start a shell command inside the cgroup, killable by the OOM killer even where
        the test runner protects itself (make test-vm)."""
        return subprocess.Popen(["sh", "-c", f"echo 0 > /proc/self/oom_score_adj; "
                                 f"echo $$ > {self.path}/cgroup.procs && exec {cmd}"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def remove(self):
        import time
        for _ in range(50):
            try:
                os.rmdir(self.path)
                return
            except OSError:
                time.sleep(0.1)


def drop_caches():
    subprocess.run(["sync"])
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3")


class TraceInstance:
    """A private tracefs instance recording one event, removed on exit."""

    def __init__(self, name, event, filt=None):
        ensure_tracefs()
        self.dir = os.path.join(TRACEFS, "instances", name)
        os.makedirs(self.dir, exist_ok=True)
        self.ev = os.path.join(self.dir, "events", event)
        if filt:
            with open(os.path.join(self.ev, "filter"), "w") as f:
                f.write(filt)
        with open(os.path.join(self.ev, "enable"), "w") as f:
            f.write("1")

    def lines(self):
        with open(os.path.join(self.dir, "trace")) as f:
            return [l for l in f if not l.startswith("#")]

    def remove(self):
        import time
        with open(os.path.join(self.ev, "enable"), "w") as f:
            f.write("0")
        for _ in range(20):
            try:
                os.rmdir(self.dir)
                return
            except OSError:
                time.sleep(0.1)


def trace_overruns(t):
    """Events a TraceInstance's ring lost (overwritten before they were read)."""
    import re
    cpus = os.path.join(t.dir, "per_cpu")
    return sum(int(re.search(r"overrun: (\d+)", open(os.path.join(cpus, c, "stats")).read())[1])
               for c in os.listdir(cpus))


class HugepageOvershoot:
    """Ask for more huge pages than memory holds: real order-9 allocation failures
    (GFP_HIGHUSER_MOVABLE|__GFP_RETRY_MAYFAIL|__GFP_NOWARN|...) without an OOM kill.
    The original count is always written back, and the memory returns."""

    def __init__(self):
        with open("/proc/sys/vm/nr_hugepages") as f:
            self.orig = f.read().strip()
        self.target = meminfo()["MemTotal"] // (2 << 20) + 256

    def run(self, while_full=None):
        """Returns the writer's pid (its comm is 'sh'). The pool is given back at once:
        while it holds all free memory, any other allocation may invoke the OOM killer
        (in a small guest, on the test runner itself). while_full: called (briefly!)
        before that, to read the state the failures saw."""
        # While the pool holds all free memory another allocation may invoke the OOM
        # killer: let it find a ballast process that is meant to die, not the test runner
        # (in a 1 GiB guest it otherwise picks pytest).
        ballast = subprocess.Popen(["sh", "-c", "echo 1000 > /proc/self/oom_score_adj && "
                                    f"exec {WORKLOAD} --anon 48 --stop"],
                                   stdout=subprocess.DEVNULL)
        try:
            while proc_state(ballast.pid) not in ("T", None):
                import time
                time.sleep(0.02)
            p = subprocess.Popen(["sh", "-c",
                                  f"echo {self.target} > /proc/sys/vm/nr_hugepages"])
            try:
                p.wait(timeout=120)
                if while_full:
                    while_full()
            finally:
                self.restore()
        finally:
            ballast.kill()
            ballast.wait()
        return p.pid

    def restore(self):
        with open("/proc/sys/vm/nr_hugepages", "w") as f:
            f.write(self.orig)


class _Readiness:
    """memscope tells $NOTIFY_SOCKET (systemd's readiness protocol) when every hook is
    attached. One abstract datagram socket for the whole run, set in the environment
    every memscope started by the tests inherits, read by a thread all the time (most
    runs are never waited for, and a full queue would turn memscope's messages away);
    messages are kept by MAINPID, since several memscope processes may run at once."""

    def __init__(self):
        import socket
        import threading
        self.name = f"@memscope-test-{os.getpid()}"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("\0" + self.name[1:])
        self.ready = {}  # pid: its start time when it said READY
        self.cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        os.environ["NOTIFY_SOCKET"] = self.name

    @staticmethod
    def started(pid):
        """The process's start time (/proc/PID/stat field 22): a pid may be used again."""
        try:
            with open(f"/proc/{pid}/stat") as f:
                return int(f.read().rsplit(")", 1)[1].split()[19])
        except (OSError, IndexError, ValueError):
            return None

    def _read(self):
        while True:
            fields = dict(l.split("=", 1) for l in
                          self.sock.recv(256).decode().splitlines() if "=" in l)
            if fields.get("READY") == "1" and fields.get("MAINPID", "").isdigit():
                pid = int(fields["MAINPID"])
                with self.cond:
                    self.ready[pid] = self.started(pid)
                    self.cond.notify_all()

    def wait(self, pid, seconds):
        start = self.started(pid)
        with self.cond:
            return self.cond.wait_for(lambda: start is not None and
                                      self.ready.get(pid) == start, seconds)


READINESS = _Readiness()


def wait_attached(p, timeout=120):
    """Wait until memscope process p says every hook is attached (ms_ready: the
    systemd readiness message). Counting its BPF links was a guess: under emulation
    one collector's load can take longer than any pause between two others."""
    import time
    end = time.time() + timeout
    while time.time() < end:
        if READINESS.wait(p.pid, 0.2):
            return
        if p.poll() is not None:
            err = p.stderr.read() if p.stderr else ""
            raise AssertionError(f"memscope exited {p.returncode} before attaching: {err}")
    raise AssertionError("memscope did not attach in time")


def scaled_mib(mib):
    """A test allocation of mib MiB, at most a quarter of this machine's memory
    (make test-vm boots a 1 GiB guest)."""
    return min(mib, meminfo()["MemTotal"] // (4 << 20))


# Time bounds assume native speed; make test-vm sets a factor for emulation.
SLOWDOWN = float(os.environ.get("MEMSCOPE_TEST_SLOWDOWN", "1"))

# Files whose page cache a test needs: not on tmpfs (make test-vm points this at a 9p share).
DATA_DIR = os.environ.get("MEMSCOPE_TEST_DATA_DIR", "/var/tmp")


@pytest.fixture(scope="module")
def data_file():
    """A 256 MiB file on a disk filesystem (tmpfs pages would be shmem, never reclaimed
    as file pages), for tests that read it through the page cache."""
    path = os.path.join(DATA_DIR, "memscope-test-data.dat")
    subprocess.run(["dd", "if=/dev/zero", f"of={path}", "bs=1M", "count=256"],
                   capture_output=True, check=True)
    yield path
    os.unlink(path)


def function_hooks_offered():
    """The function hook kinds this kernel offers and this run does not avoid, found
    without memscope (whose own 'features' would make a test a mirror): fentry when
    bpftool can load a fentry-only object, kprobe when tracefs has kprobe_events."""
    offered = set()
    ensure_tracefs()
    if os.path.exists(os.path.join(TRACEFS, "kprobe_events")):
        offered.add("kprobe")
    if fentry_loads()[0]:
        offered.add("fentry")
    return offered - set(AVOID_HOOKS)


def kills_name_victim_memcg():
    """Can memscope tell each OOM kill's victim's memory cgroup in this pass? The
    kernel's answer, found without memscope: tp_btf and raw_tp receive the victim's task
    where mark_victim passes it (the change that did also put the victim's uid in its
    record); the classic record holds no task, so there only where a classic program may
    look the victim up by pid (bpftool loads one that does)."""
    if not CLASSIC:
        ensure_tracefs()
        with open(os.path.join(TRACEFS, "events", "oom", "mark_victim", "format")) as f:
            return " uid;" in f.read()
    return bpftool_loads("task_from_pid.bpf.o", "memscope_test_task_from_pid")[0]


def bpftool_loads(name, pin_name):
    """(does bpftool load build/tests/<name>, its error): an independent load."""
    obj = os.path.join(ROOT, "build", "tests", name)
    assert os.path.exists(obj), "built by make test"
    if not os.path.ismount("/sys/fs/bpf"):
        subprocess.run(["mount", "-t", "bpf", "bpf", "/sys/fs/bpf"], check=True)
    pin = os.path.join("/sys/fs/bpf", pin_name)
    loaded = subprocess.run(["bpftool", "prog", "load", obj, pin], capture_output=True)
    if os.path.exists(pin):
        os.unlink(pin)
    return loaded.returncode == 0, loaded.stderr.decode()[-500:]


def fentry_loads():
    """(does the kernel load a fentry program, bpftool's error): an independent load."""
    return bpftool_loads("fentry_only.bpf.o", "memscope_test_fentry")


# The only reasons a test may be skipped (issue 36): the kernel under test lacks a
# feature, or this pass avoids a hook kind on purpose (MEMSCOPE_TEST_AVOID_HOOKS, make
# e2e-fallback and the guest's passes). Any other skip -- a missing package, a busy
# machine, a window that was not quiet -- fails instead: a skip must not hide a hole.
# Each entry: a pattern the skip's reason must contain, and whether it is a pass's.
# The container's tests need the package and its image: make test-deb runs them with both.
# Elsewhere they are not collected (a skip there would hide nothing, and would fail the
# skip check below).
if os.environ.get("MEMSCOPE_TEST_CONTAINER") != "1":
    collect_ignore = ["test_container.py"]


ALLOWED_SKIPS = [
    (r"no memory cgroup (controller|hierarchy) on this machine", False),
    (r"tracefs has no 'fields' option", False),
    (r"debugfs extfrag/ is not available on this kernel", False),
    (r"this kernel offers neither fentry nor kprobe", False),
    # a user with only CAP_BPF and CAP_PERFMON cannot read tracefs, which classic ones need
    (r"^classic tracepoints are (found and )?attached through tracefs", True),
    (r"^the database layer is the same with every hook", True),
    # make test-sanitize's pass: two tests that cannot run under the sanitizers
    (r"^the preload replaces free\(\): not with AddressSanitizer's allocator", False),
    (r"^LeakSanitizer at exit cannot stop threads that strace traces", False),
]


def skip_allowed(reason):
    import re
    reason = re.sub(r"^Skipped: ", "", reason)
    return any(re.search(pattern, reason) and (AVOID_HOOKS or not in_pass)
               for pattern, in_pass in ALLOWED_SKIPS)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    rep = (yield).get_result()
    if rep.skipped and not hasattr(rep, "wasxfail"):
        reason = rep.longrepr[2] if isinstance(rep.longrepr, tuple) else str(rep.longrepr)
        if not skip_allowed(reason):
            rep.outcome = "failed"
            rep.longrepr = (f"skipped for a reason that is not on conftest.ALLOWED_SKIPS "
                            f"(a kernel feature the machine lacks, a hook this pass "
                            f"avoids): {reason}")
