// Motorola MC146818A real-time clock and its 128 bytes of CMOS RAM, at 0x70 (index; bit 7
// masks NMI) and 0x71 (data). IRQ8 on the PC.
//
// Reference: Motorola MC146818A data sheet — "Address Map" (figure 3), "Time, Calendar and
// Alarm Data Modes" (table 3), "Register A-D", "Update Cycle" (figure 16), "Periodic
// Interrupt Rate" (table 5).
//
// Time is not ticked. The RTC remembers its time (seconds since 1970-01-01, as a civil date
// with no time zone) and the machine-clock instant at which its 32.768 kHz divider chain
// started a second; register reads derive the current date from the machine clock. Clock
// events are scheduled only while an enabled interrupt source (periodic, update-ended,
// alarm) could raise IRQ8; flags that nobody enabled are worked out when register C is read.
#pragma once
#include <cstdint>
#include <ctime>
#include <functional>

#include "machine/bus/clock.hpp"
#include "machine/bus/irq.hpp"
#include "machine/bus/port_bus.hpp"

namespace lift86 {

class CmosRtc final : public PortDevice {
public:
    // `start` is the date/time the RTC shows at machine time now(), read as UTC: pass
    // time(nullptr) + the host's UTC offset for a local-time RTC, or a constant for
    // reproducible runs.
    CmosRtc(PortBus& bus, Clock& clock, std::time_t start);
    ~CmosRtc() override;
    CmosRtc(const CmosRtc&) = delete;
    CmosRtc& operator=(const CmosRtc&) = delete;

    IrqLine irq;   // IRQ8 (the PC inverts the chip's active-low IRQ pin)

    // Board access to the NVRAM: memory size (0x15-0x18, 0x30-0x31, 0x34-0x35, 0x5B-0x5D),
    // equipment (0x14), century (0x32), boot order... A time/control register index behaves
    // as a guest write to it.
    void set_byte(uint8_t index, uint8_t value);
    // What a guest read of `index` returns now, without the side effect of reading register C.
    uint8_t get_byte(uint8_t index);
    // Bit 7 of the last index written to 0x70: 1 = NMI masked.
    bool nmi_masked() const { return nmi_masked_; }
    std::function<void(bool masked)> on_nmi_mask;   // optional

    uint32_t io_read(uint16_t port, unsigned size) override;
    void io_write(uint16_t port, uint32_t value, unsigned size) override;

    // Register indexes and bits (data sheet names).
    enum : uint8_t {
        kSeconds = 0x00, kSecondsAlarm = 0x01, kMinutes = 0x02, kMinutesAlarm = 0x03,
        kHours = 0x04, kHoursAlarm = 0x05, kDayOfWeek = 0x06, kDayOfMonth = 0x07,
        kMonth = 0x08, kYear = 0x09, kRegA = 0x0A, kRegB = 0x0B, kRegC = 0x0C, kRegD = 0x0D,
        kCentury = 0x32,   // IBM PC/AT convention, not part of the chip
    };
    enum : uint8_t { kA_UIP = 0x80 };
    enum : uint8_t { kB_SET = 0x80, kB_PIE = 0x40, kB_AIE = 0x20, kB_UIE = 0x10, kB_SQWE = 0x08,
                     kB_DM = 0x04, kB_24H = 0x02, kB_DSE = 0x01 };
    enum : uint8_t { kC_IRQF = 0x80, kC_PF = 0x40, kC_AF = 0x20, kC_UF = 0x10 };

private:
    int64_t now() const { return int64_t(clock_.now()); }
    bool divider_running() const { return (ram_[kRegA] & 0x70) == 0x20; }   // 32.768 kHz
    bool updating() const { return divider_running() && !(ram_[kRegB] & kB_SET); }
    int64_t periodic_index(int64_t t) const;
    void advance();          // catch time and flags up with the machine clock
    void sync_regs();        // time registers <- secs_ (current data mode)
    int64_t regs_to_time() const;
    uint8_t enc(int v) const;
    int dec(uint8_t v) const;
    uint8_t enc_hour(int h) const;
    bool alarm_matches(int64_t secs) const;
    void update_irq();
    void reschedule();
    uint8_t read_reg(uint8_t index, bool side_effects);
    void write_reg(uint8_t index, uint8_t value);

    PortBus& bus_;
    Clock& clock_;
    Clock::EventId event_;
    uint8_t ram_[128] = {};
    uint8_t index_ = 0;
    bool nmi_masked_ = false;
    uint8_t flags_ = 0;            // PF/AF/UF as in register C
    int64_t secs_;                 // RTC time, seconds since 1970
    int64_t chain_origin_;         // machine ns at which the divider started a second
    int64_t last_sec_ = 0;         // divider seconds accounted for in secs_ and UF/AF
    int64_t last_periodic_ = 0;    // periodic ticks accounted for in PF
};

}  // namespace lift86
