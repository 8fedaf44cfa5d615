target remote :@PORT@
watch counter
continue
continue
continue
delete
continue
