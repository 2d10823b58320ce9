# user/user.mk - the EL0 side of the build: compiles the test and demo
# programs and packs them into initramfs archives. Included by the top-level
# Makefile (paths are relative to the repository root); on its own:
# `make -f Makefile -f user/user.mk TARGET`.
#
#   user-programs                 every program, into build/user/{tests,demo}/
#   build/initramfs-tests.cpio    /tests/<stem> for each user/tests/<stem>.{c,rs},
#                                 and the malformed images below
#   build/initramfs-demo.cpio     /demo/tour_c and /demo/tour_rust
#   build/initramfs-run.cpio      /run/<basename of $(PROG)>, for `make run`
#   user-test-linux               every test as a Linux process (qemu-aarch64)
#   user-test-host                mkinitramfs's unit tests
#   user-clippy                   clippy on the runtime, mkinitramfs and programs
#
# Adding a test is adding one file to user/tests/: the lists below are
# wildcards. Its expected outcome is in its name (see user/README.md).

# Whatever the includer's default goal is stays so: the rules here never
# become it (restored at the end of this file).
USER_SAVED_DEFAULT_GOAL := $(.DEFAULT_GOAL)

USER_TARGET  := aarch64-unknown-none
HOST_TARGET  ?= $(shell rustc -vV 2>/dev/null | sed -n 's/^host: //p')

# The runtime, an rlib that cargo builds; the programs link against it.
USER_RLIB_DIR := target/$(USER_TARGET)/release
USER_RLIB     := $(USER_RLIB_DIR)/libuser.rlib
USER_RUNTIME  := $(wildcard user/src/*.rs) user/Cargo.toml Cargo.lock .cargo/config.toml
USER_LD       := user/link.ld
USER_HEADERS  := $(wildcard user/include/*.h)
MKINITRAMFS   := target/$(HOST_TARGET)/release/mkinitramfs

# Static glibc programs, as an arm64 Linux distribution would build them.
USER_CC     := aarch64-linux-gnu-gcc
USER_CFLAGS := -static -O2 -Wall -Werror -Iuser/include

# One rustc call per single-file program. The link arguments are here, not
# in the runtime's build.rs: cargo:rustc-link-arg applies only to the
# crate's own binaries, never to a program that links the crate through
# --extern. -z max-page-size=4096: see user/link.ld.
USER_RUSTC_FLAGS := --target $(USER_TARGET) --edition 2021 -C panic=abort -C opt-level=2 \
    -C force-frame-pointers=yes -C strip=debuginfo -D warnings \
    --extern user=$(USER_RLIB) -L dependency=$(USER_RLIB_DIR)/deps \
    -C link-arg=-T$(USER_LD) -C link-arg=-zmax-page-size=4096

USER_TEST_C       := $(wildcard user/tests/*.c)
USER_TEST_RS      := $(wildcard user/tests/*.rs)
USER_TEST_C_BINS  := $(patsubst user/tests/%.c,build/user/tests/%,$(USER_TEST_C))
USER_TEST_RS_BINS := $(patsubst user/tests/%.rs,build/user/tests/%,$(USER_TEST_RS))
USER_TEST_BINS    := $(sort $(USER_TEST_C_BINS) $(USER_TEST_RS_BINS))
ifneq ($(words $(USER_TEST_C_BINS) $(USER_TEST_RS_BINS)),$(words $(USER_TEST_BINS)))
$(error user/tests: a .c and a .rs file share a name; each name is one program in the initramfs)
endif

# Malformed images the loader must refuse, each a copy of the hello test
# program broken one way by scripts/corrupt-elf (kind `a-b` makes
# elf_a_b--refused): the runner passes them when the loader refuses them
# with a reason (kernel/src/process/expectation.rs), then goes on. Not
# programs, so not in USER_TEST_BINS: user-test-linux does not run them.
USER_REFUSED_KINDS := headers-cut wrong-machine segment-in-kernel-half interp-missing
USER_REFUSED_BINS  := $(foreach k,$(USER_REFUSED_KINDS),build/user/refused/elf_$(subst -,_,$(k))--refused)

# Odd images Linux 6.1 loads and runs, so the loader must too: copies of
# hello made by scripts/corrupt-elf (kind `a-b` makes elf_a_b, which must
# exit 0 as hello does).
USER_ODD_KINDS := section-headers-corrupt bss-segment-past-end segment-past-end
USER_ODD_BINS  := $(foreach k,$(USER_ODD_KINDS),build/user/odd/elf_$(subst -,_,$(k)))
# One that Linux 6.1 loads and that then dies of SIGBUS (hello cut in half:
# its data pages lie wholly past the end of the file).
USER_ODD_BINS  += build/user/odd/elf_truncated--sigbus
# And probes of such images: user/odd/NAME.c built, then made odd as its
# name says (scripts/corrupt-elf); each must exit 0.
USER_ODD_BINS  += build/user/odd/elf_segment_past_end_pages_raise_sigbus

# tour.c and tour.rs share a stem, so demos are named for their language.
USER_DEMO_C_BINS  := $(patsubst user/demo/%.c,build/user/demo/%_c,$(wildcard user/demo/*.c))
USER_DEMO_RS_BINS := $(patsubst user/demo/%.rs,build/user/demo/%_rust,$(wildcard user/demo/*.rs))
USER_DEMO_BINS    := $(USER_DEMO_C_BINS) $(USER_DEMO_RS_BINS)

# $(call user_pack,ARCHIVE,DIR,PROGRAMS): pack each program as DIR/<its name>.
user_pack = $(MKINITRAMFS) $(1) $(foreach p,$(3),$(2)/$(notdir $(p))=$(p))

.PHONY: user-programs user-initramfs user-test-linux user-test-host user-clippy FORCE

user-programs: $(USER_TEST_BINS) $(USER_DEMO_BINS)

user-initramfs: build/initramfs-tests.cpio build/initramfs-demo.cpio

# cargo decides what to rebuild; the touch keeps make from asking it again
# when a listed input changed in a way that needed no rebuild.
$(USER_RLIB): $(USER_RUNTIME)
	cargo build -p user --release --target $(USER_TARGET)
	@touch $@

$(MKINITRAMFS): $(wildcard scripts/mkinitramfs/src/*.rs) scripts/mkinitramfs/Cargo.toml
	cargo build -p mkinitramfs --release --target $(HOST_TARGET)
	@touch $@

$(USER_TEST_C_BINS): build/user/tests/%: user/tests/%.c $(USER_HEADERS)
	@mkdir -p $(@D)
	$(USER_CC) $(USER_CFLAGS) -o $@ $<

$(USER_TEST_RS_BINS): build/user/tests/%: user/tests/%.rs $(USER_RLIB) $(USER_LD)
	@mkdir -p $(@D)
	rustc $(USER_RUSTC_FLAGS) -o $@ $<

$(USER_DEMO_C_BINS): build/user/demo/%_c: user/demo/%.c $(USER_HEADERS)
	@mkdir -p $(@D)
	$(USER_CC) $(USER_CFLAGS) -o $@ $<

$(USER_DEMO_RS_BINS): build/user/demo/%_rust: user/demo/%.rs $(USER_RLIB) $(USER_LD)
	@mkdir -p $(@D)
	rustc $(USER_RUSTC_FLAGS) -o $@ $<

build/user/refused/elf_%--refused: build/user/tests/hello scripts/corrupt-elf
	@mkdir -p $(@D)
	bash scripts/corrupt-elf $(subst _,-,$*) $< $@

build/user/odd/elf_%: build/user/tests/hello scripts/corrupt-elf
	@mkdir -p $(@D)
	bash scripts/corrupt-elf $(subst _,-,$*) $< $@

build/user/odd/elf_truncated--sigbus: build/user/tests/hello scripts/corrupt-elf
	@mkdir -p $(@D)
	bash scripts/corrupt-elf truncated $< $@

build/user/odd/elf_segment_past_end_pages_raise_sigbus: user/odd/elf_segment_past_end_pages_raise_sigbus.c \
		scripts/corrupt-elf $(USER_HEADERS)
	@mkdir -p $(@D)
	$(USER_CC) $(USER_CFLAGS) -o $@.plain $<
	bash scripts/corrupt-elf segment-past-end $@.plain $@

# Rewritten only when the set of tests changes, so that adding or removing
# a test repacks the archive even when no remaining program changed.
build/user/tests.list: FORCE
	@mkdir -p $(@D)
	@echo '$(notdir $(USER_TEST_BINS))' | cmp -s - $@ || echo '$(notdir $(USER_TEST_BINS))' >$@

build/initramfs-tests.cpio: $(USER_TEST_BINS) $(USER_REFUSED_BINS) $(USER_ODD_BINS) $(MKINITRAMFS) build/user/tests.list
	$(call user_pack,$@,tests,$(USER_TEST_BINS) $(USER_REFUSED_BINS) $(USER_ODD_BINS))

build/initramfs-demo.cpio: $(USER_DEMO_BINS) $(MKINITRAMFS)
	$(call user_pack,$@,demo,$(USER_DEMO_BINS))

# `make run PROG=path ARGS="a b"`: PROG is built first if it is one of the
# programs above. Always repacked: PROG may name a different file than the
# last time. The program's path inside the archive is $(USER_RUN_PATH).
USER_RUN_PATH = /run/$(notdir $(PROG))
build/initramfs-run.cpio: $(PROG) $(MKINITRAMFS) FORCE
	$(if $(PROG),,$(error PROG is not set: make run PROG=path/to/program ARGS="..."))
	$(call user_pack,$@,run,$(PROG))

# Each test as an ordinary arm64 Linux process, expecting the outcome its
# name encodes: the programs must behave the same on Linux as here.
user-test-linux: $(USER_TEST_BINS)
	bash scripts/run-user-tests-linux $(USER_TEST_BINS)

user-test-host:
	cargo test -p mkinitramfs --target $(HOST_TARGET)

# The programs are checked with clippy-driver, as rustc would compile them,
# with the workspace's lint for unsafe blocks without a SAFETY comment.
user-clippy: $(USER_RLIB)
	cargo clippy -p user --release --target $(USER_TARGET) -- -D warnings
	cargo clippy -p mkinitramfs --release --target $(HOST_TARGET) --all-targets -- -D warnings
	@mkdir -p build/user/clippy
	for f in $(USER_TEST_RS) $(wildcard user/demo/*.rs); do \
	    clippy-driver $(USER_RUSTC_FLAGS) -W clippy::undocumented_unsafe_blocks \
	        --emit=metadata --out-dir build/user/clippy $$f || exit 1; \
	done

FORCE:

.DEFAULT_GOAL := $(USER_SAVED_DEFAULT_GOAL)
