/*
 * What the benchmark files share (main.c has the method; vcpu.c the vCPU
 * benchmarks): run counts, the timing window, reporting and event counts.
 */
#ifndef BENCH_H
#define BENCH_H

#include <user/rt.h>
#include <user/spawn.h>

#define WARMUP 100
#define RUNS   1000

extern uk_word_t overhead;               /* the empty window, subtracted */
extern uk_word_t samples[RUNS], samples2[RUNS];

static inline uk_word_t join(uk_word_t lo, uk_word_t hi) { return (hi << 32) | (lo & 0xffffffffu); }

/* A system call timed from the caller: returns t1 - t0 of its window; *t0
 * gets the start stamp.  The window holds exactly: rdtscp, two register
 * moves saving the stamp, loading rdx and the call number, the syscall ...
 * and the final rdtscp (overhead_once in main.c: the same without syscall). */
static inline uk_word_t timed_syscall(uk_word_t nr, uk_word_t rdi, uk_word_t rsi, uk_word_t w0,
                                      uk_word_t w1, uk_word_t w2, uk_word_t w3, uk_word_t *t0)
{
    uk_word_t lo1, hi1;
    register uk_word_t lo0 __asm__("r12"), hi0 __asm__("r13");
    register uk_word_t r10 __asm__("r10") = w1;
    register uk_word_t r8 __asm__("r8") = w2;
    register uk_word_t r9 __asm__("r9") = w3;
    register uk_word_t rdi_r __asm__("rdi") = rdi;
    register uk_word_t rsi_r __asm__("rsi") = rsi;
    __asm__ volatile("rdtscp\n\tmov %%eax, %%r12d\n\tmov %%edx, %%r13d\n\t"
                     "mov %[w0], %%rdx\n\t"
                     "mov %k[nr], %%eax\n\t"
                     "syscall\n\t"
                     "rdtscp\n\t"
                     : "=&a"(lo1), "=&d"(hi1), "=&r"(lo0), "=&r"(hi0),
                       "+r"(r10), "+r"(r8), "+r"(r9), "+r"(rdi_r), "+r"(rsi_r)
                     : [w0] "r"(w0), [nr] "r"(nr)
                     : "rcx", "r11", "memory");
    *t0 = join(lo0, hi0);
    return join(lo1, hi1) - *t0;
}

/* The kernel's counters now (one UK_SYS_DEBUG_STATS, counted in them). */
struct uk_stats stats(void);

/* Event counts summed over stats pairs: each pair (a, b) adds b - a less
 * b's own stats call and the timer ticks in between (not the operation's);
 * sign -1 takes a pair away (an empty batch's marks). */
struct bench_events {
    long entries, as_switches, tlb_flushes, ipc_fastpath;
};
void events_add(struct bench_events *e, struct uk_stats a, struct uk_stats b, long sign);
/* JSON for the "events" field: each count per operation over n operations. */
void events_format(char *out, unsigned long size, struct bench_events e, uk_word_t n);

/* Sorts v[RUNS] and prints the BENCH line (median, min). */
void report(const char *name, uk_word_t *v, const char *events);

void bench_vcpu(void);

/* A store to *p, timed with the same window as timed_syscall: the store
 * stands where the window has "mov w0, rdx", so `overhead` applies. */
static inline uk_word_t timed_store(volatile uk_word_t *p)
{
    uk_word_t lo1, hi1;
    register uk_word_t lo0 __asm__("r12"), hi0 __asm__("r13");
    /* the store stands where the window has "mov w0, rdx" */
    __asm__ volatile("rdtscp\n\tmov %%eax, %%r12d\n\tmov %%edx, %%r13d\n\t"
                     "movq $1, (%[p])\n\t"
                     "mov %k[nr], %%eax\n\t"
                     "rdtscp\n\t"
                     : "=&a"(lo1), "=&d"(hi1), "=&r"(lo0), "=&r"(hi0)
                     : [p] "r"(p), [nr] "r"(0ul)
                     : "rcx", "memory");
    return join(lo1, hi1) - join(lo0, hi0);
}

#endif
