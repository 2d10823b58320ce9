/*
 * proc_trailing_slash_needs_a_directory: a /proc path ending in '/' names a
 * directory, following a link in its last component (Linux's
 * link_path_walk sets LOOKUP_FOLLOW | LOOKUP_DIRECTORY): open of a file
 * with a trailing slash is ENOTDIR, readlink("/proc/self/") reads the
 * directory the link leads to (EINVAL, not the link's text), and
 * readlink("/proc/self/exe/") is ENOTDIR (the program is a file).
 */
#include <sys/stat.h>

#include "proc_test.h"

int main(void)
{
    char buf[256];
    errno = 0;
    int fd = open("/proc/self/comm/", O_RDONLY);
    CHECK(fd == -1 && errno == ENOTDIR, "open(\"/proc/self/comm/\"): %d (%m), want ENOTDIR", fd);
    errno = 0;
    fd = open("/proc/meminfo/", O_RDONLY);
    CHECK(fd == -1 && errno == ENOTDIR, "open(\"/proc/meminfo/\"): %d (%m), want ENOTDIR", fd);
    struct stat st;
    errno = 0;
    CHECK(stat("/proc/self/status/", &st) == -1 && errno == ENOTDIR, "stat(\"/proc/self/status/\"): %m, want ENOTDIR");
    errno = 0;
    ssize_t n = readlink("/proc/self/", buf, sizeof buf);
    CHECK(n == -1 && errno == EINVAL, "readlink(\"/proc/self/\"): %zd \"%.*s\" (%m), want EINVAL", n,
          (int)(n > 0 ? n : 0), buf);
    errno = 0;
    n = readlink("/proc/self/exe/", buf, sizeof buf);
    CHECK(n == -1 && errno == ENOTDIR, "readlink(\"/proc/self/exe/\"): %zd \"%.*s\" (%m), want ENOTDIR", n,
          (int)(n > 0 ? n : 0), buf);
    /* Directories are still found with a trailing slash. */
    fd = open("/proc/self/", O_RDONLY | O_DIRECTORY);
    CHECK(fd >= 0, "open(\"/proc/self/\", O_DIRECTORY): %m");
    close(fd);
    CHECK(lstat("/proc/self/", &st) == 0 && S_ISDIR(st.st_mode), "lstat(\"/proc/self/\") follows to a directory");
    CHECK(stat("/proc/", &st) == 0 && S_ISDIR(st.st_mode), "stat(\"/proc/\"): %m");
    printf("trailing slashes: ENOTDIR on files, links followed to directories\n");
    return 0;
}
