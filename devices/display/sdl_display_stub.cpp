// Built instead of sdl_display.cpp when SDL2 was not found at configure time.
#include "devices/display/display.hpp"

namespace lift86 {

std::unique_ptr<Display> make_sdl_display(std::string* error) {
    if (error) *error = "lift86 was built without SDL2 (install libsdl2-dev and rebuild); use -display none";
    return nullptr;
}

}  // namespace lift86
