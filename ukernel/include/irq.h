/* Device interrupts as notifications to the user-level driver. */
#ifndef UK_IRQ_H
#define UK_IRQ_H

#include "object.h"

struct notification;

struct irq_line {
    struct kobj hdr;              /* owner NULL: lives as long as the kernel */
    unsigned line;
    bool issued;                  /* an IRQ cap exists (IRQ_GET made one) */
    bool pending_ack;             /* delivered, line masked until IRQ_ACK */
    struct notification *notif;   /* bound notification, or NULL */
    word badge;                   /* its badge */
};

void irq_init(void);
struct irq_line *irq_line(unsigned line);
void irq_deliver(unsigned line);            /* from the trap handler */
void irq_unbind_notification(struct notification *n);
void irq_teardown(struct irq_line *l);      /* last cap gone or destroyed */

#endif
