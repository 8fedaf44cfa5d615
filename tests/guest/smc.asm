; smc.asm -- self-modifying and cross-modifying code (SDM vol.3 11.6 "Self-Modifying Code").
;
; On P6 and later a write to a linear address that holds an instruction already prefetched or
; decoded is detected, so code may modify itself -- even the next instruction -- and the new bytes
; run (11.6; the jump/serialization advice there is for the 486 and earlier). When the code is
; written through a *different* linear address (an alias mapping) the SDM asks for a serializing
; instruction before running it (11.6, last paragraph): CPUID is used there.
;
; For an emulator these are the cache-invalidation cases: a store into the current block, into a
; block already translated, into a loop body, a REP STOS over the code right after it, code
; generated into a buffer and replaced, and a store through a second mapping of the same frame.

%include "lift86.inc"

test_main:
    call t_patch_other_block
    call t_patch_next_insn
    call t_patch_loop_body
    call t_rep_stos_over_next
    call t_buffer
    call t_alias
    ret

; ---- an instruction in a different, already executed block gets a new immediate
t_patch_other_block:
    PUTS "patched immediate, re-run 3 times:"
    mov ecx, 3
    mov ebx, 0x11111111
.again:
    call .target
    PUTS " "
    HEX32 eax
    add ebx, 0x11111111
    mov [.target + 1], ebx          ; the imm32 of the MOV below
    loop .again
    NL
    ret
.target:
    mov eax, 0x00000000
    ret

; ---- the store and the modified instruction are adjacent in one straight-line block
t_patch_next_insn:
    PUTS "patch the next instruction: "
    mov byte [.next + 1], 0x42
.next:
    mov al, 0x00                    ; B0 00 -> B0 42
    movzx eax, al
    HEX8 eax
    mov byte [.next + 1], 0x00      ; restore (the test can be re-run)
    ; and an instruction 2 instructions ahead, with a different opcode
    mov byte [.later], 0x40         ; 48h (DEC EAX) -> 40h (INC EAX)
    mov eax, 5
    nop
.later:
    dec eax
    PUTS " dec->inc: "
    HEX8 eax
    mov byte [.later], 0x48
    NL
    ret

; ---- a loop that rewrites its own ADD imm8 every iteration: sum of 1..5 only if every
; iteration runs the freshly written byte
t_patch_loop_body:
    PUTS "loop patching its own body: "
    xor eax, eax
    mov ecx, 1
.body:
    mov [.add + 2], cl
.add:
    add eax, byte 0                 ; 83 C0 ib
    inc ecx
    cmp ecx, 6
    jb .body
    HEX32 eax
    mov byte [.add + 2], 0
    NL
    ret

; ---- REP STOSB overwriting the instructions that follow it with NOPs
t_rep_stos_over_next:
    PUTS "rep stosb over the following code: "
    mov edi, .victim
    mov ecx, .victim_end - .victim
    mov al, 0x90
    mov ebx, 0x77
    rep stosb
.victim:
    mov ebx, 0x55                   ; 5 bytes, replaced by NOPs before they run
.victim_end:
    HEX32 ebx
    mov esi, .orig                  ; put the original bytes back
    mov edi, .victim
    mov ecx, .victim_end - .victim
    rep movsb
    NL
    ret
.orig:
    mov ebx, 0x55

; ---- code generated into a buffer, run, replaced, run again
t_buffer:
    PUTS "generated code: "
    mov esi, gen1
    mov edi, code_buf
    mov ecx, gen1_end - gen1
    rep movsb
    call code_buf
    HEX32 eax
    mov esi, gen2
    mov edi, code_buf
    mov ecx, gen2_end - gen2
    rep movsb
    call code_buf
    PUTS " "
    HEX32 eax
    ; change a single byte in the middle of the buffer (the second imm32's low byte)
    mov byte [code_buf + (gen2.imm - gen2)], 0xEE
    call code_buf
    PUTS " "
    HEX32 eax
    NL
    ret

gen1:
    mov eax, 0xAAAA0001
    ret
gen1_end:
gen2:
    mov eax, 0x12345678
    db 0x05                         ; add eax, imm32
.imm:
    dd 0x00000011
    ret
gen2_end:

; ---- the same physical frame at two linear addresses: write through one, run the other
V_EXEC  equ 0x00800000
V_WRITE equ 0x00C00000
P_FRAME equ 0x00500000

t_alias:
    PUTS "alias mapping: "
    mov edi, pt0
    mov eax, 0x003
    mov ecx, 1024
.fill:
    stosd
    add eax, 0x1000
    loop .fill
    mov dword [pd + 0*4], pt0 + 0x003
    mov dword [pd + 1*4], 0x00400000 | 0x083     ; 4 MiB identity (P_FRAME lives here)
    mov dword [pd + 2*4], pt2 + 0x003
    mov dword [pd + 3*4], pt3 + 0x003
    mov dword [pt2], P_FRAME | 0x001            ; V_EXEC: read-only view
    mov dword [pt3], P_FRAME | 0x003            ; V_WRITE: writable view
    mov eax, cr4
    or eax, 1 << 4
    mov cr4, eax
    mov eax, pd
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    mov esi, gen1
    mov edi, V_WRITE
    mov ecx, gen1_end - gen1
    rep movsb
    xor eax, eax
    cpuid                           ; serialize (cross-modification through another address)
    call V_EXEC
    HEX32 eax
    mov dword [V_WRITE + 1], 0xBBBB0002   ; new immediate through the writable view
    xor eax, eax
    cpuid
    call V_EXEC
    PUTS " "
    HEX32 eax
    mov dword [V_WRITE + 1], 0xCCCC0003
    xor eax, eax
    cpuid
    call V_EXEC
    PUTS " "
    HEX32 eax
    NL
    mov eax, cr0
    and eax, 0x7FFFFFFF
    mov cr0, eax
    ret

section .bss
alignb 4096
pd: resb 4096
pt0: resb 4096
pt2: resb 4096
pt3: resb 4096
code_buf: resb 256
