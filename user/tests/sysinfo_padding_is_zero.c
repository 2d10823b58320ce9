// sysinfo_padding_is_zero: sysinfo(2) writes the whole struct sysinfo with
// its padding zeroed, as Linux's do_sysinfo (memset, then copy_to_user of
// the whole structure): the 4 bytes after `pad` (before totalhigh) and the
// 4 after mem_unit never carry kernel bytes.
#include <stddef.h>
#include <string.h>
#include <sys/sysinfo.h>

#include "refpage_test.h"

int main(void)
{
    unsigned char buf[sizeof(struct sysinfo)];
    CHECK(sizeof(struct sysinfo) == 112, "struct sysinfo is %zu bytes", sizeof(struct sysinfo));
    memset(buf, 0xa5, sizeof(buf));
    CHECK(sysinfo((struct sysinfo *)buf) == 0, "sysinfo failed");
    size_t after_pad = offsetof(struct sysinfo, pad) + sizeof(((struct sysinfo *)0)->pad);
    size_t after_unit = offsetof(struct sysinfo, mem_unit) + sizeof(unsigned int);
    for (size_t i = after_pad; i < offsetof(struct sysinfo, totalhigh); i++)
        CHECK(buf[i] == 0, "padding byte %zu (before totalhigh) is %#x", i, buf[i]);
    for (size_t i = after_unit; i < sizeof(buf); i++)
        CHECK(buf[i] == 0, "padding byte %zu (after mem_unit) is %#x", i, buf[i]);
    struct sysinfo *si = (struct sysinfo *)buf;
    CHECK(si->mem_unit == 1 && si->totalram > 0, "mem_unit %u totalram %lu", si->mem_unit, si->totalram);
    return 0;
}
