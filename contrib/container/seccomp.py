#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The container runtime's default seccomp profile, but for bpf(2) and perf_event_open(2):
allowed with CAP_BPF and CAP_PERFMON respectively, where the profile allows them only
with CAP_SYS_ADMIN (Debian 12's podman; newer profiles do what this does).

    seccomp.py [DEFAULT_PROFILE] > memscope-seccomp.json
    podman run --security-opt seccomp=memscope-seccomp.json ...
"""
import json
import sys

CAP_FOR = {"bpf": "CAP_BPF", "perf_event_open": "CAP_PERFMON"}

path = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/containers/seccomp.json"
with open(path) as f:
    profile = json.load(f)
rules = []
for rule in profile["syscalls"]:
    names = [n for n in rule["names"] if n not in CAP_FOR]
    if names:
        rules.append(dict(rule, names=names))
for name, cap in CAP_FOR.items():
    # with the capability that governs it in the kernel, or CAP_SYS_ADMIN as before
    for c in (cap, "CAP_SYS_ADMIN"):
        rules.append({"names": [name], "action": "SCMP_ACT_ALLOW", "includes": {"caps": [c]},
                      "excludes": {}})
profile["syscalls"] = rules
json.dump(profile, sys.stdout, indent=1)
print()
