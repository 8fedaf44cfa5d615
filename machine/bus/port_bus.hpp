// The x86 I/O port space (64 Ki ports). Devices register handlers for port ranges; an
// unclaimed port reads as all ones and swallows writes, like an ISA bus with nothing on it.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

namespace lift86 {

class PortDevice {
public:
    virtual ~PortDevice() = default;
    // `port` is the absolute port number; size is 1, 2 or 4.
    virtual uint32_t io_read(uint16_t port, unsigned size) = 0;
    virtual void io_write(uint16_t port, uint32_t value, unsigned size) = 0;
};

class PortBus {
public:
    PortBus();
    // Claims [first, first+count). A later registration overrides an earlier one.
    void register_ports(uint16_t first, unsigned count, PortDevice* dev);
    void unregister_ports(uint16_t first, unsigned count);
    PortDevice* device_at(uint16_t port) const { return map_[port]; }

    uint32_t read(uint16_t port, unsigned size);
    void write(uint16_t port, uint32_t value, unsigned size);

    // Optional observer for --trace io.
    std::function<void(bool write, uint16_t port, uint32_t value, unsigned size)> trace;

    // --profile: calls and host time of each device's handlers, keyed by the device (null: an
    // unclaimed port), with the lowest and highest port it was accessed at. Null: not profiling.
    struct HandlerStats {
        uint64_t calls = 0, ns = 0;
        uint32_t lo = UINT32_MAX, hi = 0;
        const char* type = nullptr;   // typeid(device).name(), taken at the first call
    };
    std::unordered_map<const PortDevice*, HandlerStats>* profile = nullptr;

private:
    uint32_t read_unprofiled(uint16_t port, unsigned size);
    void write_unprofiled(uint16_t port, uint32_t value, unsigned size);
    std::vector<PortDevice*> map_;
};

}  // namespace lift86
