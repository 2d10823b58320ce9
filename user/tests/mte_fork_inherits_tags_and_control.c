/*
 * mte_fork_inherits_tags_and_control: a child made by fork() starts with
 * its parent's tag-check control (PR_GET_TAGGED_ADDR_CTRL reads the same;
 * IRG honours the same include mask; sync checking is on) and sees the
 * parent's PROT_MTE memory with its allocation tags. Its first write to a
 * shared private page copies it with the tags (copy-on-write keeps them:
 * LDG reads the same tags after the copy, and a wrong tag still faults),
 * and the parent's page keeps its data and tags. Skipped (exit 0) without
 * HWCAP2_MTE.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "refpage_test.h"

#define PAGE 4096

static unsigned tag_for(int g)
{
    return 1 + g % 15;
}

static void check_tags(const volatile unsigned char *p, const char *who)
{
    for (int g = 0; g < PAGE / MTE_GRANULE; g++) {
        unsigned t = mte_ldg(p + g * MTE_GRANULE);
        CHECK(t == tag_for(g), "%s: granule %d has tag %#x, want %#x", who, g, t, tag_for(g));
    }
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    MTE_SKIP_UNLESS_SUPPORTED("mte_fork_inherits_tags_and_control");

    volatile unsigned char *p = map_anonymous(PAGE, PROT_READ | PROT_WRITE | PROT_MTE);
    for (int g = 0; g < PAGE / MTE_GRANULE; g++) {
        mte_stg(p + g * MTE_GRANULE, tag_for(g));
        *(volatile unsigned char *)mte_tagged(p + g * MTE_GRANULE, tag_for(g)) = (unsigned char)g;
    }
    const unsigned long ctrl = PR_TAGGED_ADDR_ENABLE | PR_MTE_TCF_SYNC | (0x0020UL << PR_MTE_TAG_SHIFT);
    mte_set_ctrl(ctrl);
    catch_signal(SIGSEGV, 0, 1);
    caught()->skip_code = SEGV_MTESERR;

    pid_t child = fork();
    CHECK(child >= 0, "fork: errno %d (%s)", errno, strerror(errno));
    if (child == 0) {
        long got = prctl(PR_GET_TAGGED_ADDR_CTRL, 0, 0, 0, 0);
        CHECK(got == (long)ctrl, "child: GET returned %#lx, want the parent's %#lx", got, ctrl);
        for (int i = 0; i < 64; i++) {
            unsigned t = tag_of(mte_irg(p));
            CHECK(t == 5, "child: IRG gave tag %#x with the inherited include mask {5}", t);
        }
        check_tags(p, "child, before writing");
        volatile unsigned char *w = mte_tagged(p + 7 * MTE_GRANULE + 1, tag_for(7));
        *w = 0xee;
        CHECK(caught()->count == 0 && *w == 0xee, "child: write through the right tag: %s",
              caught_str());
        check_tags(p, "child, after the copy-on-write");
        uintptr_t pc;
        load_byte_at(mte_tagged(p + 9 * MTE_GRANULE, tag_for(9) ^ 1), &pc);
        CHECK(caught()->count == 1 && caught()->code == SEGV_MTESERR,
              "child: a wrong-tag load after the copy: want SEGV_MTESERR (sync checking "
              "inherited); saw %s", caught_str());
        printf("mte_fork_inherits_tags_and_control: child: same prctl state and IRG mask, the "
               "parent's tags; copy-on-write kept them; wrong tags fault\n");
        _exit(0);
    }
    int status = 0;
    CHECK(waitpid(child, &status, 0) == child, "waitpid: errno %d", errno);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child ended with status %#x", status);
    check_tags(p, "parent, after the child wrote");
    unsigned char b = *(volatile unsigned char *)mte_tagged(p + 7 * MTE_GRANULE + 1, tag_for(7));
    CHECK(b == 0, "parent: byte the child wrote reads %#x, want the parent's 0", b);
    printf("mte_fork_inherits_tags_and_control: parent: its page keeps data and tags\n");
    return 0;
}
