#!/usr/bin/env bash
# Runs the tests of edge/sandbox whose names contain "Cgroup" inside a
# throwaway virtual machine whose kernel has the
# memory controller in cgroup v2, for hosts that bind memory to cgroup v1
# and so skip those tests. The machine is Debian's kernel under qemu's
# software emulation, with an initramfs that holds only the static test
# binary and services/cmd/vminit as /init. It has no network and no disk.
#
# Usage: infra/vmtest/cgroup-v2.sh
# Environment: VM_CACHE (default ~/.cache/portcullis-vm) keeps the kernel
# between runs; VM_TIMEOUT (default 600) bounds the machine's run in
# seconds; VM_REQUIRED=1 fails instead of skipping when qemu or the kernel
# cannot be had.
# Needs: apt-get install -y qemu-system-x86 cpio, and Debian's package
# index for the kernel (apt-get update).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cache=${VM_CACHE:-$HOME/.cache/portcullis-vm}
timeout_seconds=${VM_TIMEOUT:-600}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# unavailable skips the run, or fails it under VM_REQUIRED=1.
unavailable() {
  echo "cgroup-v2.sh: $1; the cgroup v2 tests did not run in a VM" >&2
  if [ "${VM_REQUIRED:-0}" = 1 ]; then
    exit 1
  fi
  exit 0
}

# kernel_package prints the name of the kernel package that
# linux-image-amd64 depends on, or nothing without a package index.
kernel_package() {
  apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-/ {print $2; exit}'
}

# kernel prints the path of a Debian kernel image, downloading and
# unpacking the package of linux-image-amd64 into the cache once.
kernel() {
  local found
  found=$(ls "$cache"/boot/vmlinuz-* 2>/dev/null | head -n 1 || true)
  if [ -n "$found" ]; then
    echo "$found"
    return 0
  fi

  local package
  package=$(kernel_package)
  if [ -z "$package" ]; then
    apt-get update -qq >/dev/null 2>&1 || return 1
    package=$(kernel_package)
  fi
  [ -n "$package" ] || return 1
  mkdir -p "$cache"
  (cd "$work" && apt-get download "$package" >/dev/null 2>&1) || return 1
  dpkg-deb -x "$work"/"$package"_*.deb "$work/unpacked" || return 1
  mkdir -p "$cache/boot"
  cp "$work"/unpacked/boot/vmlinuz-* "$cache/boot/"
  ls "$cache"/boot/vmlinuz-* | head -n 1
}

command -v qemu-system-x86_64 >/dev/null || unavailable "qemu-system-x86_64 is not installed (apt-get install -y qemu-system-x86)"
command -v cpio >/dev/null || unavailable "cpio is not installed (apt-get install -y cpio)"
vmlinuz=$(kernel) || unavailable "no Debian kernel package could be downloaded (apt-get update, then retry)"

# Build the static test binary and the init program into the initramfs.
mkdir -p "$work/initramfs"
cd "$root"
CGO_ENABLED=0 go test -c -o "$work/initramfs/sandbox.test" ./edge/sandbox
CGO_ENABLED=0 go build -o "$work/initramfs/init" ./services/cmd/vminit
(cd "$work/initramfs" && find . | cpio -o -H newc --quiet | gzip -1 >"$work/initrd.gz")

# Kernel arguments after "--" reach /init as its arguments.
tests='Cgroup'
status=0
timeout "$timeout_seconds" qemu-system-x86_64 -accel tcg -smp 2 -m 2048 \
  -nographic -no-reboot -nic none \
  -kernel "$vmlinuz" -initrd "$work/initrd.gz" \
  -append "console=ttyS0 quiet panic=-1 -- /sandbox.test -test.run $tests -test.v -test.count=1" \
  >"$work/console.log" 2>&1 || status=$?
tr -d '\r' <"$work/console.log" | sed -n '/=== RUN\|--- \|PASS\|FAIL\|ok \|panic\|vminit\|_test.go:/p'

if [ "$status" -ne 0 ]; then
  echo "cgroup-v2.sh: qemu ended with status $status (124 is the timeout of ${timeout_seconds}s)" >&2
  exit 1
fi
exit_line=$(tr -d '\r' <"$work/console.log" | grep -a '^vminit: test exit status ' || true)
if [ "$exit_line" != "vminit: test exit status 0" ]; then
  echo "cgroup-v2.sh: the tests in the VM failed (${exit_line:-no exit status printed})" >&2
  exit 1
fi
if tr -d '\r' <"$work/console.log" | grep -aq -- '--- SKIP'; then
  echo "cgroup-v2.sh: a test skipped inside the VM, where every cgroup v2 test must run" >&2
  exit 1
fi
echo "cgroup-v2.sh: the cgroup v2 tests passed in the VM"
