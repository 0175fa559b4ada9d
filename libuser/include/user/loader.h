/*
 * Loading a static ELF program into a task and starting it: what the root
 * task does for the console server and the vmm-servers (boot modules), and
 * a vmm-server for its guest kernel (docs/vmm-server.md).
 *
 * uk_load_elf checks the file (uk_elf_check), takes pages for every PT_LOAD
 * segment from the caller's pool (uk_pages_alloc, one contiguous block; or
 * from an allocator of the caller's, uk_load_elf_with),
 * fills them (file bytes at their place in the page, zero around them: bss,
 * and the head of a segment that starts inside a page) and maps them into
 * the task at the segment's address with the segment's rights (+ READ).
 * The caller keeps its copy: the same frames, read/write, except that an
 * executable segment's copy is PROTECTed to exactly the segment's rights
 * first (a mapping can only get rights its source has; the pool is RW but
 * granted RWX).  A file that is malformed, truncated, overlapping, too big
 * for the range or reaching kernel space is refused before anything is
 * taken or mapped.  Pool pages are never given back (the pool cannot free).
 *
 * The pure part (the per-page copy plan) needs no kernel: host-tested in
 * tests/unit/test_loader.c.
 */
#ifndef UK_LOADER_H
#define UK_LOADER_H

#include <uk/abi.h>
#include <common/elf.h>

/* Where a started program's stack goes (its IPC buffer: UK_ROOT_IPC_BUFFER,
 * after the guard page at the top, just as for the root task). */
#define UK_PROGRAM_STACK_TOP   UK_ROOT_STACK_TOP
#define UK_PROGRAM_STACK_PAGES 16u                      /* 64 KiB */

struct uk_loaded {
    struct uk_elf_image img;   /* img.entry; img.lowest..img.highest: the page-
                                  aligned span; img.seg[]: segments by address */
    unsigned char *copy[UK_ELF_MAX_SEGMENTS]; /* segment i's pages in the caller,
                                  from the page holding seg[i].vaddr */
    uk_word_t pages;           /* pool pages taken */
    int elf_error;             /* UK_ELF_OK, or why the file was refused */
    char error[96];            /* "" on success; else what went wrong */
};

/* Load the file of `size` bytes at `elf` into `task` (a task cap with
 * CONTROL, not the caller's own).  Segments must lie in [0x1000,
 * UK_PHYS_WINDOW).  Returns UK_OK; UK_E_INVAL if the file is refused
 * (out->elf_error says why, nothing taken or mapped); or the error of the
 * first call that failed (UK_E_NOMEM if the pool is short), named in
 * out->error -- segments before it may be mapped: destroy the task. */
long uk_load_elf(uk_word_t task, const void *elf, uk_word_t size, struct uk_loaded *out);
/* Same, segments within [lo, hi) (e.g. a guest kernel's area). */
long uk_load_elf_in(uk_word_t task, const void *elf, uk_word_t size,
                    uk_word_t lo, uk_word_t hi, struct uk_loaded *out);
/* Same, with the image's pages from alloc(ctx, npages) instead of the pool:
 * npages zeroed-or-not (every byte is written), virtually contiguous pages of
 * the caller, mapped read/write with a grant that includes execute (or no
 * executable segment), or NULL (UK_E_NOMEM, nothing mapped).  Called once,
 * after the file passed the check.  The vmm-server loads a guest kernel this
 * way with pages of the guest's RAM. */
typedef void *uk_page_alloc_fn(void *ctx, uk_word_t npages);
long uk_load_elf_with(uk_word_t task, const void *elf, uk_word_t size, uk_word_t lo,
                      uk_word_t hi, uk_page_alloc_fn *alloc, void *ctx, struct uk_loaded *out);

/* An image's pages kept from one start of a program to the next (the root
 * task's restarted servers: a restart then takes no pool pages).
 * uk_kept_pages is uk_load_elf_with's allocator for them, ctx a struct
 * uk_kept_pages: the kept pages if they are enough (made read/write again:
 * the last load left its code read/execute in our view), else fresh ones
 * from the pool, kept. */
struct uk_kept_pages {
    void *pages;
    uk_word_t npages;
};
void *uk_kept_pages(void *ctx, uk_word_t npages);

/* Start a loaded program in `task` the way the kernel starts the root task,
 * so libipc's _start/rt_start run unchanged:
 *  - stack: UK_PROGRAM_STACK_PAGES read/write pages below
 *    UK_PROGRAM_STACK_TOP, rsp = UK_PROGRAM_STACK_TOP - 8;
 *  - IPC buffer: one read/write page at UK_ROOT_IPC_BUFFER;
 *  - caps: its task in slot UK_SLOT_SELF_TASK (READ|WRITE|CONTROL, no
 *    DESTROY, as the root's) and its thread in UK_SLOT_SELF_THREAD (all
 *    rights), unless those slots are already filled; needs >= 3 slots;
 *  - rip = img->entry, rdi = arg.  rt_start hands rdi to main() as its
 *    `const struct uk_bootinfo *` argument: pass the address *in the task*
 *    of something mapped there.  A program written for the root task (like
 *    roottask.elf) wants a boot-info page: map one read-only at
 *    UK_BOOTINFO_VADDR and pass that address.  Other programs may define
 *    their own struct there (the pointer's type is only a convention).
 * The thread (owned by the caller, cap in a new slot of the caller's table,
 * *thread_slot) runs at priority prio with fault endpoint fault_ep (0: none).
 * Returns UK_OK or the first error (UK_E_ADDR if the image overlaps the
 * stack or IPC buffer); on error no thread is left behind. */
long uk_start_program(uk_word_t task, const struct uk_loaded *img, uk_word_t prio,
                      uk_word_t fault_ep, uk_word_t arg, uk_word_t *thread_slot);
/* Same, with the stack and IPC buffer in `pages` (UK_PROGRAM_STACK_PAGES + 1
 * of the caller's, read/write; zeroed here) instead of fresh pool pages: a
 * server started again and again (the root task's console.c) reuses those
 * of its last run, whose task is gone. */
long uk_start_program_on(uk_word_t task, const struct uk_loaded *img, uk_word_t prio,
                         uk_word_t fault_ep, uk_word_t arg, void *pages,
                         uk_word_t *thread_slot);

/* --- the pure part ------------------------------------------------------------- */

/* Page i of a segment (page 0 holds its first byte) gets the file bytes
 * [file_off, file_off + len) at byte `at`; all its other bytes are zero. */
struct uk_page_plan {
    uk_word_t at, file_off, len;
};
/* Pages a segment spans (it must have passed uk_elf_check). */
uk_word_t uk_seg_pages(const struct uk_elf_segment *s);
struct uk_page_plan uk_seg_page_plan(const struct uk_elf_segment *s, uk_word_t i);
/* Fill the uk_seg_pages(s) pages at dst (contiguous) from the file. */
void uk_seg_fill(const struct uk_elf_segment *s, const void *file, void *dst);

#endif
