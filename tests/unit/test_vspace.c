/* Host tests of address spaces and the mapping database
 * (ukernel/arch/x86/vspace.c) on the real allocator (kmem.c).
 *
 * Page tables come from a kmem pool at fake physical PHYS; the user pages
 * being mapped are a separate fake RAM at RAM_PHYS.  phys_to_virt (declared,
 * not defined, in arch/cpu.h under UK_HOST_TEST) translates both.  The few
 * other things vspace.c needs from the kernel (kernel_pml4, kstats, invlpg,
 * write_cr3) are defined here; the two instructions only record calls. */
#include "host_stubs.h"
#include "../../ukernel/kernel/kmem.c"

#include <string.h>

static word flushes, last_flush_va;
static u64 cr3;
static void invlpg(word va) { flushes++; last_flush_va = va; }
static void write_cr3(u64 v) { cr3 = v; }

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
#define NPAGES    1024
#define RAM_PHYS  0x40000000ul      /* user memory being mapped */
#define RAM_PAGES 64
static char *pool;
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
    pool = aligned_alloc(PAGE_SIZE, NPAGES * PAGE_SIZE);
    assert_non_null(pool);
    kmem_init(pool, PHYS, NPAGES);
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

static int teardown(void **state)
{
    (void)state;
    free(pool);
    pool = NULL;
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

/* t maps va to physical page pa with exactly `rights`, in the node and in
 * the PTE (present, user, W iff write, NX iff not exec).  Every mapping
 * is readable and has no right beyond what it was granted; node->va is
 * exactly the page, the rights and the grant (bits GRANT_SHIFT..). */
static void assert_mapped(struct task *t, word va, u64 pa, unsigned rights)
{
    u64 got;
    unsigned r;
    assert_int_equal(vspace_lookup(t, va, &got, &r), UK_OK);
    assert_int_equal(got, pa);
    assert_int_equal(r, rights);
    assert_int_equal(rights & R, R);
    assert_int_equal(pte_of(t, va), pa | pte_bits(rights));
    struct mapping *n = node_at(t, va);
    assert_ptr_equal(n->task, t);
    assert_int_equal(node_va(n), va);
    assert_int_equal(node_rights(n), rights);
    assert_int_equal(node_rights(n) & ~node_grant(n), 0);
    assert_int_equal(n->va, va | rights | (word)node_grant(n) << GRANT_SHIFT);
}

/* ... and was granted exactly `grant` when it was made. */
static void assert_granted(struct task *t, word va, unsigned grant)
{
    struct mapping *n = node_at(t, va);
    assert_non_null(n);
    assert_int_equal(node_grant(n), grant);
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
 * its va holds nothing but the page, its rights and its grant; its rights
 * include READ and stay within its grant; its PTE matches its rights; it
 * shares its parent's physical page with no right the parent lacks and
 * was granted nothing the parent was not; it is on its parent's child
 * list, its children point back, and every task's quota is exactly its
 * tables plus its nodes.  Returns the number of nodes. */
static int check_all(void)
{
    int total = 0;
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
                        assert_int_equal(n->va & ~(PAGE_MASK | RWX | RWX << GRANT_SHIFT), 0);
                        assert_int_equal(node_va(n), va);
                        assert_int_equal(n->va, va | node_rights(n) |
                                                (word)node_grant(n) << GRANT_SHIFT);
                        assert_int_equal(node_rights(n) & R, R);
                        assert_int_equal(node_grant(n) & R, R);
                        assert_int_equal(node_rights(n) & ~node_grant(n), 0);
                        assert_int_equal(leaf[i0] & ~PTE_ADDR, pte_bits(node_rights(n)));
                        for (struct mapping *c = n->child; c; c = c->sibling) {
                            assert_ptr_equal(c->parent, n);
                            assert_non_null(c->task->pml4);
                            assert_ptr_equal(node_at(c->task, node_va(c)), c);
                        }
                        struct mapping *p = n->parent;
                        if (p) {
                            assert_non_null(p->task->pml4);
                            assert_ptr_equal(node_at(p->task, node_va(p)), p);
                            assert_int_equal(node_rights(n) & ~node_rights(p), 0);
                            assert_int_equal(node_grant(n) & ~node_grant(p), 0);
                            assert_int_equal(leaf[i0] & PTE_ADDR,
                                             pte_of(p->task, node_va(p)) & PTE_ADDR);
                            struct mapping *s = p->child;
                            while (s && s != n)
                                s = s->sibling;
                            assert_ptr_equal(s, n);
                        }
                    }
                }
            }
        }
        assert_int_equal(t->quota.used, tables + nodes * NODE);
        total += nodes;
    }
    return total;
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
    assert_int_equal(vspace_map_boot(&A, USER_MAP_TOP - PAGE_SIZE, frame(6), R), UK_OK);
    assert_mapped(&A, USER_MAP_TOP - PAGE_SIZE, frame(6), R);

    assert_unmapped(&A, V(2));                  /* same leaf, empty entry */
    assert_unmapped(&A, V(512));                /* no leaf */
    assert_unmapped(&A, 0);
    assert_int_equal(vspace_lookup(&A, USER_MAP_TOP, &pa, &r), UK_E_ADDR);
    assert_int_equal(vspace_lookup(&A, USER_TOP, &pa, &r), UK_E_ADDR);
    assert_int_equal(vspace_lookup(&A, KERNEL_BASE, &pa, &r), UK_E_ADDR);

    /* a boot mapping over another replaces it */
    assert_int_equal(vspace_map_boot(&A, V(0), frame(7), R), UK_OK);
    assert_mapped(&A, V(0), frame(7), R);
    assert_granted(&A, V(0), R);                /* the new grant, not the old */
    assert_int_equal(check_all(), 4);
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
    assert_null(user_ptr(&A, USER_MAP_TOP, 8, R));
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

    /* within one task, to a range that does not overlap; W implies R */
    assert_int_equal(vspace_map(&A, V(0), &A, V(1), 1, W), UK_OK);
    assert_mapped(&A, V(1), frame(1), RW);
    assert_granted(&A, V(1), RW);
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
    assert_int_equal(check_all(), 3);
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

/* A long chain is revoked without recursion (unmap_tree is iterative):
 * 2000 levels, alternating between two tasks. */
static void test_unmap_deep_chain(void **state)
{
    (void)state;
    task_new(&A, 1 << 22);
    task_new(&B, 1 << 22);
    assert_int_equal(vspace_map_boot(&A, V(0), frame(0), RW), UK_OK);
    for (int i = 0; i < 2000; i++) {
        struct task *s = i % 2 ? &B : &A, *d = i % 2 ? &A : &B;
        assert_int_equal(vspace_map(s, V(i), d, V(i + 1), 1, RW), UK_OK);
    }
    assert_int_equal(check_all(), 2001);
    assert_int_equal(vspace_unmap(&A, V(0), 1), UK_OK);
    assert_int_equal(check_all(), 0);
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
 * USER_MAP_TOP, or crossing it -> UK_E_ADDR.  Nothing changes. */
static void test_range_errors(void **state)
{
    (void)state;
    task_new(&A, 1 << 20);
    task_new(&B, 1 << 20);
    assert_int_equal(vspace_map_boot(&A, V(0), frame(0), RW), UK_OK);
    assert_int_equal(vspace_map_boot(&A, USER_MAP_TOP - PAGE_SIZE, frame(1), RW), UK_OK);
    int nodes = check_all();
    word b_used = B.quota.used;
    static const struct { word va, n; int err; } bad[] = {
        { V(0) + 1, 1, UK_E_INVAL },
        { V(0) + 0x800, 1, UK_E_INVAL },
        { V(0), 0, UK_E_INVAL },
        { V(0), UK_MAP_MAX_PAGES + 1, UK_E_INVAL },
        { V(0), ~(word)0, UK_E_INVAL },
        { USER_MAP_TOP, 1, UK_E_ADDR },
        { USER_TOP, 1, UK_E_ADDR },
        { KERNEL_BASE, 1, UK_E_ADDR },
        { ~(word)0 & PAGE_MASK, 1, UK_E_ADDR },
        { USER_MAP_TOP - PAGE_SIZE, 2, UK_E_ADDR },          /* crosses */
        { USER_MAP_TOP - 4 * PAGE_SIZE, 5, UK_E_ADDR },
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
    assert_mapped(&A, USER_MAP_TOP - PAGE_SIZE, frame(1), RW);

    /* the last page below USER_MAP_TOP is fine, and UK_MAP_MAX_PAGES is
     * a valid count (unmapping that many pages that are not there) */
    assert_int_equal(vspace_map(&A, USER_MAP_TOP - PAGE_SIZE, &B, USER_MAP_TOP - PAGE_SIZE,
                                1, R), UK_OK);
    assert_mapped(&B, USER_MAP_TOP - PAGE_SIZE, frame(1), R);
    assert_int_equal(vspace_unmap(&B, 0, UK_MAP_MAX_PAGES), UK_OK);
    assert_int_equal(vspace_protect(&B, 0, UK_MAP_MAX_PAGES, R), UK_OK);
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
struct snap { u64 pte[4][WATCH]; struct mapping *node[4][WATCH]; };
static void snapshot(struct snap *s)
{
    memset(s, 0, sizeof *s);
    for (int t = 0; t < 4; t++)
        if (all[t]->pml4)
            for (int k = 0; k < WATCH; k++) {
                s->pte[t][k] = pte_of(all[t], watch_va(k));
                s->node[t][k] = node_at(all[t], watch_va(k));
            }
}

static u64 seed = 4242;
static unsigned rnd(unsigned n)
{
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    return (unsigned)(seed >> 33) % n;
}

/* Random maps, unmaps, protects and destroys among four tasks over 32
 * pages in two regions.  After every step the database must be consistent
 * (check_all), successful maps and protects must have the promised effect
 * (map: (rights | READ) & the source's rights, granted as such; protect:
 * (rights | READ) & the grant & the parent's rights) and failed ones
 * none; at the end the pool is back where it started. */
static void test_random(void **state)
{
    (void)state;
    enum { OPS = 10000 };
    for (int t = 0; t < 4; t++) {
        task_new(all[t], 1 << 24);
        for (int k = 0; k < WATCH; k += t + 1)  /* A full, the others sparser */
            assert_int_equal(vspace_map_boot(all[t], watch_va(k), frame(k), RWX), UK_OK);
    }
    int ok = 0, busy = 0, notmapped = 0, inval = 0;
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
        int n = rnd(2) ? 1 : 2 + rnd(2);        /* a range within one region */
        int k1 = 16 * rnd(2) + rnd(17 - n), k2 = 16 * rnd(2) + rnd(17 - n);
        word sva = watch_va(k1), dva = watch_va(k2);
        unsigned rights = 1 + rnd(7);           /* any valid request, W or X alone too */
        /* one call in 16 asks for rights that are invalid */
        bool bad = rnd(16) == 0;
        word ask = bad ? bad_rights[rnd(ARRAY_SIZE(bad_rights))] : rights;
        switch (rnd(16)) {
        case 0: case 1: case 2: case 3:         /* boot mapping: the kernel always gives R */
            assert_int_equal(vspace_map_boot(s, sva, frame(rnd(RAM_PAGES)), rights | R), UK_OK);
            assert_int_equal(node_grant(node_at(s, sva)), rights | R);
            break;
        case 4: case 5: case 6: case 7: case 8: case 9: case 10: case 11: {
            /* a quarter of the maps of a derived page aim at a range
             * holding one of its ancestors, which must be refused */
            struct mapping *a = node_at(s, sva + rnd(n) * PAGE_SIZE);
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
            snapshot(&before);
            int err = vspace_map(s, sva, d, dva, n, ask);
            snapshot(&after);
            if (err == UK_OK) {
                ok++;
                assert_false(bad);
                int si = task_index(s), di = task_index(d);
                for (int i = 0; i < n; i++) {
                    u64 spte = before.pte[si][k1 + i];
                    unsigned have = node_rights(before.node[si][k1 + i]);
                    unsigned want = (rights | R) & have;
                    assert_int_equal(have & R, R);
                    assert_int_equal(after.pte[di][k2 + i],
                                     (spte & PTE_ADDR) | pte_bits(want));
                    struct mapping *m = after.node[di][k2 + i];
                    assert_ptr_equal(m->parent, before.node[si][k1 + i]);
                    assert_int_equal(node_rights(m), want);
                    assert_int_equal(node_grant(m), want);
                    assert_int_equal(after.pte[si][k1 + i], spte);
                }
            } else {
                assert_memory_equal(&before, &after, sizeof before);
                busy += err == UK_E_BUSY;
                notmapped += err == UK_E_NOT_MAPPED;
                inval += err == UK_E_INVAL && bad;
                assert_true(err == UK_E_BUSY || err == UK_E_NOT_MAPPED ||
                            (err == UK_E_INVAL && (s == d || bad)));
                if (bad)                        /* the ranges are all valid */
                    assert_int_equal(err, UK_E_INVAL);
            }
            break;
        }
        case 12:
            assert_int_equal(vspace_unmap(s, sva, n), UK_OK);
            for (int i = 0; i < n; i++)
                assert_null(node_at(s, sva + i * PAGE_SIZE));
            break;
        case 13: case 14:
            if (bad) {
                snapshot(&before);
                assert_int_equal(vspace_protect(s, sva, n, ask), UK_E_INVAL);
                snapshot(&after);
                assert_memory_equal(&before, &after, sizeof before);
                inval++;
                break;
            }
            assert_int_equal(vspace_protect(s, sva, n, ask), UK_OK);
            for (int i = 0; i < n; i++) {
                struct mapping *m = node_at(s, sva + i * PAGE_SIZE);
                if (!m)
                    continue;
                unsigned want = (rights | R) & node_grant(m) &
                                (m->parent ? node_rights(m->parent) : RWX);
                assert_int_equal(want & R, R);
                /* a later page of the range that m derives from may have
                 * reduced m again */
                bool later = false;
                for (struct mapping *p = m->parent; p; p = p->parent)
                    later |= p->task == s && node_va(p) > node_va(m) &&
                             node_va(p) < sva + n * PAGE_SIZE;
                if (later) {
                    assert_int_equal(node_rights(m) & ~want, 0);
                    assert_int_equal(node_rights(m) & R, R);
                } else
                    assert_int_equal(node_rights(m), want);
            }
            break;
        default:
            if (rnd(4) == 0)                    /* destroys are rarer still */
                vspace_destroy(s);
            break;
        }
        check_all();
    }
    assert_true(ok > 500 && busy > 10 && notmapped > 100 && inval > 50);  /* all paths taken */
    destroy_all();
    assert_pool_back();
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
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
        T(test_protect_reduces_derived),
        T(test_protect_capped_by_parent),
        T(test_protect_capped_by_grant),
        T(test_protect_back_to_grant),
        T(test_rights_imply_read),
        T(test_range_errors),
        T(test_rights_errors),
        T(test_source_not_mapped),
        T(test_self_map_overlap),
        T(test_flushes),
        T(test_destroy),
        T(test_destroy_self_derived),
        T(test_quota_nomem),
        T(test_random),
    };
    return cmocka_run_group_tests_name("vspace", tests, NULL, NULL);
}
