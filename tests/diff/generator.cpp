// The form table, the encoder and the sequence generator of the differential tests.
// Forms that Unicorn gets wrong, or whose result the SDM leaves undefined, are not in the table
// or are constrained here; each such place points at tests/diff/unicorn_divergences.md.
#include "tests/diff/generator.hpp"

#include <Zydis/Zydis.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <cstdio>
#include <cstring>
#include <map>
#include <stdexcept>

namespace lift86::diff {

using namespace flagbits;

std::string flag_names(uint32_t m) {
    static const std::pair<uint32_t, const char*> kNames[] = {
        {1u << 0, "CF"}, {1u << 2, "PF"}, {1u << 4, "AF"}, {1u << 6, "ZF"}, {1u << 7, "SF"},
        {1u << 8, "TF"}, {1u << 9, "IF"}, {1u << 10, "DF"}, {1u << 11, "OF"}};
    std::string s;
    for (auto [bit, n] : kNames)
        if (m & bit) s += (s.empty() ? "" : " ") + std::string(n);
    for (unsigned b = 0; b < 32; b++)
        if ((m & (1u << b)) && !(b == 0 || b == 2 || b == 4 || b == 6 || b == 7 || b == 8 || b == 9 || b == 10 || b == 11))
            s += (s.empty() ? "" : " ") + ("bit" + std::to_string(b));
    return s.empty() ? "-" : s;
}

// ---------------------------------------------------------------- the form table
namespace {

constexpr uint8_t R(unsigned g) { return uint8_t(1u << g); }
enum : uint8_t { rEAX = 0, rECX, rEDX, rEBX, rESP, rEBP, rESI, rEDI };

// One row of the table as written by hand: `ops` in SDM notation, `opc` as hex bytes.
struct Row {
    const char* mnem;
    const char* opc;
    int ext = -1;
    const char* ops = "";
    uint16_t defd = 0, undef = 0, reads = 0;
    Kind kind = Kind::Plain;
    FlagRule rule = FlagRule::Fixed;
    uint16_t attr = 0;
    uint8_t imp_w = 0;
    uint8_t width = 0;   // 1: byte operation; 0: by operand size / operands; 255: size-less
    const char* tag = nullptr;   // disambiguates two rows with the same mnemonic and operands
};

constexpr uint16_t LOGIC_DEF = O | S | Z | P | C;   // "OF, CF cleared; SF, ZF, PF per result; AF undefined"
constexpr uint16_t MUL_DEF = O | C, MUL_UNDEF = S | Z | A | P;   // SDM vol.2 MUL, IMUL

using namespace fattr;

// SDM vol.2, one entry per instruction. Flags: "defd" = given a defined value, "undef" = left
// undefined by the SDM's Flags Affected section, "reads" = consumed.
const Row kRows[] = {
    // TEST (SDM vol.2 TEST): AF undefined.  F6/F7 /1 (the undocumented TEST alias) is NOT
    // generated: Unicorn raises #UD (unicorn_divergences.md #1).
    {"test", "84", -1, "Eb,Gb", LOGIC_DEF, A, 0, Kind::Plain, FlagRule::Fixed, RO},
    {"test", "85", -1, "Ev,Gv", LOGIC_DEF, A, 0, Kind::Plain, FlagRule::Fixed, RO},
    {"test", "A8", -1, "AL,Ib", LOGIC_DEF, A, 0, Kind::Plain, FlagRule::Fixed, RO},
    {"test", "A9", -1, "rAX,Iz", LOGIC_DEF, A, 0, Kind::Plain, FlagRule::Fixed, RO},
    {"test", "F6", 0, "Eb,Ib", LOGIC_DEF, A, 0, Kind::Plain, FlagRule::Fixed, RO},
    {"test", "F7", 0, "Ev,Iz", LOGIC_DEF, A, 0, Kind::Plain, FlagRule::Fixed, RO},
    // INC/DEC (SDM vol.2 INC, DEC): CF not affected.
    {"inc", "FE", 0, "Eb", O | S | Z | A | P, 0, 0, Kind::Plain, FlagRule::Fixed, LOCK},
    {"inc", "FF", 0, "Ev", O | S | Z | A | P, 0, 0, Kind::Plain, FlagRule::Fixed, LOCK},
    {"inc", "40", -1, "Zv", O | S | Z | A | P, 0, 0, Kind::Plain, FlagRule::Fixed, PLUSR},
    {"dec", "FE", 1, "Eb", O | S | Z | A | P, 0, 0, Kind::Plain, FlagRule::Fixed, LOCK},
    {"dec", "FF", 1, "Ev", O | S | Z | A | P, 0, 0, Kind::Plain, FlagRule::Fixed, LOCK},
    {"dec", "48", -1, "Zv", O | S | Z | A | P, 0, 0, Kind::Plain, FlagRule::Fixed, PLUSR},
    {"not", "F6", 2, "Eb", 0, 0, 0, Kind::Plain, FlagRule::Fixed, LOCK},
    {"not", "F7", 2, "Ev", 0, 0, 0, Kind::Plain, FlagRule::Fixed, LOCK},
    // LOCK NEG is not generated: Unicorn computes its flags from the operand before negation
    // (unicorn_divergences.md #8).
    {"neg", "F6", 3, "Eb", ALL},
    {"neg", "F7", 3, "Ev", ALL},
    // MUL/IMUL (SDM vol.2 MUL, IMUL): SF, ZF, AF, PF undefined.
    {"mul", "F6", 4, "Eb", MUL_DEF, MUL_UNDEF, 0, Kind::Plain, FlagRule::Fixed, RO, R(rEAX)},
    {"mul", "F7", 4, "Ev", MUL_DEF, MUL_UNDEF, 0, Kind::Plain, FlagRule::Fixed, RO, R(rEAX) | R(rEDX)},
    {"imul", "F6", 5, "Eb", MUL_DEF, MUL_UNDEF, 0, Kind::Plain, FlagRule::Fixed, RO, R(rEAX)},
    {"imul", "F7", 5, "Ev", MUL_DEF, MUL_UNDEF, 0, Kind::Plain, FlagRule::Fixed, RO, R(rEAX) | R(rEDX)},
    {"imul", "0FAF", -1, "Gv,Ev", MUL_DEF, MUL_UNDEF},
    {"imul", "69", -1, "Gv,Ev,Iz", MUL_DEF, MUL_UNDEF},
    {"imul", "6B", -1, "Gv,Ev,Ibs", MUL_DEF, MUL_UNDEF},
    // DIV/IDIV (SDM vol.2 DIV, IDIV): all six status flags undefined.
    {"div", "F6", 6, "Eb", 0, ALL, 0, Kind::Div, FlagRule::Fixed, RO, R(rEAX)},
    {"div", "F7", 6, "Ev", 0, ALL, 0, Kind::Div, FlagRule::Fixed, RO, R(rEAX) | R(rEDX)},
    {"idiv", "F6", 7, "Eb", 0, ALL, 0, Kind::Div, FlagRule::Fixed, RO, R(rEAX)},
    {"idiv", "F7", 7, "Ev", 0, ALL, 0, Kind::Div, FlagRule::Fixed, RO, R(rEAX) | R(rEDX)},
    // SHLD/SHRD (SDM vol.2 SHLD, SHRD): flags by count (FlagRule::Shxd). A 16-bit operand with a
    // count above 16 gives an undefined result: not generated (unicorn_divergences.md, "not generated").
    {"shld", "0FA4", -1, "Ev,Gv,Ib", 0, 0, 0, Kind::Shxd, FlagRule::Shxd},
    {"shld", "0FA5", -1, "Ev,Gv,CL", 0, 0, 0, Kind::Shxd, FlagRule::Shxd},
    {"shrd", "0FAC", -1, "Ev,Gv,Ib", 0, 0, 0, Kind::Shxd, FlagRule::Shxd},
    {"shrd", "0FAD", -1, "Ev,Gv,CL", 0, 0, 0, Kind::Shxd, FlagRule::Shxd},
    // BT/BTS/BTR/BTC (SDM vol.2 BT): CF defined, ZF unaffected, OF SF AF PF undefined.
    {"bt", "0FA3", -1, "Ev,Gv", C, O | S | A | P, 0, Kind::Bt, FlagRule::Fixed, RO},
    {"bts", "0FAB", -1, "Ev,Gv", C, O | S | A | P, 0, Kind::Bt, FlagRule::Fixed, LOCK},
    {"btr", "0FB3", -1, "Ev,Gv", C, O | S | A | P, 0, Kind::Bt, FlagRule::Fixed, LOCK},
    {"btc", "0FBB", -1, "Ev,Gv", C, O | S | A | P, 0, Kind::Bt, FlagRule::Fixed, LOCK},
    {"bt", "0FBA", 4, "Ev,Ib", C, O | S | A | P, 0, Kind::Bt, FlagRule::Fixed, RO},
    {"bts", "0FBA", 5, "Ev,Ib", C, O | S | A | P, 0, Kind::Bt, FlagRule::Fixed, LOCK},
    {"btr", "0FBA", 6, "Ev,Ib", C, O | S | A | P, 0, Kind::Bt, FlagRule::Fixed, LOCK},
    {"btc", "0FBA", 7, "Ev,Ib", C, O | S | A | P, 0, Kind::Bt, FlagRule::Fixed, LOCK},
    // BSF/BSR (SDM vol.2 BSF): ZF defined; CF OF SF AF PF undefined; destination undefined for a
    // zero source, so the source is made non-zero first.
    {"bsf", "0FBC", -1, "Gv,Ev", Z, C | O | S | A | P, 0, Kind::Bsf},
    {"bsr", "0FBD", -1, "Gv,Ev", Z, C | O | S | A | P, 0, Kind::Bsf},
    {"movzx", "0FB6", -1, "Gv,Eb"},
    {"movzx", "0FB7", -1, "Gv,Ew"},
    {"movsx", "0FBE", -1, "Gv,Eb"},
    {"movsx", "0FBF", -1, "Gv,Ew"},
    {"lea", "8D", -1, "Gv,M", 0, 0, 0, Kind::Lea},
    {"xchg", "86", -1, "Eb,Gb", 0, 0, 0, Kind::Plain, FlagRule::Fixed, XW | LOCK},
    {"xchg", "87", -1, "Ev,Gv", 0, 0, 0, Kind::Plain, FlagRule::Fixed, XW | LOCK},
    {"xchg", "90", -1, "rAX,Zv", 0, 0, 0, Kind::Plain, FlagRule::Fixed, XW | PLUSR},
    {"xadd", "0FC0", -1, "Eb,Gb", ALL, 0, 0, Kind::Plain, FlagRule::Fixed, XW | LOCK},
    {"xadd", "0FC1", -1, "Ev,Gv", ALL, 0, 0, Kind::Plain, FlagRule::Fixed, XW | LOCK},
    {"cmpxchg", "0FB0", -1, "Eb,Gb", ALL, 0, 0, Kind::Cmpxchg, FlagRule::Fixed, LOCK, R(rEAX)},
    {"cmpxchg", "0FB1", -1, "Ev,Gv", ALL, 0, 0, Kind::Cmpxchg, FlagRule::Fixed, LOCK, R(rEAX)},
    {"cmpxchg8b", "0FC7", 1, "Mq", Z, 0, 0, Kind::Cmpxchg8b, FlagRule::Fixed, LOCK | MEMONLY, R(rEAX) | R(rEDX), 255},
    // BSWAP with a 16-bit operand is undefined (SDM vol.2 BSWAP): 32-bit only.
    {"bswap", "0FC8", -1, "Zd", 0, 0, 0, Kind::Plain, FlagRule::Fixed, PLUSR | ONLY32},
    {"setcc", "0F90", 0, "Eb", 0, 0, 0, Kind::Setcc, FlagRule::Fixed, CC},
    {"cmovcc", "0F40", -1, "Gv,Ev", 0, 0, 0, Kind::Cmovcc, FlagRule::Fixed, CC},
    {"jcc", "70", -1, "Jb", 0, 0, 0, Kind::Jcc, FlagRule::Fixed, CC | NOBODY, 0, 255},
    {"jcc", "0F80", -1, "Jz", 0, 0, 0, Kind::Jcc, FlagRule::Fixed, CC | NOBODY},
    {"jmp", "EB", -1, "Jb", 0, 0, 0, Kind::Jcc, FlagRule::Fixed, NOBODY, 0, 255},
    {"jmp", "E9", -1, "Jz", 0, 0, 0, Kind::Jcc, FlagRule::Fixed, NOBODY},
    {"loop", "E2", -1, "Jb", 0, 0, 0, Kind::Loop, FlagRule::Fixed, NOBODY, R(rECX), 255},
    {"loope", "E1", -1, "Jb", 0, 0, Z, Kind::Loop, FlagRule::Fixed, NOBODY, R(rECX), 255},
    {"loopne", "E0", -1, "Jb", 0, 0, Z, Kind::Loop, FlagRule::Fixed, NOBODY, R(rECX), 255},
    {"jcxz", "E3", -1, "Jb", 0, 0, 0, Kind::Loop, FlagRule::Fixed, NOBODY, 0, 255},
    {"push", "50", -1, "Zv", 0, 0, 0, Kind::Push, FlagRule::Fixed, PLUSR | NOBODY},
    {"push", "68", -1, "Iz", 0, 0, 0, Kind::Push, FlagRule::Fixed, NOBODY},
    {"push", "6A", -1, "Ibs", 0, 0, 0, Kind::Push, FlagRule::Fixed, NOBODY, 0, 0},
    {"push", "FF", 6, "Ev", 0, 0, 0, Kind::Push, FlagRule::Fixed, NOBODY | RO},
    {"pop", "58", -1, "Zv", 0, 0, 0, Kind::Pop, FlagRule::Fixed, PLUSR | NOBODY},
    {"pop", "8F", 0, "Ev", 0, 0, 0, Kind::Pop, FlagRule::Fixed, NOBODY},
    {"pusha", "60", -1, "", 0, 0, 0, Kind::Pusha, FlagRule::Fixed, NOBODY},
    {"popa", "61", -1, "", 0, 0, 0, Kind::Popa, FlagRule::Fixed, NOBODY, 0xEF},
    // POPF is not generated with random values (it could set TF/IF/IOPL...); PUSHF reads all flags.
    {"pushf", "9C", -1, "", 0, 0, ALL, Kind::Pushf, FlagRule::Fixed, NOBODY},
    {"enter", "C8", -1, "Iw,Ib", 0, 0, 0, Kind::Enter, FlagRule::Fixed, NOBODY, R(rEBP)},
    {"leave", "C9", -1, "", 0, 0, 0, Kind::Leave, FlagRule::Fixed, NOBODY, R(rEBP)},
    {"movs", "A4", -1, "", 0, 0, 0, Kind::Str, FlagRule::Fixed, REP, R(rESI) | R(rEDI) | R(rECX), 1},
    {"movs", "A5", -1, "", 0, 0, 0, Kind::Str, FlagRule::Fixed, REP, R(rESI) | R(rEDI) | R(rECX)},
    {"cmps", "A6", -1, "", ALL, 0, 0, Kind::Str, FlagRule::Fixed, REPCC, R(rESI) | R(rEDI) | R(rECX), 1},
    {"cmps", "A7", -1, "", ALL, 0, 0, Kind::Str, FlagRule::Fixed, REPCC, R(rESI) | R(rEDI) | R(rECX)},
    {"stos", "AA", -1, "", 0, 0, 0, Kind::Str, FlagRule::Fixed, REP, R(rEDI) | R(rECX), 1},
    {"stos", "AB", -1, "", 0, 0, 0, Kind::Str, FlagRule::Fixed, REP, R(rEDI) | R(rECX)},
    {"lods", "AC", -1, "", 0, 0, 0, Kind::Str, FlagRule::Fixed, REP, R(rESI) | R(rECX) | R(rEAX), 1},
    {"lods", "AD", -1, "", 0, 0, 0, Kind::Str, FlagRule::Fixed, REP, R(rESI) | R(rECX) | R(rEAX)},
    {"scas", "AE", -1, "", ALL, 0, 0, Kind::Str, FlagRule::Fixed, REPCC, R(rEDI) | R(rECX), 1},
    {"scas", "AF", -1, "", ALL, 0, 0, Kind::Str, FlagRule::Fixed, REPCC, R(rEDI) | R(rECX)},
    // Traps and faults by design (the #DE campaigns): the handler frame is compared too.
    {"int", "CD", -1, "Ib", 0, 0, 0, Kind::Int, FlagRule::Fixed, NOBODY | FAULTS, 0, 255},
    {"int3", "CC", -1, "", 0, 0, 0, Kind::Int, FlagRule::Fixed, NOBODY | FAULTS, 0, 255},
    {"into", "CE", -1, "", 0, 0, O, Kind::Int, FlagRule::Fixed, NOBODY | FAULTS, 0, 255},
    {"bound", "62", -1, "Gv,M", 0, 0, 0, Kind::Bound, FlagRule::Fixed, MEMONLY},
    {"xlat", "D7", -1, "", 0, 0, 0, Kind::Xlat, FlagRule::Fixed, 0, R(rEAX), 1},
    {"cbw", "98", -1, "", 0, 0, 0, Kind::Plain, FlagRule::Fixed, 0, R(rEAX)},
    {"cwd", "99", -1, "", 0, 0, 0, Kind::Plain, FlagRule::Fixed, 0, R(rEDX)},
    // Decimal adjust (SDM vol.2 DAA, DAS, AAA, AAS, AAM, AAD).
    {"daa", "27", -1, "", S | Z | A | P | C, O, A | C, Kind::Plain, FlagRule::Fixed, 0, R(rEAX), 255},
    {"das", "2F", -1, "", S | Z | A | P | C, O, A | C, Kind::Plain, FlagRule::Fixed, 0, R(rEAX), 255},
    {"aaa", "37", -1, "", A | C, O | S | Z | P, A, Kind::Plain, FlagRule::Fixed, 0, R(rEAX), 255},
    {"aas", "3F", -1, "", A | C, O | S | Z | P, A, Kind::Plain, FlagRule::Fixed, 0, R(rEAX), 255},
    {"aam", "D4", -1, "Ib", S | Z | P, O | A | C, 0, Kind::Aam, FlagRule::Fixed, 0, R(rEAX), 255},
    {"aad", "D5", -1, "Ib", S | Z | P, O | A | C, 0, Kind::Plain, FlagRule::Fixed, 0, R(rEAX), 255},
    {"lahf", "9F", -1, "", 0, 0, S | Z | A | P | C, Kind::Plain, FlagRule::Fixed, 0, R(rEAX), 255},
    {"sahf", "9E", -1, "", S | Z | A | P | C, 0, 0, Kind::Plain, FlagRule::Fixed, 0, 0, 255},
    {"clc", "F8", -1, "", C, 0, 0, Kind::Plain, FlagRule::Fixed, 0, 0, 255},
    {"stc", "F9", -1, "", C, 0, 0, Kind::Plain, FlagRule::Fixed, 0, 0, 255},
    {"cmc", "F5", -1, "", C, 0, C, Kind::Plain, FlagRule::Fixed, 0, 0, 255},
    {"cld", "FC", -1, "", 0, 0, 0, Kind::Plain, FlagRule::Fixed, 0, 0, 255},
    {"std", "FD", -1, "", 0, 0, 0, Kind::Plain, FlagRule::Fixed, 0, 0, 255},
    {"nop", "90", -1, "", 0, 0, 0, Kind::Plain, FlagRule::Fixed, 0, 0, 255},
    {"nop", "0F1F", 0, "Ev", 0, 0, 0, Kind::Plain, FlagRule::Fixed, RO},
    {"mov", "88", -1, "Eb,Gb"},
    {"mov", "89", -1, "Ev,Gv"},
    {"mov", "8A", -1, "Gb,Eb"},
    {"mov", "8B", -1, "Gv,Ev"},
    {"mov", "C6", 0, "Eb,Ib"},
    {"mov", "C7", 0, "Ev,Iz"},
    {"mov", "B0", -1, "Zb,Ib", 0, 0, 0, Kind::Plain, FlagRule::Fixed, PLUSR},
    {"mov", "B8", -1, "Zv,Iz", 0, 0, 0, Kind::Plain, FlagRule::Fixed, PLUSR},
    {"mov", "A0", -1, "AL,Ob"},
    {"mov", "A1", -1, "rAX,Ov"},
    {"mov", "A2", -1, "Ob,AL"},
    {"mov", "A3", -1, "Ov,rAX"},
};

// The ALU family (SDM vol.2 ADD, OR, ADC, SBB, AND, SUB, XOR, CMP): one row per operation,
// expanded over the ten encodings every one of them has.
struct AluOp { const char* mnem; bool logic, carry_in, cmp; };
const AluOp kAlu[8] = {{"add", false, false, false}, {"or", true, false, false},  {"adc", false, true, false},
                       {"sbb", false, true, false},  {"and", true, false, false}, {"sub", false, false, false},
                       {"xor", true, false, false},  {"cmp", false, false, true}};
struct AluTemplate { int op_add; int grp; const char* ops; bool dest_is_e; const char* tag; };
const AluTemplate kAluTemplates[] = {
    {0, -1, "Eb,Gb", true, nullptr},    {1, -1, "Ev,Gv", true, nullptr},   {2, -1, "Gb,Eb", false, nullptr},
    {3, -1, "Gv,Ev", false, nullptr},   {4, -1, "AL,Ib", false, nullptr},  {5, -1, "rAX,Iz", false, nullptr},
    {-1, 0x80, "Eb,Ib", true, nullptr}, {-1, 0x81, "Ev,Iz", true, nullptr}, {-1, 0x83, "Ev,Ibs", true, nullptr},
    // 82 is the 8086 alias of 80 (SDM vol.2 appendix A.3, opcode map: "Immediate Grp 1", i64).
    {-1, 0x82, "Eb,Ib", true, "82"},
};

// Group 2 (SDM vol.2 RCL/RCR/ROL/ROR, SAL/SAR/SHL/SHR). /6 (the undocumented SAL alias) is not
// generated (unicorn_divergences.md, "not generated").
struct ShiftOp { const char* mnem; int ext; FlagRule rule; };
const ShiftOp kShift[] = {{"rol", 0, FlagRule::Rot}, {"ror", 1, FlagRule::Rot}, {"rcl", 2, FlagRule::Rcx},
                          {"rcr", 3, FlagRule::Rcx}, {"shl", 4, FlagRule::Sh},  {"shr", 5, FlagRule::Sh},
                          {"sar", 7, FlagRule::Sar}};
const std::pair<uint8_t, const char*> kShiftTemplates[] = {
    {0xC0, "Eb,Ib"}, {0xC1, "Ev,Ib"}, {0xD0, "Eb,1"}, {0xD1, "Ev,1"}, {0xD2, "Eb,CL"}, {0xD3, "Ev,CL"}};

Opd parse_opd(const std::string& s) {
    static const std::map<std::string, Opd> m = {
        {"Eb", Opd::Eb}, {"Ev", Opd::Ev}, {"Ew", Opd::Ew}, {"Gb", Opd::Gb}, {"Gv", Opd::Gv}, {"M", Opd::M},
        {"Mq", Opd::Mq}, {"Ib", Opd::Ib}, {"Iw", Opd::Iw}, {"Iz", Opd::Iz}, {"Ibs", Opd::Ibs}, {"1", Opd::One},
        {"CL", Opd::CL}, {"AL", Opd::AL}, {"rAX", Opd::rAX}, {"Zb", Opd::Zb}, {"Zv", Opd::Zv}, {"Zd", Opd::Zd},
        {"Jb", Opd::Jb}, {"Jz", Opd::Jz}, {"Ob", Opd::Ob}, {"Ov", Opd::Ov}};
    auto it = m.find(s);
    if (it == m.end()) throw std::logic_error("diff generator: bad operand kind " + s);
    return it->second;
}

bool is_vsized(Opd o) {
    return o == Opd::Ev || o == Opd::Gv || o == Opd::Zv || o == Opd::Zd || o == Opd::rAX || o == Opd::Iz || o == Opd::Ov || o == Opd::Jz;
}

Form make_form(const Row& r) {
    Form f;
    f.mnem = r.mnem;
    f.name = std::string(r.mnem) + (r.ops[0] ? " " : "") + r.ops;
    if (r.tag) f.name += std::string(" (") + r.tag + ")";
    std::string hex = r.opc;
    for (size_t k = 0; k + 2 <= hex.size(); k += 2)
        f.opc[f.nopc++] = uint8_t(std::stoul(hex.substr(k, 2), nullptr, 16));
    f.ext = int8_t(r.ext);
    std::string ops = r.ops;
    size_t p = 0;
    while (!ops.empty() && p <= ops.size()) {
        size_t q = ops.find(',', p);
        if (q == std::string::npos) q = ops.size();
        f.ops[f.nops++] = parse_opd(ops.substr(p, q - p));
        p = q + 1;
        if (q == ops.size()) break;
    }
    f.defd = r.defd;
    f.undef = r.undef;
    f.reads = r.reads;
    f.kind = r.kind;
    f.rule = r.rule;
    f.attr = r.attr;
    f.imp_w = r.imp_w;
    if (r.width) {
        f.width = r.width;
    } else if (f.nops == 0) {
        f.width = 0;   // implicit operands sized by the operand size (CBW, PUSHA, MOVSW ...)
    } else {
        bool v = false;
        for (unsigned k = 0; k < f.nops; k++) v |= is_vsized(f.ops[k]);
        f.width = v ? 0 : 1;
    }
    if (f.kind == Kind::Push || f.kind == Kind::Pop || f.kind == Kind::Enter || f.kind == Kind::Leave) f.width = 0;
    return f;
}

std::vector<Form> build_forms() {
    std::vector<Form> v;
    for (unsigned k = 0; k < 8; k++) {
        const AluOp& a = kAlu[k];
        for (const AluTemplate& t : kAluTemplates) {
            char opc[3];
            std::snprintf(opc, sizeof opc, "%02X", t.op_add >= 0 ? unsigned(k * 8 + t.op_add) : unsigned(t.grp));
            Row r{a.mnem, opc, t.op_add >= 0 ? -1 : int(k), t.ops};
            r.defd = a.logic ? LOGIC_DEF : ALL;
            r.undef = a.logic ? A : 0;
            r.reads = a.carry_in ? C : 0;
            r.attr = uint16_t((a.cmp ? RO : 0) | (t.dest_is_e && !a.cmp ? LOCK : 0));
            r.tag = t.tag;
            v.push_back(make_form(r));
        }
    }
    for (const ShiftOp& s : kShift) {
        for (auto [op, ops] : kShiftTemplates) {
            char opc[3];
            std::snprintf(opc, sizeof opc, "%02X", op);
            Row r{s.mnem, opc, s.ext, ops};
            r.kind = Kind::Shift;
            r.rule = s.rule;
            r.reads = s.rule == FlagRule::Rcx ? C : 0;
            v.push_back(make_form(r));
        }
    }
    for (const Row& r : kRows) v.push_back(make_form(r));
    for (size_t a = 0; a < v.size(); a++)
        for (size_t b = a + 1; b < v.size(); b++)
            if (v[a].name == v[b].name) v[b].name += " (" + std::to_string(v[b].opc[v[b].nopc - 1]) + ")";
    return v;
}

}  // namespace

const std::vector<Form>& forms() {
    static const std::vector<Form> f = build_forms();
    return f;
}

int form_index(const std::string& name) {
    const auto& f = forms();
    for (size_t k = 0; k < f.size(); k++)
        if (f[k].name == name) return int(k);
    return -1;
}

// ---------------------------------------------------------------- flags by count
namespace {

// Status flags a shift/rotate defines and leaves undefined for a given count and operand width
// (SDM vol.2 SAL/SAR/SHL/SHR, RCL/RCR/ROL/ROR, SHLD, SHRD "Flags Affected").
void count_flags(FlagRule rule, unsigned count, unsigned bits, uint16_t& defd, uint16_t& undef) {
    const unsigned mc = count & 31;   // the count is masked to 5 bits for every operand size
    defd = undef = 0;
    if (mc == 0) return;              // "If the count is 0, the flags are not affected."
    switch (rule) {
    case FlagRule::Rot:               // CF always, OF only for 1-bit rotates
        defd = C | (mc == 1 ? O : 0);
        undef = mc == 1 ? 0 : O;
        break;
    case FlagRule::Rcx: {             // the rotate is by (count mod width+1): CF changes only if that is non-zero
        unsigned t = bits == 32 ? mc : mc % (bits + 1);
        defd = uint16_t((t ? C : 0) | (mc == 1 ? O : 0));
        undef = mc == 1 ? 0 : O;
        break;
    }
    case FlagRule::Sh:                // CF undefined when the count >= width (SHL/SHR only)
    case FlagRule::Sar:
        defd = uint16_t(S | Z | P | (mc == 1 ? O : 0) | (rule == FlagRule::Sar || mc < bits ? C : 0));
        undef = uint16_t(A | (mc == 1 ? 0 : O) | (rule == FlagRule::Sh && mc >= bits ? C : 0));
        break;
    case FlagRule::Shxd:
        defd = uint16_t(S | Z | P | C | (mc == 1 ? O : 0));
        undef = uint16_t(A | (mc == 1 ? 0 : O));
        break;
    case FlagRule::Fixed: break;
    }
}

uint16_t cc_reads(unsigned cc) {   // SDM vol.2 appendix B.1.4.7
    switch (cc >> 1) {
    case 0: return O;
    case 1: return C;
    case 2: return Z;
    case 3: return C | Z;
    case 4: return S;
    case 5: return P;
    case 6: return S | O;
    default: return Z | S | O;
    }
}

// ---------------------------------------------------------------- random numbers (portable)
struct Rng {
    uint64_t s[4];
    explicit Rng(uint64_t seed) {
        for (auto& x : s) {   // splitmix64
            seed += 0x9E3779B97F4A7C15ull;
            uint64_t z = seed;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
            x = z ^ (z >> 31);
        }
    }
    static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    uint64_t next() {   // xoshiro256**
        uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
        s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = rotl(s[3], 45);
        return r;
    }
    uint32_t u32() { return uint32_t(next() >> 32); }
    uint32_t below(uint32_t n) { return uint32_t((uint64_t(u32()) * n) >> 32); }
    int range(int lo, int hi) { return lo + int(below(uint32_t(hi - lo + 1))); }
    bool chance(unsigned pct) { return below(100) < pct; }
    // Values near the edges where flag logic goes wrong, half the time.
    uint32_t value(unsigned bytes) {
        static const uint32_t kEdges[] = {0, 1, 2, 0x7F, 0x80, 0x81, 0xFF, 0x100, 0x7FFF, 0x8000, 0x8001, 0xFFFF,
                                          0x10000, 0x7FFFFFFF, 0x80000000, 0x80000001, 0xFFFFFFFF, 0xFFFFFFFE, 9, 10, 0x99};
        uint32_t mask = bytes == 4 ? 0xFFFFFFFFu : (1u << (bytes * 8)) - 1;
        uint32_t v;
        switch (below(4)) {
        case 0: v = kEdges[below(sizeof kEdges / sizeof kEdges[0])]; break;
        case 1: v = u32() & 0xFF; break;
        default: v = u32(); break;
        }
        if (bytes < 4 && chance(25)) v = (v & mask) | (u32() & ~mask);   // only the low part edges
        return v;
    }
};

// ---------------------------------------------------------------- encoder
// A memory operand in ModRM form, with the register values it was solved for.
struct MemOp {
    bool a32 = false;
    uint8_t mod = 0, rm = 0;
    bool has_sib = false;
    uint8_t sib = 0;
    uint8_t dsize = 0;   // displacement bytes: 0, 1, 2, 4
    uint32_t disp = 0;
    int base = -1, index = -1;
    uint8_t scale = 0;
    int seg = -1;        // segment override prefix (SegReg number) or -1
};

// One instruction to encode.
struct Ins {
    int form = -1;
    unsigned osize = 2;     // operand size 2/4 (1 for byte forms: no prefix decision)
    bool a32 = false;
    bool lock = false;
    uint8_t rep = 0;        // 0xF3 / 0xF2
    int seg = -1;           // segment override (string ops, XLAT, moffs)
    uint8_t opc_add = 0;    // +r / +cc
    bool modrm = false;
    uint8_t reg_field = 0;
    bool rm_reg = true;
    uint8_t rm = 0;
    MemOp mem;
    uint32_t imm[2] = {};
    uint8_t imm_size[2] = {};
    uint8_t nimm = 0;
    uint32_t moffs = 0;     // Ob/Ov
    bool has_moffs = false;
};

const uint8_t kSegPrefix[6] = {0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65};

std::vector<uint8_t> encode(const Ins& in, bool code32) {
    const Form& f = forms()[size_t(in.form)];
    std::vector<uint8_t> b;
    if (in.lock) b.push_back(0xF0);
    if (in.rep) b.push_back(in.rep);
    int seg = in.seg >= 0 ? in.seg : (in.modrm && !in.rm_reg ? in.mem.seg : -1);
    if (seg >= 0) b.push_back(kSegPrefix[seg]);
    if (f.width != 1 && f.width != 255 && (in.osize == 4) != code32) b.push_back(0x66);
    if (in.a32 != code32) b.push_back(0x67);
    for (unsigned k = 0; k < f.nopc; k++) b.push_back(uint8_t(f.opc[k] + (k + 1 == f.nopc ? in.opc_add : 0)));
    auto put = [&](uint32_t v, unsigned n) {
        for (unsigned k = 0; k < n; k++) b.push_back(uint8_t(v >> (8 * k)));
    };
    if (in.modrm) {
        if (in.rm_reg) {
            b.push_back(uint8_t(0xC0 | (in.reg_field << 3) | in.rm));
        } else {
            const MemOp& m = in.mem;
            b.push_back(uint8_t((m.mod << 6) | (in.reg_field << 3) | m.rm));
            if (m.has_sib) b.push_back(m.sib);
            put(m.disp, m.dsize);
        }
    }
    if (in.has_moffs) put(in.moffs, in.a32 ? 4 : 2);
    for (unsigned k = 0; k < in.nimm; k++) put(in.imm[k], in.imm_size[k]);
    return b;
}

// The sixteen-bit addressing forms (SDM vol.2 table 2-1): base and index of r/m 0..7.
const int kA16Base[8] = {rEBX, rEBX, rEBP, rEBP, -1, -1, rEBP, rEBX};
const int kA16Index[8] = {rESI, rEDI, rESI, rEDI, rESI, rEDI, -1, -1};

uint32_t ea_of(const MemOp& m, const uint32_t* v) {
    uint32_t a = m.disp;
    if (m.dsize == 1) a = uint32_t(int32_t(int8_t(m.disp)));
    if (m.base >= 0) a += v[m.base];
    if (m.index >= 0) a += v[m.index] << m.scale;
    return m.a32 ? a : (a & 0xFFFF);
}

uint32_t inverse_odd(uint32_t a) {   // a * x == 1 (mod 2^32), Newton's iteration
    uint32_t x = a;
    for (int k = 0; k < 5; k++) x *= 2 - a * x;
    return x;
}

// ---------------------------------------------------------------- the generator
struct Emitted {
    std::vector<uint8_t> bytes;
    GenInsn g;
    uint16_t reads = 0;
    uint8_t clobber = 0;    // registers whose value becomes unknown
    bool esp_set = false;
    uint32_t esp = 0;
    int known_reg = -1;     // a MOV r32, imm setup: the register becomes known
    uint32_t known_val = 0;
};

class Generator {
public:
    Generator(const GenOptions& o, uint64_t seed) : opt_(o), rng_(seed), code32_(o.mode == Mode::Prot32) {}

    Sequence run(uint64_t seed) {
        Sequence s;
        s.mode = opt_.mode;
        s.seed = seed;
        s.faults_allowed = opt_.allow_faults;
        init_state(s.init);
        // A third of the sequences run across the page boundary in the middle of the code area.
        s.code_off = rng_.chance(35) ? 0x1000 - 1 - rng_.below(64) : rng_.below(0x800);
        for (int k = 0; k < 8; k++) { known_[k] = true; val_[k] = s.init.r[k]; }
        const unsigned n = unsigned(rng_.range(int(opt_.min_units), int(opt_.max_units)));
        for (unsigned k = 0; k < n; k++) {
            unit_ = Unit{};
            make_unit();
            s.units.push_back(std::move(unit_));
        }
        s.assemble();
        return s;
    }

private:
    const GenOptions& opt_;
    Rng rng_;
    bool code32_;
    bool known_[8] = {};
    uint32_t val_[8] = {};
    uint16_t pu_ = 0;        // status flags possibly undefined at this point of the sequence
    uint8_t locked_ = 0;     // registers whose value the instruction being built depends on
    uint8_t banned_ = 0;     // registers the instruction being built may not use at all
    bool skippable_ = false; // building the body of a jump
    Unit unit_;

    bool stack32() const { return code32_; }
    uint32_t sp_mask() const { return stack32() ? 0xFFFFFFFFu : 0xFFFFu; }
    uint32_t sp() const { return val_[rESP] & sp_mask(); }
    uint32_t esp_after(int32_t delta) const {
        uint32_t n = (val_[rESP] + uint32_t(delta)) & sp_mask();
        return stack32() ? n : ((val_[rESP] & 0xFFFF0000u) | n);
    }
    bool stack_ok(int32_t delta) const {
        uint32_t n = (val_[rESP] + uint32_t(delta)) & sp_mask();
        return n >= layout::kStackLo && n <= layout::kStackHi;
    }

    void init_state(InitState& st) {
        for (int k = 0; k < 8; k++) st.r[k] = rng_.value(4);
        uint32_t sp = uint32_t(rng_.range(int(layout::kStackLo + 0x1000), int(layout::kStackHi - 0x1000))) & ~3u;
        if (rng_.chance(10)) sp |= 2;
        st.r[rESP] = code32_ ? sp : ((rng_.chance(50) ? rng_.u32() & 0xFFFF0000u : 0) | sp);
        st.eflags = 2 | (rng_.u32() & ALL) | (rng_.chance(30) ? 0x400u : 0);
        st.window.resize(layout::kWindowSize);
        for (size_t k = 0; k < st.window.size(); k += 4) {
            uint32_t v = rng_.u32();
            std::memcpy(&st.window[k], &v, 4);
        }
        for (int k = 0; k < 8; k++) {   // a few runs of edge bytes
            uint32_t at = rng_.below(layout::kWindowSize - 64);
            uint8_t fill = rng_.chance(50) ? 0 : 0xFF;
            if (rng_.chance(30)) fill = 0x80;
            std::memset(&st.window[at], fill, size_t(rng_.range(1, 64)));
        }
    }

    // ---- emission
    void emit(const Emitted& e) {
        GenInsn g = e.g;
        g.off = uint32_t(unit_.bytes.size());
        g.len = uint8_t(e.bytes.size());
        unit_.bytes.insert(unit_.bytes.end(), e.bytes.begin(), e.bytes.end());
        unit_.insns.push_back(g);
        for (int k = 0; k < 8; k++)
            if (e.clobber & (1u << k)) known_[k] = false;
        if (e.known_reg >= 0) { known_[e.known_reg] = true; val_[e.known_reg] = e.known_val; }
        if (e.esp_set) val_[rESP] = e.esp;
        pu_ = skippable_ && !g.setup ? uint16_t(pu_ | g.undef) : uint16_t((pu_ & ~g.defd) | g.undef);
    }
    Emitted finish(const Ins& in, bool setup, uint16_t defd, uint16_t undef) {
        Emitted e;
        e.bytes = encode(in, code32_);
        e.g.form = int16_t(in.form);
        e.g.setup = setup;
        e.g.defd = defd;
        e.g.undef = undef;
        return e;
    }
    unsigned mode_osize() const { return code32_ ? 4 : 2; }
    unsigned pick_osize(const Form& f) {
        if (f.attr & fattr::ONLY32) return 4;
        if (f.width == 1) return 1;
        if (f.width == 255) return mode_osize();
        return rng_.chance(70) ? mode_osize() : 6 - mode_osize();
    }
    bool pick_a32() { return rng_.chance(85) ? code32_ : !code32_; }
    int pick_seg() {   // never CS: writes through it fault in protected mode and CS has another base
        static const int kSegs[] = {0, 2, 3, 4, 5};
        return rng_.chance(20) ? kSegs[rng_.below(5)] : -1;
    }

    // A setup MOV r32, imm32.
    void set_reg(int r, uint32_t v) {
        assert(r != rESP);
        Ins in;
        in.form = fi("mov Zv,Iz");
        in.osize = 4;
        in.a32 = code32_;
        in.opc_add = uint8_t(r);
        in.imm[0] = v; in.imm_size[0] = 4; in.nimm = 1;
        Emitted e = finish(in, true, 0, 0);
        e.known_reg = r;
        e.known_val = v;
        emit(e);
    }
    static int fi(const char* name) {
        int k = form_index(name);
        if (k < 0) throw std::logic_error(std::string("diff generator: no form ") + name);
        return k;
    }

    // A random register of `size` bytes. `written`: ESP (not AH: byte register 4) is excluded.
    int pick_reg(unsigned size, bool written) {
        for (int tries = 0; tries < 64; tries++) {
            int r = int(rng_.below(8));
            int full = size == 1 ? (r & 3) : r;
            if (size != 1 && written && r == rESP) continue;
            if (banned_ & (1u << full)) continue;
            if (written && (locked_ & (1u << full))) continue;
            return r;
        }
        return size == 1 ? 3 : rEBX;   // BL / EBX: never banned together with everything else
    }

    // Solves a memory operand of `size` bytes whose effective address lands in [lo, hi - size]
    // of the window, emitting MOVs for registers whose value is not known. `esp_bias` is added to
    // ESP when it is the base (POP m computes the address after incrementing ESP, SDM vol.2 POP).
    bool solve_mem(unsigned size, bool a32, MemOp& m, uint32_t& target, uint32_t lo = layout::kSafeLo,
                   uint32_t hi = layout::kSafeHi, uint32_t esp_bias = 0) {
        for (int attempt = 0; attempt < 32; attempt++) {
            m = MemOp{};
            m.a32 = a32;
            m.seg = pick_seg();
            if (!a32) {
                m.rm = uint8_t(rng_.below(8));
                m.mod = uint8_t(rng_.below(3));
                if (m.mod == 0 && m.rm == 6) { m.dsize = 2; }
                else { m.base = kA16Base[m.rm]; m.index = kA16Index[m.rm]; m.dsize = m.mod == 1 ? 1 : m.mod == 2 ? 2 : 0; }
            } else {
                m.mod = uint8_t(rng_.below(3));
                m.dsize = m.mod == 1 ? 1 : m.mod == 2 ? 4 : 0;
                if (rng_.chance(45)) {   // SIB
                    m.rm = 4;
                    m.has_sib = true;
                    uint8_t base = uint8_t(rng_.below(8)), index = uint8_t(rng_.below(8));
                    m.scale = uint8_t(rng_.below(4));
                    m.sib = uint8_t((m.scale << 6) | (index << 3) | base);
                    m.base = (base == 5 && m.mod == 0) ? -1 : base;
                    if (base == 5 && m.mod == 0) m.dsize = 4;
                    m.index = index == 4 ? -1 : index;
                    if (m.index < 0) m.scale = 0;
                } else {
                    m.rm = uint8_t(rng_.below(8));
                    if (m.rm == 4) m.rm = 0;
                    if (m.mod == 0 && m.rm == 5) { m.dsize = 4; }
                    else m.base = m.rm;
                }
            }
            uint8_t used = uint8_t((m.base >= 0 ? 1u << m.base : 0) | (m.index >= 0 ? 1u << m.index : 0));
            if (used & banned_) continue;
            // Register values: known ones as they are, others get a MOV.
            uint32_t v[8];
            uint8_t need = 0;
            for (int r = 0; r < 8; r++) {
                if (!(used & (1u << r))) continue;
                if (known_[r]) v[r] = val_[r];
                else if (locked_ & (1u << r)) goto next_attempt;
                else { v[r] = rng_.u32(); need |= uint8_t(1u << r); }
            }
            if (used & (1u << rESP)) v[rESP] = val_[rESP] + esp_bias;
            {
                const uint32_t amask = a32 ? 0xFFFFFFFFu : 0xFFFFu;
                uint32_t t = lo + rng_.below(hi - lo - size);
                if (size > 1 && rng_.chance(15)) {
                    // Straddle a page boundary (the softmmu's slow path).
                    int seg = m.seg >= 0 ? m.seg : (m.base == rEBP || m.base == rESP) ? 2 : 3;
                    uint32_t page = 0x1000u * (1 + rng_.below(14));
                    t = page - layout::kSegOff[seg] - 1 - rng_.below(size - 1);
                    if (t < lo || t + size > hi) t = lo;
                }
                const bool full_disp = m.dsize == (a32 ? 4 : 2);
                if (m.dsize == 1) m.disp = uint32_t(int32_t(int8_t(rng_.u32())));
                else if (!full_disp) m.disp = 0;
                if (full_disp) {
                    m.disp = 0;
                    m.disp = (t - ea_of(m, v)) & amask;
                } else {
                    // Adjust one register (not ESP, not locked) so the address hits t.
                    int adj = -1;
                    for (int r : {m.base, m.index})
                        if (r >= 0 && r != rESP && !(locked_ & (1u << r)) && adj < 0) adj = r;
                    if (adj >= 0) {
                        uint32_t coef = (m.base == adj ? 1u : 0u) + (m.index == adj ? 1u << m.scale : 0u);
                        uint32_t saved = v[adj];
                        v[adj] = 0;
                        uint32_t rest = ea_of(m, v);   // includes the displacement
                        v[adj] = saved;
                        uint32_t x = (t - rest) & amask;
                        unsigned k = __builtin_ctz(coef);
                        x &= ~((1u << k) - 1);   // make it divisible by the power-of-two part
                        uint32_t nv = (x >> k) * inverse_odd(coef >> k);
                        if (!a32) nv = (nv & 0xFFFF) | (rng_.u32() & 0xFFFF0000u);
                        v[adj] = nv;
                        need |= uint8_t(1u << adj);
                    }
                }
                uint32_t ea = ea_of(m, v);
                if (ea < lo || uint64_t(ea) + size > hi) continue;
                // Emit the MOVs, then double-check that nothing changed in between.
                for (int r = 0; r < 8; r++)
                    if (need & (1u << r)) set_reg(r, v[r]);
                assert(ea_of(m, v) == ea);
                target = ea;
                // Locked now: the address depends on them.
                locked_ |= used;
                return true;
            }
        next_attempt:;
        }
        return false;
    }

    // Any address (LEA): random registers, random displacement.
    void random_mem(bool a32, MemOp& m) {
        m = MemOp{};
        m.a32 = a32;
        m.seg = pick_seg();
        if (!a32) {
            m.rm = uint8_t(rng_.below(8));
            m.mod = uint8_t(rng_.below(3));
            if (m.mod == 0 && m.rm == 6) m.dsize = 2;
            else { m.base = kA16Base[m.rm]; m.index = kA16Index[m.rm]; m.dsize = m.mod == 1 ? 1 : m.mod == 2 ? 2 : 0; }
        } else {
            m.mod = uint8_t(rng_.below(3));
            m.dsize = m.mod == 1 ? 1 : m.mod == 2 ? 4 : 0;
            if (rng_.chance(50)) {
                m.rm = 4;
                m.has_sib = true;
                uint8_t base = uint8_t(rng_.below(8)), index = uint8_t(rng_.below(8));
                m.scale = uint8_t(rng_.below(4));
                m.sib = uint8_t((m.scale << 6) | (index << 3) | base);
                m.base = (base == 5 && m.mod == 0) ? -1 : base;
                if (base == 5 && m.mod == 0) m.dsize = 4;
                m.index = index == 4 ? -1 : index;
            } else {
                m.rm = uint8_t(rng_.below(8));
                if (m.rm == 4) m.rm = 0;
                if (m.mod == 0 && m.rm == 5) m.dsize = 4;
                else m.base = m.rm;
            }
        }
        m.disp = m.dsize ? rng_.value(m.dsize) : 0;
    }

    // Fills the E operand: a register or memory in the window.
    bool fill_e(Ins& in, unsigned size, bool written, bool mem, uint32_t* target = nullptr,
                uint32_t lo = layout::kSafeLo, uint32_t hi = layout::kSafeHi, uint32_t esp_bias = 0) {
        in.modrm = true;
        if (!mem) {
            in.rm_reg = true;
            in.rm = uint8_t(pick_reg(size, written));
            return true;
        }
        in.rm_reg = false;
        uint32_t t = 0;
        if (!solve_mem(size, in.a32, in.mem, t, lo, hi, esp_bias)) return false;
        if (target) *target = t;
        return true;
    }

    unsigned opd_size(Opd o, unsigned osize) const {
        switch (o) {
        case Opd::Eb: case Opd::Gb: case Opd::Zb: case Opd::AL: case Opd::Ob: case Opd::Ib: case Opd::Ibs: return 1;
        case Opd::Ew: case Opd::Iw: return 2;
        case Opd::Mq: return 8;
        case Opd::Zd: return 4;
        default: return osize;
        }
    }

    uint8_t full_reg_mask(int r, unsigned size) const { return uint8_t(1u << (size == 1 ? (r & 3) : r)); }

    // Builds the tested instruction of a unit: emits its setups, returns it unemitted (the caller
    // may put a flag definer or a jump before it). `ok` false: the form cannot be built here.
    bool build(int form, Emitted& out) {
        const Form& f = forms()[size_t(form)];
        Ins in;
        in.form = form;
        in.osize = pick_osize(f);
        in.a32 = code32_;
        const unsigned bits = (f.width == 1 ? 1 : in.osize) * 8;
        uint16_t defd = f.defd, undef = f.undef, reads = f.reads;
        uint8_t clobber = f.imp_w;
        bool esp_set = false;
        uint32_t esp = 0;
        bool has_mem = false;
        for (unsigned k = 0; k < f.nops; k++)
            has_mem |= f.ops[k] == Opd::Eb || f.ops[k] == Opd::Ev || f.ops[k] == Opd::Ew || f.ops[k] == Opd::M ||
                       f.ops[k] == Opd::Mq || f.ops[k] == Opd::Ob || f.ops[k] == Opd::Ov;
        if (has_mem || f.kind == Kind::Str || f.kind == Kind::Xlat || f.kind == Kind::Loop) in.a32 = pick_a32();
        bool mem = (f.attr & fattr::MEMONLY) || (!(f.attr & fattr::REGONLY) && rng_.chance(50));
        if (f.kind == Kind::Lea) mem = true;
        if (f.attr & fattr::PLUSR) in.opc_add = 0;
        if (f.ext >= 0) in.reg_field = uint8_t(f.ext);
        const bool e_written = !(f.attr & fattr::RO) || (f.attr & fattr::XW);
        auto note_write = [&](int r, unsigned size) { clobber |= full_reg_mask(r, size); };

        switch (f.kind) {
        case Kind::Plain:
        case Kind::Setcc:
        case Kind::Cmovcc:
        case Kind::Lea:
        case Kind::Bt:
        case Kind::Bsf:
        case Kind::Cmpxchg:
        case Kind::Shift:
        case Kind::Shxd:
        case Kind::Aam:
        case Kind::Div: {
            // Value constraints first (they lock their registers), then the operands.
            unsigned count = 0;
            bool count_in_cl = false;
            for (unsigned k = 0; k < f.nops; k++) count_in_cl |= f.ops[k] == Opd::CL;
            if (f.kind == Kind::Shift || f.kind == Kind::Shxd) {
                auto draw = [&] {
                    unsigned c = rng_.chance(85) ? unsigned(rng_.range(0, 40)) : rng_.below(256);
                    return c;
                };
                count = draw();
                // SHLD/SHRD of a 16-bit operand by more than 16: result undefined (SDM vol.2 SHLD).
                while (f.kind == Kind::Shxd && bits == 16 && (count & 31) > 16) count = draw();
                if (f.ops[1] == Opd::One) count = 1;
                if (count_in_cl) {
                    if (banned_ & (1u << rECX)) return false;
                    set_reg(rECX, (rng_.u32() & ~0xFFu) | count);
                    locked_ |= 1u << rECX;
                }
                count_flags(f.rule, count, bits, defd, undef);
            }
            if (f.kind == Kind::Setcc || f.kind == Kind::Cmovcc) {
                unsigned cc = rng_.below(16);
                in.opc_add = uint8_t(cc);
                reads |= cc_reads(cc);
            }
            int g_reg = -1;   // G operand register
            if (f.kind == Kind::Div) return build_div(in, f, out);
            if (f.kind == Kind::Cmpxchg && rng_.chance(50)) return build_cmpxchg_equal(in, f, out);
            // The G operand.
            for (unsigned k = 0; k < f.nops; k++) {
                if (f.ops[k] != Opd::Gb && f.ops[k] != Opd::Gv) continue;
                unsigned sz = opd_size(f.ops[k], in.osize);
                bool w = (k == 0 && !(f.attr & fattr::RO)) || (f.attr & fattr::XW);
                if (f.kind == Kind::Bt && mem) {
                    // Register bit offsets reach outside the operand (SDM vol.2 BT, "bit string"):
                    // keep the offset small so the byte accessed stays in the window.
                    g_reg = pick_reg(sz, true);
                    int32_t off = rng_.range(-256, 255);
                    uint32_t mask = sz == 2 ? 0xFFFFu : 0xFFFFFFFFu;
                    set_reg(g_reg, (uint32_t(off) & mask) | (rng_.u32() & ~mask));
                    locked_ |= 1u << g_reg;
                } else {
                    g_reg = pick_reg(sz, w);
                    if (w) note_write(g_reg, sz);
                }
                in.modrm = true;
                in.reg_field = uint8_t(g_reg);
            }
            // Z operand (register in the opcode).
            for (unsigned k = 0; k < f.nops; k++) {
                Opd o = f.ops[k];
                if (o != Opd::Zb && o != Opd::Zv && o != Opd::Zd) continue;
                unsigned sz = opd_size(o, in.osize);
                int r;
                do r = pick_reg(sz, true); while (f.mnem == "xchg" && r == 0);   // 90 is NOP
                in.opc_add = uint8_t(r);
                note_write(r, sz);
            }
            // The E / M operand.
            for (unsigned k = 0; k < f.nops; k++) {
                Opd o = f.ops[k];
                if (o != Opd::Eb && o != Opd::Ev && o != Opd::Ew && o != Opd::M) continue;
                unsigned sz = opd_size(o, in.osize);
                bool w = (k == 0 && e_written);
                in.modrm = true;
                if (o == Opd::M) {
                    in.rm_reg = false;
                    random_mem(in.a32, in.mem);
                } else if (f.kind == Kind::Bsf) {
                    // A zero source leaves the destination undefined (SDM vol.2 BSF): OR in a
                    // non-zero value first, through the same operand.
                    if (!fill_e(in, sz, true, mem)) return false;
                    Ins o_ins = in;
                    o_ins.form = fi("or Ev,Iz");
                    o_ins.reg_field = 1;
                    o_ins.nimm = 1;
                    uint32_t nz = rng_.value(sz);
                    if ((nz & (sz == 2 ? 0xFFFFu : 0xFFFFFFFFu)) == 0) nz |= 1u << rng_.below(sz * 8);
                    o_ins.imm[0] = nz; o_ins.imm_size[0] = uint8_t(sz);
                    Emitted e = finish(o_ins, true, LOGIC_DEF, A);
                    if (!mem) e.clobber = full_reg_mask(in.rm, sz);
                    emit(e);
                    if (!mem) known_[in.rm] = false;
                } else {
                    uint32_t lo = layout::kSafeLo, hi = layout::kSafeHi;
                    if (f.kind == Kind::Bt) { lo += 64; hi -= 64; }
                    if (!fill_e(in, sz, w, mem, nullptr, lo, hi)) return false;
                    if (!mem && w) note_write(in.rm, sz);
                }
            }
            // Immediates and memory offsets.
            for (unsigned k = 0; k < f.nops; k++) {
                Opd o = f.ops[k];
                if (o == Opd::Ib || o == Opd::Ibs || o == Opd::Iw || o == Opd::Iz) {
                    unsigned sz = o == Opd::Iz ? (in.osize == 4 ? 4 : 2) : o == Opd::Iw ? 2 : 1;
                    uint32_t v = rng_.value(sz);
                    if (f.kind == Kind::Shift || f.kind == Kind::Shxd) v = count;
                    if (f.kind == Kind::Aam) {
                        v = rng_.chance(60) ? 10 : rng_.below(256);
                        if (v == 0 && !opt_.allow_faults) v = 1 + rng_.below(255);   // AAM 0 is #DE
                        if (v == 0) undef = defd = 0;
                    }
                    if (f.kind == Kind::Plain && f.mnem == "aad" && rng_.chance(60)) v = 10;
                    in.imm[in.nimm] = v;
                    in.imm_size[in.nimm++] = uint8_t(sz);
                } else if (o == Opd::Ob || o == Opd::Ov) {
                    unsigned sz = o == Opd::Ob ? 1 : in.osize;
                    in.has_moffs = true;
                    in.moffs = layout::kSafeLo + rng_.below(layout::kSafeHi - layout::kSafeLo - sz);
                    in.seg = pick_seg();
                } else if (o == Opd::AL || o == Opd::rAX) {
                    if (k == 0 && !(f.attr & fattr::RO)) note_write(rEAX, o == Opd::AL ? 1 : 4);
                }
            }
            // LOCK only where the SDM allows it (a lockable instruction with a memory destination):
            // other LOCK forms are #UD, and some abort Unicorn (unicorn_divergences.md #4).
            if (in.modrm && !in.rm_reg && (f.attr & fattr::LOCK) && e_written && rng_.chance(15)) in.lock = true;
            break;
        }
        case Kind::Cmpxchg8b: {
            // Half the time EDX:EAX equals the operand, so the exchange happens.
            uint32_t lo32 = rng_.u32(), hi32 = rng_.u32();
            bool equal = rng_.chance(50);
            if (equal) {
                if (banned_ & (R(rEAX) | R(rEDX))) return false;
                set_reg(rEAX, lo32);
                set_reg(rEDX, hi32);
                locked_ |= R(rEAX) | R(rEDX);
            }
            uint32_t t;
            if (!fill_e(in, 8, true, true, &t)) return false;
            if (equal) {
                store_abs(t, rEAX, in.mem);
                store_abs(t + 4, rEDX, in.mem);
            }
            // Unicorn computes CMPXCHG8B's unchanged flags from a stale lazy-flags state unless
            // its translation block starts right there (unicorn_divergences.md #6): JMP $+2 first.
            {
                Ins j;
                j.form = fi("jmp Jb");
                j.osize = mode_osize();
                j.a32 = code32_;
                j.nimm = 1;
                j.imm_size[0] = 1;
                emit(finish(j, true, 0, 0));
            }
            if (rng_.chance(15)) in.lock = true;
            break;
        }
        case Kind::Push:
        case Kind::Pop: {
            const int32_t delta = f.kind == Kind::Push ? -int32_t(in.osize) : int32_t(in.osize);
            if (!stack_ok(delta)) return false;
            for (unsigned k = 0; k < f.nops; k++) {
                Opd o = f.ops[k];
                if (o == Opd::Zv) {
                    int r = f.kind == Kind::Push ? int(rng_.below(8)) : pick_reg(in.osize, true);
                    in.opc_add = uint8_t(r);
                    if (f.kind == Kind::Pop) note_write(r, in.osize);
                } else if (o == Opd::Ev) {
                    if (!fill_e(in, in.osize, f.kind == Kind::Pop, mem, nullptr, layout::kSafeLo, layout::kSafeHi,
                                f.kind == Kind::Pop ? in.osize : 0))
                        return false;
                    if (!mem && f.kind == Kind::Pop) note_write(in.rm, in.osize);
                } else if (o == Opd::Iz || o == Opd::Ibs) {
                    unsigned sz = o == Opd::Iz ? in.osize : 1;
                    in.imm[0] = rng_.value(sz); in.imm_size[0] = uint8_t(sz); in.nimm = 1;
                }
            }
            esp_set = true;
            esp = esp_after(delta);
            break;
        }
        case Kind::Pusha:
        case Kind::Popa: {
            const int32_t delta = (f.kind == Kind::Pusha ? -8 : 8) * int32_t(in.osize);
            if (!stack_ok(delta)) return false;
            esp_set = true;
            esp = esp_after(delta);
            break;
        }
        case Kind::Pushf:
            if (!stack_ok(-int32_t(in.osize))) return false;
            esp_set = true;
            esp = esp_after(-int32_t(in.osize));
            break;
        case Kind::Enter: {
            // An operand size other than the stack size is a corner the SDM pseudo-code and the
            // emulators read differently (unicorn_divergences.md #7): not generated.
            in.osize = stack32() ? 4 : 2;
            unsigned size = unsigned(rng_.range(0, 32)) * 2, level = rng_.chance(70) ? rng_.below(2) : rng_.below(4);
            unsigned pushes = level == 0 ? 1 : level + 1;
            int32_t delta = -int32_t(pushes * in.osize + size);
            if (!stack_ok(delta)) return false;
            if (level >= 2) {
                // Nesting levels copy frame pointers from [EBP - k*size]: EBP must be in the stack area.
                if (banned_ & R(rEBP)) return false;
                uint32_t bp = (sp() + uint32_t(rng_.range(0, 32)) * 2) & sp_mask();
                set_reg(rEBP, stack32() ? bp : ((rng_.u32() & 0xFFFF0000u) | bp));
                locked_ |= R(rEBP);
            }
            in.imm[0] = size; in.imm_size[0] = 2;
            in.imm[1] = level; in.imm_size[1] = 1;
            in.nimm = 2;
            esp_set = true;
            esp = esp_after(delta);
            break;
        }
        case Kind::Leave: {
            // ESP <- EBP, then POP EBP (SDM vol.2 LEAVE): EBP is put next to the stack first.
            if (banned_ & R(rEBP)) return false;
            uint32_t bp = (sp() + uint32_t(rng_.range(-16, 16)) * 2) & sp_mask();
            if (bp < layout::kStackLo || bp > layout::kStackHi) return false;
            uint32_t ebp = stack32() ? bp : ((rng_.u32() & 0xFFFF0000u) | bp);
            set_reg(rEBP, ebp);
            esp_set = true;
            uint32_t n = (bp + in.osize) & sp_mask();
            esp = stack32() ? n : ((val_[rESP] & 0xFFFF0000u) | n);
            break;
        }
        case Kind::Str: {
            const bool src = f.mnem == "movs" || f.mnem == "cmps" || f.mnem == "lods";
            const bool dst = f.mnem != "lods";
            if (banned_ & (R(rESI) | R(rEDI) | R(rECX))) return false;
            if (rng_.chance(60)) {
                Ins d;
                d.form = fi(rng_.chance(50) ? "cld" : "std");
                d.a32 = code32_;
                emit(finish(d, true, 0, 0));
            }
            // Addresses 64 bytes from the edges of the safe area: up to 12 elements either way.
            auto addr = [&] {
                uint32_t a = layout::kSafeLo + 64 + rng_.below(layout::kSafeHi - layout::kSafeLo - 128);
                return in.a32 ? a : ((rng_.u32() & 0xFFFF0000u) | a);
            };
            if (src) { set_reg(rESI, addr()); locked_ |= R(rESI); }
            if (dst) { set_reg(rEDI, addr()); locked_ |= R(rEDI); }
            if (src) in.seg = pick_seg();
            if (rng_.chance(60)) {
                in.rep = (f.attr & fattr::REPCC) && rng_.chance(50) ? 0xF2 : 0xF3;
                unsigned n = rng_.chance(15) ? 0 : unsigned(rng_.range(1, 12));
                set_reg(rECX, in.a32 ? n : ((rng_.u32() & 0xFFFF0000u) | n));
                locked_ |= R(rECX);
                if (n == 0) defd = 0;
            }
            break;
        }
        case Kind::Xlat: {
            if (banned_ & R(rEBX)) return false;
            uint32_t b = layout::kSafeLo + rng_.below(layout::kSafeHi - layout::kSafeLo - 256);
            set_reg(rEBX, in.a32 ? b : ((rng_.u32() & 0xFFFF0000u) | b));
            in.seg = pick_seg();
            break;
        }
        case Kind::Int:
            if (f.mnem == "int") {
                in.imm[0] = rng_.below(256);
                in.imm_size[0] = 1;
                in.nimm = 1;
            }
            break;
        case Kind::Bound: {
            // BOUND r, m16&16 / m32&32 (SDM vol.2 BOUND): signed bounds; #BR when the index is outside.
            const unsigned w = in.osize;
            auto sx = [&](uint32_t v) { return w == 2 ? int64_t(int16_t(v)) : int64_t(int32_t(v)); };
            int g = pick_reg(w, true);
            uint32_t a = rng_.value(w), b = rng_.value(w), x = rng_.value(w);
            if (sx(a) > sx(b)) std::swap(a, b);
            const bool in_range = !opt_.allow_faults || rng_.chance(50);
            if (in_range) {
                int64_t lo = sx(a), hi = sx(b);
                int64_t v = lo + int64_t(rng_.u32() % uint64_t(hi - lo + 1));
                if (rng_.chance(20)) v = rng_.chance(50) ? lo : hi;
                x = uint32_t(v);
            }
            uint32_t mask = w == 2 ? 0xFFFFu : 0xFFFFFFFFu;
            set_reg(g, (x & mask) | (rng_.u32() & ~mask));
            locked_ |= uint8_t(1u << g);
            in.modrm = true;
            in.reg_field = uint8_t(g);
            in.rm_reg = false;
            uint32_t t;
            if (!solve_mem(2 * w, in.a32, in.mem, t)) return false;
            store_abs_imm(t, a & mask, w, in.mem);
            store_abs_imm(t + w, b & mask, w, in.mem);
            break;
        }
        case Kind::Jcc:
        case Kind::Loop:
            return false;   // built by make_branch_unit
        }
        out = finish(in, false, defd, undef);
        out.reads = reads;
        out.clobber = clobber;
        out.esp_set = esp_set;
        out.esp = esp;
        return true;
    }

    // The segment a memory operand uses: its override, else SS for EBP/ESP bases (SDM vol.1 3.7.4).
    static int eff_seg(const MemOp& m) { return m.seg >= 0 ? m.seg : (m.base == rEBP || m.base == rESP) ? 2 : 3; }

    // MOV seg:[t], reg (absolute address, 32-bit) as a setup, in the segment of operand `like`.
    void store_abs(uint32_t t, int reg, const MemOp& like) {
        Ins s;
        s.form = fi("mov Ev,Gv");
        s.osize = 4;
        s.a32 = like.a32;
        s.modrm = true;
        s.rm_reg = false;
        s.reg_field = uint8_t(reg);
        s.mem = abs_mem(t, like);
        emit(finish(s, true, 0, 0));
    }
    // MOV seg:[t], imm of `size` bytes as a setup.
    void store_abs_imm(uint32_t t, uint32_t v, unsigned size, const MemOp& like) {
        Ins s;
        s.form = fi("mov Ev,Iz");
        s.osize = size;
        s.a32 = like.a32;
        s.modrm = true;
        s.rm_reg = false;
        s.mem = abs_mem(t, like);
        s.imm[0] = v; s.imm_size[0] = uint8_t(size); s.nimm = 1;
        emit(finish(s, true, 0, 0));
    }
    static MemOp abs_mem(uint32_t t, const MemOp& like) {
        MemOp m;
        m.a32 = like.a32;
        m.mod = 0;
        m.rm = like.a32 ? 5 : 6;
        m.dsize = like.a32 ? 4 : 2;
        m.disp = t;
        int seg = eff_seg(like);
        m.seg = seg == 3 ? -1 : seg;
        return m;
    }

    // DIV/IDIV with a dividend and divisor whose quotient fits (SDM vol.2 DIV: #DE when the
    // divisor is 0 or the quotient is too large). With faults allowed the operands are random.
    bool build_div(Ins& in, const Form& f, Emitted& out) {
        const unsigned w = f.width == 1 ? 1 : in.osize;
        const bool is_signed = f.mnem == "idiv";
        const bool mem = rng_.chance(50);
        if (banned_ & (R(rEAX) | R(rEDX))) return false;
        const uint8_t dividend_regs = w == 1 ? R(rEAX) : R(rEAX) | R(rEDX);
        uint64_t mask = w == 4 ? 0xFFFFFFFFull : (1ull << (w * 8)) - 1;
        uint64_t d = 0, dividend = 0;
        bool set_values = true;
        if (!opt_.allow_faults) {
            if (!is_signed) {
                do d = rng_.value(w) & mask; while (d == 0);
                uint64_t q = rng_.value(w) & mask, r = rng_.u32() % d;
                if (rng_.chance(30)) q = mask;   // the largest quotient that fits
                dividend = q * d + r;
            } else {
                auto sx = [&](uint64_t v) { return int64_t(v << (64 - 8 * w)) >> (64 - 8 * w); };
                int64_t sd;
                do sd = sx(rng_.value(w) & mask); while (sd == 0);
                int64_t qmax = (int64_t(1) << (8 * w - 1)) - 1;
                int64_t q = sx(rng_.value(w) & mask);
                if (rng_.chance(10)) q = rng_.chance(50) ? qmax : -qmax;
                int64_t ad = sd < 0 ? -sd : sd;
                int64_t r = int64_t(rng_.u32() % uint64_t(ad));
                int64_t prod = q * sd;
                if (prod < 0 || (prod == 0 && rng_.chance(50))) r = -r;
                d = uint64_t(sd) & mask;
                dividend = uint64_t(prod + r);
            }
        } else {
            set_values = rng_.chance(70);
            d = rng_.chance(40) ? 0 : rng_.value(w) & mask;
            dividend = (uint64_t(rng_.value(4)) << 32 | rng_.value(4));
        }
        if (set_values) {
            if (w == 1) {
                set_reg(rEAX, (rng_.u32() & 0xFFFF0000u) | uint32_t(dividend & 0xFFFF));
            } else if (w == 2) {
                set_reg(rEAX, (rng_.u32() & 0xFFFF0000u) | uint32_t(dividend & 0xFFFF));
                set_reg(rEDX, (rng_.u32() & 0xFFFF0000u) | uint32_t((dividend >> 16) & 0xFFFF));
            } else {
                set_reg(rEAX, uint32_t(dividend));
                set_reg(rEDX, uint32_t(dividend >> 32));
            }
            locked_ |= dividend_regs;
        }
        in.modrm = true;
        if (!mem) {
            // The divisor may not overlap the dividend (AL/AH, AX/DX, EAX/EDX).
            int r;
            for (int tries = 0;; tries++) {
                r = int(rng_.below(8));
                int full = w == 1 ? (r & 3) : r;
                if (w != 1 && r == rESP) continue;
                if ((dividend_regs | banned_) & (1u << full)) continue;
                break;
            }
            in.rm_reg = true;
            in.rm = uint8_t(r);
            if (set_values || !opt_.allow_faults) {
                int full = w == 1 ? (r & 3) : r;
                uint32_t cur = rng_.u32();
                uint32_t v = w == 1 ? (r >= 4 ? (cur & ~0xFF00u) | uint32_t(d << 8) : (cur & ~0xFFu) | uint32_t(d))
                                    : (w == 2 ? (cur & 0xFFFF0000u) | uint32_t(d) : uint32_t(d));
                set_reg(full, v);
            }
        } else {
            uint32_t t;
            in.rm_reg = false;
            if (!solve_mem(w, in.a32, in.mem, t)) return false;
            if (set_values || !opt_.allow_faults) {
                Ins s = in;
                s.form = fi(w == 1 ? "mov Eb,Ib" : "mov Ev,Iz");
                s.reg_field = 0;
                s.lock = false;
                s.imm[0] = uint32_t(d); s.imm_size[0] = uint8_t(w == 1 ? 1 : w); s.nimm = 1;
                emit(finish(s, true, 0, 0));
            }
        }
        out = finish(in, false, f.defd, f.undef);
        out.clobber = f.imp_w;
        return true;
    }

    // CMPXCHG where the accumulator equals the destination (SDM vol.2 CMPXCHG: ZF=1, dest <- src).
    bool build_cmpxchg_equal(Ins& in, const Form& f, Emitted& out) {
        const unsigned w = f.width == 1 ? 1 : in.osize;
        if (banned_ & R(rEAX)) return false;
        const uint32_t x = rng_.value(4);
        // The source register.
        int g = pick_reg(w, false);
        in.modrm = true;
        in.reg_field = uint8_t(g);
        const bool mem = rng_.chance(50);
        uint8_t clob = f.imp_w;
        if (mem) {
            set_reg(rEAX, x);
            locked_ |= R(rEAX);
            uint32_t t;
            in.rm_reg = false;
            if (!solve_mem(w, in.a32, in.mem, t)) return false;
            Ins s;
            s.form = fi(w == 1 ? "mov Eb,Gb" : "mov Ev,Gv");
            s.osize = w == 1 ? 1 : w;
            s.a32 = in.a32;
            s.modrm = true;
            s.rm_reg = false;
            s.reg_field = rEAX;
            s.mem = in.mem;
            emit(finish(s, true, 0, 0));
            if (rng_.chance(15)) in.lock = true;
        } else {
            int d = pick_reg(w, true);
            in.rm_reg = true;
            in.rm = uint8_t(d);
            int dfull = w == 1 ? (d & 3) : d;
            if (dfull == rEAX && !(w == 1 && d == 4)) {
                set_reg(rEAX, x);   // compares the accumulator with itself
            } else if (w == 1 && d == 4) {   // CMPXCHG AH, r8: AL must equal AH
                set_reg(rEAX, (x & 0xFFFF0000u) | ((x & 0xFF) << 8) | (x & 0xFF));
            } else {
                set_reg(rEAX, x);
                uint32_t y = rng_.u32();
                uint32_t v = w == 1 ? (d >= 4 ? (y & ~0xFF00u) | ((x & 0xFF) << 8) : (y & ~0xFFu) | (x & 0xFF))
                                    : (w == 2 ? (y & 0xFFFF0000u) | (x & 0xFFFF) : x);
                set_reg(dfull, v);
            }
            clob |= full_reg_mask(d, w);
        }
        out = finish(in, false, f.defd, f.undef);
        out.clobber = clob;
        return true;
    }

    // A flag definer before an instruction that reads flags the SDM left undefined.
    void emit_definer() {
        Ins in;
        in.form = fi(rng_.chance(50) ? "cmp Ev,Gv" : "cmp Eb,Gb");
        const Form& f = forms()[size_t(in.form)];
        in.osize = pick_osize(f);
        in.a32 = code32_;
        in.modrm = true;
        in.rm_reg = true;
        in.rm = uint8_t(rng_.below(8));
        in.reg_field = uint8_t(rng_.below(8));
        emit(finish(in, true, ALL, 0));
    }

    bool drawable(const Form& f, bool as_body) const {
        if (f.attr & fattr::SETUP) return false;
        if ((f.attr & fattr::FAULTS) && !opt_.allow_faults) return false;
        if (as_body && (f.attr & fattr::NOBODY)) return false;
        return true;
    }

    int draw_form(bool as_body) {
        const auto& fs = forms();
        const bool favour = !opt_.favour.empty() && rng_.chance(50);
        for (;;) {
            int k = int(rng_.below(uint32_t(fs.size())));
            const Form& f = fs[size_t(k)];
            if (favour && std::find(opt_.favour.begin(), opt_.favour.end(), f.mnem) == opt_.favour.end()) continue;
            if (drawable(f, as_body)) return k;
        }
    }

    void make_unit() {
        for (int tries = 0; tries < 100; tries++) {
            const int form = draw_form(false);
            const Form& f = forms()[size_t(form)];
            // Keep the state to roll back a form that cannot be built here.
            auto saved_known = std::to_array(known_);
            auto saved_val = std::to_array(val_);
            const uint16_t saved_pu = pu_;
            const Unit saved_unit = unit_;
            locked_ = banned_ = 0;
            skippable_ = false;
            bool ok;
            if (f.kind == Kind::Jcc || f.kind == Kind::Loop) ok = make_branch_unit(form);
            else {
                Emitted e;
                ok = build(form, e);
                if (ok) {
                    if (e.reads & pu_) emit_definer();
                    emit(e);
                    unit_.main_form = int16_t(form);
                }
            }
            locked_ = banned_ = 0;
            skippable_ = false;
            if (ok) return;
            std::copy(saved_known.begin(), saved_known.end(), known_);
            std::copy(saved_val.begin(), saved_val.end(), val_);
            pu_ = saved_pu;
            unit_ = saved_unit;
        }
        throw std::logic_error("diff generator: could not build a unit");
    }

    // Jcc/JMP/LOOP/JCXZ over one instruction (or to the next one).
    bool make_branch_unit(int form) {
        const Form& f = forms()[size_t(form)];
        const bool loop = f.kind == Kind::Loop;
        // Branches with an operand-size prefix in 32-bit code truncate EIP to 16 bits (SDM vol.2
        // Jcc): that would leave the code area, so they are only made in 16-bit code.
        unsigned osize = mode_osize();
        if (!code32_ && f.width != 255 && rng_.chance(15)) osize = 4;
        const bool a32 = loop ? pick_a32() : code32_;
        // LOOP changes ECX before the body runs: the body must not depend on ECX.
        if (loop) banned_ = R(rECX);
        int body_form;
        Emitted body;
        for (int tries = 0;; tries++) {
            if (tries > 50) return false;
            body_form = draw_form(true);
            const Form& bf = forms()[size_t(body_form)];
            if (loop) {
                bool uses_cl = false;
                for (unsigned k = 0; k < bf.nops; k++) uses_cl |= bf.ops[k] == Opd::CL;
                if (uses_cl || bf.kind == Kind::Str || (bf.imp_w & R(rECX))) continue;
            }
            if (build(body_form, body)) break;
            return false;
        }
        Ins in;
        in.form = form;
        in.osize = osize;
        in.a32 = a32;
        uint16_t reads = f.reads;
        if (f.attr & fattr::CC) {
            unsigned cc = rng_.below(16);
            in.opc_add = uint8_t(cc);
            reads |= cc_reads(cc);
        }
        if (loop && rng_.chance(40)) {
            banned_ = 0;
            unsigned n = rng_.below(3);
            set_reg(rECX, a32 ? n : ((rng_.u32() & 0xFFFF0000u) | n));
        }
        uint32_t rel = rng_.chance(90) ? uint32_t(body.bytes.size()) : 0;
        const Opd rel_kind = f.ops[0];
        in.imm[0] = rel;
        in.imm_size[0] = uint8_t(rel_kind == Opd::Jb ? 1 : osize);
        in.nimm = 1;
        Emitted j = finish(in, false, 0, 0);
        j.clobber = f.imp_w;
        if ((reads | body.reads) & pu_) emit_definer();
        if (f.mnem == "loope" || f.mnem == "loopne") {
            // Unicorn loses the lazy flags when LOOPE/LOOPNE exits on (E)CX = 0 unless the
            // instruction starts a translation block (unicorn_divergences.md #9): JMP $+2 first.
            Ins jb;
            jb.form = fi("jmp Jb");
            jb.osize = mode_osize();
            jb.a32 = code32_;
            jb.nimm = 1;
            jb.imm_size[0] = 1;
            emit(finish(jb, true, 0, 0));
        }
        emit(j);
        unit_.main_form = int16_t(form);
        skippable_ = true;
        emit(body);
        skippable_ = false;
        return true;
    }
};

}  // namespace

// ---------------------------------------------------------------- Sequence
void Sequence::assemble() {
    code.clear();
    insns.clear();
    for (const Unit& u : units) {
        uint32_t base = uint32_t(code.size());
        code.insert(code.end(), u.bytes.begin(), u.bytes.end());
        for (GenInsn g : u.insns) {
            g.off += base;
            insns.push_back(g);
        }
    }
    hlt_off = uint32_t(code.size());
    code.push_back(0xF4);
    GenInsn h;
    h.off = hlt_off;
    h.len = 1;
    insns.push_back(h);
    insn_at.assign(code.size(), -1);
    for (size_t k = 0; k < insns.size(); k++) insn_at[insns[k].off] = int16_t(k);
}

uint16_t Sequence::undefined_after(const std::vector<uint32_t>& executed) const {
    uint16_t u = 0;
    for (uint32_t off : executed) {
        if (off >= insn_at.size() || insn_at[off] < 0) continue;
        const GenInsn& g = insns[size_t(insn_at[off])];
        u = uint16_t((u & ~g.defd) | g.undef);
    }
    return u;
}

std::string Sequence::disassemble() const {
    std::string s;
    const ZydisMachineMode mm = mode == Mode::Real16 ? ZYDIS_MACHINE_MODE_REAL_16 : ZYDIS_MACHINE_MODE_LEGACY_32;
    for (const GenInsn& g : insns) {
        ZydisDisassembledInstruction di;
        char line[256];
        std::string hex;
        for (unsigned k = 0; k < g.len; k++) {
            char h[4];
            std::snprintf(h, sizeof h, "%02x", code[g.off + k]);
            hex += h;
        }
        const char* text = "(undecodable)";
        if (ZYAN_SUCCESS(ZydisDisassembleIntel(mm, layout::code_eip(mode) + code_off + g.off, &code[g.off], g.len, &di)))
            text = di.text;
        const char* what = g.form < 0 ? "" : forms()[size_t(g.form)].name.c_str();
        std::snprintf(line, sizeof line, "  %04x: %-32s %-44s ; %s%s\n", layout::code_eip(mode) + code_off + g.off, hex.c_str(), text,
                      g.setup ? "setup: " : "", what);
        s += line;
    }
    return s;
}

Sequence generate(const GenOptions& opt, uint64_t seed) {
    Generator g(opt, seed);
    return g.run(seed);
}

}  // namespace lift86::diff
