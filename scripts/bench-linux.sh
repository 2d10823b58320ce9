#!/usr/bin/env bash
# scripts/bench-linux.sh - run one static aarch64 program as /init of
# Debian's arm64 cloud kernel (Linux 6.1) under the QEMU and flags of the
# benchmarks, and keep what it printed: the Linux side of `make bench`.
#
# Usage:
#   scripts/bench-linux.sh [--refresh] PROGRAM [ARGS...]
#   scripts/bench-linux.sh [--refresh] --boot
#   scripts/bench-linux.sh [--refresh] --kernel
#
#   PROGRAM [ARGS...]  Pack PROGRAM as /init (the project's mkinitramfs) and
#              boot it with ARGS as its arguments. Its output (stdout and
#              stderr: both are the console) is shown and written to $OUT,
#              byte for byte (the console's CR LF made LF again). Exits with
#              the program's status (128 + signal number if it was killed),
#              124 on timeout, 1 if the kernel failed otherwise.
#   --boot     Instructions from reset to /init: boots a tiny probe (built
#              here, no libc) whose first instructions read CNTVCT_EL0, and
#              prints one line, also written to $OUT (default
#              build/bench-linux/boot.txt):
#              linux boot_to_init_insns=895864066 cntfrq=1000000000 kernel=6.1.0-57-cloud-arm64 version=6.1.192-3
#   --kernel   Only fetch the kernel if needed; print package, version, path.
#   --refresh  Forget the cached kernel and fetch the newest one again.
#
# Environment:
#   OUT            file for the program's output (default
#                  build/bench-linux/stdout.txt; with --boot, boot.txt)
#   LINUX_TIMEOUT  seconds before QEMU is stopped (default 3600; 0 = none)
#   LINUX_APPEND   extra kernel parameters, e.g. loglevel=7 to see the
#                  kernel's messages (they then land in $OUT too). Linux
#                  hands a parameter it does not know (nokaslr is one) to
#                  init as an argument.
#   LINUX_SMP      CPUs (QEMU's -smp; default 1): make bench-linux boots
#                  fault_scaling with 4
#   LINUX_PACKAGE  a specific linux-image-*-cloud-arm64-unsigned package
#                  (default: the newest linux-image-6.1.0-N-cloud-arm64-unsigned)
#
# The machine: qemu-system-aarch64 -machine virt,mte=on -cpu max -smp 1 -m 1G
# -nographic -nic none -no-reboot -icount shift=0,align=off,sleep=off, kernel
# parameters "console=ttyAMA0 rdinit=/init panic=-1 loglevel=1 printk.time=0
# -- ARGS". Under -icount shift=0 the virtual counter (CNTFRQ 1 GHz on QEMU 9
# and newer) starts at 0 at reset and advances one tick per instruction.
# loglevel=1 keeps every kernel message but emergencies off the console, so
# the console is the program's output. When /init exits, Linux panics
# ("Attempted to kill init! exitcode=0x..."; the status is read from it),
# panic=-1 reboots at once and -no-reboot makes QEMU exit. A program may
# instead end with reboot(RB_POWER_OFF) ("reboot: Power down").
# Linux's counts repeat closely but not to the instruction (reset to /init:
# 895.86 million +- about 15 thousand; the benchmark's cycles +- about 50):
# the guest's random numbers differ between boots (nokaslr does not help).
#
# Fetching (first run only, or --refresh): the kernel is an arm64 package
# and this host need not be arm64. Nothing on the system changes: no
# `dpkg --add-architecture`, no change to /var/lib/apt or /var/cache/apt.
# apt-get runs with a private configuration (build/bench-linux/apt/apt.conf:
# private lists, cache and empty dpkg status; architecture arm64; the
# machine's own apt sources, so no mirror is named here):
#   apt-get -c build/bench-linux/apt/apt.conf update
#   apt-get -c build/bench-linux/apt/apt.conf download linux-image-6.1.0-N-cloud-arm64-unsigned
#   dpkg-deb --fsys-tarfile *.deb | tar -x ./boot
# then the package lists and the .deb are deleted; build/bench-linux/kernel/
# keeps vmlinuz, config and kernel.env. Needs network access to the mirrors
# (no root: the files apt writes are all under build/bench-linux/apt).
# With the kernel cached, no apt runs at all.
#
# Files: build/bench-linux/console.log (the raw console of the last run),
# build/bench-linux/init.cpio (its initramfs).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

readonly WORK=build/bench-linux
readonly KDIR=$WORK/kernel
readonly APTDIR=$WORK/apt
readonly QEMU=qemu-system-aarch64
readonly PANIC_INIT='Kernel panic - not syncing: Attempted to kill init! exitcode=0x'

usage() {
    sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0"
}
say() { printf 'bench-linux: %s\n' "$*" >&2; }
die() {
    say "$*"
    exit 1
}

refresh=0
mode=run
while (($#)); do
    case $1 in
        --refresh) refresh=1; shift ;;
        --boot) mode=boot; shift; break ;;
        --kernel) mode=kernel; shift; break ;;
        -h | --help) usage; exit 0 ;;
        -*) say "unknown option: $1"; usage >&2; exit 2 ;;
        *) break ;;
    esac
done
if [[ $mode == run ]] && (($# < 1)); then
    usage >&2
    exit 2
fi
if [[ $mode != run ]] && (($#)); then
    say "--$mode takes no arguments"
    exit 2
fi

if [[ $mode == boot ]]; then
    # The probe's own line is kept apart; $OUT gets the summary line.
    SUMMARY=${OUT:-$WORK/boot.txt}
    OUT=$WORK/boot-probe.txt
fi
OUT=${OUT:-$WORK/stdout.txt}
LINUX_TIMEOUT=${LINUX_TIMEOUT:-3600}
[[ $LINUX_TIMEOUT =~ ^[0-9]+$ ]] || die "LINUX_TIMEOUT must be a number of seconds, not '$LINUX_TIMEOUT'"
mkdir -p "$WORK"

# ---------------------------------------------------------------------------
# The kernel: build/bench-linux/kernel/{vmlinuz,config,kernel.env}.

# apt with private state: arm64 only, lists/cache/status under $APTDIR, the
# system's sources and apt.conf.d (proxies, Check-Valid-Until, ...) as they
# are. #clear drops the system's Post-Invoke hooks (PackageKit, AppStream
# refresh), which would act on the system's caches, and DEP-11 metadata.
write_apt_conf() {
    local d
    d=$(cd "$APTDIR" && pwd)
    mkdir -p "$d/lists/partial" "$d/cache/archives/partial"
    : >"$d/status"
    cat >"$d/apt.conf" <<EOF
Dir::State::Lists "$d/lists";
Dir::State::status "$d/status";
Dir::Cache "$d/cache";
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT::Architecture "arm64";
#clear APT::Architectures;
APT::Architectures { "arm64"; };
APT::Sandbox::User "root";
Acquire::IndexTargets::deb::DEP-11::DefaultEnabled "false";
#clear APT::Update::Pre-Invoke;
#clear APT::Update::Post-Invoke;
#clear APT::Update::Post-Invoke-Success;
#clear DPkg::Pre-Invoke;
#clear DPkg::Post-Invoke;
EOF
}

# newest_package: the linux-image-6.1.0-N-cloud-arm64-unsigned with the
# highest version in the (private) package lists.
newest_package() {
    local conf=$APTDIR/apt.conf names
    names=$(apt-cache -c "$conf" pkgnames linux-image-6.1.0- \
        | grep -E '^linux-image-6\.1\.0-[0-9]+-cloud-arm64-unsigned$' || true)
    [[ -n $names ]] || return 0
    # shellcheck disable=SC2086 # one word per package name
    { apt-cache -c "$conf" show --no-all-versions $names 2>/dev/null || true; } \
        | awk '/^Package: / { p = $2 } /^Version: / { print p, $2 }' | {
        local best="" best_v="" p v
        while read -r p v; do
            if [[ -z $best_v ]] || dpkg --compare-versions "$v" gt "$best_v"; then
                best=$p best_v=$v
            fi
        done
        printf '%s\n' "$best"
    }
}

fetch_kernel() {
    say "fetching the kernel (private apt state in $APTDIR; the system's apt and dpkg are not changed)"
    mkdir -p "$APTDIR"
    write_apt_conf
    local conf=$APTDIR/apt.conf
    apt-get -q -c "$conf" update >"$APTDIR/update.log" 2>&1 \
        || { cat "$APTDIR/update.log" >&2; die "apt-get update (arm64 lists) failed"; }
    local pkg=${LINUX_PACKAGE:-}
    [[ -n $pkg ]] || pkg=$(newest_package)
    [[ -n $pkg ]] || die "no linux-image-6.1.0-*-cloud-arm64-unsigned in the arm64 package lists"
    rm -rf "$APTDIR/deb" && mkdir -p "$APTDIR/deb"
    (cd "$APTDIR/deb" && apt-get -q -c ../apt.conf download "$pkg" >../download.log 2>&1) \
        || { cat "$APTDIR/download.log" >&2; die "apt-get download $pkg failed"; }
    local deb
    deb=$(ls "$APTDIR"/deb/*.deb)
    local version
    version=$(dpkg-deb -f "$deb" Version)
    rm -rf "${APTDIR:?}/boot" && mkdir -p "$APTDIR/boot"
    dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$APTDIR/boot" ./boot
    local vmlinuz
    vmlinuz=$(ls "$APTDIR"/boot/boot/vmlinuz-*)
    local release=${vmlinuz##*/vmlinuz-}
    rm -rf "$KDIR.new" && mkdir -p "$KDIR.new"
    mv "$vmlinuz" "$KDIR.new/vmlinuz"
    mv "$APTDIR/boot/boot/config-$release" "$KDIR.new/config"
    printf 'PACKAGE=%s\nVERSION=%s\nRELEASE=%s\n' "$pkg" "$version" "$release" >"$KDIR.new/kernel.env"
    rm -rf "$KDIR" && mv "$KDIR.new" "$KDIR"
    # Only the kernel is kept: the lists (~26 MB) and the .deb go.
    rm -rf "${APTDIR:?}/lists" "${APTDIR:?}/cache" "${APTDIR:?}/deb" "${APTDIR:?}/boot"
    say "fetched $pkg $version ($release)"
}

ensure_kernel() {
    local want=${LINUX_PACKAGE:-}
    if ((!refresh)) && [[ -f $KDIR/vmlinuz && -f $KDIR/kernel.env ]]; then
        local cached
        cached=$(sed -n 's/^PACKAGE=//p' "$KDIR/kernel.env")
        [[ -z $want || $want == "$cached" ]] && return 0
    fi
    # One fetch at a time (two first runs side by side).
    exec 9>"$WORK/.fetch.lock"
    flock 9
    if ((refresh)) || [[ ! -f $KDIR/vmlinuz || ! -f $KDIR/kernel.env ]] \
        || [[ -n $want && $want != "$(sed -n 's/^PACKAGE=//p' "$KDIR/kernel.env")" ]]; then
        fetch_kernel
    fi
    flock -u 9
}

ensure_kernel
PACKAGE=$(sed -n 's/^PACKAGE=//p' "$KDIR/kernel.env")
VERSION=$(sed -n 's/^VERSION=//p' "$KDIR/kernel.env")
RELEASE=$(sed -n 's/^RELEASE=//p' "$KDIR/kernel.env")
VMLINUZ=$KDIR/vmlinuz

if [[ $mode == kernel ]]; then
    printf '%s %s %s %s\n' "$PACKAGE" "$VERSION" "$RELEASE" "$VMLINUZ"
    exit 0
fi

# ---------------------------------------------------------------------------
# The boot probe (--boot): no libc; its first instructions read the counter.
build_probe() {
    local src=$WORK/boot-probe.c bin=$WORK/boot-probe
    if [[ -x $bin && $bin -nt $0 ]]; then
        printf '%s\n' "$bin"
        return
    fi
    cat >"$src" <<'EOF'
/* Written by scripts/bench-linux.sh --boot. The first instructions of /init
 * read CNTVCT_EL0 (ticks since reset; one per instruction under -icount
 * shift=0 with CNTFRQ 1 GHz), then it prints "cntvct=N cntfrq=F" and exits. */
typedef unsigned long u64;

static long sys3(long nr, long a, long b, long c)
{
    register long x8 __asm__("x8") = nr;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
    return x0;
}

static char *put_str(char *p, const char *s)
{
    while (*s)
        *p++ = *s++;
    return p;
}

static char *put_u64(char *p, u64 v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    return p;
}

__attribute__((noreturn, used)) void probe_main(u64 cntvct, u64 cntfrq)
{
    char buf[96], *p = buf;
    p = put_str(p, "cntvct=");
    p = put_u64(p, cntvct);
    p = put_str(p, " cntfrq=");
    p = put_u64(p, cntfrq);
    *p++ = '\n';
    sys3(64 /* write */, 1, (long)buf, p - buf);
    for (;;)
        sys3(93 /* exit */, 0, 0, 0);
}

__asm__(".text\n.globl _start\n_start:\n"
        "    isb\n"
        "    mrs x0, cntvct_el0\n"
        "    mrs x1, cntfrq_el0\n"
        "    b probe_main\n");
EOF
    aarch64-linux-gnu-gcc -static -nostdlib -ffreestanding -fno-stack-protector -O2 -Wall -Werror \
        -o "$bin" "$src" >&2 || die "cannot build the boot probe (aarch64-linux-gnu-gcc)"
    printf '%s\n' "$bin"
}

if [[ $mode == boot ]]; then
    probe=$(build_probe) || exit 1
    set -- "$probe"
fi

# ---------------------------------------------------------------------------
# Run PROGRAM as /init.
prog=$1
shift
[[ -f $prog ]] || die "$prog: no such file"

host=$(rustc -vV | sed -n 's/^host: //p')
mkinitramfs=target/$host/release/mkinitramfs
if [[ ! -x $mkinitramfs ]]; then
    say "building $mkinitramfs"
    cargo build -q -p mkinitramfs --release --target "$host" >&2
fi
cpio=$WORK/init.cpio
"$mkinitramfs" "$cpio" "init=$prog"

# Init arguments follow "--" on the kernel command line, split at spaces; an
# argument with spaces is passed in double quotes (the kernel removes them).
init_args=""
for a in "$@"; do
    [[ $a == *'"'* || $a == *$'\n'* ]] && die "an argument with a double quote or newline cannot reach init: $a"
    [[ -n $a && $a != *[[:space:]]* ]] || a="\"$a\""
    init_args+=" $a"
done
append="console=ttyAMA0 rdinit=/init panic=-1 loglevel=1 printk.time=0${LINUX_APPEND:+ $LINUX_APPEND} --$init_args"
LINUX_SMP=${LINUX_SMP:-1}
[[ $LINUX_SMP =~ ^[1-8]$ ]] || die "LINUX_SMP must be 1 to 8, not '$LINUX_SMP'"
qemu=("$QEMU" -machine "virt,mte=on" -cpu max -smp "$LINUX_SMP" -m 1G -nographic -nic none -no-reboot
    -icount "shift=0,align=off,sleep=off" -kernel "$VMLINUZ" -initrd "$cpio" -append "$append")

log=$WORK/console.log
say "Linux $RELEASE ($PACKAGE $VERSION), /init = $prog${*:+$(printf ' %q' "$@")}"
say "${qemu[*]:0:${#qemu[@]}-1} \"$append\""
t0=$EPOCHREALTIME
set +e
# The console, live, up to the kernel's first emergency message; the whole
# console in $log.
if ((LINUX_TIMEOUT > 0)); then
    timeout "$LINUX_TIMEOUT" "${qemu[@]}" </dev/null
else
    "${qemu[@]}" </dev/null
fi | tee "$log" | if [[ $mode == run ]]; then
    sed -n -u -e 's/\r$//' -e '/Kernel panic - not syncing: \|reboot: Power down\|reboot: Restarting system/{
        s/Kernel panic - not syncing: .*//; s/reboot: Power down.*//; s/reboot: Restarting system.*//
        /./p
        :a
        n
        ba
    }' -e p
else
    cat >/dev/null
fi
qemu_rc=${PIPESTATUS[0]}
set -e
t1=$EPOCHREALTIME
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')

# The program's output: the console up to the first of the kernel's
# end-of-run messages, CR LF back to LF.
end_at=$(grep -a -b -o -E 'Kernel panic - not syncing: |reboot: Power down|reboot: Restarting system' "$log" \
    | head -n 1 | cut -d: -f1 || true)
mkdir -p "$(dirname "$OUT")"
if [[ -n $end_at ]]; then
    head -c "$end_at" "$log" | sed 's/\r$//' >"$OUT"
else
    sed 's/\r$//' "$log" >"$OUT"
fi

status=""
if exitcode=$(grep -a -o -m 1 "${PANIC_INIT}[0-9a-f]*" "$log"); then
    exitcode=$((16#${exitcode#"$PANIC_INIT"}))
    if ((exitcode & 0x7f)); then
        status=$((128 + (exitcode & 0x7f)))
        say "/init was killed by signal $((exitcode & 0x7f)) after $secs s"
    else
        status=$(((exitcode >> 8) & 0xff))
        say "/init exited with status $status after $secs s"
    fi
elif grep -a -q 'reboot: Power down' "$log"; then
    status=0
    say "/init powered the machine off after $secs s"
elif ((qemu_rc == 124)); then
    say "timed out after $LINUX_TIMEOUT s (LINUX_TIMEOUT); the console is in $log"
    exit 124
else
    panic=$(grep -a -o -m 1 'Kernel panic - not syncing: .*' "$log" | tr -d '\r' || true)
    say "the kernel stopped without /init exiting${panic:+: $panic} (QEMU status $qemu_rc, $secs s); the console is in $log"
    exit 1
fi
if ((qemu_rc != 0)); then
    say "QEMU exited with status $qemu_rc; the console is in $log"
    exit 1
fi

if [[ $mode == boot ]]; then
    read -r cntvct cntfrq < <(sed -n 's/^cntvct=\([0-9]*\) cntfrq=\([0-9]*\)$/\1 \2/p' "$OUT") || true
    [[ -n ${cntvct:-} ]] || die "the probe printed nothing readable; the console is in $log"
    ((cntfrq == 1000000000)) || say "warning: CNTFRQ is $cntfrq Hz, not 1 GHz: ticks are not instructions (QEMU 9+ needed)"
    printf 'linux boot_to_init_insns=%s cntfrq=%s kernel=%s version=%s\n' "$cntvct" "$cntfrq" "$RELEASE" "$VERSION" \
        | tee "$SUMMARY"
    exit 0
fi
say "output in $OUT"
exit "$status"
