/* Host tests of address spaces and the mapping database
 * (ukernel/arch/x86/vspace.c) on the real allocator (kmem.c).
 *
 * Page tables come from a kmem pool at fake physical PHYS; the user pages
 * being mapped are a separate fake RAM at RAM_PHYS.  phys_to_virt (declared,
 * not defined, in arch/cpu.h under UK_HOST_TEST) translates both.  The few
 * other things vspace.c needs from the kernel (kernel_pml4, kstats, invlpg,
 * read_cr3, write_cr3) are defined here; the instructions only record
 * calls (a write of cr3's own value is a full TLB flush). */
#include "host_stubs.h"
#include "../../ukernel/kernel/kmem.c"
#include "host_pool.h"

#include <string.h>

static word flushes, last_flush_va, full_flushes;
static u64 cr3;
static void invlpg(word va) { flushes++; last_flush_va = va; }
static u64 read_cr3(void) { return cr3; }
static void write_cr3(u64 v) { full_flushes += v == cr3; cr3 = v; }

/* vspace.c includes log.h, whose panic() prototype the host_stubs macro
 * would mangle: use a real function instead (kmem.c above keeps the macro). */
#undef panic
#include "../../ukernel/arch/x86/vspace.c"

noreturn void panic(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fail_msg("kernel panic");
    abort();
}

static u64 kpml4[512] __attribute__((aligned(4096)));
u64 *kernel_pml4 = kpml4;
u64 kernel_pml4_phys = 0x7000;
struct uk_stats kstats;

#define PHYS      0x100000ul        /* kmem pool: page tables, mapping nodes */
#define NPAGES    4096             /* 16 MiB: room for a UK_MAP_MAX_PAGES map */
#define RAM_PHYS  0x40000000ul      /* user memory being mapped */
#define RAM_PAGES 64
static u8 ram[RAM_PAGES * PAGE_SIZE] __attribute__((aligned(4096)));

void *phys_to_virt(u64 p)
{
    if (p >= RAM_PHYS && p < RAM_PHYS + sizeof ram)
        return ram + (p - RAM_PHYS);
    void *v = kmem_virt(p);
    if (!v)
        fail_msg("phys_to_virt(%#lx): not pool or RAM", (unsigned long)p);
    return v;
}

u64 virt_to_phys(const void *v)
{
    return kmem_phys(v);
}

/* --- helpers -------------------------------------------------------------- */

#define R   UK_MAP_READ
#define W   UK_MAP_WRITE
#define X   UK_MAP_EXEC
#define RW  (R | W)
#define RWX UK_MAP_RWX

#define NODE   kmem_charge(sizeof(struct mapping))
#define PT     PAGE_SIZE
#define LEAF   LEAF_BYTES
/* pml4 + pdpt + pd + leaf: a task with mappings in one 2 MiB region */
#define TABLES1 (PT + PT + PT + LEAF)

#define V0  0x10000000ul            /* one leaf table covers V(0) .. V(511) */
#define V(i) (V0 + (word)(i) * PAGE_SIZE)
#define FAR 0x7f0000000000ul        /* another PML4 slot */

static u64 frame(int i) { return RAM_PHYS + (u64)i * PAGE_SIZE; }

static struct task A, B, C, D;
static struct task *const all[] = {&A, &B, &C, &D};
static word base_bytes, base_pages;

static int setup(void **state)
{
    (void)state;
    pool_init(PHYS, NPAGES);
    for (int i = 0; i < 512; i++)        /* user half must not be copied */
        kpml4[i] = i < 256 ? 0xbad000 | PTE_P : ((u64)i << 12) | PTE_P | PTE_W;
    for (usize i = 0; i < ARRAY_SIZE(all); i++)
        memset(all[i], 0, sizeof *all[i]);
    memset(&kstats, 0, sizeof kstats);
    active_vspace = NULL;
    flushes = last_flush_va = cr3 = 0;
    base_bytes = kmem_bytes_used();
    base_pages = kmem_free_pages();
    return 0;
}


static void task_new(struct task *t, word limit)
{
    memset(t, 0, sizeof *t);
    t->quota.limit = limit;
    assert_int_equal(vspace_init(t), UK_OK);
}

static void destroy_all(void)
{
    for (usize i = 0; i < ARRAY_SIZE(all); i++)
        vspace_destroy(all[i]);
}

static void assert_pool_back(void)
{
    assert_int_equal(kmem_bytes_used(), base_bytes);
    assert_int_equal(kmem_free_pages(), base_pages);
}

static u64 pte_of(struct task *t, word va)
{
    u64 *leaf = walk(t, va, false);
    return leaf ? leaf[pt_index(va, 0)] : 0;
}

/* node->va of a node for page va with these rights, grant and depth:
 * nothing else may be set in it. */
static word meta_va(word va, unsigned rights, unsigned grant, unsigned depth)
{
    return va | rights | (word)grant << GRANT_SHIFT | (word)depth << DEPTH_SHIFT;
}

/* How many mappings n derives through (its ancestors). */
static unsigned ancestors(const struct mapping *n)
{
    unsigned d = 0;
    for (const struct mapping *p = n->parent; p; p = p->parent)
        d++;
    return d;
}

/* t maps va to physical page pa with exactly `rights`, in the node and in
 * the PTE (present, user, W iff write, NX iff not exec).  Every mapping
 * is readable and has no right beyond what it was granted; its depth is
 * its number of ancestors, at most UK_MAP_MAX_DEPTH; node->va is exactly
 * the page, the rights, the grant and the depth (no other bit set). */
static void assert_mapped(struct task *t, word va, u64 pa, unsigned rights)
{
    u64 got;
    unsigned r;
    assert_int_equal(vspace_lookup(t, va, &got, &r), UK_OK);
    assert_int_equal(got, pa);
    assert_int_equal(r, rights);
    assert_true(rights == 0 || (rights & R));    /* 0: protected to no access */
    assert_int_equal(pte_of(t, va), pa | pte_bits(rights));
    struct mapping *n = node_at(t, va);
    assert_ptr_equal(n->task, t);
    assert_int_equal(node_va(n), va);
    assert_int_equal(node_rights(n), rights);
    assert_int_equal(node_rights(n) & ~node_grant(n), 0);
    assert_int_equal(node_depth(n), ancestors(n));
    assert_true(node_depth(n) <= UK_MAP_MAX_DEPTH);
    assert_int_equal(n->va & ~(PAGE_MASK | NODE_META_MASK), 0);
    assert_int_equal(n->va, meta_va(va, rights, node_grant(n), node_depth(n)));
}

/* ... and was granted exactly `grant` when it was made. */
static void assert_granted(struct task *t, word va, unsigned grant)
{
    struct mapping *n = node_at(t, va);
    assert_non_null(n);
    assert_int_equal(node_grant(n), grant);
}

/* ... and derives through exactly `depth` mappings (boot: 0). */
static void assert_depth(struct task *t, word va, unsigned depth)
{
    struct mapping *n = node_at(t, va);
    assert_non_null(n);
    assert_int_equal(node_depth(n), depth);
    assert_int_equal(ancestors(n), depth);
}

static void assert_unmapped(struct task *t, word va)
{
    u64 pa = 0x1234;
    unsigned r = 99;
    assert_int_equal(vspace_lookup(t, va, &pa, &r), UK_E_NOT_MAPPED);
    assert_int_equal(pa, 0x1234);               /* outputs untouched */
    assert_int_equal(pte_of(t, va), 0);
    assert_null(node_at(t, va));
}

/* Number of direct children of t's node at va. */
static int nchildren(struct task *t, word va)
{
    int n = 0;
    for (struct mapping *c = node_at(t, va)->child; c; c = c->sibling)
        n++;
    return n;
}

/* The whole database is consistent: every node sits where its va says,
 * its va holds nothing but the page, its rights, its grant and its depth;
 * its rights include READ and stay within its grant; its PTE matches its
 * rights; it shares its parent's physical page with no right the parent
 * lacks, was granted nothing the parent was not, and is one deeper than
 * the parent (a boot node: depth 0, on no list), never deeper than
 * UK_MAP_MAX_DEPTH.  Child lists are doubly linked both ways: the first
 * child's sibling_prev is NULL, every other's is the one before it, and
 * every child points back to the parent; every node with a parent is on
 * exactly one list (the lists hold as many nodes as have parents), and
 * every task's quota is exactly its tables plus its nodes.  Returns the
 * number of nodes. */
static int check_all(void)
{
    int total = 0;
    word with_parent = 0, listed = 0;
    for (usize k = 0; k < ARRAY_SIZE(all); k++) {
        struct task *t = all[k];
        if (!t->pml4)
            continue;
        for (int i = 256; i < 512; i++)
            assert_int_equal(t->pml4[i], kpml4[i]);
        word tables = PT, nodes = 0;
        for (word i3 = 0; i3 < 256; i3++) {
            if (!(t->pml4[i3] & PTE_P))
                continue;
            tables += PT;
            u64 *pdpt = phys_to_virt(t->pml4[i3] & PTE_ADDR);
            for (word i2 = 0; i2 < 512; i2++) {
                if (!(pdpt[i2] & PTE_P))
                    continue;
                tables += PT;
                u64 *pd = phys_to_virt(pdpt[i2] & PTE_ADDR);
                for (word i1 = 0; i1 < 512; i1++) {
                    if (!(pd[i1] & PTE_P))
                        continue;
                    tables += LEAF;
                    u64 *leaf = phys_to_virt(pd[i1] & PTE_ADDR);
                    for (word i0 = 0; i0 < 512; i0++) {
                        word va = i3 << 39 | i2 << 30 | i1 << 21 | i0 << 12;
                        struct mapping *n = leaf_nodes(leaf)[i0];
                        if (!n) {
                            assert_int_equal(leaf[i0], 0);
                            continue;
                        }
                        nodes++;
                        assert_ptr_equal(n->task, t);
                        assert_int_equal(n->va & ~(PAGE_MASK | NODE_META_MASK), 0);
                        assert_int_equal(node_va(n), va);
                        assert_int_equal(n->va, meta_va(va, node_rights(n), node_grant(n),
                                                        node_depth(n)));
                        assert_true(node_rights(n) == 0 || (node_rights(n) & R));
                        assert_int_equal(node_grant(n) & R, R);
                        assert_int_equal(node_rights(n) & ~node_grant(n), 0);
                        assert_true(node_depth(n) <= UK_MAP_MAX_DEPTH);
                        assert_int_equal(leaf[i0] & ~PTE_ADDR, pte_bits(node_rights(n)));
                        /* the child list, forwards, each one's prev the one before */
                        struct mapping *prev = NULL;
                        for (struct mapping *c = n->child; c; prev = c, c = c->sibling) {
                            assert_ptr_equal(c->parent, n);
                            assert_ptr_equal(c->sibling_prev, prev);
                            assert_non_null(c->task->pml4);
                            assert_ptr_equal(node_at(c->task, node_va(c)), c);
                            assert_true(++listed <= 1ul << 20);     /* no cycle */
                        }
                        struct mapping *p = n->parent;
                        if (p) {
                            with_parent++;
                            assert_non_null(p->task->pml4);
                            assert_ptr_equal(node_at(p->task, node_va(p)), p);
                            assert_int_equal(node_rights(n) & ~node_rights(p), 0);
                            assert_int_equal(node_grant(n) & ~node_grant(p), 0);
                            assert_int_equal(node_depth(n), node_depth(p) + 1);
                            assert_int_equal(leaf[i0] & PTE_ADDR,
                                             pte_of(p->task, node_va(p)) & PTE_ADDR);
                            /* its neighbours agree, backwards too */
                            if (n->sibling_prev) {
                                assert_ptr_equal(n->sibling_prev->parent, p);
                                assert_ptr_equal(n->sibling_prev->sibling, n);
                            } else
                                assert_ptr_equal(p->child, n);
                            if (n->sibling) {
                                assert_ptr_equal(n->sibling->parent, p);
                                assert_ptr_equal(n->sibling->sibling_prev, n);
                            }
                        } else {                /* a boot mapping: on no list */
                            assert_int_equal(node_depth(n), 0);
                            assert_null(n->sibling);
                            assert_null(n->sibling_prev);
                        }
                    }
                }
            }
        }
        assert_int_equal(t->quota.used, tables + nodes * NODE);
        total += nodes;
    }
    /* every listed child has this parent, so each node with a parent is
     * on its parent's list exactly once */
    assert_int_equal(listed, with_parent);
    return total;
}

/* Mapping state of every watched page of every task, to check that a
 * failed call changed nothing. */
#define WATCH 32
static word watch_va(int k) { return k < 16 ? V(k) : FAR + (word)(k - 16) * PAGE_SIZE; }
static int watch_index(word va)
{
    int k = va < FAR ? (int)((va - V0) / PAGE_SIZE) : 16 + (int)((va - FAR) / PAGE_SIZE);
    assert_int_equal(watch_va(k), va);
    return k;
}
static int task_index(const struct task *t)
{
    for (int i = 0; i < 4; i++)
        if (all[i] == t)
            return i;
    fail_msg("not one of the test tasks");
    return -1;
}
struct snap {
    u64 pte[4][WATCH];
    struct mapping *node[4][WATCH];
    word va[4][WATCH];                  /* node->va: rights, grant, depth */
    word used[4];                       /* quotas */
};
static void snapshot(struct snap *s)
{
    memset(s, 0, sizeof *s);
    for (int t = 0; t < 4; t++) {
        s->used[t] = all[t]->quota.used;
        if (all[t]->pml4)
            for (int k = 0; k < WATCH; k++) {
                s->pte[t][k] = pte_of(all[t], watch_va(k));
                s->node[t][k] = node_at(all[t], watch_va(k));
                s->va[t][k] = s->node[t][k] ? s->node[t][k]->va : 0;
            }
    }
}

/* --- vspace_init / vspace_destroy ----------------------------------------- */

/* A new address space is one zeroed page with the kernel half (entries
 * 256..511) copied; destroying it gives everything back. */
static void test_init(void **state)
{
    (void)state;
    task_new(&A, 1 << 20);
    assert_non_null(A.pml4);
    assert_int_equal((word)A.pml4 % PAGE_SIZE, 0);
    assert_int_equal(A.pml4_phys, kmem_phys(A.pml4));
    for (int i = 0; i < 256; i++)
        assert_int_equal(A.pml4[i], 0);
    for (int i = 256; i < 512; i++)
        assert_int_equal(A.pml4[i], kpml4[i]);
    assert_int_equal(A.quota.used, PT);
    assert_int_equal(kmem_bytes_used(), base_bytes + PT);
    vspace_destroy(&A);
    assert_null(A.pml4);
    assert_int_equal(A.quota.used, 0);
    assert_pool_back();
    vspace_destroy(&A);                         /* again: no-op */
    assert_pool_back();

    memset(&B, 0, sizeof B);                    /* quota below one page */
    B.quota.limit = PT - 1;
    assert_int_equal(vspace_init(&B), UK_E_NOMEM);
    assert_null(B.pml4);
    assert_int_equal(B.quota.used, 0);
    assert_pool_back();
}

/* Boot mappings: lookup gives the page plus the offset and the rights;
 * tables are made on demand and charged to the task. */
static void test_map_boot_lookup(void **state)
{
    (void)state;
    task_new(&A, 1 << 20);
    assert_int_equal(vspace_map_boot(&A, V(0), frame(3), RW), UK_OK);
    assert_mapped(&A, V(0), frame(3), RW);
    assert_granted(&A, V(0), RW);               /* boot grants what it is given */
    assert_depth(&A, V(0), 0);
    assert_int_equal(A.quota.used, TABLES1 + NODE);
    u64 pa;
    unsigned r;
    assert_int_equal(vspace_lookup(&A, V(0) + 0x123, &pa, &r), UK_OK);
    assert_int_equal(pa, frame(3) + 0x123);
    assert_int_equal(r, RW);

    assert_int_equal(vspace_map_boot(&A, V(1), frame(4), R | X), UK_OK);
    assert_mapped(&A, V(1), frame(4), R | X);
    assert_granted(&A, V(1), R | X);
    assert_int_equal(A.quota.used, TABLES1 + 2 * NODE);   /* same leaf */
    assert_int_equal(pte_of(&A, V(1)) & (PTE_W | PTE_NX), 0);
    assert_int_equal(pte_of(&A, V(0)) & (PTE_W | PTE_NX), PTE_W | PTE_NX);

    assert_int_equal(vspace_map_boot(&A, FAR, frame(5), R), UK_OK);
    assert_mapped(&A, FAR, frame(5), R);
    assert_int_equal(A.quota.used, TABLES1 + 2 * PT + LEAF + 3 * NODE);
    assert_int_equal(vspace_map_boot(&A, UK_USER_MAP_TOP - PAGE_SIZE, frame(6), R), UK_OK);
    assert_mapped(&A, UK_USER_MAP_TOP - PAGE_SIZE, frame(6), R);

    assert_unmapped(&A, V(2));                  /* same leaf, empty entry */
    assert_unmapped(&A, V(512));                /* no leaf */
    assert_unmapped(&A, 0);
    assert_int_equal(vspace_lookup(&A, UK_USER_MAP_TOP, &pa, &r), UK_E_ADDR);
    assert_int_equal(vspace_lookup(&A, UK_USER_HALF_END, &pa, &r), UK_E_ADDR);
    assert_int_equal(vspace_lookup(&A, KERNEL_BASE, &pa, &r), UK_E_ADDR);

    /* a boot mapping over another replaces it */
    assert_int_equal(vspace_map_boot(&A, V(0), frame(7), R), UK_OK);
    assert_mapped(&A, V(0), frame(7), R);
    assert_granted(&A, V(0), R);                /* the new grant, not the old */
    assert_depth(&A, V(0), 0);
    /* free memory: read/write, granted everything, depth 0 too */
    assert_int_equal(vspace_map_boot_free(&A, V(3), frame(8)), UK_OK);
    assert_mapped(&A, V(3), frame(8), RW);
    assert_granted(&A, V(3), RWX);
    assert_depth(&A, V(3), 0);
    assert_int_equal(check_all(), 5);
    vspace_destroy(&A);
    assert_pool_back();
}

/* user_ptr gives a kernel pointer only for a non-empty range inside one
 * mapped page with the rights needed. */
static void test_user_ptr(void **state)
{
    (void)state;
    task_new(&A, 1 << 20);
    assert_int_equal(vspace_map_boot(&A, V(0), frame(0), RW), UK_OK);
    assert_int_equal(vspace_map_boot(&A, V(1), frame(1), R), UK_OK);
    u8 *p0 = ram, *p1 = ram + PAGE_SIZE;

    assert_ptr_equal(user_ptr(&A, V(0), 8, R), p0);
    assert_ptr_equal(user_ptr(&A, V(0) + 100, 8, RW), p0 + 100);
    assert_ptr_equal(user_ptr(&A, V(0), PAGE_SIZE, W), p0);          /* whole page */
    assert_ptr_equal(user_ptr(&A, V(0) + PAGE_SIZE - 1, 1, W), p0 + PAGE_SIZE - 1);
    assert_ptr_equal(user_ptr(&A, V(1) + 8, 8, R), p1 + 8);
    assert_null(user_ptr(&A, V(0), 0, R));                           /* len 0 */
    assert_null(user_ptr(&A, V(0) + PAGE_SIZE - 4, 8, R));           /* crosses */
    assert_null(user_ptr(&A, V(0), PAGE_SIZE + 1, R));
    assert_null(user_ptr(&A, V(0), ~(word)0, R));                    /* no wrap */
    assert_null(user_ptr(&A, V(1), 8, W));                           /* read-only */
    assert_null(user_ptr(&A, V(1), 8, RW));
    assert_null(user_ptr(&A, V(2), 8, R));                           /* not mapped */
    assert_null(user_ptr(&A, V(600), 8, R));                         /* no leaf */
    assert_null(user_ptr(&A, UK_USER_MAP_TOP, 8, R));
    assert_null(user_ptr(&A, ~(word)0 - 3, 2, R));
    vspace_destroy(&A);
}

/* copy_to_user / copy_from_user split at page boundaries and fail with
 * UK_E_ADDR if any page lacks the right. */
static void test_copy_user(void **state)
{
    (void)state;
    task_new(&A, 1 << 20);
    assert_int_equal(vspace_map_boot(&A, V(0), frame(0), RW), UK_OK);
    assert_int_equal(vspace_map_boot(&A, V(1), frame(1), RW), UK_OK);
    assert_int_equal(vspace_map_boot(&A, V(2), frame(2), R), UK_OK);
    static u8 buf[3 * PAGE_SIZE], back[3 * PAGE_SIZE];
    for (word i = 0; i < sizeof buf; i++)
        buf[i] = (u8)(i * 7 + 1);
    assert_int_equal(copy_to_user(&A, V(0) + 100, buf, PAGE_SIZE + 50), UK_OK);
    assert_memory_equal(ram + 100, buf, PAGE_SIZE + 50);
    assert_int_equal(copy_from_user(&A, back, V(0) + 100, PAGE_SIZE + 50), UK_OK);
    assert_memory_equal(back, buf, PAGE_SIZE + 50);
    assert_int_equal(copy_from_user(&A, back, V(1) + 10, 2 * PAGE_SIZE - 10), UK_OK);
    assert_int_equal(copy_to_user(&A, V(1) + 10, buf, 2 * PAGE_SIZE - 10), UK_E_ADDR);
    assert_int_equal(copy_from_user(&A, back, V(2) + 10, PAGE_SIZE), UK_E_ADDR);
    assert_int_equal(copy_to_user(&A, V(0), buf, 0), UK_OK);        /* nothing */
    vspace_destroy(&A);
}

/* --- vspace_map ------------------------------------------------------------- */

/* A map gives the destination the source's physical page with the rights
 * asked for plus READ, less any the source lacks, and grants exactly
 * that; the new node is a child of the source's and charged to the
 * destination. */
static void test_map_derives(void **state)
{
    (void)state;
    task_new(&A, 1 << 20);
    task_new(&B, 1 << 20);
    assert_int_equal(vspace_map_boot(&A, V(0), frame(1), RW), UK_OK);
    word a_used = A.quota.used;

    assert_int_equal(vspace_map(&A, V(0), &B, FAR, 1, RWX), UK_OK);
    assert_mapped(&B, FAR, frame(1), RW);                    /* X dropped */
    assert_granted(&B, FAR, RW);
    assert_mapped(&A, V(0), frame(1), RW);                   /* source unchanged */
    assert_granted(&A, V(0), RW);
    assert_ptr_equal(node_at(&B, FAR)->parent, node_at(&A, V(0)));
    assert_ptr_equal(node_at(&A, V(0))->child, node_at(&B, FAR));
    assert_int_equal(A.quota.used, a_used);
    assert_int_equal(B.quota.used, TABLES1 + NODE);

    assert_int_equal(vspace_map(&A, V(0), &B, FAR + PAGE_SIZE, 1, R), UK_OK);
    assert_mapped(&B, FAR + PAGE_SIZE, frame(1), R);
    assert_granted(&B, FAR + PAGE_SIZE, R);
    assert_int_equal(nchildren(&A, V(0)), 2);

    /* a map of a derived page derives again (grandchild) */
    assert_int_equal(vspace_map(&B, FAR + PAGE_SIZE, &A, V(5), 1, RW), UK_OK);
    assert_mapped(&A, V(5), frame(1), R);
    assert_granted(&A, V(5), R);                /* W asked, the source lacks it */
    assert_ptr_equal(node_at(&A, V(5))->parent, node_at(&B, FAR + PAGE_SIZE));
    assert_depth(&A, V(0), 0);                  /* one deeper than the source */
    assert_depth(&B, FAR, 1);
    assert_depth(&B, FAR + PAGE_SIZE, 1);
    assert_depth(&A, V(5), 2);

    /* within one task, to a range that does not overlap; W implies R */
    assert_int_equal(vspace_map(&A, V(0), &A, V(1), 1, W), UK_OK);
    assert_mapped(&A, V(1), frame(1), RW);
    assert_granted(&A, V(1), RW);
    assert_depth(&A, V(1), 1);
    assert_int_equal(check_all(), 5);
    destroy_all();
    assert_pool_back();
}

/* Several pages at once: page i to page i, each with its own source's rights. */
static void test_map_multi_page(void **state)
{
    (void)state;
    task_new(&A, 1 << 20);
    task_new(&B, 1 << 20);
    static const unsigned src_rights[4] = {R, RW, RWX, R | X};
    for (int i = 0; i < 4; i++)
        assert_int_equal(vspace_map_boot(&A, V(10 + i), frame(10 + i), src_rights[i]), UK_OK);
    /* across a leaf boundary in the destination: V(510) .. V(513) */
    assert_int_equal(vspace_map(&A, V(10), &B, V(510), 4, RW | X), UK_OK);
    for (int i = 0; i < 4; i++) {
        assert_mapped(&B, V(510 + i), frame(10 + i), src_rights[i]);
        assert_granted(&B, V(510 + i), src_rights[i]);
    }
    assert_int_equal(B.quota.used, PT + 2 * PT + 2 * LEAF + 4 * NODE);
    assert_int_equal(vspace_map(&A, V(10), &B, V(0), 4, R), UK_OK);
    for (int i = 0; i < 4; i++)
        assert_mapped(&B, V(i), frame(10 + i), R);
    /* X alone: R | X where the source has X, else R */
    assert_int_equal(vspace_map(&A, V(10), &B, V(20), 4, X), UK_OK);
    for (int i = 0; i < 4; i++) {
        assert_mapped(&B, V(20 + i), frame(10 + i), src_rights[i] & (R | X));
        assert_granted(&B, V(20 + i), src_rights[i] & (R | X));
    }
    assert_int_equal(check_all(), 16);
    destroy_all();
    assert_pool_back();
}

/* Mapping over an existing mapping replaces it, and revokes what was
 * derived from the old one; their charges come back. */
static void test_map_replaces(void **state)
{
    (void)state;
    task_new(&A, 1 << 20);
    task_new(&B, 1 << 20);
    task_new(&C, 1 << 20);
    assert_int_equal(vspace_map_boot(&A, V(0), frame(0), RW), UK_OK);
    assert_int_equal(vspace_map_boot(&A, V(1), frame(1), RW), UK_OK);
    assert_int_equal(vspace_map(&A, V(0), &B, V(7), 1, RW), UK_OK);
    assert_int_equal(vspace_map(&B, V(7), &C, V(3), 1, R), UK_OK);
    assert_depth(&C, V(3), 2);
    word b_used = B.quota.used, c_used = C.quota.used;

    assert_int_equal(vspace_map(&A, V(1), &B, V(7), 1, R), UK_OK);
    assert_mapped(&B, V(7), frame(1), R);
    assert_ptr_equal(node_at(&B, V(7))->parent, node_at(&A, V(1)));
    assert_unmapped(&C, V(3));                  /* derived from the old one */
    assert_null(node_at(&A, V(0))->child);      /* old node off A's list */
    assert_int_equal(nchildren(&A, V(1)), 1);
    assert_int_equal(B.quota.used, b_used);     /* one node out, one in */
    assert_int_equal(C.quota.used, c_used - NODE);

    /* the same source again (a re-map to change rights) */
    assert_granted(&B, V(7), R);
    assert_int_equal(vspace_protect(&B, V(7), 1, RW), UK_OK);
    assert_mapped(&B, V(7), frame(1), R);       /* protect cannot raise it ... */
    assert_int_equal(vspace_map(&A, V(1), &B, V(7), 1, RW), UK_OK);
    assert_mapped(&B, V(7), frame(1), RW);      /* ... a re-map can: a new grant */
    assert_granted(&B, V(7), RW);
    assert_int_equal(nchildren(&A, V(1)), 1);
    assert_depth(&B, V(7), 1);
    /* a deeper mapping over a shallower one, and a boot one over both */
    assert_int_equal(vspace_map(&B, V(7), &C, V(3), 1, R), UK_OK);
    assert_int_equal(vspace_map(&C, V(3), &A, V(1), 1, R), UK_E_BUSY);  /* its root */
    assert_int_equal(vspace_map(&C, V(3), &B, V(8), 1, R), UK_OK);
    assert_int_equal(vspace_map(&B, V(8), &A, V(2), 1, R), UK_OK);
    assert_depth(&A, V(2), 4);
    assert_int_equal(vspace_map_boot(&C, V(3), frame(3), RW), UK_OK);    /* revokes B's V(8) */
    assert_depth(&C, V(3), 0);
    assert_unmapped(&B, V(8));
    assert_unmapped(&A, V(2));
    assert_int_equal(check_all(), 4);
    destroy_all();
    assert_pool_back();
}

/* Replacing a mapping that the source page itself derives from would
 * unmap the source: refused with UK_E_BUSY, nothing changed. */
static void test_map_busy_ancestor(void **state)
{
    (void)state;
    task_new(&A, 1 << 20);
    task_new(&B, 1 << 20);
    assert_int_equal(vspace_map_boot(&A, V(0), frame(0), RW), UK_OK);
    assert_int_equal(vspace_map(&A, V(0), &B, V(4), 1, RW), UK_OK);
    assert_int_equal(vspace_map(&B, V(4), &A, V(8), 1, RW), UK_OK);
    int nodes = check_all();
    word a_used = A.quota.used, b_used = B.quota.used;

    /* B's page (child of A's V(0)) onto A's V(0): the parent */
    assert_int_equal(vspace_map(&B, V(4), &A, V(0), 1, R), UK_E_BUSY);
    /* A's V(8) (grandchild of A's V(0)) onto A's V(0) */
    assert_int_equal(vspace_map(&A, V(8), &A, V(0), 1, R), UK_E_BUSY);
    /* A's V(8) onto B's V(4), its parent */
    assert_int_equal(vspace_map(&A, V(8), &B, V(4), 1, R), UK_E_BUSY);
    assert_mapped(&A, V(0), frame(0), RW);
    assert_mapped(&B, V(4), frame(0), RW);
    assert_mapped(&A, V(8), frame(0), RW);
    assert_int_equal(A.quota.used, a_used);
    assert_int_equal(B.quota.used, b_used);
    assert_int_equal(check_all(), nodes);
    destroy_all();
    assert_pool_back();
}

/* The same in a multi-page map: replacing destination page 0 would revoke
 * source page 1 (derived from it).  Found before anything changes.  (This
 * used to unmap source page 1 and then dereference its NULL node.) */
static void test_map_busy_later_source_page(void **state)
{
    (void)state;
    task_new(&A, 1 << 20);
    task_new(&B, 1 << 20);
    assert_int_equal(vspace_map_boot(&A, V(0), frame(0), RW), UK_OK);
    assert_int_equal(vspace_map_boot(&A, V(1), frame(1), RW), UK_OK);
    assert_int_equal(vspace_map_boot(&B, V(20), frame(20), RW), UK_OK);
    /* A's V(1) now derives from B's V(20) (replacing A's boot page) */
    assert_int_equal(vspace_map(&B, V(20), &A, V(1), 1, RW), UK_OK);
    assert_depth(&A, V(1), 1);
    int nodes = check_all();

    assert_int_equal(vspace_map(&A, V(0), &B, V(20), 2, R), UK_E_BUSY);
    assert_mapped(&A, V(0), frame(0), RW);
    assert_mapped(&A, V(1), frame(20), RW);
    assert_mapped(&B, V(20), frame(20), RW);
    assert_unmapped(&B, V(21));
    assert_int_equal(check_all(), nodes);

    /* one task: A's V(3) derives from A's V(11); mapping V(2..3) onto
     * V(10..11) would revoke V(3) when replacing V(11) */
    assert_int_equal(vspace_map_boot(&A, V(2), frame(2), RW), UK_OK);
    assert_int_equal(vspace_map_boot(&A, V(11), frame(11), RW), UK_OK);
    assert_int_equal(vspace_map(&A, V(11), &A, V(3), 1, RW), UK_OK);
    nodes = check_all();
    assert_int_equal(vspace_map(&A, V(2), &A, V(10), 2, RW), UK_E_BUSY);
    assert_unmapped(&A, V(10));
    assert_mapped(&A, V(11), frame(11), RW);
    assert_mapped(&A, V(3), frame(11), RW);
    assert_int_equal(check_all(), nodes);

    /* and the other way round: source page 0 derives from destination
     * page 1 (this used to succeed with destination page 0 unmapped) */
    assert_int_equal(vspace_map_boot(&A, V(30), frame(30), RW), UK_OK);
    assert_int_equal(vspace_map_boot(&A, V(41), frame(41), RW), UK_OK);
    assert_int_equal(vspace_map(&A, V(41), &A, V(29), 1, RW), UK_OK);
    nodes = check_all();
    assert_int_equal(vspace_map(&A, V(29), &A, V(40), 2, RW), UK_E_BUSY);
    assert_unmapped(&A, V(40));
    assert_mapped(&A, V(41), frame(41), RW);
    assert_mapped(&A, V(29), frame(41), RW);
    assert_int_equal(check_all(), nodes);
    destroy_all();
    assert_pool_back();
}

/* --- vspace_unmap ----------------------------------------------------------- */

/* A -> B -> C: unmapping A's page revokes B's and C's. */
static void test_unmap_chain(void **state)
{
    (void)state;
    task_new(&A, 1 << 20);
    task_new(&B, 1 << 20);
    task_new(&C, 1 << 20);
    assert_int_equal(vspace_map_boot(&A, V(0), frame(0), RW), UK_OK);
    assert_int_equal(vspace_map_boot(&A, V(1), frame(1), RW), UK_OK);
    assert_int_equal(vspace_map(&A, V(0), &B, V(5), 2, RW), UK_OK);
    assert_int_equal(vspace_map(&B, V(5), &C, V(9), 2, R), UK_OK);
    assert_int_equal(check_all(), 6);
    word b_used = B.quota.used, c_used = C.quota.used;

    assert_int_equal(vspace_unmap(&A, V(0), 1), UK_OK);
    assert_unmapped(&A, V(0));
    assert_unmapped(&B, V(5));
    assert_unmapped(&C, V(9));
    assert_mapped(&A, V(1), frame(1), RW);      /* the other page's tree stays */
    assert_mapped(&B, V(6), frame(1), RW);
    assert_mapped(&C, V(10), frame(1), R);
    assert_int_equal(B.quota.used, b_used - NODE);
    assert_int_equal(C.quota.used, c_used - NODE);
    assert_int_equal(check_all(), 3);

    /* a range with holes: pages not mapped are skipped */
    assert_int_equal(vspace_unmap(&A, V(0), 4), UK_OK);
    assert_int_equal(check_all(), 0);
    assert_int_equal(vspace_unmap(&A, V(0), 4), UK_OK);
    assert_int_equal(vspace_unmap(&A, FAR, 1), UK_OK);     /* no tables there */
    destroy_all();
    assert_pool_back();
}

/* A -> {B, C, D}, B -> C: unmapping A's page revokes all of them, at
 * every position of A's child list, and nodes below them. */
static void test_unmap_fanout(void **state)
{
    (void)state;
    for (int victim = 0; victim < 4; victim++) {
        task_new(&A, 1 << 20);
        task_new(&B, 1 << 20);
        task_new(&C, 1 << 20);
        task_new(&D, 1 << 20);
        assert_int_equal(vspace_map_boot(&A, V(0), frame(0), RWX), UK_OK);
        assert_int_equal(vspace_map(&A, V(0), &B, V(1), 1, RW), UK_OK);
        assert_int_equal(vspace_map(&A, V(0), &C, V(2), 1, R | X), UK_OK);
        assert_int_equal(vspace_map(&A, V(0), &D, V(3), 1, R), UK_OK);
        assert_int_equal(vspace_map(&B, V(1), &C, V(4), 1, R), UK_OK);
        assert_int_equal(vspace_map(&B, V(1), &D, V(5), 1, W), UK_OK);
        assert_mapped(&D, V(5), frame(0), RW);  /* W implies R */
        assert_int_equal(nchildren(&A, V(0)), 3);
        assert_int_equal(check_all(), 6);
        switch (victim) {
        case 0:                                 /* the root: everything */
            assert_int_equal(vspace_unmap(&A, V(0), 1), UK_OK);
            assert_int_equal(check_all(), 0);
            break;
        case 1:                                 /* B: its subtree only */
            assert_int_equal(vspace_unmap(&B, V(1), 1), UK_OK);
            assert_unmapped(&C, V(4));
            assert_unmapped(&D, V(5));
            assert_mapped(&A, V(0), frame(0), RWX);
            assert_mapped(&C, V(2), frame(0), R | X);
            assert_mapped(&D, V(3), frame(0), R);
            assert_int_equal(nchildren(&A, V(0)), 2);
            assert_int_equal(check_all(), 3);
            break;
        case 2:                                 /* C's: a leaf in the middle */
            assert_int_equal(vspace_unmap(&C, V(2), 1), UK_OK);
            assert_int_equal(nchildren(&A, V(0)), 2);
            assert_mapped(&C, V(4), frame(0), R);
            assert_int_equal(check_all(), 5);
            break;
        case 3:                                 /* D's: the first child */
            assert_int_equal(vspace_unmap(&D, V(3), 1), UK_OK);
            assert_int_equal(nchildren(&A, V(0)), 2);
            assert_mapped(&D, V(5), frame(0), RW);
            assert_int_equal(check_all(), 5);
            break;
        }
        destroy_all();
        assert_pool_back();
    }
}

/* The longest chain allowed: a boot page and UK_MAP_MAX_DEPTH mappings
 * each derived from the one before, alternating between two tasks (page
 * V(i) is at depth i).  One more map from the deepest is refused with
 * UK_E_INVAL before anything changes, also when only a later page of a
 * multi-page map is too deep; one level less is fine.  Unmapping the root
 * revokes the whole chain (unmap_tree is iterative). */
static struct task *chain_task(int i) { return i % 2 ? &B : &A; }

static void test_unmap_deep_chain(void **state)
{
    (void)state;
    enum { MAX = UK_MAP_MAX_DEPTH };
    _Static_assert(UK_MAP_MAX_DEPTH == 40, "abi.h: chains of at most 40");
    _Static_assert(UK_MAP_MAX_DEPTH < 63, "the depth must fit bits 6-11 of node->va");
    for (int t = 0; t < 4; t++)
        task_new(all[t], 1 << 22);
    assert_int_equal(vspace_map_boot(&A, V(0), frame(0), RW), UK_OK);
    for (int i = 0; i < MAX; i++) {
        assert_int_equal(vspace_map(chain_task(i), V(i), chain_task(i + 1), V(i + 1), 1, RW),
                         UK_OK);
        assert_depth(chain_task(i + 1), V(i + 1), i + 1);
    }
    for (int i = 0; i <= MAX; i++) {
        assert_mapped(chain_task(i), V(i), frame(0), RW);
        assert_depth(chain_task(i), V(i), i);
        assert_int_equal(nchildren(chain_task(i), V(i)), i < MAX ? 1 : 0);
    }
    struct task *deep = chain_task(MAX);        /* V(MAX): the deepest */
    assert_ptr_equal(deep, &A);
    assert_int_equal(check_all(), MAX + 1);

    /* C's V(7) has a child (A's V(300)); A's V(MAX - 1) is a boot page,
     * beside the deepest */
    assert_int_equal(vspace_map_boot(&C, V(7), frame(7), RW), UK_OK);
    assert_int_equal(vspace_map(&C, V(7), &A, V(300), 1, R), UK_OK);
    assert_int_equal(vspace_map_boot(&A, V(MAX - 1), frame(9), RW), UK_OK);
    int nodes = check_all();
    assert_int_equal(nodes, MAX + 4);
    word used[4];
    for (int t = 0; t < 4; t++)
        used[t] = all[t]->quota.used;
    static struct snap before, after;
    snapshot(&before);

    /* one more level: refused, to a new page, over a mapped one, within
     * the task, to one without tables, whatever the rights */
    assert_int_equal(vspace_map(deep, V(MAX), &C, V(0), 1, RW), UK_E_INVAL);
    assert_int_equal(vspace_map(deep, V(MAX), &C, V(7), 1, R), UK_E_INVAL);
    assert_int_equal(vspace_map(deep, V(MAX), deep, V(100), 1, R), UK_E_INVAL);
    assert_int_equal(vspace_map(deep, V(MAX), &B, V(MAX - 1), 1, X), UK_E_INVAL);
    assert_int_equal(vspace_map(deep, V(MAX), &D, FAR, 1, RWX), UK_E_INVAL);
    /* page 0 (a boot page) could be mapped, and would replace C's V(7)
     * and revoke A's V(300); page 1 is the deepest: nothing happens */
    assert_int_equal(vspace_map(deep, V(MAX - 1), &C, V(7), 2, RW), UK_E_INVAL);
    assert_int_equal(vspace_map(deep, V(MAX - 1), &D, V(0), 2, R), UK_E_INVAL);
    snapshot(&after);
    assert_memory_equal(&before, &after, sizeof before);
    assert_mapped(&C, V(7), frame(7), RW);
    assert_depth(&C, V(7), 0);
    assert_mapped(&A, V(300), frame(7), R);
    assert_unmapped(&C, V(0));
    assert_unmapped(&C, V(8));
    assert_unmapped(&D, V(0));
    assert_unmapped(&D, FAR);
    assert_int_equal(nchildren(deep, V(MAX)), 0);
    for (int t = 0; t < 4; t++)
        assert_int_equal(all[t]->quota.used, used[t]);
    assert_int_equal(check_all(), nodes);

    /* one level less: fine, and the new mapping is as deep as allowed */
    assert_int_equal(vspace_map(&B, V(MAX - 1), &C, V(6), 1, RWX), UK_OK);
    assert_mapped(&C, V(6), frame(0), RW);
    assert_depth(&C, V(6), MAX);
    assert_int_equal(nchildren(&B, V(MAX - 1)), 2);
    assert_int_equal(vspace_map(&C, V(6), &D, V(0), 1, R), UK_E_INVAL);
    assert_int_equal(vspace_protect(&C, V(6), 1, R), UK_OK);     /* protect keeps the depth */
    assert_mapped(&C, V(6), frame(0), R);
    assert_depth(&C, V(6), MAX);
    assert_int_equal(vspace_protect(&C, V(6), 1, RW), UK_OK);
    assert_mapped(&C, V(6), frame(0), RW);
    assert_depth(&C, V(6), MAX);
    /* re-mapped from a shallow page, the deepest page is shallow again
     * and can be mapped on */
    assert_int_equal(vspace_map(&A, V(0), deep, V(MAX), 1, RW), UK_OK);
    assert_depth(deep, V(MAX), 1);
    assert_int_equal(vspace_map(deep, V(MAX), &C, V(8), 1, RW), UK_OK);
    assert_depth(&C, V(8), 2);
    /* a boot mapping over a deep page: depth 0, and it maps again */
    assert_int_equal(vspace_map_boot(&C, V(6), frame(6), RW), UK_OK);
    assert_depth(&C, V(6), 0);
    assert_int_equal(vspace_map(&C, V(6), &C, V(9), 1, RW), UK_OK);
    assert_depth(&C, V(9), 1);
    assert_int_equal(check_all(), nodes + 3);

    /* unmapping the root takes the whole chain and what hangs off it */
    assert_int_equal(vspace_unmap(&A, V(0), 1), UK_OK);
    for (int i = 0; i <= MAX; i++)
        if (!(i == MAX - 1 && chain_task(i) == &A))
            assert_unmapped(chain_task(i), V(i));
    assert_unmapped(&C, V(8));
    assert_mapped(&A, V(MAX - 1), frame(9), RW);
    assert_mapped(&C, V(6), frame(6), RW);
    assert_mapped(&C, V(9), frame(6), RW);
    assert_mapped(&C, V(7), frame(7), RW);
    assert_mapped(&A, V(300), frame(7), R);
    assert_int_equal(check_all(), 5);
    assert_unmapped(&D, V(0));
    destroy_all();
    assert_pool_back();
}

/* Many children of one page, unmapped one at a time in an order that is
 * not head-first (the middle one, the tail, the head, then the rest
 * scattered): each leaves the child list consistent both ways (check_all)
 * and in order, with the grandchildren of the removed ones gone and the
 * others' kept; at the end the parent has no children and every node is
 * freed.  Then the same fan-out again, revoked at once from the parent. */
enum { NSIB = 2000 };
static bool sib_gone[NSIB];

/* Child i is B's V(i), every 100th has a child at C's V(i / 100).
 * Children are added at the head, so A's V(0) lists them newest first:
 * exactly those not gone, each one's prev the one before. */
static int check_siblings(void)
{
    struct mapping *root = node_at(&A, V(0)), *prev = NULL, *c = root->child;
    int live = 0, grand = 0;
    for (int i = NSIB - 1; i >= 0; i--) {
        if (sib_gone[i]) {
            assert_null(node_at(&B, V(i)));
            if (i % 100 == 0)
                assert_null(node_at(&C, V(i / 100)));
            continue;
        }
        assert_ptr_equal(c, node_at(&B, V(i)));
        assert_ptr_equal(c->sibling_prev, prev);
        assert_ptr_equal(c->parent, root);
        if (i % 100 == 0) {
            assert_int_equal(nchildren(&B, V(i)), 1);
            grand++;
        }
        live++;
        prev = c;
        c = c->sibling;
    }
    assert_null(c);
    return 1 + live + grand;
}

static void map_siblings(void)
{
    memset(sib_gone, 0, sizeof sib_gone);
    for (int i = 0; i < NSIB; i++) {
        assert_int_equal(vspace_map(&A, V(0), &B, V(i), 1, i % 3 ? RW : R), UK_OK);
        if (i % 100 == 0)
            assert_int_equal(vspace_map(&B, V(i), &C, V(i / 100), 1, R), UK_OK);
    }
    assert_int_equal(nchildren(&A, V(0)), NSIB);
    assert_int_equal(check_siblings(), 1 + NSIB + NSIB / 100);
    assert_int_equal(check_all(), 1 + NSIB + NSIB / 100);
}

static void test_unmap_many_siblings(void **state)
{
    (void)state;
    task_new(&A, 1 << 22);
    task_new(&B, 1 << 22);
    task_new(&C, 1 << 22);
    assert_int_equal(vspace_map_boot(&A, V(0), frame(0), RWX), UK_OK);
    map_siblings();
    for (int i = 0; i < NSIB; i++)
        assert_depth(&B, V(i), 1);
    assert_depth(&C, V(0), 2);

    static int order[NSIB];
    int k = 0;
    static const int first[] = {NSIB / 2, 0, NSIB - 1, 1, NSIB / 2 + 1, NSIB - 2, 100};
    /* the middle, the tail, the head, the new tail, next to a hole, the
     * new head, one with a child */
    for (usize j = 0; j < ARRAY_SIZE(first); j++)
        order[k++] = first[j];
    for (int i = 0; i < NSIB; i++) {            /* the rest, scattered */
        int j = (int)(((long)i * 7919 + 13) % NSIB);    /* 7919: prime, coprime to NSIB */
        bool done = false;
        for (usize m = 0; m < ARRAY_SIZE(first); m++)
            done |= first[m] == j;
        if (!done)
            order[k++] = j;
    }
    assert_int_equal(k, NSIB);
    for (int n = 0; n < NSIB; n++) {
        int i = order[n];
        assert_false(sib_gone[i]);
        assert_int_equal(vspace_unmap(&B, V(i), 1), UK_OK);
        sib_gone[i] = true;
        assert_unmapped(&B, V(i));
        if (i % 100 == 0)
            assert_unmapped(&C, V(i / 100));
        if (n < 16 || n % 97 == 0 || n >= NSIB - 3)
            assert_int_equal(check_all(), check_siblings());
    }
    assert_mapped(&A, V(0), frame(0), RWX);
    assert_null(node_at(&A, V(0))->child);
    assert_int_equal(B.quota.used, TABLES1 + 3 * LEAF);    /* tables stay: V(0..2047) */
    assert_int_equal(C.quota.used, TABLES1);
    assert_int_equal(check_all(), 1);

    /* again, and revoked at once from the parent */
    map_siblings();
    assert_int_equal(vspace_unmap(&A, V(0), 1), UK_OK);
    assert_int_equal(check_all(), 0);
    for (int i = 0; i < NSIB; i++)
        assert_null(node_at(&B, V(i)));
    assert_int_equal(B.quota.used, TABLES1 + 3 * LEAF);
    assert_int_equal(C.quota.used, TABLES1);
    destroy_all();
    assert_pool_back();
}

/* --- vspace_protect --------------------------------------------------------- */

/* Dropping rights on a page drops them on everything derived from it,
 * which always keeps READ; flags the derived mappings did not have are
 * not added, and raising a page again raises nothing derived from it. */
static void test_protect_reduces_derived(void **state)
{
    (void)state;
    task_new(&A, 1 << 20);
    task_new(&B, 1 << 20);
    task_new(&C, 1 << 20);
    task_new(&D, 1 << 20);
    assert_int_equal(vspace_map_boot(&A, V(0), frame(0), RWX), UK_OK);
    assert_int_equal(vspace_map(&A, V(0), &B, V(0), 1, RWX), UK_OK);
    assert_int_equal(vspace_map(&B, V(0), &C, V(0), 1, RW), UK_OK);
    assert_int_equal(vspace_map(&B, V(0), &D, V(0), 1, R | X), UK_OK);
    assert_int_equal(vspace_map(&C, V(0), &D, V(1), 1, W), UK_OK);
    assert_mapped(&D, V(1), frame(0), RW);      /* W implies R */

    assert_int_equal(vspace_protect(&A, V(0), 1, R | W), UK_OK);
    assert_mapped(&A, V(0), frame(0), RW);
    assert_mapped(&B, V(0), frame(0), RW);
    assert_mapped(&C, V(0), frame(0), RW);
    assert_mapped(&D, V(0), frame(0), R);       /* lost X */
    assert_mapped(&D, V(1), frame(0), RW);
    assert_granted(&B, V(0), RWX);              /* grants do not change */
    assert_granted(&D, V(0), R | X);

    assert_int_equal(vspace_protect(&B, V(0), 1, R), UK_OK);
    assert_mapped(&A, V(0), frame(0), RW);      /* the source keeps its own */
    assert_mapped(&B, V(0), frame(0), R);
    assert_mapped(&C, V(0), frame(0), R);
    assert_mapped(&D, V(0), frame(0), R);
    assert_mapped(&D, V(1), frame(0), R);       /* W gone: READ stays */
    assert_granted(&D, V(1), RW);
    assert_depth(&C, V(0), 2);                  /* protect keeps the depth */
    assert_depth(&D, V(0), 2);
    assert_depth(&D, V(1), 3);
    assert_int_equal(check_all(), 5);

    /* raising the root again does not raise what was derived */
    assert_int_equal(vspace_protect(&A, V(0), 1, RWX), UK_OK);
    assert_mapped(&A, V(0), frame(0), RWX);
    assert_mapped(&B, V(0), frame(0), R);
    assert_mapped(&C, V(0), frame(0), R);
    /* each can come back up to its own grant, one level at a time */
    assert_int_equal(vspace_protect(&C, V(0), 1, RW), UK_OK);
    assert_mapped(&C, V(0), frame(0), R);       /* B has only R */
    assert_int_equal(vspace_protect(&B, V(0), 1, RWX), UK_OK);
    assert_mapped(&B, V(0), frame(0), RWX);
    assert_int_equal(vspace_protect(&C, V(0), 1, RWX), UK_OK);
    assert_mapped(&C, V(0), frame(0), RW);      /* its grant: no X */
    assert_int_equal(vspace_protect(&D, V(1), 1, RWX), UK_OK);
    assert_mapped(&D, V(1), frame(0), RW);
    assert_int_equal(vspace_protect(&D, V(0), 1, RWX), UK_OK);
    assert_mapped(&D, V(0), frame(0), R | X);
    /* unmapped pages in the range are skipped */
    assert_int_equal(vspace_protect(&A, V(0), 5, R), UK_OK);
    assert_mapped(&A, V(0), frame(0), R);
    assert_mapped(&B, V(0), frame(0), R);
    assert_mapped(&C, V(0), frame(0), R);
    assert_mapped(&D, V(0), frame(0), R);
    assert_mapped(&D, V(1), frame(0), R);
    assert_int_equal(check_all(), 5);
    destroy_all();
    assert_pool_back();
}

/* A derived mapping cannot get a right its parent does not have now,
 * even one it was granted. */
static void test_protect_capped_by_parent(void **state)
{
    (void)state;
    task_new(&A, 1 << 20);
    task_new(&B, 1 << 20);
    task_new(&C, 1 << 20);
    assert_int_equal(vspace_map_boot(&A, V(0), frame(0), RWX), UK_OK);
    assert_int_equal(vspace_map(&A, V(0), &B, V(0), 1, RWX), UK_OK);
    assert_int_equal(vspace_map(&B, V(0), &C, V(0), 1, RWX), UK_OK);
    assert_int_equal(vspace_protect(&A, V(0), 1, R | X), UK_OK);
    assert_mapped(&B, V(0), frame(0), R | X);
    assert_mapped(&C, V(0), frame(0), R | X);
    assert_int_equal(vspace_protect(&B, V(0), 1, RWX), UK_OK);
    assert_mapped(&B, V(0), frame(0), R | X);   /* not W: A lacks it */
    assert_granted(&B, V(0), RWX);
    assert_int_equal(pte_of(&B, V(0)) & PTE_W, 0);
    assert_int_equal(vspace_protect(&C, V(0), 1, W), UK_OK);
    assert_mapped(&C, V(0), frame(0), R);       /* W asked: only the implied R */
    assert_int_equal(vspace_protect(&C, V(0), 1, RW), UK_OK);
    assert_mapped(&C, V(0), frame(0), R);
    assert_int_equal(vspace_protect(&C, V(0), 1, X), UK_OK);
    assert_mapped(&C, V(0), frame(0), R | X);   /* X alone: R | X */
    /* A gets W back: B can take it, then C */
    assert_int_equal(vspace_protect(&A, V(0), 1, RW), UK_OK);
    assert_mapped(&B, V(0), frame(0), R);       /* lost X with A */
    assert_mapped(&C, V(0), frame(0), R);
    assert_int_equal(vspace_protect(&C, V(0), 1, RW), UK_OK);
    assert_mapped(&C, V(0), frame(0), R);       /* B still lacks W */
    assert_int_equal(vspace_protect(&B, V(0), 1, RW), UK_OK);
    assert_mapped(&B, V(0), frame(0), RW);
    assert_int_equal(vspace_protect(&C, V(0), 1, RWX), UK_OK);
    assert_mapped(&C, V(0), frame(0), RW);
    assert_int_equal(check_all(), 3);
    destroy_all();
    assert_pool_back();
}

/* A read-only grant of a read-write page stays read-only: protect never
 * raises a mapping above what it was granted, even when its parent has
 * more.  Boot mappings are capped by their boot rights the same way. */
static void test_protect_capped_by_grant(void **state)
{
    (void)state;
    task_new(&A, 1 << 20);
    task_new(&B, 1 << 20);
    task_new(&C, 1 << 20);
    assert_int_equal(vspace_map_boot(&A, V(0), frame(0), RW), UK_OK);
    assert_int_equal(vspace_map(&A, V(0), &B, V(0), 1, R), UK_OK);
    assert_mapped(&B, V(0), frame(0), R);
    assert_granted(&B, V(0), R);
    static const word ask[] = {R, W, X, RW, R | X, W | X, RWX};
    for (usize i = 0; i < ARRAY_SIZE(ask); i++) {
        assert_int_equal(vspace_protect(&B, V(0), 1, ask[i]), UK_OK);
        assert_mapped(&B, V(0), frame(0), R);
        assert_int_equal(pte_of(&B, V(0)) & PTE_W, 0);
        assert_null(user_ptr(&B, V(0), 8, W));
        assert_int_equal(copy_to_user(&B, V(0), "x", 1), UK_E_ADDR);
        assert_granted(&B, V(0), R);
    }
    assert_mapped(&A, V(0), frame(0), RW);      /* the parent does have W */
    /* what derives from the read-only mapping is read-only too */
    assert_int_equal(vspace_map(&B, V(0), &C, V(0), 1, RWX), UK_OK);
    assert_mapped(&C, V(0), frame(0), R);
    assert_granted(&C, V(0), R);
    assert_int_equal(vspace_protect(&C, V(0), 1, RW), UK_OK);
    assert_mapped(&C, V(0), frame(0), R);

    /* an R | X grant of an RWX page: X can be dropped and taken back, W never */
    assert_int_equal(vspace_map_boot(&A, V(1), frame(1), RWX), UK_OK);
    assert_int_equal(vspace_map(&A, V(1), &B, V(1), 1, X), UK_OK);
    assert_mapped(&B, V(1), frame(1), R | X);
    assert_granted(&B, V(1), R | X);
    assert_int_equal(vspace_protect(&B, V(1), 1, RWX), UK_OK);
    assert_mapped(&B, V(1), frame(1), R | X);
    assert_int_equal(vspace_protect(&B, V(1), 1, W), UK_OK);
    assert_mapped(&B, V(1), frame(1), R);
    assert_int_equal(vspace_protect(&B, V(1), 1, W | X), UK_OK);
    assert_mapped(&B, V(1), frame(1), R | X);

    /* a boot mapping: no more than its boot rights */
    assert_int_equal(vspace_map_boot(&A, V(2), frame(2), R | X), UK_OK);
    assert_int_equal(vspace_protect(&A, V(2), 1, RWX), UK_OK);
    assert_mapped(&A, V(2), frame(2), R | X);
    assert_int_equal(pte_of(&A, V(2)) & PTE_W, 0);
    assert_int_equal(check_all(), 6);
    destroy_all();
    assert_pool_back();
}

/* Rights 0 (PROT_NONE): the PTE is not present but keeps its frame, the
 * node stays; the kernel will not touch the page, it cannot be given on,
 * derived mappings lose everything, and PROTECT brings its rights back. */
static void test_protect_none(void **state)
{
    (void)state;
    task_new(&A, 1 << 20);
    task_new(&B, 1 << 20);
    task_new(&C, 1 << 20);
    assert_int_equal(vspace_map_boot(&A, V(0), frame(0), RW), UK_OK);
    assert_int_equal(vspace_map(&A, V(0), &B, V(0), 1, RW), UK_OK);
    assert_int_equal(vspace_map(&B, V(0), &C, V(0), 1, RW), UK_OK);
    int nodes = check_all();
    word used = B.quota.used;
    assert_int_equal(vspace_protect(&B, V(0), 1, 0), UK_OK);
    assert_mapped(&B, V(0), frame(0), 0);
    assert_int_equal(pte_of(&B, V(0)) & PTE_P, 0);
    assert_mapped(&C, V(0), frame(0), 0);
    assert_null(user_ptr(&B, V(0), 8, R));
    assert_int_equal(vspace_map(&B, V(0), &C, V(1), 1, R), UK_E_NOT_MAPPED);
    assert_int_equal(B.quota.used, used);
    assert_int_equal(check_all(), nodes);
    assert_int_equal(vspace_protect(&B, V(0), 1, R), UK_OK);
    assert_mapped(&B, V(0), frame(0), R);
    assert_mapped(&C, V(0), frame(0), 0);       /* derived do not regain */
    assert_int_equal(vspace_protect(&C, V(0), 1, RW), UK_OK);
    assert_mapped(&C, V(0), frame(0), R);       /* not above its source */
    assert_int_equal(vspace_protect(&B, V(0), 1, RWX), UK_OK);
    assert_mapped(&B, V(0), frame(0), RW);      /* its grant */
    assert_ptr_equal(user_ptr(&B, V(0), 8, W), ram);
    /* unmapping a page with no access works as for any other */
    assert_int_equal(vspace_protect(&A, V(0), 1, 0), UK_OK);
    assert_mapped(&B, V(0), frame(0), 0);
    assert_int_equal(vspace_unmap(&A, V(0), 1), UK_OK);
    assert_unmapped(&B, V(0));
    assert_unmapped(&C, V(0));
    destroy_all();
    assert_pool_back();
}

/* Lowering a mapping and raising it again gives back what was granted
 * (while the source still has it), and no more. */
static void test_protect_back_to_grant(void **state)
{
    (void)state;
    task_new(&A, 1 << 20);
    task_new(&B, 1 << 20);
    assert_int_equal(vspace_map_boot(&A, V(0), frame(0), RWX), UK_OK);
    assert_int_equal(vspace_map_boot(&A, V(1), frame(1), RWX), UK_OK);
    assert_int_equal(vspace_map(&A, V(0), &B, V(0), 1, RWX), UK_OK);
    assert_int_equal(vspace_map(&A, V(1), &B, V(1), 1, RW), UK_OK);
    assert_granted(&B, V(0), RWX);
    assert_granted(&B, V(1), RW);

    assert_int_equal(vspace_protect(&B, V(0), 2, R), UK_OK);
    assert_mapped(&B, V(0), frame(0), R);
    assert_mapped(&B, V(1), frame(1), R);
    assert_int_equal(vspace_protect(&B, V(0), 2, RW), UK_OK);
    assert_mapped(&B, V(0), frame(0), RW);
    assert_mapped(&B, V(1), frame(1), RW);
    assert_ptr_equal(user_ptr(&B, V(1), 8, W), ram + PAGE_SIZE);
    assert_int_equal(vspace_protect(&B, V(0), 2, R | X), UK_OK);
    assert_mapped(&B, V(0), frame(0), R | X);
    assert_mapped(&B, V(1), frame(1), R);       /* never granted X */
    assert_int_equal(vspace_protect(&B, V(0), 2, RWX), UK_OK);
    assert_mapped(&B, V(0), frame(0), RWX);     /* all of its grant again */
    assert_mapped(&B, V(1), frame(1), RW);
    assert_granted(&B, V(0), RWX);
    assert_granted(&B, V(1), RW);

    /* a boot mapping too */
    assert_int_equal(vspace_protect(&A, V(1), 1, R), UK_OK);
    assert_mapped(&A, V(1), frame(1), R);
    assert_mapped(&B, V(1), frame(1), R);       /* lost W with its source */
    assert_int_equal(vspace_protect(&A, V(1), 1, RWX), UK_OK);
    assert_mapped(&A, V(1), frame(1), RWX);
    assert_mapped(&B, V(1), frame(1), R);       /* not raised with it */
    assert_int_equal(vspace_protect(&B, V(1), 1, RWX), UK_OK);
    assert_mapped(&B, V(1), frame(1), RW);
    assert_int_equal(check_all(), 4);
    destroy_all();
    assert_pool_back();
}

/* Write or execute alone imply read: a map asking W gets R | W, X gets
 * R | X (less what the source lacks, READ always kept); so does protect. */
static void test_rights_imply_read(void **state)
{
    (void)state;
    task_new(&A, 1 << 20);
    task_new(&B, 1 << 20);
    assert_int_equal(vspace_map_boot(&A, V(0), frame(0), RWX), UK_OK);
    assert_int_equal(vspace_map_boot(&A, V(1), frame(1), R), UK_OK);

    assert_int_equal(vspace_map(&A, V(0), &B, V(0), 1, W), UK_OK);
    assert_mapped(&B, V(0), frame(0), RW);
    assert_granted(&B, V(0), RW);
    assert_int_equal(pte_of(&B, V(0)) & (PTE_W | PTE_NX), PTE_W | PTE_NX);
    assert_int_equal(vspace_map(&A, V(0), &B, V(1), 1, X), UK_OK);
    assert_mapped(&B, V(1), frame(0), R | X);
    assert_granted(&B, V(1), R | X);
    assert_int_equal(pte_of(&B, V(1)) & (PTE_W | PTE_NX), 0);
    assert_int_equal(vspace_map(&A, V(0), &B, V(2), 1, W | X), UK_OK);
    assert_mapped(&B, V(2), frame(0), RWX);
    assert_int_equal(vspace_map(&A, V(0), &B, V(3), 1, R), UK_OK);
    assert_mapped(&B, V(3), frame(0), R);
    /* from a read-only source: only the implied READ */
    assert_int_equal(vspace_map(&A, V(1), &B, V(4), 1, W), UK_OK);
    assert_mapped(&B, V(4), frame(1), R);
    assert_granted(&B, V(4), R);
    assert_int_equal(vspace_map(&A, V(1), &B, V(5), 1, X), UK_OK);
    assert_mapped(&B, V(5), frame(1), R);
    assert_int_equal(vspace_map(&A, V(1), &B, V(6), 1, W | X), UK_OK);
    assert_mapped(&B, V(6), frame(1), R);

    /* protect: W alone keeps R, X alone keeps R */
    assert_int_equal(vspace_protect(&B, V(2), 1, W), UK_OK);
    assert_mapped(&B, V(2), frame(0), RW);
    assert_int_equal(vspace_protect(&B, V(2), 1, X), UK_OK);
    assert_mapped(&B, V(2), frame(0), R | X);
    assert_int_equal(vspace_protect(&B, V(2), 1, W | X), UK_OK);
    assert_mapped(&B, V(2), frame(0), RWX);
    assert_int_equal(vspace_protect(&A, V(0), 1, W), UK_OK);
    assert_mapped(&A, V(0), frame(0), RW);
    assert_mapped(&B, V(1), frame(0), R);       /* lost X, kept R */
    assert_mapped(&B, V(2), frame(0), RW);
    assert_int_equal(vspace_protect(&A, V(0), 1, X), UK_OK);
    assert_mapped(&A, V(0), frame(0), R | X);
    assert_mapped(&B, V(0), frame(0), R);       /* lost W, kept R */
    assert_mapped(&B, V(2), frame(0), R);
    assert_int_equal(check_all(), 9);
    destroy_all();
    assert_pool_back();
}

/* --- argument errors -------------------------------------------------------- */

/* Ranges: unaligned, 0 or too many pages -> UK_E_INVAL; at or past
 * UK_USER_MAP_TOP, or crossing it -> UK_E_ADDR.  Nothing changes. */
static void test_range_errors(void **state)
{
    (void)state;
    task_new(&A, 1 << 20);
    task_new(&B, 1 << 20);
    assert_int_equal(vspace_map_boot(&A, V(0), frame(0), RW), UK_OK);
    assert_int_equal(vspace_map_boot(&A, UK_USER_MAP_TOP - PAGE_SIZE, frame(1), RW), UK_OK);
    int nodes = check_all();
    word b_used = B.quota.used;
    static const struct { word va, n; int err; } bad[] = {
        { V(0) + 1, 1, UK_E_INVAL },
        { V(0) + 0x800, 1, UK_E_INVAL },
        { V(0), 0, UK_E_INVAL },
        { V(0), UK_MAP_MAX_PAGES + 1, UK_E_INVAL },
        { V(0), 0x40000, UK_E_INVAL },                      /* the old limit (1 GiB) */
        { V(0), ~(word)0, UK_E_INVAL },
        { UK_USER_MAP_TOP, 1, UK_E_ADDR },
        { UK_USER_HALF_END, 1, UK_E_ADDR },
        { KERNEL_BASE, 1, UK_E_ADDR },
        { ~(word)0 & PAGE_MASK, 1, UK_E_ADDR },
        { UK_USER_MAP_TOP - PAGE_SIZE, 2, UK_E_ADDR },          /* crosses */
        { UK_USER_MAP_TOP - 4 * PAGE_SIZE, 5, UK_E_ADDR },
    };
    for (usize i = 0; i < ARRAY_SIZE(bad); i++) {
        word va = bad[i].va, n = bad[i].n;
        assert_int_equal(vspace_map(&A, va, &B, V(0), n, R), bad[i].err);   /* source */
        assert_int_equal(vspace_map(&A, V(0), &B, va, n, R), bad[i].err);   /* destination */
        assert_int_equal(vspace_unmap(&A, va, n), bad[i].err);
        assert_int_equal(vspace_protect(&A, va, n, R), bad[i].err);
    }
    assert_int_equal(check_all(), nodes);
    assert_int_equal(B.quota.used, b_used);
    assert_mapped(&A, V(0), frame(0), RW);
    assert_mapped(&A, UK_USER_MAP_TOP - PAGE_SIZE, frame(1), RW);

    /* the last page below UK_USER_MAP_TOP is fine, and UK_MAP_MAX_PAGES is
     * a valid count (unmapping that many pages that are not there) */
    assert_int_equal(vspace_map(&A, UK_USER_MAP_TOP - PAGE_SIZE, &B, UK_USER_MAP_TOP - PAGE_SIZE,
                                1, R), UK_OK);
    assert_mapped(&B, UK_USER_MAP_TOP - PAGE_SIZE, frame(1), R);
    assert_int_equal(vspace_unmap(&B, 0, UK_MAP_MAX_PAGES), UK_OK);
    assert_int_equal(vspace_protect(&B, 0, UK_MAP_MAX_PAGES, R), UK_OK);
    destroy_all();
    assert_pool_back();
}

/* UK_MAP_MAX_PAGES (256 MiB) pages in one call: a map of exactly that
 * many succeeds, one page more is refused before anything is done (for
 * unmap and protect too). */
static void test_map_max_pages(void **state)
{
    (void)state;
    enum { MAXP = UK_MAP_MAX_PAGES };
    _Static_assert(UK_MAP_MAX_PAGES == 0x10000, "abi.h: 256 MiB per call");
    _Static_assert((word)UK_MAP_MAX_PAGES * PAGE_SIZE == 256ul << 20, "256 MiB per call");
    task_new(&A, 1 << 24);
    task_new(&B, 1 << 24);
    for (word i = 0; i <= MAXP; i++)            /* one page more than a call takes */
        assert_int_equal(vspace_map_boot(&A, V(i), frame(i % RAM_PAGES), RW), UK_OK);
    assert_int_equal(vspace_map_boot(&B, V(MAXP), frame(5), RW), UK_OK);
    static struct snap before, after;
    word b_used = B.quota.used;
    snapshot(&before);
    assert_int_equal(vspace_map(&A, V(0), &B, V(0), MAXP + 1, RW), UK_E_INVAL);
    assert_int_equal(vspace_map(&A, V(1), &B, V(1), MAXP + 1, R), UK_E_INVAL);
    assert_int_equal(vspace_unmap(&A, V(0), MAXP + 1), UK_E_INVAL);
    assert_int_equal(vspace_protect(&A, V(0), MAXP + 1, R), UK_E_INVAL);
    snapshot(&after);
    assert_memory_equal(&before, &after, sizeof before);
    assert_int_equal(B.quota.used, b_used);
    assert_null(node_at(&A, V(0))->child);
    assert_mapped(&B, V(MAXP), frame(5), RW);

    /* exactly UK_MAP_MAX_PAGES, onto B's V(1) .. V(MAXP): replaces B's V(MAXP) */
    assert_int_equal(vspace_map(&A, V(1), &B, V(1), MAXP, R), UK_OK);
    assert_unmapped(&B, V(0));
    for (word i = 1; i <= MAXP; i += i < 8 || i > MAXP - 8 ? 1 : 997) {
        assert_mapped(&B, V(i), frame(i % RAM_PAGES), R);
        assert_depth(&B, V(i), 1);
    }
    assert_int_equal(check_all(), 2 * MAXP + 1);
    assert_int_equal(vspace_protect(&A, V(1), MAXP, R), UK_OK);  /* all of A's but V(0) */
    assert_mapped(&A, V(0), frame(0), RW);
    assert_mapped(&A, V(1), frame(1), R);
    assert_mapped(&A, V(MAXP), frame(MAXP % RAM_PAGES), R);
    assert_int_equal(vspace_unmap(&A, V(0), MAXP), UK_OK);       /* all but V(MAXP) */
    assert_mapped(&A, V(MAXP), frame(MAXP % RAM_PAGES), R);
    assert_mapped(&B, V(MAXP), frame(MAXP % RAM_PAGES), R);
    assert_unmapped(&B, V(MAXP - 1));
    assert_int_equal(check_all(), 2);
    destroy_all();
    assert_pool_back();
}

/* Rights must be a non-empty subset of RWX for map and protect, in the
 * whole word (bits above 31 are not cut off). */
static void test_rights_errors(void **state)
{
    (void)state;
    task_new(&A, 1 << 20);
    task_new(&B, 1 << 20);
    assert_int_equal(vspace_map_boot(&A, V(0), frame(0), RW), UK_OK);
    assert_int_equal(vspace_map(&A, V(0), &B, V(1), 1, R), UK_OK);
    int nodes = check_all();
    word b_used = B.quota.used;
    static const word bad[] = {
        0, 8, RW | 8, 0x10, ~0u, ~(word)0,
        (word)1 << 32, RW | (word)1 << 32, R | (word)1 << 32, (word)1 << 63, RWX | (word)1 << 63,
    };
    for (usize i = 0; i < ARRAY_SIZE(bad); i++) {
        assert_int_equal(vspace_map(&A, V(0), &B, V(0), 1, bad[i]), UK_E_INVAL);
        if (bad[i] == 0)
            continue;                               /* protect: no access (valid) */
        assert_int_equal(vspace_protect(&A, V(0), 1, bad[i]), UK_E_INVAL);
        assert_int_equal(vspace_protect(&B, V(1), 1, bad[i]), UK_E_INVAL);
    }
    assert_unmapped(&B, V(0));
    assert_int_equal(B.quota.used, b_used);
    assert_mapped(&A, V(0), frame(0), RW);
    assert_mapped(&B, V(1), frame(0), R);
    assert_granted(&B, V(1), R);
    assert_int_equal(check_all(), nodes);
    destroy_all();
    assert_pool_back();
}

/* A source range with any page not mapped is refused before anything is
 * done: the destination keeps its old mappings. */
static void test_source_not_mapped(void **state)
{
    (void)state;
    task_new(&A, 1 << 20);
    task_new(&B, 1 << 20);
    assert_int_equal(vspace_map_boot(&A, V(0), frame(0), RW), UK_OK);
    assert_int_equal(vspace_map_boot(&A, V(2), frame(2), RW), UK_OK);
    assert_int_equal(vspace_map_boot(&B, V(10), frame(10), RW), UK_OK);
    assert_int_equal(vspace_map_boot(&B, V(12), frame(12), RW), UK_OK);
    word b_used = B.quota.used;
    assert_int_equal(vspace_map(&A, V(0), &B, V(10), 3, R), UK_E_NOT_MAPPED);  /* hole */
    assert_int_equal(vspace_map(&A, V(1), &B, V(10), 1, R), UK_E_NOT_MAPPED);
    assert_int_equal(vspace_map(&A, V(2), &B, V(10), 2, R), UK_E_NOT_MAPPED);  /* tail */
    assert_int_equal(vspace_map(&A, FAR, &B, V(10), 1, R), UK_E_NOT_MAPPED);   /* no table */
    assert_mapped(&B, V(10), frame(10), RW);
    assert_unmapped(&B, V(11));
    assert_mapped(&B, V(12), frame(12), RW);
    assert_int_equal(B.quota.used, b_used);
    assert_null(node_at(&A, V(0))->child);
    assert_int_equal(check_all(), 4);
    destroy_all();
    assert_pool_back();
}

/* Within one task the source and destination ranges must not overlap. */
static void test_self_map_overlap(void **state)
{
    (void)state;
    task_new(&A, 1 << 20);
    for (int i = 0; i < 4; i++)
        assert_int_equal(vspace_map_boot(&A, V(i), frame(i), RW), UK_OK);
    assert_int_equal(vspace_map(&A, V(0), &A, V(0), 1, R), UK_E_INVAL);
    assert_int_equal(vspace_map(&A, V(0), &A, V(1), 2, R), UK_E_INVAL);
    assert_int_equal(vspace_map(&A, V(1), &A, V(0), 2, R), UK_E_INVAL);
    assert_int_equal(vspace_map(&A, V(0), &A, V(3), 4, R), UK_E_INVAL);
    assert_int_equal(vspace_map(&A, V(3), &A, V(0), 4, R), UK_E_INVAL);
    assert_int_equal(check_all(), 4);
    for (int i = 0; i < 4; i++)
        assert_mapped(&A, V(i), frame(i), RW);
    /* adjacent is fine */
    assert_int_equal(vspace_map(&A, V(0), &A, V(2), 2, R), UK_OK);
    assert_mapped(&A, V(2), frame(0), R);
    assert_mapped(&A, V(3), frame(1), R);
    assert_unmapped(&A, V(4));
    destroy_all();
    assert_pool_back();
}

/* --- TLB flushes -------------------------------------------------------------- */

/* Changing or removing a mapping of the loaded address space flushes the
 * page; other address spaces and new mappings need no flush. */
static void test_flushes(void **state)
{
    (void)state;
    task_new(&A, 1 << 20);
    task_new(&B, 1 << 20);
    assert_int_equal(vspace_map_boot(&A, V(0), frame(0), RW), UK_OK);
    vspace_activate(&B);
    assert_int_equal(cr3, B.pml4_phys);
    assert_ptr_equal(active_vspace, &B);
    assert_int_equal(kstats.as_switches, 1);
    assert_int_equal(vspace_map(&A, V(0), &B, V(3), 1, RW), UK_OK);
    assert_int_equal(flushes, 0);               /* new mapping */
    assert_int_equal(vspace_protect(&B, V(3), 1, R), UK_OK);
    assert_int_equal(flushes, 1);
    assert_int_equal(last_flush_va, V(3));
    assert_int_equal(vspace_protect(&A, V(0), 1, R), UK_OK);
    assert_int_equal(flushes, 1);               /* A's page: not loaded; B's unchanged */
    assert_int_equal(vspace_unmap(&A, V(0), 1), UK_OK);     /* revokes B's */
    assert_int_equal(flushes, 2);
    assert_int_equal(last_flush_va, V(3));
    assert_int_equal(kstats.tlb_flushes, flushes);
    destroy_all();                              /* B was loaded: kernel tables now */
    assert_null(active_vspace);
    assert_int_equal(cr3, kernel_pml4_phys);
    assert_pool_back();
}

/* Only a present PTE that changed is flushed, and a call past 32 pages
 * reloads cr3 once instead (one tlb_flushes); pages of a piece are flushed
 * by the time the call returns. */
static void test_flush_batching(void **state)
{
    (void)state;
    task_new(&A, 1 << 20);
    for (int i = 0; i < 40; i++)
        assert_int_equal(vspace_map_boot(&A, V(i), frame(i), RW), UK_OK);
    vspace_activate(&A);
    flushes = full_flushes = 0;
    kstats.tlb_flushes = 0;
    assert_int_equal(vspace_protect(&A, V(0), 40, RW), UK_OK);
    assert_int_equal(flushes + full_flushes, 0);          /* nothing changed */
    assert_int_equal(vspace_protect(&A, V(0), 32, R), UK_OK);
    assert_int_equal(flushes, 32);                        /* 32: each page */
    assert_int_equal(full_flushes, 0);
    assert_int_equal(vspace_protect(&A, V(0), 40, 0), UK_OK);
    assert_int_equal(flushes, 32);                        /* 40: one reload */
    assert_int_equal(full_flushes, 1);
    assert_int_equal(vspace_protect(&A, V(0), 2, RW), UK_OK);
    assert_int_equal(flushes + full_flushes, 33);         /* were not present */
    assert_int_equal(vspace_unmap(&A, V(0), 40), UK_OK);  /* 2 present, 38 not */
    assert_int_equal(flushes, 34);
    assert_int_equal(full_flushes, 1);
    assert_int_equal(kstats.tlb_flushes, flushes + full_flushes);
    assert_int_equal(pending.n, 0);
    destroy_all();
    assert_pool_back();
}

/* --- vspace_destroy ----------------------------------------------------------- */

/* Destroying a task frees all its tables and nodes and every mapping other
 * tasks derived from it; what it derived from others goes off their lists. */
static void test_destroy(void **state)
{
    (void)state;
    task_new(&A, 1 << 22);
    task_new(&B, 1 << 22);
    task_new(&C, 1 << 22);
    task_new(&D, 1 << 22);
    for (int i = 0; i < 8; i++)
        assert_int_equal(vspace_map_boot(&A, V(i), frame(i), RW), UK_OK);
    assert_int_equal(vspace_map(&A, V(0), &B, V(0), 8, RW), UK_OK);
    assert_int_equal(vspace_map(&A, V(0), &B, FAR, 4, R), UK_OK);     /* more tables */
    assert_int_equal(vspace_map(&B, V(0), &C, V(100), 4, RW), UK_OK);
    assert_int_equal(vspace_map(&B, FAR, &D, V(200), 2, R), UK_OK);
    assert_int_equal(vspace_map(&B, V(4), &B, V(300), 2, RW), UK_OK);  /* B from B */
    assert_int_equal(vspace_map(&B, V(300), &A, V(400), 1, RW), UK_OK);/* back in A */
    assert_int_equal(vspace_map(&A, V(7), &C, V(7), 1, R), UK_OK);     /* not via B */
    assert_int_equal(check_all(), 8 + 8 + 4 + 4 + 2 + 2 + 1 + 1);

    vspace_destroy(&B);
    assert_null(B.pml4);
    assert_int_equal(B.quota.used, 0);
    for (int i = 0; i < 4; i++)
        assert_unmapped(&C, V(100 + i));
    assert_unmapped(&D, V(200));
    assert_unmapped(&D, V(201));
    assert_unmapped(&A, V(400));
    for (int i = 0; i < 8; i++) {
        assert_mapped(&A, V(i), frame(i), RW);
        assert_int_equal(nchildren(&A, V(i)), i == 7 ? 1 : 0);
    }
    assert_mapped(&C, V(7), frame(7), R);
    assert_int_equal(C.quota.used, TABLES1 + NODE);     /* V(7) only */
    assert_int_equal(check_all(), 8 + 1);

    vspace_destroy(&A);                         /* takes C's V(7) with it */
    assert_unmapped(&C, V(7));
    assert_int_equal(check_all(), 0);
    vspace_destroy(&C);
    vspace_destroy(&D);
    assert_int_equal(C.quota.used + D.quota.used, 0);
    assert_pool_back();
}

/* A task whose mappings derive from its own pages across several tables,
 * the derived ones in tables freed before or after their parent's. */
static void test_destroy_self_derived(void **state)
{
    (void)state;
    task_new(&A, 1 << 22);
    task_new(&B, 1 << 22);
    assert_int_equal(vspace_map_boot(&A, V(0), frame(0), RW), UK_OK);
    assert_int_equal(vspace_map_boot(&A, FAR, frame(1), RW), UK_OK);
    assert_int_equal(vspace_map(&A, V(0), &A, FAR + PAGE_SIZE, 1, RW), UK_OK);  /* later table */
    assert_int_equal(vspace_map(&A, FAR, &A, V(1), 1, RW), UK_OK);              /* earlier table */
    assert_int_equal(vspace_map(&A, V(1), &B, V(5), 1, RW), UK_OK);
    assert_int_equal(vspace_map(&B, V(5), &A, V(2000), 1, RW), UK_OK);          /* via B */
    assert_int_equal(check_all(), 6);
    vspace_destroy(&A);
    assert_int_equal(check_all(), 0);
    vspace_destroy(&B);
    assert_pool_back();
}

/* --- quota exhaustion --------------------------------------------------------- */

/* No room for a table or a node: UK_E_NOMEM, and a multi-page map undoes
 * the pages it had mapped, leaving the destination as it was. */
static void test_quota_nomem(void **state)
{
    (void)state;
    task_new(&A, 1 << 20);
    for (int i = 0; i < 4; i++)
        assert_int_equal(vspace_map_boot(&A, V(i), frame(i), RW), UK_OK);

    /* room for the pml4 and a pdpt only: the pd cannot be made */
    task_new(&B, 2 * PT);
    assert_int_equal(vspace_map(&A, V(0), &B, V(0), 1, R), UK_E_NOMEM);
    assert_unmapped(&B, V(0));
    assert_int_equal(B.quota.used, 2 * PT);     /* the pdpt stays, charged */
    vspace_destroy(&B);

    /* room for the tables and exactly two nodes */
    task_new(&B, TABLES1 + 2 * NODE);
    assert_int_equal(vspace_map_boot(&B, V(11), frame(11), RW), UK_OK);   /* one node */
    assert_int_equal(B.quota.used, TABLES1 + NODE);
    assert_int_equal(vspace_map(&A, V(0), &B, V(20), 1, R), UK_OK);       /* the second */
    assert_int_equal(vspace_unmap(&B, V(20), 1), UK_OK);
    assert_int_equal(vspace_map(&A, V(0), &B, V(8), 4, R), UK_E_NOMEM);   /* 2nd page fails */
    for (int i = 0; i < 3; i++)                 /* V(11) was B's own */
        assert_unmapped(&B, V(8 + i));
    for (int i = 0; i < 4; i++)
        assert_null(node_at(&A, V(i))->child);
    assert_int_equal(B.quota.used, TABLES1 + NODE);
    assert_mapped(&B, V(11), frame(11), RW);
    assert_int_equal(check_all(), 5);

    /* first page fails: nothing to undo */
    B.quota.limit = TABLES1 + NODE;
    assert_int_equal(vspace_map(&A, V(0), &B, V(0), 2, R), UK_E_NOMEM);
    assert_unmapped(&B, V(0));
    assert_int_equal(B.quota.used, TABLES1 + NODE);
    /* the source is never charged */
    A.quota.limit = A.quota.used;
    B.quota.limit = 1 << 20;
    assert_int_equal(vspace_map(&A, V(0), &B, V(0), 4, R), UK_OK);
    assert_int_equal(check_all(), 9);
    destroy_all();
    assert_pool_back();
}

/* --- everything at once --------------------------------------------------------- */

static u64 seed = 4242;
static unsigned rnd(unsigned n)
{
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    return (unsigned)(seed >> 33) % n;
}

/* What vspace_map(s, sva, d, dva, n, ask) may answer, from the model:
 * argument errors first (count, rights, overlap within a task: INVAL);
 * else each page's problems: its source not mapped (NOT_MAPPED), already
 * UK_MAP_MAX_DEPTH deep, by counting its ancestors (INVAL), or deriving
 * from a destination page (BUSY).  Returns UK_OK if there is none, else
 * the set of allowed errors as flags (E_ARGS alone for an argument error). */
enum { E_NOT_MAPPED = 1, E_DEEP = 2, E_BUSY = 4, E_ARGS = 8 };
static int map_problems(struct task *s, word sva, struct task *d, word dva, word n, word ask)
{
    if (n == 0 || n > UK_MAP_MAX_PAGES || ask == 0 || (ask & ~(word)RWX))
        return E_ARGS;
    word end = dva + n * PAGE_SIZE;
    if (s == d && sva < end && dva < sva + n * PAGE_SIZE)
        return E_ARGS;
    int set = 0;
    for (word i = 0; i < n; i++) {
        struct mapping *f = node_at(s, sva + i * PAGE_SIZE);
        if (!f || !node_rights(f)) {            /* protected to nothing: not given */
            set |= E_NOT_MAPPED;
            continue;
        }
        if (ancestors(f) >= UK_MAP_MAX_DEPTH)
            set |= E_DEEP;
        for (struct mapping *a = f; a; a = a->parent)
            if (a->task == d && node_va(a) >= dva && node_va(a) < end)
                set |= E_BUSY;
    }
    return set;
}

/* The watched node of greatest depth (the first found of them), or NULL. */
static struct mapping *deepest(void)
{
    struct mapping *best = NULL;
    for (int t = 0; t < 4; t++)
        if (all[t]->pml4)
            for (int k = 0; k < WATCH; k++) {
                struct mapping *m = node_at(all[t], watch_va(k));
                if (m && (!best || node_depth(m) > node_depth(best)))
                    best = m;
            }
    return best;
}

/* Random maps, unmaps, protects and destroys among four tasks over 32
 * pages in two regions.  After every step the database must be consistent
 * (check_all), successful maps and protects must have the promised effect
 * (map: (rights | READ) & the source's rights, granted as such, one deeper
 * than the source; protect: (rights | READ) & the grant & the parent's
 * rights, depth kept) and failed ones none, with an error the model allows
 * (map_problems: a source page already UK_MAP_MAX_DEPTH deep gives
 * UK_E_INVAL); at the end the pool is back where it started.  In every
 * thousand operations, 300 mostly extend the deepest chain, so that chains
 * reach the depth limit often; now and then a range is UK_MAP_MAX_PAGES
 * long (valid) or one page longer (UK_E_INVAL). */
static void test_random(void **state)
{
    (void)state;
    enum { OPS = 12000 };
    for (int t = 0; t < 4; t++) {
        task_new(all[t], 1 << 24);
        for (int k = 0; k < WATCH; k += t + 1)  /* A full, the others sparser */
            assert_int_equal(vspace_map_boot(all[t], watch_va(k), frame(k), RWX), UK_OK);
    }
    int ok = 0, busy = 0, notmapped = 0, inval = 0, toodeep = 0, at_max = 0, big = 0;
    unsigned max_seen = 0;
    /* rights no call may take: none, unknown bits, bits above 31 */
    static const word bad_rights[] = {0, 8, RW | 8, (word)1 << 32, RWX | (word)1 << 32,
                                      (word)1 << 63, ~(word)0};
    static struct snap before, after;
    for (int op = 0; op < OPS; op++) {
        struct task *s = all[rnd(4)], *d = all[rnd(4)];
        if (!s->pml4 || !d->pml4) {             /* re-create a destroyed task */
            task_new(s->pml4 ? d : s, 1 << 24);
            continue;
        }
        bool deep_phase = op % 1000 >= 700;
        int n = rnd(2) ? 1 : 2 + rnd(2);        /* a range within one region */
        int k1 = 16 * rnd(2) + rnd(17 - n), k2 = 16 * rnd(2) + rnd(17 - n);
        unsigned rights = 1 + rnd(7);           /* any valid request, W or X alone too */
        /* one call in 16 asks for rights that are invalid */
        bool bad = rnd(16) == 0;
        word ask = bad ? bad_rights[rnd(ARRAY_SIZE(bad_rights))] : rights;
        int kind = rnd(16);
        if (deep_phase && rnd(16))
            kind = 16;                          /* deepen */
        /* one call in 32 spans UK_MAP_MAX_PAGES pages, or one more: the
         * watched pages from k1 (or k2) to the region's end, then pages
         * never mapped */
        word npages = n;
        if (kind != 16 && rnd(32) == 0) {
            npages = UK_MAP_MAX_PAGES + rnd(2);
            big++;
        }
        int last = (int)(npages < (word)(16 - k1 % 16) ? npages : (word)(16 - k1 % 16));
        struct mapping *dn;
        if (kind == 16) {                       /* map from the deepest node */
            if (!(dn = deepest()))
                continue;
            s = dn->task;
            if (rnd(4))
                n = 1;
            int k = watch_index(node_va(dn)), off = k % 16;
            int lo = off - n + 1 > 0 ? off - n + 1 : 0, hi = off < 16 - n ? off : 16 - n;
            k1 = k - off + lo + (int)rnd(hi - lo + 1);   /* a range that includes it */
            last = n;
            kind = 4;
        }
        word sva = watch_va(k1), dva = watch_va(k2);
        switch (kind) {
        case 0: case 1: case 2: case 3:         /* boot mapping: the kernel always gives R */
            if (deep_phase && rnd(4))
                break;
            assert_int_equal(vspace_map_boot(s, sva, frame(rnd(RAM_PAGES)), rights | R), UK_OK);
            assert_int_equal(node_grant(node_at(s, sva)), rights | R);
            assert_int_equal(node_depth(node_at(s, sva)), 0);
            break;
        case 4: case 5: case 6: case 7: case 8: case 9: case 10: case 11: {
            /* a quarter of the maps of a derived page aim at a range
             * holding one of its ancestors, which must be refused */
            struct mapping *a = node_at(s, sva + rnd(last) * PAGE_SIZE);
            if (a && a->parent && rnd(4) == 0) {
                do
                    a = a->parent;
                while (a->parent && rnd(2));
                d = a->task;
                /* a range in a's region that includes a */
                int k = watch_index(node_va(a)), off = k % 16;
                int lo = off - n + 1 > 0 ? off - n + 1 : 0, hi = off < 16 - n ? off : 16 - n;
                k2 = k - off + lo + (int)rnd(hi - lo + 1);
                dva = watch_va(k2);
            }
            int problems = map_problems(s, sva, d, dva, npages, ask);
            snapshot(&before);
            int err = vspace_map(s, sva, d, dva, npages, ask);
            snapshot(&after);
            if (err == UK_OK) {
                ok++;
                assert_int_equal(problems, 0);
                assert_false(bad);
                assert_true(npages <= 3);
                int si = task_index(s), di = task_index(d);
                for (int i = 0; i < n; i++) {
                    u64 spte = before.pte[si][k1 + i];
                    struct mapping *from = before.node[si][k1 + i];
                    unsigned have = node_rights(from);
                    unsigned want = (rights | R) & have;
                    assert_int_equal(have & R, R);
                    assert_int_equal(after.pte[di][k2 + i],
                                     (spte & PTE_ADDR) | pte_bits(want));
                    struct mapping *m = after.node[di][k2 + i];
                    assert_ptr_equal(m->parent, from);
                    assert_int_equal(node_rights(m), want);
                    assert_int_equal(node_grant(m), want);
                    assert_int_equal(node_depth(m), node_depth(from) + 1);
                    assert_true(node_depth(m) <= UK_MAP_MAX_DEPTH);
                    at_max += node_depth(m) == UK_MAP_MAX_DEPTH;
                    if (node_depth(m) > max_seen)
                        max_seen = node_depth(m);
                    assert_int_equal(after.pte[si][k1 + i], spte);
                    assert_int_equal(after.va[si][k1 + i], before.va[si][k1 + i]);
                }
            } else {
                assert_memory_equal(&before, &after, sizeof before);
                assert_int_not_equal(problems, 0);
                switch (err) {
                case UK_E_BUSY:
                    busy++;
                    assert_true(problems & E_BUSY);
                    break;
                case UK_E_NOT_MAPPED:
                    notmapped++;
                    assert_true(problems & E_NOT_MAPPED);
                    break;
                case UK_E_INVAL:
                    assert_true(problems & (E_ARGS | E_DEEP));
                    inval += bad;
                    toodeep += problems == E_DEEP;
                    break;
                default:
                    fail_msg("vspace_map: unexpected error %d", err);
                }
                /* argument errors come first; too deep and nothing else */
                if (problems == E_ARGS || problems == E_DEEP)
                    assert_int_equal(err, UK_E_INVAL);
                if (bad || npages > UK_MAP_MAX_PAGES)
                    assert_int_equal(problems, E_ARGS);
            }
            break;
        }
        case 12:
            if (npages > UK_MAP_MAX_PAGES) {
                snapshot(&before);
                assert_int_equal(vspace_unmap(s, sva, npages), UK_E_INVAL);
                snapshot(&after);
                assert_memory_equal(&before, &after, sizeof before);
                break;
            }
            assert_int_equal(vspace_unmap(s, sva, npages), UK_OK);
            for (int i = 0; i < last; i++)
                assert_null(node_at(s, sva + i * PAGE_SIZE));
            break;
        case 13: case 14:
            if ((bad && ask != 0) || npages > UK_MAP_MAX_PAGES) {   /* 0: no access, valid */
                snapshot(&before);
                assert_int_equal(vspace_protect(s, sva, npages, ask), UK_E_INVAL);
                snapshot(&after);
                assert_memory_equal(&before, &after, sizeof before);
                inval += bad;
                break;
            }
            snapshot(&before);
            assert_int_equal(vspace_protect(s, sva, npages, ask), UK_OK);
            snapshot(&after);
            for (int t = 0; t < 4; t++) {       /* only rights change */
                assert_int_equal(after.used[t], before.used[t]);
                for (int k = 0; k < WATCH; k++) {
                    assert_ptr_equal(after.node[t][k], before.node[t][k]);
                    assert_int_equal(after.va[t][k] & ~(word)RWX, before.va[t][k] & ~(word)RWX);
                }
            }
            for (int i = 0; i < last; i++) {
                struct mapping *m = node_at(s, sva + i * PAGE_SIZE);
                if (!m)
                    continue;
                unsigned want = (ask ? ask | R : 0) & node_grant(m) &
                                (m->parent ? node_rights(m->parent) : RWX);
                assert_true(want == 0 || (want & R));
                /* a later page of the range that m derives from may have
                 * reduced m again */
                bool later = false;
                for (struct mapping *p = m->parent; p; p = p->parent)
                    later |= p->task == s && node_va(p) > node_va(m) &&
                             node_va(p) < sva + npages * PAGE_SIZE;
                if (later)
                    assert_int_equal(node_rights(m) & ~want, 0);
                else
                    assert_int_equal(node_rights(m), want);
            }
            break;
        default:
            if (!deep_phase && rnd(4) == 0)     /* destroys are rarer still */
                vspace_destroy(s);
            break;
        }
        check_all();
    }
    /* all paths taken */
    print_message("random: ok %d busy %d not mapped %d inval %d too deep %d at max %d "
                  "big %d, deepest %u\n", ok, busy, notmapped, inval, toodeep, at_max, big,
                  max_seen);
    assert_true(ok > 500 && busy > 10 && notmapped > 100 && inval > 50);
    assert_true(toodeep > 200 && at_max > 5 && max_seen == UK_MAP_MAX_DEPTH && big > 100);
    destroy_all();
    assert_pool_back();
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, pool_teardown)
    const struct CMUnitTest tests[] = {
        T(test_init),
        T(test_map_boot_lookup),
        T(test_user_ptr),
        T(test_copy_user),
        T(test_map_derives),
        T(test_map_multi_page),
        T(test_map_replaces),
        T(test_map_busy_ancestor),
        T(test_map_busy_later_source_page),
        T(test_unmap_chain),
        T(test_unmap_fanout),
        T(test_unmap_deep_chain),
        T(test_unmap_many_siblings),
        T(test_protect_reduces_derived),
        T(test_protect_capped_by_parent),
        T(test_protect_capped_by_grant),
        T(test_protect_none),
        T(test_protect_back_to_grant),
        T(test_rights_imply_read),
        T(test_range_errors),
        T(test_map_max_pages),
        T(test_rights_errors),
        T(test_source_not_mapped),
        T(test_self_map_overlap),
        T(test_flushes),
        T(test_flush_batching),
        T(test_destroy),
        T(test_destroy_self_derived),
        T(test_quota_nomem),
        T(test_random),
    };
    return cmocka_run_group_tests_name("vspace", tests, NULL, NULL);
}
