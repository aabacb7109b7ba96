#!/bin/bash
# make test-boot: the package under a real systemd. Boots a Debian root file system
# (mmdebstrap: systemd, curl, the package's dependencies; cached) with the package
# installed in systemd-nspawn, checks that both units are installed disabled, enables
# and starts them, waits for them to become active (Type=notify: READY=1 once every hook
# is attached), scrapes the exporter, turns TLS and basic auth on with the package's
# drop-in (as its comment says: copied to the unit's .d directory, the key readable
# through ssl-cert) and scrapes over HTTPS, reloads it, purges the package inside and
# checks that the recorder's state directory went with it.
set -euo pipefail
cd "$(dirname "$0")/../.."
deb=$(ls build/deb/memscope_*_*.deb)
say() { echo "test-boot: $*"; }
fail() { echo "test-boot: FAILED: $*" >&2; [ -s "$work/console" ] && tail -n 30 "$work/console" >&2; exit 1; }
cache=${MEMSCOPE_IMG_CACHE:-/var/cache/memscope-img}
sources=/etc/apt/sources.list.d/debian.sources
[ -s "$sources" ] || sources=/etc/apt/sources.list
deps=$(dpkg-deb -f "$deb" Depends | sed 's/([^)]*)//g; s/[[:space:]]//g'),systemd,systemd-sysv,dbus,curl,ssl-cert
key=$(echo "bookworm $deps" | sha256sum | cut -c1-16)
work=$(mktemp -d /var/tmp/memscope-boot.XXXXXX)
root=$work/root
nspawn=
cleanup() {
	if [ -n "$nspawn" ] && kill -0 "$nspawn" 2>/dev/null; then
		kill "$nspawn"; wait "$nspawn" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

if [ ! -s "$cache/boot-$key.tar" ]; then
	mkdir -p "$cache"
	mmdebstrap --quiet --variant=minbase --format=tar --include="$deps" bookworm \
		"$cache/boot-$key.tar.tmp" "$sources"
	mv "$cache/boot-$key.tar.tmp" "$cache/boot-$key.tar"
fi
mkdir "$root"
tar -xf "$cache/boot-$key.tar" -C "$root"
cp "$deb" "$root/tmp/memscope.deb"
chroot "$root" dpkg -i /tmp/memscope.deb >/dev/null
rm "$root/tmp/memscope.deb"
say "root file system with $(basename "$deb") ($SECONDS s)"

# No machined on the host to register with, nor a host systemd to make a scope: the
# container keeps the caller's cgroup. CAP_BPF and CAP_PERFMON are not in nspawn's
# default set: the units' AmbientCapabilities need them in the bounding set.
systemd-nspawn --boot --directory="$root" --machine="memscope-test-$$" --register=no \
	--keep-unit --private-network --console=passive --capability=CAP_BPF,CAP_PERFMON \
	--system-call-filter="bpf perf_event_open" > "$work/console" 2>&1 &
nspawn=$!
init=
inside() { nsenter --target "$init" --mount --uts --ipc --net --pid -- "$@"; }
for _ in $(seq 600); do
	init=$(pgrep -P "$nspawn" -x systemd || true)
	if [ -n "$init" ]; then
		st=$(inside systemctl is-system-running 2>/dev/null || true)
		[ "$st" = running ] || [ "$st" = degraded ] && break
	fi
	kill -0 "$nspawn" 2>/dev/null || fail "systemd-nspawn exited"
	sleep 0.2
done
[ "$st" = running ] || [ "$st" = degraded ] || fail "the container's systemd is '$st'"
say "booted ($SECONDS s): systemd $(inside systemctl --version | sed -n '1s/systemd \([0-9]*\).*/\1/p'), $st"

for u in memscope-exporter memscope-record; do
	st=$(inside systemctl is-enabled "$u" 2>&1 || true)
	[ "$st" = disabled ] || fail "$u is '$st' after installation, not disabled"
done
# both load BPF programs: one e2e-style run at a time on this machine
exec 9>>/tmp/memscope-e2e.lock
flock 9
inside systemctl enable --now memscope-exporter memscope-record 2>/dev/null ||
	{ inside systemctl status --no-pager memscope-exporter memscope-record >&2 || true
	  fail "systemctl enable --now failed"; }
for u in memscope-exporter memscope-record; do
	st=$(inside systemctl show -p ActiveState --value "$u")
	[ "$st" = active ] || { inside journalctl -u "$u" --no-pager | tail -n 20 >&2
				fail "$u is $st"; }
done
say "memscope-exporter and memscope-record active (READY=1 received)"
m=$(inside curl -sf http://127.0.0.1:39177/metrics) ||
	{ inside journalctl -u memscope-exporter --no-pager | tail -n 5 >&2
	  fail "the exporter does not answer"; }
grep -q '^memscope_system_available_bytes ' <<<"$m" || fail "no memscope_system_available_bytes"
grep -q '^memscope_zone_free_bytes{' <<<"$m" || fail "no memscope_zone_free_bytes"
m=$(inside curl -sf http://127.0.0.1:39177/metrics) || fail "the exporter does not answer twice"
say "the exporter answers: $(grep -c '^memscope_' <<<"$m") samples"
for u in memscope-exporter memscope-record; do
	st=$(inside systemctl show -p ActiveState --value "$u")
	[ "$st" = active ] || fail "$u is $st after the scrapes"
done

# The TLS drop-in: a self-signed certificate for 127.0.0.1, a user with a bcrypt hash
mkdir -p "$root/etc/memscope"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=memscope-test \
	-addext subjectAltName=IP:127.0.0.1 -keyout "$root/etc/memscope/web.key" \
	-out "$root/etc/memscope/web.crt" 2>/dev/null
hash=$(python3 -W ignore -c 'import crypt
print(crypt.crypt("s3cret", crypt.mksalt(crypt.METHOD_BLOWFISH)))')
printf 'tls_server_config:\n  cert_file: /etc/memscope/web.crt\n  key_file: /etc/memscope/web.key
basic_auth_users:\n  prometheus: %s\n' "$hash" > "$root/etc/memscope/web.yml"
inside chgrp ssl-cert /etc/memscope/web.key
inside chmod 640 /etc/memscope/web.key
inside mkdir -p /etc/systemd/system/memscope-exporter.service.d
inside cp /usr/share/memscope/systemd/memscope-exporter-tls.conf \
	/etc/systemd/system/memscope-exporter.service.d/tls.conf
inside systemctl daemon-reload
inside systemctl restart memscope-exporter ||
	{ inside journalctl -u memscope-exporter --no-pager | tail -n 10 >&2
	  fail "the exporter with the TLS drop-in does not start"; }
https() { inside curl -s --cacert /etc/memscope/web.crt "$@" https://127.0.0.1:39177/metrics; }
m=$(https -f -u prometheus:s3cret) || fail "no scrape over HTTPS with the password"
grep -q '^memscope_system_available_bytes ' <<<"$m" ||
	fail "HTTPS: no memscope_system_available_bytes"
code=$(https -o /dev/null -w '%{http_code}' || true)
[ "$code" = 401 ] || fail "HTTPS without the password answered $code, not 401"
inside curl -sf -o /dev/null http://127.0.0.1:39177/metrics && fail "plain HTTP answered under TLS"
pid=$(inside systemctl show -p MainPID --value memscope-exporter)
inside systemctl reload memscope-exporter || fail "systemctl reload (ExecReload) failed"
https -f -u prometheus:s3cret -o /dev/null || fail "no scrape over HTTPS after the reload"
[ "$(inside systemctl show -p MainPID --value memscope-exporter)" = "$pid" ] ||
	fail "the reload restarted the exporter"
say "the TLS drop-in: HTTPS with basic auth (401 without), plain HTTP refused, reloaded in place"
inside systemctl stop memscope-exporter memscope-record
flock -u 9
inside test -e /var/lib/private/memscope/memscope.db || fail "the recorder wrote no database"
inside dpkg --purge memscope >/dev/null
left=$(inside sh -c 'ls -d /var/lib/private/memscope /var/lib/memscope /usr/sbin/memscope \
	/etc/systemd/system/multi-user.target.wants/memscope-* 2>/dev/null' || true)
[ -z "$left" ] || fail "purge left: $left"
say "purged inside: the recorder's database and the enabled units went with it"
inside systemctl poweroff
wait "$nspawn" || true
nspawn=
