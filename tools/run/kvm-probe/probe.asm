; KVM speed probe: a minimal multiboot1 kernel that QEMU boots directly with
; `-kernel` (QEMU's multiboot loader takes ELF32, not ELF64).  It spins a
; 10-million-iteration loop, then exits QEMU through isa-debug-exit (port
; 0xf4): writing v makes QEMU exit with (v << 1) | 1, so v = 0 means success.
; Build (tools/run/qemu-run does this on demand):
;   nasm -f elf32 probe.asm -o probe.o
;   ld -m elf_i386 -n -Ttext 0x100000 -e start -z noexecstack probe.o -o probe.elf
; Test variants: -DITERATIONS=n (n >= 1), -DEXIT_CODE=v, -DHANG (spin forever).
%ifndef ITERATIONS
%define ITERATIONS 10000000
%endif
%ifndef EXIT_CODE
%define EXIT_CODE 0
%endif

MB_MAGIC equ 0x1BADB002
MB_FLAGS equ 0                  ; ELF kernel: no memory info, no a.out kludge

bits 32
section .text
align 4
mb_header:                      ; must lie in the first 8 KiB of the file
        dd MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

global start
start:                          ; protected mode, paging off, IRQs off
        mov ecx, ITERATIONS
.loop:  dec ecx
        jnz .loop
%ifdef HANG
        jmp $
%endif
        mov al, EXIT_CODE
        out 0xf4, al            ; isa-debug-exit: QEMU exits here
.stop:  hlt                     ; not reached when the device is present
        jmp .stop
