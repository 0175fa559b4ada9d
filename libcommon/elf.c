/*
 * Static ELF64 x86-64 checker (see common/elf.h).  The file is untrusted: every
 * read is bounds-checked against [data, data + size) with arithmetic that
 * cannot overflow, and multi-byte fields are copied out with memcpy so an
 * unaligned module is fine.  Freestanding: no libc.
 *
 * Rules worth knowing (the loaders rely on them):
 *  - only PT_LOAD segments are looked at; PT_GNU_STACK, PT_NOTE etc. ignored;
 *  - an empty PT_LOAD (memsz == 0 and filesz == 0) maps nothing and is
 *    skipped, as some linkers emit them; it does not count toward the limit;
 *  - two segments may not share a page, even if their bytes do not overlap:
 *    a page has one set of rights, and the loader maps each segment's pages
 *    on their own.  Link with page-aligned segments (ld -z separate-code or
 *    max-page-size=4096 does this);
 *  - the entry point must lie inside the bytes of an executable segment.
 */
#include <common/elf.h>

typedef __UINT8_TYPE__  u8;
typedef __UINT16_TYPE__ u16;
typedef __UINT32_TYPE__ u32;
typedef __UINT64_TYPE__ u64;

typedef struct {
    u8  e_ident[16];
    u16 e_type, e_machine;
    u32 e_version;
    u64 e_entry, e_phoff, e_shoff;
    u32 e_flags;
    u16 e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx;
} Elf64_Ehdr;

typedef struct {
    u32 p_type, p_flags;
    u64 p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align;
} Elf64_Phdr;

_Static_assert(sizeof(Elf64_Ehdr) == 64, "Elf64_Ehdr layout");
_Static_assert(sizeof(Elf64_Phdr) == 56, "Elf64_Phdr layout");

#define ELFCLASS64  2
#define ELFDATA2LSB 1
#define EV_CURRENT  1
#define ET_EXEC     2
#define EM_X86_64   62
#define PT_LOAD     1
#define PF_X        1u
#define PF_W        2u
#define PF_R        4u

#define ALIGN_DOWN(x) ((x) & ~(UK_PAGE_SIZE - 1))
#define ALIGN_UP(x)   (((x) + UK_PAGE_SIZE - 1) & ~(UK_PAGE_SIZE - 1))   /* caller rules out wrap */

static unsigned map_flags(u32 pf)
{
    return ((pf & PF_R) ? UK_MAP_READ : 0) | ((pf & PF_W) ? UK_MAP_WRITE : 0) |
           ((pf & PF_X) ? UK_MAP_EXEC : 0);
}

int uk_elf_check(const void *data, uk_word_t size, uk_word_t lo, uk_word_t hi,
                 struct uk_elf_image *img)
{
    const u8 *file = data;
    Elf64_Ehdr eh;
    unsigned n = 0, i;

    if (size < sizeof eh)
        return UK_ELF_TRUNCATED;
    __builtin_memcpy(&eh, file, sizeof eh);
    if (eh.e_ident[0] != 0x7f || eh.e_ident[1] != 'E' ||
        eh.e_ident[2] != 'L' || eh.e_ident[3] != 'F')
        return UK_ELF_BAD_MAGIC;
    if (eh.e_ident[4] != ELFCLASS64 || eh.e_ident[5] != ELFDATA2LSB ||
        eh.e_ident[6] != EV_CURRENT || eh.e_version != EV_CURRENT ||
        eh.e_machine != EM_X86_64)
        return UK_ELF_BAD_CLASS;
    if (eh.e_type != ET_EXEC)
        return UK_ELF_BAD_TYPE;
    if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0)
        return UK_ELF_BAD_PHDR;
    /* phnum * phentsize is at most 65535 * 56: no overflow.  Compare against
     * size - phoff rather than computing phoff + length, which could wrap. */
    if (eh.e_phoff > size ||
        (uk_word_t)eh.e_phnum * sizeof(Elf64_Phdr) > size - eh.e_phoff)
        return UK_ELF_TRUNCATED;

    /* Collect the PT_LOAD segments into img. */
    for (i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        __builtin_memcpy(&ph, file + eh.e_phoff + (uk_word_t)i * sizeof ph, sizeof ph);
        if (ph.p_type != PT_LOAD || (ph.p_memsz == 0 && ph.p_filesz == 0))
            continue;
        if (n == UK_ELF_MAX_SEGMENTS)
            return UK_ELF_TOO_MANY;
        img->seg[n].vaddr = ph.p_vaddr;
        img->seg[n].memsz = ph.p_memsz;
        img->seg[n].offset = ph.p_offset;
        img->seg[n].filesz = ph.p_filesz;
        img->seg[n].flags = map_flags(ph.p_flags);
        n++;
    }
    if (n == 0)
        return UK_ELF_NO_SEGMENTS;

    for (i = 0; i < n; i++) {
        const struct uk_elf_segment *s = &img->seg[i];
        /* Bytes from the file must be in the file; the end, rounded up to a
         * page, must not wrap (so ALIGN_UP below is safe). */
        if (s->filesz > s->memsz || s->memsz == 0 ||
            s->offset > size || s->filesz > size - s->offset ||
            s->vaddr > ~0ul - (UK_PAGE_SIZE - 1) ||
            s->memsz > ~0ul - (UK_PAGE_SIZE - 1) - s->vaddr)
            return UK_ELF_BAD_SEGMENT;
        if (ALIGN_DOWN(s->vaddr) < lo || ALIGN_UP(s->vaddr + s->memsz) > hi)
            return UK_ELF_OUT_OF_RANGE;
    }

    /* Insertion sort by vaddr: n <= 16. */
    for (i = 1; i < n; i++) {
        struct uk_elf_segment t = img->seg[i];
        unsigned j = i;
        for (; j > 0 && img->seg[j - 1].vaddr > t.vaddr; j--)
            img->seg[j] = img->seg[j - 1];
        img->seg[j] = t;
    }
    /* Sorted, so only neighbours can overlap.  Page spans, not bytes: a
     * shared page is refused (see the top of the file). */
    for (i = 1; i < n; i++)
        if (ALIGN_UP(img->seg[i - 1].vaddr + img->seg[i - 1].memsz) >
            ALIGN_DOWN(img->seg[i].vaddr))
            return UK_ELF_OVERLAP;

    for (i = 0; i < n; i++) {
        const struct uk_elf_segment *s = &img->seg[i];
        if ((s->flags & UK_MAP_EXEC) && eh.e_entry >= s->vaddr &&
            eh.e_entry - s->vaddr < s->memsz)
            break;
    }
    if (i == n)
        return UK_ELF_BAD_ENTRY;

    img->entry = eh.e_entry;
    img->nsegments = n;
    img->lowest = ALIGN_DOWN(img->seg[0].vaddr);
    img->highest = ALIGN_UP(img->seg[n - 1].vaddr + img->seg[n - 1].memsz);
    return UK_ELF_OK;
}

const char *uk_elf_strerror(int err)
{
    switch (err) {
    case UK_ELF_OK:           return "ok";
    case UK_ELF_TRUNCATED:    return "file truncated";
    case UK_ELF_BAD_MAGIC:    return "not an ELF file";
    case UK_ELF_BAD_CLASS:    return "not a 64-bit little-endian x86-64 file";
    case UK_ELF_BAD_TYPE:     return "not a static executable";
    case UK_ELF_BAD_PHDR:     return "bad program header table";
    case UK_ELF_NO_SEGMENTS:  return "no loadable segment";
    case UK_ELF_TOO_MANY:     return "too many loadable segments";
    case UK_ELF_BAD_SEGMENT:  return "malformed segment";
    case UK_ELF_OVERLAP:      return "segments share a page";
    case UK_ELF_OUT_OF_RANGE: return "segment outside the allowed range";
    case UK_ELF_BAD_ENTRY:    return "entry point not in an executable segment";
    default:                  return "unknown error";
    }
}
