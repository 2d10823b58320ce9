#!/usr/bin/env bash
# The benchmarks on this kernel, counted in instructions.
#
#   scripts/bench.sh [CYCLES]      (default 20, or $BENCH_CYCLES)
#
# Builds the programs of user/bench/ as the C tests are built and boots
# build/kernel.bin (run `make kernel` first) under
# `-icount shift=0,align=off,sleep=off`, each program twice, failing unless
# both boots print the same numbers:
#
#   refpage_bench CYCLES   the refpage_create cover letter's microbenchmark
#   fault_paths            takes each page-fault path 256 times, for the
#                          kernel's own per-path costs
#   clock_gettime_bench    instructions per clock_gettime, gettimeofday and
#                          clock_getres call (the vDSO) and per system call
#   user_faults            what each fault path costs a program, measured
#                          from user space (the same binary runs on Linux)
#   fault_scaling          instructions per fault with 1, 2 and 4 workers
#                          (processes, threads) faulting at once, booted
#                          with -smp 4 (the same binary runs on Linux)
#
# refpage_bench and fault_paths are booted again with kasan=off (the kernel
# heap's tags off; the default is on) and scripts/bench-heap-tags writes
# docs/bench/heap-tags.md from both.
#
# `bench` on the kernel's command line has it print its measurements
# (`bench-kernel ...` lines: boot cost, each fault path's cost) at the end.
# Then writes docs/bench/kernel.txt (every measurement line, per program) and
# has scripts/bench-report turn it, with docs/bench/linux.txt when that
# exists, into docs/bench/results.md and docs/bench/chart.svg.
#
# The consoles are kept in build/bench/<program>.run1.log and .run2.log.
set -euo pipefail
cd "$(dirname "$0")/.."

t_start=$(date +%s.%N)
cycles=${1:-${BENCH_CYCLES:-20}}
if [[ ! $cycles =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: scripts/bench.sh [CYCLES]" >&2
    exit 2
fi
if [[ ! -f build/kernel.bin ]]; then
    echo "bench.sh: build/kernel.bin is missing: run make kernel first" >&2
    exit 1
fi

host=$(rustc -vV | sed -n 's/^host: //p')
mkinitramfs=target/$host/release/mkinitramfs
mkdir -p build/user/bench build/bench docs/bench
make --no-print-directory -s "$mkinitramfs"

# What a boot measured: the program's bench lines and the kernel's
# bench-kernel lines, without whatever the log put in front of them.
measurements() {
    tr -d '\r' <"$1" | sed -n -e 's/^.*\(bench-kernel .*\)$/\1/p' \
        -e '/bench-kernel /!s/^.*\(bench \(variant\|calibrate\|call\|done\|clock done\|fault \|faults done\|scaling \).*\)$/\1/p'
}

# bench_program NAME [ARGS...]: builds user/bench/NAME.c, boots it twice
# and leaves its measurements in build/bench/NAME.txt, the QEMU command in
# $qemu_text and the determinism result in $deterministic.
# With BENCH_KASAN=MODE the kernel boots with kasan=MODE and the files are
# build/bench/NAME.kasan-MODE.*. With BENCH_SMP=N QEMU has N CPUs (default
# 1). With BENCH_KERNEL_COSTS=no the kernel boots
# without `bench`: it measures nothing itself (user_faults: what a program
# sees, without the kernel's own measurement in it).
bench_program() {
    local name=$1
    shift
    local prog=build/user/bench/$name cpio=build/bench/$name.cpio limit=
    local out=$name${BENCH_KASAN:+.kasan-$BENCH_KASAN}
    aarch64-linux-gnu-gcc -static -O2 -Wall -Werror -Iuser/include -o "$prog" "user/bench/$name.c"
    "$mkinitramfs" "$cpio" "run/$name=$prog"
    # The kernel stops a program after 10 guest seconds (10^10 instructions
    # here, about 600 cycles of refpage_bench): a longer run gets more.
    if ((cycles > 200)); then
        limit="timelimit=$((cycles / 25 + 10)) "
    fi
    local bench_word="bench "
    [[ ${BENCH_KERNEL_COSTS:-yes} == no ]] && bench_word=""
    local append="loglevel=warn ${bench_word}${BENCH_KASAN:+kasan=$BENCH_KASAN }${limit}run=/run/$name${*:+ -- $*}"
    # shellcheck disable=SC2054 # the commas are QEMU option syntax
    local qemu=(qemu-system-aarch64 -machine virt,mte=on -cpu max -smp "${BENCH_SMP:-1}" -m 512M -nographic -nic none -semihosting
        -icount shift=0,align=off,sleep=off -kernel build/kernel.bin -initrd "$cpio" -append "$append")
    qemu_text="${qemu[*]:0:${#qemu[@]}-1} \"$append\""
    local run log status
    for run in 1 2; do
        echo "bench.sh: $out, boot $run of 2: $qemu_text"
        log=build/bench/$out.run$run.log
        set +e
        timeout 300 "${qemu[@]}" </dev/null >"$log" 2>&1
        status=$?
        set -e
        if ((status != 0)); then
            echo "bench.sh: $name, boot $run failed (QEMU exit status $status); its console:" >&2
            tail -n 40 "$log" >&2
            exit 1
        fi
        measurements "$log" >"build/bench/$out.run$run.txt"
    done
    if ! cmp -s "build/bench/$out.run1.txt" "build/bench/$out.run2.txt"; then
        echo "deterministic: NO - the two boots of $name measured different numbers:"
        diff "build/bench/$out.run1.txt" "build/bench/$out.run2.txt" || true
        exit 1
    fi
    if cmp -s "build/bench/$out.run1.log" "build/bench/$out.run2.log"; then
        deterministic="yes (two boots each: identical numbers, byte-identical consoles)"
    else
        deterministic="yes (two boots each: identical numbers; the consoles differ elsewhere)"
    fi
    echo "deterministic: yes ($out)"
    cp "build/bench/$out.run1.txt" "build/bench/$out.txt"
}

bench_program refpage_bench "$cycles"
tr -d '\r' <build/bench/refpage_bench.run1.log | grep -a -E '^(# |bench )' || true
grep -q '^bench done' build/bench/refpage_bench.txt || {
    echo "bench.sh: refpage_bench did not finish (no 'bench done')" >&2
    exit 1
}
micro_qemu=$qemu_text
micro_deterministic=$deterministic
bench_program fault_paths
if [[ $deterministic != "$micro_deterministic" ]]; then
    micro_deterministic="yes (two boots each: identical numbers; the consoles of one program differ elsewhere)"
fi

bench_program clock_gettime_bench
grep '^bench call=' build/bench/clock_gettime_bench.txt || true

BENCH_KERNEL_COSTS=no bench_program user_faults
grep '^bench fault ' build/bench/user_faults.txt || true
grep -q '^bench faults done' build/bench/user_faults.txt || {
    echo "bench.sh: user_faults did not finish (no 'bench faults done')" >&2
    exit 1
}

# Four CPUs, as Linux's column is measured (make bench-linux SMP=4).
BENCH_SMP=4 BENCH_KERNEL_COSTS=no bench_program fault_scaling
scaling_qemu=$qemu_text
grep '^bench scaling ' build/bench/fault_scaling.txt || true
grep -q '^bench scaling done' build/bench/fault_scaling.txt || {
    echo "bench.sh: fault_scaling did not finish (no 'bench scaling done')" >&2
    exit 1
}

kernel_lines=$(cat build/bench/refpage_bench.txt build/bench/fault_paths.txt | grep -c '^bench-kernel ' || true)
if ((kernel_lines > 0)); then
    echo "bench.sh: the kernel printed $kernel_lines bench-kernel line(s); during fault_paths:"
    grep '^bench-kernel ' build/bench/fault_paths.txt || true
else
    echo "bench.sh: no bench-kernel lines in the kernel's log (in-kernel measurements absent)"
fi

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if ! git diff --quiet HEAD -- kernel boot linker.ld user/bench 2>/dev/null; then
    commit="$commit with uncommitted changes"
fi
{
    echo "# Measurements on this kernel, written by scripts/bench.sh (scripts/bench-report reads it)"
    echo "# date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "# commit: $commit"
    echo "# qemu: $micro_qemu"
    echo "# qemu-version: $(qemu-system-aarch64 --version | head -n 1)"
    echo "# cycles: $cycles"
    echo "# deterministic: $micro_deterministic"
    echo "# program: refpage_bench"
    cat build/bench/refpage_bench.txt
    echo "# program: fault_paths"
    cat build/bench/fault_paths.txt
    echo "# program: clock_gettime_bench"
    cat build/bench/clock_gettime_bench.txt
    echo "# program: user_faults"
    cat build/bench/user_faults.txt
    echo "# qemu-scaling: $scaling_qemu"
    echo "# program: fault_scaling"
    cat build/bench/fault_scaling.txt
} >docs/bench/kernel.txt

bash scripts/bench-report

# The heap's tags (mm/kasan.rs) off, for what they cost: the same
# programs with kasan=off; docs/bench/heap-tags.md compares.
BENCH_KASAN=off bench_program refpage_bench "$cycles"
BENCH_KASAN=off bench_program fault_paths
bash scripts/bench-heap-tags
if [[ ! -f docs/bench/linux.txt ]]; then
    echo "bench.sh: no docs/bench/linux.txt: Linux columns say not measured (make bench-linux)"
fi
echo "bench.sh: took $(echo "$t_start $(date +%s.%N)" | awk '{ printf "%.1f", $2 - $1 }') s"
