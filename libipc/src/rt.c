/* User runtime: _start, printf over UK_SYS_DEBUG_PUTS, string helpers. */
#include <uk/rt.h>

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

void *memset(void *d, int c, unsigned long n)
{
    unsigned char *p = d;
    while (n--)
        *p++ = (unsigned char)c;
    return d;
}

void *memcpy(void *d, const void *s, unsigned long n)
{
    unsigned char *dp = d;
    const unsigned char *sp = s;
    while (n--)
        *dp++ = *sp++;
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

static void put(struct out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

static void put_num(struct out *o, unsigned long v, int base, int neg, int width, char pad)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    if (neg)
        tmp[n++] = '-';
    for (int i = n; i < width; i++)
        put(o, pad);
    while (n)
        put(o, tmp[--n]);
}

int vsnprintf(char *buf, unsigned long size, const char *fmt, va_list ap)
{
    struct out o = { buf, size, 0 };
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            put(&o, *fmt);
            continue;
        }
        fmt++;
        char pad = ' ';
        int width = 0, longs = 0;
        if (*fmt == '0') { pad = '0'; fmt++; }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l' || *fmt == 'z') { longs++; fmt++; }
        switch (*fmt) {
        case 'd': case 'i': {
            long v = longs ? va_arg(ap, long) : va_arg(ap, int);
            put_num(&o, v < 0 ? -(unsigned long)v : (unsigned long)v, 10, v < 0, width, pad);
            break;
        }
        case 'u': put_num(&o, longs ? va_arg(ap, unsigned long) : va_arg(ap, unsigned), 10, 0, width, pad); break;
        case 'x': put_num(&o, longs ? va_arg(ap, unsigned long) : va_arg(ap, unsigned), 16, 0, width, pad); break;
        case 'p': put(&o, '0'); put(&o, 'x'); put_num(&o, (unsigned long)va_arg(ap, void *), 16, 0, 0, ' '); break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s)
                s = "(null)";
            for (int i = (int)strlen(s); i < width; i++)
                put(&o, ' ');
            while (*s)
                put(&o, *s++);
            break;
        }
        case 'c': put(&o, (char)va_arg(ap, int)); break;
        default: put(&o, '%'); put(&o, *fmt); break;
        }
    }
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

int printf(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    uk_debug_puts(buf, (unsigned long)n < sizeof buf ? (unsigned long)n : sizeof buf - 1);
    return n;
}

void uk_exit_qemu(uk_word_t ioport_cap, int status)
{
    uk_out(ioport_cap, 0xf4, 4, (uk_word_t)status);
    for (;;)
        uk_thread_suspend(UK_SLOT_SELF_THREAD);
}
