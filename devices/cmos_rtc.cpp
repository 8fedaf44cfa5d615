#include "devices/cmos_rtc.hpp"

#include <algorithm>

namespace lift86 {

namespace {

constexpr int64_t kNsPerSec = 1000000000;
constexpr int64_t kSecsPerDay = 86400;
// UIP rises 244 us before the update cycle, which lasts 1984 us with a 32.768 kHz time base
// (data sheet, figure 16). Here the registers change at the end of the update cycle, so UIP
// covers the 2228 us before each second boundary of the divider chain.
constexpr int64_t kUipWindowNs = 244000 + 1984000;
// Leaving divider reset: "the first update cycle begins one-half second later".
constexpr int64_t kDividerRestartPhaseNs = kNsPerSec / 2;

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// Days since 1970-01-01 of a proleptic Gregorian date, and back (H. Hinnant's algorithms).
int64_t days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

struct Civil {
    int64_t year;
    int month, day;
};

Civil civil_from_days(int64_t z) {
    z += 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int d = int(doy - (153 * mp + 2) / 5 + 1);
    int m = int(mp < 10 ? mp + 3 : mp - 9);
    return {yoe + era * 400 + (m <= 2), m, d};
}

// Periodic interrupt period in 32.768 kHz cycles for RS3..RS0 (data sheet, table 5). With a
// 32.768 kHz time base, rates 1 and 2 repeat the taps of rates 8 and 9.
uint32_t periodic_cycles(uint8_t rs) {
    if (rs == 0) return 0;
    if (rs <= 2) return 1u << (rs + 6);
    return 1u << (rs - 1);
}

}  // namespace

CmosRtc::CmosRtc(PortBus& bus, Clock& clock, std::time_t start) : bus_(bus), clock_(clock) {
    event_ = clock_.add_event("rtc", [this] {
        advance();
        update_irq();
        reschedule();
    });
    // State left by a PC BIOS: 32.768 kHz divider, 1024 Hz rate selected but not enabled,
    // BCD, 24-hour mode, valid RAM and time.
    ram_[kRegA] = 0x26;
    ram_[kRegB] = kB_24H;
    ram_[kRegD] = 0x80;
    secs_ = int64_t(start);
    chain_origin_ = now();
    sync_regs();
    bus_.register_ports(0x70, 2, this);
}

CmosRtc::~CmosRtc() {
    clock_.cancel(event_);
    bus_.unregister_ports(0x70, 2);
}

// ---------------------------------------------------------------------------------------------
// Data modes

uint8_t CmosRtc::enc(int v) const {
    if (ram_[kRegB] & kB_DM) return uint8_t(v);
    return uint8_t((v / 10 % 10) << 4 | v % 10);
}

int CmosRtc::dec(uint8_t v) const {
    if (ram_[kRegB] & kB_DM) return v;
    return (v >> 4) * 10 + (v & 15);   // digits above 9 are the guest's problem
}

uint8_t CmosRtc::enc_hour(int h) const {
    if (ram_[kRegB] & kB_24H) return enc(h);
    // 12-hour mode: 1..12, bit 7 = PM (table 3).
    int h12 = h % 12 == 0 ? 12 : h % 12;
    return uint8_t(enc(h12) | (h >= 12 ? 0x80 : 0));
}

void CmosRtc::sync_regs() {
    int64_t days = floor_div(secs_, kSecsPerDay);
    int64_t sod = secs_ - days * kSecsPerDay;
    Civil c = civil_from_days(days);
    ram_[kSeconds] = enc(int(sod % 60));
    ram_[kMinutes] = enc(int(sod / 60 % 60));
    ram_[kHours] = enc_hour(int(sod / 3600));
    ram_[kDayOfWeek] = enc(int((days % 7 + 11) % 7) + 1);   // 1970-01-01 was a Thursday; Sunday = 1
    ram_[kDayOfMonth] = enc(c.day);
    ram_[kMonth] = enc(c.month);
    int64_t y = std::clamp<int64_t>(c.year, 0, 9999);
    ram_[kYear] = enc(int(y % 100));
    ram_[kCentury] = enc(int(y / 100));
}

int64_t CmosRtc::regs_to_time() const {
    int s = std::clamp(dec(ram_[kSeconds]), 0, 59);
    int m = std::clamp(dec(ram_[kMinutes]), 0, 59);
    int h;
    uint8_t hb = ram_[kHours];
    if (ram_[kRegB] & kB_24H) {
        h = dec(hb);
    } else {
        h = dec(hb & 0x7F) % 12 + ((hb & 0x80) ? 12 : 0);
    }
    h = std::clamp(h, 0, 23);
    int day = std::clamp(dec(ram_[kDayOfMonth]), 1, 31);
    int month = std::clamp(dec(ram_[kMonth]), 1, 12);
    int64_t year = dec(ram_[kYear]) % 100 + 100 * int64_t(std::clamp(dec(ram_[kCentury]), 0, 99));
    // A day past the end of the month rolls into the next, as the arithmetic does.
    int64_t days = days_from_civil(year, month, 1) + day - 1;
    return days * kSecsPerDay + h * 3600 + m * 60 + s;
}

// An alarm byte with its two top bits set is "don't care" (data sheet, "Alarm").
bool CmosRtc::alarm_matches(int64_t secs) const {
    int64_t sod = secs - floor_div(secs, kSecsPerDay) * kSecsPerDay;
    const struct { uint8_t alarm, now; } f[] = {
        {ram_[kSecondsAlarm], enc(int(sod % 60))},
        {ram_[kMinutesAlarm], enc(int(sod / 60 % 60))},
        {ram_[kHoursAlarm], enc_hour(int(sod / 3600))},
    };
    for (const auto& x : f)
        if ((x.alarm & 0xC0) != 0xC0 && x.alarm != x.now) return false;
    return true;
}

// ---------------------------------------------------------------------------------------------
// Time and interrupts

int64_t CmosRtc::periodic_index(int64_t t) const {
    uint32_t cycles = periodic_cycles(ram_[kRegA] & 0x0F);
    if (!cycles) return 0;
    __int128 el = t - chain_origin_;
    return int64_t(el * 32768 / (__int128(cycles) * kNsPerSec));
}

void CmosRtc::advance() {
    if (!divider_running()) return;   // chain held in reset: nothing moves
    int64_t t = now();
    int64_t k = floor_div(t - chain_origin_, kNsPerSec);
    if (k > last_sec_) {
        int64_t n = k - last_sec_;
        last_sec_ = k;
        if (updating()) {
            flags_ |= kC_UF;
            // Any alarm repeats within a day: there is no need to look at more seconds.
            int64_t skip = std::max<int64_t>(0, n - kSecsPerDay - 1);
            secs_ += skip;
            for (int64_t i = skip; i < n; i++) {
                secs_++;
                if (alarm_matches(secs_)) flags_ |= kC_AF;
            }
        }
    }
    int64_t p = periodic_index(t);
    if (p > last_periodic_) flags_ |= kC_PF;   // PF is set whether or not PIE is
    last_periodic_ = p;
}

void CmosRtc::update_irq() {
    // IRQF = PF.PIE + AF.AIE + UF.UIE; the IRQ pin follows IRQF. The enable bits in B sit at
    // the same positions as the flags in C.
    bool irqf = flags_ & ram_[kRegB] & (kC_PF | kC_AF | kC_UF);
    if (irqf != irq.level()) irq.set(irqf);
}

void CmosRtc::reschedule() {
    // While IRQF is set further flags cannot make a new edge: wait for the read of C.
    uint8_t b = ram_[kRegB];
    if (irq.level() || !divider_running()) {
        clock_.cancel(event_);
        return;
    }
    int64_t next = INT64_MAX;
    uint32_t cycles = periodic_cycles(ram_[kRegA] & 0x0F);
    if ((b & kB_PIE) && cycles) {
        __int128 p = periodic_index(now()) + 1;
        __int128 num = p * cycles * kNsPerSec;
        next = std::min<int64_t>(next, chain_origin_ + int64_t((num + 32767) / 32768));
    }
    if (updating() && (b & (kB_UIE | kB_AIE)))
        next = std::min(next, chain_origin_ + (last_sec_ + 1) * kNsPerSec);
    if (next == INT64_MAX) clock_.cancel(event_);
    else clock_.schedule_at(event_, uint64_t(std::max(next, now())));
}

// ---------------------------------------------------------------------------------------------
// Registers

uint8_t CmosRtc::read_reg(uint8_t i, bool side_effects) {
    advance();
    switch (i) {
    case kSeconds: case kMinutes: case kHours: case kDayOfWeek: case kDayOfMonth:
    case kMonth: case kYear: case kCentury:
        if (updating()) sync_regs();   // while SET or stopped, the registers hold their value
        return ram_[i];
    case kRegA: {
        uint8_t v = ram_[kRegA] & 0x7F;
        if (updating()) {
            int64_t el = now() - chain_origin_;
            int64_t phase = el - floor_div(el, kNsPerSec) * kNsPerSec;
            if (phase >= kNsPerSec - kUipWindowNs) v |= kA_UIP;
        }
        return v;
    }
    case kRegC: {
        bool irqf = flags_ & ram_[kRegB] & (kC_PF | kC_AF | kC_UF);
        uint8_t v = uint8_t(flags_ | (irqf ? kC_IRQF : 0));
        if (side_effects) {   // reading C clears all flags and releases IRQ8
            flags_ = 0;
            update_irq();
            reschedule();
        }
        return v;
    }
    case kRegD:
        return 0x80;   // VRT: the battery is fine
    default:
        return ram_[i & 0x7F];
    }
}

void CmosRtc::write_reg(uint8_t i, uint8_t v) {
    advance();
    switch (i) {
    case kSeconds: case kMinutes: case kHours: case kDayOfWeek: case kDayOfMonth:
    case kMonth: case kYear: case kCentury:
        if (updating()) {
            // Running clock: the write changes one field of the current time.
            sync_regs();
            ram_[i] = v;
            secs_ = regs_to_time();
        } else {
            ram_[i] = v;   // taken over when SET is cleared / the divider is started
        }
        break;
    case kRegA: {
        if (updating()) sync_regs();
        bool was_running = divider_running();
        ram_[kRegA] = v & 0x7F;   // UIP is read-only
        if (!was_running && divider_running()) {
            chain_origin_ = now() - kDividerRestartPhaseNs;
            last_sec_ = 0;
            if (updating()) secs_ = regs_to_time();
        }
        last_periodic_ = periodic_index(now());   // a new rate starts counting from here
        break;
    }
    case kRegB: {
        bool was_updating = updating();
        if (was_updating) sync_regs();   // SET freezes the registers at the current time
        if (v & kB_SET) v &= uint8_t(~kB_UIE);   // "UIE is cleared when SET is one"
        ram_[kRegB] = v;
        if (!was_updating && updating()) secs_ = regs_to_time();
        break;
    }
    case kRegC:
    case kRegD:
        break;   // read-only
    default:
        ram_[i & 0x7F] = v;
    }
    update_irq();
    reschedule();
}

void CmosRtc::set_byte(uint8_t index, uint8_t value) { write_reg(index & 0x7F, value); }

uint8_t CmosRtc::get_byte(uint8_t index) { return read_reg(index & 0x7F, false); }

uint32_t CmosRtc::io_read(uint16_t port, unsigned size) {
    if (port == 0x70) return 0xFF;   // the index register is write-only on the AT
    return read_reg(index_, true);
}

void CmosRtc::io_write(uint16_t port, uint32_t value, unsigned size) {
    if (port == 0x70) {
        index_ = value & 0x7F;
        bool mask = value & 0x80;
        if (mask != nmi_masked_) {
            nmi_masked_ = mask;
            if (on_nmi_mask) on_nmi_mask(mask);
        }
        return;
    }
    write_reg(index_, uint8_t(value));
}

}  // namespace lift86
