/*
 * The network server's requests and its switch (servers/net/net.c
 * handle(), switch.c): clients (vmm-servers, for untrusted guests) choose
 * every word of a request, every byte of their window (the frame, its
 * source MAC, the receive ring's tail), and the wire (QEMU's network,
 * outside) every frame that comes up the uplink.  The input is a
 * sequence of steps: the root's control requests (add, remove, link),
 * clients' SEND, INFO, STATS and unknown requests, a client rewriting its
 * ring's tail to anything, and frames from the wire.  The clients' windows
 * are real memory at UK_NET_WINDOW(n), each followed by an inaccessible
 * page, so the server writing past a window faults.  Checked against the
 * rules written out here on their own (uk/net.h, docs/network.md):
 *  - every status is the documented one, in the documented order (EPERM
 *    for no client, then ENETDOWN, EINVAL short, EMSGSIZE long, EFAULT
 *    outside the window, EACCES for a source MAC that is not the port's);
 *    a refused frame goes nowhere and counts once, at its cause;
 *  - an accepted frame goes to the port of its destination if that is
 *    known (a client's MAC, or an address learnt from the wire), else to
 *    every other live port, never back to its sender; a client gets it in
 *    its ring, byte for byte, unless the ring is full (DROP_FULL) or its
 *    link down (DROP_DOWN); the wire gets it through nic_transmit;
 *  - the wire's frames never carry a client's or a group source address;
 *  - the counters move by exactly what happened.
 */
#include "fuzz.h"
#include <sys/mman.h>
#define main net_server_main     /* rt.h declares a program's main(bootinfo) */
#include <user/rt.h>
#include <user/virtio.h>
#include <uk/net.h>
#undef main

/* What the server would get from the kernel and the NIC driver. */
static unsigned char unmapped[UK_NET_PORTS][UK_NET_WINDOW_MAX / UK_PAGE_SIZE];
static unsigned signals, irq_acks;
uk_word_t virt_to_phys(const void *p)
{
    uk_word_t va = (uk_word_t)p;
    if (va < UK_NET_WINDOW(1) || va >= UK_NET_WINDOW(UK_NET_PORTS))
        return ~0ul;
    uk_word_t n = 1 + (va - UK_NET_WINDOW(1)) / UK_NET_WINDOW_MAX;
    uk_word_t page = (va - UK_NET_WINDOW(n)) / UK_PAGE_SIZE;
    return unmapped[n][page] ? ~0ul : 0x100000 + (va & 0xfffffff);
}
static long fake_signal(uk_word_t slot) { (void)slot; signals++; return 0; }
static long fake_irq_ack(uk_word_t slot) { (void)slot; irq_acks++; return 0; }
static long fake_notif_bind(uk_word_t n, uk_word_t t) { (void)n, (void)t; return 0; }
static long fake_recv(uk_word_t ep, struct uk_msg *m) { (void)ep, (void)m; return UK_E_TIMEOUT; }
#define uk_signal fake_signal
#define uk_irq_ack fake_irq_ack
#define uk_notif_bind fake_notif_bind
#define uk_recv fake_recv
#define uk_reply_recv fake_recv
#define main net_server_main
#include "../../servers/net/switch.c"
#include "../../servers/net/net.c"
#undef main

uk_word_t nic_mac = 0x525400123456ul;
static unsigned char wire_frame[UK_NET_FRAME_MAX];
static unsigned wire_len, wire_frames;
int nic_init(const struct uk_pci_dev *p) { (void)p; return 1; }
void nic_interrupt(void) {}
void nic_transmit(const unsigned char *f, unsigned len)
{
    CHECK(len <= UK_NET_FRAME_MAX);
    memcpy(wire_frame, f, len);
    wire_len = len;
    wire_frames++;
}

/* --- the model: what the root and the wire told the server ------------------ */
static struct {
    int live, up;
    uk_word_t mac, window;
} model[UK_NET_PORTS];
static uk_word_t from_wire[256];     /* source addresses the wire has used */
static unsigned nfrom_wire;
static int wire_evicted;             /* more than the switch can remember */

static struct uk_net_ring *ring_of(unsigned n) { return (struct uk_net_ring *)UK_NET_WINDOW(n); }

static int model_client_with(uk_word_t mac)
{
    for (unsigned p = 1; p < UK_NET_PORTS; p++)
        if (model[p].live && model[p].mac == mac)
            return (int)p;
    return -1;
}

static int seen_on_wire(uk_word_t mac)
{
    for (unsigned i = 0; i < nfrom_wire; i++)
        if (from_wire[i] == mac)
            return 1;
    return 0;
}


/* A MAC the input picks: a client's, the NIC's, broadcast, or any. */
static uk_word_t pick_mac(struct input *in)
{
    uk_word_t k = take(in, 1);
    if (k < 0x80)
        return model[1 + k % UK_NET_MAX_CLIENTS].mac;
    if (k < 0xa0)
        return UK_NET_MAC_MASK;                        /* broadcast */
    if (k < 0xc0 && nfrom_wire)
        return from_wire[k % nfrom_wire];
    if (k < 0xe0)
        return 0x020000000000ul | take(in, 1);         /* a few unicast ones */
    return take(in, 6);
}

/* --- one request through handle() ------------------------------------------ */
static long request(uk_word_t badge, uk_word_t op, uk_word_t len, uk_word_t w0, uk_word_t w1,
                    uk_word_t w2, struct uk_msg *r)
{
    struct uk_msg m = { .info = uk_msginfo(op, len, 0), .badge = badge };
    m.w[0] = w0;
    m.w[1] = w1;
    m.w[2] = w2;
    handle(&m, r);
    return (long)r->w[0];
}

struct snapshot {
    uk_word_t head[UK_NET_PORTS];
    uk_word_t c[UK_NET_PORTS][UK_NET_C_COUNT];
    unsigned wire_frames;
};

static void snap(struct snapshot *s)
{
    for (unsigned p = 0; p < UK_NET_PORTS; p++) {
        s->head[p] = ports[p].head;
        memcpy(s->c[p], ports[p].c, sizeof ports[p].c);
    }
    s->wire_frames = wire_frames;
}

/* How far counter c of port p moved since s. */
static uk_word_t moved(const struct snapshot *s, unsigned p, unsigned c)
{
    return ports[p].c[c] - s->c[p][c];
}

/* Port p got the frame f (or was right not to): by its link and ring. */
static void check_out(const struct snapshot *s, unsigned p, const unsigned char *f, unsigned len)
{
    if (!model[p].up) {
        CHECK(moved(s, p, UK_NET_C_DROP_DOWN) == 1);
        return;
    }
    if (p == UK_NET_UPLINK) {
        CHECK(wire_frames == s->wire_frames + 1);
        CHECK(wire_len == len && !memcmp(wire_frame, f, len));
        return;
    }
    struct uk_net_ring *r = ring_of(p);
    if (s->head[p] - r->tail >= UK_NET_RX_SLOTS) {
        CHECK(moved(s, p, UK_NET_C_DROP_FULL) == 1);
        CHECK(ports[p].head == s->head[p]);
        return;
    }
    CHECK(ports[p].head == s->head[p] + 1 && r->head == ports[p].head);
    unsigned slot = (unsigned)(s->head[p] % UK_NET_RX_SLOTS);
    CHECK(r->len[slot] == len);
    CHECK(!memcmp((unsigned char *)r + UK_NET_RX_DATA + slot * UK_NET_SLOT_BYTES, f, len));
    CHECK(moved(s, p, UK_NET_C_OUT_FRAMES) == 1 && moved(s, p, UK_NET_C_OUT_BYTES) == len);
}

/* Port p got nothing. */
static void check_nothing(const struct snapshot *s, unsigned p)
{
    CHECK(ports[p].head == s->head[p]);
    CHECK(!memcmp(s->c[p] + UK_NET_C_OUT_FRAMES, ports[p].c + UK_NET_C_OUT_FRAMES,
                  sizeof(uk_word_t)));
    if (p == UK_NET_UPLINK)
        CHECK(wire_frames == s->wire_frames);
}

/* Where an accepted frame from src to dst must go. */
static void check_forwarding(const struct snapshot *s, unsigned src, const unsigned char *f,
                             unsigned len)
{
    uk_word_t dst = uk_net_get_mac(f);
    int to = -1;
    if (!(dst & 1)) {
        to = model_client_with(dst);
        if (to < 0 && seen_on_wire(dst) && !wire_evicted)
            to = UK_NET_UPLINK;
        /* more wire addresses than the switch remembers: this one may be
         * forgotten (flooded) or not (to the wire only); which one, the
         * clients' rings tell */
        if (to < 0 && seen_on_wire(dst) && wire_evicted) {
            int flooded = 0;
            for (unsigned p = 1; p < UK_NET_PORTS; p++)
                flooded |= ports[p].head != s->head[p] || memcmp(ports[p].c, s->c[p], sizeof ports[p].c);
            if (!flooded)
                to = UK_NET_UPLINK;
        }
    }
    for (unsigned p = 0; p < UK_NET_PORTS; p++) {
        int gets = to >= 0 ? (unsigned)to == p && p != src : p != src && model[p].live;
        if (gets)
            check_out(s, p, f, len);
        else
            check_nothing(s, p);
    }
}

/* --- the steps ------------------------------------------------------------------ */
static void step_add(struct input *in)
{
    uk_word_t n = take(in, 1) % (UK_NET_PORTS + 1);
    uk_word_t mac = take(in, 1) < 0xe0 ? 0x020000000000ul | (n << 8) | take(in, 1) : take(in, 8);
    uk_word_t k = take(in, 1);
    uk_word_t bytes = k < 0xe0 ? UK_NET_WINDOW_MIN + (k % 32) * UK_PAGE_SIZE : take(in, 4);
    /* the root maps the window (some pages left out: then the add is refused) */
    int hole = take(in, 1) >= 0xf0;
    if (n >= 1 && n < UK_NET_PORTS && !model[n].live) {
        for (unsigned pg = 0; pg < UK_NET_WINDOW_MAX / UK_PAGE_SIZE; pg++)
            unmapped[n][pg] = pg * UK_PAGE_SIZE >= bytes || (hole && pg == bytes / UK_PAGE_SIZE / 2);
        uk_word_t map = bytes < UK_NET_WINDOW_MAX ? bytes & ~(UK_PAGE_SIZE - 1) : UK_NET_WINDOW_MAX;
        mprotect((void *)UK_NET_WINDOW(n), UK_NET_WINDOW_MAX, PROT_NONE);
        mprotect((void *)UK_NET_WINDOW(n), map, PROT_READ | PROT_WRITE);
    }
    struct uk_msg r;
    long st = request(0, UK_NET_CTL_ADD_CLIENT, 3, n, mac, bytes, &r);
    long want = n < 1 || n > UK_NET_MAX_CLIENTS || model[n].live || mac == 0 ||
                mac & ~UK_NET_MAC_MASK || mac & 1 || model_client_with(mac) >= 0 ||
                bytes % UK_PAGE_SIZE || bytes < UK_NET_WINDOW_MIN || bytes > UK_NET_WINDOW_MAX
                ? UK_NET_EINVAL : hole ? UK_NET_EFAULT : UK_NET_OK;
    CHECK(st == want);
    if (st == UK_NET_OK) {
        model[n] = (typeof(model[n])){ 1, 1, mac, bytes };
        CHECK(ports[n].head == ring_of((unsigned)n)->head);   /* a reconnect keeps its ring */
    }
}

static void step_remove(struct input *in)
{
    uk_word_t n = take(in, 1) % (UK_NET_PORTS + 1);
    struct uk_msg r;
    long st = request(0, UK_NET_CTL_REMOVE_CLIENT, 1, n, 0, 0, &r);
    CHECK(st == (n >= 1 && n <= UK_NET_MAX_CLIENTS && model[n].live ? UK_NET_OK : UK_NET_EINVAL));
    if (st == UK_NET_OK)
        model[n].live = 0;
}

static void step_link(struct input *in)
{
    uk_word_t n = take(in, 1) % (UK_NET_PORTS + 1), up = take(in, 1) % 3;
    struct uk_msg r;
    long st = request(0, UK_NET_CTL_LINK, 2, n, up, 0, &r);
    int ok = n < UK_NET_PORTS && (n == UK_NET_UPLINK || model[n].live) && up <= 1;
    CHECK(st == (ok ? UK_NET_OK : UK_NET_EINVAL));
    if (ok)
        model[n].up = (int)up;
}

/* A SEND from client n: the frame is written into its window first. */
static void step_send(struct input *in)
{
    uk_word_t n = take(in, 1) % (UK_NET_PORTS + 1);
    uk_word_t k = take(in, 1);
    uk_word_t flen = k < 0xc0 ? UK_NET_ETH_HDR + take(in, 1) % 100
                   : k < 0xe0 ? UK_NET_FRAME_MAX - 2 + k % 4 : take(in, 2);
    uk_word_t off = take(in, 1) < 0xe0 ? UK_NET_TX_AREA + take(in, 1) : take(in, 4);
    uk_word_t words = take(in, 1) < 0xf8 ? 2 : take(in, 1) % 5;
    unsigned char f[UK_NET_FRAME_MAX];
    memset(f, 0, sizeof f);
    uk_net_put_mac(f, pick_mac(in));
    uk_net_put_mac(f + 6, take(in, 1) < 0xd0 && n >= 1 && n < UK_NET_PORTS ? model[n].mac : pick_mac(in));
    for (unsigned i = 12; i < 12 + 16 && i < sizeof f; i++)
        f[i] = (unsigned char)take(in, 1);
    int inside = n >= 1 && n <= UK_NET_MAX_CLIENTS && model[n].live &&
                 off <= model[n].window && flen <= model[n].window - off;
    if (inside && flen <= UK_NET_FRAME_MAX)
        memcpy((void *)(UK_NET_WINDOW(n) + off), f, flen);
    struct snapshot s;
    snap(&s);
    struct uk_msg r;
    long st = request(n, UK_NET_OP_SEND, words, off, flen, 0, &r);
    long want;
    unsigned cause = UK_NET_C_COUNT;
    if (n == 0)
        want = UK_NET_EINVAL;                /* badge 0 is the root: no such control */
    else if (n > UK_NET_MAX_CLIENTS || !model[n].live)
        want = UK_NET_EPERM;
    else if (words != 2)
        want = UK_NET_EINVAL;
    else if (!model[n].up)
        want = UK_NET_ENETDOWN, cause = UK_NET_C_DROP_DOWN;
    else if (flen < UK_NET_ETH_HDR)
        want = UK_NET_EINVAL, cause = UK_NET_C_DROP_SHORT;
    else if (flen > UK_NET_FRAME_MAX)
        want = UK_NET_EMSGSIZE, cause = UK_NET_C_DROP_LONG;
    else if (!inside)
        want = UK_NET_EFAULT, cause = UK_NET_C_DROP_FAULT;
    else if (uk_net_get_mac(f + 6) != model[n].mac)
        want = UK_NET_EACCES, cause = UK_NET_C_DROP_SPOOF;
    else
        want = UK_NET_OK;
    CHECK(st == want);
    if (n == 0 || want == UK_NET_EPERM)
        return;
    if (want != UK_NET_OK) {
        for (unsigned p = 0; p < UK_NET_PORTS; p++)
            check_nothing(&s, p);
        for (unsigned c = 0; c < UK_NET_C_COUNT; c++)
            CHECK(moved(&s, (unsigned)n, c) == (c == cause));
        return;
    }
    CHECK(moved(&s, (unsigned)n, UK_NET_C_IN_FRAMES) == 1);
    CHECK(moved(&s, (unsigned)n, UK_NET_C_IN_BYTES) == flen);
    check_forwarding(&s, (unsigned)n, f, (unsigned)flen);
}

/* A frame from the wire, as nic.c hands it over. */
static void step_wire(struct input *in)
{
    unsigned char f[UK_NET_FRAME_MAX];
    memset(f, 0, sizeof f);
    uk_word_t flen = UK_NET_ETH_HDR + take(in, 1) % 64;
    uk_net_put_mac(f, pick_mac(in));
    uk_word_t from = take(in, 1) < 0xc0 ? 0x5254000000ul << 8 | take(in, 1) : pick_mac(in);
    uk_net_put_mac(f + 6, from);
    struct snapshot s;
    snap(&s);
    if (check_in(UK_NET_UPLINK, flen) != UK_NET_OK) {
        CHECK(!model[0].up);
        return;
    }
    long st = switch_frame(UK_NET_UPLINK, f, (unsigned)flen);
    int spoof = (from & 1) || model_client_with(from) >= 0;
    CHECK(st == (spoof ? UK_NET_EACCES : UK_NET_OK));
    if (spoof) {
        CHECK(moved(&s, 0, UK_NET_C_DROP_SPOOF) == 1);
        for (unsigned p = 0; p < UK_NET_PORTS; p++)
            check_nothing(&s, p);
        return;
    }
    if (!seen_on_wire(from)) {
        if (nfrom_wire < sizeof from_wire / sizeof from_wire[0])
            from_wire[nfrom_wire++] = from;
        if (nfrom_wire > LEARN_MAX)
            wire_evicted = 1;
    }
    check_forwarding(&s, UK_NET_UPLINK, f, (unsigned)flen);
}

static void step_tail(struct input *in)
{
    unsigned n = 1 + (unsigned)take(in, 1) % UK_NET_MAX_CLIENTS;
    if (!model[n].live)
        return;
    struct uk_net_ring *r = ring_of(n);
    uk_word_t k = take(in, 1);
    r->tail = k < 0x80 ? r->head : k < 0xc0 ? r->head - k % 40 : take(in, 8);
}

static void step_other(struct input *in)
{
    uk_word_t n = take(in, 1) % (UK_NET_PORTS + 1), op = take(in, 1) % 8, len = take(in, 1) % 4;
    uk_word_t w0 = take(in, 1) < 0xf0 ? take(in, 1) % 16 : take(in, 8);
    struct uk_msg r;
    if (n == 0)
        return;                                         /* the root: step_add etc. */
    long st = request(n, op, len, w0, 0, 0, &r);
    int client = n <= UK_NET_MAX_CLIENTS && model[n].live;
    if (!client || op >= UK_NET_CTL_ADD_CLIENT) {
        CHECK(st == UK_NET_EPERM);
    } else if (op == UK_NET_OP_INFO) {
        CHECK(st == UK_NET_OK && r.w[1] == model[n].mac && r.w[2] == model[n].window);
        CHECK(r.w[3] == (model[n].up ? UK_NET_F_LINK_UP : 0));
    } else if (op == UK_NET_OP_STATS) {
        CHECK(st == (len == 1 && w0 < UK_NET_C_COUNT ? UK_NET_OK : UK_NET_EINVAL));
        if (st == UK_NET_OK)
            for (unsigned i = 0; i < 3; i++)
                CHECK(r.w[1 + i] == (w0 + i < UK_NET_C_COUNT ? ports[n].c[w0 + i] : 0));
    } else if (op != UK_NET_OP_SEND) {
        CHECK(st == UK_NET_EINVAL);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int mapped;
    if (!mapped) {
        void *p = mmap((void *)UK_NET_WINDOW(1), UK_NET_MAX_CLIENTS * UK_NET_WINDOW_MAX, PROT_NONE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
        CHECK(p == (void *)UK_NET_WINDOW(1));
        mapped = 1;
    }
    /* a fresh server: ports and learnt addresses forgotten, windows cleared */
    memset(ports, 0, sizeof ports);
    memset(learnt, 0, sizeof learnt);
    clock = 0;
    memset(model, 0, sizeof model);
    nfrom_wire = 0;
    wire_evicted = 0;
    for (unsigned n = 1; n < UK_NET_PORTS; n++) {
        mprotect((void *)UK_NET_WINDOW(n), UK_PAGE_SIZE, PROT_READ | PROT_WRITE);
        memset((void *)UK_NET_WINDOW(n), 0, UK_PAGE_SIZE);
        mprotect((void *)UK_NET_WINDOW(n), UK_NET_WINDOW_MAX, PROT_NONE);
    }
    struct input in = { data, size };
    ports[UK_NET_UPLINK].live = model[0].live = 1;   /* the NIC in service */
    ports[UK_NET_UPLINK].up = model[0].up = 1;
    for (unsigned steps = 0; in.n && steps < 64; steps++) {
        switch (take(&in, 1) % 8) {
        case 0: step_add(&in); break;
        case 1: step_remove(&in); break;
        case 2: step_link(&in); break;
        case 3: case 4: step_send(&in); break;
        case 5: step_wire(&in); break;
        case 6: step_tail(&in); break;
        default: step_other(&in); break;
        }
    }
    return 0;
}
