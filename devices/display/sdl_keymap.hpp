// SDL scancodes (USB HID usage IDs) to PS/2 scan code set 2. No SDL types in this header: the
// argument is an SDL_Scancode value.
#pragma once
#include <cstdint>

namespace lift86 {

// The set-2 make code with its E0 prefix in the high byte (0x1C for A, 0xE075 for Up), or 0
// for keys that have none or that a 16-bit code cannot express (Pause sends E1 14 77 ...).
// Print Screen maps to its main code E0 7C.
uint16_t sdl_scancode_to_set2(int sdl_scancode);

}  // namespace lift86
