/*
 * insn-profile: a QEMU TCG plugin that counts, per instruction address,
 * the instructions the guest executes between two marker instructions
 * (tools/bench/syscall-breakdown; docs/benchmarks.md).
 *
 *   qemu-system-x86_64 ... -plugin file=build/insn-profile.so,out=FILE[,each=on][,windows=WFILE]
 *
 * each=on: at the STOP of window W the totals so far also go to FILE.W, so
 * one run measures several things one after the other (each window's own
 * counts are FILE.W less FILE.W-1: tools/bench/storage-breakdown).
 *
 * Markers, both no-ops (the Bochs "magic breakpoint" idea), recognised by
 * their bytes when QEMU translates them, wherever they run:
 *   START  xchg %bx,%bx   66 87 db
 *   STOP   xchg %cx,%cx   66 87 c9
 * Several START..STOP windows add up.  At each STOP (so a run that is
 * killed later still leaves its data) and at QEMU's exit, FILE gets
 *   # insn-profile windows W instructions N
 *   <vaddr hex> <count> <kind>
 * one line per address that ran inside a window, sorted by address; kind is
 * "-" or the event the instruction is (syscall, sysret, iret, cr3 for a
 * write of CR3, swapgs, invlpg, xsave, xrstor), so the events per window
 * come with the counts.  Markers are not counted.
 *
 *   ...,out=FILE,windows=WFILE   also appends one line per window to WFILE
 *   (tools/bench/run-net: a count per measured job), at its STOP:
 *   window <n> instructions <N> syscall=.. sysret=.. iret=.. cr3=.. swapgs=..
 *   invlpg=.. xsave=.. xrstor=..  The same address in two
 * address spaces is one line: link what you measure where nothing else is.
 *
 * How: every instruction QEMU translates gets a counter of its own and an
 * inline "add 1" (no call per instruction, so the rest of the boot stays
 * fast); a START snapshots all counters, a STOP adds each counter's growth
 * since then to the counter's total.  The counters are not atomic: one vCPU
 * (-smp 1, as with -icount) is assumed and checked.  Silent unless
 * something fails: tools/run/qemu-run takes QEMU's stderr for an error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "qemu-plugin-api.h"

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

enum kind { K_PLAIN, K_SYSCALL, K_SYSRET, K_IRET, K_CR3, K_SWAPGS, K_INVLPG,
            K_XSAVE, K_XRSTOR, K_START, K_STOP };
static const char *const kind_name[] = { "-", "syscall", "sysret", "iret", "cr3",
                                         "swapgs", "invlpg", "xsave", "xrstor" };

/* One translated instruction.  A retranslation of the same code gets a new
 * site; the output merges sites by address. */
struct site {
    uint64_t hits;      /* bumped by the generated code, from boot on */
    uint64_t base;      /* hits at the current window's START */
    uint64_t sum;       /* growth over the closed windows */
    uint64_t vaddr;
    int kind;
};

/* Sites live in fixed blocks that never move or go away: the generated
 * code holds a pointer to each hits field for as long as QEMU keeps it. */
#define BLOCK_SITES 65536
static struct site **blocks;
static size_t nblocks, nsites;

static const char *out_path, *windows_path;
static int window_open;
static uint64_t windows;

static struct site *site_at(size_t i)
{
    return &blocks[i / BLOCK_SITES][i % BLOCK_SITES];
}

static struct site *new_site(uint64_t vaddr, int kind)
{
    if (nsites == nblocks * BLOCK_SITES) {
        struct site **b = realloc(blocks, (nblocks + 1) * sizeof *b);
        if (!b || !(b[nblocks] = calloc(BLOCK_SITES, sizeof **b))) {
            fprintf(stderr, "insn-profile: out of memory\n");
            abort();
        }
        blocks = b;
        nblocks++;
    }
    struct site *s = site_at(nsites++);
    s->vaddr = vaddr;
    s->kind = kind;
    return s;
}

/* What an x86 instruction is, from its bytes: only the few kinds that are
 * events for the microkernel's cost; everything else is plain. */
static int classify(const uint8_t *b, size_t n)
{
    static const uint8_t start[] = { 0x66, 0x87, 0xdb }, stop[] = { 0x66, 0x87, 0xc9 };
    if (n == 3 && !memcmp(b, start, 3))
        return K_START;
    if (n == 3 && !memcmp(b, stop, 3))
        return K_STOP;

    size_t i = 0;
    while (i < n && (b[i] == 0x66 || b[i] == 0x67 || b[i] == 0xf0 || b[i] == 0xf2 ||
                     b[i] == 0xf3 || b[i] == 0x2e || b[i] == 0x36 || b[i] == 0x3e ||
                     b[i] == 0x26 || b[i] == 0x64 || b[i] == 0x65))
        i++;                                    /* legacy prefixes */
    if (i < n && (b[i] & 0xf0) == 0x40)
        i++;                                    /* REX */
    if (i < n && b[i] == 0xcf)
        return K_IRET;
    if (i + 1 >= n || b[i] != 0x0f)
        return K_PLAIN;
    uint8_t op = b[i + 1];
    uint8_t modrm = i + 2 < n ? b[i + 2] : 0;
    int reg = (modrm >> 3) & 7, mem = (modrm >> 6) != 3;
    if (op == 0x05)
        return K_SYSCALL;
    if (op == 0x07)
        return K_SYSRET;
    if (op == 0x22 && reg == 3)
        return K_CR3;                           /* mov to CR3 */
    if (op == 0x01 && modrm == 0xf8)
        return K_SWAPGS;
    if (op == 0x01 && mem && reg == 7)
        return K_INVLPG;
    if (op == 0xae && mem && reg == 4)
        return K_XSAVE;
    if (op == 0xae && mem && reg == 5)
        return K_XRSTOR;
    return K_PLAIN;
}

static int by_vaddr(const void *a, const void *b)
{
    uint64_t x = (*(struct site *const *)a)->vaddr, y = (*(struct site *const *)b)->vaddr;
    return x < y ? -1 : x > y;
}

/* The totals so far, merged by address, into out_path (through a rename,
 * so a reader never sees half a file). */
static void write_profile_to(const char *path)
{
    struct site **v = malloc((nsites ? nsites : 1) * sizeof *v);
    size_t n = 0;
    uint64_t total = 0;
    if (!v)
        return;
    for (size_t i = 0; i < nsites; i++) {
        struct site *s = site_at(i);
        if (s->sum) {
            v[n++] = s;
            total += s->sum;
        }
    }
    qsort(v, n, sizeof *v, by_vaddr);

    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        fprintf(stderr, "insn-profile: cannot write %s\n", tmp);
        free(v);
        return;
    }
    fprintf(f, "# insn-profile windows %llu instructions %llu\n",
            (unsigned long long)windows, (unsigned long long)total);
    for (size_t i = 0; i < n;) {
        uint64_t count = 0;
        int kind = K_PLAIN;
        size_t j = i;
        for (; j < n && v[j]->vaddr == v[i]->vaddr; j++) {
            count += v[j]->sum;
            if (v[j]->kind != K_PLAIN)
                kind = v[j]->kind;
        }
        fprintf(f, "%llx %llu %s\n", (unsigned long long)v[i]->vaddr,
                (unsigned long long)count, kind_name[kind]);
        i = j;
    }
    free(v);
    if (fclose(f) != 0 || rename(tmp, path) != 0)
        fprintf(stderr, "insn-profile: cannot write %s\n", path);
}

static int each_window;         /* each=on: FILE.W at each STOP too */

static void write_profile(void)
{
    write_profile_to(out_path);
    if (each_window && window_open == 0 && windows) {
        char path[4096];
        snprintf(path, sizeof path, "%s.%llu", out_path, (unsigned long long)windows);
        write_profile_to(path);
    }
}

static void on_start(unsigned int vcpu, void *data)
{
    (void)vcpu, (void)data;
    if (window_open)
        return;                 /* a second START inside a window: ignored */
    for (size_t i = 0; i < nsites; i++)
        site_at(i)->base = site_at(i)->hits;
    window_open = 1;
}

static void on_stop(unsigned int vcpu, void *data)
{
    (void)vcpu, (void)data;
    if (!window_open)
        return;
    uint64_t total = 0, kinds[K_XRSTOR + 1] = { 0 };
    for (size_t i = 0; i < nsites; i++) {
        struct site *s = site_at(i);
        uint64_t d = s->hits - s->base;
        s->sum += d;                    /* sites made in the window start at 0 */
        total += d;
        kinds[s->kind] += d;
    }
    window_open = 0;
    windows++;
    FILE *w = windows_path ? fopen(windows_path, "a") : NULL;
    if (w) {
        fprintf(w, "window %llu instructions %llu", (unsigned long long)windows,
                (unsigned long long)total);
        for (int k = K_SYSCALL; k <= K_XRSTOR; k++)
            fprintf(w, " %s=%llu", kind_name[k], (unsigned long long)kinds[k]);
        fprintf(w, "\n");
        fclose(w);
    } else if (windows_path) {
        fprintf(stderr, "insn-profile: cannot append to %s\n", windows_path);
    }
    write_profile();
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    size_t n = qemu_plugin_tb_n_insns(tb);
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        int kind = classify(qemu_plugin_insn_data(insn), qemu_plugin_insn_size(insn));
        if (kind == K_START || kind == K_STOP) {
            qemu_plugin_register_vcpu_insn_exec_cb(insn, kind == K_START ? on_start : on_stop,
                                                   QEMU_PLUGIN_CB_NO_REGS, NULL);
            continue;
        }
        struct site *s = new_site(qemu_plugin_insn_vaddr(insn), kind);
        qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64,
                                                   &s->hits, 1);
    }
}

static void at_exit(qemu_plugin_id_t id, void *data)
{
    (void)id, (void)data;
    if (window_open)
        fprintf(stderr, "insn-profile: QEMU exits inside a window: its part is not counted\n");
    write_profile();
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                           int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        if (!strncmp(argv[i], "out=", 4) && argv[i][4]) {
            out_path = argv[i] + 4;     /* argv stays valid while we are loaded */
        } else if (!strncmp(argv[i], "windows=", 8) && argv[i][8]) {
            windows_path = argv[i] + 8;
        } else if (!strcmp(argv[i], "each=on")) {
            each_window = 1;
        } else {
            fprintf(stderr, "insn-profile: unknown argument '%s' (want out=FILE, "
                    "windows=FILE, each=on)\n", argv[i]);
            return -1;
        }
    }
    if (!out_path) {
        fprintf(stderr, "insn-profile: no output file (out=FILE)\n");
        return -1;
    }
    if (info->system_emulation && info->system.max_vcpus > 1) {
        fprintf(stderr, "insn-profile: one vCPU only (-smp 1): the counters are not atomic\n");
        return -1;
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, at_exit, NULL);
    return 0;
}
