/*
 * dynhello: a dynamically linked program for the guest-linux initramfs.  The
 * "dynamic" case of gltest runs it with some numbers; it sorts them with
 * qsort and sums them (code from the shared libc), then says which loader and
 * which libc the kernel and ld.so really mapped:
 *
 *   dynhello: sorted 1 2 5 9 sum 17 via /lib64/ld-linux-x86-64.so.2, libc /lib/x86_64-linux-gnu/libc.so.6
 *
 * The loader is the object at AT_BASE (where the kernel put the ELF
 * interpreter), the libc the object that holds the FILE stdout points to
 * (libc's own data, also in a non-PIE build); their names come from
 * /proc/self/maps, or from dl_iterate_phdr if /proc is not mounted.  A static
 * build has no AT_BASE and prints "via none".
 */
#define _GNU_SOURCE
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

/* the file mapped at addr, from /proc/self/maps; 0 if not found */
static int maps_name(uintptr_t addr, char *out, size_t n)
{
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f) return 0;
    char line[512];
    int found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        int off = 0;
        if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %n", &lo, &hi, &off) < 2 || !off) continue;
        if (addr >= lo && addr < hi && line[off] == '/') {
            line[strcspn(line, "\n")] = 0;
            snprintf(out, n, "%s", line + off);
            found = 1;
        }
    }
    fclose(f);
    return found;
}

/* fallback: the name ld.so gave the object that holds addr */
struct find { uintptr_t addr; const char *name; };
static int phdr_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct find *f = arg;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && f->addr >= lo && f->addr < lo + ph->p_memsz) {
            f->name = info->dlpi_name;
            return 1;
        }
    }
    return 0;
}

static void object_name(uintptr_t addr, char *out, size_t n)
{
    if (!addr) { snprintf(out, n, "none"); return; }
    if (maps_name(addr, out, n)) return;
    struct find f = {addr, NULL};
    dl_iterate_phdr(phdr_cb, &f);
    snprintf(out, n, "%s", f.name && f.name[0] ? f.name : "unknown");
}

int main(int argc, char **argv)
{
    long v[64], sum = 0;
    int n = 0;
    static const char *deflt[] = {"5", "2", "9", "1"};
    for (int i = 1; i < argc && n < 64; i++) v[n++] = strtol(argv[i], NULL, 10);
    if (argc < 2)
        for (int i = 0; i < 4; i++) v[n++] = strtol(deflt[i], NULL, 10);
    qsort(v, n, sizeof v[0], cmp_long);

    printf("dynhello: sorted");
    for (int i = 0; i < n; i++) {
        printf(" %ld", v[i]);
        sum += v[i];
    }
    char loader[256], libc[256];
    object_name(getauxval(AT_BASE), loader, sizeof loader);
    object_name((uintptr_t)stdout, libc, sizeof libc);
    printf(" sum %ld via %s, libc %s\n", sum, loader, libc);
    return 0;
}
