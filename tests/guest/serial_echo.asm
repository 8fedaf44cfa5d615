; serial_echo.asm -- echoes what arrives on COM1 (or COM2) back to it, interrupt-driven, halting
; between interrupts: the guest end of lift86's -serial input path (tests/cli: cli.serial_*).
;
; The UART runs at 115200 8N1 with its FIFOs on and the receive trigger level at 14, so a tail of
; fewer than 14 bytes arrives through the character timeout (TI PC16550D data sheet, "FIFO
; Interrupt Mode Operation"). The interrupt handler reads LSR and, while DR is set, reads RBR and
; writes the byte back to THR once LSR.THRE says THR is empty; LSR.OE counts overruns (a
; back-end that ignores rx_room() loses bytes and shows up here). The PIT ticks at 100 Hz, and
; 50 ticks (0.5 s) with no input end the run with a summary, on the UART after the echo:
;     [serial_echo: N bytes, M overruns]
; and on the debug console. Exit status: pass (isa-debug-exit 0).
;
; Kernel command line (-append) words: "until-input": the timer starts with the first byte
; only, so until then the guest halts with nothing but serial input able to wake it; "com2":
; use COM2 (0x2F8, IRQ3) instead of COM1 (0x3F8, IRQ4).
;
; Without serial input (the guest.* runner gives no -serial) it reports 0 bytes and passes,
; on lift86 and on QEMU alike.

%include "lift86.inc"

; COMPORT n: DX = the UART's register n (COM1 0x3F8 or, with "com2", COM2 0x2F8)
%macro COMPORT 1
    mov dx, [com_base]
%if %1
    add dx, %1
%endif
%endmacro
IDLE_TICKS equ 50
PIT_DIV    equ 11932                ; 1193182 Hz / 11932 = 100 Hz

MB_INFO_CMDLINE equ 1 << 2          ; multiboot info flags bit 2: cmdline valid (at +16)

test_main:
    PUTS "serial_echo: ready", 10
    mov esi, word_until_input
    call find_in_cmdline
    mov [until_input], al
    mov esi, word_com2
    call find_in_cmdline
    test al, al
    jz .com1
    mov word [com_base], 0x2F8
    mov byte [com_irq], 3
.com1:
    ; UART: divisor 1 (115200 baud), 8N1, FIFOs on and cleared with trigger level 14, DTR RTS
    ; OUT2 (on the PC, OUT2 connects the UART's interrupt to its IRQ line), interrupts: received data
    ; (with the character timeout) and line status (overrun).
    COMPORT 3
    mov al, 0x80
    out dx, al
    COMPORT 0
    mov al, 1
    out dx, al
    COMPORT 1
    xor al, al
    out dx, al
    COMPORT 3
    mov al, 0x03
    out dx, al
    COMPORT 2
    mov al, 0xC7
    out dx, al
    COMPORT 4
    mov al, 0x0B
    out dx, al
    COMPORT 5
    in al, dx                       ; clear stale line status
    COMPORT 1
    mov al, 0x05
    out dx, al

    mov dword [isr_hooks + 0x20*4], timer_hook
    movzx eax, byte [com_irq]
    mov dword [isr_hooks + 0x20*4 + eax*4], com_hook
    mov cl, al
    mov ah, 1
    shl ah, cl
    not ah
    in al, 0x21
    and al, ah                      ; unmask the UART's IRQ
    out 0x21, al
    cmp byte [until_input], 0
    jne .wait
    call start_timer
.wait:
    sti                             ; STI's one-instruction shadow: no interrupt before HLT
    hlt
    cli
    cmp dword [idle], IDLE_TICKS
    jb .wait

    mov al, 0xFF                    ; mask everything again
    out 0x21, al
    COMPORT 1
    xor al, al
    out dx, al

    PUTS "serial_echo: "
    mov eax, [count]
    call put_dec
    PUTS " bytes, "
    mov eax, [overruns]
    call put_dec
    PUTS " overruns", 10

    mov esi, msg_sum1
    call ser_puts
    mov eax, [count]
    call ser_dec
    mov esi, msg_sum2
    call ser_puts
    mov eax, [overruns]
    call ser_dec
    mov esi, msg_sum3
    call ser_puts
    ret

; find_in_cmdline: AL = 1 when the multiboot command line contains the string at ESI.
find_in_cmdline:
    xor eax, eax
    mov ebx, [mb_info_ptr]
    test ebx, ebx
    jz .done
    test dword [ebx], MB_INFO_CMDLINE
    jz .done
    mov ebx, [ebx + 16]
.next:
    cmp byte [ebx], 0
    je .done
    mov edi, esi
    mov ecx, ebx
.cmp:
    mov dl, [edi]
    test dl, dl
    jz .found
    cmp dl, [ecx]
    jne .miss
    inc edi
    inc ecx
    jmp .cmp
.miss:
    inc ebx
    jmp .next
.found:
    mov al, 1
.done:
    ret

; PIT channel 0, mode 2 (rate generator), 100 Hz; unmask IRQ0.
start_timer:
    mov byte [timer_on], 1
    mov al, 0x34
    out 0x43, al
    mov ax, PIT_DIV
    out 0x40, al
    mov al, ah
    out 0x40, al
    in al, 0x21
    and al, ~1
    out 0x21, al
    ret

timer_hook:
    inc dword [idle]
    mov al, 0x20                    ; non-specific EOI
    out 0x20, al
    ret

com_hook:
.next:
    COMPORT 5
    in al, dx
    test al, 0x02                   ; LSR.OE
    jz .no_overrun
    inc dword [overruns]
.no_overrun:
    test al, 0x01                   ; LSR.DR
    jz .empty
    COMPORT 0
    in al, dx
    inc dword [count]
    mov dword [idle], 0
    call ser_putc
    jmp .next
.empty:
    cmp byte [timer_on], 0
    jne .eoi
    cmp dword [count], 0
    je .eoi
    call start_timer                ; "until-input": the first byte starts the idle timer
.eoi:
    mov al, 0x20
    out 0x20, al
    ret

; ser_putc: AL to the UART once THR is empty. Preserves everything but flags.
ser_putc:
    push edx
    push eax
    COMPORT 5
.busy:
    in al, dx
    test al, 0x20                   ; LSR.THRE
    jz .busy
    pop eax
    COMPORT 0
    out dx, al
    pop edx
    ret

; ser_puts: ESI = NUL-terminated string to the UART.
ser_puts:
    push eax
    push esi
.l: lodsb
    test al, al
    jz .d
    call ser_putc
    jmp .l
.d: pop esi
    pop eax
    ret

; ser_dec: EAX unsigned decimal to the UART.
ser_dec:
    pushad
    mov ebx, 10
    xor ecx, ecx
.d: xor edx, edx
    div ebx
    push edx
    inc ecx
    test eax, eax
    jnz .d
.p: pop eax
    add al, '0'
    call ser_putc
    loop .p
    popad
    ret

section .rodata
word_until_input: db "until-input", 0
word_com2: db "com2", 0

section .data
com_base: dw 0x3F8
com_irq:  db 4
msg_sum1: db 10, "[serial_echo: ", 0
msg_sum2: db " bytes, ", 0
msg_sum3: db " overruns]", 10, 0

section .bss
count:       resd 1
overruns:    resd 1
idle:        resd 1
until_input: resb 1
timer_on:    resb 1
