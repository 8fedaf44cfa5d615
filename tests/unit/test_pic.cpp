// Two cascaded Intel 8259A PICs: initialisation, priority and nesting, EOI flavours,
// rotation, masking, cascade, spurious IRQ7/IRQ15, auto-EOI, edge vs level (ELCR), poll.
// Behaviour per the Intel 8259A datasheet (231468).
#include <gtest/gtest.h>

#include <vector>

#include "devices/pic8259.hpp"
#include "machine/bus/port_bus.hpp"

using namespace lift86;

namespace {

struct PicTest : ::testing::Test {
    PortBus bus;
    Pic8259 pic{bus};

    // The PC BIOS initialisation: edge triggered, cascade, ICW4; master vectors 0x08,
    // slave 0x70 on IR2; 8086 mode.
    void init(uint8_t icw4 = 0x01) {
        bus.write(0x20, 0x11, 1);
        bus.write(0x21, 0x08, 1);
        bus.write(0x21, 0x04, 1);
        bus.write(0x21, icw4, 1);
        bus.write(0xA0, 0x11, 1);
        bus.write(0xA1, 0x70, 1);
        bus.write(0xA1, 0x02, 1);
        bus.write(0xA1, icw4, 1);
    }
    PicTest() { init(); }
    void eoi_master() { bus.write(0x20, 0x20, 1); }
    void eoi_slave() { bus.write(0xA0, 0x20, 1); }
    uint8_t read_isr(uint16_t cmd) {
        bus.write(cmd, 0x0B, 1);
        uint8_t v = uint8_t(bus.read(cmd, 1));
        bus.write(cmd, 0x0A, 1);
        return v;
    }
};

}  // namespace

TEST_F(PicTest, LowerNumberWinsAndInServiceBlocksLowerPriority) {
    pic.set_irq(3, true);
    pic.set_irq(1, true);
    ASSERT_TRUE(pic.intr());
    EXPECT_EQ(pic.acknowledge(), 0x09);
    EXPECT_EQ(pic.isr(0), 0x02);
    EXPECT_EQ(pic.irr(0) & 0x08, 0x08);
    EXPECT_FALSE(pic.intr());   // IRQ3 waits behind IRQ1 in service
    eoi_master();
    EXPECT_EQ(pic.isr(0), 0x00);
    ASSERT_TRUE(pic.intr());
    EXPECT_EQ(pic.acknowledge(), 0x0B);
}

TEST_F(PicTest, HigherPriorityNestsAndNonSpecificEoiClearsHighest) {
    pic.set_irq(3, true);
    EXPECT_EQ(pic.acknowledge(), 0x0B);
    pic.set_irq(1, true);
    ASSERT_TRUE(pic.intr());          // fully nested: IRQ1 outranks IRQ3 in service
    EXPECT_EQ(pic.acknowledge(), 0x09);
    EXPECT_EQ(pic.isr(0), 0x0A);
    eoi_master();                      // clears the highest in service: IR1
    EXPECT_EQ(pic.isr(0), 0x08);
    bus.write(0x20, 0x63, 1);          // specific EOI for IR3
    EXPECT_EQ(pic.isr(0), 0x00);
}

TEST_F(PicTest, ImrMasksRequestsButIrrStillLatches) {
    bus.write(0x21, 0x02, 1);
    EXPECT_EQ(bus.read(0x21, 1), 0x02u);
    pic.set_irq(1, true);
    EXPECT_FALSE(pic.intr());
    EXPECT_EQ(bus.read(0x20, 1) & 0x02, 0x02u);   // IRR read (the default after ICW1)
    bus.write(0x21, 0x00, 1);
    EXPECT_TRUE(pic.intr());
}

TEST_F(PicTest, IrrAndIsrReadsSelectedByOcw3) {
    pic.set_irq(4, true);
    pic.set_irq(6, true);
    EXPECT_EQ(pic.acknowledge(), 0x0C);
    bus.write(0x20, 0x0A, 1);
    EXPECT_EQ(bus.read(0x20, 1), 0x40u);   // IRR: IR6 still requesting
    bus.write(0x20, 0x0B, 1);
    EXPECT_EQ(bus.read(0x20, 1), 0x10u);   // ISR: IR4
    EXPECT_EQ(bus.read(0x20, 1), 0x10u);   // the selection sticks
}

TEST_F(PicTest, CascadedSlaveDeliversItsVectorAndSetsBothIsrs) {
    pic.set_irq(10, true);
    ASSERT_TRUE(pic.intr());
    EXPECT_EQ(pic.acknowledge(), 0x72);
    EXPECT_EQ(pic.isr(0), 0x04);   // master IR2 (cascade)
    EXPECT_EQ(pic.isr(1), 0x04);   // slave IR2 = IRQ10
    // A master IRQ of lower priority than IR2 is blocked while the cascade is in service.
    pic.set_irq(5, true);
    EXPECT_FALSE(pic.intr());
    eoi_slave();
    eoi_master();
    EXPECT_EQ(pic.acknowledge(), 0x0D);
}

TEST_F(PicTest, SlaveMaskHoldsCascade) {
    bus.write(0xA1, 0x01, 1);   // mask IRQ8
    pic.set_irq(8, true);
    EXPECT_FALSE(pic.intr());
    bus.write(0xA1, 0x00, 1);
    ASSERT_TRUE(pic.intr());
    EXPECT_EQ(pic.acknowledge(), 0x70);
}

TEST_F(PicTest, SpuriousIrq7WhenRequestMaskedBeforeInta) {
    pic.set_irq(1, true);
    ASSERT_TRUE(pic.intr());
    bus.write(0x21, 0x02, 1);   // masked between INTR and INTA
    EXPECT_EQ(pic.acknowledge(), 0x0F);
    EXPECT_EQ(pic.isr(0), 0x00);   // no in-service bit: the handler must not EOI
}

TEST_F(PicTest, SpuriousIrq7WhenLevelRequestVanishes) {
    bus.write(0x4D0, 0x20, 1);   // IRQ5 level triggered
    pic.set_irq(5, true);
    ASSERT_TRUE(pic.intr());
    pic.set_irq(5, false);
    EXPECT_FALSE(pic.intr());
    EXPECT_EQ(pic.acknowledge(), 0x0F);
    EXPECT_EQ(pic.isr(0), 0x00);
}

TEST_F(PicTest, SpuriousIrq15SetsOnlyMasterCascadeIsr) {
    bus.write(0x4D1, 0x08, 1);   // IRQ11 level triggered
    pic.set_irq(11, true);
    ASSERT_TRUE(pic.intr());
    pic.set_irq(11, false);      // slave INT drops, but master IR2's edge is latched
    EXPECT_EQ(pic.acknowledge(), 0x77);
    EXPECT_EQ(pic.isr(1), 0x00);
    EXPECT_EQ(pic.isr(0), 0x04);   // the OS must EOI the master for a spurious IRQ15
}

TEST_F(PicTest, AutoEoiNeverSetsIsr) {
    init(0x03);   // 8086 mode + AEOI
    pic.set_irq(0, true);
    EXPECT_EQ(pic.acknowledge(), 0x08);
    EXPECT_EQ(pic.isr(0), 0x00);
    pic.set_irq(3, true);
    EXPECT_TRUE(pic.intr());   // nothing in service blocks it
    EXPECT_EQ(pic.acknowledge(), 0x0B);
}

TEST_F(PicTest, EdgeNeedsNewEdgeLevelReassertsAfterEoi) {
    pic.set_irq(1, true);
    EXPECT_EQ(pic.acknowledge(), 0x09);
    eoi_master();
    EXPECT_FALSE(pic.intr());   // still high, but no new rising edge
    pic.set_irq(1, false);
    pic.set_irq(1, true);
    ASSERT_TRUE(pic.intr());
    EXPECT_EQ(pic.acknowledge(), 0x09);
    eoi_master();

    bus.write(0x4D1, 0x02, 1);   // IRQ9 level triggered
    pic.set_irq(9, true);
    EXPECT_EQ(pic.acknowledge(), 0x71);
    eoi_slave();
    eoi_master();
    ASSERT_TRUE(pic.intr());     // IRQ9 still asserted: it requests again
    EXPECT_EQ(pic.acknowledge(), 0x71);
}

TEST_F(PicTest, PulseFromDeviceIsLatched) {
    pic.set_irq(4, true);
    pic.set_irq(4, false);   // IrqLine::pulse()
    ASSERT_TRUE(pic.intr());
    EXPECT_EQ(pic.acknowledge(), 0x0C);
}

TEST_F(PicTest, ElcrMaskAndLtim) {
    bus.write(0x4D0, 0xFF, 1);
    bus.write(0x4D1, 0xFF, 1);
    EXPECT_EQ(bus.read(0x4D0, 1), 0xF8u);   // IRQ0, 1, 2 are always edge
    EXPECT_EQ(bus.read(0x4D1, 1), 0xDEu);   // IRQ8 and IRQ13 too
    bus.write(0x4D0, 0x00, 1);
    // ICW1 with LTIM: every input level triggered.
    bus.write(0x20, 0x19, 1);
    bus.write(0x21, 0x08, 1);
    bus.write(0x21, 0x04, 1);
    bus.write(0x21, 0x01, 1);
    pic.set_irq(1, true);
    EXPECT_EQ(pic.acknowledge(), 0x09);
    eoi_master();
    EXPECT_TRUE(pic.intr());
}

TEST_F(PicTest, SetPriorityAndRotateOnEoi) {
    bus.write(0x20, 0xC3, 1);   // set priority: IR3 lowest, so IR4 highest
    pic.set_irq(1, true);
    pic.set_irq(5, true);
    EXPECT_EQ(pic.acknowledge(), 0x0D);
    bus.write(0x20, 0xA0, 1);   // rotate on non-specific EOI: IR5 becomes lowest
    EXPECT_EQ(pic.acknowledge(), 0x09);
    bus.write(0x20, 0xE1, 1);   // rotate on specific EOI for IR1: IR2 now highest
    pic.set_irq(0, true);
    pic.set_irq(3, true);
    EXPECT_EQ(pic.acknowledge(), 0x0B);   // IR3 outranks IR0 after the rotation
}

TEST_F(PicTest, RotateInAutoEoiMode) {
    init(0x03);
    bus.write(0x20, 0x80, 1);   // rotate in AEOI mode
    pic.set_irq(0, true);
    pic.set_irq(1, true);
    EXPECT_EQ(pic.acknowledge(), 0x08);   // IR0 serviced, becomes lowest
    pic.set_irq(0, false);
    pic.set_irq(0, true);
    EXPECT_EQ(pic.acknowledge(), 0x09);   // IR1 now outranks the new IR0 request
}

TEST_F(PicTest, SpecialMaskModeLetsLowerPrioritiesIn) {
    pic.set_irq(3, true);
    EXPECT_EQ(pic.acknowledge(), 0x0B);
    pic.set_irq(5, true);
    EXPECT_FALSE(pic.intr());
    bus.write(0x21, 0x08, 1);   // mask the level in service
    bus.write(0x20, 0x68, 1);   // set special mask mode
    ASSERT_TRUE(pic.intr());
    EXPECT_EQ(pic.acknowledge(), 0x0D);
    bus.write(0x20, 0x48, 1);   // reset special mask mode
    bus.write(0x21, 0x00, 1);
    EXPECT_EQ(pic.isr(0), 0x28);
}

TEST_F(PicTest, PollCommandActsAsAcknowledge) {
    bus.write(0x20, 0x0C, 1);
    EXPECT_EQ(bus.read(0x20, 1), 0x00u);   // nothing pending
    pic.set_irq(6, true);
    bus.write(0x20, 0x0C, 1);
    EXPECT_EQ(bus.read(0x20, 1), 0x86u);
    EXPECT_EQ(pic.isr(0), 0x40);
    EXPECT_FALSE(pic.intr());
    EXPECT_EQ(bus.read(0x20, 1), 0x00u);   // only one read is a poll: this is the IRR
}

TEST_F(PicTest, IntrCallbackFollowsOutput) {
    std::vector<bool> seen;
    pic.on_intr = [&](bool v) { seen.push_back(v); };
    pic.set_irq(1, true);
    pic.acknowledge();
    EXPECT_EQ(seen, (std::vector<bool>{true, false}));
}

TEST_F(PicTest, GuestNonsenseDoesNotCrash) {
    pic.set_irq(2, true);     // the cascade input is not a device line
    pic.set_irq(-1, true);
    pic.set_irq(16, true);
    EXPECT_FALSE(pic.intr());
    // ICW1 then OCWs instead of ICW2..4: the data writes are taken as ICWs, as on the chip.
    bus.write(0x20, 0x11, 1);
    bus.write(0x20, 0x20, 1);   // EOI with nothing in service
    bus.write(0x21, 0xFF, 1);
    bus.write(0x21, 0xFF, 1);
    bus.write(0x21, 0xFF, 1);
    bus.write(0x21, 0x00, 1);   // now OCW1
    EXPECT_EQ(bus.read(0x21, 1), 0x00u);
    EXPECT_EQ(pic.acknowledge(), 0xFF);   // vector base 0xF8 from the bogus ICW2, spurious IR7
    bus.write(0x20, 0x60, 1);   // specific EOI of a level not in service
    bus.write(0x20, 0x40, 1);   // OCW2 no-op
}

// Special fully nested mode (ICW4 SFNM) on the master: a higher-priority slave request gets
// through while a lower slave IRQ holds the cascade input in service.
TEST_F(PicTest, SpecialFullyNestedModeNestsSlaveRequests) {
    pic.set_irq(10, true);
    EXPECT_EQ(pic.acknowledge(), 0x72);
    pic.set_irq(9, true);
    EXPECT_FALSE(pic.intr());   // fully nested: master IR2 is in service
    eoi_slave();
    eoi_master();
    EXPECT_EQ(pic.acknowledge(), 0x71);
    eoi_slave();
    eoi_master();
    pic.set_irq(9, false);
    pic.set_irq(10, false);

    init(0x11);   // 8086 mode + SFNM
    pic.set_irq(10, true);
    EXPECT_EQ(pic.acknowledge(), 0x72);
    pic.set_irq(9, true);
    ASSERT_TRUE(pic.intr());
    EXPECT_EQ(pic.acknowledge(), 0x71);
    EXPECT_EQ(pic.isr(1), 0x06);
}

// The CPU reads a copy of INTR that on_intr keeps (Cpu::intr_line): every register write,
// poll, acknowledge and input change that moves the output must call it, or the copy goes stale.
TEST_F(PicTest, IntrCallbackMirrorsOutputThroughEveryPath) {
    bool line = pic.intr();
    pic.on_intr = [&](bool v) {
        EXPECT_NE(v, line) << "called without a change";
        line = v;
    };
    auto check = [&](const char* what) { EXPECT_EQ(line, pic.intr()) << what; };
    pic.set_irq(3, true);      check("edge request");
    bus.write(0x21, 0x08, 1);  check("IMR masks it");
    bus.write(0x21, 0x00, 1);  check("IMR unmasks it");
    pic.acknowledge();         check("INTA");
    pic.set_irq(1, true);      check("higher request nests");
    pic.acknowledge();         check("INTA again");
    eoi_master();              check("EOI IR1");
    eoi_master();              check("EOI IR3");
    pic.set_irq(11, true);     check("slave request through the cascade");
    bus.write(0xA1, 0x08, 1);  check("slave IMR");
    bus.write(0xA1, 0x00, 1);  check("slave IMR cleared");
    bus.write(0x20, 0x0C, 1);  check("poll armed");
    (void)bus.read(0x20, 1);   check("poll read acknowledges");
    eoi_slave();
    eoi_master();              check("EOIs");
    bus.write(0x4D1, 0x08, 1); check("ELCR: IRQ11 level, input high");
    pic.set_irq(11, false);    check("level input drops");
    bus.write(0x4D1, 0x00, 1);
    pic.set_irq(5, true);      check("request before re-initialisation");
    bus.write(0x20, 0x11, 1);  check("ICW1 clears the IRR");
    bus.write(0x21, 0x08, 1);
    bus.write(0x21, 0x04, 1);
    bus.write(0x21, 0x01, 1);
    pic.set_irq(5, false);
    pic.set_irq(5, true);      check("new edge after ICW4");
}
