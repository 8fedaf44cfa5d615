; The initrd that tests/guest/fake_bzimage.asm hashes: a first line it prints, then ~100 KB of
; a byte pattern (not a multiple of the page size, so the loader's rounding shows).
    db 'lift86 fake initrd', 10
%assign i 0
%rep 100000
    db (i * 7 + i / 251) & 0xFF
%assign i i + 1
%endrep
