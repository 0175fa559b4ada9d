/*
 * OBJ_DESTROY goes in parts (docs/ABI.md §9.10): between two parts the
 * kernel returns to user level, where the timer is taken and a thread of
 * higher priority runs; the object is dying meanwhile (every cap naming it
 * refuses all calls but OBJ_DESTROY with UK_E_DESTROYED), and any
 * OBJ_DESTROY naming it goes on with it.  Each test counts kernel memory
 * and free pool pages before and after: all of it comes back.
 *
 * The big task: BIG_SRC pages of ours mapped BIG_TIMES over into a child,
 * BIG_SRC * BIG_TIMES mappings (65,536: about 10.8 M instructions to
 * destroy, 64 parts; the suite runs under plain TCG, ACCEL=tcg, where
 * that is well over 5 ms, five timer ticks, even on a fast host).
 */
#include "ktest.h"
#include <uk/syscall.h>

#define SELF      UK_SLOT_SELF_TASK
#define BIG_SRC   4096ul
#define BIG_TIMES 16ul
#define BIG_VA    0x600000000000ul
#define RW        (UK_MAP_READ | UK_MAP_WRITE)

static unsigned char *big_src;

/* A child task holding BIG_SRC * BIG_TIMES mappings. */
static uk_word_t big_task(void)
{
    uk_word_t t = 0;
    if (!big_src)
        big_src = uk_pages_alloc(BIG_SRC);
    KT_CHECK(big_src != 0);
    KT_EQ(uk_task_new(8ul << 20, 16, 0, &t), UK_OK);
    for (uk_word_t i = 0; i < BIG_TIMES; i++)
        KT_EQ(uk_map(t, (uk_word_t)big_src, BIG_VA + i * BIG_SRC * UK_PAGE_SIZE, BIG_SRC, RW),
              UK_OK);
    return t;
}

/* --- a big task destroyed while a thread of higher priority runs ---------- */

static volatile long watch_stop, watch_n;
static volatile uk_word_t watch_at[4096];
static uk_word_t watch_notif;

/* Wakes every 100 us (in fact at each timer tick) and notes the TSC. */
static void watcher(uk_word_t arg)
{
    (void)arg;
    while (!watch_stop) {
        uk_wait(watch_notif, uk_timeout_us(100), 0);
        if (watch_n < (long)(sizeof watch_at / sizeof watch_at[0]))
            watch_at[watch_n++] = uk_rdtsc();
    }
}

static volatile long destroy_done, destroy_err;
static volatile uk_word_t destroy_t0, destroy_t1, destroy_slot;

static void destroyer(uk_word_t arg)
{
    (void)arg;
    destroy_t0 = uk_rdtsc();
    destroy_err = uk_obj_destroy(destroy_slot);
    destroy_t1 = uk_rdtsc();
    destroy_done = 1;
}

/* The destroyer (priority 100) makes one OBJ_DESTROY call; the watcher
 * (200) wakes at timer ticks in between: three times or more during that
 * one call.  A kernel that did it all in one entry would let it run twice
 * at most: once at the call's end, once if a tick came just between the
 * first TSC read and the call. */
/* One try: the big task destroyed by the destroyer while the watcher runs;
 * how many times the watcher woke during the call, and the parts it took. */
static long destroy_try(uk_word_t *parts)
{
    uk_word_t t = big_task();
    watch_notif = kt_notification();
    watch_stop = watch_n = destroy_done = 0;
    destroy_err = -1;
    destroy_slot = t;
    struct uk_spawned w, d;
    KT_EQ(uk_spawn(SELF, watcher, 0, 200, 0, &w), UK_OK);
    struct uk_stats a = kt_stats();
    KT_EQ(uk_spawn(SELF, destroyer, 0, 100, 0, &d), UK_OK);
    KT_EQ(kt_wait_flag(&destroy_done, 10000000), 1);
    struct uk_stats b = kt_stats();
    watch_stop = 1;
    kt_sleep_us(2000);                                   /* the watcher ends */
    KT_EQ(destroy_err, UK_OK);
    KT_EQ(kt_cap_type(t), UK_CAP_NULL);                  /* the cap is gone */
    kt_destroy(w.thread);
    kt_destroy(d.thread);
    kt_destroy(watch_notif);
    long during = 0;
    for (long i = 0; i < watch_n; i++)
        during += watch_at[i] > destroy_t0 && watch_at[i] < destroy_t1;
    *parts = b.preemptions - a.preemptions;
    return during;
}

/* Up to three tries: under plain TCG on a loaded host QEMU may deliver a
 * run of ticks late and as one, so a try can see fewer wakes; a kernel
 * doing it all in one entry could never reach three in any try. */
KT_TEST(destroy_big_task_in_parts_lets_higher_priority_run)
{
    struct uk_stats s0 = kt_stats();
    long during = 0;
    uk_word_t parts = 0;
    for (int try = 0; try < 3 && during < 3; try++)
        during = destroy_try(&parts);
    KT_CHECK(during >= 3);
    KT_CHECK(parts >= 40);                               /* 65,536 mappings: 64 parts or so */
    struct uk_stats s1 = kt_stats();
    KT_EQ(s1.kmem_bytes_used, s0.kmem_bytes_used);
    KT_EQ(s1.free_frames, s0.free_frames);
    /* the longest part, as the kernel measured it: about an UNMAP part */
    KT_CHECK(s1.destroy_part_max > 0);   /* (TSC ticks; instructions only under icount:
                                            the bench's longest.destroy.part) */
}

/* --- a dying task: refused by everyone, finished by a second destroyer ---- */

static volatile long second_saw, second_err, second_refused;
static volatile uk_word_t second_copy;

/* Priority 150: waits until the task is dying, checks that its caps refuse
 * other calls, then destroys it through a copy of its cap: being of higher
 * priority, it finishes the destruction while the first call is stopped
 * between two parts. */
static void second_destroyer(uk_word_t arg)
{
    uk_word_t n = arg, used, quota;
    while (!destroy_done) {
        long e = uk_kmem_info(second_copy, &used, &quota);
        if (e == UK_E_DESTROYED) {
            second_saw = 1;
            second_refused = uk_map(second_copy, (uk_word_t)big_src, 0x1000, 1, RW) == UK_E_DESTROYED &&
                             uk_cap_copy(second_copy, SELF, uk_slot_alloc(), UK_R_ALL, 0) ==
                                 UK_E_DESTROYED;
            second_err = uk_obj_destroy(second_copy);
            return;
        }
        uk_wait(n, uk_timeout_us(100), 0);
    }
}

KT_TEST(destroy_dying_task_finished_by_a_second_thread)
{
    struct uk_stats s0 = kt_stats();
    uk_word_t t = big_task();
    uk_word_t copy = uk_slot_alloc();
    KT_EQ(uk_cap_copy(t, SELF, copy, UK_R_ALL, 0), UK_OK);
    uk_word_t n = kt_notification();
    second_copy = copy;
    second_saw = second_refused = 0;
    second_err = -1;
    destroy_done = 0;
    destroy_err = -1;
    destroy_slot = t;
    struct uk_spawned s, d;
    KT_EQ(uk_spawn(SELF, second_destroyer, n, 150, 0, &s), UK_OK);
    KT_EQ(uk_spawn(SELF, destroyer, 0, 100, 0, &d), UK_OK);
    KT_EQ(kt_wait_flag(&destroy_done, 10000000), 1);
    kt_sleep_us(2000);
    KT_EQ(second_saw, 1);                   /* it saw the task dying... */
    KT_EQ(second_refused, 1);               /* ...refusing other calls... */
    KT_EQ(second_err, UK_OK);               /* ...and finished it */
    KT_EQ(destroy_err, UK_OK);              /* the first call, going on, found it done */
    KT_EQ(kt_cap_type(t), UK_CAP_NULL);
    KT_EQ(kt_cap_type(copy), UK_CAP_NULL);
    kt_destroy(s.thread);
    kt_destroy(d.thread);
    kt_destroy(n);
    struct uk_stats s1 = kt_stats();
    KT_EQ(s1.kmem_bytes_used, s0.kmem_bytes_used);
    KT_EQ(s1.free_frames, s0.free_frames);
}

/* --- a task owning a task, with a thread of ours running in it ------------- */

/* The parts go through a nested task (owned by the outer one) and a thread
 * that is ours but runs in the outer task (destroyed first: nothing runs
 * in an address space being taken apart); everything comes back. */
KT_TEST(destroy_nested_in_parts_leaves_nothing)
{
    struct uk_stats s0 = kt_stats();
    uk_word_t outer = big_task(), inner = uk_slot_alloc(), th = uk_slot_alloc();
    KT_EQ(uk_task_create_shared(inner, 1ul << 20, 16, outer), UK_OK);   /* owned by outer */
    KT_EQ(uk_map(inner, (uk_word_t)big_src, BIG_VA, 1024, RW), UK_OK);
    KT_EQ(uk_thread_create(th, outer), UK_OK);           /* ours, running in outer */
    struct uk_stats a = kt_stats();
    KT_EQ(uk_obj_destroy(outer), UK_OK);
    struct uk_stats b = kt_stats();
    KT_CHECK(b.preemptions - a.preemptions >= 20);
    KT_EQ(kt_cap_type(inner), UK_CAP_NULL);              /* the nested task went too */
    KT_EQ(kt_cap_type(th), UK_CAP_NULL);                 /* and the thread in it */
    struct uk_stats s1 = kt_stats();
    KT_EQ(s1.kmem_bytes_used, s0.kmem_bytes_used);
    KT_EQ(s1.free_frames, s0.free_frames);
}

/* --- one page with many derived mappings: UNMAP in parts too --------------- */

/* An alias of one of our pages, mapped on into a child at 3,000 addresses:
 * unmapping the alias takes all of them, in parts (UNMAP's budget counts
 * derived mappings: a stop in the middle leaves the alias mapped with
 * fewer children, and the call goes on from it). */
KT_TEST(destroy_unmap_of_a_much_derived_page_in_parts)
{
    enum { N = 3000 };
    /* beside the boot info page (as test_mem.c's aliases): the root has the
     * page tables there already, so none is made for good by this test */
    uk_word_t child = 0, alias = UK_BOOTINFO_VADDR + 0x100000ul;
    unsigned char *p = uk_pages_alloc(1);
    KT_CHECK(p != 0);
    p[0] = 5;
    KT_EQ(uk_task_new(1ul << 20, 16, 0, &child), UK_OK);
    KT_EQ(uk_map(SELF, (uk_word_t)p, alias, 1, RW), UK_OK);
    for (uk_word_t i = 0; i < N; i++)
        KT_EQ(uk_map(child, alias, BIG_VA + i * UK_PAGE_SIZE, 1, UK_MAP_READ), UK_OK);
    struct uk_stats a = kt_stats();
    KT_EQ(uk_unmap(SELF, alias, 1), UK_OK);
    struct uk_stats b = kt_stats();
    KT_EQ(b.preemptions - a.preemptions, (N + 1) / UK_PREEMPT_PAGES);   /* 3,001 mappings: 2 stops */
    uk_word_t pa, r;
    KT_EQ(uk_mem_info(alias, &pa, &r), UK_E_NOT_MAPPED);
    KT_EQ(p[0], 5);                                      /* ours stays */
    /* every mapping record came back (struct mapping: 48 bytes, charged 64;
     * page tables stay until the tasks go) */
    KT_EQ(a.kmem_bytes_used - b.kmem_bytes_used, (N + 1) * 64);
    kt_destroy(child);
}

/* MAP over a page with many derived mappings: replacing it takes them all,
 * in parts too (a part stops before the page whose old tree it could not
 * finish; the call goes on from that page). */
KT_TEST(destroy_map_over_a_much_derived_page_in_parts)
{
    enum { N = 3000 };
    uk_word_t child = 0, alias = UK_BOOTINFO_VADDR + 0x100000ul;
    unsigned char *p = uk_pages_alloc(2);
    KT_CHECK(p != 0);
    p[0] = 5;
    p[UK_PAGE_SIZE] = 6;
    KT_EQ(uk_task_new(1ul << 20, 16, 0, &child), UK_OK);
    KT_EQ(uk_map(SELF, (uk_word_t)p, alias, 1, RW), UK_OK);
    for (uk_word_t i = 0; i < N; i++)
        KT_EQ(uk_map(child, alias, BIG_VA + i * UK_PAGE_SIZE, 1, UK_MAP_READ), UK_OK);
    struct uk_stats a = kt_stats();
    KT_EQ(uk_map(SELF, (uk_word_t)p + UK_PAGE_SIZE, alias, 1, RW), UK_OK);   /* replaces it */
    struct uk_stats b = kt_stats();
    KT_EQ(b.preemptions - a.preemptions, (N + 1) / UK_PREEMPT_PAGES);   /* 3,001 dropped: 2 stops */
    KT_EQ(((volatile unsigned char *)alias)[0], 6);      /* the new page */
    KT_EQ(a.kmem_bytes_used - b.kmem_bytes_used, N * 64);   /* 3,001 records gone, 1 made */
    KT_EQ(uk_unmap(SELF, alias, 1), UK_OK);
    kt_destroy(child);
}
