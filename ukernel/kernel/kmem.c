/*
 * Kernel memory allocator (contract in kmem.h).
 *
 * The pool is an array of pages.  A page is free, a slab (one size class
 * below PAGE_SIZE, carved into equal objects), or part of a run of whole
 * pages (the head records the length; 4096-byte objects are 1-page runs).
 * Metadata lives in a static array beside the pool, not in the pages, so
 * page-sized objects and slab objects get every byte of their page.
 *
 * Free pages are found in a bitmap, scanned from a hint below which every
 * page is known to be in use, so taking one page is usually one word test.
 * Runs are first fit.  Each class keeps a list of its slabs with a free
 * object, so a small allocation is O(1) unless it needs a new slab page.
 */
#include "kmem.h"
#ifndef UK_HOST_STUBS_DEFINED
#include "log.h"
#endif

#define KMEM_MAX_PAGES 65536    /* 256 MiB; bounds the static metadata */
#define MIN_SHIFT      5        /* smallest class: 32 bytes */
#define NCLASS         7        /* slab classes 32 .. 2048 */
#define NONE           0xffffffffu  /* no page (list end, search failed) */
#define NO_OBJ         0xffff       /* no object (slab free-list end) */

enum { PG_FREE, PG_SLAB, PG_RUN, PG_TAIL };

struct page {
    u8  state;      /* PG_* */
    u8  cls;        /* slab: class index (size 32 << cls) */
    u16 inuse;      /* slab: objects handed out */
    u16 free;       /* slab: index of first free object, or NO_OBJ */
    u32 npages;     /* run head: pages in the run */
    u32 next, prev; /* slab with a free object: links in partial[cls] */
};

static struct page pages[KMEM_MAX_PAGES];
static u64  freemap[KMEM_MAX_PAGES / 64];  /* bit set = page free */
static u32  partial[NCLASS];    /* per class: slabs with a free object */
static char *pool;
static u64  pool_phys;
static word npages, nfree, hint, bytes_used;  /* hint: a freemap word index */

void kmem_init(void *base, u64 phys_base, word n)
{
    if (n > KMEM_MAX_PAGES || (((word)base | phys_base) & (PAGE_SIZE - 1)))
        panic("kmem_init: bad pool %p phys %lx pages %lu\n",
              base, (unsigned long)phys_base, (unsigned long)n);
    pool = base;
    pool_phys = phys_base;
    npages = nfree = n;
    hint = bytes_used = 0;
    __builtin_memset(pages, 0, n * sizeof pages[0]);    /* all PG_FREE */
    __builtin_memset(freemap, 0, sizeof freemap);        /* bits past n: never free */
    for (word i = 0; i < n; i++)
        freemap[i / 64] |= 1ull << (i % 64);
    for (int c = 0; c < NCLASS; c++)
        partial[c] = NONE;
}

word kmem_charge(word size)
{
    if (size == 0)
        return 0;
    if (size <= 1ul << MIN_SHIFT)
        return 1ul << MIN_SHIFT;
    if (size <= PAGE_SIZE)      /* next power of two */
        return 1ul << (64 - __builtin_clzl(size - 1));
    if (size > PAGE_MASK)       /* rounding up would wrap; no pool is this big */
        return ~(word)0;
    return ALIGN_UP(size, PAGE_SIZE);
}

/* Offset of p in the pool; a pointer outside it is a kernel bug. */
static word pool_offset(const void *p, const char *who)
{
    word off = (word)p - (word)pool;    /* wraps to huge below the pool */
    if (off >= npages * PAGE_SIZE)
        panic("%s: %p is not in the kernel pool\n", who, p);
    return off;
}

/* First page of the first free run of n pages, or NONE. */
static word find_run(word n)
{
    if (n == 1) {               /* the common case: first set bit from the hint */
        for (; hint < (npages + 63) / 64; hint++)
            if (freemap[hint])
                return hint * 64 + __builtin_ctzll(freemap[hint]);
        return NONE;
    }
    word run = 0;
    for (word i = hint * 64; i < npages; i++) {
        if (i % 64 == 0 && freemap[i / 64] == 0) {
            if (i / 64 == hint)         /* all below are full too: skip for good */
                hint++;
            run = 0;
            i += 63;
            continue;
        }
        if (!(freemap[i / 64] & (1ull << (i % 64))))
            run = 0;
        else if (++run == n)
            return i + 1 - n;
    }
    return NONE;
}

static word page_alloc(word n)
{
    word i = find_run(n);
    if (i == NONE)
        return NONE;
    for (word j = i; j < i + n; j++) {
        freemap[j / 64] &= ~(1ull << (j % 64));
        pages[j].state = PG_TAIL;
    }
    pages[i].state = PG_RUN;
    pages[i].npages = n;
    nfree -= n;
    return i;
}

static void page_free(word i, word n)
{
    for (word j = i; j < i + n; j++) {
        freemap[j / 64] |= 1ull << (j % 64);
        pages[j].state = PG_FREE;
    }
    if (i / 64 < hint)
        hint = i / 64;
    nfree += n;
}

static void list_push(int c, u32 i)
{
    pages[i].prev = NONE;
    pages[i].next = partial[c];
    if (partial[c] != NONE)
        pages[partial[c]].prev = i;
    partial[c] = i;
}

static void list_remove(int c, u32 i)
{
    struct page *pg = &pages[i];
    if (pg->prev != NONE)
        pages[pg->prev].next = pg->next;
    else
        partial[c] = pg->next;
    if (pg->next != NONE)
        pages[pg->next].prev = pg->prev;
}

/* Free objects are linked by index through their first two bytes. */
static void *slab_alloc(int c)
{
    word osize = 1ul << (c + MIN_SHIFT), i = partial[c];
    if (i == NONE) {
        if ((i = page_alloc(1)) == NONE)
            return NULL;
        word nobj = PAGE_SIZE / osize;
        for (word k = 0; k < nobj; k++)
            *(u16 *)(pool + i * PAGE_SIZE + k * osize) = k + 1 < nobj ? k + 1 : NO_OBJ;
        pages[i] = (struct page){ .state = PG_SLAB, .cls = c, .free = 0 };
        list_push(c, i);
    }
    struct page *pg = &pages[i];
    char *obj = pool + i * PAGE_SIZE + pg->free * osize;
    pg->free = *(u16 *)obj;
    pg->inuse++;
    if (pg->free == NO_OBJ)     /* full: allocations must look elsewhere */
        list_remove(c, i);
    return obj;
}

static void slab_free(int c, void *p, word off)
{
    word osize = 1ul << (c + MIN_SHIFT), i = off / PAGE_SIZE, k = off % PAGE_SIZE;
    struct page *pg = &pages[i];
    if (pg->state != PG_SLAB || pg->cls != c || k % osize || pg->inuse == 0)
        panic("kmem_free: %p is not a live %lu-byte object\n", p, (unsigned long)osize);
    if (pg->free == NO_OBJ)     /* was full: has room again */
        list_push(c, i);
    *(u16 *)p = pg->free;
    pg->free = k / osize;
    if (--pg->inuse == 0) {     /* empty slabs go back to the pool */
        list_remove(c, i);
        page_free(i, 1);
    }
}

/* The least charged along q's chain: what kmem_free may give back. */
static word quota_room_used(const struct quota *q)
{
    word least = ~(word)0;
    for (const struct quota *a = q; a; a = a->parent)
        if (a->used < least)
            least = a->used;
    return least;
}

/* One walk up the chain when it fits (the usual case: every kernel object
 * of a guest's process is charged along a chain of four or five); a link
 * without room undoes what the walk charged below it. */
bool quota_charge(struct quota *q, word n)
{
    struct quota *a;
    for (a = q; a; a = a->parent) {
        if (a->used > a->limit || n > a->limit - a->used)
            break;
        a->used += n;
    }
    if (!a)
        return true;
    for (struct quota *b = q; b != a; b = b->parent)
        b->used -= n;
    return false;
}

/* Gives n back along q's chain; the caller checked that it can. */
static void quota_give_back(struct quota *q, word n)
{
    for (struct quota *a = q; a; a = a->parent)
        a->used -= n;
}

void quota_uncharge(struct quota *q, word n)
{
    if (quota_room_used(q) < n)
        panic("quota_uncharge: %lu bytes, more than charged\n", (unsigned long)n);
    quota_give_back(q, n);
}

word quota_room(const struct quota *q)
{
    word room = ~(word)0;
    for (const struct quota *a = q; a; a = a->parent) {
        word left = a->used > a->limit ? 0 : a->limit - a->used;
        if (left < room)
            room = left;
    }
    return room;
}

void *kmem_alloc(struct quota *q, word size)
{
    if (size == 0 || size > npages * PAGE_SIZE)
        return NULL;
    word charge = kmem_charge(size);
    if (!quota_charge(q, charge))   /* charged first: one walk of q's chain */
        return NULL;
    void *p;
    if (charge < PAGE_SIZE) {
        p = slab_alloc(__builtin_ctzl(charge) - MIN_SHIFT);
    } else {
        word i = page_alloc(charge / PAGE_SIZE);
        p = i == NONE ? NULL : pool + i * PAGE_SIZE;
    }
    if (!p) {
        quota_uncharge(q, charge);  /* pool exhausted: nothing stays charged */
        return NULL;
    }
    __builtin_memset(p, 0, charge);
    bytes_used += charge;
    return p;
}

void kmem_free(struct quota *q, void *p, word size)
{
    if (!p)
        return;
    word charge = kmem_charge(size), off = pool_offset(p, "kmem_free");
    if (size == 0 || charge > npages * PAGE_SIZE || (q && quota_room_used(q) < charge))
        panic("kmem_free: %p: bad size %lu or quota\n", p, (unsigned long)size);
    if (charge < PAGE_SIZE) {
        slab_free(__builtin_ctzl(charge) - MIN_SHIFT, p, off);
    } else {
        word i = off / PAGE_SIZE, n = charge / PAGE_SIZE;
        if (off % PAGE_SIZE || pages[i].state != PG_RUN || pages[i].npages != n)
            panic("kmem_free: %p is not a live %lu-page run\n", p, (unsigned long)n);
        page_free(i, n);
    }
    quota_give_back(q, charge);     /* checked above, before anything changed */
    bytes_used -= charge;
}

word kmem_free_pages(void) { return nfree; }
word kmem_bytes_used(void) { return bytes_used; }

u64 kmem_phys(const void *p)
{
    return pool_phys + pool_offset(p, "kmem_phys");
}

void *kmem_virt(u64 phys)
{
    u64 off = phys - pool_phys;         /* wraps to huge below the pool */
    return off < npages * PAGE_SIZE ? pool + off : NULL;
}
