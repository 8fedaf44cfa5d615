// Freestanding runtime for C guest programs: see rt.h.
#include "rt.h"

#ifdef LIFT86_HOST
// Host mode (tools/host_run.sh): a Linux i386 process, output through write(2).
void rt_putc(char c) {
    int ret;
    __asm__ volatile("int $0x80" : "=a"(ret) : "0"(4), "b"(1), "c"(&c), "d"(1) : "memory");
    (void)ret;
}
#else
void rt_putc(char c) { outb(0xE9, (uint8_t)c); }
#endif

void rt_puts(const char* s) {
    while (*s) rt_putc(*s++);
}

static void put_padded(const char* digits, int len, int width, char pad, int left, int neg) {
    int total = len + (neg ? 1 : 0);
    if (!left && pad == ' ')
        for (int i = total; i < width; i++) rt_putc(' ');
    if (neg) rt_putc('-');
    if (!left && pad == '0')
        for (int i = total; i < width; i++) rt_putc('0');
    for (int i = 0; i < len; i++) rt_putc(digits[i]);
    if (left)
        for (int i = total; i < width; i++) rt_putc(' ');
}

static int format_u64(char* buf, unsigned long long v, unsigned base, int upper) {
    const char* d = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = d[v % base];
        v /= base;
    } while (v);
    for (int i = 0; i < n; i++) buf[i] = tmp[n - 1 - i];
    return n;
}

void rt_vprintf(const char* fmt, va_list ap) {
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            rt_putc(*fmt);
            continue;
        }
        fmt++;
        int left = 0;
        char pad = ' ';
        for (;; fmt++) {
            if (*fmt == '-') left = 1;
            else if (*fmt == '0') pad = '0';
            else break;
        }
        int width = 0;
        while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
        int lng = 0;
        while (*fmt == 'l') {
            lng++;
            fmt++;
        }
        char buf[24];
        int len;
        switch (*fmt) {
        case 'c':
            buf[0] = (char)va_arg(ap, int);
            put_padded(buf, 1, width, ' ', left, 0);
            break;
        case 's': {
            const char* s = va_arg(ap, const char*);
            put_padded(s, (int)strlen(s), width, ' ', left, 0);
            break;
        }
        case 'd': {
            long long v = lng >= 2 ? va_arg(ap, long long) : va_arg(ap, int);
            unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
            len = format_u64(buf, u, 10, 0);
            put_padded(buf, len, width, pad, left, v < 0);
            break;
        }
        case 'u':
        case 'x':
        case 'X': {
            unsigned long long v = lng >= 2 ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned);
            len = format_u64(buf, v, *fmt == 'u' ? 10 : 16, *fmt == 'X');
            put_padded(buf, len, width, pad, left, 0);
            break;
        }
        case 'p':
            len = format_u64(buf, (uintptr_t)va_arg(ap, void*), 16, 0);
            put_padded(buf, len, 8, '0', 0, 0);
            break;
        case '%':
            rt_putc('%');
            break;
        default:
            rt_putc('%');
            rt_putc(*fmt);
            break;
        }
    }
}

void rt_printf(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    rt_vprintf(fmt, ap);
    va_end(ap);
}

void rt_print_f80(const void* p) {
    const uint8_t* b = (const uint8_t*)p;
    rt_printf("%04x:", (unsigned)(b[8] | b[9] << 8));
    for (int i = 7; i >= 0; i--) rt_printf("%02x", b[i]);
}

void* memcpy(void* dst, const void* src, size_t n) {
    uint8_t* d = dst;
    const uint8_t* s = src;
    while (n--) *d++ = *s++;
    return dst;
}

void* memmove(void* dst, const void* src, size_t n) {
    uint8_t* d = dst;
    const uint8_t* s = src;
    if (d < s) {
        while (n--) *d++ = *s++;
    } else {
        while (n--) d[n] = s[n];
    }
    return dst;
}

void* memset(void* dst, int c, size_t n) {
    uint8_t* d = dst;
    while (n--) *d++ = (uint8_t)c;
    return dst;
}

int memcmp(const void* a, const void* b, size_t n) {
    const uint8_t* x = a;
    const uint8_t* y = b;
    for (; n; n--, x++, y++)
        if (*x != *y) return *x - *y;
    return 0;
}

size_t strlen(const char* s) {
    size_t n = 0;
    while (s[n]) n++;
    return n;
}
