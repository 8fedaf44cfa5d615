#include "devices/isa_debug_exit.hpp"

namespace lift86 {

IsaDebugExit::IsaDebugExit(PortBus& bus, uint16_t iobase, uint16_t iosize)
    : bus_(bus), iobase_(iobase), iosize_(iosize) {
    bus_.register_ports(iobase_, iosize_, this);
}

IsaDebugExit::~IsaDebugExit() { bus_.unregister_ports(iobase_, iosize_); }

uint32_t IsaDebugExit::io_read(uint16_t port, unsigned size) { return 0; }

void IsaDebugExit::io_write(uint16_t port, uint32_t value, unsigned size) {
    // The whole value of the access is used (an OUT of a word or dword gives its full value),
    // masked to the access size.
    uint32_t v = size >= 4 ? value : value & ((1u << (8 * size)) - 1);
    if (on_exit) on_exit((v << 1) | 1);
}

}  // namespace lift86
