/*
 * proc_open_creat_rules: open with O_CREAT in /proc, as Linux 6.1 answers
 * root (lookup_open, do_open): a new name cannot be made (procfs's
 * directories have no create operation: EACCES), an existing one is EEXIST
 * with O_EXCL and opens without it, a directory is EISDIR, and a missing
 * or non-directory parent is ENOENT or ENOTDIR.
 */
#include "proc_test.h"

#define OPEN_FAILS(path, flags, want)                                                                   \
    do {                                                                                                \
        errno = 0;                                                                                      \
        int fd_ = open(path, flags, 0644);                                                              \
        CHECK(fd_ == -1 && errno == (want), "open(%s, %s): %d (%m), want %s", path, #flags, fd_, #want); \
    } while (0)

int main(void)
{
    OPEN_FAILS("/proc/newfile", O_CREAT | O_RDWR, EACCES);
    OPEN_FAILS("/proc/self/newfile", O_CREAT | O_WRONLY, EACCES);
    OPEN_FAILS("/proc/self/comm", O_CREAT | O_EXCL | O_RDWR, EEXIST);
    OPEN_FAILS("/proc/self", O_CREAT | O_EXCL | O_RDONLY, EEXIST);
    OPEN_FAILS("/proc/self", O_CREAT | O_RDONLY, EISDIR);
    OPEN_FAILS("/proc/sys/vm", O_CREAT | O_RDONLY, EISDIR);
    OPEN_FAILS("/proc/99999999/newfile", O_CREAT | O_RDWR, ENOENT);
    OPEN_FAILS("/proc/self/maps/newfile", O_CREAT | O_RDWR, ENOTDIR);
    int fd = open("/proc/self/comm", O_CREAT | O_RDWR, 0644);
    CHECK(fd >= 0, "open(/proc/self/comm, O_CREAT | O_RDWR) of an existing file: %m");
    close(fd);
    printf("O_CREAT in /proc: EACCES, EEXIST, EISDIR, ENOENT, ENOTDIR as Linux\n");
    return 0;
}
