/*
 * Address spaces on x86-64 four-level page tables, and the mapping
 * database (vspace.h).  A leaf page table is allocated as two pages: the
 * 512 PTEs, then the 512 struct mapping pointers for the same pages, so the
 * node of any mapped page is found in O(1) beside its PTE.
 *
 * All memory here is charged to the task whose address space it is: its
 * creator sized that quota, and mapping into a full task fails with
 * UK_E_NOMEM for the mapper.
 */
#include "vspace.h"
#include "task.h"
#include "kmem.h"
#include "stats.h"
#include "lib.h"
#include "log.h"
#include "arch/cpu.h"
#include "arch/pte.h"
#include "arch/arch.h"

#define LEAF_BYTES (2 * PAGE_SIZE)

struct task *active_vspace;

static inline struct mapping **leaf_nodes(u64 *leaf)
{
    return (struct mapping **)((u8 *)leaf + PAGE_SIZE);
}

/* No rights (PROTECT to nothing): not present, so every access faults;
 * the PTE keeps the frame and the node stays, so the page can be given
 * its rights back.  x86 cannot have write or execute without read. */
static u64 pte_bits(unsigned rights)
{
    if (!(rights & UK_MAP_READ))
        return 0;
    u64 b = PTE_P | PTE_U;
    if (rights & UK_MAP_WRITE)
        b |= PTE_W;
    if (!(rights & UK_MAP_EXEC))
        b |= PTE_NX;
    return b;
}

/* The leaf table covering va, made if `create`; NULL if absent or no memory. */
static u64 *walk(struct task *t, word va, bool create)
{
    u64 *table = t->pml4;
    for (int level = 3; level >= 1; level--) {
        u64 *e = &table[pt_index(va, level)];
        if (!(*e & PTE_P)) {
            if (!create)
                return NULL;
            void *next = kmem_alloc(&t->quota, level == 1 ? LEAF_BYTES : PAGE_SIZE);
            if (!next)
                return NULL;
            *e = kmem_phys(next) | PTE_P | PTE_W | PTE_U;
        }
        table = phys_to_virt(*e & PTE_ADDR);
    }
    return table;
}

/* The first page in [va, end) whose leaf table exists (into *leafp), or
 * end: UNMAP and PROTECT skip what was never mapped, so a wide, mostly
 * empty range (a guest kernel clearing a new address space) costs a few
 * walks, not one per page.  An entry of level L covers 2^(12 + 9L) bytes. */
static word next_leaf(struct task *t, word va, word end, u64 **leafp)
{
    while (va < end) {
        u64 *table = t->pml4;
        int level = 3;
        for (; level >= 1; level--) {
            u64 e = table[pt_index(va, level)];
            if (!(e & PTE_P))
                break;
            table = phys_to_virt(e & PTE_ADDR);
        }
        if (level == 0) {
            *leafp = table;
            return va;
        }
        word span = (word)1 << (12 + 9 * level);
        va = (va & ~(span - 1)) + span;       /* no wrap: va < UK_USER_MAP_TOP */
    }
    return end;
}

/* The end of the leaf table's part of [a, end): its last page + 1, or end. */
static inline word leaf_limit(word a, word end)
{
    word leaf_end = (a | ((PAGE_SIZE << 9) - 1)) + 1;   /* no wrap: a < UK_USER_MAP_TOP */
    return leaf_end < end ? leaf_end : end;
}

/* walk() for a run of pages: the leaf table of the last call is kept with
 * the 2 MiB it covers (*span), so a MAP of many pages walks once per leaf
 * table, not once per page.  Tables are never freed while a task lives
 * (UNMAP leaves them), so a kept leaf stays valid for the whole call. */
#define LEAF_SPAN (PAGE_SIZE << 9)
static inline u64 *walk_run(struct task *t, word va, bool create, word *span, u64 **leaf)
{
    word s = va & ~(LEAF_SPAN - 1);
    if (s != *span || !*leaf) {
        *leaf = walk(t, va, create);
        *span = s;
    }
    return *leaf;
}

static struct mapping *node_at(struct task *t, word va)
{
    u64 *leaf = walk(t, va, false);
    return leaf ? leaf_nodes(leaf)[pt_index(va, 0)] : NULL;
}

/* TLB invalidation.  Only the loaded address space can have TLB entries
 * (without PCID every cr3 write flushes the non-global TLB, and user pages
 * are never global), and only for a PTE that was present and changed.
 * UNMAP and PROTECT collect the pages here and flush once at the end of
 * the call (flush_pending; MAP after each page it replaces, so that its
 * usual case, a new page, tests nothing): each page by invlpg, or, past
 * FLUSH_CEILING pages, the whole TLB by one cr3 reload -- as Linux does
 * (tlb_single_page_flush_ceiling, 33), since refilling a whole TLB costs
 * less than tens of invlpgs.  Nothing
 * in the kernel reaches user memory through user addresses (copy_user uses
 * the physical window), so the deferral is safe as long as every entry
 * point that changes PTEs ends with flush_pending() before returning to
 * user level.  Each invlpg, and each full flush, counts one tlb_flushes. */
#define FLUSH_CEILING 32
static struct {
    word n;                       /* pages to flush; > FLUSH_CEILING: all */
    word va[FLUSH_CEILING];
} pending;

static inline void flush_page(struct task *t, word va, u64 old_pte)
{
    if (t != active_vspace || !(old_pte & PTE_P))
        return;
    pending.va[pending.n % FLUSH_CEILING] = va;   /* only read if n <= FLUSH_CEILING */
    pending.n++;
}

static void flush_all_pending(void)
{
    word n = pending.n;
    pending.n = 0;
    if (n > FLUSH_CEILING) {
        write_cr3(read_cr3());
        kstats.tlb_flushes++;
        return;
    }
    for (word i = 0; i < n; i++)
        invlpg(pending.va[i]);
    kstats.tlb_flushes += n;
}

static inline void flush_pending(void)
{
    if (unlikely(pending.n))
        flush_all_pending();
}

/* node->va holds the page address, the current rights (bits 0-2) and the
 * rights granted when it was mapped (bits 3-5): protect never goes above
 * what was granted, so a read-only grant stays read-only. */
#define GRANT_SHIFT 3
#define DEPTH_SHIFT 6   /* bits 6-11: how many mappings it derives through (boot: 0);
                           bounded by UK_MAP_MAX_DEPTH so ancestor walks are short */
static word node_va(const struct mapping *n)         { return n->va & PAGE_MASK; }
static unsigned node_rights(const struct mapping *n) { return n->va & UK_MAP_RWX; }
static unsigned node_grant(const struct mapping *n)  { return (n->va >> GRANT_SHIFT) & UK_MAP_RWX; }
static unsigned node_depth(const struct mapping *n)  { return (n->va >> DEPTH_SHIFT) & 63; }
#define NODE_META_MASK ((word)UK_MAP_RWX | ((word)UK_MAP_RWX << GRANT_SHIFT) | (63ul << DEPTH_SHIFT))

/* User rights as page rights: x86 pages are always readable, so write or
 * execute imply read; 0 or unknown bits are invalid (returns 0). */
static unsigned page_rights(word rights)
{
    if (rights == 0 || (rights & ~(word)UK_MAP_RWX))
        return 0;
    return (unsigned)rights | UK_MAP_READ;
}

/* Removes the PTE and frees the node (its children are gone already);
 * pte: n's PTE if the caller has it, else NULL. */
static void drop_node(struct mapping *n, u64 *pte)
{
    word va = node_va(n);
    if (!pte)
        pte = &walk(n->task, va, false)[pt_index(va, 0)];
    u64 old_pte = *pte;
    *pte = 0;
    leaf_nodes((u64 *)((word)pte & PAGE_MASK))[pt_index(va, 0)] = NULL;
    flush_page(n->task, va, old_pte);
    kmem_free(&n->task->quota, n, sizeof *n);
}

static void unlink_sibling(struct mapping *n)
{
    if (n->sibling_prev)
        n->sibling_prev->sibling = n->sibling;
    else
        n->parent->child = n->sibling;
    if (n->sibling)
        n->sibling->sibling_prev = n->sibling_prev;
}

/* Unmaps root and everything derived from it, without recursion: always
 * descend to the first child; a node without children is dropped and its
 * parent's first child becomes its sibling.  root_pte: root's PTE.  Each
 * node dropped costs `cost` of *work; with work NULL there is no limit.
 * Out of work before root: false, and what is left is a smaller tree under
 * root, still mapped (derived mappings go first, so every stop leaves a
 * consistent tree): the caller goes on from root later.  This is what
 * bounds UNMAP and a task's destruction when others derived much from one
 * page (docs/ABI.md §9.10). */
static inline __attribute__((always_inline))
bool unmap_tree_some(struct mapping *root, u64 *root_pte, word *work, word cost)
{
    struct mapping *n = root;
    for (;;) {
        while (n->child)
            n = n->child;
        if (work) {
            if (*work < cost)
                return false;
            *work -= cost;
        }
        struct mapping *parent = n->parent, *next = n->sibling;
        if (n == root) {
            if (parent)                  /* unlink from its siblings, O(1) */
                unlink_sibling(root);
            drop_node(root, root_pte);
            return true;
        }
        drop_node(n, NULL);
        parent->child = next;            /* n was the first child */
        if (next)
            next->sibling_prev = NULL;
        n = parent;
    }
}

/* map_one stopped before replacing a page: the MAP part's budget for what
 * replacing pages may drop (derived mappings included) ran out (not an
 * error: MAP goes on from that page in its next part). */
#define MAP_ONE_STOPPED (-1)

/* That budget, set by map_pages for each part and by the boot mappings
 * (~0: none, the MAPs of a fault reply, a vCPU resume and boot); a
 * variable, not an argument, so
 * that map_one's usual case, a new page, pays nothing for it (one CPU, and
 * the kernel is not preemptible). */
static word replace_work = ~(word)0;
static word map_stopped_at;          /* the page map_pages stopped at */

/* Replaces old (at pte) for map_one, what derives from it with it; false
 * if the budget ran out first (old still there, part of its tree gone). */
static noinline bool replace_old(struct mapping *old, u64 *pte)
{
    bool done = unmap_tree_some(old, pte, &replace_work, 1);
    flush_pending();
    return done;
}

/* leaf: dst's leaf table for va (walk(dst, va, true)), NULL if that failed */
static int map_one(struct task *dst, u64 *leaf, word va, u64 pa, unsigned rights,
                   struct mapping *parent)
{
    if (!leaf)
        return UK_E_NOMEM;
    unsigned i = pt_index(va, 0);
    struct mapping *old = leaf_nodes(leaf)[i];
    if (old) {
        for (struct mapping *a = parent; a; a = a->parent)
            if (a == old)
                return UK_E_BUSY;        /* would unmap the very source */
    }
    struct mapping *n = kmem_alloc(&dst->quota, sizeof *n);
    if (!n)
        return UK_E_NOMEM;
    if (old && !replace_old(old, &leaf[i])) {   /* here: MAP's usual case, a new page,
                                                   pays nothing */
        kmem_free(&dst->quota, n, sizeof *n);
        return MAP_ONE_STOPPED;
    }
    n->task = dst;
    n->va = va | rights | (rights << GRANT_SHIFT) |
            ((word)(parent ? node_depth(parent) + 1 : 0) << DEPTH_SHIFT);
    n->parent = parent;
    if (parent) {
        n->sibling = parent->child;
        if (parent->child)
            parent->child->sibling_prev = n;
        parent->child = n;
    }
    leaf[i] = (pa & PTE_ADDR) | pte_bits(rights);
    leaf_nodes(leaf)[i] = n;
    return UK_OK;
}

/* A page range [va, va + n pages) that user level may name. */
static int check_range(word va, word npages)
{
    if (va & ~PAGE_MASK)
        return UK_E_INVAL;
    if (npages == 0 || npages > UK_MAP_MAX_PAGES)
        return UK_E_INVAL;
    if (va >= UK_USER_MAP_TOP || npages > (UK_USER_MAP_TOP - va) / PAGE_SIZE)
        return UK_E_ADDR;
    return UK_OK;
}

int vspace_init(struct task *t)
{
    t->pml4 = kmem_alloc(&t->quota, PAGE_SIZE);
    if (!t->pml4)
        return UK_E_NOMEM;
    for (int i = 256; i < 512; i++)
        t->pml4[i] = kernel_pml4[i];
    t->pml4_phys = kmem_phys(t->pml4);
    t->teardown_va = 0;
    return UK_OK;
}

int vspace_map_boot(struct task *t, word va, u64 pa, unsigned rights)
{
    replace_work = ~(word)0;
    return map_one(t, walk(t, va, true), va, pa, page_rights(rights), NULL);
}

int vspace_map_boot_free(struct task *t, word va, u64 pa)
{
    replace_work = ~(word)0;
    int err = map_one(t, walk(t, va, true), va, pa, UK_MAP_READ | UK_MAP_WRITE, NULL);
    if (err == UK_OK) {                  /* read/write now, executable on request */
        struct mapping *n = node_at(t, va);
        n->va |= (word)UK_MAP_RWX << GRANT_SHIFT;
    }
    return err;
}

static int unmap_range(struct task *t, word va, word npages, word budget, word *next);

/* MAP's work, written once for vspace_map (all of it: the usual small MAP,
 * and the resume's, pay nothing for the parts) and vspace_map_some. */
static inline __attribute__((always_inline))
int map_pages(struct task *src, word sva, struct task *dst, word dva,
              word npages, word user_rights, word part, bool bounded)
{
    int err;
    unsigned rights = page_rights(user_rights);
    if ((err = check_range(sva, npages)) || (err = check_range(dva, npages)))
        return err;
    if (!rights)
        return UK_E_INVAL;
    if (src == dst && sva < dva + npages * PAGE_SIZE && dva < sva + npages * PAGE_SIZE)
        return UK_E_INVAL;
    if (part > npages)
        part = npages;
    word src_span = 1, dst_span = 1;               /* walk_run: nothing kept yet */
    u64 *src_leaf = NULL, *dst_leaf = NULL;
    for (word i = 0; i < part; i++) {              /* all of this part is ours to give */
        word s = sva + i * PAGE_SIZE;
        u64 *leaf = walk_run(src, s, false, &src_span, &src_leaf);
        struct mapping *from = leaf ? leaf_nodes(leaf)[pt_index(s, 0)] : NULL;
        if (!from || !node_rights(from))           /* protected to no access: not now */
            return UK_E_NOT_MAPPED;
        if (node_depth(from) >= UK_MAP_MAX_DEPTH)
            return UK_E_INVAL;                     /* derived too often already */
        /* Replacing a destination page unmaps what derives from it: refuse
         * now if that would take any source page of this call (not only
         * page i's own, which map_one checks), before changing anything. */
        for (struct mapping *a = from; a; a = a->parent)
            if (a->task == dst && node_va(a) >= dva && node_va(a) < dva + npages * PAGE_SIZE)
                return UK_E_BUSY;
    }
    replace_work = bounded ? UK_PREEMPT_PAGES : ~(word)0;
    for (word i = 0; i < part; i++) {
        word s = sva + i * PAGE_SIZE, d = dva + i * PAGE_SIZE;
        u64 *leaf = walk_run(src, s, false, &src_span, &src_leaf);  /* node and frame */
        struct mapping *from = leaf_nodes(leaf)[pt_index(s, 0)];
        u64 pa = leaf[pt_index(s, 0)] & PTE_ADDR;
        err = map_one(dst, walk_run(dst, d, true, &dst_span, &dst_leaf), d, pa,
                      rights & node_rights(from), from);
        if (err) {
            if (err == MAP_ONE_STOPPED) {          /* pages before i mapped: go on at i */
                map_stopped_at = i;
                return err;
            }
            if (i > 0 && err == UK_E_NOMEM) {      /* undo this call's part */
                word next;
                unmap_range(dst, dva, i, 0, &next);
                flush_pending();
            }
            return err;
        }
    }
    return UK_OK;
}

int vspace_map(struct task *src, word sva, struct task *dst, word dva,
               word npages, word user_rights)
{
    return map_pages(src, sva, dst, dva, npages, user_rights, npages, false);
}

int vspace_map_some(struct task *src, word sva, struct task *dst, word dva,
                    word npages, word user_rights, word part, word *mapped)
{
    int err = map_pages(src, sva, dst, dva, npages, user_rights, part, true);
    *mapped = err == MAP_ONE_STOPPED ? map_stopped_at : part;
    return err == MAP_ONE_STOPPED ? UK_OK : err;
}

/* The mapped pages of [va, va + npages pages), a leaf table at a time (one
 * walk per 512 pages, not three per page; absent tables skipped whole),
 * each given to `step`: the one walk of UNMAP and PROTECT (a task's
 * destruction walks its tables itself, vspace_destroy_some, since it frees
 * them on the way and must count the empty entries it passes).  budget (0:
 * none): UNMAP stops once it dropped that many mappings (those derived
 * from its pages included: unmap_tree_some), PROTECT after that many
 * pages; *next is where to go on from (the range's end when done).
 * Inlined into each caller, so `step` costs no test per page. */
enum range_step { STEP_UNMAP, STEP_PROTECT };
static void protect_page(struct mapping *n, u64 *pte, unsigned rights);

static inline __attribute__((always_inline))
int walk_range(struct task *t, word va, word npages, enum range_step step, unsigned rights,
               word budget, word *next)
{
    int err = check_range(va, npages);
    if (err)
        return err;
    word end = va + npages * PAGE_SIZE;
    word a, work = budget ? budget : ~(word)0;
    u64 *leaf;
    for (a = next_leaf(t, va, end, &leaf); a < end; a = next_leaf(t, a, end, &leaf)) {
        for (word leaf_end = leaf_limit(a, end); a < leaf_end; a += PAGE_SIZE) {
            unsigned i = pt_index(a, 0);
            struct mapping *n = leaf_nodes(leaf)[i];
            if (!n)
                continue;
            if (work == 0)
                goto stop;               /* a preemption point: the caller goes on at a */
            if (step == STEP_UNMAP) {
                if (!unmap_tree_some(n, &leaf[i], &work, 1))
                    goto stop;           /* n itself still mapped: again from a */
            } else {
                work--;
                protect_page(n, &leaf[i], rights);
            }
        }
    }
stop:
    *next = a;                           /* next_leaf stops at end */
    return UK_OK;
}

static int unmap_range(struct task *t, word va, word npages, word budget, word *next)
{
    return walk_range(t, va, npages, STEP_UNMAP, 0, budget, next);
}

int vspace_unmap_some(struct task *t, word va, word npages, word budget, word *next)
{
    int err = unmap_range(t, va, npages, budget, next);
    flush_pending();
    return err;
}

int vspace_unmap(struct task *t, word va, word npages)
{
    word next;
    return vspace_unmap_some(t, va, npages, 0, &next);
}

static void set_rights_pte(struct mapping *n, u64 *pte, unsigned rights)
{
    word va = node_va(n);
    u64 old_pte = *pte, new_pte = (old_pte & PTE_ADDR) | pte_bits(rights);
    n->va = va | rights | (n->va & (NODE_META_MASK & ~(word)UK_MAP_RWX));
    if (new_pte == old_pte)
        return;                          /* same PTE: nothing cached is stale */
    *pte = new_pte;
    flush_page(n->task, va, old_pte);
}

static void set_rights(struct mapping *n, unsigned rights)
{
    word va = node_va(n);
    set_rights_pte(n, &walk(n->task, va, false)[pt_index(va, 0)], rights);
}

/* PROTECT of one page and what derives from it. */
static inline void protect_page(struct mapping *n, u64 *pte, unsigned rights)
{
    /* no more than granted, nor than the source has now (either has
     * READ or is 0, so r is 0 or includes READ) */
    unsigned r = rights & node_grant(n) & (n->parent ? node_rights(n->parent) : UK_MAP_RWX);
    set_rights_pte(n, pte, r);
    /* derived mappings keep no right their source lost */
    struct mapping *d = n->child;
    while (d) {
        unsigned allowed = node_rights(d->parent);
        if (node_rights(d) & ~allowed)
            set_rights(d, node_rights(d) & allowed);
        if (d->child) {
            d = d->child;
            continue;
        }
        while (d != n && !d->sibling)
            d = d->parent;
        d = d == n ? NULL : d->sibling;
    }
}

static int protect_range(struct task *t, word va, word npages, word user_rights, word budget,
                         word *next)
{
    unsigned rights = page_rights(user_rights);   /* 0: no access at all */
    if (!rights && user_rights && check_range(va, npages) == UK_OK)
        return UK_E_INVAL;
    return walk_range(t, va, npages, STEP_PROTECT, rights, budget, next);
}

int vspace_protect_some(struct task *t, word va, word npages, word user_rights, word budget,
                        word *next)
{
    int err = protect_range(t, va, npages, user_rights, budget, next);
    flush_pending();
    return err;
}

int vspace_protect(struct task *t, word va, word npages, word user_rights)
{
    word next;
    return vspace_protect_some(t, va, npages, user_rights, 0, &next);
}

int vspace_lookup(struct task *t, word va, u64 *pa, unsigned *rights)
{
    if (va >= UK_USER_MAP_TOP)
        return UK_E_ADDR;
    u64 *leaf = walk(t, va, false);
    struct mapping *n = leaf ? leaf_nodes(leaf)[pt_index(va, 0)] : NULL;
    if (!n)
        return UK_E_NOT_MAPPED;
    *pa = (leaf[pt_index(va, 0)] & PTE_ADDR) | (va & ~PAGE_MASK);
    *rights = node_rights(n);
    return UK_OK;
}

void *user_ptr(struct task *t, word va, word len, unsigned need)
{
    if (len == 0 || va >= UK_USER_MAP_TOP || len > PAGE_SIZE ||
        (va & PAGE_MASK) != ((va + len - 1) & PAGE_MASK))
        return NULL;
    u64 *leaf = walk(t, va, false);
    if (!leaf)
        return NULL;
    u64 pte = leaf[pt_index(va, 0)];
    if (!(pte & PTE_P) || ((need & UK_MAP_WRITE) && !(pte & PTE_W)))
        return NULL;
    return phys_to_virt((pte & PTE_ADDR) | (va & ~PAGE_MASK));
}

static int copy_user(struct task *t, void *kbuf, word va, word len, bool to_user)
{
    u8 *k = kbuf;
    while (len) {
        word chunk = PAGE_SIZE - (va & ~PAGE_MASK);
        if (chunk > len)
            chunk = len;
        u8 *u = user_ptr(t, va, chunk, to_user ? UK_MAP_WRITE : UK_MAP_READ);
        if (!u)
            return UK_E_ADDR;
        if (to_user)
            memcpy(u, k, chunk);
        else
            memcpy(k, u, chunk);
        k += chunk;
        va += chunk;
        len -= chunk;
    }
    return UK_OK;
}

int copy_from_user(struct task *t, void *dst, word va, word len)
{
    return copy_user(t, dst, va, len, false);
}

int copy_to_user(struct task *t, word va, const void *src, word len)
{
    return copy_user(t, (void *)src, va, len, true);
}

void vspace_activate(struct task *t)
{
    write_cr3(t ? t->pml4_phys : kernel_pml4_phys);
    active_vspace = t;
    kstats.as_switches++;
}

/*
 * A task's destruction, in parts (object.c): its user half is walked from
 * t->teardown_va on, each mapped page unmapped with what others derived
 * from it and each table freed once the walk has left it, while *work
 * lasts (costs in object.h).  Tables are walked here, not by walk_range:
 * the walk must free them behind it and pay for the empty entries it
 * passes (a task may hold thousands of nearly empty tables), and it goes
 * over the whole user half, not a range user level named.
 */
#define USER_HALF_END ((word)256 << 39)      /* the PML4's first 256 entries */

/* A table the walk has left: out of its entry first, then freed. */
static void free_table(struct task *t, u64 *entry, word bytes, word *work)
{
    void *table = phys_to_virt(*entry & PTE_ADDR);
    *entry = 0;
    kmem_free(&t->quota, table, bytes);
    destroy_charge(work, DESTROY_COST_TABLE);
}

#define VA_OF(i3, i2, i1, i0) \
    (((word)(i3) << 39) | ((word)(i2) << 30) | ((word)(i1) << 21) | ((word)(i0) << 12))

/* Four nested loops over the tables, as a whole destruction would walk
 * them, started from teardown_va's indexes: an absent entry costs one test
 * (and a unit), a leaf table's 512 entries one test each; every stop is at
 * the top of an entry (or at a mapping unmap_tree_some could not finish),
 * so teardown_va names exactly what is left. */
bool vspace_destroy_some(struct task *t, word *work)
{
    word va = t->teardown_va;
    unsigned i3 = pt_index(va, 3), i2 = pt_index(va, 2), i1 = pt_index(va, 1),
             i0 = pt_index(va, 0);
    if (t == active_vspace)
        vspace_activate(NULL);
    for (; i3 < 256; i3++, i2 = i1 = i0 = 0) {
        if (!*work)
            goto stop;
        u64 *e3 = &t->pml4[i3];
        if (!(*e3 & PTE_P)) {
            destroy_charge(work, DESTROY_COST_ENTRY);
            continue;
        }
        u64 *pdpt = phys_to_virt(*e3 & PTE_ADDR);
        for (; i2 < 512; i2++, i1 = i0 = 0) {
            if (!*work)
                goto stop;
            u64 *e2 = &pdpt[i2];
            if (!(*e2 & PTE_P)) {
                destroy_charge(work, DESTROY_COST_ENTRY);
                continue;
            }
            u64 *pd = phys_to_virt(*e2 & PTE_ADDR);
            for (; i1 < 512; i1++, i0 = 0) {
                if (!*work)
                    goto stop;
                u64 *e1 = &pd[i1];
                if (!(*e1 & PTE_P)) {
                    destroy_charge(work, DESTROY_COST_ENTRY);
                    continue;
                }
                u64 *leaf = phys_to_virt(*e1 & PTE_ADDR);
                for (; i0 < 512; i0++) {
                    struct mapping *n = leaf_nodes(leaf)[i0];
                    if (n && !unmap_tree_some(n, &leaf[i0], work, DESTROY_COST_MAPPING))
                        goto stop;       /* n still mapped: again from it */
                }
                destroy_charge(work, DESTROY_COST_LEAF_SCAN);
                free_table(t, e1, LEAF_BYTES, work);
            }
            free_table(t, e2, PAGE_SIZE, work);
        }
        free_table(t, e3, PAGE_SIZE, work);
    }
    t->teardown_va = USER_HALF_END;
    flush_pending();                     /* pages others derived from ours */
    return true;
stop:
    t->teardown_va = VA_OF(i3, i2, i1, i0);
    flush_pending();
    return false;
}

/* The PML4 (the kernel half only by now), last: a vCPU may still have run
 * a process in the task between the parts. */
void vspace_free_top(struct task *t)
{
    if (!t->pml4)
        return;
    if (t == active_vspace)
        vspace_activate(NULL);
    kmem_free(&t->quota, t->pml4, PAGE_SIZE);
    t->pml4 = NULL;
}

/* All of it at once (the host unit tests). */
void vspace_destroy(struct task *t)
{
    if (!t->pml4)
        return;
    word work = ~(word)0;
    vspace_destroy_some(t, &work);
    vspace_free_top(t);
}
