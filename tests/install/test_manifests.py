# SPDX-License-Identifier: GPL-2.0
"""contrib/kubernetes against itself, the image and memscope: the DaemonSet needs no host
PID namespace and no privilege beyond CAP_BPF and CAP_PERFMON, its arguments are ones
memscope takes, and the Service and ServiceMonitor find its port."""
import os
import re
import subprocess

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
K8S = os.path.join(ROOT, "contrib", "kubernetes")


def load(name):
    with open(os.path.join(K8S, name)) as f:
        return yaml.safe_load(f)


def test_daemonset_is_unprivileged_without_host_pid():
    ds = load("daemonset.yaml")
    spec = ds["spec"]["template"]["spec"]
    assert spec["hostPID"] is False and not spec.get("hostNetwork")
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["runAsUser"] == 65534
    for c in spec["containers"]:
        sc = c["securityContext"]
        assert not sc.get("privileged") and sc["capabilities"]["drop"] == ["ALL"]
        assert sorted(sc["capabilities"]["add"]) == ["BPF", "PERFMON"], c["name"]
        mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
        for path in ("/sys/kernel/btf", "/sys/fs/cgroup"):
            assert mounts[path]["readOnly"] is True, (c["name"], path)
    for c in spec.get("initContainers", []):
        assert sorted(c["securityContext"]["capabilities"]["add"]) == ["CHOWN", "FOWNER"]
    # the image's user is the pod's
    containerfile = open(os.path.join(ROOT, "contrib", "container", "Containerfile")).read()
    assert re.search(r"^USER 65534:65534$", containerfile, re.M)


def test_container_arguments_are_ones_memscope_takes():
    """Each container's args parse (memscope ARGS -h exits 0: options are parsed in
    order, so a bad value exits 2 first)."""
    spec = load("daemonset.yaml")["spec"]["template"]["spec"]
    memscope = os.path.join(ROOT, "memscope")
    for c in spec["containers"]:
        p = subprocess.run([memscope, *c["args"], "-h"], capture_output=True, text=True)
        assert p.returncode == 0, (c["name"], p.stderr)
    p = subprocess.run([memscope, "exporter", "--listen", "nonsense", "-h"],
                       capture_output=True, text=True)
    assert p.returncode == 2


def test_service_and_monitor_reach_the_exporter_port():
    spec = load("daemonset.yaml")["spec"]
    exporter = next(c for c in spec["template"]["spec"]["containers"] if c["name"] == "exporter")
    port = exporter["ports"][0]
    listen = exporter["args"][exporter["args"].index("--listen") + 1]
    assert listen.endswith(f":{port['containerPort']}")
    labels = spec["template"]["metadata"]["labels"]
    svc = load("service.yaml")
    assert svc["spec"]["selector"].items() <= labels.items()
    assert svc["spec"]["clusterIP"] == "None"
    sp = svc["spec"]["ports"][0]
    assert sp["targetPort"] == port["name"] and sp["port"] == port["containerPort"]
    sm = load("servicemonitor.yaml")
    assert sm["spec"]["selector"]["matchLabels"].items() <= svc["metadata"]["labels"].items()
    assert [e["port"] for e in sm["spec"]["endpoints"]] == [sp["name"]]
    namespaces = {load(f)["metadata"].get("namespace") for f in
                  ("daemonset.yaml", "service.yaml", "servicemonitor.yaml")}
    assert namespaces == {load("namespace.yaml")["metadata"]["name"]}
