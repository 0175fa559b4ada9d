/*
 * Faults: user-level pagers, exception handlers that rewrite registers,
 * user accesses the kernel must refuse, threads without a handler,
 * reading and writing the registers of stopped threads, and FPU/SSE/AVX
 * state kept per thread.
 *
 * Faulting code is inline assembly with global labels (kt_flt_*) before and
 * after the faulting instruction, so a handler knows the exact rip to
 * expect and where to resume.  Threads run at the root's priority (255) so
 * kt_wait_flag's yields let them run; the root waits for fault messages in
 * a receive with a timeout.
 */
#include "ktest.h"

#define RW          (UK_MAP_READ | UK_MAP_WRITE)
#define CHILD_QUOTA (512ul << 10)
#define CHILD_SLOTS 64
#define CHILD_VA    0x0000000020000000ul
#define KERNEL_VA   0xffffffff80100000ul
#define NONCANON    UK_USER_HALF_END
#define LAST_PAGE   UK_USER_MAP_TOP
#define UNMAPPED_VA 0x0000100000000000ul   /* nothing of the root's is here */
#define FAULT_BADGE 0x5151ul
#define PRIO        255
#define SEC         1000000ul

#define RFLAGS_IF   0x200ul
#define RFLAGS_TF   0x100ul
#define RFLAGS_IOPL 0x3000ul
#define RFLAGS_VM   0x20000ul

extern char __image_start[], __image_end[];

static uk_word_t child_task(void)
{
    uk_word_t t = 0;
    KT_EQ(uk_task_new(CHILD_QUOTA, CHILD_SLOTS, 1, &t), UK_OK);
    return t;
}

/* A fault endpoint and a badged copy of it to give threads. */
struct handler {
    uk_word_t ep, badged;
};

static struct handler handler_new(void)
{
    struct handler h = { kt_endpoint(), uk_slot_alloc() };
    KT_EQ(uk_cap_copy(h.ep, UK_SLOT_SELF_TASK, h.badged, UK_R_ALL, FAULT_BADGE), UK_OK);
    return h;
}

static void handler_destroy(struct handler *h)
{
    uk_cap_delete(UK_SLOT_SELF_TASK, h->badged);
    kt_destroy(h->ep);
}

static long wait_fault(uk_word_t ep, struct uk_msg *m, uk_word_t us)
{
    *m = (struct uk_msg){ .info = uk_msginfo(0, 0, uk_timeout_us(us)) };
    return uk_recv(ep, m);
}

/* The registers of an exception message, whole, in the root's IPC buffer. */
static struct uk_regs *regs_buf(void)
{
    return (struct uk_regs *)uk_ipc_buf->msg;
}

/* Checks an exception message (vector, rip) and completes its register
 * image (words 0-3 came in the message registers).  1 if it is one. */
static int is_exception(long err, struct uk_msg *m, uk_word_t vector, uk_word_t rip)
{
    KT_EQ(err, UK_OK);
    if (err != UK_OK)
        return 0;
    KT_EQ(uk_msg_label(m->info), UK_FAULT_EXCEPTION);
    KT_EQ(uk_msg_len(m->info), UK_REGS_WORDS);
    KT_CHECK(uk_msg_flags(m->info) & UK_MSGF_FAULT);
    KT_EQ(m->badge, FAULT_BADGE);
    struct uk_regs *r = regs_buf();
    r->rax = m->w[0];
    r->rbx = m->w[1];
    r->rcx = m->w[2];
    r->rdx = m->w[3];
    KT_EQ(r->vector, vector);
    KT_EQ(r->rip, rip);
    return uk_msg_label(m->info) == UK_FAULT_EXCEPTION && r->vector == vector && r->rip == rip;
}

/* Replies with the register image in the IPC buffer. */
static long reply_regs(struct uk_msg *m, uk_word_t len)
{
    struct uk_regs *r = regs_buf();
    m->w[0] = r->rax;
    m->w[1] = r->rbx;
    m->w[2] = r->rcx;
    m->w[3] = r->rdx;
    m->info = uk_msginfo(UK_FAULT_REPLY_REGS, len, 0);
    return uk_reply(m);
}

static long reply_label(struct uk_msg *m, uk_word_t label)
{
    m->info = uk_msginfo(label, 0, 0);
    return uk_reply(m);
}

static struct uk_regs read_regs(uk_word_t thread)
{
    struct uk_regs r;
    memset(&r, 0, sizeof r);
    KT_EQ(uk_thread_read_regs(thread), UK_OK);
    memcpy(&r, uk_ipc_buf->data, sizeof r);
    return r;
}

static long write_regs(uk_word_t thread, const struct uk_regs *r)
{
    memcpy(uk_ipc_buf->data, r, sizeof *r);
    return uk_thread_write_regs(thread);
}

/* What faulting threads report back (in the image: shared with children). */
static volatile uk_word_t out[16];
static volatile long out_done, out_started;

static void out_reset(void)
{
    for (int i = 0; i < 16; i++)
        out[i] = 0;
    out_done = out_started = 0;
}

/* --- pagers -------------------------------------------------------------------- */

static void pager_client_fn(uk_word_t base)
{
    out_started = 1;
    out[0] = *(volatile uk_word_t *)(base + 0x10);
    *(volatile uk_word_t *)(base + UK_PAGE_SIZE + 8) = 0x77;
    out_done = 1;
}

static int in_image(uk_word_t a)
{
    return a >= (uk_word_t)__image_start && a < (uk_word_t)__image_end;
}

KT_TEST(pager_maps_on_page_fault)
{
    uk_word_t task = child_task();
    struct handler h = handler_new();
    struct uk_spawned s;
    volatile uk_word_t *p = uk_pages_alloc(1), *q = uk_pages_alloc(1);
    p[2] = 0xfeed;
    out_reset();
    KT_EQ(uk_spawn(task, pager_client_fn, CHILD_VA, PRIO, h.badged, &s), UK_OK);

    struct uk_msg m;
    KT_EQ(wait_fault(h.ep, &m, SEC), UK_OK);
    KT_EQ(uk_msg_label(m.info), UK_FAULT_PAGE);
    KT_EQ(uk_msg_len(m.info), 4);
    KT_CHECK(uk_msg_flags(m.info) & UK_MSGF_FAULT);
    KT_EQ(m.badge, FAULT_BADGE);
    KT_EQ(m.w[0], CHILD_VA + 0x10);
    KT_EQ(m.w[1], UK_ACCESS_READ | UK_ACCESS_USER);
    KT_CHECK(in_image(m.w[2]));
    KT_EQ(m.w[3], FAULT_BADGE);                    /* abi.h: w3 = the fault badge */
    struct uk_regs r = read_regs(s.thread);        /* it waits, as the message says */
    KT_EQ(r.rip, m.w[2]);
    KT_EQ(r.cr2, CHILD_VA + 0x10);
    KT_EQ(r.vector, 14);
    KT_EQ(out_done, 0);

    m.w[0] = (uk_word_t)p;
    m.w[1] = CHILD_VA;
    m.w[2] = 1;
    m.w[3] = RW;
    m.info = uk_msginfo(UK_FAULT_REPLY_MAP, 4, 0);
    KT_EQ(uk_reply(&m), UK_OK);

    /* next: a write to the following page */
    KT_EQ(wait_fault(h.ep, &m, SEC), UK_OK);
    KT_EQ(uk_msg_label(m.info), UK_FAULT_PAGE);
    KT_EQ(m.w[0], CHILD_VA + UK_PAGE_SIZE + 8);
    KT_EQ(m.w[1], UK_ACCESS_WRITE | UK_ACCESS_USER);
    KT_EQ(out[0], 0xfeed);                         /* the first access went on */
    m.w[0] = (uk_word_t)q;
    m.w[1] = CHILD_VA + UK_PAGE_SIZE;
    m.w[2] = 1;
    m.w[3] = RW;
    m.info = uk_msginfo(UK_FAULT_REPLY_MAP, 4, 0);
    KT_EQ(uk_reply(&m), UK_OK);
    KT_CHECK(kt_wait_flag(&out_done, SEC));
    KT_EQ(q[1], 0x77);

    kt_destroy(s.thread);
    kt_destroy(task);
    handler_destroy(&h);
}

/* Demand paging by a pager thread of the root for a thread of a child. */
#define DEMAND_PAGES 8
static struct {
    uk_word_t ep;
    volatile uk_word_t *pages[DEMAND_PAGES];
    volatile uk_word_t addr[DEMAND_PAGES], access[DEMAND_PAGES], badge[DEMAND_PAGES],
                       w3[DEMAND_PAGES];
    volatile long faults, errors;
} pager;

static void pager_fn(uk_word_t arg)
{
    (void)arg;
    struct uk_msg m = { .info = uk_msginfo(0, 0, uk_timeout_us(2 * SEC)) };
    long err = uk_recv(pager.ep, &m);
    while (err == UK_OK && pager.faults < DEMAND_PAGES) {
        long n = pager.faults;
        if (uk_msg_label(m.info) != UK_FAULT_PAGE || !(uk_msg_flags(m.info) & UK_MSGF_FAULT)) {
            pager.errors++;
            return;
        }
        pager.addr[n] = m.w[0];
        pager.access[n] = m.w[1];
        pager.badge[n] = m.badge;
        pager.w3[n] = m.w[3];
        pager.faults = n + 1;
        m.w[1] = m.w[0] & ~(UK_PAGE_SIZE - 1);
        m.w[0] = (uk_word_t)pager.pages[n];
        m.w[2] = 1;
        m.w[3] = RW;
        m.info = uk_msginfo(UK_FAULT_REPLY_MAP, 4, uk_timeout_us(2 * SEC));
        err = uk_reply_recv(pager.ep, &m);
    }
    if (err != UK_OK && err != UK_E_TIMEOUT)
        pager.errors++;
}

static void demand_client_fn(uk_word_t base)
{
    for (int i = 0; i < DEMAND_PAGES; i++) {
        volatile uk_word_t *w = (volatile uk_word_t *)(base + i * UK_PAGE_SIZE);
        out[i] = w[i];                 /* faults: the pager maps a page */
        w[500] = 0xab00 + i;           /* does not: mapped writable */
    }
    out_done = 1;
}

KT_TEST(pager_demand_pages_eight_in_a_row)
{
    uk_word_t task = child_task();
    struct handler h = handler_new();
    struct uk_spawned ps, cs;
    out_reset();
    memset((void *)&pager, 0, sizeof pager);
    pager.ep = h.ep;
    for (int i = 0; i < DEMAND_PAGES; i++) {
        pager.pages[i] = uk_pages_alloc(1);
        pager.pages[i][i] = 0x1000 + i;
    }
    KT_EQ(uk_spawn(UK_SLOT_SELF_TASK, pager_fn, 0, PRIO, 0, &ps), UK_OK);
    KT_EQ(uk_spawn(task, demand_client_fn, CHILD_VA, PRIO, h.badged, &cs), UK_OK);
    KT_CHECK(kt_wait_flag(&out_done, 3 * SEC));
    KT_EQ(pager.faults, DEMAND_PAGES);
    KT_EQ(pager.errors, 0);
    for (int i = 0; i < DEMAND_PAGES; i++) {
        KT_EQ(pager.addr[i], CHILD_VA + i * UK_PAGE_SIZE + i * 8);
        KT_EQ(pager.access[i], UK_ACCESS_READ | UK_ACCESS_USER);
        KT_EQ(pager.badge[i], FAULT_BADGE);
        KT_EQ(pager.w3[i], FAULT_BADGE);
        KT_EQ(out[i], 0x1000 + i);
        KT_EQ(pager.pages[i][500], 0xab00 + i);
    }
    kt_destroy(cs.thread);
    kt_destroy(ps.thread);
    kt_destroy(task);
    handler_destroy(&h);
}

KT_TEST(pager_reply_errors_leave_thread_faulting)
{
    uk_word_t task = child_task();
    struct handler h = handler_new();
    struct uk_spawned s;
    volatile uk_word_t *p = uk_pages_alloc(1);
    p[2] = 0x900d;
    out_reset();
    KT_EQ(uk_mem_info(UNMAPPED_VA, 0, 0), UK_E_NOT_MAPPED);
    KT_EQ(uk_spawn(task, pager_client_fn, CHILD_VA, PRIO, h.badged, &s), UK_OK);

    /* each bad reply fails for the pager; the thread retries and faults again */
    static const struct { uk_word_t src, dst, n, rights, label; long err; } step[] = {
        { UNMAPPED_VA, CHILD_VA, 1, RW, UK_FAULT_REPLY_MAP, UK_E_NOT_MAPPED },
        { 0, CHILD_VA, 1, 0, UK_FAULT_REPLY_MAP, UK_E_INVAL },          /* src: p */
        { 0, CHILD_VA + 8, 1, RW, UK_FAULT_REPLY_MAP, UK_E_INVAL },
        { 0, KERNEL_VA, 1, RW, UK_FAULT_REPLY_MAP, UK_E_ADDR },
        { 0, NONCANON, 1, RW, UK_FAULT_REPLY_MAP, UK_E_ADDR },
        { 0, CHILD_VA, 0, RW, UK_FAULT_REPLY_MAP, UK_E_INVAL },
        { 0, CHILD_VA, UK_PREEMPT_PAGES + 1, RW, UK_FAULT_REPLY_MAP, UK_E_INVAL },  /* > a part */
        { 0, CHILD_VA, 1, (1ul << 32) | RW, UK_FAULT_REPLY_MAP, UK_E_INVAL },
        { 0, CHILD_VA, 1, RW, 0, UK_OK },                               /* no map: retry */
        { 0, CHILD_VA, 1, RW, UK_FAULT_REPLY_REGS, UK_OK },             /* ditto */
        { 0, CHILD_VA, 1, RW, UK_FAULT_REPLY_MAP, UK_OK },
    };
    for (unsigned i = 0; i < sizeof step / sizeof step[0]; i++) {
        struct uk_msg m;
        KT_EQ(wait_fault(h.ep, &m, SEC), UK_OK);
        KT_EQ(uk_msg_label(m.info), UK_FAULT_PAGE);
        KT_EQ(m.w[0], CHILD_VA + 0x10);
        KT_EQ(out[0], 0);
        m.w[0] = step[i].src ? step[i].src : (uk_word_t)p;
        m.w[1] = step[i].dst;
        m.w[2] = step[i].n;
        m.w[3] = step[i].rights;
        m.info = uk_msginfo(step[i].label, 4, 0);
        long err = uk_reply(&m);
        if (err != step[i].err)
            printf("    step %u\n", i);
        KT_EQ(err, step[i].err);
    }
    /* the second access: stop the thread instead */
    struct uk_msg m;
    KT_EQ(wait_fault(h.ep, &m, SEC), UK_OK);
    KT_EQ(m.w[0], CHILD_VA + UK_PAGE_SIZE + 8);
    KT_EQ(out[0], 0x900d);
    KT_EQ(reply_label(&m, UK_FAULT_REPLY_STOP), UK_OK);
    KT_CHECK(!kt_wait_flag(&out_done, 20000));
    KT_EQ(wait_fault(h.ep, &m, 20000), UK_E_TIMEOUT);  /* stopped: no more faults */

    kt_destroy(s.thread);
    kt_destroy(task);
    handler_destroy(&h);
}

/* --- accesses the kernel refuses ------------------------------------------------ */

struct access_req {
    uk_word_t va, write;
};
static struct access_req areq;

static void access_fn(uk_word_t arg)
{
    struct access_req *a = (struct access_req *)arg;
    out_started = 1;
    if (a->write)
        *(volatile uk_word_t *)a->va = 0x1234;
    else
        out[0] = *(volatile uk_word_t *)a->va;
    out_done = 1;
}

static void kernel_access(uk_word_t task, uk_word_t va, int write, uk_word_t want_access)
{
    struct handler h = handler_new();
    struct uk_spawned s;
    out_reset();
    areq.va = va;
    areq.write = (uk_word_t)write;
    KT_EQ(uk_spawn(task, access_fn, (uk_word_t)&areq, PRIO, h.badged, &s), UK_OK);
    struct uk_msg m;
    KT_EQ(wait_fault(h.ep, &m, SEC), UK_OK);
    KT_EQ(uk_msg_label(m.info), UK_FAULT_PAGE);
    KT_EQ(m.w[0], va);
    KT_EQ(m.w[1], want_access);
    /* a pager cannot map kernel memory either */
    m.w[1] = va & ~(UK_PAGE_SIZE - 1);
    m.w[0] = (uk_word_t)uk_pages_alloc(1);
    m.w[2] = 1;
    m.w[3] = RW;
    m.info = uk_msginfo(UK_FAULT_REPLY_MAP, 4, 0);
    KT_EQ(uk_reply(&m), UK_E_ADDR);
    KT_EQ(wait_fault(h.ep, &m, SEC), UK_OK);        /* the retry faults again */
    KT_EQ(m.w[0], va);
    KT_EQ(reply_label(&m, UK_FAULT_REPLY_STOP), UK_OK);
    struct uk_regs r = read_regs(s.thread);
    KT_EQ(r.vector, 14);
    KT_EQ(r.cr2, va);
    KT_EQ(out_done, 0);
    kt_destroy(s.thread);
    handler_destroy(&h);
}

KT_TEST(fault_user_access_to_kernel_memory)
{
    uk_word_t task = child_task();
    uk_word_t present = UK_ACCESS_PRESENT | UK_ACCESS_USER;
    kernel_access(task, KERNEL_VA, 0, UK_ACCESS_READ | present);
    kernel_access(task, KERNEL_VA + 0x40, 1, UK_ACCESS_WRITE | present);
    kernel_access(UK_SLOT_SELF_TASK, KERNEL_VA, 0, UK_ACCESS_READ | present);
    kt_destroy(task);
}

extern char kt_flt_nc_read[], kt_flt_nc_read_end[], kt_flt_nc_write[], kt_flt_nc_write_end[];

__attribute__((noinline)) static void noncanonical_fn(uk_word_t arg)
{
    uk_word_t rax = 0x11, rbx = arg;
    __asm__ volatile(".globl kt_flt_nc_read, kt_flt_nc_read_end\n"
                     "kt_flt_nc_read: movq (%%rbx), %%rax\n"
                     "kt_flt_nc_read_end:"
                     : "+a"(rax), "+b"(rbx) :: "memory");
    out[0] = rax;
    rbx = arg + 0x7ff0000000000000ul;   /* 0x7ff08...: non-canonical too */
    __asm__ volatile(".globl kt_flt_nc_write, kt_flt_nc_write_end\n"
                     "kt_flt_nc_write: movq %%rax, (%%rbx)\n"
                     "kt_flt_nc_write_end:"
                     : "+a"(rax), "+b"(rbx) :: "memory");
    out[1] = rax;
    out_done = 1;
}

KT_TEST(fault_noncanonical_access_is_gp)
{
    uk_word_t task = child_task();
    struct handler h = handler_new();
    struct uk_spawned s;
    out_reset();
    KT_EQ(uk_spawn(task, noncanonical_fn, NONCANON, PRIO, h.badged, &s), UK_OK);
    struct uk_msg m;
    if (is_exception(wait_fault(h.ep, &m, SEC), &m, 13, (uk_word_t)kt_flt_nc_read)) {
        KT_EQ(regs_buf()->error, 0);
        KT_EQ(regs_buf()->rbx, NONCANON);
        regs_buf()->rip = (uk_word_t)kt_flt_nc_read_end;
        regs_buf()->rax = 0x9c;
        KT_EQ(reply_regs(&m, UK_REGS_WORDS), UK_OK);
    }
    if (is_exception(wait_fault(h.ep, &m, SEC), &m, 13, (uk_word_t)kt_flt_nc_write)) {
        KT_EQ(regs_buf()->rax, 0x9c);
        regs_buf()->rip = (uk_word_t)kt_flt_nc_write_end;
        regs_buf()->rax = 0x9d;
        KT_EQ(reply_regs(&m, UK_REGS_WORDS), UK_OK);
    }
    KT_CHECK(kt_wait_flag(&out_done, SEC));
    KT_EQ(out[0], 0x9c);
    KT_EQ(out[1], 0x9d);
    kt_destroy(s.thread);
    kt_destroy(task);
    handler_destroy(&h);
}

/* --- exceptions ---------------------------------------------------------------- */

extern char kt_flt_div[], kt_flt_div_end[];

__attribute__((noinline)) static void div_fn(uk_word_t arg)
{
    (void)arg;
    register uk_word_t r12 __asm__("r12") = 0x1212;
    uk_word_t rax = 1, rbx = 0xb0b0, rcx = 0, rdx = 0;
    __asm__ volatile(".globl kt_flt_div, kt_flt_div_end\n"
                     "kt_flt_div: divq %%rcx\n"
                     "kt_flt_div_end:"
                     : "+a"(rax), "+b"(rbx), "+c"(rcx), "+d"(rdx), "+r"(r12) :: "memory");
    out[0] = rax;
    out[1] = rbx;
    out[2] = rcx;
    out[3] = rdx;
    out[4] = r12;
    out_done = 1;
}

KT_TEST(fault_divide_error_handler_rewrites_registers)
{
    struct handler h = handler_new();
    struct uk_spawned s;
    out_reset();
    KT_EQ(uk_spawn(UK_SLOT_SELF_TASK, div_fn, 0, PRIO, h.badged, &s), UK_OK);
    struct uk_msg m;
    if (is_exception(wait_fault(h.ep, &m, SEC), &m, 0, (uk_word_t)kt_flt_div)) {
        struct uk_regs *r = regs_buf();
        KT_EQ(r->rax, 1);
        KT_EQ(r->rbx, 0xb0b0);
        KT_EQ(r->rcx, 0);
        KT_EQ(r->rdx, 0);
        KT_EQ(r->r12, 0x1212);
        KT_EQ(r->error, 0);
        KT_CHECK(r->rsp > (uk_word_t)s.stack &&
                 r->rsp <= (uk_word_t)s.stack + UK_SPAWN_STACK_PAGES * UK_PAGE_SIZE);
        KT_EQ(r->gs_base, (uk_word_t)s.ipc_buffer);
        KT_CHECK(r->rflags & RFLAGS_IF);
        /* the stopped thread's registers say the same */
        struct uk_regs t = read_regs(s.thread);
        KT_EQ(t.rip, (uk_word_t)kt_flt_div);
        KT_EQ(t.rsp, r->rsp);
        KT_EQ(t.vector, 0);

        r->rip = (uk_word_t)kt_flt_div_end;
        r->rax = 0xd1d1;
        r->rbx = 0xb1b1;
        r->rcx = 7;
        r->rdx = 0x5d;
        r->r12 = 0x2424;
        KT_EQ(reply_regs(&m, UK_REGS_WORDS), UK_OK);
        KT_CHECK(kt_wait_flag(&out_done, SEC));
        KT_EQ(out[0], 0xd1d1);
        KT_EQ(out[1], 0xb1b1);
        KT_EQ(out[2], 7);
        KT_EQ(out[3], 0x5d);
        KT_EQ(out[4], 0x2424);
    }
    kt_destroy(s.thread);
    handler_destroy(&h);
}

extern char kt_flt_ud2[], kt_flt_ud2_end[];

__attribute__((noinline)) static void ud2_fn(uk_word_t arg)
{
    uk_word_t rax = arg;
    out_started = 1;
    __asm__ volatile(".globl kt_flt_ud2, kt_flt_ud2_end\n"
                     "kt_flt_ud2: ud2\n"
                     "kt_flt_ud2_end:"
                     : "+a"(rax) :: "memory");
    out[0] = rax;
    out_done = 1;
}

KT_TEST(fault_invalid_opcode_in_child_task)
{
    uk_word_t task = child_task();
    struct handler h = handler_new();
    struct uk_spawned s;
    out_reset();
    KT_EQ(uk_spawn(task, ud2_fn, 0x0d0d, PRIO, h.badged, &s), UK_OK);
    struct uk_msg m;
    if (is_exception(wait_fault(h.ep, &m, SEC), &m, 6, (uk_word_t)kt_flt_ud2)) {
        KT_EQ(regs_buf()->rax, 0x0d0d);
        /* resumed unchanged, it faults again */
        KT_EQ(reply_label(&m, 0), UK_OK);
        KT_CHECK(is_exception(wait_fault(h.ep, &m, SEC), &m, 6, (uk_word_t)kt_flt_ud2));
        /* a short register reply is no register reply: resumed unchanged */
        regs_buf()->rip = (uk_word_t)kt_flt_ud2_end;
        KT_EQ(reply_regs(&m, UK_REGS_WORDS - 4), UK_OK);
        KT_CHECK(is_exception(wait_fault(h.ep, &m, SEC), &m, 6, (uk_word_t)kt_flt_ud2));
        /* the shortest full reply: without vector, error, cr2 */
        regs_buf()->rip = (uk_word_t)kt_flt_ud2_end;
        regs_buf()->rax = 0x6666;
        KT_EQ(reply_regs(&m, UK_REGS_WORDS - 3), UK_OK);
        KT_CHECK(kt_wait_flag(&out_done, SEC));
        KT_EQ(out[0], 0x6666);
    }
    kt_destroy(s.thread);
    kt_destroy(task);
    handler_destroy(&h);
}

extern char kt_flt_hlt[], kt_flt_hlt_end[], kt_flt_cli[], kt_flt_cli_end[];
extern char kt_flt_int20[], kt_flt_int20_end[], kt_flt_int80[], kt_flt_int80_end[];

__attribute__((noinline)) static void privileged_fn(uk_word_t arg)
{
    uk_word_t rax = arg;
    __asm__ volatile(".globl kt_flt_hlt, kt_flt_hlt_end\n"
                     "kt_flt_hlt: hlt\n"
                     "kt_flt_hlt_end:" : "+a"(rax) :: "memory");
    out[0] = rax;
    __asm__ volatile(".globl kt_flt_cli, kt_flt_cli_end\n"
                     "kt_flt_cli: cli\n"
                     "kt_flt_cli_end:" : "+a"(rax) :: "memory");
    out[1] = rax;
    __asm__ volatile(".globl kt_flt_int20, kt_flt_int20_end\n"
                     "kt_flt_int20: int $0x20\n"
                     "kt_flt_int20_end:" : "+a"(rax) :: "memory");
    out[2] = rax;
    __asm__ volatile(".globl kt_flt_int80, kt_flt_int80_end\n"
                     "kt_flt_int80: int $0x80\n"
                     "kt_flt_int80_end:" : "+a"(rax) :: "memory");
    out[3] = rax;
    out_done = 1;
}

KT_TEST(fault_general_protection_privileged_instructions)
{
    struct handler h = handler_new();
    struct uk_spawned s;
    out_reset();
    KT_EQ(uk_spawn(UK_SLOT_SELF_TASK, privileged_fn, 0, PRIO, h.badged, &s), UK_OK);
    static const struct { char *at, *end; uk_word_t vec; } step[] = {
        { kt_flt_hlt, kt_flt_hlt_end, 0 },
        { kt_flt_cli, kt_flt_cli_end, 0 },
        { kt_flt_int20, kt_flt_int20_end, 0x20 },   /* gate DPL 0: #GP(IDT | vector) */
        { kt_flt_int80, kt_flt_int80_end, 0x80 },
    };
    for (unsigned i = 0; i < 4; i++) {
        struct uk_msg m;
        if (!is_exception(wait_fault(h.ep, &m, SEC), &m, 13, (uk_word_t)step[i].at))
            break;
        /* #GP(vector * 8 + 2) on hardware; QEMU TCG gives vector * 16 + 2 */
        uk_word_t e = regs_buf()->error, v = step[i].vec;
        if (v == 0)
            KT_EQ(e, 0);
        else
            KT_CHECK(e == v * 8 + 2 || e == v * 16 + 2);
        regs_buf()->rip = (uk_word_t)step[i].end;
        regs_buf()->rax = 0x1300 + i;
        KT_EQ(reply_regs(&m, UK_REGS_WORDS), UK_OK);
    }
    KT_CHECK(kt_wait_flag(&out_done, SEC));
    for (unsigned i = 0; i < 4; i++)
        KT_EQ(out[i], 0x1300 + i);
    kt_destroy(s.thread);
    handler_destroy(&h);
}

extern char kt_flt_int3a_end[], kt_flt_int3b_end[];

__attribute__((noinline)) static void int3_fn(uk_word_t arg)
{
    uk_word_t rax = arg;
    __asm__ volatile(".globl kt_flt_int3a_end\n"
                     "int3\n"
                     "kt_flt_int3a_end:" : "+a"(rax) :: "memory");
    out[0] = rax;
    __asm__ volatile(".globl kt_flt_int3b_end\n"
                     "int3\n"
                     "kt_flt_int3b_end:" : "+a"(rax) :: "memory");
    out[1] = rax;
    out_done = 1;
}

KT_TEST(fault_breakpoint_resumes_after_int3)
{
    struct handler h = handler_new();
    struct uk_spawned s;
    out_reset();
    KT_EQ(uk_spawn(UK_SLOT_SELF_TASK, int3_fn, 0x33, PRIO, h.badged, &s), UK_OK);
    struct uk_msg m;
    /* a trap: rip is already past the int3 */
    if (is_exception(wait_fault(h.ep, &m, SEC), &m, 3, (uk_word_t)kt_flt_int3a_end)) {
        KT_EQ(regs_buf()->rax, 0x33);
        KT_EQ(reply_label(&m, 0), UK_OK);               /* unchanged */
    }
    if (is_exception(wait_fault(h.ep, &m, SEC), &m, 3, (uk_word_t)kt_flt_int3b_end)) {
        regs_buf()->rax = 0x3333;
        KT_EQ(reply_regs(&m, UK_REGS_WORDS), UK_OK);
    }
    KT_CHECK(kt_wait_flag(&out_done, SEC));
    KT_EQ(out[0], 0x33);
    KT_EQ(out[1], 0x3333);
    kt_destroy(s.thread);
    handler_destroy(&h);
}

KT_TEST(fault_reply_stop_leaves_thread_stopped)
{
    uk_word_t task = child_task();
    struct handler h = handler_new();
    struct uk_spawned s;
    out_reset();
    KT_EQ(uk_spawn(task, ud2_fn, 0x5707, PRIO, h.badged, &s), UK_OK);
    struct uk_msg m;
    if (is_exception(wait_fault(h.ep, &m, SEC), &m, 6, (uk_word_t)kt_flt_ud2)) {
        KT_EQ(reply_label(&m, UK_FAULT_REPLY_STOP), UK_OK);
        KT_CHECK(!kt_wait_flag(&out_done, 20000));
        KT_EQ(wait_fault(h.ep, &m, 20000), UK_E_TIMEOUT);
        struct uk_regs r = read_regs(s.thread);
        KT_EQ(r.vector, 6);
        KT_EQ(r.rip, (uk_word_t)kt_flt_ud2);
        KT_EQ(r.rax, 0x5707);
        /* stopped: its registers may be written, and a start resumes it */
        r.rax = 0x5709;
        KT_EQ(write_regs(s.thread, &r), UK_OK);
        KT_CHECK(!kt_wait_flag(&out_done, 20000));     /* a write does not wake it */
        KT_EQ(uk_thread_start(s.thread, (uk_word_t)kt_flt_ud2_end, r.rsp, r.rdi), UK_OK);
        KT_CHECK(kt_wait_flag(&out_done, SEC));
        KT_EQ(out[0], 0x5709);
    }
    kt_destroy(s.thread);
    kt_destroy(task);
    handler_destroy(&h);
}

KT_TEST(fault_without_handler_stops_only_the_thread)
{
    uk_word_t task = child_task();
    struct uk_spawned s;
    out_reset();
    printf("    (two 'no handler: stopped' kernel messages expected)\n");
    KT_EQ(uk_spawn(task, ud2_fn, 0x4040, PRIO, 0, &s), UK_OK);
    KT_CHECK(kt_wait_flag(&out_started, SEC));
    KT_CHECK(!kt_wait_flag(&out_done, 20000));
    struct uk_regs r = read_regs(s.thread);
    KT_EQ(r.vector, 6);
    KT_EQ(r.rip, (uk_word_t)kt_flt_ud2);
    KT_EQ(uk_thread_start(s.thread, (uk_word_t)kt_flt_ud2_end, r.rsp, r.rdi), UK_OK);
    KT_CHECK(kt_wait_flag(&out_done, SEC));
    KT_EQ(out[0], 0x4040);
    kt_destroy(s.thread);

    /* a page fault likewise */
    out_reset();
    areq.va = CHILD_VA + 0x100;
    areq.write = 0;
    KT_EQ(uk_spawn(task, access_fn, (uk_word_t)&areq, PRIO, 0, &s), UK_OK);
    KT_CHECK(kt_wait_flag(&out_started, SEC));
    KT_CHECK(!kt_wait_flag(&out_done, 20000));
    r = read_regs(s.thread);
    KT_EQ(r.vector, 14);
    KT_EQ(r.cr2, CHILD_VA + 0x100);
    KT_EQ(r.error, 4);                     /* user, read, not present */
    kt_destroy(s.thread);
    kt_destroy(task);
}

KT_TEST(fault_reply_with_bad_registers_is_refused)
{
    struct handler h = handler_new();
    struct uk_spawned s;
    out_reset();
    KT_EQ(uk_spawn(UK_SLOT_SELF_TASK, ud2_fn, 0xabc, PRIO, h.badged, &s), UK_OK);
    static const struct { int field; uk_word_t value; } bad[] = {
        { 0, NONCANON }, { 0, KERNEL_VA }, { 0, LAST_PAGE }, { 0, ~0ul },
        { 1, NONCANON }, { 2, KERNEL_VA },
    };
    struct uk_msg m;
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (!is_exception(wait_fault(h.ep, &m, SEC), &m, 6, (uk_word_t)kt_flt_ud2))
            break;
        KT_EQ(regs_buf()->rax, 0xabc);         /* nothing of a refused reply stuck */
        regs_buf()->rax = 0xbad;
        if (bad[i].field == 0)
            regs_buf()->rip = bad[i].value;
        else if (bad[i].field == 1)
            regs_buf()->fs_base = bad[i].value;
        else
            regs_buf()->gs_base = bad[i].value;
        KT_EQ(reply_regs(&m, UK_REGS_WORDS), UK_E_ADDR);
    }
    if (is_exception(wait_fault(h.ep, &m, SEC), &m, 6, (uk_word_t)kt_flt_ud2)) {
        KT_EQ(regs_buf()->rax, 0xabc);
        regs_buf()->rip = (uk_word_t)kt_flt_ud2_end;
        KT_EQ(reply_regs(&m, UK_REGS_WORDS), UK_OK);
    }
    KT_CHECK(kt_wait_flag(&out_done, SEC));
    KT_EQ(out[0], 0xabc);
    kt_destroy(s.thread);
    handler_destroy(&h);
}

KT_TEST(fault_reply_flags_and_stack_are_sanitised)
{
    struct handler h = handler_new();
    struct uk_spawned s;
    out_reset();
    KT_EQ(uk_spawn(UK_SLOT_SELF_TASK, privileged_fn, 0, PRIO, h.badged, &s), UK_OK);
    struct uk_msg m;
    /* IOPL 3 (and VM) asked for: cli still faults */
    if (is_exception(wait_fault(h.ep, &m, SEC), &m, 13, (uk_word_t)kt_flt_hlt)) {
        regs_buf()->rip = (uk_word_t)kt_flt_cli;
        regs_buf()->rflags |= RFLAGS_IOPL | RFLAGS_VM;
        regs_buf()->rflags &= ~RFLAGS_IF;
        KT_EQ(reply_regs(&m, UK_REGS_WORDS), UK_OK);
    }
    if (is_exception(wait_fault(h.ep, &m, SEC), &m, 13, (uk_word_t)kt_flt_cli)) {
        uk_word_t fl = regs_buf()->rflags;
        KT_EQ(fl & (RFLAGS_IOPL | RFLAGS_VM), 0);
        KT_CHECK(fl & RFLAGS_IF);
        /* single step: a debug trap after one instruction past the label */
        regs_buf()->rip = (uk_word_t)kt_flt_cli_end;
        regs_buf()->rflags |= RFLAGS_TF;
        KT_EQ(reply_regs(&m, UK_REGS_WORDS), UK_OK);
    }
    KT_EQ(wait_fault(h.ep, &m, SEC), UK_OK);
    KT_EQ(uk_msg_label(m.info), UK_FAULT_EXCEPTION);
    struct uk_regs *r = regs_buf();
    r->rax = m.w[0];
    r->rbx = m.w[1];
    r->rcx = m.w[2];
    r->rdx = m.w[3];
    KT_EQ(r->vector, 1);
    KT_CHECK(r->rip > (uk_word_t)kt_flt_cli_end && r->rip < (uk_word_t)kt_flt_cli_end + 16);
    /* a non-canonical stack: the thread faults on its next stack access */
    r->rflags &= ~RFLAGS_TF;
    r->rsp = NONCANON;
    r->rip = (uk_word_t)kt_flt_int80_end;        /* ...soon after: the function returns */
    KT_EQ(reply_regs(&m, UK_REGS_WORDS), UK_OK);
    KT_EQ(wait_fault(h.ep, &m, SEC), UK_OK);
    KT_EQ(uk_msg_label(m.info), UK_FAULT_EXCEPTION);
    KT_CHECK(r->vector == 12 || r->vector == 13);
    if (r->vector != 12 && r->vector != 13)
        printf("    vector %lu rip %lx\n", r->vector, r->rip);
    KT_EQ(reply_label(&m, UK_FAULT_REPLY_STOP), UK_OK);
    kt_destroy(s.thread);
    handler_destroy(&h);
}

/* --- thread registers ---------------------------------------------------------- */

/* Stores what it was started with (rdi = struct regs_seen), then suspends. */
struct regs_seen {
    uk_word_t rbx, rbp, r12, r13, r14, r15, rsi, r8, fs0, done;
};
static volatile struct regs_seen seen;
static uk_word_t fs_area[2] = { 0xf5f5f5f5ul, 0 };
extern char kt_flt_regs_stub[];
_Static_assert(UK_SYS_THREAD_SUSPEND == 19, "kt_flt_regs_stub");
__asm__(".text\n"
        ".globl kt_flt_regs_stub\n"
        "kt_flt_regs_stub:\n"
        "  mov %rbx, 0(%rdi)\n"
        "  mov %rbp, 8(%rdi)\n"
        "  mov %r12, 16(%rdi)\n"
        "  mov %r13, 24(%rdi)\n"
        "  mov %r14, 32(%rdi)\n"
        "  mov %r15, 40(%rdi)\n"
        "  mov %rsi, 48(%rdi)\n"
        "  mov %r8, 56(%rdi)\n"
        "  mov %fs:0, %rax\n"
        "  mov %rax, 64(%rdi)\n"
        "  movq $1, 72(%rdi)\n"
        "1: mov $19, %eax\n"
        "  xor %edi, %edi\n"
        "  syscall\n"
        "  jmp 1b\n");

static void never_run_fn(uk_word_t arg)
{
    (void)arg;
}

KT_TEST(thread_regs_read_write_suspended)
{
    struct uk_spawned s;
    KT_EQ(uk_spawn_prepare(UK_SLOT_SELF_TASK, never_run_fn, 0, PRIO, 0, &s), UK_OK);
    struct uk_regs r0 = read_regs(s.thread);
    KT_CHECK(r0.rflags & RFLAGS_IF);

    struct uk_regs r = r0;
    r.rbx = 0x1b;
    r.rbp = 0x1bb;
    r.r12 = 0x12;
    r.r13 = 0x13;
    r.r14 = 0x14;
    r.r15 = 0x15;
    r.rsi = 0x51;
    r.r8 = 0x8;
    r.rip = (uk_word_t)kt_flt_regs_stub;
    r.rsp = (uk_word_t)s.stack + UK_PAGE_SIZE;
    r.rdi = (uk_word_t)&seen;
    r.fs_base = (uk_word_t)fs_area;
    r.rflags = ~0ul;
    r.vector = 99;
    r.error = 98;
    r.cr2 = 97;
    KT_EQ(write_regs(s.thread, &r), UK_OK);
    struct uk_regs b = read_regs(s.thread);
    KT_EQ(b.rbx, 0x1b);
    KT_EQ(b.rbp, 0x1bb);
    KT_EQ(b.r12, 0x12);
    KT_EQ(b.r15, 0x15);
    KT_EQ(b.rip, (uk_word_t)kt_flt_regs_stub);
    KT_EQ(b.rsp, (uk_word_t)s.stack + UK_PAGE_SIZE);
    KT_EQ(b.fs_base, (uk_word_t)fs_area);
    KT_EQ(b.rflags, UK_RFLAGS_USER | RFLAGS_IF | 2);     /* only user flags, IF on */
    KT_EQ(b.vector, r0.vector);                       /* read only */
    KT_EQ(b.error, r0.error);
    KT_EQ(b.cr2, r0.cr2);

    /* started: rip, rsp, rdi from the start; the rest as written */
    seen.done = 0;
    KT_EQ(uk_thread_start(s.thread, (uk_word_t)kt_flt_regs_stub, (uk_word_t)s.stack + UK_PAGE_SIZE,
                          (uk_word_t)&seen), UK_OK);
    KT_CHECK(kt_wait_flag((volatile long *)&seen.done, SEC));
    KT_EQ(seen.rbx, 0x1b);
    KT_EQ(seen.rbp, 0x1bb);
    KT_EQ(seen.r12, 0x12);
    KT_EQ(seen.r13, 0x13);
    KT_EQ(seen.r14, 0x14);
    KT_EQ(seen.r15, 0x15);
    KT_EQ(seen.rsi, 0x51);
    KT_EQ(seen.r8, 0x8);
    KT_EQ(seen.fs0, 0xf5f5f5f5ul);

    /* suspended by itself in a system call: readable and writable again */
    b = read_regs(s.thread);
    KT_CHECK(b.rip > (uk_word_t)kt_flt_regs_stub && b.rip < (uk_word_t)kt_flt_regs_stub + 96);
    KT_EQ(b.rbx, 0x1b);
    KT_EQ(b.r15, 0x15);
    KT_EQ(b.rsp, (uk_word_t)s.stack + UK_PAGE_SIZE);
    b.rbx = 0x2b;
    b.rip = (uk_word_t)kt_flt_regs_stub;
    KT_EQ(write_regs(s.thread, &b), UK_OK);
    seen.done = 0;
    KT_EQ(uk_thread_start(s.thread, (uk_word_t)kt_flt_regs_stub, (uk_word_t)s.stack + UK_PAGE_SIZE,
                          (uk_word_t)&seen), UK_OK);
    KT_CHECK(kt_wait_flag((volatile long *)&seen.done, SEC));
    KT_EQ(seen.rbx, 0x2b);
    KT_EQ(seen.r12, 0x12);
    kt_destroy(s.thread);
}

static void recv_fn(uk_word_t ep)
{
    struct uk_msg m = { .info = uk_msginfo(0, 0, uk_timeout_us(5 * SEC)) };
    out_started = 1;
    uk_recv(ep, &m);
}

KT_TEST(thread_write_regs_refuses_bad_state_and_addresses)
{
    struct uk_spawned s, low, rx, flt;
    struct handler h = handler_new();
    uk_word_t ep2 = kt_endpoint();
    out_reset();
    KT_EQ(uk_spawn_prepare(UK_SLOT_SELF_TASK, never_run_fn, 0, PRIO, 0, &s), UK_OK);
    struct uk_regs r0 = read_regs(s.thread), r = r0;
    r.rip = (uk_word_t)never_run_fn;
    KT_EQ(write_regs(s.thread, &r), UK_OK);

    static const struct { int field; uk_word_t value; } bad[] = {
        { 0, NONCANON }, { 0, KERNEL_VA }, { 0, LAST_PAGE }, { 0, 0xffff800000000000ul },
        { 1, NONCANON }, { 1, KERNEL_VA }, { 2, NONCANON }, { 2, ~0ul },
    };
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct uk_regs x = r;
        x.rbx = 0xbad;
        if (bad[i].field == 0)
            x.rip = bad[i].value;
        else if (bad[i].field == 1)
            x.fs_base = bad[i].value;
        else
            x.gs_base = bad[i].value;
        KT_EQ(write_regs(s.thread, &x), UK_E_ADDR);
    }
    struct uk_regs b = read_regs(s.thread);
    KT_EQ(b.rip, (uk_word_t)never_run_fn);
    KT_EQ(b.rbx, r.rbx);
    r.rip = LAST_PAGE - 1;                               /* the top user byte is fine */
    KT_EQ(write_regs(s.thread, &r), UK_OK);

    /* not stopped: runnable (lower priority, waits its turn), blocked, self */
    KT_EQ(uk_spawn(UK_SLOT_SELF_TASK, never_run_fn, 0, 10, 0, &low), UK_OK);
    KT_EQ(write_regs(low.thread, &r), UK_E_STATE);
    KT_EQ(uk_spawn(UK_SLOT_SELF_TASK, recv_fn, ep2, PRIO, 0, &rx), UK_OK);
    KT_CHECK(kt_wait_flag(&out_started, SEC));
    KT_EQ(write_regs(rx.thread, &r), UK_E_STATE);
    KT_EQ(write_regs(UK_SLOT_SELF_THREAD, &r), UK_E_STATE);
    /* waiting for its fault handler */
    out_reset();
    KT_EQ(uk_spawn(UK_SLOT_SELF_TASK, ud2_fn, 0, PRIO, h.badged, &flt), UK_OK);
    KT_CHECK(kt_wait_flag(&out_started, SEC));
    uk_yield();
    KT_EQ(write_regs(flt.thread, &r), UK_E_STATE);
    KT_EQ(read_regs(flt.thread).rip, (uk_word_t)kt_flt_ud2);

    /* not a thread */
    KT_EQ(uk_thread_read_regs(h.ep), UK_E_CAP_TYPE);
    KT_EQ(uk_thread_write_regs(h.ep), UK_E_CAP_TYPE);
    KT_EQ(uk_thread_write_regs(UK_SLOT_SELF_TASK), UK_E_CAP_TYPE);
    KT_EQ(uk_thread_read_regs(uk_slot_alloc()), UK_E_CAP);

    kt_destroy(flt.thread);
    kt_destroy(rx.thread);
    kt_destroy(low.thread);
    kt_destroy(s.thread);
    kt_destroy(ep2);
    handler_destroy(&h);
}

/* --- FPU, SSE, AVX --------------------------------------------------------------- */

#define FPU_ROUNDS 100
#define FPU_ROUND(a, round, k) \
    ((a)->seed * 0x9e3779b97f4a7c15ul ^ ((uk_word_t)(round) << 40) ^ (uk_word_t)(k))

struct fpu_arg {
    uk_word_t seed;
    int avx;
    volatile long done, bad, rounds;
};
static struct fpu_arg fpu_args[2];

static void sse_yield(const uk_word_t *in, uk_word_t *o)
{
    uk_word_t nr = UK_SYS_YIELD;
    __asm__ volatile("movdqu 0(%1), %%xmm0\n movdqu 16(%1), %%xmm1\n"
                     "movdqu 32(%1), %%xmm2\n movdqu 48(%1), %%xmm3\n"
                     "movdqu 64(%1), %%xmm4\n movdqu 80(%1), %%xmm5\n"
                     "movdqu 96(%1), %%xmm6\n movdqu 112(%1), %%xmm7\n"
                     "syscall\n"
                     "movdqu %%xmm0, 0(%2)\n movdqu %%xmm1, 16(%2)\n"
                     "movdqu %%xmm2, 32(%2)\n movdqu %%xmm3, 48(%2)\n"
                     "movdqu %%xmm4, 64(%2)\n movdqu %%xmm5, 80(%2)\n"
                     "movdqu %%xmm6, 96(%2)\n movdqu %%xmm7, 112(%2)\n"
                     : "+a"(nr) : "r"(in), "r"(o)
                     : "rcx", "r11", "rdi", "rsi", "rdx", "r10", "r8", "r9", "memory",
                       "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7");
}

static void avx_yield(const uk_word_t *in, uk_word_t *o)
{
    uk_word_t nr = UK_SYS_YIELD;
    __asm__ volatile("vmovdqu 0(%1), %%ymm0\n vmovdqu 32(%1), %%ymm1\n"
                     "vmovdqu 64(%1), %%ymm2\n vmovdqu 96(%1), %%ymm3\n"
                     "vmovdqu 128(%1), %%ymm4\n vmovdqu 160(%1), %%ymm5\n"
                     "vmovdqu 192(%1), %%ymm6\n vmovdqu 224(%1), %%ymm7\n"
                     "syscall\n"
                     "vmovdqu %%ymm0, 0(%2)\n vmovdqu %%ymm1, 32(%2)\n"
                     "vmovdqu %%ymm2, 64(%2)\n vmovdqu %%ymm3, 96(%2)\n"
                     "vmovdqu %%ymm4, 128(%2)\n vmovdqu %%ymm5, 160(%2)\n"
                     "vmovdqu %%ymm6, 192(%2)\n vmovdqu %%ymm7, 224(%2)\n"
                     "vzeroupper\n"
                     : "+a"(nr) : "r"(in), "r"(o)
                     : "rcx", "r11", "rdi", "rsi", "rdx", "r10", "r8", "r9", "memory",
                       "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7");
}

static void fpu_fn(uk_word_t arg)
{
    struct fpu_arg *a = (struct fpu_arg *)arg;
    uk_word_t in[32], o[32];
    int n = a->avx ? 32 : 16;
    for (long round = 0; round < FPU_ROUNDS; round++) {
        for (int k = 0; k < 32; k++) {
            in[k] = FPU_ROUND(a, round, k);
            o[k] = 0;
        }
        if (a->avx)
            avx_yield(in, o);
        else
            sse_yield(in, o);
        for (int k = 0; k < n; k++)
            if (o[k] != in[k])
                a->bad++;
        a->rounds++;
    }
    a->done = 1;
}

static int have_avx(void)
{
    unsigned a, b, c, d, lo, hi;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
    if (!(c & (1u << 28)) || !(c & (1u << 27)))
        return 0;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (lo & 6) == 6;
}

static void fpu_two_threads(int avx)
{
    struct uk_spawned s[2];
    for (int i = 0; i < 2; i++) {
        memset(&fpu_args[i], 0, sizeof fpu_args[i]);
        fpu_args[i].seed = 0x100 + i;
        fpu_args[i].avx = avx;
    }
    for (int i = 0; i < 2; i++)
        KT_EQ(uk_spawn(UK_SLOT_SELF_TASK, fpu_fn, (uk_word_t)&fpu_args[i], PRIO, 0, &s[i]), UK_OK);
    KT_CHECK(kt_wait_flag(&fpu_args[0].done, 5 * SEC));
    KT_CHECK(kt_wait_flag(&fpu_args[1].done, 5 * SEC));
    for (int i = 0; i < 2; i++) {
        KT_EQ(fpu_args[i].rounds, FPU_ROUNDS);
        KT_EQ(fpu_args[i].bad, 0);
        kt_destroy(s[i].thread);
    }
}

KT_TEST(fpu_sse_registers_are_per_thread)
{
    fpu_two_threads(0);
}

KT_TEST(fpu_avx_registers_are_per_thread)
{
    if (!have_avx()) {
        printf("    (no AVX: only SSE checked)\n");
        fpu_two_threads(0);
        return;
    }
    fpu_two_threads(1);
}

/* XSAVE and XRSTOR are how a guest kernel keeps its processes' FPU state
 * (the vCPU entry path): in a vCPU thread, after any switch, they must work
 * on its own registers.  QEMU's TCG does not trap them under CR0.TS, so
 * with a purely lazy switch they read and wrote whichever thread's
 * registers were loaded (arch/x86/fpu.c).  Two threads, made vCPUs before
 * they start: each XRSTORs a pattern, yields to the other, XSAVEs,
 * compares. */
static volatile long xsave_go;
/* Where their state pages go: the last two pages of the 2 MiB our image
 * starts in, unmapped, so no new page table is charged to us (the suite's
 * leak check) and our image stays whole (uk_task_new maps it into children). */
static uk_word_t xsave_state_va(int i)
{
    return ((uk_word_t)&xsave_go & ~0x1ffffful) + 0x200000 - (uk_word_t)(2 - i) * 4096;
}
static struct fpu_arg xsave_args[2];
static unsigned char xsave_area[2][2][4096] __attribute__((aligned(64)));

static void xsave_fn(uk_word_t arg)
{
    struct fpu_arg *a = (struct fpu_arg *)arg;
    unsigned char *in = xsave_area[a - xsave_args][0], *out = xsave_area[a - xsave_args][1];
    unsigned lo, hi;
    while (!xsave_go)
        uk_yield();
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    __asm__ volatile("xsave64 (%0)" :: "r"(in), "a"(lo), "d"(hi) : "memory");
    for (long round = 0; round < FPU_ROUNDS; round++) {
        uk_word_t *xmm = (uk_word_t *)(in + 160);   /* XMM0-7 in the legacy area */
        for (int k = 0; k < 16; k++)
            xmm[k] = FPU_ROUND(a, round, k);
        in[512] |= 2;                               /* XSTATE_BV: SSE state present */
        __asm__ volatile("mov %k[lo], %%eax\n mov %k[hi], %%edx\n xrstor64 (%[in])\n"
                         "mov %[nr], %%eax\n syscall\n"
                         "mov %k[lo], %%eax\n mov %k[hi], %%edx\n xsave64 (%[out])"
                         :: [in] "r"(in), [out] "r"(out), [lo] "r"(lo), [hi] "r"(hi),
                            [nr] "i"(UK_SYS_YIELD)
                         : "rax", "rcx", "rdx", "r11", "rdi", "rsi", "r10", "r8", "r9", "memory",
                           "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7");
        if (memcmp(in + 160, out + 160, 128))
            a->bad++;
        a->rounds++;
    }
    a->done = 1;
}

KT_TEST(fpu_xsave_and_xrstor_see_own_registers_after_a_switch)
{
    struct uk_spawned s[2];
    xsave_go = 0;
    for (int i = 0; i < 2; i++) {
        memset(&xsave_args[i], 0, sizeof xsave_args[i]);
        xsave_args[i].seed = 0x200 + i;
    }
    for (int i = 0; i < 2; i++) {
        KT_EQ(uk_spawn(UK_SLOT_SELF_TASK, xsave_fn, (uk_word_t)&xsave_args[i], PRIO, 0, &s[i]),
              UK_OK);
        KT_EQ(uk_mem_info(xsave_state_va(i), 0, 0), UK_E_NOT_MAPPED);
        KT_EQ(uk_vcpu_config(s[i].thread, xsave_state_va(i), 0), UK_OK);
    }
    xsave_go = 1;
    KT_CHECK(kt_wait_flag(&xsave_args[0].done, 5 * SEC));
    KT_CHECK(kt_wait_flag(&xsave_args[1].done, 5 * SEC));
    for (int i = 0; i < 2; i++) {
        KT_EQ(xsave_args[i].rounds, FPU_ROUNDS);
        KT_EQ(xsave_args[i].bad, 0);
        kt_destroy(s[i].thread);
    }
}

/* A new thread finds the FPU in its initial state, not another's values. */
static volatile uk_word_t fpu_seen[34];

static void fpu_dirty_fn(uk_word_t avx)
{
    static uk_word_t junk[32];
    unsigned mxcsr = 0x7f80;                 /* round toward zero */
    unsigned short fcw = 0x27f;
    for (int k = 0; k < 32; k++)
        junk[k] = 0xdead0000ul + k;
    if (avx)
        __asm__ volatile("vmovdqu 0(%0), %%ymm0\n vmovdqu 32(%0), %%ymm7\n"
                         :: "r"(junk) : "xmm0", "xmm7", "memory");
    else
        __asm__ volatile("movdqu 0(%0), %%xmm0\n movdqu 16(%0), %%xmm7\n"
                         :: "r"(junk) : "xmm0", "xmm7", "memory");
    __asm__ volatile("ldmxcsr %0\n fldcw %1" :: "m"(mxcsr), "m"(fcw));
    out_done = 1;
}

static void fpu_fresh_fn(uk_word_t avx)
{
    uk_word_t v[16];
    unsigned mxcsr = 0;
    unsigned short fcw = 0;
    if (avx)
        __asm__ volatile("vmovdqu %%ymm0, 0(%0)\n vmovdqu %%ymm7, 32(%0)\n"
                         :: "r"(v) : "memory");
    else
        __asm__ volatile("movdqu %%xmm0, 0(%0)\n movdqu %%xmm7, 16(%0)\n"
                         :: "r"(v) : "memory");
    __asm__ volatile("stmxcsr %0\n fnstcw %1" : "=m"(mxcsr), "=m"(fcw));
    for (int k = 0; k < 8; k++)
        fpu_seen[k] = v[k];
    fpu_seen[32] = mxcsr;
    fpu_seen[33] = fcw;
    out_started = 1;
}

KT_TEST(fpu_new_thread_starts_clean)
{
    int avx = have_avx();
    struct uk_spawned a, b;
    out_reset();
    for (int k = 0; k < 34; k++)
        fpu_seen[k] = 0x55;
    KT_EQ(uk_spawn(UK_SLOT_SELF_TASK, fpu_dirty_fn, (uk_word_t)avx, PRIO, 0, &a), UK_OK);
    KT_CHECK(kt_wait_flag(&out_done, SEC));
    KT_EQ(uk_spawn(UK_SLOT_SELF_TASK, fpu_fresh_fn, (uk_word_t)avx, PRIO, 0, &b), UK_OK);
    KT_CHECK(kt_wait_flag(&out_started, SEC));
    for (int k = 0; k < (avx ? 8 : 4); k++)
        KT_EQ(fpu_seen[k], 0);
    KT_EQ(fpu_seen[32], 0x1f80);
    KT_EQ(fpu_seen[33], 0x37f);
    kt_destroy(a.thread);
    kt_destroy(b.thread);
}
