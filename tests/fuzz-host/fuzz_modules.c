/*
 * The root task's boot-module command lines (roottask/modules.c): the
 * input is up to UK_BOOT_MAX_MODULES lines ('\n' between them), laid out
 * in a boot-info page as the microkernel does (ukernel/kernel/main.c: a
 * line that does not fit is the empty string at the end).  Checked:
 *  - the vmm-server module is the first whose first word is `vmm-server`;
 *  - every accepted guest comes from a `guest` line, in boot order, with
 *    a unique name of 1..31 letters, digits, - and _ (not `console`,
 *    the console server's own label), mem 1..65536 MiB,
 *    kmem 0 or 64..4194304 KiB, disk -1 or 0..3, console 1..2, an initrd that names
 *    the first module with that first word, and a command line taken
 *    from after `--` as it is;
 *  - it round-trips: the line written back from its fields (every field
 *    spelt out) parses to the same guest;
 *  - every other `guest` line is reported as skipped, one line each.
 */
#include "fuzz.h"
#include <stdarg.h>

#define printf(...) fuzz_printf(__VA_ARGS__)   /* the root task's log: counted, not printed */
#define main uk_program_main      /* rt.h declares the program's main(bootinfo) */
#include "../../roottask/modules.c"
#undef main
#undef printf

static unsigned skipped;

int fuzz_printf(const char *fmt, ...)
{
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    CHECK(n > 0 && strstr(line, "guest skipped\n"));
    skipped++;
    return n;
}

static struct uk_bootinfo bi;
static uk_word_t used;

static void add_line(const char *s, size_t n)
{
    uk_word_t i = bi.nmodules++;
    bi.modules[i].phys = 0x100000ul * (i + 1);
    bi.modules[i].size = 4096;
    if (used + n + 1 > UK_BOOT_STRINGS) {        /* as the kernel does */
        bi.modules[i].cmdline = UK_BOOT_STRINGS - 1;
        return;
    }
    memcpy(bi.strings + used, s, n);
    bi.strings[used + n] = 0;
    bi.modules[i].cmdline = used;
    used += n + 1;
}

static int name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 31 || !strcmp(s, UK_CONSOLE_OWN_LABEL))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
            return 0;
    return 1;
}

static size_t first_word(const char *s)
{
    size_t n = 0;
    while (s[n] && s[n] != ' ')
        n++;
    return n;
}

static struct guest_desc g[ROOT_MAX_GUESTS], again;

/* Guest k's line written back with every field; parsed again in a copy of
 * the boot info where it replaces the original line. */
static void round_trip(const struct guest_desc *d)
{
    static struct uk_bootinfo copy;
    char line[UK_BOOT_STRINGS * 2];
    int n = snprintf(line, sizeof line, "guest name=%s mem=%lu", d->name, d->mem_mib);
    if (d->kmem_kib)
        n += snprintf(line + n, sizeof line - n, " kmem=%lu", d->kmem_kib);
    if (d->initrd >= 0) {
        const char *w = cmdline_of(&bi, d->initrd);
        n += snprintf(line + n, sizeof line - n, " initrd=%.*s", (int)first_word(w), w);
    }
    if (d->disk >= 0)
        n += snprintf(line + n, sizeof line - n, " disk=%d", d->disk);
    n += snprintf(line + n, sizeof line - n, " console=%d", d->console);
    if (d->net >= 0)
        n += snprintf(line + n, sizeof line - n, " net=%d", d->net);
    n += snprintf(line + n, sizeof line - n, "%s%s -- %s", d->kfaults ? " kfaults" : "",
                  d->stats ? " stats" : "", d->cmdline);
    /* the strings of the other modules stay where they are; the new line
     * goes after them (or in place, if there is no room: then not checked) */
    copy = bi;
    if (used + (uk_word_t)n + 1 > UK_BOOT_STRINGS)
        return;
    memcpy(copy.strings + used, line, (size_t)n + 1);
    copy.modules[d->kernel].cmdline = used;
    uk_word_t index = (uk_word_t)(d - g) + 1;
    CHECK(parse_guest(&copy, d->kernel, (int)index, &again) == 0);
    CHECK(!strcmp(again.name, d->name) && again.mem_mib == d->mem_mib &&
          again.kmem_kib == d->kmem_kib && again.kernel == d->kernel &&
          again.initrd == d->initrd && again.kfaults == d->kfaults &&
          again.disk == d->disk && again.stats == d->stats && again.net == d->net &&
          again.console == d->console &&
          !strcmp(again.cmdline, d->cmdline));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    memset(&bi, 0, sizeof bi);
    used = 0;
    skipped = 0;
    size_t at = 0;
    while (at <= size && bi.nmodules < UK_BOOT_MAX_MODULES) {
        const uint8_t *nl = memchr(data + at, '\n', size - at);
        size_t end = nl ? (size_t)(nl - data) : size;
        const uint8_t *nul = memchr(data + at, 0, end - at);   /* a C string ends there */
        add_line((const char *)data + at, (nul ? (size_t)(nul - data) : end) - at);
        at = end + 1;
    }

    int nguests = -1, vmm = find_modules(&bi, g, &nguests);
    int want_vmm = -1;
    unsigned guest_lines = 0;
    for (uk_word_t i = 0; i < bi.nmodules; i++) {
        const char *s = cmdline_of(&bi, (int)i);
        size_t w = first_word(s);
        if (want_vmm < 0 && w == 10 && !strncmp(s, "vmm-server", 10))
            want_vmm = (int)i;
        guest_lines += w == 5 && !strncmp(s, "guest", 5);
    }
    CHECK(vmm == want_vmm);
    CHECK(nguests >= 0 && (unsigned)nguests + skipped == guest_lines);
    for (int k = 0; k < nguests; k++) {
        const struct guest_desc *d = &g[k];
        const char *line = cmdline_of(&bi, d->kernel);
        CHECK(d->kernel >= 0 && (uk_word_t)d->kernel < bi.nmodules);
        CHECK(first_word(line) == 5 && !strncmp(line, "guest", 5));
        CHECK(k == 0 || d->kernel > g[k - 1].kernel);
        CHECK(name_ok(d->name));
        for (int j = 0; j < k; j++)
            CHECK(strcmp(g[j].name, d->name) != 0);
        CHECK(d->mem_mib >= 1 && d->mem_mib <= 65536);
        CHECK(d->kmem_kib == 0 || (d->kmem_kib >= 64 && d->kmem_kib <= (1u << 22)));
        CHECK(d->disk >= -1 && d->disk < (int)UK_BLK_MAX_DISKS);
        CHECK(d->console >= 1 && d->console <= (int)UK_CONSOLE_COM_MAX);
        CHECK(d->kfaults == 0 || d->kfaults == 1);
        CHECK(d->stats == 0 || d->stats == 1);
        CHECK(d->net >= -1 && d->net < (int)UK_NET_MAX_SERVERS);   /* none, or a NIC */
        if (d->initrd >= 0) {        /* the first module of that (non-empty) first word */
            const char *w = cmdline_of(&bi, d->initrd);
            CHECK(first_word(w) > 0 && strstr(line, " initrd="));
            CHECK(module_named(&bi, w, first_word(w)) == d->initrd);
        }
        /* the kernel's command line is the line's tail after a " -- " */
        if (d->cmdline[0]) {
            size_t n = strlen(d->cmdline), len = strlen(line);
            CHECK(n <= len && !strcmp(line + len - n, d->cmdline));
            CHECK(strstr(line, " -- ") || strstr(line, " --"));
        }
        round_trip(d);
    }
    return 0;
}
