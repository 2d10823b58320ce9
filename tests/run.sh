#!/usr/bin/env bash
# Runs every test and ends with one line `N passed, N failed`:
#   1. host unit tests of the pure logic (cargo test on the host target);
#   2. boots of the kernel under QEMU, each with a time limit so a hang fails:
#      self-tests entered at EL1 and at EL2, with mte=off, the panic report,
#      and the `make qemu` demo. Each boot's own checks are counted, and the
#      boot itself is one more test (exit status and required log lines).
# Expects build/kernel.bin (make test builds it first).
set -uo pipefail
cd "$(dirname "$0")/.."

KERNEL_BIN=build/kernel.bin
TIMEOUT=${TEST_TIMEOUT:-60}
LOGDIR=$(mktemp -d)
trap 'rm -rf "$LOGDIR"' EXIT
passed=0
failed=0
skipped=0

pass() { passed=$((passed + 1)); echo "PASS $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1: $2"; }

# ---- host unit tests ----
host=$(rustc -vV | sed -n 's/^host: //p')
echo "== host unit tests (cargo test --target $host)"
if cargo test -p kernel --target "$host" >"$LOGDIR/host.log" 2>&1; then :; fi
result=$(grep -E '^test result:' "$LOGDIR/host.log" | tail -n 1)
if [[ $result =~ ([0-9]+)\ passed\;\ ([0-9]+)\ failed ]]; then
    passed=$((passed + BASH_REMATCH[1]))
    failed=$((failed + BASH_REMATCH[2]))
    echo "$result"
    grep -E '^test .* FAILED$' "$LOGDIR/host.log" || true
else
    fail host_unit_tests_build "cargo test did not run; its output:"
    tail -n 40 "$LOGDIR/host.log"
fi

# ---- boots under QEMU ----
# boot NAME MACHINE APPEND EXPECTED_EXIT PATTERN...
# Every PATTERN (grep -E) must appear in the boot log.
boot() {
    local name=$1 machine=$2 append=$3 want=$4
    shift 4
    local log="$LOGDIR/$name.log"
    echo "== $name: -machine $machine -append \"$append\""
    timeout --foreground "$TIMEOUT" qemu-system-aarch64 -machine "$machine" -cpu max -m 512M \
        -nographic -nic none -semihosting -kernel "$KERNEL_BIN" -append "$append" \
        </dev/null >"$log" 2>&1
    local status=$?
    tr -d '\r' <"$log" >"$log.txt"
    grep -E '^\[.*\] (WARN|ERROR) |PASS |FAIL |SKIP ' "$log.txt" | sed 's/^/    /' | grep -E 'FAIL|ERROR|WARN' || true
    local counts
    counts=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log.txt" | tail -n 1)
    if [[ $counts =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed(,\ ([0-9]+)\ skipped)? ]]; then
        passed=$((passed + BASH_REMATCH[1]))
        failed=$((failed + BASH_REMATCH[2]))
        skipped=$((skipped + ${BASH_REMATCH[4]:-0}))
        echo "    $counts"
    fi
    if ((status == 124)); then
        fail "$name" "no exit within ${TIMEOUT}s (hang); last lines:"
        tail -n 15 "$log.txt"
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

boot selftests_pass_when_entered_at_el1 virt,mte=on "selftest" 0 \
    'entered at EL1$' 'MTE: level [23] \(MTE[23]\), tag storage present, LDGM/STGM block [0-9]+ bytes, tagging on' \
    'PASS tag_mismatch_in_el1_is_a_sync_tag_check_fault' ', 0 skipped$'
boot selftests_pass_when_entered_at_el2 virt,mte=on,virtualization=on "selftest" 0 \
    'entered at EL2, dropped to EL1 with HCR_EL2.ATA set' 'tagging on' \
    'PASS tag_mismatch_in_el1_is_a_sync_tag_check_fault'
boot boot_without_mte_says_tagging_is_off virt,mte=off "selftest" 0 \
    'MTE: level [01] .*no tag storage: tagging is off' 'SKIP stg_through_linear_map_is_read_back_by_ldg'
boot kernel_fault_gives_decoded_panic_and_failure_status virt,mte=on "selftest=panic" 1 \
    'KERNEL PANIC: kernel data abort at 0x' \
    'esr: EC 0x25 data abort from the same EL: level 3 translation fault \(DFSC 0x07\), read' \
    '^backtrace' '^  #0  0x'
boot demo_boots_prints_banner_and_exits_0 virt,mte=on "" 0 \
    '^refpage kernel ' 'MTE: level' 'frames: [0-9]+ free of [0-9]+'

echo
echo "$passed passed, $failed failed, $skipped skipped"
((failed == 0))
