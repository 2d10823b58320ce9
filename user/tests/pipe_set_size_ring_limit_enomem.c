/*
 * pipe_set_size_ring_limit_enomem: F_SETPIPE_SZ sizes whose ring of
 * buffers Linux cannot allocate are ENOMEM: pipe_resize_ring's kcalloc of
 * nr_slots 40-byte pipe_buffers fails past KMALLOC_MAX_SIZE (4 MiB on
 * arm64 with 4 KiB pages), so 2^29, 2^30 and 2^31 bytes (131072 slots and
 * more) are refused and the pipe keeps its size, while 2^28 (65536 slots)
 * is granted (root: no pipe-max-size limit). Above 2^31 is EINVAL.
 */
#define _GNU_SOURCE
#include <fcntl.h>

#include "refpage_test.h"

int main(void)
{
    int p[2];
    CHECK(pipe(p) == 0, "pipe: %m");
    for (int shift = 29; shift <= 31; shift++) {
        errno = 0;
        long r = fcntl(p[1], F_SETPIPE_SZ, 1L << shift);
        CHECK(r == -1 && errno == ENOMEM, "F_SETPIPE_SZ 2^%d: %ld (%m), want ENOMEM", shift, r);
        r = fcntl(p[1], F_GETPIPE_SZ);
        CHECK(r == 65536, "after the refused 2^%d the size is %ld, want 65536", shift, r);
    }
    errno = 0;
    long r = fcntl(p[1], F_SETPIPE_SZ, (1L << 31) + 1);
    CHECK(r == -1 && errno == EINVAL, "F_SETPIPE_SZ 2^31 + 1: %ld (%m), want EINVAL", r);
    r = fcntl(p[1], F_SETPIPE_SZ, 1L << 28);
    CHECK(r == 1L << 28, "F_SETPIPE_SZ 2^28: %ld (%m), want 2^28", r);
    r = fcntl(p[0], F_SETPIPE_SZ, 4096);
    CHECK(r == 4096, "F_SETPIPE_SZ back to 4096: %ld (%m)", r);
    printf("pipe rings past Linux's kmalloc limit: ENOMEM\n");
    return 0;
}
