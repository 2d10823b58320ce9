/*
 * proc_cpuinfo_features_match_hwcaps: /proc/cpuinfo has Linux's arm64
 * fields (processor, BogoMIPS, Features, CPU implementer .. CPU revision),
 * and its Features line names exactly the hwcaps getauxval(AT_HWCAP and
 * AT_HWCAP2) reports, by Linux's names: fp, asimd, atomics, mte, mte3 ...
 */
#include "proc_test.h"

static int has_feature(const char *features, const char *name)
{
    char padded[64];
    snprintf(padded, sizeof padded, " %s ", name);
    return strstr(features, padded) != NULL;
}

int main(void)
{
    static char buf[1 << 16];
    CHECK(read_file("/proc/cpuinfo", buf, sizeof buf) > 0, "read /proc/cpuinfo: %m");

    int cpu = -1;
    CHECK(line_value(buf, "processor") && sscanf(line_value(buf, "processor"), "\t: %d", &cpu) == 1 && cpu == 0,
          "first \"processor\\t: N\" line gives %d, want 0", cpu);
    unsigned long bogo_int = 0, bogo_frac = 0;
    const char *b = line_value(buf, "BogoMIPS\t: ");
    CHECK(b && sscanf(b, "%lu.%2lu", &bogo_int, &bogo_frac) == 2 && bogo_int > 0, "BogoMIPS line: %.20s", b ? b : "(none)");

    const char *f = line_value(buf, "Features\t:");
    CHECK(f != NULL, "no \"Features\\t:\" line");
    char features[1024];
    snprintf(features, sizeof features, "%.*s ", (int)strcspn(f, "\n"), f);

    unsigned long hwcap = getauxval(AT_HWCAP), hwcap2 = getauxval(AT_HWCAP2);
    struct {
        const char *name;
        int set;
    } caps[] = {
        {"fp", !!(hwcap & (1UL << 0))},      {"asimd", !!(hwcap & (1UL << 1))},
        {"atomics", !!(hwcap & (1UL << 8))}, {"sve", !!(hwcap & (1UL << 22))},
        {"mte", !!(hwcap2 & (1UL << 18))},   {"mte3", !!(hwcap2 & (1UL << 22))},
    };
    for (unsigned i = 0; i < sizeof caps / sizeof caps[0]; i++)
        CHECK(has_feature(features, caps[i].name) == caps[i].set, "Features \"%s\": \"%s\" %s, but the hwcap bit is %s",
              features, caps[i].name, caps[i].set ? "missing" : "listed", caps[i].set ? "set" : "clear");

    unsigned implementer, variant, part, revision, arch;
    const char *v;
    CHECK((v = line_value(buf, "CPU implementer\t: ")) && sscanf(v, "0x%2x", &implementer) == 1, "CPU implementer");
    CHECK((v = line_value(buf, "CPU architecture: ")) && sscanf(v, "%u", &arch) == 1 && arch == 8, "CPU architecture");
    CHECK((v = line_value(buf, "CPU variant\t: ")) && sscanf(v, "0x%x", &variant) == 1 && variant < 16, "CPU variant");
    CHECK((v = line_value(buf, "CPU part\t: ")) && sscanf(v, "0x%3x", &part) == 1 && strncmp(v, "0x", 2) == 0,
          "CPU part");
    CHECK((v = line_value(buf, "CPU revision\t: ")) && sscanf(v, "%u", &revision) == 1 && revision < 16,
          "CPU revision");
    printf("cpuinfo: %lu.%02lu BogoMIPS, implementer %#x part %#x, features%s\n", bogo_int, bogo_frac, implementer,
           part, features);
    return 0;
}
