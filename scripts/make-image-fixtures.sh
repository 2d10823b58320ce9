#!/usr/bin/env bash
# Regenerates the seeds of the host fuzz tests of the image parsers:
# tests/fixtures/minimal-static.elf and minimal-static-pie.elf, from
# tests/fixtures/minimal-static.S by a real linker, for the ELF loader
# (kernel/src/exec/elf_fuzz.rs): a static executable (ET_EXEC) and a
# static-PIE (ET_DYN without PT_INTERP), stripped so that almost every byte
# is a header the loader reads; and tests/fixtures/minimal.cpio, packed by
# mkinitramfs as `make test` packs programs, for the initramfs reader
# (kernel/src/fs/initramfs_fuzz.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
aarch64-linux-gnu-as -o "$work/m.o" tests/fixtures/minimal-static.S
aarch64-linux-gnu-ld -static -z max-page-size=4096 -z noexecstack \
    -o tests/fixtures/minimal-static.elf "$work/m.o"
aarch64-linux-gnu-ld -static -pie --no-dynamic-linker -z max-page-size=4096 -z noexecstack -z noseparate-code \
    -o tests/fixtures/minimal-static-pie.elf "$work/m.o"
aarch64-linux-gnu-strip tests/fixtures/minimal-static.elf tests/fixtures/minimal-static-pie.elf
cargo build -q -p mkinitramfs --release
"$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"/release/mkinitramfs \
    tests/fixtures/minimal.cpio tests/minimal-static=tests/fixtures/minimal-static.elf demo/seed.S=tests/fixtures/minimal-static.S
for f in tests/fixtures/minimal-static.elf tests/fixtures/minimal-static-pie.elf tests/fixtures/minimal.cpio; do
    echo "wrote $f ($(stat -c %s "$f") bytes)"
done
