; exceptions.asm -- every exception vector raised on purpose.
;
; Each check arms the library's catch (TRY site, resume, "name") and runs one faulting
; instruction at `site`; the handler prints "name: #VEC err=XXXX eip=+NN" where NN is the saved
; EIP minus `site`: +00 proves fault semantics (EIP of the faulting instruction), +len proves trap
; semantics (EIP of the next instruction) -- SDM vol.3 6.5 "Exception classifications" and
; table 6-1. Error codes follow vol.3 6.13: bit 0 EXT, bit 1 IDT, bit 2 TI, bits 15:3 index.
;
; exceptions.expected is what the SDM specifies. QEMU 7.2 TCG differs (exceptions.qemu.expected):
;   - ICEBP (F1) is #UD (QEMU builds it only with WANT_ICEBP); the SDM makes it a #DB trap.
;   - error codes never carry EXT (bit 0), so the #NP for an undeliverable single-step is 000a.
;   - no segment limit, null-selector, read-only or CS-write checks on data accesses (#GP/#SS).
;   - no alignment checking (#AC).
;   - a pending x87 exception is reported only by FWAIT, not by the next waiting x87 instruction.
;   - LOCK on MOV (not a lockable instruction) executes instead of raising #UD.
;   - FDIVP with an unmasked divide-by-zero still pops (TOP 7, FSW B884); the SDM (vol.1 8.5.3,
;     4.9.2) leaves the operands and TOP unchanged (FSW B084), as the host's x87 does.

%include "lift86.inc"

; test descriptors
SEL_NP_DATA  equ SEL_FREE + 0x00    ; data, P=0
SEL_LIM_DATA equ SEL_FREE + 0x08    ; data, base 0, limit 0xFFF
SEL_RO_DATA  equ SEL_FREE + 0x10    ; read-only data
SEL_XO_CODE  equ SEL_FREE + 0x18    ; execute-only code
SEL_BAD_TSS  equ SEL_FREE + 0x20    ; 32-bit TSS with limit 0x50 (< 0x67)
SEL_NP_CODE  equ SEL_FREE + 0x28    ; code, P=0
SEL_LIM_SS   equ SEL_FREE + 0x30    ; stack: base 0, limit just above the ring-0 stack
SEL_NP_STACK equ SEL_FREE + 0x38    ; writable data, P=0 (loaded into SS)

PG_NP   equ 0x300000                ; not-present page
PG_RO   equ 0x301000                ; user, read-only
PG_SUP  equ 0x302000                ; supervisor, read/write
PG_SRO  equ 0x303000                ; supervisor, read-only

test_main:
    call setup_descs
    call t_de
    call t_db
    call t_bp_of_br
    call t_ud
    call t_nm
    call t_df
    call t_ts_np_ss
    call t_gp
    call t_ring3
    call t_pf
    call t_mf
    ret

setup_descs:
    mov eax, SEL_NP_DATA
    xor ebx, ebx
    mov ecx, 0xFFFFF
    mov edx, 0x12 | (FLG_4K32 << 8)            ; P=0, DPL0, data read/write
    call set_desc
    mov eax, SEL_LIM_DATA
    mov ecx, 0xFFF
    mov edx, ACC_DATA0 | (FLG_BYTE32 << 8)
    call set_desc
    mov eax, SEL_RO_DATA
    mov ecx, 0xFFFFF
    mov edx, 0x90 | (FLG_4K32 << 8)            ; data read-only
    call set_desc
    mov eax, SEL_XO_CODE
    mov edx, 0x98 | (FLG_4K32 << 8)            ; code execute-only
    call set_desc
    mov eax, SEL_BAD_TSS
    mov ebx, bad_tss
    mov ecx, 0x50
    mov edx, ACC_TSS | (FLG_BYTE16 << 8)
    call set_desc
    mov eax, SEL_NP_CODE
    xor ebx, ebx
    mov ecx, 0xFFFFF
    mov edx, 0x1A | (FLG_4K32 << 8)            ; P=0, code execute/read
    call set_desc
    mov eax, SEL_LIM_SS
    mov ecx, stack_top
    shr ecx, 12                                 ; 4 KiB units: limit = stack_top | 0xFFF
    mov edx, ACC_DATA0 | (FLG_4K32 << 8)
    call set_desc
    mov eax, SEL_NP_STACK
    mov ecx, 0xFFFFF
    mov edx, 0x12 | (FLG_4K32 << 8)
    call set_desc
    ret

; ---- #DE (vol.2 DIV/IDIV/AAM): divide by zero and quotient too large are both faults
t_de:
    TRY .a, .a_done, "div ecx=0"
    xor ecx, ecx
    mov eax, 1
    xor edx, edx
.a: div ecx
    NOFAULT
.a_done:
    TRY .b, .b_done, "div edx:eax=1:0 by 1 (quotient overflow)"
    mov edx, 1
    xor eax, eax
    mov ecx, 1
.b: div ecx
    NOFAULT
.b_done:
    TRY .c, .c_done, "idiv 80000000h by -1"
    mov eax, 0x80000000
    cdq
    mov ecx, -1
.c: idiv ecx
    NOFAULT
.c_done:
    TRY .d, .d_done, "aam 0"
.d: aam 0
    NOFAULT
.d_done:
    TRY .e, .e_done, "div 8-bit quotient 100h"
    mov ax, 0x100
    mov cl, 1
.e: div cl
    NOFAULT
.e_done:
    ret

; ---- #DB (vol.3 17.3.1.4): single-step is a trap taken after each instruction that *starts*
; with TF=1; POPF setting TF does not trap itself. DR6.BS (bit 14) reports it.
t_db:
    mov dword [isr_hooks + 1*4], step_hook
    mov dword [step_count], 0
    mov dword [step_base], .i1
    mov dword [step_limit], 3
    xor eax, eax
    mov dr6, eax
    pushfd
    or dword [esp], 0x100
    popfd                           ; TF=1 from here
.i1: nop
.i2: mov eax, 1
.i3: add eax, eax
.i4: nop                            ; step_hook cleared TF in the frame after 3 traps
    PUTS "single-step traps: "
    HEX8 [step_count]
    NL
    ; MOV SS inhibits the single-step trap until after the next instruction (vol.3 6.8.3)
    mov dword [step_count], 0
    mov dword [step_base], .j1
    mov dword [step_limit], 2
    pushfd
    or dword [esp], 0x100
    popfd
.j1: mov ax, ss                     ; trap after this one: eip=.j2
.j2: mov ss, ax                     ; no trap here
.j3: nop                            ; trap after this one: eip=.j4
.j4: nop
    mov dword [isr_hooks + 1*4], 0
    ; ICEBP (F1, "INT1") raises #DB as a trap (vol.2 INT n/INTO/INT3/INT1)
    TRY .k, .k_done, "icebp"
.k: db 0xF1
    NOFAULT
.k_done:
    ret

step_hook:
    inc dword [step_count]
    PUTS "#DB step eip=+"
    mov eax, [ebp + F_EIP]
    sub eax, [step_base]
    HEX8 eax
    PUTS " dr6.bs="
    mov eax, dr6
    shr eax, 14
    and eax, 1
    HEX8 eax
    xor eax, eax
    mov dr6, eax                    ; DR6 bits are sticky: the handler clears them (17.2.3)
    NL
    mov eax, [step_count]
    cmp eax, [step_limit]
    jb .r
    and dword [ebp + F_EFLAGS], ~0x100
.r: ret

; ---- #BP, #OF, #BR: INT3/INTO are traps (EIP after), BOUND is a fault
t_bp_of_br:
    TRY .a, .a_done, "int3 (CC)"
.a: int3
    NOFAULT
.a_done:
    TRY .b, .b_done, "int 3 (CD 03)"
.b: int 3
    NOFAULT
.b_done:
    TRY .c, .c_done, "into with OF=1"
    mov al, 0x7F
    add al, 1                       ; OF=1
.c: into
    NOFAULT
.c_done:
    TRY .d, .d_done, "into with OF=0"
    xor eax, eax                    ; OF=0
.d: into
    NOFAULT
.d_done:
    TRY .e, .e_done, "bound 10 in [0,9]"
    mov eax, 10
.e: bound eax, [bounds]
    NOFAULT
.e_done:
    TRY .f, .f_done, "bound -1 in [0,9]"
    mov eax, -1
.f: bound eax, [bounds]
    NOFAULT
.f_done:
    TRY .g, .g_done, "bound 9 in [0,9]"
    mov eax, 9
.g: bound eax, [bounds]
    NOFAULT
.g_done:
    ret

; ---- #UD (vol.2 "Invalid opcode"; LOCK rules in vol.2 LOCK: #UD on a register destination
; or a non-lockable instruction; MOV to CS is #UD)
t_ud:
    TRY .a, .a_done, "ud2"
.a: ud2
    NOFAULT
.a_done:
    TRY .b, .b_done, "0f ff (ud0)"
.b: db 0x0F, 0xFF, 0xC0
    NOFAULT
.b_done:
    TRY .c, .c_done, "fe /7"
.c: db 0xFE, 0xF8
    NOFAULT
.c_done:
    TRY .d, .d_done, "lock add eax,ebx"
.d: db 0xF0, 0x01, 0xD8
    NOFAULT
.d_done:
    TRY .e, .e_done, "lock mov [mem],eax"
.e: db 0xF0, 0x89, 0x05
    dd scratch
    NOFAULT
.e_done:
    TRY .f, .f_done, "mov cs,ax"
.f: db 0x8E, 0xC8
    NOFAULT
.f_done:
    TRY .g, .g_done, "lock add [mem],eax"
.g: lock add [scratch], eax
    NOFAULT
.g_done:
    ret

; ---- #NM (vol.3 2.5 CR0.TS/EM/MP, table 2-2)
t_nm:
    mov eax, cr0
    or eax, 1 << 3                  ; TS
    mov cr0, eax
    TRY .a, .a_done, "fld1 with TS=1"
.a: fld1
    NOFAULT
.a_done:
    TRY .b, .b_done, "fwait with TS=1 MP=0"
.b: fwait
    NOFAULT
.b_done:
    mov eax, cr0
    or eax, 1 << 1                  ; MP
    mov cr0, eax
    TRY .c, .c_done, "fwait with TS=1 MP=1"
.c: fwait
    NOFAULT
.c_done:
    clts
    mov eax, cr0
    or eax, 1 << 2                  ; EM
    mov cr0, eax
    TRY .d, .d_done, "fld1 with EM=1"
.d: fld1
    NOFAULT
.d_done:
    mov eax, cr0
    and eax, ~((1 << 2) | (1 << 1))
    mov cr0, eax
    fninit
    TRY .e, .e_done, "fld1 with TS=0 EM=0"
.e: fld1
    NOFAULT
.e_done:
    fninit
    ret

clear_tf:                           ; catch_extra: resume with TF=0
    and dword [ebp + F_EFLAGS], ~0x100
    ret

; ---- #DF (vol.3 6.15 interrupt 8, table 6-5): a contributory exception while delivering a
; contributory exception. #GP -> gate 13 not present -> #NP -> double fault (error code 0).
; Benign + contributory is not a double fault: INT3 and a single-step #DB with their gate not
; present give a plain #NP whose error code has IDT=1 (bit 1), and EXT=1 (bit 0) only for the
; single-step trap, an event "external to the program" (vol.3 6.13: EXT is clear only for INT n,
; INT3, INTO). The #NP for INT3 points at the INT3 (the software interrupt did not complete); the
; single-step trap's #NP points after the stepped NOP (it completed).
t_df:
    and byte [idt + 13*8 + 5], 0x7F
    TRY .a, .a_done, "#GP with gate 13 not present"
    mov ax, 0x1000
.a: mov ds, ax
    NOFAULT
.a_done:
    or byte [idt + 13*8 + 5], 0x80
    and byte [idt + 3*8 + 5], 0x7F
    TRY .b, .b_done, "int3 with gate 3 not present"
.b: int3
    NOFAULT
.b_done:
    or byte [idt + 3*8 + 5], 0x80
    and byte [idt + 1*8 + 5], 0x7F
    mov dword [catch_extra], clear_tf
    TRY .c, .c_done, "single-step trap with gate 1 not present"
    pushfd
    or dword [esp], 0x100
    popfd
.c: nop                             ; the #DB trap after this NOP cannot be delivered
    NOFAULT
.c_done:
    or byte [idt + 1*8 + 5], 0x80
    and byte [idt + 0*8 + 5], 0x7F
    TRY .d, .d_done, "#DE with gate 0 not present"
    xor ecx, ecx
.d: div ecx
    NOFAULT
.d_done:
    or byte [idt + 0*8 + 5], 0x80
    ret

; ---- #TS, #NP, #SS (vol.3 7.3 table 7-1; vol.2 MOV, CALL)
t_ts_np_ss:
    TRY .a, .a_done, "jmp to TSS with limit 50h"
.a: jmp SEL_BAD_TSS:0
    NOFAULT
.a_done:
    TRY .b, .b_done, "mov ds, not-present"
    mov ax, SEL_NP_DATA
.b: mov ds, ax
    NOFAULT
.b_done:
    TRY .c, .c_done, "call far not-present code"
.c: call SEL_NP_CODE:0
    NOFAULT
.c_done:
    TRY .d, .d_done, "mov ss, not-present"
    mov ax, SEL_NP_STACK
.d: mov ss, ax
    NOFAULT
.d_done:
    TRY .e, .e_done, "[ebp] beyond SS limit"
    mov ax, SEL_LIM_SS
    mov ss, ax
    mov ebp, 0x00800000
.e: mov eax, [ebp]
    NOFAULT
.e_done:
    mov ax, SEL_DATA0
    mov ss, ax
    ret

; ---- #GP (vol.3 5.3-5.8 protection checks; vol.2 MOV segment-register loads)
t_gp:
    TRY .a, .a_done, "mov ds, selector beyond GDT limit"
    mov ax, 0x1000
.a: mov ds, ax
    NOFAULT
.a_done:
    TRY .b, .b_done, "mov ds, LDT selector with null LDTR"
    mov ax, 0x000C
.b: mov ds, ax
    NOFAULT
.b_done:
    TRY .c, .c_done, "mov ds, RPL3 selector of DPL0 data"
    mov ax, SEL_DATA0 | 3
.c: mov ds, ax
    NOFAULT
.c_done:
    TRY .d, .d_done, "mov ss, DPL3 data at CPL0"
    mov ax, SEL_DATA3 | 3
.d: mov ss, ax
    NOFAULT
.d_done:
    TRY .e, .e_done, "mov ds, execute-only code"
    mov ax, SEL_XO_CODE
.e: mov ds, ax
    NOFAULT
.e_done:
    TRY .f, .f_done, "mov ss, read-only data"
    mov ax, SEL_RO_DATA
.f: mov ss, ax
    NOFAULT
.f_done:
    TRY .g, .g_done, "jmp far to a data segment"
.g: jmp SEL_DATA0:0
    NOFAULT
.g_done:
    TRY .h, .h_done, "null ds, read"
    xor eax, eax
    mov ds, ax
.h: mov eax, [scratch]
    NOFAULT
.h_done:
    mov ax, SEL_DATA0
    mov ds, ax
    TRY .i, .i_done, "ds limit fffh, read at 1000h"
    mov ax, SEL_LIM_DATA
    mov es, ax
.i: mov eax, [es:0x1000]
    NOFAULT
.i_done:
    TRY .j, .j_done, "ds limit fffh, dword at ffeh"
.j: mov eax, [es:0xFFE]
    NOFAULT
.j_done:
    TRY .k, .k_done, "write to read-only data"
    mov ax, SEL_RO_DATA
    mov es, ax
.k: mov dword [es:scratch], 1
    NOFAULT
.k_done:
    TRY .l, .l_done, "write through CS override"
.l: mov dword [cs:scratch], 1
    NOFAULT
.l_done:
    mov ax, SEL_DATA0
    mov es, ax
    TRY .m, .m_done, "int 90h beyond IDT limit 3ffh"
    mov word [idt_ptr], 0x3FF
    lidt [idt_ptr]
.m: int 0x90
    NOFAULT
.m_done:
    mov word [idt_ptr], 0x7FF
    lidt [idt_ptr]
    TRY .n, .n_done, "int 41h through a data-type gate"
    mov byte [idt + 0x41*8 + 5], 0x82          ; P, DPL0, system type 2 (LDT): not a gate
.n: int 0x41
    NOFAULT
.n_done:
    mov byte [idt + 0x41*8 + 5], 0x8E
    ret

; ---- ring 3 (IOPL 0): privileged instructions, IOPL-sensitive instructions, DPL checks.
; Ring 3 does not print here (IOPL 0 forbids port 0xE9): the ring-0 handler prints the TRY name.
t_ring3:
    RING3_IOPL0 .u                  ; (vector 40h keeps the library's DPL0 gate)
.u:
    TRY .a, .a_done, "cpl3 iopl0: cli"
.a: cli
    NOFAULT
.a_done:
    TRY .b, .b_done, "cpl3: hlt"
.b: hlt
    NOFAULT
.b_done:
    TRY .c, .c_done, "cpl3: mov cr0,eax"
.c: mov cr0, eax
    NOFAULT
.c_done:
    TRY .d, .d_done, "cpl3 iopl0: in al,80h"
.d: in al, 0x80
    NOFAULT
.d_done:
    TRY .e, .e_done, "cpl3: mov ds, DPL0 data"
    mov ax, SEL_DATA0
.e: mov ds, ax
    NOFAULT
.e_done:
    TRY .f, .f_done, "cpl3: int 40h through a DPL0 gate"
.f: int 0x40
    NOFAULT
.f_done:
    TRY .g, .g_done, "cpl3: call far DPL0 non-conforming code"
.g: call SEL_CODE0:0
    NOFAULT
.g_done:
    TRY .h, .h_done, "cpl3: lgdt"
.h: lgdt [gdt_ptr]
    NOFAULT
.h_done:
    RING0 .back
.back:
    ; #AC (vol.3 6.15 interrupt 17): CR0.AM=1, EFLAGS.AC=1, CPL 3, misaligned data reference
    mov eax, cr0
    or eax, 1 << 18
    mov cr0, eax
    pushfd
    or dword [esp], 1 << 18
    popfd
    TRY .i, .i_done, "cpl0 AM=1 AC=1: misaligned read"
.i: mov eax, [scratch + 1]
    NOFAULT
.i_done:
    RING3 .u2
.u2:
    pushfd
    or dword [esp], 1 << 18
    popfd
    TRY .j, .j_done, "cpl3 AM=1 AC=1: misaligned read"
.j: mov eax, [scratch + 1]
    NOFAULT
.j_done:
    TRY .k, .k_done, "cpl3 AM=1 AC=1: aligned read"
.k: mov eax, [scratch + 4]
    NOFAULT
.k_done:
    pushfd
    and dword [esp], ~(1 << 18)
    popfd
    TRY .l, .l_done, "cpl3 AM=1 AC=0: misaligned read"
.l: mov eax, [scratch + 1]
    NOFAULT
.l_done:
    RING0 .back2
.back2:
    pushfd
    and dword [esp], ~(1 << 18)
    popfd
    mov eax, cr0
    and eax, ~(1 << 18)
    mov cr0, eax
    ret

; ---- #PF (vol.3 4.7): error code P(0) W/R(1) U/S(2); CR2 = faulting linear address.
; Identity-mapped 0-4 MiB with 4 KiB pages, user read/write except the four test pages.
t_pf:
    mov edi, page_table
    mov eax, 0x007                  ; P, RW, U
    mov ecx, 1024
.fill:
    stosd
    add eax, 0x1000
    loop .fill
    mov dword [page_table + (PG_NP >> 12)*4], PG_NP | 0x006
    mov dword [page_table + (PG_RO >> 12)*4], PG_RO | 0x005
    mov dword [page_table + (PG_SUP >> 12)*4], PG_SUP | 0x003
    mov dword [page_table + (PG_SRO >> 12)*4], PG_SRO | 0x001
    mov dword [page_dir], page_table + 0x007
    mov eax, page_dir
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    mov dword [catch_extra], 0
    TRY .a, .a_done, "read not-present"
.a: mov eax, [PG_NP + 0x123]
    NOFAULT
.a_done:
    TRY .b, .b_done, "write not-present"
.b: mov dword [PG_NP + 0x456], 0
    NOFAULT
.b_done:
    TRY .c, .c_done, "fetch from not-present"
.c: jmp PG_NP + 0x10
    NOFAULT
.c_done:
    TRY .d, .d_done, "cpl0 WP=0 write to read-only user page"
.d: mov dword [PG_RO], 0x11
    NOFAULT
.d_done:
    mov eax, cr0
    or eax, 1 << 16                 ; WP
    mov cr0, eax
    TRY .e, .e_done, "cpl0 WP=1 write to read-only user page"
.e: mov dword [PG_RO + 4], 0x22
    NOFAULT
.e_done:
    TRY .f, .f_done, "cpl0 WP=1 write to read-only supervisor page"
.f: mov dword [PG_SRO + 8], 0x33
    NOFAULT
.f_done:
    RING3 .u
.u:
    TRY .g, .g_done, "cpl3 read supervisor page"
.g: mov eax, [PG_SUP + 0xFFC]
    NOFAULT
.g_done:
    TRY .h, .h_done, "cpl3 write read-only page"
.h: mov dword [PG_RO + 0x800], 0
    NOFAULT
.h_done:
    TRY .i, .i_done, "cpl3 read read-only page"
.i: mov eax, [PG_RO]
    NOFAULT
.i_done:
    TRY .j, .j_done, "cpl3 read not-present"
.j: mov eax, [PG_NP]
    NOFAULT
.j_done:
    TRY .k, .k_done, "cpl3 write not-present"
.k: mov dword [PG_NP + 4], 0
    NOFAULT
.k_done:
    RING0 .back
.back:
    PUTS "value written at WP=0: "
    HEX32 [PG_RO]
    NL
    mov eax, cr0
    and eax, ~(0x80000000 | (1 << 16))
    mov cr0, eax
    ret

; ---- #MF (vol.3 6.15 interrupt 16; vol.1 8.7): with CR0.NE=1 an unmasked x87 exception is
; reported at the *next* waiting x87 instruction (FWAIT or a non-control instruction), not at the
; instruction that caused it.
t_mf:
    mov eax, cr0
    or eax, 1 << 5                  ; NE
    and eax, ~((1 << 3) | (1 << 2)) ; TS=0 EM=0
    mov cr0, eax
    fninit
    fldcw [cw_zm_unmasked]
    TRY .a, .a_done, "fdiv by zero (ZE unmasked)"
    fld1
    fldz
.a: fdivp st1                       ; sets ZE and ES, no exception yet
    NOFAULT
.a_done:
    mov dword [catch_extra], print_fsw
    TRY .b, .b_done, "fwait after it"
.b: fwait
    NOFAULT
.b_done:
    fninit
    fldcw [cw_zm_unmasked]
    fld1
    fldz
    fdivp st1
    mov dword [catch_extra], print_fsw
    TRY .c, .c_done, "fld1 after it"
.c: fld1
    NOFAULT
.c_done:
    fninit
    TRY .d, .d_done, "fnclex; fwait"
    fldcw [cw_zm_unmasked]
    fld1
    fldz
    fdivp st1
    fnclex
.d: fwait
    NOFAULT
.d_done:
    fninit
    ret

print_fsw:
    PUTS " fsw="
    push eax
    fnstsw ax
    and eax, 0xFFFF
    HEX16 eax
    pop eax
    fnclex
    ret

section .data
align 4
bounds: dd 0, 9
cw_zm_unmasked: dw 0x037B           ; all masked except ZM (bit 2), 64-bit precision, nearest

section .bss
alignb 4096
page_dir: resb 4096
page_table: resb 4096
bad_tss: resb 128
scratch: resd 4
step_count: resd 1
step_base: resd 1
step_limit: resd 1
