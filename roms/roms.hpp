// Firmware lift86 carries inside its binary (roms/README.md): each is built from source in
// roms/ and embedded by lift86_embed_file (roms/embed.cmake) into the lift86_roms library.
#pragma once
#include <cstdint>
#include <span>

namespace lift86 {

// The Linux boot option ROM (roms/linuxboot.asm), signed: a whole number of 512-byte blocks
// that sums to 0. Given to the firmware as fw_cfg file "genroms/linuxboot.bin".
std::span<const uint8_t> linuxboot_rom();

}  // namespace lift86

namespace lift86 {

// lift86's ACPI DSDT (roms/acpi/dsdt.asl) as compiled AML, a complete table with its header.
std::span<const uint8_t> dsdt_aml();

}  // namespace lift86
