; integer.asm -- integer instructions and their flags (SDM vol.1 chapter 7, vol.2 per instruction,
; vol.1 appendix A "EFLAGS cross-reference").
;
; Flags are printed as six characters for O S Z A P C: the letter when set, '-' when clear and
; 'x' where the SDM leaves the flag undefined for that instruction (never compared).
; Covered: ADD/ADC/SUB/SBB/NEG/INC/DEC/logic at 8/16/32 bits, shifts and rotates (count 0, 1, n,
; counts masked to 5 bits, RCL/RCR modulo size+1), SHLD/SHRD, MUL/IMUL/DIV/IDIV, BSF/BSR,
; BT* with a register bit offset reaching outside the addressed dword, CMPXCHG, CMPXCHG8B, XADD,
; BSWAP, all 16 SETcc/CMOVcc conditions, LAHF/SAHF, sign extensions, PUSH ESP/POP ESP/POP [ESP],
; ENTER with nesting levels, XLAT, LOOPcc/JECXZ, string instructions with REP/REPE/REPNE and
; DF=1, packed and unpacked BCD adjustment, CPUID feature bits, RDTSC monotonicity.
;
; integer.expected was generated on QEMU and checked against real silicon: the program also runs
; as a Linux i386 process (tools/host_run.sh); on the host (an AMD EPYC) only the CPUID family
; differs. (Undefined flags do differ between CPUs: RCL by 17 clears OF on the AMD and keeps it
; on QEMU -- hence the 'x' masks.)

%include "lift86.inc"

test_main:
    call t_alu
    call t_shifts
    call t_muldiv
    call t_bits
    call t_atomics
    call t_conditions
    call t_stack
    call t_strings
    call t_bcd
    call t_cpuid_tsc
    ret

; put_aflags: EAX = EFLAGS, EDX = mask of defined flags -> "OSZAPC" letters / '-' / 'x'
put_aflags:
    pushad
    mov esi, aflag_tab
.l: movzx ecx, byte [esi]
    cmp ecx, 0xFF
    je .d
    mov bl, [esi + 1]
    bt edx, ecx
    jnc .undef
    bt eax, ecx
    jc .p
    mov bl, '-'
    jmp .p
.undef:
    mov bl, 'x'
.p: push eax
    mov al, bl
    call putc
    pop eax
    add esi, 2
    jmp .l
.d: popad
    ret

F_ALL   equ 0x8D5                   ; O S Z A P C
F_LOGIC equ 0x8C5                   ; AF undefined
F_OC    equ 0x801                   ; MUL/IMUL: only OF and CF
F_NOO   equ 0x0D5                   ; shifts by more than 1: OF undefined
F_ROT1  equ 0x801                   ; rotates by 1: OF and CF
F_ROTN  equ 0x001                   ; rotates by more than 1: CF only
F_Z     equ 0x040                   ; BSF/BSR: ZF only
F_C     equ 0x001
F_NONE  equ 0

; OP2 text, setup-flags-insn, insn, a, b, mask: EAX=a, EBX=b, run, print "text = EAX flags"
%macro OP2 6
    PUTS %1, " = "
    mov eax, %4
    mov ebx, %5
    %2
    %3
    pushfd
    pop ecx
    HEX32 eax
    PUTS " "
    push eax
    push edx
    mov eax, ecx
    mov edx, %6
    call put_aflags
    pop edx
    pop eax
    NL
%endmacro

t_alu:
    PUTS "== add/sub/logic", 10
    OP2 "add 7fffffff,1     ", clc, {add eax, ebx}, 0x7FFFFFFF, 1, F_ALL
    OP2 "add ffffffff,1     ", clc, {add eax, ebx}, 0xFFFFFFFF, 1, F_ALL
    OP2 "add 80000000,80000000", clc, {add eax, ebx}, 0x80000000, 0x80000000, F_ALL
    OP2 "adc ffffffff,0 cf=1", stc, {adc eax, ebx}, 0xFFFFFFFF, 0, F_ALL
    OP2 "adc 7fffffff,0 cf=1", stc, {adc eax, ebx}, 0x7FFFFFFF, 0, F_ALL
    OP2 "sub 0,1            ", clc, {sub eax, ebx}, 0, 1, F_ALL
    OP2 "sub 80000000,1     ", clc, {sub eax, ebx}, 0x80000000, 1, F_ALL
    OP2 "sbb 0,0 cf=1       ", stc, {sbb eax, ebx}, 0, 0, F_ALL
    OP2 "sbb 80000000,7fffffff cf=1", stc, {sbb eax, ebx}, 0x80000000, 0x7FFFFFFF, F_ALL
    OP2 "cmp 5,5            ", clc, {cmp eax, ebx}, 5, 5, F_ALL
    OP2 "neg 0              ", stc, {neg eax}, 0, 0, F_ALL
    OP2 "neg 80000000       ", clc, {neg eax}, 0x80000000, 0, F_ALL
    OP2 "inc 7fffffff cf=1  ", stc, {inc eax}, 0x7FFFFFFF, 0, F_ALL
    OP2 "dec 0 cf=0         ", clc, {dec eax}, 0, 0, F_ALL
    OP2 "add al 7f,1        ", clc, {add al, bl}, 0x1234567F, 1, F_ALL
    OP2 "add ax ffff,1      ", clc, {add ax, bx}, 0x1234FFFF, 1, F_ALL
    OP2 "sub al 10,1        ", clc, {sub al, bl}, 0x10, 1, F_ALL
    OP2 "adc ah 7f,80 cf=1  ", stc, {adc ah, bl}, 0x7F00, 0x80, F_ALL
    OP2 "and f0f0,ff00      ", stc, {and eax, ebx}, 0xF0F0, 0xFF00, F_LOGIC
    OP2 "or 0,0             ", stc, {or eax, ebx}, 0, 0, F_LOGIC
    OP2 "xor 80000000,1     ", stc, {xor eax, ebx}, 0x80000000, 1, F_LOGIC
    OP2 "test 1,2           ", stc, {test eax, ebx}, 1, 2, F_LOGIC
    OP2 "not 0f (flags kept)", stc, {not eax}, 0x0F, 0, F_ALL
    ret

%macro SETF_ALL 0                   ; O S Z A P C all set
    push dword 0x8D7
    popfd
%endmacro

; SHIFT_CL text, flags-setup, insn, a, count, mask: EAX=a, ECX=count
%macro SHIFT_CL 6
    PUTS %1, " = "
    mov eax, %4
    mov ecx, %5
    %2
    %3
    pushfd
    pop ecx
    HEX32 eax
    PUTS " "
    push eax
    push edx
    mov eax, ecx
    mov edx, %6
    call put_aflags
    pop edx
    pop eax
    NL
%endmacro

t_shifts:
    PUTS "== shifts and rotates (AF undefined after a shift)", 10
    OP2 "shl 80000001,1     ", clc, {shl eax, 1}, 0x80000001, 0, F_ALL & ~0x10
    OP2 "shl 40000000,1     ", stc, {shl eax, 1}, 0x40000000, 0, F_ALL & ~0x10
    OP2 "shl 12345678,4     ", clc, {shl eax, 4}, 0x12345678, 0, F_NOO & ~0x10
    OP2 "shr 80000001,1     ", clc, {shr eax, 1}, 0x80000001, 0, F_ALL & ~0x10
    OP2 "sar 80000001,1     ", clc, {sar eax, 1}, 0x80000001, 0, F_ALL & ~0x10
    OP2 "sar 80000000,31    ", clc, {sar eax, 31}, 0x80000000, 0, F_NOO & ~0x10
    OP2 "rol 80000000,1     ", clc, {rol eax, 1}, 0x80000000, 0, F_ROT1
    OP2 "ror 1,1            ", clc, {ror eax, 1}, 1, 0, F_ROT1
    OP2 "rol 12345678,8     ", clc, {rol eax, 8}, 0x12345678, 0, F_ROTN
    OP2 "rcl 0,1 cf=1       ", stc, {rcl eax, 1}, 0, 0, F_ROT1
    OP2 "rcr 1,1 cf=0       ", clc, {rcr eax, 1}, 1, 0, F_ROT1
    OP2 "shld 12345678,9abcdef0,4", clc, {shld eax, ebx, 4}, 0x12345678, 0x9ABCDEF0, F_NOO & ~0x10
    OP2 "shrd 12345678,9abcdef0,4", clc, {shrd eax, ebx, 4}, 0x12345678, 0x9ABCDEF0, F_NOO & ~0x10
    OP2 "shld 1,80000000,1  ", clc, {shld eax, ebx, 1}, 1, 0x80000000, F_ALL & ~0x10
    PUTS "== shifts by CL (count masked to 5 bits; 8/16-bit RCL/RCR then modulo 9/17)", 10
    SHIFT_CL "shl 12345678,cl=0", SETF_ALL, {shl eax, cl}, 0x12345678, 0, F_ALL
    SHIFT_CL "shl 1,cl=32      ", SETF_ALL, {shl eax, cl}, 1, 32, F_ALL
    SHIFT_CL "shl 1,cl=33      ", clc, {shl eax, cl}, 1, 33, F_ALL & ~0x10
    SHIFT_CL "shr al 81,cl=9   ", clc, {shr al, cl}, 0x81, 9, 0x0C4
    SHIFT_CL "rcr al 81,cl=9   ", SETF_ALL, {rcr al, cl}, 0x81, 9, F_ALL & ~0x800
    SHIFT_CL "rcl al 81,cl=10  ", clc, {rcl al, cl}, 0x81, 10, F_ROTN
    SHIFT_CL "rcl ax 8001,cl=17", SETF_ALL, {rcl ax, cl}, 0x8001, 17, F_ALL & ~0x800
    SHIFT_CL "rol al 81,cl=8   ", clc, {rol al, cl}, 0x81, 8, F_ROTN
    SHIFT_CL "ror al 81,cl=1   ", clc, {ror al, cl}, 0x81, 1, F_ROT1
    ret

t_muldiv:
    PUTS "== multiply and divide", 10
    PUTS "mul 80000000*2: edx:eax="
    mov eax, 0x80000000
    mov ebx, 2
    mul ebx
    call show_edx_eax_oc
    PUTS "mul 3*4: edx:eax="
    mov eax, 3
    mov ebx, 4
    mul ebx
    call show_edx_eax_oc
    PUTS "imul -2*3 (one operand): edx:eax="
    mov eax, -2
    mov ebx, 3
    imul ebx
    call show_edx_eax_oc
    PUTS "imul 10000h*10000h (two operands): eax="
    mov eax, 0x10000
    mov ebx, 0x10000
    imul eax, ebx
    pushfd
    pop ecx
    HEX32 eax
    PUTS " "
    mov eax, ecx
    mov edx, F_OC
    call put_aflags
    NL
    PUTS "imul 7*-3 (three operands): eax="
    mov ebx, 7
    imul eax, ebx, -3
    pushfd
    pop ecx
    HEX32 eax
    PUTS " "
    mov eax, ecx
    mov edx, F_OC
    call put_aflags
    NL
    PUTS "mul al 80h*2: ax="
    mov eax, 0x12345680
    mov bl, 2
    mul bl
    HEX32 eax
    NL
    PUTS "div 100000005h/2: eax="
    mov edx, 1
    mov eax, 5
    mov ebx, 2
    div ebx
    HEX32 eax
    PUTS " edx="
    HEX32 edx
    NL
    PUTS "idiv -7/2: eax="
    mov eax, -7
    cdq
    mov ebx, 2
    idiv ebx
    HEX32 eax
    PUTS " edx="
    HEX32 edx
    NL
    PUTS "idiv ax -127/-1: ax="
    mov ax, -127
    mov bl, -1
    idiv bl
    HEX16 eax
    NL
    ret

show_edx_eax_oc:
    pushfd
    pop ecx
    HEX32 edx
    PUTS ":"
    HEX32 eax
    PUTS " "
    mov eax, ecx
    mov edx, F_OC
    call put_aflags
    NL
    ret

t_bits:
    PUTS "== bit scan and bit test", 10
    PUTS "bsf f0: "
    mov ebx, 0xF0
    bsf eax, ebx
    pushfd
    pop ecx
    HEX8 eax
    PUTS " bsr f0: "
    bsr eax, ebx
    HEX8 eax
    PUTS " zf="
    mov eax, ecx
    mov edx, F_Z
    call put_aflags
    PUTS " bsf 0: zf="
    xor ebx, ebx
    mov eax, 0x5555
    bsf eax, ebx
    pushfd
    pop eax
    call put_aflags
    NL
    mov dword [bitbuf], 0
    mov dword [bitbuf + 4], 0
    mov dword [bitbuf + 8], 0x00000008
    PUTS "bts [m],35 (bit 3 of the next dword): "
    mov eax, 35
    bts [bitbuf], eax
    pushfd
    pop ecx
    HEX32 [bitbuf]
    PUTS " "
    HEX32 [bitbuf + 4]
    PUTS " cf="
    mov eax, ecx
    mov edx, F_C
    call put_aflags
    NL
    PUTS "btr [m+8],-1 (bit 31 of the dword before): "
    bts dword [bitbuf + 4], 31
    mov eax, -1
    btr [bitbuf + 8], eax
    pushfd
    pop ecx
    HEX32 [bitbuf + 4]
    PUTS " cf="
    mov eax, ecx
    mov edx, F_C
    call put_aflags
    NL
    PUTS "btc [m+8],3 (immediate: offset taken mod 32): "
    btc dword [bitbuf + 8], 35
    pushfd
    pop ecx
    HEX32 [bitbuf + 8]
    PUTS " cf="
    mov eax, ecx
    mov edx, F_C
    call put_aflags
    NL
    PUTS "bt eax,33 (register: mod 32): "
    mov eax, 2
    mov ebx, 33
    bt eax, ebx
    pushfd
    pop eax
    mov edx, F_C
    call put_aflags
    NL
    PUTS "bswap 12345678: "
    mov eax, 0x12345678
    bswap eax
    HEX32 eax
    NL
    PUTS "movsx/movzx: "
    mov bl, 0x80
    movsx eax, bl
    HEX32 eax
    PUTS " "
    movzx eax, bl
    HEX32 eax
    PUTS " "
    mov bx, 0x8001
    movsx eax, bx
    HEX32 eax
    PUTS " cbw/cwde/cdq: "
    mov eax, 0x12345680
    cbw
    HEX32 eax
    PUTS " "
    cwde
    HEX32 eax
    PUTS " "
    cdq
    HEX32 edx
    PUTS " cwd: "
    mov eax, 0x8000
    mov edx, 0x12345678
    cwd
    HEX32 edx
    NL
    ret

t_atomics:
    PUTS "== cmpxchg, cmpxchg8b, xadd", 10
    mov dword [mem], 100
    PUTS "cmpxchg equal: "
    mov eax, 100
    mov ecx, 200
    lock cmpxchg [mem], ecx
    call show_z
    PUTS " mem="
    HEX32 [mem]
    PUTS " eax="
    HEX32 eax
    NL
    PUTS "cmpxchg differ: "
    mov eax, 5
    mov ecx, 300
    cmpxchg [mem], ecx
    call show_z
    PUTS " mem="
    HEX32 [mem]
    PUTS " eax="
    HEX32 eax
    NL
    mov dword [mem], 0x11111111
    mov dword [mem + 4], 0x22222222
    PUTS "cmpxchg8b equal: "
    mov edx, 0x22222222
    mov eax, 0x11111111
    mov ecx, 0xCCCCCCCC
    mov ebx, 0xBBBBBBBB
    lock cmpxchg8b [mem]
    call show_z
    PUTS " mem="
    HEX32 [mem + 4]
    HEX32 [mem]
    NL
    PUTS "cmpxchg8b differ: "
    xor edx, edx
    xor eax, eax
    cmpxchg8b [mem]
    call show_z
    PUTS " edx:eax="
    HEX32 edx
    HEX32 eax
    NL
    PUTS "xadd: "
    mov dword [mem], 0xFFFFFFFF
    mov eax, 2
    lock xadd [mem], eax
    pushfd
    pop ecx
    PUTS "mem="
    HEX32 [mem]
    PUTS " eax="
    HEX32 eax
    PUTS " "
    mov eax, ecx
    mov edx, F_ALL
    call put_aflags
    NL
    PUTS "xchg: "
    mov dword [mem], 0xAAAA
    mov eax, 0xBBBB
    xchg [mem], eax
    HEX32 [mem]
    PUTS " "
    HEX32 eax
    NL
    ret

show_z:
    pushfd
    push eax
    push edx
    pushfd
    pop eax
    mov edx, F_Z
    PUTS "zf="
    call put_aflags
    pop edx
    pop eax
    popfd
    ret

; SETcc for all 16 conditions into a bit mask (bit n = condition n, opcode 0F 90+n), and the same
; with CMOVcc
%macro COND_MASKS 0                 ; EDI = ESI = 0 on entry; flags preserved
%assign cc 0
%rep 16
    pushfd
    db 0x0F, 0x90 + cc, 0xC0        ; setcc al
    movzx eax, al
    shl eax, cc
    or edi, eax
    popfd
    pushfd
    mov eax, 0
    mov edx, 1 << cc
    db 0x0F, 0x40 + cc, 0xC2        ; cmovcc eax, edx
    or esi, eax
    popfd
%assign cc cc+1
%endrep
%endmacro

t_conditions:
    PUTS "== conditions (bit n = condition n: o no b ae e ne be a s ns p np l ge le g)", 10
    PUTS "cmp 1,2:        setcc="
    xor edi, edi
    xor esi, esi
    mov eax, 1
    cmp eax, 2
    COND_MASKS
    call show_masks
    PUTS "cmp 80000000,1: setcc="
    xor edi, edi
    xor esi, esi
    mov eax, 0x80000000
    cmp eax, 1
    COND_MASKS
    call show_masks
    PUTS "cmp 7,7:        setcc="
    xor edi, edi
    xor esi, esi
    mov eax, 7
    cmp eax, 7
    COND_MASKS
    call show_masks
    PUTS "cmp -1,1:       setcc="
    xor edi, edi
    xor esi, esi
    mov eax, -1
    cmp eax, 1
    COND_MASKS
    call show_masks
    PUTS "sahf d7 / lahf: "
    mov ah, 0xD7                    ; S Z A P C and the reserved bit 1
    sahf
    mov ah, 0
    lahf
    movzx eax, ah
    HEX8 eax
    NL
    ret

show_masks:
    HEX16 edi
    PUTS " cmovcc="
    HEX16 esi
    NL
    ret

t_stack:
    PUTS "== stack", 10
    mov ebx, esp
    push esp                        ; pushes ESP as it was before the push
    pop eax
    sub eax, ebx
    PUTS "push esp pushed esp+"
    HEX32 eax
    NL
    push dword 0x1234
    push dword 0x5678
    pop dword [esp]                 ; address computed after the increment: overwrites 1234
    pop eax
    PUTS "pop [esp]: "
    HEX32 eax
    mov ebx, esp
    lea eax, [esp - 0x40]
    push eax
    pop esp                         ; ESP = the popped value
    mov ecx, esp
    mov esp, ebx
    sub ecx, ebx
    PUTS " pop esp: esp="
    HEX32 ecx
    NL
    ; ENTER: a fake outer frame with two saved frame pointers at [ebp-4], [ebp-8]
    mov [saved], ebp
    mov [saved + 4], esp
    mov esp, enter_stack_top
    mov ebp, fake_frame
    enter 8, 0
    mov eax, ebp
    mov ebx, esp
    leave
    PUTS "enter 8,0: ebp=top-"
    mov ecx, enter_stack_top
    sub ecx, eax
    HEX8 ecx
    PUTS " esp=top-"
    mov ecx, enter_stack_top
    sub ecx, ebx
    HEX8 ecx
    NL
    mov esp, enter_stack_top
    mov ebp, fake_frame
    enter 8, 3                      ; copies 2 frame pointers, then pushes the new one
    mov eax, ebp
    mov ebx, esp
    PUTS "enter 8,3: ebp=top-"
    mov ecx, enter_stack_top
    sub ecx, eax
    HEX8 ecx
    PUTS " esp=top-"
    mov ecx, enter_stack_top
    sub ecx, ebx
    HEX8 ecx
    PUTS " frame: [top-4]=fake_frame+"
    mov eax, [enter_stack_top - 4]
    sub eax, fake_frame
    HEX32 eax
    PUTS " "
    HEX32 [enter_stack_top - 8]
    PUTS " "
    HEX32 [enter_stack_top - 12]
    PUTS " [top-16]=top-"
    mov eax, enter_stack_top
    sub eax, [enter_stack_top - 16]
    HEX8 eax
    NL
    leave
    PUTS "leave: ebp="
    mov eax, ebp
    sub eax, fake_frame
    HEX32 eax
    NL
    mov ebp, [saved]
    mov esp, [saved + 4]
    ; XLAT and LOOP variants
    PUTS "xlat: "
    mov ebx, xlat_tab
    mov al, 3
    xlatb
    HEX8 eax
    PUTS " loop x5: "
    mov ecx, 5
    xor eax, eax
.l1: inc eax
    loop .l1
    HEX8 eax
    PUTS " loopne until 3: "
    mov ecx, 10
    xor eax, eax
.l2: inc eax
    cmp eax, 3
    loopne .l2
    HEX8 eax
    PUTS "/"
    HEX8 ecx
    PUTS " jecxz: "
    xor ecx, ecx
    mov eax, 1
    jecxz .z
    mov eax, 2
.z: HEX8 eax
    NL
    ret

t_strings:
    PUTS "== string instructions", 10
    ; forward REP MOVSB over an overlapping destination replicates the first bytes
    mov esi, sbuf
    mov dword [esi], 'ABCD'
    mov dword [esi + 4], 'EFGH'
    mov edi, sbuf + 2
    mov ecx, 6
    cld
    rep movsb
    PUTS "rep movsb fwd overlap: "
    mov esi, sbuf
    mov ecx, 8
    call put_bytes
    ; backward (DF=1) copy of the same overlap is a memmove
    mov dword [sbuf], 'ABCD'
    mov dword [sbuf + 4], 'EFGH'
    mov esi, sbuf + 5
    mov edi, sbuf + 7
    mov ecx, 6
    std
    rep movsb
    cld
    mov ebx, esi
    PUTS " | bwd: "
    mov esi, sbuf
    mov ecx, 8
    call put_bytes
    PUTS " esi-sbuf="
    sub ebx, sbuf
    HEX32 ebx
    NL
    ; REP STOSW / MOVSD counts
    mov edi, sbuf
    mov ecx, 3
    mov ax, 0x2A2B
    rep stosw
    PUTS "rep stosw x3: "
    mov esi, sbuf
    mov ecx, 8
    call put_bytes
    PUTS " edi=+"
    sub edi, sbuf
    HEX8 edi
    NL
    ; REPE CMPSB stops after the first difference
    mov esi, str1
    mov edi, str2
    mov ecx, 10
    repe cmpsb
    pushfd
    pop eax
    PUTS "repe cmpsb: ecx="
    HEX8 ecx
    PUTS " esi=+"
    sub esi, str1
    HEX8 esi
    PUTS " "
    mov edx, F_ALL
    call put_aflags
    NL
    ; REPNE SCASB finds a byte
    mov edi, str1
    mov ecx, 10
    mov al, 'l'
    repne scasb
    pushfd
    pop eax
    PUTS "repne scasb 'l': ecx="
    HEX8 ecx
    PUTS " edi=+"
    sub edi, str1
    HEX8 edi
    PUTS " "
    call put_aflags
    NL
    ; REP with ECX=0 does nothing and leaves the flags alone
    xor ecx, ecx
    mov esi, str1
    mov edi, str2
    stc
    repe cmpsb
    pushfd
    pop eax
    PUTS "repe cmpsb ecx=0: esi=+"
    sub esi, str1
    HEX8 esi
    PUTS " cf="
    mov edx, F_C
    call put_aflags
    NL
    ; LODSD/STOSB with DF=1
    std
    mov esi, str1 + 4
    lodsd
    mov edi, sbuf + 3
    stosb
    cld
    PUTS "std lodsd: eax="
    HEX32 eax
    PUTS " esi=str1+"
    sub esi, str1
    HEX32 esi
    PUTS " edi=sbuf+"
    sub edi, sbuf
    HEX32 edi
    NL
    ret

put_bytes:                          ; ECX bytes at ESI as characters
    push eax
.l: lodsb
    call putc
    loop .l
    pop eax
    ret

; DAA/DAS after ADD/SUB of packed BCD; AAA/AAS/AAM/AAD (vol.2 each): OF undefined for DAA/DAS;
; only AF, CF defined for AAA/AAS; SF, ZF, PF only for AAM/AAD.
%macro BCD 5                        ; text, al/ax value, op, adjust, flags mask
    PUTS %1, " -> "
    mov eax, %2
    %3
    %4
    pushfd
    pop ecx
    HEX16 eax
    PUTS " "
    mov eax, ecx
    mov edx, %5
    call put_aflags
    NL
%endmacro

t_bcd:
    PUTS "== BCD", 10
    BCD "38+45 daa", 0x38, {add al, 0x45}, daa, F_ALL & ~0x800
    BCD "99+01 daa", 0x99, {add al, 0x01}, daa, F_ALL & ~0x800
    BCD "79+79 daa", 0x79, {add al, 0x79}, daa, F_ALL & ~0x800
    BCD "45-38 das", 0x45, {sub al, 0x38}, das, F_ALL & ~0x800
    BCD "00-01 das", 0x00, {sub al, 0x01}, das, F_ALL & ~0x800
    BCD "0009+08 aaa", 0x0009, {add al, 0x08}, aaa, 0x011
    BCD "0105+03 aaa", 0x0105, {add al, 0x03}, aaa, 0x011
    BCD "0103-05 aas", 0x0103, {sub al, 0x05}, aas, 0x011
    BCD "3f aam", 0x003F, {}, aam, 0x0C4
    BCD "3f aam 16", 0x003F, {}, {aam 16}, 0x0C4
    BCD "0607 aad", 0x0607, {}, aad, 0x0C4
    BCD "0306 aad 16", 0x0306, {}, {aad 16}, 0x0C4
    ret

t_cpuid_tsc:
    PUTS "== cpuid and rdtsc", 10
    mov eax, 1
    cpuid
    mov ebx, eax
    shr ebx, 8
    and ebx, 0xF
    PUTS "family="
    HEX8 ebx
    PUTS " fpu/pse/tsc/cx8/sep/cmov="
    and edx, 0x8919                 ; FPU(0) PSE(3) TSC(4) CX8(8) SEP(11) CMOV(15)
    HEX16 edx
    NL
    rdtsc
    mov esi, eax
    mov edi, edx
    mov ecx, 1000
.spin:
    loop .spin
    rdtsc
    sub eax, esi
    sbb edx, edi
    jc .bad
    or eax, edx
    jz .bad
    PUTS "rdtsc increasing", 10
    ret
.bad:
    PUTS "rdtsc NOT increasing", 10
    ret

section .data
aflag_tab: db 11, 'O', 7, 'S', 6, 'Z', 4, 'A', 2, 'P', 0, 'C', 0xFF, 0
str1: db "hello world"
str2: db "help world!"
xlat_tab: db 10, 11, 12, 13, 14
align 4
fake_frame_area: dd 0xF2F2F2F2, 0xF1F1F1F1      ; [fake_frame-8], [fake_frame-4]
fake_frame: dd 0

section .bss
alignb 4
mem: resd 2
bitbuf: resd 4
saved: resd 2
sbuf: resb 16
enter_stack: resb 256
enter_stack_top:
