/*
 * tmp_mkstemp_tmpfile_unlink_while_open: /tmp is a writable tmpfs (the
 * /dev/shm code): mkstemp makes a file there, it keeps its data after
 * unlink while open, and glibc's tmpfile works (O_TMPFILE first: an
 * unnamed file in the directory). O_TMPFILE needs O_DIRECTORY's bits and
 * write access (EINVAL otherwise, Linux's build_open_flags), and a
 * directory: ENOENT for one that does not exist.
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

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    char name[] = "/tmp/testXXXXXX";
    int fd = mkstemp(name);
    CHECK(fd >= 0, "mkstemp: %m");
    CHECK(write(fd, "hello", 5) == 5, "write: %m");
    CHECK(unlink(name) == 0, "unlink %s: %m", name);
    CHECK(open(name, O_RDONLY) == -1 && errno == ENOENT, "%s still opens after unlink", name);
    char buf[8] = {0};
    CHECK(pread(fd, buf, 5, 0) == 5 && memcmp(buf, "hello", 5) == 0, "after unlink read '%s'", buf);
    char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED, "mmap of an unlinked file: %m");
    CHECK(memcmp(m, "hello", 5) == 0, "the mapping holds '%.5s'", m);
    CHECK(close(fd) == 0 && munmap(m, 4096) == 0, "close, munmap: %m");
    printf("mkstemp in /tmp, unlink while open: data kept\n");

    FILE *f = tmpfile();
    CHECK(f != NULL, "tmpfile: %m");
    CHECK(fputs("tmpfile data", f) >= 0 && fflush(f) == 0, "fputs: %m");
    rewind(f);
    char line[32] = {0};
    CHECK(fgets(line, sizeof line, f) && strcmp(line, "tmpfile data") == 0, "tmpfile read back '%s'", line);
    CHECK(fclose(f) == 0, "fclose: %m");

    int t = open("/tmp", O_TMPFILE | O_RDWR, 0600);
    CHECK(t >= 0, "O_TMPFILE in /tmp: %m");
    struct stat st;
    CHECK(fstat(t, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0, "fstat of the unnamed file");
    CHECK(write(t, "x", 1) == 1 && fstat(t, &st) == 0 && st.st_size == 1, "write: size %ld", (long)st.st_size);
    close(t);
    t = open("/dev/shm/", O_TMPFILE | O_WRONLY | O_EXCL, 0600);
    CHECK(t >= 0, "O_TMPFILE | O_EXCL in /dev/shm/: %m");
    close(t);
    CHECK_ERRNO(open("/tmp", O_TMPFILE | O_RDONLY, 0600), EINVAL);
    CHECK_ERRNO(open("/tmp", O_TMPFILE | O_CREAT | O_RDWR, 0600), EINVAL);
    CHECK_ERRNO(open("/tmp", 020000000 | O_RDWR, 0600), EINVAL); /* __O_TMPFILE without O_DIRECTORY */
    CHECK_ERRNO(open("/nonexistent", O_TMPFILE | O_RDWR, 0600), ENOENT);
    printf("tmpfile and O_TMPFILE: an unnamed file; its rules as Linux\n");
    return 0;
}
