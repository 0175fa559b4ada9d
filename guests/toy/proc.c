/*
 * The processes' code, in section `toyproc`: the only pages a process can
 * execute (the guest kernel maps them read/execute on demand).  So it uses
 * no globals, no string constants, no library calls and no jump tables --
 * nothing outside its own section and its stack -- and makes its system
 * calls with a raw `syscall`, which exits to the guest kernel.
 */
#include "toy.h"

#define PROC __attribute__((section("toyproc"), noinline, noclone, used))
/* The section starts on a page of its own (user.ld aligns what follows
 * .text), so its pages hold nothing but process code. */
__asm__(".pushsection toyproc, \"ax\", @progbits\n.balign 4096\n.popsection");
#define PINLINE static inline __attribute__((always_inline))

PINLINE long tsys(long nr, long a, long b)
{
    __asm__ volatile("syscall" : "+a"(nr) : "D"(a), "S"(b) : "rcx", "r11", "memory");
    return nr;
}

PINLINE unsigned long rdtsc(void)
{
    unsigned lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (unsigned long)hi << 32 | lo;
}

/* A string literal into a volatile buffer as immediates; its length. */
#define PSTR(buf, lit) ({                                             \
    _Pragma("GCC unroll 64")                                          \
    for (unsigned _i = 0; _i < sizeof(lit) - 1; _i++)                 \
        (buf)[_i] = (lit)[_i];                                        \
    (unsigned long)(sizeof(lit) - 1); })

/* n in decimal at b; its length. */
PINLINE unsigned long pdec(volatile char *b, unsigned long n)
{
    volatile char t[20];
    unsigned long k = 0, len = 0;
    do {
        t[k++] = (char)('0' + n % 10);
        n /= 10;
    } while (n);
    while (k)
        b[len++] = t[--k];
    return len;
}

/* Says hello, then `rounds` times: spins `spin` TSC ticks (long enough for
 * timer events to preempt it), reports the round and sleeps a tick. */
void PROC toyp_worker(unsigned long spin, unsigned long rounds)
{
    volatile char b[64];
    long pid = tsys(TOY_SYS_GETPID, 0, 0);
    unsigned long n = PSTR(b, "hello from process ");
    n += pdec(b + n, (unsigned long)pid);
    tsys(TOY_SYS_WRITE, (long)b, (long)n);
    for (unsigned long r = 1; r <= rounds; r++) {
        unsigned long t0 = rdtsc();
        while (rdtsc() - t0 < spin)
            ;
        n = PSTR(b, "process ");
        n += pdec(b + n, (unsigned long)pid);
        n += PSTR(b + n, ": round ");
        n += pdec(b + n, r);
        n += PSTR(b + n, " of ");
        n += pdec(b + n, rounds);
        tsys(TOY_SYS_WRITE, (long)b, (long)n);
        tsys(TOY_SYS_SLEEP, 1, 0);
    }
    tsys(TOY_SYS_EXIT, pid * 10, 0);
    for (;;)
        __asm__ volatile("ud2");
}
