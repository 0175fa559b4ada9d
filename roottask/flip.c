/*
 * Bit flips for the supervisor's software-implemented fault injection
 * (supervise.c `swifi=`, docs/liability.md "Bit flips"): one bit of a
 * server's program image flipped in place through our own view of the
 * pages we loaded it into (struct uk_loaded's copies), and the scan of a
 * virtio descriptor table for addresses its device must not reach.  The
 * servers' files (blk.c, console.c, net.c) say which image and which pages.
 */
#include "root.h"
#include <user/loader.h>
#include <user/virtio.h>

/* Bit `bit` of byte `at` of segment k flipped; 1 if done. */
static int flip_byte(const struct uk_loaded *l, unsigned k, uk_word_t at, unsigned bit,
                     uk_word_t *where)
{
    const struct uk_elf_segment *g = &l->img.seg[k];
    int code = !!(g->flags & UK_MAP_EXEC);
    unsigned char *b = l->copy[k] + (g->vaddr % UK_PAGE_SIZE) + at;
    uk_word_t page = (uk_word_t)b & ~(UK_PAGE_SIZE - 1);
    /* our copy of its code is read/execute (the loader gives away only
     * what the source has): writable for the flip, adding a right and
     * taking it back, so its own read/execute mapping stays as it is */
    if (code && uk_protect(UK_SLOT_SELF_TASK, page, 1, UK_MAP_RWX))
        return 0;
    *b ^= (unsigned char)(1u << bit);
    if (code)
        uk_protect(UK_SLOT_SELF_TASK, page, 1, UK_MAP_READ | UK_MAP_EXEC);
    *where = (g->vaddr + at) << 3 | bit;
    return 1;
}

int image_flip(const struct uk_loaded *l, int code, uk_word_t rnd, uk_word_t *where)
{
    if (!l)
        return 0;
    const struct uk_elf_image *im = &l->img;
    uk_word_t total = 0;
    for (unsigned k = 0; k < im->nsegments; k++)
        if (!!(im->seg[k].flags & UK_MAP_EXEC) == code && l->copy[k])
            total += im->seg[k].memsz;
    if (!total)
        return 0;
    uk_word_t at = rnd % total;          /* a byte of them all, evenly */
    for (unsigned k = 0; k < im->nsegments; k++) {
        const struct uk_elf_segment *g = &im->seg[k];
        if (!!(g->flags & UK_MAP_EXEC) != code || !l->copy[k])
            continue;
        if (at >= g->memsz) {
            at -= g->memsz;
            continue;
        }
        return flip_byte(l, k, at, (unsigned)(rnd >> 40) % 8, where);
    }
    return 0;
}

int image_flip_at(const struct uk_loaded *l, uk_word_t at, int *code, uk_word_t *where)
{
    uk_word_t addr = at >> 3;
    for (unsigned k = 0; l && k < l->img.nsegments; k++) {
        const struct uk_elf_segment *g = &l->img.seg[k];
        if (l->copy[k] && addr >= g->vaddr && addr - g->vaddr < g->memsz) {
            *code = !!(g->flags & UK_MAP_EXEC);
            return flip_byte(l, k, addr - g->vaddr, (unsigned)(at & 7), where);
        }
    }
    return 0;
}

int desc_escape(const void *table, unsigned entries, int (*allowed)(const void *, uk_word_t),
                const void *ctx, uk_word_t *addr)
{
    const struct virtq_desc *desc = table;
    for (unsigned k = 0; k < entries; k++) {
        if (!desc[k].len)
            continue;
        uk_word_t a = desc[k].addr, end = a + desc[k].len;
        uk_word_t first = a & ~(UK_PAGE_SIZE - 1);
        for (uk_word_t p = first; p < end && p >= first; p += UK_PAGE_SIZE)
            if (!allowed(ctx, p)) {
                *addr = a;
                return 1;
            }
    }
    return 0;
}
