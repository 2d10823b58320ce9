/*
 * proc_smaps_refpage_counts_as_shared_file_page: the rules docs/procfs.md
 * gives a refpage mapping. Its maps line is named anon_inode:[refpage]
 * with the inode fstat reports and the mmap offset; pages read map the one
 * reference page and count like a shared page of a file: Rss and
 * Shared_Clean, Pss divided by the map count (8 pages mapping one frame:
 * Pss 4 kB), not Anonymous; a page written becomes a private copy
 * (Private_Dirty, Anonymous). Linux has no refpage_create: there the
 * program checks nothing and says so.
 */
#include <sys/stat.h>

#include "proc_test.h"

int main(void)
{
    const long P = 4096;
    static const char content[16] = "0123456789abcdef";
    int fd = refpage_create(content, sizeof content, 0);
    if (fd < 0 && errno == ENOSYS) {
        printf("refpage_create: ENOSYS (Linux): nothing to check\n");
        return 0;
    }
    CHECK(fd >= 0, "refpage_create: %m");
    struct stat st;
    CHECK(fstat(fd, &st) == 0, "fstat: %m");
    volatile char *m = mmap(NULL, 8 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 2 * P);
    CHECK(m != MAP_FAILED, "mmap refpage: %m");

    const char *line = maps_line((void *)m);
    unsigned long off, ino;
    char perms[5], name[64] = "";
    CHECK(line && sscanf(line, "%*x-%*x %4s %lx %*x:%*x %lu %63s", perms, &off, &ino, name) == 4,
          "maps line \"%s\"", line ? line : "(none)");
    CHECK(strcmp(perms, "rw-p") == 0 && off == 2 * P && ino == st.st_ino && strcmp(name, "anon_inode:[refpage]") == 0,
          "maps line \"%s\": want rw-p, offset %lx, inode %lu, anon_inode:[refpage]", line, 2 * P,
          (unsigned long)st.st_ino);

    for (int i = 0; i < 8; i++)
        (void)m[i * P];
    long rss = smaps_field((void *)m, "Rss:"), pss = smaps_field((void *)m, "Pss:");
    long sc = smaps_field((void *)m, "Shared_Clean:"), anon = smaps_field((void *)m, "Anonymous:");
    printf("8 pages read: Rss %ld, Pss %ld, Shared_Clean %ld, Anonymous %ld kB\n", rss, pss, sc, anon);
    CHECK(rss == 32 && sc == 32 && pss == 4 && anon == 0, "want Rss 32, Shared_Clean 32, Pss 4, Anonymous 0");

    m[0] = 'x';
    rss = smaps_field((void *)m, "Rss:");
    pss = smaps_field((void *)m, "Pss:");
    sc = smaps_field((void *)m, "Shared_Clean:");
    long pd = smaps_field((void *)m, "Private_Dirty:");
    anon = smaps_field((void *)m, "Anonymous:");
    printf("one page written: Rss %ld, Pss %ld, Shared_Clean %ld, Private_Dirty %ld, Anonymous %ld kB\n", rss, pss,
           sc, pd, anon);
    /* 7 entries now map the reference page: 7 x 4096/7 (just under 4 kB,
     * as Linux sums the shares in 1/4096ths of a byte) and the copy. */
    CHECK(rss == 32 && sc == 28 && pd == 4 && anon == 4 && (pss == 7 || pss == 8),
          "want Rss 32, Shared_Clean 28, Private_Dirty 4, Anonymous 4, Pss 8 (or 7, rounded down)");
    close(fd);
    return 0;
}
