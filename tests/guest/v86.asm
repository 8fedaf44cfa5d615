; v86.asm -- virtual-8086 mode (SDM vol.3 chapter 20).
;
; - Entering V86 with IRET and EFLAGS.VM=1 from ring 0 (20.2.1); 8086-style addressing
;   (linear = segment*16 + offset) at CPL 3; SMSW still shows PE=1.
; - IOPL < 3: INT n, CLI, PUSHF are IOPL-sensitive and raise #GP(0) to the ring-0 monitor, which
;   reads the opcode at CS*16+IP, emulates or skips it and returns (20.2.7, 20.3.1.1); HLT is
;   privileged (#GP). INT3 is not IOPL-sensitive: it goes to the IDT, where a DPL0 gate gives
;   #GP(vector*8+2) (vol.2 INT n/INTO/INT3/INT1: only INT n checks IOPL).
; - IN/OUT in V86 are checked against the TSS I/O permission bitmap only, whatever the IOPL
;   (20.2.8.1, 19.5.2): port E9h is allowed, 80h is not, a word OUT to E9h also needs EAh.
; - IOPL = 3: CLI/STI/PUSHF/POPF run directly; INT n through a DPL3 interrupt gate enters the
;   ring-0 handler on the TSS stack with GS, FS, DS, ES, SS, ESP, EFLAGS, CS, EIP pushed and the
;   data segment registers cleared (6.12.1, figure 6-5 / 20.3.1.1); IRET returns to V86.
;   A DPL0 gate gives #GP(vector*8+2).
; - The V86 task leaves through INT 20h, which the monitor turns into a return to the kernel.

%include "lift86.inc"
%include "lib16.inc"

V86_SEG  equ 0x1000
V86_BASE equ 0x10000
%define R(x) ((x) - v86_blob)
SEL_TSS_IO equ SEL_FREE

test_main:
    mov esi, v86_blob
    mov edi, V86_BASE
    mov ecx, v86_blob_end - v86_blob
    rep movsb
    ; a TSS with a full I/O permission bitmap: every port denied except E9h and F4h
    mov dword [tss_io + 4], kstack_top
    mov dword [tss_io + 8], SEL_DATA0
    mov word [tss_io + 102], 104
    mov edi, tss_io + 104
    mov ecx, 8192 + 1               ; + the terminating byte of 1s (19.5.2)
    mov al, 0xFF
    rep stosb
    and byte [tss_io + 104 + (0xE9 >> 3)], ~(1 << (0xE9 & 7))
    and byte [tss_io + 104 + (0xF4 >> 3)], ~(1 << (0xF4 & 7))
    mov eax, SEL_TSS_IO
    mov ebx, tss_io
    mov ecx, 104 + 8192
    mov edx, ACC_TSS
    call set_desc
    mov ax, SEL_TSS_IO
    ltr ax
    ; IDT: #GP -> monitor; INT 20h (exit) and INT 22h: DPL3 interrupt gates
    mov eax, 13
    mov ebx, v86_gp
    mov ecx, SEL_CODE0
    mov edx, 0x8E
    call set_gate
    mov eax, 0x20
    mov ebx, v86_exit
    mov edx, 0xEE
    call set_gate
    mov eax, 0x22
    mov ebx, v86_int22
    call set_gate

    PUTS "== V86 with IOPL 0", 10
    mov ebx, R(v86_iopl0)
    mov eax, 0
    call enter_v86
    PUTS "back in the kernel: cs="
    mov eax, cs
    HEX16 eax
    NL
    PUTS "== V86 with IOPL 3", 10
    mov ebx, R(v86_iopl3)
    mov eax, 3 << 12
    call enter_v86
    PUTS "back in the kernel", 10
    ret

; EBX = IP in segment V86_SEG, EAX = IOPL bits. Returns when the V86 code executes INT 20h.
enter_v86:
    mov [v86_saved_esp], esp
    push dword V86_SEG              ; GS
    push dword V86_SEG              ; FS
    push dword V86_SEG              ; DS
    push dword V86_SEG              ; ES
    push dword V86_SEG              ; SS
    push dword 0xFFF0               ; ESP
    or eax, 0x00020002              ; VM
    push eax                        ; EFLAGS
    push dword V86_SEG              ; CS
    push ebx                        ; EIP
    iretd

v86_exit:                           ; INT 20h (directly, or via the monitor)
    mov ax, SEL_DATA0
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov esp, [v86_saved_esp]
    ret

; ---- the monitor: #GP handler. Frame: err, eip, cs, eflags, esp, ss, es, ds, fs, gs
GP_ERR    equ 4
GP_EIP    equ 8
GP_CS     equ 12
GP_EFLAGS equ 16
v86_gp:
    test dword [esp + 12], 0x20000  ; from V86?
    jz isr_13                       ; no: the library's handler
    push ebp
    mov ebp, esp
    pushad
    mov ax, SEL_DATA0
    mov ds, ax
    mov es, ax
    movzx esi, word [ebp + GP_CS]
    shl esi, 4
    movzx eax, word [ebp + GP_EIP]
    add esi, eax                    ; linear address of the faulting instruction
    cmp word [esi], 0x20CD          ; INT 20h: leave V86
    je v86_exit
    PUTS "monitor: #GP err="
    HEX16 [ebp + GP_ERR]
    PUTS " at "
    movzx eax, byte [esi]
    cmp al, 0xCD
    je .int_n
    cmp al, 0xCC
    je .int3
    cmp al, 0xE6
    je .out_imm
    cmp al, 0xE4
    je .in_imm
    cmp al, 0xEF
    je .out_dx_ax
    cmp al, 0xFA
    je .cli
    cmp al, 0x9C
    je .pushf
    cmp al, 0xF4
    je .hlt
    PUTS "unknown opcode "
    HEX8 eax
    NL
    mov al, 3
    jmp exit
.int_n:
    movzx eax, byte [esi + 1]
    PUTS "int "
    HEX8 eax
    PUTS "h: emulated, ax=4321"
    mov word [ebp - 4], 0x4321      ; the V86 task's AX in the PUSHAD image
    mov ecx, 2
    jmp .skip
.int3:
    PUTS "int3: skipped"
    mov ecx, 1
    jmp .skip
.out_imm:
    PUTS "out "
    movzx eax, byte [esi + 1]
    HEX8 eax
    PUTS "h,al: skipped"
    mov ecx, 2
    jmp .skip
.in_imm:
    PUTS "in al,"
    movzx eax, byte [esi + 1]
    HEX8 eax
    PUTS "h: emulated, al=ff"
    mov byte [ebp - 4], 0xFF        ; the V86 task's AL in the PUSHAD image
    mov ecx, 2
    jmp .skip
.out_dx_ax:
    PUTS "out dx,ax with dx="
    HEX16 [ebp - 12]                ; PUSHAD image: EDX
    PUTS ": skipped"
    mov ecx, 1
    jmp .skip
.cli:
    PUTS "cli: skipped"
    mov ecx, 1
    jmp .skip
.pushf:
    PUTS "pushf: skipped"
    mov ecx, 1
    jmp .skip
.hlt:
    PUTS "hlt: skipped"
    mov ecx, 1
.skip:
    NL
    add [ebp + GP_EIP], cx
    popad
    pop ebp
    add esp, 4                      ; error code
    iretd                           ; back to V86 (VM=1 in the EFLAGS image)

; INT 22h through a DPL3 gate with IOPL 3. Frame: eip, cs, eflags, esp, ss, es, ds, fs, gs
v86_int22:
    mov ebp, esp
    mov ebx, ds
    mov ecx, es
    mov esi, fs
    mov edi, gs
    mov ax, SEL_DATA0
    mov ds, ax
    mov es, ax
    PUTS "int 22h handler: cs="
    mov eax, cs
    HEX16 eax
    PUTS " ds/es/fs/gs="
    HEX16 ebx
    PUTS "/"
    HEX16 ecx
    PUTS "/"
    HEX16 esi
    PUTS "/"
    HEX16 edi
    PUTS " esp=esp0-"
    mov eax, kstack_top
    sub eax, ebp
    HEX8 eax
    NL
    PUTS "  frame: cs="
    HEX16 [ebp + 4]
    PUTS " eflags.vm="
    mov eax, [ebp + 8]
    shr eax, 17
    and eax, 1
    HEX8 eax
    PUTS " iopl="
    mov eax, [ebp + 8]
    shr eax, 12
    and eax, 3
    HEX8 eax
    PUTS " sp="
    HEX16 [ebp + 12]
    PUTS " ss="
    HEX16 [ebp + 16]
    PUTS " es="
    HEX16 [ebp + 20]
    PUTS " ds="
    HEX16 [ebp + 24]
    PUTS " fs="
    HEX16 [ebp + 28]
    PUTS " gs="
    HEX16 [ebp + 32]
    NL
    mov word [ebp + 24], 0x2000     ; return with DS = 2000h
    iretd

; =============================================================================================
; V86 code (copied to 1000:0000)
bits 16
align 16
v86_blob:
    R16LIB

v86_common:                         ; things that behave the same with any IOPL
    RPUTS "cs="
    mov ax, cs
    RHEX16 ax
    RPUTS " ss="
    mov ax, ss
    RHEX16 ax
    smsw ax
    and ax, 1
    RPUTS " msw.pe="
    RHEX16 ax
    ; 8086 addressing: 1100:0010 and 1000:1010 are the same byte
    mov ax, 0x1100
    mov es, ax
    mov byte [es:0x0010], 0x5A
    mov al, [0x1010]
    RPUTS " 1100:0010 via 1000:1010="
    RHEX8 al
    RNL
    ; REP MOVSB across segments, 32-bit operands with 66h
    mov si, R(msg)
    mov ax, 0x1180
    mov es, ax
    xor di, di
    mov cx, msg_len
    cld
    rep movsb
    mov ax, 0x1180
    mov ds, ax
    mov ebx, [0]
    mov ax, V86_SEG
    mov ds, ax
    RPUTS "copied dword="
    RHEX32 ebx
    RNL
    ret

msg: db "v86!"
msg_len equ $ - msg

v86_iopl0:
    RPUTS "v86 iopl0: "
    call v86_common
    xor ax, ax
    int 0x21                        ; IOPL-sensitive: #GP(0) to the monitor
    RPUTS "after int 21h: ax="
    RHEX16 ax
    RNL
    int3                            ; not IOPL-sensitive: IDT gate 3 is DPL0 -> #GP(1Ah)
    out 0x80, al                    ; port 80h denied by the bitmap
    mov al, 0
    in al, 0x80                     ; denied too: the monitor supplies AL
    RPUTS "in al,80h gave "
    RHEX8 al
    RNL
    cli
    pushf
    hlt
    mov dx, 0xE9
    mov ax, 0x4141
    out dx, ax                      ; E9h allowed, EAh denied: the whole access faults
    RPUTS "v86 iopl0 done", 10
    int 0x20

v86_iopl3:
    RPUTS "v86 iopl3: "
    call v86_common
    sti
    pushf                           ; not trapped with IOPL 3
    pop ax
    cli
    and ax, 0x3200
    RPUTS "pushf after sti: iopl/if="
    RHEX16 ax
    RNL
    int 0x22                        ; DPL3 gate: straight to the ring-0 handler
    mov ax, ds
    RPUTS "after iret: ds="
    RHEX16 ax
    RNL
    mov ax, V86_SEG
    mov ds, ax
    int 0x21                        ; DPL0 gate: #GP(0x21*8+2)
    mov dx, 0xE9
    out dx, ax                      ; the bitmap still applies with IOPL 3
    RPUTS "v86 iopl3 done", 10
    int 0x20
v86_blob_end:
bits 32

section .bss
v86_saved_esp: resd 1
alignb 16
tss_io: resb 104 + 8192 + 16
