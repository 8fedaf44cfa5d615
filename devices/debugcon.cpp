#include "devices/debugcon.hpp"

namespace lift86 {

DebugCon::DebugCon(PortBus& bus, uint16_t port, uint8_t readback)
    : bus_(bus), port_(port), readback_(readback) {
    bus_.register_ports(port_, 1, this);
}

DebugCon::~DebugCon() { bus_.unregister_ports(port_, 1); }

uint32_t DebugCon::io_read(uint16_t port, unsigned size) { return readback_; }

void DebugCon::io_write(uint16_t port, uint32_t value, unsigned size) {
    // A wide OUT writes its low byte only, as QEMU's 1-byte debugcon region does.
    if (on_output) on_output(uint8_t(value));
}

}  // namespace lift86
