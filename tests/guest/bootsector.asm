; bootsector.asm -- a 512-byte boot sector run by lift86 without firmware (-hda, no -bios):
; it must start in real mode at 0000:7C00 with DL = 80h (the boot drive), A20 state unknown.
; Prints what it sees on port 0xE9, proves real-mode segment arithmetic and a far jump, and
; ends through isa-debug-exit (port 0xF4).
bits 16
org 0x7C00
start:
    cli
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7C00
    mov [boot_drive], dl
    mov si, msg_hello
    call puts
    mov al, [boot_drive]
    call puthex8
    call newline
    ; CS:IP is 0000:7Cxx: call/pop gives our own offset.
    call .here
.here:
    pop ax
    sub ax, .here
    mov si, msg_delta
    call puts
    call puthex16             ; 0000: loaded where the boot protocol says
    call newline
    ; Segment arithmetic: 07C0:0000 is the same byte as 0000:7C00.
    mov ax, 0x07C0
    mov es, ax
    mov al, [es:0]
    mov si, msg_alias
    call puts
    call puthex8              ; FA, the CLI at the start
    call newline
    ; A far jump into a different segment with the same linear address.
    jmp 0x07C0:(far_target - 0x7C00)
far_target:
    mov ax, cs
    mov si, msg_cs
    call puts
    call puthex16             ; 07C0
    call newline
    mov al, 0
    out 0xF4, al
    hlt

puts:                          ; DS:SI, zero-terminated
    push ax
.next:
    mov al, [si]              ; DS = 0: absolute offsets work from any CS
    test al, al
    jz .done
    out 0xE9, al
    inc si
    jmp .next
.done:
    pop ax
    ret
newline:
    mov al, 10
    out 0xE9, al
    ret
puthex16:
    push ax
    mov al, ah
    call puthex8
    pop ax
puthex8:
    push ax
    shr al, 4
    call .nib
    pop ax
    push ax
    and al, 0x0F
    call .nib
    pop ax
    ret
.nib:
    add al, '0'
    cmp al, '9'
    jbe .out
    add al, 'A' - '9' - 1
.out:
    out 0xE9, al
    ret

msg_hello db "boot sector running, DL=", 0
msg_delta db "load offset delta=", 0
msg_alias db "07C0:0000 reads ", 0
msg_cs    db "after far jump CS=", 0
boot_drive db 0
times 510 - ($ - $$) db 0
dw 0xAA55
