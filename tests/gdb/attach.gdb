# -S: gdb finds the guest before its first instruction, registers and memory as the loader left them.
target remote :@PORT@
info symbol $pc
p $pc == _start
info registers
x/4xw 0x100000
p/x $cr0
monitor help
monitor regs
monitor stats
monitor xp 0x100000 10
monitor walk 0x100000
monitor tlb
monitor bogus
