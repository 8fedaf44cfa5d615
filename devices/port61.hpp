// System control port B at 0x61 (IBM PC/AT technical reference, "System Board I/O":
// port 61h). It is glue logic beside the 8254 rather than a chip of its own:
//   write: bit 0 = GATE of PIT counter 2, bit 1 = speaker data enable (AND with OUT2),
//          bit 2 = parity check enable (active low), bit 3 = channel check enable (active low)
//   read:  bits 0..3 as written, bit 4 = refresh request toggle, bit 5 = OUT2,
//          bit 6 = channel check (IOCHK), bit 7 = parity check (PCK)
// Firmware and Linux time short delays by watching bit 4 flip and calibrate the TSC on bit 5.
#pragma once
#include <cstdint>

#include "devices/pit8254.hpp"
#include "machine/bus/clock.hpp"
#include "machine/bus/port_bus.hpp"

namespace lift86 {

class Port61 final : public PortDevice {
public:
    // The refresh request line toggles every 15.085 us on the AT (PIT counter 1 in mode 2
    // with count 18). It is derived from the machine clock, independent of how the guest
    // programs counter 1, as chipsets after the AT do.
    static constexpr uint64_t kRefreshPeriodNs = 15085;

    Port61(PortBus& bus, Clock& clock, Pit8254& pit);
    ~Port61() override;
    Port61(const Port61&) = delete;
    Port61& operator=(const Port61&) = delete;

    // Speaker cone position: data enable AND OUT2 (for a future audio back-end).
    bool speaker_enabled() const { return value_ & 0x02; }
    bool speaker_level() { return (value_ & 0x02) && pit_.out(2); }

    uint32_t io_read(uint16_t port, unsigned size) override;
    void io_write(uint16_t port, uint32_t value, unsigned size) override;

private:
    PortBus& bus_;
    Clock& clock_;
    Pit8254& pit_;
    uint8_t value_ = 0;   // bits 0..3
};

}  // namespace lift86
