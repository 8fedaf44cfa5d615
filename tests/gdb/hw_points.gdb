# Hardware breakpoints (Z1), access (Z4) and read (Z3) watchpoints.
target remote :@PORT@
awatch magic
continue
bt 1
delete
hbreak read_peek
continue
rwatch peek
continue
delete
continue
