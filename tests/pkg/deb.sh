#!/bin/bash
# make test-deb: the Debian package tested as installed. Installs build/deb's package
# with apt, checks its files, man pages and units (disabled, systemd-analyze verify),
# runs one pass of the end-to-end suite against /usr/sbin/memscope (with the container
# image built from the same package: test_container.py), purges it and
# checks that nothing of it is left.
set -euo pipefail
cd "$(dirname "$0")/../.."
deb=$(ls build/deb/memscope_*_*.deb)
say() { echo "test-deb: $*"; }
fail() { echo "test-deb: FAILED: $*" >&2; exit 1; }

if dpkg-query -W -f='${Status}' memscope 2>/dev/null | grep -q "ok installed"; then
	fail "memscope is installed already: this test installs and purges it"
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq "./$deb" >/dev/null
trap 'apt-get purge -y -qq memscope >/dev/null 2>&1 || true' EXIT
mapfile -t files < <(dpkg -L memscope)
say "installed $(basename "$deb"): $(/usr/sbin/memscope -V)"

# what the package holds: exactly the binary, the pages, completion, units, the
# Prometheus files and the docs
want=(/usr/sbin/memscope /lib/systemd/system/memscope-exporter.service
      /lib/systemd/system/memscope-record.service
      /usr/share/bash-completion/completions/memscope
      /usr/share/zsh/vendor-completions/_memscope
      /usr/share/memscope/prometheus/prometheus.yml
      /usr/share/memscope/prometheus/memscope-rules.yml
      /usr/share/memscope/grafana/memscope.json
      /usr/share/memscope/systemd/memscope-exporter-tls.conf
      /usr/share/man/man8/memscope.8.gz)
for c in $(/usr/sbin/memscope --help | sed -n '/^Commands:/,/^$/s/^  \([a-z]\+\) .*/\1/p'); do
	[ "$c" = help ] || want+=("/usr/share/man/man8/memscope-$c.8.gz")
done
for d in README.md FIELDS.md METRICS.md RECORDER.md changelog copyright; do
	[ -e "/usr/share/doc/memscope/$d" ] && want+=("/usr/share/doc/memscope/$d") ||
		want+=("/usr/share/doc/memscope/$d.gz")
done
have=$(for f in "${files[@]}"; do [ -f "$f" ] && echo "$f"; done | sort)
diff <(printf '%s\n' "${want[@]}" | sort) <(echo "$have") ||
	fail "the package's files are not the expected ones (< expected, > packaged)"
say "file list: ${#want[@]} files, as expected"

# the pages through man's own search path, without a warning
for p in $(printf '%s\n' "${want[@]}" | sed -n 's|.*/man8/\(.*\)\.8\.gz|\1|p'); do
	out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings 8 "$p" 2>&1 >/dev/null) ||
		fail "man $p failed"
	[ -z "$out" ] || fail "man $p: $out"
done
say "man pages: rendered without a warning"

# installed disabled, not started, and valid as units (their man pages resolve)
for u in memscope-exporter memscope-record; do
	st=$(systemctl --root=/ is-enabled "$u.service" 2>&1 || true)
	[ "$st" = disabled ] || fail "$u is '$st', not disabled"
done
systemd-analyze verify /lib/systemd/system/memscope-exporter.service \
	/lib/systemd/system/memscope-record.service || fail "systemd-analyze verify"
grep -q '^ExecStart=/usr/sbin/memscope ' /usr/share/memscope/systemd/memscope-exporter-tls.conf ||
	fail "the TLS drop-in does not start /usr/sbin/memscope"
say "units: disabled, systemd-analyze verify clean; the TLS drop-in names the binary"

# bash completion as bash-completion loads it (by the command's name)
line=$(bash -c 'source /usr/share/bash-completion/completions/memscope
	COMP_WORDS=(memscope proc --so); COMP_CWORD=2; _memscope; echo "${COMPREPLY[*]}"')
[ "$line" = --sort ] || fail "bash completion offered '$line' for 'memscope proc --so'"
say "bash completion: loads from its installed place"

# MEMSCOPE_TEST_DEB_E2E: the tests to run (default all of tests/e2e; empty: none)
e2e=${MEMSCOPE_TEST_DEB_E2E-tests/e2e}
if [ -n "$e2e" ]; then
	say "the end-to-end suite ($e2e) against /usr/sbin/memscope"
	# shellcheck disable=SC2086
	MEMSCOPE_BIN=/usr/sbin/memscope MEMSCOPE_TEST_CONTAINER=1 \
		/usr/bin/python3 -m pytest -q -rs $e2e
fi

apt-get purge -y -qq memscope >/dev/null
trap - EXIT
left=$(for f in "${files[@]}"; do
	[ -e "$f" ] && [ ! -d "$f" ] && echo "$f"
	[ -d "$f" ] && [[ $f == */memscope ]] && echo "$f"
done; ls -d /var/lib/memscope /var/lib/private/memscope /var/lib/dpkg/info/memscope.* \
	/var/lib/systemd/deb-systemd-helper-enabled/*memscope* 2>/dev/null) || true
[ -z "$left" ] || fail "purge left: $left"
say "purged: nothing of the package is left"
