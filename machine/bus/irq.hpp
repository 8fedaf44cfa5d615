// An interrupt request line from a device to an interrupt controller. Devices hold an IrqLine
// and raise/lower it; the board connects it to the PIC input it is wired to.
#pragma once
#include <functional>

namespace lift86 {

class IrqLine {
public:
    IrqLine() = default;
    explicit IrqLine(std::function<void(bool)> sink) : sink_(std::move(sink)) {}
    void connect(std::function<void(bool)> sink) { sink_ = std::move(sink); }
    void set(bool level) {
        level_ = level;
        if (sink_) sink_(level);
    }
    void raise() { set(true); }
    void lower() { set(false); }
    void pulse() { set(true); set(false); }   // an edge for edge-triggered inputs
    bool level() const { return level_; }

private:
    std::function<void(bool)> sink_;
    bool level_ = false;
};

}  // namespace lift86
