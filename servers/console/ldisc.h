/*
 * The console server's line discipline: everything but the system calls,
 * so the host tests (tests/unit/test_ldisc.c) run it as it is.
 *
 * Output: each client's bytes are assembled into lines (CON_LINE_MAX text
 * bytes; a longer line is cut there, and a '\n' right at the cut ends no
 * further, empty line); complete lines wait in the client's
 * queue (CON_OUTQ_BYTES) and reach the UART as "[name] text\r\n", one whole
 * line at a time, at most one line per client per con_pump() (round robin):
 * a client that writes faster than its share fills its own queue and loses
 * its own lines, counted, never another's.  The focused client's partial
 * line (a prompt, an echo) is shown on request (con_show_partial, when it
 * has been idle): the UART line stays open and goes on with its next bytes;
 * any other line closes it first ("\r\n") and a continuation gets a label.
 *
 * Input: bytes from the UART go to the focused client's ring
 * (CON_INQ_BYTES; full: dropped, counted).  Ctrl-T then a digit n moves
 * the focus to client n, Ctrl-T Ctrl-T is a literal Ctrl-T, Ctrl-T then
 * anything else prints a line of help.  Every change prints a notice line
 * "[console] ...".
 *
 * Shown bytes: '\r' is dropped, '\n' ends the line; tab, backspace and ESC
 * pass; other control bytes and DEL become '?'.
 */
#ifndef CONSOLE_LDISC_H
#define CONSOLE_LDISC_H

#include <uk/abi.h>

#define CON_LINE_MAX   200u    /* text bytes of one output line */
#define CON_OUTQ_BYTES 4096u   /* complete lines waiting for the UART, per client */
#define CON_INQ_BYTES  1024u   /* input waiting for the client's READ */
#define CON_CTRL_T     0x14u
/* One UART write: "\r\n" closing another client's open line, "[name] ",
 * a whole line, "\r\n".  (Without the first two bytes, a full line of a
 * client with a 31-byte name after another's partial line lost its "\r\n"
 * and the next line went on after it: found by tests/fuzz-host.) */
#define CON_OUT_MAX    (2u + 1u + UK_CONSOLE_NAME_MAX + 2u + CON_LINE_MAX + 2u)

struct con_client {
    int used;
    char name[UK_CONSOLE_NAME_MAX + 1];
    unsigned char line[CON_LINE_MAX];   /* the line being assembled */
    unsigned line_len;
    int cut;                /* the last line was cut at CON_LINE_MAX: a '\n' right
                               after it ends nothing */
    unsigned shown;         /* bytes of its first pending line (queue head, else
                               `line`) already on the UART */
    unsigned char outq[CON_OUTQ_BYTES]; /* ring of complete lines, each ending '\n' */
    unsigned oq_head, oq_len, oq_lines;
    unsigned char inq[CON_INQ_BYTES];   /* ring of input bytes */
    unsigned iq_head, iq_len;
    uk_word_t written, lines_out, lines_lost, lost_reported, in_lost;
};

struct con {
    struct con_client cl[UK_CONSOLE_MAX_CLIENTS + 1];   /* [1..MAX]; [0] unused */
    unsigned focus;         /* who gets input (1..MAX; may be a client not added) */
    int ctrl_t;             /* the last input byte was a Ctrl-T */
    unsigned rr;            /* the client con_pump() starts with */
    unsigned open;          /* client whose line is open on the UART (0: none) */
    uk_word_t in_lost;      /* input that had no client to go to */
    /* the UART: writes n bytes (a whole line or a piece of an open one) */
    void (*uart)(void *ctx, const unsigned char *s, unsigned n);
    void *ctx;
};

void con_init(struct con *c, void (*uart)(void *, const unsigned char *, unsigned), void *ctx);
/* A client and its name (the caller has checked n and the name). */
void con_add(struct con *c, unsigned n, const char *name);
/* Prints what it has written (queue and partial line), drops its input. */
void con_remove(struct con *c, unsigned n);
/* Its bytes into its line; complete lines join its queue or are lost. */
void con_write(struct con *c, unsigned n, const unsigned char *s, unsigned len);
/* Up to max input bytes into buf; returns how many. */
unsigned con_read(struct con *c, unsigned n, unsigned char *buf, unsigned max);
/* One byte from the UART; returns the client it went to (0: none). */
unsigned con_input(struct con *c, unsigned char b);
/* Input to client n, with a notice. */
void con_focus(struct con *c, unsigned n);
/* At most one line of each client with lines queued; returns lines printed. */
unsigned con_pump(struct con *c);
int con_output_pending(const struct con *c);
/* The focused client has line bytes not on the UART and nothing queued. */
int con_partial_pending(const struct con *c);
void con_show_partial(struct con *c);
/* A line of the server's own, "[console] text". */
void con_notice(struct con *c, const char *text);
/* Printable ASCII, 1..UK_CONSOLE_NAME_MAX bytes, not '[' or ']', not
 * UK_CONSOLE_OWN_LABEL. */
int con_name_ok(const char *name);

#endif
