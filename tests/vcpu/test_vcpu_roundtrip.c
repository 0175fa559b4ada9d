/* TLS bases across a vCPU's transitions.  While a process runs, the kernel
 * keeps the guest kernel's gs base in MSR_KERNEL_GS and swaps (entry.asm);
 * fs is switched by wrmsr when the two differ.  Two vCPUs of one guest
 * task each run a process with fs and gs pages of its own: process 0 with
 * the guest kernel's fs base (the same address, another page behind it)
 * and a gs base its guest kernel changes every fourth call; process 1 with
 * an fs base of its own.  A thread of the root task with TLS of its own
 * preempts them every 200 us, and they preempt each other.  The processes
 * check fs:[0..8] and gs:[0..8] in a loop, the guest kernels their own
 * after every exit, the root's thread its own after every wake-up. */
#include "ktest.h"

#define TLS_STATE_VA(i)   (0x0000500000000000ul + (uk_word_t)(i) * 0x1000ul)
#define TLS_PROC_FS_VA    0x0000610000000000ul   /* process 1's fs page */
#define TLS_PROC_GS_VA(k) (0x0000620000000000ul + (uk_word_t)(k) * 0x1000ul)
#define TLS_PROC_STACK    0x0000630000000000ul   /* one page below this */
#define TLS_SLOT_PROC(i)  (10 + (uk_word_t)(i))
#define TLS_MAGIC(i)      (0x7157000000000000ul + (uk_word_t)(i))
#define TLS_GUEST_MAGIC   0x6e57000000000000ul
#define TLS_NOISE_MAGIC   0x4e01000000000000ul
#define TLS_PRIO_VCPU     100
#define TLS_PRIO_NOISE    150

enum { TNR_HELLO = 1, TNR_NEXT, TNR_DONE };

static volatile long tls_stop, tls_done[2], tls_noise_done;
static volatile long tls_proc_errors[2], tls_proc_rounds[2];
static volatile long tls_guest_errors[2], tls_guest_exits[2];
static volatile long tls_noise_errors, tls_noise_rounds;
static volatile long tls_fail;                   /* a guest kernel gave up */
static uk_word_t tls_guest_fs;                   /* the guest kernels' fs base */
static uk_word_t tls_guest_gs[2];                /* their gs bases (IPC buffers) */
static uk_word_t tls_fs_expect[2];               /* each process's fs base */
static uk_word_t tls_entry_top[2];               /* the guest kernels' entry stacks */
static uk_word_t tls_noise_fs, tls_noise_notif;

/* A page's words 0 and 1: magic ^ its address, and its address. */
static void tls_page_init(void *page, uk_word_t magic, uk_word_t va)
{
    ((uk_word_t *)page)[0] = magic ^ va;
    ((uk_word_t *)page)[1] = va;
}

static inline void tls_read(uk_word_t *f0, uk_word_t *f1, uk_word_t *g0, uk_word_t *g1)
{
    __asm__ volatile("mov %%fs:0, %0\n\tmov %%fs:8, %1\n\tmov %%gs:0, %2\n\tmov %%gs:8, %3"
                     : "=r"(*f0), "=r"(*f1), "=r"(*g0), "=r"(*g1));
}

static inline uk_word_t tls_proc_call(uk_word_t nr, uk_word_t arg)
{
    register uk_word_t rdi __asm__("rdi") = arg;
    __asm__ volatile("syscall" : "+a"(nr), "+r"(rdi) :: "rcx", "r11", "memory");
    return nr;
}

/* The processes (their task shares the image): registers, their stack,
 * their TLS pages; no microkernel calls. */
static void __attribute__((noreturn)) tls_process(uk_word_t i)
{
    uk_word_t gs = tls_proc_call(TNR_HELLO, i);      /* the gs base it was given */
    for (;;) {
        for (int k = 0; k < 500; k++) {
            uk_word_t f0, f1, g0, g1;
            tls_read(&f0, &f1, &g0, &g1);
            if (f0 != (TLS_MAGIC(i) ^ f1) || f1 != tls_fs_expect[i] ||
                g0 != (TLS_MAGIC(i) ^ g1) || g1 != gs)
                tls_proc_errors[i]++;
        }
        tls_proc_rounds[i]++;
        if (tls_stop)
            break;
        gs = tls_proc_call(TNR_NEXT, i);
    }
    tls_proc_call(TNR_DONE, i);
    for (;;)
        ;
}

static void __attribute__((noreturn)) tls_guest_stop(int i)
{
    tls_done[i] = 1;
    for (;;)
        uk_thread_suspend(0);
}

void tls_entry(struct uk_vcpu_state *s);
__asm__(".globl tls_entry_stub\ntls_entry_stub:\n  call tls_entry\n  ud2\n");
extern char tls_entry_stub[];

/* Every exit of either process: the guest kernel's own TLS must be back. */
void tls_entry(struct uk_vcpu_state *s)
{
    int i = s == (struct uk_vcpu_state *)TLS_STATE_VA(1);
    uk_word_t f0, f1, g0, g1;
    tls_read(&f0, &f1, &g0, &g1);
    tls_guest_exits[i]++;
    if (f0 != (TLS_GUEST_MAGIC ^ f1) || f1 != tls_guest_fs ||
        (uk_word_t)uk_ipc_buffer() != tls_guest_gs[i])
        tls_guest_errors[i]++;
    if (s->exit_reason != UK_VCPU_EXIT_SYSCALL || s->user.fs_base != tls_fs_expect[i]) {
        printf("tls: vCPU %d: exit %lu, fs base %lx\n", i, s->exit_reason, s->user.fs_base);
        tls_fail = 1;
        tls_guest_stop(i);
    }
    if (s->user.rax == TNR_DONE)
        tls_guest_stop(i);
    if (i == 0 && tls_guest_exits[i] % 4 == 0)      /* another gs page, now and then */
        s->user.gs_base = TLS_PROC_GS_VA(tls_guest_exits[i] / 4 % 2);
    s->user.rax = s->user.gs_base;
    long err = uk_vcpu_resume(TLS_SLOT_PROC(i), 0, 0, 0);
    printf("tls: vCPU %d: resume failed %ld\n", i, err);
    tls_fail = 1;
    tls_guest_stop(i);
}

static void tls_guest(uk_word_t i)
{
    struct uk_vcpu_state *s = (struct uk_vcpu_state *)TLS_STATE_VA(i);
    tls_guest_gs[i] = (uk_word_t)uk_ipc_buffer();
    uk_set_tls(tls_guest_fs, tls_guest_gs[i]);
    s->entry_ip = (uk_word_t)tls_entry_stub;
    s->entry_sp = tls_entry_top[i];
    memset(&s->user, 0, sizeof s->user);
    s->user.rip = (uk_word_t)tls_process;
    s->user.rdi = i;
    s->user.rsp = TLS_PROC_STACK - 8;                /* as if called */
    s->user.fs_base = tls_fs_expect[i];
    s->user.gs_base = TLS_PROC_GS_VA(i == 0 ? 0 : 2);
    long err = uk_vcpu_resume(TLS_SLOT_PROC(i), 0, 0, 0);
    printf("tls: vCPU %d: first resume failed %ld\n", (int)i, err);
    tls_fail = 1;
    tls_guest_stop((int)i);
}

/* The root task's thread with TLS of its own, waking every 200 us. */
static void tls_noise(uk_word_t unused)
{
    (void)unused;
    uk_word_t gs = (uk_word_t)uk_ipc_buffer(), bits;
    uk_set_tls(tls_noise_fs, gs);
    while (!tls_stop) {
        uk_wait(tls_noise_notif, uk_timeout_us(200), &bits);
        uk_word_t f0, f1, g0, g1;
        tls_read(&f0, &f1, &g0, &g1);
        if (f0 != (TLS_NOISE_MAGIC ^ f1) || f1 != tls_noise_fs || (uk_word_t)uk_ipc_buffer() != gs)
            tls_noise_errors++;
        tls_noise_rounds++;
    }
    tls_noise_done = 1;
}

KT_TEST(vcpu_tls_bases_survive_exits_resumes_and_preemption)
{
    uk_word_t guest, proc[2];
    struct uk_spawned g[2], noise;
    KT_EQ(uk_task_new(1ul << 20, 64, 1, &guest), UK_OK);
    unsigned char *gfs = uk_pages_alloc(1), *nfs = uk_pages_alloc(1);
    unsigned char *stacks = uk_pages_alloc(8);
    KT_CHECK(gfs && nfs && stacks);
    tls_guest_fs = (uk_word_t)gfs;
    tls_page_init(gfs, TLS_GUEST_MAGIC, tls_guest_fs);
    KT_EQ(uk_map(guest, tls_guest_fs, tls_guest_fs, 1, UK_MAP_READ), UK_OK);
    KT_EQ(uk_map(guest, (uk_word_t)stacks, (uk_word_t)stacks, 8, UK_MAP_READ | UK_MAP_WRITE), UK_OK);
    tls_noise_fs = (uk_word_t)nfs;
    tls_page_init(nfs, TLS_NOISE_MAGIC, tls_noise_fs);
    tls_fs_expect[0] = tls_guest_fs;                 /* the same base, another page */
    tls_fs_expect[1] = TLS_PROC_FS_VA;
    for (int i = 0; i < 2; i++) {
        KT_EQ(uk_task_new(256ul << 10, 4, 1, &proc[i]), UK_OK);
        KT_EQ(uk_cap_copy(proc[i], guest, TLS_SLOT_PROC(i), UK_R_ALL, 0), UK_OK);
        unsigned char *p = uk_pages_alloc(4);        /* fs, two gs, stack */
        KT_CHECK(p != 0);
        tls_page_init(p, TLS_MAGIC(i), tls_fs_expect[i]);
        KT_EQ(uk_map(proc[i], (uk_word_t)p, tls_fs_expect[i], 1, UK_MAP_READ), UK_OK);
        for (int k = 0; k < 2; k++) {
            uk_word_t va = TLS_PROC_GS_VA(2 * i + k);
            tls_page_init(p + UK_PAGE_SIZE * (k + 1), TLS_MAGIC(i), va);
            KT_EQ(uk_map(proc[i], (uk_word_t)p + UK_PAGE_SIZE * (uk_word_t)(k + 1), va, 1, UK_MAP_READ), UK_OK);
        }
        KT_EQ(uk_map(proc[i], (uk_word_t)p + 3 * UK_PAGE_SIZE, TLS_PROC_STACK - UK_PAGE_SIZE, 1,
                     UK_MAP_READ | UK_MAP_WRITE), UK_OK);
        tls_entry_top[i] = (uk_word_t)stacks + UK_PAGE_SIZE * 4 * (uk_word_t)(i + 1);
        KT_EQ(uk_spawn_prepare(guest, tls_guest, (uk_word_t)i, TLS_PRIO_VCPU, 0, &g[i]), UK_OK);
        KT_EQ(uk_vcpu_config(g[i].thread, TLS_STATE_VA(i), 0), UK_OK);
    }
    tls_noise_notif = kt_notification();
    KT_EQ(uk_spawn(UK_SLOT_SELF_TASK, tls_noise, 0, TLS_PRIO_NOISE, 0, &noise), UK_OK);
    KT_EQ(uk_spawn_go(&g[0]), UK_OK);
    KT_EQ(uk_spawn_go(&g[1]), UK_OK);
    uk_word_t n = kt_notification(), bits;
    for (int k = 0; k < 300 && !tls_fail; k++)      /* 300 ms */
        uk_wait(n, uk_timeout_us(1000), &bits);
    tls_stop = 1;
    for (int k = 0; k < 1000 && !(tls_done[0] && tls_done[1] && tls_noise_done); k++)
        uk_wait(n, uk_timeout_us(1000), &bits);
    KT_EQ(tls_fail, 0);
    KT_CHECK(tls_done[0] && tls_done[1] && tls_noise_done);
    for (int i = 0; i < 2; i++) {
        printf("    process %d: %ld rounds, %ld exits, errors %ld (process) %ld (guest)\n", i,
               tls_proc_rounds[i], tls_guest_exits[i], tls_proc_errors[i], tls_guest_errors[i]);
        KT_EQ(tls_proc_errors[i], 0);
        KT_EQ(tls_guest_errors[i], 0);
        KT_CHECK(tls_guest_exits[i] >= 8);
    }
    printf("    root thread: %ld wake-ups, errors %ld\n", tls_noise_rounds, tls_noise_errors);
    KT_EQ(tls_noise_errors, 0);
    KT_CHECK(tls_noise_rounds >= 10);
    kt_destroy(g[0].thread);
    kt_destroy(g[1].thread);
    kt_destroy(noise.thread);
    kt_destroy(guest);
    kt_destroy(proc[0]);
    kt_destroy(proc[1]);
    kt_destroy(tls_noise_notif);
    kt_destroy(n);
}

/* --- registers and rflags through a round trip ------------------------ */

/* A process's system calls and the resumes, the fast way (entry.asm only)
 * and the general one (a page riding along, then an fs base of the
 * process's own: vcpu.c both ways): the guest kernel finds the process's
 * registers in `user` and nothing at entry but zeros, the state page, its
 * entry point and stack, and the process's own rbx, rbp, r12-r15; the
 * process gets back exactly what the guest kernel wrote, with rflags made
 * safe (IOPL 0, IF on).  Before that, a resume the fast path must refuse,
 * for each of its checks, gets the error from C. */
#define RT_STATE_VA     0x0000500000000000ul
#define RT_STACK        0x0000630000000000ul   /* the process's stack page, below */
#define RT_ALIAS_VA     0x0000640000000000ul   /* the page riding along */
#define RT_SLOT_PROC    10
#define RT_SLOT_SELF    11                     /* the guest's own task */
#define RT_SLOT_NOTIF   12                     /* not a task */
#define RT_SLOT_WEAK    13                     /* the process without CONTROL */
#define RT_NR_CHECK     0x5151
#define RT_NR_DONE      0x5152
#define RT_P(r)         (0x5000000000000000ul + (r) * 0x0101010101ul)   /* process's values */
#define RT_Q(r)         (0x6000000000000000ul + (r) * 0x0202020202ul)   /* guest kernel's */
#define RT_RFLAGS_SAFE  ((~0x100ul & UK_RFLAGS_USER) | 0x202ul)         /* from ~TF */

/* uk_regs order: rax rbx rcx rdx rsi rdi rbp rsp r8..r15 (0..15), rflags 16 */
uk_word_t rt_after[2][17];            /* the process's registers after each call */
uk_word_t rt_entry_regs[16];          /* the guest kernel's at its last entry */
static volatile long rt_done, rt_errors, rt_entries;
static long rt_resume_err[8];
static uk_word_t rt_entry_top, rt_page;

#define RT_SET(r, reg) "movabs $" #r "*0x0101010101+0x5000000000000000, %%" reg "\n\t"
#define RT_SAVE(k, i, reg) "mov %%" reg ", rt_after+" #k "*136+" #i "*8(%%rip)\n\t"
#define RT_CALL(k)                                                                     \
    RT_SET(1, "rbx") RT_SET(3, "rdx") RT_SET(4, "rsi") RT_SET(5, "rdi") RT_SET(6, "rbp")  \
    RT_SET(8, "r8") RT_SET(9, "r9") RT_SET(10, "r10") RT_SET(12, "r12") RT_SET(13, "r13") \
    RT_SET(14, "r14") RT_SET(15, "r15")                                                  \
    "mov $0x5151, %%eax\n\t"                                                             \
    "syscall\n\t"                                                                        \
    "pushfq\n\t"                                                                         \
    RT_SAVE(k, 0, "rax") RT_SAVE(k, 1, "rbx") RT_SAVE(k, 2, "rcx") RT_SAVE(k, 3, "rdx")  \
    RT_SAVE(k, 4, "rsi") RT_SAVE(k, 5, "rdi") RT_SAVE(k, 6, "rbp") RT_SAVE(k, 8, "r8")   \
    RT_SAVE(k, 9, "r9") RT_SAVE(k, 10, "r10") RT_SAVE(k, 11, "r11") RT_SAVE(k, 12, "r12") \
    RT_SAVE(k, 13, "r13") RT_SAVE(k, 14, "r14") RT_SAVE(k, 15, "r15")                    \
    "popq rt_after+" #k "*136+16*8(%%rip)\n\t"                                           \
    RT_SAVE(k, 7, "rsp")                                                                 \
    "cld\n\t"

/* The process: two calls, then done; its registers go to rt_after. */
__attribute__((naked)) void rt_process(void)
{
    __asm__ volatile(RT_CALL(0) RT_CALL(1)
                     "mov $0x5152, %%eax\n\t"
                     "syscall\n\t"
                     "ud2" ::: "memory");
}

void rt_entry(struct uk_vcpu_state *s);
__asm__(".globl rt_entry_stub\nrt_entry_stub:\n"
        "  mov %rax, rt_entry_regs+0(%rip)\n  mov %rbx, rt_entry_regs+8(%rip)\n"
        "  mov %rcx, rt_entry_regs+16(%rip)\n  mov %rdx, rt_entry_regs+24(%rip)\n"
        "  mov %rsi, rt_entry_regs+32(%rip)\n  mov %rdi, rt_entry_regs+40(%rip)\n"
        "  mov %rbp, rt_entry_regs+48(%rip)\n  mov %rsp, rt_entry_regs+56(%rip)\n"
        "  mov %r8, rt_entry_regs+64(%rip)\n  mov %r9, rt_entry_regs+72(%rip)\n"
        "  mov %r10, rt_entry_regs+80(%rip)\n  mov %r11, rt_entry_regs+88(%rip)\n"
        "  mov %r12, rt_entry_regs+96(%rip)\n  mov %r13, rt_entry_regs+104(%rip)\n"
        "  mov %r14, rt_entry_regs+112(%rip)\n  mov %r15, rt_entry_regs+120(%rip)\n"
        "  call rt_entry\n  ud2\n");
extern char rt_entry_stub[];

static void __attribute__((noreturn)) rt_stop(long status)
{
    if (status)
        rt_errors++;
    rt_done = 1;
    for (;;)
        uk_thread_suspend(0);
}

static void rt_error(const char *what, uk_word_t a, uk_word_t b)
{
    printf("roundtrip: %s: %lx, expected %lx\n", what, a, b);
    rt_errors++;
}

void rt_entry(struct uk_vcpu_state *s)
{
    const uk_word_t *e = rt_entry_regs;
    long k = rt_entries++;
    if (s->exit_reason != UK_VCPU_EXIT_SYSCALL || k > 2 ||
        s->user.rax != (k < 2 ? RT_NR_CHECK : RT_NR_DONE))
        rt_stop(1);
    /* what the process had in its registers: ours after the last resume,
     * except those it set before its call */
#define RT_HAD(r) (k < 2 ? RT_P(r) : RT_Q(r))
    /* at entry: zeros, the state page, entry point and stack, 0x202, and in
     * rbx rbp r12-r15 the process's own values */
    static const int zero[] = { 0, 3, 4, 8, 9, 10 }, own[] = { 1, 6, 12, 13, 14, 15 };
    for (int j = 0; j < 6; j++) {
        if (e[zero[j]] != 0)
            rt_error("entry register not zero", e[zero[j]], 0);
        if (e[own[j]] != RT_HAD(own[j]))
            rt_error("entry register not the process's", e[own[j]], RT_HAD(own[j]));
    }
    if (e[5] != RT_STATE_VA || e[2] != s->entry_ip || e[7] != s->entry_sp || e[11] != 0x202)
        rt_error("entry rdi/rcx/rsp/r11", e[5], RT_STATE_VA);
    /* the process's registers, as it left them */
    const uk_word_t *u = (const uk_word_t *)&s->user;
    static const int kept[] = { 1, 3, 4, 5, 6, 8, 9, 10, 12, 13, 14, 15 };
    for (int j = 0; j < 12; j++)
        if (u[kept[j]] != RT_HAD(kept[j]))
            rt_error("user register", u[kept[j]], RT_HAD(kept[j]));
    if (k == 2)
        rt_stop(0);
    /* new values for all but rsp and rip, rflags with everything but TF */
    uk_word_t *w = (uk_word_t *)&s->user;
    for (int r = 0; r < 16; r++)
        if (r != 7)
            w[r] = RT_Q(r);
    s->user.rflags = ~0x100ul;
    long err;
    if (k == 0) {
        err = uk_vcpu_resume(RT_SLOT_PROC, 0, 0, 0);   /* the fast way */
    } else {
        /* the general way (a page rides along), and with an fs base of its
         * own, so that its next exit takes the general way too */
        s->user.fs_base = RT_ALIAS_VA;
        err = uk_vcpu_resume(RT_SLOT_PROC, rt_page, RT_ALIAS_VA, UK_MAP_READ);
    }
    printf("roundtrip: resume %ld failed: %ld\n", k, err);
    rt_stop(1);
}

static void rt_guest(uk_word_t unused)
{
    (void)unused;
    struct uk_vcpu_state *s = (struct uk_vcpu_state *)RT_STATE_VA;
    s->entry_ip = (uk_word_t)rt_entry_stub;
    s->entry_sp = rt_entry_top;
    memset(&s->user, 0, sizeof s->user);
    s->user.rsp = RT_STACK - 8;
    /* refused, each by one check of the fast path, the error from C */
    s->user.rip = 0x00007ffffffff000ul;
    rt_resume_err[0] = uk_vcpu_resume(RT_SLOT_PROC, 0, 0, 0);
    s->user.rip = (uk_word_t)rt_process;
    s->user.gs_base = UK_USER_HALF_END;
    rt_resume_err[1] = uk_vcpu_resume(RT_SLOT_PROC, 0, 0, 0);
    s->user.gs_base = 0;
    s->user.fs_base = 0xffff800000000000ul;
    rt_resume_err[2] = uk_vcpu_resume(RT_SLOT_PROC, 0, 0, 0);
    s->user.fs_base = 0;
    rt_resume_err[3] = uk_vcpu_resume(RT_SLOT_SELF, 0, 0, 0);
    rt_resume_err[4] = uk_vcpu_resume(RT_SLOT_NOTIF, 0, 0, 0);
    rt_resume_err[5] = uk_vcpu_resume(RT_SLOT_WEAK, 0, 0, 0);
    rt_resume_err[6] = uk_vcpu_resume(1000, 0, 0, 0);
    rt_resume_err[7] = uk_vcpu_resume(0, 0, 0, 0);
    long err = uk_vcpu_resume(RT_SLOT_PROC, 0, 0, 0);
    printf("roundtrip: first resume failed %ld\n", err);
    rt_stop(1);
}

KT_TEST(vcpu_round_trip_registers_rflags_and_refused_resumes)
{
    uk_word_t guest, proc;
    struct uk_spawned g;
    KT_EQ(uk_task_new(1ul << 20, 64, 1, &guest), UK_OK);
    KT_EQ(uk_task_new(256ul << 10, 4, 1, &proc), UK_OK);
    KT_EQ(uk_cap_copy(proc, guest, RT_SLOT_PROC, UK_R_ALL, 0), UK_OK);
    KT_EQ(uk_cap_copy(guest, guest, RT_SLOT_SELF, UK_R_CONTROL, 0), UK_OK);
    KT_EQ(uk_cap_copy(proc, guest, RT_SLOT_WEAK, UK_R_READ, 0), UK_OK);
    uk_word_t n = kt_notification(), bits;
    KT_EQ(uk_cap_copy(n, guest, RT_SLOT_NOTIF, UK_R_ALL, 0), UK_OK);
    unsigned char *p = uk_pages_alloc(6);            /* entry stack 4, process stack, alias */
    KT_CHECK(p != 0);
    KT_EQ(uk_map(guest, (uk_word_t)p, (uk_word_t)p, 4, UK_MAP_READ | UK_MAP_WRITE), UK_OK);
    rt_entry_top = (uk_word_t)p + 4 * UK_PAGE_SIZE;
    KT_EQ(uk_map(proc, (uk_word_t)p + 4 * UK_PAGE_SIZE, RT_STACK - UK_PAGE_SIZE, 1, UK_MAP_READ | UK_MAP_WRITE), UK_OK);
    rt_page = (uk_word_t)p + 5 * UK_PAGE_SIZE;
    KT_EQ(uk_map(guest, rt_page, rt_page, 1, UK_MAP_READ | UK_MAP_WRITE), UK_OK);
    KT_EQ(uk_spawn_prepare(guest, rt_guest, 0, 100, 0, &g), UK_OK);
    KT_EQ(uk_vcpu_config(g.thread, RT_STATE_VA, 0), UK_OK);
    KT_EQ(uk_spawn_go(&g), UK_OK);
    for (int k = 0; k < 1000 && !rt_done; k++)
        uk_wait(n, uk_timeout_us(1000), &bits);
    KT_EQ(rt_done, 1);
    KT_EQ(rt_errors, 0);
    KT_EQ(rt_entries, 3);
    static const long want[8] = { UK_E_ADDR, UK_E_ADDR, UK_E_ADDR, UK_E_INVAL, UK_E_CAP_TYPE,
                                  UK_E_RIGHTS, UK_E_CAP, UK_E_STATE };
    for (int i = 0; i < 8; i++)
        KT_EQ(rt_resume_err[i], want[i]);
    for (int k = 0; k < 2; k++) {
        for (int r = 0; r < 16; r++) {
            uk_word_t want_r = r == 7 ? RT_STACK - 8 : RT_Q(r);
            if (rt_after[k][r] != want_r)
                printf("    call %d: register %d is %lx, expected %lx\n", k, r, rt_after[k][r], want_r);
            KT_EQ(rt_after[k][r], want_r);
        }
        KT_EQ(rt_after[k][16], RT_RFLAGS_SAFE);      /* IOPL 0, IF on, no NT, RF, VM */
    }
    kt_destroy(g.thread);
    kt_destroy(guest);
    kt_destroy(proc);
    kt_destroy(n);
}
