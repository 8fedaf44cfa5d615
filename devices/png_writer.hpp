// Writes a Framebuffer as an 8-bit RGB PNG (libpng). Used for screenshots (-display none
// runs, the monitor, tests).
//
// What the board must wire: nothing; call write_png() where a screenshot is asked for and
// print *error (one line) when it returns false.
#pragma once
#include <string>

#include "devices/framebuffer.hpp"

namespace lift86 {

// False, with one line such as "cannot write /x/y.png: No such file or directory" in *error,
// when the file cannot be written or the framebuffer is empty.
bool write_png(const std::string& path, const Framebuffer& fb, std::string* error);

}  // namespace lift86
