target remote :@PORT@
break add
continue
set $before = $pc
stepi
p $pc != $before
x/2i $before
p $_ == $pc
stepi 4
p $pc - $before > 4
stepi
stepi
stepi
stepi
# back in main after the RET: stepping crossed a function boundary
bt 1
