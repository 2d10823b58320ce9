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
QEMU    := qemu-system-aarch64
QEMU_FLAGS = -machine $(MACHINE) -cpu max -m $(MEMORY) -nographic -nic none -semihosting \
             -kernel $(KERNEL_BIN) -append "$(APPEND)"

.PHONY: all setup kernel qemu test test-host test-target gdb clippy clean

all: kernel

setup:
	@bash scripts/setup.sh

kernel: setup
	cargo build -p kernel --release --target $(KERNEL_TARGET)
	@mkdir -p build
	aarch64-linux-gnu-objcopy -O binary $(KERNEL_ELF) $(KERNEL_BIN)

# The demo: boot, print what was found (memory, MTE level, page tables), exit 0.
qemu: kernel
	$(QEMU) $(QEMU_FLAGS)

# Every test: host unit tests, then boots under QEMU (EL1, EL2, mte=off, panic
# report). Ends with `N passed, N failed`; non-zero status on any failure.
test: kernel
	@bash tests/run.sh

test-host: setup
	cargo test -p kernel --target $(HOST_TARGET)

# Start QEMU halted with a gdb server on :1234, then attach from another shell:
#   gdb-multiarch target/aarch64-unknown-none-softfloat/release/kernel -ex 'target remote :1234'
gdb: kernel
	@echo "attach with: gdb-multiarch $(KERNEL_ELF) -ex 'target remote :1234'"
	$(QEMU) $(QEMU_FLAGS) -s -S

clippy: setup
	cargo clippy -p kernel --release --target $(KERNEL_TARGET)

clean:
	cargo clean
	rm -rf build
