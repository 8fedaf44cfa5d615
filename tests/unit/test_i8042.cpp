// 8042 keyboard controller with PS/2 keyboard and mouse, and system control port A (0x92):
// controller commands, command byte, output port (A20, reset), IRQ1/IRQ12, keyboard and
// mouse command sets, set 2 -> set 1 translation. Behaviour per the IBM PS/2 Hardware
// Interface Technical Reference.
#include <gtest/gtest.h>

#include <vector>

#include "devices/i8042.hpp"
#include "devices/port92.hpp"
#include "machine/bus/port_bus.hpp"

using namespace lift86;

namespace {

struct KbcTest : ::testing::Test {
    PortBus bus;
    I8042 kbc{bus};
    std::vector<bool> a20;
    int resets = 0;

    KbcTest() {
        kbc.on_a20 = [this](bool v) { a20.push_back(v); };
        kbc.on_reset = [this] { resets++; };
    }
    uint8_t status() { return uint8_t(bus.read(0x64, 1)); }
    void cmd(uint8_t c) { bus.write(0x64, c, 1); }
    void data(uint8_t d) { bus.write(0x60, d, 1); }
    // Everything the guest can read from the output buffer right now.
    std::vector<uint8_t> drain() {
        std::vector<uint8_t> v;
        while (status() & 0x01) v.push_back(uint8_t(bus.read(0x60, 1)));
        return v;
    }
    using Bytes = std::vector<uint8_t>;
};

}  // namespace

TEST_F(KbcTest, SelfTestSetsSystemFlag) {
    EXPECT_EQ(status() & 0x04, 0);   // cold boot
    cmd(0xAA);
    EXPECT_EQ(status() & 0x09, 0x09);   // OBF, last write was a command
    EXPECT_EQ(drain(), Bytes{0x55});
    EXPECT_EQ(status() & 0x04, 0x04);
    cmd(0xAB);
    EXPECT_EQ(drain(), Bytes{0x00});   // keyboard interface OK
    cmd(0xA9);
    EXPECT_EQ(drain(), Bytes{0x00});   // aux interface OK
    data(0xF4);
    EXPECT_EQ(status() & 0x08, 0);     // A2 = 0 after a data write
}

TEST_F(KbcTest, CommandByteReadWrite) {
    cmd(0x20);
    EXPECT_EQ(drain(), Bytes{0x41});   // INT + XLAT before firmware touches it
    cmd(0x60);
    data(0x47);
    EXPECT_EQ(kbc.command_byte(), 0x47);
    EXPECT_EQ(status() & 0x04, 0x04);  // SYS copied to the status register
    cmd(0x20);
    EXPECT_EQ(drain(), Bytes{0x47});
    cmd(0xAD);                         // disable keyboard sets bit 4
    cmd(0xA7);                         // disable aux sets bit 5
    cmd(0x20);
    EXPECT_EQ(drain(), Bytes{0x77});
    cmd(0xAE);
    cmd(0xA8);
    cmd(0x20);
    EXPECT_EQ(drain(), Bytes{0x47});
}

TEST_F(KbcTest, OutputPortDrivesA20AndReset) {
    cmd(0xD0);
    uint8_t port = drain().at(0);
    EXPECT_EQ(port & 0x03, 0x03);      // not in reset, A20 enabled
    cmd(0xD1);
    data(0xDD);                        // A20 off
    EXPECT_EQ(a20, std::vector<bool>{false});
    EXPECT_FALSE(kbc.a20());
    cmd(0xD0);
    EXPECT_EQ(drain().at(0) & 0x02, 0);
    cmd(0xD1);
    data(0xDF);                        // A20 on
    EXPECT_EQ(a20.back(), true);
    EXPECT_EQ(resets, 0);
    cmd(0xD1);
    data(0xDE);                        // bit 0 low: CPU reset
    EXPECT_EQ(resets, 1);
    cmd(0xDD);                         // HP Vectra style A20 commands
    EXPECT_FALSE(kbc.a20());
    cmd(0xDF);
    EXPECT_TRUE(kbc.a20());
    EXPECT_EQ(resets, 1);              // the reset was a pulse, not a level left low
}

TEST_F(KbcTest, PulseOutputPortResets) {
    cmd(0xFF);                         // pulse nothing
    EXPECT_EQ(resets, 0);
    cmd(0xFE);                         // pulse bit 0
    EXPECT_EQ(resets, 1);
}

TEST_F(KbcTest, KeyboardResetAndIdentify) {
    cmd(0x60);
    data(0x01);                        // no translation
    data(0xFF);
    EXPECT_EQ(drain(), (Bytes{0xFA, 0xAA}));
    data(0xF2);
    EXPECT_EQ(drain(), (Bytes{0xFA, 0xAB, 0x83}));
    data(0xEE);
    EXPECT_EQ(drain(), Bytes{0xEE});
    data(0x12);                        // not a command
    EXPECT_EQ(drain(), Bytes{0xFE});
}

// With XLAT the controller translates replies too: the ID reads AB 41 and the scan code
// set query answers 41 for set 2.
TEST_F(KbcTest, TranslationAppliesToReplies) {
    data(0xF2);
    EXPECT_EQ(drain(), (Bytes{0xFA, 0xAB, 0x41}));
    data(0xF0);
    data(0x00);
    EXPECT_EQ(drain(), (Bytes{0xFA, 0xFA, 0x41}));
}

TEST_F(KbcTest, LedsAndTypematic) {
    std::vector<uint8_t> leds;
    kbc.on_leds = [&](uint8_t v) { leds.push_back(v); };
    data(0xED);
    data(0x05);
    EXPECT_EQ(drain(), (Bytes{0xFA, 0xFA}));
    EXPECT_EQ(leds, Bytes{0x05});
    EXPECT_EQ(kbc.leds(), 0x05);
    data(0xF3);
    data(0x20);
    EXPECT_EQ(drain(), (Bytes{0xFA, 0xFA}));
}

TEST_F(KbcTest, Set2ToSet1TranslationOfMakeAndBreak) {
    kbc.key_event(0x1C, true);         // A
    kbc.key_event(0x1C, false);
    kbc.key_event(0xE075, true);       // Up
    kbc.key_event(0xE075, false);
    kbc.key_event(0x76, true);         // Esc
    kbc.key_event(0x83, true);         // F7, the one set 2 key above 7F
    EXPECT_EQ(drain(), (Bytes{0x1E, 0x9E, 0xE0, 0x48, 0xE0, 0xC8, 0x01, 0x41}));
    const uint8_t pause[] = {0xE1, 0x14, 0x77, 0xE1, 0xF0, 0x14, 0xF0, 0x77};
    kbc.key_bytes(pause, sizeof pause);
    EXPECT_EQ(drain(), (Bytes{0xE1, 0x1D, 0x45, 0xE1, 0x9D, 0xC5}));
}

TEST_F(KbcTest, NoTranslationPassesSet2Through) {
    cmd(0x60);
    data(0x01);
    kbc.key_event(0x1C, true);
    kbc.key_event(0x1C, false);
    EXPECT_EQ(drain(), (Bytes{0x1C, 0xF0, 0x1C}));
}

TEST_F(KbcTest, KeyboardInNativeSet1) {
    cmd(0x60);
    data(0x01);                        // controller does not translate
    data(0xF0);
    data(0x01);
    EXPECT_EQ(drain(), (Bytes{0xFA, 0xFA}));
    kbc.key_event(0x1C, true);
    kbc.key_event(0x1C, false);
    EXPECT_EQ(drain(), (Bytes{0x1E, 0x9E}));
}

TEST_F(KbcTest, Irq1FollowsOutputBufferAndIntBit) {
    kbc.key_event(0x1C, true);
    EXPECT_TRUE(kbc.irq_kbd.level());
    bus.read(0x60, 1);
    EXPECT_FALSE(kbc.irq_kbd.level());
    cmd(0x60);
    data(0x40);                        // INT off
    kbc.key_event(0x1C, false);
    EXPECT_FALSE(kbc.irq_kbd.level());
    EXPECT_EQ(status() & 0x01, 0x01);  // polled instead
    EXPECT_EQ(bus.read(0x60, 1), 0x9Eu);
}

TEST_F(KbcTest, DisabledKeyboardHoldsKeys) {
    cmd(0xAD);
    kbc.key_event(0x1C, true);
    EXPECT_EQ(status() & 0x01, 0);
    cmd(0xAE);
    EXPECT_EQ(drain(), Bytes{0x1E});
    data(0xF5);                        // keyboard disables scanning
    EXPECT_EQ(drain(), Bytes{0xFA});
    kbc.key_event(0x1C, true);
    EXPECT_TRUE(drain().empty());
    data(0xF4);
    EXPECT_EQ(drain(), Bytes{0xFA});
}

TEST_F(KbcTest, KeyboardBufferOverrun) {
    cmd(0xAD);
    for (int i = 0; i < 20; i++) kbc.key_event(0x1C, true);
    EXPECT_EQ(kbc.key_room(), 0u);
    cmd(0xAE);
    std::vector<uint8_t> got = drain();
    ASSERT_EQ(got.size(), 16u);
    EXPECT_EQ(got.back(), 0xFF);       // overrun code (00 in set 2, FF translated)
}

TEST_F(KbcTest, MouseCommandsAndPackets) {
    cmd(0x60);
    data(0x03);                        // INT + INT2, no translation
    cmd(0xD4);
    data(0xFF);                        // reset
    EXPECT_EQ(status() & 0x21, 0x21);  // OBF with aux data
    EXPECT_TRUE(kbc.irq_mouse.level());
    EXPECT_FALSE(kbc.irq_kbd.level());
    EXPECT_EQ(drain(), (Bytes{0xFA, 0xAA, 0x00}));
    cmd(0xD4);
    data(0xF2);
    EXPECT_EQ(drain(), (Bytes{0xFA, 0x00}));
    kbc.mouse_event(5, -3, 1);         // not reporting yet
    EXPECT_TRUE(drain().empty());
    cmd(0xD4);
    data(0xF4);
    EXPECT_EQ(drain(), Bytes{0xFA});
    kbc.mouse_event(5, -3, 1);         // left button, right 5, down 3
    EXPECT_EQ(drain(), (Bytes{0x29, 0x05, 0xFD}));
    kbc.mouse_event(-300, 20, 6);      // X overflow, right + middle
    EXPECT_EQ(drain(), (Bytes{0x5E, 0x00, 0x14}));
    cmd(0xD4);
    data(0xF3);
    cmd(0xD4);
    data(40);
    EXPECT_EQ(drain(), (Bytes{0xFA, 0xFA}));
    cmd(0xD4);
    data(0xE9);                        // status: stream, enabled, buttons R+M, res 2, 40/s
    EXPECT_EQ(drain(), (Bytes{0xFA, 0x23, 0x02, 40}));
}

TEST_F(KbcTest, MouseRemoteModeAndWrap) {
    cmd(0xD4);
    data(0xF0);                        // remote mode
    kbc.mouse_event(3, 4, 0);
    kbc.mouse_event(1, 1, 0);
    EXPECT_EQ(drain(), Bytes{0xFA});
    cmd(0xD4);
    data(0xEB);                        // read data
    EXPECT_EQ(drain(), (Bytes{0xFA, 0x08, 0x04, 0x05}));
    cmd(0xD4);
    data(0xEE);                        // wrap mode echoes
    EXPECT_EQ(drain(), Bytes{0xFA});
    cmd(0xD4);
    data(0x42);
    EXPECT_EQ(drain(), Bytes{0x42});
    cmd(0xD4);
    data(0xEC);                        // reset wrap mode is not echoed
    EXPECT_EQ(drain(), Bytes{0xFA});
}

TEST_F(KbcTest, DisabledAuxHoldsMouseDataAndWriteAuxBufferCommands) {
    cmd(0xA7);
    cmd(0xD4);
    data(0xF2);
    EXPECT_EQ(status() & 0x01, 0);
    cmd(0xA8);
    EXPECT_EQ(drain(), (Bytes{0xFA, 0x00}));
    cmd(0xD2);
    data(0x9C);                        // as if from the keyboard: not translated
    EXPECT_EQ(status() & 0x20, 0);
    EXPECT_EQ(drain(), Bytes{0x9C});
    cmd(0xD3);
    data(0x33);                        // as if from the mouse
    EXPECT_EQ(status() & 0x20, 0x20);
    EXPECT_EQ(drain(), Bytes{0x33});
}

TEST_F(KbcTest, NonsenseDoesNotCrash) {
    for (int c = 0; c < 256; c++) {   // every controller command, each with a data byte
        cmd(uint8_t(c));
        data(0x00);
    }
    drain();
    bus.read(0x60, 1);                 // empty buffer: last byte again, no crash
    kbc.key_bytes(nullptr, 0);
}

TEST(Port92, FastA20AndReset) {
    PortBus bus;
    Port92 p{bus};
    std::vector<bool> a20;
    int resets = 0;
    p.on_a20 = [&](bool v) { a20.push_back(v); };
    p.on_reset = [&] { resets++; };
    EXPECT_EQ(bus.read(0x92, 1), 0x00u);
    bus.write(0x92, 0x02, 1);
    EXPECT_EQ(a20, std::vector<bool>{true});
    EXPECT_EQ(bus.read(0x92, 1), 0x02u);
    EXPECT_EQ(resets, 0);
    bus.write(0x92, 0x03, 1);          // 0 -> 1 on bit 0: reset
    EXPECT_EQ(resets, 1);
    EXPECT_EQ(bus.read(0x92, 1), 0x02u);
    bus.write(0x92, 0x03, 1);          // and again after the bit cleared itself
    EXPECT_EQ(resets, 2);
    bus.write(0x92, 0x00, 1);
    EXPECT_EQ(a20.back(), false);
}
