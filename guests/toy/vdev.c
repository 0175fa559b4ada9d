/*
 * Device calls to the vmm-server (uk/abi.h "Virtual devices"): a call on
 * UK_GUEST_SLOT_VMM, the operation in the label, words 4.. in our IPC
 * buffer; the reply's w0 is the device's status.  The guest kernel prints
 * only this way, never with UK_SYS_DEBUG_PUTS.
 */
#include "toy.h"

long vdev_call(uk_word_t op, uk_word_t nwords, const uk_word_t *words, uk_word_t out[4])
{
    struct uk_msg m = { .info = uk_msginfo(op, nwords, UK_TIMEOUT_INFINITE) };
    uk_msg_set_words(&m, uk_ipc_buf, words, nwords);
    return uk_call_status(UK_GUEST_SLOT_VMM, &m, out);
}

/* One write of at most UK_VDEV_BYTES_MAX bytes; when flow control says
 * "again", wait a little (bounded: after about two seconds the text is
 * dropped rather than the guest stuck). */
static void write_chunk(const char *s, uk_word_t n)
{
    uk_word_t words[1 + UK_VDEV_BYTES_MAX / 8] = { n };
    memcpy(&words[1], s, n);
    for (int tries = 0; tries < 400; tries++) {
        long st = vdev_call(UK_VDEV_CONSOLE_WRITE, 1 + (n + 7) / 8, words, 0);
        if (st != UK_VDEV_EAGAIN)
            return;
        idle_wait(5000);
    }
}

void con_write(const char *s, unsigned long n)
{
    while (n) {
        uk_word_t k = n < UK_VDEV_BYTES_MAX ? n : UK_VDEV_BYTES_MAX;
        write_chunk(s, k);
        s += k;
        n -= k;
    }
}

void kprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    uk_vprintf_to(con_write, fmt, ap);
    va_end(ap);
}

long timer_set(uk_word_t first_ns, uk_word_t period_ns)
{
    uk_word_t w[2] = { first_ns, period_ns };
    return vdev_call(UK_VDEV_TIMER_SET, 2, w, 0);
}

void power(uk_word_t how, uk_word_t status)
{
    uk_word_t w[2] = { how, status };
    vdev_call(UK_VDEV_POWER, 2, w, 0);   /* no reply: the vmm-server destroys us */
    for (;;)
        uk_thread_suspend(0);
}
