/* Multiboot2: the memory map, the modules and their command lines, the
 * ACPI RSDP.  Runs on the boot page tables, where the first GiB is
 * identity-mapped, so the info block is read at its physical address. */
#include "boot.h"
#include "log.h"
#include "arch/cpu.h"

#define MB2_BOOTLOADER_MAGIC 0x36d76289
#define TAG_END 0
#define TAG_CMDLINE 1
#define TAG_MODULE 3
#define TAG_MMAP 6
#define TAG_ACPI_OLD 14
#define TAG_ACPI_NEW 15

static char strings[4096];
static word strings_used;

static const char *keep_string(const char *s)
{
    word n = 0;
    while (s[n])
        n++;
    if (strings_used + n + 1 > sizeof strings)
        return "";
    char *d = &strings[strings_used];
    for (word i = 0; i <= n; i++)
        d[i] = s[i];
    strings_used += n + 1;
    return d;
}

static void reserve(struct boot_params *bp, u64 start, u64 end)
{
    if (bp->nreserved < BOOT_MAX_RANGES)
        bp->reserved[bp->nreserved++] = (struct boot_range){ start, end };
}

void boot_parse(word magic, word info_phys, struct boot_params *bp)
{
    if (magic != MB2_BOOTLOADER_MAGIC)
        panic("not started by a multiboot2 loader (magic %lx)", magic);
    if (info_phys >= (1ul << 30))
        panic("multiboot2 info above 1 GiB");
    const u8 *info = (const u8 *)info_phys;
    u32 total = *(const u32 *)info;
    reserve(bp, info_phys, info_phys + total);
    bp->cmdline = "";
    for (const u8 *p = info + 8; p < info + total;) {
        u32 type = *(const u32 *)p, size = *(const u32 *)(p + 4);
        if (type == TAG_END)
            break;
        if (type == TAG_CMDLINE) {
            bp->cmdline = keep_string((const char *)p + 8);
        } else if (type == TAG_MODULE && bp->nmodules < ARRAY_SIZE(bp->modules)) {
            struct boot_module *m = &bp->modules[bp->nmodules++];
            m->start = *(const u32 *)(p + 8);
            m->end = *(const u32 *)(p + 12);
            m->cmdline = keep_string((const char *)p + 16);
            reserve(bp, m->start, m->end);
        } else if (type == TAG_MMAP) {
            u32 esize = *(const u32 *)(p + 8);
            for (const u8 *e = p + 16; e + esize <= p + size; e += esize) {
                u64 base = *(const u64 *)e, len = *(const u64 *)(e + 8);
                u32 kind = *(const u32 *)(e + 16);
                if (kind == 1 && bp->nram < BOOT_MAX_RANGES)
                    bp->ram[bp->nram++] = (struct boot_range){ base, base + len };
            }
        } else if ((type == TAG_ACPI_OLD || type == TAG_ACPI_NEW) && !bp->acpi_rsdp) {
            bp->acpi_rsdp = info_phys + (word)(p + 8 - info);
        }
        p += ALIGN_UP(size, 8);
    }
    extern char _kernel_phys_start[], _kernel_phys_end[];
    reserve(bp, 0, 0x100000);                   /* BIOS, real-mode leftovers */
    reserve(bp, (u64)_kernel_phys_start, (u64)_kernel_phys_end);
}
