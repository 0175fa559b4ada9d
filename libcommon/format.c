/* The one printf-style formatter (common/format.h). */
#include <common/format.h>

struct sink {
    uk_put_fn put;
    void *ctx;
    int count;
};

static void emit(struct sink *s, char c)
{
    s->put(s->ctx, c);
    s->count++;
}

static void pad(struct sink *s, int n, char c)
{
    while (n-- > 0)
        emit(s, c);
}

static void str(struct sink *s, const char *p, int width, int left)
{
    int n = 0;
    while (p[n])
        n++;
    if (!left)
        pad(s, width - n, ' ');
    for (int i = 0; i < n; i++)
        emit(s, p[i]);
    if (left)
        pad(s, width - n, ' ');
}

static void num(struct sink *s, unsigned long v, unsigned base, int neg, int width, char fill, int left)
{
    char digits[24];
    int n = 0;
    do {
        digits[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    int len = n + neg;
    if (fill == '0' && !left) {
        if (neg)
            emit(s, '-');
        pad(s, width - len, '0');
    } else {
        if (!left)
            pad(s, width - len, ' ');
        if (neg)
            emit(s, '-');
    }
    while (n)
        emit(s, digits[--n]);
    if (left)
        pad(s, width - len, ' ');
}

int uk_vformat(uk_put_fn put, void *ctx, const char *fmt, va_list ap)
{
    struct sink s = { put, ctx, 0 };
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            emit(&s, *fmt);
            continue;
        }
        fmt++;
        int left = 0, width = 0, longs = 0;
        char fill = ' ';
        if (*fmt == '-') { left = 1; fmt++; }
        if (*fmt == '0') { fill = '0'; fmt++; }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l' || *fmt == 'z') { longs++; fmt++; }
        switch (*fmt) {
        case 'd': case 'i': {
            long v = longs ? va_arg(ap, long) : va_arg(ap, int);
            num(&s, v < 0 ? -(unsigned long)v : (unsigned long)v, 10, v < 0, width, fill, left);
            break;
        }
        case 'u': num(&s, longs ? va_arg(ap, unsigned long) : va_arg(ap, unsigned), 10, 0, width, fill, left); break;
        case 'x': num(&s, longs ? va_arg(ap, unsigned long) : va_arg(ap, unsigned), 16, 0, width, fill, left); break;
        case 'p': emit(&s, '0'); emit(&s, 'x'); num(&s, (unsigned long)va_arg(ap, void *), 16, 0, 16, '0', 0); break;
        case 's': { const char *p = va_arg(ap, const char *); str(&s, p ? p : "(null)", width, left); break; }
        case 'c': emit(&s, (char)va_arg(ap, int)); break;
        case '%': emit(&s, '%'); break;
        case 0: return s.count;
        default: emit(&s, '%'); emit(&s, *fmt); break;
        }
    }
    return s.count;
}
