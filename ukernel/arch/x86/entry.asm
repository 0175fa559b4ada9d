; Kernel entry and exit: the only assembly besides boot.  One kernel stack;
; the kernel never sleeps on it, so every entry starts it afresh and every
; exit goes through exit_to_user with `current` deciding who runs.
;
; Register saving (see struct thread in thread.h; offsets checked there):
;  - syscall: only rip, rflags and rsp are stored (the kind is already
;    REGS_SYSCALL: every exit path leaves it so).  The C code keeps rbx,
;    rbp, r12-r15 (SysV callee-saved), so they are still the caller's when C
;    returns; they are stored only if another thread is to run.  Results go
;    back in rax, rdi, rsi, rdx, r10, r8, r9 from the thread's register area.
;  - exception or interrupt from user: everything is stored (REGS_FULL) and
;    the thread later leaves through iretq.

%define R_RAX     0
%define R_RBX     8
%define R_RCX     16
%define R_RDX     24
%define R_RSI     32
%define R_RDI     40
%define R_RBP     48
%define R_RSP     56
%define R_R8      64
%define R_R9      72
%define R_R10     80
%define R_R11     88
%define R_R12     96
%define R_R13     104
%define R_R14     112
%define R_R15     120
%define R_RIP     128
%define R_RFLAGS  136
%define R_VECTOR  160
%define R_ERROR   168
%define T_KIND    184
%define T_SYSCALL_FN 192
%define T_VCPU_STATE 200
%define KIND_SYSCALL 0
%define KIND_FULL    1
%define KIND_VCPU_ENTRY 3
%define USER_CS   0x23
%define USER_SS   0x1b

extern current, entry_thread, gone_thread, kstats, kstack_top
extern syscall_dispatch, trap_dispatch, kernel_trap_dispatch

section .bss
syscall_user_rsp: resq 1

section .text
global syscall_entry
syscall_entry:
    ; rcx = user rip, r11 = user rflags; IF is clear (SFMASK)
    mov [rel syscall_user_rsp], rsp
    mov rsp, [rel current]                  ; rsp = &current->regs
    mov [rsp + R_RIP], rcx
    mov [rsp + R_RFLAGS], r11
    mov r11, [rel syscall_user_rsp]
    mov [rsp + R_RSP], r11
    mov r11, [rsp + T_SYSCALL_FN]           ; per thread: see thread.h
    mov [rel entry_thread], rsp
    inc qword [rel kstats]                  ; kernel_entries
    lea rsp, [rel kstack_top - 16]
    mov [rsp], rax                          ; 7th C argument: call number
    mov rcx, r10                            ; 4th C argument
    call r11
    ; fall through

global exit_to_user
exit_to_user:
    mov rax, [rel current]
    cmp rax, [rel entry_thread]
    jne .switched                           ; another thread runs now
    cmp byte [rax + T_KIND], KIND_SYSCALL
    jne .restore                            ; its registers were rewritten
.sysret:
    mov rdi, [rax + R_RDI]
    mov rsi, [rax + R_RSI]
    mov rdx, [rax + R_RDX]
    mov r10, [rax + R_R10]
    mov r8,  [rax + R_R8]
    mov r9,  [rax + R_R9]
    mov rcx, [rax + R_RIP]
    mov r11, [rax + R_RFLAGS]
    mov rsp, [rax + R_RSP]
    mov rax, [rax + R_RAX]
    o64 sysret

.switched:
    ; The thread that entered by syscall leaves the CPU: its callee-saved
    ; registers are still live, so keep them now.  (Its registers cannot
    ; have been rewritten during its own syscall: thread_start and
    ; write_regs refuse a running thread.)  After a trap entry_thread is
    ; the scratch gone_thread, so the stores are harmless.
    mov rdx, [rel entry_thread]
    mov [rdx + R_RBX], rbx
    mov [rdx + R_RBP], rbp
    mov [rdx + R_R12], r12
    mov [rdx + R_R13], r13
    mov [rdx + R_R14], r14
    mov [rdx + R_R15], r15
.restore:
    cmp byte [rax + T_KIND], KIND_SYSCALL
    jne .other
    mov rbx, [rax + R_RBX]
    mov rbp, [rax + R_RBP]
    mov r12, [rax + R_R12]
    mov r13, [rax + R_R13]
    mov r14, [rax + R_R14]
    mov r15, [rax + R_R15]
    jmp .sysret
.other:
    cmp byte [rax + T_KIND], KIND_VCPU_ENTRY
    je vcpu_entry_from_exit
    mov byte [rax + T_KIND], KIND_SYSCALL   ; the next entry is a syscall or a trap
.iret:
iret_from_rax:                              ; rax = the registers (struct uk_regs) to load
    lea rsp, [rel kstack_top]
    push qword USER_SS
    push qword [rax + R_RSP]
    push qword [rax + R_RFLAGS]
    push qword USER_CS
    push qword [rax + R_RIP]
    mov rbx, [rax + R_RBX]
    mov rcx, [rax + R_RCX]
    mov rdx, [rax + R_RDX]
    mov rsi, [rax + R_RSI]
    mov rdi, [rax + R_RDI]
    mov rbp, [rax + R_RBP]
    mov r8,  [rax + R_R8]
    mov r9,  [rax + R_R9]
    mov r10, [rax + R_R10]
    mov r11, [rax + R_R11]
    mov r12, [rax + R_R12]
    mov r13, [rax + R_R13]
    mov r14, [rax + R_R14]
    mov r15, [rax + R_R15]
    mov rax, [rax + R_RAX]
    iretq

; A vCPU enters its guest kernel at the registered entry point, with the
; state page's address in rdi and interrupts on (the virtual flag is off).
vcpu_entry_from_exit:
    mov byte [rax + T_KIND], KIND_SYSCALL
    mov rcx, [rax + R_RIP]
    mov rsp, [rax + R_RSP]
    mov rdi, [rax + R_RDI]
enter_guest_kernel:                         ; rcx = rip, rsp, rdi set
    mov r11d, 0x202
    xor eax, eax
    xor edx, edx
    xor esi, esi
    xor r8d, r8d
    xor r9d, r9d
    xor r10d, r10d
    xor ebx, ebx                            ; rbx rbp r12-r15 are live from whoever
    xor ebp, ebp                            ; entered last (another task's thread,
    xor r12d, r12d                          ; or &gone_thread after a trap): they
    xor r13d, r13d                          ; must not reach the guest kernel
    xor r14d, r14d
    xor r15d, r15d
    o64 sysret

; The vCPU paths of vcpu.c, called from C and never returning.
; vcpu_to_kernel(rip, rsp, rdi): enter the guest kernel.
global vcpu_to_kernel
vcpu_to_kernel:
    mov rcx, rdi
    mov rsp, rsi
    mov rdi, rdx
    jmp enter_guest_kernel

; vcpu_to_user(regs): run the process from its (checked) registers.
global vcpu_to_user
vcpu_to_user:
    mov rax, rdi
    jmp iret_from_rax

; A vCPU's process ran `syscall` (this is its thread's syscall_fn, called by
; syscall_entry with the process's rip, rflags, rsp stored in the thread):
; its other registers go straight into the state page, then vcpu.c takes over.
extern vcpu_syscall_exit
global vcpu_syscall_entry
vcpu_syscall_entry:
    mov r11, [rel current]
    mov r11, [r11 + T_VCPU_STATE]           ; struct uk_vcpu_state: user at offset 0
    mov [r11 + R_RAX], rax
    mov [r11 + R_RDI], rdi
    mov [r11 + R_RSI], rsi
    mov [r11 + R_RDX], rdx
    mov [r11 + R_R10], r10
    mov [r11 + R_R8],  r8
    mov [r11 + R_R9],  r9
    mov [r11 + R_RBX], rbx
    mov [r11 + R_RBP], rbp
    mov [r11 + R_R12], r12
    mov [r11 + R_R13], r13
    mov [r11 + R_R14], r14
    mov [r11 + R_R15], r15
    jmp vcpu_syscall_exit                   ; noreturn

; Exceptions and interrupts.  Each stub leaves [vector, error] above the
; hardware frame: [rsp] vector, +8 error, +16 rip, +24 cs, +32 rflags,
; +40 rsp, +48 ss.
trap_common:
    test byte [rsp + 24], 3
    jz kernel_trap
    push rax
    mov rax, [rel current]
    mov [rax + R_RBX], rbx
    mov [rax + R_RCX], rcx
    mov [rax + R_RDX], rdx
    mov [rax + R_RSI], rsi
    mov [rax + R_RDI], rdi
    mov [rax + R_RBP], rbp
    mov [rax + R_R8],  r8
    mov [rax + R_R9],  r9
    mov [rax + R_R10], r10
    mov [rax + R_R11], r11
    mov [rax + R_R12], r12
    mov [rax + R_R13], r13
    mov [rax + R_R14], r14
    mov [rax + R_R15], r15
    pop rbx
    mov [rax + R_RAX], rbx
    mov rbx, [rsp]
    mov [rax + R_VECTOR], rbx
    mov rbx, [rsp + 8]
    mov [rax + R_ERROR], rbx
    mov rbx, [rsp + 16]
    mov [rax + R_RIP], rbx
    mov rbx, [rsp + 32]
    mov [rax + R_RFLAGS], rbx
    mov rbx, [rsp + 40]
    mov [rax + R_RSP], rbx
    mov byte [rax + T_KIND], KIND_FULL
    lea rbx, [rel gone_thread]
    mov [rel entry_thread], rbx
    inc qword [rel kstats]
    lea rsp, [rel kstack_top]
    cld                                     ; user code may have set DF (syscall clears it
                                            ; by SFMASK; traps do not): C's rep movs need it 0
    mov rdi, rax
    call trap_dispatch
    jmp exit_to_user

; From ring 0: an interrupt while idle in hlt, or a kernel bug.
kernel_trap:
    push rax
    push rbx
    push rcx
    push rdx
    push rsi
    push rdi
    push rbp
    push r8
    push r9
    push r10
    push r11
    push r12
    push r13
    push r14
    push r15
    mov rdi, rsp
    cld
    call kernel_trap_dispatch
    pop r15
    pop r14
    pop r13
    pop r12
    pop r11
    pop r10
    pop r9
    pop r8
    pop rbp
    pop rdi
    pop rsi
    pop rdx
    pop rcx
    pop rbx
    pop rax
    add rsp, 16
    iretq

%macro TRAP 1
trap_%1:
%if (%1 == 8) || (%1 == 10) || (%1 == 11) || (%1 == 12) || (%1 == 13) || (%1 == 14) || (%1 == 17) || (%1 == 21) || (%1 == 29) || (%1 == 30)
%else
    push qword 0
%endif
    push qword %1
    jmp trap_common
%endmacro

%assign i 0
%rep 256
TRAP i
%assign i i + 1
%endrep

section .rodata
global trap_stubs
trap_stubs:
%assign i 0
%rep 256
    dq trap_ %+ i
%assign i i + 1
%endrep
