/*
 * fork_cow_anonymous: after fork() the parent and the child each see only
 * their own writes to private memory: pages of a MAP_PRIVATE|MAP_ANONYMOUS
 * mapping (written before the fork, so shared copy-on-write, and never
 * touched before it), .data, .bss, a malloc'd block and the stack. Both
 * write after the fork, each sleeps so the other one runs in between, and
 * each then checks that its values are still there. The child exits with
 * 42, which the parent reads with waitpid (WIFEXITED/WEXITSTATUS); after
 * the child is gone the parent's pages still hold the parent's values.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "refpage_test.h"

#define PAGE 4096
#define PAGES 8 /* even pages written before the fork, odd ones not */

static volatile unsigned long data_word = 0xda7a; /* .data */
static volatile unsigned long bss_word;           /* .bss */
static volatile unsigned char bss_block[3 * PAGE]; /* .bss, several pages */

/* The value `who` (1 parent, 2 child; 0 before the fork) writes at page i. */
static unsigned char mark(int who, int i)
{
    return (unsigned char)(0x10 * who + i + 1);
}

/* Checks every page of `p` holds `want(i)` in its first, middle and last
 * byte. */
static void check_pages(const char *who, const volatile unsigned char *p, int self)
{
    for (int i = 0; i < PAGES; i++) {
        /* Each side wrote every page; before the fork only even ones were. */
        unsigned char want = mark(self, i);
        for (int off = 0; off < PAGE; off += PAGE / 2 - 1) {
            unsigned char got = p[i * PAGE + off];
            CHECK(got == want, "%s: anonymous page %d byte %d is %#x, want its own %#x", who, i,
                  off, got, want);
        }
    }
}

static void check_words(const char *who, int self, volatile unsigned long *stack_word,
                        volatile unsigned char *heap)
{
    unsigned long d = data_word, b = bss_word, s = *stack_word;
    CHECK(d == 0xd0 + (unsigned long)self, "%s: .data word is %#lx, want its own %#lx", who, d,
          0xd0 + (unsigned long)self);
    CHECK(b == 0xb0 + (unsigned long)self, "%s: .bss word is %#lx, want its own %#lx", who, b,
          0xb0 + (unsigned long)self);
    CHECK(s == 0x50 + (unsigned long)self, "%s: stack word is %#lx, want its own %#lx", who, s,
          0x50 + (unsigned long)self);
    for (int i = 0; i < 3; i++) {
        unsigned char got = bss_block[i * PAGE + 5];
        CHECK(got == mark(self, i), "%s: .bss page %d is %#x, want %#x", who, i, got, mark(self, i));
    }
    for (int i = 0; i < 64 * 1024; i += PAGE) {
        CHECK(heap[i] == mark(self, i / PAGE % 16), "%s: heap byte %d is %#x, want %#x", who, i,
              heap[i], mark(self, i / PAGE % 16));
    }
}

static void write_all(int self, volatile unsigned char *p, volatile unsigned long *stack_word,
                      volatile unsigned char *heap)
{
    for (int i = 0; i < PAGES; i++)
        for (int off = 0; off < PAGE; off += PAGE / 2 - 1)
            p[i * PAGE + off] = mark(self, i);
    data_word = 0xd0 + (unsigned long)self;
    bss_word = 0xb0 + (unsigned long)self;
    *stack_word = 0x50 + (unsigned long)self;
    for (int i = 0; i < 3; i++)
        bss_block[i * PAGE + 5] = mark(self, i);
    for (int i = 0; i < 64 * 1024; i += PAGE)
        heap[i] = mark(self, i / PAGE % 16);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    volatile unsigned char *p = map_anonymous(PAGES * PAGE, PROT_READ | PROT_WRITE);
    volatile unsigned long stack_word = 0x50;
    /* 64 KiB: below glibc's mmap threshold, so it comes from brk. */
    volatile unsigned char *heap = malloc(64 * 1024);
    CHECK(heap != NULL, "malloc(64 KiB) failed");

    /* Before the fork: even pages written (they become shared copy-on-write),
     * odd pages left unpopulated; .data/.bss/stack/heap written. */
    for (int i = 0; i < PAGES; i += 2)
        for (int off = 0; off < PAGE; off += PAGE / 2 - 1)
            p[i * PAGE + off] = mark(0, i);
    for (int i = 0; i < 3; i++)
        bss_block[i * PAGE + 5] = mark(0, i);
    data_word = 0xd0;
    bss_word = 0xb0;
    stack_word = 0x50;
    for (int i = 0; i < 64 * 1024; i += PAGE)
        heap[i] = mark(0, i / PAGE % 16);

    pid_t parent = getpid();
    pid_t child = fork_checked();
    if (child == 0) {
        CHECK(getppid() == parent, "child: getppid() is %d, want the parent's pid %d",
              (int)getppid(), (int)parent);
        CHECK(getpid() != parent, "child: getpid() is the parent's %d", (int)parent);
        /* Still the pre-fork contents. */
        for (int i = 0; i < PAGES; i++) {
            unsigned char want = i % 2 == 0 ? mark(0, i) : 0;
            CHECK(p[i * PAGE] == want, "child: before writing, page %d is %#x, want %#x", i,
                  p[i * PAGE], want);
        }
        CHECK(data_word == 0xd0 && bss_word == 0xb0 && stack_word == 0x50,
              "child: inherited .data %#lx .bss %#lx stack %#lx, want 0xd0 0xb0 0x50",
              (unsigned long)data_word, (unsigned long)bss_word, (unsigned long)stack_word);
        write_all(2, p, &stack_word, heap);
        sleep_ns(30 * 1000000); /* the parent writes meanwhile */
        check_pages("child", p, 2);
        check_words("child", 2, &stack_word, heap);
        printf("fork_cow_anonymous: child: sees only its own writes to 8 anonymous pages, "
               ".data, .bss, heap, stack\n");
        exit(42);
    }
    printf("fork_cow_anonymous: forked child %d\n", (int)child);
    write_all(1, p, &stack_word, heap);
    sleep_ns(10 * 1000000); /* the child writes meanwhile */
    check_pages("parent, child running", p, 1);
    check_words("parent, child running", 1, &stack_word, heap);

    int status = wait_for(child);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 42,
          "waitpid: the child %s, want exited 42 (WIFEXITED %d WEXITSTATUS %d)",
          wait_status_str(status), WIFEXITED(status), WEXITSTATUS(status));
    printf("fork_cow_anonymous: waitpid: child exited 42\n");
    check_pages("parent, child gone", p, 1);
    check_words("parent, child gone", 1, &stack_word, heap);
    /* Writing again after the child is gone: the frames are the parent's alone. */
    write_all(3, p, &stack_word, heap);
    check_pages("parent, rewritten", p, 3);
    printf("fork_cow_anonymous: parent: sees only its own writes, before and after the child "
           "exits\n");
    return 0;
}
