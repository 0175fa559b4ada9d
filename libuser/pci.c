/*
 * PCI configuration mechanism #1.  Whoever holds these two ports can
 * reprogram every device on the bus (BARs, bus mastering), so only the
 * root task does; drivers get a struct uk_pci_dev and caps for their own
 * device's BAR and IRQ (docs/storage.md).
 */
#include <user/rt.h>
#include <user/pci.h>

static void select_reg(uk_word_t ports, unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
    uk_out(ports, UK_PCI_CONFIG_ADDR, 4,
           UK_PCI_ENABLE | bus << 16 | dev << 11 | fn << 8 | (reg & 0xfc));
}

uk_word_t pci_read(uk_word_t ports, unsigned bus, unsigned dev, unsigned fn, unsigned reg,
                   unsigned width)
{
    uk_word_t v = ~0ul;
    select_reg(ports, bus, dev, fn, reg);
    uk_in(ports, UK_PCI_CONFIG_DATA + (reg & 3), width, &v);
    return v;
}

void pci_write(uk_word_t ports, unsigned bus, unsigned dev, unsigned fn, unsigned reg,
               unsigned width, uk_word_t value)
{
    select_reg(ports, bus, dev, fn, reg);
    uk_out(ports, UK_PCI_CONFIG_DATA + (reg & 3), width, value);
}

/* BAR i's address and size: write all ones, read the size mask back, put
 * the address back (decoding is off meanwhile). */
static void probe_bars(uk_word_t ports, struct uk_pci_dev *d)
{
    uk_word_t cmd = pci_read(ports, d->bus, d->dev, d->fn, UK_PCI_COMMAND, 2);
    pci_write(ports, d->bus, d->dev, d->fn, UK_PCI_COMMAND, 2,
              cmd & ~(uk_word_t)(UK_PCI_CMD_IO | UK_PCI_CMD_MEM));
    for (unsigned i = 0; i < UK_PCI_BARS; i++) {
        unsigned reg = UK_PCI_BAR0 + 4 * i;
        uk_word_t bar = pci_read(ports, d->bus, d->dev, d->fn, reg, 4);
        pci_write(ports, d->bus, d->dev, d->fn, reg, 4, 0xffffffffu);
        uk_word_t mask = pci_read(ports, d->bus, d->dev, d->fn, reg, 4);
        pci_write(ports, d->bus, d->dev, d->fn, reg, 4, bar);
        if (bar & UK_PCI_BAR_IO) {
            d->bar_is_io |= 1u << i;
            d->bar[i] = bar & ~3ul;
            mask = (mask & ~3ul) | 0xffff0000ul;       /* I/O BARs decode 16 bits */
            d->bar_size[i] = mask ? (~mask + 1) & 0xffff : 0;
        } else {
            d->bar[i] = bar & ~0xful;
            mask &= ~0xful;
            d->bar_size[i] = mask ? (~mask + 1) & 0xffffffffu : 0;
            if ((bar & 6) == 4 && i + 1 < UK_PCI_BARS) {   /* 64-bit: the next BAR is
                                                              the high half */
                uk_word_t hi = pci_read(ports, d->bus, d->dev, d->fn, reg + 4, 4);
                d->bar[i] |= hi << 32;
                i++;
            }
        }
    }
    pci_write(ports, d->bus, d->dev, d->fn, UK_PCI_COMMAND, 2, cmd);
}

unsigned pci_find(uk_word_t ports, unsigned vendor, unsigned device, struct uk_pci_dev *out,
                  unsigned max)
{
    unsigned n = 0;
    for (unsigned bus = 0; bus < 256; bus++)
        for (unsigned dev = 0; dev < 32; dev++) {
            unsigned nfn = 1;
            for (unsigned fn = 0; fn < nfn; fn++) {
                uk_word_t id = pci_read(ports, bus, dev, fn, UK_PCI_VENDOR, 4);
                if ((id & 0xffff) == 0xffff)
                    continue;
                if (fn == 0 && (pci_read(ports, bus, dev, 0, UK_PCI_HEADER_TYPE, 1) & 0x80))
                    nfn = 8;
                if ((id & 0xffff) != vendor || id >> 16 != device || n == max)
                    continue;
                struct uk_pci_dev *d = &out[n++];
                memset(d, 0, sizeof *d);
                d->bus = (unsigned char)bus;
                d->dev = (unsigned char)dev;
                d->fn = (unsigned char)fn;
                d->vendor = (unsigned short)vendor;
                d->device = (unsigned short)device;
                d->class_rev = (unsigned)pci_read(ports, bus, dev, fn, UK_PCI_CLASS_REV, 4);
                d->irq = (unsigned char)pci_read(ports, bus, dev, fn, UK_PCI_INTR_LINE, 1);
                if (!pci_read(ports, bus, dev, fn, UK_PCI_INTR_PIN, 1))
                    d->irq = 0xff;
                probe_bars(ports, d);
                if (n == max)
                    return n;            /* the rest of the bus would change nothing */
            }
        }
    return n;
}

void pci_enable(uk_word_t ports, const struct uk_pci_dev *d)
{
    uk_word_t cmd = pci_read(ports, d->bus, d->dev, d->fn, UK_PCI_COMMAND, 2);
    cmd |= UK_PCI_CMD_IO | UK_PCI_CMD_MASTER;
    cmd &= ~(uk_word_t)UK_PCI_CMD_INTX_OFF;
    pci_write(ports, d->bus, d->dev, d->fn, UK_PCI_COMMAND, 2, cmd);
}
