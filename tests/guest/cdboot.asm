; cdboot.asm -- a "no emulation" El Torito boot image: SeaBIOS boots it from the ATAPI CD-ROM
; (-cdrom), loads its 4 sectors at 0000:7C00 and jumps there with DL = the CD's drive number.
; It prints through INT 10h and on the debug console (port 0xE9), then ends (isa-debug-exit).
bits 16
org 0x7C00
    xor ax, ax
    mov ds, ax
    mov [drive], dl
    mov si, msg
    call puts
    mov al, [drive]
    cmp al, 0xE0                ; SeaBIOS numbers CD drives from E0h (El Torito spec: >= 80h)
    jb .bad
    mov si, msg_drive
    call puts
    mov al, 0
    out 0xF4, al
    hlt
.bad:
    mov al, 1
    out 0xF4, al
    hlt
puts:
    lodsb
    test al, al
    jz .done
    out 0xE9, al
    mov ah, 0x0E
    mov bx, 7
    int 0x10
    jmp puts
.done:
    ret
drive     db 0
msg       db "lift86 El Torito: booted from CD", 10, 0
msg_drive db "boot drive is a CD (E0h or above)", 10, 0
times 2048 - ($ - $$) db 0
