#!/usr/bin/env bash
# Regenerates the device trees the host unit tests of kernel/src/devicetree.rs
# parse: exactly what QEMU hands the kernel for
#   tests/fixtures/virt-mte.dtb: `-machine virt,mte=on -cpu max -m 512M` with
#     an initrd and a command line;
#   tests/fixtures/virt-mte-smp4-el2.dtb: the same with `-smp 4` and
#     `virtualization=on` (four CPUs, PSCI through SMC).
set -euo pipefail
cd "$(dirname "$0")/.."
initrd=$(mktemp)
trap 'rm -f "$initrd"' EXIT
head -c 4096 /dev/zero > "$initrd"

# dump FILE MACHINE [QEMU ARGS...]
dump() {
    local out=$1 machine=$2
    shift 2
    qemu-system-aarch64 -machine "$machine,dumpdtb=$out" -cpu max -m 512M "$@" \
        -nographic -kernel build/kernel.bin -initrd "$initrd" -append "selftest loglevel=debug" >/dev/null
    # QEMU pads the blob to 1 MiB; keep only up to the end of the strings block
    # (the last block of a QEMU-made FDT) and fix up totalsize to match.
    python3 - "$out" <<'PY'
import struct, sys
path = sys.argv[1]
blob = bytearray(open(path, "rb").read())
off_strings, size_strings = struct.unpack(">I", blob[12:16])[0], struct.unpack(">I", blob[32:36])[0]
end = off_strings + size_strings
blob[4:8] = struct.pack(">I", end)
open(path, "wb").write(blob[:end])
PY
    echo "wrote $out ($(stat -c %s "$out") bytes)"
}

if [ "${1:-}" != "--smp-only" ]; then
    dump tests/fixtures/virt-mte.dtb virt,mte=on
fi
dump tests/fixtures/virt-mte-smp4-el2.dtb virt,mte=on,virtualization=on -smp 4
