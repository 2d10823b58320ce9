/*
 * proc_test.h - reading /proc in the proc_* tests: a whole file into a
 * buffer, a line by its label, a field of /proc/self/smaps for the area
 * holding an address, and whether the program runs on this kernel.
 *
 * Under `make user-test-linux` the programs run in qemu-aarch64, which
 * emulates /proc/self/maps, smaps and stat for the guest (with Rss always 0
 * and fewer stat fields) and shows the host's status, meminfo and comm.
 * Format checks hold there too; checks of values only this kernel's
 * /proc has are guarded by on_refpage_kernel().
 */
#ifndef PROC_TEST_H
#define PROC_TEST_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "refpage_test.h"

/* Reads all of `path` into buf (NUL-terminated); returns the length, or
 * -1 with errno. */
static inline long read_file(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, size - 1 - len);
        if (n < 0) {
            close(fd);
            return -1;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        CHECK(len < size - 1, "%s is larger than the %zu-byte buffer", path, size);
    }
    close(fd);
    buf[len] = 0;
    return (long)len;
}

/* The value after "label" at the start of a line, or NULL. */
static inline const char *line_value(const char *text, const char *label)
{
    size_t n = strlen(label);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (strncmp(p, label, n) == 0)
            return p + n;
    return NULL;
}

/* The start of the record ("lo-hi ..." header line) of the area holding
 * addr in the maps or smaps text `text`, or NULL. */
static inline char *record_in(char *text, const void *addr)
{
    uintptr_t a = (uintptr_t)addr;
    for (char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        /* strtoul, not sscanf: glibc's sscanf takes strlen of the rest of
         * the buffer on every call, quadratic over a large smaps. */
        char *end, *end2;
        unsigned long lo = strtoul(p, &end, 16);
        if (end == p || *end != '-')
            continue;
        unsigned long hi = strtoul(end + 1, &end2, 16);
        if (*end2 == ' ' && lo <= a && a < hi)
            return p;
    }
    return NULL;
}

/* Reads `path` (maps or smaps) into buf and returns the start of the
 * record of the area holding addr, or NULL. */
static inline char *record_of(const char *path, char *buf, size_t size, const void *addr)
{
    CHECK(read_file(path, buf, size) > 0, "read %s: %m", path);
    return record_in(buf, addr);
}

/* The number after "label" (e.g. "Rss:") in the smaps text `text`'s
 * record of the area holding addr, in kB; -1 if there is none. */
static inline long smaps_field_in(char *text, const void *addr, const char *label)
{
    char *next = record_in(text, addr);
    /* The fields until the next header line (VmFlags is the last). */
    while (next && (next = strchr(next, '\n')) && *++next) {
        if (strncmp(next, label, strlen(label)) == 0)
            return strtol(next + strlen(label), NULL, 10);
        if (strncmp(next, "VmFlags:", 8) == 0)
            break;
    }
    return -1;
}

/* The same from a fresh read of /proc/self/smaps. */
static inline long smaps_field(const void *addr, const char *label)
{
    static char buf[8 << 20]; /* bss: only what a read fills is touched */
    CHECK(read_file("/proc/self/smaps", buf, sizeof buf) > 0, "read /proc/self/smaps: %m");
    return smaps_field_in(buf, addr, label);
}

/* The smaps VmFlags line (after "VmFlags:") of the area holding addr, as
 * " rd wr ... " with a space on each side of every code, or "" if none. */
static inline const char *smaps_vmflags(const void *addr)
{
    static char buf[8 << 20];
    static char flags[256];
    flags[0] = 0;
    char *p = record_of("/proc/self/smaps", buf, sizeof buf, addr);
    char *v = p ? strstr(p, "\nVmFlags:") : NULL;
    if (v) {
        v += strlen("\nVmFlags:");
        snprintf(flags, sizeof flags, "%.*s ", (int)strcspn(v, "\n"), v);
    }
    return flags;
}

/* The maps line of the area holding addr (copied), or NULL. */
static inline const char *maps_line(const void *addr)
{
    static char buf[1 << 18];
    static char line[512];
    char *p = record_of("/proc/self/maps", buf, sizeof buf, addr);
    if (!p)
        return NULL;
    snprintf(line, sizeof line, "%.*s", (int)strcspn(p, "\n"), p);
    return line;
}

/* Whether this is the refpage kernel (its uname release), not Linux. */
static inline int on_refpage_kernel(void)
{
    struct utsname u;
    return uname(&u) == 0 && strstr(u.release, "refpage") != NULL;
}

#endif
