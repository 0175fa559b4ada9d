/*
 * A PCI device handed to a user-level driver (docs/storage.md "PCI has one
 * owner"; the block and network servers).  We keep configuration space; the
 * driver gets an I/O-port cap for the device's legacy virtio BAR0 and its
 * own holder of the device's IRQ line.  Before the driver's DMA frames may
 * be reused the device must be quiet: reset, bus mastering off.
 */
#include "root.h"
#include <user/pci.h>
#include <user/virtio.h>

long pcidev_config_ports(uk_word_t *cfg)
{
    *cfg = uk_slot_alloc();
    return uk_ioport_issue(UK_SLOT_IOPORT_ALL, UK_PCI_CONFIG_ADDR, UK_PCI_CONFIG_PORTS, *cfg);
}

long pcidev_claim_virtio(uk_word_t cfg, const struct uk_pci_dev *p, uk_word_t *io,
                         uk_word_t *irq)
{
    long err;
    *io = *irq = 0;
    if (!(p->bar_is_io & 1) || p->bar_size[0] < VIRTIO_PCI_LEGACY_BAR_MIN || p->irq >= 16)
        return UK_E_INVAL;
    *io = uk_slot_alloc();
    if ((err = uk_ioport_issue(UK_SLOT_IOPORT_ALL, p->bar[0], p->bar_size[0], *io))) {
        *io = 0;
        return err;
    }
    *irq = uk_slot_alloc();
    if ((err = uk_irq_get(UK_SLOT_IRQ_CONTROL, p->irq, *irq))) {
        *irq = 0;
        uk_cap_delete(UK_SLOT_SELF_TASK, *io);
        *io = 0;
        return err;
    }
    virtio_legacy_reset(*io, p->bar[0]);     /* whatever the firmware left running */
    pci_enable(cfg, p);
    return UK_OK;
}

void pcidev_release_virtio(uk_word_t cfg, const struct uk_pci_dev *p, uk_word_t *io,
                           uk_word_t *irq)
{
    uk_word_t cmd = pci_read(cfg, p->bus, p->dev, p->fn, UK_PCI_COMMAND, 2);
    if (*io)
        virtio_legacy_reset(*io, p->bar[0]);
    pci_write(cfg, p->bus, p->dev, p->fn, UK_PCI_COMMAND, 2, cmd & ~(uk_word_t)UK_PCI_CMD_MASTER);
    if (*irq)
        uk_obj_destroy(*irq);            /* a holder that owed an ack no longer counts */
    if (*io)
        uk_cap_delete(UK_SLOT_SELF_TASK, *io);
    if (*irq)
        uk_slot_free(*irq);              /* reused: servers restart again and again */
    if (*io)
        uk_slot_free(*io);
    *io = *irq = 0;
}
