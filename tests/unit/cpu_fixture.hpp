// A bare CPU on 2 MiB of RAM for instruction-level tests: code is placed at 0100:0000 in real
// mode (physical 0x1000) and run until it executes HLT.
#pragma once
#include <gtest/gtest.h>

#include <vector>

#include "frontend/cpu.hpp"

namespace lift86::test {

struct CpuFixture : ::testing::Test {
    PhysMemory mem{2 << 20};
    PortBus io;
    Cpu cpu{mem, io};

    // Real mode, CS=DS=ES=SS=0x0100, SP=0xFFFE, code at CS:0.
    void load_real(const std::vector<uint8_t>& code, uint16_t cs = 0x100) {
        for (unsigned s : {ES, CS, SS, DS, FS, GS}) cpu.load_seg_real(s, cs);
        cpu.eip = 0;
        cpu.r[ESP] = 0xFFFE;
        mem.write_block(uint32_t(cs) << 4, code.data(), code.size());
        cpu.update_mode();
    }
    // Runs until HLT (or `limit` instructions). Returns the number retired.
    uint64_t run(uint64_t limit = 10000) {
        uint64_t start = cpu.icount;
        cpu.run(limit);
        return cpu.icount - start;
    }
    // Installs a real-mode IVT entry.
    void set_ivt(uint8_t vec, uint16_t seg, uint16_t off) {
        mem.write16(vec * 4u, off);
        mem.write16(vec * 4u + 2, seg);
    }
};

}  // namespace lift86::test
