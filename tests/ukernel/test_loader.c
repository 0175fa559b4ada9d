/*
 * The program loader (libuser/loader.c) on a real file: the ISO's second
 * module is build/roottask.elf.  It is loaded into a new task (which does not
 * share our image: roottask.elf is linked at the same addresses), each
 * segment is checked from inside that task by probe threads, broken copies
 * must be refused before anything is mapped, and finally the loaded root
 * task is started with a copy of our boot-info page and runs its IPC
 * self-test in its own task.
 *
 * Probes: a thread in the child runs a few instructions from a code page we
 * map there (PROBE_VA); an access that works ends in ud2 (an exception
 * message, rax = the word read), one that does not in a page fault.  An
 * exec probe starts a thread at the address itself.
 */
#include "ktest.h"
#include <user/loader.h>

#define CHILD_QUOTA (512ul << 10)
#define CHILD_SLOTS 64
#define PROBE_VA    0x10000000ul
#define PROBE_SP    (PROBE_VA + 0x2010)      /* not mapped: a push faults */
#define KERNEL_VA   0xffffffff80000000ul

static const unsigned char probe_code[] = {
    0x48, 0x8b, 0x07, 0x0f, 0x0b,             /* +0:  mov (%rdi),%rax; ud2 */
    [16] = 0x48, 0x8b, 0x07, 0x48, 0x89, 0x07, 0x0f, 0x0b,
                                              /* +16: the same, mov %rax,(%rdi); ud2 */
};
#define PROBE_READ  PROBE_VA
#define PROBE_WRITE (PROBE_VA + 16)

static const unsigned char *module(uk_word_t *size)
{
    *size = kt_bi->modules[0].size;
    return (const unsigned char *)(UK_PHYS_WINDOW + kt_bi->modules[0].phys);
}

static uk_word_t child(void)
{
    uk_word_t t = 0;
    KT_EQ(uk_task_new(CHILD_QUOTA, CHILD_SLOTS, 0, &t), UK_OK);
    return t;
}

static uk_word_t kmem_used(uk_word_t task)
{
    uk_word_t used = 0;
    KT_EQ(uk_kmem_info(task, &used, 0), UK_OK);
    return used;
}

static uk_word_t load_phdr(const unsigned char *f, int which);
static uk_word_t word_at(const void *p)
{
    uk_word_t w;
    memcpy(&w, p, sizeof w);
    return w;
}

/* --- probes ------------------------------------------------------------------ */

struct outcome { uk_word_t label, w[4]; };

/* A thread in `task` started at rip with rdi: how it ended (label 0: it
 * neither faulted nor hit ud2 within two seconds).  It is destroyed. */
static struct outcome run_in(uk_word_t task, uk_word_t rip, uk_word_t rdi)
{
    struct outcome o = { 0 };
    uk_word_t ep = kt_endpoint(), th = uk_slot_alloc();
    KT_EQ(uk_thread_create(th, task), UK_OK);
    KT_EQ(uk_thread_config(th, 200, ep, 0), UK_OK);
    KT_EQ(uk_thread_start(th, rip, PROBE_SP, rdi), UK_OK);
    struct uk_msg m = { .info = uk_msginfo(0, 0, uk_timeout_us(2000000)) };
    if (uk_recv(ep, &m) == UK_OK) {
        o.label = uk_msg_label(m.info);
        memcpy(o.w, m.w, sizeof o.w);
        m.info = uk_msginfo(UK_FAULT_REPLY_STOP, 0, 0);
        KT_EQ(uk_reply(&m), UK_OK);
    }
    kt_destroy(th);
    kt_destroy(ep);
    return o;
}

static void map_probe_code(uk_word_t task)
{
    static unsigned char *code;
    if (!code) {
        code = uk_pages_alloc(1);
        memcpy(code, probe_code, sizeof probe_code);
        KT_EQ(uk_protect(UK_SLOT_SELF_TASK, (uk_word_t)code, 1, UK_MAP_READ | UK_MAP_EXEC), UK_OK);
    }
    KT_EQ(uk_map(task, (uk_word_t)code, PROBE_VA, 1, UK_MAP_READ | UK_MAP_EXEC), UK_OK);
}

/* Reading va in the task works and gives `want`. */
static void expect_read(uk_word_t task, uk_word_t va, uk_word_t want)
{
    struct outcome o = run_in(task, PROBE_READ, va);
    KT_EQ(o.label, UK_FAULT_EXCEPTION);
    KT_EQ(o.w[0], want);
}

/* Writing va works, or faults on a present page. */
static void expect_write(uk_word_t task, uk_word_t va, int allowed)
{
    struct outcome o = run_in(task, PROBE_WRITE, va);
    if (allowed) {
        KT_EQ(o.label, UK_FAULT_EXCEPTION);
    } else {
        KT_EQ(o.label, UK_FAULT_PAGE);
        KT_EQ(o.w[0], va);
        KT_EQ(o.w[1] & (UK_ACCESS_WRITE | UK_ACCESS_PRESENT), UK_ACCESS_WRITE | UK_ACCESS_PRESENT);
    }
}

/* Jumping to va: refused means an instruction-fetch fault right there. */
static void expect_exec(uk_word_t task, uk_word_t va, int allowed)
{
    struct outcome o = run_in(task, va, 0);
    int fetch_fault = o.label == UK_FAULT_PAGE && o.w[0] == va && (o.w[1] & UK_ACCESS_EXEC);
    KT_CHECK(o.label != 0);
    KT_EQ(fetch_fault, !allowed);
}

/* --- tests ------------------------------------------------------------------- */

static struct uk_loaded L;

KT_TEST(loader_maps_segments_with_their_rights)
{
    uk_word_t size, t = child();
    const unsigned char *elf = module(&size);
    KT_EQ(uk_load_elf(t, elf, size, &L), UK_OK);
    KT_EQ(L.error[0], 0);
    if (L.error[0])
        printf("    %s\n", L.error);
    KT_EQ(L.img.entry, word_at(elf + 24));             /* e_entry */
    KT_EQ(L.img.lowest, word_at(elf + load_phdr(elf, 0) + 16));   /* the first p_vaddr */
    KT_CHECK(L.img.nsegments >= 2);
    map_probe_code(t);

    uk_word_t pages = 0;
    for (unsigned i = 0; i < L.img.nsegments; i++) {
        const struct uk_elf_segment *s = &L.img.seg[i];
        uk_word_t n = uk_seg_pages(s), base = s->vaddr & ~(UK_PAGE_SIZE - 1);
        unsigned char *copy = L.copy[i];
        pages += n;
        /* our copy: file bytes where they belong, zero around them */
        KT_CHECK(!memcmp(copy + (s->vaddr - base), elf + s->offset, s->filesz));
        for (uk_word_t b = 0; b < n * UK_PAGE_SIZE; b++)
            if ((b < s->vaddr - base || b >= s->vaddr - base + s->filesz) && copy[b]) {
                KT_EQ(copy[b], 0);
                break;
            }
        uk_word_t phys = 0, rights = 0;
        KT_EQ(uk_mem_info((uk_word_t)copy, &phys, &rights), UK_OK);
        KT_EQ(rights, (s->flags & UK_MAP_EXEC) ? (s->flags | UK_MAP_READ) : (UK_MAP_READ | UK_MAP_WRITE));
        /* the child: first and last page readable with our bytes, written
         * and executed only as the segment says */
        expect_read(t, base, word_at(copy));
        expect_read(t, base + (n - 1) * UK_PAGE_SIZE + 8, word_at(copy + (n - 1) * UK_PAGE_SIZE + 8));
        expect_write(t, base + (n - 1) * UK_PAGE_SIZE, !!(s->flags & UK_MAP_WRITE));
        if (!(s->flags & UK_MAP_EXEC))
            expect_exec(t, base, 0);
        else if (L.img.entry >= s->vaddr && L.img.entry < s->vaddr + s->memsz)
            expect_exec(t, L.img.entry, 1);
    }
    KT_EQ(L.pages, pages);
    /* nothing past the image */
    struct outcome o = run_in(t, PROBE_READ, L.img.highest);
    KT_EQ(o.label, UK_FAULT_PAGE);
    KT_EQ(o.w[1] & UK_ACCESS_PRESENT, 0);
    kt_destroy(t);
}

/* Offset of the first (which = 0) or second PT_LOAD program header. */
static uk_word_t load_phdr(const unsigned char *f, int which)
{
    uk_word_t phoff = word_at(f + 32), phnum = f[56] | f[57] << 8;
    for (uk_word_t i = 0; i < phnum; i++) {
        uk_word_t at = phoff + i * 56;
        if ((f[at] | f[at + 1] << 8 | f[at + 2] << 16 | (uk_word_t)f[at + 3] << 24) == 1 &&
            which-- == 0)
            return at;
    }
    KT_CHECK(0);
    return 0;
}

static void set_word(unsigned char *p, uk_word_t v) { memcpy(p, &v, sizeof v); }

KT_TEST(loader_refuses_bad_files_before_mapping)
{
    uk_word_t size, t = child();
    const unsigned char *elf = module(&size);
    unsigned char *buf = uk_pages_alloc((size + UK_PAGE_SIZE - 1) / UK_PAGE_SIZE);
    KT_CHECK(buf != 0);
    uk_word_t used = kmem_used(t);
    unsigned char *pool_before = uk_pages_alloc(1);
    struct uk_elf_image img;
    uk_word_t file_end = 0;                   /* end of the last file bytes loaded */
    KT_EQ(uk_elf_check(elf, size, UK_PAGE_SIZE, UK_PHYS_WINDOW, &img), UK_ELF_OK);
    for (unsigned i = 0; i < img.nsegments; i++)
        if (img.seg[i].offset + img.seg[i].filesz > file_end)
            file_end = img.seg[i].offset + img.seg[i].filesz;

    static const struct { const char *what; int want; } cases[] = {
        { "truncated to 32 bytes", UK_ELF_TRUNCATED },
        { "truncated inside a segment", UK_ELF_BAD_SEGMENT },
        { "corrupted magic", UK_ELF_BAD_MAGIC },
        { "segment in kernel space", UK_ELF_OUT_OF_RANGE },
        { "segment in the physical window", UK_ELF_OUT_OF_RANGE },
        { "two segments at one address", UK_ELF_OVERLAP },
        { "range below the image's end (uk_load_elf_in)", UK_ELF_OUT_OF_RANGE },
    };
    for (unsigned c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        uk_word_t len = size;
        memcpy(buf, elf, size);
        switch (c) {
        case 0: len = 32; break;
        case 1: len = file_end - 1; break;
        case 2: buf[1] = 'Z'; break;
        case 3: set_word(buf + load_phdr(buf, 0) + 16, KERNEL_VA); break;
        case 4: set_word(buf + load_phdr(buf, 0) + 16, UK_PHYS_WINDOW); break;
        case 5: set_word(buf + load_phdr(buf, 1) + 16, word_at(buf + load_phdr(buf, 0) + 16)); break;
        }
        long err = c == 6 ? uk_load_elf_in(t, buf, len, UK_PAGE_SIZE, img.highest - UK_PAGE_SIZE, &L)
                          : uk_load_elf(t, buf, len, &L);
        char want[96];
        snprintf(want, sizeof want, "ELF file refused: %s", uk_elf_strerror(cases[c].want));
        if (err != UK_E_INVAL || L.elf_error != cases[c].want || strcmp(L.error, want))
            printf("    %s: %ld, \"%s\"\n", cases[c].what, err, L.error);
        KT_EQ(err, UK_E_INVAL);
        KT_EQ(L.elf_error, cases[c].want);
        KT_EQ(strcmp(L.error, want), 0);
        KT_EQ(L.pages, 0);
    }
    /* nothing mapped (no page table, no mapping node), no pool page taken */
    KT_EQ(kmem_used(t), used);
    KT_EQ(uk_pages_alloc(1), pool_before + UK_PAGE_SIZE);
    kt_destroy(t);
}

KT_TEST(loader_starts_the_root_task_program)
{
    uk_word_t size, t = child(), ep = kt_endpoint(), th = 0;
    const unsigned char *elf = module(&size);
    KT_EQ(uk_load_elf(t, elf, size, &L), UK_OK);
    /* its boot info: a copy of ours, read-only where the root finds it */
    struct uk_bootinfo *bi = uk_pages_alloc(1);
    memcpy(bi, kt_bi, UK_PAGE_SIZE);
    bi->root_cmdline = UK_BOOT_STRINGS - 32;
    memcpy(bi->strings + bi->root_cmdline, "started-by-ktest", 17);
    KT_EQ(uk_map(t, (uk_word_t)bi, UK_BOOTINFO_VADDR, 1, UK_MAP_READ), UK_OK);
    uk_word_t used = kmem_used(t);

    KT_EQ(uk_start_program(t, &L, 200, ep, UK_BOOTINFO_VADDR, &th), UK_OK);
    KT_CHECK(th != 0);
    /* it prints its banner, runs 1000 calls to a server thread of its own
     * and suspends itself; a fault would come here */
    struct uk_msg m = { .info = uk_msginfo(0, 0, uk_timeout_us(3000000)) };
    long err = uk_recv(ep, &m);
    KT_EQ(err, UK_E_TIMEOUT);
    if (err == UK_OK)
        printf("    fault %lx: %lx %lx %lx\n", uk_msg_label(m.info), m.w[0], m.w[1], m.w[2]);
    KT_CHECK(kmem_used(t) > used);            /* it made its endpoint and server thread */
    KT_EQ(uk_thread_read_regs(th), UK_OK);
    struct uk_regs r;
    memcpy(&r, uk_ipc_buf->data, sizeof r);
    const struct uk_elf_segment *text = &L.img.seg[0];
    KT_CHECK(r.rip >= text->vaddr && r.rip < text->vaddr + text->memsz);   /* parked in its code */
    kt_destroy(th);
    kt_destroy(ep);
    kt_destroy(t);
}
