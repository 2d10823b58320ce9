/*
 * fault_paths: makes the kernel take each fault path many times, so that its
 * own measurements (`bench` on the command line: the `bench-kernel fault`
 * lines) have something to average. Each path is a fresh page per fault:
 *   refpage read fault (size 1), refpage write faults for size 1, size 16
 *   with tags on a PROT_MTE mapping, and size 4096; an anonymous write fault
 *   on a PROT_MTE mapping (zero with tags cleared); copy-on-write after fork
 *   of tagged pages.
 */
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "refpage_test.h"

#define PAGES 256
#define PAGE 4096

static unsigned char content[4096] __attribute__((aligned(4096)));

static int refpage(unsigned size, int tagged_content)
{
    /* With tags: the content lives in a PROT_MTE page whose granules get tags. */
    unsigned char *src = content;
    if (tagged_content) {
        src = mmap(NULL, PAGE, PROT_READ | PROT_WRITE | PROT_MTE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        CHECK(src != MAP_FAILED, "mmap PROT_MTE: %s", strerror(errno));
        for (unsigned g = 0; g < size / 16; g++)
            mte_stg(src + g * 16, 1 + g % 15);
        for (unsigned i = 0; i < size; i++)
            ((volatile unsigned char *)mte_tagged(src, 1 + (i / 16) % 15))[i] = (unsigned char)i;
    }
    int fd = syscall(SYS_refpage_create, src, size, 0);
    CHECK(fd >= 0, "refpage_create(%u): %s", size, strerror(errno));
    return fd;
}

static void touch(int fd, int prot, int write)
{
    volatile unsigned char *p = mmap(NULL, PAGES * PAGE, prot, MAP_PRIVATE | (fd < 0 ? MAP_ANONYMOUS : 0), fd, 0);
    CHECK(p != MAP_FAILED, "mmap: %s", strerror(errno));
    for (int i = 0; i < PAGES; i++) {
        if (write)
            p[i * PAGE] = 1;
        else
            (void)p[i * PAGE];
    }
    munmap((void *)p, PAGES * PAGE);
}

int main(void)
{
    int mte = (getauxval(AT_HWCAP2) & HWCAP2_MTE) != 0;
    for (int i = 0; i < 4096; i++)
        content[i] = (unsigned char)(i * 7);
    int one = refpage(1, 0);
    touch(one, PROT_READ, 0);                         /* refpage-map */
    touch(one, PROT_READ | PROT_WRITE, 1);            /* refpage-fill16 */
    touch(refpage(4096, 0), PROT_READ | PROT_WRITE, 1); /* refpage-copy */
    touch(-1, PROT_READ | PROT_WRITE, 1);             /* zero-fill */
    if (mte) {
        touch(refpage(16, 1), PROT_READ | PROT_WRITE | PROT_MTE, 1);   /* refpage-fill16-tagged */
        touch(refpage(4096, 1), PROT_READ | PROT_WRITE | PROT_MTE, 1); /* refpage-copy-tagged */
        touch(-1, PROT_READ | PROT_WRITE | PROT_MTE, 1);               /* zero-fill-tagged */
    }
    /* Copy-on-write after fork: the child writes every page the parent had
     * written (tagged pages when MTE is there). */
    int prot = PROT_READ | PROT_WRITE | (mte ? PROT_MTE : 0);
    volatile unsigned char *p = mmap(NULL, PAGES * PAGE, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED, "mmap: %s", strerror(errno));
    for (int i = 0; i < PAGES; i++)
        p[i * PAGE] = 1;
    pid_t child = fork();
    CHECK(child >= 0, "fork: %s", strerror(errno));
    if (child == 0) {
        for (int i = 0; i < PAGES; i++)
            p[i * PAGE] = 2;
        _exit(0);
    }
    int status;
    CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0, "child failed");
    printf("fault_paths: %d pages per path%s\n", PAGES, mte ? ", tagged paths included" : "");
    return 0;
}
