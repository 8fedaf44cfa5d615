// ATAPI CD/DVD-ROM drive on an IDE channel (devices/ata.hpp), reading an ISO image: 2048-byte
// blocks, read-only.
//
// Reference: ATA/ATAPI-6 §8.23 (PACKET), §8.17 (IDENTIFY PACKET DEVICE), §8.10 (DEVICE
// RESET), §9.10 (PACKET PIO data-in protocol, byte count limit, interrupt reason); MMC-3/-5
// (T10) for the packet commands and SPC-2 for INQUIRY/REQUEST SENSE and the sense codes.
//
// What the board wires:
//   chan.attach(position, std::make_unique<AtapiCdrom>(
//       file.empty() ? nullptr : std::make_unique<DiskImage>(file, DiskImageOptions{.read_only = true})));
// insert()/remove() change the medium at run time (a monitor's "change"/"eject"): the guest
// sees UNIT ATTENTION 28h/00h on its next command and a media event in GET EVENT STATUS
// NOTIFICATION, as with a real disc swap. A drive with no medium answers NOT READY 3Ah.
//
// PACKET protocol (PIO only; a PACKET with the DMA or OVL feature bit is aborted): after the
// command the device asks for the 12-byte packet with DRQ and interrupt reason C/D=1, I/O=0,
// without an interrupt (IDENTIFY word 0 advertises the 50 µs "accelerated DRQ" type, as QEMU
// does). Data then moves in DRQ blocks of at most the byte count limit written to LBA
// Mid/High (rounded down to even; 0 and FFFFh mean FFFEh), each announced with I/O=1, C/D=0,
// the block's byte count in LBA Mid/High and an interrupt. The command ends with I/O=1,
// C/D=1, DRDY and an interrupt; on CHECK CONDITION also ERR, with the sense key in Error bits
// 7:4 (QEMU's encoding: no ABRT bit), and the sense kept for REQUEST SENSE.
//
// Packet commands: TEST UNIT READY, REQUEST SENSE, INQUIRY, START STOP UNIT (tray eject/load,
// refused while removal is prevented), PREVENT ALLOW MEDIUM REMOVAL, READ CAPACITY,
// READ(10), READ(12), SEEK(10), READ TOC/PMA/ATIP formats 0 (TOC, LBA or MSF) and 1 (session
// info), GET CONFIGURATION (profile list, core, morphing, removable medium, random readable),
// GET EVENT STATUS NOTIFICATION (polled; media class), READ DISC INFORMATION (standard
// type), MODE SENSE(10) (pages 01h, 1Ah, 2Ah, 3Fh; current/changeable/default values),
// MECHANISM STATUS, SET CD SPEED. Anything else: ILLEGAL REQUEST, 20h/00h.
// ATA commands: IDENTIFY PACKET DEVICE, PACKET, DEVICE RESET (also while busy), SET FEATURES
// (PIO transfer mode), CHECK POWER MODE, IDLE/STANDBY IMMEDIATE, SLEEP; IDENTIFY DEVICE and
// READ SECTOR(S) are aborted with the ATAPI signature in the registers (§8.15, how a host
// tells a packet device), everything else aborted.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "devices/ata.hpp"
#include "devices/disk_image.hpp"

namespace lift86 {

struct AtapiConfig {
    std::string serial = "LIFT86-CD0";       // IDENTIFY PACKET DEVICE words 10-19
    std::string model = "LIFT86 DVD-ROM";    // words 27-46
    std::string firmware = "1.0";            // words 23-26 and INQUIRY revision
    std::string vendor = "LIFT86";           // INQUIRY vendor (8 characters)
    std::string product = "DVD-ROM";         // INQUIRY product (16 characters)
};

class AtapiCdrom final : public IdeDevice {
public:
    static constexpr uint32_t kBlockSize = 2048;
    // Discs larger than 80 minutes of CD are reported as DVD-ROM (profile 0010h).
    static constexpr uint64_t kCdMaxBlocks = 80ull * 60 * 75;

    explicit AtapiCdrom(std::unique_ptr<DiskImage> medium = nullptr, AtapiConfig cfg = {});
    bool packet_device() const override { return true; }

    // Puts a disc in and closes the tray (UNIT ATTENTION, "new media" event).
    void insert(std::unique_ptr<DiskImage> medium);
    // Takes the disc out (tray left open); returns it, or null when there was none.
    std::unique_ptr<DiskImage> remove();
    bool medium_present() const { return medium_ && !tray_open_; }
    bool tray_open() const { return tray_open_; }
    bool removal_prevented() const { return locked_; }
    uint64_t blocks() const { return medium_ ? (medium_->size_bytes() + kBlockSize - 1) / kBlockSize : 0; }

    // SCSI sense keys (SPC-2 table 27).
    enum : uint8_t { kNoSense = 0x0, kNotReady = 0x2, kMediumError = 0x3, kIllegalRequest = 0x5, kUnitAttention = 0x6 };

protected:
    void execute(uint8_t command) override;
    void block_done() override;
    void power_on() override;
    uint8_t ready_status() const override { return 0x00; }   // DRDY clear after reset (§9.2)
    void identify(std::array<uint16_t, 256>& words) const override;

private:
    enum class Phase { None, Identify, Packet, DataIn };
    void run_packet();
    void send_block();
    void finish();
    void check_condition(uint8_t key, uint8_t asc, uint8_t ascq = 0);
    void reply(std::vector<uint8_t> data, size_t alloc);
    void start_read(uint64_t lba, uint64_t count);
    bool is_dvd() const { return blocks() > kCdMaxBlocks; }

    void cmd_request_sense(const uint8_t* cdb);
    void cmd_inquiry(const uint8_t* cdb);
    void cmd_start_stop(const uint8_t* cdb);
    void cmd_read_toc(const uint8_t* cdb);
    void cmd_get_configuration(const uint8_t* cdb);
    void cmd_get_event_status(const uint8_t* cdb);
    void cmd_read_disc_info(const uint8_t* cdb);
    void cmd_mode_sense(const uint8_t* cdb);

    std::unique_ptr<DiskImage> medium_;
    AtapiConfig cfg_;
    bool tray_open_ = false;
    bool locked_ = false;
    bool unit_attention_ = false;
    uint8_t media_event_ = 0;   // GET EVENT STATUS media event code waiting to be reported
    uint8_t sense_key_ = 0, asc_ = 0, ascq_ = 0;

    Phase phase_ = Phase::None;
    uint32_t byte_limit_ = 0xFFFE;   // of the current PACKET command
    std::vector<uint8_t> reply_;
    size_t reply_pos_ = 0;
    bool reading_ = false;           // data comes from the medium, not reply_
    uint64_t read_offset_ = 0, read_left_ = 0;
};

}  // namespace lift86
