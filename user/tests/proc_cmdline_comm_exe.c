/*
 * proc_cmdline_comm_exe: /proc/self/cmdline is the argv strings, each with
 * its NUL, read back from the process's memory (so an argument the program
 * rewrites in place reads back rewritten, on this kernel as on Linux); /proc/self/comm is the name and
 * a newline, and follows prctl(PR_SET_NAME); readlink("/proc/self/exe")
 * is the program's path, without a NUL, cut to the buffer's size;
 * /proc/self is a link to the pid, /proc/thread-self to <pid>/task/<tid>.
 */
#include <sys/stat.h>
#include <sys/syscall.h>

#include "proc_test.h"

int main(int argc, char **argv)
{
    CHECK(argc == 1, "run without arguments (argc %d)", argc);
    static char buf[4096];
    long n = read_file("/proc/self/cmdline", buf, sizeof buf);
    size_t want = strlen(argv[0]) + 1;
    CHECK(n == (long)want && memcmp(buf, argv[0], want) == 0, "cmdline is %ld bytes \"%s\", want \"%s\\0\"", n, buf,
          argv[0]);
    /* The strings are read from memory now: rewrite the first byte.
     * (qemu-user answers from its own copy of argv.) */
    if (on_refpage_kernel()) {
        char saved = argv[0][0];
        argv[0][0] = '#';
        n = read_file("/proc/self/cmdline", buf, sizeof buf);
        CHECK(n == (long)want && buf[0] == '#', "after argv[0][0] = '#', cmdline starts with '%c'", buf[0]);
        argv[0][0] = saved;
    }

    char link[256];
    ssize_t len = readlink("/proc/self/exe", link, sizeof link);
    CHECK(len > 0 && link[0] == '/', "readlink /proc/self/exe: %zd (%m)", len);
    const char *base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    CHECK((size_t)len >= strlen(base) && memcmp(link + len - strlen(base), base, strlen(base)) == 0,
          "exe is \"%.*s\", want a path ending in %s", (int)len, link, base);
    char small[4];
    CHECK(readlink("/proc/self/exe", small, sizeof small) == sizeof small && memcmp(small, link, 4) == 0,
          "readlink into 4 bytes");
    CHECK(readlink("/proc/self/maps", link, sizeof link) == -1 && errno == EINVAL, "readlink of a file: %m");
    CHECK(readlink("/proc/self/nonexistent", link, sizeof link) == -1 && errno == ENOENT, "readlink of nothing: %m");

    len = readlink("/proc/self", link, sizeof link);
    CHECK(len > 0 && strtol(link, NULL, 10) == getpid(), "/proc/self -> \"%.*s\"", (int)len, link);
    len = readlink("/proc/thread-self", link, sizeof link);
    char tself[64];
    snprintf(tself, sizeof tself, "%d/task/%ld", getpid(), (long)syscall(SYS_gettid));
    CHECK(len == (ssize_t)strlen(tself) && memcmp(link, tself, len) == 0, "/proc/thread-self -> \"%.*s\", want %s",
          (int)len, link, tself);
    struct stat st;
    CHECK(stat("/proc/self", &st) == 0 && S_ISDIR(st.st_mode), "stat /proc/self: a directory");
    CHECK(lstat("/proc/self", &st) == 0 && S_ISLNK(st.st_mode), "lstat /proc/self: a link");
    CHECK(stat("/proc/self/status", &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0777) == 0444,
          "stat /proc/self/status: mode %o", st.st_mode);

    if (on_refpage_kernel()) {
        /* qemu-user shows the host's comm of qemu itself. */
        n = read_file("/proc/self/comm", buf, sizeof buf);
        char want_comm[20];
        snprintf(want_comm, sizeof want_comm, "%.15s\n", base);
        CHECK(strcmp(buf, want_comm) == 0, "comm \"%s\", want \"%s\"", buf, want_comm);
        CHECK(prctl(PR_SET_NAME, "renamed", 0, 0, 0) == 0, "PR_SET_NAME: %m");
        read_file("/proc/self/comm", buf, sizeof buf);
        CHECK(strcmp(buf, "renamed\n") == 0, "comm after PR_SET_NAME: \"%s\"", buf);
    }
    printf("cmdline, exe (%.*s), self and thread-self as expected\n", (int)readlink("/proc/self/exe", link, 255), link);
    return 0;
}
