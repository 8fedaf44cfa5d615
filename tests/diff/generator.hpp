// Seeded generator of random but valid x86 instruction sequences for the differential tests
// (DESIGN.md "How lift86 is tested", oracle 3). Every instruction form it can emit is described
// once, in the form table of generator.cpp (mnemonic, encoding template, operand kinds, flags it
// defines / leaves undefined / reads per the Intel SDM vol.2 entry); a tiny encoder assembles the
// bytes from that table, so no external assembler runs at test time.
//
// A sequence is a list of units. A unit is one tested instruction plus the "setup" instructions
// it needs right before it (MOVs that put base/index registers where a memory operand lands in
// the data window, a divisor that does not fault, a string count, ...). Units are self-contained
// byte strings, so a failing sequence can be shrunk by dropping units.
//
// Both engines see the same machine layout (see layout below): a 64 KiB data window that holds
// every memory operand and the stack, code in its own area, exception stubs elsewhere.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace lift86::diff {

enum class Mode : uint8_t { Real16, Prot32 };
inline const char* mode_name(Mode m) { return m == Mode::Real16 ? "real16" : "prot32"; }

// ---------------------------------------------------------------- machine layout (linear addresses)
namespace layout {
constexpr uint32_t kWindowSize = 0x10000;
// Real mode: DS=ES=SS=FS=GS=0x1000 (the window), CS=0x2000 (code). IVT at 0.
constexpr uint16_t kRealDataSeg = 0x1000, kRealCodeSeg = 0x2000;
// 32-bit flat protected mode: the window is at linear 0 so that 0x67-prefixed 16-bit addressing
// also lands in it.
constexpr uint32_t kWindowReal = 0x10000, kWindowProt = 0x0;
constexpr uint32_t kCode = 0x20000;
constexpr uint32_t kCodeMax = 0x8000;        // bytes of code a sequence may take
constexpr uint32_t kStubs = 0x30000;         // lift86 only: one HLT per vector 0..255
constexpr uint32_t kIdt = 0x30800, kGdt = 0x31000;
constexpr uint32_t kMemSize = 0x40000;       // RAM on both sides
// Data segments have different bases inside the window, so that an instruction using the wrong
// segment (default or override) reads or writes the wrong bytes: base offsets from the window
// start, by SegReg (ES, CS, SS, DS, FS, GS). Real mode: selector = 0x1000 + offset / 16.
constexpr uint32_t kSegOff[6] = {0x100, 0, 0x80, 0, 0x200, 0x300};
// Offsets in a segment that memory operands may touch (margins for string ops, BT offsets,
// CMPXCHG8B, pushes, and the largest segment offset above).
constexpr uint32_t kSafeLo = 0x0200, kSafeHi = 0xFC00;
// The stack pointer stays inside [kStackLo, kStackHi] (offsets in the window).
constexpr uint32_t kStackLo = 0x7000, kStackHi = 0xE000;
inline uint32_t window(Mode m) { return m == Mode::Real16 ? kWindowReal : kWindowProt; }
inline uint32_t code_eip(Mode m) { return m == Mode::Real16 ? 0 : kCode; }   // EIP of code offset 0
}  // namespace layout

// EFLAGS status bits (SDM vol.1 3.4.3.1), the only ones that can be undefined.
namespace flagbits {
constexpr uint16_t C = 1u << 0, P = 1u << 2, A = 1u << 4, Z = 1u << 6, S = 1u << 7, O = 1u << 11;
constexpr uint16_t ALL = C | P | A | Z | S | O;
}  // namespace flagbits
std::string flag_names(uint32_t mask);   // "CF PF ..." for reports

// One instruction of a sequence, as emitted.
struct GenInsn {
    uint32_t off = 0;        // offset in the unit (in Unit) or in the assembled code (in Sequence)
    uint8_t len = 0;
    int16_t form = -1;       // index into forms(); -1 for the trailing HLT
    bool setup = false;      // inserted to prepare operands (still executed and compared)
    uint16_t undef = 0;      // status flags this instruction leaves undefined (with its known count)
    uint16_t defd = 0;       // status flags it sets to defined values
};

struct Unit {
    std::vector<uint8_t> bytes;
    std::vector<GenInsn> insns;   // offsets relative to the unit
    int16_t main_form = -1;       // the tested instruction's form (for grouping mismatches)
};

struct InitState {
    uint32_t r[8] = {};
    uint32_t eflags = 2;
    std::vector<uint8_t> window;  // layout::kWindowSize bytes
};

struct Sequence {
    Mode mode = Mode::Real16;
    uint64_t seed = 0;
    bool faults_allowed = false;
    InitState init;
    std::vector<Unit> units;
    // Assembled from units (assemble()): code ends with HLT.
    std::vector<uint8_t> code;
    std::vector<GenInsn> insns;
    std::vector<int16_t> insn_at;   // code offset -> index into insns (-1 inside an instruction)
    uint32_t hlt_off = 0;
    uint32_t code_off = 0;          // where the code starts in the code area (may straddle a page)

    void assemble();
    // Status flags undefined after the instructions at `executed` (code offsets, in order).
    uint16_t undefined_after(const std::vector<uint32_t>& executed) const;
    std::string disassemble() const;   // Zydis, Intel syntax, one line per instruction
};

struct GenOptions {
    Mode mode = Mode::Real16;
    bool allow_faults = false;   // DIV/IDIV/AAM operands unconstrained: #DE may happen
    unsigned min_units = 1, max_units = 8;
    std::vector<std::string> favour;   // mnemonics half of the tested instructions are drawn from
    // (With allow_faults, the forms that raise exceptions by design are drawn too: INT n, INT3,
    // INTO, and BOUND with out-of-range indexes.)
};

Sequence generate(const GenOptions& opt, uint64_t seed);

// ---------------------------------------------------------------- the form table (read-only view)
enum class Kind : uint8_t {
    Plain,      // operands from the kinds alone
    Shift,      // group 2: flags depend on the count
    Shxd,       // SHLD/SHRD
    Div,        // DIV/IDIV: operands chosen so that no #DE happens (unless faults are allowed)
    Aam,        // AAM: immediate non-zero (unless faults are allowed)
    Bt,         // BT/BTS/BTR/BTC: register bit offsets into memory are kept small
    Bsf,        // BSF/BSR: the source is made non-zero first
    Lea,        // LEA: any address, no memory access
    Cmpxchg,    // CMPXCHG: half the time the accumulator equals the destination
    Cmpxchg8b,
    Jcc,        // conditional/unconditional jump forward over one instruction
    Loop,       // LOOP/LOOPE/LOOPNE/JCXZ forward over one instruction
    Push, Pop, Pusha, Popa, Pushf, Enter, Leave,
    Str,        // string instruction, with or without REP
    Xlat,
    Setcc, Cmovcc,
    Int,        // INT n / INT3 / INTO: a trap that ends the sequence (#DE campaigns only)
    Bound,      // BOUND: bounds in range, or (#DE campaigns) maybe not
};
enum class FlagRule : uint8_t { Fixed, Rot, Rcx, Sh, Sar, Shxd };

// Operand kinds, in the SDM vol.2 appendix A notation.
enum class Opd : uint8_t {
    None, Eb, Ev, Ew, Gb, Gv, M, Mq, Ib, Iw, Iz, Ibs, One, CL, AL, rAX, Zb, Zv, Zd, Jb, Jz, Ob, Ov,
};

struct Form {
    std::string name;       // "add Ev,Gv"
    std::string mnem;       // "add"
    uint8_t opc[3] = {};    // opcode bytes (the last one gets +r / +cc when the form says so)
    uint8_t nopc = 0;
    int8_t ext = -1;        // ModRM.reg digit (/0../7); -1: /r or no ModRM
    Opd ops[3] = {};
    uint8_t nops = 0;
    uint16_t undef = 0, defd = 0, reads = 0;   // status flags (flagbits)
    FlagRule rule = FlagRule::Fixed;
    Kind kind = Kind::Plain;
    uint16_t attr = 0;      // fattr:: below
    uint8_t imp_w = 0;      // implicitly written GPRs (bit per register)
    uint8_t width = 0;      // fixed operand width in bytes (string/implicit forms: 1, or 0 = osize)
};
namespace fattr {
constexpr uint16_t RO = 1 << 0;        // the first operand is only read (CMP, TEST, BT)
constexpr uint16_t XW = 1 << 1;        // both operands written (XCHG, XADD)
constexpr uint16_t LOCK = 1 << 2;      // LOCK is allowed with a memory destination
constexpr uint16_t MEMONLY = 1 << 3;   // the E operand must be memory
constexpr uint16_t REGONLY = 1 << 4;
constexpr uint16_t ONLY32 = 1 << 5;    // operand size 32 only (BSWAP: 16-bit form undefined)
constexpr uint16_t CC = 1 << 6;        // condition code added to the last opcode byte
constexpr uint16_t PLUSR = 1 << 7;     // register added to the last opcode byte
constexpr uint16_t NOBODY = 1 << 8;    // may not be the skipped body of a jump
constexpr uint16_t REP = 1 << 9;       // REP (F3) allowed
constexpr uint16_t REPCC = 1 << 10;    // REPE/REPNE allowed (CMPS/SCAS)
constexpr uint16_t SETUP = 1 << 11;    // used by the generator for setups; not drawn at random
constexpr uint16_t FAULTS = 1 << 12;   // only drawn when exceptions are allowed
}  // namespace fattr

const std::vector<Form>& forms();
int form_index(const std::string& name);   // -1 if unknown

}  // namespace lift86::diff
