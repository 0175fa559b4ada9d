; Kernel entry and exit: the only assembly besides boot.  One kernel stack;
; the kernel never sleeps on it, so every entry starts it afresh and every
; exit goes through exit_to_user with `current` deciding who runs.
;
; Register saving (see struct thread in thread.h; offsets checked there):
;  - syscall: the stub jumps to the thread's syscall_fn with rsp = the
;    thread.  For most threads that is syscall_common: only rip, rflags and
;    rsp are stored (the kind is already REGS_SYSCALL: every exit path
;    leaves it so).  The C code keeps rbx, rbp, r12-r15 (SysV callee-saved),
;    so they are still the caller's when C returns; they are stored only if
;    another thread is to run.  Results go back in rax, rdi, rsi, rdx, r10,
;    r8, r9 from the thread's register area.  A vCPU has entries of its own
;    (the end of this file): a process's system call, and its guest
;    kernel's, where a plain RESUME never reaches C.
;  - exception or interrupt from user: everything is stored (REGS_FULL) and
;    the thread later leaves through iretq (a vCPU interrupted in its
;    process: REGS_VCPU_USER, the same with swapgs).
;
; gs: the kernel never uses it.  While a vCPU runs a process, MSR_GS_BASE
; holds the process's gs base and MSR_KERNEL_GS the guest kernel's; swapgs
; at every entry from such a process and before every return to one keeps
; the kernel's view the usual one (MSR_GS_BASE = current->regs.gs_base).

; Offsets and numbers come from C: build/k/asm-offsets.inc, made from
; asm-offsets.c (R_* in struct uk_regs, T_* in struct thread, KIND_*, ...).
%include "asm-offsets.inc"

extern current, entry_thread, gone_thread, kstats, kstack_top, active_vspace
extern syscall_dispatch, trap_dispatch, kernel_trap_dispatch
extern loaded_kernel_gs, loaded_fs_base, vcpu_resume, vcpu_process_tls

; The usual syscall entry up to C (rsp = the thread): rip, rflags, rsp
; stored, the kernel stack.
%macro SYSCALL_TO_C 0
    mov [rsp + R_RIP], rcx
    mov [rsp + R_RFLAGS], r11
    mov r11, [rel syscall_user_rsp]
    mov [rsp + R_RSP], r11
    mov [rel entry_thread], rsp
    inc qword [rel kstats + KSTATS_KERNEL_ENTRIES]
    lea rsp, [rel kstack_top - 16]
%endmacro

; The last part of every return to user by iretq: rax = the registers
; (struct uk_regs), the frame pushed.
%macro LOAD_REGS_IRETQ 0
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
%endmacro

; A vCPU enters its guest kernel at rcx (a user address), with rsp and rdi
; set; rbx, rbp, r12-r15 are cleared by the caller or are the process's own.
; Interrupts on (the virtual flag is off); the registers the guest kernel
; may rely on are zero.
%macro SYSRET_TO_GUEST_KERNEL 0
    mov r11d, RFLAGS_ENTRY                  ; IF and the reserved bit
    xor eax, eax
    xor edx, edx
    xor esi, esi
    xor r8d, r8d
    xor r9d, r9d
    xor r10d, r10d
    o64 sysret
%endmacro

section .bss
syscall_user_rsp: resq 1

section .text
global syscall_entry
syscall_entry:
    ; rcx = user rip, r11 = user rflags; IF is clear (SFMASK)
    mov [rel syscall_user_rsp], rsp
    mov rsp, [rel current]                  ; rsp = &current->regs
    jmp [rsp + T_SYSCALL_FN]                ; -> its syscall_fn: syscall_common or a vCPU's

; A thread's system call, the usual way (syscall_fn of all but a vCPU's
; process): rip, rflags, rsp into the thread, then C.
global syscall_common
syscall_common:                             ; rsp = the thread
    SYSCALL_TO_C
    mov [rsp], rax                          ; 7th C argument: call number
    mov rcx, r10                            ; 4th C argument
    call syscall_dispatch
    ; fall through

global exit_to_user
exit_to_user:
    mov rax, [rel current]
    cmp rax, [rel entry_thread]
    jne .switched                           ; -> switched: another thread runs now
    cmp byte [rax + T_KIND], KIND_SYSCALL
    jne .restore                            ; -> restore: its registers were rewritten
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
    jne .other                              ; -> other: not a syscall's register set
    mov rbx, [rax + R_RBX]
    mov rbp, [rax + R_RBP]
    mov r12, [rax + R_R12]
    mov r13, [rax + R_R13]
    mov r14, [rax + R_R14]
    mov r15, [rax + R_R15]
    jmp .sysret                             ; -> sysret: as if it had not switched
.other:
    cmp byte [rax + T_KIND], KIND_VCPU_USER
    jae vcpu_from_exit                      ; -> vcpu_from_exit: a vCPU into its process or kernel
    mov byte [rax + T_KIND], KIND_SYSCALL   ; the next entry is a syscall or a trap
iret_from_rax:                              ; rax = the registers (struct uk_regs) to load
    lea rsp, [rel kstack_top]
    push qword USER_SS
    push qword [rax + R_RSP]
    push qword [rax + R_RFLAGS]
    push qword USER_CS
    push qword [rax + R_RIP]
    LOAD_REGS_IRETQ

vcpu_from_exit:                             ; flags: kind compared with REGS_VCPU_USER
    mov byte [rax + T_KIND], KIND_SYSCALL
    jne vcpu_entry_from_exit                ; -> vcpu_entry_from_exit: into its guest kernel
    ; REGS_VCPU_USER: back into the process it was interrupted in; its gs
    ; base into MSR_KERNEL_GS if not there, then as any thread, with swapgs
    lea rsp, [rel kstack_top]
    call vcpu_process_tls
    mov rax, [rel current]
    swapgs
    jmp iret_from_rax

; A vCPU enters its guest kernel (thread marked REGS_VCPU_ENTRY): at the
; registered entry point, with the state page's address in rdi.
vcpu_entry_from_exit:
    mov rcx, [rax + R_RIP]
    mov rsp, [rax + R_RSP]
    mov rdi, [rax + R_RDI]
enter_guest_kernel:                         ; rcx = rip, rsp, rdi set
    xor ebx, ebx                            ; rbx rbp r12-r15 are live from whoever
    xor ebp, ebp                            ; entered last (another task's thread,
    xor r12d, r12d                          ; or &gone_thread after a trap, or C):
    xor r13d, r13d                          ; they must not reach the guest kernel
    xor r14d, r14d
    xor r15d, r15d
    SYSRET_TO_GUEST_KERNEL

; The vCPU paths of vcpu.c, called from C and never returning.
; vcpu_to_user(regs): run the process from its (checked) registers; its gs
; base is in MSR_KERNEL_GS.
global vcpu_to_user
vcpu_to_user:
    mov rax, rdi
    swapgs
    jmp iret_from_rax

; ---- A vCPU's round trip (docs/ukernel-performance.md, vcpu.syscall) ----
;
; 1. vcpu_kernel_entry: the guest kernel's system call.  UK_SYS_VCPU_RESUME
;    of another task's process, with nothing riding along, is served here:
;    every check below either holds or sends the call to C (vcpu_resume)
;    with nothing changed; the commit after the checks cannot fail.
;    Scratch: rax, rsi, rdx (ignored with map_rights 0), r8, r9; rcx,
;    r11, rdi, r10 stay for the way to C.  The guest kernel's own
;    registers are not kept: every exit enters it afresh.
global vcpu_kernel_entry
vcpu_kernel_entry:                          ; rsp = the thread
    cmp rax, SYS_VCPU_RESUME
    jne syscall_common                      ; -> syscall_common: not a resume, the usual way
    test r10, r10
    jnz .slow                               ; -> slow: a mapping rides along
    mov r8, [rsp + T_TASK]
    mov r9d, [r8 + TASK_NSLOTS]
    cmp rdi, r9
    jae .slow                               ; -> slow: no such slot
    mov r9, [r8 + TASK_SLOTS]
    lea rsi, [rdi + rdi * 4]
    lea rsi, [r9 + rsi * 8]                 ; rsi = the cap (40 bytes each)
    cmp byte [rsi + CAP_TYPE], CAP_TASK
    jne .slow                               ; -> slow: not a task cap (slot 0, RESUME(0), is empty)
    test byte [rsi + CAP_RIGHTS], R_CONTROL
    jz .slow                                ; -> slow: no CONTROL right
    mov rsi, [rsi + CAP_OBJ]
    cmp rsi, r8
    je .slow                                ; -> slow: our own task (else rsi = the process)
    mov rax, [rsp + T_VCPU_STATE]           ; rax = the state page (user at 0)
    mov r9, [rax + R_RIP]
    or r9, [rax + R_FS_BASE]
    or r9, [rax + R_GS_BASE]
    mov rdx, USER_MAP_TOP
    cmp r9, rdx
    jae .slow                               ; -> slow: rip or a TLS base not a user address
    cmp qword [rax + S_PENDING], 0
    jne .slow                               ; -> slow: events pending
    mov r9, [rax + R_GS_BASE]
    cmp r9, [rel loaded_kernel_gs]
    jne .slow                               ; -> slow: its gs base not in MSR_KERNEL_GS
    ; commit: count the entry, the process's fs base, its address space
    inc qword [rel kstats + KSTATS_KERNEL_ENTRIES]
    mov rdx, [rsp + T_VCPU]
    mov word [rdx + V_IN_USER], 1           ; in_user, not in_upcall
    mov r8, [rsp + R_FS_BASE]
    mov [rdx + V_KERNEL_FS], r8             ; the guest kernel's, for the exit
    mov [rdx + V_USER_GS], r9
    mov r8, [rax + R_FS_BASE]
    mov [rsp + R_FS_BASE], r8               ; the thread's fs is the process's now
    cmp r8, [rel loaded_fs_base]
    je .fs_loaded                           ; -> fs_loaded: the MSR holds it already
    mov [rel loaded_fs_base], r8            ; a glibc process's TLS: wrmsr
    mov r9, rax
    mov eax, r8d
    mov rdx, r8
    shr rdx, 32
    mov ecx, MSR_FS_BASE
    wrmsr
    mov rax, r9
.fs_loaded:
    mov [rsp + T_AS], rsi
    mov qword [rsp + T_SYSCALL_FN], vcpu_process_entry
    mov [rel active_vspace], rsi
    inc qword [rel kstats + KSTATS_AS_SWITCHES]
    mov rsi, [rsi + TASK_PML4_PHYS]
    mov cr3, rsi
    ; and leave by iretq from the state page, rflags made safe (in place)
    lea rsp, [rel kstack_top]
    push qword USER_SS
    push qword [rax + R_RSP]
    mov ecx, [rax + R_RFLAGS]
    and ecx, RFLAGS_USER
    or ecx, RFLAGS_ENTRY                    ; IF and the reserved bit
    mov [rax + R_RFLAGS], rcx
    push rcx
    push qword USER_CS
    push qword [rax + R_RIP]
    swapgs                                  ; the process's gs base
    LOAD_REGS_IRETQ
.slow:                                      ; as syscall_common, to vcpu_resume
    SYSCALL_TO_C
    mov rcx, r10                            ; 4th C argument
    call vcpu_resume
    jmp exit_to_user                        ; -> exit_to_user: the answer, or the guest kernel

; 2. vcpu_process_entry: the process ran `syscall` (syscall_fn while a
;    vCPU runs a process; rsp = the thread, rcx = rip, r11 = rflags).  Its
;    registers go straight into the state page, and the guest kernel is
;    entered at entry_ip by sysret, with the process's own rbx, rbp,
;    r12-r15 (nothing else of anyone's).  A process cannot change its TLS
;    bases (no FSGSBASE): they stay in state->user as the resume left them.
global vcpu_process_entry
vcpu_process_entry:
    swapgs                                  ; the guest kernel's gs base
    mov rsp, [rsp + T_VCPU_STATE]           ; rsp = the state page (user at 0)
    mov [rsp + R_RAX], rax
    mov [rsp + R_RBX], rbx
    mov [rsp + R_RDX], rdx
    mov [rsp + R_RSI], rsi
    mov [rsp + R_RDI], rdi
    mov [rsp + R_RBP], rbp
    mov [rsp + R_R8],  r8
    mov [rsp + R_R9],  r9
    mov [rsp + R_R10], r10
    mov [rsp + R_R12], r12
    mov [rsp + R_R13], r13
    mov [rsp + R_R14], r14
    mov [rsp + R_R15], r15
    mov [rsp + R_RIP], rcx
    mov [rsp + R_RFLAGS], r11
    mov rax, [rel syscall_user_rsp]
    mov [rsp + R_RSP], rax
    inc qword [rel kstats + KSTATS_KERNEL_ENTRIES]
    mov qword [rsp + S_EXIT_REASON], EXIT_SYSCALL
    mov qword [rsp + S_IRQ_ENABLED], 0
    inc qword [rsp + S_EXITS]
    mov r11, [rel current]
    mov rdx, [r11 + T_VCPU]
    mov rax, [rdx + V_KERNEL_FS]
    cmp rax, [r11 + R_FS_BASE]
    je .fs_loaded                           ; -> fs_loaded: the process's fs is the guest kernel's
    mov [r11 + R_FS_BASE], rax              ; the thread's is the guest kernel's again
    mov [rel loaded_fs_base], rax           ; (the process's stays in state->user)
    mov r8, rdx
    mov rdx, rax
    shr rdx, 32
    mov ecx, MSR_FS_BASE
    wrmsr
    mov rdx, r8
.fs_loaded:
    mov byte [rdx + V_IN_USER], 0
    mov qword [r11 + T_SYSCALL_FN], vcpu_kernel_entry
    mov rax, [r11 + T_TASK]
    mov [r11 + T_AS], rax
    mov [rel active_vspace], rax
    inc qword [rel kstats + KSTATS_AS_SWITCHES]
    mov rax, [rax + TASK_PML4_PHYS]
    mov cr3, rax
    mov rdi, [rdx + V_STATE_VA]
    mov rcx, [rsp + S_ENTRY_IP]
    mov rax, USER_MAP_TOP                   ; sysret to a non-canonical rip faults
    cmp rcx, rax                            ; in ring 0 on Intel CPUs: an entry
    cmova rcx, rax                          ; point outside user space enters at
    mov rsp, [rsp + S_ENTRY_SP]             ; the never-mapped last user page
    SYSRET_TO_GUEST_KERNEL

; Exceptions and interrupts.  Each stub leaves [vector, error] above the
; hardware frame: [rsp] vector, +8 error, +16 rip, +24 cs, +32 rflags,
; +40 rsp, +48 ss.
trap_common:
    test byte [rsp + 24], 3
    jz kernel_trap                          ; -> kernel_trap: from ring 0
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
    inc qword [rel kstats + KSTATS_KERNEL_ENTRIES]
    lea rsp, [rel kstack_top]
    cld                                     ; user code may have set DF (syscall clears it
                                            ; by SFMASK; traps do not): C's rep movs need it 0
    mov rdi, rax
    call trap_dispatch
    jmp exit_to_user                        ; -> exit_to_user: whoever runs next

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
