#!/usr/bin/env bash
# `make kselftest-linux`: the programs of `make kselftest`, the same
# binaries, on Linux 6.1 (Debian's arm64 cloud kernel, fetched and cached by
# scripts/bench-linux.sh --kernel) under the same QEMU, as children of
# user/kselftest/init.c (mounts /proc, /dev/shm and /tmp, runs each program
# from its directory, prints its status). Writes the console to
# docs/conformance/linux-6.1.log (committed: scripts/conformance-report
# reads it) and regenerates docs/conformance.md from it and this kernel's
# build/kselftest/here.log (run `make kselftest` first; done here if it is
# missing). Not run by CI: one boot of a few minutes (the MTE tests take
# most of it).
#
# Environment: KSELFTEST_LINUX_TIMEOUT  seconds for the whole boot (default
# 1800); each program is stopped after 300 s. MEMORY: QEMU's -m (default 1G,
# the machine the committed log comes from; with any other size the log goes
# to build/kselftest/linux-$MEMORY.log instead, and docs/ is left alone:
# MEMORY=4G is for a look at vm/mremap_test's 2 GB cases).
set -euo pipefail
cd "$(dirname "$0")/.."

WORK=build/kselftest
TIMEOUT=${KSELFTEST_LINUX_TIMEOUT:-1800}
MEMORY=${MEMORY:-1G}
OUT=docs/conformance/linux-6.1.log
[[ $MEMORY == 1G ]] || OUT=$WORK/linux-$MEMORY.log

mapfile -t progs < <(bash scripts/kselftest.sh --build)
((${#progs[@]})) || { echo "kselftest-linux: no programs built" >&2; exit 1; }
aarch64-linux-gnu-gcc -static -O2 -Wall -Werror -o "$WORK/init" user/kselftest/init.c
printf '%s\n' "${progs[@]}" >"$WORK/linux.list"
read -r package version release vmlinuz < <(bash scripts/bench-linux.sh --kernel)

mkinitramfs=target/$(rustc -vV | sed -n 's/^host: //p')/release/mkinitramfs
args=("init=$WORK/init" "kselftest/list=$WORK/linux.list")
for p in "${progs[@]}"; do args+=("kselftest/$p=$WORK/bin/$p"); done
"$mkinitramfs" "$WORK/linux.cpio" "${args[@]}" >/dev/null

echo "kselftest-linux: Linux $release ($package $version): ${#progs[@]} programs"
# loglevel=1: only emergencies reach the console, which is then init's and
# the programs' output. The argument after "--" is init's per-program limit.
set +e
timeout --foreground "$TIMEOUT" qemu-system-aarch64 -machine virt,mte=on -cpu max -m "$MEMORY" -nographic -nic none -no-reboot \
    -kernel "$vmlinuz" -initrd "$WORK/linux.cpio" \
    -append "console=ttyAMA0 rdinit=/init panic=-1 loglevel=1 printk.time=0 -- 300" </dev/null 2>&1 \
    | tr -d '\r' | tr -c '[:print:]\n\t' '?' >"$WORK/linux.log"
rc=${PIPESTATUS[0]}
set -e
grep -q '^kselftest-init: all done' "$WORK/linux.log" \
    || { echo "kselftest-linux: the run did not finish (QEMU status $rc); console in $WORK/linux.log" >&2; exit 1; }
mkdir -p "$(dirname "$OUT")"
# From init's first line on (the firmware's and kernel's lines before it
# differ between boots).
sed -n '/^kselftest-init: /,$p' "$WORK/linux.log" | sed '/^kselftest-init: all done/q' >"$OUT"
echo "kselftest-linux: wrote $OUT"
awk -F '\t' '$1 == "P" { printf "  %-48s %s (%s)\n", $2, $3, $4 }' < <(bash scripts/kselftest-results "$OUT")

[[ $MEMORY == 1G ]] || exit 0
[[ -f $WORK/here.log ]] || bash scripts/kselftest.sh || true
bash scripts/conformance-report
