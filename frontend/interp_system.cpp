// System and miscellaneous instructions of the P6: port I/O, descriptor-table registers,
// LDTR/TR, the machine status word, control and debug registers, segment probes (LAR, LSL,
// VERR, VERW, ARPL), TLB and cache control, CPUID, the time-stamp counter, model-specific
// registers and SYSENTER/SYSEXIT. Each follows its page in the Intel SDM vol.2; the MSRs follow
// SDM vol.4 (MSRs of the P6 family) and vol.3 chapter 11 (MTRRs).
//
// The CPU modelled is a Pentium II (family 6, model 3, stepping 3) without MMX, local APIC,
// machine-check architecture, PAE or PAT: CPUID advertises exactly what lift86 implements, and
// the CR4 bits and MSRs of the missing features do not exist.
#include "frontend/interp.hpp"
#include "frontend/protmode.hpp"

namespace lift86 {
namespace {

// ---------------------------------------------------------------- common checks
// Privileged instructions: #GP(0) unless CPL 0. Real mode runs at CPL 0; V86 mode at CPL 3.
inline void require_cpl0(Cpu& c) {
    if (c.pe && c.cpl != 0) c.fault(kGP, 0);
}
// Instructions that are "not recognized in real-address mode" nor in virtual-8086 mode: #UD.
inline void require_protected(Cpu& c) {
    if (!c.pe || c.vm86) c.fault(kUD);
}
inline void set_zf(Cpu& c, bool z) { c.set_flags_eager(fl::ZF, z ? fl::ZF : 0); }
// Offset of the n-th byte after `off` in the address size of the instruction (16-bit addresses
// wrap at 64 KiB).
inline uint32_t next_off(const Insn& i, uint32_t off, uint32_t n) {
    return i.a32() ? off + n : (off + n) & 0xFFFF;
}

using pm::Descriptor;
using pm::sel_error;

// Reads the descriptor a LAR/LSL/VERR/VERW operand names without faulting for bad selectors:
// false for a null selector, an LDT selector while LDTR is invalid, or an index beyond the
// table limit (all give ZF=0 in these instructions).
bool probe_descriptor(Cpu& c, uint16_t sel, Descriptor& d) {
    return !pm::is_null(sel) && c.read_descriptor(sel, d.lo, d.hi);
}
// The privilege rule shared by LAR, LSL and VERR/VERW: unless the segment is conforming code,
// its DPL must be at least CPL and the selector's RPL.
bool probe_privilege_ok(const Cpu& c, uint16_t sel, const Descriptor& d) {
    if (d.conforming()) return true;
    return d.dpl() >= c.cpl && d.dpl() >= unsigned(sel & 3);
}

// ---------------------------------------------------------------- IN / OUT
// Port access goes through Cpu::port_in/port_out, which apply the IOPL and TSS I/O-permission
// bitmap checks (SDM vol.1 19.5) before the bus sees the access.
template <class T, bool DX> void h_in(Cpu& c, const Insn& i) {
    uint16_t port = DX ? c.r16(EDX) : uint16_t(i.imm & 0xFF);
    c.set_reg<T>(EAX, T(c.port_in(port, sizeof(T))));
}
template <class T, bool DX> void h_out(Cpu& c, const Insn& i) {
    uint16_t port = DX ? c.r16(EDX) : uint16_t(i.imm & 0xFF);
    c.port_out(port, c.reg<T>(EAX), sizeof(T));
    // A write can raise or unmask an interrupt (PIC EOI, IMR) or remap memory (A20): end the
    // block so the run loop sees it at the next instruction boundary, as the hardware would.
    c.stop_block = true;
}
template <bool IN> Handler pick_io(unsigned size, bool dx) {
    if (IN) {
        if (size == 1) return dx ? h_in<uint8_t, true> : h_in<uint8_t, false>;
        if (size == 2) return dx ? h_in<uint16_t, true> : h_in<uint16_t, false>;
        return dx ? h_in<uint32_t, true> : h_in<uint32_t, false>;
    }
    if (size == 1) return dx ? h_out<uint8_t, true> : h_out<uint8_t, false>;
    if (size == 2) return dx ? h_out<uint16_t, true> : h_out<uint16_t, false>;
    return dx ? h_out<uint32_t, true> : h_out<uint32_t, false>;
}

// ---------------------------------------------------------------- GDTR / IDTR
// LGDT/LIDT m16&32 (SDM vol.2 LGDT): privileged. With a 16-bit operand size only 24 bits of
// base are loaded and the top byte of the register is cleared.
template <bool IDT> void h_load_dtr(Cpu& c, const Insn& i) {
    require_cpl0(c);
    uint32_t off = c.ea(i);
    uint16_t limit = c.read<uint16_t>(i.seg, off);
    uint32_t base = c.read<uint32_t>(i.seg, next_off(i, off, 2));
    if (!i.o32()) base &= 0x00FFFFFF;
    DescTable& t = IDT ? c.idtr : c.gdtr;
    t.base = base;
    t.limit = limit;
}
// SGDT/SIDT m (SDM vol.2 SGDT): not privileged on the P6 (no UMIP). The SDM's operation
// stores the limit and the full 32-bit base for both operand sizes ("Full 32-bit base address
// stored"); the 286 wrote 0xFF into the top byte, later processors the register's own byte.
template <bool IDT> void h_store_dtr(Cpu& c, const Insn& i) {
    const DescTable& t = IDT ? c.idtr : c.gdtr;
    uint32_t off = c.ea(i);
    // Both writes are checked before either lands so a fault leaves memory untouched.
    c.check_seg(i.seg, off, 2, true);
    c.check_seg(i.seg, next_off(i, off, 2), 4, true);
    c.write<uint16_t>(i.seg, off, uint16_t(t.limit));
    c.write<uint32_t>(i.seg, next_off(i, off, 2), t.base);
}

// ---------------------------------------------------------------- LDTR / TR
// LLDT r/m16 (SDM vol.2 LLDT). A null selector marks LDTR invalid without a fault.
template <bool MEM> void h_lldt(Cpu& c, const Insn& i) {
    require_protected(c);
    require_cpl0(c);
    uint16_t sel = load_rm<uint16_t, MEM>(c, i);
    if (pm::is_null(sel)) {
        c.ldtr.sel = sel;
        c.ldtr.base = 0;
        c.ldtr.limit = 0;   // no descriptor is inside an invalid LDT
        c.ldtr.null = true;
        return;
    }
    Descriptor d;
    if (sel & 4) c.fault(kGP, sel_error(sel));   // the LDT's descriptor lives in the GDT
    if (!c.read_descriptor(sel, d.lo, d.hi)) c.fault(kGP, sel_error(sel));
    if (!d.is_system(pm::kLdt)) c.fault(kGP, sel_error(sel));
    if (!d.present()) c.fault(kNP, sel_error(sel));
    c.set_seg_cache(c.ldtr, sel, d.base(), d.limit(), d.attr());
}

// LTR r/m16 (SDM vol.2 LTR): only an available TSS (type 1 or 9); the descriptor is marked busy.
template <bool MEM> void h_ltr(Cpu& c, const Insn& i) {
    require_protected(c);
    require_cpl0(c);
    uint16_t sel = load_rm<uint16_t, MEM>(c, i);
    if (pm::is_null(sel)) c.fault(kGP, 0);
    if (sel & 4) c.fault(kGP, sel_error(sel));
    Descriptor d;
    if (!c.read_descriptor(sel, d.lo, d.hi)) c.fault(kGP, sel_error(sel));
    if (!d.is_system(pm::kTss16) && !d.is_system(pm::kTss32)) c.fault(kGP, sel_error(sel));
    if (!d.present()) c.fault(kNP, sel_error(sel));
    d.hi |= pm::kTssBusyBit;   // available -> busy
    c.write_descriptor_hi(sel, d.hi);
    c.set_seg_cache(c.tr, sel, d.base(), d.limit(), d.attr());
}

// SLDT/STR r/m16 (SDM vol.2 SLDT, STR): not recognised in real or V86 mode. A 32-bit register
// destination gets the selector zero-extended on the P6; memory is always written as 16 bits.
template <bool MEM, bool TR_> void h_store_sysseg(Cpu& c, const Insn& i) {
    require_protected(c);
    uint16_t sel = TR_ ? c.tr.sel : c.ldtr.sel;
    if constexpr (MEM) c.write<uint16_t>(i.seg, c.ea(i), sel);
    else if (i.op == 4) c.r[i.rm] = sel;
    else c.r16(i.rm) = sel;
}

// ---------------------------------------------------------------- MSW, CLTS
// SMSW r/m (SDM vol.2 SMSW): not privileged. Memory gets CR0[15:0]; a 32-bit register gets
// the whole of CR0 (the SDM leaves its top half undefined; P6 and later hardware store CR0).
template <bool MEM> void h_smsw(Cpu& c, const Insn& i) {
    if constexpr (MEM) c.write<uint16_t>(i.seg, c.ea(i), uint16_t(c.cr0));
    else if (i.op == 4) c.r[i.rm] = c.cr0;
    else c.r16(i.rm) = uint16_t(c.cr0);
}
// LMSW r/m16 (SDM vol.2 LMSW): loads PE, MP, EM and TS only, and can set PE but never clear it.
template <bool MEM> void h_lmsw(Cpu& c, const Insn& i) {
    require_cpl0(c);
    uint16_t msw = load_rm<uint16_t, MEM>(c, i);
    constexpr uint32_t m = cr0::PE | cr0::MP | cr0::EM | cr0::TS;
    uint32_t v = (c.cr0 & ~m) | (msw & m) | (c.cr0 & cr0::PE);
    c.set_cr0(v);
}
void h_clts(Cpu& c, const Insn&) {
    require_cpl0(c);
    c.cr0 &= ~cr0::TS;
}

// ---------------------------------------------------------------- ARPL, LAR, LSL, VERR, VERW
// ARPL r/m16, r16 (SDM vol.2 ARPL): #UD in real and V86 mode.
template <bool MEM> void h_arpl(Cpu& c, const Insn& i) {
    require_protected(c);
    uint16_t src = c.r16(i.reg);
    uint32_t off = MEM ? c.ea(i) : 0;
    if constexpr (MEM) c.check_seg(i.seg, off, 2, true);   // a read-modify-write operand
    uint16_t dst = MEM ? c.read<uint16_t>(i.seg, off) : c.r16(i.rm);
    if ((dst & 3) < (src & 3)) {
        dst = uint16_t((dst & ~3) | (src & 3));
        if constexpr (MEM) c.write<uint16_t>(i.seg, off, dst);
        else c.r16(i.rm) = dst;
        set_zf(c, true);
    } else {
        set_zf(c, false);
    }
}

inline uint16_t probe_selector(Cpu& c, const Insn& i) {
    return i.mem() ? c.read<uint16_t>(i.seg, c.ea(i)) : c.r16(i.rm);
}

// LAR r, r/m16 (SDM vol.2 LAR, table "Segment and Gate Types"): every code and data segment, and
// of the system types the TSSs (1, 3, 9, B), LDT (2), call gates (4, C) and task gate (5).
bool lar_type_ok(const Descriptor& d) {
    if (d.is_segment()) return true;
    switch (d.type()) {
    case 1: case 2: case 3: case 4: case 5: case 9: case 0xB: case 0xC: return true;
    default: return false;
    }
}
// LSL: segments only: code, data, TSSs and the LDT (no gates).
bool lsl_type_ok(const Descriptor& d) {
    if (d.is_segment()) return true;
    switch (d.type()) {
    case 1: case 2: case 3: case 9: case 0xB: return true;
    default: return false;
    }
}

template <class T> void h_lar(Cpu& c, const Insn& i) {
    require_protected(c);
    uint16_t sel = probe_selector(c, i);
    Descriptor d;
    if (!probe_descriptor(c, sel, d) || !lar_type_ok(d) || !probe_privilege_ok(c, sel, d)) {
        set_zf(c, false);
        return;
    }
    // The second dword masked with 00FxFF00H; bits 19:16 ("x") are undefined and read as 0 here.
    c.set_reg<T>(i.reg, T(d.hi & 0x00F0FF00u));
    set_zf(c, true);
}
template <class T> void h_lsl(Cpu& c, const Insn& i) {
    require_protected(c);
    uint16_t sel = probe_selector(c, i);
    Descriptor d;
    if (!probe_descriptor(c, sel, d) || !lsl_type_ok(d) || !probe_privilege_ok(c, sel, d)) {
        set_zf(c, false);
        return;
    }
    c.set_reg<T>(i.reg, T(d.limit()));   // the byte-granular limit, truncated to 16 bits if T is
    set_zf(c, true);
}
// VERR/VERW r/m16 (SDM vol.2 VERR): readable code/data resp. writable data, with the LAR
// privilege rule (conforming code exempt); system descriptors are never accessible.
template <bool WRITE> void h_verify(Cpu& c, const Insn& i) {
    require_protected(c);
    uint16_t sel = probe_selector(c, i);
    Descriptor d;
    bool ok = probe_descriptor(c, sel, d) && d.is_segment() && probe_privilege_ok(c, sel, d);
    if (ok) {
        if (WRITE) ok = !d.is_code() && (d.type() & 2);
        else ok = !d.is_code() || (d.type() & 2);
    }
    set_zf(c, ok);
}

// ---------------------------------------------------------------- TLB and caches
// INVLPG m (SDM vol.2 INVLPG): privileged; the operand's linear address is invalidated without
// any segment limit check. The code after it may now translate differently: end the block.
void h_invlpg(Cpu& c, const Insn& i) {
    require_cpl0(c);
    c.tlb.flush_page(c.seg[i.seg].base + c.ea(i));
    c.stop_block = true;
}
// INVD/WBINVD: privileged; lift86 has no caches to write back or drop.
void h_cache_ctl(Cpu& c, const Insn&) { require_cpl0(c); }

// ---------------------------------------------------------------- control registers
// MOV r32, CRn / MOV CRn, r32 (SDM vol.2 MOV-2): privileged in protected and V86 mode, always
// 32-bit register operands (ModRM.mod is ignored). CR1, CR5-7 are #UD (not bound).
void h_mov_from_cr(Cpu& c, const Insn& i) {
    require_cpl0(c);
    uint32_t v = 0;
    switch (i.reg) {
    case 0: v = c.cr0; break;
    case 2: v = c.cr2; break;
    case 3: v = c.cr3; break;
    case 4: v = c.cr4; break;
    }
    c.r[i.rm] = v;
}
void h_mov_to_cr(Cpu& c, const Insn& i) {
    require_cpl0(c);
    uint32_t v = c.r[i.rm];
    switch (i.reg) {
    case 0: c.set_cr0(v); break;
    case 2: c.cr2 = v; break;
    case 3: c.set_cr3(v); break;
    case 4: c.set_cr4(v); break;
    }
    c.stop_block = true;   // serializing (SDM vol.3 9.9.1): later instructions see the new state
}

// ---------------------------------------------------------------- debug registers
// MOV r32, DRn / MOV DRn, r32 (SDM vol.2 MOV-3, vol.3 17.2). DR4/DR5 are aliases of DR6/DR7
// unless CR4.DE, when they are #UD. With DR7.GD set any access is a #DB fault with DR6.BD set;
// the processor clears GD on entering the handler so the handler can use the registers.
constexpr uint32_t kDr6Fixed = 0xFFFF0FF0u, kDr6Writable = 0x0000E00Fu;
constexpr uint32_t kDr7Fixed = 0x00000400u, kDr7Writable = 0xFFFF23FFu;
constexpr uint32_t kDr6BD = 1u << 13, kDr7GD = 1u << 13;

unsigned debug_reg_index(Cpu& c, unsigned n) {
    require_cpl0(c);
    if (n == 4 || n == 5) {
        if (c.cr4 & cr4::DE) c.fault(kUD);
        n += 2;
    }
    if (c.dr[7] & kDr7GD) {
        c.dr[6] |= kDr6BD;
        c.dr[7] &= ~kDr7GD;
        c.fault(kDB);
    }
    return n;
}
void h_mov_from_dr(Cpu& c, const Insn& i) {
    unsigned n = debug_reg_index(c, i.reg);
    c.r[i.rm] = c.dr[n];
}
void h_mov_to_dr(Cpu& c, const Insn& i) {
    unsigned n = debug_reg_index(c, i.reg);
    uint32_t v = c.r[i.rm];
    if (n == 6) v = (v & kDr6Writable) | kDr6Fixed;
    else if (n == 7) v = (v & kDr7Writable) | kDr7Fixed;
    c.dr[n] = v;
}

// ---------------------------------------------------------------- CPUID
// A Pentium II "Klamath" (SDM vol.2 CPUID) with only the features lift86 implements:
//   FPU  (bit 0)  x87
//   DE   (bit 2)  CR4.DE: DR4/DR5 #UD. (Breakpoints set in DR0-3/DR7, I/O ones included, are
//                 stored but nothing fires them yet: a gap of the debug registers as a whole.)
//   PSE  (bit 3)  4 MiB pages (frontend/mmu.cpp)
//   TSC  (bit 4)  RDTSC, CR4.TSD
//   MSR  (bit 5)  RDMSR/WRMSR
//   CX8  (bit 8)  CMPXCHG8B
//   SEP  (bit 11) SYSENTER/SYSEXIT (model 3 stepping 3 is past the Pentium Pro erratum, so
//                 software takes the bit at its word)
//   MTRR (bit 12) MTRRcap/def type/fixed/variable MSRs (stored; memory types have no effect)
//   PGE  (bit 13) CR4.PGE (frontend/control_regs.cpp: the TLB may always drop global entries)
//   CMOV (bit 15) CMOVcc, and with the FPU FCMOVcc/FCOMI (frontend/x87)
//   MCE  (bit 7)  CR4.MCE and the machine-check exception (#MC, vector 18)
//   MCA  (bit 14) the machine-check MSRs: MCG_CAP/STATUS/CTL and 5 banks (see below). An
//                 emulated machine never has a hardware error to report, so the banks' status
//                 registers read 0 and #MC is never raised; OSes that read and clear them at
//                 boot (Linux does) find the architecture a P6 has.
//   FXSR (bit 24) FXSAVE/FXRSTOR (frontend/x87) and CR4.OSFXSR. The first Pentium II lacked it;
//                 lift86 implements it, and without SSE nothing else depends on it.
// Left out, because they are not implemented: VME (1), PAE (6), APIC (9), PAT (16), PSE-36 (17),
// MMX (23), SSE (25).
constexpr uint32_t kFeatEdx = (1u << 0) | (1u << 2) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 7) | (1u << 8) |
                              (1u << 11) | (1u << 12) | (1u << 13) | (1u << 14) | (1u << 15) | (1u << 24);
constexpr uint32_t kSignature = 0x00000633;   // family 6, model 3, stepping 3
constexpr uint32_t kMaxBasicLeaf = 2;

struct CpuidRegs { uint32_t a, b, c, d; };

CpuidRegs cpuid_leaf(uint32_t leaf) {
    // "If a value entered for CPUID.EAX is higher than the maximum input value for basic or
    // extended function for that processor then the data for the highest basic information
    // leaf is returned" (SDM vol.2 CPUID). The P6 has no extended leaves, so 80000000H returns
    // leaf 2 too, whose EAX does not look like 8000xxxxH: software sees no extended leaves.
    if (leaf > kMaxBasicLeaf) leaf = kMaxBasicLeaf;
    switch (leaf) {
    case 0: return {kMaxBasicLeaf, 0x756E6547, 0x6C65746E, 0x49656E69};   // "Genu" "ntel" "ineI"
    case 1: return {kSignature, 0, 0, kFeatEdx};
    default:
        // Cache and TLB descriptors of the Pentium II (SDM vol.2 table 3-12): AL=1 (one call);
        // 01h ITLB 4K, 02h ITLB 4M, 03h DTLB 4K; 43h 512K L2, 08h 16K L1I, 04h DTLB 4M, 0Ch 16K L1D.
        return {0x03020101, 0, 0, 0x0C040843};
    }
}
void h_cpuid(Cpu& c, const Insn&) {
    CpuidRegs r = cpuid_leaf(c.r[EAX]);
    c.r[EAX] = r.a;
    c.r[EBX] = r.b;
    c.r[ECX] = r.c;
    c.r[EDX] = r.d;
}

// ---------------------------------------------------------------- TSC
// The time-stamp counter counts guest nanoseconds of the machine clock (a 1 GHz part), plus the
// offset WRMSR to IA32_TIME_STAMP_COUNTER sets. Without a clock (unit tests of the bare CPU) it
// counts retired instructions. Either source is monotonic.
uint64_t tsc_base(Cpu& c) { return c.time_ns ? c.time_ns() : c.icount; }
uint64_t tsc_now(Cpu& c) { return tsc_base(c) + c.tsc_offset; }

// RDTSC (SDM vol.2 RDTSC): #GP(0) when CR4.TSD is set and CPL > 0 (V86 runs at CPL 3).
void h_rdtsc(Cpu& c, const Insn&) {
    if ((c.cr4 & cr4::TSD) && c.pe && c.cpl != 0) c.fault(kGP, 0);
    uint64_t t = tsc_now(c);
    c.r[EAX] = uint32_t(t);
    c.r[EDX] = uint32_t(t >> 32);
}

// ---------------------------------------------------------------- performance counters
// The P6's two 40-bit counters (SDM vol.3 19.6.8 / 20.6.3 "P6 family performance-monitoring
// counters"): PerfEvtSel0/1 (0x186/0x187: event 7:0, unit mask 15:8, USR 16, OS 17, E 18, PC 19,
// INT 20, EN 22 -- in PerfEvtSel0 only, it starts and stops both -- INV 23, CMASK 31:24) and
// PerfCtr0/1 (0xC1/0xC2: a write sets the low 32 bits sign-extended to 40).
// lift86 counts, exactly, the events its virtual CPU has: 0xC0 INST_RETIRED and 0x79
// CPU_CLK_UNHALTED (it retires one instruction per cycle of its 1 GHz clock, the TSC's),
// split by privilege with USR/OS. A counter set to any other event holds its value. Overflow
// interrupts (INT) would go through the local APIC, which this CPU does not have.
namespace perf {
constexpr uint32_t kEvtSel0 = 0x186, kCtr0 = 0xC1;
constexpr uint64_t kUsr = 1u << 16, kOs = 1u << 17, kEn = 1u << 22;
constexpr uint64_t kWidthMask = (uint64_t(1) << 40) - 1;
constexpr uint8_t kInstRetired = 0xC0, kClkUnhalted = 0x79;
}  // namespace perf

// The running count of the event counter k is programmed with (0 when it counts nothing).
uint64_t perf_events(const Cpu& c, unsigned k) {
    const uint64_t sel = c.perf_evtsel[k];
    const uint8_t event = uint8_t(sel);
    if (!(c.perf_evtsel[0] & perf::kEn) || (event != perf::kInstRetired && event != perf::kClkUnhalted)) return 0;
    const uint64_t os = c.insns_os();
    return ((sel & perf::kOs) ? os : 0) + ((sel & perf::kUsr) ? c.icount - os : 0);
}
uint64_t perf_counter(const Cpu& c, unsigned k) {
    return (c.perf_base[k] + perf_events(c, k) - c.perf_ref[k]) & perf::kWidthMask;
}
// Before counter k's configuration or value changes: freeze what it has counted so far.
void perf_fold(Cpu& c, unsigned k) {
    c.perf_base[k] = perf_counter(c, k);
}
// After: count from here.
void perf_rearm(Cpu& c, unsigned k) {
    c.perf_ref[k] = perf_events(c, k);
}

// RDPMC (SDM vol.2 RDPMC): allowed at CPL 0 or with CR4.PCE; the P6 has counters 0 and 1 and
// any other ECX is #GP(0).
void h_rdpmc(Cpu& c, const Insn&) {
    if (!(c.cr4 & cr4::PCE) && c.pe && c.cpl != 0) c.fault(kGP, 0);
    if (c.r[ECX] > 1) c.fault(kGP, 0);
    const uint64_t v = perf_counter(c, c.r[ECX]);
    c.r[EAX] = uint32_t(v);
    c.r[EDX] = uint32_t(v >> 32);
}

// ---------------------------------------------------------------- MSRs
// The MSRs of the P6 family (SDM vol.4) that an operating system on this CPU can meet. Any other
// index is #GP(0), as on hardware; notably IA32_APIC_BASE (no APIC), IA32_MISC_ENABLE (Pentium 4
// and later) and PAT.
namespace msr {
constexpr uint32_t TSC = 0x10, PLATFORM_ID = 0x17, BIOS_UPDT_TRIG = 0x79, BIOS_SIGN_ID = 0x8B,
                   MTRRCAP = 0xFE, SYSENTER_CS = 0x174, SYSENTER_ESP = 0x175, SYSENTER_EIP = 0x176,
                   MTRR_PHYS_FIRST = 0x200, MTRR_PHYS_LAST = 0x20F, MTRR_FIX64K = 0x250,
                   MTRR_FIX16K_80000 = 0x258, MTRR_FIX16K_A0000 = 0x259, MTRR_FIX4K_FIRST = 0x268,
                   MTRR_FIX4K_LAST = 0x26F, MTRR_DEF_TYPE = 0x2FF,
                   MCG_CAP = 0x179, MCG_STATUS = 0x17A, MCG_CTL = 0x17B, MC_FIRST = 0x400;
}  // namespace msr

// Machine-check banks (SDM vol.3 16.3): the P6 has 5, each CTL/STATUS/ADDR/MISC from 0x400
// (the P6 swaps the numbering of banks 3 and 4, which is invisible here: all banks are alike).
// MCG_CAP: bank count, MCG_CTL_P (bit 8). P6 rules (SDM vol.3 16.3.2.2-4): only 0 may be written
// to MCi_STATUS and MCi_ADDR, and MCi_MISC is not implemented (#GP).
constexpr unsigned kMcBanks = 5;
constexpr uint64_t kMcgCap = kMcBanks | (1u << 8);
constexpr uint64_t kMcgStatusBits = 0x7;   // RIPV, EIPV, MCIP
enum McReg : unsigned { kMcCtl, kMcStatus, kMcAddr, kMcMisc };
// The bank register `idx` names, or false when it is not one.
bool mc_bank_reg(uint32_t idx, unsigned& bank, McReg& reg) {
    if (idx < msr::MC_FIRST || idx >= msr::MC_FIRST + 4 * kMcBanks) return false;
    bank = (idx - msr::MC_FIRST) / 4;
    reg = McReg((idx - msr::MC_FIRST) % 4);
    return true;
}

// MTRRcap: 8 variable ranges, fixed ranges supported (FIX, bit 8), write-combining (WC, bit 10).
constexpr uint64_t kMtrrCap = 0x508;
// The P6's physical address width is 36 bits: MTRR base/mask bits 63:36 are reserved.
constexpr uint64_t kPhysAddrMask = (uint64_t(1) << 36) - 1;

// Memory types an MTRR may hold: UC 0, WC 1, WT 4, WP 5, WB 6 (SDM vol.3 11.11.1).
bool valid_mem_type(uint64_t t) { return t == 0 || t == 1 || t == 4 || t == 5 || t == 6; }

// Index into CpuState::mtrr_fixed, or -1.
int fixed_mtrr_index(uint32_t idx) {
    if (idx == msr::MTRR_FIX64K) return 0;
    if (idx == msr::MTRR_FIX16K_80000) return 1;
    if (idx == msr::MTRR_FIX16K_A0000) return 2;
    if (idx >= msr::MTRR_FIX4K_FIRST && idx <= msr::MTRR_FIX4K_LAST) return int(3 + idx - msr::MTRR_FIX4K_FIRST);
    return -1;
}

bool read_msr(Cpu& c, uint32_t idx, uint64_t& v) {
    switch (idx) {
    case msr::TSC: v = tsc_now(c); return true;
    case msr::PLATFORM_ID: v = 0; return true;        // platform 0 in bits 52:50
    case msr::BIOS_SIGN_ID: v = 0; return true;       // microcode revision 0 in bits 63:32: none loaded
    case msr::MTRRCAP: v = kMtrrCap; return true;
    case msr::SYSENTER_CS: v = c.sysenter_cs; return true;
    case msr::SYSENTER_ESP: v = c.sysenter_esp; return true;
    case msr::SYSENTER_EIP: v = c.sysenter_eip; return true;
    case msr::MTRR_DEF_TYPE: v = c.mtrr_def_type; return true;
    case msr::MCG_CAP: v = kMcgCap; return true;
    case perf::kEvtSel0:
    case perf::kEvtSel0 + 1: v = c.perf_evtsel[idx - perf::kEvtSel0]; return true;
    case perf::kCtr0:
    case perf::kCtr0 + 1: v = perf_counter(c, idx - perf::kCtr0); return true;
    case msr::MCG_STATUS: v = c.mcg_status; return true;
    case msr::MCG_CTL: v = c.mcg_ctl; return true;
    default: break;
    }
    unsigned bank;
    McReg reg;
    if (mc_bank_reg(idx, bank, reg)) {
        if (reg == kMcMisc) return false;
        v = reg == kMcCtl ? c.mc_ctl[bank] : 0;   // no error is ever logged
        return true;
    }
    if (idx >= msr::MTRR_PHYS_FIRST && idx <= msr::MTRR_PHYS_LAST) {
        v = c.mtrr_var[idx - msr::MTRR_PHYS_FIRST];
        return true;
    }
    if (int f = fixed_mtrr_index(idx); f >= 0) {
        v = c.mtrr_fixed[f];
        return true;
    }
    return false;
}

bool write_msr(Cpu& c, uint32_t idx, uint64_t v) {
    switch (idx) {
    case msr::TSC:
        // P6 family: only the low 32 bits are written, the high 32 bits are cleared (SDM vol.3
        // 17.17, "Time-Stamp Counter").
        c.tsc_offset = (v & 0xFFFFFFFFu) - tsc_base(c);
        return true;
    case msr::BIOS_UPDT_TRIG:   // a microcode update lift86 never applies: the revision stays 0
    case msr::BIOS_SIGN_ID:     // software writes 0 here before CPUID to read the revision
        return true;
    case msr::SYSENTER_CS: c.sysenter_cs = uint32_t(v); return true;
    case msr::SYSENTER_ESP: c.sysenter_esp = uint32_t(v); return true;
    case msr::SYSENTER_EIP: c.sysenter_eip = uint32_t(v); return true;
    case msr::MTRR_DEF_TYPE:
        // Type in bits 7:0, FE bit 10, E bit 11; the rest reserved (SDM vol.3 11.11.2.1).
        if ((v & ~uint64_t(0xCFF)) || !valid_mem_type(v & 0xFF)) return false;
        c.mtrr_def_type = v;
        return true;
    case msr::MCG_STATUS:
        if (v & ~kMcgStatusBits) return false;
        c.mcg_status = v;
        return true;
    case msr::MCG_CTL: c.mcg_ctl = v; return true;
    case perf::kEvtSel0:
    case perf::kEvtSel0 + 1:
        // Bit 21 is reserved, and so are 63:32 (SDM vol.3 20.6.3); EN of PerfEvtSel0 governs
        // both counters, so both are folded and re-armed.
        if (v & (0xFFFFFFFF00000000ull | (1u << 21))) return false;
        perf_fold(c, 0);
        perf_fold(c, 1);
        c.perf_evtsel[idx - perf::kEvtSel0] = v;
        perf_rearm(c, 0);
        perf_rearm(c, 1);
        return true;
    case perf::kCtr0:
    case perf::kCtr0 + 1: {
        const unsigned k = idx - perf::kCtr0;
        c.perf_base[k] = uint64_t(int64_t(int32_t(uint32_t(v)))) & perf::kWidthMask;   // low 32 bits, sign-extended
        perf_rearm(c, k);
        return true;
    }
    default: break;
    }
    unsigned bank;
    McReg reg;
    if (mc_bank_reg(idx, bank, reg)) {
        if (reg == kMcCtl) {
            c.mc_ctl[bank] = v;
            return true;
        }
        return reg != kMcMisc && v == 0;
    }
    if (idx >= msr::MTRR_PHYS_FIRST && idx <= msr::MTRR_PHYS_LAST) {
        // Even: IA32_MTRR_PHYSBASEn (type 7:0, base 35:12); odd: IA32_MTRR_PHYSMASKn (V bit 11,
        // mask 35:12) (SDM vol.3 11.11.2.3). Reserved bits set or a bad type: #GP(0).
        unsigned n = idx - msr::MTRR_PHYS_FIRST;
        if (n % 2 == 0) {
            if ((v & ~(kPhysAddrMask & ~uint64_t(0xF00))) || !valid_mem_type(v & 0xFF)) return false;
        } else {
            if (v & ~(kPhysAddrMask & ~uint64_t(0x7FF))) return false;
        }
        c.mtrr_var[n] = v;
        return true;
    }
    if (int f = fixed_mtrr_index(idx); f >= 0) {
        for (unsigned b = 0; b < 8; b++)
            if (!valid_mem_type((v >> (8 * b)) & 0xFF)) return false;
        c.mtrr_fixed[f] = v;
        return true;
    }
    return false;   // unknown or read-only MSR
}

// RDMSR/WRMSR (SDM vol.2): privileged (V86 included); an unimplemented MSR, a write to a
// read-only one or reserved bits set are #GP(0).
void h_rdmsr(Cpu& c, const Insn&) {
    require_cpl0(c);
    uint64_t v;
    if (!read_msr(c, c.r[ECX], v)) c.fault(kGP, 0);
    c.r[EAX] = uint32_t(v);
    c.r[EDX] = uint32_t(v >> 32);
}
void h_wrmsr(Cpu& c, const Insn&) {
    require_cpl0(c);
    if (!write_msr(c, c.r[ECX], uint64_t(c.r[EDX]) << 32 | c.r[EAX])) c.fault(kGP, 0);
}

// ---------------------------------------------------------------- SYSENTER / SYSEXIT
// Flat 4 GiB segments as SYSENTER/SYSEXIT load them (SDM vol.2 SYSENTER operation): code type
// 11 (execute/read, accessed), data type 3 (read/write, accessed), S, P, D/B and G set.
void load_flat(Cpu& c, unsigned s, uint16_t sel, unsigned dpl) {
    uint32_t a = (s == CS ? attr::CODE | attr::RW | attr::ACCESSED : attr::RW | attr::ACCESSED) | attr::S |
                 (dpl << 5) | attr::P | attr::DB | attr::G;
    c.set_seg_cache(c.seg[s], sel, 0, 0xFFFFFFFFu, a);
}

void h_sysenter(Cpu& c, const Insn&) {
    if (!c.pe || (c.sysenter_cs & 0xFFFC) == 0) c.fault(kGP, 0);
    c.eflags &= ~(fl::VM | fl::IF | fl::RF);
    const uint16_t cs = uint16_t(c.sysenter_cs & 0xFFFC);
    load_flat(c, CS, cs, 0);
    load_flat(c, SS, uint16_t(cs + 8), 0);
    c.update_mode();
    c.r[ESP] = c.sysenter_esp;
    c.eip = c.sysenter_eip;
    c.stop_block = true;
}

void h_sysexit(Cpu& c, const Insn&) {
    if (!c.pe || c.cpl != 0 || (c.sysenter_cs & 0xFFFC) == 0) c.fault(kGP, 0);
    const uint16_t base = uint16_t(c.sysenter_cs);
    load_flat(c, CS, uint16_t((base + 16) | 3), 3);
    load_flat(c, SS, uint16_t((base + 24) | 3), 3);
    c.update_mode();
    c.r[ESP] = c.r[ECX];
    c.eip = c.r[EDX];
    c.stop_block = true;
}

// PAUSE (F3 90) is REP NOP on the P6.
void h_pause(Cpu&, const Insn&) {}

}  // namespace

Handler bind_system(const DecodedView& v, Insn& i) {
    const OpView &a = v.op[0], &b = v.op[1];
    const bool mem0 = v.n >= 1 && a.kind == OpKind::Mem;
    // r/m operand in operand 0 (register number into Insn.rm).
    auto rm0 = [&] { return rm_of(a, i); };
    switch (v.mnemonic) {
    case ZYDIS_MNEMONIC_IN:
        if (v.n != 2 || a.kind != OpKind::Gpr) return nullptr;
        return pick_io<true>(a.size, b.kind == OpKind::Gpr);
    case ZYDIS_MNEMONIC_OUT:
        if (v.n != 2 || b.kind != OpKind::Gpr) return nullptr;
        return pick_io<false>(b.size, a.kind == OpKind::Gpr);

    case ZYDIS_MNEMONIC_LGDT: return mem0 ? h_load_dtr<false> : nullptr;
    case ZYDIS_MNEMONIC_LIDT: return mem0 ? h_load_dtr<true> : nullptr;
    case ZYDIS_MNEMONIC_SGDT: return mem0 ? h_store_dtr<false> : nullptr;
    case ZYDIS_MNEMONIC_SIDT: return mem0 ? h_store_dtr<true> : nullptr;

    case ZYDIS_MNEMONIC_LLDT: return rm0() ? h_lldt<true> : h_lldt<false>;
    case ZYDIS_MNEMONIC_LTR: return rm0() ? h_ltr<true> : h_ltr<false>;
    case ZYDIS_MNEMONIC_SLDT:
        i.op = a.size;
        return rm0() ? h_store_sysseg<true, false> : h_store_sysseg<false, false>;
    case ZYDIS_MNEMONIC_STR:
        i.op = a.size;
        return rm0() ? h_store_sysseg<true, true> : h_store_sysseg<false, true>;
    case ZYDIS_MNEMONIC_SMSW:
        i.op = a.size;
        return rm0() ? h_smsw<true> : h_smsw<false>;
    case ZYDIS_MNEMONIC_LMSW: return rm0() ? h_lmsw<true> : h_lmsw<false>;
    case ZYDIS_MNEMONIC_CLTS: return h_clts;

    case ZYDIS_MNEMONIC_ARPL:
        if (v.n != 2 || b.kind != OpKind::Gpr) return nullptr;
        i.reg = b.reg;
        return rm0() ? h_arpl<true> : h_arpl<false>;
    case ZYDIS_MNEMONIC_LAR:
    case ZYDIS_MNEMONIC_LSL: {
        if (v.n != 2 || a.kind != OpKind::Gpr) return nullptr;
        i.reg = a.reg;
        if (b.kind == OpKind::Gpr) i.rm = b.reg;
        bool lar = v.mnemonic == ZYDIS_MNEMONIC_LAR;
        if (a.size == 4) return lar ? h_lar<uint32_t> : h_lsl<uint32_t>;
        return lar ? h_lar<uint16_t> : h_lsl<uint16_t>;
    }
    case ZYDIS_MNEMONIC_VERR: rm0(); return h_verify<false>;
    case ZYDIS_MNEMONIC_VERW: rm0(); return h_verify<true>;

    case ZYDIS_MNEMONIC_INVLPG: return mem0 ? h_invlpg : nullptr;
    case ZYDIS_MNEMONIC_INVD:
    case ZYDIS_MNEMONIC_WBINVD: return h_cache_ctl;

    case ZYDIS_MNEMONIC_MOV:
        if (v.n != 2) return nullptr;
        if (a.kind == OpKind::Cr && b.kind == OpKind::Gpr) {
            if (a.reg != 0 && (a.reg < 2 || a.reg > 4)) return nullptr;   // CR1, CR5-7: #UD
            i.reg = a.reg;
            i.rm = b.reg;
            return h_mov_to_cr;
        }
        if (a.kind == OpKind::Gpr && b.kind == OpKind::Cr) {
            if (b.reg != 0 && (b.reg < 2 || b.reg > 4)) return nullptr;
            i.reg = b.reg;
            i.rm = a.reg;
            return h_mov_from_cr;
        }
        if (a.kind == OpKind::Dr && b.kind == OpKind::Gpr) {
            i.reg = a.reg;
            i.rm = b.reg;
            return h_mov_to_dr;
        }
        if (a.kind == OpKind::Gpr && b.kind == OpKind::Dr) {
            i.reg = b.reg;
            i.rm = a.reg;
            return h_mov_from_dr;
        }
        return nullptr;

    case ZYDIS_MNEMONIC_CPUID: return h_cpuid;
    case ZYDIS_MNEMONIC_RDTSC: return h_rdtsc;
    case ZYDIS_MNEMONIC_RDPMC: return h_rdpmc;
    case ZYDIS_MNEMONIC_RDMSR: return h_rdmsr;
    case ZYDIS_MNEMONIC_WRMSR: return h_wrmsr;
    case ZYDIS_MNEMONIC_SYSENTER: return h_sysenter;
    case ZYDIS_MNEMONIC_SYSEXIT: return h_sysexit;
    case ZYDIS_MNEMONIC_PAUSE: return h_pause;
    default: return nullptr;
    }
}

}  // namespace lift86
