target remote :@PORT@
break add
continue
kill
