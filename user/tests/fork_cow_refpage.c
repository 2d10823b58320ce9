/*
 * fork_cow_refpage: a MAP_PRIVATE mapping of a refpage_create(2) descriptor
 * across fork(). Before the fork some pages are written (private copies,
 * which become shared copy-on-write), some only read (the reference page
 * is mapped) and some never touched. After the fork the parent and the
 * child write to different pages and to the same pages at different
 * offsets: each sees its own writes and the pre-fork ones, never the
 * other's; every byte nobody wrote still reads the pattern, in both. Done
 * for a 16-byte pattern (pages filled from it) and a 4096-byte one (pages
 * copied). The child also maps the inherited descriptor afresh and sees
 * the pattern there.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "refpage_test.h"

#define PAGE 4096
#define PAGES 12

/* What happens to page i before the fork ... */
enum { WRITTEN, READ, UNTOUCHED };
static const int before[PAGES] = {WRITTEN, WRITTEN, READ, READ, UNTOUCHED, UNTOUCHED,
                                  WRITTEN, READ, UNTOUCHED, WRITTEN, READ, UNTOUCHED};
/* ... and who writes it after: bit 0 the parent, bit 1 the child. */
#define PARENT 1
#define CHILD 2
static const int after[PAGES] = {CHILD, PARENT, CHILD, PARENT, CHILD, PARENT,
                                 PARENT | CHILD, PARENT | CHILD, PARENT | CHILD, 0, 0, 0};

/* Where and what each writer writes in page i. */
#define OFF_BEFORE 100
#define OFF_PARENT 2000
#define OFF_CHILD 4000
static unsigned char val_before(int i) { return (unsigned char)(0xe0 + i); }
static unsigned char val_parent(int i) { return (unsigned char)(0xa0 + i); }
static unsigned char val_child(int i) { return (unsigned char)(0xc0 + i); }

static unsigned char content[PAGE] __attribute__((aligned(PAGE)));

static void write_side(volatile unsigned char *p, int who)
{
    for (int i = 0; i < PAGES; i++)
        if (after[i] & who)
            p[i * PAGE + (who == PARENT ? OFF_PARENT : OFF_CHILD)] =
                who == PARENT ? val_parent(i) : val_child(i);
}

/* Every byte of every page is what `who` must see: the pattern, the
 * pre-fork write, and its own write only. */
static void check_side(const volatile unsigned char *p, unsigned size, int who, const char *when)
{
    const char *name = who == PARENT ? "parent" : "child";
    for (int i = 0; i < PAGES; i++) {
        for (int off = 0; off < PAGE; off++) {
            unsigned char want = content[off % size];
            if (before[i] == WRITTEN && off == OFF_BEFORE)
                want = val_before(i);
            if ((after[i] & who) && off == (who == PARENT ? OFF_PARENT : OFF_CHILD))
                want = who == PARENT ? val_parent(i) : val_child(i);
            unsigned char got = p[i * PAGE + off];
            if (got != want) {
                int other = who == PARENT ? CHILD : PARENT;
                int other_off = other == PARENT ? OFF_PARENT : OFF_CHILD;
                CHECK(got == want,
                      "pattern size %u, %s, %s: page %d (%s before the fork) byte %d is %#x, "
                      "want %#x%s",
                      size, name, when, i,
                      before[i] == WRITTEN ? "written" : before[i] == READ ? "read" : "untouched",
                      off, got, want,
                      (after[i] & other) && off == other_off ? " (the other process's write)" : "");
            }
        }
    }
}

static void run(unsigned size)
{
    for (unsigned i = 0; i < size; i++)
        content[i] = (unsigned char)(i * 7 + size + 1);
    int fd = refpage_create(content, size, 0);
    CHECK(fd >= 0, "refpage_create(size %u): errno %d (%s)", size, errno, strerror(errno));
    volatile unsigned char *p =
        mmap(NULL, PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(p != MAP_FAILED, "mmap(refpage, MAP_PRIVATE): errno %d (%s)", errno, strerror(errno));

    for (int i = 0; i < PAGES; i++) {
        if (before[i] == WRITTEN)
            p[i * PAGE + OFF_BEFORE] = val_before(i);
        else if (before[i] == READ)
            CHECK_PATTERN(p + i * PAGE, PAGE, content, size, "a page read before the fork");
    }

    pid_t child = fork_checked();
    if (child == 0) {
        volatile unsigned char *q = mmap(NULL, 2 * PAGE, PROT_READ, MAP_PRIVATE, fd, PAGE);
        CHECK(q != MAP_FAILED, "child: mmap of the inherited refpage descriptor %d: errno %d (%s)",
              fd, errno, strerror(errno));
        CHECK_PATTERN(q, 2 * PAGE, content, size, "child: a new mapping of the inherited descriptor");
        write_side(p, CHILD);
        check_side(p, size, CHILD, "right after its writes");
        sleep_ns(30 * 1000000); /* the parent writes meanwhile */
        check_side(p, size, CHILD, "after the parent wrote");
        _exit(0);
    }
    write_side(p, PARENT);
    check_side(p, size, PARENT, "right after its writes");
    sleep_ns(10 * 1000000); /* the child writes meanwhile */
    check_side(p, size, PARENT, "while the child runs");
    int status = wait_for(child);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "pattern size %u: the child %s", size,
          wait_status_str(status));
    check_side(p, size, PARENT, "after the child exited");
    printf("fork_cow_refpage: pattern size %u: pages written, read and untouched before the fork; "
           "after it each process sees only its own writes, untouched bytes read the pattern in "
           "both\n", size);
    CHECK(munmap((void *)p, PAGES * PAGE) == 0 && close(fd) == 0, "cleanup: errno %d", errno);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    run(16);
    run(4096);
    return 0;
}
