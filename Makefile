# The two commands (README.md): `make qemu` runs the demo, `make test` runs
# every test. Both first run scripts/setup.sh, which installs what is missing
# (or says exactly what to install) and is quick when everything is present.

KERNEL_TARGET := aarch64-unknown-none-softfloat
HOST_TARGET   := $(shell rustc -vV 2>/dev/null | sed -n 's/^host: //p')
KERNEL_ELF    := target/$(KERNEL_TARGET)/release/kernel
KERNEL_BIN    := build/kernel.bin

# QEMU 8+ with MTE: `virt` enters at EL1; MACHINE=virt,mte=on,virtualization=on
# enters at EL2. -semihosting lets the kernel set QEMU's exit status.
MACHINE ?= virt,mte=on
MEMORY  ?= 512M
APPEND  ?=
# SMP=N (1 to 8): QEMU's -smp N. The kernel starts every CPU and runs tasks
# on all of them under one kernel lock (docs/smp.md). make kselftest: 4.
SMP     ?= 1
ifeq ($(filter $(SMP),1 2 3 4 5 6 7 8),)
$(error SMP=$(SMP): the kernel brings up 1 to 8 CPUs)
endif
export SMP
QEMU    := qemu-system-aarch64
QEMU_BASE  = -machine $(MACHINE) -cpu max -smp $(SMP) -m $(MEMORY) -nographic -nic none -semihosting -kernel $(KERNEL_BIN)
# TRACE=faults: one log line per page fault (address, kind, action taken).
QEMU_FLAGS = $(QEMU_BASE) -append "$(strip $(APPEND) $(if $(TRACE),trace=$(TRACE)))"

.PHONY: all setup kernel qemu run test test-host check-docs kselftest kselftest-linux conformance bench bench-profile bench-linux gdb clippy lint clean fuzz soak

all: kernel

# EL0 programs and initramfs archives (user/user.mk).
include user/user.mk

setup:
	@bash scripts/setup.sh

# The kernel checks its lock order at run time (the `lock-order` feature,
# kernel/src/sync/lock_order.rs) in every build but the benchmarks'.
KERNEL_FEATURES ?=
bench: KERNEL_FEATURES = --no-default-features

kernel: setup
	cargo build -p kernel --release --target $(KERNEL_TARGET) $(KERNEL_FEATURES)
	@mkdir -p build
	aarch64-linux-gnu-objcopy -O binary $(KERNEL_ELF) $(KERNEL_BIN)

# The demo: boot, print what was found (memory, MTE level, page tables), a
# tour of MTE, then a C program (glibc printf, malloc) and a Rust program at
# EL0, with the kernel logging each process's life. Exits 0.
qemu: kernel build/initramfs-demo.cpio
	$(QEMU) $(QEMU_FLAGS) -initrd build/initramfs-demo.cpio

# Run any static aarch64 Linux ELF as the only EL0 program:
#   make run PROG=path/to/program ARGS="a b" [ICOUNT=1]
# Its stdout/stderr stream to the terminal. QEMU exits with the program's
# status (128 + signal number if it was killed); make reports a non-zero one
# as "Error N" (and itself exits 2, as make always does): scripts/run-program
# is the same without make, exiting with exactly the program's status.
run: kernel build/initramfs-run.cpio
	@ICOUNT=$(ICOUNT) MACHINE=$(MACHINE) MEMORY=$(MEMORY) bash scripts/run-program --prebuilt $(PROG) $(ARGS)

# Every test: host unit tests, then boots under QEMU (EL1, EL2, mte=off, panic
# report, the EL0 test programs on one CPU and with four up, make run), each
# with SMP CPUs unless it names its own count. Ends with `N passed, N failed`;
# non-zero status on any failure.
test: kernel user-initramfs
	@bash tests/run.sh

# The docs against the tree (tests/run.sh runs it first): every code reference
# in README.md and docs/*.md resolves to a file and a symbol in it, nothing
# points outside the repository, the folder map lists every file.
check-docs:
	@perl scripts/check-docs

# Linux 6.1's arm64 selftests (mte, signal, abi, tags) and seven of its vm
# selftests, fetched from Debian's linux-source-6.1 and built unmodified
# (scripts/kselftest.sh). Nothing of them is committed. Both run in a QEMU
# of 1G unless MEMORY is given (make kselftest MEMORY=4G), with SMP=4.
KSELFTEST_MEMORY = $(if $(filter command line environment,$(origin MEMORY)),$(MEMORY),1G)
# Four CPUs unless SMP is given (the issue's "make kselftest runs on 4").
KSELFTEST_SMP = $(if $(filter command line environment,$(origin SMP)),$(SMP),4)
kselftest: kernel $(MKINITRAMFS)
	@SMP=$(KSELFTEST_SMP) MEMORY=$(KSELFTEST_MEMORY) bash scripts/kselftest.sh

# The same selftest binaries on Linux 6.1 (the kernel bench-linux fetches),
# under the same QEMU; writes docs/conformance/linux-6.1.log and
# docs/conformance.md. Not run by CI.
kselftest-linux: kernel $(MKINITRAMFS)
	@MEMORY=$(KSELFTEST_MEMORY) bash scripts/kselftest-linux.sh

# docs/conformance.md again from the last make kselftest and the committed
# Linux log (scripts/kselftest-expected.txt holds the reasons).
conformance:
	@bash scripts/conformance-report

# Benchmarks by instruction count (QEMU -icount): the refpage cover-letter
# microbenchmark and the kernel's own fault-path and boot costs, run twice
# to show they are deterministic; writes docs/bench/results.md and chart.svg,
# and docs/bench/heap-tags.md (the same with the kernel heap's tags off and on).
bench: kernel $(MKINITRAMFS)
	@bash scripts/bench.sh

# Where each fault path's instructions go, by kernel function (QEMU's
# execution trace of fault_paths): writes docs/bench/profile.md.
bench-profile: bench
	@bash scripts/fault-profile

# The same benchmark programs (refpage_bench, clock_gettime_bench,
# user_faults, fault_scaling) as /init of Debian's arm64 cloud kernel under
# the same QEMU flags (fetched with apt-get download, not committed); their
# output becomes the Linux columns of docs/bench/results.md. One CPU, but
# fault_scaling with 4 (`make bench-linux SMP=4` says so; SMP=N another
# count, which the table then names).
BENCH_SCALING_SMP = $(if $(filter command line environment,$(origin SMP)),$(SMP),4)
bench-linux: kernel $(MKINITRAMFS)
	@mkdir -p build/user/bench
	$(USER_CC) $(USER_CFLAGS) -o build/user/bench/refpage_bench user/bench/refpage_bench.c
	@OUT=docs/bench/linux.txt bash scripts/bench-linux.sh build/user/bench/refpage_bench 20
	$(USER_CC) $(USER_CFLAGS) -o build/user/bench/clock_gettime_bench user/bench/clock_gettime_bench.c
	@OUT=build/bench-linux/clock.txt bash scripts/bench-linux.sh build/user/bench/clock_gettime_bench \
	    && cat build/bench-linux/clock.txt >> docs/bench/linux.txt
	$(USER_CC) $(USER_CFLAGS) -o build/user/bench/user_faults user/bench/user_faults.c
	@OUT=build/bench-linux/user_faults.txt bash scripts/bench-linux.sh build/user/bench/user_faults \
	    && cat build/bench-linux/user_faults.txt >> docs/bench/linux.txt
	@bash scripts/bench-linux.sh --boot >/dev/null && cat build/bench-linux/boot.txt >> docs/bench/linux.txt
	$(USER_CC) $(USER_CFLAGS) -o build/user/bench/fault_scaling user/bench/fault_scaling.c
	@OUT=build/bench-linux/fault_scaling.txt LINUX_SMP=$(BENCH_SCALING_SMP) bash scripts/bench-linux.sh build/user/bench/fault_scaling \
	    && { echo "# qemu-scaling: -smp $(BENCH_SCALING_SMP)"; cat build/bench-linux/fault_scaling.txt; } >> docs/bench/linux.txt
	@bash scripts/bench-report

test-host: setup
	cargo test -p kernel -p mkinitramfs --target $(HOST_TARGET)

# Start QEMU halted with a gdb server on :1234, then attach from another shell:
#   gdb-multiarch target/aarch64-unknown-none-softfloat/release/kernel -ex 'target remote :1234'
gdb: kernel
	@echo "attach with: gdb-multiarch $(KERNEL_ELF) -ex 'target remote :1234'"
	$(QEMU) $(QEMU_FLAGS) -s -S

# clippy with warnings as errors on every crate: the kernel as it is built
# and with its host tests, the EL0 runtime, mkinitramfs and the Rust programs.
clippy: setup
	cargo clippy -p kernel --release --target $(KERNEL_TARGET) -- -D warnings
	cargo clippy -p kernel --release --target $(KERNEL_TARGET) --no-default-features -- -D warnings
	cargo clippy -p kernel --target $(HOST_TARGET) --tests -- -D warnings
	@$(MAKE) -s user-clippy

# What CI checks before the tests: formatting (rustfmt.toml) of the
# workspace and of the standalone Rust programs, then clippy.
lint: clippy
	cargo fmt --all --check
	rustfmt --check --edition 2021 $(wildcard user/tests/*.rs) $(wildcard user/demo/*.rs)

clean:
	cargo clean
	rm -rf build

# ---- fuzz-images: the image parsers' host fuzz tests, run longer ----
# `make fuzz-images [N=200000] [SEED=n]`: the ELF loader's checks
# (kernel/src/exec/elf_fuzz.rs) and the initramfs reader
# (kernel/src/fs/initramfs_fuzz.rs) on N mutated files each. SEED defaults
# to the time and is printed first: the same SEED and N replay the run, and
# FUZZ_CASE=k (printed with a failure) replays one case. `make test` runs
# the same tests with 20,000 cases from a fixed seed.
ifeq ($(origin SEED),undefined)
SEED := $(shell date +%s)
endif
N ?= 200000

.PHONY: fuzz-images
fuzz-images: setup
	@echo "fuzz-images: N=$(N) SEED=$(SEED) (replay: make fuzz-images N=$(N) SEED=$(SEED))"
	@mkdir -p build
	@FUZZ_CASES=$(N) FUZZ_SEED=$(SEED) cargo test -p kernel --target $(HOST_TARGET) -- fuzz_ --nocapture \
	    >build/fuzz-images.log 2>&1; status=$$?; \
	    grep -E '^(fuzz |test |error|case |  replay|  input)' build/fuzz-images.log; \
	    [ $$status -eq 0 ] || echo "fuzz-images: FAILED with SEED=$(SEED) N=$(N); full output in build/fuzz-images.log"; \
	    exit $$status

# ---- soak: the race tests and the system-call fuzzer together ----
# `make soak [SMP=4] [MINUTES=10] [SEED=n]`: the race tests
# (user/tests/race_*.c) round after round and, beside them, the system-call
# fuzzer (random calls, bounded in memory, a new seed each run) for MINUTES
# on SMP CPUs; stops at the first failure with its log (scripts/soak).
MINUTES ?= 10
.PHONY: soak
soak: SMP_SOAK = $(if $(filter command line environment,$(origin SMP)),$(SMP),4)
soak: kernel $(MKINITRAMFS) $(filter build/user/tests/race_%,$(USER_TEST_BINS)) build/user/tests/syscall_fuzz
	@MINUTES=$(MINUTES) SMP=$(SMP_SOAK) SEED=$(SEED) bash scripts/soak

# ---- fuzz: everything above, run longer ----
# `make fuzz [N=200000] [SEED=n]`: fuzz-images with N cases, then the EL0
# system-call fuzzer (user/tests/syscall_fuzz.c) making N calls from SEED on
# this kernel (its time limit grows with N). The seed is printed first; the
# same SEED and N replay the run. `make test` runs 20,000 calls of seed 1.
.PHONY: fuzz
fuzz: fuzz-images build/user/tests/syscall_fuzz
	@echo "fuzz: syscall_fuzz, N=$(N) SEED=$(SEED) (replay: make fuzz N=$(N) SEED=$(SEED))"
	@TIMELIMIT=$$(( $(N) / 1000 + 30 )) bash scripts/run-program build/user/tests/syscall_fuzz $(SEED) $(N) \
	    >build/fuzz-syscalls.log 2>&1; status=$$?; \
	    tr -d '\r' <build/fuzz-syscalls.log | grep -E '^syscall_fuzz|check failed|PANIC|time limit|qemu-watch' \
	        | grep -vE '^syscall_fuzz: (ranges|fork) call '; \
	    [ $$status -eq 0 ] || { tr -d '\r' <build/fuzz-syscalls.log | grep -E '^syscall_fuzz: (ranges|fork) call ' | tail -n 1; \
	        echo "fuzz: syscall_fuzz FAILED (status $$status) with SEED=$(SEED) N=$(N); full output in build/fuzz-syscalls.log"; }; \
	    exit $$status
