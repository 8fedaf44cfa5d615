; realmode.asm -- the boot sector of the real-mode gdb tests (realmode.gdb: run directly with
; -bios none -hda; seabios.gdb: booted by SeaBIOS). Code sits at fixed addresses (the
; test script sets breakpoints there; there are no symbols):
;   7C20  wp_store:  mov [0x600], ax   (the script watches the word at 0x600)
;   7C40  far jump to 07C0:0060, i.e. linear 7C60 with CS = 07C0 (a segment base that is not 0)
;   7C60  in_seg:    the script breaks here by linear address and sees EIP = 0060, CS = 07C0
bits 16
org 0x7C00

start:
    cli
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7C00
    mov ax, 0x1234
    mov bx, ax
    inc bx
    times 0x20 - ($ - $$) nop
wp_store:                           ; 7C20
    mov [0x600], ax
    inc ax
    mov [0x600], ax
    times 0x40 - ($ - $$) nop
    jmp 0x07C0:(in_seg - 0x7C00)    ; 7C40
    times 0x60 - ($ - $$) nop
in_seg:                             ; 7C60 (07C0:0060)
    mov ax, cs
    mov ds, ax
    mov si, msg - 0x7C00
.print:
    lodsb
    test al, al
    jz .done
    out 0xE9, al
    jmp .print
.done:
    mov al, 0                       ; isa-debug-exit: status 0 -> lift86 exits with 1
    out 0xF4, al
    hlt
msg: db "real mode done", 10, 0
    times 510 - ($ - $$) db 0
    dw 0xAA55
