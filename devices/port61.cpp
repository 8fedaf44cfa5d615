#include "devices/port61.hpp"

namespace lift86 {

Port61::Port61(PortBus& bus, Clock& clock, Pit8254& pit) : bus_(bus), clock_(clock), pit_(pit) {
    pit_.set_gate(2, false);   // bit 0 resets to 0: counter 2 is gated off until the guest says
    bus_.register_ports(0x61, 1, this);
}

Port61::~Port61() { bus_.unregister_ports(0x61, 1); }

uint32_t Port61::io_read(uint16_t port, unsigned size) {
    uint8_t v = value_ & 0x0F;
    if ((clock_.now() / kRefreshPeriodNs) & 1) v |= 0x10;
    if (pit_.out(2)) v |= 0x20;
    // Bits 6 and 7 report NMI sources (IOCHK, memory parity); nothing here raises them.
    return v;
}

void Port61::io_write(uint16_t port, uint32_t value, unsigned size) {
    value_ = uint8_t(value) & 0x0F;   // bits 4..7 are read-only status
    pit_.set_gate(2, value_ & 0x01);
}

}  // namespace lift86
