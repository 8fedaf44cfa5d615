// IDE channel, ATA disk and ATAPI CD-ROM (devices/ata.hpp, devices/atapi.hpp), driven through
// the port bus as a BIOS or kernel would: PIO data-in/data-out status and INTRQ sequencing,
// IDENTIFY contents, CHS/LBA28/LBA48 addressing, READ MULTIPLE blocks, FLUSH CACHE, IDNF,
// SRST signatures, absent devices, read-only images, and the ATAPI packet protocol with the
// commands SeaBIOS and Linux send. Behaviour per ATA/ATAPI-6 and MMC-5.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "devices/ata.hpp"
#include "devices/atapi.hpp"
#include "devices/disk_image.hpp"
#include "machine/bus/clock.hpp"
#include "machine/bus/port_bus.hpp"

using namespace lift86;
namespace fs = std::filesystem;

namespace {

constexpr uint8_t BSY = 0x80, DRDY = 0x40, DSC = 0x10, DRQ = 0x08, ERR = 0x01;

struct TempDir {
    fs::path path;
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "lift86-ata-XXXXXX").string();
        path = mkdtemp(tmpl.data());
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

// Block `n` of a test image: its number in the first 8 bytes, then a pattern.
std::vector<uint8_t> stamp(uint64_t n, size_t size = 512) {
    std::vector<uint8_t> s(size);
    for (size_t i = 0; i < size; i++) s[i] = uint8_t(n * 7 + i * 13 + (i >> 8));
    std::memcpy(s.data(), &n, 8);
    return s;
}

// A file of `blocks` stamped blocks, or a sparse file of that size with only `stamped`
// blocks written.
std::string make_image(const fs::path& p, uint64_t blocks, size_t block = 512, std::vector<uint64_t> stamped = {},
                       bool all = true) {
    int fd = ::open(p.c_str(), O_CREAT | O_TRUNC | O_RDWR, 0644);
    EXPECT_EQ(::ftruncate(fd, off_t(blocks * block)), 0);
    if (all)
        for (uint64_t i = 0; i < blocks; i++) stamped.push_back(i);
    for (uint64_t i : stamped) {
        auto s = stamp(i, block);
        EXPECT_EQ(::pwrite(fd, s.data(), s.size(), off_t(i * block)), ssize_t(block));
    }
    ::close(fd);
    return p.string();
}

std::vector<uint8_t> file_block(const std::string& p, uint64_t n, size_t block = 512) {
    std::vector<uint8_t> v(block);
    int fd = ::open(p.c_str(), O_RDONLY);
    EXPECT_EQ(::pread(fd, v.data(), block, off_t(n * block)), ssize_t(block));
    ::close(fd);
    return v;
}

struct IdeTest : ::testing::Test {
    TempDir dir;
    Clock clock{Clock::Mode::Virtual, 1};
    PortBus bus;
    std::unique_ptr<IdeChannel> ch;
    uint16_t base = 0x1F0, ctrl = 0x3F6;
    int irq_rises = 0;

    void make_channel(IdeTiming t = {}) {
        ch = std::make_unique<IdeChannel>(bus, clock, base, ctrl, t);
        ch->irq.connect([this](bool level) { irq_rises += level; });
    }
    AtaDisk* attach_disk(unsigned pos, const std::string& path, DiskImageOptions o = {}) {
        auto d = std::make_unique<AtaDisk>(std::make_unique<DiskImage>(path, o));
        AtaDisk* raw = d.get();
        ch->attach(pos, std::move(d));
        return raw;
    }
    AtapiCdrom* attach_cdrom(unsigned pos, const std::string& iso) {
        auto d = std::make_unique<AtapiCdrom>(iso.empty() ? nullptr
                                                          : std::make_unique<DiskImage>(iso, DiskImageOptions{.read_only = true}));
        AtapiCdrom* raw = d.get();
        ch->attach(pos, std::move(d));
        return raw;
    }

    uint8_t rd(unsigned r) { return uint8_t(bus.read(uint16_t(base + r), 1)); }
    void wr(unsigned r, uint8_t v) { bus.write(uint16_t(base + r), v, 1); }
    uint8_t alt() { return uint8_t(bus.read(ctrl, 1)); }
    void devctl(uint8_t v) { bus.write(ctrl, v, 1); }
    bool irq() const { return ch->irq.level(); }

    void run(uint64_t ns) {
        const uint64_t target = clock.now() + ns;
        while (clock.next_deadline() <= target) {
            clock.skip_to_next_event();
            clock.run_due();
        }
        if (target > clock.now()) clock.advance_insns(target - clock.now());
        clock.run_due();
    }
    void wait_not_busy() {
        for (int i = 0; i < 1000 && (alt() & BSY); i++) run(1000);
        ASSERT_FALSE(alt() & BSY);
    }
    std::vector<uint8_t> read_data(size_t bytes) {
        std::vector<uint8_t> v;
        for (size_t i = 0; i < bytes; i += 2) {
            uint16_t w = uint16_t(bus.read(base, 2));
            v.push_back(uint8_t(w));
            v.push_back(uint8_t(w >> 8));
        }
        v.resize(bytes);
        return v;
    }
    void write_data(const std::vector<uint8_t>& d) {
        for (size_t i = 0; i < d.size(); i += 2) bus.write(base, uint32_t(d[i] | d[i + 1] << 8), 2);
    }

    void lba28(uint32_t lba, uint8_t count, unsigned dev = 0) {
        wr(2, count);
        wr(3, uint8_t(lba));
        wr(4, uint8_t(lba >> 8));
        wr(5, uint8_t(lba >> 16));
        wr(6, uint8_t(0xE0 | dev << 4 | ((lba >> 24) & 0x0F)));
    }
    void lba48(uint64_t lba, uint16_t count) {
        // High-order bytes first: each register keeps the previous write as its HOB half.
        wr(2, uint8_t(count >> 8));
        wr(3, uint8_t(lba >> 24));
        wr(4, uint8_t(lba >> 32));
        wr(5, uint8_t(lba >> 40));
        wr(2, uint8_t(count));
        wr(3, uint8_t(lba));
        wr(4, uint8_t(lba >> 8));
        wr(5, uint8_t(lba >> 16));
        wr(6, 0x40);
    }
    void chs(unsigned c, unsigned h, unsigned s, uint8_t count) {
        wr(2, count);
        wr(3, uint8_t(s));
        wr(4, uint8_t(c));
        wr(5, uint8_t(c >> 8));
        wr(6, uint8_t(0xA0 | h));
    }
    // One PIO data-in command reading `sectors` single-sector blocks; returns the data.
    std::vector<uint8_t> pio_read(uint8_t cmd, unsigned sectors) {
        std::vector<uint8_t> out;
        wr(7, cmd);
        for (unsigned i = 0; i < sectors; i++) {
            wait_not_busy();
            uint8_t st = rd(7);
            EXPECT_EQ(st, DRDY | DSC | DRQ) << "sector " << i;
            if (!(st & DRQ)) break;
            auto d = read_data(512);
            out.insert(out.end(), d.begin(), d.end());
        }
        return out;
    }
    std::array<uint16_t, 256> identify(uint8_t cmd = 0xEC) {
        wr(7, cmd);
        wait_not_busy();
        EXPECT_EQ(rd(7) & (DRQ | ERR), DRQ);
        auto d = read_data(512);
        std::array<uint16_t, 256> w{};
        for (int i = 0; i < 256; i++) w[i] = uint16_t(d[2 * i] | d[2 * i + 1] << 8);
        return w;
    }
    static std::string ata_string(const std::array<uint16_t, 256>& w, int first, int words) {
        std::string s;
        for (int i = first; i < first + words; i++) {
            s += char(w[i] >> 8);
            s += char(w[i] & 0xFF);
        }
        while (!s.empty() && s.back() == ' ') s.pop_back();
        return s;
    }
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// PIO protocols

TEST_F(IdeTest, PioReadStatusAndInterruptSequence) {
    make_channel({.command_ns = 1000, .reset_ns = 1000});
    attach_disk(0, make_image(dir.path / "d.img", 64));
    EXPECT_EQ(rd(7), DRDY | DSC);
    lba28(5, 2);
    wr(7, 0x20);   // READ SECTORS
    EXPECT_EQ(alt() & (BSY | DRQ), BSY);   // the device is fetching the first sector
    EXPECT_FALSE(irq());
    run(1000);
    EXPECT_EQ(alt(), DRDY | DSC | DRQ);
    EXPECT_TRUE(irq());                    // one interrupt per DRQ block
    EXPECT_TRUE(irq()) << "reading Alternate Status must not acknowledge";
    EXPECT_EQ(rd(7), DRDY | DSC | DRQ);
    EXPECT_FALSE(irq()) << "reading Status acknowledges INTRQ";
    auto first = read_data(510);
    EXPECT_EQ(alt() & DRQ, DRQ);
    auto tail = read_data(2);
    first.insert(first.end(), tail.begin(), tail.end());
    EXPECT_EQ(first, stamp(5));
    EXPECT_EQ(alt() & (BSY | DRQ), BSY);   // busy again for the second sector
    run(1000);
    EXPECT_EQ(alt(), DRDY | DSC | DRQ);
    EXPECT_TRUE(irq());
    rd(7);
    EXPECT_EQ(read_data(512), stamp(6));
    EXPECT_EQ(alt(), DRDY | DSC);          // done: no DRQ, no BSY
    run(10000);
    EXPECT_FALSE(irq()) << "no interrupt after the last block of a PIO read";
    EXPECT_EQ(irq_rises, 2);
}

TEST_F(IdeTest, InstantTimingSkipsBusyButKeepsTheProtocol) {
    make_channel();
    attach_disk(0, make_image(dir.path / "d.img", 16));
    lba28(3, 1);
    wr(7, 0x20);
    EXPECT_EQ(alt(), DRDY | DSC | DRQ);
    EXPECT_TRUE(irq());
    EXPECT_EQ(read_data(512), stamp(3));
    EXPECT_EQ(rd(7), DRDY | DSC);
}

TEST_F(IdeTest, PioWriteStatusAndInterruptSequence) {
    make_channel({.command_ns = 1000});
    std::string p = make_image(dir.path / "d.img", 16);
    attach_disk(0, p);
    lba28(3, 2);
    wr(7, 0x30);   // WRITE SECTORS
    run(1000);
    EXPECT_EQ(alt(), DRDY | DSC | DRQ);
    EXPECT_FALSE(irq()) << "the first block of a PIO write is requested without an interrupt";
    write_data(stamp(900));
    EXPECT_EQ(alt() & (BSY | DRQ), BSY);   // writing the block
    EXPECT_FALSE(irq());
    run(1000);
    EXPECT_EQ(alt(), DRDY | DSC | DRQ);
    EXPECT_TRUE(irq()) << "the next block is requested with an interrupt";
    EXPECT_EQ(rd(7), DRDY | DSC | DRQ);
    EXPECT_FALSE(irq());
    write_data(stamp(901));
    EXPECT_EQ(alt() & BSY, BSY);
    run(1000);
    EXPECT_EQ(alt(), DRDY | DSC);
    EXPECT_TRUE(irq()) << "an interrupt once the last block is written";
    rd(7);
    EXPECT_FALSE(irq());
    EXPECT_EQ(file_block(p, 3), stamp(900));
    EXPECT_EQ(file_block(p, 4), stamp(901));
    EXPECT_EQ(file_block(p, 5), stamp(5));
}

TEST_F(IdeTest, NienReleasesTheLineButKeepsTheInterruptPending) {
    make_channel();
    attach_disk(0, make_image(dir.path / "d.img", 16));
    devctl(0x02);   // nIEN
    lba28(1, 1);
    wr(7, 0x20);
    EXPECT_EQ(alt(), DRDY | DSC | DRQ);
    EXPECT_FALSE(irq());
    EXPECT_TRUE(ch->device(0)->interrupt_pending());
    devctl(0x00);
    EXPECT_TRUE(irq()) << "the pending interrupt shows when nIEN is cleared";
    // Only the selected device drives INTRQ.
    wr(6, 0xF0);
    EXPECT_FALSE(irq());
    wr(6, 0xE0);
    EXPECT_TRUE(irq());
    rd(7);
    EXPECT_FALSE(irq());
}

TEST_F(IdeTest, ThirtyTwoBitDataAccessMovesTwoWords) {
    make_channel();
    attach_disk(0, make_image(dir.path / "d.img", 16));
    lba28(9, 1);
    wr(7, 0x20);
    std::vector<uint8_t> d;
    for (int i = 0; i < 128; i++) {
        uint32_t v = bus.read(base, 4);
        for (int b = 0; b < 4; b++) d.push_back(uint8_t(v >> (8 * b)));
    }
    EXPECT_EQ(d, stamp(9));
    EXPECT_EQ(rd(7), DRDY | DSC);
}

// ---------------------------------------------------------------------------------------------
// IDENTIFY

TEST_F(IdeTest, IdentifyOfALargeDiskReportsLba48Capacity) {
    make_channel();
    const uint64_t sectors = 300ull << 21;   // 300 GiB: past the 28-bit limit
    attach_disk(0, make_image(dir.path / "big.img", sectors, 512, {}, false));
    auto w = identify();
    EXPECT_EQ(rd(7), DRDY | DSC);   // one block, then ready
    EXPECT_EQ(w[0], 0x0040);
    EXPECT_EQ(w[1], 16383);         // default CHS capped as ATA-6 says for large disks
    EXPECT_EQ(w[3], 16);
    EXPECT_EQ(w[6], 63);
    EXPECT_EQ(uint32_t(w[60] | w[61] << 16), 0x0FFFFFFFu);
    EXPECT_TRUE(w[83] & (1 << 10)) << "48-bit feature set supported";
    EXPECT_TRUE(w[86] & (1 << 10)) << "48-bit feature set enabled";
    EXPECT_TRUE(w[83] & (1 << 12) && w[83] & (1 << 13)) << "FLUSH CACHE (EXT)";
    EXPECT_EQ(w[83] & 0xC000, 0x4000);
    uint64_t cap = uint64_t(w[100]) | uint64_t(w[101]) << 16 | uint64_t(w[102]) << 32 | uint64_t(w[103]) << 48;
    EXPECT_EQ(cap, sectors);
    EXPECT_EQ(ata_string(w, 27, 20), "LIFT86 HARDDISK");
    EXPECT_EQ(ata_string(w, 10, 10), "LIFT86-HD0");
    EXPECT_EQ(ata_string(w, 23, 4), "1.0");
    EXPECT_EQ(w[47], 0x8010);       // READ/WRITE MULTIPLE up to 16
    EXPECT_EQ(w[59], 0x0110);       // current multiple count 16
    EXPECT_EQ(w[49] & (1 << 9), 1 << 9);   // LBA
    EXPECT_EQ(w[49] & (1 << 8), 0) << "no DMA without bus-master DMA";
    EXPECT_EQ(w[63], 0);
    EXPECT_EQ(w[88], 0) << "no UDMA advertised";
    EXPECT_EQ(w[93], 0x404B) << "device 0 answers for the absent device 1";
    // Integrity word: signature A5h and a checksum making all 512 bytes sum to 0.
    EXPECT_EQ(w[255] & 0xFF, 0xA5);
    uint8_t sum = 0;
    for (uint16_t x : w) sum = uint8_t(sum + (x & 0xFF) + (x >> 8));
    EXPECT_EQ(sum, 0);
}

TEST_F(IdeTest, IdentifyOfASmallDiskUsesLba28Capacity) {
    make_channel();
    attach_disk(0, make_image(dir.path / "d.img", 20000));
    auto w = identify();
    EXPECT_EQ(uint32_t(w[60] | w[61] << 16), 20000u);
    EXPECT_EQ(w[100], 20000);
    EXPECT_EQ(w[101] | w[102] | w[103], 0);
    EXPECT_EQ(w[1], 19);   // 20000 / (16*63)
    EXPECT_EQ(w[3], 16);
    EXPECT_EQ(w[6], 63);
    EXPECT_EQ(w[54], 19);
    EXPECT_EQ(uint32_t(w[57] | w[58] << 16), 19u * 16 * 63);
}

// ---------------------------------------------------------------------------------------------
// Addressing

TEST_F(IdeTest, Lba28AndChsLandOnTheRightSector) {
    make_channel();
    attach_disk(0, make_image(dir.path / "d.img", 20000));   // 19/16/63
    lba28(0x1234, 1);
    EXPECT_EQ(pio_read(0x20, 1), stamp(0x1234));
    // After the transfer the registers point past it, as on QEMU.
    EXPECT_EQ(rd(3) | rd(4) << 8 | rd(5) << 16, 0x1235);
    EXPECT_EQ(rd(2), 0);

    chs(3, 5, 7, 1);   // (3*16 + 5)*63 + 6
    EXPECT_EQ(pio_read(0x20, 1), stamp(3345));
    EXPECT_EQ(rd(3), 8);   // next sector, same head and cylinder

    // INITIALIZE DEVICE PARAMETERS: 4 heads, 17 sectors per track.
    wr(2, 17);
    wr(6, 0xA0 | 3);
    wr(7, 0x91);
    EXPECT_EQ(rd(7), DRDY | DSC);
    chs(2, 3, 4, 1);   // (2*4 + 3)*17 + 3
    EXPECT_EQ(pio_read(0x20, 1), stamp(190));
    auto w = identify();
    EXPECT_EQ(w[55], 4);
    EXPECT_EQ(w[56], 17);
    EXPECT_EQ(w[1], 19) << "the default geometry does not change";

    // Sector 0 does not exist in CHS addressing; neither does a head past the translation.
    chs(0, 0, 0, 1);
    wr(7, 0x20);
    EXPECT_EQ(rd(7), DRDY | ERR);
    EXPECT_EQ(rd(1), 0x10);
    chs(0, 4, 1, 1);
    wr(7, 0x20);
    EXPECT_EQ(rd(1), 0x10);
}

TEST_F(IdeTest, Lba48UsesThePreviousRegisterContents) {
    make_channel();
    const uint64_t sectors = 300ull << 21;
    const uint64_t high = 0x20000005;   // above 2^28: only a 48-bit command reaches it
    std::string p = make_image(dir.path / "big.img", sectors, 512, {high, high + 1, 0x0FFFFFFE}, false);
    attach_disk(0, p);
    lba48(high, 2);
    auto d = pio_read(0x24, 2);   // READ SECTORS EXT
    ASSERT_EQ(d.size(), 1024u);
    EXPECT_EQ(std::vector<uint8_t>(d.begin(), d.begin() + 512), stamp(high));
    EXPECT_EQ(std::vector<uint8_t>(d.begin() + 512, d.end()), stamp(high + 1));
    // The last sector a 28-bit command can reach: address bits 27:24 come from the Device register.
    lba28(0x0FFFFFFE, 1);
    EXPECT_EQ(pio_read(0x20, 1), stamp(0x0FFFFFFE));
    // One more is outside the 28-bit capacity (words 60-61) although the disk goes on.
    lba28(0x0FFFFFFF, 1);
    wr(7, 0x20);
    EXPECT_EQ(rd(7), DRDY | ERR);
    EXPECT_EQ(rd(1), 0x10);
    // A 48-bit write lands in the same place a 48-bit read finds.
    lba48(high + 1, 1);
    wr(7, 0x34);   // WRITE SECTORS EXT
    EXPECT_EQ(rd(7), DRDY | DSC | DRQ);
    write_data(stamp(4242));
    EXPECT_EQ(rd(7), DRDY | DSC);
    EXPECT_EQ(file_block(p, high + 1), stamp(4242));
}

TEST_F(IdeTest, HobSelectsThePreviousContentOnReads) {
    make_channel();
    attach_disk(0, make_image(dir.path / "d.img", 16));
    const uint64_t lba = 0x010203040506ull;
    lba48(lba, 1);
    wr(7, 0x24);   // out of range: IDNF with the failing address in the registers
    EXPECT_EQ(rd(7), DRDY | ERR);
    EXPECT_EQ(rd(1), 0x10);
    EXPECT_EQ(rd(3), 0x06);
    EXPECT_EQ(rd(4), 0x05);
    EXPECT_EQ(rd(5), 0x04);
    devctl(0x80);   // HOB
    EXPECT_EQ(rd(3), 0x03);
    EXPECT_EQ(rd(4), 0x02);
    EXPECT_EQ(rd(5), 0x01);
    wr(2, 0x00);    // any command block write clears HOB
    EXPECT_EQ(rd(3), 0x06);
}

TEST_F(IdeTest, OutOfRangeGivesIdnfWithTheFailingAddress) {
    make_channel();
    attach_disk(0, make_image(dir.path / "d.img", 100));
    irq_rises = 0;
    lba28(99, 2);   // the second sector is past the end
    wr(7, 0x20);
    EXPECT_EQ(alt(), DRDY | ERR);
    EXPECT_EQ(rd(1), 0x10);   // IDNF
    EXPECT_TRUE(irq());
    EXPECT_EQ(irq_rises, 1);
    EXPECT_EQ(rd(3) | rd(4) << 8 | rd(5) << 16, 100);
    lba28(100, 1);
    wr(7, 0x40);    // READ VERIFY checks the range too
    EXPECT_EQ(rd(1), 0x10);
    lba28(99, 1);
    wr(7, 0x40);
    EXPECT_EQ(rd(7), DRDY | DSC);
    lba28(150, 1);
    wr(7, 0x30);    // a write outside the disk never asks for data
    EXPECT_EQ(rd(7), DRDY | ERR);
    EXPECT_EQ(rd(1), 0x10);
}

// ---------------------------------------------------------------------------------------------
// Multiple mode, flush, feature and unknown commands

TEST_F(IdeTest, ReadMultipleTransfersBlocksOfTheMultipleCount) {
    make_channel();
    attach_disk(0, make_image(dir.path / "d.img", 200));
    wr(2, 4);
    wr(7, 0xC6);   // SET MULTIPLE MODE 4
    EXPECT_EQ(rd(7), DRDY | DSC);
    EXPECT_EQ(identify()[59], 0x0104);
    irq_rises = 0;
    lba28(100, 10);
    wr(7, 0xC4);   // READ MULTIPLE: blocks of 4, 4, 2 sectors
    std::vector<uint8_t> all;
    for (unsigned block : {4u, 4u, 2u}) {
        EXPECT_EQ(rd(7), DRDY | DSC | DRQ);
        auto d = read_data(block * 512 - 2);
        EXPECT_EQ(alt() & DRQ, DRQ) << "the block is " << block << " sectors";
        auto last = read_data(2);
        all.insert(all.end(), d.begin(), d.end());
        all.insert(all.end(), last.begin(), last.end());
    }
    EXPECT_EQ(rd(7), DRDY | DSC);
    EXPECT_EQ(irq_rises, 3) << "one interrupt per DRQ block";
    for (unsigned i = 0; i < 10; i++)
        EXPECT_EQ(std::vector<uint8_t>(all.begin() + i * 512, all.begin() + (i + 1) * 512), stamp(100 + i));

    wr(2, 3);
    wr(7, 0xC6);   // not a power of two
    EXPECT_EQ(rd(7), DRDY | ERR);
    EXPECT_EQ(rd(1), 0x04);
    wr(2, 0);
    wr(7, 0xC6);   // multiple mode off
    EXPECT_EQ(rd(7), DRDY | DSC);
    lba28(0, 1);
    wr(7, 0xC4);
    EXPECT_EQ(rd(7), DRDY | ERR) << "READ MULTIPLE without multiple mode is aborted";
    EXPECT_EQ(rd(1), 0x04);
}

TEST_F(IdeTest, WriteMultipleInterruptsPerBlock) {
    make_channel();
    std::string p = make_image(dir.path / "d.img", 50);
    attach_disk(0, p);
    wr(2, 2);
    wr(7, 0xC6);
    rd(7);
    irq_rises = 0;
    lba28(10, 3);
    wr(7, 0xC5);   // WRITE MULTIPLE: blocks of 2 and 1
    EXPECT_EQ(rd(7), DRDY | DSC | DRQ);
    EXPECT_EQ(irq_rises, 0);
    write_data(stamp(70));
    write_data(stamp(71));
    EXPECT_EQ(irq_rises, 1);
    EXPECT_EQ(rd(7), DRDY | DSC | DRQ);
    write_data(stamp(72));
    EXPECT_EQ(irq_rises, 2);
    EXPECT_EQ(rd(7), DRDY | DSC);
    for (int i = 0; i < 3; i++) EXPECT_EQ(file_block(p, 10 + i), stamp(70 + i));
}

TEST_F(IdeTest, FlushCacheReachesTheFile) {
    make_channel();
    std::string p = make_image(dir.path / "d.img", 16);
    AtaDisk* disk = attach_disk(0, p);
    lba28(2, 1);
    wr(7, 0x30);
    write_data(stamp(123));
    rd(7);
    EXPECT_EQ(disk->image().fsync_count(), 0u) << "the write cache is on: no fsync per write";
    wr(7, 0xE7);   // FLUSH CACHE
    EXPECT_EQ(rd(7), DRDY | DSC);
    EXPECT_EQ(disk->image().fsync_count(), 1u);
    wr(7, 0xEA);   // FLUSH CACHE EXT
    EXPECT_EQ(rd(7), DRDY | DSC);
    EXPECT_EQ(disk->image().fsync_count(), 2u);
    EXPECT_EQ(file_block(p, 2), stamp(123));
    // With the write cache off (SET FEATURES 82h) every write is flushed before completing.
    wr(1, 0x82);
    wr(7, 0xEF);
    EXPECT_EQ(rd(7), DRDY | DSC);
    EXPECT_EQ(identify()[85] & (1 << 5), 0);
    const uint64_t before = disk->image().fsync_count();
    lba28(3, 2);
    wr(7, 0x30);
    write_data(stamp(1));
    write_data(stamp(2));
    EXPECT_EQ(rd(7), DRDY | DSC);
    EXPECT_EQ(disk->image().fsync_count(), before + 2);
}

TEST_F(IdeTest, SetFeaturesAndUnknownCommands) {
    make_channel();
    attach_disk(0, make_image(dir.path / "d.img", 16));
    wr(1, 0x03);
    wr(2, 0x0C);   // PIO mode 4
    wr(7, 0xEF);
    EXPECT_EQ(rd(7), DRDY | DSC);
    wr(1, 0x03);
    wr(2, 0x45);   // UDMA mode 5: not supported
    wr(7, 0xEF);
    EXPECT_EQ(rd(7), DRDY | ERR);
    EXPECT_EQ(rd(1), 0x04);
    for (uint8_t cmd : {0x00, 0xC8, 0xCA, 0x25, 0xA0, 0xA1, 0xF8, 0xB0}) {
        wr(7, cmd);
        EXPECT_EQ(rd(7), DRDY | ERR) << std::hex << int(cmd);
        EXPECT_EQ(rd(1), 0x04) << std::hex << int(cmd);
    }
    wr(7, 0xE5);   // CHECK POWER MODE
    EXPECT_EQ(rd(7), DRDY | DSC);
    EXPECT_EQ(rd(2), 0xFF);
}

TEST_F(IdeTest, ReadOnlyImageAbortsWritesWithoutData) {
    make_channel();
    std::string p = make_image(dir.path / "d.img", 16);
    attach_disk(0, p, {.read_only = true});
    lba28(4, 1);
    wr(7, 0x30);
    EXPECT_EQ(rd(7), DRDY | ERR);
    EXPECT_EQ(rd(1), 0x04);
    EXPECT_EQ(file_block(p, 4), stamp(4));
    lba28(4, 1);
    EXPECT_EQ(pio_read(0x20, 1), stamp(4));
    wr(7, 0xE7);   // nothing to flush: fine
    EXPECT_EQ(rd(7), DRDY | DSC);
}

TEST_F(IdeTest, SnapshotDiskLeavesTheFileUntouched) {
    make_channel();
    std::string p = make_image(dir.path / "d.img", 16);
    attach_disk(0, p, {.snapshot = true});
    lba28(6, 1);
    wr(7, 0x30);
    write_data(stamp(600));
    EXPECT_EQ(rd(7), DRDY | DSC);
    lba28(6, 1);
    EXPECT_EQ(pio_read(0x20, 1), stamp(600));   // the guest sees its write
    wr(7, 0xE7);
    EXPECT_EQ(rd(7), DRDY | DSC);
    EXPECT_EQ(file_block(p, 6), stamp(6));      // the file does not
}

// ---------------------------------------------------------------------------------------------
// Reset, signatures, absent devices

TEST_F(IdeTest, SoftwareResetPlacesSignatures) {
    make_channel({.command_ns = 0, .reset_ns = 5000});
    attach_disk(0, make_image(dir.path / "d.img", 16));
    attach_cdrom(1, make_image(dir.path / "c.iso", 4, 2048));
    wr(2, 0x55);
    wr(3, 0xAA);
    irq_rises = 0;
    devctl(0x04);   // SRST
    EXPECT_EQ(alt() & BSY, BSY);
    run(100000);
    EXPECT_EQ(alt() & BSY, BSY) << "busy as long as SRST is held";
    devctl(0x00);
    EXPECT_EQ(alt() & BSY, BSY);
    run(5000);
    EXPECT_EQ(rd(6) & 0x10, 0) << "device 0 selected after the reset";
    EXPECT_EQ(rd(7), DRDY | DSC);
    EXPECT_EQ(rd(1), 0x01);
    EXPECT_EQ(rd(2), 0x01);
    EXPECT_EQ(rd(3), 0x01);
    EXPECT_EQ(rd(4), 0x00);
    EXPECT_EQ(rd(5), 0x00);
    wr(6, 0xB0);
    EXPECT_EQ(rd(7), 0x00) << "ATAPI: DRDY clear after reset";
    EXPECT_EQ(rd(1), 0x01);
    EXPECT_EQ(rd(2), 0x01);
    EXPECT_EQ(rd(3), 0x01);
    EXPECT_EQ(rd(4), 0x14);
    EXPECT_EQ(rd(5), 0xEB);
    EXPECT_EQ(irq_rises, 0) << "a software reset raises no interrupt";
    EXPECT_EQ(identify(0xA1)[93], 0x4B00) << "device 1: reset result valid, PDIAG- asserted";
}

TEST_F(IdeTest, HardwareResetRestoresPowerOnState) {
    make_channel({.command_ns = 1000});
    attach_disk(0, make_image(dir.path / "d.img", 20000));
    wr(2, 4);
    wr(7, 0xC6);   // SET MULTIPLE 4
    run(1000);
    wr(2, 17);
    wr(6, 0xA0 | 3);
    wr(7, 0x91);   // INITIALIZE DEVICE PARAMETERS 4/17
    run(1000);
    devctl(0x02);
    lba28(1, 1);
    wr(7, 0x20);   // a command in flight when RESET- arrives
    irq_rises = 0;
    ch->reset();
    run(10000);
    EXPECT_EQ(irq_rises, 0);
    EXPECT_EQ(rd(7), DRDY | DSC) << "the read in flight is gone";
    EXPECT_EQ(rd(2), 0x01);
    EXPECT_EQ(rd(3), 0x01);
    auto w = identify();
    EXPECT_EQ(w[59], 0x0110) << "multiple count back to 16";
    EXPECT_EQ(w[55], 16) << "default translation again";
    EXPECT_EQ(irq_rises, 1) << "nIEN cleared by the reset: IDENTIFY's interrupt reaches the line";
}

TEST_F(IdeTest, ExecuteDeviceDiagnosticReportsForBothDevices) {
    make_channel();
    attach_disk(0, make_image(dir.path / "d.img", 16));
    attach_cdrom(1, make_image(dir.path / "c.iso", 4, 2048));
    wr(6, 0xB0);   // written with device 1 selected: still for both
    irq_rises = 0;
    wr(7, 0x90);
    EXPECT_EQ(irq_rises, 1);
    EXPECT_EQ(rd(6) & 0x10, 0);
    EXPECT_EQ(rd(7), DRDY | DSC);
    EXPECT_EQ(rd(1), 0x01);
    EXPECT_EQ(rd(4), 0x00);
    wr(6, 0xB0);
    EXPECT_EQ(rd(1), 0x01);
    EXPECT_EQ(rd(4), 0x14);
    EXPECT_EQ(rd(5), 0xEB);
}

TEST_F(IdeTest, AbsentSlaveReadsZeroStatusAndIgnoresCommands) {
    make_channel();
    attach_disk(0, make_image(dir.path / "d.img", 16));
    wr(6, 0xB0);
    EXPECT_EQ(rd(7), 0x00);
    EXPECT_EQ(alt(), 0x00);
    // SeaBIOS's presence test: the registers read back what was written.
    wr(2, 0x55);
    wr(3, 0xAA);
    EXPECT_EQ(rd(2), 0x55);
    EXPECT_EQ(rd(3), 0xAA);
    EXPECT_EQ(rd(6), 0xB0);
    wr(7, 0xEC);
    EXPECT_EQ(rd(7), 0x00);
    EXPECT_FALSE(irq());
    EXPECT_EQ(uint16_t(bus.read(base, 2)), 0xFFFF);
    wr(6, 0xA0);
    EXPECT_EQ(rd(7), DRDY | DSC);
    EXPECT_FALSE(ch->device(0)->interrupt_pending()) << "the command was not the master's";
}

TEST_F(IdeTest, EmptyChannelFloats) {
    make_channel();
    EXPECT_EQ(rd(7), 0xFF);
    EXPECT_EQ(alt(), 0xFF);
    wr(2, 0x55);
    EXPECT_EQ(rd(2), 0xFF);
    EXPECT_EQ(bus.read(base, 2), 0xFFFFu);
}

TEST_F(IdeTest, CommandsWhileBusyAreIgnored) {
    make_channel({.command_ns = 1000});
    attach_disk(0, make_image(dir.path / "d.img", 16));
    lba28(2, 1);
    wr(7, 0x20);
    wr(7, 0xE7);   // ignored: the device is busy
    run(1000);
    EXPECT_EQ(rd(7), DRDY | DSC | DRQ);
    EXPECT_EQ(read_data(512), stamp(2));
}

TEST(IdeGeometry, GuessedLikeQemu) {
    TempDir dir;
    // No partition table: 16 heads, 63 sectors; LBA translation above 1024 cylinders.
    std::string p = make_image(dir.path / "a.img", 2000000, 512, {}, false);
    DiskImage a(p);
    AtaGeometry g = guess_ata_geometry(a);
    EXPECT_EQ(g.cylinders, 1984u);
    EXPECT_EQ(g.heads, 16u);
    EXPECT_EQ(g.sectors, 63u);
    EXPECT_EQ(g.translation, AtaGeometry::kLba);

    // A partition ending on head 15, sector 32: that geometry, no translation.
    std::vector<uint8_t> mbr(512);
    auto part = [&](uint8_t end_head, uint8_t end_sector) {
        std::fill(mbr.begin(), mbr.end(), 0);
        mbr[0x1BE + 5] = end_head;
        mbr[0x1BE + 6] = end_sector;
        mbr[0x1BE + 12] = 0x00;
        mbr[0x1BE + 13] = 0x10;   // 4096 sectors
        mbr[510] = 0x55;
        mbr[511] = 0xAA;
    };
    std::string q = make_image(dir.path / "b.img", 20000, 512, {}, false);
    part(15, 32);
    {
        DiskImage b(q);
        ASSERT_TRUE(b.write(0, 1, mbr.data()));
        g = guess_ata_geometry(b);
    }
    EXPECT_EQ(g.heads, 16u);
    EXPECT_EQ(g.sectors, 32u);
    EXPECT_EQ(g.cylinders, 20000u / (16 * 32));
    EXPECT_EQ(g.translation, AtaGeometry::kNone);
    // Partitioned under a 255-head BIOS translation: standard physical geometry, LARGE.
    part(254, 63);
    {
        DiskImage b(q);
        ASSERT_TRUE(b.write(0, 1, mbr.data()));
        g = guess_ata_geometry(b);
    }
    EXPECT_EQ(g.heads, 16u);
    EXPECT_EQ(g.sectors, 63u);
    EXPECT_EQ(g.translation, AtaGeometry::kLarge);
}

// ---------------------------------------------------------------------------------------------
// ATAPI

namespace {

struct AtapiTest : IdeTest {
    AtapiCdrom* cd = nullptr;
    std::string iso;
    void SetUp() override {
        base = 0x170;
        ctrl = 0x376;
        make_channel();
        iso = make_image(dir.path / "disc.iso", 100, 2048);
        cd = attach_cdrom(0, iso);
    }

    struct Result {
        uint8_t status = 0, error = 0, reason = 0;
        std::vector<uint8_t> data;
        std::vector<unsigned> blocks;   // byte count of each DRQ block
    };
    Result packet(std::vector<uint8_t> cdb, uint16_t byte_limit = 0xFFFE) {
        cdb.resize(12);
        Result r;
        wr(1, 0x00);   // PIO
        wr(4, uint8_t(byte_limit));
        wr(5, uint8_t(byte_limit >> 8));
        wr(6, 0xA0);
        wr(7, 0xA0);   // PACKET
        wait_not_busy();
        EXPECT_EQ(alt() & (DRQ | ERR), DRQ);
        EXPECT_EQ(rd(2) & 3, 0x01) << "interrupt reason: command packet";
        EXPECT_FALSE(irq()) << "no interrupt before the packet (accelerated DRQ)";
        write_data(cdb);
        for (;;) {
            wait_not_busy();
            if (!(alt() & DRQ)) break;
            EXPECT_TRUE(irq());
            rd(7);
            EXPECT_EQ(rd(2) & 3, 0x02) << "interrupt reason: data to the host";
            unsigned n = rd(4) | rd(5) << 8;
            r.blocks.push_back(n);
            auto d = read_data(n);
            r.data.insert(r.data.end(), d.begin(), d.end());
        }
        EXPECT_TRUE(irq()) << "the status phase interrupts";
        r.reason = rd(2) & 3;
        r.status = rd(7);
        r.error = rd(1);
        EXPECT_EQ(r.reason, 0x03);
        return r;
    }
    Result request_sense() { return packet({0x03, 0, 0, 0, 18, 0}); }
};

std::vector<uint8_t> read10(uint32_t lba, uint16_t n) {
    return {0x28, 0, uint8_t(lba >> 24), uint8_t(lba >> 16), uint8_t(lba >> 8), uint8_t(lba), 0, uint8_t(n >> 8), uint8_t(n), 0};
}

}  // namespace

TEST_F(AtapiTest, SignatureAndIdentifyPacketDevice) {
    EXPECT_EQ(rd(2), 0x01);
    EXPECT_EQ(rd(3), 0x01);
    EXPECT_EQ(rd(4), 0x14);
    EXPECT_EQ(rd(5), 0xEB);
    EXPECT_EQ(rd(7), 0x00);
    // IDENTIFY DEVICE is aborted with the signature in place: how hosts tell ATAPI apart.
    wr(4, 0);
    wr(5, 0);
    wr(7, 0xEC);
    EXPECT_EQ(rd(7), DRDY | ERR);
    EXPECT_EQ(rd(1), 0x04);
    EXPECT_EQ(rd(4), 0x14);
    EXPECT_EQ(rd(5), 0xEB);
    auto w = identify(0xA1);
    EXPECT_EQ(w[0], 0x85C0);   // ATAPI, CD-ROM, removable, 50 µs DRQ, 12-byte packets
    EXPECT_EQ(ata_string(w, 27, 20), "LIFT86 DVD-ROM");
    EXPECT_EQ(w[49] & (1 << 8), 0);
    EXPECT_EQ(rd(7), DRDY | DSC);
}

TEST_F(AtapiTest, InquiryReadCapacityAndRead10) {
    Result inq = packet({0x12, 0, 0, 0, 36, 0});
    EXPECT_EQ(inq.status, DRDY | DSC);
    ASSERT_EQ(inq.data.size(), 36u);
    EXPECT_EQ(inq.data[0], 0x05);   // CD/DVD
    EXPECT_EQ(inq.data[1], 0x80);   // removable
    EXPECT_EQ(std::string(inq.data.begin() + 8, inq.data.begin() + 16), "LIFT86  ");
    EXPECT_EQ(std::string(inq.data.begin() + 16, inq.data.begin() + 23), "DVD-ROM");

    Result cap = packet({0x25});
    ASSERT_EQ(cap.data.size(), 8u);
    EXPECT_EQ(cap.data[3], 99);   // last block
    EXPECT_EQ(cap.data[6], 0x08); // 2048 bytes
    EXPECT_EQ(cap.data[7], 0x00);

    // SeaBIOS passes a byte count limit of one block: one DRQ block per 2048 bytes.
    irq_rises = 0;
    Result rd10 = packet(read10(7, 3), 2048);
    EXPECT_EQ(rd10.status, DRDY | DSC);
    EXPECT_EQ(rd10.blocks, (std::vector<unsigned>{2048, 2048, 2048}));
    EXPECT_EQ(irq_rises, 4);   // three data blocks and the status
    for (int i = 0; i < 3; i++)
        EXPECT_EQ(std::vector<uint8_t>(rd10.data.begin() + i * 2048, rd10.data.begin() + (i + 1) * 2048), stamp(7 + i, 2048));
    // A large limit moves it in one block; READ(12) reads the same.
    Result big = packet(read10(7, 3));
    EXPECT_EQ(big.blocks, (std::vector<unsigned>{6144}));
    EXPECT_EQ(big.data, rd10.data);
    Result r12 = packet({0xA8, 0, 0, 0, 0, 7, 0, 0, 0, 3});
    EXPECT_EQ(r12.data, rd10.data);
    // An odd limit is rounded down to even for all but the last block.
    Result odd = packet(read10(50, 1), 2047);
    EXPECT_EQ(odd.blocks, (std::vector<unsigned>{2046, 2}));
    EXPECT_EQ(odd.data, stamp(50, 2048));
    // Zero blocks: no data phase.
    Result none = packet(read10(0, 0));
    EXPECT_TRUE(none.blocks.empty());
    EXPECT_EQ(none.status, DRDY | DSC);
}

TEST_F(AtapiTest, RequestSenseAfterAnError) {
    Result bad = packet(read10(99, 2));   // the second block is past the end
    EXPECT_EQ(bad.status, DRDY | ERR);
    EXPECT_EQ(bad.error, 0x50);           // ILLEGAL REQUEST in bits 7:4
    EXPECT_TRUE(bad.data.empty());
    Result s = request_sense();
    EXPECT_EQ(s.status, DRDY | DSC);
    ASSERT_EQ(s.data.size(), 18u);
    EXPECT_EQ(s.data[0], 0x70);
    EXPECT_EQ(s.data[2], 0x05);
    EXPECT_EQ(s.data[12], 0x21);   // LOGICAL BLOCK ADDRESS OUT OF RANGE
    EXPECT_EQ(request_sense().data[2], 0x00) << "sense is reported once";

    Result op = packet({0xFF});
    EXPECT_EQ(op.error, 0x50);
    EXPECT_EQ(request_sense().data[12], 0x20);   // INVALID COMMAND OPERATION CODE
    // A good command clears the sense of an earlier one.
    packet({0xFF});
    EXPECT_EQ(packet({0x00}).status, DRDY | DSC);
    EXPECT_EQ(request_sense().data[2], 0x00);
}

TEST_F(AtapiTest, EmptyDriveIsNotReadyUntilADiscArrives) {
    ch->attach(0, std::make_unique<AtapiCdrom>());
    cd = static_cast<AtapiCdrom*>(ch->device(0));
    Result tur = packet({0x00});
    EXPECT_EQ(tur.status, DRDY | ERR);
    EXPECT_EQ(tur.error, 0x20);   // NOT READY: what SeaBIOS skips quietly
    Result s = request_sense();
    EXPECT_EQ(s.data[2], 0x02);
    EXPECT_EQ(s.data[12], 0x3A);   // MEDIUM NOT PRESENT
    EXPECT_EQ(s.data[13], 0x01);   // tray closed
    EXPECT_EQ(packet({0x25}).error, 0x20);
    EXPECT_EQ(packet({0x12, 0, 0, 0, 36}).status, DRDY | DSC) << "INQUIRY needs no disc";

    cd->insert(std::make_unique<DiskImage>(iso, DiskImageOptions{.read_only = true}));
    Result ev = packet({0x4A, 0x01, 0, 0, 0x10, 0, 0, 0, 8});
    ASSERT_EQ(ev.data.size(), 8u);
    EXPECT_EQ(ev.data[4], 0x02);   // NewMedia
    EXPECT_EQ(ev.data[5], 0x02);   // medium present, tray closed
    Result ua = packet({0x00});
    EXPECT_EQ(ua.error, 0x60);     // UNIT ATTENTION
    EXPECT_EQ(request_sense().data[12], 0x28);   // medium may have changed
    EXPECT_EQ(packet({0x00}).status, DRDY | DSC);
    EXPECT_EQ(packet({0x4A, 0x01, 0, 0, 0x10, 0, 0, 0, 8}).data[4], 0x00) << "the event is reported once";
}

TEST_F(AtapiTest, ReadTocInLbaAndMsf) {
    Result lba = packet({0x43, 0, 0, 0, 0, 0, 0, 0, 100});
    ASSERT_EQ(lba.data.size(), 20u);
    EXPECT_EQ(lba.data[1], 18);   // TOC data length
    EXPECT_EQ(lba.data[2], 1);
    EXPECT_EQ(lba.data[3], 1);
    EXPECT_EQ(lba.data[5], 0x14);   // data track
    EXPECT_EQ(lba.data[6], 1);
    EXPECT_EQ(lba.data[11], 0);     // track 1 at LBA 0
    EXPECT_EQ(lba.data[14], 0xAA);  // lead-out
    EXPECT_EQ(lba.data[19], 100);   // at LBA 100
    Result msf = packet({0x43, 0x02, 0, 0, 0, 0, 0, 0, 100});
    ASSERT_EQ(msf.data.size(), 20u);
    EXPECT_EQ(msf.data[9], 0);      // track 1 at 00:02:00
    EXPECT_EQ(msf.data[10], 2);
    EXPECT_EQ(msf.data[11], 0);
    EXPECT_EQ(msf.data[17], 0);     // lead-out at 100 + 150 frames = 00:03:25
    EXPECT_EQ(msf.data[18], 3);
    EXPECT_EQ(msf.data[19], 25);
    Result session = packet({0x43, 0, 1, 0, 0, 0, 0, 0, 12});
    EXPECT_EQ(session.data.size(), 12u);
    EXPECT_EQ(packet({0x43, 0, 0, 0, 0, 0, 5, 0, 100}).error, 0x50) << "no track 5";
    // The allocation length truncates.
    EXPECT_EQ(packet({0x43, 0, 0, 0, 0, 0, 0, 0, 4}).data.size(), 4u);
}

TEST_F(AtapiTest, ModeSenseConfigurationAndDiscInformation) {
    Result caps = packet({0x5A, 0, 0x2A, 0, 0, 0, 0, 0, 255});
    ASSERT_EQ(caps.data.size(), 28u);
    EXPECT_EQ(caps.data[1], 26);
    EXPECT_EQ(caps.data[8], 0x2A);
    EXPECT_EQ(caps.data[9], 0x12);
    EXPECT_EQ(packet({0x5A, 0, 0x3F, 0, 0, 0, 0, 0, 255}).data.size(), 8u + 8 + 12 + 20);
    EXPECT_EQ(packet({0x5A, 0, 0xEA}).error, 0x50) << "saved values are not supported";
    EXPECT_EQ(packet({0x5A, 0, 0x05, 0, 0, 0, 0, 0, 255}).error, 0x50) << "no such page";

    Result conf = packet({0x46, 0x00, 0, 0, 0, 0, 0, 0, 255});
    ASSERT_GE(conf.data.size(), 20u);
    EXPECT_EQ(conf.data[6] << 8 | conf.data[7], 0x0008);   // current profile: CD-ROM
    EXPECT_EQ(conf.data[3] + 4u, conf.data.size());
    Result one = packet({0x46, 0x02, 0x00, 0x01, 0, 0, 0, 0, 255});   // RT=2: the core feature only
    ASSERT_EQ(one.data.size(), 16u);
    EXPECT_EQ(one.data[9], 0x01);

    Result disc = packet({0x51, 0, 0, 0, 0, 0, 0, 0, 34});
    ASSERT_EQ(disc.data.size(), 34u);
    EXPECT_EQ(disc.data[2] & 0x03, 0x02);   // complete disc

    EXPECT_EQ(packet({0x4A, 0x00, 0, 0, 0x10, 0, 0, 0, 8}).error, 0x50) << "only polled events";
}

TEST_F(AtapiTest, EjectIsRefusedWhilePrevented) {
    EXPECT_EQ(packet({0x1E, 0, 0, 0, 1}).status, DRDY | DSC);   // PREVENT
    Result ej = packet({0x1B, 0, 0, 0, 0x02});
    EXPECT_EQ(ej.error, 0x20);
    EXPECT_EQ(request_sense().data[12], 0x53);   // MEDIUM REMOVAL PREVENTED
    EXPECT_TRUE(cd->medium_present());
    packet({0x1E, 0, 0, 0, 0});                  // ALLOW
    EXPECT_EQ(packet({0x1B, 0, 0, 0, 0x02}).status, DRDY | DSC);
    EXPECT_TRUE(cd->tray_open());
    EXPECT_EQ(packet({0x00}).error, 0x20);
    EXPECT_EQ(request_sense().data[13], 0x02);   // tray open
    packet({0x1B, 0, 0, 0, 0x03});               // load
    EXPECT_EQ(packet({0x00}).error, 0x60);       // the disc is back: unit attention
    EXPECT_EQ(packet({0x00}).status, DRDY | DSC);
}

TEST_F(AtapiTest, DeviceResetWorksEvenInTheMiddleOfACommand) {
    wr(4, 0x00);
    wr(5, 0x08);
    wr(7, 0xA0);
    EXPECT_EQ(alt() & DRQ, DRQ);   // waiting for the packet
    irq_rises = 0;
    wr(7, 0x08);                   // DEVICE RESET
    EXPECT_EQ(rd(7), 0x00);
    EXPECT_EQ(rd(1), 0x01);
    EXPECT_EQ(rd(4), 0x14);
    EXPECT_EQ(rd(5), 0xEB);
    EXPECT_EQ(irq_rises, 0);
    EXPECT_EQ(packet(read10(1, 1)).data, stamp(1, 2048));
}

TEST_F(AtapiTest, PacketWithDmaIsAborted) {
    wr(1, 0x01);
    wr(7, 0xA0);
    EXPECT_EQ(rd(7), DRDY | ERR);
    EXPECT_EQ(rd(1), 0x04);
}
