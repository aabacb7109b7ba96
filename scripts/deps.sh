#!/bin/sh
# Install every build and test dependency of memscope from Debian's packages.
# Idempotent and quiet when everything is already present.
set -e

PKGS="make gcc clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev pkg-config
libjson-c-dev libcmocka-dev libmicrohttpd-dev libgnutls28-dev libyaml-dev libcrypt-dev
libdw-dev libsqlite3-dev sqlite3 python3 python3-pytest procps util-linux
prometheus curl openssl libclang-rt-14-dev strace python3-prometheus-client
chromium chromium-driver python3-selenium"
# scripts/deps.sh vm: also what make test-vm needs
[ "${1:-}" = vm ] && PKGS="$PKGS qemu-system-x86 busybox-static cpio e2fsprogs"
# scripts/deps.sh bench: also what make bench compares memscope with
[ "${1:-}" = bench ] && PKGS="$PKGS prometheus-node-exporter bpftrace procps atop"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "memscope: missing packages:$missing — run as root or: apt-get install$missing" >&2
	exit 1
fi
echo "installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# Packages with a service (prometheus) must not start it: the tests start what they
# need on free ports. policy-rc.d refuses every start while we install.
rcd=/usr/sbin/policy-rc.d
if [ ! -e "$rcd" ]; then
	printf '#!/bin/sh\nexit 101\n' > "$rcd" && chmod +x "$rcd"
	trap 'rm -f "$rcd"' EXIT
fi
apt-get update -qq >/dev/null
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
