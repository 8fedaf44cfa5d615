# A breakpoint in code that has already run 100000 times (decoded and cached long ago).
target remote :@PORT@
break checkpoint
continue
p i
monitor stats
break hot
continue
p i
continue
p i
delete
continue
