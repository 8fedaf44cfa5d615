#include "machine/bus/port_bus.hpp"

#include <chrono>
#include <typeinfo>

namespace lift86 {

PortBus::PortBus() : map_(65536, nullptr) {}

void PortBus::register_ports(uint16_t first, unsigned count, PortDevice* dev) {
    for (unsigned i = 0; i < count && first + i < 65536; i++) map_[first + i] = dev;
}

void PortBus::unregister_ports(uint16_t first, unsigned count) { register_ports(first, count, nullptr); }

namespace {
uint64_t now_ns() {
    return uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}
void account(PortBus::HandlerStats& st, const PortDevice* d, uint16_t port, uint64_t t0) {
    st.ns += now_ns() - t0;
    if (d && !st.type) st.type = typeid(*d).name();
    st.calls++;
    if (port < st.lo) st.lo = port;
    if (port > st.hi) st.hi = port;
}
}  // namespace

uint32_t PortBus::read(uint16_t port, unsigned size) {
    if (!profile) return read_unprofiled(port, size);
    const PortDevice* d = map_[port];   // before the call: a handler may remap ports
    const uint64_t t0 = now_ns();
    const uint32_t v = read_unprofiled(port, size);
    account((*profile)[d], d, port, t0);
    return v;
}

void PortBus::write(uint16_t port, uint32_t value, unsigned size) {
    if (!profile) return write_unprofiled(port, value, size);
    const PortDevice* d = map_[port];
    const uint64_t t0 = now_ns();
    write_unprofiled(port, value, size);
    account((*profile)[d], d, port, t0);
}

uint32_t PortBus::read_unprofiled(uint16_t port, unsigned size) {
    uint32_t v;
    if (PortDevice* d = map_[port]) {
        v = d->io_read(port, size);
    } else if (size > 1 && map_[uint16_t(port + 1)]) {
        // A wide access to a port whose neighbours belong to a byte device: split it, as the
        // bus does for 8-bit ISA devices.
        v = 0;
        for (unsigned i = 0; i < size; i++) v |= read_unprofiled(uint16_t(port + i), 1) << (8 * i);
    } else {
        v = size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
    }
    if (size < 4) v &= (1u << (8 * size)) - 1;
    if (trace) trace(false, port, v, size);
    return v;
}

void PortBus::write_unprofiled(uint16_t port, uint32_t value, unsigned size) {
    if (trace) trace(true, port, value, size);
    if (PortDevice* d = map_[port]) {
        d->io_write(port, value, size);
    } else if (size > 1) {
        for (unsigned i = 0; i < size; i++)
            if (map_[uint16_t(port + i)]) map_[uint16_t(port + i)]->io_write(uint16_t(port + i), (value >> (8 * i)) & 0xFF, 1);
    }
}

}  // namespace lift86
