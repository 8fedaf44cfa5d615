// machine/bus: physical memory map, A20, code-page tracking, port bus, clock and events.
#include <gtest/gtest.h>

#include "machine/bus/clock.hpp"
#include "machine/bus/phys_memory.hpp"
#include "machine/bus/port_bus.hpp"

using namespace lift86;

TEST(PhysMemory, RamRoundTripAndOpenBus) {
    PhysMemory m(1 << 20);
    m.write32(0x1000, 0xDEADBEEF);
    EXPECT_EQ(m.read32(0x1000), 0xDEADBEEFu);
    EXPECT_EQ(m.read16(0x1002), 0xDEADu);
    // Beyond RAM nothing answers: the bus floats high.
    EXPECT_EQ(m.read32(0x200000), 0xFFFFFFFFu);
    EXPECT_EQ(m.read8(0x200000), 0xFFu);
    m.write8(0x200000, 1);   // dropped, no crash
}

TEST(PhysMemory, UnalignedAccessAcrossPages) {
    PhysMemory m(1 << 20);
    m.write32(0x1FFE, 0x11223344);
    EXPECT_EQ(m.read8(0x1FFE), 0x44);
    EXPECT_EQ(m.read8(0x2001), 0x11);
    EXPECT_EQ(m.read32(0x1FFE), 0x11223344u);
}

TEST(PhysMemory, RomIsReadOnlyAndPadded) {
    PhysMemory m(1 << 20);
    m.map_rom(0xFFFF0000u, std::vector<uint8_t>(0x1800, 0xAB));
    EXPECT_EQ(m.read8(0xFFFF0000u), 0xAB);
    m.write8(0xFFFF0000u, 0);
    EXPECT_EQ(m.read8(0xFFFF0000u), 0xAB);
    EXPECT_EQ(m.read8(0xFFFF1800u), 0xFF);   // padding of the last page
    EXPECT_EQ(m.host_ptr(0xFFFF0000u, true), nullptr);
    EXPECT_NE(m.host_ptr(0xFFFF0000u, false), nullptr);
}

TEST(PhysMemory, A20WrapsAtOneMegabyte) {
    PhysMemory m(2 << 20);
    m.write8(0x100010, 0x55);
    m.write8(0x000010, 0xAA);
    m.set_a20(false);
    EXPECT_EQ(m.read8(0x100010), 0xAA);
    m.set_a20(true);
    EXPECT_EQ(m.read8(0x100010), 0x55);
}

struct CountingMmio : MmioDevice {
    uint32_t last_off = 0, last_val = 0;
    unsigned writes = 0;
    uint32_t mmio_read(uint32_t off, unsigned) override { return off * 2; }
    void mmio_write(uint32_t off, uint32_t v, unsigned) override { last_off = off; last_val = v; writes++; }
};

TEST(PhysMemory, MmioDispatchUsesOffsets) {
    PhysMemory m(1 << 20);
    CountingMmio dev;
    m.map_mmio(0xA0000, 0x20000, &dev);
    EXPECT_EQ(m.read16(0xA0010), 0x20u);
    m.write32(0xB0004, 7);
    EXPECT_EQ(dev.last_off, 0x10004u);
    EXPECT_EQ(dev.last_val, 7u);
    EXPECT_EQ(m.host_ptr(0xA0000, false), nullptr);
}

TEST(PhysMemory, CodeWritesCallBackUntilUnmarked) {
    PhysMemory m(1 << 20);
    std::vector<uint32_t> hits;
    m.on_code_write = [&](PhysAddr a, unsigned size) {
        hits.push_back(a);
        EXPECT_EQ(m.read8(a), 1);   // the callback sees the stored byte
        EXPECT_EQ(size, 1u);
    };
    m.mark_code(0x3000);
    EXPECT_EQ(m.host_ptr(0x3000, true), nullptr);   // no direct writes to code pages
    m.write8(0x3123, 1);
    m.write8(0x3124, 1);
    ASSERT_EQ(hits, (std::vector<uint32_t>{0x3123, 0x3124}));
    m.clear_code(0x3000);
    m.write8(0x3125, 1);
    EXPECT_EQ(hits.size(), 2u);
    EXPECT_NE(m.host_ptr(0x3000, true), nullptr);
}

struct EchoPorts : PortDevice {
    uint32_t last = 0;
    uint32_t io_read(uint16_t port, unsigned) override { return port; }
    void io_write(uint16_t, uint32_t v, unsigned) override { last = v; }
};

TEST(PortBus, RegisteredRangesAndUnclaimedPorts) {
    PortBus bus;
    EchoPorts dev;
    bus.register_ports(0x60, 5, &dev);
    EXPECT_EQ(bus.read(0x64, 1), 0x64u);
    EXPECT_EQ(bus.read(0x65, 1), 0xFFu);
    EXPECT_EQ(bus.read(0x1234, 2), 0xFFFFu);
    bus.write(0x60, 0xAB, 1);
    EXPECT_EQ(dev.last, 0xABu);
}

TEST(Clock, VirtualTimeAndEventsInOrder) {
    Clock c(Clock::Mode::Virtual, 10);
    std::vector<int> order;
    auto a = c.add_event("a", [&] { order.push_back(1); });
    auto b = c.add_event("b", [&] { order.push_back(2); });
    c.schedule_at(b, 500);
    c.schedule_at(a, 200);
    EXPECT_EQ(c.next_deadline(), 200u);
    c.advance_insns(25);   // 250 ns
    c.run_due();
    EXPECT_EQ(order, std::vector<int>{1});
    EXPECT_TRUE(c.skip_to_next_event());
    EXPECT_EQ(c.now(), 500u);
    c.run_due();
    EXPECT_EQ(order, (std::vector<int>{1, 2}));
    EXPECT_FALSE(c.skip_to_next_event());
}

TEST(Clock, TimeMovesWithAttachedInstructionCounter) {
    // Within a run slice the CPU retires instructions before the machine calls advance_insns:
    // now() must already include them, and stay continuous when the slice is accounted.
    Clock c(Clock::Mode::Virtual, 2);
    uint64_t icount = 1000;
    c.attach_insn_counter(&icount);
    EXPECT_EQ(c.now(), 0u);
    icount += 30;                       // mid-slice
    EXPECT_EQ(c.now(), 60u);
    auto e = c.add_event("e", [] {});
    c.schedule_in(e, 100);              // relative to the instruction-accurate time
    EXPECT_EQ(c.next_deadline(), 160u);
    icount += 20;
    c.advance_insns(50);                // end of the slice: all 50 instructions
    EXPECT_EQ(c.now(), 100u);
    icount += 5;
    EXPECT_EQ(c.now(), 110u);
}

TEST(Clock, CallbackMayReschedule) {
    Clock c(Clock::Mode::Virtual, 1);
    int n = 0;
    Clock::EventId id = 0;
    id = c.add_event("tick", [&] { if (++n < 3) c.schedule_in(id, 10); });
    c.schedule_at(id, 10);
    c.advance_insns(100);
    c.run_due();
    EXPECT_EQ(n, 1);              // rescheduled relative to now (110): not yet due
    c.advance_insns(20);
    c.run_due();
    EXPECT_EQ(n, 2);
    EXPECT_EQ(c.next_deadline(), 130u);
}
