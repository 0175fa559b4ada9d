/* The four functions gcc may call even in freestanding code. */
#include "lib.h"

/* Eight bytes a step when the buffers and the length allow (kernel objects,
 * page tables, message words always do): a rep-string instruction does one
 * step per iteration, and under -icount each iteration counts. */
void *memset(void *d, int c, usize n)
{
    void *r = d;
    if ((((usize)d | n) & 7) == 0) {
        usize q = n / 8;
        u64 v = 0x0101010101010101ull * (u8)c;
        __asm__ volatile("rep stosq" : "+D"(d), "+c"(q) : "a"(v) : "memory");
        return r;
    }
    __asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
    return r;
}

void *memcpy(void *d, const void *s, usize n)
{
    void *r = d;
    if ((((usize)d | (usize)s | n) & 7) == 0) {
        usize q = n / 8;
        __asm__ volatile("rep movsq" : "+D"(d), "+S"(s), "+c"(q) :: "memory");
        return r;
    }
    __asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) :: "memory");
    return r;
}

void *memmove(void *d, const void *s, usize n)
{
    u8 *dp = d;
    const u8 *sp = s;
    if (dp <= sp || dp >= sp + n)
        return memcpy(d, s, n);
    while (n--)
        dp[n] = sp[n];
    return d;
}

int memcmp(const void *a, const void *b, usize n)
{
    const u8 *x = a, *y = b;
    for (usize i = 0; i < n; i++)
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    return 0;
}
