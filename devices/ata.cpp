#include "devices/ata.hpp"

#include <algorithm>
#include <cstring>

namespace lift86 {

using namespace ata;

namespace {

// ATA command opcodes (ATA-6 §8, table in annex B).
enum : uint8_t {
    kCmdNop = 0x00,
    kCmdDeviceReset = 0x08,
    kCmdRecalibrate = 0x10,   // 10h-1Fh (obsolete, still sent by old BIOSes and DOS)
    kCmdReadSectors = 0x20,
    kCmdReadSectorsNoRetry = 0x21,
    kCmdReadSectorsExt = 0x24,
    kCmdReadMultipleExt = 0x29,
    kCmdWriteSectors = 0x30,
    kCmdWriteSectorsNoRetry = 0x31,
    kCmdWriteSectorsExt = 0x34,
    kCmdWriteMultipleExt = 0x39,
    kCmdReadVerify = 0x40,
    kCmdReadVerifyNoRetry = 0x41,
    kCmdReadVerifyExt = 0x42,
    kCmdSeek = 0x70,
    kCmdExecuteDiagnostic = 0x90,
    kCmdInitParams = 0x91,
    kCmdStandbyImmOld = 0x94, kCmdIdleImmOld = 0x95, kCmdStandbyOld = 0x96, kCmdIdleOld = 0x97,
    kCmdCheckPowerOld = 0x98, kCmdSleepOld = 0x99,
    kCmdPacket = 0xA0,
    kCmdIdentifyPacket = 0xA1,
    kCmdReadMultiple = 0xC4,
    kCmdWriteMultiple = 0xC5,
    kCmdSetMultiple = 0xC6,
    kCmdStandbyImm = 0xE0, kCmdIdleImm = 0xE1, kCmdStandby = 0xE2, kCmdIdle = 0xE3,
    kCmdCheckPower = 0xE5,
    kCmdSleep = 0xE6,
    kCmdFlushCache = 0xE7,
    kCmdFlushCacheExt = 0xEA,
    kCmdIdentify = 0xEC,
    kCmdSetFeatures = 0xEF,
};

constexpr uint64_t kLba28Max = 0x0FFFFFFF;     // sectors addressable by 28-bit commands
constexpr uint64_t kChsMax = 16383ull * 16 * 63;   // 16,514,064: the ATA CHS limit (§8.15.1x)

// ATA strings are stored two characters to a word, the first in the high byte (§8.15).
void put_string(std::array<uint16_t, 256>& w, unsigned first, unsigned words, const std::string& s) {
    for (unsigned i = 0; i < words * 2; i++) {
        uint8_t c = i < s.size() ? uint8_t(s[i]) : ' ';
        unsigned wi = first + i / 2;
        if (i & 1) w[wi] = uint16_t((w[wi] & 0xFF00) | c);
        else w[wi] = uint16_t((w[wi] & 0x00FF) | c << 8);
    }
}

}  // namespace

// =============================================================================================
// IdeDevice: protocol helpers

const IdeTiming& IdeDevice::timing() const { return channel_->timing(); }

bool IdeDevice::peer_present() const { return channel_ && channel_->device(position_ ^ 1) != nullptr; }

void IdeDevice::go_busy(std::function<void()> then) { go_busy(std::move(then), timing().command_ns); }

void IdeDevice::go_busy(std::function<void()> then, uint64_t ns) {
    xfer_len_ = 0;
    // While BSY is set the other status bits are not valid (§7.15); DRDY stays as it was.
    tf_.status = uint8_t(kBSY | (tf_.status & (kDRDY | kDSC)));
    step_ = std::move(then);
    const Clock::EventId ev = channel_->step_event_[position_];
    if (ns == 0) {
        if (channel_->clock_.pending(ev)) channel_->clock_.cancel(ev);
        run_step();
    } else {
        channel_->clock_.schedule_in(ev, ns);
    }
}

void IdeDevice::run_step() {
    if (!step_) return;
    auto step = std::move(step_);
    step_ = nullptr;
    step();
}

void IdeDevice::cancel() {
    step_ = nullptr;
    if (channel_) channel_->clock_.cancel(channel_->step_event_[position_]);
    xfer_len_ = xfer_pos_ = 0;
}

void IdeDevice::begin_drq(size_t n, bool out, bool interrupt) {
    if (buf_.size() < n + 1) buf_.resize(n + 1);   // +1: an odd ATAPI count ends in a pad byte
    xfer_pos_ = 0;
    xfer_len_ = n;
    xfer_out_ = out;
    tf_.status = kDRDY | kDSC | kDRQ;
    if (interrupt) raise_intrq();
}

void IdeDevice::complete(bool interrupt) {
    xfer_len_ = 0;
    tf_.status = kDRDY | kDSC;
    if (interrupt) raise_intrq();
}

void IdeDevice::fail(uint8_t error) {
    xfer_len_ = 0;
    tf_.error = error;
    tf_.status = kDRDY | kERR;
    raise_intrq();
}

void IdeDevice::raise_intrq() {
    intrq_ = true;
    channel_->update_irq();
}

void IdeDevice::set_signature() {
    // §9.12: the signature tells a host which protocol the device speaks.
    tf_.count.cur = 0x01;
    tf_.lba_low.cur = 0x01;
    tf_.lba_mid.cur = packet_device() ? 0x14 : 0x00;
    tf_.lba_high.cur = packet_device() ? 0xEB : 0x00;
    tf_.device = 0x00;
}

void IdeDevice::reset_done() {
    set_signature();
    tf_.error = 0x01;   // diagnostic code: passed (§8.11, table "Diagnostic codes")
    tf_.status = ready_status();
    xfer_len_ = 0;
}

uint16_t IdeDevice::data_read16() {
    if (!(tf_.status & kDRQ) || xfer_out_ || xfer_pos_ >= xfer_len_) return 0xFFFF;
    uint16_t v = uint16_t(buf_[xfer_pos_] | buf_[xfer_pos_ + 1] << 8);
    xfer_pos_ += 2;
    if (xfer_pos_ >= xfer_len_) {
        xfer_len_ = 0;
        tf_.status &= uint8_t(~kDRQ);
        block_done();
    }
    return v;
}

void IdeDevice::data_write16(uint16_t v) {
    if (!(tf_.status & kDRQ) || !xfer_out_ || xfer_pos_ >= xfer_len_) return;
    buf_[xfer_pos_] = uint8_t(v);
    buf_[xfer_pos_ + 1] = uint8_t(v >> 8);
    xfer_pos_ += 2;
    if (xfer_pos_ >= xfer_len_) {
        xfer_len_ = 0;
        tf_.status &= uint8_t(~kDRQ);
        block_done();
    }
}

void IdeDevice::fill_identify_strings(std::array<uint16_t, 256>& w, const std::string& serial,
                                      const std::string& firmware, const std::string& model) const {
    put_string(w, 10, 10, serial);
    put_string(w, 23, 4, firmware);
    put_string(w, 27, 20, model);
}

uint16_t IdeDevice::reset_result_word() const {
    // §8.15.49 word 93 (hardware reset result). Bit 14 set, bit 15 clear: valid. Device
    // number determined by jumper (01b). Device 0: passed diagnostics (bit 3); with device 1
    // present, PDIAG- and DASP- were seen (bits 4, 5); without it, device 0 answers for
    // device 1 (bit 6) — SeaBIOS then skips probing the empty slave position.
    if (position_ == 0) {
        uint16_t w = 0x4000 | 0x0001 | 0x0002 | 0x0008;
        w |= peer_present() ? 0x0030 : 0x0040;
        return w;
    }
    return 0x4000 | 0x0100 | 0x0200 | 0x0800;   // device 1: PDIAG- asserted
}

void IdeDevice::set_checksum(std::array<uint16_t, 256>& w) {
    // §8.15.63 word 255: signature A5h in bits 7:0, and bits 15:8 such that the 512 bytes sum
    // to zero modulo 256.
    w[255] = 0x00A5;
    uint8_t sum = 0;
    for (unsigned i = 0; i < 255; i++) sum = uint8_t(sum + (w[i] & 0xFF) + (w[i] >> 8));
    sum = uint8_t(sum + 0xA5);
    w[255] = uint16_t(uint8_t(-sum) << 8 | 0xA5);
}

void IdeDevice::identify_to_buffer() {
    std::array<uint16_t, 256> w{};
    identify(w);
    if (buf_.size() < 513) buf_.resize(513);
    for (unsigned i = 0; i < 256; i++) {
        buf_[2 * i] = uint8_t(w[i]);
        buf_[2 * i + 1] = uint8_t(w[i] >> 8);
    }
}

// =============================================================================================
// IdeChannel

IdeChannel::IdeChannel(PortBus& bus, Clock& clock, uint16_t cmd_base, uint16_t ctrl_port, IdeTiming timing)
    : bus_(bus), clock_(clock), base_(cmd_base), ctrl_(ctrl_port), timing_(timing) {
    for (unsigned p = 0; p < 2; p++)
        step_event_[p] = clock_.add_event("ide-step", [this, p] {
            if (dev_[p]) dev_[p]->run_step();
        });
    bus_.register_ports(base_, 8, this);
    bus_.register_ports(ctrl_, 1, this);
}

IdeChannel::~IdeChannel() {
    for (auto id : step_event_) clock_.cancel(id);
    bus_.unregister_ports(base_, 8);
    bus_.unregister_ports(ctrl_, 1);
}

void IdeChannel::attach(unsigned position, std::unique_ptr<IdeDevice> dev) {
    position &= 1;
    if (dev_[position]) dev_[position]->cancel();
    dev_[position] = std::move(dev);
    if (IdeDevice* d = dev_[position].get()) {
        d->channel_ = this;
        d->position_ = position;
        d->power_on();
    }
    update_irq();
}

void IdeChannel::reset() {
    devctl_ = 0;
    selected_ = 0;
    for (unsigned p = 0; p < 2; p++) {
        shadow_[p] = AtaTaskFile{};
        if (IdeDevice* d = dev_[p].get()) {
            d->cancel();
            d->intrq_ = false;
            d->power_on();
        }
    }
    update_irq();
}

void IdeChannel::update_irq() {
    // §7.8 nIEN: when set, or when the device is not selected, its INTRQ driver is released.
    IdeDevice* d = dev_[selected_].get();
    bool level = !(devctl_ & kNIEN) && d && d->intrq_;
    if (level != irq.level()) irq.set(level);
}

uint8_t IdeChannel::read_reg(unsigned reg) {
    IdeDevice* d = dev_[selected_].get();
    AtaTaskFile& t = tf(selected_);
    const bool hob = devctl_ & kHOB;
    switch (reg) {
    case 1: return t.error;
    case 2: return hob ? t.count.prev : t.count.cur;
    case 3: return hob ? t.lba_low.prev : t.lba_low.cur;
    case 4: return hob ? t.lba_mid.prev : t.lba_mid.cur;
    case 5: return hob ? t.lba_high.prev : t.lba_high.cur;
    case 6: return t.device;
    case 7:
        // §9.16: device 0 answers a Status read for an absent device 1 with 00h.
        if (!d) return 0x00;
        if (d->intrq_) {   // reading Status acknowledges the interrupt (§7.15)
            d->intrq_ = false;
            update_irq();
        }
        return t.status;
    }
    return 0xFF;
}

void IdeChannel::write_reg(unsigned reg, uint8_t v) {
    devctl_ &= uint8_t(~kHOB);   // §7.8: any Command Block write clears HOB
    if (reg == 7) {
        if (v == kCmdExecuteDiagnostic) {   // addressed to both devices whichever is selected
            execute_device_diagnostic();
            return;
        }
        IdeDevice* d = dev_[selected_].get();
        if (!d) return;   // §9.16: a command for an absent device is ignored
        if (d->busy() && !(v == kCmdDeviceReset && d->packet_device())) return;
        // Writing the Command register negates INTRQ (§5.2.9).
        d->intrq_ = false;
        update_irq();
        d->execute(v);
        return;
    }
    for (unsigned p = 0; p < 2; p++) {
        AtaTaskFile& t = tf(p);
        switch (reg) {
        case 1: t.feature.write(v); break;
        case 2: t.count.write(v); break;
        case 3: t.lba_low.write(v); break;
        case 4: t.lba_mid.write(v); break;
        case 5: t.lba_high.write(v); break;
        case 6: t.device = v; break;
        }
    }
    if (reg == 6) {
        selected_ = (v & kDEV) ? 1 : 0;
        update_irq();
    }
}

void IdeChannel::write_control(uint8_t v) {
    const bool was_reset = devctl_ & kSRST;
    devctl_ = v;
    if (!was_reset && (v & kSRST)) {
        // §9.2: SRST asserted — every device stops what it does and stays busy until released.
        for (auto& d : dev_) {
            if (!d) continue;
            d->cancel();
            d->intrq_ = false;
            d->tf_.status = kBSY;
        }
    } else if (was_reset && !(v & kSRST)) {
        selected_ = 0;   // the signature clears the Device register
        for (auto& d : dev_) {
            if (!d) continue;
            IdeDevice* dev = d.get();
            dev->step_ = [dev] { dev->reset_done(); };
            if (timing_.reset_ns == 0) dev->run_step();
            else clock_.schedule_in(step_event_[dev->position_], timing_.reset_ns);
        }
    }
    update_irq();
}

void IdeChannel::execute_device_diagnostic() {
    // §8.11: both devices run their diagnostics; device 0 reports for both and asserts INTRQ.
    // Diagnostic code 01h: device 0 passed, device 1 passed or absent.
    selected_ = 0;
    for (auto& d : dev_) {
        if (!d) continue;
        IdeDevice* dev = d.get();
        dev->cancel();
        dev->intrq_ = false;
        const bool reporter = dev->position_ == 0 || !dev_[0];
        dev->go_busy(
            [dev, reporter] {
                dev->reset_done();
                if (reporter) dev->raise_intrq();
            },
            timing_.reset_ns);
    }
    update_irq();
}

uint32_t IdeChannel::io_read(uint16_t port, unsigned size) {
    const uint32_t all_ones = size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
    if (empty()) return all_ones;   // nothing drives the bus: it floats high
    if (port == ctrl_) {
        IdeDevice* d = dev_[selected_].get();
        return d ? d->tf_.status : 0x00;   // Alternate Status: no interrupt acknowledge
    }
    const unsigned off = port - base_;
    if (off == 0) {
        IdeDevice* d = dev_[selected_].get();
        if (!d) return all_ones;
        // A 32-bit access is two 16-bit transfers (as the PIIX does it); an 8-bit one moves a
        // whole word of which the host keeps the low byte.
        uint32_t v = d->data_read16();
        if (size == 4) v |= uint32_t(d->data_read16()) << 16;
        return v & all_ones;
    }
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        unsigned r = off + i;
        v |= uint32_t(r <= 7 ? read_reg(r) : 0xFF) << (8 * i);
    }
    return v;
}

void IdeChannel::io_write(uint16_t port, uint32_t value, unsigned size) {
    if (empty()) return;
    if (port == ctrl_) {
        write_control(uint8_t(value));
        return;
    }
    const unsigned off = port - base_;
    if (off == 0) {
        IdeDevice* d = dev_[selected_].get();
        if (!d) return;
        d->data_write16(uint16_t(value));
        if (size == 4) d->data_write16(uint16_t(value >> 16));
        return;
    }
    for (unsigned i = 0; i < size && off + i <= 7; i++) write_reg(off + i, uint8_t(value >> (8 * i)));
}

// =============================================================================================
// Geometry

AtaGeometry guess_ata_geometry(DiskImage& image) {
    const uint64_t total = image.sectors();
    AtaGeometry g;
    auto size_guess = [&] {
        uint64_t c = total / (16 * 63);
        g.cylinders = uint32_t(std::clamp<uint64_t>(c, 2, 16383));
        g.heads = 16;
        g.sectors = 63;
    };
    // A partition table entry that ends on a cylinder boundary reveals the geometry the disk
    // was partitioned with.
    uint8_t mbr[512];
    bool found = false;
    uint32_t heads = 0, secs = 0, cyls = 0;
    if (image.read(0, 1, mbr) && mbr[510] == 0x55 && mbr[511] == 0xAA) {
        for (unsigned i = 0; i < 4 && !found; i++) {
            const uint8_t* p = mbr + 0x1BE + 16 * i;
            uint32_t nr_sects = uint32_t(p[12] | p[13] << 8 | p[14] << 16 | uint32_t(p[15]) << 24);
            uint8_t end_head = p[5], end_sector = p[6] & 63;
            if (!nr_sects || !end_head || !end_sector) continue;
            uint64_t c = total / (uint64_t(end_head + 1) * end_sector);
            if (c < 1 || c > 16383) continue;
            heads = end_head + 1u;
            secs = end_sector;
            cyls = uint32_t(c);
            found = true;
        }
    }
    if (!found) {
        size_guess();
        g.translation = (g.cylinders <= 1024 && g.heads <= 16 && g.sectors <= 63) ? AtaGeometry::kNone
                                                                                  : AtaGeometry::kLba;
    } else if (heads > 16) {
        // Partitioned under a BIOS translation: the physical geometry is the standard one.
        size_guess();
        g.translation = uint64_t(g.cylinders) * g.heads <= 131072 ? AtaGeometry::kLarge : AtaGeometry::kLba;
    } else {
        g.cylinders = cyls;
        g.heads = heads;
        g.sectors = secs;
        g.translation = AtaGeometry::kNone;
    }
    return g;
}

// =============================================================================================
// AtaDisk

AtaDisk::AtaDisk(std::unique_ptr<DiskImage> image, AtaDiskConfig cfg) : image_(std::move(image)), cfg_(std::move(cfg)) {
    geometry_ = cfg_.geometry ? *cfg_.geometry : guess_ata_geometry(*image_);
}

void AtaDisk::power_on() {
    cur_cyl_ = geometry_.cylinders;
    cur_heads_ = geometry_.heads;
    cur_spt_ = geometry_.sectors;
    multiple_ = kMaxMultiple;
    write_cache_ = true;
    look_ahead_ = true;
    phase_ = Phase::None;
    reset_done();
}

uint64_t AtaDisk::lba28_limit() const { return std::min<uint64_t>(image_->sectors(), kLba28Max); }

uint64_t AtaDisk::chs_limit() const {
    return std::min<uint64_t>(image_->sectors(), uint64_t(cur_cyl_) * cur_heads_ * cur_spt_);
}

std::array<uint16_t, 256> AtaDisk::identify_data() const {
    std::array<uint16_t, 256> w{};
    identify(w);
    return w;
}

void AtaDisk::identify(std::array<uint16_t, 256>& w) const {
    // ATA-6 §8.15 (IDENTIFY DEVICE), table 26.
    const uint64_t total = image_->sectors();
    w.fill(0);
    w[0] = 0x0040;                     // fixed (non-removable) ATA device
    w[1] = uint16_t(geometry_.cylinders);   // default CHS translation
    w[3] = uint16_t(geometry_.heads);
    w[6] = uint16_t(geometry_.sectors);
    fill_identify_strings(w, cfg_.serial, cfg_.firmware, cfg_.model);
    w[47] = 0x8000 | kMaxMultiple;     // READ/WRITE MULTIPLE: up to 16 sectors per DRQ block
    w[48] = 0x0001;                    // 32-bit PIO (not in ATA-6; what QEMU and old drivers use)
    w[49] = (1 << 11) | (1 << 9);      // IORDY supported, LBA supported; no DMA (bit 8)
    w[50] = 0x4000;
    w[51] = 0x0200;                    // PIO timing mode 2 (obsolete field)
    w[53] = 0x0003;                    // words 54-58 and 64-70 valid (88 not: no UDMA)
    w[54] = uint16_t(cur_cyl_);        // current CHS translation
    w[55] = uint16_t(cur_heads_);
    w[56] = uint16_t(cur_spt_);
    const uint32_t cur_cap = uint32_t(uint64_t(cur_cyl_) * cur_heads_ * cur_spt_);
    w[57] = uint16_t(cur_cap);
    w[58] = uint16_t(cur_cap >> 16);
    if (multiple_) w[59] = uint16_t(0x0100 | multiple_);   // current multiple setting valid
    const uint32_t lba28 = uint32_t(lba28_limit());
    w[60] = uint16_t(lba28);
    w[61] = uint16_t(lba28 >> 16);
    w[64] = 0x0003;                    // PIO modes 3 and 4
    w[67] = 120;                       // minimum PIO cycle times (ns)
    w[68] = 120;
    w[80] = 0x007E;                    // ATA-1 .. ATA/ATAPI-6
    w[82] = (1 << 14) | (1 << 6) | (1 << 5);   // NOP, look-ahead, write cache supported
    w[83] = (1 << 14) | (1 << 13) | (1 << 12) | (1 << 10);   // FLUSH CACHE EXT, FLUSH CACHE, 48-bit
    w[84] = (1 << 14);
    w[85] = uint16_t((1 << 14) | (look_ahead_ ? 1 << 6 : 0) | (write_cache_ ? 1 << 5 : 0));
    w[86] = (1 << 13) | (1 << 12) | (1 << 10);
    w[87] = (1 << 14);
    w[93] = reset_result_word();
    w[100] = uint16_t(total);
    w[101] = uint16_t(total >> 16);
    w[102] = uint16_t(total >> 32);
    w[103] = uint16_t(total >> 48);
    set_checksum(w);
}

bool AtaDisk::decode(bool ext, uint64_t& lba, uint32_t& count, bool one_sector) {
    const AtaTaskFile& t = tf_;
    uint64_t limit;
    if (ext) {   // 48-bit commands always address by LBA (§6.20)
        lba = uint64_t(t.lba_low.cur) | uint64_t(t.lba_mid.cur) << 8 | uint64_t(t.lba_high.cur) << 16 |
              uint64_t(t.lba_low.prev) << 24 | uint64_t(t.lba_mid.prev) << 32 | uint64_t(t.lba_high.prev) << 40;
        count = uint32_t(t.count.cur | t.count.prev << 8);
        if (count == 0) count = 65536;
        limit = image_->sectors();
    } else {
        count = t.count.cur ? t.count.cur : 256;
        if (lba_mode_) {
            lba = uint64_t(t.lba_low.cur) | uint64_t(t.lba_mid.cur) << 8 | uint64_t(t.lba_high.cur) << 16 |
                  uint64_t(t.device & 0x0F) << 24;
            limit = lba28_limit();
        } else {
            const uint32_t cyl = uint32_t(t.lba_mid.cur | t.lba_high.cur << 8);
            const uint32_t head = t.device & 0x0F;
            const uint32_t sec = t.lba_low.cur;
            if (sec == 0 || sec > cur_spt_ || head >= cur_heads_ || cyl >= cur_cyl_) {
                fail(kIDNF);   // no such sector: the address registers keep what was asked
                return false;
            }
            lba = (uint64_t(cyl) * cur_heads_ + head) * cur_spt_ + sec - 1;
            limit = chs_limit();
        }
    }
    if (one_sector) count = 1;
    if (lba >= limit || count > limit - lba) {
        // §6.2: IDNF for an address outside the user-accessible range; the address registers
        // report the first sector that could not be found.
        set_address(std::max(lba, limit));
        fail(kIDNF);
        return false;
    }
    return true;
}

void AtaDisk::set_address(uint64_t lba) {
    AtaTaskFile& t = tf_;
    if (ext_) {
        t.lba_low.cur = uint8_t(lba);
        t.lba_mid.cur = uint8_t(lba >> 8);
        t.lba_high.cur = uint8_t(lba >> 16);
        t.lba_low.prev = uint8_t(lba >> 24);
        t.lba_mid.prev = uint8_t(lba >> 32);
        t.lba_high.prev = uint8_t(lba >> 40);
    } else if (lba_mode_) {
        t.lba_low.cur = uint8_t(lba);
        t.lba_mid.cur = uint8_t(lba >> 8);
        t.lba_high.cur = uint8_t(lba >> 16);
        t.device = uint8_t((t.device & 0xF0) | ((lba >> 24) & 0x0F));
    } else if (cur_heads_ && cur_spt_) {
        const uint64_t per_cyl = uint64_t(cur_heads_) * cur_spt_;
        const uint64_t cyl = lba / per_cyl, r = lba % per_cyl;
        t.lba_mid.cur = uint8_t(cyl);
        t.lba_high.cur = uint8_t(cyl >> 8);
        t.device = uint8_t((t.device & 0xF0) | ((r / cur_spt_) & 0x0F));
        t.lba_low.cur = uint8_t(r % cur_spt_ + 1);
    }
}

void AtaDisk::set_count(uint32_t n) {
    tf_.count.cur = uint8_t(n);
    if (ext_) tf_.count.prev = uint8_t(n >> 8);
}

void AtaDisk::execute(uint8_t cmd) {
    phase_ = Phase::None;
    switch (cmd) {
    case kCmdReadSectors:
    case kCmdReadSectorsNoRetry: return start_transfer(false, false, false);
    case kCmdReadSectorsExt: return start_transfer(false, true, false);
    case kCmdReadMultiple: return start_transfer(false, false, true);
    case kCmdReadMultipleExt: return start_transfer(false, true, true);
    case kCmdWriteSectors:
    case kCmdWriteSectorsNoRetry: return start_transfer(true, false, false);
    case kCmdWriteSectorsExt: return start_transfer(true, true, false);
    case kCmdWriteMultiple: return start_transfer(true, false, true);
    case kCmdWriteMultipleExt: return start_transfer(true, true, true);
    case kCmdReadVerify:
    case kCmdReadVerifyNoRetry: return read_verify(false);
    case kCmdReadVerifyExt: return read_verify(true);

    case kCmdIdentify:
        // PIO data-in of one block (§8.15): INTRQ when DRQ is set, none at the end.
        return go_busy([this] {
            phase_ = Phase::Identify;
            identify_to_buffer();
            begin_drq(512, false, true);
        });

    case kCmdSetMultiple:
        // §8.39: the block size must be a power of two not above word 47; 0 disables.
        return go_busy([this] {
            const unsigned n = tf_.count.cur;
            if (n > kMaxMultiple || (n & (n - 1))) return fail(kABRT);
            multiple_ = n;
            complete(true);
        });

    case kCmdInitParams:
        // §8.16: sets the current CHS translation (words 54-58).
        return go_busy([this] {
            const unsigned spt = tf_.count.cur, heads = (tf_.device & 0x0F) + 1u;
            if (spt == 0) return fail(kABRT);
            cur_heads_ = heads;
            cur_spt_ = spt;
            cur_cyl_ = uint32_t(std::min<uint64_t>(65535, std::min(image_->sectors(), kChsMax) / (heads * spt)));
            complete(true);
        });

    case kCmdSetFeatures: return go_busy([this] { set_features(); });

    case kCmdFlushCache:
    case kCmdFlushCacheExt:
        // §8.13: completes when the data written so far is on the medium: fsync.
        return go_busy([this] {
            if (!image_->flush()) return fail(kABRT);
            complete(true);
        });

    case kCmdSeek:
        return go_busy([this] {
            ext_ = false;
            lba_mode_ = tf_.device & kLBA;
            uint64_t lba;
            uint32_t count;
            if (!decode(false, lba, count, true)) return;   // SEEK names one sector, no count
            complete(true);
        });

    case kCmdCheckPower:
    case kCmdCheckPowerOld:
        return go_busy([this] {
            tf_.count.cur = 0xFF;   // active or idle
            complete(true);
        });

    case kCmdStandbyImm: case kCmdIdleImm: case kCmdStandby: case kCmdIdle: case kCmdSleep:
    case kCmdStandbyImmOld: case kCmdIdleImmOld: case kCmdStandbyOld: case kCmdIdleOld: case kCmdSleepOld:
        return go_busy([this] { complete(true); });

    default:
        if ((cmd & 0xF0) == kCmdRecalibrate) return go_busy([this] { complete(true); });
        // NOP (always aborted, §8.21), PACKET/IDENTIFY PACKET/DEVICE RESET (not a packet
        // device), the DMA commands (no bus-master DMA) and everything unknown.
        return go_busy([this] { fail(kABRT); });
    }
}

void AtaDisk::set_features() {
    // §8.37, table 37.
    switch (tf_.feature.cur) {
    case 0x02: write_cache_ = true; break;
    case 0x82:
        write_cache_ = false;
        if (!image_->flush()) return fail(kABRT);
        break;
    case 0xAA: look_ahead_ = true; break;
    case 0x55: look_ahead_ = false; break;
    case 0x66: case 0xCC: break;   // revert to power-on defaults: nothing to revert after SRST
    case 0x03: {
        // Transfer mode in the Sector Count register: 00h/01h PIO default, 08h+n PIO flow
        // control mode n (n <= 4, word 64); the DMA modes (20h, 40h) are not supported.
        const uint8_t mode = tf_.count.cur;
        if (mode <= 0x01 || (mode >= 0x08 && mode <= 0x0C)) break;
        return fail(kABRT);
    }
    default: return fail(kABRT);
    }
    complete(true);
}

void AtaDisk::start_transfer(bool write, bool ext, bool multiple) {
    go_busy([this, write, ext, multiple] {
        if (multiple && multiple_ == 0) return fail(kABRT);   // §8.23: multiple mode disabled
        ext_ = ext;
        lba_mode_ = ext || (tf_.device & kLBA);
        uint64_t lba;
        uint32_t count;
        if (!decode(ext, lba, count)) return;
        if (write && !image_->writable()) return fail(kABRT);   // read-only image
        lba_ = lba;
        left_ = count;
        per_block_ = multiple ? multiple_ : 1;
        if (write) {
            // PIO data-out (§9.8): the first DRQ block is requested without an interrupt.
            phase_ = Phase::Write;
            block_ = std::min(per_block_, left_);
            begin_drq(size_t(block_) * DiskImage::kSectorSize, true, false);
        } else {
            phase_ = Phase::Read;
            read_next_block();
        }
    });
}

void AtaDisk::read_next_block() {
    // PIO data-in (§9.7): each DRQ block comes with an interrupt.
    block_ = std::min(per_block_, left_);
    const size_t bytes = size_t(block_) * DiskImage::kSectorSize;
    if (buf_.size() < bytes + 1) buf_.resize(bytes + 1);
    if (!image_->read(lba_, block_, buf_.data())) {
        set_address(lba_);
        phase_ = Phase::None;
        return fail(kUNC);
    }
    lba_ += block_;
    left_ -= block_;
    // As QEMU and older drives do, the registers follow the transfer.
    set_address(lba_);
    set_count(left_);
    begin_drq(bytes, false, true);
}

void AtaDisk::write_block() {
    if (!image_->write(lba_, block_, buf_.data()) || (!write_cache_ && !image_->flush())) {
        set_address(lba_);
        phase_ = Phase::None;
        return fail(kABRT);
    }
    lba_ += block_;
    left_ -= block_;
    set_address(lba_);
    set_count(left_);
    if (left_ == 0) {
        phase_ = Phase::None;
        return complete(true);   // the last block written: INTRQ with DRDY
    }
    block_ = std::min(per_block_, left_);
    begin_drq(size_t(block_) * DiskImage::kSectorSize, true, true);
}

void AtaDisk::block_done() {
    switch (phase_) {
    case Phase::Identify:
        phase_ = Phase::None;
        complete(false);
        break;
    case Phase::Read:
        if (left_ == 0) {
            phase_ = Phase::None;
            complete(false);   // no interrupt after the last block of a PIO read
        } else {
            go_busy([this] { read_next_block(); });
        }
        break;
    case Phase::Write: go_busy([this] { write_block(); }); break;
    case Phase::None: complete(false); break;
    }
}

void AtaDisk::read_verify(bool ext) {
    // §8.29: like a read, without the data.
    go_busy([this, ext] {
        ext_ = ext;
        lba_mode_ = ext || (tf_.device & kLBA);
        uint64_t lba;
        uint32_t count;
        if (!decode(ext, lba, count)) return;
        complete(true);
    });
}

}  // namespace lift86
