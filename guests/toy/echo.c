/*
 * `echo`: console input, a line at a time.  UK_VDEV_EVENT_CONSOLE says that
 * bytes came; UK_VDEV_CONSOLE_READ takes them (16 at a time: the reply's
 * register words).  Typed bytes are echoed as they come (backspace or DEL
 * erases one), and each line that Enter ends (CR, LF or CR LF) is printed
 * back as "echo: <line>".  take_ticks() runs this whenever it sees the
 * event bit -- while processes run and while idle -- so input is never
 * waited for; a guest with `halt` or `reboots=N` powers off only once it
 * has echoed a line (counted over warm reboots, mem.c).
 */
#include "toy.h"

#define ECHO_LINE 120

static char line[ECHO_LINE + 1];
static unsigned long len;
static int last_cr, busy, wanted;

/* Echo what was typed so far, in one write. */
static void flush(char *out, unsigned long *k)
{
    if (*k)
        con_write(out, *k);
    *k = 0;
}

void echo_bytes(const unsigned char *b, unsigned long n)
{
    char out[64];
    unsigned long k = 0;
    for (unsigned long i = 0; i < n; i++) {
        unsigned char c = b[i];
        if (c == '\n' && last_cr) {      /* CR LF: one Enter */
            last_cr = 0;
            continue;
        }
        last_cr = c == '\r';
        if (k > sizeof out - 4)
            flush(out, &k);
        if (c == '\r' || c == '\n') {
            out[k++] = '\n';
            flush(out, &k);
            line[len] = 0;
            kprintf("echo: %s\n", line);
            len = 0;
            (*mem_echo_lines())++;
        } else if (c == 0x7f || c == '\b') {
            if (len) {
                len--;
                out[k++] = '\b';
                out[k++] = ' ';
                out[k++] = '\b';
            }
        } else if (c >= 0x20 && c < 0x7f && len < ECHO_LINE) {
            line[len++] = (char)c;
            out[k++] = (char)c;
        }
    }
    flush(out, &k);
}

/* Reads and echoes until the vmm-server has nothing more for us. */
void echo_poll(int event)
{
    wanted |= event;
    if (!opts.echo || !wanted || busy)   /* busy: a write of ours waits (EAGAIN) */
        return;
    busy = 1;
    wanted = 0;
    for (;;) {
        uk_word_t out[4];
        long st = vdev_call(UK_VDEV_CONSOLE_READ, 1, (uk_word_t[]){ 16 }, out);
        if (st || out[1] == 0)
            break;
        unsigned long n = out[1] < 16 ? out[1] : 16;
        echo_bytes((const unsigned char *)&out[2], n);
        if (n < 16)
            break;
    }
    busy = 0;
}
