// MC146818A RTC / CMOS: calendar in BCD and binary, 12/24 h, SET, divider control, UIP,
// periodic / update-ended / alarm interrupts on IRQ8, register C clear-on-read, NVRAM.
// Behaviour per the Motorola MC146818A data sheet.
#include <gtest/gtest.h>

#include <vector>

#include "devices/cmos_rtc.hpp"
#include "machine/bus/clock.hpp"
#include "machine/bus/port_bus.hpp"

using namespace lift86;

namespace {

constexpr uint64_t kSec = 1000000000;
// 2024-02-29 23:59:58 UTC, a Thursday in a leap year, two seconds before March.
constexpr std::time_t kStart = 1709164800 + 23 * 3600 + 59 * 60 + 58;

void run_until(Clock& c, uint64_t ns) {
    while (c.next_deadline() <= ns) {
        c.skip_to_next_event();
        c.run_due();
    }
    if (ns > c.now()) c.advance_insns(ns - c.now());
    c.run_due();
}

struct RtcTest : ::testing::Test {
    Clock clock{Clock::Mode::Virtual, 1};
    PortBus bus;
    CmosRtc rtc{bus, clock, kStart};
    std::vector<uint64_t> rises;

    RtcTest() {
        rtc.irq.connect([this](bool l) {
            if (l) rises.push_back(clock.now());
        });
    }
    uint8_t rd(uint8_t i) {
        bus.write(0x70, i, 1);
        return uint8_t(bus.read(0x71, 1));
    }
    void wr(uint8_t i, uint8_t v) {
        bus.write(0x70, i, 1);
        bus.write(0x71, v, 1);
    }
    void advance(uint64_t ns) { run_until(clock, clock.now() + ns); }
};

}  // namespace

TEST_F(RtcTest, BcdCalendarRollsIntoMarchOfLeapYear) {
    EXPECT_EQ(rd(0x00), 0x58);
    EXPECT_EQ(rd(0x02), 0x59);
    EXPECT_EQ(rd(0x04), 0x23);
    EXPECT_EQ(rd(0x06), 5);      // Thursday (Sunday = 1)
    EXPECT_EQ(rd(0x07), 0x29);
    EXPECT_EQ(rd(0x08), 0x02);
    EXPECT_EQ(rd(0x09), 0x24);
    EXPECT_EQ(rd(0x32), 0x20);   // century
    advance(2 * kSec);
    EXPECT_EQ(rd(0x00), 0x00);
    EXPECT_EQ(rd(0x02), 0x00);
    EXPECT_EQ(rd(0x04), 0x00);
    EXPECT_EQ(rd(0x06), 6);      // Friday
    EXPECT_EQ(rd(0x07), 0x01);
    EXPECT_EQ(rd(0x08), 0x03);
}

TEST_F(RtcTest, SecondsFollowTheMachineClock) {
    advance(kSec - 1);
    EXPECT_EQ(rd(0x00), 0x58);
    advance(1);
    EXPECT_EQ(rd(0x00), 0x59);
    advance(61 * kSec);
    EXPECT_EQ(rd(0x00), 0x00);
    EXPECT_EQ(rd(0x02), 0x01);
}

TEST_F(RtcTest, BinaryAnd12HourModes) {
    wr(0x0B, 0x06);   // binary, 24 h
    EXPECT_EQ(rd(0x00), 58);
    EXPECT_EQ(rd(0x04), 23);
    EXPECT_EQ(rd(0x07), 29);
    EXPECT_EQ(rd(0x09), 24);
    wr(0x0B, 0x04);   // binary, 12 h: 11 PM
    EXPECT_EQ(rd(0x04), 0x80 | 11);
    wr(0x0B, 0x00);   // BCD, 12 h
    EXPECT_EQ(rd(0x04), 0x91);
    advance(2 * kSec);
    EXPECT_EQ(rd(0x04), 0x12);   // midnight is 12 AM
}

TEST_F(RtcTest, SetBitFreezesAndLoadsTheTime) {
    wr(0x0B, 0x82);   // SET, BCD, 24 h
    advance(5 * kSec);
    EXPECT_EQ(rd(0x00), 0x58);   // frozen while SET
    wr(0x00, 0x30);
    wr(0x02, 0x15);
    wr(0x04, 0x07);
    wr(0x07, 0x31);
    wr(0x08, 0x12);
    wr(0x09, 0x99);
    wr(0x32, 0x19);
    EXPECT_EQ(rd(0x07), 0x31);
    wr(0x0B, 0x02);   // run from 1999-12-31 07:15:30
    advance(kSec);
    EXPECT_EQ(rd(0x00), 0x31);
    EXPECT_EQ(rd(0x04), 0x07);
    EXPECT_EQ(rd(0x09), 0x99);
    EXPECT_EQ(rd(0x06), 6);      // 1999-12-31 was a Friday
}

TEST_F(RtcTest, WritingATimeRegisterWhileRunningChangesOneField) {
    wr(0x02, 0x10);   // minutes only: 23:10:58
    EXPECT_EQ(rd(0x02), 0x10);
    EXPECT_EQ(rd(0x04), 0x23);
    EXPECT_EQ(rd(0x00), 0x58);
    EXPECT_EQ(rd(0x07), 0x29);
    advance(2 * kSec);        // and the clock runs on from there
    EXPECT_EQ(rd(0x02), 0x11);
    EXPECT_EQ(rd(0x00), 0x00);
}

TEST_F(RtcTest, DividerResetStopsTheClockAndRestartsHalfASecondIn) {
    wr(0x0A, 0x70);   // divider chain held in reset
    advance(10 * kSec);
    EXPECT_EQ(rd(0x00), 0x58);
    wr(0x0A, 0x26);   // first update 500 ms later
    advance(kSec / 2 - 1000);
    EXPECT_EQ(rd(0x00), 0x58);
    advance(2000);
    EXPECT_EQ(rd(0x00), 0x59);
}

TEST_F(RtcTest, UipIsSetJustBeforeTheUpdate) {
    advance(kSec / 2);
    EXPECT_EQ(rd(0x0A) & 0x80, 0);
    advance(kSec / 2 - 1000000);   // 1 ms before the second changes
    EXPECT_EQ(rd(0x0A) & 0x80, 0x80);
    EXPECT_EQ(rd(0x0A) & 0x7F, 0x26);
    advance(1000000);
    EXPECT_EQ(rd(0x0A) & 0x80, 0);
    wr(0x0B, 0x82);   // SET: no updates, so no UIP
    advance(kSec - 1000000);
    EXPECT_EQ(rd(0x0A) & 0x80, 0);
}

// Rate 6 = 1024 Hz; IRQ8 comes once per period as long as register C is read each time.
TEST_F(RtcTest, PeriodicInterruptRate) {
    rtc.irq.connect([this](bool l) {
        if (l) {
            rises.push_back(clock.now());
            rd(0x0C);   // the handler reads C, which releases IRQ8
        }
    });
    wr(0x0B, 0x42);   // PIE
    advance(kSec);
    EXPECT_NEAR(double(rises.size()), 1024.0, 1.0);
    for (size_t i = 1; i < rises.size(); i++)
        EXPECT_NEAR(double(rises[i] - rises[i - 1]), 976562.5, 1.0);
    rises.clear();
    wr(0x0A, 0x2F);   // rate 15 = 2 Hz
    advance(kSec);
    EXPECT_EQ(rises.size(), 2u);
    rises.clear();
    wr(0x0A, 0x23);   // rate 3 = 8192 Hz
    advance(kSec / 8);
    EXPECT_NEAR(double(rises.size()), 1024.0, 1.0);
}

TEST_F(RtcTest, RegisterCClearsOnReadAndIrqWaitsForIt) {
    wr(0x0B, 0x42);
    advance(10000000);   // 10 ms: ten periods, but C was never read
    EXPECT_EQ(rises.size(), 1u);
    EXPECT_TRUE(rtc.irq.level());
    EXPECT_EQ(rd(0x0C), 0xC0);   // IRQF + PF
    EXPECT_FALSE(rtc.irq.level());
    EXPECT_EQ(rd(0x0C), 0x00);
    advance(1000000);
    EXPECT_EQ(rises.size(), 2u);
}

TEST_F(RtcTest, FlagsAreSetWithoutTheirEnables) {
    advance(3 * kSec);   // periodic rate 1024 Hz selected, PIE/UIE/AIE off
    EXPECT_TRUE(rises.empty());
    // PF, UF, and AF too: the alarm registers hold 00:00:00 and midnight has passed.
    EXPECT_EQ(rtc.get_byte(0x0C), 0x70);   // the board's view has no side effect
    EXPECT_EQ(rd(0x0C), 0x70);             // no IRQF: nothing was enabled
    EXPECT_EQ(rd(0x0C), 0x00);
}

TEST_F(RtcTest, UpdateEndedInterruptOncePerSecond) {
    rtc.irq.connect([this](bool l) {
        if (l) {
            rises.push_back(clock.now());
            EXPECT_EQ(rd(0x0C) & 0x90, 0x90);
        }
    });
    wr(0x0A, 0x20);   // no periodic rate
    wr(0x0B, 0x12);   // UIE
    advance(5 * kSec + kSec / 2);
    ASSERT_EQ(rises.size(), 5u);
    for (size_t i = 0; i < 5; i++) EXPECT_EQ(rises[i], (i + 1) * kSec);
    wr(0x0B, 0x92);   // SET clears UIE
    EXPECT_EQ(rd(0x0B), 0x82);
}

TEST_F(RtcTest, AlarmInterruptAtTheMatchingSecond) {
    wr(0x0A, 0x20);
    wr(0x01, 0x03);   // 00:00:03
    wr(0x03, 0x00);
    wr(0x05, 0x00);
    wr(0x0B, 0x22);   // AIE
    advance(4 * kSec);
    EXPECT_TRUE(rises.empty());   // 23:59:58 -> 00:00:02
    advance(kSec);
    ASSERT_EQ(rises.size(), 1u);
    EXPECT_EQ(rises[0], 5 * kSec);
    EXPECT_EQ(rd(0x0C), 0xB0);   // IRQF, AF (and UF, whose enable is off)
    // Don't-care values (11xxxxxx) in all three bytes: an alarm every second.
    wr(0x01, 0xC0);
    wr(0x03, 0xFF);
    wr(0x05, 0xC0);
    rtc.irq.connect([this](bool l) {
        if (l) {
            rises.push_back(clock.now());
            rd(0x0C);
        }
    });
    rises.clear();
    advance(3 * kSec);
    EXPECT_EQ(rises.size(), 3u);
}

TEST_F(RtcTest, AlarmSeenInRegisterCAfterALongGap) {
    wr(0x01, 0x00);
    wr(0x03, 0x00);
    wr(0x05, 0x12);   // 12:00:00
    advance(3600 * kSec);
    EXPECT_EQ(rd(0x0C) & 0x20, 0);
    advance(12 * 3600 * kSec);
    EXPECT_EQ(rd(0x0C) & 0x20, 0x20);
}

TEST_F(RtcTest, NvramIndexNmiMaskAndBoardBytes) {
    rtc.set_byte(0x15, 0x80);   // base memory 640 KiB
    rtc.set_byte(0x16, 0x02);
    rtc.set_byte(0x34, 0x12);
    EXPECT_EQ(rd(0x15), 0x80);
    EXPECT_EQ(rd(0x16), 0x02);
    EXPECT_EQ(rd(0x34), 0x12);
    bus.write(0x70, 0x80 | 0x15, 1);   // NMI masked, same index
    EXPECT_TRUE(rtc.nmi_masked());
    EXPECT_EQ(bus.read(0x71, 1), 0x80u);
    bus.write(0x70, 0x15, 1);
    EXPECT_FALSE(rtc.nmi_masked());
    wr(0x7F, 0xA5);
    EXPECT_EQ(rd(0x7F), 0xA5);
    EXPECT_EQ(rd(0x0D), 0x80);   // VRT
    wr(0x0D, 0x00);
    wr(0x0C, 0xFF);              // read-only registers ignore writes
    EXPECT_EQ(rd(0x0D), 0x80);
    EXPECT_EQ(bus.read(0x70, 1), 0xFFu);
}

TEST_F(RtcTest, GarbageTimeValuesDoNotCrash) {
    wr(0x0B, 0x82);
    for (uint8_t i : {0x00, 0x02, 0x04, 0x06, 0x07, 0x08, 0x09, 0x32}) wr(i, 0xFF);
    wr(0x0B, 0x02);
    advance(2 * kSec);
    for (uint8_t i = 0; i < 0x0E; i++) rd(i);
    wr(0x0A, 0x7F);
    wr(0x0A, 0x2F);
    advance(kSec);
}
