// The compact, pre-decoded form of one guest instruction. The decoder (Zydis) fills it once per
// block; the interpreter then runs `fn` on it with no further decoding (DESIGN.md decision 2).
#pragma once
#include <cstdint>

namespace lift86 {

class Cpu;
struct Insn;
using Handler = void (*)(Cpu&, const Insn&);

namespace insn_flag {
constexpr uint16_t O32 = 1 << 0;     // operand size 32 (else 16; byte ops know their size)
constexpr uint16_t A32 = 1 << 1;     // address size 32
constexpr uint16_t REP = 1 << 2;     // F3
constexpr uint16_t REPNE = 1 << 3;   // F2
constexpr uint16_t LOCK = 1 << 4;
constexpr uint16_t MEM = 1 << 5;     // the r/m operand is memory
constexpr uint16_t ENDS_BLOCK = 1 << 6;
}  // namespace insn_flag

constexpr uint8_t kNoReg = 0xFF;

struct Insn {
    Handler fn = nullptr;
    uint32_t imm = 0;      // first immediate (sign- or zero-extended as the instruction defines)
    int32_t disp = 0;      // memory displacement
    uint16_t imm2 = 0;     // second immediate: ENTER nesting level, far pointer selector
    uint16_t flags = 0;    // insn_flag
    uint16_t mnemonic = 0; // ZydisMnemonic (for traces, explain mode and x87 dispatch)
    uint16_t mem_size = 0; // memory operand size in bytes (x87 up to 512 for FXSAVE)
    uint8_t len = 0;
    uint8_t reg = 0;       // register operand (ModRM.reg or the register in the opcode)
    uint8_t rm = 0;        // register r/m operand when !MEM; x87: st(i)
    uint8_t base = kNoReg, index = kNoReg, scale = 0;   // memory operand
    uint8_t seg = 3;       // segment of the memory operand (DS unless overridden/BP-based)
    uint8_t op = 0;        // handler-specific: condition code, operand size of a source, ...
    uint8_t opcode = 0;    // last opcode byte (x87 FOP and explain mode)
    uint8_t modrm = 0;

    bool o32() const { return flags & insn_flag::O32; }
    bool a32() const { return flags & insn_flag::A32; }
    bool mem() const { return flags & insn_flag::MEM; }
};

}  // namespace lift86
