/*
 * Program loader (user/loader.h).  First the pure copy plan (host-tested with
 * -DUK_HOST_TEST), then the parts that make system calls.
 */
#include <user/loader.h>

#define RW (UK_MAP_READ | UK_MAP_WRITE)

static uk_word_t page_down(uk_word_t a) { return a & ~(UK_PAGE_SIZE - 1); }
static uk_word_t page_up(uk_word_t a)   { return (a + UK_PAGE_SIZE - 1) & ~(UK_PAGE_SIZE - 1); }

/* uk_elf_check ruled out wrapping, so the arithmetic below cannot. */
uk_word_t uk_seg_pages(const struct uk_elf_segment *s)
{
    return (page_up(s->vaddr + s->memsz) - page_down(s->vaddr)) / UK_PAGE_SIZE;
}

struct uk_page_plan uk_seg_page_plan(const struct uk_elf_segment *s, uk_word_t i)
{
    uk_word_t va = page_down(s->vaddr) + i * UK_PAGE_SIZE;
    uk_word_t lo = va > s->vaddr ? va : s->vaddr;     /* file bytes in [lo, hi) */
    uk_word_t file_end = s->vaddr + s->filesz;
    uk_word_t hi = va + UK_PAGE_SIZE < file_end ? va + UK_PAGE_SIZE : file_end;
    if (hi <= lo)
        return (struct uk_page_plan){ 0, 0, 0 };      /* all zero: bss, or past it */
    return (struct uk_page_plan){ lo - va, s->offset + (lo - s->vaddr), hi - lo };
}

void uk_seg_fill(const struct uk_elf_segment *s, const void *file, void *dst)
{
    unsigned char *page = dst;
    for (uk_word_t i = 0, n = uk_seg_pages(s); i < n; i++, page += UK_PAGE_SIZE) {
        struct uk_page_plan p = uk_seg_page_plan(s, i);
        __builtin_memset(page, 0, UK_PAGE_SIZE);
        __builtin_memcpy(page + p.at, (const unsigned char *)file + p.file_off, p.len);
    }
}

#ifndef UK_HOST_TEST
#include <user/rt.h>
#include <user/spawn.h>

static long seg_fail(struct uk_loaded *out, long err, const char *call,
                     const struct uk_elf_segment *s)
{
    snprintf(out->error, sizeof out->error, "%s of the segment at 0x%lx (%lu pages): error %ld",
             call, s->vaddr, uk_seg_pages(s), err);
    return err;
}

long uk_load_elf_with(uk_word_t task, const void *elf, uk_word_t size, uk_word_t lo,
                      uk_word_t hi, uk_page_alloc_fn *alloc, void *ctx, struct uk_loaded *out)
{
    memset(out, 0, sizeof *out);
    out->elf_error = uk_elf_check(elf, size, lo, hi, &out->img);
    if (out->elf_error) {
        snprintf(out->error, sizeof out->error, "ELF file refused: %s",
                 uk_elf_strerror(out->elf_error));
        return UK_E_INVAL;
    }
    for (unsigned i = 0; i < out->img.nsegments; i++)
        out->pages += uk_seg_pages(&out->img.seg[i]);
    unsigned char *p = alloc(ctx, out->pages);
    if (!p) {
        snprintf(out->error, sizeof out->error, "out of memory: no %lu free pages for the image",
                 out->pages);
        out->pages = 0;
        return UK_E_NOMEM;
    }
    for (unsigned i = 0; i < out->img.nsegments; i++) {
        const struct uk_elf_segment *s = &out->img.seg[i];
        uk_word_t n = uk_seg_pages(s), rights = s->flags | UK_MAP_READ;
        long err;
        out->copy[i] = p;
        uk_seg_fill(s, elf, p);
        /* the pool is mapped RW (granted RWX): a map passes on only what
         * its source has now */
        if ((rights & UK_MAP_EXEC) &&
            (err = uk_map_range(0, (uk_word_t)p, 0, n, rights)))
            return seg_fail(out, err, "UK_SYS_PROTECT (caller's copy)", s);
        if ((err = uk_map_range(task, (uk_word_t)p, page_down(s->vaddr), n, rights)))
            return seg_fail(out, err, "UK_SYS_MAP (into the task)", s);
        p += n * UK_PAGE_SIZE;
    }
    return UK_OK;
}

static void *pool_alloc(void *ctx, uk_word_t npages)
{
    (void)ctx;
    return uk_pages_alloc(npages);
}

long uk_load_elf_in(uk_word_t task, const void *elf, uk_word_t size,
                    uk_word_t lo, uk_word_t hi, struct uk_loaded *out)
{
    return uk_load_elf_with(task, elf, size, lo, hi, pool_alloc, 0, out);
}

void *uk_kept_pages(void *ctx, uk_word_t npages)
{
    struct uk_kept_pages *k = ctx;
    if (k->pages && npages <= k->npages)
        return uk_map_range(0, (uk_word_t)k->pages, 0, k->npages,
                            UK_MAP_READ | UK_MAP_WRITE) ? 0 : k->pages;
    k->pages = uk_pages_alloc(npages);
    k->npages = k->pages ? npages : 0;
    return k->pages;
}

long uk_load_elf(uk_word_t task, const void *elf, uk_word_t size, struct uk_loaded *out)
{
    return uk_load_elf_in(task, elf, size, UK_PAGE_SIZE, UK_PHYS_WINDOW, out);
}

/* A copy of cap `src` into slot `dst` of the task, unless that slot is taken. */
static long give_cap(uk_word_t src, uk_word_t task, uk_word_t dst, uk_word_t rights)
{
    long err = uk_cap_copy(src, task, dst, rights, 0);
    return err == UK_E_BUSY ? UK_OK : err;
}

long uk_start_program(uk_word_t task, const struct uk_loaded *l, uk_word_t prio,
                      uk_word_t fault_ep, uk_word_t arg, uk_word_t *thread_slot)
{
    *thread_slot = 0;
    unsigned char *pages = uk_pages_alloc(UK_PROGRAM_STACK_PAGES + 1);   /* stack, buffer */
    if (!pages)
        return UK_E_NOMEM;
    return uk_start_program_on(task, l, prio, fault_ep, arg, pages, thread_slot);
}

long uk_start_program_on(uk_word_t task, const struct uk_loaded *l, uk_word_t prio,
                         uk_word_t fault_ep, uk_word_t arg, void *pages,
                         uk_word_t *thread_slot)
{
    const uk_word_t stack = UK_PROGRAM_STACK_TOP - UK_PROGRAM_STACK_PAGES * UK_PAGE_SIZE;
    const uk_word_t ipc = UK_ROOT_IPC_BUFFER;
    long err;

    *thread_slot = 0;
    if (l->img.highest > stack && l->img.lowest < ipc + UK_PAGE_SIZE)
        return UK_E_ADDR;
    memset(pages, 0, (UK_PROGRAM_STACK_PAGES + 1) * UK_PAGE_SIZE);   /* maybe used before */
    if ((err = uk_map(task, (uk_word_t)pages, stack, UK_PROGRAM_STACK_PAGES, RW)) ||
        (err = uk_map(task, (uk_word_t)pages + UK_PROGRAM_STACK_PAGES * UK_PAGE_SIZE, ipc, 1,
                      RW)))
        return err;
    uk_word_t th = uk_slot_alloc();
    if ((err = uk_thread_create(th, task))) {
        uk_slot_free(th);
        return err;
    }
    if ((err = uk_thread_config(th, prio, fault_ep, ipc)) ||
        (err = give_cap(task, task, UK_SLOT_SELF_TASK, UK_R_READ | UK_R_WRITE | UK_R_CONTROL)) ||
        (err = give_cap(th, task, UK_SLOT_SELF_THREAD, UK_R_ALL)) ||
        (err = uk_thread_start(th, l->img.entry, UK_PROGRAM_STACK_TOP - 8, arg))) {
        uk_obj_destroy(th);
        uk_slot_free(th);
        return err;
    }
    *thread_slot = th;
    return UK_OK;
}
#endif
