/* kprintf: a small printf for the kernel log (d i u x p s c %, l/ll/z,
 * width, zero padding, '-').  Enough for register dumps and messages. */
#include <stdarg.h>
#include "log.h"

static void put_str(const char *s, int width, bool left)
{
    int n = 0;
    while (s[n])
        n++;
    for (int i = n; !left && i < width; i++)
        serial_putc(' ');
    for (int i = 0; i < n; i++)
        serial_putc(s[i]);
    for (int i = n; left && i < width; i++)
        serial_putc(' ');
}

static void put_num(u64 v, int base, bool neg, int width, char pad, bool left)
{
    char buf[24];
    int n = 0;
    do {
        buf[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    if (neg)
        buf[n++] = '-';
    char out[24];
    for (int i = 0; i < n; i++)
        out[i] = buf[n - 1 - i];
    out[n] = 0;
    if (pad == '0' && !left) {
        for (int i = n; i < width; i++)
            serial_putc('0');
        put_str(out, 0, false);
    } else {
        put_str(out, width, left);
    }
}

static void vkprintf(const char *fmt, va_list ap)
{
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            serial_putc(*fmt);
            continue;
        }
        fmt++;
        bool left = false;
        char pad = ' ';
        int width = 0, longs = 0;
        if (*fmt == '-') { left = true; fmt++; }
        if (*fmt == '0') { pad = '0'; fmt++; }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l' || *fmt == 'z') { longs++; fmt++; }
        switch (*fmt) {
        case 'd': case 'i': {
            i64 v = longs ? va_arg(ap, i64) : va_arg(ap, int);
            put_num(v < 0 ? (u64)-v : (u64)v, 10, v < 0, width, pad, left);
            break;
        }
        case 'u': put_num(longs ? va_arg(ap, u64) : va_arg(ap, unsigned), 10, false, width, pad, left); break;
        case 'x': put_num(longs ? va_arg(ap, u64) : va_arg(ap, unsigned), 16, false, width, pad, left); break;
        case 'p': put_str("0x", 0, false); put_num((word)va_arg(ap, void *), 16, false, 16, '0', false); break;
        case 's': { const char *s = va_arg(ap, const char *); put_str(s ? s : "(null)", width, left); break; }
        case 'c': serial_putc((char)va_arg(ap, int)); break;
        case '%': serial_putc('%'); break;
        default: serial_putc('%'); serial_putc(*fmt); break;
        }
    }
}

void kprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vkprintf(fmt, ap);
    va_end(ap);
}

void log_write(const char *s, word len)
{
    for (word i = 0; i < len; i++)
        serial_putc(s[i]);
}

noreturn void panic(const char *fmt, ...)
{
    va_list ap;
    kprintf("\nukernel PANIC: ");
    va_start(ap, fmt);
    vkprintf(fmt, ap);
    va_end(ap);
    kprintf("\n");
    arch_exit_emulator(0x7f);
}
