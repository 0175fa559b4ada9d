/*
 * Memory.  "Physical" memory is guest RAM: offset o of the physmem pseudo-
 * file (fd 3) is the page at uml_physmem + o in our own address space, and
 * behind the image it is backed by the free RAM the vmm-server gave us
 * (start.c).  Mapping a page into a process is a UK_SYS_MAP from that
 * address of ours into the process's task: the microkernel's mapping
 * database then knows the process's page derives from ours.
 *
 * The process side replaces arch/um's skas/mem.c (map/unmap/protect run by
 * a stub inside the host process): here each is a system call naming the
 * process's task.  Protection is exact: PROT_NONE is the microkernel's
 * rights 0 (the page stays mapped in its database, not present in the
 * page table), so every access to it faults, populated or not.
 */
#include <errno.h>
#include <string.h>
#include <as-layout.h>
#include <mm_id.h>
#include <os.h>
#include "ukvm.h"
#include "kmem.h"

void *calloc(size_t n, size_t size);   /* the link wraps it (util.c) */


/* Our own mappings: never below READ (what processes map derives from
 * them and would lose any right we drop). */
static unsigned long rights(int r, int w, int x)
{
	(void)r;
	return UK_MAP_READ | (w ? UK_MAP_WRITE : 0) | (x ? UK_MAP_EXEC : 0);
}

/* A process's mappings: exact.  No right at all (PROT_NONE, or a page
 * arch/um keeps inaccessible to see its next use) is the microkernel's
 * rights 0: not present, every access faults; write or execute imply read
 * on x86. */
static unsigned long process_rights(unsigned int prot)
{
	if (!(prot & 7))
		return 0;
	return UK_MAP_READ | (prot & 2 ? UK_MAP_WRITE : 0) | (prot & 4 ? UK_MAP_EXEC : 0);
}

static int uk_errno(long err)
{
	switch (err) {
	case UK_OK:
		return 0;
	case UK_E_NOMEM:
		return -ENOMEM;
	case UK_E_CAP:
	case UK_E_CAP_TYPE:
		return -ESRCH;
	default:
		return -EINVAL;
	}
}

/* map/unmap/protect in pieces the microkernel takes in one call */
static long map_pages(uk_word_t task, unsigned long src, unsigned long dst,
		      unsigned long n, unsigned long r)
{
	while (n) {
		unsigned long k = n < UK_MAP_MAX_PAGES ? n : UK_MAP_MAX_PAGES;
		long err = uk_map(task, src, dst, k, r);
		if (err)
			return err;
		src += k * UK_PAGE_SIZE;
		dst += k * UK_PAGE_SIZE;
		n -= k;
	}
	return UK_OK;
}

static long unmap_pages(uk_word_t task, unsigned long va, unsigned long n)
{
	while (n) {
		unsigned long k = n < UK_MAP_MAX_PAGES ? n : UK_MAP_MAX_PAGES;
		long err = uk_unmap(task, va, k);
		if (err)
			return err;
		va += k * UK_PAGE_SIZE;
		n -= k;
	}
	return UK_OK;
}

static long protect_pages(uk_word_t task, unsigned long va, unsigned long n,
			  unsigned long r)
{
	while (n) {
		unsigned long k = n < UK_MAP_MAX_PAGES ? n : UK_MAP_MAX_PAGES;
		long err = uk_protect(task, va, k, r);
		if (err)
			return err;
		va += k * UK_PAGE_SIZE;
		n -= k;
	}
	return UK_OK;
}

int create_mem_file(unsigned long long len)
{
	if (!ukvm_phys_to_ram(len - 1) && len > 0) {
		ukvm_printf("ukvm: physical memory of %llu bytes asked, more than guest RAM\n", len);
		return -ENOMEM;
	}
	return UKVM_PHYSMEM_FD;
}

/* The kernel's own mappings: physmem at setup, vmalloc pages later.
 * Always read/write/execute, whatever arch/um asks: a process's mapping
 * derives from ours and can never have a right ours lacks (the brk window
 * is given back "rw-", but its pages become process text too). */
int os_map_memory(void *virt, int fd, unsigned long long off, unsigned long len,
		  int r, int w, int x)
{
	(void)r;
	(void)w;
	(void)x;
	unsigned long first = ukvm_phys_to_ram(off);
	if (fd != UKVM_PHYSMEM_FD || (off | len | (unsigned long)virt) % UK_PAGE_SIZE || !len ||
	    !first || ukvm_phys_to_ram(off + len - 1) != first + len - 1)
		return -EINVAL;
	return uk_errno(map_pages(UK_GUEST_SLOT_SELF, first, (unsigned long)virt, len / UK_PAGE_SIZE,
				  UK_MAP_RWX));
}

int os_protect_memory(void *addr, unsigned long len, int r, int w, int x)
{
	if (((unsigned long)addr | len) % UK_PAGE_SIZE)
		return -EINVAL;
	return uk_errno(protect_pages(UK_GUEST_SLOT_SELF, (unsigned long)addr, len / UK_PAGE_SIZE,
				      rights(r, w, x)));
}

int os_unmap_memory(void *addr, int len)
{
	if (((unsigned long)addr | (unsigned long)len) % UK_PAGE_SIZE || len < 0)
		return -EINVAL;
	return uk_errno(unmap_pages(UK_GUEST_SLOT_SELF, (unsigned long)addr, len / UK_PAGE_SIZE));
}

int os_drop_memory(void *addr, int length)
{
	(void)addr;
	(void)length;
	return -ENOSYS;
}

int can_drop_memory(void)
{
	return 0;
}

/* --- a process's address space: its task (mm_id.u.pid is the slot) ----
 * arch/um clears a new or dying address space by unmapping all of it (511
 * GiB); we remember which 8 GiB spans of each task ever got a mapping (one
 * word a slot) and only unmap or protect there: the microkernel skips the
 * absent page tables inside a span in a few steps. */
#define SPAN_SHIFT 33
#define N_SPAN 64
#define MAP_NOMEM_TRIES 1000                /* each a wait of at most 0.1 s (kmem_kern.c) */
static unsigned long *used_span;            /* one word per slot of our table */
static unsigned int span_slots;

void ukvm_mm_init(unsigned int nslots)
{
	used_span = calloc(nslots, sizeof *used_span);
	span_slots = used_span ? nslots : 0;
}

void ukvm_mm_forget(int slot)
{
	if ((unsigned int)slot < span_slots)
		used_span[slot] = 0;
}

static void note_mapped(int slot, unsigned long va, unsigned long len)
{
	if ((unsigned int)slot >= span_slots)
		return;
	for (unsigned long g = va >> SPAN_SHIFT; g <= (va + len - 1) >> SPAN_SHIFT && g < N_SPAN; g++)
		used_span[slot] |= 1ul << g;
}

/* Calls op on the parts of [va, va + len) that lie in spans ever mapped. */
static long for_used(int slot, unsigned long va, unsigned long len,
		     long (*op)(uk_word_t, unsigned long, unsigned long, unsigned long),
		     unsigned long arg)
{
	unsigned long end = va + len;
	while (va < end) {
		unsigned long g = va >> SPAN_SHIFT;
		unsigned long next = (g + 1) << SPAN_SHIFT;
		unsigned long stop = next < end ? next : end;
		if (g >= N_SPAN || (unsigned int)slot >= span_slots ||
		    (used_span[slot] & (1ul << g))) {
			long err = op(slot, va, (stop - va) / UK_PAGE_SIZE, arg);
			if (err)
				return err;
		}
		va = stop;
	}
	return UK_OK;
}

static long unmap_op(uk_word_t task, unsigned long va, unsigned long n, unsigned long arg)
{
	(void)arg;
	return unmap_pages(task, va, n);
}


int map(struct mm_id *mm_idp, unsigned long virt, unsigned long len, int prot,
	int phys_fd, unsigned long long offset, int done, void **data)
{
	(void)done;
	(void)data;
	if (phys_fd != UKVM_PHYSMEM_FD || (virt | len | offset) % UK_PAGE_SIZE)
		return -EINVAL;
	if (!(prot & 7))             /* PROT_NONE: nothing to map */
		return uk_errno(for_used(mm_idp->u.pid, virt, len, unmap_op, 0));
	note_mapped(mm_idp->u.pid, virt, len);
	/* Out of the processes' kernel memory: kmem_kern.c kills the youngest
	 * process (a fork bomb's) and waits for its task to go, rather than
	 * arch/um killing this one, the shell or init maybe.  A map is
	 * idempotent (a destination page mapped already is replaced). */
	for (int tries = 0;; tries++) {
		long err = map_pages(mm_idp->u.pid, uml_physmem + offset, virt, len / UK_PAGE_SIZE,
				     process_rights(prot));
		if (err != UK_E_NOMEM || tries >= MAP_NOMEM_TRIES || !ukvm_kmem_reclaim(mm_idp))
			return uk_errno(err);
	}
}

int unmap(struct mm_id *mm_idp, unsigned long addr, unsigned long len, int done,
	  void **data)
{
	(void)done;
	(void)data;
	if ((addr | len) % UK_PAGE_SIZE)
		return -EINVAL;
	return uk_errno(for_used(mm_idp->u.pid, addr, len, unmap_op, 0));
}

int protect(struct mm_id *mm_idp, unsigned long addr, unsigned long len,
	    unsigned int prot, int done, void **data)
{
	(void)done;
	(void)data;
	if ((addr | len) % UK_PAGE_SIZE)
		return -EINVAL;
	return uk_errno(for_used(mm_idp->u.pid, addr, len, protect_pages,
				 process_rights(prot)));
}

/* Host system calls run by a stub inside the process (modify_ldt, ...):
 * there is no such stub; arch/x86/um/ldt.c then reports the error. */
long run_syscall_stub(struct mm_id *mm_idp, int syscall, unsigned long *args,
		      long expected, void **addr, int done)
{
	(void)mm_idp; (void)syscall; (void)args; (void)expected; (void)addr; (void)done;
	return -ENOSYS;
}

long syscall_stub_data(struct mm_id *mm_idp, unsigned long *data, int data_count,
		       void **addr, void **stub_addr)
{
	(void)mm_idp; (void)data; (void)data_count; (void)addr; (void)stub_addr;
	return -ENOSYS;
}
