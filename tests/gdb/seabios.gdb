# Through the firmware: SeaBIOS starts at the reset vector in real mode, runs its 32-bit part in
# protected mode, and boots realmode.img's boot sector in real mode again.
target remote :@PORT@
info registers eip cs
x/i $cs*16+$pc
monitor regs
break *0x7c20
continue
info registers eip cs
x/i 0x7c20
monitor stats
monitor screendump @WORK@/screen.png
continue
