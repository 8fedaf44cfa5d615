#include "tests/sst/opcode_info.hpp"

#include <cstdlib>

namespace lift86::sst {

namespace {

// One-byte opcodes followed by a ModRM byte on the 80286 (80286 PRM appendix A).
bool has_modrm_1byte(uint8_t op) {
    if (op < 0x40) return (op & 0x04) == 0;   // ALU ops: xx0..xx3 take ModRM, xx4/xx5 are AL/AX,imm
    switch (op) {
    case 0x62: case 0x63: case 0x69: case 0x6B:
    case 0xC0: case 0xC1: case 0xC4: case 0xC5: case 0xC6: case 0xC7:
    case 0xD0: case 0xD1: case 0xD2: case 0xD3:
    case 0xF6: case 0xF7: case 0xFE: case 0xFF:
        return true;
    default:
        return (op >= 0x80 && op <= 0x8F) || (op >= 0xD8 && op <= 0xDF);
    }
}

// Immediate bytes after ModRM/displacement, 16-bit operand size (80286 PRM appendix A).
unsigned imm_bytes_1byte(uint8_t op, unsigned reg) {
    if (op < 0x40) return (op & 7) == 4 ? 1 : (op & 7) == 5 ? 2 : 0;   // AL,ib / AX,iw
    if (op >= 0x70 && op <= 0x7F) return 1;                              // Jcc rel8
    if (op >= 0xB0 && op <= 0xB7) return 1;                              // MOV r8,ib
    if (op >= 0xB8 && op <= 0xBF) return 2;                              // MOV r16,iw
    if (op >= 0xE0 && op <= 0xE7) return 1;                              // LOOPx JCXZ IN OUT ib
    switch (op) {
    case 0x68: case 0x69: case 0x81: case 0xA9: case 0xC2: case 0xC7: case 0xCA:
    case 0xE8: case 0xE9:
    case 0xA0: case 0xA1: case 0xA2: case 0xA3:   // moffs16
        return 2;
    case 0x6A: case 0x6B: case 0x80: case 0x82: case 0x83: case 0xA8: case 0xC0: case 0xC1:
    case 0xC6: case 0xCD: case 0xD4: case 0xD5: case 0xEB:
        return 1;
    case 0x9A: case 0xEA: return 4;   // ptr16:16
    case 0xC8: return 3;              // ENTER iw, ib
    case 0xF6: return reg <= 1 ? 1 : 0;   // TEST r/m8,ib (and its /1 alias)
    case 0xF7: return reg <= 1 ? 2 : 0;
    default: return 0;
    }
}

// 0F 00..03 (SLDT group, SGDT group, LAR, LSL) take ModRM; 0F 05/06 (LOADALL, CLTS) do not.
bool has_modrm_0f(uint8_t op2) { return op2 <= 0x03; }

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

std::optional<OpcodeInfo> scan_opcode(std::span<const uint8_t> b) {
    OpcodeInfo o;
    size_t i = 0;
    for (;; i++) {
        if (i >= b.size()) return std::nullopt;
        uint8_t p = b[i];
        if (p == 0xF0) o.lock = true;
        else if (p == 0xF3) o.rep = true;
        else if (p == 0xF2) o.repne = true;
        else if (p == 0x26 || p == 0x2E || p == 0x36 || p == 0x3E) o.seg_override = p;
        else break;
    }
    o.prefix_len = unsigned(i);
    o.opcode = b[i++];
    if (o.opcode == 0x0F) {
        if (i >= b.size()) return std::nullopt;
        o.two_byte = true;
        o.opcode2 = b[i++];
        o.has_modrm = has_modrm_0f(o.opcode2);
    } else {
        o.has_modrm = has_modrm_1byte(o.opcode);
    }
    if (o.has_modrm) {
        if (i >= b.size()) return std::nullopt;
        o.modrm = b[i++];
        // 16-bit addressing displacements (80286 PRM table 2-?/SDM vol.2 table 2-1).
        unsigned disp = 0;
        if (o.mod() == 1) disp = 1;
        else if (o.mod() == 2 || (o.mod() == 0 && o.rm() == 6)) disp = 2;
        // The displacement may be missing: when the 286 raised #UD on the ModRM byte, the
        // suite's BYTS ends there (the HLT follows). imm_offset may then lie past the end.
        i += disp;
    }
    o.imm_offset = unsigned(i);
    o.imm_size = o.two_byte ? 0 : imm_bytes_1byte(o.opcode, o.reg());
    return o;
}

bool OpcodeInfo::operand_in_ss() const {
    if (mem_operand()) {
        if (seg_override >= 0) return seg_override == 0x36;
        return rm() == 2 || rm() == 3 || (rm() == 6 && mod() != 0);
    }
    if (two_byte || seg_override != 0x36) return false;
    switch (opcode) {
    case 0xA0: case 0xA1: case 0xA2: case 0xA3:   // MOV moffs
    case 0xA4: case 0xA5: case 0xA6: case 0xA7:   // MOVS CMPS: source DS:SI
    case 0xAC: case 0xAD:                         // LODS
    case 0x6E: case 0x6F:                         // OUTS
    case 0xD7:                                    // XLAT
        return true;
    default:
        return false;
    }
}

std::optional<FormName> parse_form_name(const std::string& s) {
    FormName f;
    size_t i = 0;
    auto byte_at = [&](size_t at) -> int {
        if (at + 2 > s.size()) return -1;
        int hi = hex_digit(s[at]), lo = hex_digit(s[at + 1]);
        return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
    };
    int op = byte_at(0);
    if (op < 0) return std::nullopt;
    f.opcode = uint8_t(op);
    i = 2;
    if (op == 0x0F && s.size() >= 4 && s[2] != '.') {
        int op2 = byte_at(2);
        if (op2 < 0) return std::nullopt;
        f.two_byte = true;
        f.opcode2 = uint8_t(op2);
        i = 4;
    }
    if (i == s.size()) return f;
    if (s[i] != '.' || i + 2 != s.size() || s[i + 1] < '0' || s[i + 1] > '7') return std::nullopt;
    f.reg = s[i + 1] - '0';
    return f;
}

}  // namespace lift86::sst
