// QEMU-compatible debug devices: the 0xE9 debug console and isa-debug-exit.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "devices/debugcon.hpp"
#include "devices/isa_debug_exit.hpp"
#include "machine/bus/port_bus.hpp"

using namespace lift86;

TEST(DebugCon, WritesGoOutReadsReturnReadback) {
    PortBus bus;
    DebugCon con{bus};
    std::string out;
    con.on_output = [&](uint8_t b) { out.push_back(char(b)); };
    for (char c : std::string("ok\n")) bus.write(0xE9, uint8_t(c), 1);
    EXPECT_EQ(out, "ok\n");
    EXPECT_EQ(bus.read(0xE9, 1), 0xE9u);   // how SeaBIOS detects the console
    EXPECT_EQ(bus.read(0xEA, 1), 0xFFu);   // one port only
}

TEST(DebugCon, ConfigurablePortAndReadback) {
    PortBus bus;
    DebugCon con{bus, 0x402, 0x00};
    std::string out;
    con.on_output = [&](uint8_t b) { out.push_back(char(b)); };
    bus.write(0x402, 'x', 1);
    bus.write(0xE9, 'y', 1);
    EXPECT_EQ(out, "x");
    EXPECT_EQ(bus.read(0x402, 1), 0x00u);
}

TEST(IsaDebugExit, ExitCodeIsValueTimesTwoPlusOne) {
    PortBus bus;
    IsaDebugExit dev{bus};
    std::vector<uint32_t> codes;
    dev.on_exit = [&](uint32_t c) { codes.push_back(c); };
    bus.write(0x501, 0x00, 1);
    bus.write(0x502, 0x10, 1);   // second port of the default iosize 2
    bus.write(0x501, 0x1234, 2);
    bus.write(0x503, 0x01, 1);   // outside the device
    EXPECT_EQ(codes, (std::vector<uint32_t>{1, 0x21, 0x2469}));
}

TEST(IsaDebugExit, ConfigurableBase) {
    PortBus bus;
    IsaDebugExit dev{bus, 0xF4, 4};
    uint32_t code = 0;
    dev.on_exit = [&](uint32_t c) { code = c; };
    bus.write(0xF4, 0x31, 1);
    EXPECT_EQ(code, 0x63u);
    bus.write(0xF7, 0x02, 1);
    EXPECT_EQ(code, 0x05u);
}
