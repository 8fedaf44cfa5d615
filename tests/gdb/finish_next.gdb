# finish, then next over a call (gdb range-steps with vCont;r and steps over rt_printf).
target remote :@PORT@
break add
continue
finish
next
next
