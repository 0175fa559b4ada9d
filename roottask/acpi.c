/*
 * The machine's power button and its power-off (docs/shutdown.md): the ACPI
 * fixed hardware of the PIIX4's power-management function, which is what
 * QEMU's `pc` machine has (PCI 00:01.3, 8086:7113).  Its PM I/O block is
 * where the firmware put it (config register 0x40, enabled by bit 0 of
 * 0x80; SeaBIOS: 0x600); its SCI is IRQ 9 (the Interrupt Line register, a
 * level line the MADT marks active-high).  QEMU's `system_powerdown` (the
 * monitor command; its power button) sets PWRBTN_STS in PM1a status if
 * PWRBTN_EN is set in PM1a enable, and raises the SCI while both are.
 *
 * We are the PCI owner, so we read the function's configuration ourselves
 * and keep what we need: an I/O-port cap for PM1a status, enable and
 * control (6 ports), one for the SMI command port (ACPI mode on), our own
 * holder of IRQ 9 bound to a notification that is bound to our main
 * thread (badge ROOT_BELL_SCI), so the wait loop in main.c hears the button
 * in the same receive as the vmm-servers' endings.  Nothing of it is
 * given to another task.
 *
 * Power-off: SLP_TYP 0 | SLP_EN into PM1a control, QEMU's soft-off (its
 * DSDT's \_S5 is 0); QEMU then exits by itself (status 0).
 */
#include "root.h"
#include <user/pci.h>

#define PIIX4_PM_VENDOR   0x8086u
#define PIIX4_PM_DEVICE   0x7113u
#define PIIX4_PMBA        0x40u     /* PM I/O base: bits 6-15, bit 0 reads 1 (I/O) */
#define PIIX4_PMREGMISC   0x80u     /* bit 0: the PM I/O block decodes */
#define PIIX4_PMBA_MASK   0xffc0u
/* The PM I/O block (PIIX4 datasheet; QEMU hw/acpi/core.c), 16-bit registers */
#define PM1_STS           0x0u      /* write 1 to clear */
#define PM1_EN            0x2u
#define PM1_CNT           0x4u
#define PM1_PORTS         6u
#define PM1_PWRBTN        0x100u    /* bit 8 in both PM1_STS and PM1_EN */
#define PM1_CNT_SCI_EN    0x1u
#define PM1_CNT_SLP_EN    0x2000u
#define PM1_CNT_SLP_TYP   10        /* shift; S5 (soft off) is 0 under QEMU */
/* ACPI mode: ACPI_ENABLE written to the SMI command port (the FADT's
 * SMI_CMD and ACPI_ENABLE; QEMU's piix4: port 0xb2, value 0xf1) */
#define SMI_CMD_PORT      0xb2u
#define ACPI_ENABLE_CMD   0xf1u

static struct {
    int live;
    uk_word_t pm;             /* the PM I/O block's first port */
    uk_word_t ports, irq, notif, irq_notif;
} A;

static void say(const char *what, long err)
{
    printf("root task: acpi: %s (error %ld): no power button\n", what, err);
}

static uk_word_t pm_in(unsigned reg)
{
    uk_word_t v = 0;
    uk_in(A.ports, A.pm + reg, 2, &v);
    return v & 0xffff;
}

static long pm_out(unsigned reg, uk_word_t v)
{
    return uk_out(A.ports, A.pm + reg, 2, v);
}

/* ACPI mode on (SCI_EN) if the firmware left it off: the SMI command. */
static int acpi_mode_on(void)
{
    if (pm_in(PM1_CNT) & PM1_CNT_SCI_EN)
        return 1;
    uk_word_t smi = uk_slot_alloc();
    long err = uk_ioport_issue(UK_SLOT_IOPORT_ALL, SMI_CMD_PORT, 1, smi);
    if (!err)
        err = uk_out(smi, SMI_CMD_PORT, 1, ACPI_ENABLE_CMD);
    uk_cap_delete(UK_SLOT_SELF_TASK, smi);
    for (int i = 0; !err && i < 1000; i++)     /* the spec allows the switch to take time */
        if (pm_in(PM1_CNT) & PM1_CNT_SCI_EN)
            return 1;
    return 0;
}

int acpi_start(void)
{
    struct uk_pci_dev pm;
    uk_word_t cfg = uk_slot_alloc();
    long err;

    memset(&A, 0, sizeof A);
    if ((err = uk_ioport_issue(UK_SLOT_IOPORT_ALL, UK_PCI_CONFIG_ADDR, UK_PCI_CONFIG_PORTS,
                               cfg))) {
        say("no PCI configuration ports", err);
        return 0;
    }
    unsigned n = pci_find(cfg, PIIX4_PM_VENDOR, PIIX4_PM_DEVICE, &pm, 1);
    uk_word_t base = 0, misc = 0;
    if (n) {
        base = pci_read(cfg, pm.bus, pm.dev, pm.fn, PIIX4_PMBA, 4) & PIIX4_PMBA_MASK;
        misc = pci_read(cfg, pm.bus, pm.dev, pm.fn, PIIX4_PMREGMISC, 1);
    }
    uk_cap_delete(UK_SLOT_SELF_TASK, cfg);
    if (!n) {
        printf("root task: acpi: no PIIX4 power management (8086:7113) on the PCI bus: "
               "no power button\n");
        return 0;
    }
    if (!base || !(misc & 1) || pm.irq == 0 || pm.irq >= 16) {
        printf("root task: acpi: PIIX4 PM at %02x:%02x.%x not set up by the firmware "
               "(PM base 0x%lx, %s, IRQ %u): no power button\n", pm.bus, pm.dev, pm.fn, base,
               misc & 1 ? "decoding" : "not decoding", pm.irq);
        return 0;
    }
    A.pm = base;
    A.ports = uk_slot_alloc();
    A.irq = uk_slot_alloc();
    A.notif = uk_slot_alloc();
    A.irq_notif = uk_slot_alloc();
    if ((err = uk_ioport_issue(UK_SLOT_IOPORT_ALL, base, PM1_PORTS, A.ports))) {
        say("PM1 ports", err);
        return 0;
    }
    if (!acpi_mode_on()) {
        say("ACPI mode did not come on (SCI_EN)", UK_E_STATE);
        return 0;
    }
    /* only the power button raises the SCI: nothing else we would have to
     * quiet; a press from before we were here is forgotten */
    pm_out(PM1_EN, PM1_PWRBTN);
    pm_out(PM1_STS, PM1_PWRBTN);
    if ((err = uk_notif_create(A.notif)) ||
        (err = uk_cap_copy(A.notif, UK_SLOT_SELF_TASK, A.irq_notif, UK_R_WRITE,
                           ROOT_BELL_SCI)) ||
        (err = uk_notif_bind(A.notif, UK_SLOT_SELF_THREAD)) ||
        (err = uk_irq_get(UK_SLOT_IRQ_CONTROL, pm.irq, A.irq)) ||
        (err = uk_irq_bind(A.irq, A.irq_notif))) {
        say("the SCI's notification", err);
        pm_out(PM1_EN, 0);
        return 0;
    }
    A.live = 1;
    printf("root task: acpi: power button on (PIIX4 PM %02x:%02x.%x, PM1 at 0x%lx, SCI on IRQ "
           "%u)\n", pm.bus, pm.dev, pm.fn, base, pm.irq);
    return 1;
}

int acpi_event(uk_word_t bits)
{
    if (!A.live || !(bits & ROOT_BELL_SCI))
        return 0;
    uk_word_t sts = pm_in(PM1_STS);
    if (sts & PM1_PWRBTN)
        pm_out(PM1_STS, PM1_PWRBTN);     /* write 1 to clear: the SCI goes down */
    uk_irq_ack(A.irq);
    return (sts & PM1_PWRBTN) != 0;
}

int acpi_wait_button(void)
{
    if (!A.live)
        return 0;
    for (;;) {
        struct uk_msg m = { .info = uk_msginfo(0, 0, UK_TIMEOUT_INFINITE) };
        if (uk_recv(A.notif, &m) != UK_OK)
            return 0;
        if (acpi_event(m.badge))
            return 1;
    }
}

void acpi_power_off(void)
{
    if (!A.live)
        return;
    printf("root task: acpi: powering the machine off (S5)\n");
    pm_out(PM1_CNT, (pm_in(PM1_CNT) & ~(0x7u << PM1_CNT_SLP_TYP)) | PM1_CNT_SLP_EN);
    /* QEMU stops at once; real hardware may take a moment */
    for (int i = 0; i < 1000000; i++)
        uk_yield();
    printf("root task: acpi: still running after S5\n");
}
