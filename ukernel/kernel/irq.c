/*
 * Device interrupts.  The kernel owns the interrupt controller; a line
 * becomes a user-level driver's through an IRQ cap (made from the
 * IRQ-control cap).  When the line fires, the kernel signals the bound
 * notification; the driver handles the device, then UK_SYS_IRQ_ACK.
 *
 * A level-triggered line is masked from delivery until every bound holder
 * has acknowledged (it would fire again at once while any device on it
 * still asserts).  Level lines may be shared: PCI INTx lines are wired-OR,
 * so under QEMU's `pc` machine every PCI device lands on IRQ 10 or 11, and
 * each driver holds the line through its own holder (IRQ_GET again), is
 * signalled on every interrupt of the line, checks and quiets its own
 * device, and acks; the last ack unmasks.  A holder that goes away (its
 * last cap deleted, destroyed, its notification destroyed) no longer
 * counts, so a dead driver cannot leave the line masked for the others.
 *
 * An edge-triggered line has one holder and stays unmasked, because an
 * IOAPIC drops an edge that arrives on a masked pin (a UART byte in the
 * gap would be lost for good), and repeated edges merge in the
 * notification anyway.
 */
#include "irq.h"
#include "cap.h"
#include "ipc.h"
#ifndef UK_HOST_STUBS_DEFINED   /* host unit tests bring their own */
#include "log.h"
#endif
#include "arch/arch.h"

static struct irq_holder holders[IRQ_LINES][IRQ_HOLDERS];

void irq_init(void)
{
    for (unsigned i = 0; i < IRQ_LINES; i++)
        for (unsigned j = 0; j < IRQ_HOLDERS; j++) {
            holders[i][j].hdr.type = UK_CAP_IRQ;
            holders[i][j].line = i;
        }
}

static bool line_issued(unsigned line)
{
    for (unsigned j = 0; j < IRQ_HOLDERS; j++)
        if (holders[line][j].issued)
            return true;
    return false;
}

/* The one place that decides the mask: unmasked while some holder is bound
 * and (level lines) none of the bound ones owes an ack. */
static void line_update(unsigned line)
{
    bool bound = false, owed = false;
    for (unsigned j = 0; j < IRQ_HOLDERS; j++) {
        struct irq_holder *h = &holders[line][j];
        if (h->issued && h->notif) {
            bound = true;
            owed |= h->pending_ack;
        }
    }
    if (bound && !(owed && irq_is_level(line)))
        irq_unmask(line);
    else
        irq_mask(line);
}

struct irq_holder *irq_holder_get(word line, int *err)
{
    if (line >= IRQ_LINES) {
        *err = UK_E_RANGE;
        return NULL;
    }
    *err = UK_E_BUSY;
    for (unsigned i = 0; i < IRQ_LINES; i++)  /* ISA overrides: two lines, one pin */
        if (i != line && line_issued(i) && irq_pin(i) == irq_pin((unsigned)line))
            return NULL;
    if (line_issued((unsigned)line) && !irq_is_level((unsigned)line))
        return NULL;                          /* an edge line has one holder */
    for (unsigned j = 0; j < IRQ_HOLDERS; j++) {
        struct irq_holder *h = &holders[line][j];
        if (!h->issued) {
            h->issued = true;
            h->notif = NULL;
            h->pending_ack = false;
            return h;
        }
    }
    return NULL;
}

void irq_holder_bind(struct irq_holder *h, struct notification *n, word badge)
{
    h->notif = n;
    h->badge = badge;
    h->pending_ack = false;
    line_update(h->line);
}

int irq_holder_ack(struct irq_holder *h)
{
    if (!h->notif)
        return UK_E_STATE;
    h->pending_ack = false;
    line_update(h->line);
    return UK_OK;
}

void irq_deliver(unsigned line)
{
    bool any = false;
    if (irq_is_level(line))
        irq_mask(line);
    for (unsigned j = 0; j < IRQ_HOLDERS; j++) {
        struct irq_holder *h = &holders[line][j];
        if (h->issued && h->notif) {
            any = true;
            h->pending_ack = true;
            notif_signal(h->notif, h->badge);
        }
    }
    if (!any) {
        kprintf("ukernel: IRQ %u with no driver, masked\n", line);
        irq_mask(line);
    }
}

void irq_unbind_notification(struct notification *n)
{
    for (unsigned i = 0; i < IRQ_LINES; i++) {
        bool changed = false;
        for (unsigned j = 0; j < IRQ_HOLDERS; j++)
            if (holders[i][j].notif == n) {
                holders[i][j].notif = NULL;
                holders[i][j].pending_ack = false;
                changed = true;
            }
        if (changed)
            line_update(i);
    }
}

/* Destruction's first step (object.c): unbound at once; the caps go in
 * parts, then irq_teardown. */
void irq_holder_dying(struct irq_holder *h)
{
    h->notif = NULL;
    h->pending_ack = false;
    line_update(h->line);
}

void irq_teardown(struct irq_holder *h)
{
    cap_clear_all(&h->hdr);
    h->hdr.dying = 0;                    /* the holder is free for IRQ_GET again */
    h->notif = NULL;
    h->issued = false;
    h->pending_ack = false;
    line_update(h->line);
}
