/* PCI configuration-space access and enumeration, for the one task that
 * holds ports 0xcf8..0xcff (the root task; test root tasks).  uk/pci.h. */
#ifndef UK_USER_PCI_H
#define UK_USER_PCI_H

#include <uk/pci.h>

/* `ports`: an IOPORT cap covering UK_PCI_CONFIG_ADDR..+UK_PCI_CONFIG_PORTS. */
uk_word_t pci_read(uk_word_t ports, unsigned bus, unsigned dev, unsigned fn, unsigned reg,
                   unsigned width);
void pci_write(uk_word_t ports, unsigned bus, unsigned dev, unsigned fn, unsigned reg,
               unsigned width, uk_word_t value);
/* Up to max functions with this vendor and device ID, in bus order, filled
 * in (BAR sizes probed with the device's decoding off, then restored);
 * returns how many were found. */
unsigned pci_find(uk_word_t ports, unsigned vendor, unsigned device, struct uk_pci_dev *out,
                  unsigned max);
/* Bus mastering and I/O decoding on (and INTx not disabled) for d. */
void pci_enable(uk_word_t ports, const struct uk_pci_dev *d);

#endif
