/*
 * Start-up checks, CPU features, messages, the machine's name and the rest
 * of os.h that is about "the host": here the host is the vmm-server.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <as-layout.h>
#include <init.h>
#include <kern_util.h>
#include <os.h>
#include <sysdep/ptrace.h>
#include <um_malloc.h>
#include "ukvm.h"

extern void ukvm_entry(void);
extern void ukvm_fp_init(void);

/* ELF_HWCAP for processes' auxiliary vectors: CPUID 1's edx, as on x86 */
long elf_aux_hwcap;

/* The entry stack: every exit starts on it (entry.c leaves it at once). */
static unsigned char entry_stack[16384] __attribute__((aligned(64)));

static void cpuid(unsigned leaf, unsigned sub, unsigned r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(sub));
}

/* Runs early in linux_main: make the vCPU ours (entry point and stack) and
 * check that a process's XSAVE area fits arch/um's regs->fp. */
void os_early_checks(void)
{
	struct uk_vcpu_state *s = ukvm_vcpu;
	unsigned long fp_bytes = sizeof(((struct uml_pt_regs *)0)->fp);

	if (s->xsave_size == 0 || s->xsave_size > fp_bytes) {
		ukvm_printf("ukvm: XSAVE area of %lu bytes does not fit regs->fp (%lu)\n",
			    (unsigned long)s->xsave_size, fp_bytes);
		ukvm_power(UK_VDEV_POWER_HALT, UKVM_EXIT_PANIC);
	}
	ukvm_fp_init();
	unsigned r[4];
	cpuid(1, 0, r);
	elf_aux_hwcap = r[3];
	s->entry_sp = (uk_word_t)(entry_stack + sizeof entry_stack);
	s->entry_ip = (uk_word_t)ukvm_entry;
}


int parse_iomem(char *str, int *add)
{
	(void)str;
	(void)add;
	os_warn("iomem= is not supported on the ukvm host layer\n");
	return 1;
}

void os_check_bugs(void)
{
}

void check_host_supports_tls(int *supports_tls, int *tls_min)
{
	*supports_tls = 0;
	*tls_min = 0;
}

/* arch/um reads the host's /proc/cpuinfo; we make its two lines from CPUID. */
void get_host_cpu_features(void (*flags_helper_func)(char *line),
			   void (*cache_helper_func)(char *line))
{
	static const struct { unsigned reg, bit; const char *name; } bits[] = {
		{ 3, 0, "fpu" }, { 3, 4, "tsc" }, { 3, 8, "cx8" }, { 3, 15, "cmov" },
		{ 3, 23, "mmx" }, { 3, 24, "fxsr" }, { 3, 25, "sse" }, { 3, 26, "sse2" },
		{ 2, 0, "pni" }, { 2, 9, "ssse3" }, { 2, 19, "sse4_1" }, { 2, 20, "sse4_2" },
		{ 2, 23, "popcnt" }, { 2, 26, "xsave" }, { 2, 28, "avx" },
	};
	char line[256] = "flags\t\t:";
	unsigned r[4];

	cpuid(1, 0, r);
	for (unsigned i = 0; i < sizeof bits / sizeof bits[0]; i++)
		if (r[bits[i].reg] & (1u << bits[i].bit)) {
			strcat(line, " ");
			strcat(line, bits[i].name);
		}
	flags_helper_func(line);
	snprintf(line, sizeof line, "cache_alignment\t: %u", ((r[1] >> 8) & 0xff) * 8);
	cache_helper_func(line);
}

/* --- names ------------------------------------------------------------- */
int umid_file_name(char *name, char *buf, int len)
{
	(void)name; (void)buf; (void)len;
	return -ENOENT;
}

int set_umid(char *name)
{
	(void)name;
	return 0;
}

char *get_umid(void)
{
	return ukvm_gi->name;
}

void setup_machinename(char *machine_out)
{
	strcpy(machine_out, "x86_64");
}

void setup_hostinfo(char *buf, int len)
{
	snprintf(buf, len, "ukvm microkernel, guest %s", ukvm_gi->name);
}

/* --- odds and ends --------------------------------------------------------- */
void stack_protections(unsigned long address)
{
	(void)address;      /* guest RAM is mapped read/write/execute already */
}

int raw(int fd)
{
	(void)fd;
	return 0;
}

int get_pty(void)
{
	return -ENOSYS;
}

/* Entropy: RDRAND when the CPU has it; otherwise say so (the kernel then
 * seeds from its own sources). */
ssize_t os_getrandom(void *buf, size_t len, unsigned int flags)
{
	unsigned r[4];
	(void)flags;
	cpuid(1, 0, r);
	if (!(r[2] & (1u << 30)))
		return -ENOSYS;
	unsigned char *p = buf;
	for (size_t i = 0; i < len; i += 8) {
		unsigned long v;
		unsigned char ok;
		__asm__ volatile("rdrand %0; setc %1" : "=r"(v), "=qm"(ok));
		if (!ok)
			return i ? (ssize_t)i : -EAGAIN;
		memcpy(p + i, &v, len - i < 8 ? len - i : 8);
	}
	return (ssize_t)len;
}

void os_dump_core(void)
{
	if (ukvm_last_fault_ip)
		ukvm_printf("ukvm: last guest-kernel fault: rip %lx, address %lx\n",
			    ukvm_last_fault_ip, ukvm_last_fault_addr);
	ukvm_printf("ukvm: guest kernel stopped (panic)\n");
	ukvm_power(UK_VDEV_POWER_HALT, UKVM_EXIT_PANIC);
}

void um_early_printk(const char *s, unsigned int n)
{
	ukvm_console_write(s, n);
}

void os_info(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ukvm_vprintf(fmt, ap);
	va_end(ap);
}

void os_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ukvm_vprintf(fmt, ap);
	va_end(ap);
}

/* --- malloc for arch/um's host side: the runtime's until kmalloc works
 * (the link wraps malloc/free/calloc, arch/um/Makefile LINK_WRAPS) ------ */
extern unsigned long high_physmem;
extern void *__real_malloc(int size);   /* --wrap: rt.c's malloc and free */
extern void __real_free(void *p);

void *__wrap_malloc(int size)
{
	void *p;
	if (!kmalloc_ok)
		return __real_malloc(size);   /* the link's name for rt.c's malloc */
	if (size <= UM_KERN_PAGE_SIZE)
		p = uml_kmalloc(size, UM_GFP_KERNEL);
	else
		p = vmalloc(size);
	if (!p)
		errno = ENOMEM;
	return p;
}

void *__wrap_calloc(int n, int size)
{
	void *p = __wrap_malloc(n * size);
	if (p)
		memset(p, 0, n * size);
	return p;
}

void __wrap_free(void *ptr)
{
	unsigned long addr = (unsigned long)ptr;
	if (addr >= uml_physmem && addr < high_physmem) {
		if (kmalloc_ok)
			kfree(ptr);
	} else if (addr >= start_vm && addr < end_vm) {
		if (kmalloc_ok)
			vfree(ptr);
	} else {
		__real_free(ptr);
	}
}
