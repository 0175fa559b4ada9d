/* What kernel sources expect from the rest of the kernel, for host tests:
 * a log that prints to stderr and a panic that fails the test. */
#ifndef HOST_STUBS_H
#define HOST_STUBS_H
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

static inline void kprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
}
#define panic(...) do { kprintf(__VA_ARGS__); fail_msg("kernel panic"); abort(); } while (0)
#define UK_HOST_STUBS_DEFINED 1
#endif
