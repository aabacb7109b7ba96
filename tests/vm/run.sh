#!/usr/bin/env bash
# make test-vm: memscope's end-to-end suite inside QEMU (TCG, no KVM needed) on Debian's
# current 6.1 kernel, which has kprobes, fentry and the pre-6.2 RSS counter layout that
# the development kernel lacks. The guest shares the host's root read-only over 9p and
# a results folder read-write; the suite's exit code comes back through it.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cache=${MEMSCOPE_VM_CACHE:-/var/cache/memscope-vm}
mem=${MEMSCOPE_VM_MEM:-1G}
timeout_s=${MEMSCOPE_VM_TIMEOUT:-2700}
# Arguments go to pytest (default: the whole e2e suite, quietly), each one word as given:
# the guest's shell reads them back single-quoted, so -k "a or b" stays one expression.
[ $# -gt 0 ] || set -- -q -rs tests/e2e
quote() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }

"$top/scripts/deps.sh" vm
mkdir -p "$cache"

# Debian's current 6.1 ABI: resolved, never pinned (it moves with security updates).
resolve() { apt-cache depends linux-image-amd64 2>/dev/null |
	awk '/Depends: linux-image-[0-9]/ { print $2; exit }'; }
image=$(resolve)
if [ -z "$image" ]; then
	apt-get update -qq >/dev/null
	image=$(resolve)
fi
[ -n "$image" ] || { echo "test-vm: cannot resolve Debian's kernel package" >&2; exit 1; }
ver=${image#linux-image-}
kdir="$cache/$ver"
mods="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci 9pnet 9pnet_virtio netfs fscache 9p"
# an ext4 disk for the tests that need page cache (the guest's /var/tmp is tmpfs)
mods="$mods virtio_blk crc16 mbcache jbd2 crc32c_generic libcrc32c ext4"
have_all() {
	[ -f "$kdir/boot/vmlinuz-$ver" ] || return 1
	for m in $mods; do
		[ -n "$(find "$kdir/lib/modules" -name "$m.ko" 2>/dev/null | head -n 1)" ] || return 1
	done
}
if ! have_all; then
	deb=$(ls "$cache/${image}-unsigned"_*.deb 2>/dev/null | head -n 1 || true)
	if [ -z "$deb" ]; then
		(cd "$cache" && apt-get download -qq "${image}-unsigned" 2>/dev/null)
		deb=$(ls "$cache/${image}-unsigned"_*.deb | head -n 1)
	fi
	mkdir -p "$kdir"
	paths="./boot/vmlinuz-$ver ./boot/config-$ver"
	for m in $mods; do
		paths="$paths $(dpkg-deb --fsys-tarfile "$deb" | tar -t | grep "/$m\.ko" | head -n 1)"
	done
	# shellcheck disable=SC2086
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$kdir" $paths
fi

work=$(mktemp -d /tmp/memscope-vm.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/initrd"/{bin,dev,proc,sys,host,results,modules} "$work/results"
{ printf 'set --'; for a; do printf ' %s' "$(quote "$a")"; done; echo; } > "$work/results/args"
cp /bin/busybox "$work/initrd/bin/busybox"
for m in $mods; do
	cp "$(find "$kdir/lib/modules" -name "$m.ko" | head -n 1)" "$work/initrd/modules/"
done
cat > "$work/initrd/init" <<INIT
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
ifconfig lo 127.0.0.1 up # the exporter's tests serve and scrape on loopback
for m in $mods; do insmod /modules/\$m.ko || echo "insmod \$m failed"; done
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose hostroot /host
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,cache=loose results /results
for d in tmp run var/tmp; do mount -t tmpfs tmpfs /host/\$d; done
# A checkout under /tmp (as CI's may be) is hidden by those tmpfs: mount it again.
[ -d "/host$top/tests" ] || { mkdir -p "/host$top" &&
	mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose repo "/host$top"; }
mount -t proc proc /host/proc; mount -t sysfs sys /host/sys; mount -t devtmpfs dev /host/dev
mount -t tracefs nodev /host/sys/kernel/tracing; mount -t debugfs nodev /host/sys/kernel/debug
mount -t bpf bpf /host/sys/fs/bpf
mount -t cgroup2 cgroup2 /host/sys/fs/cgroup && echo +memory > /host/sys/fs/cgroup/cgroup.subtree_control
mkdir -p /host/var/tmp/results /host/var/tmp/disk && mount --bind /results /host/var/tmp/results
mount -t ext4 /dev/vda /host/var/tmp/disk || echo "no test disk"
ulimit -l unlimited
# The suite makes the kernel run out of memory on purpose (huge-page overshoot, memcg
# OOM): the runner and its children are not the OOM killer's to pick. Tests that need a
# victim raise their own score.
echo -1000 > /proc/self/oom_score_adj
echo "guest: \$(uname -r), \$(grep MemTotal /proc/meminfo)" > /results/guest
# Three passes: the hooks memscope prefers here, then their fallbacks (kprobe for fentry,
# raw_tp for tp_btf), then the last ones (classic tracepoints for raw_tp), which no
# kernel of ours would otherwise choose.
n=0
for avoid in "" fentry,tp_btf fentry,tp_btf,raw_tp; do
	n=\$((n + 1))
	echo "=== pass \$n: \${avoid:+--avoid-hooks }\${avoid:-preferred hooks}" >> /results/log
	chroot /host /bin/sh -c ". /var/tmp/results/args && cd $top && PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp \
		PYTHONDONTWRITEBYTECODE=1 MEMSCOPE_TEST_DATA_DIR=/var/tmp/disk \
		MEMSCOPE_TEST_SLOWDOWN=4 MEMSCOPE_TEST_EXPECT_HOOKS=fentry,kprobe \
		MEMSCOPE_TEST_AVOID_HOOKS=\$avoid \
		/usr/bin/python3 -m pytest -p no:cacheprovider \"\\\$@\" \
		>> /var/tmp/results/log 2>&1"
	echo \$? > /results/rc\$n
done
dmesg > /results/dmesg
sync
poweroff -f
INIT
chmod +x "$work/initrd/init"
(cd "$work/initrd" && find . | cpio -o -H newc --quiet | gzip -1 > "$work/initrd.gz")
truncate -s 2G "$work/disk.img"
mkfs.ext4 -q -F "$work/disk.img"

# Single-threaded TCG: with one host thread per vCPU (QEMU 7.2's default), detaching
# any sched_switch BPF program (bench/hooks' empty one, too) makes 6.1's text patching
# wait forever for a vCPU spinning on a stale int3 in __schedule; tracefs toggles alone
# do not. Measured: multi-threaded, memscope proc attach/detach cycles hung it within 30 s;
# single-threaded, 80 cycles and every full run passed. MEMSCOPE_VM_ACCEL overrides.
accel=${MEMSCOPE_VM_ACCEL:-tcg,thread=single}
# init_on_alloc=0: Debian's kernel zeroes every page it allocates; the huge-page tests
# allocate all of memory in 2 MiB pages, which under emulation trips the watchdog.
echo "test-vm: booting Debian $ver under QEMU (TCG, $mem) for the e2e suite..."
timeout "$timeout_s" qemu-system-x86_64 -accel "$accel" -nographic -no-reboot -m "$mem" -smp 2 \
	-cpu max -kernel "$kdir/boot/vmlinuz-$ver" -initrd "$work/initrd.gz" \
	-append "console=ttyS0 panic=-1 loglevel=${MEMSCOPE_VM_LOGLEVEL:-4} init_on_alloc=0" \
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
	-virtfs "local,path=$work/results,mount_tag=results,security_model=none" \
	-virtfs "local,path=$top,mount_tag=repo,security_model=none,readonly=on" \
	-drive "file=$work/disk.img,if=virtio,format=raw" \
	> "$work/console.log" 2>&1 || true
grep -iE "killed process|out of memory" "$work/results/dmesg" 2>/dev/null | tail -n 5 || true
cat "$work/results/log" 2>/dev/null || { echo "test-vm: no test log; console:"; tail -n 40 "$work/console.log"; }
rc=0
for pass in 1 2 3; do
	[ "$(cat "$work/results/rc$pass" 2>/dev/null)" = 0 ] || rc=1
done
# A kernel complaint (lockup, stall, BUG, WARNING) whose report names memscope or BPF
# code fails the run even when every test passed: memscope must not hurt the kernel it
# observes. Others are shown: the emulated guest's own slow paths under the suite's
# deliberate memory exhaustion (e.g. zeroing huge pages) can trip the watchdog.
if [ -f "$work/results/dmesg" ] && ! python3 - "$work/results/dmesg" <<'PY'
import re, sys
lines = open(sys.argv[1], errors="replace").read().splitlines()
complaint = re.compile(r"BUG:|soft lockup|hard LOCKUP|rcu: INFO|detected stalls|WARNING:")
# the comm, or frames of BPF programs, trampolines, links, maps, verifier, iterators
ours = re.compile(r"Comm: memscope|\[memscope:|bpf_prog_|bpf_trace_run|bpf_trampoline|"
                  r"bpf_link|bpf_map_|bpf_check|bpf_iter|bpf_prog_load")
starts = [i for i, l in enumerate(lines) if complaint.search(l)]
bad = 0
for n, i in enumerate(starts):
    end = starts[n + 1] if n + 1 < len(starts) else min(len(lines), i + 200)
    # a report the suite causes on purpose ends this one
    end = next((j for j in range(i + 1, end)
                if re.search(r"invoked oom-killer|page allocation failure", lines[j])), end)
    # "? name" frames are unreliable stack guesses: not evidence
    report = [l for l in lines[i:end] if not re.search(r"\]\s+\? ", l)]
    mine = any(ours.search(l) for l in report)
    bad += mine
    print(f"test-vm: guest kernel complaint ({'memscope or BPF' if mine else 'not memscope'}): "
          f"{lines[i].strip()}")
sys.exit(1 if bad else 0)
PY
then
	[ "$rc" != 0 ] || rc=1
fi
[ "$rc" = 0 ] || cp "$work/console.log" "$cache/last-failed-console.log"
echo "test-vm: the suite on $ver exited $rc"
exit "$rc"
