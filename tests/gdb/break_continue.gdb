target remote :@PORT@
break add
continue
info registers eip esp
x/8xw $esp
bt
p a + b
info breakpoints
continue
