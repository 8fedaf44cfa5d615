// The softmmu TLB (DESIGN.md decision 4): linear page -> host pointer for plain RAM/ROM.
// Direct-mapped, one array per privilege class (supervisor / user) and access kind (read /
// write). An entry exists only when the access is allowed without side effects: a write entry
// is made only for writable RAM that holds no code and whose PTE is already dirty, so every
// other case (MMIO, ROM, code pages, first write, faults) takes the slow path in the CPU.
#pragma once
#include <cstdint>

namespace lift86 {

struct TlbEntry {
    uint32_t tag = 1;        // linear page base; 1 never matches a page base (= invalid)
    uint32_t phys = 0;       // physical page base
    uintptr_t addend = 0;    // host address = linear address + addend
};

struct Tlb {
    static constexpr unsigned kBits = 8;
    static constexpr unsigned kEntries = 1u << kBits;
    enum Kind { kRead = 0, kWrite = 1 };

    TlbEntry e[2][2][kEntries];   // [user][kind][index]
    // Bumped by every flush: code that caches translations elsewhere (block chaining) compares it.
    uint64_t generation = 0;

    static unsigned index(uint32_t lin) { return (lin >> 12) & (kEntries - 1); }
    TlbEntry& at(unsigned user, unsigned kind, uint32_t lin) { return e[user][kind][index(lin)]; }

    void flush() {
        generation++;
        for (auto& u : e)
            for (auto& k : u)
                for (auto& x : k) x.tag = 1;
    }
    void flush_page(uint32_t lin) {
        generation++;
        for (auto& u : e)
            for (auto& k : u) {
                TlbEntry& x = k[index(lin)];
                if (x.tag == (lin & ~0xFFFu)) x.tag = 1;
            }
    }
};

}  // namespace lift86
