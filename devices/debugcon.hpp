// QEMU's ISA debug console ("-debugcon"; QEMU hw/char/debugcon.c): every byte written to
// the port goes to the host, and a read returns a fixed "readback" value (0xE9 by default)
// so guests such as SeaBIOS can detect it.
#pragma once
#include <cstdint>
#include <functional>

#include "machine/bus/port_bus.hpp"

namespace lift86 {

class DebugCon final : public PortDevice {
public:
    explicit DebugCon(PortBus& bus, uint16_t port = 0xE9, uint8_t readback = 0xE9);
    ~DebugCon() override;
    DebugCon(const DebugCon&) = delete;
    DebugCon& operator=(const DebugCon&) = delete;

    std::function<void(uint8_t)> on_output;

    uint32_t io_read(uint16_t port, unsigned size) override;
    void io_write(uint16_t port, uint32_t value, unsigned size) override;

private:
    PortBus& bus_;
    uint16_t port_;
    uint8_t readback_;
};

}  // namespace lift86
