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
;    (the end of this file): a process's system call, which stores into
;    the state page and enters the guest kernel without C, and its guest
;    kernel's, where a RESUME goes to C's fast path (fastpath.c).
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
extern vcpu_resume, vcpu_process_tls, vcpu_fastpath_resume, loaded_fs_base

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

; The last part of every return to user by iretq, the frame pushed: %1 =
; the registers (struct uk_regs), rax, rsi or rdi, loaded last from its
; offset %2 (R_RAX, R_RSI or R_RDI).
%macro LOAD_REGS_IRETQ 2
    %ifnidni %1, rax
    mov rax, [%1 + R_RAX]
    %endif
    mov rbx, [%1 + R_RBX]
    mov rcx, [%1 + R_RCX]
    mov rdx, [%1 + R_RDX]
    %ifnidni %1, rsi
    mov rsi, [%1 + R_RSI]
    %endif
    %ifnidni %1, rdi
    mov rdi, [%1 + R_RDI]
    %endif
    mov rbp, [%1 + R_RBP]
    mov r8,  [%1 + R_R8]
    mov r9,  [%1 + R_R9]
    mov r10, [%1 + R_R10]
    mov r11, [%1 + R_R11]
    mov r12, [%1 + R_R12]
    mov r13, [%1 + R_R13]
    mov r14, [%1 + R_R14]
    mov r15, [%1 + R_R15]
    mov %1, [%1 + %2]
    iretq
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
    LOAD_REGS_IRETQ rax, R_RAX

vcpu_from_exit:                             ; flags: kind compared with REGS_VCPU_USER
    mov byte [rax + T_KIND], KIND_SYSCALL
    jne vcpu_entry_from_exit                ; -> vcpu_entry_from_exit: into its guest kernel
    ; REGS_VCPU_USER: back into the process it was interrupted in; its TLS
    ; bases loaded if not there (C), then as any thread, with swapgs
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
    xor edx, edx
    xor ebx, ebx                            ; rbx rbp r12-r15 are live from whoever
    xor ebp, ebp                            ; entered last (another task's thread,
    xor r12d, r12d                          ; or &gone_thread after a trap, or C):
    xor r13d, r13d                          ; they must not reach the guest kernel
    xor r14d, r14d
    xor r15d, r15d
    jmp sysret_to_guest_kernel              ; -> sysret_to_guest_kernel: the one way in

; ---- A vCPU's round trip (vcpu.c tells the story) ----
; The RESUME's checks and commit are C's (fastpath.c, vcpu_path.h): here
; only its registers.  The process's syscall has nothing to decide but fs.
;
; 1. vcpu_kernel_entry: the guest kernel's system call.  A RESUME goes to
;    C's fast path with only what the slow path would lose kept: rip and
;    rflags (its rsp waits in syscall_user_rsp).
global vcpu_kernel_entry
vcpu_kernel_entry:                          ; rsp = the thread
    cmp rax, SYS_VCPU_RESUME
    jne syscall_common                      ; -> syscall_common: not a resume, the usual way
    mov [rsp + R_RIP], rcx
    mov [rsp + R_RFLAGS], r11
    mov rcx, r10                            ; 4th C argument
    lea rsp, [rel kstack_top - 16]
    call vcpu_fastpath_resume               ; back only from the slow path (vcpu_resume)
    jmp exit_to_user                        ; -> exit_to_user: its answer, or the guest kernel

; The fast path's way to vcpu_resume (C tail-calls it with vcpu_resume's
; arguments): the rest of SYSCALL_TO_C; vcpu_resume returns to the call in
; vcpu_kernel_entry.  (The entry is counted already.)
global vcpu_resume_slow
vcpu_resume_slow:
    mov rax, [rel current]
    mov r11, [rel syscall_user_rsp]
    mov [rax + R_RSP], r11
    mov [rel entry_thread], rax
    jmp vcpu_resume                         ; -> vcpu_resume (C): returns to the call above

; vcpu_to_user(regs, rflags), from C: run the process from its (checked)
; registers with rflags (made safe); its gs base is in MSR_KERNEL_GS.  The
; frame goes on the kernel stack below C's.
global vcpu_to_user
vcpu_to_user:
    push qword USER_SS
    push qword [rsi + R_RSP]
    push rdi
    push qword USER_CS
    push qword [rsi + R_RIP]
    swapgs                                  ; the process's gs base
    LOAD_REGS_IRETQ rsi, R_RSI

; 2. vcpu_process_entry: the process ran `syscall` (syscall_fn while a
;    vCPU runs a process; rsp = the thread, rcx = rip, r11 = rflags).  An
;    exit with nothing to decide: its registers go straight into the state
;    page, the exit is recorded and the thread is back in its guest kernel
;    (as vcpu_path.h's vcpu_note_exit and vcpu_leave_process, which this
;    mirrors store for store: no C call on the way, the +5 instructions
;    docs/ukernel-performance.md allows could not pay for one), and the
;    guest kernel is entered at entry_ip by sysret with the process's own
;    rbx, rbp, r12-r15 (nothing else of anyone's).  A process cannot change
;    its TLS bases (no FSGSBASE): they stay in state->user as the resume
;    left them.
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
    mov qword [rsp + S_EXIT_REASON], EXIT_SYSCALL   ; vcpu_note_exit
    mov qword [rsp + S_IRQ_ENABLED], 0
    inc qword [rsp + S_EXITS]
    mov r11, [rel current]
    mov qword [r11 + T_SYSCALL_FN], vcpu_kernel_entry   ; vcpu_leave_process
    mov rax, [r11 + T_TASK]
    mov [r11 + T_AS], rax
    mov [rel active_vspace], rax            ; arch_switch_vspace
    inc qword [rel kstats + KSTATS_AS_SWITCHES]
    mov rax, [rax + TASK_PML4_PHYS]
    mov cr3, rax
    mov rax, [r11 + R_FS_BASE]              ; the guest kernel's fs base
    cmp rax, [rel loaded_fs_base]
    jne .load_fs                            ; -> load_fs: MSR_FS_BASE holds the process's (glibc's TLS)
.fs_loaded:
    mov rdi, [r11 + T_VCPU_STATE_VA]
    mov rcx, [rsp + S_ENTRY_IP]
    mov rsp, [rsp + S_ENTRY_SP]
    xor edx, edx
    ; fall through
; Every way into a guest kernel: at rcx, with rsp, rdi and rdx (0) set; rbx,
; rbp, r12-r15 are cleared or the process's own.  Interrupts on (the virtual
; flag is off); the registers the guest kernel may rely on are zero.
sysret_to_guest_kernel:
    cmp rcx, [rel user_map_top]             ; sysret to a non-canonical rip faults in
    cmova rcx, [rel user_map_top]           ; ring 0 on Intel CPUs, on the guest's stack:
                                            ; an entry point outside user space enters at
                                            ; the never-mapped last user page instead
                                            ; (the bound in memory: no register to load)
    mov r11d, RFLAGS_ENTRY                  ; IF and the reserved bit
    xor eax, eax
    xor esi, esi
    xor r8d, r8d
    xor r9d, r9d
    xor r10d, r10d
    o64 sysret

vcpu_process_entry.load_fs:                 ; as arch_load_fs
    mov [rel loaded_fs_base], rax
    mov rdx, rax
    shr rdx, 32
    mov ecx, MSR_FS_BASE
    wrmsr
    jmp vcpu_process_entry.fs_loaded        ; -> fs_loaded: on into the guest kernel

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
align 8
user_map_top: dq USER_MAP_TOP               ; sysret_to_guest_kernel's bound (abi.h)
global trap_stubs
trap_stubs:
%assign i 0
%rep 256
    dq trap_ %+ i
%assign i i + 1
%endrep
