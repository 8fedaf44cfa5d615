# `set var` writes guest memory; the guest prints what gdb wrote.
target remote :@PORT@
break report_magic
continue
p magic
set var magic = 4321
p magic
x/dw &magic
continue
