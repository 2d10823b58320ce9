/*
 * tbi_tagged_pointer_without_mte: loads and stores through a user pointer
 * with a non-zero top byte reach the same memory, on every CPU: top-byte
 * ignore for user addresses (TCR_EL1.TBI0) is part of Linux's arm64 ABI
 * (Documentation/arm64/tagged-pointers.rst), not of MTE. make test also
 * runs this with -machine virt,mte=off, where it used to be a translation
 * fault (SIGSEGV).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "refpage_test.h"

static volatile int word;

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    volatile int *heap = malloc(sizeof(int));
    CHECK(heap != NULL, "malloc");
    for (unsigned top = 0x01; top <= 0xff; top += 0x2a) {
        volatile int *p = (volatile int *)(((uintptr_t)&word & ((1ULL << 56) - 1)) | ((uintptr_t)top << 56));
        volatile int *h = (volatile int *)(((uintptr_t)heap & ((1ULL << 56) - 1)) | ((uintptr_t)top << 56));
        *p = (int)top;
        *h = (int)top + 1;
        CHECK(word == (int)top && *p == (int)top, "top byte %#x: wrote %#x, read %#x", top, top, word);
        CHECK(*heap == (int)top + 1, "top byte %#x, heap: read %#x", top, *heap);
    }
    printf("tbi_tagged_pointer_without_mte: loads and stores with top bytes 0x01..0xfd reach the memory (HWCAP2_MTE "
           "%s)\n",
           getauxval(AT_HWCAP2) & HWCAP2_MTE ? "set" : "clear");
    return 0;
}
