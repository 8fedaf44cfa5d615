# Real mode, no symbols: gdb picks i8086 from the stub's target description; breakpoints and
# watchpoints are linear addresses (CS*16+IP).
target remote :@PORT@
show architecture
info registers eip cs
x/3i 0x7c00
break *0x7c20
continue
stepi
info registers eax eip
watch *(short *)0x600
continue
p/x *(short *)0x600
delete
break *0x7c60
continue
info registers eip cs
monitor regs
continue
