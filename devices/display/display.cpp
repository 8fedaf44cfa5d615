#include "devices/display/display.hpp"

#include "devices/png_writer.hpp"

namespace lift86 {

namespace {
constexpr auto kEventPeriod = std::chrono::milliseconds(4);
constexpr auto kFramePeriod = std::chrono::microseconds(16667);   // ~60 Hz

class HeadlessDisplay final : public Display {};
}  // namespace

void Display::poll() {
    if (!live()) return;
    auto now = HostClock::now();
    if (now >= next_events_) {
        next_events_ = now + kEventPeriod;
        pump_events();
    }
    if (now >= next_frame_) {
        // Schedule from now rather than from the last deadline: a slow frame must not make
        // the next ones come back to back.
        next_frame_ = now + kFramePeriod;
        refresh();
    }
}

const Framebuffer& Display::refresh() {
    if (source_) source_(frame_);
    present();
    return frame_;
}

bool Display::screenshot(const std::string& path, std::string* error) {
    if (source_) source_(frame_);
    return write_png(path, frame_, error);
}

std::unique_ptr<Display> make_headless_display() { return std::make_unique<HeadlessDisplay>(); }

std::unique_ptr<Display> make_display(const std::string& kind, std::string* error) {
    if (kind == "none" || kind == "headless") return make_headless_display();
    if (kind == "sdl") return make_sdl_display(error);
    if (error) *error = "unknown display '" + kind + "' (expected none or sdl)";
    return nullptr;
}

}  // namespace lift86
