# Ctrl-C while the guest runs: gdb's async mode, `continue &` then `interrupt`.
target remote :@PORT@
set var want_spin = 1
continue &
#pause 1
interrupt
#pause 1
p spins > 0
bt 1
set var go = 1
continue
