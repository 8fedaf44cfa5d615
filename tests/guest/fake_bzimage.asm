; A stand-in for a Linux bzImage, to test `-kernel` through the firmware and the Linux boot
; option ROM (roms/linuxboot.asm) in a second instead of a Linux boot's minutes. It has what a
; boot loader looks at (Documentation/arch/x86/boot.rst): a setup header of protocol 2.06 with
; setup_sects, LOADED_HIGH, code32_start, initrd_addr_max and a short cmdline_size, then
;  - real-mode setup code, entered at segment+0x20:0 as "Running the kernel" prescribes, which
;    checks the machine state it was given and the header fields the loader filled in, prints
;    the command line, and enters protected mode the way Linux does (__BOOT_CS 0x10, ESI =
;    boot_params, a far jump to code32_start);
;  - the "protected-mode kernel", loaded at 1 MiB: it checks that all of it arrived (a marker
;    at its very end) and hashes the initrd (FNV-1a) where ramdisk_image says it is.
; Output on the debug console (port 0xE9); the end through isa-debug-exit (port 0xF4).
; Built with tests/guest/fake_initrd.asm; run by guest.seabios_kernel (lift86) and
; guest_qemu.seabios_kernel (QEMU, the reference): both must print fake_bzimage.expected.

bits 16
org 0

SETUP_SECTS  equ 3                          ; 4 sectors of real-mode code with the boot sector
SETUP_SIZE   equ (SETUP_SECTS + 1) * 512
CMDLINE_SIZE equ 64                         ; the longest command line this "kernel" takes

section .text
boot_sector:
    ; Offsets 0..0x1F0: the legacy boot sector, which a boot loader never runs.
    times 0x1F1 - ($ - $$) db 0
hdr:
setup_sects:     db SETUP_SECTS             ; 0x1F1
root_flags:      dw 0                       ; 0x1F2
syssize:         dd (pm_end - pm_start + 15) / 16   ; 0x1F4 protected-mode size in 16-byte units
ram_size:        dw 0                       ; 0x1F8
vid_mode:        dw 0xFFFF                  ; 0x1FA "normal"
root_dev:        dw 0                       ; 0x1FC
boot_flag:       dw 0xAA55                  ; 0x1FE
; 0x200: the entry point; the byte at 0x201 also gives the header's length (0x202 + it).
jump:            jmp short setup_start
header_magic:    db 'HdrS'                  ; 0x202
version:         dw 0x0206                  ; 0x206
realmode_swtch:  dd 0                       ; 0x208
start_sys_seg:   dw 0x1000                  ; 0x20C
kernel_version:  dw 0                       ; 0x20E
type_of_loader:  db 0                       ; 0x210 the loader writes its ID here
loadflags:       db 0x01                    ; 0x211 LOADED_HIGH: the protected-mode part at 1 MiB
setup_move_size: dw 0x8000                  ; 0x212
code32_start:    dd 0x100000                ; 0x214
ramdisk_image:   dd 0                       ; 0x218 filled in by the loader
ramdisk_size:    dd 0                       ; 0x21C
bootsect_kludge: dd 0                       ; 0x220
heap_end_ptr:    dw 0                       ; 0x224 filled in by the loader
ext_loader_ver:  db 0                       ; 0x226
ext_loader_type: db 0                       ; 0x227
cmd_line_ptr:    dd 0                       ; 0x228 filled in by the loader
initrd_addr_max: dd 0x7FFFFFFF              ; 0x22C
kernel_alignment: dd 0x100000               ; 0x230
relocatable_kernel: db 0                    ; 0x234
min_alignment:   db 0                       ; 0x235
xloadflags:      dw 0                       ; 0x236
cmdline_size:    dd CMDLINE_SIZE            ; 0x238
hdr_end:

; ---- real mode: CS = DS + 0x20, so code addresses here are image offsets - 0x200 and all
; data goes through DS (= the image's base), whose offsets are image offsets ----
setup_start:
    pushf                                   ; IF at entry, before anything changes it
    pop dx
    mov bx, sp                              ; SP at entry
    mov si, s_hello
    call puts16
    ; Segments: DS = ES = FS = GS = SS, CS = DS + 0x20.
    mov ax, ds
    mov cx, es
    cmp ax, cx
    jne .segs_bad
    mov cx, fs
    cmp ax, cx
    jne .segs_bad
    mov cx, gs
    cmp ax, cx
    jne .segs_bad
    mov cx, ss
    cmp ax, cx
    jne .segs_bad
    add ax, 0x20
    mov cx, cs
    cmp ax, cx
    jne .segs_bad
    mov si, s_yes
    jmp .segs
.segs_bad:
    mov si, s_no
.segs:
    call puts16
    ; Interrupts off.
    mov si, s_cli
    call puts16
    test dx, 0x200
    call yes_if_zero
    ; The stack lies in the heap: above the setup code, at most heap_end (0 = 0x10000).
    mov si, s_stack
    call puts16
    cmp bx, 0
    je .stack_ok
    cmp bx, SETUP_SIZE
    jbe .stack_bad
    mov ax, [heap_end_ptr]
    add ax, 0x200
    jz .stack_ok                            ; heap_end 0x10000: the whole segment
    cmp bx, ax
    ja .stack_bad
.stack_ok:
    xor ax, ax
    jmp .stack
.stack_bad:
    mov ax, 1
.stack:
    test ax, ax
    call yes_if_zero
    ; Fields the loader fills in.
    mov si, s_loader
    call puts16
    cmp byte [type_of_loader], 0
    call yes_if_nonzero
    mov si, s_heap
    call puts16
    test byte [loadflags], 0x80
    call yes_if_nonzero
    mov si, s_heap_end
    call puts16
    movzx eax, word [heap_end_ptr]
    mov cx, 4
    call puthex16
    mov si, s_cmdptr
    call puts16
    mov eax, [cmd_line_ptr]
    mov cx, 8
    call puthex16
    ; The command line itself, through a segment (it lies below 1 MiB for protocol 2.02+).
    mov si, s_cmdline
    call puts16
    push ds
    mov eax, [cmd_line_ptr]
    mov si, ax
    and si, 0x000F
    shr eax, 4
    mov ds, ax
.cmd:
    lodsb
    test al, al
    jz .cmd_end
    out 0xE9, al
    jmp .cmd
.cmd_end:
    pop ds
    mov si, s_quote_nl
    call puts16
    ; The initrd: its size, and that the loader put it where the protocol allows.
    mov si, s_rdsize
    call puts16
    mov eax, [ramdisk_size]
    mov cx, 8
    call puthex16
    mov si, s_rdalign
    call puts16
    test dword [ramdisk_image], 0xFFF
    call yes_if_zero
    mov si, s_rdmax
    call puts16
    mov eax, [ramdisk_image]
    add eax, [ramdisk_size]
    dec eax                                 ; last byte
    cmp eax, [initrd_addr_max]
    setbe al
    test al, al
    call yes_if_nonzero
    mov si, s_rdabove
    call puts16
    mov eax, [code32_start]
    add eax, pm_end - pm_start
    cmp [ramdisk_image], eax
    setae al
    test al, al
    call yes_if_nonzero

    ; Protected mode as Linux's setup enters it (arch/x86/boot/pm.c): a GDT with __BOOT_CS
    ; 0x10 and __BOOT_DS 0x18, then a far jump to code32_start with ESI = boot_params.
    cli
    xor eax, eax
    mov ax, ds
    shl eax, 4
    mov esi, eax                            ; boot_params (here: the setup image's base)
    add eax, gdt
    mov [gdt_desc + 2], eax
    o32 lgdt [gdt_desc]
    mov eax, [code32_start]
    mov [pm_jump], eax
    mov eax, cr0
    or eax, 1
    mov cr0, eax
    jmp far dword [pm_jump]

; Prints yes/no and a newline after a test: ZF set -> yes (yes_if_zero) or no (yes_if_nonzero).
yes_if_zero:
    mov si, s_yes
    jz puts16
    mov si, s_no
    jmp puts16
yes_if_nonzero:
    mov si, s_no
    jz puts16
    mov si, s_yes
    jmp puts16

; DS:SI: a NUL-terminated string to port 0xE9.
puts16:
    push ax
.next:
    lodsb
    test al, al
    jz .done
    out 0xE9, al
    jmp .next
.done:
    pop ax
    ret

; EAX printed as CX hex digits, then a newline.
puthex16:
    push ebx
    mov ebx, eax
    mov ax, 8
    sub ax, cx
    shl ax, 2
    xchg ax, cx
    shl ebx, cl
    mov cx, ax
.digit:
    rol ebx, 4
    mov al, bl
    and al, 0x0F
    add al, '0'
    cmp al, '9'
    jbe .out
    add al, 'a' - '9' - 1
.out:
    out 0xE9, al
    loop .digit
    mov al, 10
    out 0xE9, al
    pop ebx
    ret

align 8
gdt:
    dq 0, 0
    dq 0x00CF9A000000FFFF                   ; 0x10 __BOOT_CS: flat 32-bit code
    dq 0x00CF92000000FFFF                   ; 0x18 __BOOT_DS: flat data
gdt_desc:
    dw 4 * 8 - 1
    dd 0                                    ; the GDT's linear address, set at run time
pm_jump:
    dd 0                                    ; code32_start
    dw 0x10

s_hello:    db 'setup: ds=es=fs=gs=ss, cs=ds+20h: ', 0
s_cli:      db 'setup: interrupts off: ', 0
s_stack:    db 'setup: stack in the heap: ', 0
s_loader:   db 'setup: type_of_loader set: ', 0
s_heap:     db 'setup: CAN_USE_HEAP: ', 0
s_heap_end: db 'setup: heap_end_ptr=', 0
s_cmdptr:   db 'setup: cmd_line_ptr=', 0
s_cmdline:  db 'setup: command line "', 0
s_quote_nl: db '"', 10, 0
s_rdsize:   db 'setup: ramdisk_size=', 0
s_rdalign:  db 'setup: ramdisk page aligned: ', 0
s_rdmax:    db 'setup: ramdisk below initrd_addr_max: ', 0
s_rdabove:  db 'setup: ramdisk above the kernel: ', 0
s_yes:      db 'yes', 10, 0
s_no:       db 'no', 10, 0

    times SETUP_SIZE - ($ - $$) db 0

; ---- the protected-mode part, loaded at code32_start = 1 MiB ----
section pmode follows=.text vstart=0x100000
bits 32
pm_start:
    mov ax, 0x18
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, 0x90000
    mov ebx, esi                            ; boot_params
    mov esi, s_pm
    call puts32
    call .here                              ; EIP, to show where we run
.here:
    pop eax
    sub eax, .here - pm_start
    call puthex32
    mov esi, s_esi
    call puts32
    mov eax, ebx
    call puthex32
    ; All of the protected-mode part arrived: its last dword is the marker.
    mov esi, s_tail
    call puts32
    cmp dword [pm_end - 4], 'END!'
    mov esi, s_yes32
    je .tail
    mov esi, s_no32
.tail:
    call puts32
    ; The initrd: its first line, then an FNV-1a hash of all of it.
    mov esi, s_rdline
    call puts32
    mov esi, [ebx + 0x218]                  ; ramdisk_image
    mov ecx, [ebx + 0x21C]                  ; ramdisk_size
.line:
    lodsb
    cmp al, 10
    je .line_end
    out 0xE9, al
    jmp .line
.line_end:
    mov esi, s_quote_nl32
    call puts32
    mov esi, [ebx + 0x218]
    mov eax, 0x811C9DC5                     ; FNV-1a offset basis
    mov edi, 0x01000193                     ; FNV prime
    jecxz .hashed
.hash:
    movzx edx, byte [esi]
    inc esi
    xor eax, edx
    imul eax, edi
    loop .hash
.hashed:
    push eax
    mov esi, s_fnv
    call puts32
    pop eax
    call puthex32
    mov esi, s_done
    call puts32
    mov al, 0
    out 0xF4, al                            ; isa-debug-exit: status (0 << 1) | 1
    hlt

puts32:
    lodsb
    test al, al
    jz .done
    out 0xE9, al
    jmp puts32
.done:
    ret

puthex32:
    mov edx, eax
    mov ecx, 8
.digit:
    rol edx, 4
    mov al, dl
    and al, 0x0F
    add al, '0'
    cmp al, '9'
    jbe .out
    add al, 'a' - '9' - 1
.out:
    out 0xE9, al
    loop .digit
    mov al, 10
    out 0xE9, al
    ret

s_pm:         db 'kernel: 32-bit code at ', 0
s_esi:        db 'kernel: esi=', 0
s_tail:       db 'kernel: all of it arrived: ', 0
s_yes32:      db 'yes', 10, 0
s_no32:       db 'no', 10, 0
s_rdline:     db 'initrd: "', 0
s_quote_nl32: db '"', 10, 0
s_fnv:        db 'initrd: fnv1a=', 0
s_done:       db 'done', 10, 0

    ; Bulk, so that the part is more than a page or two: 40 KiB of a pattern, then the marker.
%assign i 0
%rep 40960 / 4
    dd (i * 2654435761) & 0xFFFFFFFF
%assign i i + 1
%endrep
    dd 'END!'
pm_end:
