// QEMU fw_cfg over ports 0x510/0x511/0x514: signature, feature ID, legacy items, the file
// directory, reads past the end, and the DMA interface (read, skip, select, write refused),
// driven the way SeaBIOS's src/fw/paravirt.c drives them.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "devices/fw_cfg.hpp"
#include "machine/bus/phys_memory.hpp"
#include "machine/bus/port_bus.hpp"

using namespace lift86;

namespace {

uint32_t bswap32(uint32_t v) { return (v >> 24) | ((v >> 8) & 0xFF00u) | ((v << 8) & 0xFF0000u) | (v << 24); }

struct FwCfgTest : ::testing::Test {
    PortBus io;
    PhysMemory mem{8u << 20};
    FwCfg cfg{io, mem};

    static constexpr uint32_t kAccess = 0x1000;   // FWCfgDmaAccess
    static constexpr uint32_t kBuf = 0x2000;

    void select(uint16_t key) { io.write(0x510, key, 2); }
    std::vector<uint8_t> read(size_t n, uint16_t port = 0x511) {
        std::vector<uint8_t> v(n);
        for (auto& b : v) b = uint8_t(io.read(port, 1));
        return v;
    }
    std::string read_str(size_t n) {
        auto v = read(n);
        return std::string(v.begin(), v.end());
    }
    // SeaBIOS's qemu_cfg_dma_transfer: big-endian FWCfgDmaAccess, then outl(cpu_to_be32(&access),
    // 0x518). Returns the control word the device wrote back.
    uint32_t dma(uint32_t control, uint32_t length, uint32_t address, bool write_high = false) {
        uint8_t acc[16];
        auto be32 = [](uint8_t* p, uint32_t v) {
            for (int i = 0; i < 4; i++) p[i] = uint8_t(v >> (24 - 8 * i));
        };
        be32(acc, control);
        be32(acc + 4, length);
        be32(acc + 8, 0);
        be32(acc + 12, address);
        mem.write_block(kAccess, acc, sizeof acc);
        if (write_high) io.write(0x514, 0, 4);
        io.write(0x518, bswap32(kAccess), 4);
        uint8_t c[4];
        mem.read_block(kAccess, c, 4);
        return uint32_t(c[0]) << 24 | uint32_t(c[1]) << 16 | uint32_t(c[2]) << 8 | c[3];
    }
    std::vector<uint8_t> ram(uint32_t a, size_t n) {
        std::vector<uint8_t> v(n);
        mem.read_block(a, v.data(), n);
        return v;
    }
    static uint32_t rd_be32(const uint8_t* p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]; }
};

}  // namespace

TEST_F(FwCfgTest, SignatureAndIdThroughTheDataPort) {
    select(FwCfg::kSignature);
    EXPECT_EQ(read_str(4), "QEMU");
    select(FwCfg::kId);
    EXPECT_EQ(read(4), (std::vector<uint8_t>{0x03, 0, 0, 0}));   // traditional + DMA
    // 0x510 and 0x511 are one region in QEMU: a byte read of either reads data.
    select(FwCfg::kSignature);
    EXPECT_EQ(io.read(0x510, 1), uint32_t('Q'));
    EXPECT_EQ(io.read(0x511, 1), uint32_t('E'));
    // Byte writes to the data port change nothing; selecting again restarts the item.
    io.write(0x511, 'X', 1);
    io.write(0x510, FwCfg::kId, 1);                  // a byte write is a data write, not a select
    EXPECT_EQ(io.read(0x511, 1), uint32_t('M'));
    select(FwCfg::kSignature);
    EXPECT_EQ(read_str(4), "QEMU");
}

TEST_F(FwCfgTest, DmaRegisterReadsTheSignature) {
    EXPECT_EQ(io.read(0x514, 4), 0x554D4551u);   // bytes "QEMU"
    EXPECT_EQ(io.read(0x518, 4), 0x47464320u);   // bytes " CFG"
    EXPECT_EQ(io.read(0x515, 1), uint32_t('E'));
    EXPECT_EQ(io.read(0x51A, 2), uint32_t('F' | 'G' << 8));
}

TEST_F(FwCfgTest, ReadsPastTheEndReturnZero) {
    select(FwCfg::kSignature);
    EXPECT_EQ(read_str(4), "QEMU");
    EXPECT_EQ(read(3), (std::vector<uint8_t>{0, 0, 0}));
    EXPECT_EQ(cfg.offset(), 4u);
    // An item that does not exist reads as zeros from the start.
    select(0x0123);
    EXPECT_EQ(read(2), (std::vector<uint8_t>{0, 0}));
    select(0x7FFF);
    EXPECT_EQ(read(1), (std::vector<uint8_t>{0}));
}

TEST_F(FwCfgTest, LegacyItemsOfThePcMachine) {
    select(FwCfg::kRamSize);
    auto v = read(8);
    uint64_t ram = 0;
    for (int i = 0; i < 8; i++) ram |= uint64_t(v[i]) << (8 * i);
    EXPECT_EQ(ram, 8u << 20);
    select(FwCfg::kNbCpus);
    EXPECT_EQ(read(2), (std::vector<uint8_t>{1, 0}));
    select(FwCfg::kMaxCpus);
    EXPECT_EQ(read(2), (std::vector<uint8_t>{1, 0}));
    select(FwCfg::kBootMenu);
    EXPECT_EQ(read(2), (std::vector<uint8_t>{0, 0}));
    select(FwCfg::kNuma);
    EXPECT_EQ(read(8), std::vector<uint8_t>(8, 0));   // no NUMA nodes
    select(FwCfg::kIrq0Override);
    EXPECT_EQ(read(4), (std::vector<uint8_t>{1, 0, 0, 0}));
    cfg.set_cpus(2, 4);
    select(FwCfg::kMaxCpus);
    EXPECT_EQ(read(2), (std::vector<uint8_t>{4, 0}));
    EXPECT_EQ(cfg.item(FwCfg::kNuma)->size(), 5u * 8);
    cfg.add_u16(FwCfg::kBootMenu, 1);
    select(FwCfg::kBootMenu | FwCfg::kWriteChannel);  // the write-channel bit selects the same item
    EXPECT_EQ(read(2), (std::vector<uint8_t>{1, 0}));
}

TEST_F(FwCfgTest, FileDirectoryIsSortedAndBigEndian) {
    select(FwCfg::kFileDir);
    EXPECT_EQ(read(4), (std::vector<uint8_t>{0, 0, 0, 0}));
    cfg.add_file("etc/e820", std::vector<uint8_t>(40, 0xE8));
    cfg.add_file("bootorder", std::string("/pci@i0cf8/ide@1,1/drive@0/disk@0\n"));
    cfg.add_file("etc/boot-fail-wait", std::vector<uint8_t>{0xFF, 0xFF, 0xFF, 0xFF});

    select(FwCfg::kFileDir);
    auto count = read(4);
    ASSERT_EQ(rd_be32(count.data()), 3u);
    const char* names[3] = {"bootorder", "etc/boot-fail-wait", "etc/e820"};
    const uint32_t sizes[3] = {34, 4, 40};
    for (int i = 0; i < 3; i++) {
        auto e = read(64);
        EXPECT_EQ(rd_be32(e.data()), sizes[i]) << i;
        EXPECT_EQ(e[4] << 8 | e[5], 0x20 + i) << i;
        EXPECT_EQ(e[6] | e[7], 0);
        EXPECT_STREQ(reinterpret_cast<const char*>(e.data() + 8), names[i]);
        EXPECT_EQ(e[63], 0);
    }
    EXPECT_EQ(cfg.file_key("etc/e820"), 0x22);
    EXPECT_EQ(cfg.file_key("nope"), -1);
    select(0x21);
    EXPECT_EQ(read(5), (std::vector<uint8_t>{0xFF, 0xFF, 0xFF, 0xFF, 0}));
    select(0x20);
    EXPECT_EQ(read_str(9), "/pci@i0cf");

    // Replacing keeps one entry; the size follows.
    cfg.add_file("etc/e820", std::vector<uint8_t>(20, 1));
    select(FwCfg::kFileDir);
    EXPECT_EQ(rd_be32(read(4).data()), 3u);
    EXPECT_EQ(cfg.item(0x22)->size(), 20u);

    EXPECT_THROW(cfg.add_file("", std::vector<uint8_t>{}), std::invalid_argument);
    EXPECT_THROW(cfg.add_file(std::string(56, 'x'), std::vector<uint8_t>{}), std::invalid_argument);
    cfg.add_file(std::string(55, 'x'), std::vector<uint8_t>{});
    EXPECT_THROW(cfg.add_item(0x20, {1}), std::invalid_argument);
}

TEST_F(FwCfgTest, DmaReadWithSelect) {
    std::vector<uint8_t> e820(40);
    for (size_t i = 0; i < e820.size(); i++) e820[i] = uint8_t(i + 1);
    cfg.add_file("etc/e820", e820);
    const uint16_t key = uint16_t(cfg.file_key("etc/e820"));
    const uint32_t status = dma(uint32_t(key) << 16 | FwCfg::kDmaSelect | FwCfg::kDmaRead, 40, kBuf);
    EXPECT_EQ(status, 0u);
    EXPECT_EQ(ram(kBuf, 40), e820);
    // The offset moved on: the data port continues after what DMA consumed.
    EXPECT_EQ(cfg.selected(), key);
    EXPECT_EQ(cfg.offset(), 40u);
    // The high half may be written first (a 64-bit address in two halves); zero here.
    EXPECT_EQ(dma(FwCfg::kSignature << 16 | FwCfg::kDmaSelect | FwCfg::kDmaRead, 4, kBuf + 0x100, true), 0u);
    EXPECT_EQ(ram(kBuf + 0x100, 4), (std::vector<uint8_t>{'Q', 'E', 'M', 'U'}));
}

TEST_F(FwCfgTest, DmaReadPastTheEndFillsZeros) {
    std::vector<uint8_t> junk(16, 0xAA);
    mem.write_block(kBuf, junk.data(), junk.size());
    EXPECT_EQ(dma(FwCfg::kSignature << 16 | FwCfg::kDmaSelect | FwCfg::kDmaRead, 10, kBuf), 0u);
    EXPECT_EQ(ram(kBuf, 12), (std::vector<uint8_t>{'Q', 'E', 'M', 'U', 0, 0, 0, 0, 0, 0, 0xAA, 0xAA}));
    EXPECT_EQ(cfg.offset(), 4u);
}

TEST_F(FwCfgTest, DmaSkipThenReadAndLegacyPortsShareTheOffset) {
    cfg.add_file("etc/table", std::vector<uint8_t>{10, 11, 12, 13, 14, 15, 16, 17});
    // SeaBIOS's qemu_cfg_read_file with a skip: select by port, skip and read by DMA.
    select(uint16_t(cfg.file_key("etc/table")));
    EXPECT_EQ(dma(FwCfg::kDmaSkip, 3, 0), 0u);
    EXPECT_EQ(dma(FwCfg::kDmaRead, 2, kBuf), 0u);
    EXPECT_EQ(ram(kBuf, 2), (std::vector<uint8_t>{13, 14}));
    EXPECT_EQ(read(1), (std::vector<uint8_t>{15}));
    EXPECT_EQ(dma(FwCfg::kDmaSkip, 100, 0), 0u);       // skipping past the end is fine
    EXPECT_EQ(read(1), (std::vector<uint8_t>{0}));
    // No operation bit: nothing happens, but the request completes.
    EXPECT_EQ(dma(0, 4, kBuf), 0u);
}

TEST_F(FwCfgTest, DmaWriteIsRefusedWithTheErrorBit) {
    cfg.add_file("etc/data", std::vector<uint8_t>{1, 2, 3, 4});
    const uint16_t key = uint16_t(cfg.file_key("etc/data"));
    std::vector<uint8_t> src{9, 9};
    mem.write_block(kBuf, src.data(), src.size());
    EXPECT_EQ(dma(uint32_t(key) << 16 | FwCfg::kDmaSelect | FwCfg::kDmaWrite, 2, kBuf), FwCfg::kDmaError);
    EXPECT_EQ(*cfg.item(key), (std::vector<uint8_t>{1, 2, 3, 4}));
}

TEST_F(FwCfgTest, DmaAddressOutsideMemoryIsAnError) {
    EXPECT_EQ(dma(FwCfg::kSignature << 16 | FwCfg::kDmaSelect | FwCfg::kDmaRead, 8, 0xFFFFFFFCu), FwCfg::kDmaError);
}

TEST_F(FwCfgTest, SeaBiosInitSequence) {
    // qemu_cfg_init: signature by port, ID by DMA, then the directory by DMA in pieces.
    cfg.add_file("etc/e820", std::vector<uint8_t>(20, 0));
    cfg.add_file("etc/boot-fail-wait", std::vector<uint8_t>(4, 0xFF));
    select(FwCfg::kSignature);
    ASSERT_EQ(read_str(4), "QEMU");
    ASSERT_EQ(dma(FwCfg::kId << 16 | FwCfg::kDmaSelect | FwCfg::kDmaRead, 4, kBuf), 0u);
    ASSERT_EQ(ram(kBuf, 4)[0] & FwCfg::kIdDma, FwCfg::kIdDma);
    ASSERT_EQ(dma(FwCfg::kFileDir << 16 | FwCfg::kDmaSelect | FwCfg::kDmaRead, 4, kBuf), 0u);
    const uint32_t count = rd_be32(ram(kBuf, 4).data());
    ASSERT_EQ(count, 2u);
    std::vector<std::string> names;
    for (uint32_t i = 0; i < count; i++) {
        ASSERT_EQ(dma(FwCfg::kDmaRead, 64, kBuf + 0x100), 0u);
        auto e = ram(kBuf + 0x100, 64);
        names.emplace_back(reinterpret_cast<const char*>(e.data() + 8));
    }
    EXPECT_EQ(names, (std::vector<std::string>{"etc/boot-fail-wait", "etc/e820"}));
}

TEST_F(FwCfgTest, ResetSelectsTheSignature) {
    select(FwCfg::kId);
    read(2);
    io.write(0x514, 0x12345678u, 4);   // a half-written DMA address is forgotten
    cfg.reset();
    EXPECT_EQ(cfg.selected(), FwCfg::kSignature);
    EXPECT_EQ(read_str(4), "QEMU");
    EXPECT_EQ(dma(FwCfg::kSignature << 16 | FwCfg::kDmaSelect | FwCfg::kDmaRead, 4, kBuf), 0u);
    EXPECT_EQ(ram(kBuf, 4), (std::vector<uint8_t>{'Q', 'E', 'M', 'U'}));
}
