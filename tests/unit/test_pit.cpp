// Intel 8254 PIT: counter sequences per mode, OUT timing on the machine clock, latch and
// read-back commands, BCD, the access flip-flop, gates and port 0x61.
// Expected values come from the 8254 datasheet (order 231164) waveforms, figures 11-16.
#include <gtest/gtest.h>

#include <vector>

#include "devices/pit8254.hpp"
#include "devices/port61.hpp"
#include "machine/bus/clock.hpp"
#include "machine/bus/port_bus.hpp"

using namespace lift86;

namespace {

// Runs the machine clock to `ns`, firing every event at its own deadline on the way.
void run_until(Clock& c, uint64_t ns) {
    while (c.next_deadline() <= ns) {
        c.skip_to_next_event();
        c.run_due();
    }
    if (ns > c.now()) c.advance_insns(ns - c.now());
    c.run_due();
}

struct Edge {
    uint64_t ns;
    bool level;
};

struct PitTest : ::testing::Test {
    Clock clock{Clock::Mode::Virtual, 1};
    PortBus bus;
    Pit8254 pit{bus, clock};
    std::vector<Edge> edges;

    PitTest() {
        pit.irq0.connect([this](bool l) { edges.push_back({clock.now(), l}); });
    }
    void to_tick(uint64_t k) { run_until(clock, Pit8254::ns_of_tick(k)); }
    void control(uint8_t v) { bus.write(0x43, v, 1); }
    void write16(int ctr, uint16_t v) {
        bus.write(uint16_t(0x40 + ctr), v & 0xFF, 1);
        bus.write(uint16_t(0x40 + ctr), v >> 8, 1);
    }
    // Counter latch command then LSB, MSB (counter programmed for LSB/MSB access).
    uint16_t latched(int ctr) {
        control(uint8_t(ctr << 6));
        uint16_t lo = uint16_t(bus.read(uint16_t(0x40 + ctr), 1));
        return uint16_t(lo | bus.read(uint16_t(0x40 + ctr), 1) << 8);
    }
    // Read-back status of one counter.
    uint8_t status(int ctr) {
        control(uint8_t(0xE0 | (2 << ctr)));   // 11 1 0 cnt: latch status only
        return uint8_t(bus.read(uint16_t(0x40 + ctr), 1));
    }
    bool out_bit(int ctr) { return status(ctr) & 0x80; }
    std::vector<uint64_t> rises() const {
        std::vector<uint64_t> r;
        for (const Edge& e : edges)
            if (e.level) r.push_back(e.ns);
        return r;
    }
};

}  // namespace

TEST(PitClock, TickArithmeticRoundTrips) {
    EXPECT_EQ(Pit8254::tick_at(1000000000), 1193182u);   // one second is 1193182 input clocks
    for (uint64_t k : {0ull, 1ull, 2ull, 1193ull, 65536ull, 1193182ull, 123456789012ull}) {
        uint64_t ns = Pit8254::ns_of_tick(k);
        EXPECT_EQ(Pit8254::tick_at(ns), k);
        if (ns) {
            EXPECT_EQ(Pit8254::tick_at(ns - 1), k - 1);   // ns is the first ns of tick k
        }
    }
}

// Mode 2: the CE is loaded on the clock after the write, counts N..1, OUT is low while it
// holds 1, then it reloads N and OUT goes high again.
TEST_F(PitTest, Mode2CounterSequenceAndOutPulse) {
    control(0x34);          // counter 0, LSB/MSB, mode 2, binary
    write16(0, 4);          // at tick 0
    const uint16_t expect_ce[] = {4, 4, 3, 2, 1, 4, 3, 2, 1, 4, 3};
    const bool expect_out[] = {1, 1, 1, 1, 0, 1, 1, 1, 0, 1, 1};
    for (uint64_t k = 0; k < std::size(expect_ce); k++) {
        to_tick(k);
        EXPECT_EQ(latched(0), expect_ce[k]) << "tick " << k;
        EXPECT_EQ(out_bit(0), expect_out[k]) << "tick " << k;
    }
}

// IRQ0 in mode 2: one rising edge per period, N clocks apart, starting N+1 clocks after the
// write; the line toggles twice per period and never more often.
TEST_F(PitTest, Mode2IrqTimingOnTheClock) {
    const uint64_t n = 1193;   // ~1 ms
    control(0x34);
    write16(0, n);
    edges.clear();   // the control word itself raised OUT0
    to_tick(10 * n + 5);
    std::vector<uint64_t> r = rises();
    ASSERT_EQ(r.size(), 10u);
    for (uint64_t k = 1; k <= 10; k++)
        EXPECT_EQ(r[k - 1], Pit8254::ns_of_tick(1 + k * n)) << "period " << k;
    EXPECT_EQ(edges.size(), 20u);   // fall + rise per period: events only on OUT changes
    // And the falling edge is exactly one input clock before each rise.
    EXPECT_FALSE(edges[0].level);
    EXPECT_EQ(edges[0].ns, Pit8254::ns_of_tick(n));
}

// Late event delivery (the clock jumped over the whole low pulse) must still give the PIC
// a rising edge per delivery instead of silently losing it.
TEST_F(PitTest, Mode2LateEventStillProducesAnEdge) {
    control(0x34);
    write16(0, 100);
    edges.clear();
    clock.advance_insns(Pit8254::ns_of_tick(150));   // skip past the pulse at tick 100..101
    clock.run_due();
    ASSERT_FALSE(rises().empty());
    EXPECT_TRUE(pit.irq0.level());
}

// Mode 3, odd count: OUT high for (N+1)/2 clocks, low for (N-1)/2; the CE shows N, N-1,
// N-3, ... in the high half and N, N-3, ... in the low half.
TEST_F(PitTest, Mode3OddCountSequence) {
    control(0x36);   // counter 0, LSB/MSB, mode 3
    write16(0, 5);
    const uint16_t expect_ce[] = {5, 4, 2, 5, 2, 5, 4, 2, 5, 2};
    const bool expect_out[] = {1, 1, 1, 0, 0, 1, 1, 1, 0, 0};
    for (uint64_t i = 0; i < std::size(expect_ce); i++) {
        to_tick(1 + i);   // tick 1 is the load clock
        EXPECT_EQ(latched(0), expect_ce[i]) << "clock " << i;
        EXPECT_EQ(out_bit(0), expect_out[i]) << "clock " << i;
    }
}

TEST_F(PitTest, Mode3EvenCountSquareWaveOnIrq0) {
    const uint64_t n = 6;
    control(0x36);
    write16(0, n);
    const uint16_t expect_ce[] = {6, 4, 2, 6, 4, 2, 6};
    const bool expect_out[] = {1, 1, 1, 0, 0, 0, 1};
    for (uint64_t i = 0; i < std::size(expect_ce); i++) {
        to_tick(1 + i);
        EXPECT_EQ(latched(0), expect_ce[i]) << "clock " << i;
        EXPECT_EQ(out_bit(0), expect_out[i]) << "clock " << i;
    }
    edges.clear();
    to_tick(1 + 100 * n);
    std::vector<uint64_t> r = rises();
    ASSERT_GE(r.size(), 90u);
    for (size_t i = 1; i < r.size(); i++)
        EXPECT_EQ(Pit8254::tick_at(r[i]) - Pit8254::tick_at(r[i - 1]), n);
}

// The PC's 18.2 Hz tick: count 0 means 65536.
TEST_F(PitTest, CountZeroIs65536) {
    control(0x36);
    write16(0, 0);
    edges.clear();
    to_tick(1);
    EXPECT_EQ(latched(0), 0);   // 65536 reads back as 0
    to_tick(2);
    EXPECT_EQ(latched(0), 65534);
    to_tick(1 + 3 * 65536 + 1);
    std::vector<uint64_t> r = rises();
    ASSERT_EQ(r.size(), 3u);
    EXPECT_EQ(Pit8254::tick_at(r[1]) - Pit8254::tick_at(r[0]), 65536u);
}

// Mode 0: OUT low from the write, high N+1 clocks after it, and stays high (one IRQ, then
// no more events) while the counter wraps through FFFF.
TEST_F(PitTest, Mode0OneShot) {
    control(0x30);   // counter 0, LSB/MSB, mode 0
    write16(0, 100);
    EXPECT_FALSE(pit.irq0.level());
    to_tick(100);
    EXPECT_FALSE(out_bit(0));
    EXPECT_EQ(latched(0), 1);
    to_tick(101);
    EXPECT_TRUE(out_bit(0));
    EXPECT_EQ(latched(0), 0);
    to_tick(102);
    EXPECT_EQ(latched(0), 0xFFFF);   // keeps counting
    to_tick(100000);
    ASSERT_EQ(rises().size(), 1u);
    EXPECT_EQ(rises()[0], Pit8254::ns_of_tick(101));
    EXPECT_EQ(clock.next_deadline(), Clock::kNever);   // nothing left to schedule
}

// Mode 0: writing the first byte of a two-byte count stops counting and drops OUT.
TEST_F(PitTest, Mode0FirstByteStopsCountingAndDropsOut) {
    control(0x30);
    write16(0, 10);
    to_tick(20);
    EXPECT_TRUE(out_bit(0));
    bus.write(0x40, 50, 1);   // LSB only
    EXPECT_FALSE(pit.irq0.level());
    to_tick(100);
    EXPECT_FALSE(out_bit(0));   // no MSB yet: not counting
    bus.write(0x40, 0, 1);      // MSB: count 50 loads on the next clock
    to_tick(100 + 50);
    EXPECT_FALSE(out_bit(0));
    to_tick(100 + 51);
    EXPECT_TRUE(out_bit(0));
}

TEST_F(PitTest, LatchHoldsValueUntilReadAndIgnoresSecondLatch) {
    control(0x34);
    write16(0, 1000);
    to_tick(11);             // CE = 1000 - 10
    control(0x00);           // latch counter 0
    to_tick(500);
    control(0x00);           // ignored: the first latch was not read yet
    EXPECT_EQ(bus.read(0x40, 1), uint32_t(990 & 0xFF));
    to_tick(600);
    EXPECT_EQ(bus.read(0x40, 1), uint32_t(990 >> 8));
    // Latch consumed: the next reads follow the live counter again.
    to_tick(601);
    EXPECT_EQ(latched(0), 1000 - 600);
}

TEST_F(PitTest, LsbMsbFlipFlopAndSingleByteModes) {
    control(0x34);
    write16(0, 0x1234);
    to_tick(1);
    // Unlatched reads alternate LSB, MSB.
    EXPECT_EQ(bus.read(0x40, 1), 0x34u);
    EXPECT_EQ(bus.read(0x40, 1), 0x12u);
    // MSB-only access: written value is the high byte, reads give the high byte.
    control(0x64);   // counter 1, MSB only, mode 2
    bus.write(0x41, 0x02, 1);   // count 0x0200
    to_tick(2);
    EXPECT_EQ(pit.count(1), 0x200u);
    EXPECT_EQ(bus.read(0x41, 1), 0x02u);
    to_tick(3);
    EXPECT_EQ(pit.count(1), 0x1FFu);
    EXPECT_EQ(bus.read(0x41, 1), 0x01u);
    // LSB-only access.
    control(0x54);   // counter 1, LSB only, mode 2
    bus.write(0x41, 0x80, 1);
    to_tick(4);
    EXPECT_EQ(bus.read(0x41, 1), 0x80u);
    EXPECT_EQ(bus.read(0x41, 1), 0x80u);
}

TEST_F(PitTest, ReadBackStatusFields) {
    control(0x33);   // counter 0, LSB/MSB, mode 1, BCD
    // OUT high (mode 1 initial), null count (no count yet), RW=3, mode 1, BCD.
    EXPECT_EQ(status(0), 0x80 | 0x40 | 0x30 | 0x02 | 0x01);
    control(0xB0);   // counter 2, LSB/MSB, mode 0
    write16(2, 5);
    // Mode 0: OUT low after the write; null count until the next clock loads the CE.
    EXPECT_EQ(status(2), 0x40 | 0x30);
    to_tick(1);
    EXPECT_EQ(status(2), 0x30);
    // Read-back latching count and status of counters 0 and 2 at once: status comes first.
    control(0xB4);   // counter 2 mode 2
    write16(2, 7);
    to_tick(5);      // loaded at tick 2, CE = 7 - 3
    control(0xC0 | 0x08 | 0x02);   // latch count and status of counters 2 and 0
    EXPECT_EQ(bus.read(0x42, 1), 0x80u | 0x30 | 0x04);   // status: OUT high, mode 2
    EXPECT_EQ(bus.read(0x42, 1), 4u);
    EXPECT_EQ(bus.read(0x42, 1), 0u);
}

TEST_F(PitTest, BcdCounting) {
    control(0x35);           // counter 0, LSB/MSB, mode 2, BCD
    write16(0, 0x0100);      // 100 decimal
    to_tick(1);
    EXPECT_EQ(latched(0), 0x0100);
    to_tick(2);
    EXPECT_EQ(latched(0), 0x0099);
    to_tick(1 + 99);
    EXPECT_EQ(latched(0), 0x0001);
    to_tick(1 + 100);
    EXPECT_EQ(latched(0), 0x0100);   // reload: the period is 100 clocks, not 0x100
    // BCD count 0 is 10000.
    control(0x31);           // mode 0, BCD
    write16(0, 0);
    uint64_t t0 = Pit8254::tick_at(clock.now());
    to_tick(t0 + 2);
    EXPECT_EQ(latched(0), 0x9999);
    to_tick(t0 + 1 + 10000);
    EXPECT_TRUE(out_bit(0));
    to_tick(t0 + 1 + 10001);
    EXPECT_EQ(latched(0), 0x9999);   // wraps in decimal
}

// Mode 2: a new count written while counting takes effect at the end of the current period.
TEST_F(PitTest, Mode2NewCountAtEndOfPeriod) {
    control(0x34);
    write16(0, 10);
    edges.clear();
    to_tick(4);              // CE = 7, in the first period (ticks 1..10)
    write16(0, 3);
    to_tick(10);
    EXPECT_EQ(latched(0), 1);   // old count still running
    to_tick(11);
    EXPECT_EQ(latched(0), 3);   // reloaded with the new count
    to_tick(13);
    EXPECT_EQ(latched(0), 1);
    EXPECT_FALSE(out_bit(0));
    to_tick(14);
    EXPECT_EQ(latched(0), 3);
    std::vector<uint64_t> r = rises();
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r[0], Pit8254::ns_of_tick(11));
    EXPECT_EQ(r[1], Pit8254::ns_of_tick(14));
}

// Mode 3: a new count is loaded at the end of the current half period.
TEST_F(PitTest, Mode3NewCountAtEndOfHalfPeriod) {
    control(0x36);
    write16(0, 100);
    to_tick(11);              // in the high half (ticks 1..50)
    write16(0, 10);
    to_tick(50);
    EXPECT_TRUE(out_bit(0));
    to_tick(51);             // half period over: OUT low, new count's low half (5 clocks)
    EXPECT_FALSE(out_bit(0));
    EXPECT_EQ(latched(0), 10);
    to_tick(55);
    EXPECT_FALSE(out_bit(0));
    to_tick(56);
    EXPECT_TRUE(out_bit(0));
    to_tick(61);
    EXPECT_FALSE(out_bit(0));
}

// Mode 4: OUT pulses low for one clock N+1 clocks after the write.
TEST_F(PitTest, Mode4SoftwareStrobe) {
    control(0x38);   // counter 0, LSB/MSB, mode 4
    write16(0, 20);
    edges.clear();
    to_tick(20);
    EXPECT_TRUE(out_bit(0));
    to_tick(21);
    EXPECT_FALSE(out_bit(0));
    to_tick(22);
    EXPECT_TRUE(out_bit(0));
    to_tick(200);
    EXPECT_EQ(rises().size(), 1u);
}

struct Port61Test : PitTest {
    Port61 port61{bus, clock, pit};
    bool out2_bit() { return bus.read(0x61, 1) & 0x20; }
};

// Counter 2 through port 0x61: mode 0 does not count while GATE (bit 0) is low.
TEST_F(Port61Test, Mode0GateHoldsTheCount) {
    control(0xB0);
    write16(2, 10);
    to_tick(50);
    EXPECT_EQ(pit.count(2), 10u);
    EXPECT_FALSE(out2_bit());
    bus.write(0x61, 0x01, 1);   // gate high at tick 50: counts from the next clock
    to_tick(55);
    EXPECT_EQ(pit.count(2), 5u);
    bus.write(0x61, 0x00, 1);   // pause
    to_tick(80);
    EXPECT_EQ(pit.count(2), 5u);
    bus.write(0x61, 0x01, 1);   // resumes at 5 without reloading
    to_tick(84);
    EXPECT_FALSE(out2_bit());
    to_tick(85);
    EXPECT_TRUE(out2_bit());
    EXPECT_EQ(bus.read(0x61, 1) & 0x0F, 0x01u);
}

// Mode 1 is triggered by the GATE rising edge: OUT low for N clocks from the next clock;
// a retrigger restarts the pulse. This is how firmware calibrates delays with counter 2.
TEST_F(Port61Test, Mode1GateTriggeredOneShot) {
    control(0xB2);   // counter 2, LSB/MSB, mode 1
    write16(2, 30);
    to_tick(10);
    EXPECT_TRUE(out2_bit());   // waiting for a trigger
    bus.write(0x61, 0x01, 1);  // trigger at tick 10
    EXPECT_TRUE(out2_bit());
    to_tick(11);
    EXPECT_FALSE(out2_bit());
    to_tick(20);
    bus.write(0x61, 0x00, 1);
    bus.write(0x61, 0x01, 1);  // retrigger at tick 20: pulse now ends at 21 + 30
    to_tick(41);
    EXPECT_FALSE(out2_bit());
    to_tick(50);
    EXPECT_FALSE(out2_bit());
    to_tick(51);
    EXPECT_TRUE(out2_bit());
}

// Mode 3 gated off: OUT is forced high at once; the rising gate reloads the count.
TEST_F(Port61Test, Mode3GateForcesOutHighAndReloads) {
    control(0xB6);   // counter 2, LSB/MSB, mode 3
    write16(2, 8);
    bus.write(0x61, 0x03, 1);   // gate + speaker at tick 0
    to_tick(6);                 // loaded at 1: low half is ticks 5..8
    EXPECT_FALSE(out2_bit());
    bus.write(0x61, 0x02, 1);
    EXPECT_TRUE(out2_bit());
    to_tick(20);
    EXPECT_TRUE(out2_bit());
    bus.write(0x61, 0x03, 1);   // reload at tick 21
    to_tick(21);
    EXPECT_EQ(pit.count(2), 8u);
    to_tick(25);
    EXPECT_FALSE(out2_bit());
}

TEST_F(Port61Test, RefreshToggleFlipsWithTime) {
    uint8_t a = uint8_t(bus.read(0x61, 1) & 0x10);
    run_until(clock, clock.now() + Port61::kRefreshPeriodNs);
    uint8_t b = uint8_t(bus.read(0x61, 1) & 0x10);
    run_until(clock, clock.now() + Port61::kRefreshPeriodNs);
    uint8_t c = uint8_t(bus.read(0x61, 1) & 0x10);
    EXPECT_NE(a, b);
    EXPECT_EQ(a, c);
    bus.write(0x61, 0xFF, 1);   // bits 4..7 are read-only
    EXPECT_EQ(bus.read(0x61, 1) & 0xCF, 0x0Fu);
}

// Guest nonsense must not crash or schedule an event per input clock.
TEST_F(PitTest, IllegalProgrammingIsHarmless) {
    EXPECT_EQ(bus.read(0x43, 1), 0xFFu);   // control register is write-only
    control(0x34);
    write16(0, 1);                          // count 1 is illegal in mode 2
    to_tick(1000);
    EXPECT_EQ(clock.next_deadline(), Clock::kNever);
    control(0x36);
    write16(0, 1);                          // and in mode 3
    to_tick(2000);
    EXPECT_EQ(clock.next_deadline(), Clock::kNever);
    control(0x3E);                          // mode 7 = mode 3 (bit 3 don't care)
    write16(0, 4);
    to_tick(2001);
    EXPECT_EQ(latched(0), 4);
    control(0x35);
    write16(0, 0xABCD);                     // not BCD digits
    to_tick(2010);
    (void)latched(0);
    for (int i = 0; i < 8; i++) bus.read(0x40, 1);   // reads with nothing latched
    control(0xFF);                          // read-back of nothing much
}
