#include "devices/port92.hpp"

namespace lift86 {

Port92::Port92(PortBus& bus) : bus_(bus) { bus_.register_ports(0x92, 1, this); }

Port92::~Port92() { bus_.unregister_ports(0x92, 1); }

uint32_t Port92::io_read(uint16_t port, unsigned size) { return value_; }

void Port92::io_write(uint16_t port, uint32_t value, unsigned size) {
    uint8_t v = uint8_t(value);
    bool reset = (v & 0x01) && !(value_ & 0x01);   // the reset fires on the 0 -> 1 edge
    value_ = v;
    if (on_a20) on_a20(v & 0x02);
    if (reset) {
        // The reset clears the bit again, so the next reboot through this port works too.
        value_ &= uint8_t(~0x01);
        if (on_reset) on_reset();
    }
}

}  // namespace lift86
