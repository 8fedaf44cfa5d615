; post.asm -- a boot sector that writes two POST codes to port 0x80 and ends (--trace post test).
bits 16
org 0x7C00
    mov al, 0x12
    out 0x80, al
    mov al, 0x34
    out 0x80, al
    cli
    hlt
times 510 - ($ - $$) db 0
dw 0xAA55
