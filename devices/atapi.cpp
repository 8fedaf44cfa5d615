#include "devices/atapi.hpp"

#include <algorithm>
#include <cstring>

namespace lift86 {

using namespace ata;

namespace {

// ATA commands a packet device answers (ATA-6 table B.2).
enum : uint8_t {
    kCmdNop = 0x00,
    kCmdDeviceReset = 0x08,
    kCmdReadSectors = 0x20,
    kCmdReadSectorsNoRetry = 0x21,
    kCmdPacket = 0xA0,
    kCmdIdentifyPacket = 0xA1,
    kCmdStandbyImm = 0xE0,
    kCmdIdleImm = 0xE1,
    kCmdCheckPower = 0xE5,
    kCmdSleep = 0xE6,
    kCmdIdentify = 0xEC,
    kCmdSetFeatures = 0xEF,
};

// Packet command operation codes (MMC-5 table 14, SPC-2).
enum : uint8_t {
    kOpTestUnitReady = 0x00,
    kOpRequestSense = 0x03,
    kOpInquiry = 0x12,
    kOpStartStopUnit = 0x1B,
    kOpPreventAllow = 0x1E,
    kOpReadCapacity = 0x25,
    kOpRead10 = 0x28,
    kOpSeek10 = 0x2B,
    kOpReadToc = 0x43,
    kOpGetConfiguration = 0x46,
    kOpGetEventStatus = 0x4A,
    kOpReadDiscInfo = 0x51,
    kOpModeSense10 = 0x5A,
    kOpRead12 = 0xA8,
    kOpSetCdSpeed = 0xBB,
    kOpMechanismStatus = 0xBD,
};

// Additional sense codes (SPC-2 annex D).
enum : uint8_t {
    kAscUnrecoveredRead = 0x11,
    kAscInvalidOpcode = 0x20,
    kAscLbaOutOfRange = 0x21,
    kAscInvalidField = 0x24,
    kAscMediumMayHaveChanged = 0x28,
    kAscSavingNotSupported = 0x39,
    kAscMediumNotPresent = 0x3A,
    kAscRemovalPrevented = 0x53,
};

uint32_t be16(const uint8_t* p) { return uint32_t(p[0] << 8 | p[1]); }
uint32_t be32(const uint8_t* p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]; }
void put16(std::vector<uint8_t>& v, size_t at, uint32_t x) {
    v[at] = uint8_t(x >> 8);
    v[at + 1] = uint8_t(x);
}
void put32(std::vector<uint8_t>& v, size_t at, uint32_t x) {
    put16(v, at, x >> 16);
    put16(v, at + 2, x);
}
void append(std::vector<uint8_t>& v, std::initializer_list<uint8_t> bytes) { v.insert(v.end(), bytes); }
void put_padded(std::vector<uint8_t>& v, size_t at, size_t len, const std::string& s) {
    for (size_t i = 0; i < len; i++) v[at + i] = i < s.size() ? uint8_t(s[i]) : ' ';
}

}  // namespace

AtapiCdrom::AtapiCdrom(std::unique_ptr<DiskImage> medium, AtapiConfig cfg)
    : medium_(std::move(medium)), cfg_(std::move(cfg)) {}

void AtapiCdrom::power_on() {
    phase_ = Phase::None;
    tray_open_ = false;
    locked_ = false;
    unit_attention_ = false;
    media_event_ = 0;
    sense_key_ = asc_ = ascq_ = 0;
    reset_done();
}

void AtapiCdrom::insert(std::unique_ptr<DiskImage> medium) {
    medium_ = std::move(medium);
    tray_open_ = false;
    if (medium_) {
        unit_attention_ = true;   // MMC: 28h/00h "not ready to ready change, medium may have changed"
        media_event_ = 2;         // NewMedia
    }
}

std::unique_ptr<DiskImage> AtapiCdrom::remove() {
    if (medium_) media_event_ = 3;   // MediaRemoval
    tray_open_ = true;
    return std::move(medium_);
}

void AtapiCdrom::identify(std::array<uint16_t, 256>& w) const {
    // ATA-6 §8.17 (IDENTIFY PACKET DEVICE), table 30.
    w.fill(0);
    // ATAPI (10b), CD-ROM device type (05h), removable, DRQ within 50 µs (10b), 12-byte packets.
    w[0] = (2 << 14) | (0x05 << 8) | (1 << 7) | (2 << 5);
    fill_identify_strings(w, cfg_.serial, cfg_.firmware, cfg_.model);
    w[49] = (1 << 11) | (1 << 9);   // IORDY, LBA; no DMA
    w[50] = 0x4000;
    w[53] = 0x0002;                 // words 64-70 valid
    w[64] = 0x0003;                 // PIO modes 3 and 4
    w[67] = 120;
    w[68] = 120;
    w[71] = 30;                     // typical release times (ns) for overlapped/queued commands
    w[72] = 30;
    w[80] = 0x007E;                 // ATA/ATAPI-1 .. 6
    w[82] = (1 << 14) | (1 << 9) | (1 << 4);   // NOP, DEVICE RESET, PACKET feature sets
    w[83] = (1 << 14);
    w[84] = (1 << 14);
    w[85] = (1 << 14) | (1 << 9) | (1 << 4);
    w[87] = (1 << 14);
    w[93] = reset_result_word();
    set_checksum(w);
}

// ---------------------------------------------------------------------------------------------
// ATA commands

void AtapiCdrom::execute(uint8_t cmd) {
    switch (cmd) {
    case kCmdPacket:
        return go_busy([this] {
            // The DMA and OVL bits ask for what this drive does not do.
            if (tf_.feature.cur & 0x03) return fail(kABRT);
            const uint32_t bcl = uint32_t(tf_.lba_mid.cur | tf_.lba_high.cur << 8);
            byte_limit_ = (bcl == 0 || bcl == 0xFFFF) ? 0xFFFE : bcl;
            phase_ = Phase::Packet;
            tf_.count.cur = kCoD;   // interrupt reason: command packet, host to device
            begin_drq(12, true, false);
        });

    case kCmdIdentifyPacket:
        return go_busy([this] {
            phase_ = Phase::Identify;
            identify_to_buffer();
            begin_drq(512, false, true);
        });

    case kCmdDeviceReset:
        // §8.10: accepted even while busy; no interrupt at the end.
        cancel();
        intrq_ = false;
        channel_->update_irq();
        phase_ = Phase::None;
        return go_busy([this] { reset_done(); }, timing().reset_ns);

    case kCmdIdentify:
    case kCmdReadSectors:
    case kCmdReadSectorsNoRetry:
        return go_busy([this] {
            set_signature();
            fail(kABRT);
        });

    case kCmdSetFeatures:
        return go_busy([this] {
            const uint8_t mode = tf_.count.cur;
            if (tf_.feature.cur == 0x03 && (mode <= 0x01 || (mode >= 0x08 && mode <= 0x0C))) return complete(true);
            fail(kABRT);
        });

    case kCmdCheckPower:
        return go_busy([this] {
            tf_.count.cur = 0xFF;
            complete(true);
        });

    case kCmdStandbyImm:
    case kCmdIdleImm:
    case kCmdSleep: return go_busy([this] { complete(true); });

    default: return go_busy([this] { fail(kABRT); });
    }
}

void AtapiCdrom::block_done() {
    switch (phase_) {
    case Phase::Identify:
        phase_ = Phase::None;
        complete(false);
        break;
    case Phase::Packet: go_busy([this] { run_packet(); }); break;
    case Phase::DataIn:
        if ((reading_ ? read_left_ : reply_.size() - reply_pos_) > 0) go_busy([this] { send_block(); });
        else go_busy([this] { finish(); });
        break;
    case Phase::None: complete(false); break;
    }
}

// ---------------------------------------------------------------------------------------------
// Packet protocol

void AtapiCdrom::finish() {
    phase_ = Phase::None;
    reply_.clear();
    reading_ = false;
    tf_.count.cur = kIO | kCoD;   // interrupt reason: status
    complete(true);
}

void AtapiCdrom::check_condition(uint8_t key, uint8_t asc, uint8_t ascq) {
    sense_key_ = key;
    asc_ = asc;
    ascq_ = ascq;
    phase_ = Phase::None;
    reply_.clear();
    reading_ = false;
    tf_.count.cur = kIO | kCoD;
    fail(uint8_t(key << 4));
}

void AtapiCdrom::reply(std::vector<uint8_t> data, size_t alloc) {
    if (data.size() > alloc) data.resize(alloc);
    reply_ = std::move(data);
    reply_pos_ = 0;
    reading_ = false;
    if (reply_.empty()) return finish();
    send_block();
}

void AtapiCdrom::start_read(uint64_t lba, uint64_t count) {
    if (lba > blocks() || count > blocks() - lba) return check_condition(kIllegalRequest, kAscLbaOutOfRange);
    if (count == 0) return finish();
    reading_ = true;
    read_offset_ = lba * kBlockSize;
    read_left_ = count * kBlockSize;
    send_block();
}

void AtapiCdrom::send_block() {
    const uint64_t left = reading_ ? read_left_ : reply_.size() - reply_pos_;
    size_t n = size_t(std::min<uint64_t>(left, byte_limit_));
    // §8.23: a DRQ block that is not the last has an even byte count.
    if (n < left && (n & 1)) n--;
    if (n == 0) n = size_t(std::min<uint64_t>(left, 2));
    if (buf_.size() < n + 1) buf_.resize(n + 1);
    buf_[n] = 0;   // the pad byte of an odd count
    if (reading_) {
        if (!medium_present() || !medium_->read_bytes(read_offset_, buf_.data(), n))
            return check_condition(kMediumError, kAscUnrecoveredRead);
        read_offset_ += n;
        read_left_ -= n;
    } else {
        std::memcpy(buf_.data(), reply_.data() + reply_pos_, n);
        reply_pos_ += n;
    }
    phase_ = Phase::DataIn;
    tf_.lba_mid.cur = uint8_t(n);
    tf_.lba_high.cur = uint8_t(n >> 8);
    tf_.count.cur = kIO;   // interrupt reason: data to the host
    begin_drq(n, false, true);
}

void AtapiCdrom::run_packet() {
    uint8_t cdb[12];
    std::memcpy(cdb, buf_.data(), 12);
    const uint8_t op = cdb[0];
    // Sense data describes the last command: any command but REQUEST SENSE starts afresh.
    if (op != kOpRequestSense) sense_key_ = asc_ = ascq_ = 0;
    // A pending unit attention fails the next command, except those MMC lets through.
    if (unit_attention_ && op != kOpInquiry && op != kOpRequestSense && op != kOpGetConfiguration &&
        op != kOpGetEventStatus) {
        unit_attention_ = false;
        return check_condition(kUnitAttention, kAscMediumMayHaveChanged);
    }
    switch (op) {
    case kOpTestUnitReady: case kOpReadCapacity: case kOpRead10: case kOpRead12: case kOpSeek10:
    case kOpReadToc: case kOpReadDiscInfo:
        if (!medium_present()) return check_condition(kNotReady, kAscMediumNotPresent, tray_open_ ? 0x02 : 0x01);
        break;
    default: break;
    }

    switch (op) {
    case kOpTestUnitReady: return finish();
    case kOpRequestSense: return cmd_request_sense(cdb);
    case kOpInquiry: return cmd_inquiry(cdb);
    case kOpStartStopUnit: return cmd_start_stop(cdb);
    case kOpPreventAllow:
        locked_ = cdb[4] & 1;
        return finish();
    case kOpReadCapacity: {
        std::vector<uint8_t> d(8);
        put32(d, 0, uint32_t(blocks() - 1));   // the last block's address
        put32(d, 4, kBlockSize);
        return reply(std::move(d), 8);
    }
    case kOpRead10: return start_read(be32(cdb + 2), be16(cdb + 7));
    case kOpRead12: return start_read(be32(cdb + 2), be32(cdb + 6));
    case kOpSeek10:
        if (be32(cdb + 2) >= blocks()) return check_condition(kIllegalRequest, kAscLbaOutOfRange);
        return finish();
    case kOpReadToc: return cmd_read_toc(cdb);
    case kOpGetConfiguration: return cmd_get_configuration(cdb);
    case kOpGetEventStatus: return cmd_get_event_status(cdb);
    case kOpReadDiscInfo: return cmd_read_disc_info(cdb);
    case kOpModeSense10: return cmd_mode_sense(cdb);
    case kOpSetCdSpeed: return finish();
    case kOpMechanismStatus: {
        std::vector<uint8_t> d(8);
        d[1] = tray_open_ ? 0x10 : 0x00;   // mechanism idle, door open bit
        return reply(std::move(d), be16(cdb + 8));
    }
    default: return check_condition(kIllegalRequest, kAscInvalidOpcode);
    }
}

// ---------------------------------------------------------------------------------------------
// Packet commands

void AtapiCdrom::cmd_request_sense(const uint8_t* cdb) {
    uint8_t key = sense_key_, asc = asc_, ascq = ascq_;
    if (key == kNoSense) {
        // No sense from the last command: report the drive's condition.
        if (unit_attention_) {
            unit_attention_ = false;
            key = kUnitAttention;
            asc = kAscMediumMayHaveChanged;
            ascq = 0;
        } else if (!medium_present()) {
            key = kNotReady;
            asc = kAscMediumNotPresent;
            ascq = tray_open_ ? 0x02 : 0x01;
        }
    }
    sense_key_ = asc_ = ascq_ = 0;
    // Fixed-format sense data (SPC-2 §7.23.2).
    std::vector<uint8_t> d(18);
    d[0] = 0x70;   // current error
    d[2] = key;
    d[7] = 10;     // additional sense length
    d[12] = asc;
    d[13] = ascq;
    reply(std::move(d), cdb[4]);
}

void AtapiCdrom::cmd_inquiry(const uint8_t* cdb) {
    if (cdb[1] & 0x01) return check_condition(kIllegalRequest, kAscInvalidField);   // no VPD pages
    // Standard INQUIRY data (SPC-2 §7.3.2), as ATAPI drives fill it.
    std::vector<uint8_t> d(36);
    d[0] = 0x05;   // CD/DVD device
    d[1] = 0x80;   // removable medium
    d[2] = 0x00;   // ATAPI devices claim no ANSI version
    d[3] = 0x21;   // ATAPI transport version 2, response data format 1
    d[4] = 31;     // additional length
    put_padded(d, 8, 8, cfg_.vendor);
    put_padded(d, 16, 16, cfg_.product);
    put_padded(d, 32, 4, cfg_.firmware);
    reply(std::move(d), be16(cdb + 3));
}

void AtapiCdrom::cmd_start_stop(const uint8_t* cdb) {
    const bool loej = cdb[4] & 0x02, start = cdb[4] & 0x01;
    if (loej && !start) {   // eject: open the tray
        if (locked_) return check_condition(kNotReady, kAscRemovalPrevented, 0x02);
        if (!tray_open_ && medium_) media_event_ = 3;   // MediaRemoval
        tray_open_ = true;
    } else if (loej && start) {   // load: close the tray
        if (tray_open_ && medium_) {
            unit_attention_ = true;
            media_event_ = 2;   // NewMedia
        }
        tray_open_ = false;
    }
    finish();
}

void AtapiCdrom::cmd_read_toc(const uint8_t* cdb) {
    // MMC-5 §6.26. The format is in byte 2; old ATAPI hosts put it in the top bits of byte 9.
    const bool msf = cdb[1] & 0x02;
    uint8_t format = cdb[2] & 0x0F;
    if (format == 0) format = cdb[9] >> 6;
    const uint8_t start_track = cdb[6];
    const uint32_t alloc = be16(cdb + 7);
    auto address = [msf](std::vector<uint8_t>& d, uint64_t lba) {
        if (msf) {   // minutes/seconds/frames, counting the 2-second pregap (150 frames)
            uint64_t f = lba + 150;
            append(d, {0, uint8_t(f / (60 * 75)), uint8_t(f / 75 % 60), uint8_t(f % 75)});
        } else {
            append(d, {uint8_t(lba >> 24), uint8_t(lba >> 16), uint8_t(lba >> 8), uint8_t(lba)});
        }
    };
    std::vector<uint8_t> d = {0, 0, 1, 1};   // length, first and last track (or session)
    if (format == 0) {
        if (start_track > 1 && start_track != 0xAA) return check_condition(kIllegalRequest, kAscInvalidField);
        if (start_track <= 1) {
            append(d, {0, 0x14, 1, 0});   // ADR 1 (position), control 4 (data track)
            address(d, 0);
        }
        append(d, {0, 0x14, 0xAA, 0});    // the lead-out
        address(d, blocks());
    } else if (format == 1) {
        append(d, {0, 0x14, 1, 0});       // first track of the last (only) session
        address(d, 0);
    } else {
        return check_condition(kIllegalRequest, kAscInvalidField);
    }
    put16(d, 0, uint32_t(d.size() - 2));
    reply(std::move(d), alloc);
}

void AtapiCdrom::cmd_get_configuration(const uint8_t* cdb) {
    // MMC-5 §6.6. A feature descriptor: code, version/persistent/current, length, data.
    const uint8_t rt = cdb[1] & 0x03;
    const uint32_t start = be16(cdb + 2);
    if (rt == 3) return check_condition(kIllegalRequest, kAscInvalidField);
    const uint16_t profile = medium_present() ? (is_dvd() ? 0x0010 : 0x0008) : 0x0000;
    struct Feature {
        uint16_t code;
        std::vector<uint8_t> bytes;
    };
    const uint8_t cur = medium_present() ? 0x01 : 0x00;
    std::vector<Feature> features = {
        // Profile List: DVD-ROM and CD-ROM, the current one flagged.
        {0x0000, {0x00, 0x00, 0x03, 8, 0x00, 0x10, uint8_t(profile == 0x0010), 0, 0x00, 0x08, uint8_t(profile == 0x0008), 0}},
        // Core: physical interface ATAPI (2).
        {0x0001, {0x00, 0x01, 0x03, 4, 0, 0, 0, 2}},
        // Morphing: events are polled (no asynchronous notification).
        {0x0002, {0x00, 0x02, 0x03, 4, 0, 0, 0, 0}},
        // Removable Medium: tray loading mechanism, eject, lock.
        {0x0003, {0x00, 0x03, 0x03, 4, uint8_t(0x20 | 0x08 | 0x01 | (locked_ ? 0x04 : 0)), 0, 0, 0}},
        // Random Readable: 2048-byte blocks, blocking 1; current only with a disc.
        {0x0010, {0x00, 0x10, cur, 8, 0, 0, 0x08, 0x00, 0, 1, 0, 0}},
    };
    std::vector<uint8_t> d(8);
    put16(d, 6, profile);
    for (const Feature& f : features) {
        const bool current = f.bytes[2] & 0x01;
        if (rt == 2 ? f.code != start : (f.code < start || (rt == 1 && !current))) continue;
        d.insert(d.end(), f.bytes.begin(), f.bytes.end());
    }
    put32(d, 0, uint32_t(d.size() - 4));
    reply(std::move(d), be16(cdb + 7));
}

void AtapiCdrom::cmd_get_event_status(const uint8_t* cdb) {
    // MMC-5 §6.7: only the polled form exists on a drive without asynchronous notification.
    if (!(cdb[1] & 0x01)) return check_condition(kIllegalRequest, kAscInvalidField);
    const uint8_t requested = cdb[4];
    std::vector<uint8_t> d;
    if (requested & 0x10) {   // media class
        const uint8_t status = uint8_t((medium_ && !tray_open_ ? 0x02 : 0) | (tray_open_ ? 0x01 : 0));
        d = {0, 6, 0x04, 0x10, media_event_, status, 0, 0};
        media_event_ = 0;
    } else {
        d = {0, 2, 0x80, 0x10};   // NEA: none of the requested classes is supported
    }
    reply(std::move(d), be16(cdb + 7));
}

void AtapiCdrom::cmd_read_disc_info(const uint8_t* cdb) {
    // MMC-5 §6.22: a finalised single-session disc with one track.
    if ((cdb[1] & 0x07) != 0) return check_condition(kIllegalRequest, kAscInvalidField);
    std::vector<uint8_t> d(34);
    put16(d, 0, 32);
    d[2] = 0x0E;   // last session complete, disc finalised
    d[3] = 1;      // first track
    d[4] = 1;      // sessions
    d[5] = 1;      // first track of the last session
    d[6] = 1;      // last track of the last session
    d[7] = 0x20;   // unrestricted use
    d[8] = 0x00;   // CD-DA or CD-ROM disc
    reply(std::move(d), be16(cdb + 7));
}

void AtapiCdrom::cmd_mode_sense(const uint8_t* cdb) {
    // MMC-5 §7 mode pages; SPC-2 mode parameter header (10).
    const uint8_t pc = cdb[2] >> 6, page = cdb[2] & 0x3F;
    if (pc == 3) return check_condition(kIllegalRequest, kAscSavingNotSupported);
    const bool changeable = pc == 1;   // nothing can be changed: all zeros
    std::vector<uint8_t> d(8);
    d[2] = medium_present() ? 0x01 : (tray_open_ ? 0x71 : 0x70);   // medium type
    auto add_page = [&](std::vector<uint8_t> p) {
        if (changeable) std::fill(p.begin() + 2, p.end(), 0);
        d.insert(d.end(), p.begin(), p.end());
    };
    bool any = false;
    if (page == 0x01 || page == 0x3F) {   // read error recovery: 5 retries
        add_page({0x01, 0x06, 0x00, 0x05, 0, 0, 0, 0});
        any = true;
    }
    if (page == 0x1A || page == 0x3F) {   // power condition: no timers
        add_page({0x1A, 0x0A, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
        any = true;
    }
    if (page == 0x2A || page == 0x3F) {   // CD/DVD capabilities and mechanical status
        add_page({0x2A, 0x12,
                  0x0B,   // reads CD-R, CD-RW, DVD-ROM
                  0x00,   // writes nothing
                  0x71,   // audio play, mode 2 form 1 and 2, multi-session
                  0x00,
                  uint8_t(0x20 | 0x08 | 0x01 | (locked_ ? 0x02 : 0)),   // tray, eject, lock (+state)
                  0x00,
                  0x02, 0xC2,   // maximum read speed 706 kB/s (4x)
                  0x00, 0x00,   // volume levels
                  0x02, 0x00,   // buffer 512 KiB
                  0x02, 0xC2,   // current read speed
                  0, 0, 0, 0});
        any = true;
    }
    if (!any) return check_condition(kIllegalRequest, kAscInvalidField);
    put16(d, 0, uint32_t(d.size() - 2));
    reply(std::move(d), be16(cdb + 7));
}

}  // namespace lift86
