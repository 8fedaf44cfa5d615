// Zydis -> Insn: decodes one guest instruction into lift86's compact pre-decoded form and binds
// the interpreter handler that executes it.
#pragma once
#include <Zydis/Zydis.h>

#include <cstddef>
#include <cstdint>

#include "frontend/insn.hpp"

namespace lift86 {

enum class DecodeStatus { Ok, NeedMoreBytes };

// Decodes the instruction at `bytes` (at most `avail` bytes). An invalid or unsupported encoding
// decodes to an instruction that raises #UD when executed, as on hardware.
DecodeStatus decode_insn(const uint8_t* bytes, size_t avail, bool code32, Insn& out);

// What the binders see of an instruction's visible operands.
enum class OpKind : uint8_t { None, Gpr, Sreg, Cr, Dr, Mem, Imm, Ptr, St, Other };
struct OpView {
    OpKind kind = OpKind::None;
    uint8_t size = 0;   // bytes
    uint8_t reg = 0;    // register number within its class (AL..BH = 0..7)
};
struct DecodedView {
    uint16_t mnemonic;
    uint8_t n;          // visible operands
    OpView op[4];
    uint8_t osize;      // effective operand size of the instruction: 1, 2 or 4
    bool code32;
    const ZydisDecodedInstruction* zi;
    const ZydisDecodedOperand* zops;
    bool is(OpKind a) const { return n == 1 && op[0].kind == a; }
    bool is(OpKind a, OpKind b) const { return n == 2 && op[0].kind == a && op[1].kind == b; }
    bool is(OpKind a, OpKind b, OpKind c) const { return n == 3 && op[0].kind == a && op[1].kind == b && op[2].kind == c; }
};

// A binder returns the handler for the instructions it knows (and may adjust `insn`), or null.
using Binder = Handler (*)(const DecodedView&, Insn&);
Handler bind_alu(const DecodedView&, Insn&);
Handler bind_data(const DecodedView&, Insn&);
Handler bind_control(const DecodedView&, Insn&);
Handler bind_string(const DecodedView&, Insn&);
Handler bind_system(const DecodedView&, Insn&);
Handler bind_x87(const DecodedView&, Insn&);

// Raises #UD: the handler of every encoding lift86 does not implement.
void h_undefined(Cpu&, const Insn&);

}  // namespace lift86
