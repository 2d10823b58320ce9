/*
 * proc_smaps_rss_counts_touched_pages: in /proc/self/smaps an anonymous
 * mapping's Rss counts the pages written, not those only read (they map
 * the zero page, which is in no Rss: Linux's vm_normal_page); written
 * pages are Private_Dirty and Anonymous with Pss equal to Rss; after fork,
 * while the child lives, they are Shared_Dirty in the parent and Pss is
 * half of Rss; VmRSS in status grows by what was touched. qemu-user's
 * emulated smaps shows Rss 0, so the values are checked on this kernel.
 */
#include <sched.h>
#include <sys/wait.h>

#include "proc_test.h"

static long status_kb(const char *label)
{
    static char buf[1 << 14];
    CHECK(read_file("/proc/self/status", buf, sizeof buf) > 0, "read status: %m");
    const char *v = line_value(buf, label);
    CHECK(v != NULL, "status has no %s", label);
    return strtol(v, NULL, 10);
}

int main(void)
{
    const long P = 4096, pages = 16;
    volatile char *m = map_anonymous(pages * P, PROT_READ | PROT_WRITE);
    const char *fields[] = {"Size:", "Rss:", "Pss:", "Shared_Clean:", "Shared_Dirty:", "Private_Clean:",
                            "Private_Dirty:", "Referenced:", "Anonymous:", "Locked:", "KernelPageSize:"};
    for (unsigned i = 0; i < sizeof fields / sizeof fields[0]; i++)
        CHECK(smaps_field((void *)m, fields[i]) >= 0, "smaps record of %p has no \"%s\" field", m, fields[i]);
    CHECK(smaps_field((void *)m, "Size:") == pages * 4, "Size %ld kB", smaps_field((void *)m, "Size:"));
    CHECK(smaps_field((void *)m, "KernelPageSize:") == 4, "KernelPageSize");
    if (!on_refpage_kernel()) {
        printf("smaps fields present (qemu-user's Rss is always 0: values not checked)\n");
        return 0;
    }
    long rss_before = status_kb("VmRSS:");
    CHECK(smaps_field((void *)m, "Rss:") == 0, "untouched: Rss %ld kB", smaps_field((void *)m, "Rss:"));
    for (long i = 0; i < 8; i++)
        (void)m[i * P];
    CHECK(smaps_field((void *)m, "Rss:") == 0, "8 pages read (the zero page): Rss %ld kB, want 0",
          smaps_field((void *)m, "Rss:"));
    for (long i = 0; i < 4; i++)
        m[i * P] = 1;
    long rss = smaps_field((void *)m, "Rss:"), pss = smaps_field((void *)m, "Pss:");
    long dirty = smaps_field((void *)m, "Private_Dirty:"), anon = smaps_field((void *)m, "Anonymous:");
    printf("4 pages written: Rss %ld, Pss %ld, Private_Dirty %ld, Anonymous %ld kB\n", rss, pss, dirty, anon);
    CHECK(rss == 16 && pss == 16 && dirty == 16 && anon == 16, "want 16 kB each");
    CHECK(smaps_field((void *)m, "Referenced:") == 16, "Referenced");
    long rss_after = status_kb("VmRSS:");
    CHECK(rss_after - rss_before >= 16, "VmRSS %ld -> %ld kB: the 4 pages written are missing", rss_before, rss_after);

    volatile int *go = mmap(NULL, P, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(go != MAP_FAILED, "mmap: %m");
    pid_t child = fork();
    CHECK(child >= 0, "fork: %m");
    if (child == 0) {
        while (!*go)
            sched_yield();
        _exit(0);
    }
    long shared = smaps_field((void *)m, "Shared_Dirty:"), half = smaps_field((void *)m, "Pss:");
    long priv = smaps_field((void *)m, "Private_Dirty:");
    printf("after fork: Shared_Dirty %ld, Private_Dirty %ld, Pss %ld kB\n", shared, priv, half);
    *go = 1;
    int st;
    CHECK(waitpid(child, &st, 0) == child && WIFEXITED(st), "child");
    CHECK(shared == 16 && priv == 0 && half == 8, "want Shared_Dirty 16, Private_Dirty 0, Pss 8");
    CHECK(smaps_field((void *)m, "Private_Dirty:") == 16 && smaps_field((void *)m, "Pss:") == 16,
          "child gone: the pages are private again (Private_Dirty %ld, Pss %ld)",
          smaps_field((void *)m, "Private_Dirty:"), smaps_field((void *)m, "Pss:"));
    return 0;
}
