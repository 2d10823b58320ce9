/*
 * readlink_size_checked_before_path: readlinkat checks its buffer size
 * before it looks at the path (Linux's do_readlinkat: bufsiz <= 0 is
 * EINVAL first), so a bad path pointer with a size of 0 or -1 is EINVAL,
 * not EFAULT; with a good size the bad pointer is EFAULT.
 */
#include <fcntl.h>
#include <sys/syscall.h>

#include "refpage_test.h"

int main(void)
{
    char buf[64];
    const char *bad = (const char *)8;
    errno = 0;
    long r = syscall(SYS_readlinkat, AT_FDCWD, bad, buf, 0);
    CHECK(r == -1 && errno == EINVAL, "readlinkat(bad path, size 0): %ld (%m), want EINVAL", r);
    errno = 0;
    r = syscall(SYS_readlinkat, AT_FDCWD, bad, buf, -1);
    CHECK(r == -1 && errno == EINVAL, "readlinkat(bad path, size -1): %ld (%m), want EINVAL", r);
    errno = 0;
    r = syscall(SYS_readlinkat, AT_FDCWD, bad, buf, sizeof buf);
    CHECK(r == -1 && errno == EFAULT, "readlinkat(bad path, size 64): %ld (%m), want EFAULT", r);
    printf("readlinkat: size first, then the path\n");
    return 0;
}
