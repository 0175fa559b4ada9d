/*
 * Host tests of the console server's line discipline
 * (servers/console/ldisc.c), built and run with the other host tests
 * (tests/unit/Makefile, suite `unit`).
 * The UART is a buffer; each test checks exactly what reached it.  Prints
 * "ok"/"FAIL" per test and "console-host: N passed, N failed".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../../servers/console/ldisc.c"

static char out[1 << 20];
static size_t outn;
static int failures;

static void uart(void *ctx, const unsigned char *s, unsigned n)
{
    (void)ctx;
    if (outn + n > sizeof out)
        abort();
    memcpy(out + outn, s, n);
    outn += n;
}

#define CHECK(c)                                                               \
    do { if (!(c)) { printf("    %s:%d: %s\n", __FILE__, __LINE__, #c); failures++; } } while (0)
#define EQ(a, b)                                                               \
    do { long _a = (long)(a), _b = (long)(b); if (_a != _b) {                  \
        printf("    %s:%d: %s == %s (%ld vs %ld)\n", __FILE__, __LINE__, #a, #b, _a, _b); \
        failures++; } } while (0)
/* What reached the UART since the last OUT, exactly. */
#define OUT(want) check_out((want), __LINE__)

static void check_out(const char *want, int line)
{
    if (outn != strlen(want) || memcmp(out, want, outn)) {
        printf("    %s:%d: UART got \"%.*s\", want \"%s\"\n", __FILE__, line,
               (int)(outn > 300 ? 300 : outn), out, want);
        failures++;
    }
    outn = 0;
}

static struct con C;

static void setup(void)
{
    outn = 0;
    con_init(&C, uart, 0);
    con_add(&C, 1, "a");
    con_add(&C, 2, "b");
}

static void wr(unsigned n, const char *s)
{
    con_write(&C, n, (const unsigned char *)s, (unsigned)strlen(s));
}

static void pump_all(void)
{
    while (con_output_pending(&C))
        con_pump(&C);
}

/* --- tests --------------------------------------------------------------------- */

static void lines_are_labelled(void)
{
    wr(1, "one\ntw");
    OUT("");                                 /* nothing before the pump */
    EQ(con_pump(&C), 1);
    OUT("[a] one\r\n");
    wr(1, "o\r\n\n");
    pump_all();
    OUT("[a] two\r\n[a] \r\n");
    EQ(C.cl[1].lines_out, 3);
    EQ(C.cl[1].written, 10);
    CHECK(!con_output_pending(&C));
}

static void controls_are_shown_safely(void)
{
    wr(2, "x\001\177\t\b\033[1m\x80y\n");
    pump_all();
    OUT("[b] x??\t\b\033[1m\x80y\r\n");
}

static void long_lines_are_cut(void)
{
    char s[CON_LINE_MAX * 2 + 10];
    memset(s, 'x', sizeof s);
    s[CON_LINE_MAX] = '\n';                  /* exactly a line, then '\n': no empty line */
    s[CON_LINE_MAX + 1] = 0;
    wr(1, s);
    pump_all();
    char want[CON_LINE_MAX + 16];
    snprintf(want, sizeof want, "[a] %.*s\r\n", (int)CON_LINE_MAX, s);
    OUT(want);
    memset(s, 'y', sizeof s);
    s[CON_LINE_MAX + 5] = 0;                 /* a line and 5 bytes */
    wr(1, s);
    pump_all();
    snprintf(want, sizeof want, "[a] %.*s\r\n", (int)CON_LINE_MAX, s);
    OUT(want);
    wr(1, "\n");
    pump_all();
    OUT("[a] yyyyy\r\n");
    /* a '\r' between the cut and the '\n' changes nothing */
    memset(s, 'z', CON_LINE_MAX);
    memcpy(s + CON_LINE_MAX, "\r\nw\n", 5);
    wr(1, s);
    pump_all();
    snprintf(want, sizeof want, "[a] %.*s\r\n[a] w\r\n", (int)CON_LINE_MAX, s);
    OUT(want);
}

static void pump_is_round_robin(void)
{
    wr(1, "a1\na2\na3\n");
    wr(2, "b1\nb2\n");
    EQ(con_pump(&C), 2);
    EQ(con_pump(&C), 2);
    EQ(con_pump(&C), 1);
    EQ(con_pump(&C), 0);
    /* the round starts one client further each time: a, then b, then a... */
    OUT("[a] a1\r\n[b] b1\r\n[b] b2\r\n[a] a2\r\n[a] a3\r\n");
}

static void a_flooder_loses_only_its_own_lines(void)
{
    char s[32];
    unsigned per = (unsigned)strlen("flood 0000\n");
    for (int i = 0; i < 1000; i++) {
        snprintf(s, sizeof s, "flood %04d\n", i);
        wr(1, s);
    }
    wr(2, "quiet\n");
    unsigned fit = CON_OUTQ_BYTES / per;
    EQ(C.cl[1].oq_lines, fit);
    EQ(C.cl[1].lines_lost, 1000 - fit);
    EQ(C.cl[2].lines_lost, 0);
    outn = 0;
    EQ(con_pump(&C), 2);
    OUT("[a] flood 0000\r\n[b] quiet\r\n");
    /* what fits again is taken again */
    wr(1, "late\n");
    EQ(C.cl[1].lines_lost, 1000 - fit);
    pump_all();
    char want[64];
    snprintf(want, sizeof want, "[console] a: %u lines of output lost in all\r\n", 1000 - fit);
    CHECK(outn > strlen(want) && !memcmp(out + outn - strlen(want), want, strlen(want)));
    CHECK(outn > 16 && !memcmp(out + outn - strlen(want) - 10, "[a] late\r\n", 10));
    EQ(C.cl[1].lines_out + C.cl[1].lines_lost, 1001);
    outn = 0;
    /* reported once: more lines, no new notice */
    wr(1, "x\n");
    pump_all();
    OUT("[a] x\r\n");
}

static void input_follows_the_focus(void)
{
    unsigned char buf[16];
    EQ(con_input(&C, 'h'), 1);              /* focus starts with 1 */
    EQ(con_input(&C, CON_CTRL_T), 0);
    EQ(con_input(&C, '2'), 0);
    OUT("[console] input to b (2)\r\n");
    EQ(con_input(&C, 'i'), 2);
    EQ(con_input(&C, CON_CTRL_T), 0);
    EQ(con_input(&C, CON_CTRL_T), 2);       /* a literal Ctrl-T */
    EQ(con_input(&C, CON_CTRL_T), 0);
    EQ(con_input(&C, '0'), 0);
    OUT("[console] no guest 0; input stays with b (2)\r\n");
    EQ(con_input(&C, CON_CTRL_T), 0);
    EQ(con_input(&C, '5'), 0);
    OUT("[console] no guest 5; input stays with b (2)\r\n");
    EQ(con_input(&C, CON_CTRL_T), 0);
    EQ(con_input(&C, '?'), 0);
    OUT("[console] Ctrl-T 1-9: input to that guest, Ctrl-T Ctrl-T: a Ctrl-T; input to b (2)\r\n");
    EQ(con_input(&C, '!'), 2);
    EQ(con_read(&C, 1, buf, sizeof buf), 1);
    EQ(buf[0], 'h');
    EQ(con_read(&C, 2, buf, 2), 2);         /* partial reads */
    CHECK(!memcmp(buf, "i\024", 2));
    EQ(con_read(&C, 2, buf, sizeof buf), 1);
    EQ(buf[0], '!');
    EQ(con_read(&C, 2, buf, sizeof buf), 0);
    /* a full ring loses the rest, counted */
    for (unsigned i = 0; i < CON_INQ_BYTES + 10; i++)
        con_input(&C, (unsigned char)('a' + i % 26));
    EQ(C.cl[2].iq_len, CON_INQ_BYTES);
    EQ(C.cl[2].in_lost, 10);
    unsigned char big[CON_INQ_BYTES];
    EQ(con_read(&C, 2, big, sizeof big), CON_INQ_BYTES);
    EQ(big[0], 'a');
    EQ(big[CON_INQ_BYTES - 1], 'a' + (CON_INQ_BYTES - 1) % 26);
    /* focus on a client that is gone: input is nobody's */
    con_remove(&C, 2);
    EQ(con_input(&C, 'x'), 0);
    EQ(C.in_lost, 1);
    OUT("");
}

static void focused_partial_line_stays_open(void)
{
    wr(1, "login: ");
    CHECK(con_partial_pending(&C));
    con_show_partial(&C);
    OUT("[a] login: ");
    CHECK(!con_partial_pending(&C));
    wr(1, "r");
    con_show_partial(&C);
    wr(1, "oot\n");
    pump_all();
    OUT("ro\x6ft\r\n");                       /* "r" then "oot\r\n", no label */
    /* another line closes it; the rest comes labelled */
    wr(1, "$ ");
    con_show_partial(&C);
    wr(2, "other\n");
    pump_all();
    wr(1, "ls\n");
    pump_all();
    OUT("[a] $ \r\n[b] other\r\n[a] ls\r\n");
    /* shown to the end, closed by another: its '\n' adds no empty line */
    wr(1, "all shown");
    con_show_partial(&C);
    con_notice(&C, "hello");
    wr(1, "\n");
    pump_all();
    OUT("[a] all shown\r\n[console] hello\r\n");
    /* not the focus: nothing shown */
    wr(2, "b partial");
    CHECK(!con_partial_pending(&C));
    con_show_partial(&C);
    OUT("");
    con_focus(&C, 2);
    con_show_partial(&C);
    OUT("[console] input to b (2)\r\n[b] b partial");
    /* a client with lines queued does not show its partial line first */
    wr(2, "\nnext\npart");
    CHECK(!con_partial_pending(&C));
    pump_all();
    CHECK(con_partial_pending(&C));
    con_show_partial(&C);
    OUT("\r\n[b] next\r\n[b] part");
}

static void remove_and_rename(void)
{
    wr(2, "queued\nhalf");
    con_remove(&C, 2);
    OUT("[b] queued\r\n[b] half\r\n");
    EQ(C.cl[2].used, 0);
    CHECK(!con_output_pending(&C));
    /* renaming closes the open line (it carries the old name) */
    wr(1, "pro");
    con_show_partial(&C);
    con_add(&C, 1, "a2");
    wr(1, "mpt\n");
    pump_all();
    OUT("[a] pro\r\n[a2] mpt\r\n");
    EQ(C.cl[1].used, 1);
}

/* A full line of a client with the longest name, printed right after
 * another's partial line: the closing "\r\n", the label, the line and its
 * "\r\n" all reach the UART (found by tests/fuzz-host: the last two were cut) */
static void full_line_after_a_partial_one(void)
{
    static const char name[] = "abcdefghijabcdefghijabcdefghija";   /* 31 */
    char line[CON_LINE_MAX + 2], want[2 * CON_LINE_MAX];
    con_add(&C, 3, name);
    wr(1, "prompt");
    con_show_partial(&C);
    OUT("[a] prompt");
    memset(line, 'x', CON_LINE_MAX);
    line[CON_LINE_MAX] = '\n';
    line[CON_LINE_MAX + 1] = 0;
    wr(3, line);
    wr(3, "next\n");
    pump_all();
    snprintf(want, sizeof want, "\r\n[%s] %.*s\r\n[%s] next\r\n", name, (int)CON_LINE_MAX, line,
             name);
    OUT(want);
}

/* A prompt shown, its line completed, then lines lost to a full queue:
 * the prompt is printed once, the line goes on after it (found by
 * tests/fuzz-host: a lost line reset what was shown of the queue's head) */
static void lost_lines_keep_the_shown_prompt(void)
{
    wr(1, "login: ");
    con_show_partial(&C);
    OUT("[a] login: ");
    wr(1, "root\n");
    for (int i = 0; i < 50; i++)               /* 50 * 100 bytes: more than the queue */
        wr(1, "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\n");
    CHECK(C.cl[1].lines_lost > 0);
    con_pump(&C);
    OUT("root\r\n");                           /* no label, no second "login: " */
    pump_all();
    outn = 0;
}

static void names(void)
{
    CHECK(con_name_ok("alpha"));
    CHECK(con_name_ok("g-1_x.y"));
    CHECK(con_name_ok("abcdefghijklmnopqrstuvwxyz01234"));      /* 31 */
    CHECK(!con_name_ok("abcdefghijklmnopqrstuvwxyz012345"));    /* 32 */
    CHECK(!con_name_ok(""));
    CHECK(!con_name_ok("a b"));
    CHECK(!con_name_ok("a]"));
    CHECK(!con_name_ok("[a"));
    CHECK(!con_name_ok("a\n"));
    CHECK(!con_name_ok("\x7f"));
    CHECK(!con_name_ok("\xc3\xa9"));
    CHECK(!con_name_ok("console"));                            /* the server's own label */
    CHECK(con_name_ok("console2"));
}

int main(void)
{
    static const struct { const char *name; void (*fn)(void); } tests[] = {
        { "lines_are_labelled", lines_are_labelled },
        { "controls_are_shown_safely", controls_are_shown_safely },
        { "long_lines_are_cut", long_lines_are_cut },
        { "pump_is_round_robin", pump_is_round_robin },
        { "a_flooder_loses_only_its_own_lines", a_flooder_loses_only_its_own_lines },
        { "input_follows_the_focus", input_follows_the_focus },
        { "focused_partial_line_stays_open", focused_partial_line_stays_open },
        { "remove_and_rename", remove_and_rename },
        { "full_line_after_a_partial_one", full_line_after_a_partial_one },
        { "lost_lines_keep_the_shown_prompt", lost_lines_keep_the_shown_prompt },
        { "names", names },
    };
    int passed = 0, failed = 0;
    for (unsigned i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        setup();
        failures = 0;
        tests[i].fn();
        if (failures) {
            failed++;
            printf("FAIL %s\n", tests[i].name);
        } else {
            passed++;
            printf("ok   %s\n", tests[i].name);
        }
    }
    printf("console-host: %d passed, %d failed\n", passed, failed);
    return failed != 0;
}
