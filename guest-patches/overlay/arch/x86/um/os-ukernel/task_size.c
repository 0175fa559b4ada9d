/*
 * The top of a process's address space.  x86-64 arch/um has three-level
 * page tables (512 GiB of address space), so this is the old
 * CONFIG_TOP_ADDR that os-Linux also falls back to; arch/um takes two stub
 * pages off it (we leave them unused) and rounds TASK_SIZE down to 1 GiB.
 * Each process is a task of its own: all of that range is its own.
 */
unsigned long os_get_top_address(void)
{
	return 0x7fc0002000ul;
}
