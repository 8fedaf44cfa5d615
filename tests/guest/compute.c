// compute.c -- a guest that computes something real, in plain C: CRC-32, sorting, a prime sieve,
// 64-bit arithmetic and a small matrix product. Every result is printed; the known-answer lines
// (the CRC-32 check value, pi(10^6), fib(90)) can be checked by eye, the others by the expectation.
// This is the demo program for `lift86 --engine=interp`.

#include "rt.h"

// ---- CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), table driven
static uint32_t crc_table[256];

static void crc32_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

static uint32_t crc32(const uint8_t* p, size_t n) {
    uint32_t c = 0xFFFFFFFFu;
    while (n--) c = crc_table[(c ^ *p++) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

// ---- pseudo-random numbers: xorshift32 (Marsaglia 2003)
static uint32_t rng_state = 2463534242u;
static uint32_t xorshift32(void) {
    uint32_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return rng_state = x;
}

// ---- sorting: recursive quicksort (median of three) with insertion sort for small ranges
static void insertion_sort(uint32_t* a, int n) {
    for (int i = 1; i < n; i++) {
        uint32_t v = a[i];
        int j = i - 1;
        while (j >= 0 && a[j] > v) {
            a[j + 1] = a[j];
            j--;
        }
        a[j + 1] = v;
    }
}

static void quicksort(uint32_t* a, int n) {
    while (n > 16) {
        uint32_t x = a[0], y = a[n / 2], z = a[n - 1];
        uint32_t pivot = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
        int i = 0, j = n - 1;
        for (;;) {
            while (a[i] < pivot) i++;
            while (a[j] > pivot) j--;
            if (i >= j) break;
            uint32_t t = a[i];
            a[i] = a[j];
            a[j] = t;
            i++;
            j--;
        }
        // recurse into the smaller half, loop on the larger one
        int left = j + 1;
        if (left < n - left) {
            quicksort(a, left);
            a += left;
            n -= left;
        } else {
            quicksort(a + left, n - left);
            n = left;
        }
    }
    insertion_sort(a, n);
}

// ---- sieve of Eratosthenes, one bit per odd number
#define SIEVE_N 1000000u
static uint8_t sieve_bits[SIEVE_N / 16 + 1];

static void sieve(uint32_t* count, uint32_t* last, uint64_t* sum) {
    memset(sieve_bits, 0, sizeof sieve_bits);
    for (uint32_t i = 3; i * i < SIEVE_N; i += 2)
        if (!(sieve_bits[i >> 4] & (1u << ((i >> 1) & 7))))
            for (uint32_t j = i * i; j < SIEVE_N; j += 2 * i) sieve_bits[j >> 4] |= (uint8_t)(1u << ((j >> 1) & 7));
    *count = 1;
    *last = 2;
    *sum = 2;
    for (uint32_t i = 3; i < SIEVE_N; i += 2)
        if (!(sieve_bits[i >> 4] & (1u << ((i >> 1) & 7)))) {
            (*count)++;
            *last = i;
            *sum += i;
        }
}

#define NDATA 65536
#define NSORT 8192
static uint8_t data[NDATA];
static uint32_t numbers[NSORT];

int main(void) {
    rt_puts("lift86 compute demo\n");

    crc32_init();
    rt_printf("crc32(\"123456789\")          = %08x (check value cbf43926)\n",
              crc32((const uint8_t*)"123456789", 9));
    for (int i = 0; i < NDATA; i++) data[i] = (uint8_t)(xorshift32() >> 24);
    rt_printf("crc32(64 KiB xorshift data) = %08x\n", crc32(data, NDATA));

    for (int i = 0; i < NSORT; i++) numbers[i] = xorshift32();
    uint32_t before = 0;
    for (int i = 0; i < NSORT; i++) before += numbers[i];
    quicksort(numbers, NSORT);
    int sorted = 1;
    uint32_t after = 0, weighted = 0;
    for (int i = 0; i < NSORT; i++) {
        if (i && numbers[i - 1] > numbers[i]) sorted = 0;
        after += numbers[i];
        weighted += numbers[i] * (uint32_t)(i + 1);
    }
    rt_printf("sorted %d numbers: %s, sum %s, first %08x last %08x, weighted checksum %08x\n", NSORT,
              sorted ? "in order" : "NOT IN ORDER", before == after ? "kept" : "CHANGED", numbers[0],
              numbers[NSORT - 1], weighted);

    uint32_t count, last;
    uint64_t psum;
    sieve(&count, &last, &psum);
    rt_printf("primes below %u: %u (pi(10^6) = 78498), largest %u, sum %llu\n", SIEVE_N, count, last,
              (unsigned long long)psum);

    uint64_t f0 = 0, f1 = 1;
    for (int i = 0; i < 90; i++) {
        uint64_t t = f0 + f1;
        f0 = f1;
        f1 = t;
    }
    rt_printf("fib(90) = %llu (2880067194370816120)\n", (unsigned long long)f0);
    uint64_t h = 1469598103934665603ull;   // FNV-1a 64 over the sorted numbers' bytes
    for (int i = 0; i < NSORT; i++)
        for (int k = 0; k < 4; k++) {
            h ^= (numbers[i] >> (8 * k)) & 0xFF;
            h *= 1099511628211ull;
        }
    rt_printf("fnv1a64(sorted) = %016llx, mod 1000000007 = %llu\n", (unsigned long long)h,
              (unsigned long long)(h % 1000000007ull));

    int32_t m[8][8], r[8][8];
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 8; j++) m[i][j] = (int32_t)(xorshift32() % 201) - 100;
    int64_t trace = 0;
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 8; j++) {
            int32_t s = 0;
            for (int k = 0; k < 8; k++) s += m[i][k] * m[k][j];
            r[i][j] = s;
        }
    for (int i = 0; i < 8; i++) trace += r[i][i];
    rt_printf("8x8 matrix squared: trace %lld, r[0][7] %d, r[7][0] %d\n", (long long)trace, r[0][7], r[7][0]);

    rt_puts("done\n");
    return 0;
}
