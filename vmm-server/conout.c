/*
 * The guest's console output.
 *
 * With a console server (an endpoint in UK_VMM_SLOT_CONSOLE, badged with
 * our guest's index) the guest's bytes go to it as they come, in
 * UK_CONSOLE_WRITE requests (the same layout as the guest's
 * UK_VDEV_CONSOLE_WRITE): the server assembles the lines, labels them
 * "[name] ", shows the focused guest's prompt, keeps control bytes off the
 * terminal and shares the UART fairly.  Our own lines (vmm_say) go the same
 * way, on a line of their own (a partial line of the guest's is ended
 * first).  The server runs above us and never waits, so each call is short;
 * a call that times out sends that text to the kernel log instead, any
 * other IPC error (the server is gone) makes us use the kernel log until
 * an endpoint is in UK_VMM_SLOT_CONSOLE again: the root task's supervisor
 * puts a restarted server's there (docs/experiments.md), and our next
 * write finds it (one UK_SYS_CAP_INFO a write while the server is gone).
 *
 * Without one: the kernel log (the serial line), one whole line per
 * UK_SYS_DEBUG_PUTS labelled "[name] ", so two guests' lines never mix
 * within a line.  A partial line waits in a fixed buffer and is cut at
 * LINE_MAX; bytes outside printable ASCII become '?' (a guest must not
 * drive the terminal).
 *
 * Flow control, either way: a token bucket of bytes, each request costing
 * at least MIN_COST, refilled at RATE bytes a second up to BURST; a write
 * that finds it empty is refused with UK_VDEV_EAGAIN and told how long
 * until the bucket holds it, so a flooding guest is slowed down to RATE (the
 * Linux guest waits that long and sends again: arch/um/os-ukernel/vdev.c)
 * and never holds up the serial line for long.
 */
#include "vmm.h"

#define LINE_MAX  160u
#define BURST     8192u
#define RATE      8192u          /* bytes a second */
#define MIN_COST  32u
#define CONSOLE_TIMEOUT uk_timeout_us(2000000)

static char line[LINE_MAX];
static uk_word_t len;
static uk_word_t tokens = BURST, refilled_tsc;
static int open_line;            /* console: the last byte sent was not a '\n' */

/* --- the console server ------------------------------------------------------ */

void con_init(void)
{
    uk_word_t type = UK_CAP_NULL, rights = 0;
    uk_cap_info(UK_VMM_SLOT_CONSOLE, &type, &rights, 0);
    vmm.console = type == UK_CAP_ENDPOINT && (rights & UK_R_WRITE);
    open_line = 0;
}

static void debug_line(const char *text)
{
    char out[LINE_MAX * 2 + 48];
    int k = snprintf(out, sizeof out, "[%s] %s\n", vmm.name, text);
    uk_debug_puts(out, (uk_word_t)k < sizeof out ? (uk_word_t)k : sizeof out - 1);
}

long console_call(struct uk_msg *m)
{
    long err = uk_call(UK_VMM_SLOT_CONSOLE, m);
    if (err == UK_OK)
        return (long)m->w[0];
    if (err != UK_E_TIMEOUT) {
        char why[96];
        vmm.console = 0;
        snprintf(why, sizeof why, "console server unreachable (error %ld): output on the "
                 "kernel log from now on", err);
        debug_line(why);
    }
    return uk_ipc_failed(err);
}

/* n bytes to the console server; 1 if it took them all. */
static int console_send(const unsigned char *s, uk_word_t n)
{
    while (n && vmm.console) {
        uk_word_t k = n < UK_VDEV_BYTES_MAX ? n : UK_VDEV_BYTES_MAX;
        struct uk_msg m = { .info = uk_msginfo(UK_CONSOLE_WRITE, 1 + (k + 7) / 8,
                                               CONSOLE_TIMEOUT) };
        m.w[0] = k;
        for (uk_word_t i = 0; i < (k + 7) / 8; i++) {
            uk_word_t w = 0;
            memcpy(&w, s + i * 8, k - i * 8 < 8 ? k - i * 8 : 8);
            uk_msg_set_word(&m, uk_ipc_buf, 1 + i, w);
        }
        if (console_call(&m) != 0)
            return 0;
        open_line = s[k - 1] != '\n';
        s += k;
        n -= k;
    }
    return vmm.console;
}

/* --- the kernel log ------------------------------------------------------------ */

static void emit(const char *text, uk_word_t n)
{
    char out[LINE_MAX + 48];
    uk_word_t k = (uk_word_t)snprintf(out, sizeof out, "[%s] ", vmm.name);
    memcpy(out + k, text, n);
    out[k + n] = '\n';
    uk_debug_puts(out, k + n + 1);
}

static void log_bytes(const unsigned char *bytes, uk_word_t n)
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
        if (len == LINE_MAX) {
            emit(line, len);             /* a long line is cut, not held */
            len = 0;
        }
    }
}

/* --- both ---------------------------------------------------------------------- */

void con_flush(void)
{
    if (vmm.console && open_line)
        console_send((const unsigned char *)"\n", 1);
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

/* The console server back (restarted, its cap given to us again)? */
static void reconnect(void)
{
    con_init();
    if (!vmm.console)
        return;
    if (len)                             /* the partial line stays on the kernel log */
        emit(line, len);
    len = 0;
    vmm_say("console server reachable again: output through it from now on");
}

uk_word_t con_write(const unsigned char *bytes, uk_word_t n)
{
    if (!vmm.console)
        reconnect();
    if (!vmm.console || !console_send(bytes, n))
        log_bytes(bytes, n);             /* (after a timeout: some may be there twice) */
    return n;
}

long con_admit(uk_word_t n, uk_word_t *wait_ns)
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
    if (tokens < cost) {
        /* when the bucket will hold `cost`: the missing tokens' ticks, less
         * the fraction of a token already accumulated since refilled_tsc
         * (cost <= UK_VDEV_BYTES_MAX, so no overflow) */
        uk_word_t need = ((cost - tokens) * hz + RATE - 1) / RATE, have = now - refilled_tsc;
        *wait_ns = tsc_to_ns(need > have ? need - have : 1);
        return UK_VDEV_EAGAIN;
    }
    tokens -= cost;
    *wait_ns = 0;
    return 0;
}

void vmm_say(const char *fmt, ...)
{
    char text[LINE_MAX * 2 + 2];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text + 1, sizeof text - 2, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((uk_word_t)n > sizeof text - 3)
        n = sizeof text - 3;
    if (vmm.console) {                   /* "\n" first if the guest's line is open */
        text[0] = '\n';
        text[n + 1] = '\n';
        if (console_send((const unsigned char *)text + !open_line, (uk_word_t)n + 1 + open_line))
            return;
    }
    text[n + 1] = 0;
    debug_line(text + 1);
}
