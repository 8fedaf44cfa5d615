# detach: the breakpoints go away and the guest runs on to its end.
target remote :@PORT@
break add
break report_magic
continue
detach
