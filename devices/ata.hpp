// IDE (ATA/ATAPI) channel with a master and a slave position, and the ATA hard disk.
//
// Reference: ATA/ATAPI-6 (T13 1410D rev. 3b): §7 register descriptions (Status, Error,
// Device Control with nIEN/SRST/HOB, the 48-bit "previous content" registers), §8 command
// descriptions, §9 protocols (PIO data-in / data-out, non-data, PACKET, software reset,
// EXECUTE DEVICE DIAGNOSTIC, device 0 responding for an absent device 1) and §8.15
// (IDENTIFY DEVICE words).
//
// What the board wires (machine/machine.cpp):
//   IdeChannel primary(io, clock, 0x1F0, 0x3F6);    primary.irq   -> PIC input 14
//   IdeChannel secondary(io, clock, 0x170, 0x376);  secondary.irq -> PIC input 15
//   for each DriveSpec d (devices/drive_spec.hpp), on channel d.channel() at d.position():
//     disk:  auto img = std::make_unique<DiskImage>(d.file, {.read_only = d.read_only,
//                                                             .snapshot = d.snapshot || -snapshot});
//            if (!img->notice().empty()) print "lift86: warning: " + notice;
//            AtaGeometry g = guess_ata_geometry(*img);
//            chan.attach(pos, std::make_unique<AtaDisk>(std::move(img), AtaDiskConfig{.serial = ..., .geometry = g}));
//     cdrom: chan.attach(pos, std::make_unique<AtapiCdrom>(file empty ? nullptr
//                 : std::make_unique<DiskImage>(d.file, {.read_only = true})));   (devices/atapi.hpp)
//   DiskImageError / DriveSpecError: print "lift86: " + what() and exit 2.
//   Machine reset: chan.reset() (the RESET- line: power-on state, no interrupt).
//   CMOS, as QEMU's pc board sets it: 0x39 holds the BIOS translation of ATA disk i = 0..3
//     (index = channel*2 + position) in bits 2i+1..2i, the AtaGeometry::Translation code of
//     guess_ata_geometry(). SeaBIOS reads it (get_translation()) and otherwise takes the
//     geometry from IDENTIFY. QEMU also fills the old AT disk-type bytes for hd0/hd1: 0x12 =
//     F0h|0Fh, 0x19/0x1A = 47, 0x1B../0x24..: cylinders lo/hi, heads, FFh, FFh,
//     C0h|(heads>8)<<3, cylinders lo/hi, sectors.
//   Without a PCI IDE controller SeaBIOS probes the legacy ports 0x1F0/0x170 by itself.
//
// Behaviour (ATA-6):
// - Each device has its own task file; writes to the command block go to both devices, as on
//   the cable; reads come from the selected device (DEV bit of the Device register). The HOB
//   bit of Device Control selects the "previous content" of the 48-bit registers on reads, and
//   any command block write clears it.
// - INTRQ: each device keeps an interrupt-pending flag, set when a DRQ block of a PIO data-in
//   command is ready, after each block of a data-out command is written, and at the end of a
//   non-data command; it is cleared by reading the Status register (not Alternate Status) and
//   by writing the Command register. The line follows the *selected* device's flag, gated by
//   nIEN (a tri-state output: when nIEN=1 the line is released, the flag kept).
// - Timing: each step (command start, each DRQ block, completion) keeps BSY set for
//   IdeTiming::command_ns of machine time (0: done at once, as QEMU does), SRST/DEVICE RESET/
//   EXECUTE DEVICE DIAGNOSTIC for reset_ns. BSY is always set while SRST is held.
// - Software reset (SRST): every device goes BSY; when SRST is released it places its
//   signature (ATA: count 01h, LBA 01h/00h/00h, device 00h; ATAPI: 01h, 01h/14h/EBh, 00h),
//   Error = 01h (diagnostics passed) and Status = 50h (ATA) / 00h (ATAPI). No interrupt.
// - Absent device 1 (or 0) next to a present one: its Status and Alternate Status read 00h,
//   commands addressed to it are ignored; the other registers read back what was written.
//   A channel with no device at all floats: every register reads FFh.
// - Commands while BSY is set are ignored (DEVICE RESET to an ATAPI device excepted).
//
// ATA disk (AtaDisk): IDENTIFY DEVICE, INITIALIZE DEVICE PARAMETERS, SET FEATURES (write cache,
// read look-ahead, PIO transfer mode, revert defaults), SET MULTIPLE MODE, READ/WRITE
// SECTOR(S) (+EXT), READ/WRITE MULTIPLE (+EXT), READ VERIFY SECTOR(S) (+EXT), FLUSH CACHE
// (+EXT), RECALIBRATE, SEEK, CHECK POWER MODE, IDLE/STANDBY (IMMEDIATE), SLEEP; CHS, LBA28 and
// LBA48 addressing; ABRT for anything else (DMA commands included: no bus-master DMA, so no
// DMA mode is advertised), IDNF for addresses outside the disk. The multiple count starts at
// 16 (as on QEMU). With the write cache disabled (SET FEATURES 82h) each write is flushed.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "devices/disk_image.hpp"
#include "machine/bus/clock.hpp"
#include "machine/bus/irq.hpp"
#include "machine/bus/port_bus.hpp"

namespace lift86 {

namespace ata {
// Status register (ATA-6 §7.15).
enum : uint8_t { kBSY = 0x80, kDRDY = 0x40, kDF = 0x20, kDSC = 0x10, kDRQ = 0x08, kERR = 0x01 };
// Error register (§7.9).
enum : uint8_t { kUNC = 0x40, kIDNF = 0x10, kABRT = 0x04 };
// Device Control register (§7.8).
enum : uint8_t { kHOB = 0x80, kSRST = 0x04, kNIEN = 0x02 };
// Device register (§7.10).
enum : uint8_t { kLBA = 0x40, kDEV = 0x10 };
// ATAPI interrupt reason: the Sector Count register of a packet device during PACKET
// (§8.23, §9.10): C/D (command packet or status) and I/O (to the host).
enum : uint8_t { kCoD = 0x01, kIO = 0x02 };
}  // namespace ata

struct IdeTiming {
    uint64_t command_ns = 0;   // BSY time of each step of a command (0: instant)
    uint64_t reset_ns = 0;     // BSY time after SRST is released, DEVICE RESET, diagnostics
};

class IdeChannel;

// The ATA-6 task file of one device. Sector count and the LBA registers hold two bytes: the
// last written ("current") and the one before ("previous", read with HOB=1; the high half of
// a 48-bit value).
struct AtaTaskFile {
    struct Reg48 {
        uint8_t cur = 0, prev = 0;
        void write(uint8_t v) { prev = cur; cur = v; }
    };
    Reg48 feature, count, lba_low, lba_mid, lba_high;
    uint8_t device = 0, status = 0, error = 0;
};

// A device on an IDE channel: the task file, the PIO data buffer and the BSY/DRQ/INTRQ
// sequencing shared by the ATA disk and the ATAPI drive.
class IdeDevice {
public:
    virtual ~IdeDevice() = default;
    virtual bool packet_device() const = 0;
    const AtaTaskFile& task_file() const { return tf_; }
    bool interrupt_pending() const { return intrq_; }
    bool busy() const { return tf_.status & ata::kBSY; }

protected:
    friend class IdeChannel;
    IdeDevice() = default;

    // --- what each kind of device implements
    virtual void execute(uint8_t command) = 0;   // Command register written (not busy)
    virtual void block_done() = 0;               // the host moved the whole current DRQ block
    virtual void power_on() = 0;                 // power-on defaults (RESET-), then reset_done()
    virtual uint8_t ready_status() const = 0;    // Status after a reset: 50h ATA, 00h ATAPI
    virtual void identify(std::array<uint16_t, 256>& words) const = 0;

    // --- protocol helpers (ATA-6 §9)
    // Sets BSY and runs `then` after `ns` of machine time (at once for 0).
    void go_busy(std::function<void()> then, uint64_t ns);
    void go_busy(std::function<void()> then);   // with IdeTiming::command_ns
    // The first n bytes of buf_ form a DRQ block (to the host, or from it when `out`).
    void begin_drq(size_t n, bool out, bool interrupt);
    void complete(bool interrupt);                   // DRDY, no DRQ
    void fail(uint8_t error);                        // DRDY|ERR, INTRQ
    void raise_intrq();
    void set_signature();                            // ATA-6 §9.12 signatures
    void reset_done();                               // signature, Error 01h, ready_status()
    void cancel();                                   // drop any scheduled step and DRQ block
    void fill_identify_strings(std::array<uint16_t, 256>& w, const std::string& serial,
                               const std::string& firmware, const std::string& model) const;
    uint16_t reset_result_word() const;              // IDENTIFY word 93
    static void set_checksum(std::array<uint16_t, 256>& w);   // word 255
    void identify_to_buffer();                       // identify() into buf_ as 512 LE bytes
    bool peer_present() const;
    const IdeTiming& timing() const;

    AtaTaskFile tf_;
    bool intrq_ = false;
    std::vector<uint8_t> buf_;
    IdeChannel* channel_ = nullptr;
    unsigned position_ = 0;

private:
    uint16_t data_read16();
    void data_write16(uint16_t v);
    void run_step();

    std::function<void()> step_;
    size_t xfer_pos_ = 0, xfer_len_ = 0;
    bool xfer_out_ = false;
};

class IdeChannel final : public PortDevice {
public:
    // `cmd_base`: the 8 command block ports; `ctrl_port`: Alternate Status / Device Control
    // (0x3F7/0x377 above it belong to the floppy controller and are not claimed).
    IdeChannel(PortBus& bus, Clock& clock, uint16_t cmd_base, uint16_t ctrl_port, IdeTiming timing = {});
    ~IdeChannel() override;
    IdeChannel(const IdeChannel&) = delete;
    IdeChannel& operator=(const IdeChannel&) = delete;

    IrqLine irq;   // INTRQ: IRQ14 (primary) / IRQ15 (secondary) on the PC

    // Puts a device at position 0 (master) or 1 (slave), in its power-on state.
    void attach(unsigned position, std::unique_ptr<IdeDevice> dev);
    IdeDevice* device(unsigned position) const { return dev_[position & 1].get(); }
    // The RESET- line (machine reset): every device back to its power-on state.
    void reset();

    uint32_t io_read(uint16_t port, unsigned size) override;
    void io_write(uint16_t port, uint32_t value, unsigned size) override;

    Clock& clock() { return clock_; }
    const IdeTiming& timing() const { return timing_; }
    unsigned selected() const { return selected_; }
    void update_irq();

private:
    friend class IdeDevice;
    bool empty() const { return !dev_[0] && !dev_[1]; }
    AtaTaskFile& tf(unsigned pos) { return dev_[pos] ? dev_[pos]->tf_ : shadow_[pos]; }
    uint8_t read_reg(unsigned reg);
    void write_reg(unsigned reg, uint8_t v);
    void write_control(uint8_t v);
    void execute_device_diagnostic();

    PortBus& bus_;
    Clock& clock_;
    uint16_t base_, ctrl_;
    IdeTiming timing_;
    std::unique_ptr<IdeDevice> dev_[2];
    AtaTaskFile shadow_[2];   // the registers of an absent position
    Clock::EventId step_event_[2];
    uint8_t devctl_ = 0;
    unsigned selected_ = 0;
};

// Default CHS geometry of a disk, and the BIOS translation that goes with it, guessed as QEMU
// does (hw/block/hd-geometry.c): from an MBR partition table that ends on a cylinder boundary
// (end head + 1 = heads, end sector = sectors per track) when it gives 1..16383 cylinders; else
// 16 heads, 63 sectors, cylinders = size / (16*63) clamped to 2..16383.
struct AtaGeometry {
    // The CMOS 0x39 code SeaBIOS reads (QEMU's BIOS_ATA_TRANSLATION_* minus one).
    enum Translation : uint8_t { kNone = 0, kLba = 1, kLarge = 2 };
    uint32_t cylinders = 0, heads = 0, sectors = 0;
    Translation translation = kNone;
};
AtaGeometry guess_ata_geometry(DiskImage& image);

struct AtaDiskConfig {
    std::string serial = "LIFT86-HD0";       // IDENTIFY words 10-19 (20 characters)
    std::string model = "LIFT86 HARDDISK";   // words 27-46
    std::string firmware = "1.0";            // words 23-26
    std::optional<AtaGeometry> geometry;     // default CHS; guess_ata_geometry() when unset
};

class AtaDisk final : public IdeDevice {
public:
    static constexpr unsigned kMaxMultiple = 16;   // IDENTIFY word 47

    explicit AtaDisk(std::unique_ptr<DiskImage> image, AtaDiskConfig cfg = {});
    bool packet_device() const override { return false; }
    DiskImage& image() { return *image_; }
    const AtaGeometry& geometry() const { return geometry_; }
    uint64_t sectors() const { return image_->sectors(); }
    // The 256 words IDENTIFY DEVICE returns now.
    std::array<uint16_t, 256> identify_data() const;

protected:
    void execute(uint8_t command) override;
    void block_done() override;
    void power_on() override;
    uint8_t ready_status() const override { return ata::kDRDY | ata::kDSC; }
    void identify(std::array<uint16_t, 256>& words) const override;

private:
    enum class Phase { None, Identify, Read, Write };
    void start_transfer(bool write, bool ext, bool multiple);
    void read_verify(bool ext);
    void read_next_block();
    void write_block();
    // Decodes the address and count of the command in the task file (ext_ and lba_mode_ set);
    // false (IDNF reported, its address in the task file) when it is outside the disk.
    bool decode(bool ext, uint64_t& lba, uint32_t& count, bool one_sector = false);
    void set_address(uint64_t lba);
    void set_count(uint32_t n);
    void set_features();
    uint64_t lba28_limit() const;
    uint64_t chs_limit() const;

    std::unique_ptr<DiskImage> image_;
    AtaDiskConfig cfg_;
    AtaGeometry geometry_;
    // Current translation (INITIALIZE DEVICE PARAMETERS), IDENTIFY words 54-56.
    uint32_t cur_cyl_ = 0, cur_heads_ = 0, cur_spt_ = 0;
    unsigned multiple_ = kMaxMultiple;   // 0: multiple mode disabled
    bool write_cache_ = true;
    bool look_ahead_ = true;

    Phase phase_ = Phase::None;
    uint64_t lba_ = 0;        // next sector of the transfer
    uint32_t left_ = 0;       // sectors still to move
    uint32_t per_block_ = 1;  // sectors per DRQ block
    uint32_t block_ = 0;      // sectors in the current DRQ block
    bool ext_ = false;        // a 48-bit command
    bool lba_mode_ = false;   // LBA (not CHS) addressing
};

}  // namespace lift86
