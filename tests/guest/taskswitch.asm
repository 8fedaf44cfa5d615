; taskswitch.asm -- hardware task switching (SDM vol.3 chapter 7).
;
; - JMP to a TSS descriptor: the old task's state is saved in its TSS (7.3 step 8; printed field
;   by field), the new task's registers come from its TSS, busy bits follow table 7-2 (JMP clears
;   the old task's busy bit), CR0.TS is set by every switch.
; - CALL to a TSS, CALL through a GDT task gate, INT through an IDT task gate: the new task gets
;   NT=1 and its previous-task link = the old TSS selector, the old task stays busy; IRET with
;   NT=1 returns to the linked task and clears the returning task's busy bit.
; - Pre-commit checks: JMP/CALL to a busy TSS is #GP(TSS selector), a not-present TSS #NP, a task
;   gate naming a non-TSS descriptor #GP (vol.2 JMP/CALL, 7.3 table 7-1).
; - A double fault (a page fault while delivering a page fault: a kernel stack overflow onto a
;   not-present page, 6.15 interrupt 8) through an IDT task gate runs on a known-good stack; the
;   #DF task repairs the faulting task's TSS and IRETs back to it.

%include "lift86.inc"

SEL_TSSB      equ SEL_FREE + 0x00   ; task B
SEL_TSSDF     equ SEL_FREE + 0x08   ; double-fault task
SEL_TGATE     equ SEL_FREE + 0x10   ; task gate -> SEL_TSSB
SEL_NP_TSS    equ SEL_FREE + 0x18   ; TSS descriptor, P=0
SEL_TGATE_BAD equ SEL_FREE + 0x20   ; task gate -> SEL_DATA0 (not a TSS)

; 32-bit TSS fields (figure 7-2)
T_LINK   equ 0
T_CR3    equ 28
T_EIP    equ 32
T_EFLAGS equ 36
T_EAX    equ 40
T_ECX    equ 44
T_EDX    equ 48
T_EBX    equ 52
T_ESP    equ 56
T_EBP    equ 60
T_ESI    equ 64
T_EDI    equ 68
T_ES     equ 72
T_CS     equ 76
T_SS     equ 80
T_DS     equ 84
T_FS     equ 88
T_GS     equ 92
T_LDT    equ 96
T_IOMAP  equ 102

STACK_NP equ 0x00300000             ; not-present page under the overflowing stack

test_main:
    mov edi, tss_b
    mov eax, task_b
    mov ebx, stack_b_top
    call init_tss_image
    mov dword [tss_b + T_EAX], 0xB000000A
    mov dword [tss_b + T_EBX], 0xB000000B
    mov dword [tss_b + T_ESI], 0xB0000051
    mov edi, tss_df
    mov eax, df_task
    mov ebx, stack_df_top
    call init_tss_image
    mov eax, SEL_TSSB
    mov ebx, tss_b
    mov ecx, 103
    mov edx, ACC_TSS
    call set_desc
    mov eax, SEL_TSSDF
    mov ebx, tss_df
    call set_desc
    mov eax, SEL_NP_TSS
    mov edx, 0x09                   ; 32-bit TSS, P=0
    call set_desc
    mov word [gdt + SEL_TGATE + 2], SEL_TSSB
    mov byte [gdt + SEL_TGATE + 5], 0x85        ; P, DPL0, task gate
    mov word [gdt + SEL_TGATE_BAD + 2], SEL_DATA0
    mov byte [gdt + SEL_TGATE_BAD + 5], 0x85
    mov word [idt + 0x60*8 + 2], SEL_TSSB       ; IDT vector 60h: task gate -> task B
    mov byte [idt + 0x60*8 + 5], 0x85

    PUTS "== JMP to a TSS", 10
    call show_busy
    mov [main_esp], esp
    push dword 2
    popfd
    mov eax, 0x11111111
    mov ecx, 0x22222222
    mov edx, 0x33333333
    mov ebx, 0x44444444
    mov ebp, 0x66666666
    mov esi, 0x55555555
    mov edi, 0x77777777
    jmp SEL_TSSB:0xDEAD             ; the offset is ignored
.after_jmp:
    PUTS "main resumed: eax="
    HEX32 eax
    PUTS " ecx="
    HEX32 ecx
    PUTS " edx="
    HEX32 edx
    PUTS " ebx="
    HEX32 ebx
    PUTS " ebp="
    HEX32 ebp
    PUTS " esi="
    HEX32 esi
    PUTS " edi="
    HEX32 edi
    NL
    call show_busy
    call show_ts
    clts

    PUTS "== CALL to a TSS", 10
    call SEL_TSSB:0
    call after_return
    PUTS "== CALL through a GDT task gate", 10
    call SEL_TGATE:0
    call after_return
    PUTS "== INT 60h through an IDT task gate", 10
    int 0x60
    call after_return

    PUTS "== pre-commit checks", 10
    TRY .a, .a_done, "jmp to the busy current TSS"
.a: jmp SEL_TSS:0
    NOFAULT
.a_done:
    TRY .b, .b_done, "call to the busy current TSS"
.b: call SEL_TSS:0
    NOFAULT
.b_done:
    TRY .c, .c_done, "jmp to a not-present TSS"
.c: jmp SEL_NP_TSS:0
    NOFAULT
.c_done:
    TRY .d, .d_done, "call through a task gate naming a data segment"
.d: call SEL_TGATE_BAD:0
    NOFAULT
.d_done:

    PUTS "== #DF through an IDT task gate", 10
    call t_double_fault
    ret

; EDI = TSS image, EAX = EIP, EBX = ESP: a ring-0 flat task with IF=0
init_tss_image:
    pushad
    push eax
    push edi
    mov ecx, 104
    xor eax, eax
    rep stosb
    pop edi
    pop eax
    mov [edi + T_EIP], eax
    mov [edi + T_ESP], ebx
    mov dword [edi + T_EFLAGS], 2
    mov dword [edi + T_CS], SEL_CODE0
    mov eax, SEL_DATA0
    mov [edi + T_SS], eax
    mov [edi + T_DS], eax
    mov [edi + T_ES], eax
    mov [edi + T_FS], eax
    mov [edi + T_GS], eax
    mov dword [edi + 8], SEL_DATA0              ; SS0
    mov dword [edi + 4], ebx                    ; ESP0
    mov word [edi + T_IOMAP], 104
    popad
    ret

show_busy:                          ; busy bits = type 9 (available) / B (busy)
    push eax
    PUTS "types: main="
    movzx eax, byte [gdt + SEL_TSS + 5]
    and eax, 0x0F
    HEX8 eax
    PUTS " B="
    movzx eax, byte [gdt + SEL_TSSB + 5]
    and eax, 0x0F
    HEX8 eax
    NL
    pop eax
    ret

show_ts:
    push eax
    PUTS "cr0.ts="
    mov eax, cr0
    shr eax, 3
    and eax, 1
    HEX8 eax
    NL
    pop eax
    ret

show_nt_link:
    push eax
    PUTS "nt="
    pushfd
    pop eax
    shr eax, 14
    and eax, 1
    HEX8 eax
    PUTS " link="
    HEX16 [tss_b + T_LINK]
    PUTS " tr="
    str ax
    HEX16 eax
    NL
    pop eax
    ret

after_return:
    PUTS "back in main: "
    call show_nt_link
    call show_busy
    PUTS "B's saved eflags.nt="
    mov eax, [tss_b + T_EFLAGS]
    shr eax, 14
    and eax, 1
    HEX8 eax
    NL
    clts
    ret

; ---- task B: each entry resumes where the previous exit left it (its EIP is saved in tss_b)
task_b:
    PUTS "task B (jmp): tr="
    push eax
    str ax
    HEX16 eax
    pop eax
    PUTS " regs from TSS: eax="
    HEX32 eax
    PUTS " ebx="
    HEX32 ebx
    PUTS " esi="
    HEX32 esi
    PUTS " esp=top-"
    mov eax, stack_b_top
    sub eax, esp
    HEX8 eax
    NL
    call show_nt_link
    call show_busy
    call show_ts
    PUTS "main's TSS: eip=ret+"
    mov eax, [tss0 + T_EIP]
    sub eax, test_main.after_jmp
    HEX8 eax
    PUTS " eflags="
    HEX32 [tss0 + T_EFLAGS]
    PUTS " esp=saved-"
    mov eax, [main_esp]
    sub eax, [tss0 + T_ESP]
    HEX8 eax
    NL
    PUTS "  eax="
    HEX32 [tss0 + T_EAX]
    PUTS " ecx="
    HEX32 [tss0 + T_ECX]
    PUTS " edx="
    HEX32 [tss0 + T_EDX]
    PUTS " ebx="
    HEX32 [tss0 + T_EBX]
    PUTS " ebp="
    HEX32 [tss0 + T_EBP]
    PUTS " esi="
    HEX32 [tss0 + T_ESI]
    PUTS " edi="
    HEX32 [tss0 + T_EDI]
    NL
    PUTS "  es="
    HEX16 [tss0 + T_ES]
    PUTS " cs="
    HEX16 [tss0 + T_CS]
    PUTS " ss="
    HEX16 [tss0 + T_SS]
    PUTS " ds="
    HEX16 [tss0 + T_DS]
    PUTS " fs="
    HEX16 [tss0 + T_FS]
    PUTS " gs="
    HEX16 [tss0 + T_GS]
    PUTS " ldt="
    HEX16 [tss0 + T_LDT]
    NL
    mov eax, 0xB0B0B0B0                 ; saved into tss_b by the next switch
    jmp SEL_TSS:0
    ; second entry: CALL
    PUTS "task B (call): eax="
    HEX32 eax
    PUTS " "
    call show_nt_link
    call show_busy
    iretd
    ; third entry: CALL through a task gate
    PUTS "task B (task gate): "
    call show_nt_link
    call show_busy
    iretd
    ; fourth entry: INT through an IDT task gate (a software INT pushes no error code)
    PUTS "task B (int 60h): esp=top-"
    mov eax, stack_b_top
    sub eax, esp
    HEX8 eax
    PUTS " "
    call show_nt_link
    call show_busy
    iretd
    PUTS "BUG: task B entered a fifth time", 10
    mov al, 3
    jmp exit

; ---- #DF task gate: kernel stack overflow onto a not-present page
t_double_fault:
    mov word [idt + 8*8 + 2], SEL_TSSDF
    mov byte [idt + 8*8 + 5], 0x85
    mov edi, pt
    mov eax, 0x003
    mov ecx, 1024
.fill:
    stosd
    add eax, 0x1000
    loop .fill
    mov dword [pt + (STACK_NP >> 12)*4], 0
    mov dword [pd], pt + 0x003
    mov eax, pd
    mov [tss0 + T_CR3], eax         ; every task's CR3 field is loaded by the switch into it
    mov [tss_b + T_CR3], eax
    mov [tss_df + T_CR3], eax
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    mov [main_esp], esp
    mov esp, STACK_NP + 0x1000      ; the next push writes to the not-present page
    push eax                        ; #PF, whose delivery #PFs again: #DF -> task gate
    mov esp, [main_esp]
    PUTS "BUG: no double fault", 10
    ret
.resume:                            ; the #DF task set EIP and ESP in main's TSS to come here
    PUTS "main resumed after #DF: esp ok="
    mov eax, esp
    sub eax, [main_esp]
    HEX32 eax
    NL
    call show_busy
    mov eax, cr0
    and eax, 0x7FFFFFF7             ; paging off, TS clear
    mov cr0, eax
    ret

df_task:
    pop ebx                         ; the #DF error code, pushed on this task's stack
    PUTS "#DF task: err="
    HEX32 ebx
    PUTS " cr2="
    mov eax, cr2
    HEX32 eax
    PUTS " link="
    HEX16 [tss_df + T_LINK]
    PUTS " nt="
    pushfd
    pop eax
    shr eax, 14
    and eax, 1
    HEX8 eax
    PUTS " types: main="
    movzx eax, byte [gdt + SEL_TSS + 5]
    and eax, 0x0F
    HEX8 eax
    PUTS " df="
    movzx eax, byte [gdt + SEL_TSSDF + 5]
    and eax, 0x0F
    HEX8 eax
    NL
    ; repair the faulting task: good stack, resume address, clean flags
    mov dword [tss0 + T_EIP], t_double_fault.resume
    mov eax, [main_esp]
    mov [tss0 + T_ESP], eax
    mov dword [tss0 + T_EFLAGS], 2
    iretd
    jmp df_task

section .bss
alignb 4096
pd: resb 4096
pt: resb 4096
tss_b: resb 104
tss_df: resb 104
main_esp: resd 1
alignb 16
stack_b: resb 4096
stack_b_top:
stack_df: resb 4096
stack_df_top:
