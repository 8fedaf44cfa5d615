; privilege.asm -- protection rings: IRET to ring 3, call gates with a stack switch, conforming
; code segments, INT through DPL3 trap/interrupt gates, SYSENTER/SYSEXIT, POPF at CPL 3, and the
; protection-query instructions LAR/LSL/VERR/VERW/ARPL.
; SDM vol.3 chapter 5 (5.5 privilege levels, 5.8.3-5.8.6 call gates and stack switching,
; 5.8.1.2 conforming segments, 6.12.1 interrupt vs trap gates), vol.2 IRET, SYSENTER, SYSEXIT,
; POPF, LAR, LSL, VERR/VERW, ARPL.

%include "lift86.inc"

SEL_GATE3  equ SEL_FREE + 0x00      ; 32-bit call gate, DPL3 -> SEL_CODE0:gate_target, 2 params
SEL_CONF0  equ SEL_FREE + 0x08      ; conforming readable code, DPL0
SEL_CONF3  equ SEL_FREE + 0x10      ; conforming readable code, DPL3 (never loaded)

test_main:
    mov eax, SEL_GATE3
    mov ebx, gate_target
    mov ecx, SEL_CODE0
    mov dl, 0xEC                    ; P, DPL3, 32-bit call gate (type 0xC)
    mov dh, 2                       ; parameter count: 2 dwords copied to the inner stack
    call set_call_gate
    mov eax, SEL_CONF0
    xor ebx, ebx
    mov ecx, 0xFFFFF
    mov edx, 0x9E | (FLG_4K32 << 8)            ; P, DPL0, code, conforming, readable
    call set_desc
    mov eax, SEL_CONF3
    mov edx, 0xFE | (FLG_4K32 << 8)            ; P, DPL3, code, conforming, readable
    call set_desc

    call t_queries
    call t_iret_ring3
    call t_call_gate
    call t_conforming
    call t_int_gates
    call t_sysenter
    call t_popf
    ret

; set_call_gate: EAX = GDT selector, EBX = target offset, ECX = target selector,
; DL = access byte, DH = parameter count (SDM vol.3 5.8.3, figure 5-8)
set_call_gate:
    pushad
    and eax, 0xFFF8
    lea edi, [gdt + eax]
    mov [edi], bx
    mov [edi + 2], cx
    mov [edi + 4], dh
    mov [edi + 5], dl
    shr ebx, 16
    mov [edi + 6], bx
    popad
    ret

; ---- LAR/LSL/VERR/VERW/ARPL at CPL 3 and 0. LAR returns the second descriptor dword masked
; with 00FxFF00h (bits 19:16 undefined, so they are masked off here).
%macro LAR_CASE 2                   ; selector, text
    PUTS %2, ": lar "
    mov eax, 0xDEADBEEF
    lar eax, %1
    call print_zf_and_eax_ar
%endmacro
%macro LSL_CASE 2
    PUTS %2, ": lsl "
    mov eax, 0xDEADBEEF
    mov cx, %1
    lsl eax, cx
    call print_zf_and_eax
%endmacro
%macro VER_CASE 3                   ; verr/verw, selector, text
    PUTS %3, ": "
%ifidn %1, verr
    PUTS "verr "
%else
    PUTS "verw "
%endif
    mov cx, %2
    %1 cx
    call print_zf
    NL
%endmacro

t_queries:
    PUTS "== protection queries", 10
    RING3 .u
.u:
    mov cx, SEL_CONF3 | 3
    LAR_CASE cx, "cpl3 conforming DPL3 code"
    mov cx, SEL_DATA0
    LAR_CASE cx, "cpl3 DPL0 data"
    mov cx, 0
    LAR_CASE cx, "cpl3 null selector"
    mov cx, SEL_TSS
    LAR_CASE cx, "cpl3 DPL0 TSS"
    LSL_CASE SEL_DATA3 | 3, "cpl3 flat DPL3 data (G=1)"
    LSL_CASE SEL_DATA0, "cpl3 DPL0 data"
    VER_CASE verr, SEL_CODE3 | 3, "cpl3 readable code"
    VER_CASE verw, SEL_CODE3 | 3, "cpl3 code"
    VER_CASE verw, SEL_DATA3 | 3, "cpl3 DPL3 data"
    VER_CASE verr, SEL_DATA0, "cpl3 DPL0 data"
    VER_CASE verr, SEL_CONF0, "cpl3 DPL0 conforming readable code"
    VER_CASE verr, 0x1000, "cpl3 selector beyond GDT limit"
    PUTS "arpl 0010,rpl 3: "
    mov ax, SEL_DATA0
    mov bx, 3
    arpl ax, bx
    call print_zf
    PUTS " ax="
    HEX16 eax
    NL
    PUTS "arpl 0023,rpl 0: "
    mov ax, SEL_DATA3 | 3
    xor bx, bx
    arpl ax, bx
    call print_zf
    PUTS " ax="
    HEX16 eax
    NL
    RING0 .k
.k:
    mov cx, SEL_TSS
    LAR_CASE cx, "cpl0 busy TSS"
    LSL_CASE SEL_TSS, "cpl0 TSS"
    mov cx, SEL_GATE3
    LAR_CASE cx, "cpl0 call gate"
    LSL_CASE SEL_GATE3, "cpl0 call gate (no limit)"
    ret

print_zf:                           ; "ZF=1" / "ZF=0"
    jz .one
    PUTS "ZF=0"
    ret
.one:
    PUTS "ZF=1"
    ret
print_zf_and_eax:
    call print_zf
    PUTS " eax="
    HEX32 eax
    NL
    ret
print_zf_and_eax_ar:                ; LAR: mask the undefined limit bits 19:16 when ZF=1
    pushfd
    jnz .keep
    and eax, 0x00F0FF00
.keep:
    popfd
    jmp print_zf_and_eax

; ---- IRET to an outer level (SDM vol.2 IRET, RETURN-TO-OUTER-PRIVILEGE-LEVEL): DS, ES, FS, GS
; holding data or non-conforming code segments with DPL < new CPL are loaded with null.
t_iret_ring3:
    PUTS "== IRET to ring 3", 10
    mov ax, SEL_DATA0               ; DPL0 data: nulled
    mov ds, ax
    mov ax, SEL_CONF0               ; readable conforming code, DPL0: kept
    mov es, ax
    mov ax, SEL_DATA3 | 3           ; DPL3 data: kept
    mov fs, ax
    mov ax, SEL_DATA0               ; nulled
    mov gs, ax
    mov [ring3_saved_esp], esp
    pushfd
    pop dword [ring3_saved_eflags]
    push dword SEL_DATA3 | 3
    push dword user_stack_top
    push dword 0x3002               ; IOPL 3 so that ring 3 can print
    push dword SEL_CODE3 | 3
    push dword .r3
    iretd
.r3:
    mov ebx, ds
    mov ecx, es
    mov esi, fs
    mov edi, gs
    mov ax, SEL_DATA3 | 3
    mov ds, ax
    PUTS "after IRET: ds="
    HEX16 ebx
    PUTS " es="
    HEX16 ecx
    PUTS " fs="
    HEX16 esi
    PUTS " gs="
    HEX16 edi
    PUTS " cs="
    mov eax, cs
    HEX16 eax
    PUTS " ss="
    mov eax, ss
    HEX16 eax
    PUTS " esp=user_stack_top-"
    mov eax, user_stack_top
    sub eax, esp
    HEX8 eax
    NL
    RING0 .back
.back:
    ret

; ---- call gate from ring 3 to ring 0 (SDM vol.3 5.8.5, figure 5-13): the CPU switches to
; SS0:ESP0 from the TSS, pushes the caller's SS and ESP, copies the parameters, pushes CS and EIP.
; RETF 8 returns to ring 3 and releases the parameters on the outer stack.
t_call_gate:
    PUTS "== call gate with 2 parameters", 10
    RING3 .u
.u:
    mov [u_esp], esp
    push dword 0x1111
    push dword 0x2222
    call SEL_GATE3:0xDEAD           ; the offset is ignored for a call gate
.ret:
    PUTS "back in ring 3: cs="
    mov eax, cs
    HEX16 eax
    PUTS " esp change="
    mov eax, [u_esp]
    sub eax, esp
    HEX32 eax
    NL
    RING0 .back
.back:
    ret

gate_target:
    mov ebp, esp
    PUTS "in gate: cs="
    mov eax, cs
    HEX16 eax
    PUTS " ss="
    mov eax, ss
    HEX16 eax
    PUTS " esp=esp0-"
    mov eax, kstack_top
    sub eax, ebp
    HEX8 eax
    NL
    PUTS "inner stack: eip=ret+"
    mov eax, [ebp]
    sub eax, t_call_gate.ret
    HEX8 eax
    PUTS " cs="
    HEX16 [ebp + 4]
    PUTS " params="
    HEX32 [ebp + 8]
    PUTS ","
    HEX32 [ebp + 12]
    PUTS " esp=outer-"
    mov eax, [u_esp]
    sub eax, [ebp + 16]
    HEX8 eax
    PUTS " ss="
    HEX16 [ebp + 20]
    NL
    retf 8

; ---- conforming code segments (SDM vol.3 5.8.1.2): a far CALL to a conforming segment with
; DPL <= CPL keeps the CPL (CS.RPL = CPL); DPL > CPL is #GP. Non-conforming needs DPL = CPL.
t_conforming:
    PUTS "== conforming code", 10
    RING3 .u
.u:
    call SEL_CONF0:conf_code
    TRY .a, .a_done, "cpl3 call far DPL0 non-conforming"
.a: call SEL_CODE0:conf_code
    NOFAULT
.a_done:
    RING0 .k
.k:
    call SEL_CONF0:conf_code
    TRY .b, .b_done, "cpl0 call far DPL3 conforming"
.b: call SEL_CONF3:conf_code
    NOFAULT
.b_done:
    ret

conf_code:
    PUTS "conforming DPL0 code called: cs="
    mov eax, cs
    HEX16 eax
    PUTS " return cs="
    mov eax, [esp + 4]
    HEX16 eax
    NL
    retf

; ---- INT n from ring 3 (SDM vol.3 6.12.1): a DPL3 gate lets it through, the handler runs on the
; TSS ring-0 stack with SS, ESP, EFLAGS, CS, EIP pushed; an interrupt gate clears IF, a trap
; gate leaves it set.
t_int_gates:
    PUTS "== INT from ring 3 through DPL3 gates", 10
    mov eax, 0x50
    mov ebx, int_handler
    mov ecx, SEL_CODE0
    mov dl, 0xEF                    ; P, DPL3, 32-bit trap gate
    call set_gate
    mov eax, 0x51
    mov dl, 0xEE                    ; P, DPL3, 32-bit interrupt gate
    call set_gate
    RING3 .u
.u:
    sti                             ; all 8259 lines are masked: nothing can interrupt
    mov [u_esp], esp
    mov dword [int_ret], .r1
    PUTS "int 50h (trap gate): "
    int 0x50
.r1:
    mov dword [int_ret], .r2
    PUTS "int 51h (interrupt gate): "
    int 0x51
.r2:
    cli
    RING0 .back
.back:
    ret

int_handler:
    mov ebp, esp
    PUTS "cs="
    mov eax, cs
    HEX16 eax
    pushfd
    pop eax
    shr eax, 9
    and eax, 1
    PUTS " IF="
    HEX8 eax
    PUTS " esp=esp0-"
    mov eax, kstack_top
    sub eax, ebp
    HEX8 eax
    PUTS " frame: eip=ret+"
    mov eax, [ebp]
    sub eax, [int_ret]
    HEX8 eax
    PUTS " cs="
    HEX16 [ebp + 4]
    PUTS " IF="
    mov eax, [ebp + 8]
    shr eax, 9
    and eax, 1
    HEX8 eax
    PUTS " esp=user-"
    mov eax, [u_esp]
    sub eax, [ebp + 12]
    HEX8 eax
    PUTS " ss="
    HEX16 [ebp + 16]
    NL
    iretd

; ---- SYSENTER/SYSEXIT (SDM vol.2): CS = IA32_SYSENTER_CS, SS = CS+8, ESP/EIP from the MSRs,
; IF and VM cleared; SYSEXIT: CS = IA32_SYSENTER_CS+16 (RPL 3), SS = +24, EIP = EDX, ESP = ECX.
; SYSENTER with IA32_SYSENTER_CS = 0 and SYSEXIT at CPL 3 are #GP(0).
t_sysenter:
    PUTS "== SYSENTER/SYSEXIT", 10
    mov ecx, 0x174
    xor edx, edx
    xor eax, eax
    wrmsr
    TRY .a, .a_done, "sysenter with IA32_SYSENTER_CS=0"
.a: sysenter
    NOFAULT
.a_done:
    mov ecx, 0x174
    xor edx, edx
    mov eax, SEL_CODE0
    wrmsr
    mov ecx, 0x175
    mov eax, sysenter_stack_top
    wrmsr
    mov ecx, 0x176
    mov eax, sysenter_target
    wrmsr
    PUTS "msr 174h="
    mov ecx, 0x174
    rdmsr
    HEX32 eax
    NL
    RING3 .u
.u:
    sti
    mov ecx, esp
    mov edx, .after
    sysenter
.after:
    mov ebx, esp
    pushfd
    pop eax
    PUTS "after sysexit: cs="
    push eax
    mov eax, cs
    HEX16 eax
    mov eax, ss
    PUTS " ss="
    HEX16 eax
    pop eax
    shr eax, 9
    and eax, 1
    PUTS " IF="
    HEX8 eax
    PUTS " esp=user-"
    mov eax, user_stack_top
    sub eax, ebx
    HEX8 eax
    NL
    cli
    TRY .b, .b_done, "sysexit at cpl3"
.b: sysexit
    NOFAULT
.b_done:
    RING0 .back
.back:
    ret

sysenter_target:
    mov ebx, esp
    pushfd
    pop eax
    PUTS "sysenter: cs="
    push eax
    mov eax, cs
    HEX16 eax
    mov eax, ss
    PUTS " ss="
    HEX16 eax
    pop eax
    shr eax, 9
    and eax, 1
    PUTS " IF="
    HEX8 eax
    PUTS " esp=msr175h-"
    mov eax, sysenter_stack_top
    sub eax, ebx
    HEX8 eax
    NL
    sysexit                         ; ECX/EDX still hold the ring-3 ESP/EIP

; ---- POPF at CPL 3 (SDM vol.2 POPF, table "Effect of POPF"): with IOPL < CPL neither IF nor
; IOPL change, silently; with IOPL = 3, IF changes but IOPL does not.
t_popf:
    PUTS "== POPF at CPL 3", 10
    RING3_IOPL0 .u
.u:
    push dword 0x3202               ; try IOPL=3, IF=1
    popfd
    pushfd
    pop dword [rec_a]
    RING0 .k
.k:
    PUTS "iopl0: popf 3202h -> iopl/if="
    mov eax, [rec_a]
    and eax, 0x3200
    HEX16 eax
    NL
    RING3 .u2
.u2:
    push dword 0x0202               ; try IOPL=0, IF=1
    popfd
    pushfd
    pop eax
    and eax, 0x3200
    PUTS "iopl3: popf 0202h -> iopl/if="
    HEX16 eax
    NL
    cli
    RING0 .k2
.k2:
    ret

section .bss
u_esp: resd 1
int_ret: resd 1
rec_a: resd 1
sysenter_stack: resb 1024
sysenter_stack_top:
