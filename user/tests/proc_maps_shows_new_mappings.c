/*
 * proc_maps_shows_new_mappings: a mapping the program makes appears in
 * /proc/self/maps with its range and permissions ("rw-p", "r--p" after
 * mprotect splits it, "rw-s" for MAP_SHARED), and in smaps with the
 * matching VmFlags (rd wr, sh when shared; on this
 * kernel also mr mw me, ms when shared, and mt: qemu-user's emulated smaps
 * leaves those out);
 * the stack area is named [stack] and holds a local variable; unmapping
 * removes the line.
 */
#include "proc_test.h"

static void expect_line(void *addr, unsigned long lo, unsigned long hi, const char *perms)
{
    const char *line = maps_line(addr);
    CHECK(line != NULL, "no maps line holds %p", addr);
    unsigned long a, b, off;
    char p[5];
    unsigned major, minor;
    unsigned long ino;
    CHECK(sscanf(line, "%lx-%lx %4s %lx %x:%x %lu", &a, &b, p, &off, &major, &minor, &ino) == 7,
          "maps line not in Linux's format: \"%s\"", line);
    CHECK(a == lo && b == hi && strcmp(p, perms) == 0, "maps line \"%s\", want %lx-%lx %s", line, lo, hi, perms);
}

static void expect_flags(void *addr, const char *const *want, const char *const *absent)
{
    const char *flags = smaps_vmflags(addr);
    CHECK(flags[0] != 0, "no smaps VmFlags for %p", addr);
    for (; want && *want; want++) {
        const char *w = *want;
        if (*w == '+') {
            if (!on_refpage_kernel())
                continue;
            w++;
        }
        char code[8];
        snprintf(code, sizeof code, " %s ", w);
        CHECK(strstr(flags, code), "VmFlags of %p are \"%s\": %s missing", addr, flags, w);
    }
    for (; absent && *absent; absent++) {
        char code[8];
        snprintf(code, sizeof code, " %s ", *absent);
        CHECK(!strstr(flags, code), "VmFlags of %p are \"%s\": %s should not be there", addr, flags, *absent);
    }
}

int main(void)
{
    const long P = 4096;
    char *m = map_anonymous(4 * P, PROT_READ | PROT_WRITE);
    unsigned long lo = (unsigned long)m;
    expect_line(m, lo, lo + 4 * P, "rw-p");
    expect_flags(m, (const char *const[]){"rd", "wr", "+mr", "+mw", "+me", NULL}, (const char *const[]){"ex", "sh", "mt", NULL});

    CHECK(mprotect(m + P, P, PROT_READ) == 0, "mprotect: %m");
    expect_line(m, lo, lo + P, "rw-p");
    expect_line(m + P, lo + P, lo + 2 * P, "r--p");
    expect_line(m + 2 * P, lo + 2 * P, lo + 4 * P, "rw-p");
    expect_flags(m + P, (const char *const[]){"rd", "+mr", "+mw", NULL}, (const char *const[]){"wr", NULL});

    CHECK(munmap(m, 4 * P) == 0, "munmap: %m");
    const char *gone = maps_line(m);
    CHECK(gone == NULL || strtoul(gone, NULL, 16) > lo + 3 * P || strtoul(strchr(gone, '-') + 1, NULL, 16) <= lo,
          "after munmap %p is still in \"%s\"", m, gone);

    char *s = mmap(NULL, 2 * P, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(s != MAP_FAILED, "mmap MAP_SHARED: %m");
    expect_line(s, (unsigned long)s, (unsigned long)s + 2 * P, "rw-s");
    expect_flags(s, (const char *const[]){"rd", "wr", "sh", "+mr", "+mw", "+me", "+ms", NULL}, NULL);

    if (mte_supported()) {
        char *t = mmap(NULL, P, PROT_READ | PROT_WRITE | PROT_MTE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        CHECK(t != MAP_FAILED, "mmap PROT_MTE: %m");
        expect_line(t, (unsigned long)t, (unsigned long)t + P, "rw-p");
        expect_flags(t, (const char *const[]){"rd", "wr", "+mt", NULL}, NULL);
        printf("PROT_MTE mapping: VmFlags%s\n", smaps_vmflags(t));
    }

    int local = 0;
    const char *stack = maps_line(&local);
    CHECK(stack && strstr(stack, "[stack]"), "the area holding a local variable is \"%s\", want [stack]",
          stack ? stack : "(none)");
    printf("stack: %s\n", stack);
    return 0;
}
