#!/bin/bash
# make test-repro: the build is reproducible and needs neither git nor the network.
# make dist twice gives the same tarball; the tarball unpacked in two directories of
# different names and depths builds, with no git on PATH, no network (a network
# namespace without interfaces) and /sys/kernel/btf hidden (the build must not read the
# build machine's kernel), the second time with the clock 3 days ahead
# (faketime): the binaries, man pages and completion scripts are compared byte for byte
# (diffoscope shows the difference where they are not the same).
set -euo pipefail
cd "$(dirname "$0")/../.."
say() { echo "test-repro: $*"; }
fail() { echo "test-repro: FAILED: $*" >&2; exit 1; }

make --no-print-directory -s dist >/dev/null
tarball=$(ls build/memscope-*.tar.gz)
cp "$tarball" build/dist-1.tar.gz
make --no-print-directory -s dist >/dev/null
cmp "$tarball" build/dist-1.tar.gz || fail "make dist twice: two different tarballs"
rm build/dist-1.tar.gz
say "make dist: $(basename "$tarball") twice the same"

work=$(mktemp -d /tmp/memscope-repro.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin" "$work/one" "$work/two/a/deeper/place"
printf '#!/bin/sh\necho "git must not be needed" >&2; exit 127\n' > "$work/bin/git"
chmod +x "$work/bin/git"
# no network, and no running kernel's BTF to read: an empty directory over it
offline=()
# shellcheck disable=SC2016 # expanded by that sh
[ "$(id -u)" = 0 ] && offline=(unshare --net --mount -- sh -c \
	'mount -t tmpfs none /sys/kernel/btf && exec "$0" "$@"')
build() { # directory, then a prefix command (faketime ...)
	local dir=$1
	shift
	tar -xzf "$tarball" -C "$dir"
	(cd "$dir"/memscope-* && "${offline[@]}" "$@" env PATH="$work/bin:$PATH" \
		make --no-print-directory -j2 memscope man completion > "$dir/build.log" 2>&1) ||
		{ tail -n 30 "$dir/build.log"; fail "the tarball did not build in $dir"; }
}
build "$work/one"
later=()
command -v faketime >/dev/null && later=(faketime -f +3d)
build "$work/two/a/deeper/place" "${later[@]}"
a=$(echo "$work"/one/memscope-*) b=$(echo "$work"/two/a/deeper/place/memscope-*)
n=0
for f in memscope build/man/*.8 build/completion/memscope build/completion/_memscope; do
	if ! cmp -s "$a/$f" "$b/$f"; then
		if command -v diffoscope >/dev/null; then
			diffoscope "$a/$f" "$b/$f" > build/repro.diff || true
			head -n 80 build/repro.diff
			say "the whole difference: build/repro.diff"
		fi
		fail "$f differs between the two builds"
	fi
	n=$((n + 1))
done
where="no network, no /sys/kernel/btf"
[ ${#offline[@]} = 0 ] && where="network and BTF not hidden: not root"
say "two builds (${later[*]:-same clock}; $where; no git): $n files identical, memscope $(sha256sum "$a/memscope" | cut -c1-16)"
