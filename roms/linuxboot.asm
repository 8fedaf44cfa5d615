; lift86's Linux boot option ROM: `lift86 -kernel bzImage` hands this ROM to the firmware
; (SeaBIOS) as the fw_cfg file "genroms/linuxboot.bin", listed first in fw_cfg "bootorder".
; The firmware copies it below 1 MiB, lists its boot entry vector (BEV) as a boot device and,
; because it is first in the boot order, calls it at boot time in real mode. The BEV then does
; what a boot loader does (Linux Documentation/arch/x86/boot.rst, "Loading the rest of the
; kernel" and "Running the kernel"): it fetches the pieces lift86 prepared from fw_cfg, puts
; them where the host said, and jumps to the kernel's real-mode setup code.
;
; The host side (machine/loaders.cpp, load_linux_fw_cfg) has already split the bzImage and
; patched the setup header (type_of_loader, CAN_USE_HEAP, heap_end_ptr, cmd_line_ptr,
; ramdisk_image/size), so this ROM only copies; its one decision is to move the initrd lower
; when the firmware kept more memory at the top of RAM than the host allowed for (below).
;
; fw_cfg items read (QEMU docs/specs/fw_cfg.rst; the keys of include/standard-headers/linux/
; qemu_fw_cfg.h), each a u32 address and size, then the bytes:
;     setup     0x16 FW_CFG_SETUP_ADDR,  0x17 FW_CFG_SETUP_SIZE,  0x18 FW_CFG_SETUP_DATA
;     kernel    0x07 FW_CFG_KERNEL_ADDR, 0x08 FW_CFG_KERNEL_SIZE, 0x11 FW_CFG_KERNEL_DATA
;     initrd    0x0a FW_CFG_INITRD_ADDR, 0x0b FW_CFG_INITRD_SIZE, 0x12 FW_CFG_INITRD_DATA
;     cmdline   0x13 FW_CFG_CMDLINE_ADDR,0x14 FW_CFG_CMDLINE_SIZE,0x15 FW_CFG_CMDLINE_DATA
; All transfers use fw_cfg DMA: the device writes guest-physical memory itself, so this
; real-mode code can fill memory above 1 MiB (the protected-mode kernel at 1 MiB, the initrd
; near the top of RAM) without switching modes.
;
; Build: nasm -f bin, then roms/sign_rom.py sets the size byte and both checksums (see
; roms/CMakeLists.txt). This is lift86's own code, written from the specifications above.

bits 16
cpu 486                     ; bswap (the DMA structures are big-endian)
org 0

FW_CFG_PORT_SEL    equ 0x510
FW_CFG_PORT_DATA   equ 0x511
FW_CFG_PORT_DMA_HI equ 0x514   ; DMA address, high half (big-endian register)
FW_CFG_PORT_DMA_LO equ 0x518   ; DMA address, low half; writing it starts the transfer

FW_CFG_ID          equ 0x01
FW_CFG_KERNEL_ADDR equ 0x07
FW_CFG_KERNEL_SIZE equ 0x08
FW_CFG_INITRD_ADDR equ 0x0a
FW_CFG_INITRD_SIZE equ 0x0b
FW_CFG_KERNEL_DATA equ 0x11
FW_CFG_INITRD_DATA equ 0x12
FW_CFG_CMDLINE_ADDR equ 0x13
FW_CFG_CMDLINE_SIZE equ 0x14
FW_CFG_CMDLINE_DATA equ 0x15
FW_CFG_SETUP_ADDR  equ 0x16
FW_CFG_SETUP_SIZE  equ 0x17
FW_CFG_SETUP_DATA  equ 0x18

FW_CFG_VERSION_DMA equ 0x02    ; FW_CFG_ID feature bit: the DMA interface exists
DMA_CTL_ERROR      equ 0x01    ; FWCfgDmaAccess.control bits (fw_cfg.rst, "DMA interface")
DMA_CTL_READ       equ 0x02
DMA_CTL_SELECT     equ 0x08

; Setup header offsets (boot.rst, "The real-mode kernel header").
HDR_RAMDISK_IMAGE  equ 0x218
HDR_HEAP_END_PTR   equ 0x224

; Our stack while loading: the top of the setup segment's stack/heap area, which the boot
; protocol's memory layout leaves to the real-mode kernel (X+0x8000..X+0x10000 with X =
; 0x10000, the address the host gives for the setup code). Nothing we load lands on it: the
; setup code is at most 32 KiB from X (the host checks) and the command line starts at 0x20000.
LOAD_STACK_SEG     equ 0x1000
LOAD_STACK_TOP     equ 0xFFF0

; Locals in our stack frame (BP-relative). The FWCfgDmaAccess must be in RAM: the device
; reads it and writes the completion status back into it.
L_DMA              equ -16     ; FWCfgDmaAccess: be32 control, be32 length, be64 address
L_TMP              equ -20     ; u32 read from fw_cfg
L_SETUP_ADDR       equ -24
L_KERNEL_END       equ -28
L_INITRD_ADDR      equ -32
L_INITRD_SIZE      equ -36
L_FRAME            equ 36

section .text

; ---- Option ROM header (PCI Firmware Spec 3.0 / BIOS Boot Specification 1.01, 3.1) ----
rom_start:
    db 0x55, 0xAA               ; signature
    db 0                        ; size in 512-byte blocks: set by sign_rom.py
    ; Initialisation entry (offset 3), called far during POST. There is nothing to set up
    ; before boot, so it returns at once; the work happens in the BEV.
    retf
    times 0x18 - ($ - $$) db 0
    dw 0                        ; 0x18: no PCI data structure (not a PCI device's ROM)
    dw pnp_header               ; 0x1A: the PnP expansion header

; ---- PnP expansion header (Plug and Play BIOS Specification 1.0A, Appendix A; BBS 1.01,
; Appendix C). The firmware lists a ROM with a non-zero BEV as a bootable device. ----
align 16, db 0
pnp_header:
    db '$PnP'                   ; 0x00 signature
    db 0x01                     ; 0x04 structure revision
    db (pnp_header_end - pnp_header) / 16   ; 0x05 length in 16-byte units
    dw 0                        ; 0x06 offset of the next header: none
    db 0                        ; 0x08 reserved
    db 0                        ; 0x09 checksum of this header: set by sign_rom.py
    dd 0                        ; 0x0A device identifier
    dw manufacturer             ; 0x0E manufacturer string
    dw product                  ; 0x10 product name string (the boot menu shows it)
    db 0, 0, 0                  ; 0x12 device type code
    db 0                        ; 0x15 device indicators
    dw 0                        ; 0x16 boot connection vector: none (not a disk controller)
    dw 0                        ; 0x18 disconnect vector
    dw bev                      ; 0x1A bootstrap entry vector
    dw 0                        ; 0x1C reserved
    dw 0                        ; 0x1E static resource information vector
pnp_header_end:

manufacturer: db 'lift86', 0
product:      db 'Linux kernel (-kernel)', 0

; ---- Bootstrap entry vector: called far, in real mode, when the firmware boots us ----
bev:
    cli
    cld
    ; If anything fails we return to the firmware, which then tries the next boot device
    ; (BBS 1.01, 6.5.2): keep its registers and stack.
    pushad
    push ds
    push es
    mov ax, ss
    mov bx, sp
    mov dx, LOAD_STACK_SEG
    mov ss, dx
    mov sp, LOAD_STACK_TOP
    push ax                     ; the firmware's SS:SP, for fail
    push bx
    mov bp, sp
    sub sp, L_FRAME
    push cs
    pop ds                      ; DS: this ROM (messages)

    ; Fast A20 (port 0x92, bit 1): the firmware normally leaves it on, but the kernel and
    ; initrd lie above 1 MiB and must not wrap, so make sure.
    in al, 0x92
    or al, 0x02
    and al, 0xFE                ; bit 0 would reset the machine
    out 0x92, al

    ; DMA must be there (FW_CFG_ID bit 1), else we could not reach memory above 1 MiB.
    mov ax, FW_CFG_ID
    mov dx, FW_CFG_PORT_SEL
    out dx, ax
    mov dx, FW_CFG_PORT_DATA
    in al, dx
    test al, FW_CFG_VERSION_DMA
    jnz .have_dma
    mov si, msg_no_dma
    jmp fail
.have_dma:

    ; The real-mode setup code (boot sector + setup header + setup), already patched.
    mov ax, FW_CFG_SETUP_ADDR
    call read_u32
    mov [bp + L_SETUP_ADDR], eax
    mov ax, FW_CFG_SETUP_SIZE
    call read_u32
    mov ecx, eax
    mov edi, [bp + L_SETUP_ADDR]
    mov ax, FW_CFG_SETUP_DATA
    call dma_read

    ; The protected-mode kernel, at 1 MiB for a bzImage.
    mov ax, FW_CFG_KERNEL_ADDR
    call read_u32
    mov edi, eax
    mov ax, FW_CFG_KERNEL_SIZE
    call read_u32
    mov ecx, eax
    add eax, edi
    mov [bp + L_KERNEL_END], eax
    mov ax, FW_CFG_KERNEL_DATA
    call dma_read

    ; The initrd (size 0: none).
    mov ax, FW_CFG_INITRD_ADDR
    call read_u32
    mov [bp + L_INITRD_ADDR], eax
    mov ax, FW_CFG_INITRD_SIZE
    call read_u32
    mov [bp + L_INITRD_SIZE], eax
    test eax, eax
    jz .initrd_done
    call fit_initrd
    mov edi, [bp + L_INITRD_ADDR]
    mov ecx, [bp + L_INITRD_SIZE]
    mov ax, FW_CFG_INITRD_DATA
    call dma_read
.initrd_done:

    ; The command line (NUL-terminated; the setup header already points at it).
    mov ax, FW_CFG_CMDLINE_ADDR
    call read_u32
    mov edi, eax
    mov ax, FW_CFG_CMDLINE_SIZE
    call read_u32
    mov ecx, eax
    mov ax, FW_CFG_CMDLINE_DATA
    call dma_read

    ; Run the kernel (boot.rst, "Running the kernel"): interrupts off, DS = ES = FS = GS =
    ; SS = the setup segment, SP = heap_end (heap_end_ptr + 0x200; 0x10000 is SP 0, the top
    ; of the segment), then a far jump to segment + 0x20, offset 0: the jump at 0x200.
    mov eax, [bp + L_SETUP_ADDR]
    shr eax, 4
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov bx, [HDR_HEAP_END_PTR]
    add bx, 0x200
    mov ss, ax
    mov sp, bx
    add ax, 0x20
    push ax
    push word 0
    xor eax, eax
    xor ebx, ebx
    xor ecx, ecx
    xor edx, edx
    xor esi, esi
    xor edi, edi
    xor ebp, ebp
    retf

; The host placed the initrd as high as the kernel allows below the top of RAM minus what it
; expects the firmware to keep (its tables at the top of RAM). If the firmware's INT 15h
; E801 reports a lower top of usable RAM, move the initrd down below it (page aligned) and
; update ramdisk_image in the setup header; refuse if it would then overlap the kernel.
fit_initrd:
    push es
    mov ax, 0xE801
    xor bx, bx
    xor cx, cx
    xor dx, dx
    int 0x15
    jc .keep                    ; no E801: trust the host's address
    test cx, cx                 ; CX/DX are the "configured" memory; a BIOS may leave them
    jnz .have                   ; zero and report AX/BX only (Ralf Brown's list, INT 15h E801)
    test dx, dx
    jnz .have
    mov cx, ax
    mov dx, bx
.have:
    movzx eax, dx               ; 64 KiB blocks above 16 MiB
    test eax, eax
    jz .below16
    add eax, 256                ; + 16 MiB in 64 KiB units
    shl eax, 16
    jmp .top
.below16:
    movzx eax, cx               ; KiB between 1 MiB and 16 MiB
    add eax, 1024
    shl eax, 10
.top:                           ; EAX = top of usable RAM below 4 GiB
    mov ebx, [bp + L_INITRD_ADDR]
    add ebx, [bp + L_INITRD_SIZE]
    cmp ebx, eax
    jbe .keep                   ; fits below the firmware's tables
    sub eax, [bp + L_INITRD_SIZE]
    jb .too_big
    and eax, 0xFFFFF000
    cmp eax, [bp + L_KERNEL_END]
    jb .too_big
    mov [bp + L_INITRD_ADDR], eax
    mov ebx, [bp + L_SETUP_ADDR]
    shr ebx, 4
    mov es, bx
    mov [es:HDR_RAMDISK_IMAGE], eax
.keep:
    pop es
    ret
.too_big:
    pop es
    mov si, msg_initrd
    jmp fail

; AX = fw_cfg key -> EAX = the item's first 4 bytes (little-endian u32).
read_u32:
    push edi
    push ecx
    mov dword [bp + L_TMP], 0
    xor edi, edi                ; physical address of L_TMP: SS * 16 + BP + L_TMP
    mov di, bp
    add di, L_TMP
    mov ecx, ss
    shl ecx, 4
    add edi, ecx
    mov ecx, 4
    call dma_read
    mov eax, [bp + L_TMP]
    pop ecx
    pop edi
    ret

; fw_cfg DMA read: AX = key, ECX = length, EDI = physical destination. The device does the
; whole transfer when the low half of the address register is written; the loop below only
; waits for the control word to show completion (0, or the error bit).
dma_read:
    push eax
    push ebx
    push edx
    movzx eax, ax
    shl eax, 16
    or eax, DMA_CTL_SELECT | DMA_CTL_READ
    bswap eax
    mov [bp + L_DMA], eax           ; be32 control: key << 16 | SELECT | READ
    mov eax, ecx
    bswap eax
    mov [bp + L_DMA + 4], eax       ; be32 length
    mov dword [bp + L_DMA + 8], 0   ; be64 address: high half
    mov eax, edi
    bswap eax
    mov [bp + L_DMA + 12], eax      ;                low half
    xor ebx, ebx
    mov bx, bp
    add bx, L_DMA
    mov eax, ss
    shl eax, 4
    add ebx, eax                    ; physical address of the FWCfgDmaAccess
    xor eax, eax
    mov dx, FW_CFG_PORT_DMA_HI
    out dx, eax
    mov eax, ebx
    bswap eax
    mov dx, FW_CFG_PORT_DMA_LO
    out dx, eax
.wait:
    mov eax, [bp + L_DMA]
    bswap eax
    test eax, ~DMA_CTL_ERROR
    jnz .wait
    test eax, DMA_CTL_ERROR
    jnz .error
    pop edx
    pop ebx
    pop eax
    ret
.error:
    mov si, msg_dma_error
    jmp fail

; Prints DS:SI through INT 10h and returns to the firmware from the BEV.
fail:
    push cs
    pop ds
.print:
    lodsb
    test al, al
    jz .back
    mov ah, 0x0E
    mov bx, 0x0007
    int 0x10
    jmp .print
.back:
    mov sp, bp
    pop bx                      ; the firmware's SS:SP
    pop ax
    mov ss, ax
    mov sp, bx
    pop es
    pop ds
    popad
    sti
    retf

msg_no_dma:    db 'lift86 linuxboot: fw_cfg has no DMA interface', 13, 10, 0
msg_dma_error: db 'lift86 linuxboot: fw_cfg DMA transfer failed', 13, 10, 0
msg_initrd:    db 'lift86 linuxboot: the initrd does not fit below the firmware', 13, 10, 0
