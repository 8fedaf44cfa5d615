// QEMU's isa-debug-exit (QEMU hw/misc/debugexit.c): a write of V to any of its ports ends
// the emulator with exit status (V << 1) | 1, so a guest test can report pass/fail and a
// status of 0 cannot be produced by accident. Defaults match QEMU: iobase 0x501, iosize 2.
#pragma once
#include <cstdint>
#include <functional>

#include "machine/bus/port_bus.hpp"

namespace lift86 {

class IsaDebugExit final : public PortDevice {
public:
    explicit IsaDebugExit(PortBus& bus, uint16_t iobase = 0x501, uint16_t iosize = 2);
    ~IsaDebugExit() override;
    IsaDebugExit(const IsaDebugExit&) = delete;
    IsaDebugExit& operator=(const IsaDebugExit&) = delete;

    // Receives (V << 1) | 1; the board stops the machine and exits with it.
    std::function<void(uint32_t code)> on_exit;

    uint32_t io_read(uint16_t port, unsigned size) override;
    void io_write(uint16_t port, uint32_t value, unsigned size) override;

private:
    PortBus& bus_;
    uint16_t iobase_, iosize_;
};

}  // namespace lift86
