/* Host tests of the loader's pure part (libuser/loader.c): which file
 * bytes go to which page offset, bss zeroing, segments that start and end
 * inside pages.  Files and destinations are exact-size heap blocks so ASan
 * catches any access outside them; destinations start as garbage so a byte
 * not written (or not zeroed) shows. */
#include "host_stubs.h"
#include "../../libcommon/elf.c"
#include "../../libuser/loader.c"

#include <stdint.h>
#include <string.h>

static struct uk_elf_segment seg(uk_word_t vaddr, uk_word_t memsz, uk_word_t offset,
                                 uk_word_t filesz)
{
    return (struct uk_elf_segment){ vaddr, memsz, offset, filesz, UK_MAP_READ };
}

static unsigned char *file_of(size_t size)
{
    unsigned char *f = malloc(size ? size : 1);
    for (size_t i = 0; i < size; i++)
        f[i] = (unsigned char)(i * 7 + 1) | 1;      /* never zero */
    return f;
}

/* Fill and compare every byte with what it must be: the file byte for its
 * address if within [vaddr, vaddr + filesz), zero otherwise. */
static void check_fill(const struct uk_elf_segment *s, const unsigned char *file)
{
    uk_word_t n = uk_seg_pages(s), base = s->vaddr & ~4095ul;
    unsigned char *dst = malloc(n * 4096);
    memset(dst, 0xa5, n * 4096);
    uk_seg_fill(s, file, dst);
    for (uk_word_t i = 0; i < n * 4096; i++) {
        uk_word_t va = base + i;
        unsigned char want = va >= s->vaddr && va - s->vaddr < s->filesz
                           ? file[s->offset + (va - s->vaddr)] : 0;
        if (dst[i] != want)
            fail_msg("byte %lu of segment at %lx: %02x, want %02x", i, s->vaddr, dst[i], want);
    }
    free(dst);
}

static void expect_plan(const struct uk_elf_segment *s, uk_word_t i, uk_word_t at,
                        uk_word_t file_off, uk_word_t len)
{
    struct uk_page_plan p = uk_seg_page_plan(s, i);
    assert_int_equal(p.len, len);
    if (len) {
        assert_int_equal(p.at, at);
        assert_int_equal(p.file_off, file_off);
    }
}

static void test_pages(void **state)
{
    (void)state;
    struct uk_elf_segment a = seg(0x400000, 0x1000, 0, 0x1000);
    struct uk_elf_segment b = seg(0x400fff, 2, 0, 2);          /* 2 bytes, 2 pages */
    struct uk_elf_segment c = seg(0x401234, 0x5000, 0x1234, 0x2000);
    struct uk_elf_segment d = seg(0x400000, 1, 0, 0);
    assert_int_equal(uk_seg_pages(&a), 1);
    assert_int_equal(uk_seg_pages(&b), 2);
    assert_int_equal(uk_seg_pages(&c), 6);
    assert_int_equal(uk_seg_pages(&d), 1);
}

static void test_plan_aligned(void **state)
{
    (void)state;
    struct uk_elf_segment s = seg(0x400000, 0x2000, 0x1000, 0x2000);
    expect_plan(&s, 0, 0, 0x1000, 0x1000);
    expect_plan(&s, 1, 0, 0x2000, 0x1000);
}

/* Starts inside a page, file bytes end inside a later page, bss after. */
static void test_plan_unaligned(void **state)
{
    (void)state;
    struct uk_elf_segment s = seg(0x401234, 0x5000, 0x1234, 0x2000);
    expect_plan(&s, 0, 0x234, 0x1234, 0xdcc);     /* head of page 0 stays zero */
    expect_plan(&s, 1, 0, 0x2000, 0x1000);
    expect_plan(&s, 2, 0, 0x3000, 0x234);         /* the rest of page 2: bss */
    expect_plan(&s, 3, 0, 0, 0);
    expect_plan(&s, 5, 0, 0, 0);
    unsigned char *f = file_of(0x3234);           /* the file ends where the segment does */
    check_fill(&s, f);
    free(f);
}

/* The file offset need not match the address within the page. */
static void test_plan_offset_not_congruent(void **state)
{
    (void)state;
    struct uk_elf_segment s = seg(0x400ff0, 0x20, 0x10, 0x18);
    expect_plan(&s, 0, 0xff0, 0x10, 0x10);
    expect_plan(&s, 1, 0, 0x20, 0x8);
    unsigned char *f = file_of(0x28);
    check_fill(&s, f);
    free(f);
}

static void test_bss_only(void **state)
{
    (void)state;
    struct uk_elf_segment s = seg(0x600100, 0x3000, 0, 0);
    assert_int_equal(uk_seg_pages(&s), 4);
    for (uk_word_t i = 0; i < 4; i++)
        expect_plan(&s, i, 0, 0, 0);
    unsigned char *f = file_of(0);               /* not read at all */
    check_fill(&s, f);
    free(f);
}

/* File bytes ending exactly at a page boundary; bss filling whole pages. */
static void test_file_ends_on_page(void **state)
{
    (void)state;
    struct uk_elf_segment s = seg(0x400800, 0x2800, 0x800, 0x800);
    expect_plan(&s, 0, 0x800, 0x800, 0x800);
    expect_plan(&s, 1, 0, 0, 0);
    expect_plan(&s, 2, 0, 0, 0);
    unsigned char *f = file_of(0x1000);
    check_fill(&s, f);
    free(f);
}

/* Random segments against the byte-by-byte reference. */
static void test_fill_random(void **state)
{
    (void)state;
    unsigned seed = 12345;
    for (int k = 0; k < 300; k++) {
        seed = seed * 1103515245u + 12345u;
        uk_word_t vaddr = 0x400000 + ((seed >> 4) & 0x3fff);
        seed = seed * 1103515245u + 12345u;
        uk_word_t filesz = (seed >> 8) % 0x3000;
        seed = seed * 1103515245u + 12345u;
        uk_word_t memsz = filesz + (seed >> 8) % 0x3000 + (filesz == 0);
        seed = seed * 1103515245u + 12345u;
        uk_word_t offset = (seed >> 8) % 0x2000;
        struct uk_elf_segment s = seg(vaddr, memsz, offset, filesz);
        unsigned char *f = file_of(offset + filesz);
        check_fill(&s, f);
        free(f);
    }
}

/* A whole file through uk_elf_check, then every segment filled. */
static void test_whole_image(void **state)
{
    (void)state;
    size_t size = 0x2100;
    unsigned char *f = file_of(size);
    Elf64_Ehdr eh = { .e_type = ET_EXEC, .e_machine = EM_X86_64, .e_version = EV_CURRENT,
                      .e_entry = 0x401010, .e_phoff = 64, .e_ehsize = 64,
                      .e_phentsize = sizeof(Elf64_Phdr), .e_phnum = 2 };
    memcpy(eh.e_ident, "\177ELF\2\1\1", 7);
    Elf64_Phdr text = { .p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_offset = 0x1000,
                        .p_vaddr = 0x401000, .p_filesz = 0x80, .p_memsz = 0x80 };
    Elf64_Phdr data = { .p_type = PT_LOAD, .p_flags = PF_R | PF_W, .p_offset = 0x2000,
                        .p_vaddr = 0x403010, .p_filesz = 0x100, .p_memsz = 0x1400 };
    memcpy(f, &eh, sizeof eh);
    memcpy(f + 64, &data, sizeof data);            /* out of order: the checker sorts */
    memcpy(f + 64 + sizeof data, &text, sizeof text);

    struct uk_elf_image img;
    assert_int_equal(uk_elf_check(f, size, 0x1000, UK_USER_HALF_END, &img), UK_ELF_OK);
    assert_int_equal(img.nsegments, 2);
    assert_int_equal(img.seg[0].vaddr, 0x401000);
    assert_int_equal(img.seg[0].flags, UK_MAP_READ | UK_MAP_EXEC);
    assert_int_equal(uk_seg_pages(&img.seg[0]) + uk_seg_pages(&img.seg[1]), 1 + 2);
    expect_plan(&img.seg[1], 0, 0x10, 0x2000, 0x100);
    expect_plan(&img.seg[1], 1, 0, 0, 0);
    for (unsigned i = 0; i < img.nsegments; i++)
        check_fill(&img.seg[i], f);
    free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pages),
        cmocka_unit_test(test_plan_aligned),
        cmocka_unit_test(test_plan_unaligned),
        cmocka_unit_test(test_plan_offset_not_congruent),
        cmocka_unit_test(test_bss_only),
        cmocka_unit_test(test_file_ends_on_page),
        cmocka_unit_test(test_fill_random),
        cmocka_unit_test(test_whole_image),
    };
    return cmocka_run_group_tests_name("loader", tests, NULL, NULL);
}
