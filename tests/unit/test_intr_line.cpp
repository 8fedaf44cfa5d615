// The CPU's INTR input (Cpu::intr_line) wired to the PIC as the board wires it: interrupts are
// taken between instructions while IF=1, held off for one instruction after STI, and wake HLT.
#include <gtest/gtest.h>

#include "cpu_fixture.hpp"
#include "devices/pic8259.hpp"

using namespace lift86;

namespace {

struct IntrLine : lift86::test::CpuFixture {
    Pic8259 pic{io};
    IntrLine() {
        pic.on_intr = [this](bool level) { cpu.intr_line = level; };
        cpu.intr_ack = [this] { return pic.acknowledge(); };
        // ICW1..4: master vectors 0x08, slave 0x70.
        for (auto [port, v] : {std::pair{0x20, 0x11}, {0x21, 0x08}, {0x21, 0x04}, {0x21, 0x01}})
            io.write(uint16_t(port), uint32_t(v), 1);
        set_ivt(0x09, 0x0000, 0x0600);   // IRQ1 -> a HLT at 0000:0600
        mem.write8(0x600, 0xF4);
    }
};

}  // namespace

TEST_F(IntrLine, StiShadowsOneInstructionThenTheInterruptIsTaken) {
    pic.set_irq(1, true);
    ASSERT_TRUE(cpu.intr_line);
    // cli; sti; inc ax; inc ax; hlt — the request is pending throughout; it is taken after the
    // instruction that follows STI, so exactly one INC has run.
    load_real({0xFA, 0xFB, 0x40, 0x40, 0xF4});
    cpu.eflags &= ~fl::IF;
    cpu.r[EAX] = 0;
    run();
    EXPECT_EQ(cpu.r[EAX] & 0xFFFF, 1u);
    EXPECT_EQ(cpu.seg[CS].sel, 0u);
    EXPECT_EQ(cpu.eip, 0x601u);   // halted in the handler
    EXPECT_EQ(mem.read16(0x1000 + 0xFFFE - 6), 3u);   // the pushed IP: after the first INC
    EXPECT_FALSE(cpu.intr_line);   // acknowledged: INTR dropped, IRQ1 in service
}

TEST_F(IntrLine, IfClearHoldsTheRequestAndHltWakesWhenItArrives) {
    // hlt with IF=1 and nothing pending: the CPU stops halted; the request then wakes it.
    load_real({0xFB, 0x90, 0xF4, 0x40, 0xF4});
    cpu.eflags &= ~fl::IF;
    run();
    ASSERT_TRUE(cpu.halted);
    EXPECT_EQ(cpu.eip, 3u);
    run();
    EXPECT_TRUE(cpu.halted);   // still nothing to wake it
    EXPECT_EQ(cpu.eip, 3u);
    pic.set_irq(1, true);
    run();
    EXPECT_EQ(cpu.seg[CS].sel, 0u);
    EXPECT_EQ(cpu.eip, 0x601u);
    EXPECT_EQ(mem.read16(0x1000 + 0xFFFE - 6), 3u);   // returns after the HLT

    // With IF=0 the line is ignored.
    io.write(0x20, 0x20, 1);   // EOI
    pic.set_irq(1, false);
    load_real({0xFA, 0x40, 0x40, 0xF4});
    cpu.halted = false;
    cpu.r[EAX] = 0;
    pic.set_irq(1, true);
    ASSERT_TRUE(cpu.intr_line);
    run();
    EXPECT_EQ(cpu.r[EAX] & 0xFFFF, 2u);
    EXPECT_EQ(cpu.eip, 4u);
    EXPECT_TRUE(cpu.intr_line);   // never acknowledged
}
