/*
 * tmpfs_full_gives_enospc_at_half_of_ram: /dev/shm holds at most half of
 * RAM (Linux's tmpfs default without size=: shmem_default_max_blocks,
 * totalram_pages() / 2). Filled, write() into a hole fails with ENOSPC
 * and a mapping's fault on a page the full mount cannot make is SIGBUS
 * (shmem_fault: vmf_error(-ENOSPC)); the machine
 * still has memory for everything else (anonymous memory, /tmp, which is
 * another mount); and unlinking the file gives every page back, to RAM
 * and to the mount.
 */
#include "refpage_test.h"
#include "mm_test.h"

#include <sys/mman.h>
#include <sys/sysinfo.h>

#define CHUNK (1 << 20)
#define PATH "/dev/shm/tmpfs_full"

static char chunk[CHUNK];

static void touch_hole(void *p)
{
    *(volatile char *)p = 1;
}

int main(void)
{
    struct sysinfo si;
    CHECK(sysinfo(&si) == 0, "sysinfo: errno %d (%s)", errno, strerror(errno));
    size_t ram = (size_t)si.totalram * si.mem_unit;
    size_t half = ram / 4096 / 2 * 4096;
    memset(chunk, 0x5a, sizeof(chunk));
    /* fault_in_child's report page (shared memory too) made first. */
    memset(child_fault_page(), 0, sizeof(struct caught));
    long shmem_before = proc_kb("/proc/meminfo", "Shmem:");

    /* Filled through a shared mapping (MADV_POPULATE_WRITE: a fault per
     * page, no copy), which stops at the first page the mount cannot
     * make, with EFAULT (Linux's madvise_populate on VM_FAULT_SIGBUS). */
    int fd = open(PATH, O_CREAT | O_RDWR | O_TRUNC, 0600);
    CHECK(fd >= 0, "open %s: errno %d (%s)", PATH, errno, strerror(errno));
    CHECK(ftruncate(fd, (off_t)ram) == 0, "ftruncate: errno %d (%s)", errno, strerror(errno));
    char *map = mmap(NULL, ram, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(map != MAP_FAILED, "mmap: errno %d (%s)", errno, strerror(errno));
    CHECK_ERRNO(madvise(map, ram, MADV_POPULATE_WRITE), EFAULT);
    long shmem_full = proc_kb("/proc/meminfo", "Shmem:");
    size_t filled = (size_t)(shmem_full - shmem_before) * 1024;
    /* Other files of the mount (none on this kernel's fresh boot) count too. */
    CHECK(filled <= half && filled + (16 << 20) > half,
          "/dev/shm took %zu bytes before it was full, want at most half of RAM (%zu of %zu) and close to it",
          filled, half, ram);

    /* Full: write() into a hole is ENOSPC, into a page it has works; a
     * store to a hole through the mapping is SIGBUS at that page. */
    char *hole = map + ram - 4096;
    CHECK_ERRNO(pwrite(fd, chunk, 1, (off_t)ram - 4096), ENOSPC);
    CHECK(pwrite(fd, chunk, 4096, 0) == 4096, "pwrite into a page the file has: errno %d (%s)", errno,
          strerror(errno));
    CHECK(map[0] == 0x5a, "the mapping reads %#x after the pwrite", map[0]);
    struct caught r = fault_in_child(touch_hole, hole, 0);
    CHECK_CHILD_FAULT(r, SIGBUS, BUS_ADRERR, hole, "a store to a hole of the full mount");
    CHECK(munmap(map, ram) == 0, "munmap: errno %d (%s)", errno, strerror(errno));

    /* The rest of the machine is not short: 16 MiB of anonymous memory and
     * a page in /tmp (its own mount). */
    size_t anon_len = 16 << 20;
    char *anon = map_anonymous(anon_len, PROT_READ | PROT_WRITE);
    for (size_t i = 0; i < anon_len; i += 4096)
        anon[i] = 1;
    CHECK(munmap(anon, anon_len) == 0, "munmap: errno %d (%s)", errno, strerror(errno));
    int tmp = open("/tmp/tmpfs_full_other_mount", O_CREAT | O_RDWR | O_TRUNC, 0600);
    CHECK(tmp >= 0, "open /tmp: errno %d (%s)", errno, strerror(errno));
    CHECK(write(tmp, chunk, 4096) == 4096, "a page in /tmp with /dev/shm full: errno %d (%s)", errno,
          strerror(errno));
    CHECK(close(tmp) == 0 && unlink("/tmp/tmpfs_full_other_mount") == 0, "/tmp cleanup: errno %d", errno);

    /* Unlinked and closed: every page back, to the mount and to RAM. */
    CHECK(close(fd) == 0 && unlink(PATH) == 0, "cleanup: errno %d (%s)", errno, strerror(errno));
    long shmem_after = proc_kb("/proc/meminfo", "Shmem:");
    CHECK(shmem_after <= shmem_before, "Shmem %ld kB after the unlink, %ld kB before", shmem_after, shmem_before);
    /* The mount's count came back too: were one page still charged, the
     * mount would still be full. */
    fd = open(PATH, O_CREAT | O_RDWR | O_TRUNC, 0600);
    CHECK(fd >= 0, "open again: errno %d (%s)", errno, strerror(errno));
    CHECK(write(fd, chunk, CHUNK) == CHUNK, "a write after the unlink: errno %d (%s)", errno, strerror(errno));
    CHECK(close(fd) == 0 && unlink(PATH) == 0, "cleanup: errno %d (%s)", errno, strerror(errno));
    printf("tmpfs_full_gives_enospc_at_half_of_ram: %zu of %zu bytes fit in /dev/shm\n", filled, ram);
    return 0;
}
