; Interpreter throughput benchmark: a fixed compute loop (ALU, loads/stores, branches) run to
; completion, then the isa-debug-exit device ends the emulator. The same image runs on lift86
; and on QEMU TCG so bench/run.sh can compare wall times. Multiboot a.out kludge: flat binary.
bits 32
org 0x100000
MB_FLAGS equ 0x00010000
header:
    dd 0x1BADB002, MB_FLAGS, -(0x1BADB002 + MB_FLAGS)
    dd header, header, end_of_image, end_of_bss, start

start:
    mov esp, stack_top
    mov ecx, 20000000          ; iterations (~10 instructions each)
    xor eax, eax
    mov ebx, 0x12345678
.loop:
    add eax, ecx
    xor ebx, eax
    mov edx, ecx
    and edx, 0xFF
    mov [buf + edx*4], ebx
    add ebx, [buf + edx*4 + 4]
    rol ebx, 3
    cmp eax, ebx
    adc esi, 0
    dec ecx
    jnz .loop
    mov al, 'o'
    out 0xE9, al
    mov al, 'k'
    out 0xE9, al
    mov al, 10
    out 0xE9, al
    mov al, 0
    out 0xF4, al
    hlt
align 4096, db 0                ; data on its own page: measure the interpreter, not SMC checks
end_of_image:
section .bss
buf: resd 260
    resb 4096
stack_top:
end_of_bss:
