/*
 * Host tests (cmocka) of the root task's boot-module command lines
 * (roottask/modules.c): the `guest ...` line is the only input to the
 * launcher that does not come from our own build, so every field is checked
 * for what it must accept and refuse.  Built and run with the other host
 * tests (tests/unit/Makefile, suite `unit`).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#define main uk_program_main      /* rt.h declares the program's main(bootinfo) */
#include "../../roottask/modules.c"
#undef main

static struct uk_bootinfo bi;
static uk_word_t used;

/* A boot-info page with these module command lines (NULL-terminated). */
static void boot(const char *const *cmdlines)
{
    memset(&bi, 0, sizeof bi);
    used = 0;
    for (int i = 0; cmdlines[i]; i++) {
        bi.modules[i].phys = 0x100000ul * (uk_word_t)(i + 1);
        bi.modules[i].size = 4096;
        bi.modules[i].cmdline = used;
        size_t n = strlen(cmdlines[i]) + 1;
        memcpy(bi.strings + used, cmdlines[i], n);
        used += n;
        bi.nmodules++;
    }
}

static struct guest_desc g[ROOT_MAX_GUESTS];

static const char *parse_one(const char *line)
{
    boot((const char *const[]){ line, "initrd-a extra words", NULL });
    return parse_guest(&bi, 0, 1, &g[0]);
}

static void defaults(void **state)
{
    (void)state;
    assert_null(parse_one("guest"));
    assert_string_equal(g[0].name, "g1");
    assert_int_equal(g[0].mem_mib, 64);
    assert_int_equal(g[0].kmem_kib, 0);
    assert_int_equal(g[0].kernel, 0);
    assert_int_equal(g[0].initrd, -1);
    assert_int_equal(g[0].kfaults, 0);
    assert_int_equal(g[0].disk, -1);
    assert_int_equal(g[0].net, -1);                    /* no NIC */
    assert_int_equal(g[0].console, 1);                    /* COM1's console server */
    assert_int_equal(g[0].stats, 0);
    assert_string_equal(g[0].cmdline, "");
}

static void every_field(void **state)
{
    (void)state;
    assert_null(parse_one("guest  name=web-1_x mem=128 kmem=4096 initrd=initrd-a kfaults stats -- "
                          "console=hvc0  quiet -- x kfaults"));
    assert_int_equal(g[0].stats, 1);
    assert_string_equal(g[0].name, "web-1_x");
    assert_int_equal(g[0].mem_mib, 128);
    assert_int_equal(g[0].kmem_kib, 4096);
    assert_int_equal(g[0].initrd, 1);
    assert_int_equal(g[0].kfaults, 1);
    assert_string_equal(g[0].cmdline, "console=hvc0  quiet -- x kfaults");   /* the rest, as is */
    assert_null(parse_one("guest -- kfaults stats"));    /* the guest kernel's words, not ours */
    assert_int_equal(g[0].kfaults, 0);
    assert_null(parse_one("guest disk=0 -- disk=2"));
    assert_int_equal(g[0].disk, 0);
    assert_string_equal(g[0].cmdline, "disk=2");
    assert_null(parse_one("guest name=b disk=3"));        /* the block server's last disk */
    assert_int_equal(g[0].disk, 3);
    assert_int_equal(g[0].stats, 0);
    assert_null(parse_one("guest net -- net=2"));       /* NIC 0's network server */
    assert_int_equal(g[0].net, 0);
    assert_null(parse_one("guest net=1"));              /* NIC 1's: the per-guest topology */
    assert_int_equal(g[0].net, 1);
    assert_null(parse_one("guest net=3"));
    assert_int_equal(g[0].net, 3);
    assert_null(parse_one("guest name=b console=2 -- console=1"));   /* COM2's server */
    assert_int_equal(g[0].console, 2);
    assert_null(parse_one("guest console=1"));
    assert_int_equal(g[0].console, 1);
}

static void refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "guest name=", "guest name=a!b", "guest name=abcdefghijabcdefghijabcdefghijab",
        "guest mem=", "guest mem=0", "guest mem=65537", "guest mem=12x", "guest mem=-1",
        "guest mem=9999999999", "guest kmem=63", "guest kmem=4194305",
        "guest initrd=", "guest initrd=nosuch", "guest initrd=initrd",
        "guest foo=1", "guest --x", "guest name=a mem=1 extra",
        "guest kfaults=1", "guest kfault", "guest kfaultsx", "guest mem=16kfaults",
        "guest disk=", "guest disk=4", "guest disk=-1", "guest disk=x", "guest disk",
        "guest disk=99999999999999999999",
        "guest net=", "guest net=4", "guest net=-1", "guest net=x", "guest netx", "guest nets",
        "guest console=", "guest console=0", "guest console=3", "guest console=x",
        "guest console", "guest console=12",
        "guest stats=1", "guest stat", "guest statsx",
        "guest name=console",                           /* the console server's label */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *why = parse_one(bad[i]);
        if (!why)
            fail_msg("accepted: \"%s\"", bad[i]);
    }
    /* an empty initrd= names no module, not one with an empty command line */
    boot((const char *const[]){ "guest initrd=", "", NULL });
    assert_non_null(parse_guest(&bi, 0, 1, &g[0]));
    assert_int_equal(find_module(&bi, ""), -1);
    assert_null(parse_one("guest name=abcdefghijabcdefghijabcdefghija"));   /* 31: fits */
    assert_null(parse_one("guest mem=65536 kmem=64"));
}

static void finds_modules(void **state)
{
    (void)state;
    int n = -1;
    boot((const char *const[]){ "vmm-serverx", "guestx name=a", "initrd-b", "vmm-server",
                                "guest name=a mem=16 initrd=initrd-b -- one",
                                "guest mem=oops", "guest name=a", "vmm-server again",
                                "guest -- two", NULL });
    assert_int_equal(find_modules(&bi, g, &n), 3);
    assert_int_equal(n, 2);
    assert_string_equal(g[0].name, "a");
    assert_int_equal(g[0].kernel, 4);
    assert_int_equal(g[0].initrd, 2);
    assert_string_equal(g[0].cmdline, "one");
    assert_string_equal(g[1].name, "g2");                /* its index among the guests */
    assert_int_equal(g[1].kernel, 8);
    assert_string_equal(g[1].cmdline, "two");
}

static void finds_the_console_server(void **state)
{
    (void)state;
    boot((const char *const[]){ "console-serverx", "vmm-server", "console-server  x",
                                "console-server", NULL });
    assert_int_equal(find_module(&bi, "console-server"), 2);   /* the first, by its first word */
    boot((const char *const[]){ "vmm-server", "guest", "console", NULL });
    assert_int_equal(find_module(&bi, "console-server"), -1);
}

static void no_vmm_server(void **state)
{
    (void)state;
    int n = -1;
    boot((const char *const[]){ "roottask-copy", NULL });
    assert_int_equal(find_modules(&bi, g, &n), -1);
    assert_int_equal(n, 0);
    bi.modules[0].cmdline = UK_BOOT_STRINGS + 5;        /* out of range: an empty line */
    assert_int_equal(find_modules(&bi, g, &n), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults),
        cmocka_unit_test(every_field),
        cmocka_unit_test(refused),
        cmocka_unit_test(finds_modules),
        cmocka_unit_test(finds_the_console_server),
        cmocka_unit_test(no_vmm_server),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
