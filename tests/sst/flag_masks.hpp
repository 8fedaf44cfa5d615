// FLAGS bits the harness must not compare, because the Intel SDM leaves them undefined after the
// instruction (the 286 set ships no masks; README) or because a 286 cannot hold them in real mode.
#pragma once
#include <cstdint>
#include <string>

#include "tests/sst/moo.hpp"
#include "tests/sst/opcode_info.hpp"

namespace lift86::sst {

namespace flag {
constexpr uint16_t CF = 1u << 0, PF = 1u << 2, AF = 1u << 4, ZF = 1u << 6, SF = 1u << 7, TF = 1u << 8,
                   IF = 1u << 9, DF = 1u << 10, OF = 1u << 11;
constexpr uint16_t ARITH = CF | PF | AF | ZF | SF | OF;
// IOPL (12-13), NT (14) and bit 15: a 286 in real mode reads them as 0 and POPF/IRET cannot set
// them, while a 386+ lets real-mode POPF/IRET load IOPL and NT (README; 80286 PRM 10.1 vs SDM vol.3 20.1).
constexpr uint16_t TOP4 = 0xF000;
}  // namespace flag

// The SDM-undefined status flags of this test's instruction, given its initial state (the shift
// count decides for shifts and rotates). 0 when everything the instruction touches is defined.
uint16_t undefined_flags(const OpcodeInfo& op, const MooTest& t);

// Text naming the flags in `mask`, e.g. "OF,AF" (for messages).
std::string flag_names(uint16_t mask);

}  // namespace lift86::sst
