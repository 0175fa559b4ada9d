/* Device interrupts as notifications to user-level drivers; a level line
 * may have several holders (shared PCI INTx). */
#ifndef UK_IRQ_H
#define UK_IRQ_H

#include "object.h"

struct notification;

/* Holders one line can have at once (PCI devices sharing an INTx line). */
#define IRQ_HOLDERS 4

/* One driver's hold on a line: what an IRQ cap names.  Its own object, so
 * that the last cap of one holder going (its driver destroyed) releases
 * that holder alone and the line goes on for the others. */
struct irq_holder {
    struct kobj hdr;              /* owner NULL: lives as long as the kernel */
    unsigned line;
    bool issued;                  /* IRQ_GET made it; caps exist */
    bool pending_ack;             /* signalled, not yet acknowledged */
    struct notification *notif;   /* bound notification, or NULL */
    word badge;                   /* its badge */
};

void irq_init(void);
/* A free holder of `line` for IRQ_GET, or NULL (UK_E_RANGE / UK_E_BUSY in *err). */
struct irq_holder *irq_holder_get(word line, int *err);
void irq_holder_bind(struct irq_holder *h, struct notification *n, word badge);
int irq_holder_ack(struct irq_holder *h);   /* UK_OK or UK_E_STATE (unbound) */
void irq_deliver(unsigned line);            /* from the trap handler */
void irq_unbind_notification(struct notification *n);
void irq_teardown(struct irq_holder *h);    /* last cap gone or destroyed */
void irq_holder_dying(struct irq_holder *h); /* OBJ_DESTROY's first step */

#endif
