; The guest of the --profile test (tests/cli/profile.sh): a known hot loop in ring 0, a loop
; that rewrites code on another page (the same bytes, so every pass drops and re-decodes that
; block: its counts must survive), then a shorter loop in ring 3, with output on the debug
; console (port 0xE9) and an end through isa-debug-exit (port 0xF4). The test checks that the
; profile finds each where it is: the kernel loop (ROR EDX,5) is the hottest block, the patched
; block (MOV EAX,5; RET) was decoded SMC_LOOPS times, the user loop (BSWAP) runs at CPL 3 and
; marks the start of user space. Multiboot a.out kludge: a flat binary loaded at 1 MiB.
bits 32
org 0x100000
MB_FLAGS equ 0x00010000
KERNEL_LOOPS equ 100000        ; 4 instructions each
USER_LOOPS equ 30000           ; 4 instructions each
SMC_LOOPS equ 3000
header:
    dd 0x1BADB002, MB_FLAGS, -(0x1BADB002 + MB_FLAGS)
    dd header, header, end_of_image, end_of_bss, start

start:
    lgdt [gdtr]
    jmp 0x08:.flat
.flat:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, stack_top
    mov ecx, KERNEL_LOOPS
    mov edx, 0x12345678
.kernel_loop:                   ; the hottest block
    ror edx, 5
    add edx, ecx
    dec ecx
    jnz .kernel_loop
    mov al, 'k'
    out 0xE9, al
    mov ecx, SMC_LOOPS
.smc_loop:
    mov byte [patched + 1], 5   ; the byte it already holds: the block is dropped all the same
    call patched
    dec ecx
    jnz .smc_loop
    mov al, 's'
    out 0xE9, al
    ; To ring 3 with IOPL 3 (so the user code may use the ports): SS, ESP, EFLAGS, CS, EIP.
    push dword 0x23
    push dword user_stack_top
    push dword 0x3002
    push dword 0x1B
    push dword user
    iret

user:
    mov ecx, USER_LOOPS
.user_loop:
    bswap eax
    inc eax
    dec ecx
    jnz .user_loop
    mov al, 'u'
    out 0xE9, al
    mov al, 10
    out 0xE9, al
    mov al, 0
    out 0xF4, al                ; isa-debug-exit: lift86 ends with status 1
    jmp $

align 8
gdt:
    dq 0
    dq 0x00CF9A000000FFFF       ; 0x08 ring 0 code, flat 32-bit
    dq 0x00CF92000000FFFF       ; 0x10 ring 0 data
    dq 0x00CFFA000000FFFF       ; 0x18 ring 3 code
    dq 0x00CFF2000000FFFF       ; 0x20 ring 3 data
gdtr:
    dw gdtr - gdt - 1
    dd gdt
align 4096, db 0                ; a page of its own: only this block is dropped by the stores
patched:
    mov eax, 5
    ret
align 4096, db 0
end_of_image:
section .bss
    resb 4096
stack_top:
    resb 4096
user_stack_top:
end_of_bss:
