#!/bin/sh
# Build memscope's image with podman: build.sh PACKAGE.deb [TAG]
#   1. a Debian root file system holding the package's dependencies (mmdebstrap, from
#      this machine's apt sources; MEMSCOPE_IMG_CACHE=DIR keeps it between builds)
#   2. podman build of the Containerfile beside this script: that, plus the package
set -eu
deb=$1
tag=${2:-localhost/memscope:latest}
here=$(cd "$(dirname "$0")" && pwd)
suite=${SUITE:-bookworm}
sources=${MIRROR:-}
for s in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
	[ -n "$sources" ] || [ ! -s "$s" ] || sources=$s
done
deps=$(dpkg-deb -f "$deb" Depends | sed 's/([^)]*)//g; s/[[:space:]]//g'),libcap2-bin
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
cache=${MEMSCOPE_IMG_CACHE:-}
key=$(printf '%s %s' "$suite" "$deps" | sha256sum | cut -c1-16)
if [ -n "$cache" ] && [ -s "$cache/rootfs-$key.tar" ]; then
	cp "$cache/rootfs-$key.tar" "$ctx/rootfs.tar"
else
	# no documentation or translations: the image only runs memscope
	mmdebstrap --quiet --variant=minbase --include="$deps" \
		--dpkgopt='path-exclude=/usr/share/doc/*' \
		--dpkgopt='path-exclude=/usr/share/man/*' \
		--dpkgopt='path-exclude=/usr/share/locale/*' \
		"$suite" "$ctx/rootfs.tar" "$sources"
	if [ -n "$cache" ]; then
		mkdir -p "$cache"
		cp "$ctx/rootfs.tar" "$cache/rootfs-$key.tar"
	fi
fi
cp "$deb" "$ctx/memscope.deb"
cp "$here/Containerfile" "$ctx/"
# crun refuses a hybrid cgroup hierarchy (v1 controllers with an empty v2 beside them);
# runc takes it
rt=
if grep -q ' /sys/fs/cgroup/unified cgroup2 ' /proc/self/mounts && command -v runc >/dev/null
then
	rt="--runtime runc"
fi
# shellcheck disable=SC2086
podman $rt build --quiet --network=none --tag "$tag" --file "$ctx/Containerfile" "$ctx"
