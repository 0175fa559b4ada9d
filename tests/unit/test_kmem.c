/* Host tests of the kernel-memory allocator (ukernel/kernel/kmem.c). */
#include "host_stubs.h"
#include <string.h>

/* Let a test check that a kernel bug is caught: while panic_armed, panic
 * jumps back to the test instead of failing it. */
static jmp_buf panic_jmp;
static int panic_armed;
static __attribute__((noreturn)) void test_panic(const char *fmt, ...)
{
    if (panic_armed)
        longjmp(panic_jmp, 1);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fail_msg("kernel panic");
    abort();
}
#undef panic
#define panic(...) test_panic(__VA_ARGS__)
#define EXPECT_PANIC(stmt) do {                                        \
        panic_armed = 1;                                               \
        if (setjmp(panic_jmp) == 0) {                                  \
            stmt;                                                      \
            panic_armed = 0;                                           \
            fail_msg("no panic from: %s", #stmt);                      \
        }                                                              \
        panic_armed = 0;                                               \
    } while (0)

#include "../../ukernel/kernel/kmem.c"
#include "host_pool.h"

#define PHYS 0x100000ul
static word test_npages;

/* A fresh pool of n pages for one test. */
static void use_pool(word n)
{
    test_npages = n;
    pool_init(PHYS, n);
}

static bool all_zero(const void *p, word n)
{
    for (word i = 0; i < n; i++)
        if (((const u8 *)p)[i])
            return false;
    return true;
}

static void assert_back_to_start(void)
{
    assert_int_equal(kmem_free_pages(), test_npages);
    assert_int_equal(kmem_bytes_used(), 0);
}

static void test_charge(void **state)
{
    (void)state;
    static const word cases[][2] = {
        {0, 0}, {1, 32}, {32, 32}, {33, 64}, {64, 64}, {100, 128},
        {256, 256}, {257, 512}, {1000, 1024}, {2048, 2048}, {2049, 4096},
        {4096, 4096}, {4097, 8192}, {8192, 8192}, {12289, 16384},
    };
    for (usize i = 0; i < ARRAY_SIZE(cases); i++)
        assert_int_equal(kmem_charge(cases[i][0]), cases[i][1]);
    assert_int_equal(kmem_charge(~(word)0), ~(word)0);     /* no wrap */
}

/* Each class (and sizes between classes): charge, alignment, zeroed, usable. */
static void test_class_round_trip(void **state)
{
    (void)state;
    use_pool(16);
    static const word sizes[] = {1, 31, 32, 33, 64, 100, 128, 256, 300, 512,
                                 1024, 1500, 2048, 3000, 4095, 4096};
    struct quota q = { .used = 0, .limit = 1 << 20 };
    for (usize i = 0; i < ARRAY_SIZE(sizes); i++) {
        word c = kmem_charge(sizes[i]);
        u8 *p = kmem_alloc(&q, sizes[i]);
        assert_non_null(p);
        assert_int_equal((word)p % c, 0);
        assert_true(all_zero(p, c));
        memset(p, 0xff, c);
        assert_int_equal(q.used, c);
        assert_int_equal(kmem_bytes_used(), c);
        assert_int_equal(kmem_free_pages(), test_npages - 1);
        kmem_free(&q, p, sizes[i]);
        assert_int_equal(q.used, 0);
        assert_back_to_start();
    }
}

/* A freed object's slot (whose first bytes hold the free list) comes back zeroed. */
static void test_reuse_is_zeroed(void **state)
{
    (void)state;
    use_pool(4);
    for (word size = 32; size <= 8192; size *= 2) {
        u8 *keep = kmem_alloc(NULL, size);      /* keeps the slab page alive */
        u8 *p = kmem_alloc(NULL, size);
        assert_non_null(keep);
        assert_non_null(p);
        memset(p, 0xaa, size);
        kmem_free(NULL, p, size);
        u8 *again = kmem_alloc(NULL, size);
        assert_ptr_equal(again, p);             /* LIFO reuse of the slot */
        assert_true(all_zero(again, size));
        kmem_free(NULL, again, size);
        kmem_free(NULL, keep, size);
        assert_back_to_start();
    }
}

/* Many objects of each class: distinct, aligned to min(class, page), in-pool. */
static void test_alignment(void **state)
{
    (void)state;
    use_pool(64);
    static void *objs[300];
    for (word size = 32; size <= 4096; size *= 2) {
        word n = size >= 1024 ? 48 * 4096 / size : 300;   /* fits 64 pages */
        for (word i = 0; i < n; i++) {
            objs[i] = kmem_alloc(NULL, size);
            assert_non_null(objs[i]);
            assert_int_equal((word)objs[i] % size, 0);
            assert_true((char *)objs[i] >= pool &&
                        (char *)objs[i] + size <= pool + 64 * PAGE_SIZE);
            memset(objs[i], (int)i, size);
        }
        for (word i = 0; i < n; i++)            /* no overlap: patterns intact */
            assert_int_equal(((u8 *)objs[i])[size - 1], (u8)i);
        for (word i = 0; i < n; i++)
            kmem_free(NULL, objs[i], size);
        assert_back_to_start();
    }
}

/* Filling several slab pages takes exactly that many pool pages; freeing in
 * a scattered order gives every page back. */
static void test_slab_pages_fill_and_release(void **state)
{
    (void)state;
    use_pool(16);
    enum { PER = 4096 / 64, N = 3 * PER + 1 };
    static void *objs[N];
    for (int i = 0; i < N; i++) {
        objs[i] = kmem_alloc(NULL, 64);
        assert_non_null(objs[i]);
    }
    assert_int_equal(kmem_free_pages(), 16 - 4);
    assert_int_equal(kmem_bytes_used(), N * 64);
    for (int i = 0; i < N; i++)                 /* 7 is coprime to N */
        kmem_free(NULL, objs[(i * 7) % N], 64);
    assert_back_to_start();
}

/* Sizes over a page take whole contiguous pages, physically contiguous too. */
static void test_multi_page_runs(void **state)
{
    (void)state;
    use_pool(32);
    struct quota q = { .used = 0, .limit = 1 << 20 };
    u8 *a = kmem_alloc(&q, 5000);
    u8 *b = kmem_alloc(&q, 3 * 4096 + 1);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal((word)a % PAGE_SIZE, 0);
    assert_int_equal((word)b % PAGE_SIZE, 0);
    assert_int_equal(q.used, 2 * 4096 + 4 * 4096);
    assert_int_equal(kmem_free_pages(), 32 - 6);
    assert_true(all_zero(b, 4 * 4096));
    memset(a, 1, 2 * 4096);
    memset(b, 2, 4 * 4096);
    assert_int_equal(a[2 * 4096 - 1], 1);
    assert_int_equal(kmem_phys(b + 4 * 4096 - 1) - kmem_phys(b), 4 * 4096 - 1);
    kmem_free(&q, a, 5000);
    kmem_free(&q, b, 3 * 4096 + 1);
    assert_int_equal(q.used, 0);
    assert_back_to_start();
}

/* First fit: a hole in the middle is reused by a run that fits it, and a
 * run needing more contiguous pages than any hole fails cleanly. */
static void test_fragmentation(void **state)
{
    (void)state;
    use_pool(16);
    struct quota q = { .used = 0, .limit = 1 << 20 };
    u8 *a = kmem_alloc(&q, 4 * 4096), *b = kmem_alloc(&q, 4 * 4096);
    u8 *c = kmem_alloc(&q, 4 * 4096);
    assert_ptr_equal(a, pool);
    assert_ptr_equal(b, pool + 4 * 4096);
    assert_ptr_equal(c, pool + 8 * 4096);
    kmem_free(&q, b, 4 * 4096);
    assert_int_equal(kmem_free_pages(), 8);     /* 4 in the middle, 4 at the end */
    word used = q.used;
    assert_null(kmem_alloc(&q, 5 * 4096));
    assert_int_equal(q.used, used);
    assert_int_equal(kmem_free_pages(), 8);
    u8 *d = kmem_alloc(&q, 3 * 4096);           /* fits the hole */
    assert_ptr_equal(d, b);
    u8 *e = kmem_alloc(&q, 4096);               /* the hole's last page */
    assert_ptr_equal(e, b + 3 * 4096);
    u8 *f = kmem_alloc(&q, 4 * 4096);           /* only the tail is left */
    assert_ptr_equal(f, pool + 12 * 4096);
    assert_int_equal(kmem_free_pages(), 0);
    kmem_free(&q, a, 4 * 4096);
    kmem_free(&q, c, 4 * 4096);
    kmem_free(&q, d, 3 * 4096);
    kmem_free(&q, e, 4096);
    kmem_free(&q, f, 4 * 4096);
    assert_back_to_start();
}

/* Pages freed below the search hint are found again, first fit. */
static void test_reuse_after_full(void **state)
{
    (void)state;
    enum { N = 130 };                           /* spans three bitmap words */
    use_pool(N);
    static u8 *pg[N];
    for (int i = 0; i < N; i++) {
        pg[i] = kmem_alloc(NULL, 4096);
        assert_ptr_equal(pg[i], pool + i * PAGE_SIZE);
    }
    assert_null(kmem_alloc(NULL, 32));
    kmem_free(NULL, pg[100], 4096);
    kmem_free(NULL, pg[5], 4096);
    assert_ptr_equal(kmem_alloc(NULL, 4096), pg[5]);
    assert_ptr_equal(kmem_alloc(NULL, 64), pg[100]);    /* a new slab page */
    kmem_free(NULL, pg[100], 64);
    kmem_free(NULL, pg[11], 4096);
    kmem_free(NULL, pg[12], 4096);
    assert_ptr_equal(kmem_alloc(NULL, 8192), pg[11]);
    kmem_free(NULL, pg[11], 8192);
    for (int i = 0; i < N; i++)
        if (i != 11 && i != 12 && i != 100)
            kmem_free(NULL, pg[i], 4096);
    assert_back_to_start();
}

/* A quota can be used to the last byte, and going over fails with no effect. */
static void test_quota_limit(void **state)
{
    (void)state;
    use_pool(16);
    struct quota q = { .used = 0, .limit = 3 * 4096 + 64 };
    void *p[3];
    for (int i = 0; i < 3; i++)
        assert_non_null(p[i] = kmem_alloc(&q, 4096));
    void *s = kmem_alloc(&q, 40);               /* charged 64: exactly the limit */
    assert_non_null(s);
    assert_int_equal(q.used, q.limit);
    word pages = kmem_free_pages(), bytes = kmem_bytes_used();
    assert_null(kmem_alloc(&q, 1));
    assert_null(kmem_alloc(&q, 8192));
    assert_int_equal(q.used, q.limit);
    assert_int_equal(kmem_free_pages(), pages);
    assert_int_equal(kmem_bytes_used(), bytes);
    struct quota other = { .used = 0, .limit = 4096 };             /* other quotas are unaffected */
    void *o = kmem_alloc(&other, 4096);
    assert_non_null(o);
    assert_null(kmem_alloc(&other, 32));
    kmem_free(&q, p[0], 4096);                  /* room again */
    assert_non_null(p[0] = kmem_alloc(&q, 3000));
    struct quota over = { .used = 100, .limit = 50 };              /* already over: nothing fits */
    assert_null(kmem_alloc(&over, 32));
    assert_int_equal(over.used, 100);
    kmem_free(&other, o, 4096);
    kmem_free(&q, p[0], 3000);
    kmem_free(&q, p[1], 4096);
    kmem_free(&q, p[2], 4096);
    kmem_free(&q, s, 40);
    assert_int_equal(q.used, 0);
    assert_int_equal(other.used, 0);
    assert_back_to_start();
}

/* A shared quota (a chain): a charge must fit in every link and is made to
 * all of them; a free gives back to all; a full parent stops a child with
 * room of its own, and a sibling shares the parent's room. */
static void test_quota_chain(void **state)
{
    (void)state;
    use_pool(16);
    struct quota top = { .limit = 4 * 4096 };
    struct quota pool = { .limit = 3 * 4096, .parent = &top };
    struct quota a = { .limit = ~(word)0, .parent = &pool };
    struct quota b = { .limit = 4096, .parent = &pool };
    assert_int_equal(quota_room(&a), 3 * 4096);
    void *pa = kmem_alloc(&a, 4096), *pb = kmem_alloc(&b, 100);
    assert_non_null(pa);
    assert_non_null(pb);
    assert_int_equal(a.used, 4096);
    assert_int_equal(b.used, 128);
    assert_int_equal(pool.used, 4096 + 128);
    assert_int_equal(top.used, 4096 + 128);
    assert_int_equal(quota_room(&b), 4096 - 128);          /* its own limit is least */
    assert_null(kmem_alloc(&b, 4096));                      /* over b's own limit */
    void *pa2 = kmem_alloc(&a, 4096);
    assert_non_null(pa2);
    assert_int_equal(quota_room(&a), 3 * 4096 - 2 * 4096 - 128);
    word pages = kmem_free_pages();
    assert_null(kmem_alloc(&a, 4096));                      /* the pool is full */
    assert_int_equal(a.used, 2 * 4096);
    assert_int_equal(top.used, 2 * 4096 + 128);
    assert_int_equal(kmem_free_pages(), pages);
    /* the top is the limit when the pool is not: charge the top directly */
    void *t = kmem_alloc(&top, 4096);
    assert_non_null(t);
    assert_int_equal(quota_room(&a), 4096 - 128);            /* top and pool alike */
    assert_int_equal(quota_room(&top), 4096 - 128);
    assert_true(quota_charge(&a, 64));                      /* charge only: fits everywhere */
    assert_false(quota_charge(&a, 4096));                   /* the top has not that much */
    assert_int_equal(top.used, 3 * 4096 + 128 + 64);
    quota_uncharge(&a, 64);
    EXPECT_PANIC(quota_uncharge(&b, 4096));                 /* more than b was charged */
    kmem_free(&a, pa, 4096);
    kmem_free(&a, pa2, 4096);
    kmem_free(&b, pb, 100);
    kmem_free(&top, t, 4096);
    assert_int_equal(a.used + b.used + pool.used + top.used, 0);
    assert_back_to_start();
}

/* An empty pool fails allocations without charging; a slab with room still
 * serves its class. */
static void pool_exhaustion(void **state)
{
    (void)state;
    use_pool(4);
    struct quota q = { .used = 0, .limit = ~(word)0 };
    assert_null(kmem_alloc(&q, 5 * 4096));      /* bigger than the pool */
    assert_null(kmem_alloc(&q, ~(word)0));
    assert_int_equal(q.used, 0);
    u8 *small = kmem_alloc(&q, 128);            /* slab page with 31 free slots */
    void *pg[3];
    for (int i = 0; i < 3; i++)
        assert_non_null(pg[i] = kmem_alloc(&q, 4096));
    assert_int_equal(kmem_free_pages(), 0);
    word used = q.used, bytes = kmem_bytes_used();
    assert_null(kmem_alloc(&q, 4096));
    assert_null(kmem_alloc(&q, 2 * 4096));
    assert_null(kmem_alloc(&q, 64));            /* no slab of that class */
    assert_int_equal(q.used, used);
    assert_int_equal(kmem_bytes_used(), bytes);
    void *more[31];
    for (int i = 0; i < 31; i++)
        assert_non_null(more[i] = kmem_alloc(&q, 100));
    assert_null(kmem_alloc(&q, 128));           /* slab full now */
    assert_int_equal(q.used, used + 31 * 128);
    for (int i = 0; i < 31; i++)
        kmem_free(&q, more[i], 100);
    kmem_free(&q, small, 128);
    for (int i = 0; i < 3; i++)
        kmem_free(&q, pg[i], 4096);
    assert_int_equal(q.used, 0);
    assert_back_to_start();
}

static void test_phys_virt(void **state)
{
    (void)state;
    use_pool(8);
    assert_int_equal(kmem_phys(pool), PHYS);
    assert_ptr_equal(kmem_virt(PHYS), pool);
    for (word off = 0; off < 8 * PAGE_SIZE; off += 1237) {
        assert_int_equal(kmem_phys(pool + off), PHYS + off);
        assert_ptr_equal(kmem_virt(PHYS + off), pool + off);
    }
    void *p = kmem_alloc(NULL, 256);
    assert_ptr_equal(kmem_virt(kmem_phys(p)), p);
    kmem_free(NULL, p, 256);
    assert_null(kmem_virt(PHYS - 1));
    assert_null(kmem_virt(0));
    assert_null(kmem_virt(PHYS + 8 * PAGE_SIZE));
    assert_null(kmem_virt(~(u64)0));
    EXPECT_PANIC(kmem_phys(pool + 8 * PAGE_SIZE));
    EXPECT_PANIC(kmem_phys(pool - 1));
}

/* Bytes used counts rounded charges, with or without a quota. */
static void test_bytes_used(void **state)
{
    (void)state;
    use_pool(16);
    struct quota q = { .used = 0, .limit = 1 << 20 };
    assert_null(kmem_alloc(&q, 0));             /* size 0 is invalid */
    assert_null(kmem_alloc(NULL, 0));
    assert_int_equal(kmem_bytes_used(), 0);
    void *a = kmem_alloc(&q, 10), *b = kmem_alloc(NULL, 600);
    void *c = kmem_alloc(NULL, 4097), *d = kmem_alloc(&q, 2048);
    assert_int_equal(kmem_bytes_used(), 32 + 1024 + 8192 + 2048);
    assert_int_equal(q.used, 32 + 2048);
    kmem_free(NULL, b, 600);
    assert_int_equal(kmem_bytes_used(), 32 + 8192 + 2048);
    kmem_free(&q, a, 10);
    kmem_free(NULL, c, 4097);
    kmem_free(&q, d, 2048);
    assert_int_equal(q.used, 0);
    kmem_free(NULL, NULL, 64);                  /* freeing NULL is a no-op */
    assert_back_to_start();
}

/* Frees that can only be kernel bugs panic, before changing anything. */
static void test_bad_free_panics(void **state)
{
    (void)state;
    use_pool(8);
    struct quota q = { .used = 0, .limit = 1 << 20 };
    u8 *s = kmem_alloc(&q, 64), *r = kmem_alloc(&q, 2 * 4096);
    static u8 outside[64];
    EXPECT_PANIC(kmem_free(&q, outside, 64));
    EXPECT_PANIC(kmem_free(&q, pool + 8 * PAGE_SIZE, 64));
    EXPECT_PANIC(kmem_free(&q, s + 32, 64));    /* misaligned for its class */
    EXPECT_PANIC(kmem_free(&q, s, 128));        /* wrong class */
    EXPECT_PANIC(kmem_free(&q, s, 4096));       /* not a run */
    EXPECT_PANIC(kmem_free(&q, r, 4096));       /* run of the wrong length */
    EXPECT_PANIC(kmem_free(&q, r + 4096, 4096));/* tail of a run */
    EXPECT_PANIC(kmem_free(&q, r, 64));         /* not a slab */
    EXPECT_PANIC(kmem_free(&q, pool + 7 * PAGE_SIZE, 4096)); /* free page */
    EXPECT_PANIC(kmem_free(&q, s, 0));
    struct quota empty = { .used = 0, .limit = 1 << 20 };          /* would underflow its quota */
    EXPECT_PANIC(kmem_free(&empty, s, 64));
    assert_int_equal(q.used, 64 + 8192);
    assert_int_equal(kmem_bytes_used(), 64 + 8192);
    kmem_free(&q, s, 64);
    kmem_free(&q, r, 2 * 4096);
    EXPECT_PANIC(kmem_free(&q, r, 2 * 4096));   /* double free of a run */
    assert_back_to_start();
    EXPECT_PANIC(kmem_init(pool + 1, PHYS, 8));
    EXPECT_PANIC(kmem_init(pool, PHYS + 8, 8));
    EXPECT_PANIC(kmem_init(pool, PHYS, KMEM_MAX_PAGES + 1));
}

/* Random mixed allocations checked against a shadow model: contents never
 * overlap, NULL exactly when the quota is exceeded (the pool is big enough
 * that it cannot run out), and the counters always match. */
static void test_random_stress(void **state)
{
    (void)state;
    enum { POOL = 2048, LIVE = 64, OPS = 20000 };
    use_pool(POOL);
    struct { u8 *p; word size; u8 fill; struct quota *q; } live[LIVE] = {{0}};
    struct quota q = { .used = 0, .limit = 128 * 1024 };
    word bytes = 0, fails = 0, ok = 0;
    u64 seed = 12345;
    for (int op = 0; op < OPS; op++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        u32 r = seed >> 33;
        int slot = r % LIVE;
        if (live[slot].p) {
            for (word i = 0; i < live[slot].size; i++)
                assert_int_equal(live[slot].p[i], live[slot].fill);
            kmem_free(live[slot].q, live[slot].p, live[slot].size);
            bytes -= kmem_charge(live[slot].size);
            live[slot].p = NULL;
        } else {
            word size;
            switch ((r >> 8) % 4) {
            case 0:  size = 1 + (r >> 12) % 64; break;
            case 1:  size = 1 + (r >> 12) % 512; break;
            case 2:  size = 1 + (r >> 12) % 4096; break;
            default: size = 1 + (r >> 12) % (4 * 4096); break;
            }
            struct quota *qq = (r >> 28) % 8 == 0 ? NULL : &q;
            word c = kmem_charge(size), before = q.used;
            u8 *p = kmem_alloc(qq, size);
            if (qq && c > q.limit - before) {
                assert_null(p);
                assert_int_equal(q.used, before);
                fails++;
                continue;
            }
            assert_non_null(p);
            assert_int_equal((word)p % (c < PAGE_SIZE ? c : PAGE_SIZE), 0);
            assert_true(all_zero(p, c));
            live[slot].p = p;
            live[slot].size = size;
            live[slot].fill = (u8)(op | 1);
            live[slot].q = qq;
            memset(p, live[slot].fill, size);
            bytes += c;
            ok++;
        }
        assert_int_equal(kmem_bytes_used(), bytes);
        word qused = 0;
        for (int i = 0; i < LIVE; i++)
            if (live[i].p && live[i].q)
                qused += kmem_charge(live[i].size);
        assert_int_equal(q.used, qused);
    }
    assert_true(fails > 100 && ok > 1000);      /* both paths were exercised */
    for (int i = 0; i < LIVE; i++)
        if (live[i].p)
            kmem_free(live[i].q, live[i].p, live[i].size);
    assert_int_equal(q.used, 0);
    assert_back_to_start();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_charge, pool_teardown),
        cmocka_unit_test_teardown(test_class_round_trip, pool_teardown),
        cmocka_unit_test_teardown(test_reuse_is_zeroed, pool_teardown),
        cmocka_unit_test_teardown(test_alignment, pool_teardown),
        cmocka_unit_test_teardown(test_slab_pages_fill_and_release, pool_teardown),
        cmocka_unit_test_teardown(test_multi_page_runs, pool_teardown),
        cmocka_unit_test_teardown(test_fragmentation, pool_teardown),
        cmocka_unit_test_teardown(test_reuse_after_full, pool_teardown),
        cmocka_unit_test_teardown(test_quota_limit, pool_teardown),
        cmocka_unit_test_teardown(test_quota_chain, pool_teardown),
        cmocka_unit_test_teardown(pool_exhaustion, pool_teardown),
        cmocka_unit_test_teardown(test_phys_virt, pool_teardown),
        cmocka_unit_test_teardown(test_bytes_used, pool_teardown),
        cmocka_unit_test_teardown(test_bad_free_panics, pool_teardown),
        cmocka_unit_test_teardown(test_random_stress, pool_teardown),
    };
    return cmocka_run_group_tests_name("kmem", tests, NULL, NULL);
}
