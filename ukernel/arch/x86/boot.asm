; Multiboot2 entry: GRUB leaves us in 32-bit protected mode with paging off.
; We build just enough page tables to enter long mode with the first GiB
; mapped twice (identity, and at KERNEL_BASE where the kernel is linked),
; jump to the higher half and call kmain(magic, info).  C then builds the
; real kernel page tables and drops the identity mapping.
;
; Before anything else the TSC is kept in boot_tsc (the root task gets it in
; its boot info): under QEMU's -icount shift=0 the TSC counts instructions,
; so a guest can count those executed since the microkernel started.

%include "asm-offsets.inc"             ; KERNEL_BASE (arch/cpu.h), PAGE_SIZE
MB2_MAGIC   equ 0xe85250d6

section .multiboot2
align 8
mb2_header:
    dd MB2_MAGIC, 0, mb2_header_end - mb2_header
    dd -(MB2_MAGIC + 0 + (mb2_header_end - mb2_header)) & 0xffffffff
    ; end tag
    dw 0, 0
    dd 8
mb2_header_end:

section .boot.text progbits alloc exec nowrite
bits 32
global _start
_start:
    mov edi, eax                       ; multiboot2 magic (rdtsc overwrites eax)
    rdtsc                              ; the boot mark: the second instruction
    mov [boot_tsc - KERNEL_BASE], eax
    mov [boot_tsc - KERNEL_BASE + 4], edx
    cli
    mov esp, boot_stack_top - KERNEL_BASE
    mov esi, ebx                       ; physical address of the info block

    ; PML4[0] and PML4[511] -> PDPTs; both PDPTs -> one PD of 2 MiB pages
    mov eax, boot_pdpt_low - KERNEL_BASE
    or eax, 0x3
    mov [boot_pml4 - KERNEL_BASE], eax
    mov eax, boot_pdpt_high - KERNEL_BASE
    or eax, 0x3
    mov [boot_pml4 - KERNEL_BASE + 511 * 8], eax
    mov eax, boot_pd - KERNEL_BASE
    or eax, 0x3
    mov [boot_pdpt_low - KERNEL_BASE], eax
    mov [boot_pdpt_high - KERNEL_BASE + 510 * 8], eax
    mov ecx, 0
.fill_pd:
    mov eax, ecx
    shl eax, 21
    or eax, 0x83                       ; present, writable, 2 MiB page
    mov [boot_pd - KERNEL_BASE + ecx * 8], eax
    inc ecx
    cmp ecx, 512
    jne .fill_pd

    mov eax, boot_pml4 - KERNEL_BASE
    mov cr3, eax
    mov eax, cr4
    or eax, 1 << 5                     ; PAE
    mov cr4, eax
    mov ecx, 0xc0000080                ; EFER
    rdmsr
    or eax, (1 << 8) | (1 << 11)       ; long mode, no-execute
    wrmsr
    mov eax, cr0
    or eax, (1 << 31) | (1 << 16) | 1  ; paging, write-protect, protected mode
    mov cr0, eax
    lgdt [boot_gdt_ptr - KERNEL_BASE]
    jmp 0x08:long_mode_low            ; .boot.text is linked low already

bits 64
long_mode_low:
    mov rax, long_mode_high
    jmp rax

section .text
extern kmain
long_mode_high:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    xor ax, ax
    mov fs, ax
    mov gs, ax
    mov rsp, boot_stack_top
    ; rdi = magic, rsi = info (zero-extended by the 32-bit moves above)
    mov edi, edi
    mov esi, esi
    call kmain
.hang:
    cli
    hlt
    jmp .hang

section .rodata
align 8
boot_gdt:
    dq 0
    dq 0x00209a0000000000              ; 64-bit code
    dq 0x0000920000000000              ; data
boot_gdt_end:
boot_gdt_ptr:
    dw boot_gdt_end - boot_gdt - 1
    dq boot_gdt - KERNEL_BASE

section .data
align 8
global boot_tsc
boot_tsc:       dq 0                   ; in .data: nothing may clear it later

section .bss
align PAGE_SIZE
boot_pml4:      resb PAGE_SIZE
boot_pdpt_low:  resb PAGE_SIZE
boot_pdpt_high: resb PAGE_SIZE
boot_pd:        resb PAGE_SIZE
global boot_stack, boot_stack_top   ; backtraces: arch_stack_bounds
boot_stack:     resb 16384
boot_stack_top:
