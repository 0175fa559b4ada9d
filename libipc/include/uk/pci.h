/*
 * PCI configuration space as the root task reads it (mechanism #1, ports
 * 0xcf8/0xcfc, which only the root task holds), and the description of one
 * device that it hands to the device's driver (struct uk_pci_dev, in the
 * driver's info page).  docs/storage.md, docs/network.md.
 */
#ifndef UK_PCI_H
#define UK_PCI_H

#include <uk/abi.h>

#define UK_PCI_CONFIG_ADDR   0xcf8u  /* 32-bit: enable | bus << 16 | dev << 11 | fn << 8 | reg */
#define UK_PCI_CONFIG_DATA   0xcfcu
#define UK_PCI_CONFIG_PORTS  8u      /* 0xcf8..0xcff */
#define UK_PCI_ENABLE        0x80000000u

/* Type-0 header registers (byte offsets) */
#define UK_PCI_VENDOR        0x00u   /* 16 bits; 0xffff: no function */
#define UK_PCI_DEVICE        0x02u
#define UK_PCI_COMMAND       0x04u
#define UK_PCI_CLASS_REV     0x08u   /* class << 24 | subclass << 16 | prog-if << 8 | rev */
#define UK_PCI_HEADER_TYPE   0x0eu   /* bit 7: multi-function */
#define UK_PCI_BAR0          0x10u   /* six BARs, 4 bytes apart */
#define UK_PCI_SUBSYS_ID     0x2eu
#define UK_PCI_INTR_LINE     0x3cu   /* the ISA IRQ the firmware routed INTx to */
#define UK_PCI_INTR_PIN      0x3du   /* 1..4 = INTA..INTD, 0: none */

#define UK_PCI_CMD_IO        0x1u
#define UK_PCI_CMD_MEM       0x2u
#define UK_PCI_CMD_MASTER    0x4u    /* bus mastering: the device may DMA */
#define UK_PCI_CMD_INTX_OFF  0x400u

#define UK_PCI_BAR_IO        0x1u    /* bit 0 of a BAR: I/O space */
#define UK_PCI_BARS          6u

#define UK_PCI_VENDOR_VIRTIO     0x1af4u
#define UK_PCI_DEVICE_VIRTIO_NET 0x1000u  /* legacy / transitional virtio-net */
#define UK_PCI_DEVICE_VIRTIO_BLK 0x1001u  /* legacy / transitional virtio-blk */

/* One function, as the root task found it.  bar[i]: the address (I/O port
 * or memory) with the flag bits cleared; bar_size[i]: 0 if unused. */
struct uk_pci_dev {
    unsigned char bus, dev, fn, irq;  /* irq: the Interrupt Line register */
    unsigned short vendor, device;
    unsigned int class_rev;
    unsigned int bar_is_io;           /* bit i: BAR i is I/O space */
    uk_word_t bar[UK_PCI_BARS];
    uk_word_t bar_size[UK_PCI_BARS];
};

#endif
