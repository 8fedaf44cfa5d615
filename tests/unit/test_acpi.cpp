// ACPI: the PM1/PM-timer registers of devices/acpi_pm (ACPI 6.5 section 4.8) and the tables of
// machine/acpi_tables, checked the way an OS and SeaBIOS consume them: the loader script is
// run by an independent implementation of SeaBIOS's romfile_loader semantics, then the RSDP ->
// RSDT -> FADT -> FACS/DSDT chain is walked with every checksum verified.
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "devices/acpi_pm.hpp"
#include "machine/acpi_tables.hpp"
#include "machine/bus/clock.hpp"
#include "machine/bus/phys_memory.hpp"
#include "machine/bus/port_bus.hpp"
#include "roms/roms.hpp"

using namespace lift86;

namespace {

// ---------------------------------------------------------------------------------------------
// PM registers

struct AcpiPmTest : ::testing::Test {
    Clock clock{Clock::Mode::Virtual, 1};
    PortBus io;
    AcpiPm pm{io, clock};
    int power_offs = 0;
    std::vector<bool> sci;

    AcpiPmTest() {
        pm.on_power_off = [this] { power_offs++; };
        pm.sci.connect([this](bool l) { sci.push_back(l); });
    }
    void advance_to(uint64_t ns) {   // runs the clock to `ns`, firing events on the way
        while (clock.next_deadline() <= ns) {
            clock.skip_to_next_event();
            clock.run_due();
        }
        if (ns > clock.now()) clock.advance_insns(ns - clock.now());
        clock.run_due();
    }
};

TEST_F(AcpiPmTest, AcpiModeFromReset) {
    // No SMI_CMD in the FADT: SCI_EN must already be set, and the OS cannot clear it.
    EXPECT_EQ(io.read(0x604, 2) & AcpiPm::kSciEn, AcpiPm::kSciEn);
    io.write(0x604, 0, 2);
    EXPECT_EQ(io.read(0x604, 2) & AcpiPm::kSciEn, AcpiPm::kSciEn);
}

TEST_F(AcpiPmTest, SleepTypeS5PowersOff) {
    // Linux's acpi_hw_legacy_sleep: write SLP_TYP first, then SLP_TYP | SLP_EN.
    const uint16_t typ = AcpiPm::kSlpTypS5 << 10;
    io.write(0x604, typ | AcpiPm::kSciEn, 2);
    EXPECT_EQ(power_offs, 0);
    io.write(0x604, typ | AcpiPm::kSciEn | AcpiPm::kSlpEn, 2);
    EXPECT_EQ(power_offs, 1);
    EXPECT_EQ(io.read(0x604, 2) & AcpiPm::kSlpEn, 0u) << "SLP_EN is write-only";
}

TEST_F(AcpiPmTest, OtherSleepTypesDoNotPowerOff) {
    for (uint16_t typ = 1; typ < 8; typ++) io.write(0x604, uint16_t(typ << 10 | AcpiPm::kSlpEn), 2);
    EXPECT_EQ(power_offs, 0);
}

TEST_F(AcpiPmTest, ByteWritesReachTheHighHalf) {
    // SLP_EN is bit 13: a byte write to PM1_CNT+1 with 0x20 | SLP_TYP<<2 sets it.
    io.write(0x605, 0x20 | (AcpiPm::kSlpTypS5 << 2), 1);
    EXPECT_EQ(power_offs, 1);
}

TEST_F(AcpiPmTest, TimerCountsAt3_579545MHz) {
    EXPECT_EQ(io.read(0x608, 4), 0u);
    advance_to(1000000000);   // one second
    EXPECT_EQ(io.read(0x608, 4), 3579545u);
    advance_to(10000000000ull);   // ten seconds: 35795450 wraps at 24 bits
    EXPECT_EQ(io.read(0x608, 4), 35795450u & 0xFFFFFF);
    EXPECT_EQ(io.read(0x608, 2), 35795450u & 0xFFFF);
}

TEST_F(AcpiPmTest, TimerCarryRaisesSciWhenEnabled) {
    // TMR_STS is set when bit 23 of the counter changes (every 2^23 ticks = 2.34 s).
    const uint64_t carry_ns = (uint64_t(1) << 23) * 1000000000ull / AcpiPm::kTimerHz + 1;
    advance_to(carry_ns + 10);
    EXPECT_EQ(io.read(0x600, 2) & AcpiPm::kTmrSts, 0u) << "no carry event while TMR_EN is clear";
    io.write(0x602, AcpiPm::kTmrSts, 2);   // TMR_EN
    advance_to(2 * carry_ns + 10);
    EXPECT_EQ(io.read(0x600, 2) & AcpiPm::kTmrSts, AcpiPm::kTmrSts);
    ASSERT_FALSE(sci.empty());
    EXPECT_TRUE(sci.back());
    io.write(0x600, AcpiPm::kTmrSts, 2);   // write 1 to clear
    EXPECT_EQ(io.read(0x600, 2) & AcpiPm::kTmrSts, 0u);
    EXPECT_FALSE(sci.back());
}

TEST_F(AcpiPmTest, EnablesReadBack) {
    // ACPICA enables the global-lock and RTC events and checks that the bits stick.
    io.write(0x602, 0x0720, 2);
    EXPECT_EQ(io.read(0x602, 2), 0x0720u);
}

TEST_F(AcpiPmTest, ResetClearsEnablesAndStatus) {
    io.write(0x602, AcpiPm::kTmrSts, 2);
    pm.reset();
    EXPECT_EQ(io.read(0x602, 2), 0u);
    EXPECT_FALSE(clock.next_deadline() != Clock::kNever) << "no timer event left behind";
}

// ---------------------------------------------------------------------------------------------
// Tables

uint32_t rd32(const std::vector<uint8_t>& b, uint32_t off) {
    uint32_t v;
    std::memcpy(&v, &b[off], 4);
    return v;
}
uint8_t sum(const uint8_t* p, size_t n) {
    uint8_t s = 0;
    while (n--) s = uint8_t(s + *p++);
    return s;
}

// SeaBIOS src/fw/romfile_loader.c, reimplemented from QEMU's bios-linker-loader.h description:
// ALLOCATE puts a file at an aligned address in its zone, ADD_POINTER adds the address of the
// source file to a little-endian field, ADD_CHECKSUM subtracts the byte sum of a range from a byte.
struct FakeFirmware {
    std::map<std::string, std::vector<uint8_t>> files;
    std::map<std::string, uint32_t> addr;
    uint32_t fseg_next = 0xF5000, high_next = 0x7FF0000;

    void run(const std::vector<uint8_t>& script) {
        ASSERT_EQ(script.size() % 128, 0u);
        for (size_t at = 0; at < script.size(); at += 128) {
            const uint8_t* e = &script[at];
            uint32_t cmd;
            std::memcpy(&cmd, e, 4);
            const char* name = reinterpret_cast<const char*>(e + 4);
            switch (cmd) {
            case 1: {   // ALLOCATE
                uint32_t align;
                std::memcpy(&align, e + 4 + 56, 4);
                const uint8_t zone = e[4 + 60];
                ASSERT_TRUE(files.count(name)) << name;
                uint32_t& next = zone == 2 ? fseg_next : high_next;
                next = (next + align - 1) & ~(align - 1);
                addr[name] = next;
                next += uint32_t(files[name].size());
                break;
            }
            case 2: {   // ADD_POINTER
                const char* src = reinterpret_cast<const char*>(e + 4 + 56);
                uint32_t off;
                std::memcpy(&off, e + 4 + 112, 4);
                const uint8_t size = e[4 + 116];
                ASSERT_TRUE(addr.count(name) && addr.count(src)) << name << " -> " << src;
                ASSERT_EQ(size, 4);
                std::vector<uint8_t>& f = files[name];
                ASSERT_LE(off + size, f.size());
                uint32_t v = rd32(f, off) + addr[src];
                std::memcpy(&f[off], &v, 4);
                break;
            }
            case 3: {   // ADD_CHECKSUM
                uint32_t off, start, len;
                std::memcpy(&off, e + 4 + 56, 4);
                std::memcpy(&start, e + 4 + 60, 4);
                std::memcpy(&len, e + 4 + 64, 4);
                std::vector<uint8_t>& f = files[name];
                ASSERT_LE(start + len, f.size());
                f[off] = uint8_t(f[off] - sum(&f[start], len));
                break;
            }
            default:
                FAIL() << "unknown loader command " << cmd;
            }
        }
    }
};

// Reads guest memory as an OS would, through the linked blobs at their addresses.
struct Image {
    std::map<uint32_t, const std::vector<uint8_t>*> blobs;
    const uint8_t* at(uint32_t a, uint32_t len) const {
        for (auto& [base, b] : blobs)
            if (a >= base && a + len <= base + b->size()) return b->data() + (a - base);
        return nullptr;
    }
};

// Walks the tables like an OS: RSDP -> RSDT -> FADT -> FACS, DSDT, checking every checksum.
void check_chain(const Image& img, uint32_t rsdp_addr) {
    const uint8_t* rsdp = img.at(rsdp_addr, 20);
    ASSERT_NE(rsdp, nullptr);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(rsdp), 8), "RSD PTR ");
    EXPECT_EQ(sum(rsdp, 20), 0);
    uint32_t rsdt_addr;
    std::memcpy(&rsdt_addr, rsdp + 16, 4);
    auto table = [&img](uint32_t a, const char* sig) -> const uint8_t* {
        const uint8_t* h = img.at(a, 36);
        EXPECT_NE(h, nullptr) << sig << " at " << std::hex << a;
        if (!h) return nullptr;
        EXPECT_EQ(std::string(reinterpret_cast<const char*>(h), 4), sig);
        uint32_t len;
        std::memcpy(&len, h + 4, 4);
        const uint8_t* t = img.at(a, len);
        EXPECT_NE(t, nullptr);
        if (t) EXPECT_EQ(sum(t, len), 0) << sig << " checksum";
        return t;
    };
    const uint8_t* rsdt = table(rsdt_addr, "RSDT");
    ASSERT_NE(rsdt, nullptr);
    uint32_t fadt_addr;
    std::memcpy(&fadt_addr, rsdt + 36, 4);
    const uint8_t* fadt = table(fadt_addr, "FACP");
    ASSERT_NE(fadt, nullptr);
    uint32_t facs_addr, dsdt_addr, pm1a_evt, pm1a_cnt, pm_tmr;
    std::memcpy(&facs_addr, fadt + 36, 4);
    std::memcpy(&dsdt_addr, fadt + 40, 4);
    std::memcpy(&pm1a_evt, fadt + 56, 4);
    std::memcpy(&pm1a_cnt, fadt + 64, 4);
    std::memcpy(&pm_tmr, fadt + 76, 4);
    EXPECT_EQ(pm1a_evt, 0x600u);
    EXPECT_EQ(pm1a_cnt, 0x604u);
    EXPECT_EQ(pm_tmr, 0x608u);
    EXPECT_EQ(fadt[46], 9) << "SCI on IRQ 9";
    EXPECT_EQ(facs_addr % 64, 0u) << "the FACS must be 64-byte aligned";
    const uint8_t* facs = img.at(facs_addr, 64);
    ASSERT_NE(facs, nullptr);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(facs), 4), "FACS");
    const uint8_t* dsdt = table(dsdt_addr, "DSDT");
    ASSERT_NE(dsdt, nullptr);
    uint32_t dsdt_len;
    std::memcpy(&dsdt_len, dsdt + 4, 4);
    const std::string aml(reinterpret_cast<const char*>(dsdt), dsdt_len);
    EXPECT_NE(aml.find("_S5_"), std::string::npos) << "\\_S5 lets the OS power off";
    EXPECT_NE(aml.find("PCI0"), std::string::npos);
    // SeaBIOS enables the PS/2 keyboard only when the DSDT has EisaId PNP0303 (0x0303D041).
    const uint8_t kbd_eisaid[] = {0x41, 0xD0, 0x03, 0x03};
    EXPECT_NE(aml.find(std::string(reinterpret_cast<const char*>(kbd_eisaid), 4)), std::string::npos);
}

AcpiBoard board() {
    AcpiBoard b;
    b.dsdt = dsdt_aml();
    return b;
}

TEST(AcpiTables, LoaderScriptThroughFirmwareGivesAValidChain) {
    AcpiTables t(board());
    FakeFirmware fw;
    fw.files[AcpiTables::kRsdpFile] = t.rsdp();
    fw.files[AcpiTables::kTablesFile] = t.tables();
    fw.run(t.loader_script());
    ASSERT_EQ(fw.addr.size(), 2u);
    EXPECT_GE(fw.addr[AcpiTables::kRsdpFile], 0xF0000u) << "RSDP in the F segment, where OSes search";
    Image img;
    img.blobs[fw.addr[AcpiTables::kRsdpFile]] = &fw.files[AcpiTables::kRsdpFile];
    img.blobs[fw.addr[AcpiTables::kTablesFile]] = &fw.files[AcpiTables::kTablesFile];
    check_chain(img, fw.addr[AcpiTables::kRsdpFile]);
    // The in-process linker must produce exactly what the firmware produced.
    EXPECT_EQ(t.linked_rsdp(fw.addr[AcpiTables::kRsdpFile], fw.addr[AcpiTables::kTablesFile]), fw.files[AcpiTables::kRsdpFile]);
    EXPECT_EQ(t.linked_tables(fw.addr[AcpiTables::kRsdpFile], fw.addr[AcpiTables::kTablesFile]), fw.files[AcpiTables::kTablesFile]);
}

TEST(AcpiTables, PlaceWritesAValidChainIntoMemory) {
    AcpiTables t(board());
    PhysMemory mem(8u << 20);
    const uint32_t end = t.place(mem, 0xE0000);
    EXPECT_LE(end, 0xF0000u);
    std::vector<uint8_t> low(end - 0xE0000);
    mem.read_block(0xE0000, low.data(), low.size());
    Image img;
    img.blobs[0xE0000] = &low;
    check_chain(img, 0xE0000);
}

TEST(AcpiTables, RejectsSomethingThatIsNotADsdt) {
    std::vector<uint8_t> junk(64, 0);
    AcpiBoard b;
    b.dsdt = junk;
    EXPECT_THROW(AcpiTables{b}, std::invalid_argument);
}

}  // namespace
