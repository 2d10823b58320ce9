/*
 * tour (C): the `make qemu` demo's glibc program. An unmodified static
 * glibc binary, as on arm64 Linux: printf through stdio, malloc from the
 * kernel's brk and mmap, and a look at what exec handed it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/utsname.h>

int main(int argc, char **argv)
{
    printf("tour_c: a static glibc program at EL0, started as \"%s\" with %d argument(s)\n", argv[0],
           argc - 1);

    struct utsname u;
    if (uname(&u) == 0)
        printf("tour_c: uname says %s %s on %s\n", u.sysname, u.release, u.machine);

    printf("tour_c: HOME=%s TERM=%s, page size %lu from the auxiliary vector\n",
           getenv("HOME") ? getenv("HOME") : "(unset)", getenv("TERM") ? getenv("TERM") : "(unset)",
           getauxval(AT_PAGESZ));

    /* Small blocks come from the brk heap, large ones from mmap. */
    size_t sizes[] = {64, 4096, 1 << 20};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char *p = malloc(sizes[i]);
        if (p == NULL) {
            printf("tour_c: malloc(%zu) failed\n", sizes[i]);
            return 1;
        }
        memset(p, 0xa5, sizes[i]);
        printf("tour_c: malloc(%zu) -> %p, filled with 0xa5\n", sizes[i], (void *)p);
        free(p);
    }
    printf("tour_c: done, exit status 0\n");
    return 0;
}
