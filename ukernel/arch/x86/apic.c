/*
 * Interrupt controllers and the tick.  The 8259 PICs are masked; device
 * lines go through the IOAPIC (found in ACPI's MADT, with its ISA
 * overrides), the tick is the local APIC timer, in TSC-deadline mode where
 * the CPU has it.  The TSC is calibrated against the PIT.
 */
#include "arch/cpu.h"
#include "arch/arch.h"
#include "log.h"

#define LAPIC_ID        0x020
#define LAPIC_EOI       0x0b0
#define LAPIC_SVR       0x0f0
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_CUR 0x390
#define LAPIC_TIMER_DIV 0x3e0

static volatile u32 *lapic;
static volatile u32 *ioapic;
static unsigned gsi_of_irq[16];          /* ISA IRQ -> IOAPIC pin */
static u16 gsi_flags[16];                /* MADT polarity/trigger */
static bool tsc_deadline;
static u32 lapic_ticks_per_tick;         /* when there is no TSC-deadline */
u64 tsc_hz;
u64 tick_tsc;
static u64 next_deadline;

static u32 lapic_read(u32 reg) { return lapic[reg / 4]; }
static void lapic_write(u32 reg, u32 v) { lapic[reg / 4] = v; }
static void ioapic_write(u32 reg, u32 v) { ioapic[0] = reg; ioapic[4] = v; }

struct acpi_header {
    char sig[4];
    u32 length;
    u8 rev, checksum;
    char oem[6], oem_table[8];
    u32 oem_rev, creator, creator_rev;
} __attribute__((packed));

/* Reads the MADT for the IOAPIC address and ISA overrides; QEMU's defaults
 * stand if ACPI is missing. */
static void parse_madt(word rsdp_phys)
{
    word ioapic_phys = 0xfec00000;
    for (unsigned i = 0; i < 16; i++)
        gsi_of_irq[i] = i;
    if (rsdp_phys) {
        const u8 *rsdp = phys_to_virt(rsdp_phys);
        u32 rsdt_phys = *(const u32 *)(rsdp + 16);
        const struct acpi_header *rsdt = phys_to_virt(rsdt_phys);
        unsigned n = (rsdt->length - sizeof *rsdt) / 4;
        const u32 *entries = (const u32 *)(rsdt + 1);
        for (unsigned i = 0; i < n; i++) {
            const struct acpi_header *h = phys_to_virt(entries[i]);
            if (__builtin_memcmp(h->sig, "APIC", 4) != 0)
                continue;
            const u8 *p = (const u8 *)h + sizeof *h + 8;
            const u8 *end = (const u8 *)h + h->length;
            for (; p + 2 <= end && p[1] >= 2; p += p[1]) {
                if (p[0] == 1)                   /* IOAPIC */
                    ioapic_phys = *(const u32 *)(p + 4);
                if (p[0] == 2 && p[3] < 16) {    /* interrupt source override */
                    gsi_of_irq[p[3]] = *(const u32 *)(p + 4);
                    gsi_flags[p[3]] = *(const u16 *)(p + 8);
                }
            }
        }
    }
    ioapic = phys_to_virt(ioapic_phys);
}

static void ioapic_route(unsigned line, bool masked)
{
    unsigned pin = irq_pin(line);
    u32 lo = IRQ_VECTOR_BASE + line;
    if (line < 16) {
        if ((gsi_flags[line] & 3) == 3) lo |= 1u << 13;   /* active low */
        if ((gsi_flags[line] & 0xc) == 0xc) lo |= 1u << 15; /* level */
    } else {
        lo |= (1u << 13) | (1u << 15);                     /* PCI: low, level */
    }
    if (masked)
        lo |= 1u << 16;
    ioapic_write(0x10 + 2 * pin + 1, 0);                   /* to APIC 0 */
    ioapic_write(0x10 + 2 * pin, lo);
}

unsigned irq_pin(unsigned line) { return line < 16 ? gsi_of_irq[line] : line; }
/* ISA lines are edge-triggered unless the MADT says otherwise; PCI, level. */
bool irq_is_level(unsigned line) { return line >= 16 || (gsi_flags[line] & 0xc) == 0xc; }
void irq_mask(unsigned line)   { ioapic_route(line, true); }
void irq_unmask(unsigned line) { ioapic_route(line, false); }
void apic_eoi(void)            { lapic_write(LAPIC_EOI, 0); }

/* The 8259s are not used, but the root task's I/O-port capability reaches
 * them: move their vectors (reset default 8-15, the CPU's exceptions) to
 * PIC_VECTOR_BASE so an unmasked line can only ever raise an interrupt the
 * kernel acknowledges and ignores. */
static void pic_remap_and_mask(void)
{
    outb(0x20, 0x11);                    /* ICW1: init, ICW4 follows */
    outb(0xa0, 0x11);
    outb(0x21, PIC_VECTOR_BASE);         /* ICW2: vectors */
    outb(0xa1, PIC_VECTOR_BASE + 8);
    outb(0x21, 0x04);                    /* ICW3: slave on line 2 */
    outb(0xa1, 0x02);
    outb(0x21, 0x01);                    /* ICW4: 8086 mode */
    outb(0xa1, 0x01);
    outb(0x21, 0xff);                    /* all lines masked */
    outb(0xa1, 0xff);
}

void pic_eoi(unsigned vector)
{
    if (vector >= PIC_VECTOR_BASE + 8)
        outb(0xa0, 0x20);
    outb(0x20, 0x20);
}

void apic_init(word rsdp_phys)
{
    pic_remap_and_mask();
    lapic = phys_to_virt(rdmsr(MSR_APIC_BASE) & ~0xffful);
    lapic_write(LAPIC_SVR, 0x100 | VECTOR_SPURIOUS);
    parse_madt(rsdp_phys);
    for (unsigned line = 0; line < IRQ_LINES; line++)
        irq_mask(line);
}

/* PIT channel 2 counts 10 ms while we read the TSC and the APIC timer. */
static void calibrate(void)
{
    u32 pit_count = 1193182 / 100;
    outb(0x61, (inb(0x61) & ~0x02) | 0x01);  /* gate on, speaker off */
    outb(0x43, 0xb0);                        /* channel 2, mode 0, binary */
    outb(0x42, pit_count & 0xff);
    outb(0x42, pit_count >> 8);
    lapic_write(LAPIC_TIMER_DIV, 0xb);       /* divide by 1 */
    lapic_write(LAPIC_LVT_TIMER, 1u << 16);  /* masked */
    lapic_write(LAPIC_TIMER_INIT, 0xffffffff);
    u64 t0 = rdtsc();
    while (!(inb(0x61) & 0x20))
        ;
    u64 t1 = rdtsc();
    u32 apic_elapsed = 0xffffffff - lapic_read(LAPIC_TIMER_CUR);
    tsc_hz = (t1 - t0) * 100;
    lapic_ticks_per_tick = (u32)((u64)apic_elapsed * 100 / TICK_HZ);
    if (lapic_ticks_per_tick == 0)
        lapic_ticks_per_tick = 1;
}

void timer_init(void)
{
    u32 a, b, c, d;
    calibrate();
    tick_tsc = tsc_hz / TICK_HZ;
    cpuid(1, 0, &a, &b, &c, &d);
    tsc_deadline = (c >> 24) & 1;
    if (tsc_deadline) {
        lapic_write(LAPIC_LVT_TIMER, VECTOR_TIMER | (2u << 17));
        next_deadline = rdtsc() + tick_tsc;
        wrmsr(MSR_TSC_DEADLINE, next_deadline);
    } else {
        lapic_write(LAPIC_LVT_TIMER, VECTOR_TIMER | (1u << 17));   /* periodic */
        lapic_write(LAPIC_TIMER_INIT, lapic_ticks_per_tick);
    }
    kprintf("timer: TSC %lu kHz, %s, tick %d Hz\n", tsc_hz / 1000,
            tsc_deadline ? "TSC-deadline" : "APIC periodic", TICK_HZ);
}

/* A periodic tick in TSC-deadline mode: step the deadline past now. */
void timer_rearm(void)
{
    if (!tsc_deadline)
        return;
    u64 now = rdtsc();
    do
        next_deadline += tick_tsc;
    while (next_deadline <= now);
    wrmsr(MSR_TSC_DEADLINE, next_deadline);
}
