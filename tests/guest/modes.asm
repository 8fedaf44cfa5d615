; modes.asm -- operating-mode switches and mixed code sizes.
;
; 1. 16-bit protected-mode code: default operand size 16 (66h gives 32), 16-bit near CALL,
;    a 16-bit stack segment (B=0) moves only SP (SDM vol.3 3.4.5 "D/B flag"), far CALLs between
;    16- and 32-bit segments push what the *caller's* operand size says (SDM vol.2 CALL, RET).
; 2. Protected mode -> real mode by the SDM procedure (vol.3 9.9.2), real-mode segment arithmetic,
;    16-bit effective-address wrap, INT and exceptions through the IVT (vol.3 20.1.4), a segment
;    limit violation in real mode (#GP, vol.2 MOV "Real-Address Mode Exceptions").
; 3. "Unreal" (big real) mode: the hidden descriptor cache keeps a 4 GiB limit loaded in protected
;    mode after CR0.PE is cleared; real-mode segment loads change only selector and base
;    (vol.3 3.4.3 and 20.1.1: the base is selector*16; the limit is not reloaded).
; 4. Real mode -> protected mode with a 32-bit far JMP (vol.3 9.9.1).
;
; modes.expected is what the SDM specifies. QEMU 7.2 TCG does not check segment limits, so the
; real-mode word access at offset FFFF does not fault there (modes.qemu.expected).
;
; The 16-bit code lives in a position-independent blob copied to 0x8000 (real-mode segment 0x0800);
; R(x) is a blob label's offset inside that segment.

%include "lift86.inc"
%include "lib16.inc"

BLOB_SEG  equ 0x0800
BLOB_BASE equ 0x8000
%define R(x) ((x) - rm_blob)

SEL_CODE32_LOW equ SEL_FREE         ; 32-bit code, base 0x8000 (reachable with 16-bit offsets)
SEL_STACK16    equ SEL_FREE + 8     ; 16-bit (B=0) data, base 0x20000, limit 0xFFFF

test_main:
    mov esi, rm_blob
    mov edi, BLOB_BASE
    mov ecx, rm_blob_end - rm_blob
    rep movsb
    mov eax, SEL_CODE16             ; 16-bit code at the blob
    mov ebx, BLOB_BASE
    mov ecx, 0xFFFF
    mov edx, ACC_CODE0 | (FLG_BYTE16 << 8)
    call set_desc
    mov eax, SEL_CODE32_LOW
    mov edx, ACC_CODE0 | (FLG_BYTE32 << 8)
    call set_desc
    mov eax, SEL_STACK16
    mov ebx, 0x20000
    mov edx, ACC_DATA0 | (FLG_BYTE16 << 8)
    call set_desc
    ; SEL_DATA16 keeps base 0, limit 0xFFFF, byte granular, writable, expand-up: what the
    ; segment registers must hold when CR0.PE is cleared (SDM vol.3 9.9.2 step 4)

    PUTS "== 16-bit protected mode", 10
    mov [saved_esp], esp
    call SEL_CODE16:R(pm16_test)    ; 32-bit caller: pushes a 32-bit CS slot and a 32-bit EIP
.ret1:
    PUTS "back in 32-bit code after o32 retf, esp delta="
    mov eax, [saved_esp]
    sub eax, esp
    HEX32 eax
    NL

    PUTS "== real mode", 10
    mov [saved_esp], esp
    jmp SEL_CODE16:R(to_real)       ; far JMP into 16-bit protected mode, then real mode
back_in_pm32:                       ; real mode comes back here with a 32-bit far JMP
    mov ax, SEL_DATA0
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
    mov esp, [saved_esp]
    lidt [idt_ptr]
    PUTS "== back in 32-bit protected mode", 10
    PUTS "cr0.pe="
    mov eax, cr0
    and eax, 1
    HEX8 eax
    PUTS " cs="
    mov eax, cs
    HEX16 eax
    PUTS " dword written in unreal mode="
    HEX32 [unreal_buf]
    NL
    ret

; 16-bit caller with 66h: 32-bit far CALL from 16-bit code pushes a 32-bit CS slot and EIP
flat32_callee:
    PUTS "call16(o32)->32 pushed eip=ret+"
    mov eax, [esp]
    sub eax, R(pm16_test.ret3)
    HEX32 eax
    PUTS " cs="
    mov eax, [esp + 4]
    HEX16 eax
    NL
    retf                            ; 32-bit RETF: pops EIP and a 32-bit CS slot

; =============================================================================================
; the blob (copied to 0x8000)
bits 16
align 16
rm_blob:
    R16LIB

pm16_test:                          ; CS = SEL_CODE16 (D=0), SS = flat 32-bit (B=1)
    mov eax, [esp]
    sub eax, test_main.ret1
    RPUTS "call32->16 pushed eip=ret+"
    RHEX32 eax
    mov eax, [esp + 4]
    RPUTS " cs="
    RHEX16 ax
    RNL
    mov ax, cs
    RPUTS "cs="
    RHEX16 ax
    ; default operand size 16: PUSH moves ESP by 2, PUSH with 66h by 4, a near CALL pushes 2
    mov ebx, esp
    push ax
    mov ecx, ebx
    sub ecx, esp
    pop ax
    push eax
    mov edx, ebx
    sub edx, esp
    pop eax
    RPUTS " push ax:"
    RHEX8 cl
    RPUTS " push eax:"
    RHEX8 dl
    call .near
    RPUTS " near call:"
    RHEX8 cl
    RNL
    ; a 16-bit stack segment: PUSH/POP use SP only; ESP[31:16] is left alone and SP wraps
    mov si, ss
    mov ebp, esp
    mov ax, SEL_STACK16
    mov ss, ax
    mov esp, 0xABCD0000
    mov ax, 0x5AA5
    push ax                         ; SP 0000 -> FFFE: the word goes to SS:FFFE
    mov ebx, esp
    mov di, [ss:0xFFFE]
    pop ax
    mov ecx, esp
    mov ss, si
    mov esp, ebp
    RPUTS "B=0 stack: after push esp="
    RHEX32 ebx
    RPUTS " [ss:fffe]="
    RHEX16 di
    RPUTS " after pop esp="
    RHEX32 ecx
    RNL
    ; 16-bit far CALL to a 32-bit segment: pushes 16-bit CS and IP (operand size of the CALL)
    mov [dword rec_delta], esp
    call SEL_CODE32_LOW:R(low32_callee)
.ret2:
    mov eax, [dword rec_ip]
    sub eax, R(.ret2)
    RPUTS "call16->32 pushed ip=ret+"
    RHEX16 ax
    RPUTS " cs="
    RHEX16 [dword rec_cs]
    RPUTS " esp delta="
    RHEX8 [dword rec_delta]
    RNL
    call dword SEL_CODE0:flat32_callee      ; 66h 9Ah: 32-bit far CALL from 16-bit code
.ret3:
    o32 retf                        ; back to the 32-bit caller: pop EIP and a 32-bit CS slot
.near:
    mov ecx, ebx
    sub ecx, esp
    ret

bits 32
low32_callee:                       ; CS = SEL_CODE32_LOW (base 0x8000, D=1); DS flat
    movzx eax, word [esp]
    mov [rec_ip], eax
    movzx eax, word [esp + 2]
    mov [rec_cs], eax
    mov eax, [rec_delta]
    sub eax, esp
    mov [rec_delta], eax            ; bytes pushed by the 16-bit far CALL
    o16 retf                        ; 66h CBh: pops a 16-bit IP and CS
bits 16

; ---- protected mode -> real mode (SDM vol.3 9.9.2)
to_real:
    mov ax, SEL_DATA16
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
    mov esp, 0x7000
    lidt [cs:R(real_idtr)]
    mov eax, cr0
    and eax, 0x7FFFFFFE
    mov cr0, eax
    jmp BLOB_SEG:R(real_start)      ; loads CS with a real-mode segment: base = 0x0800*16
real_start:
    mov ax, BLOB_SEG
    mov ds, ax
    mov es, ax
    xor ax, ax
    mov ss, ax
    mov esp, 0x7000
    mov eax, cr0
    and eax, 0x80000001
    RPUTS "cr0.pe/pg="
    RHEX32 eax
    mov ax, cs
    RPUTS " cs="
    RHEX16 ax
    RNL
    ; segment arithmetic: linear = segment*16 + offset, two segments aliasing one byte
    mov ax, 0x0600
    mov fs, ax
    mov ax, 0x0500
    mov gs, ax
    mov word [fs:0x0010], 0x1234    ; linear 0x6010
    mov bx, [gs:0x1010]             ; linear 0x6010
    RPUTS "0600:0010 via 0500:1010="
    RHEX16 bx
    ; 16-bit effective address arithmetic wraps at 64 KiB: [bx+2] with BX=FFFF is offset 0001
    mov byte [gs:0x0001], 0x77
    mov bx, 0xFFFF
    mov al, [gs:bx + 2]
    RPUTS " [bx+2],bx=ffff -> [0001]="
    RHEX8 al
    RNL
    ; IVT vectors (SDM vol.3 20.1.4: 4-byte offset:segment entries at linear 0)
    xor ax, ax
    mov fs, ax
    mov word [fs:0x61*4], R(rm_int61)
    mov word [fs:0x61*4 + 2], BLOB_SEG
    mov word [fs:0*4], R(rm_exc0)
    mov word [fs:0*4 + 2], BLOB_SEG
    mov word [fs:3*4], R(rm_exc3)
    mov word [fs:3*4 + 2], BLOB_SEG
    mov word [fs:6*4], R(rm_exc6)
    mov word [fs:6*4 + 2], BLOB_SEG
    mov word [fs:13*4], R(rm_exc13)
    mov word [fs:13*4 + 2], BLOB_SEG
    ; INT n pushes FLAGS, CS, IP (6 bytes) and clears IF and TF
    mov ebx, esp
    sti                             ; all 8259 lines are masked: nothing can interrupt
    int 0x61
.after61:
    cli
    ; real-mode exceptions: no error code, fault IP = the faulting instruction
    mov word [R(r_base)], R(.de)
    mov word [R(r_resume)], R(.de_done)
    xor cx, cx
    mov ax, 1
.de: div cl
.de_done:
    mov word [R(r_base)], R(.ud)
    mov word [R(r_resume)], R(.ud_done)
.ud: ud2
.ud_done:
    mov word [R(r_base)], R(.bp)
    mov word [R(r_resume)], R(.bp_done)
.bp: int3
.bp_done:
    ; a word at offset FFFF crosses the 64 KiB limit: #GP (interrupt 13, no error code)
    mov word [R(r_base)], R(.gp)
    mov word [R(r_resume)], R(.gp_done)
    mov byte [R(r_seen)], 0
.gp: mov ax, [gs:0xFFFF]
.gp_done:
    cmp byte [R(r_seen)], 0
    jne .unreal
    RPUTS "rm word at ffff: no fault", 10

; ---- unreal mode: load a 4 GiB limit in protected mode, return to real mode without reloading
.unreal:
    RPUTS "== unreal mode", 10
    mov eax, cr0
    or al, 1
    mov cr0, eax
    jmp SEL_CODE16:R(.pm)
.pm:
    mov ax, SEL_DATA0               ; base 0, limit 4 GiB
    mov ds, ax
    mov ax, SEL_DATA16
    mov ss, ax
    mov eax, cr0
    and al, 0xFE
    mov cr0, eax
    jmp BLOB_SEG:R(.unreal_rm)
.unreal_rm:
    xor ax, ax
    mov ss, ax
    mov ds, ax                      ; a real-mode load: base 0, the 4 GiB limit is kept
    mov ebx, [dword unreal_magic]   ; 67h: a 32-bit offset above 1 MiB
    mov dword [dword unreal_buf], 0x5A5AA5A5
    mov ax, cs
    RPUTS "cs="
    RHEX16 ax
    RPUTS " ds=0000 read above 1 MiB="
    RHEX32 ebx
    RNL
    ; 32-bit operands and addressing in real mode
    mov esi, 0x00100000             ; the multiboot header: magic + flags + checksum = 0
    mov ecx, 3
    xor edx, edx
.sum:
    add edx, [esi + ecx*4 - 4]
    loop .sum
    RPUTS "multiboot header sum via [esi+ecx*4-4]="
    RHEX32 edx
    RNL
    mov eax, 0x80000000
    add eax, eax                    ; CF=1 ZF=1 OF=1 with a 32-bit operand in real mode
    pushfd
    pop eax
    and eax, 0x8C5
    RPUTS "32-bit add flags="
    RHEX16 ax
    RNL

; ---- real mode -> 32-bit protected mode (SDM vol.3 9.9.1)
    mov eax, cr0
    or al, 1
    mov cr0, eax
    jmp dword SEL_CODE0:back_in_pm32

; ---- real-mode interrupt handlers
rm_int61:
    mov bp, sp
    mov ax, [bp]
    sub ax, R(real_start.after61)
    RPUTS "int 61 via IVT: ip=ret+"
    RHEX16 ax
    RPUTS " cs="
    RHEX16 [bp + 2]
    mov eax, ebx
    sub eax, esp
    RPUTS " frame bytes="
    RHEX8 al
    pushf
    pop ax
    and ax, 0x0300
    RPUTS " IF|TF in handler="
    RHEX16 ax
    mov ax, [bp + 4]
    and ax, 0x0200
    RPUTS " pushed IF="
    RHEX16 ax
    RNL
    iret

rm_exc0:
    push word 0
    jmp rm_exc
rm_exc3:
    push word 3
    jmp rm_exc
rm_exc6:
    push word 6
    jmp rm_exc
rm_exc13:
    push word 13
rm_exc:                             ; [sp] = vector, then IP, CS, FLAGS
    mov bp, sp
    RPUTS "rm exception "
    RHEX8 [bp]
    mov ax, [bp + 2]
    sub ax, [cs:R(r_base)]
    RPUTS " ip=+"
    RHEX16 ax
    RNL
    mov ax, [cs:R(r_resume)]
    mov [bp + 2], ax
    mov byte [cs:R(r_seen)], 1
    pop ax
    iret

align 4
real_idtr:
    dw 0x3FF
    dd 0
r_base: dw 0
r_resume: dw 0
r_seen: db 0
rm_blob_end:
bits 32

section .data
align 4
unreal_magic: dd 0xC0FFEE42

section .bss
saved_esp: resd 1
unreal_buf: resd 1
rec_ip: resd 1
rec_cs: resd 1
rec_delta: resd 1
