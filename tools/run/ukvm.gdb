# gdb commands for the whole stack under QEMU's gdbstub (tools/run/debug
# sources this after loading the symbols; docs/debugging.md).
#
# QEMU's breakpoints match a virtual address, whatever task runs: the
# microkernel's code is the same in every address space, and our user
# programs are linked apart (the Makefile's LINK_BASE_* table), so a
# breakpoint in them names one program; but a program running in several
# tasks (two vmm-servers, two Linux guests, Debian binaries in guest
# processes, all at 0x400000) needs the breakpoint held to one address
# space: its cr3 (QEMU's x86-64 gdbstub shows it as $cr3).

set pagination off
set confirm off
set print pretty on

# the page-table base in cr3, without PCID bits and flags
set $ukvm_cr3_mask = 0x000ffffffffff000

# asbreak LOCATION: break at LOCATION only in the address space the CPU is
# in now (stop in the task first, e.g. at a function only it runs)
define asbreak
  eval "break $arg0 if ($cr3 & $ukvm_cr3_mask) == 0x%lx", ($cr3 & $ukvm_cr3_mask)
end
document asbreak
asbreak LOCATION: a breakpoint at LOCATION that stops only while the CPU is
in the address space it is in now (this task's cr3).
end

# asbreak-cr3 CR3 LOCATION: the same for a cr3 noted earlier (p/x $cr3)
define asbreak-cr3
  eval "break $arg1 if ($cr3 & $ukvm_cr3_mask) == 0x%lx", ($arg0 & $ukvm_cr3_mask)
end
document asbreak-cr3
asbreak-cr3 CR3 LOCATION: a breakpoint at LOCATION that stops only in the
address space whose cr3 is CR3 (as printed by p/x $cr3 there).
end

# whereami: the address space and the program the CPU is in
define whereami
  printf "cr3 0x%lx, rip 0x%lx ", ($cr3 & $ukvm_cr3_mask), $pc
  info symbol $pc
end
document whereami
whereami: this address space's cr3, the pc and the function it is in.
end
