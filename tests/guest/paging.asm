; paging.asm -- 32-bit 2-level paging (SDM vol.3 chapter 4, "32-bit paging").
;
; Checks, each printing what the CPU wrote or faulted with:
;   - 4 KiB pages through a page table, 4 MiB pages with CR4.PSE (4.3, table 4-4/4-5)
;   - accessed/dirty bits the CPU sets in PDEs and PTEs (4.8): A on any access, D on a write,
;     D in a 4 MiB PDE, no D in a PDE that points to a page table
;   - CR0.WP: a supervisor write to a read-only page succeeds with WP=0 (and sets D), faults
;     with WP=1 (4.6)
;   - access rights are the combination of PDE and PTE (4.6: U/S and R/W of both levels)
;   - reserved bit 21 in a 4 MiB PDE: #PF with RSVD (error code bit 3)
;   - an instruction that straddles into a not-present page faults with CR2 = the page start
;     and EIP = the instruction start
;   - INVLPG, CR3 reload and toggling CR4.PGE (also for global pages) make a changed PTE
;     visible (4.10.4.1). Stale-TLB behaviour before the invalidation is implementation-specific
;     and is never printed.
;
; paging.expected is what the SDM specifies. QEMU 7.2 TCG (paging.qemu.expected) reports the
; reserved-bit fault with error code 0008: it drops P (bit 0), which the SDM (4.7) clears only
; when a P flag in the walk was 0; the entry here is present, so the SDM error code is 0009.

%include "lift86.inc"

V_TEST  equ 0x00C00000              ; PDE 3: page table test_pt
V_4M    equ 0x00400000              ; PDE 1: 4 MiB page, identity
V_ALIAS equ 0x00800000              ; PDE 2: 4 MiB page -> physical 4 MiB
P_A     equ 0x00501000              ; physical frames holding 'AAAA', 'BBBB', 'CCCC'
P_B     equ 0x00502000
P_C     equ 0x00503000
P_AD    equ 0x00500000              ; frame behind V_TEST for the A/D checks

test_main:
    mov edi, P_AD                   ; frames 0x500000-0x505fff start zeroed
    mov ecx, 6*4096/4
    xor eax, eax
    rep stosd
    mov dword [P_A], 'AAAA'
    mov dword [P_B], 'BBBB'
    mov dword [P_C], 'CCCC'
    mov dword [P_AD], 0x12345678
    ; page table 0: identity 0-4 MiB, user read/write
    mov edi, pt0
    mov eax, 0x007
    mov ecx, 1024
.fill:
    stosd
    add eax, 0x1000
    loop .fill
    mov dword [pd + 0*4], pt0 + 0x007
    mov dword [pd + 1*4], V_4M | 0x083          ; PS, RW, P (A=0, D=0)
    mov dword [pd + 2*4], V_4M | 0x087          ; alias of the same 4 MiB, user
    mov dword [pd + 3*4], test_pt + 0x003       ; supervisor, RW, A=0
    mov dword [test_pt + 0*4], P_AD | 0x003     ; V_TEST+0000: RW, A=0, D=0
    mov dword [test_pt + 1*4], P_A | 0x003      ; V_TEST+1000: remapped by the INVLPG checks
    mov dword [test_pt + 2*4], P_AD | 0x001     ; V_TEST+2000: read-only
    mov dword [test_pt + 3*4], P_A | 0x007      ; V_TEST+3000: user RW (but the PDE is supervisor)
    mov dword [test_pt + 4*4], P_A | 0x003      ; V_TEST+4000: present, next page not present
    mov eax, pd
    mov cr3, eax
    mov eax, cr4
    or eax, 1 << 4                              ; PSE
    mov cr4, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    PUTS "paging on", 10

    call t_accessed_dirty
    call t_wp
    call t_combined_rights
    call t_reserved
    call t_straddle
    call t_invalidate
    call t_alias

    mov eax, cr0
    and eax, 0x7FFFFFFF
    mov cr0, eax
    ret

%macro SHOW 2                       ; text, dword: prints "text=XXX" (low 12 bits)
    PUTS %1, "="
    mov eax, %2
    and eax, 0xFFF
    call put_hex_3
%endmacro

put_hex_3:                          ; EAX low 12 bits as 3 hex digits
    push eax
    shr eax, 8
    call put_hex_1
    pop eax
    HEX8 eax
    ret
put_hex_1:
    push eax
    and al, 0x0F
    add al, '0'
    cmp al, '9'
    jbe .o
    add al, 'a' - '9' - 1
.o: call putc
    pop eax
    ret

t_accessed_dirty:
    PUTS "== accessed/dirty", 10
    SHOW "4K: pde", [pd + 3*4]
    SHOW " pte", [test_pt]
    NL
    mov ebx, [V_TEST]
    SHOW "after read: pde", [pd + 3*4]
    SHOW " pte", [test_pt]
    PUTS " value="
    HEX32 ebx
    NL
    mov dword [V_TEST + 0x20], 0x55
    SHOW "after write: pde", [pd + 3*4]
    SHOW " pte", [test_pt]
    NL
    SHOW "4M: pde", [pd + 1*4]
    NL
    mov eax, [V_4M + 0x1000]
    SHOW "after read: pde", [pd + 1*4]
    NL
    mov dword [V_4M + 0x100000 + 0x40], 0x66    ; physical 0x500040: the P_AD frame
    SHOW "after write: pde", [pd + 1*4]
    PUTS " value via 4K map="
    HEX32 [V_TEST + 0x40]
    NL
    ret

t_wp:
    PUTS "== CR0.WP", 10
    TRY .a, .a_done, "WP=0 supervisor write to read-only page"
.a: mov dword [V_TEST + 0x2000 + 0x80], 0x77
    NOFAULT
.a_done:
    SHOW "pte", [test_pt + 2*4]
    NL
    mov eax, cr0
    or eax, 1 << 16
    mov cr0, eax
    TRY .b, .b_done, "WP=1 supervisor write to read-only page"
.b: mov dword [V_TEST + 0x2000 + 0x84], 0x88
    NOFAULT
.b_done:
    mov eax, cr0
    and eax, ~(1 << 16)
    mov cr0, eax
    PUTS "values: "
    HEX32 [V_TEST + 0x80]
    PUTS " "
    HEX32 [V_TEST + 0x84]
    NL
    ret

; user access needs U=1 in the PDE and the PTE; user write needs R/W=1 in both (4.6.1)
t_combined_rights:
    PUTS "== combined PDE/PTE rights", 10
    mov dword [pd + 4*4], pt4 + 0x005           ; PDE 4 (0x01000000): user, read-only
    mov dword [pt4 + 0], 0x00504000 | 0x007     ; its PTEs: user, read/write
    mov dword [pt4 + 4], 0x00505000 | 0x007
    mov eax, cr3
    mov cr3, eax
    RING3 .u
.u:
    TRY .a, .a_done, "cpl3 read, PDE U=0 PTE U=1"
.a: mov eax, [V_TEST + 0x3000]
    NOFAULT
.a_done:
    TRY .b, .b_done, "cpl3 read, PDE U=1 R/W=0, PTE U=1 R/W=1"
.b: mov eax, [0x01000000]
    NOFAULT
.b_done:
    TRY .c, .c_done, "cpl3 write, PDE R/W=0, PTE R/W=1"
.c: mov dword [0x01001000], 1
    NOFAULT
.c_done:
    RING0 .k
.k:
    TRY .d, .d_done, "cpl0 WP=0 write, PDE R/W=0"
.d: mov dword [0x01001004], 2
    NOFAULT
.d_done:
    ret

t_reserved:
    PUTS "== reserved bit", 10
    mov dword [pd + 5*4], 0x01400000 | (1 << 21) | 0x083      ; 4 MiB PDE with bit 21 set
    TRY .a, .a_done, "read through 4M PDE with bit 21 set"
.a: mov eax, [0x01400000 + 0x10]
    NOFAULT
.a_done:
    mov dword [pd + 5*4], 0xFFFFFFFE            ; not present: the other bits are ignored
    TRY .b, .b_done, "read through not-present PDE with junk"
.b: mov eax, [0x01400000 + 0x10]
    NOFAULT
.b_done:
    mov dword [pd + 5*4], 0
    ret

; a 5-byte MOV EAX,imm32 starting 2 bytes before a page whose PTE is not present
t_straddle:
    PUTS "== instruction crossing into a not-present page", 10
    mov edi, V_TEST + 0x5000 - 2
    mov byte [edi], 0xB8
    mov byte [edi + 1], 0x11
    TRY V_TEST + 0x5000 - 2, .a_done, "fetch"
    mov eax, 0
    jmp V_TEST + 0x5000 - 2
.a_done:
    PUTS "eax="
    HEX32 eax
    NL
    ; now map the next page and run it: the immediate's last 3 bytes come from P_B
    mov dword [test_pt + 5*4], P_B | 0x003
    mov dword [V_TEST + 0x5000], 0xC3EEDDCC   ; imm bytes CC DD EE, then RET
    call V_TEST + 0x5000 - 2
    PUTS "after mapping: eax="
    HEX32 eax
    NL
    mov dword [test_pt + 5*4], 0
    invlpg [V_TEST + 0x5000]
    mov dword [P_B], 'BBBB'
    ret

%macro READ4 1                      ; prints the 4 ASCII bytes at [%1]
    mov eax, [%1]
    call putc
    shr eax, 8
    call putc
    shr eax, 8
    call putc
    shr eax, 8
    call putc
%endmacro

t_invalidate:
    PUTS "== invalidation", 10
    PUTS "V+1000 -> "
    READ4 V_TEST + 0x1000
    mov dword [test_pt + 1*4], P_B | 0x003
    invlpg [V_TEST + 0x1000]
    PUTS ", after PTE change + invlpg -> "
    READ4 V_TEST + 0x1000
    mov dword [test_pt + 1*4], P_C | 0x003
    mov eax, cr3
    mov cr3, eax
    PUTS ", after PTE change + cr3 reload -> "
    READ4 V_TEST + 0x1000
    NL
    ; global pages (CR4.PGE, PTE bit 8): invlpg and a CR4.PGE toggle flush them
    mov eax, cr4
    or eax, 1 << 7
    mov cr4, eax
    mov dword [test_pt + 1*4], P_A | 0x103
    invlpg [V_TEST + 0x1000]
    PUTS "global: "
    READ4 V_TEST + 0x1000
    mov dword [test_pt + 1*4], P_B | 0x103
    invlpg [V_TEST + 0x1000]
    PUTS ", after change + invlpg -> "
    READ4 V_TEST + 0x1000
    mov dword [test_pt + 1*4], P_C | 0x103
    mov eax, cr4
    and eax, ~(1 << 7)
    mov cr4, eax
    or eax, 1 << 7
    mov cr4, eax
    PUTS ", after change + PGE toggle -> "
    READ4 V_TEST + 0x1000
    NL
    mov eax, cr4
    and eax, ~(1 << 7)
    mov cr4, eax
    ret

t_alias:
    PUTS "== two linear addresses, one frame", 10
    mov dword [V_ALIAS + 0x1000], 'alia'        ; physical 0x401000
    PUTS "write via 8M alias, read via 4M map: "
    READ4 V_4M + 0x1000
    NL
    SHOW "alias pde", [pd + 2*4]
    SHOW " 4M pde", [pd + 1*4]
    NL
    ret

section .bss
alignb 4096
pd: resb 4096
pt0: resb 4096
test_pt: resb 4096
pt4: resb 4096
