/*
 * The kernel never waits on user level (docs/kernel-waits.md).
 *
 * Each test makes a user-level task that ought to answer something (a
 * pager, an exception handler, a server) never answer, and checks that
 * only the thread that asked stalls, while the rest of the machine goes on:
 *   - the timer: a timed receive of the root's expires on time and the
 *     kernel's tick count grows;
 *   - the scheduler: a busy bystander in a task of its own keeps counting;
 *   - the stalled thread is not lost to the kernel: destroying the task that
 *     did not answer stops it (a fault) or wakes it with an error (a call),
 *     and it can be destroyed in turn.
 * The last test checks that the kernel's own accesses to user memory never
 * become page faults for a user pager: they fail with UK_E_ADDR instead.
 */
#include "ktest.h"

#define SEC         1000000ul
#define PRIO        255
#define BYSTANDER   100       /* below the root: runs whenever the root waits */
#define CHILD_VA    0x0000000020000000ul   /* nothing is mapped here in a child */
#define DEBUG_SLOT  5         /* where a child gets its copy of the debug cap */

static volatile uk_word_t bystander_count;
static volatile long asked, answered;   /* by the stalled thread, by the deaf one */

static void bystander_fn(uk_word_t arg)
{
    (void)arg;
    for (;;)
        bystander_count++;
}

/* Reading a thread's registers works in any state; writing them back only
 * when it is stopped or inactive (not while it waits in the kernel). */
static long rewrite_regs(uk_word_t thread)
{
    long err = uk_thread_read_regs(thread);
    return err != UK_OK ? err : uk_thread_write_regs(thread);
}

static uk_word_t child_task(void)
{
    uk_word_t t = 0;
    KT_EQ(uk_task_new(512ul << 10, 64, 1, &t), UK_OK);
    return t;
}

/* The machine around a stalled thread. */
struct world {
    uk_word_t task;            /* the bystander's task */
    struct uk_spawned busy;
};

static struct world world_new(void)
{
    struct world w = { child_task(), { 0 } };
    bystander_count = 0;
    KT_EQ(uk_spawn(w.task, bystander_fn, 0, BYSTANDER, 0, &w.busy), UK_OK);
    return w;
}

static void world_destroy(struct world *w)
{
    kt_destroy(w->busy.thread);
    kt_destroy(w->task);
}

/* Checks that the timer and the scheduler go on: a 50 ms timed receive on
 * an endpoint nobody sends to ends on time with UK_E_TIMEOUT, the tick count
 * grew, and the bystander ran. */
static void world_goes_on(void)
{
    uk_word_t quiet = kt_endpoint();
    uk_word_t ticks = kt_stats().timer_ticks, count = bystander_count, t0 = uk_rdtsc();
    struct uk_msg m = { .info = uk_msginfo(0, 0, uk_timeout_us(50000)) };
    KT_EQ(uk_recv(quiet, &m), UK_E_TIMEOUT);
    uk_word_t dt = kt_tsc_to_us(uk_rdtsc() - t0);
    KT_CHECK(dt >= 49900);
    KT_CHECK(dt <= 2 * SEC);
    KT_CHECK(kt_stats().timer_ticks > ticks);
    KT_CHECK(bystander_count > count);
    kt_destroy(quiet);
}

/* A deaf handler or server: takes one message on `ep` and never answers it
 * (it waits on a notification nobody signals). */
static uk_word_t deaf_notif;

static void deaf_fn(uk_word_t ep)
{
    struct uk_msg m = { .info = uk_msginfo(0, 0, UK_TIMEOUT_INFINITE) };
    if (uk_recv(ep, &m) == UK_OK)
        answered = -1;             /* took it; the answer never comes */
    uk_word_t bits;
    uk_wait(deaf_notif, UK_TIMEOUT_INFINITE, &bits);
}

/* A thread whose fault goes to a handler that takes the fault message and
 * never replies: only it stalls.  `fn` faults at once. */
static void stall_on_fault(void (*fn)(uk_word_t))
{
    struct world w = world_new();
    uk_word_t ep = kt_endpoint(), task = child_task();
    deaf_notif = kt_notification();
    asked = answered = 0;
    struct uk_spawned deaf, client;
    KT_EQ(uk_spawn(UK_SLOT_SELF_TASK, deaf_fn, ep, PRIO, 0, &deaf), UK_OK);
    KT_EQ(uk_spawn(task, fn, 0, PRIO, ep, &client), UK_OK);
    KT_CHECK(kt_wait_flag(&answered, SEC));      /* the handler holds the fault */
    KT_EQ(asked, 1);                             /* the client got as far as it */
    world_goes_on();
    KT_EQ(rewrite_regs(client.thread), UK_E_STATE);          /* waiting, not stopped */
    /* the handler gone, the kernel stops the thread (nothing will resume it)
     * rather than keep it waiting for ever */
    kt_destroy(deaf.thread);
    KT_EQ(rewrite_regs(client.thread), UK_OK);               /* stopped */
    world_goes_on();
    kt_destroy(client.thread);
    kt_destroy(task);
    kt_destroy(deaf_notif);
    kt_destroy(ep);
    world_destroy(&w);
}

static void page_fault_fn(uk_word_t arg)
{
    (void)arg;
    asked = 1;
    (void)*(volatile uk_word_t *)CHILD_VA;       /* unmapped: to the pager */
    asked = 2;                                   /* never */
}

KT_TEST(nowait_pager_that_never_answers_stalls_only_its_client)
{
    stall_on_fault(page_fault_fn);
    KT_EQ(asked, 1);
}

static void exception_fn(uk_word_t arg)
{
    (void)arg;
    asked = 1;
    __asm__ volatile("ud2" ::: "memory");        /* to the exception handler */
    asked = 2;
}

KT_TEST(nowait_exception_handler_that_never_answers_stalls_only_its_thread)
{
    stall_on_fault(exception_fn);
    KT_EQ(asked, 1);
}

/* A server that takes a call and never replies: its client waits (it chose
 * an infinite timeout), the machine goes on, and the server's end wakes it. */
static volatile long call_result, call_done;

static void client_fn(uk_word_t ep)
{
    struct uk_msg m = { .info = uk_msginfo(7, 0, UK_TIMEOUT_INFINITE) };
    asked = 1;
    call_result = uk_call(ep, &m);
    call_done = 1;
}

KT_TEST(nowait_server_that_never_replies_stalls_only_its_client)
{
    struct world w = world_new();
    uk_word_t ep = kt_endpoint();
    deaf_notif = kt_notification();
    asked = answered = call_done = 0;
    call_result = 1;
    struct uk_spawned deaf, client;
    KT_EQ(uk_spawn(UK_SLOT_SELF_TASK, deaf_fn, ep, PRIO, 0, &deaf), UK_OK);
    KT_EQ(uk_spawn(UK_SLOT_SELF_TASK, client_fn, ep, PRIO, 0, &client), UK_OK);
    KT_CHECK(kt_wait_flag(&answered, SEC));
    world_goes_on();
    KT_EQ(asked, 1);
    KT_EQ(call_done, 0);                         /* still in its call */
    kt_destroy(deaf.thread);
    KT_CHECK(kt_wait_flag(&call_done, SEC));
    KT_EQ(call_result, UK_E_DESTROYED);
    kt_destroy(client.thread);
    kt_destroy(deaf_notif);
    kt_destroy(ep);
    world_destroy(&w);
}

/* A thread of the root's priority that never blocks or yields: the timer
 * still preempts it, so the root's timeout and the tick go on (the bystander,
 * below both, is starved: strict priorities are policy, not a kernel wait). */
static void spin_fn(uk_word_t arg)
{
    (void)arg;
    asked = 1;
    for (;;)
        __asm__ volatile("pause");
}

KT_TEST(nowait_busy_thread_of_equal_priority_is_preempted)
{
    asked = 0;
    struct uk_spawned spin;
    KT_EQ(uk_spawn(UK_SLOT_SELF_TASK, spin_fn, 0, PRIO, 0, &spin), UK_OK);
    KT_CHECK(kt_wait_flag(&asked, SEC));
    uk_word_t ticks = kt_stats().timer_ticks, t0 = uk_rdtsc();
    kt_sleep_us(20000);                          /* yields to it; must come back */
    KT_CHECK(kt_tsc_to_us(uk_rdtsc() - t0) <= 2 * SEC);
    KT_CHECK(kt_stats().timer_ticks > ticks);
    kt_destroy(spin.thread);
}

/* The kernel reads user memory by walking the page tables, never by taking
 * a page fault: an unmapped buffer is UK_E_ADDR at once, and the pager the
 * thread has is never asked. */
static void puts_unmapped_fn(uk_word_t arg)
{
    (void)arg;
    call_result = uk_debug_puts_at(DEBUG_SLOT, (const char *)CHILD_VA, 16);
    asked = 1;
}

KT_TEST(nowait_kernel_access_to_user_memory_never_asks_a_pager)
{
    uk_word_t ep = kt_endpoint(), task = child_task();
    KT_EQ(uk_cap_copy(UK_SLOT_DEBUG, task, DEBUG_SLOT, UK_R_ALL, 0), UK_OK);
    asked = 0;
    call_result = 1;
    struct uk_spawned s;
    KT_EQ(uk_spawn(task, puts_unmapped_fn, 0, PRIO, ep, &s), UK_OK);
    struct uk_msg m = { .info = uk_msginfo(0, 0, uk_timeout_us(200000)) };
    KT_EQ(uk_recv(ep, &m), UK_E_TIMEOUT);        /* no fault message */
    KT_EQ(asked, 1);
    KT_EQ(call_result, UK_E_ADDR);
    kt_destroy(s.thread);
    kt_destroy(task);
    kt_destroy(ep);
}
