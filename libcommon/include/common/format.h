/* printf-style formatting without libc, for the kernel log and the user
 * runtime alike: %d %i %u %x %p %s %c %%, with l/ll/z, a width, '0' or
 * '-'.  Each character goes to put(ctx, c); returns the count. */
#ifndef UK_FORMAT_H
#define UK_FORMAT_H

#include <stdarg.h>

typedef void (*uk_put_fn)(void *ctx, char c);
int uk_vformat(uk_put_fn put, void *ctx, const char *fmt, va_list ap);

#endif
