/*
 * Memory: mapping pages into tasks and into the root itself, rights that
 * only shrink, protect, recursive unmap through the mapping database, and
 * bad input that must change nothing.
 *
 * Accesses by other tasks are checked with a probe: a fresh thread in the
 * task does one read, write or call at an address; if it faults, the root
 * (its fault handler) gets the page-fault message and stops it.
 *
 * Aliases in the root go beside the boot-info page: that 2 MiB region has
 * its page table since boot and holds nothing else, so mapping there costs
 * the root no page table (the suite's leak check stays exact).
 */
#include "ktest.h"

#define RW          (UK_MAP_READ | UK_MAP_WRITE)
#define CHILD_QUOTA (512ul << 10)
#define CHILD_SLOTS 64
#define CHILD_VA    0x0000000010000000ul
#define ALIAS_BASE  (UK_BOOTINFO_VADDR + 0x100000ul)
#define KERNEL_VA   0xffffffff80100000ul
#define NONCANON_HI UK_USER_HALF_END
#define NONCANON_LO 0xffff800000000000ul
#define LAST_PAGE   UK_USER_MAP_TOP
#define FAULT_USER  UK_ACCESS_USER

static uk_word_t alias(unsigned i)         { return ALIAS_BASE + i * UK_PAGE_SIZE; }
static uk_word_t phys_of(const void *p)    { return (uk_word_t)p - UK_PHYS_WINDOW; }
static volatile uk_word_t *wp(uk_word_t a) { return (volatile uk_word_t *)a; }

static uk_word_t child_task(void)
{
    uk_word_t t = 0;
    KT_EQ(uk_task_new(CHILD_QUOTA, CHILD_SLOTS, 1, &t), UK_OK);
    return t;
}

/* Fresh pages holding `v` in word 0. */
static volatile uk_word_t *page_with(uk_word_t v)
{
    volatile uk_word_t *p = uk_pages_alloc(1);
    KT_CHECK(p != 0);
    p[0] = v;
    return p;
}

static uk_word_t phys_at(uk_word_t va)
{
    uk_word_t phys = 0, rights = 0;
    return uk_mem_info(va, &phys, &rights) == UK_OK ? phys : ~0ul;
}

static uk_word_t rights_at(uk_word_t va)
{
    uk_word_t phys = 0, rights = 0;
    return uk_mem_info(va, &phys, &rights) == UK_OK ? rights : ~0ul;
}

/* --- probes ------------------------------------------------------------------ */

enum { P_READ, P_WRITE, P_EXEC };

struct probe_req {
    uk_word_t va, op, value;
    volatile uk_word_t got;
    volatile long done;
};
static struct probe_req preq;          /* in the image: shared with children */

static void probe_fn(uk_word_t arg)
{
    struct probe_req *r = (struct probe_req *)arg;
    if (r->op == P_WRITE)
        *(volatile uk_word_t *)r->va = r->value;
    else if (r->op == P_EXEC)
        ((void (*)(void))r->va)();
    else
        r->got = *(volatile uk_word_t *)r->va;
    r->done = 1;
}

struct fault {
    uk_word_t label, flags, len, badge, w[4];
};

/* One access by a new thread in `task`: 0 if it completed (*got = what it
 * read), 1 if it faulted (*f = the message; the thread is stopped), -1 if
 * neither happened within two seconds.  The thread is destroyed. */
static int probe(uk_word_t task, uk_word_t va, int op, uk_word_t value,
                 uk_word_t *got, struct fault *f)
{
    uk_word_t ep = kt_endpoint();
    struct uk_spawned s;
    int result = -1;
    preq.va = va;
    preq.op = (uk_word_t)op;
    preq.value = value;
    preq.got = 0;
    preq.done = 0;
    long err = uk_spawn(task, probe_fn, (uk_word_t)&preq, 255, ep, &s);
    KT_EQ(err, UK_OK);
    if (err) {
        kt_destroy(ep);
        return -1;
    }
    uk_word_t end = uk_rdtsc() + kt_us_to_tsc(2000000);
    while (uk_rdtsc() < end) {
        struct uk_msg m = { .info = uk_msginfo(0, 0, UK_TIMEOUT_ZERO) };
        if (uk_recv(ep, &m) == UK_OK) {
            if (f) {
                f->label = uk_msg_label(m.info);
                f->flags = uk_msg_flags(m.info);
                f->len = uk_msg_len(m.info);
                f->badge = m.badge;
                for (int i = 0; i < 4; i++)
                    f->w[i] = m.w[i];
            }
            m.info = uk_msginfo(UK_FAULT_REPLY_STOP, 0, 0);
            KT_EQ(uk_reply(&m), UK_OK);
            result = 1;
            break;
        }
        if (preq.done) {
            if (got)
                *got = preq.got;
            result = 0;
            break;
        }
        uk_yield();
    }
    kt_destroy(s.thread);
    kt_destroy(ep);
    return result;
}

static uk_word_t read_in(uk_word_t task, uk_word_t va)
{
    uk_word_t got = ~0ul;
    KT_EQ(probe(task, va, P_READ, 0, &got, 0), 0);
    return got;
}

/* The access faults with a page fault at va; returns the access bits. */
static uk_word_t fault_access(uk_word_t task, uk_word_t va, int op)
{
    struct fault f = { 0 };
    KT_EQ(probe(task, va, op, 0xdead, 0, &f), 1);
    KT_EQ(f.label, UK_FAULT_PAGE);
    KT_CHECK(f.flags & UK_MSGF_FAULT);
    KT_EQ(f.w[0], va);
    return f.w[1];
}

/* --- mapping and sharing ------------------------------------------------------ */

KT_TEST(mem_map_into_child_task)
{
    uk_word_t task = child_task();
    volatile uk_word_t *p = page_with(0x1111), *q = page_with(0x2222);
    KT_EQ(uk_map(task, (uk_word_t)p, CHILD_VA, 1, RW), UK_OK);
    KT_EQ(read_in(task, CHILD_VA), 0x1111);
    KT_EQ(probe(task, CHILD_VA + 8, P_WRITE, 0xc0ffee, 0, 0), 0);
    KT_EQ(p[1], 0xc0ffee);                       /* the root sees the child's write */
    p[2] = 0x3333;
    KT_EQ(read_in(task, CHILD_VA + 16), 0x3333);  /* and the child the root's */

    /* a map onto a mapped page replaces it */
    KT_EQ(uk_map(task, (uk_word_t)q, CHILD_VA, 1, RW), UK_OK);
    KT_EQ(read_in(task, CHILD_VA), 0x2222);

    /* several pages in one call */
    volatile uk_word_t *r = uk_pages_alloc(4);
    for (int i = 0; i < 4; i++)
        r[i * 512] = 0x4400 + i;
    KT_EQ(uk_map(task, (uk_word_t)r, CHILD_VA + 16 * UK_PAGE_SIZE, 4, RW), UK_OK);
    KT_EQ(read_in(task, CHILD_VA + 16 * UK_PAGE_SIZE), 0x4400);
    KT_EQ(read_in(task, CHILD_VA + 19 * UK_PAGE_SIZE), 0x4403);
    KT_EQ(fault_access(task, CHILD_VA + 20 * UK_PAGE_SIZE, P_READ), UK_ACCESS_READ | FAULT_USER);

    kt_destroy(task);
    /* the task's end leaves the root's pages as they were */
    KT_EQ(p[1], 0xc0ffee);
    KT_EQ(rights_at((uk_word_t)p), RW);
    KT_EQ(phys_at((uk_word_t)p), phys_of((const void *)p));
}

KT_TEST(mem_self_alias_shares_memory)
{
    volatile uk_word_t *p = page_with(1);
    volatile uk_word_t *a0 = wp(alias(0)), *a1 = wp(alias(1)), *a2 = wp(alias(2));
    KT_EQ(uk_mem_info(alias(0), 0, 0), UK_E_NOT_MAPPED);
    KT_EQ(uk_mem_info(alias(1), 0, 0), UK_E_NOT_MAPPED);
    KT_EQ(uk_mem_info(alias(2), 0, 0), UK_E_NOT_MAPPED);

    KT_EQ(uk_map(UK_SLOT_SELF_TASK, (uk_word_t)p, alias(0), 1, RW), UK_OK);
    a0[3] = 0x5a5a;
    KT_EQ(p[3], 0x5a5a);
    p[4] = 0x7777;
    KT_EQ(a0[4], 0x7777);
    KT_EQ(phys_at(alias(0)), phys_of((const void *)p));
    KT_EQ(phys_at(alias(0) + 0x128), phys_of((const void *)p) + 0x128);
    KT_EQ(rights_at(alias(0)), RW);

    /* a read-only alias of the same page, and an alias of the alias */
    KT_EQ(uk_map(UK_SLOT_SELF_TASK, (uk_word_t)p, alias(1), 1, UK_MAP_READ), UK_OK);
    KT_EQ(rights_at(alias(1)), UK_MAP_READ);
    KT_EQ(a1[3], 0x5a5a);
    KT_EQ(uk_map(UK_SLOT_SELF_TASK, alias(0), alias(2), 1, UK_MAP_RWX), UK_OK);
    KT_EQ(rights_at(alias(2)), RW);            /* no exec: the source had none */
    a2[5] = 0x9999;
    KT_EQ(p[5], 0x9999);

    /* unmapping alias 0 takes alias 2 (made from it) along, not alias 1 */
    KT_EQ(uk_unmap(UK_SLOT_SELF_TASK, alias(0), 1), UK_OK);
    KT_EQ(uk_mem_info(alias(0), 0, 0), UK_E_NOT_MAPPED);
    KT_EQ(uk_mem_info(alias(2), 0, 0), UK_E_NOT_MAPPED);
    KT_EQ(rights_at(alias(1)), UK_MAP_READ);
    KT_EQ(a1[5], 0x9999);
    KT_EQ(uk_unmap(UK_SLOT_SELF_TASK, alias(1), 1), UK_OK);
    KT_EQ(uk_mem_info(alias(1), 0, 0), UK_E_NOT_MAPPED);
    KT_EQ(p[3], 0x5a5a);
    KT_EQ(rights_at((uk_word_t)p), RW);
}

static const char ro_string[] = "read-only data";
static uk_word_t rw_word = 1;

KT_TEST(mem_info_reports_own_pages)
{
    volatile uk_word_t *p = page_with(0);
    uk_word_t phys = 0, rights = 0;
    KT_EQ(uk_mem_info((uk_word_t)p + 0x10, &phys, &rights), UK_OK);
    KT_EQ(phys, phys_of((const void *)p) + 0x10);
    KT_EQ(rights, RW);
    KT_EQ(rights_at((uk_word_t)probe_fn), UK_MAP_READ | UK_MAP_EXEC);
    KT_EQ(rights_at((uk_word_t)ro_string), UK_MAP_READ);
    KT_EQ(rights_at((uk_word_t)&rw_word), RW);
    KT_EQ(rights_at(UK_BOOTINFO_VADDR), UK_MAP_READ);
    KT_EQ(rights_at(UK_ROOT_IPC_BUFFER), RW);
    KT_EQ(uk_mem_info(UK_ROOT_STACK_TOP, 0, 0), UK_E_NOT_MAPPED);   /* guard page */
    KT_EQ(uk_mem_info(alias(0), 0, 0), UK_E_NOT_MAPPED);
    KT_EQ(uk_mem_info(0, 0, 0), UK_E_NOT_MAPPED);
    KT_EQ(uk_mem_info(KERNEL_VA, 0, 0), UK_E_ADDR);
    KT_EQ(uk_mem_info(NONCANON_HI, 0, 0), UK_E_ADDR);
    KT_EQ(uk_mem_info(NONCANON_LO, 0, 0), UK_E_ADDR);
    KT_EQ(uk_mem_info(LAST_PAGE, 0, 0), UK_E_ADDR);
}

/* --- rights -------------------------------------------------------------------- */

__attribute__((noinline)) static void nop_fn(void)
{
    __asm__ volatile("");
}

KT_TEST(mem_map_rights_only_shrink)
{
    uk_word_t task = child_task();
    volatile uk_word_t *p = page_with(0x5150);
    ((volatile unsigned char *)p)[0x800] = 0xc3;         /* ret */
    /* a read-only alias in the root, mapped on with all rights */
    KT_EQ(uk_map(UK_SLOT_SELF_TASK, (uk_word_t)p, alias(0), 1, UK_MAP_READ), UK_OK);
    KT_EQ(uk_map(task, alias(0), CHILD_VA, 1, UK_MAP_RWX), UK_OK);
    KT_EQ(read_in(task, CHILD_VA), 0x5150);
    KT_EQ(fault_access(task, CHILD_VA + 8, P_WRITE),
          UK_ACCESS_WRITE | UK_ACCESS_PRESENT | FAULT_USER);
    KT_EQ(p[1], 0);
    KT_EQ(fault_access(task, CHILD_VA + 0x800, P_EXEC),
          UK_ACCESS_READ | UK_ACCESS_EXEC | UK_ACCESS_PRESENT | FAULT_USER);

    /* the root's own page has no exec right either: RWX gives RW */
    KT_EQ(uk_map(task, (uk_word_t)p, CHILD_VA + UK_PAGE_SIZE, 1, UK_MAP_RWX), UK_OK);
    KT_EQ(probe(task, CHILD_VA + UK_PAGE_SIZE + 8, P_WRITE, 0x77, 0, 0), 0);
    KT_EQ(p[1], 0x77);
    KT_EQ(fault_access(task, CHILD_VA + UK_PAGE_SIZE + 0x800, P_EXEC),
          UK_ACCESS_READ | UK_ACCESS_EXEC | UK_ACCESS_PRESENT | FAULT_USER);

    /* text is read+exec: a child may run it mapped elsewhere, not write it */
    uk_word_t text_page = (uk_word_t)nop_fn & ~(UK_PAGE_SIZE - 1);
    KT_EQ(uk_map(task, text_page, CHILD_VA + 2 * UK_PAGE_SIZE, 1, UK_MAP_RWX), UK_OK);
    KT_EQ(probe(task, CHILD_VA + 2 * UK_PAGE_SIZE + ((uk_word_t)nop_fn & (UK_PAGE_SIZE - 1)), P_EXEC, 0, 0, 0), 0);
    KT_EQ(fault_access(task, CHILD_VA + 2 * UK_PAGE_SIZE, P_WRITE),
          UK_ACCESS_WRITE | UK_ACCESS_PRESENT | FAULT_USER);

    kt_destroy(task);
    KT_EQ(uk_unmap(UK_SLOT_SELF_TASK, alias(0), 1), UK_OK);
}

KT_TEST(mem_protect_readonly_then_write_faults)
{
    uk_word_t task = child_task();
    volatile uk_word_t *p = page_with(0);
    KT_EQ(uk_map(task, (uk_word_t)p, CHILD_VA, 1, RW), UK_OK);
    KT_EQ(probe(task, CHILD_VA, P_WRITE, 1, 0, 0), 0);
    KT_EQ(p[0], 1);

    KT_EQ(uk_protect(task, CHILD_VA, 1, UK_MAP_READ), UK_OK);
    KT_EQ(fault_access(task, CHILD_VA, P_WRITE), UK_ACCESS_WRITE | UK_ACCESS_PRESENT | FAULT_USER);
    KT_EQ(p[0], 1);
    KT_EQ(read_in(task, CHILD_VA), 1);

    KT_EQ(uk_protect(task, CHILD_VA, 1, RW), UK_OK);            /* back: the parent has W */
    KT_EQ(probe(task, CHILD_VA, P_WRITE, 2, 0, 0), 0);
    KT_EQ(p[0], 2);

    /* from a read-only source, protect cannot add the write right */
    KT_EQ(uk_map(UK_SLOT_SELF_TASK, (uk_word_t)p, alias(0), 1, UK_MAP_READ), UK_OK);
    KT_EQ(uk_map(task, alias(0), CHILD_VA + UK_PAGE_SIZE, 1, RW), UK_OK);
    KT_EQ(uk_protect(task, CHILD_VA + UK_PAGE_SIZE, 1, UK_MAP_RWX), UK_OK);
    KT_EQ(fault_access(task, CHILD_VA + UK_PAGE_SIZE, P_WRITE), UK_ACCESS_WRITE | UK_ACCESS_PRESENT | FAULT_USER);
    KT_EQ(p[0], 2);

    /* protecting the source takes the right from what was mapped from it */
    KT_EQ(uk_protect(UK_SLOT_SELF_TASK, (uk_word_t)p, 1, UK_MAP_READ), UK_OK);
    KT_EQ(fault_access(task, CHILD_VA, P_WRITE), UK_ACCESS_WRITE | UK_ACCESS_PRESENT | FAULT_USER);
    KT_EQ(uk_protect(UK_SLOT_SELF_TASK, (uk_word_t)p, 1, RW), UK_OK);
    KT_EQ(rights_at((uk_word_t)p), RW);
    KT_EQ(fault_access(task, CHILD_VA, P_WRITE), UK_ACCESS_WRITE | UK_ACCESS_PRESENT | FAULT_USER);
    KT_EQ(uk_protect(task, CHILD_VA, 1, RW), UK_OK);
    KT_EQ(probe(task, CHILD_VA, P_WRITE, 3, 0, 0), 0);
    KT_EQ(p[0], 3);

    kt_destroy(task);
    KT_EQ(uk_unmap(UK_SLOT_SELF_TASK, alias(0), 1), UK_OK);
}

/* UNMAP and PROTECT of many mapped pages are preemption points: the
 * kernel stops every UK_PREEMPT_PAGES pages, returns to user and runs the
 * call again for the rest, so one call keeps it busy for a bounded time;
 * the caller sees one call, done in full (docs/ABI.md §9.10). */
KT_TEST(mem_long_unmap_and_protect_go_on_after_preemption_points)
{
    enum { N = 4096 };
    uk_word_t t = 0;
    KT_EQ(uk_task_new(2ul << 20, CHILD_SLOTS, 1, &t), UK_OK);
    unsigned char *pages = uk_pages_alloc(N);
    KT_CHECK(pages != 0);
    KT_EQ(uk_map(t, (uk_word_t)pages, CHILD_VA, N, RW), UK_OK);
    KT_EQ(probe(t, CHILD_VA + (N - 1) * UK_PAGE_SIZE, P_WRITE, 7, 0, 0), 0);   /* the last page */

    struct uk_stats a = kt_stats();
    KT_EQ(uk_protect(t, CHILD_VA, N, UK_MAP_READ), UK_OK);
    struct uk_stats b = kt_stats();
    KT_EQ(b.preemptions - a.preemptions, N / UK_PREEMPT_PAGES - 1);
    KT_EQ(fault_access(t, CHILD_VA + (N - 1) * UK_PAGE_SIZE, P_WRITE),     /* all of it */
          UK_ACCESS_WRITE | UK_ACCESS_PRESENT | FAULT_USER);
    KT_EQ(read_in(t, CHILD_VA + (N - 1) * UK_PAGE_SIZE), 7);

    a = kt_stats();
    KT_EQ(uk_unmap(t, CHILD_VA, N), UK_OK);
    b = kt_stats();
    KT_EQ(b.preemptions - a.preemptions, N / UK_PREEMPT_PAGES - 1);
    KT_EQ(fault_access(t, CHILD_VA + (N - 1) * UK_PAGE_SIZE, P_READ), UK_ACCESS_READ | FAULT_USER);  /* not mapped */
    KT_EQ(fault_access(t, CHILD_VA, P_READ), UK_ACCESS_READ | FAULT_USER);
    /* a range with nothing mapped costs no preemption point */
    a = kt_stats();
    KT_EQ(uk_unmap(t, CHILD_VA, N), UK_OK);
    b = kt_stats();
    KT_EQ(b.preemptions - a.preemptions, 0);
    kt_destroy(t);
}

/* MAP is a preemption point too: a long MAP goes in parts of
 * UK_PREEMPT_PAGES with a return to user between them, so the longest
 * stretch the kernel runs for one call is one part (docs/ABI.md §9.10; the
 * bench's longest.map row maps UK_MAP_MAX_PAGES, 64 parts); the caller
 * sees one call, done in full.  An error in a later part leaves the
 * earlier parts mapped.  (32 MiB here: the suite's machine has 512.) */
KT_TEST(mem_long_map_goes_on_after_preemption_points)
{
    enum { N = 8 * UK_PREEMPT_PAGES };
    uk_word_t t = 0;
    KT_EQ(uk_task_new(4ul << 20, CHILD_SLOTS, 1, &t), UK_OK);
    unsigned char *pages = uk_pages_alloc(N);
    KT_CHECK(pages != 0);
    pages[(N - 1) * UK_PAGE_SIZE] = 9;

    struct uk_stats a = kt_stats();
    KT_EQ(uk_map(t, (uk_word_t)pages, CHILD_VA, N, RW), UK_OK);
    struct uk_stats b = kt_stats();
    KT_EQ(b.preemptions - a.preemptions, N / UK_PREEMPT_PAGES - 1);
    KT_EQ(read_in(t, CHILD_VA + (N - 1) * UK_PAGE_SIZE), 9);   /* the last page */
    KT_EQ(read_in(t, CHILD_VA), 0);
    KT_EQ(uk_unmap(t, CHILD_VA, N), UK_OK);

    /* a source page missing in the second part: the first part is mapped */
    enum { M = 2 * UK_PREEMPT_PAGES };
    uk_word_t hole = (uk_word_t)pages + (UK_PREEMPT_PAGES + 5) * UK_PAGE_SIZE;
    KT_EQ(uk_protect(UK_SLOT_SELF_TASK, hole, 1, 0), UK_OK);   /* no access: not to give */
    a = kt_stats();
    KT_EQ(uk_map(t, (uk_word_t)pages, CHILD_VA, M, RW), UK_E_NOT_MAPPED);
    b = kt_stats();
    KT_EQ(b.preemptions - a.preemptions, 1);
    KT_EQ(read_in(t, CHILD_VA + (UK_PREEMPT_PAGES - 1) * UK_PAGE_SIZE), 0);   /* part 1 */
    KT_EQ(fault_access(t, CHILD_VA + UK_PREEMPT_PAGES * UK_PAGE_SIZE, P_READ),
          UK_ACCESS_READ | FAULT_USER);                                       /* not part 2 */
    KT_EQ(uk_protect(UK_SLOT_SELF_TASK, hole, 1, RW), UK_OK);
    kt_destroy(t);
}

/* Rights 0: no access at all (PROT_NONE): reads and writes fault as not
 * present, the kernel will not touch it either, the page cannot be given
 * on, and its rights come back with the next PROTECT; mappings derived
 * from it lose every right and get back only what is asked of them. */
KT_TEST(mem_protect_none_then_restore)
{
    uk_word_t task = child_task();
    volatile uk_word_t *p = page_with(7);
    uk_word_t pa = 0, r = 0;
    KT_EQ(uk_map(task, (uk_word_t)p, CHILD_VA, 1, RW), UK_OK);
    KT_EQ(read_in(task, CHILD_VA), 7);

    KT_EQ(uk_protect(task, CHILD_VA, 1, 0), UK_OK);
    KT_EQ(fault_access(task, CHILD_VA, P_READ), UK_ACCESS_READ | FAULT_USER);   /* not present */
    KT_EQ(fault_access(task, CHILD_VA, P_WRITE), UK_ACCESS_WRITE | FAULT_USER);
    KT_EQ(p[0], 7);
    KT_EQ(uk_protect(task, CHILD_VA, 1, UK_MAP_READ), UK_OK);       /* back, read only */
    KT_EQ(read_in(task, CHILD_VA), 7);
    KT_EQ(fault_access(task, CHILD_VA, P_WRITE), UK_ACCESS_WRITE | UK_ACCESS_PRESENT | FAULT_USER);
    KT_EQ(uk_protect(task, CHILD_VA, 1, RW), UK_OK);
    KT_EQ(probe(task, CHILD_VA, P_WRITE, 8, 0, 0), 0);
    KT_EQ(p[0], 8);

    /* our own page to nothing: still mapped (rights 0), not ours to give,
     * not readable by the kernel (a string we print from it) */
    KT_EQ(uk_map(UK_SLOT_SELF_TASK, (uk_word_t)p, alias(0), 1, RW), UK_OK);
    KT_EQ(uk_map(UK_SLOT_SELF_TASK, alias(0), alias(1), 1, RW), UK_OK);
    KT_EQ(uk_protect(UK_SLOT_SELF_TASK, alias(0), 1, 0), UK_OK);
    KT_EQ(uk_mem_info(alias(0), &pa, &r), UK_OK);
    KT_EQ(r, 0);
    KT_EQ(rights_at(alias(1)), 0);                       /* derived: nothing either */
    KT_EQ(uk_map(task, alias(0), CHILD_VA + UK_PAGE_SIZE, 1, UK_MAP_READ), UK_E_NOT_MAPPED);
    KT_EQ(uk_debug_puts((const char *)alias(0), 1), UK_E_ADDR);
    KT_EQ(uk_protect(UK_SLOT_SELF_TASK, alias(0), 1, RW), UK_OK);
    KT_EQ(rights_at(alias(0)), RW);
    KT_EQ(rights_at(alias(1)), 0);                       /* derived do not regain */
    KT_EQ(uk_protect(UK_SLOT_SELF_TASK, alias(1), 1, UK_MAP_READ), UK_OK);
    KT_EQ(rights_at(alias(1)), UK_MAP_READ);
    KT_EQ(((volatile uk_word_t *)alias(1))[0], 8);

    kt_destroy(task);
    KT_EQ(uk_unmap(UK_SLOT_SELF_TASK, alias(0), 2), UK_OK);
}

KT_TEST(mem_protect_limited_by_parent_rights)
{
    volatile uk_word_t *p = page_with(0x42);
    KT_EQ(uk_map(UK_SLOT_SELF_TASK, (uk_word_t)p, alias(0), 1, RW), UK_OK);
    KT_EQ(uk_map(UK_SLOT_SELF_TASK, alias(0), alias(1), 1, RW), UK_OK);

    KT_EQ(uk_protect(UK_SLOT_SELF_TASK, alias(0), 1, UK_MAP_READ), UK_OK);
    KT_EQ(rights_at(alias(0)), UK_MAP_READ);
    KT_EQ(rights_at(alias(1)), UK_MAP_READ);             /* derived: lost W too */
    KT_EQ(rights_at((uk_word_t)p), RW);                  /* the source keeps it */

    KT_EQ(uk_protect(UK_SLOT_SELF_TASK, alias(1), 1, RW), UK_OK);
    KT_EQ(rights_at(alias(1)), UK_MAP_READ);             /* not above its parent */
    KT_EQ(uk_protect(UK_SLOT_SELF_TASK, alias(0), 1, UK_MAP_RWX), UK_OK);
    KT_EQ(rights_at(alias(0)), RW);                      /* not above p: no X */
    KT_EQ(rights_at(alias(1)), UK_MAP_READ);             /* derived do not regain */
    KT_EQ(uk_protect(UK_SLOT_SELF_TASK, alias(1), 1, RW), UK_OK);
    KT_EQ(rights_at(alias(1)), RW);
    wp(alias(1))[1] = 0x43;
    KT_EQ(p[1], 0x43);

    /* bad arguments change nothing */
    KT_EQ(uk_protect(UK_SLOT_SELF_TASK, alias(0), 1, 8), UK_E_INVAL);
    KT_EQ(uk_protect(UK_SLOT_SELF_TASK, alias(0) + 8, 1, UK_MAP_READ), UK_E_INVAL);
    KT_EQ(uk_protect(UK_SLOT_SELF_TASK, alias(0), 0, UK_MAP_READ), UK_E_INVAL);
    KT_EQ(uk_protect(UK_SLOT_SELF_TASK, KERNEL_VA, 1, UK_MAP_READ), UK_E_ADDR);
    KT_EQ(uk_protect(UK_SLOT_SELF_TASK, NONCANON_HI, 1, UK_MAP_READ), UK_E_ADDR);
    KT_EQ(uk_protect(UK_SLOT_SELF_TASK, LAST_PAGE, 1, UK_MAP_READ), UK_E_ADDR);
    KT_EQ(rights_at(alias(0)), RW);
    KT_EQ(rights_at(alias(1)), RW);
    /* unmapped pages in the range are skipped */
    KT_EQ(uk_protect(UK_SLOT_SELF_TASK, alias(5), 1, UK_MAP_READ), UK_OK);
    KT_EQ(uk_mem_info(alias(5), 0, 0), UK_E_NOT_MAPPED);

    KT_EQ(uk_unmap(UK_SLOT_SELF_TASK, alias(0), 1), UK_OK);
    KT_EQ(uk_mem_info(alias(1), 0, 0), UK_E_NOT_MAPPED);
    KT_EQ(p[1], 0x43);
}

/* --- unmap ------------------------------------------------------------------------ */

KT_TEST(mem_unmap_alias_revokes_child_mapping)
{
    uk_word_t task = child_task();
    volatile uk_word_t *p = page_with(0xa1a5);
    KT_EQ(uk_map(UK_SLOT_SELF_TASK, (uk_word_t)p, alias(0), 1, RW), UK_OK);
    KT_EQ(uk_map(task, alias(0), CHILD_VA, 1, RW), UK_OK);
    KT_EQ(read_in(task, CHILD_VA), 0xa1a5);

    KT_EQ(uk_unmap(UK_SLOT_SELF_TASK, alias(0), 1), UK_OK);
    KT_EQ(fault_access(task, CHILD_VA, P_READ), UK_ACCESS_READ | FAULT_USER);
    KT_EQ(uk_mem_info(alias(0), 0, 0), UK_E_NOT_MAPPED);
    KT_EQ(p[0], 0xa1a5);
    KT_EQ(rights_at((uk_word_t)p), RW);
    kt_destroy(task);
}

KT_TEST(mem_unmap_in_child_keeps_root_page)
{
    uk_word_t task = child_task();
    volatile uk_word_t *p = page_with(0);
    KT_EQ(uk_map(task, (uk_word_t)p, CHILD_VA, 1, RW), UK_OK);
    KT_EQ(probe(task, CHILD_VA, P_WRITE, 0xbeef, 0, 0), 0);
    KT_EQ(uk_unmap(task, CHILD_VA, 1), UK_OK);
    KT_EQ(fault_access(task, CHILD_VA, P_READ), UK_ACCESS_READ | FAULT_USER);
    KT_EQ(p[0], 0xbeef);
    KT_EQ(phys_at((uk_word_t)p), phys_of((const void *)p));
    KT_EQ(rights_at((uk_word_t)p), RW);
    KT_EQ(uk_unmap(task, CHILD_VA, 1), UK_OK);          /* again: nothing to do */
    KT_EQ(uk_unmap(task, CHILD_VA - 4 * UK_PAGE_SIZE, 16), UK_OK);   /* holes are fine */
    KT_EQ(uk_unmap(task, CHILD_VA + 1, 1), UK_E_INVAL);
    KT_EQ(uk_unmap(task, CHILD_VA, 0), UK_E_INVAL);
    KT_EQ(uk_unmap(task, KERNEL_VA, 1), UK_E_ADDR);
    KT_EQ(uk_unmap(task, NONCANON_HI, 1), UK_E_ADDR);
    kt_destroy(task);
    KT_EQ(p[0], 0xbeef);
}

/* Task B maps what it got onto itself and on into task C. */
static volatile long chain_r1 = -1, chain_r2 = -1, chain_done;

static void chain_fn(uk_word_t arg)
{
    chain_r1 = uk_map(1, CHILD_VA, CHILD_VA + 8 * UK_PAGE_SIZE, 1, RW);     /* slot 1: B */
    chain_r2 = uk_map(2, CHILD_VA + 8 * UK_PAGE_SIZE, arg, 1, UK_MAP_READ); /* slot 2: C */
    *(volatile uk_word_t *)(CHILD_VA + 8 * UK_PAGE_SIZE + 8) = 0x77;
    chain_done = 1;
}

KT_TEST(mem_unmap_revokes_chain_across_tasks)
{
    uk_word_t b = child_task(), c = child_task();
    KT_EQ(uk_cap_copy(b, b, 1, UK_R_ALL, 0), UK_OK);
    KT_EQ(uk_cap_copy(c, b, 2, UK_R_ALL, 0), UK_OK);
    volatile uk_word_t *p = page_with(0x1234);
    KT_EQ(uk_map(UK_SLOT_SELF_TASK, (uk_word_t)p, alias(0), 1, RW), UK_OK);
    KT_EQ(uk_map(b, alias(0), CHILD_VA, 1, RW), UK_OK);

    struct uk_spawned s;
    uk_word_t cva = CHILD_VA + 32 * UK_PAGE_SIZE;
    chain_done = 0;
    KT_EQ(uk_spawn(b, chain_fn, cva, 255, 0, &s), UK_OK);
    KT_CHECK(kt_wait_flag(&chain_done, 2000000));
    kt_destroy(s.thread);
    KT_EQ(chain_r1, UK_OK);
    KT_EQ(chain_r2, UK_OK);
    KT_EQ(p[1], 0x77);
    KT_EQ(read_in(c, cva), 0x1234);
    KT_EQ(fault_access(c, cva, P_WRITE), UK_ACCESS_WRITE | UK_ACCESS_PRESENT | FAULT_USER);

    /* root -> alias -> B -> B's alias -> C: cut at the alias */
    KT_EQ(uk_unmap(UK_SLOT_SELF_TASK, alias(0), 1), UK_OK);
    KT_EQ(fault_access(b, CHILD_VA, P_READ), UK_ACCESS_READ | FAULT_USER);
    KT_EQ(fault_access(b, CHILD_VA + 8 * UK_PAGE_SIZE, P_READ), UK_ACCESS_READ | FAULT_USER);
    KT_EQ(fault_access(c, cva, P_READ), UK_ACCESS_READ | FAULT_USER);
    KT_EQ(p[0], 0x1234);
    KT_EQ(rights_at((uk_word_t)p), RW);

    /* again, cut in the middle: B's unmap takes C's page, not the root's */
    KT_EQ(uk_map(b, (uk_word_t)p, CHILD_VA, 1, RW), UK_OK);
    chain_done = 0;
    KT_EQ(uk_spawn(b, chain_fn, cva, 255, 0, &s), UK_OK);
    KT_CHECK(kt_wait_flag(&chain_done, 2000000));
    kt_destroy(s.thread);
    KT_EQ(read_in(c, cva), 0x1234);
    KT_EQ(uk_unmap(b, CHILD_VA + 8 * UK_PAGE_SIZE, 1), UK_OK);
    KT_EQ(fault_access(c, cva, P_READ), UK_ACCESS_READ | FAULT_USER);
    KT_EQ(read_in(b, CHILD_VA), 0x1234);
    KT_EQ(rights_at((uk_word_t)p), RW);

    kt_destroy(b);
    kt_destroy(c);
}

/* --- bad input -------------------------------------------------------------------- */

KT_TEST(mem_map_unmapped_source_changes_nothing)
{
    uk_word_t task = child_task();
    volatile uk_word_t *p = page_with(0x600d), *q = page_with(0xbad);
    KT_EQ(uk_map(task, (uk_word_t)p, CHILD_VA, 1, RW), UK_OK);
    KT_EQ(uk_map(UK_SLOT_SELF_TASK, (uk_word_t)q, alias(0), 1, RW), UK_OK);
    KT_EQ(uk_mem_info(alias(1), 0, 0), UK_E_NOT_MAPPED);

    KT_EQ(uk_map(task, alias(1), CHILD_VA, 1, RW), UK_E_NOT_MAPPED);
    /* the first page is ours, the second not: nothing is mapped */
    KT_EQ(uk_map(task, alias(0), CHILD_VA, 2, RW), UK_E_NOT_MAPPED);
    KT_EQ(uk_map(task, 0, CHILD_VA, 1, RW), UK_E_NOT_MAPPED);
    KT_EQ(read_in(task, CHILD_VA), 0x600d);
    KT_EQ(fault_access(task, CHILD_VA + UK_PAGE_SIZE, P_READ), UK_ACCESS_READ | FAULT_USER);

    /* into the root itself likewise */
    KT_EQ(uk_map(UK_SLOT_SELF_TASK, alias(1), alias(2), 1, RW), UK_E_NOT_MAPPED);
    KT_EQ(uk_mem_info(alias(2), 0, 0), UK_E_NOT_MAPPED);
    KT_EQ(uk_map(UK_SLOT_SELF_TASK, alias(0), alias(2), 2, RW), UK_E_NOT_MAPPED);
    KT_EQ(uk_mem_info(alias(2), 0, 0), UK_E_NOT_MAPPED);
    KT_EQ(phys_at(alias(0)), phys_of((const void *)q));

    kt_destroy(task);
    KT_EQ(uk_unmap(UK_SLOT_SELF_TASK, alias(0), 1), UK_OK);
}

KT_TEST(mem_map_unaligned_or_empty_is_inval)
{
    uk_word_t task = child_task();
    volatile uk_word_t *p = page_with(0x600d);
    uk_word_t src = (uk_word_t)p;
    KT_EQ(uk_map(task, src, CHILD_VA, 1, RW), UK_OK);
    KT_EQ(uk_map(task, src + 8, CHILD_VA + UK_PAGE_SIZE, 1, RW), UK_E_INVAL);
    KT_EQ(uk_map(task, src, CHILD_VA + UK_PAGE_SIZE + 0x800, 1, RW), UK_E_INVAL);
    KT_EQ(uk_map(task, src + 1, CHILD_VA + 1, 1, RW), UK_E_INVAL);
    KT_EQ(uk_map(task, src, CHILD_VA + UK_PAGE_SIZE, 0, RW), UK_E_INVAL);
    KT_EQ(uk_map(task, src, CHILD_VA + UK_PAGE_SIZE, UK_MAP_MAX_PAGES + 1, RW), UK_E_INVAL);
    KT_EQ(uk_map(task, src, CHILD_VA + UK_PAGE_SIZE, ~0ul, RW), UK_E_INVAL);
    KT_EQ(uk_map(task, src, CHILD_VA + UK_PAGE_SIZE, 1, 0), UK_E_INVAL);
    KT_EQ(uk_map(task, src, CHILD_VA + UK_PAGE_SIZE, 1, 8), UK_E_INVAL);
    KT_EQ(uk_map(task, src, CHILD_VA + UK_PAGE_SIZE, 1, UK_MAP_RWX | 0x100), UK_E_INVAL);
    KT_EQ(uk_map(task, src, CHILD_VA + UK_PAGE_SIZE, 1, (1ul << 32) | RW), UK_E_INVAL);
    KT_EQ(uk_protect(task, CHILD_VA, 1, (1ul << 32) | UK_MAP_READ), UK_E_INVAL);
    KT_EQ(uk_map(task, src, CHILD_VA + UK_PAGE_SIZE, (1ul << 32) | 1, RW), UK_E_INVAL);
    /* an existing mapping at the destination is left alone */
    KT_EQ(uk_map(task, src + 8, CHILD_VA, 1, RW), UK_E_INVAL);
    KT_EQ(uk_map(task, src, CHILD_VA, 1, 0), UK_E_INVAL);
    KT_EQ(uk_map(task, src, CHILD_VA, 0, RW), UK_E_INVAL);
    KT_EQ(read_in(task, CHILD_VA), 0x600d);
    KT_EQ(fault_access(task, CHILD_VA + UK_PAGE_SIZE, P_READ), UK_ACCESS_READ | FAULT_USER);
    kt_destroy(task);
}

KT_TEST(mem_map_kernel_or_noncanonical_is_addr)
{
    uk_word_t task = child_task();
    volatile uk_word_t *p = page_with(0x600d);
    uk_word_t src = (uk_word_t)p;
    KT_EQ(uk_map(task, src, CHILD_VA, 1, RW), UK_OK);
    static const uk_word_t bad[] = {
        KERNEL_VA, 0xffffffff80000000ul, NONCANON_LO, NONCANON_HI,
        0x0000800000001000ul, 0xfffffffffffff000ul, 0x8000000000000000ul,
    };
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        KT_EQ(uk_map(task, bad[i], CHILD_VA, 1, RW), UK_E_ADDR);     /* as source */
        KT_EQ(uk_map(task, src, bad[i], 1, RW), UK_E_ADDR);          /* as destination */
        KT_EQ(uk_map(UK_SLOT_SELF_TASK, src, bad[i], 1, RW), UK_E_ADDR);
    }
    /* a range that runs off the user half */
    KT_EQ(uk_map(task, src, 0x00007ffffff00000ul, 0x200, RW), UK_E_ADDR);
    KT_EQ(uk_map(task, 0x00007ffffff00000ul, CHILD_VA, 0x200, RW), UK_E_ADDR);
    KT_EQ(read_in(task, CHILD_VA), 0x600d);
    kt_destroy(task);
}

KT_TEST(mem_map_overlapping_self_map_is_inval)
{
    volatile uk_word_t *p = uk_pages_alloc(4);
    p[0] = 0xabc;
    uk_word_t src = (uk_word_t)p;
    KT_EQ(uk_map(UK_SLOT_SELF_TASK, src, src, 1, RW), UK_E_INVAL);
    KT_EQ(uk_map(UK_SLOT_SELF_TASK, src, src + UK_PAGE_SIZE, 2, RW), UK_E_INVAL);
    KT_EQ(uk_map(UK_SLOT_SELF_TASK, src + UK_PAGE_SIZE, src, 2, RW), UK_E_INVAL);
    KT_EQ(uk_map(UK_SLOT_SELF_TASK, src, src + 3 * UK_PAGE_SIZE, 4, RW), UK_E_INVAL);
    for (int i = 0; i < 4; i++)
        KT_EQ(phys_at(src + i * UK_PAGE_SIZE), phys_of((const void *)p) + i * UK_PAGE_SIZE);
    KT_EQ(p[0], 0xabc);
    /* adjacent but not overlapping: fine (into the alias area) */
    KT_EQ(uk_map(UK_SLOT_SELF_TASK, alias(0), alias(1), 1, RW), UK_E_NOT_MAPPED);
    KT_EQ(uk_map(UK_SLOT_SELF_TASK, src, alias(0), 2, RW), UK_OK);
    KT_EQ(uk_map(UK_SLOT_SELF_TASK, alias(0), alias(1), 2, RW), UK_E_INVAL);
    KT_EQ(phys_at(alias(1)), phys_of((const void *)p) + UK_PAGE_SIZE);
    KT_EQ(uk_unmap(UK_SLOT_SELF_TASK, alias(0), 2), UK_OK);
}

KT_TEST(mem_map_last_user_page_is_addr)
{
    uk_word_t task = child_task();
    volatile uk_word_t *p = uk_pages_alloc(2);
    uk_word_t src = (uk_word_t)p;
    KT_EQ(uk_map(task, src, LAST_PAGE, 1, RW), UK_E_ADDR);
    KT_EQ(uk_map(task, src, LAST_PAGE - UK_PAGE_SIZE, 2, RW), UK_E_ADDR);
    KT_EQ(uk_map(UK_SLOT_SELF_TASK, src, LAST_PAGE, 1, RW), UK_E_ADDR);
    KT_EQ(uk_unmap(task, LAST_PAGE, 1), UK_E_ADDR);
    KT_EQ(uk_protect(task, LAST_PAGE, 1, UK_MAP_READ), UK_E_ADDR);
    /* the page below it is an ordinary user page */
    p[0] = 0x1a57;
    KT_EQ(uk_map(task, src, LAST_PAGE - UK_PAGE_SIZE, 1, RW), UK_OK);
    KT_EQ(read_in(task, LAST_PAGE - UK_PAGE_SIZE), 0x1a57);
    KT_EQ(uk_unmap(task, LAST_PAGE - UK_PAGE_SIZE, 1), UK_OK);
    kt_destroy(task);
}

KT_TEST(mem_map_needs_a_task_cap)
{
    uk_word_t task = child_task();
    uk_word_t src = (uk_word_t)page_with(0x600d);
    uk_word_t ep = kt_endpoint();
    KT_EQ(uk_map(ep, src, CHILD_VA, 1, RW), UK_E_CAP_TYPE);
    KT_EQ(uk_map(UK_SLOT_SELF_THREAD, src, CHILD_VA, 1, RW), UK_E_CAP_TYPE);
    KT_EQ(uk_unmap(ep, CHILD_VA, 1), UK_E_CAP_TYPE);
    KT_EQ(uk_protect(ep, CHILD_VA, 1, UK_MAP_READ), UK_E_CAP_TYPE);
    uk_word_t empty = uk_slot_alloc();
    KT_EQ(uk_map(empty, src, CHILD_VA, 1, RW), UK_E_CAP);
    KT_EQ(uk_map(UK_ROOT_CAP_SLOTS + 5, src, CHILD_VA, 1, RW), UK_E_CAP);
    KT_EQ(uk_map(~0ul, src, CHILD_VA, 1, RW), UK_E_CAP);
    /* a task cap without the control right */
    uk_word_t weak = uk_slot_alloc();
    KT_EQ(uk_cap_copy(task, UK_SLOT_SELF_TASK, weak, UK_R_READ | UK_R_WRITE, 0), UK_OK);
    KT_EQ(uk_map(weak, src, CHILD_VA, 1, RW), UK_E_RIGHTS);
    KT_EQ(uk_unmap(weak, CHILD_VA, 1), UK_E_RIGHTS);
    KT_EQ(fault_access(task, CHILD_VA, P_READ), UK_ACCESS_READ | FAULT_USER);
    uk_cap_delete(UK_SLOT_SELF_TASK, weak);
    kt_destroy(ep);
    kt_destroy(task);
}

KT_TEST(mem_map_onto_own_source_is_busy)
{
    volatile uk_word_t *p = page_with(0x50c);
    KT_EQ(uk_map(UK_SLOT_SELF_TASK, (uk_word_t)p, alias(0), 1, RW), UK_OK);
    KT_EQ(uk_map(UK_SLOT_SELF_TASK, alias(0), alias(1), 1, RW), UK_OK);
    /* replacing p (or alias 0) would unmap the very page being mapped */
    KT_EQ(uk_map(UK_SLOT_SELF_TASK, alias(0), (uk_word_t)p, 1, RW), UK_E_BUSY);
    KT_EQ(uk_map(UK_SLOT_SELF_TASK, alias(1), (uk_word_t)p, 1, RW), UK_E_BUSY);
    KT_EQ(uk_map(UK_SLOT_SELF_TASK, alias(1), alias(0), 1, RW), UK_E_BUSY);
    KT_EQ(phys_at((uk_word_t)p), phys_of((const void *)p));
    KT_EQ(phys_at(alias(0)), phys_of((const void *)p));
    KT_EQ(phys_at(alias(1)), phys_of((const void *)p));
    KT_EQ(p[0], 0x50c);
    KT_EQ(uk_unmap(UK_SLOT_SELF_TASK, alias(0), 1), UK_OK);
    KT_EQ(uk_mem_info(alias(1), 0, 0), UK_E_NOT_MAPPED);
}

/* A multi-page map whose first page would replace a mapping that a later
 * source page derives from: replacing it would take that source page away
 * mid-call.  Refused as a whole (UK_E_BUSY), before anything changes. */
KT_TEST(mem_map_that_would_revoke_its_source_is_busy)
{
    volatile uk_word_t *p = page_with(0xaaa), *q = page_with(0xbbb);
    /* alias 0 <- p; alias 5 <- alias 0; alias 4 <- q */
    KT_EQ(uk_map(UK_SLOT_SELF_TASK, (uk_word_t)p, alias(0), 1, RW), UK_OK);
    KT_EQ(uk_map(UK_SLOT_SELF_TASK, alias(0), alias(5), 1, RW), UK_OK);
    KT_EQ(uk_map(UK_SLOT_SELF_TASK, (uk_word_t)q, alias(4), 1, RW), UK_OK);
    /* [alias 4, alias 5] onto [alias 0, alias 1] */
    KT_EQ(uk_map(UK_SLOT_SELF_TASK, alias(4), alias(0), 2, RW), UK_E_BUSY);
    KT_EQ(phys_at(alias(0)), phys_of((const void *)p));
    KT_EQ(uk_mem_info(alias(1), 0, 0), UK_E_NOT_MAPPED);
    KT_EQ(phys_at(alias(4)), phys_of((const void *)q));
    KT_EQ(phys_at(alias(5)), phys_of((const void *)p));
    /* the same across tasks: B's page derives from the page being replaced */
    uk_word_t b = child_task();
    KT_EQ(uk_map(b, alias(0), CHILD_VA, 1, RW), UK_OK);
    KT_EQ(uk_map(b, alias(4), CHILD_VA + UK_PAGE_SIZE, 1, RW), UK_OK);
    KT_EQ(read_in(b, CHILD_VA), 0xaaa);
    KT_EQ(uk_unmap(UK_SLOT_SELF_TASK, alias(4), 1), UK_OK);
    KT_EQ(read_in(b, CHILD_VA), 0xaaa);
    /* one page at a time it is allowed: alias 0 (and what derives) replaced */
    KT_EQ(uk_map(UK_SLOT_SELF_TASK, (uk_word_t)q, alias(0), 1, RW), UK_OK);
    KT_EQ(phys_at(alias(0)), phys_of((const void *)q));
    KT_EQ(uk_mem_info(alias(5), 0, 0), UK_E_NOT_MAPPED);
    KT_EQ(fault_access(b, CHILD_VA, P_READ), UK_ACCESS_READ | FAULT_USER);
    KT_EQ(p[0], 0xaaa);
    KT_EQ(q[0], 0xbbb);
    kt_destroy(b);
    KT_EQ(uk_unmap(UK_SLOT_SELF_TASK, alias(0), 6), UK_OK);
    for (int i = 0; i < 6; i++)
        KT_EQ(uk_mem_info(alias(i), 0, 0), UK_E_NOT_MAPPED);
    KT_EQ(rights_at((uk_word_t)p), RW);
    KT_EQ(rights_at((uk_word_t)q), RW);
}
