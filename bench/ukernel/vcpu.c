/*
 * The vCPU benchmarks (docs/vcpu.md), measured like the others (main.c):
 * instruction counts of a timing window under TCG -icount, less the empty
 * window; events per operation from the kernel's counters.
 *
 * Cast: a guest kernel on a vCPU thread of the root task (the state page
 * at STATE_VA), a process in a task of its own sharing the image (its
 * code and data; its stack mapped by us), a helper thread that posts the
 * events for vcpu.upcall.  The guest kernel's entry points are assembly:
 * the minimal handlers below, so that what is measured is the microkernel.
 * They rely on what entry.asm does at every entry (not yet in abi.h): rax,
 * rdx, rsi, r8-r10 are zero, so no mapping rides along unless set.
 *
 *  vcpu.syscall    the process times its `syscall`: exit SYSCALL to the
 *                  guest kernel at entry_ip, which sets user.rax and resumes
 *                  the process, back after the syscall (vg_entry: 8
 *                  instructions of the guest kernel, its syscall included).
 *  vcpu.pagefault  the process times a store to a fresh page: exit
 *                  PAGE_FAULT, the guest kernel resumes with the page riding
 *                  along (12 instructions), the store completes.
 *  vcpu.upcall     the guest kernel runs with irq_enabled = 1 and is
 *                  interrupted (an event from the helper: EXIT_UPCALL, frame
 *                  in `saved`).  Its handler takes that event and, while it
 *                  runs with events off, a second one arrives (it signals
 *                  itself: pending only).  Timed: the handler's
 *                  RESUME(0,0,0,0) finds the event pending and enters again
 *                  at entry_ip with EXIT_UPCALL; that handler takes pending
 *                  (xchg) and returns with RESUME(0,0,0,0) (vg_upcall_entry:
 *                  6 instructions); the interrupted code continues at
 *                  `saved` and stamps.  So: upcall entry +
 *                  handler + return to the interrupted frame, 2 kernel
 *                  entries, no thread switch.  Not in it: how the event got
 *                  to the kernel (a device interrupt, another thread's
 *                  signal -- the helper's path costs thread switches that
 *                  are not the upcall's), nor the copy of the interrupted
 *                  frame into `saved`, done once at the first upcall.
 *  vcpu.irq_toggle irq_enabled = 0; irq_enabled = 1; if (pending) slow():
 *                  user-level instructions only, timed inline.
 *
 * Events per operation: syscall and pagefault from batches marked by the
 * process (a system call the guest kernel answers by reading the
 * counters), less an empty batch with the same marks; upcall from stats
 * taken right before and after each operation, summed over a batch;
 * irq_toggle over a batch.
 */
#include "bench.h"

#define STATE_VA     0x0000500000000000ul   /* the state page, in the root task */
#define VFAULT_BASE  0x0000300000000000ul   /* fresh pages in the process task */
#define VPRIO_VCPU   200
#define VPRIO_HELPER 250                    /* above the vCPU: it preempts it */
#define VRUNS        (WARMUP + RUNS)

/* The process's system calls (to its guest kernel). */
enum { VNR_NULL = 0, VNR_MARK = 1, VNR_DONE = 2 };
enum { MARK_EMPTY_A, MARK_EMPTY_B, MARK_SYS_A, MARK_SYS_B, MARK_PF_A, MARK_PF_B, NMARKS };

#define OFF(f) __builtin_offsetof(struct uk_vcpu_state, f)
#define VS ((volatile struct uk_vcpu_state *)STATE_VA)

/* Read by the entry assembly. */
uk_word_t vg_proc_slot;          /* the process task (root's table: the guest kernel's) */
uk_word_t vg_pf_delta;           /* process page p is backed by guest page p + delta */

static uk_word_t vg_notif;       /* bound to the vCPU: its events */
static uk_word_t vg_helper_notif, vg_done_notif;
static volatile long vg_status;  /* 1 done, < 0 failed */

static volatile uk_word_t vsys_samples[VRUNS], vpf_samples[VRUNS];
static volatile uk_word_t vup_samples[VRUNS], virq_samples[VRUNS];
static struct uk_stats vg_marks[NMARKS];
static struct bench_events vup_events, virq_events;
static volatile unsigned vu_t0lo, vu_t0hi;   /* the upcall window's start stamp */
static volatile uk_word_t vu_setups;         /* upcalls seen by the setup handler */
static volatile int vu_measure_events;
static struct uk_stats vu_a;

void vg_slow(struct uk_vcpu_state *s) __attribute__((noreturn, used));
void vg_upcall_setup(struct uk_vcpu_state *s) __attribute__((noreturn, used));

/* ---- the guest kernel's entry points -------------------------------------------- */

/* Every exit of the process enters here (entry_ip) with rdi = the state
 * page, rsp = entry_sp and rax, rdx, rsi, r8-r10 zero.  The process's null
 * call and its page faults in the fault area are served at once; anything
 * else goes to vg_slow. */
__attribute__((naked)) void vg_entry(void)
{
    __asm__ volatile(
        "cmpq %[sys], %c[reason](%%rdi)\n\t"
        "jne 1f\n\t"
        "cmpq %[null], %c[urax](%%rdi)\n\t"       /* the process's call number */
        "jne 2f\n\t"
        "mov %%rax, %c[urax](%%rdi)\n\t"          /* its result: 0 */
        "mov vg_proc_slot(%%rip), %%rdi\n\t"
        "mov %[resume], %%eax\n\t"
        "syscall\n\t"                              /* rsi, rdx, r10 = 0: no mapping */
        "ud2\n"
        "1:\tcmpq %[pf], %c[reason](%%rdi)\n\t"
        "jne 2f\n\t"
        "mov %c[addr](%%rdi), %%rdx\n\t"
        "and $-4096, %%rdx\n\t"                    /* the process's page */
        "mov vg_pf_delta(%%rip), %%rsi\n\t"
        "add %%rdx, %%rsi\n\t"                     /* ours behind it */
        "mov %[rw], %%r10d\n\t"
        "mov vg_proc_slot(%%rip), %%rdi\n\t"
        "mov %[resume], %%eax\n\t"
        "syscall\n\t"
        "ud2\n"
        "2:\tcall vg_slow\n\t"
        "ud2\n"
        :: [sys] "i"(UK_VCPU_EXIT_SYSCALL), [pf] "i"(UK_VCPU_EXIT_PAGE_FAULT),
           [null] "i"(VNR_NULL), [reason] "i"(OFF(exit_reason)), [urax] "i"(OFF(user.rax)),
           [addr] "i"(OFF(exit_addr)), [resume] "i"(UK_SYS_VCPU_RESUME),
           [rw] "i"(UK_MAP_READ | UK_MAP_WRITE));
}

/* vcpu.upcall, the timed re-entry: take the pending events, return to the
 * interrupted frame. */
__attribute__((naked)) void vg_upcall_entry(void)
{
    __asm__ volatile(
        "cmpq %[upcall], %c[reason](%%rdi)\n\t"
        "jne 1f\n\t"
        "xchg %%rax, %c[pending](%%rdi)\n\t"       /* takes the events (rax = 0) */
        "xor %%edi, %%edi\n\t"                     /* RESUME(0, 0, 0, 0) */
        "mov %[resume], %%eax\n\t"
        "syscall\n\t"
        "ud2\n"
        "1:\tcall vg_slow\n\t"
        "ud2\n"
        :: [upcall] "i"(UK_VCPU_EXIT_UPCALL), [reason] "i"(OFF(exit_reason)),
           [pending] "i"(OFF(pending)), [resume] "i"(UK_SYS_VCPU_RESUME));
}

/* vcpu.upcall, the upcall from the helper's event (not timed). */
__attribute__((naked)) void vg_upcall_setup_entry(void)
{
    __asm__ volatile("call vg_upcall_setup\n\tud2\n");
}

static void __attribute__((noreturn)) vg_finish(long status)
{
    vg_status = status;
    uk_signal(vg_done_notif);
    for (;;)
        uk_thread_suspend(0);
}

void vg_slow(struct uk_vcpu_state *s)
{
    if (s->exit_reason == UK_VCPU_EXIT_SYSCALL) {
        if (s->user.rax == VNR_MARK && s->user.rdi < NMARKS) {
            vg_marks[s->user.rdi] = stats();
            s->user.rax = 0;
            long err = uk_vcpu_resume(vg_proc_slot, 0, 0, 0);
            printf("bench: vcpu resume failed %ld\n", err);
            vg_finish(-2);
        }
        if (s->user.rax == VNR_DONE)
            vg_finish(1);
    }
    printf("bench: vcpu: unexpected exit %lu (rax %lx, addr %lx, rip %lx)\n",
           s->exit_reason, s->user.rax, s->exit_addr, s->user.rip);
    vg_finish(-1);
}

void vg_upcall_setup(struct uk_vcpu_state *s)
{
    if (s->exit_reason != UK_VCPU_EXIT_UPCALL) {
        printf("bench: vcpu: setup entered with exit %lu\n", s->exit_reason);
        vg_finish(-3);
    }
    __atomic_exchange_n(&s->pending, 0, __ATOMIC_SEQ_CST);   /* the helper's event */
    vu_setups++;
    s->entry_ip = (uk_word_t)vg_upcall_entry;
    uk_signal(vg_notif);          /* our own syscall: the bits only go to pending */
    if (!s->pending) {
        printf("bench: vcpu: self-signal did not set pending\n");
        vg_finish(-4);
    }
    if (vu_measure_events)
        vu_a = stats();
    register uk_word_t rdi __asm__("rdi") = 0;
    register uk_word_t rsi __asm__("rsi") = 0;
    register uk_word_t r10 __asm__("r10") = 0;
    /* the window as in main.c; the stamp goes to memory, no register
     * survives the return to the interrupted frame */
    __asm__ volatile("rdtscp\n\t"
                     "mov %%eax, %[lo]\n\t"
                     "mov %%edx, %[hi]\n\t"
                     "mov %[w0], %%rdx\n\t"
                     "mov %k[nr], %%eax\n\t"
                     "syscall\n\t"
                     "ud2"
                     : [lo] "=m"(vu_t0lo), [hi] "=m"(vu_t0hi)
                     : [w0] "r"(0ul), [nr] "r"((uk_word_t)UK_SYS_VCPU_RESUME),
                       "r"(rdi), "r"(rsi), "r"(r10)
                     : "rax", "rcx", "rdx", "r11", "memory");
    __builtin_unreachable();
}

/* ---- the process --------------------------------------------------------------- */

static inline uk_word_t proc_call(uk_word_t nr, uk_word_t arg)
{
    register uk_word_t rdi __asm__("rdi") = arg;
    __asm__ volatile("syscall" : "+a"(nr), "+r"(rdi) :: "rcx", "r11", "memory");
    return nr;
}

/* Runs in the process task: registers and its stack only, the image's
 * data shared with the root task.  No microkernel calls: its syscalls go
 * to the guest kernel. */
static void __attribute__((noreturn)) vproc_main(void)
{
    uk_word_t t0;
    for (int i = 0; i < VRUNS; i++)
        vsys_samples[i] = timed_syscall(VNR_NULL, 0, 0, 0, 0, 0, 0, &t0);
    proc_call(VNR_MARK, MARK_EMPTY_A);
    proc_call(VNR_MARK, MARK_EMPTY_B);
    proc_call(VNR_MARK, MARK_SYS_A);
    for (int i = 0; i < RUNS; i++)
        proc_call(VNR_NULL, 0);
    proc_call(VNR_MARK, MARK_SYS_B);

    for (int i = 0; i < VRUNS; i++)
        vpf_samples[i] = timed_store((volatile uk_word_t *)(VFAULT_BASE + (uk_word_t)i * 4096));
    proc_call(VNR_MARK, MARK_PF_A);
    for (int i = 0; i < RUNS; i++)
        *(volatile uk_word_t *)(VFAULT_BASE + (uk_word_t)(VRUNS + i) * 4096) = 1;
    proc_call(VNR_MARK, MARK_PF_B);
    proc_call(VNR_DONE, 0);
    for (;;)
        ;
}

/* ---- the guest kernel ---------------------------------------------------------- */

static void __attribute__((noinline)) guest_irq_slow(void)
{
    printf("bench: vcpu: an event pending in irq_toggle\n");
    vg_finish(-5);
}

/* How a guest kernel turns its events off and on (docs/vcpu.md). */
static inline void guest_irq_disable(volatile struct uk_vcpu_state *s)
{
    s->irq_enabled = 0;
    __asm__ volatile("" ::: "memory");
}

static inline void guest_irq_enable(volatile struct uk_vcpu_state *s)
{
    __asm__ volatile("" ::: "memory");
    s->irq_enabled = 1;
    __asm__ volatile("" ::: "memory");
    if (__builtin_expect(s->pending != 0, 0))
        guest_irq_slow();
}

static void bench_irq_toggle(void)
{
    volatile struct uk_vcpu_state *s = VS;
    for (int i = 0; i < VRUNS; i++) {
        uk_word_t lo1, hi1;
        register uk_word_t lo0 __asm__("r12"), hi0 __asm__("r13");
        __asm__ volatile("" : "+r"(s));          /* the address in a register first */
        /* the window of main.c's overhead_once, the toggle before its end */
        __asm__ volatile("rdtscp\n\tmov %%eax, %%r12d\n\tmov %%edx, %%r13d\n\t"
                         "mov %[w0], %%rdx\n\t"
                         "mov %k[nr], %%eax\n\t"
                         : "=&r"(lo0), "=&r"(hi0)
                         : [w0] "r"(0ul), [nr] "r"(0ul)
                         : "rax", "rcx", "rdx", "memory");
        guest_irq_disable(s);
        guest_irq_enable(s);
        __asm__ volatile("rdtscp\n\t" : "=a"(lo1), "=d"(hi1) : "r"(lo0), "r"(hi0) : "rcx", "memory");
        virq_samples[i] = join(lo1, hi1) - join(lo0, hi0);
    }
    struct uk_stats a = stats();
    for (int i = 0; i < RUNS; i++) {
        guest_irq_disable(s);
        guest_irq_enable(s);
    }
    events_add(&virq_events, a, stats(), 1);
}

/* The interrupted code of vcpu.upcall: signals the helper, which preempts
 * us and posts an event (EXIT_UPCALL at vg_upcall_setup_entry, the frame
 * right after this syscall); we continue when the timed handler returns. */
static int bench_upcall_run(volatile uk_word_t *out, int n, int events)
{
    vu_measure_events = events;
    VS->irq_enabled = 1;
    for (int i = 0; i < n; i++) {
        uk_word_t setups = vu_setups;
        VS->entry_ip = (uk_word_t)vg_upcall_setup_entry;
        uk_word_t lo, hi, rdi = vg_helper_notif;
        __asm__ volatile("syscall\n\t"
                         "rdtscp\n\t"
                         : "=a"(lo), "=d"(hi), "+D"(rdi)
                         : "0"((uk_word_t)UK_SYS_SIGNAL)
                         : "rcx", "rsi", "r8", "r9", "r10", "r11", "memory");
        if (events)
            events_add(&vup_events, vu_a, stats(), 1);
        if (vu_setups != setups + 1 || VS->pending || !VS->irq_enabled) {
            printf("bench: vcpu.upcall: no upcall (%lu setups, pending %lx)\n",
                   vu_setups - setups, VS->pending);
            return -1;
        }
        if (out)
            out[i] = join(lo, hi) - join(vu_t0lo, vu_t0hi);
    }
    guest_irq_disable(VS);
    VS->entry_ip = (uk_word_t)vg_entry;
    return 0;
}

/* The process's stack top (set before the vCPU starts). */
static uk_word_t vg_proc_stack_top;

/* The vCPU thread: the guest kernel's own benchmarks, then the process's. */
static void guest_main(uk_word_t entry_stack_top)
{
    volatile struct uk_vcpu_state *s = VS;
    s->entry_ip = (uk_word_t)vg_entry;
    s->entry_sp = entry_stack_top;

    bench_irq_toggle();
    if (bench_upcall_run(vup_samples, VRUNS, 0) || bench_upcall_run(0, RUNS, 1))
        vg_finish(-6);

    memset((void *)&s->user, 0, sizeof s->user);
    s->user.rip = (uk_word_t)vproc_main;
    s->user.rsp = vg_proc_stack_top - 8;   /* as if called */
    long err = uk_vcpu_resume(vg_proc_slot, 0, 0, 0);
    printf("bench: vcpu: first resume failed %ld\n", err);
    vg_finish(-8);
}

/* The helper: each signal it gets becomes an event for the vCPU. */
static void vhelper(uk_word_t unused)
{
    (void)unused;
    for (;;) {
        uk_word_t bits;
        uk_wait(vg_helper_notif, UK_TIMEOUT_INFINITE, &bits);
        uk_signal(vg_notif);
    }
}

/* ---- set-up and results (the root task's main thread) --------------------------- */

static void report_words(const char *name, volatile uk_word_t *v, const char *ev)
{
    for (int i = 0; i < RUNS; i++)
        samples[i] = v[WARMUP + i] - overhead;
    report(name, samples, ev);
}

void bench_vcpu(void)
{
    uk_word_t proc;
    struct uk_spawned g, h;
    char ev[256];
    vg_notif = uk_slot_alloc();
    vg_helper_notif = uk_slot_alloc();
    vg_done_notif = uk_slot_alloc();
    unsigned char *pstack = uk_pages_alloc(4);
    unsigned char *entry_stack = uk_pages_alloc(4);
    unsigned char *frames = uk_pages_alloc(VRUNS + RUNS);
    if (!pstack || !entry_stack || !frames ||
        uk_task_new(4ul << 20, 16, 1, &proc) ||
        uk_map(proc, (uk_word_t)pstack, (uk_word_t)pstack, 4, UK_MAP_READ | UK_MAP_WRITE) ||
        uk_notif_create(vg_notif) || uk_notif_create(vg_helper_notif) ||
        uk_notif_create(vg_done_notif) ||
        uk_spawn(UK_SLOT_SELF_TASK, vhelper, 0, VPRIO_HELPER, 0, &h) ||
        uk_spawn_prepare(UK_SLOT_SELF_TASK, guest_main, (uk_word_t)(entry_stack + 4 * 4096),
                         VPRIO_VCPU, 0, &g) ||
        uk_vcpu_config(g.thread, STATE_VA, 0) || uk_notif_bind(vg_notif, g.thread)) {
        printf("bench: cannot set up the vCPU benchmarks\n");
        return;
    }
    vg_proc_slot = proc;
    vg_proc_stack_top = (uk_word_t)(pstack + 4 * 4096);
    vg_pf_delta = (uk_word_t)frames - VFAULT_BASE;
    uk_spawn_go(&g);
    uk_word_t bits;
    long err = uk_wait(vg_done_notif, uk_timeout_us(60000000), &bits);
    if (err || vg_status != 1) {
        printf("bench: the vCPU benchmarks did not finish (err %ld, status %ld)\n", err, vg_status);
        return;
    }

    struct bench_events e = { 0, 0, 0, 0 };
    events_add(&e, vg_marks[MARK_SYS_A], vg_marks[MARK_SYS_B], 1);
    events_add(&e, vg_marks[MARK_EMPTY_A], vg_marks[MARK_EMPTY_B], -1);
    events_format(ev, sizeof ev, e, RUNS);
    report_words("vcpu.syscall", vsys_samples, ev);

    e = (struct bench_events){ 0, 0, 0, 0 };
    events_add(&e, vg_marks[MARK_PF_A], vg_marks[MARK_PF_B], 1);
    events_add(&e, vg_marks[MARK_EMPTY_A], vg_marks[MARK_EMPTY_B], -1);
    events_format(ev, sizeof ev, e, RUNS);
    report_words("vcpu.pagefault", vpf_samples, ev);

    events_format(ev, sizeof ev, vup_events, RUNS);
    report_words("vcpu.upcall", vup_samples, ev);

    events_format(ev, sizeof ev, virq_events, RUNS);
    report_words("vcpu.irq_toggle", virq_samples, ev);

    uk_obj_destroy(g.thread);
    uk_obj_destroy(h.thread);
    uk_obj_destroy(proc);
    uk_obj_destroy(vg_notif);
    uk_obj_destroy(vg_helper_notif);
    uk_obj_destroy(vg_done_notif);
}
