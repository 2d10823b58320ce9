#!/usr/bin/env bash
# Runs every test and ends with one line `N passed, N failed`:
#   0. scripts/check-docs: every code reference in README.md and docs/ still
#      resolves, the folder map lists every file (and the checker rejects
#      its broken fixture tree);
#   1. host unit tests of the pure logic (cargo test on the host target);
#   2. boots of the kernel under QEMU, each with a time limit so a hang fails
#      (scripts/qemu-watch: past the limit it reads the CPU's PC and LR from
#      QEMU's monitor and the failure says "kernel stuck in FUNCTION"):
#      self-tests entered at EL1 and at EL2, with mte=off, the panic report,
#      a kernel stack overflow's report, and the `make qemu` demo; the EL0
#      programs on one CPU and with four up (SMP=N for every boot but the
#      ones that name their own count). Each boot's own checks are counted, and the
#      boot itself is one more test (exit status and required log lines).
# Expects build/kernel.bin (make test builds it first).
set -uo pipefail
cd "$(dirname "$0")/.."

KERNEL_BIN=build/kernel.bin
# A boot that has not ended by then is reported as a hang, with where the kernel
# was (scripts/qemu-watch). The EL0 suite's boot runs 280-odd programs: with
# four CPUs about 70 s on an idle 2-core machine (CI of 843ce91), and past
# 150 s with the host at load 7 (four QEMUs beside it), so the limit leaves
# room for load; a real hang is still caught, only later. Each program has
# its own 10 s limit inside the boot.
TIMEOUT=${TEST_TIMEOUT:-300}
LOGDIR=$(mktemp -d)
trap 'rm -rf "$LOGDIR"' EXIT
passed=0
failed=0
skipped=0

pass() { passed=$((passed + 1)); echo "PASS $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1: $2"; }

# ---- the docs agree with the code (cheap, so first) ----
echo "== docs (scripts/check-docs: references resolve, the folder map is whole)"
if docs_out=$(perl scripts/check-docs 2>&1); then
    pass docs_references_resolve
else
    fail docs_references_resolve "scripts/check-docs found what the docs name and the tree lacks:"
    sed 's/^/    /' <<<"$docs_out"
fi
# The checker itself: a tree that breaks each of its rules once must fail
# with exactly the expected lines.
if fixture_out=$(perl scripts/check-docs --root tests/fixtures/check-docs 2>&1); then
    fail check_docs_rejects_a_broken_tree "scripts/check-docs passed tests/fixtures/check-docs"
elif diff_out=$(diff tests/fixtures/check-docs.expected - <<<"$fixture_out"); then
    pass check_docs_rejects_a_broken_tree
else
    fail check_docs_rejects_a_broken_tree "scripts/check-docs on tests/fixtures/check-docs differs from tests/fixtures/check-docs.expected (< expected, > seen):"
    sed 's/^/    /' <<<"$diff_out"
fi

# ---- the exception path keeps its per-CPU accessors inline ----
# this_cpu(), Current::get and Current::is_set are two or three instructions
# each, taken several times in every exception from EL0; left to the compiler
# they were called out of line once handle_exception grew (about 20
# instructions a fault, 7% of a zero-page read: issue 15 allows 5%). The
# kernel's symbols must hold no out-of-line copy of them.
kernel_elf=target/aarch64-unknown-none-softfloat/release/kernel
if outlined=$(aarch64-linux-gnu-nm -C "$kernel_elf" | grep -E 'cpu_local::(this_cpu|Current<T>::(get|is_set))$'); then
    fail per_cpu_accessors_are_inlined_in_the_exception_path "out of line in $kernel_elf: $outlined"
elif [[ ! -s $kernel_elf ]]; then
    fail per_cpu_accessors_are_inlined_in_the_exception_path "$kernel_elf is missing"
else
    pass per_cpu_accessors_are_inlined_in_the_exception_path
fi

# ---- host unit tests ----
host=$(rustc -vV | sed -n 's/^host: //p')
echo "== host unit tests (cargo test -p kernel -p mkinitramfs --target $host)"
if cargo test -p kernel -p mkinitramfs --target "$host" >"$LOGDIR/host.log" 2>&1; then :; fi
results=$(grep -E '^test result:' "$LOGDIR/host.log")
if [[ $(grep -c '' <<<"$results") -eq 2 ]]; then
    while read -r result; do
        [[ $result =~ ([0-9]+)\ passed\;\ ([0-9]+)\ failed ]]
        passed=$((passed + BASH_REMATCH[1]))
        failed=$((failed + BASH_REMATCH[2]))
        echo "$result"
    done <<<"$results"
    grep -E '^test .* FAILED$' "$LOGDIR/host.log" || true
else
    fail host_unit_tests_build "cargo test did not run both crates' tests; its output:"
    tail -n 40 "$LOGDIR/host.log"
fi

# ---- boots under QEMU ----
# [INITRD=archive] [BOOT_SMP=N] boot NAME MACHINE APPEND EXPECTED_EXIT PATTERN...
# Every PATTERN (grep -E) must appear in the boot log. Each boot has $SMP
# CPUs (make test SMP=N; 1 by default) unless BOOT_SMP says otherwise.
boot() {
    local name=$1 machine=$2 append=$3 want=$4
    shift 4
    local log="$LOGDIR/$name.log"
    local initrd=()
    [[ -n ${INITRD:-} ]] && initrd=(-initrd "$INITRD")
    local smp=${BOOT_SMP:-${SMP:-1}}
    echo "== $name: -machine $machine -smp $smp ${INITRD:+-initrd $INITRD }-append \"$append\""
    bash scripts/qemu-watch "$TIMEOUT" qemu-system-aarch64 -machine "$machine" -cpu max -smp "$smp" -m 512M \
        -nographic -nic none -semihosting -kernel "$KERNEL_BIN" "${initrd[@]}" -append "$append" \
        </dev/null >"$log" 2>&1
    local status=$?
    tr -d '\r' <"$log" >"$log.txt"
    grep -E '^\[.*\] (WARN|ERROR) |^FAIL ' "$log.txt" | sed 's/^/    /' || true
    # What each failed EL0 program said (its own lines and failed checks),
    # so that a failure in CI can be understood from CI's output alone.
    local prog
    for prog in $(sed -n 's|^FAIL /[a-z]*/\([^:]*\):.*|\1|p' "$log.txt" | sort -u); do
        echo "    --- what ${prog} printed:"
        grep -F -e "${prog%%--*}" "$log.txt" | grep -v '^\(PASS\|FAIL\) ' | tail -n 20 | sed 's/^/      /' || true
    done
    local counts
    counts=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log.txt" | tail -n 1)
    if [[ $counts =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed(,\ ([0-9]+)\ skipped)? ]]; then
        passed=$((passed + BASH_REMATCH[1]))
        failed=$((failed + BASH_REMATCH[2]))
        skipped=$((skipped + ${BASH_REMATCH[4]:-0}))
        echo "    $counts"
    fi
    if ((status == 124)); then
        fail "$name" "no exit within ${TIMEOUT}s (hang): $(grep -m 1 -o 'qemu-watch: .*' "$log.txt"); last lines:"
        grep -v 'qemu-watch: ' "$log.txt" | tail -n 15
        return
    fi
    if ((status != want)); then
        fail "$name" "QEMU exited $status, want $want; last lines:"
        tail -n 25 "$log.txt"
        return
    fi
    local p
    for p in "$@"; do
        if ! grep -qE -- "$p" "$log.txt"; then
            fail "$name" "log lacks /$p/; last lines:"
            tail -n 25 "$log.txt"
            return
        fi
    done
    pass "$name"
}

# The self-tests with a second CPU up (selftest/smp.rs checks it).
BOOT_SMP=2 boot selftests_pass_when_entered_at_el1 virt,mte=on "selftest" 0 \
    'entered at EL1$' 'cpu 1: MPIDR 0x1, online, entered at EL1, MTE level [23], stack 0x' 'MTE: level [23] \(MTE[23]\), tag storage present, LDGM/STGM block [0-9]+ bytes, tagging on' \
    'heap tags: on, sync mode' \
    'PASS tag_mismatch_in_el1_is_a_sync_tag_check_fault' 'PASS pan_stops_a_plain_el1_load_from_a_user_page' \
    'PASS pxn_stops_el1_executing_a_user_page' ', 0 skipped$'
# Eight CPUs, every per-CPU slot taken (MAX_CPUS): the bring-up, the IPI
# checks and CPU_ON's refusals (NoSlot before the firmware) still hold.
BOOT_SMP=8 boot selftests_pass_with_eight_cpus_up virt,mte=on "selftest" 0 \
    'cpu 7: MPIDR 0x7, online, entered at EL1' '8 of 8 CPUs up \(PSCI [0-9.]+ through HVC\)' \
    'PASS cpu_on_refusals_are_decoded_and_keep_nothing' 'PASS reschedule_ipi_reaches_each_online_cpu' \
    'PASS stop_ipi_stops_the_last_online_cpu' ', 0 failed, '
BOOT_SMP=2 boot selftests_pass_when_entered_at_el2 virt,mte=on,virtualization=on "selftest" 0 \
    'entered at EL2, dropped to EL1 with HCR_EL2.ATA set' 'tagging on' \
    'cpu 1: MPIDR 0x1, online, entered at EL2, ' '2 of 2 CPUs up \(PSCI [0-9.]+ through SMC\)' \
    'PASS tag_mismatch_in_el1_is_a_sync_tag_check_fault' 'PASS hvc_from_el1_returns_through_the_el2_stub'
boot boot_without_mte_says_tagging_is_off virt,mte=off "selftest" 0 \
    'MTE: level [01] .*no tag storage: tagging is off' 'heap tags: off \(no MTE tag storage\): heap untagged' 'SKIP stg_through_linear_map_is_read_back_by_ldg' \
    'PASS pan_stops_a_plain_el1_load_from_a_user_page' 'PASS pxn_stops_el1_executing_a_user_page'
# Four CPUs: the panic stops the three others before its report
# (panic.rs, Linux's smp_send_stop).
BOOT_SMP=4 boot kernel_fault_gives_decoded_panic_and_failure_status virt,mte=on "selftest=panic" 1 \
    'KERNEL PANIC: kernel data abort at 0x' '^  on cpu 0; other cpus: 1 stopped, 2 stopped, 3 stopped$' \
    'esr: EC 0x25 data abort from the same EL: level 3 translation fault \(DFSC 0x07\), read' \
    '^backtrace' '^  #0  0x'
# A panic while the three others spin for the kernel lock it holds,
# interrupts masked, so that none takes the Stop SGI: each sees the stop
# request in its wait (arch/aarch64/ipi.rs: stop_if_requested) and the
# report comes out whole; before, they ran on for the report's second.
BOOT_SMP=4 boot panic_stops_cpus_spinning_for_the_kernel_lock virt,mte=on "selftest=panic-lock-waiters" 1 \
    'KERNEL PANIC: deliberate panic with 3 of 3 other cpus waiting for the kernel lock' \
    '^  on cpu 0; other cpus: 1 stopped, 2 stopped, 3 stopped$' '^backtrace' '^  #0  0x'
# The kernel lock's watchdog (arch/aarch64/kernel_lock.rs): CPU 0 holds
# the lock without a yield, taking a spin lock all along, while two others
# wait. A waiter reports the holder as moving, with its last mark (the
# breadcrumb of arch/aarch64/breadcrumb.rs), and the harness
# (scripts/qemu-watch) reads every vCPU's registers on that line and
# names the holder's function and its callers; then the panic.
BOOT_SMP=3 boot kernel_lock_watchdog_names_the_holders_place virt,mte=on "selftest=kernel-lock-watchdog" 1 \
    'kernel lock watchdog: kernel lock held by cpu 0 since kernel/src/selftest/mod.rs:[0-9]+:[0-9]+ for [0-9]+ ms \(2000 ms of it with cpu [12] running\); holder moving: [0-9]+ marks while watched, the last at kernel/src/selftest/mod.rs' \
    'KERNEL PANIC: cpu [12] stuck: kernel lock held by cpu 0 since ' \
    '^qemu-watch: cpu 0 at EL1 in kernel::selftest::hold_kernel_lock_without_yielding' \
    '^qemu-watch: cpu 0   #1 0x[0-9a-f]+ kernel::selftest::deliberate_long_kernel_lock_holding'
# Where the recursion's last frame ends depends on the frames below it (the
# code's layout): its store into the guard page faults with SP either below
# the stack's bottom or still above it; the report names SP, and in the
# second case the access in the guard page (arch/aarch64/stack_overflow.rs:
# report).
boot kernel_stack_overflow_panics_from_the_guard_page virt,mte=on "selftest=stack-overflow" 1 \
    'KERNEL PANIC: kernel stack overflow: SP 0xffff[0-9a-f]+(, access at 0xffff[0-9a-f]+)? in the guard page below the stack at 0xffff[0-9a-f]+0000$' \
    'esr: EC 0x25 data abort from the same EL: level 3 translation fault \(DFSC 0x07\), write' \
    '^backtrace' '^  #0  0x'
# The kernel's own tags (mm/kasan.rs): each deliberate heap misuse is
# caught and reported rightly without a panic; one use-after-free for real
# gives the full report and the panic; async mode and kasan=off boot and
# say so; without MTE the heap is untagged.
boot heap_tag_probes_catch_each_misuse virt,mte=on "selftest=heap-tags" 0 \
    'heap tags: on, sync mode' 'PASS use_after_free_read_faults_and_names_the_freed_allocation' \
    'PASS use_after_free_write_faults_and_names_the_freed_allocation' \
    'PASS read_past_the_last_granule_faults_as_out_of_bounds' 'PASS double_free_is_refused_at_free_time' \
    'PASS free_of_a_pointer_inside_an_allocation_is_refused' 'PASS write_through_a_forged_tag_faults' \
    'BUG: KASAN: double-free' 'BUG: KASAN: invalid-free' '^6 passed, 0 failed$'
boot heap_use_after_free_gives_kasan_report_and_panic virt,mte=on "selftest=heap-use-after-free" 1 \
    'BUG: KASAN: use-after-free at pc 0xffff' 'read .*at addr 0x[0-9a-f]+' 'pointer tag 0x[0-9a-f], memory tag 0x[0-9a-f]' \
    'the address is 0 bytes inside the 64-byte allocation \[0xffff' 'state: freed' 'allocated at:' 'freed at:' \
    'KERNEL PANIC: KASAN: tag check fault' 'synchronous tag check fault \(DFSC 0x11\)' '^  #0  0x'
boot heap_use_after_free_in_async_mode_is_found_in_tfsr_el1 virt,mte=on "selftest=heap-use-after-free kasan=async" 1 \
    'heap tags: on, async mode' \
    'BUG: KASAN: invalid-access \(asynchronous tag check fault, TFSR_EL1.TF1\) found at the end of the deliberate' \
    'KERNEL PANIC: KASAN: asynchronous tag check fault in the kernel'
# Two CPUs, so that selftest/smp.rs's second-CPU check runs (it skips on one).
BOOT_SMP=2 boot selftests_pass_with_heap_tags_async virt,mte=on "selftest kasan=async" 0 \
    'heap tags: on, async mode' ', 0 failed, 0 skipped$'
BOOT_SMP=2 boot selftests_pass_with_heap_tags_off virt,mte=on "selftest kasan=off" 0 \
    'heap tags: off \(kasan=off\): heap untagged' ', 0 failed, 0 skipped$'
INITRD=build/initramfs-demo.cpio boot demo_boots_and_runs_c_and_rust_programs virt,mte=on "" 0 \
    '^refpage kernel ' 'MTE: level' 'frames: [0-9]+ free of [0-9]+' \
    '/demo/tour_c: exit 0' '/demo/tour_rust: exit 0'

# The EL0 test programs (user/tests): the kernel's runner prints one line per
# program and its own `N passed, N failed`, counted above. Where qemu-user
# (make user-test-linux) reports less than Linux, a test accepts both and
# prints what it saw; the patterns hold this kernel to Linux's answer.
INITRD=build/initramfs-tests.cpio boot el0_test_programs_end_as_their_names_say virt,mte=on "run=/tests" 0 \
    '^PASS /tests/hello: exit 0' '^PASS /tests/kernel_load--sigsegv: killed by SIGSEGV' \
    'pid [0-9]+ \(/tests/kernel_load--sigsegv\): SIGSEGV SEGV_MAPERR at 0xffff800000000000, pc 0x[0-9a-f]+: EC 0x24 data abort from a lower EL' \
    '^PASS /tests/spin--timeout: stopped by the [0-9]+ ms time limit' \
    '^PASS /tests/elf_wrong_machine--refused: refused by the loader: machine 62 is not AArch64' \
    '^PASS /tests/elf_segment_in_kernel_half--refused: refused by the loader: segment [0-9]+ lies outside' \
    '^PASS /tests/elf_headers_cut--refused: refused by the loader: truncated' \
    '^PASS /tests/elf_truncated--sigbus: killed by SIGBUS' \
    '^PASS /tests/elf_segment_past_end: exit 0' \
    '^PASS /tests/elf_segment_past_end_pages_raise_sigbus: exit 0' \
    'load from the linear map 0xffff000040000000 -> SIGSEGV SEGV_MAPERR, si_addr 0xffff000040000000$' \
    'load from tagged 0x5aff800000000000 -> SIGSEGV SEGV_MAPERR, si_addr 0x5aff800000000000$' \
    'isolation_stack_overflow_guard_gap: .* -> SIGSEGV SEGV_MAPERR$' \
    'counter_el0_cntvct_cntfrq: CNTFRQ_EL0 [1-9][0-9]* Hz' \
    'vdso_symbols_linux_2_6_39: \[vdso\] r-x and \[vvar\] r--' \
    'vdso_clock_gettime_runs_at_el0: six clocks and gettimeofday faulted at EL0 in the vDSO' \
    'vdso_vvar_timens_page_sigbus: data page seq [0-9]+; a read of the time-namespace page: SIGBUS BUS_ADRERR' \
    ' 0 failed$'
# With 8-bit ASIDs (asid_bits=8): the suite's address spaces go through
# ASID rollovers (fork_bomb_eagain alone through several).
INITRD=build/initramfs-tests.cpio boot el0_test_programs_pass_when_entered_at_el2 virt,mte=on,virtualization=on \
    "asid_bits=8 run=/tests" 0 'ASIDs limited to 8 bits' ' 0 failed$'
# Four CPUs up, each running tasks from the shared run queue under the big
# kernel lock (docs/smp.md): every EL0 program passes, the tests of threads
# on several CPUs see four, and every CPU ran tasks. With 8-bit ASIDs too,
# so that rollovers come while threads run at EL0 on other CPUs (the
# allocator's reserved ASIDs and per-CPU pending flushes, mmu/asid.rs).
INITRD=build/initramfs-tests.cpio BOOT_SMP=4 boot el0_test_programs_pass_with_four_cpus_up virt,mte=on "asid_bits=8 run=/tests" 0 \
    'ASIDs limited to 8 bits' 'cpu 0: MPIDR 0x0 \(boot\), entered at EL1' 'cpu 1: MPIDR 0x1, online' 'cpu 2: MPIDR 0x2, online' \
    'cpu 3: MPIDR 0x3, online' '4 of 4 CPUs up \(PSCI [0-9.]+ through HVC\); each runs tasks from the shared run queue' \
    'sched_setaffinity_runs_each_thread_on_its_cpu: 4 threads, each on its own CPU' \
    'cpu_count_same_in_cpuinfo_sysconf_and_affinity: affinity 4, /proc/cpuinfo 4, _SC_NPROCESSORS_CONF 4, _SC_NPROCESSORS_ONLN 4' \
    'asid_rollovers_leave_each_process_its_own_memory_on_every_cpu: 300 processes of 2 threads on 4 CPUs' \
    'memory_calls_elsewhere_never_change_a_writers_pages: 3 writers, 24 forks' \
    'race_faults_beside_cpu0_in_system_calls_keep_every_write: [0-9]+ pages on 3 CPUs beside' \
    'tasks ran on 4 of 4 CPUs' ' 0 failed$'
# The system-call fuzzer (20,000 calls of seed 1) in that boot: what
# `make test` runs of the fuzzer with four CPUs (docs/smp.md, "Tests").
if grep -q '^PASS /tests/syscall_fuzz: exit 0' "$LOGDIR/el0_test_programs_pass_with_four_cpus_up.log.txt" 2>/dev/null; then
    pass syscall_fuzz_passes_with_four_cpus_up
else
    fail syscall_fuzz_passes_with_four_cpus_up "no 'PASS /tests/syscall_fuzz: exit 0' in the SMP=4 boot's log"
fi

# The fault path's fast side (docs/smp.md, section 1): in that boot, page
# faults were resolved without the big kernel lock while another CPU held
# it (race_faults_beside_cpu0_in_system_calls_keep_every_write makes sure
# of some: threads and processes faulting on CPUs 1-3 while CPU 0 makes
# system calls). The runner's closing line counts them.
fast_line=$(tr -d '\r' <"$LOGDIR/el0_test_programs_pass_with_four_cpus_up.log.txt" 2>/dev/null |
    grep -oE 'faults resolved without the kernel lock: .*' | tail -n 1)
if [[ $fast_line =~ [[:space:]]([1-9][0-9]*)\ of\ them\ while\ another\ CPU\ held\ it ]]; then
    pass faults_resolve_while_another_cpu_holds_the_kernel_lock
else
    fail faults_resolve_while_another_cpu_holds_the_kernel_lock "none in the SMP=4 boot's log: '${fast_line:-no such line}'"
fi

# make run: a program's exit status becomes QEMU's (scripts/run-program).
run_program() {
    local name=$1 want=$2 pattern=$3
    shift 3
    echo "== $name: scripts/run-program $*"
    # run-program watches QEMU itself (scripts/qemu-watch: the program's
    # time limit and a margin), and says where the kernel is stuck.
    bash scripts/run-program --prebuilt "$@" >"$LOGDIR/$name.log" 2>&1
    local status=$?
    if ((status != want)); then
        fail "$name" "exit status $status, want $want; output:"
        tail -n 15 "$LOGDIR/$name.log"
    elif ! tr -d '\r' <"$LOGDIR/$name.log" | grep -qE -- "$pattern"; then
        fail "$name" "output lacks /$pattern/:"
        tail -n 15 "$LOGDIR/$name.log"
    else
        pass "$name"
    fi
}
# The soak under -icount, where its timing check is instructions and cannot
# flake: 10,000 fork/map/exit cycles, the last 1,000 within 5% of the first.
make --no-print-directory -s build/initramfs-run.cpio PROG=build/user/tests/soak_refpage_processes >/dev/null
ICOUNT=1 run_program soak_costs_the_same_after_10000_process_cycles 0 \
    'instructions per cycle over 10000 cycles: first 1000 cycles [0-9]+, last 1000 cycles [0-9]+' \
    build/user/tests/soak_refpage_processes
# Fork's cost under -icount: the last 200 of 1,200 forks within 1.25 times
# the first 200 (the runner once walked the process table at every switch).
make --no-print-directory -s build/initramfs-run.cpio PROG=build/user/tests/fork_costs_the_same_with_many_processes >/dev/null
ICOUNT=1 run_program fork_costs_the_same_with_many_processes_under_icount 0 \
    'the last forks cost [0-9.]+ times the first' build/user/tests/fork_costs_the_same_with_many_processes
# A kill and reap's cost under -icount: with 1,000 processes alive within
# 1.3 times its cost with 20 (kill and exit once walked the table).
make --no-print-directory -s build/initramfs-run.cpio PROG=build/user/tests/kill_and_exit_cost_the_same_with_many_processes >/dev/null
ICOUNT=1 run_program kill_and_exit_cost_the_same_with_many_processes_under_icount 0 \
    'a kill and reap costs [0-9.]+ times' build/user/tests/kill_and_exit_cost_the_same_with_many_processes
# The scheduler's timing rules on four CPUs under -icount, where time is
# instructions and a loaded host cannot blur a millisecond (docs/smp.md,
# section 1): each CPU's timer ends the sleeps begun on it, and an idle CPU
# is kicked for a queued task sched_setaffinity moves to it.
for prog in nanosleep_wakes_on_time_while_cpu0_is_busy sched_setaffinity_moves_a_queued_thread_to_an_idle_cpu_at_once; do
    make --no-print-directory -s build/initramfs-run.cpio PROG=build/user/tests/$prog >/dev/null
    SMP=4 ICOUNT=1 run_program "${prog}_under_icount" 0 '(sleeps of 1 ms|a move of a queued thread) took' \
        build/user/tests/$prog 4 icount
done
# The long page walks of munmap, mprotect, exit and exec let the other CPUs into
# the kernel (mm/long_walk.rs): under -icount, no gap of half a walk's time
# in which none of three threads in getppid() loops ends a call.
make --no-print-directory -s build/initramfs-run.cpio PROG=build/user/tests/long_page_walks_let_other_cpus_into_the_kernel >/dev/null
SMP=4 ICOUNT=1 TIMELIMIT=30 run_program long_page_walks_let_other_cpus_into_the_kernel_under_icount 0 \
    '^munmap of 256 MiB: .* the longest wait [0-9]+ ms' \
    build/user/tests/long_page_walks_let_other_cpus_into_the_kernel 4 icount
for prog in exit_status--exit42 kernel_load--sigsegv hello_rust; do
    make --no-print-directory -s build/initramfs-run.cpio PROG=build/user/tests/$prog >/dev/null
    case $prog in
        exit_status--exit42) run_program make_run_exits_with_the_program_status 42 'returning 42' build/user/tests/$prog ;;
        kernel_load--sigsegv) run_program make_run_exits_128_plus_signal_when_killed 139 'SIGSEGV' build/user/tests/$prog ;;
        hello_rust) run_program make_run_passes_arguments 0 'argc 3' build/user/tests/$prog one two ;;
    esac
done
# Top-byte-ignore for user pointers is arm64 ABI, not MTE: the same
# program on a CPU without tag storage.
make --no-print-directory -s build/initramfs-run.cpio PROG=build/user/tests/tbi_tagged_pointer_without_mte >/dev/null
MACHINE=virt,mte=off run_program tbi_holds_for_user_pointers_without_mte 0 'reach the memory \(HWCAP2_MTE clear\)' \
    build/user/tests/tbi_tagged_pointer_without_mte

echo
echo "$passed passed, $failed failed, $skipped skipped"
((failed == 0))
