/* The kernel log: kprintf (formatting shared with user level, common/format.h)
 * on the debug UART, and panic. */
#include <stdarg.h>
#include <common/format.h>
#include "log.h"
#include "stats.h"
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

/*
 * Lines a user task can cause (a thread faulting with no handler) are
 * rationed: a burst of LOG_BURST, then one per LOG_REFILL_TICKS, so that a
 * task faulting in a loop cannot keep the kernel polling the UART.  What
 * was held back is counted and said with the next line let through.
 */
#define LOG_BURST        20
#define LOG_REFILL_TICKS 100           /* 100 ms at the 1 kHz tick */
static word log_tokens = LOG_BURST, log_refilled, log_suppressed;

bool log_ration(void)
{
    word now = kstats.timer_ticks;
    word add = (now - log_refilled) / LOG_REFILL_TICKS;
    if (add) {
        log_tokens = log_tokens + add > LOG_BURST ? LOG_BURST : log_tokens + add;
        log_refilled += add * LOG_REFILL_TICKS;
    }
    if (!log_tokens) {
        log_suppressed++;
        return false;
    }
    log_tokens--;
    if (log_suppressed) {
        kprintf("ukernel: %lu fault reports held back (at most %d, then one per %d ms)\n",
                log_suppressed, LOG_BURST, LOG_REFILL_TICKS);
        log_suppressed = 0;
    }
    return true;
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
