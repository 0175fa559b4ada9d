/*
 * The guest's console input, from the console server.
 *
 * The root put a notification in UK_VMM_SLOT_INPUT, our bell, that the
 * console server rings (bit UK_VDEV_EVENT_CONSOLE) when bytes came for our
 * guest (it has the focus); the root rings it too (power.c).  We bind it to
 * our main thread, so the one receive on SLOT_EP returns the guest's
 * requests, its faults and input alike (the last as UK_MSGF_NOTIFY): no
 * thread of its own, no polling.  Then we take what the server holds
 * (UK_CONSOLE_READ, which never waits) into our buffer and signal
 * UK_VDEV_EVENT_CONSOLE to the guest; its UK_VDEV_CONSOLE_READ takes the
 * bytes from there (con_read), 0 bytes when there are none.
 *
 * Bounded: IN_MAX bytes here; what does not fit stays in the server (its
 * ring: 1 KiB, then it drops and counts) and is taken as the guest reads.
 * The buffer outlives a reboot: what was typed while the guest restarted is
 * there for its next boot (con_input_booted tells it).
 */
#include "vmm.h"

#define IN_MAX 1024u
#define CONSOLE_TIMEOUT uk_timeout_us(2000000)

static unsigned char inbuf[IN_MAX];
static uk_word_t in_len;
static int in_more;              /* our buffer filled up: the server may hold more */

void con_input_init(void)
{
    uk_word_t type = UK_CAP_NULL, rights = 0;
    uk_cap_info(UK_VMM_SLOT_INPUT, &type, &rights, 0);
    vmm.input = 0;
    if (type != UK_CAP_NOTIFICATION || !(rights & UK_R_READ))
        return;                          /* no input, no power button */
    long err = uk_notif_bind(UK_VMM_SLOT_INPUT, UK_SLOT_SELF_THREAD);
    if (err)
        vmm_say("vmm-server: our bell (notification) not bound (error %ld): no input, no "
                "power button", err);
    vmm.input = err == UK_OK;
}

/* Takes what the server has for us, as much as fits; returns how many bytes. */
static uk_word_t pull(void)
{
    uk_word_t total = 0;
    while (vmm.console && in_len < IN_MAX) {
        uk_word_t want = IN_MAX - in_len < UK_VDEV_BYTES_MAX ? IN_MAX - in_len : UK_VDEV_BYTES_MAX;
        struct uk_msg m = { .info = uk_msginfo(UK_CONSOLE_READ, 1, CONSOLE_TIMEOUT) };
        m.w[0] = want;
        if (console_call(&m) != 0) {
            in_more = 0;
            return total;
        }
        uk_word_t got = m.w[1] < want ? m.w[1] : want;
        if (uk_msg_len(m.info) < 2 + (got + 7) / 8)
            got = uk_msg_len(m.info) > 2 ? (uk_msg_len(m.info) - 2) * 8 : 0;   /* short: trust the words */
        for (uk_word_t k = 0; k < got; k++) {
            uk_word_t i = 2 + k / 8;
            uk_word_t w = uk_msg_word(&m, uk_ipc_buf, i);
            inbuf[in_len + k] = (unsigned char)(w >> (8 * (k % 8)));
        }
        in_len += got;
        total += got;
        if (got < want) {                /* that was all it had */
            in_more = 0;
            return total;
        }
    }
    in_more = vmm.console;
    return total;
}

void con_input_ready(void)
{
    if (vmm.console && pull())
        uk_signal(SLOT_CONSOLE_EV);      /* fails harmlessly while no guest runs */
}

void con_input_booted(void)
{
    if (in_len)
        uk_signal(SLOT_CONSOLE_EV);
}

uk_word_t con_read(unsigned char *buf, uk_word_t max)
{
    uk_word_t n = max < in_len ? max : in_len;
    memcpy(buf, inbuf, n);
    for (uk_word_t i = n; i < in_len; i++)
        inbuf[i - n] = inbuf[i];
    in_len -= n;
    if (in_more && pull())
        uk_signal(SLOT_CONSOLE_EV);      /* more for its next read */
    return n;
}
