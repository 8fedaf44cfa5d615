; crt0 for freestanding C guest programs: the library's multiboot entry, GDT, IDT, TSS and PIC
; set-up (lift86.inc), then `int main(void)`; main's return value goes to isa-debug-exit.
%include "lift86.inc"

extern main
global guest_exit

test_main:
    call main
    jmp exit                        ; AL = main's return value

; void guest_exit(int status)
guest_exit:
    mov eax, [esp + 4]
    jmp exit
