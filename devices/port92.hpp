// System control port A at 0x92 ("PS/2 fast A20 and reset"; IBM PS/2 technical reference,
// "System Control Port A"; Intel PIIX datasheet, port 92h):
//   bit 0  fast reset: writing 1 (from 0) resets the CPU; reads back 0 afterwards
//   bit 1  A20 gate: 1 = address line 20 enabled
//   bit 3  CMOS security lock (stored only), bits 6..7 fixed disk activity LEDs (stored)
#pragma once
#include <cstdint>
#include <functional>

#include "machine/bus/port_bus.hpp"

namespace lift86 {

class Port92 final : public PortDevice {
public:
    explicit Port92(PortBus& bus);
    ~Port92() override;
    Port92(const Port92&) = delete;
    Port92& operator=(const Port92&) = delete;

    // Called on every write with bit 1, so the last of port 0x92 and the 8042 output port
    // to be written decides the A20 gate (as on QEMU, where both drive one line).
    std::function<void(bool enabled)> on_a20;
    std::function<void()> on_reset;

    bool a20() const { return value_ & 0x02; }

    uint32_t io_read(uint16_t port, unsigned size) override;
    void io_write(uint16_t port, uint32_t value, unsigned size) override;

private:
    PortBus& bus_;
    uint8_t value_ = 0;
};

}  // namespace lift86
