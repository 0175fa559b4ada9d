/*
 * Boot modules, by their command lines (the first word names a module):
 *   vmm-server                     the vmm-server program
 *   guest name=g1 mem=64 [kmem=KiB] [initrd=<module>] [disk=N] [console=C] [net[=NIC]] [kfaults] [stats] -- <kernel cmdline>
 *                                  a guest kernel; one vmm-server each
 *   console-server [com=C]         a console server, on COM C (console.c: one per line)
 *   blk-server [disk=N]            a block server (blk.c blk_start_all: one per line)
 *   net-server [nic=N]             a network server (net.c net_start_all: one per line)
 * Anything else (initrds) is left to whoever names it.
 */
#include "root.h"
#include <uk/blk.h>
#include <uk/net.h>

const char *cmdline_of(const struct uk_bootinfo *bi, int i)
{
    uk_word_t off = bi->modules[i].cmdline;
    return off < UK_BOOT_STRINGS ? bi->strings + off : "";
}

/* Length of the word at p (up to a space or the end). */
uk_word_t word_len(const char *p)
{
    uk_word_t n = 0;
    while (p[n] && p[n] != ' ')
        n++;
    return n;
}

static int first_word_is(const char *cmd, const char *w, uk_word_t n)
{
    return word_len(cmd) == n && !strncmp(cmd, w, n);
}

/* A decimal number of exactly n characters at p, at most max; -1 if not. */
static long number(const char *p, uk_word_t n, long max)
{
    long v = 0;
    if (n == 0 || n > 9)
        return -1;
    for (uk_word_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v <= max ? v : -1;
}

/* The first module whose first word is the n bytes at name; -1: none.  An
 * empty name names nothing (not a module whose command line is empty, or
 * did not fit in the boot info's strings: found by tests/fuzz-host). */
static int module_named(const struct uk_bootinfo *bi, const char *name, uk_word_t n)
{
    if (n == 0)
        return -1;
    for (uk_word_t i = 0; i < bi->nmodules && i < UK_BOOT_MAX_MODULES; i++)
        if (first_word_is(cmdline_of(bi, (int)i), name, n))
            return (int)i;
    return -1;
}

int find_module(const struct uk_bootinfo *bi, const char *word)
{
    return module_named(bi, word, strlen(word));
}

/* Parses module i's `guest ...` line into g; NULL or what is wrong. */
static const char *parse_guest(const struct uk_bootinfo *bi, int i, int index,
                               struct guest_desc *g)
{
    const char *p = cmdline_of(bi, i) + 5;      /* after "guest" */
    memset(g, 0, sizeof *g);
    snprintf(g->name, sizeof g->name, "g%d", index);
    g->mem_mib = 64;
    g->kernel = i;
    g->initrd = -1;
    g->disk = -1;
    g->net = -1;
    g->console = 1;
    for (;;) {
        while (*p == ' ')
            p++;
        uk_word_t n = word_len(p);
        if (n == 0)
            break;
        if (n == 2 && !strncmp(p, "--", 2)) {   /* the rest is the kernel's */
            p += 2;
            while (*p == ' ')
                p++;
            snprintf(g->cmdline, sizeof g->cmdline, "%s", p);
            break;
        }
        long v;
        if (!strncmp(p, "name=", 5)) {
            if (n - 5 == 0 || n - 5 >= sizeof g->name)
                return "name= needs 1 to 31 characters";
            for (uk_word_t k = 5; k < n; k++) {
                char c = p[k];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      (c >= '0' && c <= '9') || c == '-' || c == '_'))
                    return "name= takes letters, digits, - and _";
            }
            memcpy(g->name, p + 5, n - 5);
            g->name[n - 5] = 0;
            if (!strcmp(g->name, UK_CONSOLE_OWN_LABEL))
                return "name= cannot be the console server's own label \"" UK_CONSOLE_OWN_LABEL "\"";
        } else if (!strncmp(p, "mem=", 4)) {
            if ((v = number(p + 4, n - 4, 65536)) < 1)
                return "mem= needs a size in MiB (1..65536)";
            g->mem_mib = (uk_word_t)v;
        } else if (!strncmp(p, "kmem=", 5)) {
            if ((v = number(p + 5, n - 5, 1 << 22)) < 64)
                return "kmem= needs a size in KiB (64..4194304)";
            g->kmem_kib = (uk_word_t)v;
        } else if (!strncmp(p, "initrd=", 7)) {
            if ((g->initrd = module_named(bi, p + 7, n - 7)) < 0)
                return "initrd= names no module";
        } else if (!strncmp(p, "disk=", 5)) {
            if ((v = number(p + 5, n - 5, UK_BLK_MAX_DISKS - 1)) < 0)
                return "disk= needs a disk number (0..3) of the block server";
            g->disk = (int)v;
        } else if (!strncmp(p, "console=", 8)) {
            if ((v = number(p + 8, n - 8, UK_CONSOLE_COM_MAX)) < 1)
                return "console= needs a serial port (1..2): the console server of COM N";
            g->console = (int)v;
        } else if (n == 3 && !strncmp(p, "net", 3)) {
            g->net = 0;
        } else if (!strncmp(p, "net=", 4)) {
            if ((v = number(p + 4, n - 4, UK_NET_MAX_SERVERS - 1)) < 0)
                return "net= needs a NIC number (0..3)";
            g->net = (int)v;
        } else if (n == 7 && !strncmp(p, "kfaults", 7)) {
            g->kfaults = 1;
        } else if (n == 5 && !strncmp(p, "stats", 5)) {
            g->stats = 1;
        } else {
            return "unknown word (want name=, mem=, kmem=, initrd=, disk=, console=, net[=N], "
                   "kfaults, stats, --)";
        }
        p += n;
    }
    return 0;
}

int find_modules(const struct uk_bootinfo *bi, struct guest_desc *g, int *nguests)
{
    int vmm = -1;
    *nguests = 0;
    for (uk_word_t i = 0; i < bi->nmodules && i < UK_BOOT_MAX_MODULES; i++) {
        const char *cmd = cmdline_of(bi, (int)i);
        if (first_word_is(cmd, "vmm-server", 10) && vmm < 0)
            vmm = (int)i;
        if (!first_word_is(cmd, "guest", 5))
            continue;
        const char *why = parse_guest(bi, (int)i, *nguests + 1, &g[*nguests]);
        if (why) {
            printf("root task: module %lu \"%s\": %s; guest skipped\n", i, cmd, why);
            continue;
        }
        for (int k = 0; k < *nguests && !why; k++)
            if (!strcmp(g[k].name, g[*nguests].name))
                why = "a guest of that name exists";
        if (why) {
            printf("root task: module %lu \"%s\": %s; guest skipped\n", i, cmd, why);
            continue;
        }
        (*nguests)++;
    }
    return vmm;
}
