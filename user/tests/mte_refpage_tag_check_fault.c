/*
 * mte_refpage_tag_check_fault: a reference page made from tagged content
 * (refpage_create(2) with size >= 16 replicates the content's allocation
 * tags) and mapped PROT_READ | PROT_MTE is tag-checked like any tagged
 * memory: with sync checking on, reads through pointers carrying each
 * granule's replicated tag return the pattern without a signal, and a read
 * with a different tag raises SIGSEGV SEGV_MTESERR at the untagged address,
 * in the first page and in later pages of the mapping (the same reference
 * page). Which sizes carry tags at all (16 bytes and more; below, tag 0)
 * is refpage_mte_tags's rule to check, not this test's. Skipped (exit 0)
 * without HWCAP2_MTE.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "refpage_test.h"

#define PAGE 4096

static const unsigned TAGS[4] = {0x3, 0x7, 0xa, 0xd};

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    MTE_SKIP_UNLESS_SUPPORTED("mte_refpage_tag_check_fault");

    unsigned char data[64];
    volatile unsigned char *c = tagged_content(4, TAGS, 0x40, data);

    int fd = refpage_create((const void *)c, 64, 0);
    CHECK(fd >= 0, "refpage_create(size 64): errno %d (%s)", errno, strerror(errno));
    volatile unsigned char *p = mmap(NULL, 3 * PAGE, PROT_READ | PROT_MTE, MAP_PRIVATE, fd, 0);
    CHECK(p != MAP_FAILED, "mmap PROT_READ|PROT_MTE of the refpage: errno %d (%s)", errno,
          strerror(errno));

    mte_set_ctrl(MTE_CTRL(PR_MTE_TCF_SYNC));
    catch_signal(SIGSEGV, 0, 1);
    struct caught *k = caught();
    uintptr_t pc;

    for (size_t off = 0; off < 3 * PAGE; off += 5) {
        unsigned tag = TAGS[(off % 64) / MTE_GRANULE];
        uint64_t v = load_byte_at(mte_tagged(p + off, tag), &pc);
        CHECK(v == data[off % 64] && k->count == 0,
              "read of byte %zu through tag %#x: %#lx, want %#x; %s", off, tag, (unsigned long)v,
              data[off % 64], caught_str());
    }
    printf("mte_refpage_tag_check_fault: size 64, 3 pages: every 5th byte read through its "
           "granule's tag: the pattern, no signal\n");

    static const size_t offsets[] = {0, 17, 40, 63, PAGE + 21, 2 * PAGE + 50};
    for (unsigned i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
        size_t off = offsets[i];
        unsigned wrong = TAGS[(off % 64) / MTE_GRANULE] ^ 0x1;
        volatile unsigned char *bad = mte_tagged(p + off, wrong);
        uint64_t v = load_byte_at(bad, &pc);
        CHECK(k->count == (int)i + 1 && k->signo == SIGSEGV && k->code == SEGV_MTESERR &&
                  k->addr == untagged(bad) && k->pc == pc,
              "read of byte %zu through the wrong tag %#x: want SEGV_MTESERR at %#lx; saw %s "
              "(the load gave %#lx)", off, wrong, (unsigned long)untagged(bad), caught_str(),
              (unsigned long)v);
    }
    printf("mte_refpage_tag_check_fault: reads through a wrong tag (pages 0, 1, 2): SIGSEGV "
           "SEGV_MTESERR at the untagged address\n");

    CHECK(munmap((void *)p, 3 * PAGE) == 0 && munmap((void *)c, PAGE) == 0, "munmap: errno %d",
          errno);
    CHECK(close(fd) == 0, "close: errno %d", errno);
    return 0;
}
