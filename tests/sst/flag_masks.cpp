// The undefined-flag table. One row per instruction family, each citing the SDM vol.2 entry that
// says "undefined". Rows are matched by opcode range and ModRM.reg; a row may apply only for some
// shift counts, because a shift or rotate by 0 leaves every flag unchanged (and therefore defined).
#include "tests/sst/flag_masks.hpp"

#include <array>
#include <utility>

namespace lift86::sst {

namespace {

using namespace flag;

// When a row applies, as a function of the (5-bit masked) shift count.
enum class When : uint8_t {
    CountNonZero,     // shift by 1..31
    CountAbove1,      // shift by 2..31: only 1-bit shifts/rotates define OF
    CountAtLeastWidth // SHL/SHR by >= operand width: CF undefined
};

constexpr uint8_t kAnyReg = 0xFF;
constexpr uint8_t regs(std::initializer_list<int> rs) {
    uint8_t m = 0;
    for (int r : rs) m |= uint8_t(1u << r);
    return m;
}

constexpr int kAnyOutcome = -1;

struct Row {
    uint8_t first, last;   // one-byte opcode range
    uint8_t reg_mask;      // ModRM.reg values the row covers (kAnyReg: all / no ModRM)
    uint16_t flags;
    int vector;            // only when the test ends in this exception (kAnyOutcome: always)
    const char* what;      // the instruction and the SDM entry
};

constexpr uint8_t kShiftGroup[] = {0xC0, 0xC1, 0xD0, 0xD1, 0xD2, 0xD3};

const Row kRows[] = {
    // Logical ops: "OF and CF cleared; SF, ZF, PF per result; the state of AF is undefined."
    {0x08, 0x0D, kAnyReg, AF, kAnyOutcome, "OR (SDM vol.2 OR)"},
    {0x20, 0x25, kAnyReg, AF, kAnyOutcome, "AND (SDM vol.2 AND)"},
    {0x30, 0x35, kAnyReg, AF, kAnyOutcome, "XOR (SDM vol.2 XOR)"},
    {0x80, 0x83, regs({1, 4, 6}), AF, kAnyOutcome, "OR/AND/XOR r/m,imm (group 1)"},
    {0x84, 0x85, kAnyReg, AF, kAnyOutcome, "TEST r/m,reg (SDM vol.2 TEST)"},
    {0xA8, 0xA9, kAnyReg, AF, kAnyOutcome, "TEST AL/AX,imm"},
    {0xF6, 0xF7, regs({0, 1}), AF, kAnyOutcome, "TEST r/m,imm (/1 is the 286's undocumented alias)"},
    // Decimal adjust.
    {0x27, 0x27, kAnyReg, OF, kAnyOutcome, "DAA: OF undefined"},
    {0x2F, 0x2F, kAnyReg, OF, kAnyOutcome, "DAS: OF undefined"},
    {0x37, 0x37, kAnyReg, OF | SF | ZF | PF, kAnyOutcome, "AAA: OF, SF, ZF, PF undefined"},
    {0x3F, 0x3F, kAnyReg, OF | SF | ZF | PF, kAnyOutcome, "AAS: OF, SF, ZF, PF undefined"},
    {0xD4, 0xD5, kAnyReg, OF | AF | CF, kAnyOutcome, "AAM/AAD: OF, AF, CF undefined"},
    // Multiply and divide.
    {0x69, 0x69, kAnyReg, SF | ZF | AF | PF, kAnyOutcome, "IMUL r,r/m,imm16: SF, ZF, AF, PF undefined"},
    {0x6B, 0x6B, kAnyReg, SF | ZF | AF | PF, kAnyOutcome, "IMUL r,r/m,imm8: SF, ZF, AF, PF undefined"},
    {0xF6, 0xF7, regs({4, 5}), SF | ZF | AF | PF, kAnyOutcome, "MUL/IMUL r/m: SF, ZF, AF, PF undefined"},
    {0xF6, 0xF7, regs({6, 7}), ARITH, kAnyOutcome, "DIV/IDIV: all six status flags undefined"},
    // AAM 0 raises #DE after the 286 has already set SF/ZF/PF from a partial result; a P6
    // faults precisely, before changing anything (SDM vol.3 6.5). Neither value is a result the
    // instruction defines, so the flags (and their pushed copy) are not compared.
    {0xD4, 0xD4, kAnyReg, ARITH, 0, "AAM 0 faulting with #DE: flags of a discarded result"},
    // Shifts and rotates (group 2): see the shift rows below, which need the count.
};

struct ShiftRow {
    uint8_t reg_mask;
    When when;
    uint16_t flags;
    const char* what;
};
const ShiftRow kShiftRows[] = {
    // "OF is affected only on 1-bit shifts/rotates; otherwise it is undefined." (SAL/SAR/SHL/SHR, RCL/...)
    {kAnyReg, When::CountAbove1, OF, "shift/rotate by count > 1: OF undefined"},
    // SAL/SAR/SHL/SHR: "for a non-zero count, the AF flag is undefined." Rotates leave AF alone.
    {regs({4, 5, 6, 7}), When::CountNonZero, AF, "shift by count != 0: AF undefined"},
    // "For the SHL and SHR instructions, if the count is >= the destination size, CF is undefined."
    // /6 is the undocumented SAL alias of /4. SAR's CF (the sign) stays defined.
    {regs({4, 5, 6}), When::CountAtLeastWidth, CF, "SHL/SHR by count >= width: CF undefined"},
};

bool is_shift_group(uint8_t op) {
    for (uint8_t s : kShiftGroup)
        if (s == op) return true;
    return false;
}

// The count the instruction shifts by, masked to 5 bits as both the 286 and the 386+ do.
unsigned shift_count(const OpcodeInfo& op, const MooTest& t) {
    switch (op.opcode) {
    case 0xD0: case 0xD1: return 1;
    case 0xD2: case 0xD3: return (t.init.regs[CX] & 0xFF) & 31;
    default:   // C0/C1: imm8 after ModRM/displacement
        return op.imm_offset < t.bytes.size() ? t.bytes[op.imm_offset] & 31 : 0;
    }
}

bool reg_matches(uint8_t mask, const OpcodeInfo& op) {
    return mask == kAnyReg || (op.has_modrm && (mask >> op.reg()) & 1);
}

}  // namespace

uint16_t undefined_flags(const OpcodeInfo& op, const MooTest& t) {
    if (op.two_byte) return 0;   // 0F 00..06 on the 286: LAR/LSL set only ZF, which is defined
    uint16_t m = 0;
    for (const Row& r : kRows)
        if (op.opcode >= r.first && op.opcode <= r.last && reg_matches(r.reg_mask, op) &&
            (r.vector == kAnyOutcome || (t.excp && t.excp->vector == r.vector)))
            m |= r.flags;
    if (is_shift_group(op.opcode)) {
        unsigned count = shift_count(op, t);
        unsigned width = (op.opcode & 1) ? 16 : 8;
        for (const ShiftRow& r : kShiftRows) {
            if (!reg_matches(r.reg_mask, op)) continue;
            bool on = false;
            switch (r.when) {
            case When::CountNonZero: on = count != 0; break;
            case When::CountAbove1: on = count > 1; break;
            case When::CountAtLeastWidth: on = count >= width; break;
            }
            if (on) m |= r.flags;
        }
    }
    return m;
}

std::string flag_names(uint16_t mask) {
    static const std::array<std::pair<uint16_t, const char*>, 9> names{
        {{OF, "OF"}, {DF, "DF"}, {IF, "IF"}, {TF, "TF"}, {SF, "SF"}, {ZF, "ZF"}, {AF, "AF"}, {PF, "PF"}, {CF, "CF"}}};
    std::string s;
    for (auto [bit, name] : names)
        if (mask & bit) {
            if (!s.empty()) s += ',';
            s += name;
        }
    if (mask & TOP4) s += s.empty() ? "IOPL/NT/15" : ",IOPL/NT/15";
    if (mask & 0x002A) s += s.empty() ? "reserved" : ",reserved";   // bits 1, 3, 5
    return s;
}

}  // namespace lift86::sst
