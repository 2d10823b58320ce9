/*
 * refpage_man_page_example: the EXAMPLES program of the refpage_create(2)
 * man page (man-pages patch "refpage_create.2: Document refpage_create(2)",
 * Peter Collingbourne, July 2021), unchanged from `#include <linux/unistd.h>`
 * to the end. It creates a 1-byte 0xAA pattern descriptor, maps 131072
 * bytes MAP_PRIVATE with PROT_READ | PROT_WRITE, and checks every byte;
 * it exits 0 on success and prints (and exits 1) on failure.
 *
 * Only two things are added above it: SYS_refpage_create (glibc does not
 * define it; 448 is the v5 series' number, see docs/refpage.md), and a
 * constructor that says what the program checks, since the example prints
 * nothing when it passes.
 */
#ifndef SYS_refpage_create
#define SYS_refpage_create 448
#endif

#include <string.h>
#include <unistd.h>

__attribute__((constructor)) static void say_what_is_checked(void)
{
    static const char msg[] = "refpage_man_page_example: the man page's program: 1-byte 0xAA "
                              "pattern, 128 KiB MAP_PRIVATE PROT_READ|PROT_WRITE, every byte 0xAA\n";
    if (write(1, msg, strlen(msg)) < 0)
        _exit(2);
}

/* ---- the man page's example, verbatim ---- */
#include <linux/unistd.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

int main() {
    unsigned char pattern = 0xaa;
    unsigned long mmap_size = 131072;

    int fd = syscall(SYS_refpage_create, &pattern, 1, 0);
    if (fd < 0) {
        perror("refpage_create");
        return 1;
    }
    unsigned char *p = mmap(0, mmap_size, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    for (unsigned i = 0; i != mmap_size; ++i) {
        if (p[i] != pattern) {
            fprintf(stderr, "refpage failed contents check @ %u: "
                    "0x%x != 0x%x\n",
                    i, p[i], pattern);
            return 1;
        }
    }
}
