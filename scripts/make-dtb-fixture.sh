#!/usr/bin/env bash
# Regenerates tests/fixtures/virt-mte.dtb, the device tree the host unit tests
# of kernel/src/devicetree.rs parse: exactly what QEMU hands the kernel for
# `-machine virt,mte=on -cpu max -m 512M` with an initrd and a command line.
set -euo pipefail
cd "$(dirname "$0")/.."
initrd=$(mktemp)
trap 'rm -f "$initrd"' EXIT
head -c 4096 /dev/zero > "$initrd"
qemu-system-aarch64 -machine virt,mte=on,dumpdtb=tests/fixtures/virt-mte.dtb -cpu max -m 512M \
    -nographic -kernel build/kernel.bin -initrd "$initrd" -append "selftest loglevel=debug" >/dev/null
# QEMU pads the blob to 1 MiB; keep only up to the end of the strings block
# (the last block of a QEMU-made FDT) and fix up totalsize to match.
python3 - tests/fixtures/virt-mte.dtb <<'PY'
import struct, sys
path = sys.argv[1]
blob = bytearray(open(path, "rb").read())
off_strings, size_strings = struct.unpack(">I", blob[12:16])[0], struct.unpack(">I", blob[32:36])[0]
end = off_strings + size_strings
blob[4:8] = struct.pack(">I", end)
open(path, "wb").write(blob[:end])
PY
echo "wrote tests/fixtures/virt-mte.dtb ($(stat -c %s tests/fixtures/virt-mte.dtb) bytes)"
