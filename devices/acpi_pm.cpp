#include "devices/acpi_pm.hpp"

#include <fmt/format.h>

namespace lift86 {

namespace {
constexpr unsigned kSts = 0, kEn = 2, kCnt = 4, kTmr = 8, kBlockLen = 12;
// PM1 status bits (ACPI 6.5 table 4.16): TMR 0, BM 4, GBL 5, PWRBTN 8, SLPBTN 9, RTC 10, WAK 15;
// the enables of table 4.17 sit at the same positions (TMR 0, GBL 5, PWRBTN 8, SLPBTN 9, RTC 10).
// Only the timer raises status here (nothing else is wired), but the OS must read back every
// enable it writes: ACPICA reports "Could not enable GlobalLock event" otherwise.
constexpr uint16_t kStsWritable = 0x8731;
constexpr uint16_t kEnBits = 0x0721;
constexpr uint32_t kCarryBit = 1u << 23;                            // TMR_STS fires when bit 23 changes (4.8.3.3)
}  // namespace

AcpiPm::AcpiPm(PortBus& io, Clock& clock, uint16_t base) : io_(io), clock_(clock), base_(base) {
    carry_event_ = clock_.add_event("acpi-pm-timer", [this] {
        sts_ |= kTmrSts;
        update_sci();
        schedule_carry();
    });
    io_.register_ports(base_, kBlockLen, this);
}

AcpiPm::~AcpiPm() {
    clock_.cancel(carry_event_);
    io_.unregister_ports(base_, kBlockLen);
}

void AcpiPm::reset() {
    sts_ = 0;
    en_ = 0;
    cnt_ = kSciEn;
    clock_.cancel(carry_event_);
    update_sci();
}

uint64_t AcpiPm::ticks() const {
    // 128-bit product: ns * 3579545 overflows 64 bits after ~85 minutes of guest time.
    return uint64_t((unsigned __int128)clock_.now() * kTimerHz / 1000000000u);
}

uint32_t AcpiPm::timer() const { return uint32_t(ticks()) & 0xFFFFFF; }

void AcpiPm::schedule_carry() {
    if (!(en_ & kTmrSts)) {
        clock_.cancel(carry_event_);
        return;
    }
    // The first tick at which bit 23 differs from now, converted back to ns (rounded up).
    const uint64_t next_tick = (ticks() | (kCarryBit - 1)) + 1;
    const uint64_t when = uint64_t(((unsigned __int128)next_tick * 1000000000u + kTimerHz - 1) / kTimerHz);
    clock_.schedule_at(carry_event_, when);
}

void AcpiPm::update_sci() {
    const bool level = (cnt_ & kSciEn) && (sts_ & en_ & kEnBits);
    if (sci.level() != level) sci.set(level);
}

uint32_t AcpiPm::read_reg(unsigned off) const {
    switch (off) {
    case kSts: return sts_;
    case kEn: return en_;
    case kCnt: return cnt_ & ~kSlpEn;   // SLP_EN is write-only and reads 0
    case kTmr: return timer();
    default: return 0;
    }
}

uint32_t AcpiPm::io_read(uint16_t port, unsigned size) {
    // Registers are read at their natural width; narrower or unaligned reads see the bytes of
    // the register they fall in (OSes read PM_TMR as a dword, the rest as words).
    const unsigned off = port - base_;
    const unsigned reg = off < kTmr ? off & ~1u : kTmr;
    const uint64_t v = read_reg(reg) | (uint64_t(reg + 2 < kTmr ? read_reg(reg + 2) : 0) << 16);
    const unsigned shift = (off - reg) * 8;
    const uint32_t mask = size >= 4 ? 0xFFFFFFFFu : (1u << (size * 8)) - 1;
    return uint32_t(v >> shift) & mask;
}

void AcpiPm::write_reg(unsigned off, uint32_t value) {
    switch (off) {
    case kSts:
        sts_ &= uint16_t(~(value & kStsWritable));   // write 1 to clear (4.8.3.1)
        break;
    case kEn:
        en_ = uint16_t(value & kEnBits);
        schedule_carry();
        break;
    case kCnt: {
        // SCI_EN stays set: with no SMI_CMD the OS cannot leave ACPI mode (4.8.3.2.1, FADT).
        cnt_ = uint16_t((value & ~kSlpEn) | kSciEn);
        if (value & kSlpEn) {
            const unsigned slp_typ = (value >> 10) & 7;
            if (slp_typ == kSlpTypS5) {
                if (on_power_off) on_power_off();
            } else {
                fmt::print(stderr, "lift86: warning: the guest asked for ACPI sleep type {} (only S5 is offered); ignored\n", slp_typ);
            }
        }
        break;
    }
    default:
        break;   // PM_TMR is read only
    }
    update_sci();
}

void AcpiPm::io_write(uint16_t port, uint32_t value, unsigned size) {
    const unsigned off = port - base_;
    if (size == 4 && off < kTmr && (off & 3) == 0) {
        // A dword write covers two word registers (PM1_STS+PM1_EN): write each half.
        write_reg(off, value & 0xFFFF);
        write_reg(off + 2, value >> 16);
        return;
    }
    if (off >= kTmr) return;
    if (size == 1) {
        // A byte write changes one half of a word register; the other half keeps its value,
        // except the write-1-to-clear status register, where unwritten bits must stay as they are.
        const unsigned reg = off & ~1u, shift = (off & 1) * 8;
        uint32_t merged = reg == kSts ? (value & 0xFF) << shift : (read_reg(reg) & ~(0xFFu << shift)) | ((value & 0xFF) << shift);
        write_reg(reg, merged);
        return;
    }
    write_reg(off & ~1u, value & 0xFFFF);
}

}  // namespace lift86
