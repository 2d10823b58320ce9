/*
 * mte_refpage_cow_keeps_tags: in a PROT_READ | PROT_WRITE | PROT_MTE
 * private mapping of a tagged reference page, with sync checking on, a
 * write through the correctly tagged pointer copies the page (data and
 * tags in one pass); the new private page then shows the replicated tags
 * with LDG, keeps the pattern around the written byte, and still
 * tag-checks: a read or a write through a wrong tag raises SEGV_MTESERR
 * and changes nothing. A write through a wrong tag to a page not yet
 * copied also faults (the copy is made, then the tag check stops the
 * store). Skipped (exit 0) without HWCAP2_MTE.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "refpage_test.h"

#define PAGE 4096

static const unsigned TAGS[2] = {0x9, 0x4};

static void check_tags(const volatile unsigned char *page, const char *what)
{
    for (int g = 0; g < PAGE / MTE_GRANULE; g++) {
        unsigned t = mte_ldg(page + g * MTE_GRANULE);
        CHECK(t == TAGS[g % 2], "%s: granule %d has tag %#x, want %#x", what, g, t, TAGS[g % 2]);
    }
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    MTE_SKIP_UNLESS_SUPPORTED("mte_refpage_cow_keeps_tags");

    unsigned char data[32];
    volatile unsigned char *c = tagged_content(2, TAGS, 0xc0, data);
    int fd = refpage_create((const void *)c, 32, 0);
    CHECK(fd >= 0, "refpage_create(size 32): errno %d (%s)", errno, strerror(errno));
    volatile unsigned char *p =
        mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE | PROT_MTE, MAP_PRIVATE, fd, 0);
    CHECK(p != MAP_FAILED, "mmap RW|PROT_MTE of the refpage: errno %d (%s)", errno,
          strerror(errno));

    mte_set_ctrl(MTE_CTRL(PR_MTE_TCF_SYNC));
    catch_signal(SIGSEGV, 0, 1);
    struct caught *k = caught();
    uintptr_t pc;

    /* Page 0: read first (maps the reference page), then write. */
    uint64_t v = load_byte_at(mte_tagged(p + 20, TAGS[1]), &pc);
    CHECK(v == data[20] && k->count == 0, "read before the copy: %#lx, %s", (unsigned long)v,
          caught_str());
    volatile unsigned char *w = mte_tagged(p + 100, TAGS[(100 % 32) / MTE_GRANULE]);
    store_byte_at(w, 0x11, &pc);
    CHECK(k->count == 0 && *w == 0x11, "write through the right tag: %s, reads back %#x",
          caught_str(), *w);
    check_tags(p, "page 0 after the copy-on-write");
    for (int i = 0; i < PAGE; i++) {
        if (i == 100)
            continue;
        unsigned char b = *(volatile unsigned char *)mte_tagged(p + i, TAGS[(i % 32) / MTE_GRANULE]);
        CHECK(b == data[i % 32], "page 0 byte %d after the copy: %#x, want %#x", i, b,
              data[i % 32]);
    }
    printf("mte_refpage_cow_keeps_tags: write through the right tag copied page 0: LDG shows "
           "the replicated tags, the pattern is intact\n");

    volatile unsigned char *bad = mte_tagged(p + 200, TAGS[(200 % 32) / MTE_GRANULE] ^ 0x2);
    load_byte_at(bad, &pc);
    CHECK(k->count == 1 && k->code == SEGV_MTESERR && k->addr == untagged(bad),
          "read of the private copy through a wrong tag: want SEGV_MTESERR at %#lx; saw %s",
          (unsigned long)untagged(bad), caught_str());
    store_byte_at(bad, 0x22, &pc);
    CHECK(k->count == 2 && k->code == SEGV_MTESERR && k->addr == untagged(bad),
          "write to the private copy through a wrong tag: want SEGV_MTESERR; saw %s", caught_str());
    CHECK(*(volatile unsigned char *)mte_tagged(p + 200, TAGS[(200 % 32) / MTE_GRANULE]) ==
              data[200 % 32], "the refused store changed byte 200");
    printf("mte_refpage_cow_keeps_tags: the private copy still faults on a wrong tag (read and "
           "write), nothing written\n");

    /* Page 1: never touched; the first access is a wrong-tag write. */
    volatile unsigned char *bad1 = mte_tagged(p + PAGE + 8, TAGS[0] ^ 0x8);
    store_byte_at(bad1, 0x33, &pc);
    CHECK(k->count == 3 && k->code == SEGV_MTESERR && k->addr == untagged(bad1),
          "wrong-tag write to an untouched page: want SEGV_MTESERR at %#lx; saw %s",
          (unsigned long)untagged(bad1), caught_str());
    check_tags(p + PAGE, "page 1 after a wrong-tag write");
    CHECK(*(volatile unsigned char *)mte_tagged(p + PAGE + 8, TAGS[0]) == data[8],
          "page 1 byte 8 after the refused store: %#x, want %#x",
          *(volatile unsigned char *)mte_tagged(p + PAGE + 8, TAGS[0]), data[8]);
    printf("mte_refpage_cow_keeps_tags: a wrong-tag write to an untouched page faults "
           "(SEGV_MTESERR); the page keeps pattern and tags\n");

    CHECK(munmap((void *)p, 2 * PAGE) == 0 && munmap((void *)c, PAGE) == 0, "munmap: errno %d",
          errno);
    CHECK(close(fd) == 0, "close: errno %d", errno);
    return 0;
}
