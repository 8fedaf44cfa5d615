; mbr.asm -- a master boot record booted by unmodified SeaBIOS from the first IDE disk.
; It prints through the BIOS (INT 10h teletype, so the text lands in VGA memory) and directly
; through COM1 (the 16550A at 0x3F8), reads its own second sector back through INT 13h (the
; BIOS's IDE driver), then ends through isa-debug-exit (port 0xF4).
bits 16
org 0x7C00
start:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7C00
    sti
    mov [drive], dl
    mov si, msg_vga
    call bios_puts
    mov si, msg_uart
    call uart_puts
    ; INT 13h AH=02h: read 1 sector (cylinder 0, head 0, sector 2) to 0000:0600.
    mov ax, 0x0201
    mov cx, 0x0002
    xor dh, dh
    mov dl, [drive]
    mov bx, 0x0600
    int 0x13
    jc .fail
    mov si, 0x0600               ; sector 2 holds a zero-terminated message
    call bios_puts
    mov si, 0x0600
    call uart_puts
    mov al, 0
    out 0xF4, al
    hlt
.fail:
    mov si, msg_fail
    call uart_puts
    mov al, 1
    out 0xF4, al
    hlt

bios_puts:                      ; INT 10h AH=0Eh teletype
    lodsb
    test al, al
    jz .done
    mov ah, 0x0E
    mov bx, 0x0007
    int 0x10
    jmp bios_puts
.done:
    ret

uart_puts:                      ; COM1 polled: wait for THRE (LSR bit 5), then write THR
    lodsb
    test al, al
    jz .done
    mov ah, al
    mov dx, 0x3FD
.wait:
    in al, dx
    test al, 0x20
    jz .wait
    mov dx, 0x3F8
    mov al, ah
    out dx, al
    jmp uart_puts
.done:
    ret

drive    db 0
msg_vga  db "lift86 MBR: hello through INT 10h", 13, 10, 0
msg_uart db "lift86 MBR: hello through COM1", 13, 10, 0
msg_fail db "lift86 MBR: INT 13h read failed", 13, 10, 0
times 446 - ($ - $$) db 0
; one partition entry so the disk looks partitioned (type 0x83, LBA 2048, 2048 sectors)
db 0x80, 0, 0, 0, 0x83, 0, 0, 0
dd 2048, 2048
times 510 - ($ - $$) db 0
dw 0xAA55
; sector 2
db "lift86 MBR: sector 2 read through INT 13h", 13, 10, 0
times 1024 - ($ - $$) db 0
; pad the image to 1 MiB so it has a sane geometry
times (1024 * 1024) - ($ - $$) db 0
