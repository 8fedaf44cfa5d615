// Architectural state of the guest x86 CPU (P6 class, 32-bit). Plain data: the interpreter,
// the translator, the GDB stub and the tests all read and write it directly.
#pragma once
#include <cstdint>

#include "frontend/x87/fpu_state.hpp"

namespace lift86 {

enum Gpr : uint8_t { EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI };
// Segment registers in the encoding order of the Intel SDM (ModRM.reg of MOV Sreg).
enum SegReg : uint8_t { ES, CS, SS, DS, FS, GS, kNumSegs, LDTR = kNumSegs, TR, SEG_NONE = 0xFF };

namespace fl {   // EFLAGS bits (SDM vol.1 3.4.3)
constexpr uint32_t CF = 1u << 0, PF = 1u << 2, AF = 1u << 4, ZF = 1u << 6, SF = 1u << 7, TF = 1u << 8,
                   IF = 1u << 9, DF = 1u << 10, OF = 1u << 11, IOPL = 3u << 12, NT = 1u << 14,
                   RF = 1u << 16, VM = 1u << 17, AC = 1u << 18, VIF = 1u << 19, VIP = 1u << 20,
                   ID = 1u << 21;
constexpr uint32_t ARITH = CF | PF | AF | ZF | SF | OF;
constexpr uint32_t FIXED1 = 1u << 1;   // bit 1 always reads as 1
}  // namespace fl

namespace cr0 {
constexpr uint32_t PE = 1u << 0, MP = 1u << 1, EM = 1u << 2, TS = 1u << 3, ET = 1u << 4, NE = 1u << 5,
                   WP = 1u << 16, AM = 1u << 18, NW = 1u << 29, CD = 1u << 30, PG = 1u << 31;
}
namespace cr4 {
constexpr uint32_t VME = 1u << 0, PVI = 1u << 1, TSD = 1u << 2, DE = 1u << 3, PSE = 1u << 4, PAE = 1u << 5,
                   MCE = 1u << 6, PGE = 1u << 7, PCE = 1u << 8, OSFXSR = 1u << 9;
}

// Descriptor attribute bits as kept in Segment::attr: bits 8..23 of a descriptor's high dword
// shifted down by 8 (SDM vol.3 3.4.5): type(0-3) S(4) DPL(5-6) P(7) AVL(12) L(13) D/B(14) G(15).
namespace attr {
constexpr uint32_t ACCESSED = 1u << 0, RW = 1u << 1, DC = 1u << 2, CODE = 1u << 3, S = 1u << 4,
                   P = 1u << 7, DB = 1u << 14, G = 1u << 15;
inline unsigned dpl(uint32_t a) { return (a >> 5) & 3; }
}  // namespace attr

// A segment register with its hidden descriptor cache, plus the offset range accesses are
// checked against (precomputed when the register is loaded, so the hot path is two compares).
struct Segment {
    uint16_t sel = 0;
    uint32_t base = 0;
    uint32_t limit = 0xFFFF;      // byte-granular effective limit
    uint32_t attr = attr::P | attr::S | attr::RW;
    // Derived: valid offsets are [lo, hi] (hi inclusive); readable / writable for data access.
    uint32_t lo = 0, hi = 0xFFFF;
    bool readable = true, writable = true;
    // The same checks folded for the hot path (Cpu::check_seg): an access of n bytes at `off` is
    // allowed when uint32_t(off - lo) + n - 1 <= rspan (reads) or wspan (writes), compared as
    // signed 64-bit; hi - lo when allowed at all, -1 when never (not readable/writable, empty).
    int64_t rspan = 0xFFFF, wspan = 0xFFFF;
    bool null = false;            // protected-mode null selector: any access is #GP(0)
};

struct DescTable {
    uint32_t base = 0;
    uint32_t limit = 0xFFFF;
};

// Flags are lazy in the interpreter (DESIGN.md decision 3): arithmetic records what it did and
// the six status flags are computed when something reads them.
enum class LazyOp : uint8_t { None, Add, Adc, Sub, Sbb, Logic, Inc, Dec };

struct LazyFlags {
    LazyOp op = LazyOp::None;
    uint8_t bits = 32;     // operand size in bits
    uint32_t res = 0, a = 0, b = 0;
    uint32_t carry = 0;    // ADC/SBB carry-in; INC/DEC: the CF that stays
};

struct CpuState {
    uint32_t r[8] = {};
    uint32_t eip = 0xFFF0;
    uint32_t eflags = fl::FIXED1;   // non-arithmetic bits always; arithmetic bits when lazy.op == None
    LazyFlags lazy;
    Segment seg[kNumSegs];
    Segment ldtr, tr;
    DescTable gdtr, idtr;
    uint32_t cr0 = cr0::ET | cr0::CD | cr0::NW, cr2 = 0, cr3 = 0, cr4 = 0;
    uint32_t dr[8] = {0, 0, 0, 0, 0, 0, 0xFFFF0FF0u, 0x400};
    x87::FpuState fpu;
    // Model-specific registers that software uses (SDM vol.4 table 2-2 for the P6 family).
    uint32_t sysenter_cs = 0, sysenter_esp = 0, sysenter_eip = 0;
    uint64_t tsc_offset = 0;
    uint64_t apic_base = 0xFEE00900;
    uint64_t mtrr_def_type = 0, pat = 0x0007040600070406ull;
    uint64_t misc_enable = 1;
    uint64_t mtrr_fixed[11] = {};
    uint64_t mtrr_var[16] = {};
    // Machine-check architecture (frontend/interp_system.cpp): global status/control and the
    // control register of each of the P6's 5 banks (their status registers always read 0).
    uint64_t mcg_status = 0, mcg_ctl = 0;
    uint64_t mc_ctl[5] = {};
    // P6 performance counters (frontend/interp_system.cpp): PerfEvtSel0/1, and each counter's
    // value at its last write or configuration change with the event count at that moment.
    uint64_t perf_evtsel[2] = {};
    uint64_t perf_base[2] = {}, perf_ref[2] = {};
    bool halted = false;
};

}  // namespace lift86
