/* The toy guest kernel's tests (toyguest.h): the root sets up a guest task,
 * process tasks and a page pool, optionally a virtual timer, starts the
 * guest kernel and waits (bounded) for it to finish, then checks what it
 * recorded in `toy` and destroys everything. */
#include "ktest.h"
#include "toyguest.h"

#define POOL_PAGES    48
#define ENTRY_PAGES   4
#define GUEST_PRIO    100
#define TIMER_PRIO    250

/* --- the virtual timer: a normal thread of the root task -------------- */

enum { TIMER_TICK = 1, TIMER_SEQ, TIMER_LEAKY };
static volatile long timer_stop, timer_stopped;
static volatile unsigned long timer_sent;
static int timer_mode;
static uk_word_t timer_period_us, timer_notif, timer_vn;
static uk_word_t timer_caps[64], timer_ncaps;

static void timer_thread(uk_word_t arg)
{
    (void)arg;
    uk_word_t i = 0, bits;
    while (!timer_stop) {
        uk_wait(timer_notif, uk_timeout_us(timer_period_us), &bits);
        if (timer_stop)
            break;
        if (timer_mode == TIMER_LEAKY) {
            /* signal, then wait, with values in rbx, rbp, r12-r15 that are
             * this thread's business only (live when the kernel switches) */
            register uk_word_t rdi __asm__("rdi") = timer_vn;
            register uk_word_t rsi __asm__("rsi") = 0;
            uk_word_t rax = UK_SYS_SIGNAL;
            uk_word_t info = uk_msginfo(0, 0, uk_timeout_us(timer_period_us));
            __asm__ volatile("movabs %[p0], %%rbx\n\t"
                             "movabs %[p1], %%rbp\n\t"
                             "movabs %[p2], %%r12\n\t"
                             "movabs %[p3], %%r13\n\t"
                             "movabs %[p4], %%r14\n\t"
                             "movabs %[p5], %%r15\n\t"
                             "syscall\n\t"
                             "mov %[recv], %%eax\n\t"
                             "mov %[wn], %%rdi\n\t"
                             "mov %[info], %%rsi\n\t"
                             "syscall"
                             : "+a"(rax), "+r"(rdi), "+r"(rsi)
                             : [p0] "i"(TOY_LEAK_PAT(0)), [p1] "i"(TOY_LEAK_PAT(1)),
                               [p2] "i"(TOY_LEAK_PAT(2)), [p3] "i"(TOY_LEAK_PAT(3)),
                               [p4] "i"(TOY_LEAK_PAT(4)), [p5] "i"(TOY_LEAK_PAT(5)),
                               [recv] "i"(UK_SYS_RECV), [wn] "m"(timer_notif),
                               [info] "m"(info)
                             : "rbx", "rbp", "r12", "r13", "r14", "r15", "rcx", "r11", "rdx",
                               "r8", "r9", "r10", "memory");
            timer_sent++;
        } else if (timer_mode == TIMER_TICK) {
            uk_signal(timer_vn);
            timer_sent++;
        } else if (i < timer_ncaps) {
            uk_signal(timer_caps[i++]);  /* event i: badge bit i */
            timer_sent++;
        }
    }
    timer_stopped = 1;
}

/* --- one guest kernel with its processes ----------------------------- */

struct env {
    uk_word_t guest, proc[TOY_MAX_PROCS], vn, waitn;
    struct uk_spawned gth, tth;
    int timer;
};

static void add_proc(toy_proc_fn *fn, unsigned long arg, unsigned long budget, int fpu_arg)
{
    struct toy_proc_cfg *c = &toy.proc[toy.nprocs++];
    c->fn = fn;
    c->arg = arg;
    c->budget = budget;
    c->fpu_arg = fpu_arg;
}

static void reset(int mode)
{
    memset(&toy, 0, sizeof toy);
    toy.mode = mode;
}

static uk_word_t setup_fault_ep;   /* the vCPU thread's fault endpoint (0: none) */

/* Builds the guest task, its processes and its vCPU thread (not started). */
static void setup(struct env *e, uk_word_t vflags)
{
    memset(e, 0, sizeof *e);
    KT_EQ(uk_task_new(2ul << 20, 64, 1, &e->guest), UK_OK);
    for (int i = 0; i < toy.nprocs; i++) {
        KT_EQ(uk_task_new(256ul << 10, 4, 0, &e->proc[i]), UK_OK);
        KT_EQ(uk_cap_copy(e->proc[i], e->guest, TOY_SLOT_PROC0 + (uk_word_t)i, UK_R_ALL, 0), UK_OK);
    }
    if (vflags & UK_VCPU_F_KERNEL_FAULTS)
        KT_EQ(uk_cap_copy(e->guest, e->guest, TOY_SLOT_SELF, UK_R_CONTROL, 0), UK_OK);
    unsigned char *pool = uk_pages_alloc(POOL_PAGES);
    unsigned char *stack = uk_pages_alloc(ENTRY_PAGES);
    KT_CHECK(pool && stack);
    KT_EQ(uk_map(e->guest, (uk_word_t)pool, (uk_word_t)pool, POOL_PAGES, UK_MAP_READ | UK_MAP_WRITE), UK_OK);
    KT_EQ(uk_map(e->guest, (uk_word_t)stack, (uk_word_t)stack, ENTRY_PAGES, UK_MAP_READ | UK_MAP_WRITE), UK_OK);
    toy.pool = (uk_word_t)pool;
    toy.npool = POOL_PAGES;
    toy.entry_stack_top = (uk_word_t)stack + ENTRY_PAGES * 4096;
    KT_EQ(uk_spawn_prepare(e->guest, toy_guest_main, 0, GUEST_PRIO, setup_fault_ep, &e->gth), UK_OK);
    KT_EQ(uk_vcpu_config(e->gth.thread, TOY_STATE_VA, vflags), UK_OK);
    e->vn = kt_notification();
    e->waitn = kt_notification();
    KT_EQ(uk_notif_bind(e->vn, e->gth.thread), UK_OK);
    KT_EQ(uk_cap_copy(e->vn, e->guest, TOY_SLOT_VNOTIF, UK_R_READ | UK_R_WRITE, 0), UK_OK);
}

/* A timer thread signalling the vCPU's notification every period_us
 * (TIMER_TICK), or event i with badge bit i for i < nseq (TIMER_SEQ). */
static void start_timer(struct env *e, int mode, uk_word_t period_us, uk_word_t nseq)
{
    timer_stop = timer_stopped = 0;
    timer_sent = 0;
    timer_mode = mode;
    timer_period_us = period_us;
    timer_vn = e->vn;
    timer_notif = kt_notification();
    timer_ncaps = 0;
    for (uk_word_t i = 0; i < nseq; i++) {
        timer_caps[i] = uk_slot_alloc();
        KT_EQ(uk_cap_copy(e->vn, UK_SLOT_SELF_TASK, timer_caps[i], UK_R_WRITE, 1ul << i), UK_OK);
        timer_ncaps++;
    }
    KT_EQ(uk_spawn(UK_SLOT_SELF_TASK, timer_thread, 0, TIMER_PRIO, 0, &e->tth), UK_OK);
    e->timer = 1;
}

/* Runs the guest until it finishes or ms milliseconds pass. */
static void run(struct env *e, unsigned ms)
{
    uk_word_t bits, end = uk_rdtsc() + kt_us_to_tsc(ms * 1000ul);
    KT_EQ(uk_spawn_go(&e->gth), UK_OK);
    while (!toy.done && uk_rdtsc() < end)
        uk_wait(e->waitn, uk_timeout_us(1000), &bits);
    if (!toy.done) {
        printf("    toyguest: no end after %u ms; stopping it\n", ms);
        toy.abort = 1;
        for (int i = 0; i < 100 && !toy.done; i++)
            uk_wait(e->waitn, uk_timeout_us(1000), &bits);
    }
    KT_EQ(toy.done, 1);
}

static void teardown(struct env *e)
{
    uk_word_t bits;
    if (e->timer) {
        timer_stop = 1;
        for (int i = 0; i < 200 && !timer_stopped; i++)
            uk_wait(e->waitn, uk_timeout_us(1000), &bits);
        KT_CHECK(timer_stopped);
        kt_destroy(e->tth.thread);
        for (uk_word_t i = 0; i < timer_ncaps; i++)
            uk_cap_delete(UK_SLOT_SELF_TASK, timer_caps[i]);
        kt_destroy(timer_notif);
    }
    kt_destroy(e->gth.thread);
    for (int i = 0; i < toy.nprocs; i++)
        kt_destroy(e->proc[i]);
    kt_destroy(e->guest);
    kt_destroy(e->vn);
    kt_destroy(e->waitn);
}

static int contains(const char *hay, unsigned long n, const char *needle)
{
    unsigned long m = strlen(needle);
    for (unsigned long i = 0; i + m <= n; i++)
        if (!memcmp(hay + i, needle, m))
            return 1;
    return 0;
}

#define RES(i) (&toy.res[i])

/* --- processes --------------------------------------------------------- */

KT_TEST(toyguest_two_processes_write_getpid_exit)
{
    struct env e;
    reset(TOY_MODE_PROCESSES);
    add_proc(toyp_hello, 11, 0, 0);
    add_proc(toyp_hello, 22, 0, 0);
    setup(&e, 0);
    run(&e, 3000);
    for (int i = 0; i < 2; i++) {
        KT_EQ(RES(i)->status, TOY_EXITED);
        KT_EQ(RES(i)->exit_code, 11 * (i + 1));
        KT_EQ(RES(i)->report[0], i + 1);            /* getpid */
        KT_EQ(RES(i)->report[1], 20);               /* write's result: its length */
        KT_EQ(RES(i)->syscalls, 5);
        KT_CHECK(RES(i)->code_faults >= 1);
        KT_CHECK(RES(i)->stack_faults >= 1);
        KT_EQ(RES(i)->nunknown, 0);
    }
    KT_CHECK(contains(toy.out, toy.outlen, "[pid 1] hello from process 1\n"));
    KT_CHECK(contains(toy.out, toy.outlen, "[pid 2] hello from process 2\n"));
    teardown(&e);
}

KT_TEST(toyguest_yield_switches_between_processes)
{
    struct env e;
    reset(TOY_MODE_PROCESSES);
    add_proc(toyp_yielder, 'a', 0, 0);
    add_proc(toyp_yielder, 'b', 0, 0);
    setup(&e, 0);
    run(&e, 3000);
    toy.wtrace[toy.wtlen < sizeof toy.wtrace ? toy.wtlen : sizeof toy.wtrace - 1] = 0;
    KT_CHECK(!strcmp(toy.wtrace, "a0b0a1b1a2b2a3b3"));
    if (strcmp(toy.wtrace, "a0b0a1b1a2b2a3b3"))
        printf("    order: %s\n", toy.wtrace);
    for (int i = 0; i < 2; i++) {
        KT_EQ(RES(i)->status, TOY_EXITED);
        KT_EQ(RES(i)->exit_code, 4);
        KT_EQ(RES(i)->syscalls, 9);
    }
    teardown(&e);
}

static unsigned long deep_expected(unsigned long seed)
{
    unsigned long s = 0;
    for (unsigned long d = 0; d <= 9; d++)
        s += (unsigned char)(seed + d) + (unsigned char)(seed ^ d);
    return s;
}

KT_TEST(toyguest_demand_paging_stack_and_data)
{
    struct env e;
    reset(TOY_MODE_PROCESSES);
    add_proc(toyp_memory, 5, 0, 0);
    add_proc(toyp_memory, 9, 0, 0);
    setup(&e, 0);
    run(&e, 3000);
    for (int i = 0; i < 2; i++) {
        unsigned long seed = i ? 9 : 5;
        KT_EQ(RES(i)->status, TOY_EXITED);
        KT_EQ(RES(i)->exit_code, 0);
        KT_EQ(RES(i)->report[0], deep_expected(seed));
        KT_EQ(RES(i)->report[1], seed * 511 * 512 / 2);
        KT_CHECK(RES(i)->stack_faults >= 7);     /* ten ~3 KiB frames */
        KT_EQ(RES(i)->data_faults, 1);
        KT_CHECK(RES(i)->code_faults >= 1);
    }
    printf("    faults per process: code %lu stack %lu data %lu\n", RES(0)->code_faults,
           RES(0)->stack_faults, RES(0)->data_faults);
    teardown(&e);
}

static void exception_kills(toy_proc_fn *bad, unsigned long vector)
{
    struct env e;
    reset(TOY_MODE_PROCESSES);
    add_proc(bad, 0, 0, 0);
    add_proc(toyp_worker, 5, 0, 0);
    setup(&e, 0);
    run(&e, 3000);
    KT_EQ(RES(0)->status, TOY_KILLED_EXCEPTION);
    KT_EQ(RES(0)->vector, vector);
    KT_EQ(RES(1)->status, TOY_EXITED);              /* the other one ran on */
    KT_EQ(RES(1)->exit_code, 7);
    KT_EQ(RES(1)->report[0], 5);
    KT_CHECK(RES(0)->report[7] < (long)RES(1)->syscalls);  /* it died before the worker ended */
    teardown(&e);
}

KT_TEST(toyguest_divide_error_kills_only_that_process)
{
    exception_kills(toyp_div0, 0);
}

KT_TEST(toyguest_invalid_opcode_kills_only_that_process)
{
    exception_kills(toyp_ud2, 6);
}

/* The ticks come by the host's clock, so how much a process does between
 * two of them depends on the host's load (QEMU may not run for a whole
 * period): nothing here counts work per tick.  The spinner and the other
 * take turns at each preemption whatever the load; the other's rounds
 * each wait for a preemption of its own (toyp_progress). */
KT_TEST(toyguest_timer_preempts_a_spinning_process)
{
    struct env e;
    reset(TOY_MODE_PROCESSES);
    add_proc(toyp_spin, 0, 30, 0);                   /* killed after 30 preemptions */
    add_proc(toyp_progress, 300000, 0, 0);
    setup(&e, 0);
    start_timer(&e, TIMER_TICK, 1000, 0);
    run(&e, 5000);
    KT_EQ(RES(0)->status, TOY_KILLED_BUDGET);
    KT_EQ(RES(0)->preempts, 30);
    KT_EQ(RES(0)->syscalls, 0);
    KT_CHECK(RES(0)->report[7] >= 1);                /* the other ran meanwhile (a system
                                                        call is the first thing it does) */
    KT_CHECK(RES(1)->preempts >= 5);                 /* and was preempted in turn, once a
                                                        round at least */
    KT_EQ(RES(1)->status, TOY_EXITED);               /* its rounds went on after each */
    KT_EQ(RES(1)->exit_code, 0);
    KT_EQ(RES(1)->report[0], 5);
    KT_CHECK(toy.ticks >= 30);
    printf("    spinner preempted %lu times; the other made %ld syscalls by then, %lu in all, "
           "preempted %lu times\n", RES(0)->preempts, RES(0)->report[7], RES(1)->syscalls,
           RES(1)->preempts);
    teardown(&e);
}

/* The root destroys a process's task while the guest kernel runs it (no
 * timer: the spinner is all the vCPU does): the guest gets EXIT_EVENT with
 * nothing pending, and the next resume of that task fails with UK_E_CAP. */
KT_TEST(toyguest_process_task_destroyed_under_the_guest)
{
    struct env e;
    uk_word_t bits;
    reset(TOY_MODE_PROCESSES);
    add_proc(toyp_spin, 0, 0, 0);
    setup(&e, 0);
    KT_EQ(uk_spawn_go(&e.gth), UK_OK);
    for (int i = 0; i < 3000 && !RES(0)->code_faults; i++)
        uk_wait(e.waitn, uk_timeout_us(1000), &bits);
    for (int i = 0; i < 20; i++)                     /* let it spin a while */
        uk_wait(e.waitn, uk_timeout_us(1000), &bits);
    KT_EQ(RES(0)->code_faults, 1);
    KT_EQ(RES(0)->status, TOY_RUNNING);
    kt_destroy(e.proc[0]);                           /* its task, while the vCPU runs it */
    for (int i = 0; i < 3000 && !toy.done; i++)
        uk_wait(e.waitn, uk_timeout_us(1000), &bits);
    KT_EQ(toy.done, 1);
    KT_EQ(RES(0)->status, TOY_GONE);
    KT_EQ(RES(0)->preempts, 1);
    KT_EQ(toy.bare_events, 1);
    teardown(&e);
}

KT_TEST(toyguest_sleeping_processes_idle_until_events)
{
    struct env e;
    reset(TOY_MODE_PROCESSES);
    add_proc(toyp_sleeper, 3, 0, 0);
    add_proc(toyp_sleeper, 5, 0, 0);
    setup(&e, 0);
    start_timer(&e, TIMER_TICK, 1000, 0);
    run(&e, 5000);
    for (int i = 0; i < 2; i++) {
        KT_EQ(RES(i)->status, TOY_EXITED);
        KT_EQ(RES(i)->report[0], 3);
    }
    KT_CHECK(toy.ticks >= 15);
    KT_CHECK(toy.idle_waits >= 1);
    KT_CHECK(toy.idle_notify >= 1);                  /* woken by an event in a receive */
    printf("    ticks %lu, idle waits %lu, woken by events %lu\n", toy.ticks, toy.idle_waits,
           toy.idle_notify);
    teardown(&e);
}

KT_TEST(toyguest_fpu_state_kept_per_process)
{
    struct env e;
    reset(TOY_MODE_PROCESSES);
    add_proc(toyp_fpu, 1, 0, 1);
    add_proc(toyp_fpu, 2, 0, 1);
    setup(&e, 0);
    start_timer(&e, TIMER_TICK, 1000, 0);            /* preemptions in between too */
    run(&e, 10000);
    for (int i = 0; i < 2; i++) {
        KT_EQ(RES(i)->status, TOY_EXITED);
        KT_EQ(RES(i)->exit_code, 0);
        KT_EQ(RES(i)->report[0], 0);                 /* register mismatches */
        KT_EQ(RES(i)->report[1], 0);                 /* MXCSR mismatches */
        KT_EQ(RES(i)->report[2], (long)toy.avx);
        KT_EQ(RES(i)->syscalls, 40 + 4);
    }
    printf("    %s; xsave %lu bytes, features %lx; preemptions %lu + %lu\n",
           toy.avx ? "AVX: ymm0-15" : "no AVX: xmm0-15", toy.xsave_size, toy.xsave_features,
           RES(0)->preempts, RES(1)->preempts);
    teardown(&e);
}

KT_TEST(toyguest_isolation_from_microkernel_and_guest_kernel)
{
    struct env e;
    reset(TOY_MODE_PROCESSES);
    add_proc(toyp_read_kernel, 0, 0, 0);
    add_proc(toyp_read_state, 0, 0, 0);
    add_proc(toyp_ukcalls, (unsigned long)&toy, 0, 0);
    setup(&e, 0);
    run(&e, 3000);
    KT_EQ(RES(0)->status, TOY_KILLED_FAULT);
    KT_EQ(RES(0)->fault_addr, 0xffffffff80100000ul);
    KT_EQ(RES(1)->status, TOY_KILLED_FAULT);
    KT_EQ(RES(1)->fault_addr, TOY_STATE_VA);
    KT_EQ(RES(2)->status, TOY_EXITED);
    KT_EQ(RES(2)->report[0], -TOY_ENOSYS);           /* UK_SYS_DEBUG_PUTS: the guest's */
    KT_EQ(RES(2)->report[1], -TOY_ENOSYS);           /* UK_SYS_NULL */
    KT_EQ(RES(2)->report[2], -TOY_ENOSYS);           /* UK_SYS_VCPU_RESUME */
    KT_EQ(RES(2)->report[3], -TOY_EFAULT);           /* write from the state page */
    KT_EQ(RES(2)->report[4], -TOY_EFAULT);           /* write from guest-kernel data */
    KT_EQ(RES(2)->report[5], 5);                     /* write from its own stack */
    KT_EQ(RES(2)->nunknown, 3);
    KT_EQ(RES(2)->unknown_nr[0], UK_SYS_DEBUG_PUTS);
    KT_EQ(RES(2)->unknown_nr[1], UK_SYS_NULL);
    KT_EQ(RES(2)->unknown_nr[2], UK_SYS_VCPU_RESUME);
    KT_CHECK(contains(toy.out, toy.outlen, "[pid 3] pwned\n"));   /* only through write */
    printf("    kernel read: access %lx; state page read: access %lx\n", RES(0)->fault_access,
           RES(1)->fault_access);
    teardown(&e);
}

/* --- virtual interrupts ------------------------------------------------ */

KT_TEST(toyguest_irq_mask_unmask_loses_no_event)
{
    struct env e;
    reset(TOY_MODE_MASK);
    toy.target = ~0ul;                                 /* 64 events, bit i = event i */
    setup(&e, 0);
    start_timer(&e, TIMER_SEQ, 300, 64);
    run(&e, 10000);
    KT_EQ(timer_sent, 64);
    KT_EQ(toy.rx_bits, ~0ul);
    KT_EQ(toy.dup_bits, 0);
    KT_EQ(toy.nbits, 64);
    KT_CHECK(toy.toggles >= 1000);
    KT_CHECK(toy.takes_masked >= 1);                 /* all three ways were taken */
    KT_CHECK(toy.takes_enabled >= 1);
    KT_CHECK(toy.takes_upcall >= 1);
    printf("    %lu mask/unmask rounds; bits taken masked %lu times, after unmask %lu, "
           "by upcall %lu\n", toy.toggles, toy.takes_masked, toy.takes_enabled, toy.takes_upcall);
    teardown(&e);
}

KT_TEST(toyguest_upcalls_keep_interrupted_registers)
{
    struct env e;
    reset(TOY_MODE_UPCALL);
    toy.target = 20;
    setup(&e, 0);
    start_timer(&e, TIMER_TICK, 1000, 0);
    run(&e, 5000);
    KT_CHECK(toy.upcalls >= 20);
    KT_EQ(toy.reg_errors, 0);
    KT_EQ(toy.frame_errors, 0);
    KT_CHECK(toy.frames_in_loop >= 1);
    KT_CHECK(toy.loop_iters > 0);
    printf("    %lu upcalls (%lu inside the loop), %lu loop rounds\n", toy.upcalls,
           toy.frames_in_loop, toy.loop_iters);
    teardown(&e);
}

/* A thread of another task signals the vCPU and blocks, which switches to
 * the vCPU's upcall entry: the guest kernel must not find that thread's
 * callee-saved registers in its own on entry. */
KT_TEST(toyguest_entry_leaks_no_registers_of_other_threads)
{
    struct env e;
    reset(TOY_MODE_UPCALL);
    toy.target = 10;
    setup(&e, 0);
    start_timer(&e, TIMER_LEAKY, 1000, 0);
    run(&e, 5000);
    KT_CHECK(toy.upcalls >= 10);
    KT_EQ(toy.leaks, 0);
    printf("    %lu upcalls, %lu registers seen with the other thread's values\n", toy.upcalls,
           toy.leaks);
    teardown(&e);
}

KT_TEST(toyguest_kernel_fault_exit_maps_and_returns)
{
    struct env e;
    reset(TOY_MODE_KFAULT);
    setup(&e, UK_VCPU_F_KERNEL_FAULTS);
    run(&e, 3000);
    KT_EQ(toy.kfaults, 1);
    KT_EQ(toy.kfault_addr, TOY_KFAULT_VA);
    KT_EQ(toy.kfault_vector, 14);
    KT_CHECK(toy.kfault_access & UK_ACCESS_WRITE);
    KT_EQ(toy.kfault_value, 0x5eed);
    KT_EQ(toy.kfault_alias, 0x5eed);                 /* the pool page it mapped */
    if (toy.kfault_irq_after)
        printf("    note: irq_enabled is 1 after returning from a kernel fault taken with 0\n");
    teardown(&e);
}

KT_TEST(toyguest_receive_with_events_pending_returns_at_once)
{
    struct env e;
    reset(TOY_MODE_IDLE_PENDING);
    setup(&e, 0);
    uk_word_t ep = kt_endpoint();
    KT_EQ(uk_cap_copy(ep, e.guest, TOY_SLOT_EP, UK_R_READ, 0), UK_OK);
    run(&e, 3000);
    for (int k = 0; k < 2; k++) {                    /* not UK_E_TIMEOUT after 50 ms */
        KT_EQ(toy.idle_err[k], UK_OK);
        KT_CHECK(toy.idle_flags[k] & UK_MSGF_NOTIFY);
        printf("    %s with an event pending: err %ld flags %lx after %lu us\n",
               k ? "endpoint receive" : "notification wait", toy.idle_err[k],
               toy.idle_flags[k], kt_tsc_to_us(toy.idle_tsc[k]));
    }
    KT_EQ(toy.nbits, 2);
    KT_EQ(toy.takes_masked, 2);
    teardown(&e);
    kt_destroy(ep);
}

/* An entry_ip outside user space: the kernel must never sysret to it (a
 * non-canonical rip makes sysret fault in ring 0 on Intel CPUs, on the
 * guest's stack).  The guest kernel faults instead, in user mode, at the
 * never-mapped last user page; that fault (in a kernel-fault exit already)
 * goes to its fault endpoint. */
KT_TEST(toyguest_bad_entry_ip_faults_in_user_mode)
{
    struct env e;
    struct uk_msg m = { 0 };
    uk_word_t fep = kt_endpoint();
    reset(TOY_MODE_BAD_ENTRY);
    setup_fault_ep = fep;
    setup(&e, UK_VCPU_F_KERNEL_FAULTS);
    setup_fault_ep = 0;
    KT_EQ(uk_spawn_go(&e.gth), UK_OK);
    m.info = uk_msginfo(0, 0, uk_timeout_us(500000));
    KT_EQ(uk_recv(fep, &m), UK_OK);
    printf("    fault message: label %lx words %lx %lx %lx\n", uk_msg_label(m.info), m.w[0],
           m.w[1], m.w[2]);
    KT_EQ(uk_msg_label(m.info), UK_FAULT_PAGE);
    KT_EQ(m.w[0], UK_USER_MAP_TOP);                 /* the address it faulted at */
    KT_EQ(m.w[2], UK_USER_MAP_TOP);                 /* and its rip */
    KT_EQ(toy.done, 0);
    teardown(&e);
    kt_destroy(fep);
}
