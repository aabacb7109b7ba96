# SPDX-License-Identifier: GPL-2.0
"""make install and make uninstall, and what they install tested as installed: the file
list, the man pages (rendered by man, every option of --help in them), bash and zsh
completion (driven in a pseudo-terminal), the units' paths."""
import fcntl
import os
import re
import select
import shutil
import subprocess
import termios
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PREFIX = "/usr/local"


def make(*args, **kw):
    return subprocess.run(["make", "--no-print-directory", "-C", ROOT, *args],
                          capture_output=True, text=True, check=True, **kw)


@pytest.fixture(scope="module")
def dest(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("destdir"))
    make("install", f"DESTDIR={d}", f"PREFIX={PREFIX}")
    return d


def binary(dest):
    return os.path.join(dest + PREFIX, "sbin", "memscope")


def commands(dest):
    """The commands `memscope --help` lists."""
    out = subprocess.run([binary(dest), "--help"], capture_output=True, text=True,
                         check=True).stdout
    block = out.split("Commands:\n")[1].split("\n\n")[0]
    return [m.group(1) for m in re.finditer(r"^  (\S+)", block, re.M) if m.group(1) != "help"]


def installed_files(root):
    return sorted(os.path.relpath(os.path.join(d, f), root)
                  for d, _, files in os.walk(root) for f in files)


def test_install_writes_exactly_its_files(dest):
    p = PREFIX.lstrip("/")
    want = [f"{p}/sbin/memscope",
            f"{p}/share/man/man8/memscope.8",
            f"{p}/share/bash-completion/completions/memscope",
            f"{p}/share/zsh/site-functions/_memscope",
            f"{p}/lib/systemd/system/memscope-exporter.service",
            f"{p}/lib/systemd/system/memscope-record.service",
            f"{p}/share/memscope/prometheus/prometheus.yml",
            f"{p}/share/memscope/prometheus/memscope-rules.yml",
            f"{p}/share/memscope/grafana/memscope.json",
            f"{p}/share/memscope/systemd/memscope-exporter-tls.conf",
            *(f"{p}/share/doc/memscope/{d}" for d in
              ("README.md", "FIELDS.md", "METRICS.md", "RECORDER.md"))]
    want += [f"{p}/share/man/man8/memscope-{c}.8" for c in commands(dest)]
    assert installed_files(dest) == sorted(want)
    assert os.stat(binary(dest)).st_mode & 0o777 == 0o755


def test_version_names_the_release():
    """-V names the release debian/changelog names, plus the commit in a checkout."""
    first = open(os.path.join(ROOT, "debian", "changelog")).readline()
    release = re.match(r"memscope \(([^)-]+)", first).group(1)
    out = subprocess.run([os.path.join(ROOT, "memscope"), "-V"], capture_output=True,
                         text=True, check=True).stdout
    assert re.fullmatch(rf"memscope {re.escape(release)}(\+g[0-9a-f]+(-dirty)?)?\n", out), out


def test_units_name_the_installed_binary(tmp_path):
    """The units and the TLS drop-in (which named /usr/local/bin, where memscope is not)."""
    make("install", f"DESTDIR={tmp_path}", "PREFIX=/opt/ms")
    for unit in ("lib/systemd/system/memscope-exporter.service",
                 "lib/systemd/system/memscope-record.service",
                 "share/memscope/systemd/memscope-exporter-tls.conf"):
        text = open(tmp_path / "opt/ms" / unit).read()
        assert re.search(r"^ExecStart=/opt/ms/sbin/memscope ", text, re.M), text
        assert "/usr/local" not in text


def test_uninstall_removes_exactly_what_it_installed(tmp_path):
    make("install", f"DESTDIR={tmp_path}", f"PREFIX={PREFIX}")
    other = tmp_path / PREFIX.lstrip("/") / "share/man/man8/other.8"
    other.write_text(".TH OTHER 8\n")
    make("uninstall", f"DESTDIR={tmp_path}", f"PREFIX={PREFIX}")
    assert installed_files(tmp_path) == [os.path.relpath(other, tmp_path)]
    # memscope's own directories are gone, shared ones stay
    assert not os.path.exists(tmp_path / "usr/local/share/memscope")
    assert not os.path.exists(tmp_path / "usr/local/share/doc/memscope")


def man_text(page):
    """A page as man renders it; any warning of groff or man fails."""
    env = dict(os.environ, MANWIDTH="200", LC_ALL="C.UTF-8")
    p = subprocess.run(["man", "--warnings", "-l", page], capture_output=True, text=True,
                       env=env)
    assert p.returncode == 0 and not p.stderr, f"{page}: {p.stderr}"
    return p.stdout


def help_options(text):
    """The option names a --help text lists under Options."""
    block = re.split(r"^(?:Global )?[Oo]ptions:\n", text, flags=re.M)[1].split("\n\n")[0]
    return set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*|-[a-zA-Z])(?=[ ,\n])", block))


def test_man_pages_render_without_warning_and_name_every_option(dest):
    mandir = os.path.join(dest + PREFIX, "share/man/man8")
    cmds = commands(dest)
    for c in [None, *cmds]:
        page = os.path.join(mandir, f"memscope-{c}.8" if c else "memscope.8")
        for lang in ("C", "C.UTF-8"):
            env = dict(os.environ, LC_ALL=lang, MANWIDTH="80")
            p = subprocess.run(["man", "--warnings", "-l", page], capture_output=True,
                               text=True, env=env)
            assert p.returncode == 0 and not p.stderr, f"{page} ({lang}): {p.stderr}"
        text = man_text(page)
        helptext = subprocess.run([binary(dest), *(["help", c] if c else ["--help"])],
                                  capture_output=True, text=True, check=True).stdout
        opts = help_options(helptext)
        assert len(opts) >= 4, helptext
        missing = [o for o in opts if not re.search(rf"(?<![\w-]){re.escape(o)}(?![\w-])",
                                                     text)]
        assert not missing, f"{page} lacks {missing}"
        if c and "JSON RECORDS" in text:
            # its records are those docs/FIELDS.md documents (help fields)
            fields = open(os.path.join(dest + PREFIX, "share/doc/memscope/FIELDS.md")).read()
            section = text.split("JSON RECORDS\n")[1].split("\nEXAMPLES\n")[0]
            types = re.findall(r"^   (\S+)$", section, re.M)
            assert types and all(f"### `{t}`" in fields for t in types), (c, types)
        elif not c:
            for cmd in cmds:
                assert f"memscope-{cmd}(8)" in text


# --- completion, driven through readline in a pseudo-terminal ----------------------

class Shell:
    """An interactive shell in a pty; line(keys) types keys and returns the edited line
    (a key bound to print it), then clears it."""

    def __init__(self, argv, setup, env):
        import pty
        self.master, slave = pty.openpty()
        # its own session with the pty as controlling terminal, as in a terminal
        self.p = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                                  cwd=env["HOME"], start_new_session=True,
                                  preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
        os.close(slave)
        self.buf = b""
        for cmd in setup:
            self.send(cmd + "\n")
        self.send("echo READY\n")
        self.expect(rb"\nREADY\r?\n")

    def send(self, s):
        os.write(self.master, s.encode())

    def expect(self, pattern, timeout=20):
        end = time.monotonic() + timeout
        while True:
            m = re.search(pattern, self.buf)
            if m:
                self.buf = self.buf[m.end():]
                return m
            left = end - time.monotonic()
            assert left > 0, f"no {pattern!r} in {self.buf[-2000:]!r}"
            r, _, _ = select.select([self.master], [], [], left)
            if r:
                self.buf += os.read(self.master, 65536)

    def line(self, keys):
        self.send(keys)
        time.sleep(0.05)  # let completion finish before the print key (order, not timing)
        self.send("\x14")  # ^T: print the line
        m = self.expect(rb"LINE<(.*?)>END")
        self.send("\x15")  # ^U: clear it
        return m.group(1).decode()

    def close(self):
        self.p.kill()
        self.p.wait()
        os.close(self.master)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A memory cgroup, a process with a known name, a file: things to complete."""
    home = tmp_path_factory.mktemp("home")
    (home / "night-2026.db").write_text("")
    sleeper = home / "mscomplzz"
    shutil.copy("/bin/sleep", sleeper)
    proc = subprocess.Popen([str(sleeper), "600"])
    cg = None
    root = memcg_root()
    if root and os.geteuid() == 0:
        cg = os.path.join(root, f"mscompl-{os.getpid()}")
        os.mkdir(cg)
    yield {"home": str(home), "pid": proc.pid, "cgroup": cg, "root": root}
    proc.kill()
    proc.wait()
    if cg:
        os.rmdir(cg)


def memcg_root():
    """As the completion (and memscope) find it: the v1 memory mount, else cgroup2's."""
    v2 = None
    for line in open("/proc/self/mounts"):
        dev, mnt, fstype, opts = line.split()[:4]
        if fstype == "cgroup" and "memory" in opts.split(","):
            return mnt
        if fstype == "cgroup2" and not v2:
            v2 = mnt
    return v2


def shell_env(home):
    return {"HOME": home, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "TERM": "dumb",
            "LC_ALL": "C.UTF-8", "INPUTRC": "/dev/null"}


@pytest.fixture(scope="module")
def bash(dest, world):
    script = os.path.join(dest + PREFIX, "share/bash-completion/completions/memscope")
    sh = Shell(["bash", "--norc", "--noprofile", "-i"],
               ["PS1='$ '", "bind 'set bell-style none'", f"source {script}",
                r"""bind -x '"\C-t": printf "LINE<%s>END\n" "$READLINE_LINE"'"""],
               shell_env(world["home"]))
    yield sh
    sh.close()


ALL = "\x1b*"  # readline's insert-completions: every candidate (sorted), spaced


def test_bash_completes_commands_options_and_values(bash):
    assert bash.line("memscope pr\t") == "memscope proc "
    assert bash.line("memscope proc --so\t") == "memscope proc --sort "
    assert bash.line("memscope proc --sort sw\t") == "memscope proc --sort swap "
    assert sorted(bash.line("memscope proc -s " + ALL).split()[3:]) == \
        sorted("rss vsz swap pte hwm anon file shmem pid".split())
    assert bash.line("memscope sys --on reclaim,ksw\t") == "memscope sys --on reclaim,kswapd "
    assert bash.line("memscope --avoid-hooks=tp_b\t") == "memscope --avoid-hooks=tp_btf "
    assert bash.line("memscope --avoid-hooks tp_btf rep\t") == \
        "memscope --avoid-hooks tp_btf report "
    assert bash.line("memscope help metr\t") == "memscope help metrics "
    assert set(bash.line("memscope cgroup -s " + ALL).split()[3:]) >= \
        {"usage", "limit_used", "working_set", "stalls"}
    assert bash.line("memscope report --db night-\t") == "memscope report --db night-2026.db "
    assert bash.line("memscope exporter --proc\t") == "memscope exporter --processes "


def file_options(dest):
    """(command, option) for every option whose --help value is a FILE or a PATH (but a
    --cgroup PATH, which completes memory cgroups)."""
    out = []
    for c in commands(dest):
        text = subprocess.run([binary(dest), "help", c], capture_output=True, text=True,
                              check=True).stdout
        out += [(c, o) for o in re.findall(r"(--[a-z-]+)[ =](?:FILE|PATH)\b", text)
                if o != "--cgroup"]
    return out


def test_every_file_option_completes_file_names(bash, zsh, dest):
    """Found in --help, not listed here: an option added later with a FILE value (the
    exporter's --web-config offered nothing) is checked too."""
    opts = file_options(dest)
    assert ("exporter", "--web-config") in opts and len(opts) >= 4, opts
    for c, o in opts:
        want = f"memscope {c} {o} night-2026.db "
        assert bash.line(f"memscope {c} {o} night-\t") == want, ("bash", c, o)
        assert zsh.line(f"memscope {c} {o} night-\t") == want, ("zsh", c, o)


def test_bash_completes_running_processes(bash, world):
    pids = bash.line("memscope proc -p 1," + ALL).split()[3:]
    assert f"1,{world['pid']}" in pids
    assert all(os.path.isdir(f"/proc/{p[2:]}") or not os.path.exists("/proc/" + p[2:])
               for p in pids)
    assert bash.line("memscope leak --comm mscompl\t") == "memscope leak --comm mscomplzz "


def test_bash_completes_memory_cgroups(bash, world):
    if not world["cgroup"]:
        pytest.skip("needs root and a memory cgroup hierarchy")
    name = os.path.basename(world["cgroup"])
    assert bash.line(f"memscope cgroup --cgroup /{name[:-2]}\t") == \
        f"memscope cgroup --cgroup /{name} "
    assert bash.line(f"memscope proc --cgroup {world['root']}/{name[:-2]}\t") == \
        f"memscope proc --cgroup {world['root']}/{name} "


@pytest.fixture(scope="module")
def zsh(dest, world):
    if not shutil.which("zsh"):
        pytest.skip("zsh is not installed")
    fdir = os.path.join(dest + PREFIX, "share/zsh/site-functions")
    sh = Shell(["zsh", "-f", "-i"],
               ["PS1='$ '", "unsetopt beep", f"fpath=({fdir} $fpath)",
                "autoload -U compinit && compinit -u -D",
                "zstyle ':completion:*' insert-tab false",
                "printbuf() { print -r -- \"LINE<$BUFFER>END\" >/dev/tty }",
                "zle -N printbuf", "bindkey '^T' printbuf"],
               shell_env(world["home"]))
    yield sh
    sh.close()


def test_zsh_completes_commands_options_and_values(zsh, world):
    assert zsh.line("memscope pr\t") == "memscope proc "
    assert zsh.line("memscope proc --so\t") == "memscope proc --sort "
    assert zsh.line("memscope proc --sort sw\t") == "memscope proc --sort swap "
    # _sequence offers the next element's comma (removed if a space is typed)
    assert zsh.line("memscope sys --on reclaim,ksw\t") == "memscope sys --on reclaim,kswapd,"
    assert zsh.line("memscope leak --comm mscompl\t") == "memscope leak --comm mscomplzz "
    assert zsh.line("memscope help metr\t") == "memscope help metrics "
    if world["cgroup"]:
        name = os.path.basename(world["cgroup"])
        assert zsh.line(f"memscope cgroup --cgroup /{name[:-2]}\t") == \
            f"memscope cgroup --cgroup /{name} "


def test_every_offered_value_is_one_the_parser_takes(bash, dest):
    """The words completion offers for an option with a known set are all accepted
    (memscope CMD --opt WORD -h exits 0), and the set is the one the man page names."""
    checked = 0
    for c in commands(dest):
        page = man_text(os.path.join(dest + PREFIX, f"share/man/man8/memscope-{c}.8"))
        for m in re.finditer(r"^\s+(?:-\w, )?(--[a-z-]+) \S+\n(?: {10,}.*\n)*? {10,}(One of|A "
                             r"comma-separated list of): (.*?)\.\n", page, re.M):
            opt, words = m.group(1), re.split(r",\s*", m.group(3).replace("\n", " "))
            offered = bash.line(f"memscope {c} {opt} {ALL}").split()[3:]
            assert sorted(offered) == sorted(w.strip() for w in words), (c, opt)
            for w in offered:
                p = subprocess.run([binary(dest), c, opt, w, "-h"], capture_output=True,
                                   text=True)
                assert p.returncode == 0, (c, opt, w, p.stderr)
                checked += 1
            p = subprocess.run([binary(dest), c, opt, "no-such-value", "-h"],
                               capture_output=True, text=True)
            assert p.returncode == 2, (c, opt, p.stdout)
    assert checked > 20
