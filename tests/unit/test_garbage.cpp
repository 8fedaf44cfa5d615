// A guest executing garbage gets the exceptions hardware raises and never crashes lift86:
// random bytes run as code in real mode and in 32-bit protected mode, with every exception
// handler stepping over the faulting byte so execution keeps going through the garbage.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "frontend/cpu.hpp"

#include <array>

using namespace lift86;

namespace {

constexpr uint32_t kCode = 0x10000, kCodeSize = 0x10000;

void fill_random(PhysMemory& mem, std::mt19937& rng) {
    std::vector<uint8_t> junk(kCodeSize);
    for (auto& b : junk) b = uint8_t(rng());
    mem.write_block(kCode, junk.data(), junk.size());
}

// Runs until `budget` instructions retired, restarting at the garbage whenever the CPU halts
// or shuts down. Returns how many exceptions/interrupts were delivered (via the handler count).
uint64_t run_garbage(Cpu& cpu, uint64_t budget, const std::function<void()>& restart) {
    uint64_t end = cpu.icount + budget, rounds = 0;
    while (cpu.icount < end && rounds++ < 10000) {
        StopReason r = cpu.run(end - cpu.icount);
        if (r == StopReason::Halted || r == StopReason::Shutdown) restart();
    }
    return rounds;
}

}  // namespace

TEST(Garbage, RealModeRandomBytesNeverCrash) {
    PhysMemory mem(2 << 20);
    PortBus io;
    Cpu cpu(mem, io);
    std::mt19937 rng(1234);
    std::array<uint64_t, 256> seen{};
    cpu.trace_interrupt = [&](uint8_t v, int32_t, bool, bool) { seen[v]++; };
    // Every vector -> 0000:0500: push bp; mov bp,sp; inc word [bp+2]; pop bp; iret
    const uint8_t handler[] = {0x55, 0x89, 0xE5, 0x3E, 0xFF, 0x46, 0x02, 0x5D, 0xCF};
    auto restart = [&] {
        cpu.reset();
        for (unsigned v = 0; v < 256; v++) {
            mem.write16(v * 4, 0x0500);
            mem.write16(v * 4 + 2, 0);
        }
        mem.write_block(0x500, handler, sizeof handler);
        fill_random(mem, rng);
        for (unsigned s : {ES, SS, DS, FS, GS}) cpu.load_seg_real(s, 0x3000);
        cpu.load_seg_real(CS, kCode >> 4);
        cpu.eip = 0;
        cpu.r[ESP] = 0xFFF0;
        cpu.update_mode();
    };
    for (int round = 0; round < 40; round++) {
        restart();
        run_garbage(cpu, 50000, restart);
    }
    // The garbage really ran and really faulted: invalid opcodes were raised as #UD and
    // delivered through the IVT (plus software INT n from CD xx bytes).
    EXPECT_GT(cpu.icount, 500000u);
    EXPECT_GT(seen[kUD], 10u);
}

TEST(Garbage, ProtectedModeRandomBytesNeverCrash) {
    PhysMemory mem(4 << 20);
    PortBus io;
    Cpu cpu(mem, io);
    std::mt19937 rng(99);
    std::array<uint64_t, 256> seen{};
    cpu.trace_interrupt = [&](uint8_t v, int32_t, bool, bool) { seen[v]++; };
    // GDT at 0x800: null, flat code 0x08, flat data 0x10. IDT at 0x1000 -> stubs at 0x2000+16*v.
    // Stub: [add esp,4 when the vector pushes an error code]; inc dword [esp]; iretd
    auto restart = [&] {
        cpu.reset();
        mem.write32(0x800, 0); mem.write32(0x804, 0);
        mem.write32(0x808, 0x0000FFFF); mem.write32(0x80C, 0x00CF9A00);
        mem.write32(0x810, 0x0000FFFF); mem.write32(0x814, 0x00CF9200);
        for (unsigned v = 0; v < 256; v++) {
            uint32_t stub = 0x2000 + 16 * v;
            bool err = v == 8 || (v >= 10 && v <= 14) || v == 17;
            std::vector<uint8_t> code;
            if (err) code = {0x83, 0xC4, 0x04};
            code.insert(code.end(), {0xFF, 0x04, 0x24, 0xCF});
            mem.write_block(stub, code.data(), code.size());
            mem.write32(0x1000 + 8 * v, (0x08u << 16) | (stub & 0xFFFF));
            mem.write32(0x1004 + 8 * v, (stub & 0xFFFF0000u) | 0x8E00);
        }
        fill_random(mem, rng);
        cpu.gdtr = {0x800, 0x17};
        cpu.idtr = {0x1000, 0x7FF};
        cpu.cr0 |= cr0::PE;
        cpu.update_mode();
        // CS as a far jump would load it; data segments through the GDT with all checks.
        cpu.set_seg_cache(cpu.seg[CS], 0x08, 0, 0xFFFFFFFFu,
                          attr::P | attr::S | attr::CODE | attr::RW | attr::ACCESSED | attr::DB | attr::G);
        for (unsigned s : {ES, SS, DS, FS, GS}) cpu.load_seg(s, 0x10);
        cpu.update_mode();
        cpu.eip = kCode;
        cpu.r[ESP] = 0x3FFF00;
    };
    for (int round = 0; round < 40; round++) {
        restart();
        run_garbage(cpu, 50000, restart);
    }
    // In protected mode garbage also trips segment and privilege checks: #UD and #GP both seen.
    EXPECT_GT(cpu.icount, 500000u);
    EXPECT_GT(seen[kUD], 10u);
    EXPECT_GT(seen[kGP], 10u);
}
