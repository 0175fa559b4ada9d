/*
 * How the guest kernel starts.  The vmm-server has loaded vmlinux at its
 * link address (0x60000000), given us a stack and an IPC buffer where
 * libipc programs have theirs, and starts our vCPU at _start with rdi = the
 * struct uk_guest_info page.  We check it, lay out memory, split the
 * command line into argv (adding mem= and initrd= from what the vmm-server
 * gave us) and call linux_main() as arch/um's main() does on a Linux host.
 *
 * Memory, in "physical" offsets from uml_physmem (= __binary_start):
 *   [0, _end)                 the image, backed by RAM the vmm-server loaded
 *   [_end, uml_reserved)      the brk window: our malloc arena before kmalloc
 *                             works (um_arch.c reserves ROUND_4M(brk) + 4 MiB)
 *   [uml_reserved, mem=)      the page allocator's memory
 * The last two are guest RAM from the bottom of uk_guest_info's free RAM,
 * mapped here by us; an initrd stays where the vmm-server put it (the top).
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <as-layout.h>
#include <init.h>
#include <kern_util.h>
#include <mem_user.h>
#include <os.h>
#include "ukvm.h"

struct uk_guest_info *ukvm_gi;
struct uk_vcpu_state *ukvm_vcpu;
/* RAM behind "physical" memory: offset phys_base is RAM address phys_ram */
static unsigned long phys_base, phys_ram, phys_ram_end;

extern char __binary_start[], _end[];
extern int linux_main(int argc, char **argv);
extern int uml_exitcode;   /* set by arch/um's panic notifier */

#define PAGE_UP(x) (((unsigned long)(x) + UK_PAGE_SIZE - 1) & ~(UK_PAGE_SIZE - 1))

__asm__(".section .init.text, \"ax\"\n"
	".globl _start\n"
	"_start:\n"
	"	xor %ebp, %ebp\n"
	"	and $-16, %rsp\n"
	"	call ukvm_start\n"
	"	ud2\n"
	".previous\n");

unsigned long ukvm_phys_to_ram(unsigned long long off)
{
	unsigned long ram = phys_ram + (off - phys_base);
	if (off < phys_base || ram >= phys_ram_end)
		return 0;
	return ram;
}

unsigned long ukvm_phys_guest_base(void)
{
	return phys_ram - phys_base;
}

static void say_and_stop(const char *why)
{
	ukvm_printf("ukvm: %s\n", why);
	ukvm_power(UK_VDEV_POWER_HALT, UKVM_EXIT_PANIC);
}

/* argv: "linux" first (argv[0] is skipped as the program name), then what
 * we add, then the vmm-server's command line split at blanks. */
#define MAX_ARGS 64
static char *argv_buf[MAX_ARGS + 1];
static char args_added[2][64];
static char cmdline_copy[sizeof(((struct uk_guest_info *)0)->cmdline)];

static int split_cmdline(int argc)
{
	char *p = cmdline_copy;
	memcpy(cmdline_copy, ukvm_gi->cmdline, sizeof cmdline_copy);
	cmdline_copy[sizeof cmdline_copy - 1] = 0;
	while (*p && argc < MAX_ARGS) {
		while (*p == ' ' || *p == '\t' || *p == '\n')
			*p++ = 0;
		if (!*p)
			break;
		argv_buf[argc++] = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\n')
			p++;
	}
	argv_buf[argc] = NULL;
	return argc;
}

static int has_arg(int argc, const char *prefix)
{
	for (int i = 1; i < argc; i++)
		if (strncmp(argv_buf[i], prefix, strlen(prefix)) == 0)
			return 1;
	return 0;
}

void __init ukvm_start(struct uk_guest_info *gi)
{
	/* The IPC buffer's last word names it (libipc's convention, kept) */
	struct uk_ipc_buffer *ipc = (struct uk_ipc_buffer *)UK_ROOT_IPC_BUFFER;
	ipc->user_self = (uk_word_t)ipc;

	ukvm_gi = gi;
	if (gi->magic != UK_GUEST_INFO_MAGIC)
		say_and_stop("bad uk_guest_info magic: not started by a vmm-server");
	ukvm_vcpu = (struct uk_vcpu_state *)gi->vcpu_state;

	/* The brk window and the page allocator's memory come from free RAM,
	 * in order: "physical" offset phys_base (the page after the image)
	 * is the first free RAM page, and so on up to the initrd. */
	unsigned long image_end = PAGE_UP(_end);
	unsigned long reserved = ROUND_4M(image_end) + (1ul << 22);
	unsigned long brk_pages = (reserved - image_end) / UK_PAGE_SIZE;
	unsigned long initrd_pages = PAGE_UP(gi->initrd_size) / UK_PAGE_SIZE;
	unsigned long ram_pages = gi->ram_size / UK_PAGE_SIZE;
	if (ram_pages < brk_pages + initrd_pages + 1024)
		say_and_stop("not enough guest RAM (need the brk window, the initrd and 4 MiB)");
	if (uk_map(UK_GUEST_SLOT_SELF, gi->ram_base, image_end, brk_pages, UK_MAP_RWX))
		say_and_stop("cannot map the brk window");
	ukvm_rt_init(image_end, reserved);
	ukvm_process_init(gi->cap_slots);

	phys_base = image_end - (unsigned long)__binary_start;
	phys_ram = gi->ram_base;
	phys_ram_end = gi->ram_base + (ram_pages - initrd_pages) * UK_PAGE_SIZE;
	unsigned long long physmem = phys_base + (phys_ram_end - phys_ram);

	int argc = 0;
	argv_buf[argc++] = "linux";
	snprintf(args_added[0], sizeof args_added[0], "mem=%lluK", physmem >> 10);
	argv_buf[argc++] = args_added[0];
	if (gi->initrd_size) {
		snprintf(args_added[1], sizeof args_added[1], "initrd=ukvm:initrd");
		argv_buf[argc++] = args_added[1];
	}
	argc = split_cmdline(argc);
	if (!has_arg(argc, "con=") && argc < MAX_ARGS - 1) {
		/* the console on our pseudo-fds (file.c); other lines: nothing */
		argv_buf[argc++] = "con=null";
		argv_buf[argc++] = "con0=fd:0,fd:1";
		argv_buf[argc] = NULL;
	}

	int reboot = linux_main(argc, argv_buf);
	ukvm_power(reboot ? UK_VDEV_POWER_REBOOT : UK_VDEV_POWER_HALT, uml_exitcode);
}
