/*
 * proc_walk_every_file_of_every_process: with children alive, sleeping,
 * zombie (exited, not reaped) and a second thread, walking /proc with
 * readdir and reading every file of every process listed (in 13 and 4096
 * byte pieces, and into an unmapped buffer) never fails but with ENOENT or
 * ESRCH for a process that went away meanwhile, or EFAULT for the bad
 * buffer (an empty file reads 0); a zombie's status says "Z (zombie)" and its maps are empty.
 */
#include <dirent.h>
#include <pthread.h>
#include <sys/wait.h>

#include "proc_test.h"

static void *idle(void *arg)
{
    (void)arg;
    for (;;)
        pause();
    return NULL;
}

static unsigned long files, bytes;

static void read_pagemap(const char *path)
{
    static char buf[4096];
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        CHECK(errno == ENOENT || errno == ESRCH, "open %s: %m", path);
        return;
    }
    CHECK(read(fd, buf, 13) == -1 && (errno == EINVAL || errno == ESRCH), "read %s in 13 bytes: %m", path);
    ssize_t n = pread(fd, buf, sizeof buf, 0);
    CHECK(n == sizeof buf || n == 0 || (n == -1 && errno == ESRCH), "pread %s: %zd, %m", path, n);
    bytes += n > 0 ? (unsigned long)n : 0;
    close(fd);
    files++;
}

static void read_all(const char *path)
{
    static const size_t sizes[] = {13, 4096};
    static char buf[4096];
    const char *name = strrchr(path, '/');
    if (name && strcmp(name, "/pagemap") == 0) {
        read_pagemap(path);
        return;
    }
    for (unsigned s = 0; s < 2; s++) {
        int fd = open(path, O_RDONLY);
        if (fd < 0) {
            CHECK(errno == ENOENT || errno == ESRCH, "open %s: %m", path);
            return;
        }
        ssize_t n;
        while ((n = read(fd, buf, sizes[s])) > 0)
            bytes += (unsigned long)n;
        CHECK(n == 0 || errno == ESRCH, "read %s in %zu-byte pieces: %m", path, sizes[s]);
        void *nowhere = (void *)(uintptr_t)8;
        __asm__("" : "+r"(nowhere));
        ssize_t r = pread(fd, nowhere, 64, 0);
        CHECK(r == 0 || (r == -1 && (errno == EFAULT || errno == ESRCH)),
              "pread %s into an unmapped buffer: %m", path);
        close(fd);
    }
    files++;
}

static void walk(const char *dir, int depth)
{
    DIR *d = opendir(dir);
    if (!d) {
        CHECK(errno == ENOENT || errno == ESRCH, "opendir %s: %m", dir);
        return;
    }
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        int pid_dir = e->d_name[0] >= '1' && e->d_name[0] <= '9';
        if (e->d_type == DT_DIR && depth < 3 && (pid_dir || depth > 0 || strcmp(e->d_name, "sys") == 0))
            walk(path, depth + 1);
        else if (e->d_type == DT_REG && (depth > 0 || !pid_dir))
            read_all(path);
    }
    closedir(d);
}

int main(void)
{
    if (!on_refpage_kernel()) {
        printf("walks the host's whole /proc under qemu-user: only on this kernel\n");
        return 0;
    }
    pid_t kids[6];
    for (int i = 0; i < 6; i++) {
        kids[i] = fork();
        CHECK(kids[i] >= 0, "fork: %m");
        if (kids[i] == 0) {
            if (i % 3 == 0)
                _exit(i); /* a zombie until reaped below */
            if (i % 3 == 1) {
                pthread_t t;
                pthread_create(&t, NULL, idle, NULL);
            }
            for (;;)
                pause();
        }
    }
    usleep(50000);
    char path[64];
    static char buf[4096];
    snprintf(path, sizeof path, "/proc/%d/status", kids[0]);
    CHECK(read_file(path, buf, sizeof buf) > 0 && strstr(buf, "State:\tZ (zombie)"), "zombie's status: %s", buf);
    snprintf(path, sizeof path, "/proc/%d/maps", kids[0]);
    CHECK(read_file(path, buf, sizeof buf) == 0, "zombie's maps: \"%s\"", buf);
    walk("/proc", 0);
    printf("read %lu files, %lu bytes\n", files, bytes);
    CHECK(files > 6 * 8, "only %lu files read", files);
    for (int i = 0; i < 6; i++) {
        if (i % 3 != 0)
            kill(kids[i], SIGKILL);
        waitpid(kids[i], NULL, 0);
    }
    return 0;
}
