// What the harness needs to know about a test's instruction bytes to pick flag masks and skips:
// its prefixes, opcode, ModRM and where an immediate starts. This is deliberately not a decoder
// (the CPU under test has one); it knows only the 80286 one-byte opcode map (Intel 80286 PRM,
// appendix A) and 16-bit addressing.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace lift86::sst {

struct OpcodeInfo {
    bool lock = false, rep = false, repne = false;
    int seg_override = -1;            // 0x26/0x2E/0x36/0x3E prefix byte, or -1
    unsigned prefix_len = 0;
    uint8_t opcode = 0;
    bool two_byte = false;            // 0F xx (opcode2 valid)
    uint8_t opcode2 = 0;
    bool has_modrm = false;
    uint8_t modrm = 0;
    unsigned imm_offset = 0;          // offset of the first immediate byte (after ModRM/disp)
    unsigned imm_size = 0;            // immediate / relative offset / far pointer bytes

    unsigned mod() const { return modrm >> 6; }
    unsigned reg() const { return (modrm >> 3) & 7; }
    unsigned rm() const { return modrm & 7; }
    bool mem_operand() const { return has_modrm && mod() != 3; }
    unsigned length() const { return imm_offset + imm_size; }
    // An explicit memory operand is addressed through SS: a BP-based ModRM form, or an SS:
    // prefix on a ModRM operand, a moffs (A0-A3), XLAT, or a string source (DS:SI).
    bool operand_in_ss() const;
};

// Returns nothing when the bytes end before the opcode (and its ModRM byte) is complete.
std::optional<OpcodeInfo> scan_opcode(std::span<const uint8_t> bytes);

// "F6.6" style name of the opcode form a test file covers; the reg is -1 for ungrouped files.
struct FormName {
    uint8_t opcode = 0;
    bool two_byte = false;
    uint8_t opcode2 = 0;
    int reg = -1;
};
// Parses "00", "F6.6", "0F01.4" (the file name without .MOO.gz); nothing when malformed.
std::optional<FormName> parse_form_name(const std::string& s);

}  // namespace lift86::sst
