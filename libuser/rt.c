/* User runtime: _start, printf over UK_SYS_DEBUG_PUTS, string helpers. */
#include <user/rt.h>
#include <common/format.h>

void uk_ipc_buffer_init(struct uk_ipc_buffer *b)
{
    b->user_self = (uk_word_t)b;
    uk_set_tls(0, (uk_word_t)b);
}

__asm__(".globl _start\n"
        "_start:\n"
        "  and $-16, %rsp\n"
        "  call rt_start\n"
        "1: jmp 1b\n");

/* The root task: rdi = boot info; its IPC buffer follows the stack's guard page. */
void rt_start(const struct uk_bootinfo *bi)
{
    uk_ipc_buffer_init((struct uk_ipc_buffer *)UK_ROOT_IPC_BUFFER);
    int rc = main(bi);
    printf("task exited with %d\n", rc);
    for (;;)
        uk_thread_suspend(UK_SLOT_SELF_THREAD);
}

/* memset and memcpy: the string instructions, 8 bytes a step and the rest
 * a byte a step, as the microkernel's lib.c does (a byte at a time).  They
 * carry the bulk copies (the vmm-server's block window; every frame the
 * network server and the vmm-server move), where a byte loop in C cost
 * some 5 instructions a byte (docs/results.md "Storage", "Network"); the direction
 * flag is 0 at every entry to C (the SysV ABI). */
void *memset(void *d, int c, unsigned long n)
{
    void *p = d;
    unsigned long words = n / 8, pattern = 0x0101010101010101ul * (unsigned char)c;
    n %= 8;
    __asm__ volatile("rep stosq" : "+D"(p), "+c"(words) : "a"(pattern) : "memory");
    __asm__ volatile("rep stosb" : "+D"(p), "+c"(n) : "a"(pattern) : "memory");
    return d;
}

void *memcpy(void *d, const void *s, unsigned long n)
{
    void *dp = d;
    unsigned long words = n / 8;
    n %= 8;
    __asm__ volatile("rep movsq" : "+D"(dp), "+S"(s), "+c"(words) :: "memory");
    __asm__ volatile("rep movsb" : "+D"(dp), "+S"(s), "+c"(n) :: "memory");
    return d;
}

int memcmp(const void *a, const void *b, unsigned long n)
{
    const unsigned char *x = a, *y = b;
    for (unsigned long i = 0; i < n; i++)
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    return 0;
}

unsigned long strlen(const char *s)
{
    unsigned long n = 0;
    while (s[n])
        n++;
    return n;
}

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, unsigned long n)
{
    for (; n; n--, a++, b++) {
        if (*a != *b)
            return (unsigned char)*a - (unsigned char)*b;
        if (!*a)
            return 0;
    }
    return 0;
}

struct out { char *buf; unsigned long size, len; };

static void put_buf(void *ctx, char c)
{
    struct out *o = ctx;
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

int vsnprintf(char *buf, unsigned long size, const char *fmt, va_list ap)
{
    struct out o = { buf, size, 0 };
    uk_vformat(put_buf, &o, fmt, ap);
    if (size)
        buf[o.len < size ? o.len : size - 1] = 0;
    return (int)o.len;
}

int snprintf(char *buf, unsigned long size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

int uk_vprintf_to(void (*out)(const char *s, unsigned long n), const char *fmt, va_list ap)
{
    char buf[512];
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    out(buf, (unsigned long)n < sizeof buf ? (unsigned long)n : sizeof buf - 1);
    return n;
}

static void to_kernel_log(const char *s, unsigned long n)
{
    uk_debug_puts(s, n);
}

int printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = uk_vprintf_to(to_kernel_log, fmt, ap);
    va_end(ap);
    return n;
}

void uk_exit_qemu(uk_word_t ioport_cap, int status)
{
    uk_out(ioport_cap, 0xf4, 4, (uk_word_t)status);
    for (;;)
        uk_thread_suspend(UK_SLOT_SELF_THREAD);
}
