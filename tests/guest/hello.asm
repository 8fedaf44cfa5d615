%include "lift86.inc"
test_main:
    PUTS "before", 10
    TRY .o, .o_done, "mov cr4, reserved bit 11"
    mov eax, cr4
    or eax, 1 << 11
.o: mov cr4, eax
    NOFAULT
.o_done:
    PUTS "after", 10
    mov eax, cr4
    HEX32 eax
    NL
    ret
