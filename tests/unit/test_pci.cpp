// PCI configuration mechanism #1, the PciDevice model (BAR sizing and decoding, INTx), the
// PIIX3 Reset Control register, PIRQ routing, the i440FX PAM shadow RAM and the PIIX3 IDE
// function, driven through ports 0xCF8-0xCFF the way SeaBIOS and Linux drive them.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "devices/i440fx.hpp"
#include "devices/pci_bus.hpp"
#include "machine/bus/phys_memory.hpp"
#include "machine/bus/port_bus.hpp"

using namespace lift86;

namespace {

// A function with one of each BAR kind, a writable device register at 0x40 and INTA#.
struct TestDevice final : PciDevice {
    TestDevice() : PciDevice(0x1234, 0x5678, 0x07, 0x020000) {
        declare_bar(0, BarType::kIo, 32);
        declare_bar(1, BarType::kMem32Prefetch, 4096);
        declare_rom(0x10000);
        set_interrupt_pin(pci::kIntA);
        set_writable(0x44, 4, false);   // a read-only device register
        set_cfg32(0x44, 0xCAFEF00D);
    }
    std::vector<std::string> events;
    std::vector<std::pair<uint8_t, unsigned>> writes;
    void bar_mapped(int i, uint32_t a) override { events.push_back("map " + std::to_string(i) + " " + hex(a)); }
    void bar_unmapped(int i, uint32_t a) override { events.push_back("unmap " + std::to_string(i) + " " + hex(a)); }
    void config_written(uint8_t off, unsigned size) override { writes.push_back({off, size}); }
    static std::string hex(uint32_t v) {
        char b[16];
        std::snprintf(b, sizeof b, "%x", v);
        return b;
    }
};

struct PciTest : ::testing::Test {
    PortBus io;
    PciBus pci{io};

    // SeaBIOS's pci_config_* (src/hw/pci.c): dword address, then data at 0xCFC + (reg & 3).
    static uint32_t addr(unsigned dev, unsigned fn, unsigned reg) {
        return 0x80000000u | (dev << 11) | (fn << 8) | (reg & 0xFC);
    }
    uint32_t readl(unsigned dev, unsigned fn, unsigned reg) {
        io.write(0xCF8, addr(dev, fn, reg), 4);
        return io.read(0xCFC, 4);
    }
    uint16_t readw(unsigned dev, unsigned fn, unsigned reg) {
        io.write(0xCF8, addr(dev, fn, reg), 4);
        return uint16_t(io.read(uint16_t(0xCFC + (reg & 2)), 2));
    }
    uint8_t readb(unsigned dev, unsigned fn, unsigned reg) {
        io.write(0xCF8, addr(dev, fn, reg), 4);
        return uint8_t(io.read(uint16_t(0xCFC + (reg & 3)), 1));
    }
    void writel(unsigned dev, unsigned fn, unsigned reg, uint32_t v) {
        io.write(0xCF8, addr(dev, fn, reg), 4);
        io.write(0xCFC, v, 4);
    }
    void writew(unsigned dev, unsigned fn, unsigned reg, uint16_t v) {
        io.write(0xCF8, addr(dev, fn, reg), 4);
        io.write(uint16_t(0xCFC + (reg & 2)), v, 2);
    }
    void writeb(unsigned dev, unsigned fn, unsigned reg, uint8_t v) {
        io.write(0xCF8, addr(dev, fn, reg), 4);
        io.write(uint16_t(0xCFC + (reg & 3)), v, 1);
    }
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Configuration mechanism #1

TEST_F(PciTest, ConfigAddressIsADwordRegisterThatReadsBack) {
    // SeaBIOS's pci_probe_host and Linux's pci_check_type1 both test exactly this.
    io.write(0xCF8, 0x80000000u, 4);
    EXPECT_EQ(io.read(0xCF8, 4), 0x80000000u);
    io.write(0xCF8, 0x8000F83Cu, 4);
    EXPECT_EQ(pci.config_address(), 0x8000F83Cu);
    // Byte and word accesses do not reach CONFIG_ADDRESS (0xCF9 is the Reset Control byte).
    io.write(0xCFB, 0x12, 1);
    io.write(0xCFA, 0x3456, 2);
    EXPECT_EQ(io.read(0xCF8, 4), 0x8000F83Cu);
    EXPECT_EQ(io.read(0xCF8, 2), 0xFFFFu);
}

TEST_F(PciTest, AbsentFunctionsAndDisabledCyclesReadAllOnes) {
    TestDevice d;
    pci.attach(d, 3, 0);
    EXPECT_EQ(readl(5, 0, 0), 0xFFFFFFFFu);
    EXPECT_EQ(readw(5, 0, 2), 0xFFFFu);
    EXPECT_EQ(readb(5, 0, 3), 0xFFu);
    EXPECT_EQ(readl(3, 1, 0), 0xFFFFFFFFu);          // present device, absent function
    EXPECT_EQ(readl(3, 0, 0), 0x56781234u);
    // Bit 31 clear: no configuration cycle at all.
    io.write(0xCF8, addr(3, 0, 0) & 0x7FFFFFFFu, 4);
    EXPECT_EQ(io.read(0xCFC, 4), 0xFFFFFFFFu);
    io.write(0xCF8, addr(3, 0, 4) & 0x7FFFFFFFu, 4);
    io.write(0xCFC, 0xFFFFFFFFu, 4);                 // a write is dropped too
    EXPECT_EQ(d.cfg16(pci::kCommand), 0);
    // Another bus number: only bus 0 exists.
    io.write(0xCF8, addr(3, 0, 0) | (1u << 16), 4);
    EXPECT_EQ(io.read(0xCFC, 4), 0xFFFFFFFFu);
    io.write(0xCF8, addr(3, 0, 4) | (1u << 16), 4);
    io.write(0xCFC, 0xFFFFu, 2);
    EXPECT_EQ(d.cfg16(pci::kCommand), 0);
    // Writes to an absent function go nowhere and do not crash.
    writel(9, 0, 0x10, 0x1234);
}

TEST_F(PciTest, ReadsAtEveryWidthAndOffset) {
    TestDevice d;
    pci.attach(d, 3, 0);
    // Dword 0x08: revision 07, prog-if 00, subclass 00, class 02.
    EXPECT_EQ(readl(3, 0, 0x08), 0x02000007u);
    const uint8_t bytes[4] = {0x34, 0x12, 0x78, 0x56};
    for (unsigned k = 0; k < 4; k++) EXPECT_EQ(readb(3, 0, k), bytes[k]) << k;
    EXPECT_EQ(readw(3, 0, 0), 0x1234u);
    EXPECT_EQ(readw(3, 0, 2), 0x5678u);
    // A word at 0xCFD reads registers 1 and 2 (QEMU's behaviour for the odd offset).
    io.write(0xCF8, addr(3, 0, 0), 4);
    EXPECT_EQ(io.read(0xCFD, 2), 0x7812u);
    // QEMU's subsystem IDs on a type-0 header.
    EXPECT_EQ(readl(3, 0, 0x2C), 0x11001AF4u);
}

TEST_F(PciTest, WritesAtEveryWidthHonourMasks) {
    TestDevice d;
    pci.attach(d, 3, 0);
    writel(3, 0, 0x40, 0x11223344);
    EXPECT_EQ(readl(3, 0, 0x40), 0x11223344u);
    writeb(3, 0, 0x41, 0xAA);
    writeb(3, 0, 0x43, 0xBB);
    EXPECT_EQ(readl(3, 0, 0x40), 0xBB22AA44u);
    writew(3, 0, 0x42, 0xCCDD);
    EXPECT_EQ(readl(3, 0, 0x40), 0xCCDDAA44u);
    EXPECT_EQ(d.cfg32(0x40), 0xCCDDAA44u);
    // Identity and read-only device registers ignore writes.
    writel(3, 0, 0x00, 0xFFFFFFFFu);
    writel(3, 0, 0x08, 0xFFFFFFFFu);
    writel(3, 0, 0x44, 0);
    EXPECT_EQ(readl(3, 0, 0x00), 0x56781234u);
    EXPECT_EQ(readl(3, 0, 0x08), 0x02000007u);
    EXPECT_EQ(readl(3, 0, 0x44), 0xCAFEF00Du);
    // Interrupt line is writable, interrupt pin is not.
    writew(3, 0, 0x3C, 0x050B);
    EXPECT_EQ(readw(3, 0, 0x3C), 0x010Bu);
    // The device hears about each write with its offset and width.
    ASSERT_GE(d.writes.size(), 3u);
    EXPECT_EQ(d.writes[1], (std::pair<uint8_t, unsigned>{0x41, 1}));
    // Command: only implemented bits stick; status error bits are write-1-to-clear.
    writew(3, 0, 0x04, 0xFFFF);
    EXPECT_EQ(readw(3, 0, 0x04), 0x077Fu);
    d.set_cfg16(pci::kStatus, 0xF900);
    writew(3, 0, 0x06, 0x0900);
    EXPECT_EQ(readw(3, 0, 0x06), 0xF000u);
}

TEST_F(PciTest, BarSizingReadsBackTheSizeMask) {
    TestDevice d;
    pci.attach(d, 3, 0);
    // SeaBIOS's pci_bios_get_bar: save, write ones, read, restore.
    EXPECT_EQ(readl(3, 0, 0x10), 0x1u);               // I/O BAR type bit
    writel(3, 0, 0x10, 0xFFFFFFFFu);
    EXPECT_EQ(readl(3, 0, 0x10), 0xFFFFFFE1u);        // 32 ports
    writel(3, 0, 0x14, 0xFFFFFFFFu);
    EXPECT_EQ(readl(3, 0, 0x14), 0xFFFFF008u);        // 4 KiB, prefetchable, 32-bit
    writel(3, 0, 0x18, 0xFFFFFFFFu);
    EXPECT_EQ(readl(3, 0, 0x18), 0u);                 // not implemented
    writel(3, 0, 0x30, 0xFFFFF800u);                  // PCI_ROM_ADDRESS_MASK
    EXPECT_EQ(readl(3, 0, 0x30), 0xFFFF0000u);        // 64 KiB
    writel(3, 0, 0x10, 0xC05D);                       // bits below the size are dropped
    EXPECT_EQ(readl(3, 0, 0x10), 0xC041u);
    EXPECT_EQ(d.bar_size(0), 32u);
    EXPECT_TRUE(d.events.empty());                    // command register still 0
}

TEST_F(PciTest, BarDecodingFollowsCommandAndAddress) {
    TestDevice d;
    pci.attach(d, 3, 0);
    writel(3, 0, 0x10, 0xC000);
    writel(3, 0, 0x14, 0xFEB00000u);
    EXPECT_TRUE(d.events.empty());
    writew(3, 0, 0x04, pci::kCmdIo);
    EXPECT_EQ(d.events, (std::vector<std::string>{"map 0 c000"}));
    EXPECT_EQ(d.bar_address(0), 0xC000u);
    EXPECT_EQ(d.bar_address(1), pci::kUnmapped);
    d.events.clear();
    writew(3, 0, 0x04, pci::kCmdIo | pci::kCmdMemory);
    EXPECT_EQ(d.events, (std::vector<std::string>{"map 1 feb00000"}));
    d.events.clear();
    // Moving an enabled BAR: unmapped at the old place, then mapped at the new one.
    writel(3, 0, 0x10, 0xC100);
    EXPECT_EQ(d.events, (std::vector<std::string>{"unmap 0 c000", "map 0 c100"}));
    d.events.clear();
    // Sizing while enabled: ~(size-1) runs past the end of the space, so nothing decodes.
    writel(3, 0, 0x10, 0xFFFFFFFFu);
    writel(3, 0, 0x10, 0xC100);
    EXPECT_EQ(d.events, (std::vector<std::string>{"unmap 0 c100", "map 0 c100"}));
    d.events.clear();
    // Address 0 decodes nothing.
    writel(3, 0, 0x14, 0);
    EXPECT_EQ(d.events, (std::vector<std::string>{"unmap 1 feb00000"}));
    d.events.clear();
    // The expansion ROM needs its enable bit as well as the memory bit.
    writel(3, 0, 0x30, 0xFEC00000u);
    EXPECT_TRUE(d.events.empty());
    writel(3, 0, 0x30, 0xFEC00001u);
    EXPECT_EQ(d.events, (std::vector<std::string>{"map 6 fec00000"}));
    d.events.clear();
    // Turning I/O decoding off unmaps only the I/O BAR.
    writew(3, 0, 0x04, pci::kCmdMemory);
    EXPECT_EQ(d.events, (std::vector<std::string>{"unmap 0 c100"}));
    d.events.clear();
    // RESET#: command cleared, BARs cleared, everything unmapped.
    pci.reset();
    EXPECT_EQ(d.events, (std::vector<std::string>{"unmap 6 fec00000"}));
    EXPECT_EQ(readl(3, 0, 0x10), 0x1u);
    EXPECT_EQ(readl(3, 0, 0x30), 0u);
    EXPECT_EQ(readw(3, 0, 0x04), 0u);
}

TEST_F(PciTest, FunctionZeroAdvertisesMultipleFunctions) {
    TestDevice f0, f2;
    pci.attach(f0, 4, 0);
    EXPECT_EQ(readb(4, 0, 0x0E), 0x00);
    pci.attach(f2, 4, 2);
    EXPECT_EQ(readb(4, 0, 0x0E), 0x80);
    EXPECT_EQ(readb(4, 2, 0x0E), 0x00);
    EXPECT_EQ(readw(4, 2, 0), 0x1234u);
    TestDevice other;
    EXPECT_THROW(pci.attach(other, 4, 2), std::logic_error);
    EXPECT_THROW(pci.attach(other, 32, 0), std::logic_error);
}

TEST_F(PciTest, DetachingOnDestructionFreesTheSlot) {
    {
        TestDevice d;
        pci.attach(d, 6, 0);
        EXPECT_EQ(pci.device(6, 0), &d);
    }
    EXPECT_EQ(pci.device(6, 0), nullptr);
    EXPECT_EQ(readl(6, 0, 0), 0xFFFFFFFFu);
}

// ---------------------------------------------------------------------------------------------
// 0xCF9 Reset Control

TEST_F(PciTest, ResetControlResetsOnBitTwo) {
    std::vector<bool> resets;
    pci.on_reset = [&](bool hard) { resets.push_back(hard); };
    // SeaBIOS's pci_reboot / Linux's "pci" reboot: read, set SRST, then SRST | RCPU.
    EXPECT_EQ(io.read(0xCF9, 1), 0u);
    io.write(0xCF9, 0x02, 1);
    EXPECT_TRUE(resets.empty());
    EXPECT_EQ(io.read(0xCF9, 1), 0x02u);
    io.write(0xCF9, 0x06, 1);
    EXPECT_EQ(resets, (std::vector<bool>{true}));
    EXPECT_EQ(io.read(0xCF9, 1) & 0x04, 0u);          // RCPU is not stored
    io.write(0xCF9, 0x04, 1);                          // soft reset
    EXPECT_EQ(resets, (std::vector<bool>{true, false}));
    // A CONFIG_ADDRESS write whose second byte has bit 2 (device 0 function 4) is not a reset.
    io.write(0xCF8, 0x80000400u, 4);
    EXPECT_EQ(resets.size(), 2u);
    pci.reset();
    EXPECT_EQ(io.read(0xCF9, 1), 0u);
    EXPECT_EQ(io.read(0xCF8, 4), 0u);
}

// ---------------------------------------------------------------------------------------------
// PIIX3: PIRQ routing

namespace {
struct PirqTest : PciTest {
    Piix3Isa isa{pci};
    TestDevice a, b;   // a in slot 3 (INTA -> PIRQC), b in slot 4 (INTA -> PIRQD)
    std::vector<std::pair<int, bool>> out;
    PirqTest() {
        pci.attach(a, 3, 0);
        pci.attach(b, 4, 0);
        isa.on_isa_irq = [this](int irq, bool level) { out.push_back({irq, level}); };
    }
};
}  // namespace

TEST_F(PirqTest, IsaBridgeIdentityAndResetState) {
    EXPECT_EQ(readl(1, 0, 0x00), 0x70008086u);
    EXPECT_EQ(readl(1, 0, 0x08) >> 8, 0x060100u);
    EXPECT_EQ(readb(1, 0, 0x0E) & 0x80, 0x80);        // multi-function: SeaBIOS finds 01.1
    EXPECT_EQ(readl(1, 0, 0x60), 0x80808080u);        // PIRQA-D not routed
    EXPECT_EQ(readw(1, 0, 0x04), 0x0007u);
    EXPECT_EQ(isa.route(0), -1);
}

TEST_F(PirqTest, SlotSwizzleMatchesSeaBios) {
    // SeaBIOS piix_pci_slot_get_irq: pci_irqs[(pin - 1 + slot - 1) & 3].
    EXPECT_EQ(PciBus::pirq_of(1, pci::kIntA), 0);
    EXPECT_EQ(PciBus::pirq_of(3, pci::kIntA), 2);
    EXPECT_EQ(PciBus::pirq_of(3, pci::kIntB), 3);
    EXPECT_EQ(PciBus::pirq_of(4, pci::kIntA), 3);
    EXPECT_EQ(PciBus::pirq_of(5, pci::kIntA), 0);
    EXPECT_EQ(PciBus::pirq_of(0, pci::kIntA), 3);
}

TEST_F(PirqTest, UnroutedInterruptsGoNowhereAndRoutingDeliversThem) {
    a.set_irq(true);
    EXPECT_TRUE(pci.pirq_level(2));
    EXPECT_TRUE(out.empty());
    // SeaBIOS's piix_isa_bridge_setup: PIRQA..D -> 10, 10, 11, 11 with byte writes.
    const uint8_t irqs[4] = {10, 10, 11, 11};
    for (int i = 0; i < 4; i++) writeb(1, 0, 0x60 + i, irqs[i]);
    EXPECT_EQ(out, (std::vector<std::pair<int, bool>>{{11, true}}));   // already asserted
    out.clear();
    a.set_irq(false);
    EXPECT_EQ(out, (std::vector<std::pair<int, bool>>{{11, false}}));
    out.clear();
    a.set_irq(true);
    EXPECT_EQ(out, (std::vector<std::pair<int, bool>>{{11, true}}));
    EXPECT_TRUE(isa.isa_irq_level(11));
}

TEST_F(PirqTest, SharedIrqIsTheOrOfItsPirqs) {
    writel(1, 0, 0x60, 0x0B0B0A0Au);                  // C and D both on IRQ 11
    a.set_irq(true);
    b.set_irq(true);
    a.set_irq(false);
    EXPECT_TRUE(isa.isa_irq_level(11));               // b still holds it
    EXPECT_EQ(out, (std::vector<std::pair<int, bool>>{{11, true}}));
    b.set_irq(false);
    EXPECT_FALSE(isa.isa_irq_level(11));
    EXPECT_EQ(out.back(), (std::pair<int, bool>{11, false}));
    // Two functions on one PIRQ: slot 7 INTA is PIRQC like slot 3 INTA (wired-OR).
    TestDevice c;
    pci.attach(c, 7, 0);
    a.set_irq(true);
    c.set_irq(true);
    a.set_irq(false);
    EXPECT_TRUE(pci.pirq_level(2));
    EXPECT_TRUE(isa.isa_irq_level(11));
    c.set_irq(false);
    EXPECT_FALSE(pci.pirq_level(2));
    EXPECT_FALSE(isa.isa_irq_level(11));
}

TEST_F(PirqTest, ReroutingMovesAnAssertedLine) {
    writeb(1, 0, 0x62, 10);
    a.set_irq(true);
    out.clear();
    writeb(1, 0, 0x62, 5);
    EXPECT_EQ(out, (std::vector<std::pair<int, bool>>{{5, true}, {10, false}}));
    out.clear();
    writeb(1, 0, 0x62, 0x85);                         // bit 7: routing disabled
    EXPECT_EQ(out, (std::vector<std::pair<int, bool>>{{5, false}}));
    EXPECT_EQ(isa.route(2), -1);
}

TEST_F(PirqTest, InterruptDisableMasksIntxAndStatusShowsIt) {
    writeb(1, 0, 0x62, 11);
    writew(3, 0, 0x04, pci::kCmdIntxDisable);
    a.set_irq(true);
    EXPECT_TRUE(out.empty());
    EXPECT_EQ(readw(3, 0, 0x06) & pci::kStatusInterrupt, pci::kStatusInterrupt);
    writew(3, 0, 0x04, 0);
    EXPECT_EQ(out, (std::vector<std::pair<int, bool>>{{11, true}}));
    // Reset deasserts and unroutes.
    pci.reset();
    EXPECT_EQ(out.back(), (std::pair<int, bool>{11, false}));
    EXPECT_FALSE(pci.pirq_level(2));
    EXPECT_EQ(readw(3, 0, 0x06) & pci::kStatusInterrupt, 0);
}

// ---------------------------------------------------------------------------------------------
// PIIX3 IDE

namespace {
struct NullPorts : PortDevice {
    uint32_t io_read(uint16_t, unsigned) override { return 0x5A; }
    void io_write(uint16_t, uint32_t, unsigned) override {}
};
}  // namespace

TEST_F(PciTest, IdeFunctionIdentityBmdmaBarAndDecodeBits) {
    Piix3Isa isa{pci};
    Piix3Ide ide{pci, io};
    NullPorts bm;
    ide.bmdma = &bm;
    std::vector<std::pair<bool, uint16_t>> maps;
    std::vector<std::pair<int, bool>> decodes;
    ide.on_bmdma_map = [&](bool m, uint16_t base) { maps.push_back({m, base}); };
    ide.on_decode = [&](int ch, bool en) { decodes.push_back({ch, en}); };

    EXPECT_EQ(readl(1, 1, 0x00), 0x70108086u);
    EXPECT_EQ(readl(1, 1, 0x08), 0x01018000u);        // IDE, prog-if 0x80, rev 0
    EXPECT_EQ(readb(1, 1, 0x0E), 0x00);
    EXPECT_EQ(readl(1, 1, 0x20), 0x1u);               // BMIBA after reset
    for (unsigned bar = 0; bar < 4; bar++) {          // compatibility mode: no BAR0-3
        writel(1, 1, 0x10 + 4 * bar, 0xFFFFFFFFu);
        EXPECT_EQ(readl(1, 1, 0x10 + 4 * bar), 0u);
    }
    writel(1, 1, 0x20, 0xFFFFFFFFu);
    EXPECT_EQ(readl(1, 1, 0x20), 0xFFFFFFF1u);        // 16 ports
    writel(1, 1, 0x20, 0xC001);
    EXPECT_TRUE(maps.empty());
    EXPECT_EQ(io.device_at(0xC000), nullptr);
    writew(1, 1, 0x04, pci::kCmdIo | pci::kCmdMaster);
    EXPECT_EQ(maps, (std::vector<std::pair<bool, uint16_t>>{{true, 0xC000}}));
    EXPECT_EQ(io.device_at(0xC000), &bm);
    EXPECT_EQ(io.device_at(0xC00F), &bm);
    EXPECT_EQ(io.device_at(0xC010), nullptr);
    EXPECT_EQ(io.read(0xC002, 1), 0x5Au);
    // SeaBIOS's piix_ide_setup enables both channels' decode.
    writew(1, 1, 0x40, 0x8000);
    writew(1, 1, 0x42, 0x8000);
    EXPECT_EQ(decodes, (std::vector<std::pair<int, bool>>{{0, true}, {1, true}}));
    EXPECT_TRUE(ide.decode_enabled(0));
    pci.reset();
    EXPECT_EQ(maps.back(), (std::pair<bool, uint16_t>{false, 0xC000}));
    EXPECT_EQ(io.device_at(0xC000), nullptr);
    EXPECT_EQ(readl(1, 1, 0x20), 0x1u);
    EXPECT_EQ(readb(1, 0, 0x0E) & 0x80, 0x80);
}

// ---------------------------------------------------------------------------------------------
// i440FX: identity and PAM shadow RAM

namespace {
struct PamTest : PciTest {
    PhysMemory mem{4u << 20};
    std::vector<uint8_t> bios;
    I440fx host{pci, mem};
    PamTest() : bios(128 * 1024) {
        for (size_t i = 0; i < bios.size(); i++) bios[i] = uint8_t(i * 7 + (i >> 12));
        // As load_bios maps SeaBIOS: below 4 GiB and the last 128 KiB below 1 MiB.
        mem.map_rom(0xFFFE0000u, bios);
        mem.map_rom(0xE0000, bios);
        mem.map_rom(0xC0000, std::vector<uint8_t>(0x8000, 0x55));   // an option ROM
        std::vector<PhysMemory::Page> none(8);                        // nothing at 0xC8000
        mem.set_pages(0xC8000, none.data(), none.size());
    }
    uint8_t rom_at(uint32_t a) const { return bios[a - 0xE0000]; }
    // SeaBIOS's __make_bios_writable_intel / make_bios_readonly_intel: two dwords.
    void set_pam(uint32_t dword58, uint32_t dword5c) {
        writel(0, 0, 0x58, dword58);
        writel(0, 0, 0x5C, dword5c);
    }
};
}  // namespace

TEST_F(PamTest, HostBridgeIdentityIsWhatSeaBiosLooksFor) {
    EXPECT_EQ(readl(0, 0, 0x00), 0x12378086u);
    EXPECT_EQ(readl(0, 0, 0x08), 0x06000002u);        // host bridge, revision 2
    EXPECT_EQ(readw(0, 0, 0x2C), 0x1AF4u);             // qemu_detect(): QEMU's subsystem IDs
    EXPECT_EQ(readw(0, 0, 0x2E), 0x1100u);
    EXPECT_EQ(readb(0, 0, 0x0E), 0x00);
    EXPECT_EQ(readb(0, 0, 0x72), 0x02);                // SMRAM default
    writeb(0, 0, 0x72, 0x0A);
    EXPECT_EQ(host.smram(), 0x0A);
    EXPECT_EQ(readb(0, 0, 0x57), 0);                   // 4 MiB / 8 MiB
    EXPECT_EQ(readl(0, 0, 0x58), 0u);
}

TEST_F(PamTest, SeaBiosShadowSequence) {
    // Power-on: ROM visible at 0xF0000, writes dropped.
    EXPECT_EQ(mem.read8(0xF1234), rom_at(0xF1234));
    mem.write8(0xF1234, uint8_t(~rom_at(0xF1234)));
    EXPECT_EQ(mem.read8(0xF1234), rom_at(0xF1234));
    EXPECT_EQ(mem.read8(0xC0010), 0x55);
    ASSERT_EQ(mem.page(0xF0000).kind, PhysMemory::kRom);

    // make_bios_writable: PAM0 = 0x30, PAM1-6 = 0x33. Shadow RAM (still empty) shows up.
    set_pam(0x33333000u, 0x33333333u);
    EXPECT_EQ(readl(0, 0, 0x58), 0x33333000u);
    for (int r = 0; r < I440fx::kPamRegions; r++) EXPECT_EQ(host.pam(r), I440fx::kPamReadWrite) << r;
    EXPECT_EQ(mem.page(0xF0000).kind, PhysMemory::kRam);
    EXPECT_EQ(mem.read8(0xF1234), 0);
    EXPECT_EQ(mem.read8(0xC0010), 0);
    // ...then copies itself from the 4 GiB alias.
    std::vector<uint8_t> buf(bios.size());
    mem.read_block(0xFFFE0000u, buf.data(), buf.size());
    mem.write_block(0xE0000, buf.data(), buf.size());
    EXPECT_EQ(mem.read8(0xF1234), rom_at(0xF1234));
    // Variables are writable now and the RAM is the guest's RAM at that address.
    mem.write8(0xF1234, 0xA5);
    EXPECT_EQ(mem.read8(0xF1234), 0xA5);
    EXPECT_EQ(mem.ram()[0xF1234], 0xA5);
    EXPECT_NE(mem.host_ptr(0xF1234, true), nullptr);

    // make_bios_readonly: 0x11 everywhere it locks. Reads stay RAM, writes are dropped.
    set_pam(0x11111000u, 0x11111111u);
    EXPECT_EQ(host.pam(0), I440fx::kPamReadOnly);
    mem.write8(0xF1234, 0x5A);
    EXPECT_EQ(mem.read8(0xF1234), 0xA5);
    EXPECT_EQ(mem.host_ptr(0xF1234, true), nullptr);
    EXPECT_NE(mem.host_ptr(0xF1234, false), nullptr);

    // Disabled again: the ROM that was there at the start comes back.
    set_pam(0, 0);
    EXPECT_EQ(mem.read8(0xF1234), rom_at(0xF1234));
    EXPECT_EQ(mem.read8(0xC0010), 0x55);
    EXPECT_EQ(mem.page(0xF0000).kind, PhysMemory::kRom);
    // Shadow RAM kept its contents underneath.
    writeb(0, 0, 0x59, 0x10);
    EXPECT_EQ(mem.read8(0xF1234), 0xA5);
}

TEST_F(PamTest, EachNibbleControlsItsOwnRegion) {
    // PAM1 low nibble = 0xC0000-0xC3FFF, high nibble = 0xC4000-0xC7FFF; PAM0 low is unused.
    writeb(0, 0, 0x5A, 0x03);
    EXPECT_EQ(host.pam(1), I440fx::kPamReadWrite);
    EXPECT_EQ(host.pam(2), I440fx::kPamDisabled);
    mem.write8(0xC3FFF, 0x77);
    mem.write8(0xC4000, 0x77);
    EXPECT_EQ(mem.read8(0xC3FFF), 0x77);
    EXPECT_EQ(mem.read8(0xC4000), 0x55);              // still the option ROM
    writeb(0, 0, 0x59, 0x03);                          // PAM0 bits 1:0 are not a region
    EXPECT_EQ(host.pam(0), I440fx::kPamDisabled);
    EXPECT_EQ(mem.read8(0xF0000), rom_at(0xF0000));
    writeb(0, 0, 0x5F, 0x30);                          // PAM6 high = 0xEC000-0xEFFFF
    EXPECT_EQ(host.pam(12), I440fx::kPamReadWrite);
    EXPECT_EQ(mem.read8(0xEBFFF), rom_at(0xEBFFF));
    EXPECT_EQ(mem.read8(0xEC000), 0);
    EXPECT_EQ(mem.read8(0xF0000), rom_at(0xF0000));
    // Nothing answered at 0xC8000 at first: disabling shows open bus again.
    writeb(0, 0, 0x5B, 0x03);
    EXPECT_EQ(mem.read8(0xC8000), 0);
    writeb(0, 0, 0x5B, 0x00);
    EXPECT_EQ(mem.read8(0xC8000), 0xFF);
}

TEST_F(PamTest, WriteOnlyIsReadWriteAsInQemu) {
    writeb(0, 0, 0x59, 0x20);
    EXPECT_EQ(host.pam(0), I440fx::kPamWriteOnly);
    mem.write8(0xF0000, 0x42);
    EXPECT_EQ(mem.ram()[0xF0000], 0x42);
}

TEST_F(PamTest, RemappingFlushesTlbAndDropsTranslatedCode) {
    int map_changes = 0;
    std::vector<std::pair<uint32_t, unsigned>> code_writes;
    mem.on_map_change = [&] { map_changes++; };
    mem.on_code_write = [&](PhysAddr a, unsigned n) { code_writes.push_back({a, n}); };
    mem.mark_code(0xFE05B);   // POST code decoded from the ROM
    map_changes = 0;
    writeb(0, 0, 0x59, 0x30);
    EXPECT_GT(map_changes, 0);
    EXPECT_EQ(code_writes, (std::vector<std::pair<uint32_t, unsigned>>{{0xFE000, 4096}}));
    // Rewriting the same attribute changes nothing.
    map_changes = 0;
    writeb(0, 0, 0x59, 0x30);
    EXPECT_EQ(map_changes, 0);
}

TEST_F(PamTest, ResetShowsTheRomAgain) {
    set_pam(0x33333000u, 0x33333333u);
    mem.write8(0xF0000, 0x99);
    pci.reset();
    EXPECT_EQ(readl(0, 0, 0x58), 0u);
    EXPECT_EQ(readl(0, 0, 0x5C), 0u);
    EXPECT_EQ(readb(0, 0, 0x72), 0x02);
    EXPECT_EQ(mem.read8(0xF0000), rom_at(0xF0000));
    EXPECT_EQ(mem.page(0xF0000).kind, PhysMemory::kRom);
}

TEST(PamSmallRam, NoDramBehindTheRegionMeansNothingAnswers) {
    PortBus io;
    PciBus pci{io};
    PhysMemory mem{512u << 10};   // 512 KiB: nothing at 0xC0000
    I440fx host{pci, mem};
    pci.config_write(0, 0, 0x5A, 0x33, 1);
    EXPECT_EQ(mem.read8(0xC0000), 0xFF);
    mem.write8(0xC0000, 1);
    EXPECT_EQ(mem.read8(0xC0000), 0xFF);
}

// ---------------------------------------------------------------------------------------------
// PhysMemory::set_pages (added for PAM)

TEST(PhysMemorySetPages, ReplacesAndRestoresMappings) {
    PhysMemory m(1 << 20);
    m.map_rom(0xF0000, std::vector<uint8_t>(0x2000, 0xAB));
    std::vector<PhysMemory::Page> saved = {m.page(0xF0000), m.page(0xF1000)};
    std::vector<PhysMemory::Page> ram(2);
    for (int k = 0; k < 2; k++) {
        ram[k].host = m.ram() + 0xF0000 + k * 0x1000;
        ram[k].kind = PhysMemory::kRam;
    }
    m.set_pages(0xF0000, ram.data(), 2);
    m.write8(0xF1000, 7);
    EXPECT_EQ(m.read8(0xF1000), 7);
    EXPECT_EQ(m.read8(0xF2000), 0);                   // beyond the range: untouched RAM
    m.set_pages(0xF0000, saved.data(), 2);
    EXPECT_EQ(m.read8(0xF1000), 0xAB);
    m.write8(0xF1000, 1);
    EXPECT_EQ(m.read8(0xF1000), 0xAB);
    EXPECT_EQ(m.ram()[0xF1000], 7);
}

TEST(PhysMemorySetPages, KeepsCodeTrackingOfTheAddress) {
    PhysMemory m(1 << 20);
    m.mark_code(0x5000);
    std::vector<PhysMemory::Page> open(1);   // open bus
    int calls = 0;
    m.on_code_write = [&](PhysAddr a, unsigned n) {
        calls++;
        EXPECT_EQ(a, 0x5000u);
        EXPECT_EQ(n, kPageSize);
        EXPECT_EQ(m.read8(0x5000), 0xFF);             // the callback sees the new mapping
    };
    m.set_pages(0x5000, open.data(), 1);
    EXPECT_EQ(calls, 1);
    EXPECT_TRUE(m.is_code(0x5000));                   // until its owner clears it
}
