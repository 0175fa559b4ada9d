/* The console server's line discipline (ldisc.h): no system calls. */
#ifdef UK_HOST_TEST
#include <string.h>
#else
#include <user/rt.h>
#endif
#include "ldisc.h"

#define MAXC UK_CONSOLE_MAX_CLIENTS

void con_init(struct con *c, void (*uart)(void *, const unsigned char *, unsigned), void *ctx)
{
    memset(c, 0, sizeof *c);
    c->focus = 1;
    c->uart = uart;
    c->ctx = ctx;
}

int con_name_ok(const char *name)
{
    unsigned i = 0;
    if (!strcmp(name, UK_CONSOLE_OWN_LABEL))
        return 0;                            /* found by tests/fuzz-host */
    for (; name[i]; i++)
        if (i >= UK_CONSOLE_NAME_MAX || name[i] <= ' ' || name[i] >= 0x7f ||
            name[i] == '[' || name[i] == ']')
            return 0;
    return i > 0;
}

/* --- building what goes to the UART ------------------------------------------ */

struct buf {
    unsigned char b[CON_OUT_MAX];
    unsigned n;
};

static void put(struct buf *o, const void *s, unsigned len)
{
    if (len > sizeof o->b - o->n)
        len = sizeof o->b - o->n;
    if (len)
        memcpy(o->b + o->n, s, len);
    o->n += len;
}

static void put_str(struct buf *o, const char *s)
{
    put(o, s, (unsigned)strlen(s));
}

static void put_num(struct buf *o, uk_word_t v)
{
    char d[24];
    unsigned i = sizeof d;
    do
        d[--i] = (char)('0' + v % 10);
    while (v /= 10);
    put(o, d + i, (unsigned)(sizeof d - i));
}

/* Text of client n (or of the server, n = 0) to the UART: a label unless
 * it goes on with its open line; `end` closes the line. */
static void emit(struct con *c, unsigned n, const unsigned char *s, unsigned len, int end)
{
    struct buf o;
    o.n = 0;
    if (c->open != n || n == 0) {
        if (c->open)
            put(&o, "\r\n", 2);              /* close the other client's line */
        put(&o, "[", 1);
        put_str(&o, n ? c->cl[n].name : UK_CONSOLE_OWN_LABEL);
        put(&o, "] ", 2);
    }
    put(&o, s, len);
    if (end)
        put(&o, "\r\n", 2);
    c->open = end ? 0 : n;
    c->uart(c->ctx, o.b, o.n);
}

void con_notice(struct con *c, const char *text)
{
    emit(c, 0, (const unsigned char *)text, (unsigned)strlen(text), 1);
}

/* "beta (2)", or "2 (no guest)" */
static void put_client(struct buf *o, const struct con *c, unsigned n)
{
    if (n >= 1 && n <= MAXC && c->cl[n].used) {
        put_str(o, c->cl[n].name);
        put_str(o, " (");
        put_num(o, n);
        put_str(o, ")");
    } else {
        put_num(o, n);
        put_str(o, " (no guest)");
    }
}

static void notice_buf(struct con *c, struct buf *o)
{
    put(o, "", 1);                           /* the NUL (cut if too long) */
    o->b[o->n - 1] = 0;
    con_notice(c, (const char *)o->b);
}

/* --- output -------------------------------------------------------------------- */

static void complete_line(struct con *c, unsigned n)
{
    struct con_client *k = &c->cl[n];
    unsigned len = k->line_len;
    k->line_len = 0;
    if (len + 1 > CON_OUTQ_BYTES - k->oq_len) {
        /* lost.  Never the line partly shown, if there is one: that was
         * shown while the queue was empty, so it is the queue's head by
         * now, and `shown` still counts its bytes on the UART (resetting
         * it here printed them twice: found by tests/fuzz-host) */
        k->lines_lost++;
        return;
    }
    for (unsigned i = 0; i <= len; i++)
        k->outq[(k->oq_head + k->oq_len + i) % CON_OUTQ_BYTES] = i < len ? k->line[i] : '\n';
    k->oq_len += len + 1;
    k->oq_lines++;
}

static void print_head(struct con *c, unsigned n)
{
    struct con_client *k = &c->cl[n];
    unsigned char t[CON_LINE_MAX];
    unsigned len = 0;
    for (;;) {
        unsigned char b = k->outq[k->oq_head];
        k->oq_head = (k->oq_head + 1) % CON_OUTQ_BYTES;
        k->oq_len--;
        if (b == '\n')
            break;
        if (len < sizeof t)
            t[len++] = b;
    }
    k->oq_lines--;
    k->lines_out++;
    unsigned shown = k->shown < len ? k->shown : len;
    if (!(shown == len && len && c->open != n))   /* all shown already, and closed */
        emit(c, n, t + shown, len - shown, 1);
    k->shown = 0;
    if (!k->oq_lines && k->lines_lost > k->lost_reported) {
        struct buf o;
        o.n = 0;
        put_str(&o, k->name);
        put_str(&o, ": ");
        put_num(&o, k->lines_lost);
        put_str(&o, k->lines_lost == 1 ? " line" : " lines");
        put_str(&o, " of output lost in all");
        notice_buf(c, &o);
        k->lost_reported = k->lines_lost;
    }
}

void con_write(struct con *c, unsigned n, const unsigned char *s, unsigned len)
{
    struct con_client *k = &c->cl[n];
    k->written += len;
    for (unsigned i = 0; i < len; i++) {
        unsigned char b = s[i];
        if (b == '\r')
            continue;
        if (b == '\n') {
            if (!(k->cut && !k->line_len))
                complete_line(c, n);
            k->cut = 0;
            continue;
        }
        k->cut = 0;
        if ((b < 0x20 && b != '\t' && b != '\b' && b != 0x1b) || b == 0x7f)
            b = '?';
        k->line[k->line_len++] = b;
        if (k->line_len == CON_LINE_MAX) {
            complete_line(c, n);
            k->cut = 1;
        }
    }
}

unsigned con_pump(struct con *c)
{
    unsigned printed = 0;
    for (unsigned i = 0; i < MAXC; i++) {
        unsigned n = 1 + (c->rr + i) % MAXC;
        if (c->cl[n].used && c->cl[n].oq_lines) {
            print_head(c, n);
            printed++;
        }
    }
    c->rr = (c->rr + 1) % MAXC;
    return printed;
}

int con_output_pending(const struct con *c)
{
    for (unsigned n = 1; n <= MAXC; n++)
        if (c->cl[n].used && c->cl[n].oq_lines)
            return 1;
    return 0;
}

int con_partial_pending(const struct con *c)
{
    const struct con_client *k = &c->cl[c->focus];
    return k->used && !k->oq_lines && k->line_len > k->shown;
}

void con_show_partial(struct con *c)
{
    if (!con_partial_pending(c))
        return;
    struct con_client *k = &c->cl[c->focus];
    emit(c, c->focus, k->line + k->shown, k->line_len - k->shown, 0);
    k->shown = k->line_len;
}

/* --- clients ------------------------------------------------------------------- */

void con_add(struct con *c, unsigned n, const char *name)
{
    struct con_client *k = &c->cl[n];
    if (c->open == n) {                      /* its open line had the old name */
        emit(c, n, 0, 0, 1);
    }
    if (!k->used)
        memset(k, 0, sizeof *k);
    k->used = 1;
    memset(k->name, 0, sizeof k->name);
    memcpy(k->name, name, strlen(name));
}

void con_remove(struct con *c, unsigned n)
{
    struct con_client *k = &c->cl[n];
    if (!k->used)
        return;
    if (k->line_len)
        complete_line(c, n);
    while (k->oq_lines)
        print_head(c, n);
    if (c->open == n)
        emit(c, n, 0, 0, 1);
    memset(k, 0, sizeof *k);
}

/* --- input --------------------------------------------------------------------- */

unsigned con_read(struct con *c, unsigned n, unsigned char *buf, unsigned max)
{
    struct con_client *k = &c->cl[n];
    unsigned got = 0;
    while (got < max && k->iq_len) {
        buf[got++] = k->inq[k->iq_head];
        k->iq_head = (k->iq_head + 1) % CON_INQ_BYTES;
        k->iq_len--;
    }
    return got;
}

void con_focus(struct con *c, unsigned n)
{
    struct buf o;
    o.n = 0;
    c->focus = n;
    put_str(&o, "input to ");
    put_client(&o, c, n);
    notice_buf(c, &o);
}

unsigned con_input(struct con *c, unsigned char b)
{
    if (c->ctrl_t) {
        c->ctrl_t = 0;
        if (b >= '0' && b <= '9') {
            unsigned n = b - '0';
            if (n >= 1 && c->cl[n].used) {
                con_focus(c, n);
            } else {
                struct buf o;
                o.n = 0;
                put_str(&o, "no guest ");
                put_num(&o, n);
                put_str(&o, "; input stays with ");
                put_client(&o, c, c->focus);
                notice_buf(c, &o);
            }
            return 0;
        }
        if (b != CON_CTRL_T) {
            struct buf o;
            o.n = 0;
            put_str(&o, "Ctrl-T 1-9: input to that guest, Ctrl-T Ctrl-T: a Ctrl-T; input to ");
            put_client(&o, c, c->focus);
            notice_buf(c, &o);
            return 0;
        }
    } else if (b == CON_CTRL_T) {
        c->ctrl_t = 1;
        return 0;
    }
    struct con_client *k = &c->cl[c->focus];
    if (!k->used) {
        c->in_lost++;
        return 0;
    }
    if (k->iq_len == CON_INQ_BYTES) {
        k->in_lost++;
        return 0;
    }
    k->inq[(k->iq_head + k->iq_len) % CON_INQ_BYTES] = b;
    k->iq_len++;
    return c->focus;
}
