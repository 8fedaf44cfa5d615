// Runtime for freestanding C guest test programs (gcc -m32 -ffreestanding, linked with crt0.o).
// Output goes to the debug console, port 0xE9, one OUT per byte; guest_exit() writes the status
// to isa-debug-exit (port 0xF4): 0 means pass.
#pragma once
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) {
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

void rt_putc(char c);
void rt_puts(const char* s);
// printf subset: %c %s %d %u %x %X %p %%, flags '0' '-', width, length modifiers l and ll.
void rt_printf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void rt_vprintf(const char* fmt, va_list ap);
// Prints the 10 bytes of an x87 80-bit value as sign/exponent word then mantissa: "4000:c90fdaa22168c235".
void rt_print_f80(const void* p);
__attribute__((noreturn)) void guest_exit(int status);

void* memcpy(void* dst, const void* src, size_t n);
void* memmove(void* dst, const void* src, size_t n);
void* memset(void* dst, int c, size_t n);
int memcmp(const void* a, const void* b, size_t n);
size_t strlen(const char* s);
