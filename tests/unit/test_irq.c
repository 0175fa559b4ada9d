/* Host tests of interrupt lines and their holders (ukernel/kernel/irq.c):
 * the mask rule for shared level lines -- unmasked while a holder is bound
 * and no bound holder owes an ack -- in every order of acks, teardowns and
 * notification destructions; edge lines with one holder; at most
 * IRQ_HOLDERS; ISA overrides sharing a pin.  The interrupt controller and
 * notifications are fakes that record what the kernel asked of them. */
#include "host_stubs.h"
#include "../../ukernel/kernel/kmem.c"
#include "../../ukernel/kernel/cap.c"
#include "../../ukernel/kernel/irq.c"

#include <string.h>

/* --- fakes ---------------------------------------------------------------- */

static bool masked[IRQ_LINES], level[IRQ_LINES];
static unsigned pin_of[IRQ_LINES];
static char notif_obj[4];               /* four distinct notification addresses */
static int signals[4];
static word last_badge[4];

void irq_mask(unsigned l) { masked[l] = true; }
void irq_unmask(unsigned l) { masked[l] = false; }
bool irq_is_level(unsigned l) { return level[l]; }
unsigned irq_pin(unsigned l) { return pin_of[l]; }
void reply_cap_deleted(struct thread *t) { (void)t; }

static struct notification *N(int i) { return (struct notification *)&notif_obj[i]; }

void notif_signal(struct notification *n, word bits)
{
    int i = (int)((char *)n - notif_obj);
    assert_true(i >= 0 && i < 4);
    signals[i]++;
    last_badge[i] = bits;
}

static int setup(void **state)
{
    (void)state;
    memset(signals, 0, sizeof signals);
    for (unsigned l = 0; l < IRQ_LINES; l++) {
        masked[l] = true;
        level[l] = l >= 16 || l == 10 || l == 11;   /* QEMU pc: 10, 11 level; 16-23 PCI */
        pin_of[l] = l;
    }
    pin_of[0] = 2;                                 /* the usual ISA override */
    memset(holders, 0, sizeof holders);
    irq_init();
    return 0;
}

static struct irq_holder *get(word line)
{
    int err = 0;
    struct irq_holder *h = irq_holder_get(line, &err);
    assert_non_null(h);
    return h;
}

static int get_err(word line)
{
    int err = 0;
    assert_null(irq_holder_get(line, &err));
    return err;
}

/* --- tests ------------------------------------------------------------------ */

static void shared_line_waits_for_every_ack(void **state)
{
    (void)state;
    struct irq_holder *a = get(11), *b = get(11);
    assert_true(masked[11]);                       /* issued, nothing bound */
    irq_holder_bind(a, N(0), 0x1);
    assert_false(masked[11]);
    irq_holder_bind(b, N(1), 0x2);
    assert_false(masked[11]);
    for (int order = 0; order < 2; order++) {
        irq_deliver(11);
        assert_true(masked[11]);
        assert_int_equal(signals[0], order + 1);
        assert_int_equal(signals[1], order + 1);
        assert_int_equal(last_badge[1], 0x2);
        struct irq_holder *first = order ? b : a, *second = order ? a : b;
        assert_int_equal(irq_holder_ack(first), UK_OK);
        assert_true(masked[11]);                   /* the other one owes */
        assert_int_equal(irq_holder_ack(first), UK_OK);   /* twice: still owed by the other */
        assert_true(masked[11]);
        assert_int_equal(irq_holder_ack(second), UK_OK);
        assert_false(masked[11]);
    }
    assert_int_equal(irq_holder_ack(a), UK_OK);    /* an ack with nothing owed: harmless */
    assert_false(masked[11]);
}

static void dead_holder_does_not_keep_it_masked(void **state)
{
    (void)state;
    struct irq_holder *a = get(10), *b = get(10);
    irq_holder_bind(a, N(0), 1);
    irq_holder_bind(b, N(1), 1);
    irq_deliver(10);
    irq_holder_ack(a);
    assert_true(masked[10]);
    irq_teardown(b);                               /* owed its ack */
    assert_false(masked[10]);
    assert_false(b->issued);
    /* the last bound holder gone: masked, and delivery finds no driver */
    irq_teardown(a);
    assert_true(masked[10]);
    irq_deliver(10);
    assert_true(masked[10]);
    assert_int_equal(signals[0], 1);
    assert_ptr_equal(get(10), a);                  /* both free to be issued again */
    assert_ptr_equal(get(10), b);
    assert_true(masked[10]);                       /* issued, not bound */
}

static void destroyed_notification_unbinds(void **state)
{
    (void)state;
    struct irq_holder *a = get(11), *b = get(11), *c = get(11);
    irq_holder_bind(a, N(0), 1);
    irq_holder_bind(b, N(1), 1);
    irq_holder_bind(c, N(1), 4);                   /* one notification, two holders */
    irq_deliver(11);
    irq_holder_ack(a);
    assert_true(masked[11]);
    irq_unbind_notification(N(1));                 /* b and c owed */
    assert_false(masked[11]);
    assert_int_equal(irq_holder_ack(b), UK_E_STATE);
    assert_int_equal(irq_holder_ack(c), UK_E_STATE);
    irq_deliver(11);
    assert_int_equal(signals[0], 2);
    assert_int_equal(signals[1], 2);               /* b and c: once each, the first time */
}

static void unbound_holders_do_not_count(void **state)
{
    (void)state;
    struct irq_holder *a = get(16), *b = get(16);
    (void)b;
    irq_holder_bind(a, N(0), 1);
    irq_deliver(16);
    assert_true(masked[16]);
    irq_holder_ack(a);
    assert_false(masked[16]);                      /* b never bound: nothing owed by it */
    assert_int_equal(irq_holder_ack(b), UK_E_STATE);
}

static void edge_line_one_holder_never_masked_by_delivery(void **state)
{
    (void)state;
    struct irq_holder *a = get(4);
    assert_int_equal(get_err(4), UK_E_BUSY);
    irq_holder_bind(a, N(0), 1);
    assert_false(masked[4]);
    irq_deliver(4);
    assert_false(masked[4]);                       /* an edge on a masked pin is lost */
    irq_deliver(4);
    assert_int_equal(signals[0], 2);
    assert_int_equal(irq_holder_ack(a), UK_OK);
    assert_false(masked[4]);
    irq_teardown(a);
    assert_true(masked[4]);
    get(4);                                        /* free again */
}

static void at_most_four_holders_and_pins(void **state)
{
    (void)state;
    struct irq_holder *h[IRQ_HOLDERS];
    for (int i = 0; i < IRQ_HOLDERS; i++)
        h[i] = get(11);
    assert_int_equal(get_err(11), UK_E_BUSY);
    irq_teardown(h[2]);
    assert_ptr_equal(get(11), h[2]);               /* its slot, reused */
    assert_int_equal(get_err(24), UK_E_RANGE);
    assert_int_equal(get_err(~0ul), UK_E_RANGE);
    get(0);                                        /* IRQ 0 sits on pin 2 */
    assert_int_equal(get_err(2), UK_E_BUSY);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(shared_line_waits_for_every_ack, setup),
        cmocka_unit_test_setup(dead_holder_does_not_keep_it_masked, setup),
        cmocka_unit_test_setup(destroyed_notification_unbinds, setup),
        cmocka_unit_test_setup(unbound_holders_do_not_count, setup),
        cmocka_unit_test_setup(edge_line_one_holder_never_masked_by_delivery, setup),
        cmocka_unit_test_setup(at_most_four_holders_and_pins, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
