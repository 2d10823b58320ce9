/*
 * proc_reads_follow_seq_file_rules: how /proc files read. Read one byte at
 * a time, a file gives the same text as in one read; lseek(0) and pread
 * at 0 read it again (and see a mapping made since); SEEK_END is EINVAL;
 * a buffer the program cannot write gets EFAULT and the next read works;
 * write is EBADF; root may open them for writing, as on Linux, and then a
 * write is EINVAL (status), EIO (cpuinfo) or renames the task (comm);
 * the sysctl files refuse a write open (EACCES: this kernel's limits are
 * constants, a listed difference from Linux); O_DIRECTORY on a
 * file is ENOTDIR, read of a directory EISDIR, openat relative to a /proc
 * directory works, mmap is ENODEV; getdents64 lists /proc
 * (self, cpuinfo, this pid) and /proc/self (maps, status, task).
 */
#include <dirent.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "proc_test.h"

static int listed(const char *dir, const char *name)
{
    DIR *d = opendir(dir);
    CHECK(d != NULL, "opendir %s: %m", dir);
    int found = 0;
    for (struct dirent *e; (e = readdir(d));)
        found |= strcmp(e->d_name, name) == 0;
    closedir(d);
    return found;
}

static char whole[1 << 16], bytewise[1 << 16];

int main(void)
{
    int fd = open("/proc/self/maps", O_RDONLY);
    CHECK(fd >= 0, "open maps: %m");
    ssize_t n = read(fd, whole, sizeof whole);
    CHECK(n > 0, "read maps: %zd (%m)", n);
    CHECK(lseek(fd, 0, SEEK_SET) == 0, "lseek 0: %m");
    size_t got = 0;
    for (ssize_t r; (r = read(fd, bytewise + got, 1)) == 1;)
        got++;
    CHECK(got == (size_t)n && memcmp(whole, bytewise, got) == 0, "byte by byte: %zu bytes, whole: %zd; differ", got, n);
    CHECK(read(fd, bytewise, 1) == 0, "read past the end is not 0");

    /* A mapping made now shows on the next read from 0 (qemu-user answers
     * from a copy made at open). */
    void *m = map_anonymous(3 * 4096, PROT_READ);
    char want[64];
    snprintf(want, sizeof want, "%lx-%lx r--p", (unsigned long)m, (unsigned long)m + 3 * 4096);
    CHECK(pread(fd, whole, sizeof whole - 1, 0) > 0, "pread at 0: %m");
    CHECK(strstr(whole, want) != NULL || !on_refpage_kernel(), "pread at 0 does not show the new mapping %s", want);
    if (on_refpage_kernel()) /* Linux's seq_lseek; qemu-user's copy is a plain file */
        CHECK(lseek(fd, 0, SEEK_END) == -1 && errno == EINVAL, "SEEK_END: %m");

    /* EFAULT, and the file still reads. */
    CHECK(lseek(fd, 0, SEEK_SET) == 0, "lseek");
    void *nowhere = (void *)(uintptr_t)16;
    __asm__("" : "+r"(nowhere));
    CHECK(read(fd, nowhere, 64) == -1 && errno == EFAULT, "read into an unmapped buffer: %m");
    CHECK(read(fd, (void *)m, 64) == -1 && errno == EFAULT, "read into a read-only buffer: %m");
    CHECK(read(fd, whole, 16) == 16, "read after EFAULT: %m");
    if (on_refpage_kernel()) /* qemu-user's copy takes writes */
        CHECK(write(fd, whole, 1) == -1 && errno == EBADF, "write to a read-only descriptor: %m");
    close(fd);

    if (on_refpage_kernel()) { /* qemu-user's copies take writes */
        int w = open("/proc/self/status", O_WRONLY);
        CHECK(w >= 0, "open status O_WRONLY as root: %m");
        CHECK(write(w, "x", 1) == -1 && errno == EINVAL, "write to status: %m");
        close(w);
        w = open("/proc/cpuinfo", O_RDWR);
        CHECK(w >= 0, "open cpuinfo O_RDWR as root: %m");
        CHECK(write(w, "x", 1) == -1 && errno == EIO, "write to cpuinfo: %m");
        close(w);
        w = open("/proc/self/comm", O_WRONLY);
        CHECK(w >= 0 && write(w, "renamed-by-proc-comm", 20) == 20, "write to comm: %m");
        close(w);
        char name[17] = { 0 };
        CHECK(prctl(PR_GET_NAME, name) == 0 && strcmp(name, "renamed-by-proc") == 0,
              "after writing comm, PR_GET_NAME gives \"%s\", want its first 15 bytes", name);
        errno = 0;
        CHECK(open("/proc/sys/vm/max_map_count", O_WRONLY) == -1 && errno == EACCES, "open a sysctl O_WRONLY: %m");
    }
    CHECK(open("/proc/meminfo", O_RDONLY | O_DIRECTORY) == -1 && errno == ENOTDIR, "O_DIRECTORY on a file: %m");
    CHECK(open("/proc/self/nothing", O_RDONLY) == -1 && errno == ENOENT, "a missing file: %m");
    CHECK(open("/proc/999999/status", O_RDONLY) == -1 && errno == ENOENT, "a missing pid: %m");
    int dfd = open("/proc/self", O_RDONLY | O_DIRECTORY);
    CHECK(dfd >= 0, "open /proc/self O_DIRECTORY: %m");
    CHECK(read(dfd, whole, 16) == -1 && errno == EISDIR, "read of a directory: %m");
    int rel = openat(dfd, "status", O_RDONLY);
    CHECK(rel >= 0 && read(rel, whole, 5) == 5 && memcmp(whole, "Name:", 5) == 0, "openat(/proc/self, \"status\"): %m");
    if (on_refpage_kernel()) /* qemu-user's copy is a plain file */
        CHECK(mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, rel, 0) == MAP_FAILED && errno == ENODEV, "mmap of status: %m");
    close(rel);
    CHECK(syscall(SYS_getdents64, dfd, nowhere, 4096) == -1 && errno == EFAULT, "getdents64 into nowhere: %m");
    if (on_refpage_kernel()) /* qemu-user says EFAULT */
        CHECK(syscall(SYS_getdents64, dfd, whole, 8) == -1 && errno == EINVAL, "getdents64 into 8 bytes: %m");
    close(dfd);
    CHECK(syscall(SYS_getdents64, 0, whole, sizeof whole) == -1 && errno == ENOTDIR, "getdents64 of stdin: %m");

    char pid[16];
    snprintf(pid, sizeof pid, "%d", getpid());
    CHECK(listed("/proc", "self") && listed("/proc", "cpuinfo") && listed("/proc", "meminfo") && listed("/proc", pid),
          "/proc lists self, cpuinfo, meminfo and %s", pid);
    CHECK(listed("/proc/self", "maps") && listed("/proc/self", "status") && listed("/proc/self", "task") &&
              listed("/proc/self", "exe"),
          "/proc/self lists maps, status, task, exe");
    CHECK(read_file("/proc/sys/vm/max_map_count", whole, sizeof whole) > 0 && strtol(whole, NULL, 10) >= 65530,
          "max_map_count: %s", whole);
    CHECK(read_file("/proc/sys/vm/mmap_min_addr", whole, sizeof whole) > 0 && strtol(whole, NULL, 10) >= 4096,
          "mmap_min_addr: %s", whole);
    printf("maps read whole (%zd bytes) and byte by byte alike; errors as Linux\n", n);
    return 0;
}
