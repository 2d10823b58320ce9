/*
 * mremap_errors_match_linux: mremap's errors in Linux 6.1's order
 * (mm/mremap.c: SYSCALL_DEFINE5(mremap), mremap_to, vma_to_resize): EINVAL
 * for flags, alignment, lengths and overlap; EFAULT for an address outside
 * any mapping or a range crossing the end of its mapping; ENOMEM when there
 * is no room; a refused call changes nothing. Tagged addresses follow the
 * tagged-address ABI: old_address is untagged, new_address never is.
 */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <sys/syscall.h>

#include "refpage_test.h"

#define PAGE 4096UL

/* mremap through syscall(2): glibc's wrapper reads new_address only with
 * MREMAP_FIXED or MREMAP_DONTUNMAP, and passes any flags through. */
static long sys_mremap(void *old, unsigned long old_len, unsigned long new_len, unsigned long flags, void *new)
{
    return syscall(SYS_mremap, old, old_len, new_len, flags, new);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    unsigned char *p = map_anonymous(4 * PAGE, PROT_READ | PROT_WRITE);
    memset(p, 0x5a, 4 * PAGE);
    unsigned char *other = map_anonymous(4 * PAGE, PROT_READ | PROT_WRITE);

    /* Flags. */
    CHECK_ERRNO(sys_mremap(p, PAGE, PAGE, 8, NULL), EINVAL);
    CHECK_ERRNO(sys_mremap(p, PAGE, PAGE, 1UL << 32 | MREMAP_MAYMOVE, NULL), EINVAL);
    CHECK_ERRNO(sys_mremap(p, PAGE, PAGE, MREMAP_FIXED, other), EINVAL);
    CHECK_ERRNO(sys_mremap(p, PAGE, PAGE, MREMAP_DONTUNMAP, NULL), EINVAL);
    CHECK_ERRNO(sys_mremap(p, PAGE, 2 * PAGE, MREMAP_DONTUNMAP | MREMAP_MAYMOVE, NULL), EINVAL);
    /* Compared before rounding: 4096 and 4095 differ. */
    CHECK_ERRNO(sys_mremap(p, PAGE, PAGE - 1, MREMAP_DONTUNMAP | MREMAP_MAYMOVE, NULL), EINVAL);
    printf("mremap_errors: unknown flags, FIXED or DONTUNMAP without MAYMOVE, DONTUNMAP resizing: EINVAL\n");

    /* Alignment and lengths. */
    CHECK_ERRNO(sys_mremap(p + 1, PAGE, PAGE, 0, NULL), EINVAL);
    CHECK_ERRNO(sys_mremap(p, PAGE, 0, 0, NULL), EINVAL);
    CHECK_ERRNO(sys_mremap(p, PAGE, -1UL, MREMAP_MAYMOVE, NULL), EINVAL); /* PAGE_ALIGN wraps to 0 */
    CHECK_ERRNO(sys_mremap(p, 0, PAGE, MREMAP_MAYMOVE, NULL), EINVAL);    /* duplicating a private mapping */
    CHECK_ERRNO(sys_mremap(p, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, other + 1), EINVAL);
    printf("mremap_errors: misaligned addresses, new length 0, old length 0 of a private mapping: EINVAL\n");

    /* Overlap and the user half. */
    CHECK_ERRNO(sys_mremap(p, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, p + PAGE), EINVAL);
    CHECK_ERRNO(sys_mremap(p + PAGE, PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, p), EINVAL);
    CHECK_ERRNO(sys_mremap(p, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)(1UL << 48)), EINVAL);
    CHECK_ERRNO(sys_mremap(p, PAGE, 1UL << 49, MREMAP_MAYMOVE | MREMAP_FIXED, other), EINVAL);
    printf("mremap_errors: overlapping ranges, a destination past the user half: EINVAL\n");

    /* Not mapped, or across the end of the mapping. */
    unsigned char *hole = map_anonymous(PAGE, PROT_NONE);
    CHECK(munmap(hole, PAGE) == 0, "munmap: %m");
    CHECK_ERRNO(sys_mremap(hole, PAGE, PAGE, MREMAP_MAYMOVE, NULL), EFAULT);
    CHECK_ERRNO(sys_mremap(hole, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, other), EFAULT);
    CHECK_ERRNO(sys_mremap((void *)(1UL << 47) + (1UL << 46), PAGE, 2 * PAGE, MREMAP_MAYMOVE, NULL), EFAULT);
    unsigned char *two = map_anonymous(3 * PAGE, PROT_READ | PROT_WRITE);
    CHECK(mprotect(two + PAGE, 2 * PAGE, PROT_READ) == 0, "mprotect: %m");
    CHECK_ERRNO(sys_mremap(two, 2 * PAGE, 4 * PAGE, MREMAP_MAYMOVE, NULL), EFAULT);
    CHECK_ERRNO(sys_mremap(two, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, other), EFAULT);
    printf("mremap_errors: an address outside any mapping, a range across two mappings: EFAULT\n");
    /* The FIXED destination was unmapped before the range was checked. */
    {
        uintptr_t pc;
        catch_signal(SIGSEGV, 0, 1);
        load_byte_at(other, &pc);
        CHECK(caught()->count == 1 && caught()->code == SEGV_MAPERR,
              "the MREMAP_FIXED destination of a refused call is still mapped: %s", caught_str());
        signal(SIGSEGV, SIG_DFL);
    }
    printf("mremap_errors: as on Linux, a refused MREMAP_FIXED has already unmapped its destination\n");

    /* No room. */
    CHECK_ERRNO(sys_mremap(two, PAGE, 2 * PAGE, 0, NULL), ENOMEM);
    CHECK_ERRNO(sys_mremap(p, 4 * PAGE, (1UL << 48) - PAGE, MREMAP_MAYMOVE, NULL), ENOMEM);
    printf("mremap_errors: growth with no room and no MREMAP_MAYMOVE, no gap large enough: ENOMEM\n");

    /* Shrinking crosses mappings freely (it is an munmap of the tail). */
    CHECK(sys_mremap(two, 3 * PAGE, PAGE, 0, NULL) == (long)two, "shrink across two mappings: %m");
    /* And the same length is a no-op even across them. */
    unsigned char *three = map_anonymous(2 * PAGE, PROT_READ | PROT_WRITE);
    CHECK(mprotect(three + PAGE, PAGE, PROT_READ) == 0, "mprotect: %m");
    CHECK(sys_mremap(three, 2 * PAGE, 2 * PAGE, 0, NULL) == (long)three, "same length: %m");
    printf("mremap_errors: a shrink, or no change, may span mappings\n");

    /* Tagged addresses: old_address is untagged; new_address is not. */
    void *tagged = (void *)((uintptr_t)p | (0x5UL << 56));
    unsigned char *moved = (unsigned char *)sys_mremap(tagged, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, other);
    CHECK(moved == other, "mremap of a tagged old_address returned %p, want %p: %m", moved, other);
    CHECK(moved[0] == 0x5a, "moved page reads 0x%02x", moved[0]);
    void *tagged_new = (void *)((uintptr_t)(p + 2 * PAGE) | (0x5UL << 56));
    CHECK(munmap(p + 2 * PAGE, PAGE) == 0, "munmap: %m");
    CHECK_ERRNO(sys_mremap(p + 3 * PAGE, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, tagged_new), EINVAL);
    CHECK(p[3 * PAGE] == 0x5a, "a refused move changed the source");
    printf("mremap_errors: a tagged old_address is untagged, a tagged MREMAP_FIXED new_address is EINVAL\n");
    return 0;
}
