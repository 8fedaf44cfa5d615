// fpu.c -- x87 arithmetic as a C compiler uses it (gcc -m32 -march=i686: x87 code, no SSE).
// Everything is printed as raw bits (doubles as 16 hex digits, long doubles as
// "SEEE:MMMMMMMMMMMMMMMM"), so a wrong rounding in the last bit shows up.
//
// What the compiler emits here and what it tests: FLD/FST/FSTP of float/double/long double
// (rounding on stores, extended-precision intermediates, denormals), FADD/FMUL/FDIV/FSUB(R)
// and the P/R forms, FCOMI/FUCOMI + conditional jumps and FCMOV (-march=i686), FNSTCW/FLDCW
// + FISTP for C casts (truncation), FILD of 64-bit integers and the unsigned fix-up, FCHS/FABS.
//
// fpu_c.expected was generated on QEMU and checked against real silicon: the same source built
// as a Linux i386 process (tools/host_run.sh fpu.c) prints the same text on the host CPU.

#include "rt.h"

static void print_d(const char* name, double d) {
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    rt_printf("%s=%016llx\n", name, (unsigned long long)bits);
}

static void print_ld(const char* name, long double d) {
    rt_printf("%s=", name);
    rt_print_f80(&d);
    rt_putc('\n');
}

static void print_f(const char* name, float f) {
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    rt_printf("%s=%08x\n", name, bits);
}

// Values the optimizer cannot fold: read through a volatile.
static volatile double v_tenth = 0.1, v_three = 3.0, v_two = 2.0, v_big = 1e308, v_tiny = 1e-308;
static volatile float vf_min = 1.17549435e-38f, vf_third = 0.333333343f;
static volatile long double vl_three = 3.0L;
static volatile double v_zero = 0.0;
static volatile double v_neg = -2.75, v_pos = 2.75, v_huge = 3e9, v_m = -1e19;
static volatile uint64_t v_u64 = 0xFEDCBA9876543210ull;
static volatile int64_t v_i64 = -1234567890123456789ll;

static double fsqrt(double x) {
    double r;
    __asm__("fsqrt" : "=t"(r) : "0"(x));
    return r;
}

static int mandel(double cr, double ci, int limit) {
    double zr = 0, zi = 0;
    int n = 0;
    while (n < limit && zr * zr + zi * zi <= 4.0) {
        double t = zr * zr - zi * zi + cr;
        zi = 2.0 * zr * zi + ci;
        zr = t;
        n++;
    }
    return n;
}

int main(void) {
    __asm__ volatile("fninit");
    rt_puts("== rounding on stores\n");
    print_d("double 1/3", 1.0 / v_three);
    print_ld("long double 1/3", 1.0L / vl_three);
    print_f("float 1/3", (float)(1.0 / v_three));
    print_d("0.1*3", v_tenth * 3.0);
    print_d("0.1+0.1+0.1", v_tenth + v_tenth + v_tenth);
    print_d("1e308*10 (inf)", v_big * 10.0);
    print_d("1e-308/1e10 (denormal)", v_tiny / 1e10);
    print_f("FLT_MIN/4 (float denormal)", vf_min / 4.0f);
    print_d("float 1/3 widened", (double)vf_third);

    rt_puts("== sums\n");
    double naive = 0, kahan = 0, c = 0;
    for (int i = 0; i < 10000; i++) {
        double x = v_tenth;
        naive += x;
        double y = x - c;
        double t = kahan + y;
        c = (t - kahan) - y;
        kahan = t;
    }
    print_d("naive sum 10000*0.1", naive);
    print_d("kahan sum 10000*0.1", kahan);
    double h = 0;
    for (int i = 1; i <= 1000; i++) h += 1.0 / i;
    print_d("harmonic(1000)", h);
    long double e = 1, term = 1;
    for (int i = 1; i < 25; i++) {
        term /= i;
        e += term;
    }
    print_ld("e by series (long double)", e);

    rt_puts("== square roots\n");
    double x = 1;
    for (int i = 0; i < 6; i++) x = 0.5 * (x + v_two / x);
    print_d("newton sqrt(2)", x);
    print_d("fsqrt(2)", fsqrt(v_two));

    rt_puts("== conversions\n");
    rt_printf("(int)-2.75=%d (int)2.75=%d\n", (int)v_neg, (int)v_pos);
    rt_printf("(unsigned)3e9=%u\n", (unsigned)v_huge);
    rt_printf("(long long)-1e19 (out of range)=%llx\n", (unsigned long long)(long long)v_m);
    print_d("(double)0xfedcba9876543210ull", (double)v_u64);
    print_d("(double)-1234567890123456789ll", (double)v_i64);
    print_ld("(long double)-1234567890123456789ll", (long double)v_i64);
    rt_printf("(uint64)(double)0xfedcba9876543210ull=%llx\n", (unsigned long long)(uint64_t)(double)v_u64);

    rt_puts("== comparisons\n");
    // 1e308*10 is finite in an 80-bit register: the difference is 0 unless it is stored first
    print_d("1e308*10 - 1e308*10 in registers", v_big * 10.0 - v_big * 10.0);
    double nan = v_zero / v_zero;
    rt_printf("nan==nan %d nan!=nan %d nan<1 %d 1<2 %d -0==0 %d\n", nan == nan, nan != nan, nan < 1.0,
              v_tenth < v_two, -0.0 * v_tenth == 0.0);
    print_d("0/0", nan);

    rt_puts("== mandelbrot (escape counts, double)\n");
    uint32_t sum = 0;
    for (int row = 0; row < 12; row++) {
        for (int col = 0; col < 48; col++) {
            int n = mandel(-2.1 + col * 0.0583, -1.1 + row * 0.2, 200);
            sum = sum * 31 + (uint32_t)n;
            rt_putc(" .:-=+*#%@"[n >= 200 ? 9 : n % 9]);
        }
        rt_putc('\n');
    }
    rt_printf("checksum=%08x\n", sum);
    return 0;
}
