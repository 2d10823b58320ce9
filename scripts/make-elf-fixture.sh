#!/usr/bin/env bash
# Regenerates tests/fixtures/minimal-static.elf and minimal-static-pie.elf,
# the real-linker seeds of the ELF loader's host fuzz tests
# (kernel/src/exec/elf_fuzz.rs), from tests/fixtures/minimal-static.S: a
# static executable (ET_EXEC) and a static-PIE (ET_DYN without PT_INTERP),
# stripped so that almost every byte is a header the loader reads.
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
for f in tests/fixtures/minimal-static.elf tests/fixtures/minimal-static-pie.elf; do
    echo "wrote $f ($(stat -c %s "$f") bytes)"
done
