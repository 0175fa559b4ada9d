/*
 * Device interrupts.  The kernel owns the interrupt controller; a line
 * becomes a user-level driver's through an IRQ cap (made once per line
 * from the IRQ-control cap).  When the line fires, the kernel signals the
 * bound notification; the driver handles the device, then UK_SYS_IRQ_ACK.
 * A level-triggered line is masked until that ack (it would fire again at
 * once); an edge-triggered one stays unmasked, because an IOAPIC drops an
 * edge that arrives on a masked pin (a UART byte in the gap would be lost
 * for good), and repeated edges merge in the notification anyway.
 */
#include "irq.h"
#include "cap.h"
#include "ipc.h"
#include "log.h"
#include "arch/arch.h"

static struct irq_line lines[IRQ_LINES];

void irq_init(void)
{
    for (unsigned i = 0; i < IRQ_LINES; i++) {
        lines[i].hdr.type = UK_CAP_IRQ;
        lines[i].line = i;
    }
}

struct irq_line *irq_line(unsigned line)
{
    return line < IRQ_LINES ? &lines[line] : NULL;
}

void irq_deliver(unsigned line)
{
    struct irq_line *l = &lines[line];
    if (irq_is_level(line))
        irq_mask(line);
    if (!l->notif) {
        kprintf("ukernel: IRQ %u with no driver, masked\n", line);
        return;
    }
    l->pending_ack = true;
    notif_signal(l->notif, l->badge);
}

void irq_unbind_notification(struct notification *n)
{
    for (unsigned i = 0; i < IRQ_LINES; i++)
        if (lines[i].notif == n) {
            lines[i].notif = NULL;
            irq_mask(i);
        }
}

void irq_teardown(struct irq_line *l)
{
    cap_clear_all(&l->hdr);
    irq_mask(l->line);
    l->notif = NULL;
    l->issued = false;
    l->pending_ack = false;
}
