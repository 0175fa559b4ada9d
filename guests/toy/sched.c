/*
 * Processes on the vCPU (docs/vcpu.md).  Each runs in a task of its own,
 * made from our quota, with nothing mapped until it touches it: pages of
 * the toyproc section (read/execute) and stack pages from guest RAM
 * (read/write), each mapping riding along with the resume that retries the
 * access.  Every exit enters toy_entry_stub on our entry stack; the stub
 * saves the running process's FPU state (XSAVE) before any C code can use
 * SSE, and toy_resume restores it just before UK_SYS_VCPU_RESUME.  Timer
 * events (UK_VDEV_EVENT_TIMER in state.pending) preempt the running
 * process: round robin.  UK_VDEV_EVENT_POWER (the power button,
 * docs/shutdown.md) halts the guest with status 0 wherever it is.
 */
#include "toy.h"
#include <user/spawn.h>      /* uk_slot_alloc */

extern char __start_toyproc[], __stop_toyproc[];

enum { P_FREE = 0, P_RUNNABLE, P_SLEEPING, P_DEAD };
#define PROC_PAGES  (TOY_STACK_PAGES + 8)
#define PROC_QUOTA  (256ul << 10)
#define PROC_SLOTS  8
#define XSAVE_MAX   4096
#define ENTRY_STACK 16384

struct proc {
    int state;
    uk_word_t task;                 /* its task cap, in our table */
    uk_word_t wake;                 /* tick to wake at, while P_SLEEPING */
    struct uk_regs regs;
    struct { uk_word_t va; void *page; } pages[PROC_PAGES];   /* page NULL: code */
    int npages;
    unsigned long syscalls, preempts;
};
static struct proc procs[TOY_NPROCS];
static int cur = -1;
struct toy_stats stats;

unsigned char toy_xsave[TOY_NPROCS][XSAVE_MAX] __attribute__((aligned(64)));
unsigned char *toy_cur_xsave;       /* the running process's area (the stub's) */
static unsigned char entry_stack[ENTRY_STACK] __attribute__((aligned(16)));

#define OFF_XSAVE_FEATURES 432
_Static_assert(__builtin_offsetof(struct uk_vcpu_state, xsave_features) == OFF_XSAVE_FEATURES,
               "entry stub offset");
#define XS(x) #x
#define S(x) XS(x)

__asm__(".text\n"
        ".globl toy_entry_stub\n"
        "toy_entry_stub:\n"
        "  mov toy_cur_xsave(%rip), %rcx\n"
        "  test %rcx, %rcx\n"
        "  jz 1f\n"
        "  mov " S(OFF_XSAVE_FEATURES) "(%rdi), %eax\n"
        "  mov " S(OFF_XSAVE_FEATURES) "+4(%rdi), %edx\n"
        "  xsave64 (%rcx)\n"
        "1:\n"
        "  and $-16, %rsp\n"
        "  call toy_entry\n"
        "  ud2\n");
extern char toy_entry_stub[];

/* Restores the FPU area, then UK_SYS_VCPU_RESUME; returns only on error. */
static long toy_resume(unsigned char *area, uk_word_t task, uk_word_t src, uk_word_t dst,
                       uk_word_t rights)
{
    return uk_vcpu_resume_fpu(area, vcpu->xsave_features, task, src, dst, rights);
}

/* --- time -------------------------------------------------------------- */

/* Takes the pending event bits: a timer event is a tick; sleepers due wake;
 * console input is echoed (`echo`); virtio queues' events are kept for
 * vdisk.c.  Returns whether there were any. */
uk_word_t virtio_events;

int take_ticks(void)
{
    uk_word_t bits = __atomic_exchange_n(&vcpu->pending, 0, __ATOMIC_SEQ_CST);
    virtio_events |= bits & UK_VDEV_EVENT_VIRTIO_ALL;
    if ((bits & UK_VDEV_EVENT_POWER) && opts.nopower)   /* a guest that will not go */
        kprintf("power button: ignored (nopower)\n");
    else if (bits & UK_VDEV_EVENT_POWER) {   /* the machine's power button: our orderly
                                                way out is to stop now (nothing to flush) */
        kprintf("power button: powering off (status 0)\n");
        power(UK_VDEV_POWER_HALT, 0);
    }
    echo_poll((bits & UK_VDEV_EVENT_CONSOLE) != 0);
    if (!(bits & UK_VDEV_EVENT_TIMER))
        return bits != 0;
    stats.ticks++;
    if (opts.panic_at)
        kfault_panic_check();
    if (opts.exhaust_at)
        exhaust_check();
    for (int i = 0; i < TOY_NPROCS; i++)
        if (procs[i].state == P_SLEEPING && procs[i].wake <= stats.ticks)
            procs[i].state = P_RUNNABLE;
    return 1;
}

/* Waits up to `us` (~0: no limit) for an event (a vCPU's receive ends when
 * one comes; with bits already pending it would not wait at all, so take
 * them first). */
void idle_wait(unsigned long us)
{
    if (take_ticks())
        return;            /* events handled: the caller's condition may hold now */
    stats.idle_waits++;
    uk_word_t t = us == ~0ul ? UK_TIMEOUT_INFINITE : uk_timeout_us(us);
    uk_sys(UK_SYS_RECV, UK_GUEST_SLOT_EVENTS, uk_msginfo(0, 0, t), 0, 0, 0, 0);
}

/* --- processes ----------------------------------------------------------- */

static void end_process(int i, const char *how, long value)
{
    struct proc *p = &procs[i];
    for (int k = 0; k < p->npages; k++)
        if (p->pages[k].page)
            page_free(p->pages[k].page);
    p->npages = 0;
    p->state = P_DEAD;
    uk_obj_destroy(p->task);       /* its mappings go with it */
    kprintf("process %d %s %ld (%lu system calls, %lu preemptions)\n", i + 1, how, value,
            p->syscalls, p->preempts);
}

/* Our address of a process's byte, or NULL: only what we mapped for it. */
static const char *translate(int i, uk_word_t va)
{
    struct proc *p = &procs[i];
    for (int k = 0; k < p->npages; k++)
        if (p->pages[k].va == (va & ~(UK_PAGE_SIZE - 1)))
            return p->pages[k].page ? (const char *)p->pages[k].page + (va & (UK_PAGE_SIZE - 1))
                                    : (const char *)va;   /* code: same address here */
    return 0;
}

static long sys_write(int i, uk_word_t va, uk_word_t len)
{
    char buf[256];
    if (len >= sizeof buf)
        return -TOY_EINVAL;
    for (uk_word_t k = 0; k < len; k++) {
        const char *kp = translate(i, va + k);
        if (!kp)
            return -TOY_EFAULT;
        buf[k] = *kp;
    }
    buf[len] = 0;
    if (!opts.progress) {
        kprintf("[pid %d] %s\n", i + 1, buf);
        return (long)len;
    }
    /* `progress`: the TSC since the microkernel's first instruction (the
     * harness's virtual time), and with `diskio` one disk round trip */
    if (opts.diskio) {                   /* stamped after its round trip: the line's
                                            status belongs to the time it is stamped with */
        long disk = disk_tick();
        kprintf("[pid %d] %s t=%lu disk=%ld\n", i + 1, buf, uk_rdtsc() - gi->boot_tsc, disk);
    } else {
        kprintf("[pid %d] %s t=%lu\n", i + 1, buf, uk_rdtsc() - gi->boot_tsc);
    }
    return (long)len;
}

/* A process's system call; returns 1 if another process should run. */
static int do_syscall(int i)
{
    struct proc *p = &procs[i];
    struct uk_regs *u = &p->regs;
    p->syscalls++;
    stats.syscalls++;
    switch (u->rax) {
    case TOY_SYS_WRITE:
        u->rax = (uk_word_t)sys_write(i, u->rdi, u->rsi);
        return 0;
    case TOY_SYS_GETPID:
        u->rax = (uk_word_t)(i + 1);
        return 0;
    case TOY_SYS_YIELD:
        u->rax = 0;
        return 1;
    case TOY_SYS_SLEEP:
        u->rax = 0;
        p->wake = stats.ticks + u->rdi;
        p->state = P_SLEEPING;
        return 1;
    case TOY_SYS_EXIT:
        end_process(i, "exited with", (long)u->rdi);
        return 1;
    default:
        u->rax = (uk_word_t)-TOY_ENOSYS;
        return 0;
    }
}

/* A process's page fault: the mapping to make (returns 1), or 0: kill it. */
static int do_fault(int i, uk_word_t *src, uk_word_t *dst, uk_word_t *rights)
{
    struct proc *p = &procs[i];
    uk_word_t acc = vcpu->exit_access, page = vcpu->exit_addr & ~(UK_PAGE_SIZE - 1);
    uk_word_t code_lo = (uk_word_t)__start_toyproc & ~(UK_PAGE_SIZE - 1);
    uk_word_t code_hi = (uk_word_t)__stop_toyproc;
    void *mem = 0;
    stats.faults++;
    if ((acc & UK_ACCESS_PRESENT) || p->npages == PROC_PAGES)
        return 0;
    if (page >= code_lo && page < code_hi && !(acc & UK_ACCESS_WRITE)) {
        *src = page;                                 /* our own copy of the code */
        *rights = UK_MAP_READ | UK_MAP_EXEC;
    } else if (page >= TOY_STACK_TOP - TOY_STACK_PAGES * UK_PAGE_SIZE && page < TOY_STACK_TOP) {
        if (!(mem = page_alloc()))
            return 0;
        *src = (uk_word_t)mem;
        *rights = UK_MAP_READ | UK_MAP_WRITE;
    } else {
        return 0;
    }
    *dst = page;
    p->pages[p->npages].va = page;
    p->pages[p->npages].page = mem;
    p->npages++;
    return 1;
}

/* Runs the next process (the current one unless `next`); a mapping may
 * ride along with the resume.  When none is left, processes_done(). */
static __attribute__((noreturn)) void dispatch(int next, uk_word_t src, uk_word_t dst,
                                               uk_word_t rights)
{
    for (;;) {
        take_ticks();
        int pick = -1;
        if (!next && cur >= 0 && procs[cur].state == P_RUNNABLE)
            pick = cur;
        for (int k = 1; k <= TOY_NPROCS && pick < 0; k++) {
            int c = (cur + k + TOY_NPROCS) % TOY_NPROCS;
            if (procs[c].state == P_RUNNABLE)
                pick = c;
        }
        if (pick < 0) {
            int sleeping = 0;
            for (int k = 0; k < TOY_NPROCS; k++)
                sleeping |= procs[k].state == P_SLEEPING;
            if (!sleeping) {
                toy_cur_xsave = 0;
                processes_done();
            }
            idle_wait(200000);
            continue;
        }
        if (pick != cur)
            rights = 0;                  /* a mapping is only for the faulting one */
        cur = pick;
        vcpu->user = procs[cur].regs;
        toy_cur_xsave = toy_xsave[cur];
        long err = toy_resume(toy_xsave[cur], procs[cur].task, src, dst, rights);
        if (err == UK_E_CAP) {           /* its task is gone */
            end_process(cur, "lost its task, error", err);
            next = 1;
            continue;
        }
        kprintf("resume of process %d failed: error %ld; powering off\n", cur + 1, err);
        power(UK_VDEV_POWER_HALT, TOY_STATUS_FAILED);
    }
}

void toy_entry(struct uk_vcpu_state *s);
__attribute__((used)) void toy_entry(struct uk_vcpu_state *s)
{
    if (s->exit_reason == UK_VCPU_EXIT_KERNEL_FAULT)
        kfault_entry(s);                 /* ours, not a process's: no `cur` */
    struct proc *p = &procs[cur];
    uk_word_t src = 0, dst = 0, rights = 0;
    int next = 0;
    p->regs = s->user;
    switch (s->exit_reason) {
    case UK_VCPU_EXIT_SYSCALL:
        next = do_syscall(cur);
        break;
    case UK_VCPU_EXIT_PAGE_FAULT:
        if (!do_fault(cur, &src, &dst, &rights)) {
            kprintf("process %d: bad access to 0x%lx at rip 0x%lx\n", cur + 1, s->exit_addr,
                    s->user.rip);
            end_process(cur, "killed, access", (long)s->exit_access);
            next = 1;
        }
        break;
    case UK_VCPU_EXIT_EXCEPTION:
        end_process(cur, "killed by exception", (long)s->user.vector);
        next = 1;
        break;
    case UK_VCPU_EXIT_EVENT:
        p->preempts++;
        stats.preempts++;
        next = 1;
        break;
    default:
        kprintf("unexpected vCPU exit %lu; powering off\n", s->exit_reason);
        power(UK_VDEV_POWER_HALT, TOY_STATUS_FAILED);
    }
    dispatch(next, src, dst, rights);
}

/* Set first thing: with `kfaults` a fault of ours enters here too. */
void entry_init(void)
{
    vcpu->entry_ip = (uk_word_t)toy_entry_stub;
    vcpu->entry_sp = (uk_word_t)(entry_stack + ENTRY_STACK);
}

void run_processes(unsigned long spin, unsigned long rounds)
{
    if (vcpu->xsave_size > XSAVE_MAX) {
        kprintf("XSAVE area of %lu bytes: too big for us; powering off\n", vcpu->xsave_size);
        power(UK_VDEV_POWER_HALT, TOY_STATUS_FAILED);
    }
    for (int i = 0; i < TOY_NPROCS; i++) {
        struct proc *p = &procs[i];
        long err;
        p->task = uk_slot_alloc();
        if ((err = uk_task_create(p->task, PROC_QUOTA, PROC_SLOTS))) {
            kprintf("cannot create process task %d: error %ld; powering off\n", i + 1, err);
            power(UK_VDEV_POWER_HALT, TOY_STATUS_FAILED);
        }
        p->state = P_RUNNABLE;
        p->regs.rip = (uk_word_t)toyp_worker;
        p->regs.rsp = TOY_STACK_TOP - 8;           /* as if called */
        p->regs.rdi = spin;
        p->regs.rsi = rounds;
        p->regs.rflags = 0x202;
        memset(toy_xsave[i], 0, sizeof toy_xsave[i]);
        *(unsigned *)(toy_xsave[i] + 24) = 0x1f80;  /* MXCSR; header 0: initial state */
    }
    dispatch(1, 0, 0, 0);
}
