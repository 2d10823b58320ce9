#!/usr/bin/env bash
# `make kselftest`: Linux 6.1's own arm64 selftests, unmodified, on this kernel.
#
#   scripts/kselftest.sh            fetch, build, run here, judge (make kselftest)
#   scripts/kselftest.sh --build    fetch and build only (scripts/kselftest-linux.sh)
#
# Fetches Debian's linux-source-6.1 package (apt-get download; nothing from
# it is committed), extracts tools/testing/selftests/arm64/{mte,signal,abi,
# tags}, seven programs of tools/testing/selftests/vm, kselftest.h and
# tools/include/nolibc, and builds every program as its Makefile does,
# static (this kernel runs static programs only):
#
#   mte/check_*      aarch64-linux-gnu-gcc -static -march=armv8.5-a+memtag -pthread
#                    check_X.c mte_common_util.c mte_helper.S
#   signal/*         every testcases/*.c, with CFLAGS -Wall -O2 -g -I<selftests>
#                    -D_GNU_SOURCE -std=gnu99 -I. and test_signals.c
#                    test_signals_utils.c testcases/testcases.c signals.S sve_helpers.c
#   abi/hwcap, abi/ptrace, abi/syscall-abi (+ syscall-abi-asm.S), tags/tags_test
#                    -Wall -O2 -g -I<selftests> (lib.mk's rule)
#   abi/tpidr2       the tree's nolibc: -fno-asynchronous-unwind-tables
#                    -fno-ident -s -Os -nostdlib -static -include nolibc.h
#                    -ffreestanding -Wall tpidr2.c -lgcc
#   vm/*             madv_populate, map_fixed_noreplace, map_populate,
#                    mlock2-tests, mremap_dontunmap, mremap_test,
#                    virtual_address_range: vm/Makefile's CFLAGS -Wall
#                    -I<linux tree>, LDLIBS -lrt -lpthread, lib.mk's rule
#                    (madv_populate with vm_util.c), and -static
#
# into build/kselftest/bin/SUITE/NAME, packs them into an initramfs and runs
# each suite in one boot with the kernel's runner (run=/SUITE), in a QEMU
# of $MEMORY (default 1G, as Linux's column; MEMORY=4G lets vm/mremap_test
# map its 2 GB regions). The console
# goes to build/kselftest/here.log; scripts/kselftest-results turns it into
# build/kselftest/here.results, one line per program and per TAP subtest.
#
# What must hold is scripts/kselftest-expected.txt: per program "pass"
# (required to pass), "skip" (required to skip: the feature is not offered
# here, and the test must skip as on a CPU without it), "later" (passes on
# Linux 6.1, expected to pass here once the work named in its reason lands:
# run and reported, a pass is announced) or "report" (fails on Linux 6.1 on
# this QEMU too). The run fails only when a required program does not end
# as required; flipping "later" to "pass" makes a program required.
#
# Finally docs/conformance.md is regenerated into build/kselftest/
# conformance.md from here.log and the committed Linux 6.1 log
# (docs/conformance/linux-6.1.log, written by make kselftest-linux);
# `make conformance` copies it to docs/.
set -uo pipefail
cd "$(dirname "$0")/.."

WORK=build/kselftest
SELFTESTS=$WORK/src/tools/testing/selftests
ARM64=$SELFTESTS/arm64
BIN=$WORK/bin
EXPECTED=${KSELFTEST_EXPECTED:-scripts/kselftest-expected.txt}
TIMEOUT=${KSELFTEST_TIMEOUT:-900}
CC=aarch64-linux-gnu-gcc
# The order programs run in: the suites as arm64/Makefile lists them.
SUITES=(mte signal abi tags vm)
# Linux 6.1's vm selftests that exercise the memory calls (issue 14).
VM_PROGS=(madv_populate map_fixed_noreplace map_populate mlock2-tests mremap_dontunmap mremap_test
    virtual_address_range)
MEMORY=${MEMORY:-1G}
MTE_PROGS=(check_prctl check_tags_inclusion check_buffer_fill check_mmap_options check_user_mem check_child_memory
    check_gcr_el1_cswitch check_ksm_options check_hugetlb_options)

fetch() {
    # abi/tpidr2.c, nolibc and vm/: extracted by this version of the script.
    [[ -f $ARM64/mte/mte_common_util.c && -f $ARM64/abi/tpidr2.c && -f $WORK/src/tools/include/nolibc/nolibc.h \
        && -f $SELFTESTS/vm/vm_util.c ]] \
        && return 0
    mkdir -p "$WORK/deb"
    local deb
    deb=$(ls "$WORK"/deb/linux-source-6.1_*.deb 2>/dev/null | head -n 1)
    if [[ -z $deb ]]; then
        # apt-get download needs package lists; refresh them once if it fails.
        (cd "$WORK/deb" && apt-get download linux-source-6.1 >/dev/null 2>&1) \
            || { apt-get update >/dev/null 2>&1 && (cd "$WORK/deb" && apt-get download linux-source-6.1 >/dev/null 2>&1); } \
            || { echo "kselftest: cannot download linux-source-6.1 (run as root: apt-get update && apt-get download linux-source-6.1)" >&2; return 1; }
        deb=$(ls "$WORK"/deb/linux-source-6.1_*.deb | head -n 1)
    fi
    echo "kselftest: extracting the arm64 and vm selftests from $(basename "$deb")"
    rm -rf "$WORK/src" && mkdir -p "$WORK/src"
    dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/src/linux-source-6.1.tar.xz \
        | tar -xJ -C "$WORK/src" --strip-components=1 --wildcards \
            'linux-source-6.1/tools/testing/selftests/arm64/mte/*' \
            'linux-source-6.1/tools/testing/selftests/arm64/signal/*' \
            'linux-source-6.1/tools/testing/selftests/arm64/abi/*' \
            'linux-source-6.1/tools/testing/selftests/arm64/tags/*' \
            'linux-source-6.1/tools/testing/selftests/vm/*' \
            'linux-source-6.1/tools/testing/selftests/kselftest.h' \
            'linux-source-6.1/tools/include/nolibc/*'
}

# cc OUT SOURCES... -- FLAGS...: compiles when OUT is older than a source;
# $LIBS (words) go after the sources, as lib.mk's $(LDLIBS).
cc() {
    local out=$1 srcs=() s
    shift
    while [[ $1 != -- ]]; do srcs+=("$1"); shift; done
    shift
    local stale=0
    for s in "${srcs[@]}"; do [[ $out -nt $s ]] || stale=1; done
    ((stale)) || return 0
    mkdir -p "$(dirname "$out")"
    # shellcheck disable=SC2086 # LIBS: words
    "$CC" "$@" "${srcs[@]}" -o "$out" ${LIBS:-}
}

build() {
    local abs out t n
    abs=$(realpath "$SELFTESTS")
    out=$(realpath -m "$BIN")
    local cflags=(-Wall -O2 -g "-I$abs/" -static)
    for t in "${MTE_PROGS[@]}"; do
        cc "$BIN/mte/$t" "$ARM64/mte/$t.c" "$ARM64/mte/mte_common_util.c" "$ARM64/mte/mte_helper.S" -- \
            -static -march=armv8.5-a+memtag -pthread "-I$abs" || return 1
    done
    local common=(test_signals.c test_signals_utils.c testcases/testcases.c signals.S sve_helpers.c)
    for t in "$ARM64"/signal/testcases/*.c; do
        n=$(basename "$t" .c)
        [[ $n == testcases ]] && continue
        (cd "$ARM64/signal" && cc "$out/signal/$n" "testcases/$n.c" "${common[@]}" -- \
            "${cflags[@]}" -D_GNU_SOURCE -std=gnu99 -I.) || return 1
    done
    cc "$BIN/abi/hwcap" "$ARM64/abi/hwcap.c" -- "${cflags[@]}" || return 1
    cc "$BIN/abi/ptrace" "$ARM64/abi/ptrace.c" -- "${cflags[@]}" || return 1
    cc "$BIN/abi/syscall-abi" "$ARM64/abi/syscall-abi.c" "$ARM64/abi/syscall-abi-asm.S" -- "${cflags[@]}" || return 1
    (cd "$ARM64/abi" && LIBS=-lgcc cc "$out/abi/tpidr2" tpidr2.c -- \
        -fno-asynchronous-unwind-tables -fno-ident -s -Os -nostdlib -static \
        -include ../../../../include/nolibc/nolibc.h -ffreestanding -Wall) || return 1
    cc "$BIN/tags/tags_test" "$ARM64/tags/tags_test.c" -- "${cflags[@]}" || return 1
    # vm/Makefile: CFLAGS = -Wall -I $(top_srcdir), LDLIBS = -lrt -lpthread;
    # "$(OUTPUT)/madv_populate: vm_util.c".
    local linux extra
    linux=$(realpath "$WORK/src")
    for t in "${VM_PROGS[@]}"; do
        extra=()
        [[ $t == madv_populate ]] && extra=("$SELFTESTS/vm/vm_util.c")
        LIBS="-lrt -lpthread" cc "$BIN/vm/$t" "$SELFTESTS/vm/$t.c" "${extra[@]}" -- -Wall -I "$linux" -static \
            || return 1
    done
}

# programs: every built program, "suite/name", in the order they run.
programs() {
    local s f
    for s in "${SUITES[@]}"; do
        for f in "$BIN/$s"/*; do
            [[ -x $f ]] && printf '%s/%s\n' "$s" "$(basename "$f")"
        done
    done
}

fetch || exit 1
build || { echo "kselftest: build failed" >&2; exit 1; }
if [[ ${1:-} == --build ]]; then
    programs
    exit 0
fi
MKINITRAMFS=target/$(rustc -vV | sed -n 's/^host: //p')/release/mkinitramfs

# One initramfs with every suite; one boot per suite (run=/SUITE).
args=()
while read -r p; do args+=("$p=$BIN/$p"); done < <(programs)
"$MKINITRAMFS" "$WORK/here.cpio" "${args[@]}" >/dev/null || exit 1
: >"$WORK/here.log"
for s in "${SUITES[@]}"; do
    echo "kselftest: running $s ($(programs | grep -c "^$s/") programs)"
    timeout --foreground "$TIMEOUT" qemu-system-aarch64 -machine virt,mte=on -cpu max -smp "${SMP:-1}" -m "$MEMORY" -nographic -nic none \
        -semihosting -kernel build/kernel.bin -initrd "$WORK/here.cpio" -append "run=/$s timelimit=300 loglevel=warn" \
        </dev/null 2>&1 | tr -d '\r' | tr -c '[:print:]\n\t' '?' >>"$WORK/here.log"
done
bash scripts/kselftest-results "$WORK/here.log" >"$WORK/here.results"

# Judge: each program's status against the table.
awk -F '\t' -v expected="$EXPECTED" '
    BEGIN {
        while ((getline line < expected) > 0) {
            if (line ~ /^[ \t]*(#|$)/) continue
            split(line, f, /[ \t]+/)
            # PROGRAM:SUBTEST-PREFIX lines give reasons only.
            if (f[1] ~ /:/) continue
            want[f[1]] = f[2]
            why = line; sub(/^[^ \t]+[ \t]+[^ \t]+[ \t]*/, "", why); reason[f[1]] = why
            order[++n] = f[1]
        }
    }
    $1 == "P" { status[$2] = $3; outcome[$2] = $4; seen[$2] = 1; progs[++m] = $2 }
    $1 == "S" { sub_n[$2]++; sub_s[$2, $4]++ }
    END {
        bad = 0
        printf "%-48s %-7s %-6s %-32s %s\n", "program", "must", "here", "subtests ok/not ok/skip", "outcome"
        for (i = 1; i <= n; i++) {
            p = order[i]; w = want[p]
            s = (p in seen) ? status[p] : "missing"
            sub_counts = (sub_n[p] ? sprintf("%d/%d/%d", sub_s[p, "pass"], sub_s[p, "fail"], sub_s[p, "skip"]) : "-")
            mark = ""
            if ((w == "pass" || w == "skip") && s != w) { mark = "  <-- REGRESSION"; bad++ }
            if (w == "later" && s == "pass") mark = "  <-- now passes: make it required (later -> pass)"
            printf "%-48s %-7s %-6s %-32s %s%s\n", p, w, s, sub_counts, outcome[p], mark
            listed[p] = 1
        }
        for (i = 1; i <= m; i++) if (!(progs[i] in listed)) {
            printf "%-48s %-7s %-6s %-32s %s  <-- not in %s\n", progs[i], "?", status[progs[i]], "", outcome[progs[i]], expected
            bad++
        }
        exit bad > 0
    }' "$WORK/here.results"
failed=$?

bash scripts/conformance-report --here "$WORK/here.log" --out "$WORK/conformance.md" \
    && { cmp -s "$WORK/conformance.md" docs/conformance.md \
        || echo "kselftest: docs/conformance.md differs from this run ($WORK/conformance.md): make conformance updates it"; }

read -r pass fail skip < <(awk '$1 == "P" { n[$3]++ } END { print n["pass"] + 0, n["fail"] + 0, n["skip"] + 0 }' \
    "$WORK/here.results")
echo
if ((failed)); then
    echo "kselftest: REGRESSION in a required program (table: $EXPECTED; log: $WORK/here.log)"
fi
echo "kselftest: $pass passed, $fail failed, $skip skipped; required: $(grep -cE '^[^#:[:space:]]+[[:space:]]+(pass|skip)([[:space:]]|$)' "$EXPECTED") programs, $( ((failed)) && echo "NOT all as required" || echo "all as required")"
exit $((failed ? 1 : 0))
