// A rendered screen: what the VGA's renderer produces and what displays, screenshots and tests
// consume. Pixels are 32-bit 0x00RRGGBB, row-major, no padding (in memory on a little-endian
// host: B, G, R, 0 — SDL's XRGB8888).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace lift86 {

struct Framebuffer {
    unsigned width = 0;
    unsigned height = 0;
    std::vector<uint32_t> pixels;

    // Sets the size; the contents are undefined until drawn (kept when the size is unchanged).
    void resize(unsigned w, unsigned h) {
        width = w;
        height = h;
        pixels.resize(size_t(w) * h);
    }
    void fill(uint32_t rgb) { pixels.assign(size_t(width) * height, rgb); }
    uint32_t* row(unsigned y) { return pixels.data() + size_t(y) * width; }
    const uint32_t* row(unsigned y) const { return pixels.data() + size_t(y) * width; }
    uint32_t at(unsigned x, unsigned y) const { return pixels[size_t(y) * width + x]; }
};

}  // namespace lift86
