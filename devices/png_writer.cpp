#include "devices/png_writer.hpp"

#include <png.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

namespace lift86 {

bool write_png(const std::string& path, const Framebuffer& fb, std::string* error) {
    auto fail = [&](const std::string& why) {
        if (error) *error = "cannot write " + path + ": " + why;
        return false;
    };
    if (fb.width == 0 || fb.height == 0 || fb.pixels.size() < size_t(fb.width) * fb.height)
        return fail("the screen is empty");
    // Open the file ourselves for a precise errno (libpng's simplified API only says "failed").
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) return fail(std::strerror(errno));

    std::vector<uint8_t> rgb(size_t(fb.width) * fb.height * 3);
    for (size_t i = 0, n = size_t(fb.width) * fb.height; i < n; i++) {
        uint32_t p = fb.pixels[i];
        rgb[3 * i] = uint8_t(p >> 16);
        rgb[3 * i + 1] = uint8_t(p >> 8);
        rgb[3 * i + 2] = uint8_t(p);
    }
    // The simplified API (libpng 1.6) reports errors through image.message instead of longjmp,
    // which would skip C++ destructors.
    png_image image;
    std::memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    image.width = fb.width;
    image.height = fb.height;
    image.format = PNG_FORMAT_RGB;
    int ok = png_image_write_to_stdio(&image, f, 0, rgb.data(), png_int_32(fb.width * 3), nullptr);
    std::string msg = ok ? "" : image.message;
    png_image_free(&image);
    if (std::fclose(f) != 0 && ok) return fail(std::strerror(errno));
    if (!ok) {
        std::remove(path.c_str());
        return fail(msg.empty() ? "libpng error" : msg);
    }
    return true;
}

}  // namespace lift86
