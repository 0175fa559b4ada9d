/* The kernel log: kprintf (formatting shared with user level, common/format.h)
 * on the debug UART, and panic. */
#include <stdarg.h>
#include <common/format.h>
#include "log.h"
#include "backtrace.h"

static void put_serial(void *ctx, char c)
{
    (void)ctx;
    serial_putc(c);
}

void kprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    uk_vformat(put_serial, 0, fmt, ap);
    va_end(ap);
}

void log_write(const char *s, word len)
{
    for (word i = 0; i < len; i++)
        serial_putc(s[i]);
}

/* The message, then the backtrace from here (docs/debugging.md: reading it). */
noreturn void panic(const char *fmt, ...)
{
    va_list ap;
    kprintf("\nukernel PANIC: ");
    va_start(ap, fmt);
    uk_vformat(put_serial, 0, fmt, ap);
    va_end(ap);
    kprintf("\n");
    backtrace_here();
    arch_exit_emulator(0x7f);
}
