/*
 * proc_meminfo_counts_frames: /proc/meminfo has Linux's lines ("Label:"
 * padded to 16 columns, the value in 8, " kB"), MemTotal agrees with
 * sysinfo(2), and on this kernel the counts follow the frame allocator:
 * touching 2048 pages of private memory takes about 8 MiB from MemFree and
 * adds it to AnonPages (with the program's own few pages touched meanwhile); /dev/shm pages show in Shmem and Cached.
 */
#include <sys/sysinfo.h>

#include "proc_test.h"

static long field(const char *text, const char *label)
{
    const char *v = line_value(text, label);
    CHECK(v != NULL, "meminfo has no %s line", label);
    long kb = -1;
    char unit[4] = "";
    CHECK(sscanf(v, "%ld %3s", &kb, unit) == 2 && strcmp(unit, "kB") == 0, "%s line: \"%.30s\"", label, v);
    return kb;
}

static char before[1 << 14], after[1 << 14];

int main(void)
{
    CHECK(read_file("/proc/meminfo", before, sizeof before) > 0, "read /proc/meminfo: %m");
    /* Every line: a label of 16 columns (colon included) and " kB", except
     * the HugePages_ counts. */
    for (char *p = before; *p; p = strchr(p, '\n') + 1) {
        size_t len = strcspn(p, "\n");
        CHECK(memchr(p, ':', len) != NULL, "line without a label: %.*s", (int)len, p);
        if (strncmp(p, "HugePages_", 10) != 0 && strncmp(p, "DirectMap", 9) != 0 && strncmp(p, "Hardware", 8) != 0)
            CHECK(len >= 27 && strncmp(p + len - 3, " kB", 3) == 0 && p[23] != ' ',
                  "line not \"%%-16s%%8lu kB\": \"%.*s\"", (int)len, p);
    }
    long total = field(before, "MemTotal:"), free_kb = field(before, "MemFree:");
    long avail = field(before, "MemAvailable:");
    long anon = field(before, "AnonPages:"), shmem = field(before, "Shmem:"), cached = field(before, "Cached:");
    CHECK(0 < free_kb && free_kb <= total && avail <= total, "MemTotal %ld, MemFree %ld, MemAvailable %ld", total,
          free_kb, avail);
    struct sysinfo si;
    CHECK(sysinfo(&si) == 0, "sysinfo: %m");
    long si_total = (long)(si.totalram * si.mem_unit / 1024);
    CHECK(si_total == total, "sysinfo totalram %ld kB, meminfo MemTotal %ld kB", si_total, total);
    CHECK(field(before, "SwapTotal:") >= 0 && field(before, "Mlocked:") >= 0 && field(before, "Buffers:") >= 0,
          "Swap/Mlocked/Buffers");
    if (!on_refpage_kernel()) {
        printf("meminfo format checked (values are the host's under qemu-user)\n");
        return 0;
    }

    const long pages = 2048;
    char *m = map_anonymous(pages * 4096, PROT_READ | PROT_WRITE);
    for (long i = 0; i < pages; i++)
        m[i * 4096] = 1;
    int fd = open("/dev/shm/proc_meminfo", O_RDWR | O_CREAT | O_EXCL, 0600);
    CHECK(fd >= 0, "create /dev/shm/proc_meminfo: %m");
    static char page[4096];
    for (int i = 0; i < 64; i++)
        CHECK(write(fd, page, sizeof page) == sizeof page, "write: %m");
    CHECK(read_file("/proc/meminfo", after, sizeof after) > 0, "read /proc/meminfo again: %m");
    long d_free = free_kb - field(after, "MemFree:"), d_anon = field(after, "AnonPages:") - anon;
    long d_shmem = field(after, "Shmem:") - shmem, d_cached = field(after, "Cached:") - cached;
    printf("touching %ld pages and writing 64 to /dev/shm: MemFree -%ld kB, AnonPages +%ld kB, Shmem +%ld kB, Cached "
           "+%ld kB\n",
           pages, d_free, d_anon, d_shmem, d_cached);
    /* The pages touched, and the few this program's buffers took on the way. */
    CHECK(d_anon >= pages * 4 && d_anon <= pages * 4 + 64, "AnonPages grew by %ld kB, want %ld", d_anon, pages * 4);
    CHECK(d_shmem == 64 * 4 && d_cached == 64 * 4, "Shmem +%ld kB, Cached +%ld kB, want 256 each", d_shmem, d_cached);
    /* The frames themselves, plus page tables and the heap's pages. */
    CHECK(d_free >= (pages + 64) * 4 && d_free < (pages + 64) * 4 + 1024, "MemFree fell by %ld kB, want about %ld",
          d_free, (pages + 64) * 4);
    close(fd);
    unlink("/dev/shm/proc_meminfo");
    return 0;
}
