/*
 * The console server's line discipline (servers/console/ldisc.c): what a
 * guest writes and what is typed reach it unfiltered.  The input is a
 * program of operations, as the server makes them (console.c: clients
 * added with names con_name_ok accepts; writes, reads, focus and removal
 * only for clients that exist): add, remove, write bytes, type bytes,
 * pump, show the partial line, read, focus.  Checked, on everything that
 * reaches the UART:
 *  - one write is at most CON_OUT_MAX bytes;
 *  - every line starts with a label "[name] " of a client that exists
 *    (or "[console] "): no guest can start a line of its own or forge
 *    another's; a line the line discipline thinks closed is closed on the
 *    UART, and an open one is its client's;
 *  - '\r' and '\n' come only as "\r\n"; no other control byte but tab,
 *    backspace and ESC; no DEL;
 *  - the text under a client's label (and its continuations) is its own:
 *    a subsequence of the bytes it wrote (with '?' for the control bytes
 *    shown so), in order; nothing of another client's, nothing invented;
 * and on the state after every operation:
 *  - each input byte went to the focused client, or was counted lost:
 *    what a client reads is exactly what a model ring of CON_INQ_BYTES
 *    holds (same bytes, same order, same losses);
 *  - every line a client completed (a model of the assembly: '\n', a cut
 *    at CON_LINE_MAX, no empty line after a cut) is printed, queued or
 *    counted lost: lines_out + lines_lost + oq_lines;
 *  - the queues stay within their rings.
 */
#include "fuzz.h"
#include "../../servers/console/ldisc.c"

#define MAXC UK_CONSOLE_MAX_CLIENTS

static struct con C;

/* the UART: where a line starts and whose label it has */
static int at_line_start;
static int in_label;             /* inside "[name" */
static char label[UK_CONSOLE_NAME_MAX + 2];
static unsigned label_len;
static int after_label;          /* the ']' came: a ' ' next */
static int after_cr;

static unsigned owner;           /* the client whose line is on the UART (0: the server's) */

/* what each client wrote since it was added, as it may be shown: '\r' and
 * '\n' left out, control bytes as '?' */
struct shown {
    unsigned char *b;
    size_t n, at;                /* at: how far the UART's text has matched */
};
static struct shown W[MAXC + 1];

static int label_known(void)
{
    label[label_len] = 0;
    if (!strcmp(label, UK_CONSOLE_OWN_LABEL)) {
        owner = 0;
        return 1;
    }
    for (unsigned n = 1; n <= MAXC; n++)
        if (C.cl[n].used && !strcmp(C.cl[n].name, label)) {
            owner = n;
            return 1;
        }
    return 0;
}

/* A text byte of the owner's on the UART: the next of its bytes that matches. */
static void text_byte(unsigned char b)
{
    if (owner == 0)
        return;
    struct shown *w = &W[owner];
    while (w->at < w->n && w->b[w->at] != b)
        w->at++;
    CHECK(w->at < w->n);         /* not a byte it wrote (or not in its order) */
    w->at++;
}

static int trace = -1;            /* FUZZ_TRACE set: print the operations and the UART */

static void uart(void *ctx, const unsigned char *s, unsigned n)
{
    (void)ctx;
    if (trace)
        fprintf(stderr, "  uart \"%.*s\"\n", (int)n, s);
    CHECK(n <= CON_OUT_MAX);
    for (unsigned i = 0; i < n; i++) {
        unsigned char b = s[i];
        CHECK(b != 0x7f && (b >= 0x20 || b == '\t' || b == '\b' || b == 0x1b || b == '\r' ||
                            b == '\n'));
        if (after_cr) {
            CHECK(b == '\n');
            after_cr = 0;
            at_line_start = 1;
            continue;
        }
        CHECK(b != '\n');
        if (b == '\r') {
            CHECK(!at_line_start && !in_label && !after_label);   /* no empty, unlabelled line */
            after_cr = 1;
            continue;
        }
        if (at_line_start) {
            CHECK(b == '[');
            at_line_start = 0;
            in_label = 1;
            label_len = 0;
        } else if (in_label) {
            if (b == ']') {
                CHECK(label_known());
                in_label = 0;
                after_label = 1;
            } else {
                CHECK(label_len < UK_CONSOLE_NAME_MAX);
                label[label_len++] = (char)b;
            }
        } else if (after_label) {
            CHECK(b == ' ');
            after_label = 0;
        } else {
            text_byte(b);
        }
    }
}

/* the models */
struct model {
    unsigned char in[CON_INQ_BYTES];
    unsigned in_head, in_len;
    uk_word_t in_lost;
    unsigned line_len;           /* bytes of the line being assembled */
    int cut;
    uk_word_t lines;             /* completed since it was added */
};
static struct model M[MAXC + 1];
static uk_word_t nobody_lost;

static void model_write(struct model *m, const unsigned char *s, unsigned len)
{
    for (unsigned i = 0; i < len; i++) {
        if (s[i] == '\r')
            continue;
        if (s[i] == '\n') {
            if (!(m->cut && !m->line_len)) {
                m->lines++;
                m->line_len = 0;
            }
            m->cut = 0;
            continue;
        }
        m->cut = 0;
        if (++m->line_len == CON_LINE_MAX) {
            m->lines++;
            m->line_len = 0;
            m->cut = 1;
        }
    }
}

/* unique, as the root task makes them (roottask/modules.c), and some the
 * server refuses */
static const char *const names[] = { "g1", "g2", "web-1", "[x", "console", "a",
                                     "abcdefghijabcdefghijabcdefghija", "" };

static void check_state(void)
{
    CHECK(C.focus >= 1 && C.focus <= MAXC && C.rr < MAXC && C.open <= MAXC);
    /* the line discipline's idea of an open line is the UART's */
    CHECK(!after_cr && !in_label && !after_label);
    CHECK((C.open == 0) == at_line_start);
    CHECK(C.open == 0 || C.open == owner);
    CHECK(C.in_lost == nobody_lost);
    for (unsigned n = 1; n <= MAXC; n++) {
        const struct con_client *k = &C.cl[n];
        const struct model *m = &M[n];
        if (!k->used)
            continue;
        CHECK(k->line_len < CON_LINE_MAX && k->line_len == m->line_len);
        CHECK(k->oq_len <= CON_OUTQ_BYTES && k->oq_head < CON_OUTQ_BYTES);
        CHECK(k->oq_lines <= k->oq_len && (k->oq_lines == 0) == (k->oq_len == 0));
        CHECK(k->iq_len == m->in_len && k->iq_head < CON_INQ_BYTES);
        CHECK(k->in_lost == m->in_lost);
        CHECK(k->lines_out + k->lines_lost + k->oq_lines == m->lines);
        CHECK(k->lost_reported <= k->lines_lost);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = { data, size };
    if (trace < 0)
        trace = getenv("FUZZ_TRACE") != 0;
    con_init(&C, uart, 0);
    memset(M, 0, sizeof M);
    for (unsigned n = 0; n <= MAXC; n++) {
        free(W[n].b);
        W[n].b = malloc(size + 1);   /* a client writes fewer bytes than the input has */
        W[n].n = W[n].at = 0;
    }
    owner = 0;
    nobody_lost = 0;
    at_line_start = 1;
    in_label = after_label = after_cr = 0;
    while (in.n) {
        unsigned op = (unsigned)take(&in, 1) % 9;
        unsigned n = 1 + (unsigned)take(&in, 1) % MAXC;
        if (trace)
            fprintf(stderr, "op %u client %u\n", op, n);
        struct con_client *k = &C.cl[n];
        switch (op) {
        case 0: {                                       /* ADD_CLIENT */
            const char *name = names[take(&in, 1) % (sizeof names / sizeof names[0])];
            if (!con_name_ok(name))
                break;
            int was = k->used;
            int taken = 0;
            for (unsigned j = 1; j <= MAXC; j++)
                taken |= j != n && C.cl[j].used && !strcmp(C.cl[j].name, name);
            if (taken)
                break;
            con_add(&C, n, name);
            if (!was) {
                memset(&M[n], 0, sizeof M[n]);
                W[n].n = W[n].at = 0;
            }
            CHECK(k->used && !strcmp(k->name, name));
            break;
        }
        case 1:                                         /* REMOVE_CLIENT */
            if (!k->used)
                break;
            con_remove(&C, n);
            CHECK(!k->used);
            break;
        case 2: {                                       /* WRITE */
            unsigned len = (unsigned)take(&in, 2) % (UK_VDEV_BYTES_MAX + 1);
            if (len > in.n)
                len = (unsigned)in.n;
            if (!k->used)
                break;
            uk_word_t before = k->written;
            con_write(&C, n, in.p, len);
            model_write(&M[n], in.p, len);
            for (unsigned i = 0; i < len; i++) {
                unsigned char b = in.p[i];
                if (b == '\r' || b == '\n')
                    continue;
                W[n].b[W[n].n++] = (b < 0x20 && b != '\t' && b != '\b' && b != 0x1b) ||
                                   b == 0x7f ? '?' : b;
            }
            CHECK(k->written == before + len);
            in.p += len;
            in.n -= len;
            break;
        }
        case 3: {                                       /* typed bytes */
            unsigned len = 1 + (unsigned)take(&in, 1) % 8;
            for (unsigned i = 0; i < len && in.n; i++) {
                unsigned char b = (unsigned char)take(&in, 1);
                int ctrl_t = C.ctrl_t;
                unsigned focus = C.focus;
                unsigned to = con_input(&C, b);
                if (ctrl_t ? b != CON_CTRL_T : b == CON_CTRL_T) {
                    CHECK(to == 0);              /* a command, not input */
                    continue;
                }
                CHECK(C.focus == focus);
                struct model *m = &M[focus];
                if (!C.cl[focus].used) {
                    CHECK(to == 0);
                    nobody_lost++;
                } else if (m->in_len == CON_INQ_BYTES) {
                    CHECK(to == 0);
                    m->in_lost++;
                } else {
                    CHECK(to == focus);
                    m->in[(m->in_head + m->in_len++) % CON_INQ_BYTES] = b;
                }
            }
            break;
        }
        case 4:
            con_pump(&C);
            break;
        case 5:
            con_show_partial(&C);
            break;
        case 6: {                                       /* READ */
            unsigned char buf[UK_VDEV_BYTES_MAX];
            unsigned max = (unsigned)take(&in, 2) % (UK_VDEV_BYTES_MAX + 1);
            if (!k->used)
                break;
            unsigned got = con_read(&C, n, buf, max);
            struct model *m = &M[n];
            CHECK(got == (max < m->in_len ? max : m->in_len));
            for (unsigned i = 0; i < got; i++) {
                CHECK(buf[i] == m->in[m->in_head]);
                m->in_head = (m->in_head + 1) % CON_INQ_BYTES;
                m->in_len--;
            }
            break;
        }
        case 7:                                         /* FOCUS */
            if (k->used) {
                con_focus(&C, n);
                CHECK(C.focus == n);
            }
            break;
        case 8:                                         /* the loop's idle rounds */
            while (con_output_pending(&C))
                con_pump(&C);
            CHECK(!con_output_pending(&C));
            break;
        }
        check_state();
    }
    return 0;
}
