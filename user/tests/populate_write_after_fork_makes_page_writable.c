// populate_write_after_fork_makes_page_writable: MADV_POPULATE_WRITE (and
// mlock's populate) of a private page that fork left read-only, once the
// child is gone, makes it writable as a write fault would (Linux's
// __get_user_pages: follow_page with FOLL_WRITE refuses a read-only entry,
// so faultin_page takes the write fault and do_wp_page reuses the page).
// The next write then takes no fault: /proc/self/stat's minflt stays.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "refpage_test.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

static char stat_buf[4096];

/* minflt, field 10 of /proc/self/stat; the buffer is touched beforehand. */
static unsigned long minflt(void)
{
    int fd = open("/proc/self/stat", O_RDONLY);
    CHECK(fd >= 0, "open /proc/self/stat");
    ssize_t n = read(fd, stat_buf, sizeof(stat_buf) - 1);
    close(fd);
    CHECK(n > 0, "read /proc/self/stat: %zd", n);
    stat_buf[n] = 0;
    char *p = strrchr(stat_buf, ')');
    CHECK(p != NULL, "no ')' in %s", stat_buf);
    unsigned long v = 0;
    int field = 2; /* p points at the end of field 2 (comm) */
    for (p++; *p && field < 10; p++)
        if (*p == ' ')
            field++;
    for (; *p >= '0' && *p <= '9'; p++)
        v = v * 10 + (unsigned long)(*p - '0');
    return v;
}

static void check(int use_mlock)
{
    volatile char *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(page != MAP_FAILED, "mmap");
    page[0] = 1;
    pid_t c = fork();
    CHECK(c >= 0, "fork");
    if (c == 0)
        _exit(0);
    int status;
    CHECK(waitpid(c, &status, 0) == c && WIFEXITED(status), "waitpid");
    if (use_mlock)
        CHECK(mlock((void *)page, 4096) == 0, "mlock");
    else
        CHECK(madvise((void *)page, 4096, MADV_POPULATE_WRITE) == 0, "MADV_POPULATE_WRITE");
    /* The fork left this program's own data and stack read-only too: the
     * first reads take their faults; then two reads in a row agree. */
    unsigned long before = minflt(), again = minflt();
    for (int i = 0; i < 4 && again != before; i++) {
        before = again;
        again = minflt();
    }
    CHECK(again == before, "minflt moved between two reads: %lu -> %lu", before, again);
    page[0] = 2;
    unsigned long after = minflt();
    CHECK(after == again, "%s: the write after it still faulted (minflt %lu -> %lu)",
          use_mlock ? "mlock" : "MADV_POPULATE_WRITE", again, after);
    munmap((void *)page, 4096);
}

int main(void)
{
    memset(stat_buf, 0, sizeof(stat_buf));
    check(0);
    check(1);
    printf("populate_write_after_fork_makes_page_writable: no fault on the write after populate or mlock\n");
    return 0;
}
