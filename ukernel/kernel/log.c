/* The kernel log: kprintf (formatting shared with user level, common/format.h)
 * on the debug UART, and panic. */
#include <stdarg.h>
#include <common/format.h>
#include "log.h"

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

noreturn void panic(const char *fmt, ...)
{
    va_list ap;
    kprintf("\nukernel PANIC: ");
    va_start(ap, fmt);
    uk_vformat(put_serial, 0, fmt, ap);
    va_end(ap);
    kprintf("\n");
    arch_exit_emulator(0x7f);
}
