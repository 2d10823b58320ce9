/*
 * fd_table: the descriptor table behaves as Linux's (fs/file.c, fs/fcntl.c):
 *  - 0-2 are the console: open, and writing to 1 works (also through a dup);
 *  - dup gives the lowest free descriptor, sharing the open file, without
 *    close-on-exec;
 *  - dup3(fd, newfd, O_CLOEXEC) gives exactly newfd with close-on-exec, and
 *    dup3 onto an open newfd replaces it; dup3 with fd == newfd or flags
 *    other than O_CLOEXEC is EINVAL;
 *  - F_SETFD 0 / FD_CLOEXEC round-trips through F_GETFD;
 *  - F_DUPFD(fd, 10) gives a descriptor >= 10 without close-on-exec,
 *    F_DUPFD_CLOEXEC one with it;
 *  - close of a descriptor never opened (999, -1) is EBADF, and every
 *    operation on a closed descriptor is EBADF.
 * The descriptors are refpage descriptors (refpage_create(2)).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "refpage_test.h"

#define PAGE 4096

static unsigned char content[8] __attribute__((aligned(8))) = {1, 2, 3, 4, 5, 6, 7, 8};

static int fd_flags(int fd)
{
    int f = fcntl(fd, F_GETFD);
    CHECK(f != -1, "fcntl(%d, F_GETFD): errno %d (%s)", fd, errno, strerror(errno));
    return f;
}

static unsigned long ino(int fd)
{
    struct stat st;
    CHECK(fstat(fd, &st) == 0, "fstat(%d): errno %d (%s)", fd, errno, strerror(errno));
    return (unsigned long)st.st_ino;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);

    /* The console. */
    for (int fd = 0; fd <= 2; fd++)
        fd_flags(fd);
    static const char line[] = "fd_table: write(1) reaches the console\n";
    fflush(stdout);
    ssize_t n = write(1, line, sizeof(line) - 1);
    CHECK(n == (ssize_t)sizeof(line) - 1, "write(1) returned %zd, errno %d", n, errno);

    int fd = refpage_create(content, sizeof(content), 0);
    CHECK(fd == 3, "refpage_create returned %d (errno %d); want 3", fd, errno);

    int con = dup(1);
    CHECK(con == 4, "dup(1) returned %d (errno %d); want 4, the lowest free", con, errno);
    static const char dupline[] = "fd_table: write to dup(1) reaches the console\n";
    n = write(con, dupline, sizeof(dupline) - 1);
    CHECK(n == (ssize_t)sizeof(dupline) - 1, "write(dup(1)) returned %zd, errno %d", n, errno);
    CHECK(close(con) == 0, "close(%d): errno %d", con, errno);

    /* dup */
    int d = dup(fd);
    CHECK(d == 4, "dup(3) returned %d (errno %d); want 4, the lowest free", d, errno);
    CHECK(fd_flags(d) == 0, "dup'd fd %d has F_GETFD %d; want 0 (dup clears close-on-exec)", d,
          fd_flags(d));
    CHECK(fd_flags(fd) == FD_CLOEXEC, "dup changed the original's F_GETFD to %d", fd_flags(fd));
    CHECK(ino(d) == ino(fd), "dup'd fd has st_ino %lu, the original %lu", ino(d), ino(fd));
    unsigned char *p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, d, 0);
    CHECK(p != MAP_FAILED, "mmap of the dup'd refpage fd: errno %d (%s)", errno, strerror(errno));
    CHECK_PATTERN(p, PAGE, content, sizeof(content), "mapping of the dup'd descriptor");
    CHECK(munmap(p, PAGE) == 0, "munmap: errno %d", errno);
    printf("fd_table: dup(3) -> 4, not close-on-exec, same file (st_ino, mapping)\n");

    /* dup3 */
    int r = dup3(fd, 9, O_CLOEXEC);
    CHECK(r == 9, "dup3(3, 9, O_CLOEXEC) returned %d (errno %d); want 9", r, errno);
    CHECK(fd_flags(9) == FD_CLOEXEC, "dup3(.., O_CLOEXEC) gave F_GETFD %d; want FD_CLOEXEC",
          fd_flags(9));
    r = dup3(d, 9, 0);
    CHECK(r == 9, "dup3(4, 9, 0) onto the open fd 9 returned %d (errno %d); want 9", r, errno);
    CHECK(fd_flags(9) == 0, "dup3(.., 0) onto fd 9 left F_GETFD %d; want 0", fd_flags(9));
    printf("fd_table: dup3(3, 9, O_CLOEXEC) -> 9 with FD_CLOEXEC; dup3(4, 9, 0) replaces it "
           "without\n");
    CHECK_ERRNO(dup3(fd, fd, 0), EINVAL);
    CHECK_ERRNO(dup3(fd, fd, O_CLOEXEC), EINVAL);
    printf("fd_table: dup3(3, 3, ...) -> EINVAL\n");
    CHECK_ERRNO(dup3(fd, 10, O_NONBLOCK), EINVAL);
    CHECK_ERRNO(dup3(fd, 10, O_CLOEXEC | 1), EINVAL);
    CHECK_ERRNO(dup3(fd, 10, ~O_CLOEXEC), EINVAL);
    CHECK_ERRNO(fcntl(10, F_GETFD), EBADF);
    printf("fd_table: dup3 with flags other than O_CLOEXEC -> EINVAL, fd 10 stays closed\n");

    /* F_SETFD */
    CHECK(fcntl(fd, F_SETFD, 0) == 0, "F_SETFD 0: errno %d", errno);
    CHECK(fd_flags(fd) == 0, "after F_SETFD 0, F_GETFD is %d", fd_flags(fd));
    CHECK(fcntl(fd, F_SETFD, FD_CLOEXEC) == 0, "F_SETFD FD_CLOEXEC: errno %d", errno);
    CHECK(fd_flags(fd) == FD_CLOEXEC, "after F_SETFD FD_CLOEXEC, F_GETFD is %d", fd_flags(fd));
    printf("fd_table: F_SETFD 0 and FD_CLOEXEC read back through F_GETFD\n");

    /* F_DUPFD, F_DUPFD_CLOEXEC */
    int e = fcntl(fd, F_DUPFD, 10);
    CHECK(e >= 10, "fcntl(3, F_DUPFD, 10) returned %d (errno %d); want >= 10", e, errno);
    CHECK(fd_flags(e) == 0, "F_DUPFD result %d has F_GETFD %d; want 0", e, fd_flags(e));
    int f = fcntl(fd, F_DUPFD_CLOEXEC, 10);
    CHECK(f >= 10 && f != e, "fcntl(3, F_DUPFD_CLOEXEC, 10) returned %d (errno %d); want >= 10, "
                             "not %d", f, errno, e);
    CHECK(fd_flags(f) == FD_CLOEXEC, "F_DUPFD_CLOEXEC result %d has F_GETFD %d", f, fd_flags(f));
    CHECK(ino(e) == ino(fd) && ino(f) == ino(fd), "F_DUPFD results are not the same file");
    printf("fd_table: F_DUPFD(3, 10) -> %d, F_DUPFD_CLOEXEC(3, 10) -> %d with FD_CLOEXEC\n", e, f);

    /* EBADF */
    CHECK_ERRNO(close(999), EBADF);
    CHECK_ERRNO(close(-1), EBADF);
    CHECK_ERRNO(close(100000), EBADF);
    printf("fd_table: close(999), close(-1), close(100000) -> EBADF\n");

    CHECK(close(e) == 0, "close(%d): errno %d", e, errno);
    char buf[8];
    struct stat st;
    CHECK_ERRNO(close(e), EBADF);
    CHECK_ERRNO(fcntl(e, F_GETFD), EBADF);
    CHECK_ERRNO(fcntl(e, F_SETFD, 0), EBADF);
    CHECK_ERRNO(fcntl(e, F_GETFL), EBADF);
    CHECK_ERRNO(fcntl(e, F_DUPFD, 0), EBADF);
    CHECK_ERRNO(dup(e), EBADF);
    CHECK_ERRNO(dup3(e, 20, 0), EBADF);
    CHECK_ERRNO(read(e, buf, sizeof(buf)), EBADF);
    CHECK_ERRNO(write(e, buf, sizeof(buf)), EBADF);
    CHECK_ERRNO(lseek(e, 0, SEEK_SET), EBADF);
    CHECK_ERRNO(fstat(e, &st), EBADF);
    CHECK_ERRNO(mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, e, 0), EBADF);
    CHECK_ERRNO(fcntl(20, F_GETFD), EBADF);
    printf("fd_table: on closed fd %d: close, fcntl, dup, dup3, read, write, lseek, fstat, mmap "
           "-> EBADF\n", e);

    /* The lowest free is reused. */
    CHECK(close(d) == 0, "close(4): errno %d", errno);
    d = dup(fd);
    CHECK(d == 4, "dup after close(4) returned %d; want 4", d);
    printf("fd_table: after close(4), dup gives 4 again\n");

    CHECK(close(d) == 0 && close(9) == 0 && close(f) == 0 && close(fd) == 0, "close: errno %d",
          errno);
    return 0;
}
