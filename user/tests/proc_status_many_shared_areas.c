/*
 * proc_status_many_shared_areas: a process with 2,000 one-page MAP_SHARED
 * areas and 2,000 one-page mappings of one refpage descriptor, every page
 * touched, reads its status in under half a second (the map counts of
 * shared pages are gathered in one pass, not once per area: that took
 * seconds), and the figures add up: RssShmem 8,000 kB for the shared
 * pages, RssFile 8,000 kB for the reference page mapped 2,000 times, whose
 * smaps records each show Shared_Clean 4 kB and a Pss of 0 (4 kB / 2,000):
 * checked for the first refpage area mapped (at the top, in smaps's last
 * 64 KiB window) and the last (in its first), as each window counts the
 * map counts of the areas it shows only. smaps is 3 MB of text here, 48
 * windows (docs/procfs.md has the instructions it takes).
 */
#include <time.h>

#include "proc_test.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static long status_kb(const char *text, const char *label)
{
    const char *v = line_value(text, label);
    CHECK(v != NULL, "status has no %s", label);
    return strtol(v, NULL, 10);
}

int main(void)
{
    if (!on_refpage_kernel()) {
        printf("needs refpage_create and this kernel's status: only on this kernel\n");
        return 0;
    }
    const int n = 2000;
    static char buf[1 << 14];
    // The clock is read through the vDSO: touch its pages before the first
    // reading, so that only this test's mappings change the counts.
    (void)now();
    CHECK(read_file("/proc/self/status", buf, sizeof buf) > 0, "status: %m");
    long shmem0 = status_kb(buf, "RssShmem:\t"), file0 = status_kb(buf, "RssFile:\t");
    static const char pattern[16] = "procfs-refpage!";
    int fd = refpage_create(pattern, sizeof pattern, 0);
    CHECK(fd >= 0, "refpage_create: %m");
    volatile char *first_ref = NULL, *last_ref = NULL;
    for (int i = 0; i < n; i++) {
        volatile char *s = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        volatile char *r = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
        CHECK(s != MAP_FAILED && r != MAP_FAILED, "mmap %d: %m", i);
        s[0] = 1;
        (void)r[0];
        if (!first_ref)
            first_ref = r;
        last_ref = r;
    }
    double t0 = now();
    CHECK(read_file("/proc/self/status", buf, sizeof buf) > 0, "status: %m");
    double t1 = now();
    long shmem = status_kb(buf, "RssShmem:\t") - shmem0, file = status_kb(buf, "RssFile:\t") - file0;
    printf("status read in %.0f ms: RssShmem +%ld kB, RssFile +%ld kB\n", (t1 - t0) * 1e3, shmem, file);
    CHECK(shmem == 4 * n && file == 4 * n, "want +%d kB each", 4 * n);
    CHECK(t1 - t0 < 0.5, "reading status took %.2f s", t1 - t0);
    CHECK(read_file("/proc/self/stat", buf, sizeof buf) > 0, "stat: %m");
    static char smaps[8 << 20];
    CHECK(read_file("/proc/self/smaps", smaps, sizeof smaps) > 0, "smaps: %m");
    double t2 = now();
    long last_sc = smaps_field_in(smaps, (void *)last_ref, "Shared_Clean:");
    long last_pss = smaps_field_in(smaps, (void *)last_ref, "Pss:");
    long first_sc = smaps_field_in(smaps, (void *)first_ref, "Shared_Clean:");
    long first_pss = smaps_field_in(smaps, (void *)first_ref, "Pss:");
    printf("stat and smaps read in %.0f ms; the first and last refpage areas: Shared_Clean %ld and %ld kB, Pss %ld and "
           "%ld kB\n",
           (t2 - t1) * 1e3, first_sc, last_sc, first_pss, last_pss);
    CHECK(first_sc == 4 && last_sc == 4 && first_pss == 0 && last_pss == 0, "want Shared_Clean 4, Pss 0");
    return 0;
}
