/*
 * The guest's console output.  For now it goes to the kernel log (the
 * serial line), one whole line per UK_SYS_DEBUG_PUTS labelled "[name] ", so
 * two guests' lines never mix within a line; the console server will take
 * over through UK_VMM_SLOT_CONSOLE.
 *
 * Bounded: a partial line waits in a fixed buffer and is cut at LINE_MAX;
 * bytes outside printable ASCII become '?' (a guest must not drive the
 * terminal).  Flow control: a token bucket of bytes, each request costing
 * at least MIN_COST, refilled at RATE bytes a second up to BURST; a write
 * that finds it empty is refused with UK_VDEV_EAGAIN, so a flooding guest
 * loses only its own output and never holds up the serial line for long.
 */
#include "vmm.h"

#define LINE_MAX  160u
#define BURST     8192u
#define RATE      8192u          /* bytes a second */
#define MIN_COST  32u

static char line[LINE_MAX];
static uk_word_t len;
static uk_word_t tokens = BURST, refilled_tsc;

static void emit(const char *text, uk_word_t n)
{
    char out[LINE_MAX + 48];
    uk_word_t k = (uk_word_t)snprintf(out, sizeof out, "[%s] ", vmm.name);
    memcpy(out + k, text, n);
    out[k + n] = '\n';
    uk_debug_puts(out, k + n + 1);
}

void con_flush(void)
{
    if (len)
        emit(line, len);
    len = 0;
}

void con_reset(void)
{
    len = 0;
    tokens = BURST;
    refilled_tsc = uk_rdtsc();
}

uk_word_t con_write(const unsigned char *bytes, uk_word_t n)
{
    for (uk_word_t i = 0; i < n; i++) {
        unsigned char c = bytes[i];
        if (c == '\n') {
            emit(line, len);
            len = 0;
            continue;
        }
        if (c == '\r')
            continue;
        line[len++] = (c >= 0x20 && c < 0x7f) || c == '\t' ? (char)c : '?';
        if (len == LINE_MAX)
            con_flush();                 /* a long line is cut, not held */
    }
    return n;
}

long con_admit(uk_word_t n)
{
    uk_word_t hz = vmm.vi->tsc_hz, now = uk_rdtsc(), dt = now - refilled_tsc;
    if (dt >= hz) {                      /* a second or more: full */
        tokens = BURST;
        refilled_tsc = now;
    } else {
        uk_word_t add = dt * RATE / hz;  /* < RATE: no overflow */
        if (add) {
            tokens = tokens + add > BURST ? BURST : tokens + add;
            refilled_tsc += add * hz / RATE;   /* keep the fraction for next time */
        }
    }
    uk_word_t cost = n < MIN_COST ? MIN_COST : n;
    if (tokens < cost)
        return UK_VDEV_EAGAIN;
    tokens -= cost;
    return 0;
}

void vmm_say(const char *fmt, ...)
{
    char text[LINE_MAX * 2];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((uk_word_t)n >= sizeof text)
        n = sizeof text - 1;
    char out[sizeof text + 48];
    int k = snprintf(out, sizeof out, "[%s] %s\n", vmm.name, text);
    uk_debug_puts(out, (uk_word_t)k < sizeof out ? (uk_word_t)k : sizeof out - 1);
}
