# SPDX-License-Identifier: GPL-2.0
"""The container image (contrib/container) built with podman from the Debian package and
run as a DaemonSet runs it: host network, its own PID namespace, a non-root user with
only CAP_BPF and CAP_PERFMON, the host's /sys/kernel/btf and /sys/fs/cgroup read-only.
Its /metrics is checked against /proc/meminfo, and a memory cgroup OOM kill on the host
is counted. Needs the package (make deb), podman, mmdebstrap and root; runs where
MEMSCOPE_TEST_CONTAINER=1 says so (make test-deb's pass does)."""
import glob
import json
import os
import resource
import shutil
import signal
import subprocess
import time

import pytest

from conftest import AVOID_HOOKS, ROOT, SLOWDOWN, WORKLOAD, MemoryCgroup, meminfo, within_bracket
from test_exporter import Exporter, free_port, parse, value

IMAGE = "localhost/memscope-test:e2e"
CACHE = "/var/cache/memscope-img"  # the Debian root file system, between runs
CAP_BPF, CAP_PERFMON = 39, 38


def podman_runtime():
    """crun refuses a hybrid cgroup hierarchy (v1 controllers beside an empty v2), runc
    takes it (contrib/container/build.sh chooses the same way)."""
    hybrid = any(l.split()[1:3] == ["/sys/fs/cgroup/unified", "cgroup2"]
                 for l in open("/proc/self/mounts"))
    return ["--runtime", "runc"] if hybrid and shutil.which("runc") else []


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    if os.environ.get("MEMSCOPE_TEST_CONTAINER") != "1":
        pytest.skip("runs in make test-deb's pass (MEMSCOPE_TEST_CONTAINER=1)")
    if AVOID_HOOKS:
        pytest.skip("the image runs the package's own hook choice; one pass is enough")
    debs = sorted(glob.glob(os.path.join(ROOT, "build", "deb", "memscope_*.deb")))
    if not debs:
        pytest.skip("no package: make deb (make test-deb runs this test with it)")
    for tool in ("podman", "mmdebstrap"):
        if not shutil.which(tool):
            pytest.skip(f"{tool} is not installed (scripts/deps.sh pkg)")
    subprocess.run([os.path.join(ROOT, "contrib", "container", "build.sh"), debs[-1], IMAGE],
                   env=dict(os.environ, MEMSCOPE_IMG_CACHE=CACHE), check=True,
                   capture_output=True, text=True)
    seccomp = tmp_path_factory.mktemp("seccomp") / "memscope.json"
    with open(seccomp, "w") as f:
        subprocess.run([os.path.join(ROOT, "contrib", "container", "seccomp.py")], stdout=f,
                       check=True)
    yield {"seccomp": str(seccomp)}
    subprocess.run(["podman", "rmi", "-f", IMAGE], capture_output=True)


class Container(Exporter):
    """The exporter in the image, as the DaemonSet runs it."""

    def __init__(self, image, *args):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.name = f"memscope-e2e-{os.getpid()}-{self.port}"
        _, nofile = resource.getrlimit(resource.RLIMIT_NOFILE)
        cmd = ["podman", *podman_runtime(), "run", "--rm", "--name", self.name,
               "--network", "host", "--pid", "private",
               "--cap-drop", "all", "--cap-add", "CAP_BPF,CAP_PERFMON",
               # Debian 12's default profile allows bpf(2) and perf_event_open(2) only
               # with CAP_SYS_ADMIN; this one with CAP_BPF and CAP_PERFMON
               "--security-opt", f"seccomp={image['seccomp']}",
               # podman asks for more open files and processes than the host's hard
               # limits, which only CAP_SYS_RESOURCE may raise
               "--ulimit", f"nofile=1024:{nofile}", "--ulimit", "nproc=1024:4096",
               "-v", "/sys/kernel/btf:/sys/kernel/btf:ro",
               "-v", "/sys/fs/cgroup:/sys/fs/cgroup:ro",
               IMAGE, "exporter", "--listen", f"127.0.0.1:{self.port}", *map(str, args)]
        self.p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True)
        self.get("/")  # serving, which it does once every hook is attached

    def host_pid(self):
        out = subprocess.run(["podman", "inspect", "--format", "{{.State.Pid}}", self.name],
                             capture_output=True, text=True, check=True).stdout
        return int(out)

    def stop(self):
        subprocess.run(["podman", "stop", "--time", str(int(30 * SLOWDOWN)), self.name],
                       capture_output=True)
        out, err = self.p.communicate(timeout=60 * SLOWDOWN)
        assert self.p.returncode == 0, err
        return out, err


@pytest.fixture
def container(image):
    c = Container(image)
    yield c
    if c.p.poll() is None:
        c.stop()


def status(pid):
    with open(f"/proc/{pid}/status") as f:
        return dict(l.rstrip("\n").split(":\t", 1) for l in f if ":\t" in l)


def test_image_runs_as_non_root_with_only_bpf_and_perfmon(container):
    st = status(container.host_pid())
    assert st["Uid"].split()[:2] == ["65534", "65534"], st["Uid"]
    assert int(st["CapEff"], 16) == (1 << CAP_BPF) | (1 << CAP_PERFMON), st["CapEff"]
    assert int(st["CapBnd"], 16) == (1 << CAP_BPF) | (1 << CAP_PERFMON), st["CapBnd"]
    # its own PID namespace: memscope is process 1 there
    assert st["NSpid"].split()[-1] == "1", st["NSpid"]


def test_metrics_without_host_pid_match_the_host(container):
    """System, node and zone state come from the host's kernel, not the container's view
    of processes: they must be whole in a PID namespace of its own."""
    before = meminfo()
    samples, _ = parse(container.scrape())
    after = meminfo()
    for ours, theirs in (("free", "MemFree"), ("available", "MemAvailable"),
                         ("total", "MemTotal")):
        got = value(samples, f"memscope_system_{ours}_bytes")
        assert within_bracket(got, before[theirs], after[theirs]), (ours, got, before[theirs])
    # every NUMA node and its zones, as sysfs lists them
    nodes = sorted(int(d[4:]) for d in os.listdir("/sys/devices/system/node")
                   if d.startswith("node") and d[4:].isdigit())
    assert sorted({int(l["node"]) for l, _ in samples.get("memscope_zone_free_bytes", [])}) \
        == nodes, samples.get("memscope_zone_free_bytes")
    node_free = sum(v for _, v in samples["memscope_zone_free_bytes"])
    assert within_bracket(node_free, before["MemFree"], after["MemFree"], rel=0.02)
    assert samples.get("memscope_reclaim_scanned_bytes_total"), "no reclaim counters"
    assert value(samples, "memscope_build_info") == 1


def test_memcg_oom_kill_on_the_host_is_counted(container):
    cg = MemoryCgroup(f"memscope-test-container-{os.getpid()}", 64 << 20)
    try:
        w = cg.run(f"{WORKLOAD} --anon 256")
        assert w.wait(timeout=60 * SLOWDOWN) == -signal.SIGKILL
        want = f'memscope_memcg_oom_kills_total{{cgroup="{cg.rel}"}}'
        for _ in range(int(100 * SLOWDOWN)):  # the event reaches the exporter's count
            samples, _ = parse(container.scrape())
            kills = [v for l, v in samples.get("memscope_memcg_oom_kills_total", [])
                     if l.get("cgroup") == cg.rel]
            if kills:
                break
            time.sleep(0.1)
        assert kills == [1.0], (want, samples.get("memscope_memcg_oom_kills_total"))
    finally:
        cg.remove()


def test_stops_on_sigterm_leaving_no_bpf(image, no_bpf_leak):
    c = Container(image)
    c.scrape()
    c.stop()


def test_image_config(image):
    """Non-root by default, the exporter's port, memscope as the entry point."""
    out = subprocess.run(["podman", "image", "inspect", IMAGE], capture_output=True,
                         text=True, check=True)
    cfg = json.loads(out.stdout)[0]["Config"]
    assert cfg["User"] == "65534:65534"
    assert cfg["Entrypoint"] == ["/usr/sbin/memscope"]
    assert "39177/tcp" in cfg["ExposedPorts"]
