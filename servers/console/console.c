/*
 * The console server (docs/vmm-server.md): owns a UART (COM1: ports
 * 0x3f8-0x3ff, IRQ 4; or COM2: 0x2f8-0x2ff, IRQ 3) and shares it between its
 * clients, one per guest.  Which one: main's argument (rdi) is its first
 * port (0: COM1; uk/abi.h UK_CONSOLE_COM_*); its caps say what it may touch.
 * Started by the root task with its caps in the slots UK_CONSOLE_SLOT_*
 * (uk/abi.h); requests
 * UK_CONSOLE_* on its endpoint, the client named by the badge.
 *
 * One thread, one loop: the IRQ notification is bound to the thread, so a
 * receive on the endpoint returns requests and interrupts alike.  It never
 * waits for a client: each request is answered at once (uk_reply, which
 * cannot block), input is announced by signalling the client's
 * notification.  Output is polled: whole lines written through the
 * I/O-port cap, up to 16 bytes (the FIFO) each time THR is empty.  After
 * every request or interrupt one round of queued lines goes out (one per
 * client); while lines wait it only polls the endpoint (timeout 0), so
 * requests are answered between lines.  The line discipline is ldisc.c.
 */
#include <user/rt.h>
#include "ldisc.h"

#define EP     UK_CONSOLE_SLOT_EP
#define PORTS  UK_CONSOLE_SLOT_PORTS
#define IRQ    UK_CONSOLE_SLOT_IRQ
#define IRQN   UK_CONSOLE_SLOT_IRQ_NOTIF

#define UART_DATA (uart + 0)   /* THR / RBR */
#define UART_IER  (uart + 1)
#define UART_FCR  (uart + 2)
#define UART_MCR  (uart + 4)
#define UART_LSR  (uart + 5)
#define IER_RDA   0x01         /* interrupt when received data is available */
#define FCR_FIFO  0x01         /* FIFOs on (already: no flush), trigger at 1 byte */
#define MCR_OUT2  0x0b         /* DTR, RTS, OUT2 (the interrupt line) */
#define LSR_DR    0x01
#define LSR_THRE  0x20
#define UART_FIFO 16

#define PARTIAL_IDLE_US 20000  /* the focused client's partial line shows after this */
#define RX_BATCH        4096   /* bytes read per interrupt at most */

static struct con con;
static uk_word_t uart;         /* its first I/O port */
static char uart_name[8];      /* "COM1", "COM2": for our messages */
static int uart_broken;        /* the port cap does not work: output dropped */
static int rx_again;           /* the UART had bytes after the ack: look again */

static void say(const char *what, long err)
{
    printf("console-server: %s (error %ld)\n", what, err);
}

static void say_uart(const char *what, long err)
{
    printf("console-server: %s %s (error %ld)\n", uart_name, what, err);
}

/* --- the UART ------------------------------------------------------------------ */

static int uart_in(uk_word_t port, uk_word_t *v)
{
    long err = uk_inb(PORTS, port, v);
    if (err && !uart_broken) {
        uart_broken = 1;
        say_uart("not readable: output and input off", err);
    }
    return err == UK_OK;
}

static void uart_out(uk_word_t port, uk_word_t v)
{
    long err = uk_out(PORTS, port, 1, v);
    if (err && !uart_broken) {
        uart_broken = 1;
        say_uart("not writable: output and input off", err);
    }
}

/* Polled: wait (bounded, as the kernel's own log does) until the transmit
 * FIFO is empty, fill it, again. */
static void uart_write(void *ctx, const unsigned char *s, unsigned n)
{
    (void)ctx;
    while (n && !uart_broken) {
        uk_word_t lsr = 0;
        for (int i = 0; i < 100000; i++)
            if (!uart_in(UART_LSR, &lsr) || (lsr & LSR_THRE))
                break;
        unsigned chunk = n < UART_FIFO ? n : UART_FIFO;
        for (unsigned i = 0; i < chunk; i++)
            uart_out(UART_DATA, s[i]);
        s += chunk;
        n -= chunk;
    }
}

/* Its IRQ (COM1: 4): what the UART has (up to RX_BATCH bytes), into the line
 * discipline; the line is unmasked; the clients that got bytes hear of it.
 *
 * The ISA IRQs of the UARTs are edge-triggered and the kernel masks the line until the ack: a
 * byte that comes after our last read but before the ack raises the line
 * while it is masked, and the IOAPIC drops that edge.  The line then
 * stays high with no interrupt to come.  So after the ack we look again,
 * and while bytes are there the loop comes back here (rx_again) instead of
 * waiting for an interrupt. */
static void uart_receive(void)
{
    unsigned got = 0;   /* bit n: client n got input */
    uk_word_t lsr = 0, b = 0;
    for (int i = 0; i < RX_BATCH && !uart_broken; i++) {
        if (!uart_in(UART_LSR, &lsr) || !(lsr & LSR_DR))
            break;
        if (!uart_in(UART_DATA, &b))
            break;
        got |= 1u << con_input(&con, (unsigned char)b);
    }
    uk_irq_ack(IRQ);
    rx_again = !uart_broken && uart_in(UART_LSR, &lsr) && (lsr & LSR_DR);
    for (unsigned n = 1; n <= UK_CONSOLE_MAX_CLIENTS; n++)
        if (got & (1u << n))
            uk_signal(UK_CONSOLE_SLOT_CLIENT0 + n - 1);   /* an empty slot: nobody to tell */
}

/* --- requests ------------------------------------------------------------------ */

/* Message word i: 0-3 in registers, the rest in the IPC buffer. */
static uk_word_t word(const struct uk_msg *m, unsigned i)
{
    return uk_msg_word(m, uk_ipc_buf, i);
}

static void set_word(struct uk_msg *m, unsigned i, uk_word_t v)
{
    uk_msg_set_word(m, uk_ipc_buf, i, v);
}

static unsigned char byte_at(const struct uk_msg *m, unsigned first_word, unsigned k)
{
    return (unsigned char)(word(m, first_word + k / 8) >> (8 * (k % 8)));
}

static int client_ok(uk_word_t n)
{
    return n >= 1 && n <= UK_CONSOLE_MAX_CLIENTS && con.cl[n].used;
}

/* Handles one request; fills the reply (info and words) in m. */
static void serve(struct uk_msg *m)
{
    uk_word_t op = uk_msg_label(m->info), len = uk_msg_len(m->info), badge = m->badge;
    long status = 0;
    unsigned rlen = 1;

    switch (op) {
    case UK_CONSOLE_ADD_CLIENT: {
        uk_word_t n = m->w[0];
        char name[UK_CONSOLE_NAME_MAX + 2];
        unsigned k = 0;
        if (badge != 0) {
            status = UK_VDEV_EPERM;
            break;
        }
        if (len < 2 || n < 1 || n > UK_CONSOLE_MAX_CLIENTS) {
            status = UK_VDEV_EINVAL;
            break;
        }
        for (; k < UK_CONSOLE_NAME_MAX + 1 && k < (len - 1) * 8; k++)
            if (!(name[k] = (char)byte_at(m, 1, k)))
                break;
        name[k] = 0;
        /* a notification in its slot, or none; anything else is a mistake */
        uk_word_t type = UK_CAP_NULL, rights = 0;
        uk_cap_info(UK_CONSOLE_SLOT_CLIENT0 + n - 1, &type, &rights, 0);
        if (!con_name_ok(name) ||
            (type != UK_CAP_NULL && (type != UK_CAP_NOTIFICATION || !(rights & UK_R_WRITE)))) {
            status = UK_VDEV_EINVAL;
            break;
        }
        con_add(&con, (unsigned)n, name);
        break;
    }
    case UK_CONSOLE_REMOVE_CLIENT:
    case UK_CONSOLE_FOCUS:
        if (badge != 0)
            status = UK_VDEV_EPERM;
        else if (len < 1 || !client_ok(m->w[0]))
            status = UK_VDEV_EINVAL;
        else if (op == UK_CONSOLE_FOCUS)
            con_focus(&con, (unsigned)m->w[0]);
        else
            con_remove(&con, (unsigned)m->w[0]);
        break;
    case UK_CONSOLE_WRITE: {
        uk_word_t count = m->w[0];
        unsigned char bytes[UK_VDEV_BYTES_MAX];
        if (!client_ok(badge)) {
            status = UK_VDEV_EPERM;
            break;
        }
        if (len < 1 || count > UK_VDEV_BYTES_MAX) {
            status = UK_VDEV_EINVAL;
            break;
        }
        if (len < 1 + (count + 7) / 8) {
            status = UK_VDEV_EFAULT;
            break;
        }
        for (unsigned k = 0; k < count; k++)
            bytes[k] = byte_at(m, 1, k);
        con_write(&con, (unsigned)badge, bytes, (unsigned)count);
        m->w[1] = count;
        m->w[2] = con.cl[badge].lines_lost;
        rlen = 3;
        break;
    }
    case UK_CONSOLE_READ: {
        unsigned char bytes[UK_VDEV_BYTES_MAX];
        if (!client_ok(badge)) {
            status = UK_VDEV_EPERM;
            break;
        }
        if (len < 1) {
            status = UK_VDEV_EINVAL;
            break;
        }
        uk_word_t max = m->w[0] < UK_VDEV_BYTES_MAX ? m->w[0] : UK_VDEV_BYTES_MAX;
        unsigned got = con_read(&con, (unsigned)badge, bytes, (unsigned)max);
        for (unsigned w = 0; w < (got + 7) / 8; w++) {
            uk_word_t v = 0;
            for (unsigned k = 0; k < 8 && w * 8 + k < got; k++)
                v |= (uk_word_t)bytes[w * 8 + k] << (8 * k);
            set_word(m, 2 + w, v);
        }
        m->w[1] = got;
        rlen = 2 + (got + 7) / 8;
        break;
    }
    case UK_CONSOLE_INFO: {
        uk_word_t n = badge;
        if (badge == 0)
            n = len >= 1 ? m->w[0] : 0;
        if (badge == 0 && n == 0) {              /* the server's own totals */
            uk_word_t sum[5] = { 0 };
            for (unsigned c = 1; c <= UK_CONSOLE_MAX_CLIENTS; c++) {
                const struct con_client *k = &con.cl[c];
                if (!k->used)
                    continue;
                sum[0] += k->written;
                sum[1] += k->lines_out;
                sum[2] += k->lines_lost;
                sum[3] += k->oq_lines;
                sum[4] += k->in_lost;
            }
            m->w[1] = sum[0];
            m->w[2] = sum[1];
            m->w[3] = sum[2];
            set_word(m, 4, sum[3]);
            set_word(m, 5, sum[4] + con.in_lost);
            set_word(m, 6, con.focus);
            rlen = 7;
            break;
        }
        if (!client_ok(n)) {
            status = badge ? UK_VDEV_EPERM : UK_VDEV_EINVAL;
            break;
        }
        const struct con_client *k = &con.cl[n];
        m->w[1] = k->written;
        m->w[2] = k->lines_out;
        m->w[3] = k->lines_lost;
        set_word(m, 4, k->iq_len);
        set_word(m, 5, k->in_lost);
        set_word(m, 6, con.focus);
        rlen = 7;
        break;
    }
    default:
        status = UK_VDEV_EINVAL;
        break;
    }
    m->w[0] = (uk_word_t)status;
    m->info = uk_msginfo(0, status ? 1 : rlen, 0);
}

/* --- start-up and the loop --------------------------------------------------- */

static void uart_setup(void)
{
    long err;
    uk_word_t lsr = 0, b = 0;
    if ((err = uk_inb(PORTS, UART_LSR, &lsr)) != UK_OK) {
        uart_broken = 1;
        say_uart("ports not in slot UK_CONSOLE_SLOT_PORTS: output and input off", err);
        return;
    }
    if (lsr == 0xff) {                           /* no UART answers there */
        uart_broken = 1;
        say_uart("absent (its status reads 0xff): output and input off", UK_E_INVAL);
        return;
    }
    uart_out(UART_FCR, FCR_FIFO);
    uart_out(UART_MCR, MCR_OUT2);
    /* interrupts: the line to our notification, the notification to us */
    if ((err = uk_irq_bind(IRQ, IRQN)) != UK_OK) {
        say_uart("IRQ not bound: no input", err);
        return;
    }
    if ((err = uk_notif_bind(IRQN, UK_SLOT_SELF_THREAD)) != UK_OK) {
        say("IRQ notification not bound to the thread: no input", err);
        return;
    }
    for (int i = 0; i < UART_FIFO && uart_in(UART_LSR, &lsr) && (lsr & LSR_DR); i++)
        uart_in(UART_DATA, &b);                  /* stale bytes: nobody's */
    uart_out(UART_IER, IER_RDA);
    rx_again = 1;                                /* whatever came meanwhile */
}

int main(const struct uk_bootinfo *arg)
{
    uart = (uk_word_t)arg ? (uk_word_t)arg : UK_CONSOLE_COM_PORT(1);   /* a port, not a pointer */
    snprintf(uart_name, sizeof uart_name, "COM%d", uart == UK_CONSOLE_COM_PORT(2) ? 2 : 1);
    con_init(&con, uart_write, 0);
    uart_setup();
    con_notice(&con, "console server: Ctrl-T 1-9 gives the input to a guest");

    struct uk_msg m;
    for (;;) {
        uk_word_t timeout = UK_TIMEOUT_INFINITE;
        if (rx_again)
            uart_receive();
        if (con_output_pending(&con) || rx_again)
            timeout = UK_TIMEOUT_ZERO;
        else if (con_partial_pending(&con))
            timeout = uk_timeout_us(PARTIAL_IDLE_US);
        m.info = uk_msginfo(0, 0, timeout);
        long err = uk_recv(EP, &m);
        if (err == UK_E_TIMEOUT) {
            if (con_output_pending(&con))
                con_pump(&con);
            else if (!rx_again)
                con_show_partial(&con);
            continue;
        }
        if (err == UK_E_CANCELLED)               /* suspended and resumed meanwhile */
            continue;
        if (err != UK_OK) {
            say("cannot receive on UK_CONSOLE_SLOT_EP: stopping", err);
            for (;;)
                uk_thread_suspend(UK_SLOT_SELF_THREAD);
        }
        if (uk_msg_flags(m.info) & UK_MSGF_NOTIFY) {
            uart_receive();
        } else if (uk_msg_flags(m.info) & UK_MSGF_FAULT) {
            /* someone made our endpoint its fault endpoint: keep it stopped
             * (resuming would fault again, for ever) */
            m.info = uk_msginfo(UK_FAULT_REPLY_STOP, 0, 0);
            uk_reply(&m);
        } else {
            serve(&m);
            uk_reply(&m);                        /* a SEND has nobody to reply to: fine */
        }
        con_pump(&con);
    }
}
