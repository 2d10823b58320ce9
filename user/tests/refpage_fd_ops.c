/*
 * refpage_fd_ops: a refpage descriptor is only for mmap. read(2) fails with
 * EINVAL (the man page: not supported), write(2) with EBADF (the descriptor
 * is read-only), lseek(2) with ESPIPE (project decision). fstat(2) reports a
 * read-only regular file: st_mode S_IFREG | 0400, st_size the pattern size,
 * st_blksize 4096, st_nlink 1, and an inode number that is not 0 and
 * differs between two refpages. Checked through glibc's fstat (newfstatat
 * with AT_EMPTY_PATH) and the fstat system call itself.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "refpage_test.h"

static unsigned char content[4096] __attribute__((aligned(4096)));

/* Checks st for a refpage of pattern size `size`; how = which call. */
static void check_stat(const struct stat *st, unsigned size, const char *how)
{
    CHECK(st->st_mode == (S_IFREG | 0400), "%s: st_mode %#o, want %#o (S_IFREG | 0400)", how,
          (unsigned)st->st_mode, (unsigned)(S_IFREG | 0400));
    CHECK(st->st_size == (off_t)size, "%s: st_size %lld, want %u (the pattern size)", how,
          (long long)st->st_size, size);
    CHECK(st->st_blksize == 4096, "%s: st_blksize %ld, want 4096", how, (long)st->st_blksize);
    CHECK(st->st_nlink == 1, "%s: st_nlink %lu, want 1", how, (unsigned long)st->st_nlink);
    CHECK(st->st_ino != 0, "%s: st_ino is 0", how);
    printf("refpage_fd_ops: %s: mode %#o, size %lld, blksize %ld, nlink %lu, ino %lu\n", how,
           (unsigned)st->st_mode, (long long)st->st_size, (long)st->st_blksize,
           (unsigned long)st->st_nlink, (unsigned long)st->st_ino);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    memset(content, 0x3c, sizeof(content));

    int fd = refpage_create(content, 16, 0);
    CHECK(fd >= 0, "refpage_create: errno %d (%s)", errno, strerror(errno));
    char buf[64];

    CHECK_ERRNO(read(fd, buf, sizeof(buf)), EINVAL);
    CHECK_ERRNO(read(fd, buf, 1), EINVAL);
    printf("refpage_fd_ops: read -> -1, EINVAL\n");
    CHECK_ERRNO(write(fd, buf, sizeof(buf)), EBADF);
    CHECK_ERRNO(write(fd, buf, 1), EBADF);
    printf("refpage_fd_ops: write -> -1, EBADF\n");
    CHECK_ERRNO(lseek(fd, 0, SEEK_SET), ESPIPE);
    CHECK_ERRNO(lseek(fd, 4096, SEEK_CUR), ESPIPE);
    CHECK_ERRNO(lseek(fd, 0, SEEK_END), ESPIPE);
    printf("refpage_fd_ops: lseek SEEK_SET/SEEK_CUR/SEEK_END -> -1, ESPIPE\n");

    struct stat st;
    memset(&st, 0xa5, sizeof(st));
    CHECK(fstat(fd, &st) == 0, "fstat (glibc, newfstatat AT_EMPTY_PATH): errno %d (%s)", errno,
          strerror(errno));
    check_stat(&st, 16, "fstat (newfstatat)");
    struct stat raw;
    memset(&raw, 0xa5, sizeof(raw));
    CHECK(syscall(SYS_fstat, fd, &raw) == 0, "fstat system call: errno %d (%s)", errno,
          strerror(errno));
    check_stat(&raw, 16, "fstat (system call)");
    CHECK(raw.st_ino == st.st_ino, "the two fstat calls disagree on st_ino: %lu vs %lu",
          (unsigned long)raw.st_ino, (unsigned long)st.st_ino);

    int fd2 = refpage_create(content, 4096, 0);
    CHECK(fd2 >= 0, "refpage_create (size 4096): errno %d (%s)", errno, strerror(errno));
    struct stat st2;
    CHECK(fstat(fd2, &st2) == 0, "fstat of the second refpage: errno %d", errno);
    check_stat(&st2, 4096, "second refpage, fstat");
    CHECK(st2.st_ino != st.st_ino, "two refpages share st_ino %lu", (unsigned long)st.st_ino);
    printf("refpage_fd_ops: two refpages have different inode numbers (%lu, %lu)\n",
           (unsigned long)st.st_ino, (unsigned long)st2.st_ino);

    CHECK(close(fd) == 0 && close(fd2) == 0, "close: errno %d", errno);
    return 0;
}
