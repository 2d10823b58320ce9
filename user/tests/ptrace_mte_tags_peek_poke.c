/*
 * ptrace_mte_tags_peek_poke: PTRACE_PEEKMTETAGS and POKEMTETAGS as
 * Documentation/arm64/memory-tagging-extension.rst specifies them (Linux's
 * __access_remote_tags). One tag per byte of the tracer's buffer, one per
 * 16-byte granule of the tracee; the address may be tagged and unaligned.
 * - tags of a page the tracee never touched read as 0 (it is faulted in);
 * - POKE sets them (high bits of each byte ignored), PEEK reads them back,
 *   and the tracee's own LDG sees them after it runs on; a read-only
 *   PROT_MTE mapping can be poked too (the tracee gets its own copy);
 * - a range running off the end of the mapping moves what fits, iov_len
 *   says how many; a tracer buffer running into an unmapped page likewise;
 * - nothing movable: EIO for memory without PROT_MTE or no mapping, EFAULT
 *   for a bad tracer buffer, a tagged one included while the tracer has not
 *   turned the tagged-address ABI on (iov_len unchanged in both).
 */
#include <string.h>
#include <sys/syscall.h>

#include "refpage_test.h"
#include "ptrace_test.h"

#define PAGE 4096

static unsigned char *tagged;   /* 2 pages PROT_MTE, the page after unmapped */
static unsigned char *readonly; /* 1 page PROT_READ | PROT_MTE */

static unsigned want_tag(int i)
{
    return (unsigned)(i * 7 + 3) & 0xf;
}

/* The tracee, once let go: its own LDG must see what was poked. */
static int tracee(void)
{
    for (int i = 0; i < 64; i++)
        if (mte_ldg(tagged + 16 + i * MTE_GRANULE) != want_tag(i))
            return 10;
    if (mte_ldg(tagged) != 0)
        return 11;
    if (mte_ldg(readonly + 32) != 0x9)
        return 12;
    return 0;
}

static long tags_request(long req, pid_t pid, unsigned long addr, void *buf, size_t len, size_t *out_len)
{
    struct iovec iov = { buf, len };
    long r = ptrace_raw(req, pid, addr, (unsigned long)&iov);
    *out_len = iov.iov_len;
    return r;
}

int main(void)
{
    MTE_SKIP_UNLESS_SUPPORTED("ptrace_mte_tags_peek_poke");
    readonly = mmap(NULL, PAGE, PROT_READ | PROT_MTE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(readonly != MAP_FAILED, "mmap read-only PROT_MTE: errno %d", errno);
    unsigned char *plain = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(plain != MAP_FAILED, "mmap: errno %d", errno);
    plain[0] = 1;
    /* Last, so that no later mapping of the tracee fills the hole after it. */
    tagged = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE | PROT_MTE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(tagged != MAP_FAILED, "mmap PROT_MTE: errno %d", errno);
    CHECK(munmap(tagged + 2 * PAGE, PAGE) == 0, "munmap: errno %d", errno);

    pid_t pid = start_tracee(tracee);
    unsigned char buf[300];
    size_t len;

    memset(buf, 0xee, sizeof(buf));
    CHECK(tags_request(PTRACE_PEEKMTETAGS, pid, (unsigned long)tagged, buf, 256, &len) == 0,
          "PEEK of an untouched page: errno %d", errno);
    CHECK(len == 256, "PEEK of an untouched page moved %zu tags, expected 256", len);
    for (int i = 0; i < 256; i++)
        CHECK(buf[i] == 0, "untouched granule %d reads tag %#x", i, buf[i]);

    for (int i = 0; i < 64; i++)
        buf[i] = (unsigned char)(0x50 | want_tag(i));
    unsigned long tagged_addr = (unsigned long)(tagged + 16 + 5) | (0xaUL << 56);
    CHECK(tags_request(PTRACE_POKEMTETAGS, pid, tagged_addr, buf, 64, &len) == 0, "POKE: errno %d", errno);
    CHECK(len == 64, "POKE moved %zu tags, expected 64", len);
    memset(buf, 0xee, sizeof(buf));
    CHECK(tags_request(PTRACE_PEEKMTETAGS, pid, (unsigned long)tagged, buf, 66, &len) == 0, "PEEK: errno %d",
          errno);
    CHECK(len == 66, "PEEK moved %zu tags", len);
    CHECK(buf[0] == 0 && buf[65] == 0, "granules around the poked ones: %#x %#x", buf[0], buf[65]);
    for (int i = 0; i < 64; i++)
        CHECK(buf[1 + i] == want_tag(i), "granule %d: tag %#x, poked %#x", i + 1, buf[1 + i], want_tag(i));
    printf("ptrace_mte_tags: POKE of 64 tags at a tagged, unaligned address; PEEK reads them back\n");

    buf[0] = 0x9;
    CHECK(tags_request(PTRACE_POKEMTETAGS, pid, (unsigned long)readonly + 32, buf, 1, &len) == 0 && len == 1,
          "POKE into a read-only PROT_MTE mapping: errno %d, len %zu", errno, len);

    /* Off the end of the mapping: the 4 granules left are moved. */
    CHECK(tags_request(PTRACE_PEEKMTETAGS, pid, (unsigned long)tagged + 2 * PAGE - 64, buf, 10, &len) == 0,
          "PEEK across the end of the mapping: errno %d", errno);
    CHECK(len == 4, "PEEK across the end of the mapping moved %zu tags, expected 4", len);
    CHECK(tags_request(PTRACE_POKEMTETAGS, pid, (unsigned long)tagged + 2 * PAGE - 32, buf, 10, &len) == 0,
          "POKE across the end of the mapping: errno %d", errno);
    CHECK(len == 2, "POKE across the end of the mapping moved %zu tags, expected 2", len);

    /* A tracer buffer whose end is unmapped: 3 tags land. */
    unsigned char *two = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(two != MAP_FAILED && munmap(two + PAGE, PAGE) == 0, "tracer buffer setup: errno %d", errno);
    CHECK(tags_request(PTRACE_PEEKMTETAGS, pid, (unsigned long)tagged + 16, two + PAGE - 3, 10, &len) == 0,
          "PEEK into a short tracer buffer: errno %d", errno);
    CHECK(len == 3, "PEEK into a short tracer buffer moved %zu tags, expected 3", len);
    CHECK(two[PAGE - 3] == want_tag(0) && two[PAGE - 1] == want_tag(2), "short buffer holds %#x..%#x",
          two[PAGE - 3], two[PAGE - 1]);
    printf("ptrace_mte_tags: partial counts: 4 at the end of the mapping, 3 into a short buffer\n");

    /* Nothing movable. */
    errno = 0;
    CHECK(tags_request(PTRACE_PEEKMTETAGS, pid, (unsigned long)plain, buf, 8, &len) == -1 && errno == EIO,
          "PEEK of memory without PROT_MTE: errno %d, expected EIO", errno);
    CHECK(len == 8, "iov_len changed to %zu on EIO", len);
    errno = 0;
    CHECK(tags_request(PTRACE_POKEMTETAGS, pid, (unsigned long)plain, buf, 8, &len) == -1 && errno == EIO,
          "POKE of memory without PROT_MTE: errno %d, expected EIO", errno);
    errno = 0;
    CHECK(tags_request(PTRACE_PEEKMTETAGS, pid, (unsigned long)tagged + 2 * PAGE, buf, 8, &len) == -1 &&
              errno == EIO,
          "PEEK of an unmapped address: errno %d, expected EIO", errno);
    errno = 0;
    CHECK(tags_request(PTRACE_PEEKMTETAGS, pid, (unsigned long)tagged, two + PAGE, 8, &len) == -1 &&
              errno == EFAULT,
          "PEEK into an unmapped tracer buffer: errno %d, expected EFAULT", errno);
    CHECK(len == 8, "iov_len changed to %zu on EFAULT", len);
    errno = 0;
    CHECK(tags_request(PTRACE_POKEMTETAGS, pid, (unsigned long)tagged, (void *)0xffff000000001000UL, 8, &len) ==
                  -1 &&
              errno == EFAULT,
          "POKE from a kernel-address buffer: errno %d, expected EFAULT", errno);
    errno = 0;
    CHECK(tags_request(PTRACE_PEEKMTETAGS, pid, (unsigned long)tagged, (void *)((uintptr_t)buf | (1UL << 56)), 8,
                       &len) == -1 &&
              errno == EFAULT,
          "PEEK into a tagged buffer without the tagged-address ABI: errno %d, expected EFAULT", errno);
    errno = 0;
    CHECK(ptrace_raw(PTRACE_PEEKMTETAGS, pid, (unsigned long)tagged, 8) == -1 && errno == EFAULT,
          "PEEK with an unmapped iovec: errno %d, expected EFAULT", errno);
    printf("ptrace_mte_tags: EIO without PROT_MTE or a mapping, EFAULT for a bad tracer buffer\n");

    CHECK(ptrace(PTRACE_CONT, pid, 0, 0) == 0, "CONT: errno %d", errno);
    int status = wait_end(pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "the tracee's LDG disagreed: status %#x (10: poked tags, 11: granule 0, 12: read-only page)", status);
    printf("ptrace_mte_tags: the tracee's LDG sees the poked tags\n");
    return 0;
}
