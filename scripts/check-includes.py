#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The layering rule for views (src/<cmd>.c), checked by make unit: a view reaches the
kernel through collectors, so it includes no BPF skeleton, no <bpf/bpf.h> and no kernel-side
header (*.bpf.h); <bpf/libbpf.h> only where it calls libbpf itself (a ring buffer it
polls); and every header of memscope's own that it includes declares something it uses.
Prints one line per offence and exits 1; nothing and 0 when the views keep the rule."""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEADER_DIRS = ["src", "src/lib", "src/collect", "src/bpf"]
LIBBPF_USE = re.compile(r"\b(?:ring_buffer|perf_buffer|bpf_object|bpf_program|bpf_map|"
                        r"bpf_link)__\w+|\blibbpf_\w+")
KEYWORDS = {"if", "for", "while", "switch", "return", "sizeof", "defined", "__attribute__",
            "format", "printf", "noreturn", "unused", "packed", "aligned", "const",
            "static", "inline", "struct", "enum", "union", "void", "int", "char", "bool",
            "offsetof", "typeof", "__typeof__"}


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def declared(path):
    """Names a header declares: macros, tags, enumerators, typedefs, functions, variables."""
    text = strip_comments(open(path).read())
    names = set(re.findall(r"^\s*#\s*define\s+(\w+)", text, re.M))
    names |= set(re.findall(r"\b(?:struct|enum|union)\s+(\w+)\s*\{", text))
    for body in re.findall(r"\benum\b[^{;]*\{(.*?)\}", text, re.S):
        names |= set(re.findall(r"(\w+)\s*(?:=[^,]*)?(?:,|$)", body.strip()))
    names |= set(re.findall(r"\btypedef\b[^;]*?\b(\w+)\s*(?:\[[^\]]*\])?\s*;", text))
    code = re.sub(r"^\s*#.*(?:\\\n.*)*", " ", text, flags=re.M)  # no preprocessor lines
    names |= set(re.findall(r"\b([A-Za-z_]\w*)\s*\(", code))
    for decl in re.findall(r"\bextern\b([^;(]*);", code):  # extern T a, b[], *c;
        names |= {re.findall(r"(\w+)\s*(?:\[[^\]]*\])?\s*$", part)[0]
                  for part in decl.split(",") if re.search(r"\w", part)}
    return names - KEYWORDS


def find_header(name):
    for d in HEADER_DIRS:
        path = os.path.join(ROOT, d, name)
        if os.path.exists(path):
            return path
    return None


def check_view(path):
    src = open(path).read()
    code = strip_comments(src)
    rel = os.path.relpath(path, ROOT)
    problems = []
    includes = re.findall(r'^\s*#\s*include\s+(?:(<)([^>]+)>|"([^"]+)")', src, re.M)
    for system, name in ((m[0], m[1] or m[2]) for m in includes):
        if name.endswith((".skel.h", ".lskel.h")):
            problems.append(f"{rel}: includes the skeleton {name}: a collector owns it")
        elif name == "bpf/bpf.h" or name.endswith(".bpf.h"):
            problems.append(f"{rel}: includes {name}: kernel-side, a collector's business")
        elif name == "bpf/libbpf.h":
            if not LIBBPF_USE.search(code):
                problems.append(f"{rel}: includes <bpf/libbpf.h> but calls no libbpf function")
        elif not system:
            header = find_header(name)
            if header and not any(re.search(rf"\b{re.escape(n)}\b", code)
                                  for n in declared(header)):
                problems.append(f"{rel}: includes \"{name}\" but uses nothing it declares")
    return problems


def main(paths):
    views = paths or sorted(os.path.join(ROOT, "src", f) for f in os.listdir(
        os.path.join(ROOT, "src")) if f.endswith(".c"))
    problems = [p for v in views for p in check_view(v)]
    for p in problems:
        print(f"check-includes: {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
