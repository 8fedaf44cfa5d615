// gdbtest.c -- the guest that tests/gdb drives with the real gdb. Built with -g -O0 so that gdb
// sees every variable and line; linked with tests/guest/lib's crt0 and runtime. Lines the tests
// look for carry a marker comment (WATCH-LINE, ...): the test scripts refer to the markers, never
// to line numbers.
#include "rt.h"

volatile int counter;              // `watch counter`
volatile int bumped;
volatile int magic = 1234;         // `set var magic = ...`, printed afterwards
// The interrupt test sets it before the guest runs (so in .data: crt0 clears .bss at start-up);
// the guest then spins until gdb sets `go`.
__attribute__((section(".data"))) volatile int want_spin;
volatile int go;
volatile unsigned spins;
volatile int peek;                 // rwatch / awatch target
unsigned total;

int add(int a, int b) {
    int s = a + b;
    return s;
}

void bump(void) {
    counter = counter + 1; bumped = bumped + 1;   /* WATCH-LINE */
}

void checkpoint(int i) {
    (void)i;
}

void hot(int i) {
    total += i;
}

void report_magic(void) {
    rt_printf("magic=%d\n", magic);
}

int read_peek(void) {
    int v = peek; v = v + 0;   /* READ-LINE */
    return v;
}

static void spin_until_go(void) {
    while (!go) spins++;   /* SPIN-LINE */
}

// ---- paging: identity-map the first 8 MiB with 4 MiB pages and map one 4 KiB page at
// 0xC0000000 onto `high_data`; 0xD0000000 stays unmapped (gdb must say it cannot read it).
static uint32_t page_dir[1024] __attribute__((aligned(4096)));
static uint32_t page_table[1024] __attribute__((aligned(4096)));
static uint32_t high_data[1024] __attribute__((aligned(4096)));

void paging_on(void) {
}

static void enable_paging(void) {
    high_data[0] = 0xfeedface;
    high_data[1] = 0x12345678;
    page_dir[0] = 0x00000083;                  // 0-4 MiB: P, RW, PS
    page_dir[1] = 0x00400083;                  // 4-8 MiB
    page_table[0] = (uint32_t)high_data | 3;   // 0xC0000000 -> high_data: P, RW
    page_dir[0xC0000000u >> 22] = (uint32_t)page_table | 3;
    __asm__ volatile("mov %%cr4, %%eax; or $0x10, %%eax; mov %%eax, %%cr4\n\t"   // CR4.PSE
                     "mov %0, %%cr3\n\t"
                     "mov %%cr0, %%eax; or $0x80000000, %%eax; mov %%eax, %%cr0"   // CR0.PG
                     : : "r"(page_dir) : "eax", "memory");
}

int main(void) {
    rt_printf("gdbtest: start\n");
    int s = add(2, 3);
    rt_printf("add=%d\n", s);   /* AFTER-ADD */
    for (int i = 0; i < 3; i++) bump();
    rt_printf("counter=%d\n", counter);
    for (int i = 0; i < 200000; i++) {
        if (i == 100000) checkpoint(i);
        hot(i);
    }
    rt_printf("total=%u\n", total);
    report_magic();
    rt_printf("peek=%d\n", read_peek());
    if (want_spin) {
        spin_until_go();
        rt_printf("spun\n");
    }
    enable_paging();
    paging_on();
    rt_printf("high=%x\n", *(volatile uint32_t*)0xC0000000u);
    rt_printf("done\n");
    return 0;
}
