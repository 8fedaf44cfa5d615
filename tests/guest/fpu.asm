; fpu.asm -- the x87 FPU, printing raw 80-bit results as "SEEE:MMMMMMMMMMMMMMMM" (sign and
; exponent word, then the 64-bit significand with its explicit integer bit).
;
; 1. 1/3 and -2/3 under every precision control (24/53/64 bits) and rounding control
;    (SDM vol.1 8.1.5.2, 8.1.5.3, 4.8.4); C1 tells whether the significand was rounded up (8.1.3.1).
; 2. Arithmetic edge cases with the masked responses of vol.1 4.9.1 and 8.5: invalid (QNaN
;    indefinite FFFF:C000000000000000), divide by zero, overflow, underflow, denormal operand,
;    stack overflow/underflow (8.5.1.1: IE+SF, C1 = 1 on overflow), SNaN quieting and the x87
;    NaN choice (table 4-7: the larger significand wins), FPREM/FPREM1 quotient bits in C0/C3/C1,
;    FRNDINT in each rounding mode, FXTRACT, FSCALE, FSQRT.
; 3. Comparisons: FCOM/FUCOM condition codes, FCOMI/FUCOMI EFLAGS (vol.2, table 3-xx), FTST, FXAM.
; 4. Integer and packed-BCD conversions: FILD, FIST(P) rounding and the integer indefinite on
;    overflow, FBLD, FBSTP including the BCD indefinite (vol.1 4.7, 8.5.1).
; 5. Saved-state layouts: FSTENV (28 bytes, 32-bit protected mode, vol.1 figure 8-9) with FIP,
;    FCS, FOP, FDP, FDS and the full tag word; FSAVE (108 bytes) and the FNINIT it implies;
;    FRSTOR; FXSAVE (vol.2 FXSAVE table) with the abridged tag byte; FXRSTOR.
; 6. Constants (FLDPI etc., rounded by RC on P6: vol.1 8.3.7) and transcendentals (FSIN, FCOS,
;    FSINCOS, FPTAN, FPATAN, F2XM1, FYL2X, FYL2XP1; FSIN of |x| >= 2^63 sets C2 and leaves ST0).
;
; fpu.expected is the output of this very program run on real x87 silicon: tools/host_run.sh
; builds it with -DLIFT86_HOST as a Linux i386 process (the host here: an AMD EPYC) and its output
; was kept, with three edits for what differs between that process and the guest: FCS/FDS in the
; FSTENV/FSAVE images are the guest's selectors 0008/0010 (not 0023/002b), and the FXSAVE line
; holds FOP/FIP/FCS/FDP/FDS as the SDM specifies for the P6 (vol.2 FXSAVE), where AMD stores
; zeros unless an exception is pending. The transcendental results (section 6) are the AMD's;
; Intel x87 hardware may differ in the last bit.
; QEMU 7.2 TCG departs from the hardware in many places (fpu.qemu.expected):
;   - C1 is never set for a rounded-up result (precision, FRNDINT, FIST, FBSTP, overflow lines).
;   - FSQRT of a negative number also sets C2.
;   - FLD m32 of a denormal does not raise DE.
;   - x87 stack overflow and underflow are not detected (no IE/SF, no QNaN indefinite).
;   - FPREM1 reports the wrong quotient bits (C0 for quotient 4).
;   - FSTENV/FSAVE store FOP as 0 and FSTENV does not mask the exceptions afterwards.
;   - FXSAVE stores FIP/FCS/FDP/FDS as 0 and leaves the FOP bytes unwritten.
;   - FSIN/FCOS/FSINCOS/FPTAN are computed in double precision (low bits differ, no PE/C1).

%include "lift86.inc"

test_main:
%ifndef LIFT86_HOST
    mov eax, cr0
    and eax, ~((1 << 2) | (1 << 3))  ; EM=0 TS=0
    or eax, (1 << 1) | (1 << 5)      ; MP=1 NE=1
    mov cr0, eax
%endif
    call t_precision
    call t_arith
    call t_compare
    call t_convert
    call t_layouts
    call t_transcendental
    fninit
    ret

; ---------------------------------------------------------------- helpers
put_f80:                            ; ESI -> 10 bytes
    push eax
    movzx eax, word [esi + 8]
    HEX16 eax
    PUTS ":"
    HEX32 [esi + 4]
    HEX32 [esi]
    pop eax
    ret

; res: prints " ST0 fsw=XXXX" (FSW & 47FFh: condition codes, ES, SF, exception flags) and pops
res:
    push eax
    push esi
    fnstsw ax
    fstp tword [f80_tmp]
    PUTS " "
    mov esi, f80_tmp
    call put_f80
    and eax, 0x47FF
    PUTS " fsw="
    HEX16 eax
    NL
    pop esi
    pop eax
    ret

; show_st0: prints ST0 without popping
show_st0:
    push esi
    fld st0
    fstp tword [f80_tmp]
    mov esi, f80_tmp
    call put_f80
    pop esi
    ret

show_fsw:                              ; prints " fsw=XXXX" (masked as in res)
    push eax
    fnstsw ax
    and eax, 0x47FF
    PUTS " fsw="
    HEX16 eax
    pop eax
    ret

%macro CW 1
    mov word [cw_tmp], %1
    fldcw [cw_tmp]
%endmacro

; ---------------------------------------------------------------- 1. precision x rounding
%macro PREC_CASE 3                  ; control word, precision text, rounding text
    fninit
    CW %1
    PUTS %2, " ", %3, ": 1/3="
    fld1
    fld dword [f_three]
    fdivp st1, st0
    fnstsw [sw_tmp]
    call show_st0
    PUTS " fsw="
    movzx eax, word [sw_tmp]
    and eax, 0x47FF
    HEX16 eax
    fstp st0
    fnclex
    PUTS " -2/3="
    fld dword [f_mtwo]
    fld dword [f_three]
    fdivp st1, st0
    call res
%endmacro

t_precision:
    PUTS "== precision and rounding control", 10
%assign pc 0
%rep 3
%assign rc 0
%rep 4
%if pc == 0
%define PCT "pc24"
%assign pcv 0
%elif pc == 1
%define PCT "pc53"
%assign pcv 2
%else
%define PCT "pc64"
%assign pcv 3
%endif
%if rc == 0
%define RCT "nearest"
%elif rc == 1
%define RCT "down   "
%elif rc == 2
%define RCT "up     "
%else
%define RCT "chop   "
%endif
    PREC_CASE (0x007F | (pcv << 8) | (rc << 10)), PCT, RCT
%assign rc rc+1
%endrep
%assign pc pc+1
%endrep
    ; precision control does not apply to FSQRT's exponent range, but it rounds its significand
    fninit
    CW 0x007F
    PUTS "pc24 sqrt(2)="
    fld1
    fadd st0, st0
    fsqrt
    call res
    ret

; ---------------------------------------------------------------- 2. arithmetic
%macro FRND 3                       ; control word, text, value label (dword float)
    fninit
    CW %1
    PUTS "frndint ", %2, " "
    fld dword [%3]
    frndint
    call res
%endmacro

t_arith:
    PUTS "== arithmetic and masked exceptions", 10
    fninit
    PUTS "sqrt(2)="
    fld1
    fadd st0, st0
    fsqrt
    call res
    fninit
    PUTS "max*max (overflow)="
    fld tword [t_max]
    fmul st0, st0
    call res
    fninit
    PUTS "minnorm*0.5 (denormal result, underflow)="
    fld tword [t_minnorm]
    fmul dword [f_half]
    call res
    fninit
    PUTS "minnorm*minnorm (underflow to 0)="
    fld tword [t_minnorm]
    fmul st0, st0
    call res
    fninit
    PUTS "0/0="
    fldz
    fldz
    fdivp st1, st0
    call res
    fninit
    PUTS "1/0="
    fld1
    fldz
    fdivp st1, st0
    call res
    fninit
    PUTS "-1/0="
    fld1
    fchs
    fldz
    fdivp st1, st0
    call res
    fninit
    PUTS "sqrt(-1)="
    fld1
    fchs
    fsqrt
    call res
    fninit
    PUTS "inf-inf="
    fld tword [t_inf]
    fld tword [t_inf]
    fsubp st1, st0
    call res
    fninit
    PUTS "denormal single operand="
    fld dword [f_denorm]
    call res
    fninit
    PUTS "SNaN single loaded="
    fld dword [f_snan]
    call res
    fninit
    PUTS "QNaN ...01 + QNaN ...02="
    fld tword [t_qnan1]
    fld tword [t_qnan2]
    faddp st1, st0
    call res
    fninit
    PUTS "stack overflow (9 pushes)="
%rep 9
    fld1
%endrep
    call res
    fninit
    PUTS "stack underflow (st1 empty)="
    fld1
    fadd st0, st1
    call res
    fninit
    PUTS "fprem 10,3="
    fld dword [f_three]
    fld dword [f_ten]
    fprem
    call res
    fninit
    PUTS "fprem1 11,3="
    fld dword [f_three]
    fld dword [f_eleven]
    fprem1
    call res
    fninit
    PUTS "fprem 11,-3="
    fld dword [f_mthree]
    fld dword [f_eleven]
    fprem
    call res
    fninit
    PUTS "fxtract 10: significand="
    fld dword [f_ten]
    fxtract
    call show_st0
    fstp st0
    PUTS " exponent="
    call res
    fninit
    PUTS "fscale 1.5*2^4="
    fld dword [f_four]
    fld dword [f_onehalf]
    fscale
    call res
    fninit
    PUTS "fabs(-1.5) fchs="
    fld dword [f_onehalf]
    fchs
    fabs
    fchs
    call res
    FRND 0x037F, "nearest  2.5", f_2p5
    FRND 0x037F, "nearest  3.5", f_3p5
    FRND 0x037F, "nearest -2.5", f_m2p5
    FRND 0x077F, "down    -2.5", f_m2p5
    FRND 0x0B7F, "up      -2.5", f_m2p5
    FRND 0x0F7F, "chop    -2.5", f_m2p5
    FRND 0x0B7F, "up       2.5", f_2p5
    ret

; ---------------------------------------------------------------- 3. comparisons
%macro FCOM_CASE 3                  ; text, st0 value label (tword), source label (tword)
    fninit
    PUTS %1, ": "
    fld tword [%3]
    fld tword [%2]
    fcomp st1
    call show_fsw
    fninit
    fld tword [%3]
    fld tword [%2]
    fucomp st1
    PUTS " (fucom:"
    call show_fsw
    fninit
    fld tword [%3]
    fld tword [%2]
    fcomi st0, st1
    pushfd
    pop eax
    and eax, 0x8D5
    PUTS ") fcomi eflags="
    HEX16 eax
    call show_fsw
    fninit
    fld tword [%3]
    fld tword [%2]
    fucomi st0, st1
    pushfd
    pop eax
    and eax, 0x8D5
    PUTS " fucomi eflags="
    HEX16 eax
    call show_fsw
    NL
%endmacro

%macro FXAM_CASE 2                  ; text, tword label
    fninit
    PUTS "fxam ", %1, ":"
    fld tword [%2]
    fxam
    call show_fsw
    NL
%endmacro

t_compare:
    PUTS "== comparisons", 10
    FCOM_CASE "1 vs 2", t_one, t_two
    FCOM_CASE "2 vs 1", t_two, t_one
    FCOM_CASE "1 vs 1", t_one, t_one
    FCOM_CASE "+0 vs -0", t_zero, t_mzero
    FCOM_CASE "1 vs QNaN", t_one, t_qnan1
    FCOM_CASE "-inf vs 1", t_minf, t_one
    fninit
    PUTS "ftst -2:"
    fld dword [f_mtwo]
    ftst
    call show_fsw
    NL
    FXAM_CASE "+0", t_zero
    FXAM_CASE "-0", t_mzero
    FXAM_CASE "1", t_one
    FXAM_CASE "-inf", t_minf
    FXAM_CASE "QNaN", t_qnan1
    FXAM_CASE "denormal", t_denorm
    FXAM_CASE "unnormal", t_unnormal
    fninit
    PUTS "fxam empty:"
    fld1
    ffree st0
    fxam
    call show_fsw
    NL
    ret

; ---------------------------------------------------------------- 4. conversions
%macro FIST_CASE 3                  ; control word, text, dword float label
    fninit
    CW %1
    fld dword [%3]
    mov dword [i32_tmp], 0xCCCCCCCC
    fistp dword [i32_tmp]
    PUTS "fistp ", %2, " -> "
    HEX32 [i32_tmp]
    call show_fsw
    NL
%endmacro

put_bcd:                            ; 10 bytes at ESI, most significant first
    push eax
    push ecx
    mov ecx, 9
.l: movzx eax, byte [esi + ecx]
    HEX8 eax
    dec ecx
    jns .l
    pop ecx
    pop eax
    ret

t_convert:
    PUTS "== integer and BCD conversions", 10
    fninit
    PUTS "fild dword -123456789="
    fild dword [i_m123]
    call res
    PUTS "fild qword 7fffffffffffffff="
    fild qword [q_max]
    call res
    FIST_CASE 0x037F, "nearest  2.5", f_2p5
    FIST_CASE 0x037F, "nearest  3.5", f_3p5
    FIST_CASE 0x037F, "nearest -2.5", f_m2p5
    FIST_CASE 0x077F, "down     2.5", f_2p5
    FIST_CASE 0x077F, "down    -2.5", f_m2p5
    FIST_CASE 0x0B7F, "up       2.5", f_2p5
    FIST_CASE 0x0F7F, "chop    -3.5", f_m3p5
    FIST_CASE 0x037F, "1e10 (overflow)", f_1e10
    fninit
    fld dword [f_40000]
    mov word [i32_tmp], 0x1111
    fistp word [i32_tmp]
    PUTS "fistp word 40000 -> "
    HEX16 [i32_tmp]
    call show_fsw
    NL
    fninit
    fild qword [q_min]
    fistp qword [q_tmp]
    PUTS "fistp qword -2^63 -> "
    HEX32 [q_tmp + 4]
    HEX32 [q_tmp]
    call show_fsw
    NL
    fninit
    fild qword [q_bcd]
    fbstp [bcd_tmp]
    PUTS "fbstp 123456789012345678 -> "
    mov esi, bcd_tmp
    call put_bcd
    call show_fsw
    NL
    fninit
    fld dword [f_m9p5]
    fbstp [bcd_tmp]
    PUTS "fbstp -9.5 -> "
    mov esi, bcd_tmp
    call put_bcd
    call show_fsw
    NL
    fninit
    fld dword [f_1e19]
    fbstp [bcd_tmp]
    PUTS "fbstp 1e19 (overflow) -> "
    mov esi, bcd_tmp
    call put_bcd
    call show_fsw
    NL
    fninit
    PUTS "fbld -987654321="
    fbld [bcd_in]
    call res
    ret

; ---------------------------------------------------------------- 5. saved-state layouts
; a fixed state: CW 027Bh (PC=53, ZM unmasked), R7=1.0, R6=+0, R5=2.5 from FADD m32 (the last
; non-control instruction: FIP, FOP = 005h (D8 /0 with ModRM 05h), FDP = f_half)
make_state:
    fninit
    CW 0x027B
    fld1
    fldz
    fld tword [t_two]
.last_op:
    fadd dword [f_half]
    ret

print_env:                          ; ESI -> 28-byte protected-mode environment
    PUTS "  fcw="
    HEX16 [esi]
    PUTS " fsw="
    HEX16 [esi + 4]
    PUTS " ftw="
    HEX16 [esi + 8]
    PUTS " fip=last_op+"
    mov eax, [esi + 12]
    sub eax, make_state.last_op
    HEX32 eax
    PUTS " fcs="
    HEX16 [esi + 16]
    PUTS " fop="
    mov eax, [esi + 16]
    shr eax, 16
    and eax, 0x7FF
    HEX16 eax
    PUTS " fdp=f_half+"
    mov eax, [esi + 20]
    sub eax, f_half
    HEX32 eax
    PUTS " fds="
    HEX16 [esi + 24]
    NL
    ret

t_layouts:
    PUTS "== FSTENV / FSAVE / FRSTOR / FXSAVE / FXRSTOR", 10
    call make_state
    mov edi, env_buf
    mov ecx, 128/4
    mov eax, 0xA5A5A5A5
    rep stosd
    fnstenv [env_buf]
    PUTS "fstenv:", 10
    mov esi, env_buf
    call print_env
    PUTS "  fcw after fstenv (exceptions masked)="
    fnstcw [cw_tmp]
    HEX16 [cw_tmp]
    NL
    call make_state
    fnsave [env_buf]
    PUTS "fsave:", 10
    mov esi, env_buf
    call print_env
    PUTS "  st0="
    mov esi, env_buf + 28
    call put_f80
    PUTS " st1="
    mov esi, env_buf + 38
    call put_f80
    PUTS " st2="
    mov esi, env_buf + 48
    call put_f80
    NL
    PUTS "  after fsave: fcw="
    fnstcw [cw_tmp]
    HEX16 [cw_tmp]
    PUTS " ftw="
    fnstenv [env2_buf]
    HEX16 [env2_buf + 8]
    NL
    frstor [env_buf]
    PUTS "frstor: fcw="
    fnstcw [cw_tmp]
    HEX16 [cw_tmp]
    PUTS " st0="
    call show_st0
    fxch st2
    PUTS " st2="
    call show_st0
    call show_fsw
    NL

    call make_state
    mov edi, fx_buf
    mov ecx, 512/4
    mov eax, 0xA5A5A5A5
    rep stosd
    fxsave [fx_buf]
    PUTS "fxsave: fcw="
    HEX16 [fx_buf]
    PUTS " fsw="
    HEX16 [fx_buf + 2]
    PUTS " abridged ftw="
    HEX8 [fx_buf + 4]
    PUTS " fop="
    HEX16 [fx_buf + 6]
    PUTS " fip=last_op+"
    mov eax, [fx_buf + 8]
    sub eax, make_state.last_op
    HEX32 eax
    PUTS " fcs="
    HEX16 [fx_buf + 12]
    PUTS " fdp=f_half+"
    mov eax, [fx_buf + 16]
    sub eax, f_half
    HEX32 eax
    PUTS " fds="
    HEX16 [fx_buf + 20]
    NL
    PUTS "  st0="
    mov esi, fx_buf + 32
    call put_f80
    PUTS " st1="
    mov esi, fx_buf + 48
    call put_f80
    PUTS " st2="
    mov esi, fx_buf + 64
    call put_f80
    NL
    fninit
    fxrstor [fx_buf]
    PUTS "fxrstor: fcw="
    fnstcw [cw_tmp]
    HEX16 [cw_tmp]
    PUTS " ftw="
    fnstenv [env2_buf]
    HEX16 [env2_buf + 8]
    PUTS " st0="
    call show_st0
    NL
    ret

; ---------------------------------------------------------------- 6. constants, transcendentals
%macro CONST_CASE 2                 ; instruction, text
    PUTS %2
    fninit
    %1
    call show_st0
    fninit
    CW 0x077F
    %1
    PUTS " down="
    call show_st0
    fninit
    CW 0x0B7F
    %1
    PUTS " up="
    call show_st0
    NL
%endmacro

%macro TRANS1 3                     ; instruction, text, tword operand label
    fninit
    PUTS %2, "="
    fld tword [%3]
    %1
    call res
%endmacro

t_transcendental:
    PUTS "== constants (nearest, down, up)", 10
    CONST_CASE fldpi, "fldpi "
    CONST_CASE fldl2e, "fldl2e"
    CONST_CASE fldl2t, "fldl2t"
    CONST_CASE fldlg2, "fldlg2"
    CONST_CASE fldln2, "fldln2"
    PUTS "== transcendentals", 10
    TRANS1 fsin, "fsin(1)", t_one
    TRANS1 fcos, "fcos(1)", t_one
    TRANS1 fsin, "fsin(0.5)", t_half
    TRANS1 fcos, "fcos(-0.5)", t_mhalf
    TRANS1 f2xm1, "f2xm1(0.5)", t_half
    TRANS1 f2xm1, "f2xm1(-0.5)", t_mhalf
    fninit
    PUTS "fsincos(0.5): sin="
    fld tword [t_half]
    fsincos
    fxch st1
    call show_st0
    fstp st0
    PUTS " cos="
    call res
    fninit
    PUTS "fptan(0.5): pushed="
    fld tword [t_half]
    fptan
    call show_st0
    fstp st0
    PUTS " tan="
    call res
    fninit
    PUTS "fpatan(1/1)="
    fld1
    fld1
    fpatan
    call res
    fninit
    PUTS "fpatan(0.5/-2)="
    fld tword [t_half]
    fld dword [f_mtwo]
    fpatan
    call res
    fninit
    PUTS "fyl2x(1*log2 3)="
    fld1
    fld dword [f_three]
    fyl2x
    call res
    fninit
    PUTS "fyl2x(-0.5*log2 10)="
    fld tword [t_mhalf]
    fld dword [f_ten]
    fyl2x
    call res
    fninit
    PUTS "fyl2xp1(1*log2 1.25)="
    fld1
    fld dword [f_quarter]
    fyl2xp1
    call res
    fninit
    PUTS "fsin(2^64) (out of range)="
    fld tword [t_2p64]
    fsin
    call res
    ret

section .data
align 4
f_three:   dd 3.0
f_mthree:  dd -3.0
f_mtwo:    dd -2.0
f_half:    dd 0.5
f_quarter: dd 0.25
f_four:    dd 4.0
f_ten:     dd 10.0
f_eleven:  dd 11.0
f_onehalf: dd 1.5
f_2p5:     dd 2.5
f_3p5:     dd 3.5
f_m2p5:    dd -2.5
f_m3p5:    dd -3.5
f_m9p5:    dd -9.5
f_1e10:    dd 1.0e10
f_1e19:    dd 1.0e19
f_40000:   dd 40000.0
f_denorm:  dd 0x00000001            ; smallest single denormal
f_snan:    dd 0x7F800001            ; single SNaN
i_m123:    dd -123456789
align 8
q_max:     dq 0x7FFFFFFFFFFFFFFF
q_min:     dq 0x8000000000000000
q_bcd:     dq 123456789012345678
bcd_in:    db 0x21, 0x43, 0x65, 0x87, 0x09, 0, 0, 0, 0, 0x80      ; -987654321
%macro T80 2                        ; sign/exponent word, significand
    dq %2
    dw %1
%endmacro
t_one:      T80 0x3FFF, 0x8000000000000000
t_two:      T80 0x4000, 0x8000000000000000
t_half:     T80 0x3FFE, 0x8000000000000000
t_mhalf:    T80 0xBFFE, 0x8000000000000000
t_zero:     T80 0x0000, 0
t_mzero:    T80 0x8000, 0
t_inf:      T80 0x7FFF, 0x8000000000000000
t_minf:     T80 0xFFFF, 0x8000000000000000
t_max:      T80 0x7FFE, 0xFFFFFFFFFFFFFFFF
t_minnorm:  T80 0x0001, 0x8000000000000000
t_denorm:   T80 0x0000, 0x0000000000000001
t_unnormal: T80 0x3FFF, 0x4000000000000000   ; integer bit clear: an unsupported format
t_qnan1:    T80 0x7FFF, 0xC000000000000001
t_qnan2:    T80 0x7FFF, 0xC000000000000002
t_2p64:     T80 0x403F, 0x8000000000000000

section .bss
alignb 16
fx_buf: resb 512
env_buf: resb 128
env2_buf: resb 32
f80_tmp: resb 16
q_tmp: resq 1
bcd_tmp: resb 16
i32_tmp: resd 1
cw_tmp: resw 1
sw_tmp: resw 1
