#include "machine/bus/port_bus.hpp"

namespace lift86 {

PortBus::PortBus() : map_(65536, nullptr) {}

void PortBus::register_ports(uint16_t first, unsigned count, PortDevice* dev) {
    for (unsigned i = 0; i < count && first + i < 65536; i++) map_[first + i] = dev;
}

void PortBus::unregister_ports(uint16_t first, unsigned count) { register_ports(first, count, nullptr); }

uint32_t PortBus::read(uint16_t port, unsigned size) {
    uint32_t v;
    if (PortDevice* d = map_[port]) {
        v = d->io_read(port, size);
    } else if (size > 1 && map_[uint16_t(port + 1)]) {
        // A wide access to a port whose neighbours belong to a byte device: split it, as the
        // bus does for 8-bit ISA devices.
        v = 0;
        for (unsigned i = 0; i < size; i++) v |= read(uint16_t(port + i), 1) << (8 * i);
    } else {
        v = size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
    }
    if (size < 4) v &= (1u << (8 * size)) - 1;
    if (trace) trace(false, port, v, size);
    return v;
}

void PortBus::write(uint16_t port, uint32_t value, unsigned size) {
    if (trace) trace(true, port, value, size);
    if (PortDevice* d = map_[port]) {
        d->io_write(port, value, size);
    } else if (size > 1) {
        for (unsigned i = 0; i < size; i++)
            if (map_[uint16_t(port + i)]) map_[uint16_t(port + i)]->io_write(uint16_t(port + i), (value >> (8 * i)) & 0xFF, 1);
    }
}

}  // namespace lift86
