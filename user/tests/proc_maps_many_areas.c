/*
 * proc_maps_many_areas: /proc/self/maps of a process with 6,000 areas
 * (about 300 KiB of text, and smaps 3.5 MiB: more than a read keeps at once) read in 4 KiB
 * pieces gives one line per area, in address order, with no line cut or
 * repeated; smaps read the same way has one record per area, and
 * status still reads. The kernel's heap use stays
 * bounded (the runner's leak check covers what is left after).
 */
#include "proc_test.h"

int main(void)
{
    const int areas = 6000;
    char *base = map_anonymous((size_t)areas * 4096, PROT_READ);
    /* Every other page writable: no two neighbours could merge. */
    for (int i = 0; i < areas; i += 2)
        CHECK(mprotect(base + (size_t)i * 4096, 4096, PROT_READ | PROT_WRITE) == 0, "mprotect %d: %m", i);
    int fd = open("/proc/self/maps", O_RDONLY);
    CHECK(fd >= 0, "open: %m");
    static char chunk[4096], line[512];
    size_t line_len = 0, inside = 0;
    unsigned long last_end = 0, lines = 0;
    for (ssize_t n; (n = read(fd, chunk, sizeof chunk)) != 0;) {
        CHECK(n > 0, "read: %m");
        for (ssize_t i = 0; i < n; i++) {
            CHECK(line_len < sizeof line - 1, "a line longer than %zu bytes", sizeof line);
            line[line_len++] = chunk[i];
            if (chunk[i] != '\n')
                continue;
            line[line_len] = 0;
            line_len = 0;
            unsigned long lo, hi;
            CHECK(sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && lo < hi && lo >= last_end, "line %lu out of order: %s",
                  lines, line);
            last_end = hi;
            lines++;
            inside += lo >= (unsigned long)base && hi <= (unsigned long)base + (size_t)areas * 4096;
        }
    }
    CHECK(line_len == 0, "the text ends inside a line");
    close(fd);
    printf("maps: %lu lines, %zu of them the %d areas\n", lines, inside, areas);
    CHECK(inside == (size_t)areas || !on_refpage_kernel(), "%zu lines inside the mapping, want %d", inside, areas);
    static char status[1 << 14];
    CHECK(read_file("/proc/self/status", status, sizeof status) > 0, "status: %m");
    /* smaps: one VmFlags line per area, read in 4 KiB pieces. */
    fd = open("/proc/self/smaps", O_RDONLY);
    CHECK(fd >= 0, "open smaps: %m");
    unsigned long records = 0;
    line_len = 0;
    for (ssize_t n; (n = read(fd, chunk, sizeof chunk)) != 0;) {
        CHECK(n > 0, "read smaps: %m");
        for (ssize_t i = 0; i < n; i++) {
            CHECK(line_len < sizeof line - 1, "an smaps line longer than %zu bytes", sizeof line);
            line[line_len++] = chunk[i];
            if (chunk[i] == '\n') {
                records += line_len > 8 && memcmp(line, "VmFlags:", 8) == 0;
                line_len = 0;
            }
        }
    }
    close(fd);
    printf("smaps: %lu records\n", records);
    CHECK(records >= (unsigned long)areas && (records == lines || !on_refpage_kernel()), "smaps has %lu records, maps %lu lines", records, lines);
    CHECK(munmap(base, (size_t)areas * 4096) == 0, "munmap: %m");
    return 0;
}
