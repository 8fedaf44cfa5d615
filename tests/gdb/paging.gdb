# Paging on: gdb's addresses go through the guest page tables; an unmapped one is an error.
target remote :@PORT@
break paging_on
continue
p/x $cr0 & 0x80000001
p/x $cr3 == (unsigned)&page_dir
x/2xw 0xc0000000
x/xw 0xd0000000
monitor walk 0xc0000000
monitor walk 0xd0000000
set var *(unsigned *)0xc0000000 = 0xcafe
continue
