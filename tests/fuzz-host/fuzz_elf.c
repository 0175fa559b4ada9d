/*
 * The static-ELF checker (libcommon/elf.c), which sees every program the
 * kernel and the root task load and every guest kernel a vmm-server loads,
 * and the loader's per-page copy plan (libuser/loader.c) that trusts it.
 * The input is the file.  It is checked for the ranges the project uses:
 * user programs [0x1000, UK_PHYS_WINDOW) (the kernel for the root task,
 * libuser's uk_load_elf) and guest kernels [0x1000, 4 GiB)
 * (vmm-server/vmm.h GUEST_KERNEL_LO/HI).  An accepted file must be what
 * elf.h promises, checked here against a parse of our own:
 *  - every non-empty PT_LOAD of the file, and nothing else, is a segment,
 *    with its address, sizes, offset and rights;
 *  - its file bytes lie inside the file (no wrap), memsz >= filesz > ...;
 *  - its pages lie inside the range, so never in the kernel half;
 *  - sorted, and no two segments share a page;
 *  - the entry lies in the bytes of an executable segment;
 *  - lowest/highest are the page span;
 *  - the loader's plan copies exactly the segment's file bytes to their
 *    addresses and zero elsewhere (checked by filling the pages of small
 *    segments, and the plan of the pages holding file bytes of any).
 * A refused file gets one of the documented reasons, and a file whose
 * header is wrong the reason elf.h gives for it (the header's checks
 * written out again here, in their order).
 */
#include "fuzz.h"
#define UK_HOST_TEST 1
#include "../../libcommon/elf.c"
#include "../../libuser/loader.c"
#define main uk_program_main          /* rt.h declares the program's main(bootinfo) */
#include "../../vmm-server/vmm.h"     /* GUEST_KERNEL_LO, GUEST_KERNEL_HI */
#undef main

static unsigned char fill_buf[16 * UK_PAGE_SIZE];

static uk_word_t page_of(uk_word_t a) { return a & ~(UK_PAGE_SIZE - 1); }

/* The PT_LOAD headers that map something, by our own reading of the file. */
static unsigned loads(const uint8_t *data, size_t size, Elf64_Phdr *out, unsigned max)
{
    Elf64_Ehdr eh;
    unsigned n = 0;
    memcpy(&eh, data, sizeof eh);
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        CHECK((unsigned __int128)eh.e_phoff + (i + 1) * sizeof ph <= size);
        memcpy(&ph, data + eh.e_phoff + i * sizeof ph, sizeof ph);
        if (ph.p_type == PT_LOAD && (ph.p_memsz || ph.p_filesz) && n < max)
            out[n++] = ph;
    }
    return n;
}

static void check_plan(const struct uk_elf_segment *s, const uint8_t *data, size_t size)
{
    uk_word_t pages = uk_seg_pages(s);
    CHECK(pages == (page_up(s->vaddr + s->memsz) - page_of(s->vaddr)) / UK_PAGE_SIZE);
    /* pages holding file bytes, and one more: the plan adds up to filesz */
    uk_word_t with_bytes = (page_up(s->vaddr + s->filesz) - page_of(s->vaddr)) / UK_PAGE_SIZE;
    uk_word_t total = 0;
    for (uk_word_t i = 0; i < pages && i <= with_bytes; i++) {
        struct uk_page_plan p = uk_seg_page_plan(s, i);
        CHECK(p.at + p.len <= UK_PAGE_SIZE);
        if (p.len) {
            CHECK(p.file_off >= s->offset && p.file_off + p.len <= s->offset + s->filesz);
            CHECK(p.file_off + p.len <= size);
            /* byte k of the page is the file byte for address page + k */
            CHECK(page_of(s->vaddr) + i * UK_PAGE_SIZE + p.at - s->vaddr == p.file_off - s->offset);
        }
        total += p.len;
    }
    CHECK(total == s->filesz);
    if (pages > sizeof fill_buf / UK_PAGE_SIZE)
        return;
    memset(fill_buf, 0xa5, sizeof fill_buf);
    uk_seg_fill(s, data, fill_buf);
    for (uk_word_t k = 0; k < pages * UK_PAGE_SIZE; k++) {
        uk_word_t va = page_of(s->vaddr) + k;
        int from_file = va >= s->vaddr && va - s->vaddr < s->filesz;
        CHECK(fill_buf[k] == (from_file ? data[s->offset + (va - s->vaddr)] : 0));
    }
    CHECK(pages * UK_PAGE_SIZE == sizeof fill_buf || fill_buf[pages * UK_PAGE_SIZE] == 0xa5);
}

/* What elf.h says of the header alone: its error, or UK_ELF_OK if the
 * header and the program header table are usable. */
static int header_error(const uint8_t *data, size_t size)
{
    if (size < 64)
        return UK_ELF_TRUNCATED;
    if (memcmp(data, "\x7f" "ELF", 4))
        return UK_ELF_BAD_MAGIC;
    uint16_t type, machine, phentsize, phnum;
    uint32_t version;
    uint64_t phoff;
    memcpy(&type, data + 16, 2);
    memcpy(&machine, data + 18, 2);
    memcpy(&version, data + 20, 4);
    memcpy(&phoff, data + 32, 8);
    memcpy(&phentsize, data + 54, 2);
    memcpy(&phnum, data + 56, 2);
    if (data[4] != 2 || data[5] != 1 || data[6] != 1 || version != 1 || machine != 62)
        return UK_ELF_BAD_CLASS;
    if (type != 2)
        return UK_ELF_BAD_TYPE;
    if (phentsize != 56 || phnum == 0)
        return UK_ELF_BAD_PHDR;
    if ((unsigned __int128)phoff + (unsigned __int128)phnum * 56 > size)
        return UK_ELF_TRUNCATED;
    return UK_ELF_OK;
}

static void check(const uint8_t *data, size_t size, uk_word_t lo, uk_word_t hi)
{
    struct uk_elf_image img;
    memset(&img, 0x5a, sizeof img);
    int err = uk_elf_check(data, size, lo, hi, &img);
    CHECK(err >= UK_ELF_OK && err <= UK_ELF_BAD_ENTRY);
    CHECK(strcmp(uk_elf_strerror(err), "unknown error") != 0);
    int header = header_error(data, size);
    CHECK(header == UK_ELF_OK ? err != UK_ELF_TRUNCATED && err != UK_ELF_BAD_MAGIC &&
                                err != UK_ELF_BAD_CLASS && err != UK_ELF_BAD_TYPE &&
                                err != UK_ELF_BAD_PHDR
                              : err == header);
    if (err != UK_ELF_OK)
        return;

    Elf64_Phdr ph[UK_ELF_MAX_SEGMENTS + 1];
    unsigned n = loads(data, size, ph, UK_ELF_MAX_SEGMENTS + 1);
    CHECK(img.nsegments >= 1 && img.nsegments == n);
    int entry_ok = 0;
    for (unsigned i = 0; i < n; i++) {
        const struct uk_elf_segment *s = &img.seg[i];
        /* it is one of the file's PT_LOADs, as they are */
        int found = 0;
        for (unsigned j = 0; j < n && !found; j++)
            found = ph[j].p_vaddr == s->vaddr && ph[j].p_memsz == s->memsz &&
                    ph[j].p_offset == s->offset && ph[j].p_filesz == s->filesz &&
                    s->flags == map_flags(ph[j].p_flags);
        CHECK(found);
        CHECK(!(s->flags & ~(unsigned)(UK_MAP_READ | UK_MAP_WRITE | UK_MAP_EXEC)));
        CHECK(s->memsz > 0 && s->filesz <= s->memsz);
        CHECK((unsigned __int128)s->offset + s->filesz <= size);
        unsigned __int128 end = (unsigned __int128)s->vaddr + s->memsz;
        CHECK(page_of(s->vaddr) >= lo && end <= hi && hi <= UK_USER_HALF_END);
        CHECK(page_up(s->vaddr + s->memsz) <= hi && page_up(s->vaddr + s->memsz) > s->vaddr);
        if (i > 0) {
            CHECK(img.seg[i - 1].vaddr < s->vaddr);
            CHECK(page_up(img.seg[i - 1].vaddr + img.seg[i - 1].memsz) <= page_of(s->vaddr));
        }
        if ((s->flags & UK_MAP_EXEC) && img.entry >= s->vaddr && img.entry - s->vaddr < s->memsz)
            entry_ok = 1;
        check_plan(s, data, size);
    }
    CHECK(entry_ok);
    Elf64_Ehdr eh;
    memcpy(&eh, data, sizeof eh);
    CHECK(img.entry == eh.e_entry);
    CHECK(img.lowest == page_of(img.seg[0].vaddr));
    CHECK(img.highest == page_up(img.seg[n - 1].vaddr + img.seg[n - 1].memsz));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check(data, size, UK_PAGE_SIZE, UK_PHYS_WINDOW);
    check(data, size, GUEST_KERNEL_LO, GUEST_KERNEL_HI);
    return 0;
}
