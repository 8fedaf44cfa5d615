// Where the emulated screen goes: nowhere (headless: `-display none`, screenshots only) or an
// SDL2 window. SDL stays inside devices/display/*.cpp; this header is plain C++.
//
// What the board must wire:
//   * display = make_display(kind, &err) with kind "none" or "sdl"; on nullptr print err (one
//     line) and exit non-zero.
//   * display->set_source([&](Framebuffer& fb) { vga.render(fb); });
//   * display->on_key = [&](uint16_t set2, bool pressed) { i8042.key_event(set2, pressed); };
//   * display->on_close = [&] { /* stop the machine, like QEMU closing its window */ };
//   * Call display->poll() from the run loop often (between run slices, at least every few
//     milliseconds of host time, also while the CPU is halted). It is cheap when nothing is due:
//     it reads the host clock, handles window/keyboard events every few ms and re-renders about
//     60 times a second of host time. Everything happens on the caller's thread, which must be
//     the thread that runs the CPU (the renderer reads video memory unlocked) and, for SDL on
//     some hosts, the main thread.
//   * Screenshots: display->screenshot(path, &err).
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "devices/framebuffer.hpp"

namespace lift86 {

class Display {
public:
    using FrameSource = std::function<void(Framebuffer&)>;

    virtual ~Display() = default;

    void set_source(FrameSource source) { source_ = std::move(source); }

    // Keyboard input as PS/2 scan code set 2 make codes with the E0 prefix in the high byte
    // (0x1C = A, 0xE075 = Up), as I8042::key_event takes them. Key repeat sends more makes.
    std::function<void(uint16_t set2, bool pressed)> on_key;
    // The user closed the window.
    std::function<void()> on_close;

    // Throttled: events every few ms, a new frame ~60 times a second (host time).
    void poll();
    // Handles pending window and keyboard events now.
    virtual void pump_events() {}
    // Renders a frame from the source now and shows it; returns it.
    const Framebuffer& refresh();
    // The last rendered frame.
    const Framebuffer& frame() const { return frame_; }
    // Renders now and writes a PNG. False with one line in *error.
    bool screenshot(const std::string& path, std::string* error);
    // What the output shows now, for tests: the window's pixels (SDL) or the last frame.
    virtual bool read_back(Framebuffer& out) { out = frame_; return true; }

protected:
    virtual void present() {}          // show frame_
    virtual bool live() const { return false; }   // has a window that poll() must keep fresh

    FrameSource source_;
    Framebuffer frame_;

private:
    using HostClock = std::chrono::steady_clock;
    HostClock::time_point next_events_{}, next_frame_{};
};

// "none" (alias "headless") or "sdl". nullptr and one line in *error when the kind is unknown
// or no window can be opened (no display, or lift86 built without SDL2).
std::unique_ptr<Display> make_display(const std::string& kind, std::string* error);
std::unique_ptr<Display> make_headless_display();
std::unique_ptr<Display> make_sdl_display(std::string* error);

}  // namespace lift86
