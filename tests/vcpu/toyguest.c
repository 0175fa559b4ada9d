/*
 * The toy guest kernel (toyguest.h): a vCPU thread that runs processes in
 * tasks of their own, serves their system calls, pages them on demand,
 * kills them on exceptions and bad accesses, preempts them on timer events
 * and keeps their FPU state; plus the loops the event tests need.
 *
 * Part 1 is the processes' code, in section `toyproc`: the only code pages
 * a process ever gets.  It uses no globals, no string constants, no library
 * calls and no jump tables -- nothing outside its own section and its own
 * stack and data page -- and makes its system calls with raw `syscall`.
 *
 * Part 2 is the guest kernel.  Every exit enters toy_entry_stub on the
 * entry stack with rdi = the state page; the stub saves the FPU state of
 * whatever was interrupted (the running process's area, or the kernel's own
 * for an upcall or kernel fault) before any C code can touch it, and every
 * resume restores the matching area right before its `syscall`.
 */
#include "ktest.h"
#include "toyguest.h"

struct toy_shared toy;

/* ================================================================== */
/* Part 1: processes                                                   */

#define PROC __attribute__((section("toyproc"), noinline, noclone, used))
/* The section starts on a page of its own (and the linker script aligns
 * what follows .text), so its pages hold nothing but process code. */
__asm__(".pushsection toyproc, \"ax\", @progbits\n.balign 4096\n.popsection");
#define PINLINE static inline __attribute__((always_inline))

PINLINE long tsys(long nr, long a, long b, long c)
{
    __asm__ volatile("syscall" : "+a"(nr) : "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
    return nr;
}

PINLINE __attribute__((noreturn)) void texit(long code)
{
    tsys(TOY_SYS_EXIT, code, 0, 0);
    for (;;)
        __asm__ volatile("ud2");
}

/* Copies a string literal into a (volatile) stack buffer as immediates;
 * evaluates to its length. */
#define PSTR(buf, lit) ({                                             \
    _Pragma("GCC unroll 64")                                          \
    for (unsigned _i = 0; _i < sizeof(lit) - 1; _i++)                 \
        (buf)[_i] = (lit)[_i];                                        \
    (unsigned long)(sizeof(lit) - 1); })

void PROC toyp_hello(unsigned long arg)
{
    volatile char b[32];
    long pid = tsys(TOY_SYS_GETPID, 0, 0, 0);
    unsigned long n = PSTR(b, "hello from process ");
    b[n++] = (char)('0' + pid);
    long r = tsys(TOY_SYS_WRITE, (long)b, (long)n, 0);
    tsys(TOY_SYS_REPORT, 0, pid, 0);
    tsys(TOY_SYS_REPORT, 1, r, 0);
    texit((long)arg);
}

/* Writes "<tag><i>" and yields, four times. */
void PROC toyp_yielder(unsigned long arg)
{
    volatile char b[2];
    for (long i = 0; i < 4; i++) {
        b[0] = (char)arg;
        b[1] = (char)('0' + i);
        tsys(TOY_SYS_WRITE, (long)b, 2, 0);
        tsys(TOY_SYS_YIELD, 0, 0, 0);
    }
    texit(4);
}

/* About 3 KiB of stack per level. */
PROC static unsigned long toyp_deep(unsigned long depth, unsigned long seed)
{
    volatile unsigned char pad[3000];
    pad[0] = (unsigned char)(seed + depth);
    pad[2999] = (unsigned char)(seed ^ depth);
    unsigned long r = depth ? toyp_deep(depth - 1, seed) : 0;
    return r + pad[0] + pad[2999];
}

/* Grows its stack over several pages, fills its data page, reports both. */
void PROC toyp_memory(unsigned long arg)
{
    unsigned long s = toyp_deep(9, arg);
    volatile unsigned long *d = (volatile unsigned long *)TOY_DATA_VA;
    for (unsigned long i = 0; i < 512; i++)
        d[i] = i * arg;
    unsigned long sum = 0;
    for (unsigned long i = 0; i < 512; i++)
        sum += d[i];
    tsys(TOY_SYS_REPORT, 0, (long)s, 0);
    tsys(TOY_SYS_REPORT, 1, (long)sum, 0);
    texit(0);
}

void PROC toyp_div0(unsigned long arg)
{
    (void)arg;
    tsys(TOY_SYS_YIELD, 0, 0, 0);
    __asm__ volatile("xor %%ecx, %%ecx\n\tdiv %%rcx" ::: "rax", "rcx", "rdx");
    texit(99);
}

void PROC toyp_ud2(unsigned long arg)
{
    (void)arg;
    tsys(TOY_SYS_YIELD, 0, 0, 0);
    __asm__ volatile("ud2");
    texit(99);
}

/* Reports 1..arg, yielding after each, then exits 7. */
void PROC toyp_worker(unsigned long arg)
{
    for (unsigned long i = 0; i < arg; i++) {
        tsys(TOY_SYS_REPORT, 0, (long)(i + 1), 0);
        tsys(TOY_SYS_YIELD, 0, 0, 0);
    }
    texit(7);
}

void PROC toyp_spin(unsigned long arg)
{
    (void)arg;
    for (;;)
        __asm__ volatile("");
}

/* Five rounds, reporting each; never yields.  A round is arg busy
 * iterations, and more of them until the guest kernel has preempted it
 * since the round began: how much work fits in a timer period depends on
 * the host's load (the ticks come by its clock), the rounds do not -- the
 * process is preempted at least once a round whatever the load. */
void PROC toyp_progress(unsigned long arg)
{
    for (long r = 0; r < 5; r++) {
        long preempts = tsys(TOY_SYS_PREEMPTS, 0, 0, 0);
        do {
            for (volatile unsigned long j = 0; j < arg; j++)
                ;
        } while (tsys(TOY_SYS_PREEMPTS, 0, 0, 0) == preempts);
        tsys(TOY_SYS_REPORT, 0, r + 1, 0);
    }
    texit(0);
}

/* Loads its own values into xmm0-15 (ymm0-15 with TOY_ARG_AVX) and MXCSR,
 * then yields 40 times, checking them after each. */
#define FPU_ROUNDS 40
void PROC toyp_fpu(unsigned long arg)
{
    unsigned long pat[64], out[64];
    volatile unsigned long *vp = pat, *vo = out;
    unsigned long seed = arg & 0xffffffffu;
    int avx = (arg & TOY_ARG_AVX) != 0;
    for (unsigned long i = 0; i < 64; i++)
        vp[i] = (seed * 0x9e3779b97f4a7c15ul) ^ (i * 0x0101010101010101ul) ^ (seed << 56);
    unsigned mx = 0x1f80u | (unsigned)((seed & 3) << 13), got;
    __asm__ volatile("ldmxcsr %0" :: "m"(mx));
    if (avx)
        __asm__ volatile(
            "vmovdqu 0(%0), %%ymm0\n\t"    "vmovdqu 32(%0), %%ymm1\n\t"
            "vmovdqu 64(%0), %%ymm2\n\t"   "vmovdqu 96(%0), %%ymm3\n\t"
            "vmovdqu 128(%0), %%ymm4\n\t"  "vmovdqu 160(%0), %%ymm5\n\t"
            "vmovdqu 192(%0), %%ymm6\n\t"  "vmovdqu 224(%0), %%ymm7\n\t"
            "vmovdqu 256(%0), %%ymm8\n\t"  "vmovdqu 288(%0), %%ymm9\n\t"
            "vmovdqu 320(%0), %%ymm10\n\t" "vmovdqu 352(%0), %%ymm11\n\t"
            "vmovdqu 384(%0), %%ymm12\n\t" "vmovdqu 416(%0), %%ymm13\n\t"
            "vmovdqu 448(%0), %%ymm14\n\t" "vmovdqu 480(%0), %%ymm15\n\t"
            :: "r"(pat) : "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6",
              "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
    else
        __asm__ volatile(
            "movdqu 0(%0), %%xmm0\n\t"    "movdqu 32(%0), %%xmm1\n\t"
            "movdqu 64(%0), %%xmm2\n\t"   "movdqu 96(%0), %%xmm3\n\t"
            "movdqu 128(%0), %%xmm4\n\t"  "movdqu 160(%0), %%xmm5\n\t"
            "movdqu 192(%0), %%xmm6\n\t"  "movdqu 224(%0), %%xmm7\n\t"
            "movdqu 256(%0), %%xmm8\n\t"  "movdqu 288(%0), %%xmm9\n\t"
            "movdqu 320(%0), %%xmm10\n\t" "movdqu 352(%0), %%xmm11\n\t"
            "movdqu 384(%0), %%xmm12\n\t" "movdqu 416(%0), %%xmm13\n\t"
            "movdqu 448(%0), %%xmm14\n\t" "movdqu 480(%0), %%xmm15\n\t"
            :: "r"(pat) : "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6",
              "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
    long bad = 0, badmx = 0;
    for (long it = 0; it < FPU_ROUNDS; it++) {
        tsys(TOY_SYS_YIELD, 0, 0, 0);
        for (volatile unsigned long j = 0; j < 20000; j++)   /* let the timer hit too */
            ;
        if (avx)
            __asm__ volatile(
                "vmovdqu %%ymm0, 0(%0)\n\t"    "vmovdqu %%ymm1, 32(%0)\n\t"
                "vmovdqu %%ymm2, 64(%0)\n\t"   "vmovdqu %%ymm3, 96(%0)\n\t"
                "vmovdqu %%ymm4, 128(%0)\n\t"  "vmovdqu %%ymm5, 160(%0)\n\t"
                "vmovdqu %%ymm6, 192(%0)\n\t"  "vmovdqu %%ymm7, 224(%0)\n\t"
                "vmovdqu %%ymm8, 256(%0)\n\t"  "vmovdqu %%ymm9, 288(%0)\n\t"
                "vmovdqu %%ymm10, 320(%0)\n\t" "vmovdqu %%ymm11, 352(%0)\n\t"
                "vmovdqu %%ymm12, 384(%0)\n\t" "vmovdqu %%ymm13, 416(%0)\n\t"
                "vmovdqu %%ymm14, 448(%0)\n\t" "vmovdqu %%ymm15, 480(%0)\n\t"
                :: "r"(out) : "memory");
        else
            __asm__ volatile(
                "movdqu %%xmm0, 0(%0)\n\t"    "movdqu %%xmm1, 32(%0)\n\t"
                "movdqu %%xmm2, 64(%0)\n\t"   "movdqu %%xmm3, 96(%0)\n\t"
                "movdqu %%xmm4, 128(%0)\n\t"  "movdqu %%xmm5, 160(%0)\n\t"
                "movdqu %%xmm6, 192(%0)\n\t"  "movdqu %%xmm7, 224(%0)\n\t"
                "movdqu %%xmm8, 256(%0)\n\t"  "movdqu %%xmm9, 288(%0)\n\t"
                "movdqu %%xmm10, 320(%0)\n\t" "movdqu %%xmm11, 352(%0)\n\t"
                "movdqu %%xmm12, 384(%0)\n\t" "movdqu %%xmm13, 416(%0)\n\t"
                "movdqu %%xmm14, 448(%0)\n\t" "movdqu %%xmm15, 480(%0)\n\t"
                :: "r"(out) : "memory");
        __asm__ volatile("stmxcsr %0" : "=m"(got));
        for (unsigned long i = 0; i < 64; i++)
            if ((avx || (i & 3) < 2) && vo[i] != vp[i])
                bad++;
        if ((got & ~0x3fu) != mx)
            badmx++;
    }
    tsys(TOY_SYS_REPORT, 0, bad, 0);
    tsys(TOY_SYS_REPORT, 1, badmx, 0);
    tsys(TOY_SYS_REPORT, 2, avx, 0);
    texit(bad + badmx);
}

void PROC toyp_read_kernel(unsigned long arg)
{
    (void)arg;
    texit(*(volatile long *)0xffffffff80100000ul);
}

void PROC toyp_read_state(unsigned long arg)
{
    (void)arg;
    texit(*(volatile long *)TOY_STATE_VA);
}

/* Microkernel system-call numbers, and writes from guest-kernel memory
 * (arg: an address in the guest kernel); reports what each returned. */
void PROC toyp_ukcalls(unsigned long arg)
{
    volatile char b[8];
    unsigned long n = PSTR(b, "pwned\n");
    tsys(TOY_SYS_REPORT, 0, tsys(UK_SYS_DEBUG_PUTS, (long)b, (long)n, 0), 0);
    tsys(TOY_SYS_REPORT, 1, tsys(UK_SYS_NULL, 0, 0, 0), 0);
    tsys(TOY_SYS_REPORT, 2, tsys(UK_SYS_VCPU_RESUME, 0, 0, 0), 0);
    tsys(TOY_SYS_REPORT, 3, tsys(TOY_SYS_WRITE, (long)TOY_STATE_VA, 8, 0), 0);
    tsys(TOY_SYS_REPORT, 4, tsys(TOY_SYS_WRITE, (long)arg, 8, 0), 0);
    tsys(TOY_SYS_REPORT, 5, tsys(TOY_SYS_WRITE, (long)b, (long)n - 1, 0), 0);
    texit(0);
}

/* Sleeps arg ticks, three times, reporting each. */
void PROC toyp_sleeper(unsigned long arg)
{
    for (long i = 0; i < 3; i++) {
        tsys(TOY_SYS_SLEEP, (long)arg, 0, 0);
        tsys(TOY_SYS_REPORT, 0, i + 1, 0);
    }
    texit(0);
}

/* ================================================================== */
/* Part 2: the guest kernel                                            */

extern char __start_toyproc[], __stop_toyproc[];

#define ST ((struct uk_vcpu_state *)TOY_STATE_VA)

/* Offsets for the entry stub */
#define OFF_EXIT_REASON    368
#define OFF_XSAVE_FEATURES 432
_Static_assert(__builtin_offsetof(struct uk_vcpu_state, exit_reason) == OFF_EXIT_REASON, "stub");
_Static_assert(__builtin_offsetof(struct uk_vcpu_state, xsave_features) == OFF_XSAVE_FEATURES, "stub");
_Static_assert(UK_VCPU_EXIT_UPCALL == 5 && UK_VCPU_EXIT_KERNEL_FAULT == 6, "stub");
#define XS(x) #x
#define S(x) XS(x)

#define XSAVE_MAX 4096
unsigned char toy_xsave[TOY_MAX_PROCS][XSAVE_MAX] __attribute__((aligned(64)));
unsigned char toy_kern_xsave[XSAVE_MAX] __attribute__((aligned(64)));
unsigned char *toy_cur_xsave;    /* the running process's area */
unsigned long toy_entry_regs[6]; /* rbx rbp r12-r15 at the last entry */

__asm__(".text\n"
        ".globl toy_entry_stub\n"
        "toy_entry_stub:\n"
        "  mov %rbx, toy_entry_regs(%rip)\n"      /* what the kernel left in them */
        "  mov %rbp, toy_entry_regs+8(%rip)\n"
        "  mov %r12, toy_entry_regs+16(%rip)\n"
        "  mov %r13, toy_entry_regs+24(%rip)\n"
        "  mov %r14, toy_entry_regs+32(%rip)\n"
        "  mov %r15, toy_entry_regs+40(%rip)\n"
        "  mov " S(OFF_EXIT_REASON) "(%rdi), %rax\n"
        "  lea toy_kern_xsave(%rip), %rcx\n"
        "  cmp $5, %rax\n"
        "  je 1f\n"
        "  cmp $6, %rax\n"
        "  je 1f\n"
        "  mov toy_cur_xsave(%rip), %rcx\n"
        "1:\n"
        "  test %rcx, %rcx\n"
        "  jz 2f\n"
        "  mov " S(OFF_XSAVE_FEATURES) "(%rdi), %eax\n"
        "  mov " S(OFF_XSAVE_FEATURES) "+4(%rdi), %edx\n"
        "  xsave64 (%rcx)\n"
        "2:\n"
        "  and $-16, %rsp\n"
        "  call toy_entry\n"
        "  ud2\n");

/* Restores the FPU area, then UK_SYS_VCPU_RESUME; returns only on error. */
static long toy_resume(unsigned char *area, uk_word_t task, uk_word_t src, uk_word_t dst,
                       uk_word_t rights)
{
    return uk_vcpu_resume_fpu(area, ST->xsave_features, task, src, dst, rights);
}

enum { P_FREE = 0, P_RUNNABLE, P_SLEEPING, P_DEAD };
#define PROC_PAGES 24

struct gproc {
    int state;
    uk_word_t wake;               /* tick to wake at, while P_SLEEPING */
    struct uk_regs regs;
    struct { uk_word_t va, kva; } pages[PROC_PAGES];   /* kva 0: a code page */
    int npages;
};
static struct gproc gp[TOY_MAX_PROCS];
static int cur;
static uk_word_t pool_used;

static __attribute__((noreturn)) void guest_stop(long why)
{
    if (why < 0)
        printf("toyguest: guest kernel stops with error %ld\n", why);
    toy.done = why;
    for (;;)
        uk_thread_suspend(0);
}

static uk_word_t pool_alloc(void)
{
    for (uk_word_t i = 0; i < toy.npool; i++)
        if (!(pool_used & (1ul << i))) {
            pool_used |= 1ul << i;
            uk_word_t p = toy.pool + i * 4096;
            memset((void *)p, 0, 4096);
            return p;
        }
    return 0;
}

static void pool_free(uk_word_t p)
{
    pool_used &= ~(1ul << ((p - toy.pool) / 4096));
}

/* Takes the pending event bits; counts them in the MASK/UPCALL books. */
static uk_word_t take_bits(volatile unsigned long *counter)
{
    uk_word_t bits = __atomic_exchange_n(&ST->pending, 0, __ATOMIC_SEQ_CST);
    if (bits) {
        uk_word_t old = __atomic_fetch_or(&toy.rx_bits, bits, __ATOMIC_SEQ_CST);
        if (old & bits)
            __atomic_fetch_or(&toy.dup_bits, old & bits, __ATOMIC_SEQ_CST);
        unsigned long n = 0;
        for (uk_word_t b = bits; b; b &= b - 1)
            n++;
        __atomic_fetch_add(&toy.nbits, n, __ATOMIC_SEQ_CST);
        __atomic_fetch_add(counter, 1, __ATOMIC_SEQ_CST);
    }
    return bits;
}

/* Loads junk into every FPU register the processes use, as a guest kernel
 * that uses SSE itself would. */
static void scribble_fpu(void)
{
    static const unsigned long junk[4] = { 0xa5a5a5a5a5a5a5a5ul, 0x5a5a5a5a5a5a5a5aul,
                                           0xdeadbeefdeadbeeful, 0xfeedfacefeedfaceul };
    unsigned mx = 0x7f80;
    if (toy.avx)
        __asm__ volatile(
            "vmovdqu (%0), %%ymm0\n\t" "vmovdqu (%0), %%ymm1\n\t" "vmovdqu (%0), %%ymm2\n\t"
            "vmovdqu (%0), %%ymm3\n\t" "vmovdqu (%0), %%ymm4\n\t" "vmovdqu (%0), %%ymm5\n\t"
            "vmovdqu (%0), %%ymm6\n\t" "vmovdqu (%0), %%ymm7\n\t" "vmovdqu (%0), %%ymm8\n\t"
            "vmovdqu (%0), %%ymm9\n\t" "vmovdqu (%0), %%ymm10\n\t" "vmovdqu (%0), %%ymm11\n\t"
            "vmovdqu (%0), %%ymm12\n\t" "vmovdqu (%0), %%ymm13\n\t" "vmovdqu (%0), %%ymm14\n\t"
            "vmovdqu (%0), %%ymm15\n\t"
            :: "r"(junk) : "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6",
              "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
    else
        __asm__ volatile(
            "movdqu (%0), %%xmm0\n\t" "movdqu (%0), %%xmm1\n\t" "movdqu (%0), %%xmm2\n\t"
            "movdqu (%0), %%xmm3\n\t" "movdqu (%0), %%xmm4\n\t" "movdqu (%0), %%xmm5\n\t"
            "movdqu (%0), %%xmm6\n\t" "movdqu (%0), %%xmm7\n\t" "movdqu (%0), %%xmm8\n\t"
            "movdqu (%0), %%xmm9\n\t" "movdqu (%0), %%xmm10\n\t" "movdqu (%0), %%xmm11\n\t"
            "movdqu (%0), %%xmm12\n\t" "movdqu (%0), %%xmm13\n\t" "movdqu (%0), %%xmm14\n\t"
            "movdqu (%0), %%xmm15\n\t"
            :: "r"(junk) : "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6",
              "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
    __asm__ volatile("ldmxcsr %0" :: "m"(mx));
}

/* --- processes ------------------------------------------------------ */

static void end_process(int i, long status)
{
    struct gproc *p = &gp[i];
    struct toy_proc_result *r = &toy.res[i];
    for (int k = 0; k < p->npages; k++) {
        uk_unmap(TOY_SLOT_PROC0 + i, p->pages[k].va, 1);
        if (p->pages[k].kva)
            pool_free(p->pages[k].kva);
    }
    p->npages = 0;
    p->state = P_DEAD;
    r->status = status;
    if (status == TOY_KILLED_EXCEPTION)
        printf("toyguest: pid %d killed: exception %lu at %lx\n", i + 1, r->vector, p->regs.rip);
    else if (status == TOY_KILLED_FAULT)
        printf("toyguest: pid %d killed: bad access to %lx (access %lx) at %lx\n", i + 1,
               r->fault_addr, r->fault_access, p->regs.rip);
    else if (status != TOY_EXITED)
        printf("toyguest: pid %d killed: %s\n", i + 1,
               status == TOY_GONE ? "its task was destroyed" : "cpu budget used up");
}

/* The guest kernel's page behind a process address, or NULL. */
static unsigned char *translate(int i, uk_word_t va)
{
    struct gproc *p = &gp[i];
    for (int k = 0; k < p->npages; k++)
        if (p->pages[k].va == (va & ~4095ul))
            return (unsigned char *)((p->pages[k].kva ? p->pages[k].kva : p->pages[k].va) +
                                     (va & 4095));
    return 0;
}

static long sys_write(int i, uk_word_t va, uk_word_t len)
{
    char buf[256];
    if (len >= sizeof buf)
        return -22;
    for (uk_word_t k = 0; k < len; k++) {
        unsigned char *kp = translate(i, va + k);
        if (!kp)
            return -TOY_EFAULT;
        buf[k] = (char)*kp;
    }
    buf[len] = 0;
    printf("[toy pid %d] %s\n", i + 1, buf);
    if (toy.outlen < sizeof toy.out)
        toy.outlen += (unsigned long)snprintf(toy.out + toy.outlen, sizeof toy.out - toy.outlen,
                                              "[pid %d] %s\n", i + 1, buf);
    if (toy.outlen > sizeof toy.out)
        toy.outlen = sizeof toy.out;
    for (uk_word_t k = 0; k < len && toy.wtlen < sizeof toy.wtrace - 1; k++)
        toy.wtrace[toy.wtlen++] = buf[k];
    return (long)len;
}

/* A process's system call; returns 1 if another process should run. */
static int do_syscall(int i)
{
    struct gproc *p = &gp[i];
    struct toy_proc_result *r = &toy.res[i];
    struct uk_regs *u = &p->regs;
    r->syscalls++;
    uk_word_t nr = u->rax;
    if (nr == TOY_SYS_WRITE) {
        u->rax = (uk_word_t)sys_write(i, u->rdi, u->rsi);
    } else if (nr == TOY_SYS_GETPID) {
        u->rax = (uk_word_t)(i + 1);
    } else if (nr == TOY_SYS_YIELD) {
        u->rax = 0;
        return 1;
    } else if (nr == TOY_SYS_SLEEP) {
        u->rax = 0;
        p->wake = toy.ticks + u->rdi;
        p->state = P_SLEEPING;
        return 1;
    } else if (nr == TOY_SYS_EXIT) {
        r->exit_code = (long)u->rdi;
        end_process(i, TOY_EXITED);
        return 1;
    } else if (nr == TOY_SYS_PREEMPTS) {
        u->rax = r->preempts;
    } else if (nr == TOY_SYS_REPORT && u->rdi < 8) {
        r->report[u->rdi] = (long)u->rsi;
        u->rax = 0;
    } else {
        if (r->nunknown < 8)
            r->unknown_nr[r->nunknown++] = nr;
        u->rax = (uk_word_t)-TOY_ENOSYS;
    }
    return 0;
}

/* A process's page fault: the mapping to make (returns 1), or kill (0). */
static int do_fault(int i, uk_word_t *src, uk_word_t *dst, uk_word_t *rights)
{
    struct gproc *p = &gp[i];
    struct toy_proc_result *r = &toy.res[i];
    uk_word_t addr = ST->exit_addr, acc = ST->exit_access, page = addr & ~4095ul;
    uk_word_t code_lo = (uk_word_t)__start_toyproc & ~4095ul, code_hi = (uk_word_t)__stop_toyproc;
    r->fault_addr = addr;
    r->fault_access = acc;
    if ((acc & UK_ACCESS_PRESENT) || p->npages == PROC_PAGES)
        return 0;
    uk_word_t kva = 0;
    if (page >= code_lo && page < code_hi && !(acc & UK_ACCESS_WRITE)) {
        r->code_faults++;
        *src = page;
        *rights = UK_MAP_READ | UK_MAP_EXEC;
    } else if (page == TOY_DATA_VA ||
               (page >= TOY_STACK_TOP - TOY_STACK_PAGES * 4096ul && page < TOY_STACK_TOP)) {
        if (!(kva = pool_alloc()))
            return 0;
        if (page == TOY_DATA_VA)
            r->data_faults++;
        else
            r->stack_faults++;
        *src = kva;
        *rights = UK_MAP_READ | UK_MAP_WRITE;
    } else {
        return 0;
    }
    *dst = page;
    p->pages[p->npages].va = page;
    p->pages[p->npages].kva = kva;
    p->npages++;
    return 1;
}

/* Takes timer events: counts a tick, wakes sleepers that are due. */
static void take_ticks(void)
{
    uk_word_t bits = __atomic_exchange_n(&ST->pending, 0, __ATOMIC_SEQ_CST);
    if (!bits)
        return;
    toy.ticks++;
    for (int i = 0; i < toy.nprocs; i++)
        if (gp[i].state == P_SLEEPING && gp[i].wake <= toy.ticks)
            gp[i].state = P_RUNNABLE;
}

/* Nothing to run but sleepers: wait for an event on the vCPU's own
 * notification (a vCPU blocked in a receive wakes when bits arrive). */
static void idle(void)
{
    toy.idle_waits++;
    if (ST->pending)
        return;
    struct uk_ret r = uk_sys(UK_SYS_RECV, TOY_SLOT_VNOTIF,
                             uk_msginfo(0, 0, uk_timeout_us(200000)), 0, 0, 0, 0);
    if (r.err == UK_OK && (uk_msg_flags(r.r[1]) & UK_MSGF_NOTIFY))
        toy.idle_notify++;
}

/* Runs the next process (the current one unless `next` says switch);
 * a mapping may ride along with the resume. */
static __attribute__((noreturn)) void dispatch(int next, uk_word_t src, uk_word_t dst,
                                               uk_word_t rights)
{
    int n = toy.nprocs;
    for (;;) {
        take_ticks();
        int pick = -1;
        if (!next && cur >= 0 && gp[cur].state == P_RUNNABLE) {
            pick = cur;
        } else {
            for (int k = 1; k <= n && pick < 0; k++) {
                int c = ((cur + k) % n + n) % n;
                if (gp[c].state == P_RUNNABLE)
                    pick = c;
            }
        }
        if (pick < 0) {
            int sleeping = 0;
            for (int k = 0; k < n; k++)
                sleeping |= gp[k].state == P_SLEEPING;
            if (!sleeping)
                guest_stop(1);           /* every process has ended */
            idle();
            continue;
        }
        if (pick != cur)
            rights = 0;                  /* a mapping is only for the faulting one */
        cur = pick;
        ST->user = gp[cur].regs;
        toy_cur_xsave = toy_xsave[cur];
        long err = toy_resume(toy_xsave[cur], TOY_SLOT_PROC0 + (uk_word_t)cur, src, dst, rights);
        if (err == UK_E_CAP) {           /* its task was destroyed under us */
            end_process(cur, TOY_GONE);
            next = 1;
            continue;
        }
        printf("toyguest: resume of pid %d failed: %ld\n", cur + 1, err);
        guest_stop(-100 - err);
    }
}

/* --- exits ---------------------------------------------------------- */

#define PAT_RBX 0x0123456789abcdeful
#define PAT_RBP 0x1032547698badcfeul
#define PAT_RSI 0x2222333344445555ul
#define PAT_RDI 0x6666777788889999ul
#define PAT_R8  0x0808080808080808ul
#define PAT_R9  0x0909090909090909ul
#define PAT_R10 0x1010101010101010ul
#define PAT_R11 0x1111111111111111ul
#define PAT_R12 0xfedcba9876543210ul
#define PAT_R13 0x8badf00ddeadbeeful
#define PAT_R14 0x5555aaaa3333ccccul
#define PAT_R15 0x0f0f0f0ff0f0f0f0ul
extern char toy_upcall_loop_start[], toy_upcall_loop_end[];

static __attribute__((noreturn)) void upcall_exit(struct uk_vcpu_state *s)
{
    __atomic_fetch_add(&toy.upcalls, 1, __ATOMIC_SEQ_CST);
    take_bits(&toy.takes_upcall);
    for (int k = 0; k < 6; k++)
        if (toy_entry_regs[k] == TOY_LEAK_PAT(k))
            toy.leaks++;
    if (toy.mode == TOY_MODE_UPCALL && s->saved.rip >= (uk_word_t)toy_upcall_loop_start &&
        s->saved.rip < (uk_word_t)toy_upcall_loop_end) {
        toy.frames_in_loop++;
        const struct uk_regs *f = &s->saved;
        if (f->rbx != PAT_RBX || f->rbp != PAT_RBP || f->rsi != PAT_RSI || f->rdi != PAT_RDI ||
            f->r8 != PAT_R8 || f->r9 != PAT_R9 || f->r10 != PAT_R10 || f->r11 != PAT_R11 ||
            f->r12 != PAT_R12 || f->r13 != PAT_R13 || f->r14 != PAT_R14 || f->r15 != PAT_R15)
            toy.frame_errors++;
    }
    long err = toy_resume(toy_kern_xsave, 0, 0, 0, 0);
    printf("toyguest: upcall return failed: %ld\n", err);
    guest_stop(-200 - err);
}

static __attribute__((noreturn)) void kfault_exit(struct uk_vcpu_state *s)
{
    toy.kfaults++;
    toy.kfault_addr = s->exit_addr;
    toy.kfault_access = s->exit_access;
    toy.kfault_vector = s->saved.vector;
    if (toy.kfaults != 1 || (s->exit_addr & ~4095ul) != TOY_KFAULT_VA)
        guest_stop(-300);
    uk_word_t page = pool_alloc();
    long err = page ? uk_map(TOY_SLOT_SELF, page, TOY_KFAULT_VA, 1, UK_MAP_READ | UK_MAP_WRITE)
                    : UK_E_NOMEM;
    if (err)
        guest_stop(-310 - err);
    err = toy_resume(toy_kern_xsave, 0, 0, 0, 0);
    guest_stop(-320 - err);
}

void toy_entry(struct uk_vcpu_state *s);
__attribute__((used)) void toy_entry(struct uk_vcpu_state *s)
{
    if (s->exit_reason == UK_VCPU_EXIT_UPCALL)
        upcall_exit(s);
    if (s->exit_reason == UK_VCPU_EXIT_KERNEL_FAULT)
        kfault_exit(s);
    if (toy.mode != TOY_MODE_PROCESSES || cur < 0) {
        printf("toyguest: unexpected exit %lu\n", s->exit_reason);
        guest_stop(-400);
    }
    scribble_fpu();                      /* the process's state is saved: prove it */
    struct gproc *p = &gp[cur];
    struct toy_proc_result *r = &toy.res[cur];
    p->regs = s->user;
    uk_word_t src = 0, dst = 0, rights = 0;
    int next = 0;
    switch (s->exit_reason) {
    case UK_VCPU_EXIT_SYSCALL:
        next = do_syscall(cur);
        break;
    case UK_VCPU_EXIT_PAGE_FAULT:
        if (!do_fault(cur, &src, &dst, &rights)) {
            end_process(cur, TOY_KILLED_FAULT);
            next = 1;
        }
        break;
    case UK_VCPU_EXIT_EXCEPTION:
        r->vector = s->user.vector;
        end_process(cur, TOY_KILLED_EXCEPTION);
        next = 1;
        break;
    case UK_VCPU_EXIT_EVENT:
        if (!s->pending)
            toy.bare_events++;           /* not an event: its task is going away */
        r->preempts++;
        if (toy.proc[cur].budget && r->preempts >= toy.proc[cur].budget)
            end_process(cur, TOY_KILLED_BUDGET);
        next = 1;
        break;
    default:
        printf("toyguest: unexpected exit %lu\n", s->exit_reason);
        guest_stop(-401);
    }
    if (p->state == P_DEAD) {            /* what the others had done by then */
        for (int k = 0; k < toy.nprocs; k++)
            if (k != cur)
                r->report[7] += (long)toy.res[k].syscalls;
    }
    dispatch(next, src, dst, rights);
}

/* --- the loops of the event tests ------------------------------------ */

static void spin(int n)
{
    for (volatile int i = 0; i < n; i++)
        ;
}

/* Virtual interrupts masked and unmasked over and over until every bit of
 * toy.target came, by whichever path. */
static void mask_loop(struct uk_vcpu_state *s)
{
    uk_word_t target = toy.target;
    while ((toy.rx_bits & target) != target && !toy.abort) {
        s->irq_enabled = 0;
        __asm__ volatile("" ::: "memory");
        spin(25);
        take_bits(&toy.takes_masked);    /* events while masked: only pending */
        spin(25);                        /* these stay pending across the unmask */
        s->irq_enabled = 1;
        __asm__ volatile("" ::: "memory");
        if (s->pending)                  /* came before the unmask: no upcall for them */
            take_bits(&toy.takes_enabled);
        spin(50);                        /* events now come as upcalls */
        toy.toggles++;
    }
    s->irq_enabled = 0;
    take_bits(&toy.takes_masked);
}

/* With virtual interrupts on: a loop that holds a pattern in twelve
 * registers and checks it, until toy.target upcalls have come. */
static __attribute__((noinline, noclone)) void upcall_loop(void)
{
    unsigned long errs, iters;
    __asm__ volatile(
        "xor %%edx, %%edx\n\t"
        "xor %%ecx, %%ecx\n\t"
        "movabs $" S(PAT_RBX) ", %%rbx\n\t"
        "movabs $" S(PAT_RBP) ", %%rbp\n\t"
        "movabs $" S(PAT_RSI) ", %%rsi\n\t"
        "movabs $" S(PAT_RDI) ", %%rdi\n\t"
        "movabs $" S(PAT_R8) ", %%r8\n\t"
        "movabs $" S(PAT_R9) ", %%r9\n\t"
        "movabs $" S(PAT_R10) ", %%r10\n\t"
        "movabs $" S(PAT_R11) ", %%r11\n\t"
        "movabs $" S(PAT_R12) ", %%r12\n\t"
        "movabs $" S(PAT_R13) ", %%r13\n\t"
        "movabs $" S(PAT_R14) ", %%r14\n\t"
        "movabs $" S(PAT_R15) ", %%r15\n"
        ".globl toy_upcall_loop_start\n"
        "toy_upcall_loop_start:\n"
        "1:\n\t"
        "movabs $" S(PAT_RBX) ", %%rax\n\t" "cmp %%rax, %%rbx\n\t" "jne 8f\n\t"
        "movabs $" S(PAT_RBP) ", %%rax\n\t" "cmp %%rax, %%rbp\n\t" "jne 8f\n\t"
        "movabs $" S(PAT_RSI) ", %%rax\n\t" "cmp %%rax, %%rsi\n\t" "jne 8f\n\t"
        "movabs $" S(PAT_RDI) ", %%rax\n\t" "cmp %%rax, %%rdi\n\t" "jne 8f\n\t"
        "movabs $" S(PAT_R8) ", %%rax\n\t" "cmp %%rax, %%r8\n\t" "jne 8f\n\t"
        "movabs $" S(PAT_R9) ", %%rax\n\t" "cmp %%rax, %%r9\n\t" "jne 8f\n\t"
        "movabs $" S(PAT_R10) ", %%rax\n\t" "cmp %%rax, %%r10\n\t" "jne 8f\n\t"
        "movabs $" S(PAT_R11) ", %%rax\n\t" "cmp %%rax, %%r11\n\t" "jne 8f\n\t"
        "movabs $" S(PAT_R12) ", %%rax\n\t" "cmp %%rax, %%r12\n\t" "jne 8f\n\t"
        "movabs $" S(PAT_R13) ", %%rax\n\t" "cmp %%rax, %%r13\n\t" "jne 8f\n\t"
        "movabs $" S(PAT_R14) ", %%rax\n\t" "cmp %%rax, %%r14\n\t" "jne 8f\n\t"
        "movabs $" S(PAT_R15) ", %%rax\n\t" "cmp %%rax, %%r15\n\t" "jne 8f\n\t"
        "inc %%rcx\n\t"
        "mov %[count], %%rax\n\t"
        "cmp %[target], %%rax\n\t"
        "jae 9f\n\t"
        "mov %[abort], %%rax\n\t"
        "test %%rax, %%rax\n\t"
        "jz 1b\n\t"
        "jmp 9f\n"
        "8:\n\t"
        "inc %%rdx\n"
        "9:\n"
        ".globl toy_upcall_loop_end\n"
        "toy_upcall_loop_end:\n"
        : "=&d"(errs), "=&c"(iters)
        : [count] "m"(toy.upcalls), [target] "m"(toy.target), [abort] "m"(toy.abort)
        : "rax", "rbx", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14",
          "r15", "memory", "cc");
    toy.reg_errors = errs;
    toy.loop_iters = iters;
}

static int avx_usable(struct uk_vcpu_state *s)
{
    unsigned a = 1, b, c = 0, d;
    __asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
    return (c >> 28 & 1) && (c >> 27 & 1) && (s->xsave_features & 6) == 6;
}

void toy_guest_main(unsigned long arg)
{
    (void)arg;
    struct uk_vcpu_state *s = ST;
    s->entry_ip = (uk_word_t)toy_entry_stub;
    s->entry_sp = toy.entry_stack_top;
    toy.avx = (unsigned long)avx_usable(s);
    toy.xsave_size = s->xsave_size;
    toy.xsave_features = s->xsave_features;
    if (s->xsave_size > XSAVE_MAX)
        guest_stop(-1);
    memset(gp, 0, sizeof gp);
    pool_used = 0;
    cur = -1;
    toy_cur_xsave = 0;
    switch (toy.mode) {
    case TOY_MODE_PROCESSES:
        for (int i = 0; i < toy.nprocs; i++) {
            struct gproc *p = &gp[i];
            p->state = P_RUNNABLE;
            p->regs.rip = (uk_word_t)toy.proc[i].fn;
            p->regs.rsp = TOY_STACK_TOP - 8;     /* as if called */
            p->regs.rdi = toy.proc[i].arg | (toy.proc[i].fpu_arg && toy.avx ? TOY_ARG_AVX : 0);
            p->regs.rflags = 0x202;
            memset(toy_xsave[i], 0, sizeof toy_xsave[i]);
            *(unsigned *)(toy_xsave[i] + 24) = 0x1f80;   /* MXCSR; header 0: init state */
        }
        dispatch(1, 0, 0, 0);
    case TOY_MODE_MASK:
        mask_loop(s);
        break;
    case TOY_MODE_UPCALL:
        s->irq_enabled = 1;
        upcall_loop();
        s->irq_enabled = 0;
        break;
    case TOY_MODE_KFAULT: {
        volatile unsigned long *v = (volatile unsigned long *)TOY_KFAULT_VA;
        *v = 0x5eed;                     /* not mapped: a kernel-fault exit maps it */
        toy.kfault_value = *v;
        toy.kfault_alias = *(volatile unsigned long *)toy.pool;   /* the page it got */
        toy.kfault_irq_after = s->irq_enabled;
        s->irq_enabled = 0;
        break;
    }
    case TOY_MODE_IDLE_PENDING:
        /* An event for ourselves with virtual interrupts off only sets
         * pending; a receive then must not sleep (the event came before
         * it, as it may in any idle loop between its check and its call). */
        s->irq_enabled = 0;
        for (int k = 0; k < 2; k++) {
            uk_signal(TOY_SLOT_VNOTIF);
            uk_word_t t0 = uk_rdtsc();
            struct uk_ret r = uk_sys(UK_SYS_RECV, k ? TOY_SLOT_EP : TOY_SLOT_VNOTIF,
                                     uk_msginfo(0, 0, uk_timeout_us(50000)), 0, 0, 0, 0);
            toy.idle_tsc[k] = uk_rdtsc() - t0;
            toy.idle_err[k] = r.err;
            toy.idle_flags[k] = uk_msg_flags(r.r[1]);
            take_bits(&toy.takes_masked);
        }
        break;
    case TOY_MODE_BAD_ENTRY:
        s->entry_ip = TOY_BAD_ENTRY;
        *(volatile unsigned long *)TOY_KFAULT_VA = 1;    /* an exit to entry_ip */
        break;
    default:
        guest_stop(-2);
    }
    guest_stop(1);
}
