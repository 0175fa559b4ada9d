/* Host tests of the static-ELF checker (libcommon/elf.c).  Files are built
 * in memory; every check runs on an exact-size heap copy so ASan catches any
 * read past the end. */
#include "host_stubs.h"
#include "../../libcommon/elf.c"

#include <stdint.h>
#include <string.h>

#define LO 0x1000ul
#define HI UK_USER_HALF_END    /* user half: the kernel half is above */

#define PT_NOTE      4u
#define PT_GNU_STACK 0x6474e551u

struct seg { u32 type, flags; u64 off, vaddr, filesz, memsz; };

static unsigned char file[0x3000];
static struct uk_elf_image img;

/* Write an Ehdr, n Phdrs right after it, and a payload for each PT_LOAD
 * whose bytes fit in the buffer.  Returns the file size: the end of the
 * headers or of the last segment's file bytes, whichever is later. */
static size_t build(u64 entry, const struct seg *s, unsigned n)
{
    Elf64_Ehdr eh;
    size_t end = sizeof eh + n * sizeof(Elf64_Phdr);

    memset(file, 0, sizeof file);
    memset(&eh, 0, sizeof eh);
    memcpy(eh.e_ident, "\177ELF", 4);
    eh.e_ident[4] = ELFCLASS64;
    eh.e_ident[5] = ELFDATA2LSB;
    eh.e_ident[6] = EV_CURRENT;
    eh.e_type = ET_EXEC;
    eh.e_machine = EM_X86_64;
    eh.e_version = EV_CURRENT;
    eh.e_entry = entry;
    eh.e_phoff = sizeof eh;
    eh.e_ehsize = sizeof eh;
    eh.e_phentsize = sizeof(Elf64_Phdr);
    eh.e_phnum = n;
    memcpy(file, &eh, sizeof eh);
    for (unsigned i = 0; i < n; i++) {
        Elf64_Phdr ph = { .p_type = s[i].type, .p_flags = s[i].flags,
                          .p_offset = s[i].off, .p_vaddr = s[i].vaddr,
                          .p_paddr = s[i].vaddr, .p_filesz = s[i].filesz,
                          .p_memsz = s[i].memsz, .p_align = 0x1000 };
        memcpy(file + sizeof eh + i * sizeof ph, &ph, sizeof ph);
        if (s[i].type == PT_LOAD && s[i].off <= sizeof file &&
            s[i].filesz <= sizeof file - s[i].off) {
            memset(file + s[i].off, 0xc3 ^ i, s[i].filesz);
            if (s[i].off + s[i].filesz > end)
                end = s[i].off + s[i].filesz;
        }
    }
    return end;
}

static void set16(size_t at, u16 v) { memcpy(file + at, &v, sizeof v); }
static void set32(size_t at, u32 v) { memcpy(file + at, &v, sizeof v); }
static void set64(size_t at, u64 v) { memcpy(file + at, &v, sizeof v); }
#define EH(f) offsetof(Elf64_Ehdr, f)

/* Check len bytes of src from an exact-size heap copy. */
static int check_at(const unsigned char *src, size_t len, uk_word_t lo, uk_word_t hi)
{
    unsigned char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, src, len);
    memset(&img, 0xa5, sizeof img);
    int r = uk_elf_check(copy, len, lo, hi, &img);
    free(copy);
    return r;
}
static int check(size_t len) { return check_at(file, len, LO, HI); }

/* The reference file: data segment listed before text to test the sort. */
#define TEXT_VA  0x400000ul
#define DATA_VA  0x401000ul
#define ENTRY    (TEXT_VA + 0x10)
static const struct seg valid[] = {
    { PT_LOAD, PF_R | PF_W, 0x2000, DATA_VA, 0x80, 0x3000 },   /* .data + .bss */
    { PT_LOAD, PF_R | PF_X, 0x1000, TEXT_VA, 0x100, 0x100 },   /* .text */
};
static size_t build_valid(void) { return build(ENTRY, valid, 2); }

/* One segment, entry at its start, for single-field error tests. */
static int check_one(u32 flags, u64 off, u64 vaddr, u64 filesz, u64 memsz)
{
    struct seg s = { PT_LOAD, flags, off, vaddr, filesz, memsz };
    return check(build(vaddr, &s, 1));
}

/* ------------------------------------------------------------------ */

static void test_valid_two_segments(void **state)
{
    (void)state;
    size_t n = build_valid();
    assert_int_equal(n, 0x2080);
    assert_int_equal(check(n), UK_ELF_OK);
    assert_int_equal(img.entry, ENTRY);
    assert_int_equal(img.nsegments, 2);
    assert_int_equal(img.seg[0].vaddr, TEXT_VA);
    assert_int_equal(img.seg[0].memsz, 0x100);
    assert_int_equal(img.seg[0].offset, 0x1000);
    assert_int_equal(img.seg[0].filesz, 0x100);
    assert_int_equal(img.seg[0].flags, UK_MAP_READ | UK_MAP_EXEC);
    assert_int_equal(img.seg[1].vaddr, DATA_VA);
    assert_int_equal(img.seg[1].memsz, 0x3000);
    assert_int_equal(img.seg[1].offset, 0x2000);
    assert_int_equal(img.seg[1].filesz, 0x80);
    assert_int_equal(img.seg[1].flags, UK_MAP_READ | UK_MAP_WRITE);
    assert_int_equal(img.lowest, TEXT_VA);
    assert_int_equal(img.highest, DATA_VA + 0x3000);
}

static void test_unaligned_buffer(void **state)
{
    (void)state;
    size_t n = build_valid();
    unsigned char *buf = malloc(n + 1);
    assert_non_null(buf);
    memcpy(buf + 1, file, n);
    assert_int_equal(uk_elf_check(buf + 1, n, LO, HI, &img), UK_ELF_OK);
    assert_int_equal(img.nsegments, 2);
    free(buf);
}

static void test_ignores_non_load(void **state)
{
    (void)state;
    /* Other types are ignored even with absurd fields, and so is an empty
     * PT_LOAD, even one in the kernel half. */
    struct seg s[] = {
        { PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0 },
        valid[0],
        { PT_NOTE, PF_R, ~0ul - 4, ~0ul, 0x100, 0x100 },
        { PT_LOAD, PF_R, 0, 0xffffffff80000000ul, 0, 0 },
        valid[1],
    };
    assert_int_equal(check(build(ENTRY, s, 5)), UK_ELF_OK);
    assert_int_equal(img.nsegments, 2);
    assert_int_equal(img.seg[0].vaddr, TEXT_VA);
    assert_int_equal(img.seg[1].vaddr, DATA_VA);
}

static void test_truncated_header(void **state)
{
    (void)state;
    build_valid();
    for (size_t len = 0; len < sizeof(Elf64_Ehdr); len++)
        assert_int_equal(check(len), UK_ELF_TRUNCATED);
    assert_int_equal(uk_elf_check(NULL, 0, LO, HI, &img), UK_ELF_TRUNCATED);
}

static void test_truncated_every_length(void **state)
{
    (void)state;
    size_t full = build_valid();
    for (size_t len = 0; len < full; len++) {
        int r = check(len);
        assert_int_not_equal(r, UK_ELF_OK);
        /* Cut inside the headers: the table is reported truncated; cut
         * inside a segment's bytes: that segment is malformed. */
        if (len < sizeof(Elf64_Ehdr) + 2 * sizeof(Elf64_Phdr))
            assert_int_equal(r, UK_ELF_TRUNCATED);
        else
            assert_int_equal(r, UK_ELF_BAD_SEGMENT);
    }
    assert_int_equal(check(full), UK_ELF_OK);
}

static void test_bad_magic(void **state)
{
    (void)state;
    for (size_t at = 0; at < 4; at++) {
        size_t n = build_valid();
        file[at] ^= 0x20;
        assert_int_equal(check(n), UK_ELF_BAD_MAGIC);
    }
}

static void test_bad_class(void **state)
{
    (void)state;
    size_t n = build_valid();
    file[4] = 1;                           /* ELFCLASS32 */
    assert_int_equal(check(n), UK_ELF_BAD_CLASS);
    build_valid(); file[5] = 2;            /* big-endian */
    assert_int_equal(check(n), UK_ELF_BAD_CLASS);
    build_valid(); file[6] = 0;            /* EI_VERSION */
    assert_int_equal(check(n), UK_ELF_BAD_CLASS);
    build_valid(); set32(EH(e_version), 2);
    assert_int_equal(check(n), UK_ELF_BAD_CLASS);
    build_valid(); set16(EH(e_machine), 3); /* i386 */
    assert_int_equal(check(n), UK_ELF_BAD_CLASS);
}

static void test_bad_type(void **state)
{
    (void)state;
    size_t n = build_valid();
    set16(EH(e_type), 3);                  /* ET_DYN (PIE) */
    assert_int_equal(check(n), UK_ELF_BAD_TYPE);
    set16(EH(e_type), 1);                  /* ET_REL */
    assert_int_equal(check(n), UK_ELF_BAD_TYPE);
}

static void test_bad_phdr(void **state)
{
    (void)state;
    size_t n = build_valid();
    set16(EH(e_phentsize), 32);
    assert_int_equal(check(n), UK_ELF_BAD_PHDR);
    set16(EH(e_phentsize), 57);
    assert_int_equal(check(n), UK_ELF_BAD_PHDR);
    build_valid();
    set16(EH(e_phnum), 0);
    assert_int_equal(check(n), UK_ELF_BAD_PHDR);
}

static void test_phdr_table_outside_file(void **state)
{
    (void)state;
    size_t n = build_valid();
    static const u64 offs[] = { ~0ul, ~0ul - 55, ~0ul - 0x1000, 1ul << 63, 0x10000 };
    for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
        set64(EH(e_phoff), offs[i]);       /* phoff + table would wrap */
        assert_int_equal(check(n), UK_ELF_TRUNCATED);
    }
    set64(EH(e_phoff), n - 56 + 1);        /* last byte of the table past the end */
    assert_int_equal(check(n), UK_ELF_TRUNCATED);
    build_valid();
    set16(EH(e_phnum), 0xffff);            /* 3.5 MiB of table */
    assert_int_equal(check(n), UK_ELF_TRUNCATED);
}

static void test_no_segments(void **state)
{
    (void)state;
    struct seg s[] = {
        { PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0 },
        { PT_LOAD, PF_R | PF_X, 0, TEXT_VA, 0, 0 },   /* empty: skipped */
    };
    assert_int_equal(check(build(TEXT_VA, s, 2)), UK_ELF_NO_SEGMENTS);
}

static void test_too_many(void **state)
{
    (void)state;
    struct seg s[UK_ELF_MAX_SEGMENTS + 1];
    for (unsigned i = 0; i < UK_ELF_MAX_SEGMENTS + 1; i++)
        s[i] = (struct seg){ PT_LOAD, PF_R | PF_X, 0x1000, TEXT_VA + i * 0x1000, 0x10, 0x10 };
    assert_int_equal(check(build(TEXT_VA, s, UK_ELF_MAX_SEGMENTS)), UK_ELF_OK);
    assert_int_equal(img.nsegments, UK_ELF_MAX_SEGMENTS);
    assert_int_equal(img.highest, TEXT_VA + UK_ELF_MAX_SEGMENTS * 0x1000ul);
    assert_int_equal(check(build(TEXT_VA, s, UK_ELF_MAX_SEGMENTS + 1)), UK_ELF_TOO_MANY);
}

static void test_bad_segment(void **state)
{
    (void)state;
    /* filesz > memsz */
    assert_int_equal(check_one(PF_X, 0x1000, TEXT_VA, 0x200, 0x100), UK_ELF_BAD_SEGMENT);
    /* memsz 0 with file bytes */
    assert_int_equal(check_one(PF_X, 0x1000, TEXT_VA, 0x10, 0), UK_ELF_BAD_SEGMENT);
    /* file bytes past the end: offset past it, and offset + filesz wrapping */
    assert_int_equal(check_one(PF_X, 0x100000, TEXT_VA, 0x10, 0x10), UK_ELF_BAD_SEGMENT);
    assert_int_equal(check_one(PF_X, ~0ul - 0xf, TEXT_VA, 0x20, 0x20), UK_ELF_BAD_SEGMENT);
    assert_int_equal(check_one(PF_X, 0x1000, TEXT_VA, ~0ul - 0xfff, ~0ul - 0xfff),
                     UK_ELF_BAD_SEGMENT);
    /* vaddr + memsz wraps; and its page-rounded end wraps */
    assert_int_equal(check_one(PF_X, 0x1000, ~0ul - 0xfff, 0x10, 0x2000), UK_ELF_BAD_SEGMENT);
    assert_int_equal(check_one(PF_X, 0x1000, ~0ul - 0x1f, 0x10, 0x10), UK_ELF_BAD_SEGMENT);
    assert_int_equal(check_one(PF_X, 0x1000, TEXT_VA, 0x10, ~0ul), UK_ELF_BAD_SEGMENT);
}

static void test_out_of_range(void **state)
{
    (void)state;
    /* kernel half */
    assert_int_equal(check_one(PF_R | PF_X, 0x1000, 0xffffffff80000000ul, 0x10, 0x10),
                     UK_ELF_OUT_OF_RANGE);
    /* first non-canonical page, and crossing hi */
    assert_int_equal(check_one(PF_R | PF_X, 0x1000, HI, 0x10, 0x10), UK_ELF_OUT_OF_RANGE);
    assert_int_equal(check_one(PF_R | PF_X, 0x1000, HI - 0x1000, 0x10, 0x1001),
                     UK_ELF_OUT_OF_RANGE);
    /* the last page below hi is fine */
    assert_int_equal(check_one(PF_R | PF_X, 0x1000, HI - 0x1000, 0x10, 0x1000), UK_ELF_OK);
    /* page zero, below lo */
    assert_int_equal(check_one(PF_R | PF_X, 0x1000, 0x10, 0x10, 0x10), UK_ELF_OUT_OF_RANGE);
    /* the page span counts: vaddr >= lo but its page starts below it */
    struct seg s = { PT_LOAD, PF_X, 0x1000, 0x1800, 0x10, 0x10 };
    size_t n = build(0x1800, &s, 1);
    assert_int_equal(check_at(file, n, 0x1800, HI), UK_ELF_OUT_OF_RANGE);
    assert_int_equal(check_at(file, n, 0x1000, HI), UK_ELF_OK);
    /* and so does the end: its last page reaches past hi */
    assert_int_equal(check_at(file, n, 0x1000, 0x1900), UK_ELF_OUT_OF_RANGE);
    assert_int_equal(check_at(file, n, 0x1000, 0x2000), UK_ELF_OK);
}

static void test_overlap(void **state)
{
    (void)state;
    /* bytes apart but sharing a page: refused by rule */
    struct seg s[] = {
        { PT_LOAD, PF_R | PF_X, 0x1000, TEXT_VA, 0x100, 0x800 },
        { PT_LOAD, PF_R | PF_W, 0x2000, TEXT_VA + 0x800, 0x80, 0x800 },
    };
    assert_int_equal(check(build(TEXT_VA, s, 2)), UK_ELF_OVERLAP);
    /* really overlapping, listed in reverse order */
    struct seg t[] = {
        { PT_LOAD, PF_R | PF_W, 0x2000, TEXT_VA + 0x1000, 0x80, 0x3000 },
        { PT_LOAD, PF_R | PF_X, 0x1000, TEXT_VA, 0x100, 0x2000 },
    };
    assert_int_equal(check(build(TEXT_VA, t, 2)), UK_ELF_OVERLAP);
    /* same vaddr */
    struct seg u[] = {
        { PT_LOAD, PF_R | PF_X, 0x1000, TEXT_VA, 0x100, 0x100 },
        { PT_LOAD, PF_R | PF_W, 0x2000, TEXT_VA, 0x80, 0x80 },
    };
    assert_int_equal(check(build(TEXT_VA, u, 2)), UK_ELF_OVERLAP);
    /* a small segment inside a big one, not a neighbour in the list */
    struct seg v[] = {
        { PT_LOAD, PF_R | PF_X, 0x1000, TEXT_VA, 0x100, 0x10000 },
        { PT_LOAD, PF_R, 0x1000, TEXT_VA + 0x20000, 0x100, 0x100 },
        { PT_LOAD, PF_R | PF_W, 0x2000, TEXT_VA + 0x8000, 0x80, 0x80 },
    };
    assert_int_equal(check(build(TEXT_VA, v, 3)), UK_ELF_OVERLAP);
}

static void test_bad_entry(void **state)
{
    (void)state;
    size_t n = build_valid();
    set64(EH(e_entry), DATA_VA + 0x10);               /* in RW data */
    assert_int_equal(check(n), UK_ELF_BAD_ENTRY);
    set64(EH(e_entry), TEXT_VA + 0x100);              /* one past text */
    assert_int_equal(check(n), UK_ELF_BAD_ENTRY);
    set64(EH(e_entry), TEXT_VA - 1);
    assert_int_equal(check(n), UK_ELF_BAD_ENTRY);
    set64(EH(e_entry), 0);
    assert_int_equal(check(n), UK_ELF_BAD_ENTRY);
    set64(EH(e_entry), 0xffffffff80000000ul);         /* kernel half */
    assert_int_equal(check(n), UK_ELF_BAD_ENTRY);
    set64(EH(e_entry), TEXT_VA + 0xff);               /* last byte of text */
    assert_int_equal(check(n), UK_ELF_OK);
}

static void test_strerror(void **state)
{
    (void)state;
    assert_string_equal(uk_elf_strerror(UK_ELF_TRUNCATED), "file truncated");
    assert_string_equal(uk_elf_strerror(UK_ELF_BAD_MAGIC), "not an ELF file");
    /* each code its own reason */
    for (int a = UK_ELF_OK; a <= UK_ELF_BAD_ENTRY; a++) {
        assert_string_not_equal(uk_elf_strerror(a), "unknown error");
        for (int b = a + 1; b <= UK_ELF_BAD_ENTRY; b++)
            assert_string_not_equal(uk_elf_strerror(a), uk_elf_strerror(b));
    }
    assert_string_equal(uk_elf_strerror(-1), "unknown error");
    assert_string_equal(uk_elf_strerror(UK_ELF_BAD_ENTRY + 1), "unknown error");
}

/* Flip random bytes, mostly in the headers where they matter; whatever the
 * checker says, it must not crash, and an accepted file must be sound. */
static void test_fuzz(void **state)
{
    (void)state;
    const size_t hdrs = sizeof(Elf64_Ehdr) + 2 * sizeof(Elf64_Phdr);
    unsigned long long rng = 0x9e3779b97f4a7c15ull;
    unsigned ok = 0;

    for (int iter = 0; iter < 20000; iter++) {
        size_t n = build_valid();
        int flips = 1 + (int)((rng >> 60) & 7);
        for (int k = 0; k < flips; k++) {
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            size_t at = (rng >> 33) % ((rng >> 20) & 3 ? hdrs : n);
            file[at] = (unsigned char)(rng >> 40);
        }
        if (((rng >> 50) & 31) == 0)        /* now and then, cut it short */
            n = (rng >> 8) % n;
        if (check(n) != UK_ELF_OK)
            continue;
        ok++;
        assert_true(img.nsegments >= 1 && img.nsegments <= UK_ELF_MAX_SEGMENTS);
        assert_true(img.lowest >= LO && img.highest <= HI && img.lowest < img.highest);
        int entry_ok = 0;
        for (unsigned i = 0; i < img.nsegments; i++) {
            const struct uk_elf_segment *s = &img.seg[i];
            assert_true(s->memsz > 0 && s->filesz <= s->memsz);
            assert_true(s->offset <= n && s->filesz <= n - s->offset);
            /* in [LO, HI) by its own fields, and within lowest/highest */
            assert_true(ALIGN_DOWN(s->vaddr) >= LO && s->vaddr < HI &&
                        s->memsz <= HI - s->vaddr &&
                        ALIGN_UP(s->vaddr + s->memsz) <= HI);
            assert_true(s->vaddr >= img.lowest && s->memsz <= img.highest - s->vaddr);
            if (i > 0)
                assert_true(ALIGN_UP(img.seg[i - 1].vaddr + img.seg[i - 1].memsz) <=
                            ALIGN_DOWN(s->vaddr));
            if ((s->flags & UK_MAP_EXEC) && img.entry >= s->vaddr &&
                img.entry - s->vaddr < s->memsz)
                entry_ok = 1;
        }
        assert_true(entry_ok);
    }
    /* the loop must exercise acceptance too, not only refusals */
    assert_true(ok > 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_two_segments),
        cmocka_unit_test(test_unaligned_buffer),
        cmocka_unit_test(test_ignores_non_load),
        cmocka_unit_test(test_truncated_header),
        cmocka_unit_test(test_truncated_every_length),
        cmocka_unit_test(test_bad_magic),
        cmocka_unit_test(test_bad_class),
        cmocka_unit_test(test_bad_type),
        cmocka_unit_test(test_bad_phdr),
        cmocka_unit_test(test_phdr_table_outside_file),
        cmocka_unit_test(test_no_segments),
        cmocka_unit_test(test_too_many),
        cmocka_unit_test(test_bad_segment),
        cmocka_unit_test(test_out_of_range),
        cmocka_unit_test(test_overlap),
        cmocka_unit_test(test_bad_entry),
        cmocka_unit_test(test_strerror),
        cmocka_unit_test(test_fuzz),
    };
    return cmocka_run_group_tests_name("elf", tests, NULL, NULL);
}
