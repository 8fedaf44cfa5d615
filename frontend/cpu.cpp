// The CPU object: reset state, mode bookkeeping, lazy flags and the interpreter run loop.
#include "frontend/cpu.hpp"

#include "frontend/block_cache.hpp"
#include "frontend/cpu_profile.hpp"

namespace lift86 {

Cpu::Cpu(PhysMemory& m, PortBus& p) : mem(m), io(p), blocks(new BlockCache(*this)) {
    mem.on_map_change = [this] { tlb.flush(); };
    mem.on_code_write = [this](PhysAddr addr, unsigned size) {
        // The running block may be the one that was just overwritten: it ends after the store.
        if (blocks->on_store(addr, size)) stop_block = true;
    };
    reset();
}

Cpu::~Cpu() { delete blocks; }

void Cpu::reset() {
    // Power-up / RESET state (SDM vol.3 9.1.1, table 9-1).
    CpuState fresh;
    static_cast<CpuState&>(*this) = fresh;
    for (unsigned s = 0; s < kNumSegs; s++)
        set_seg_cache(seg[s], 0, 0, 0xFFFF, attr::P | attr::S | attr::RW | attr::ACCESSED);
    set_seg_cache(seg[CS], 0xF000, 0xFFFF0000u, 0xFFFF,
                  attr::P | attr::S | attr::CODE | attr::RW | attr::ACCESSED);
    set_seg_cache(ldtr, 0, 0, 0xFFFF, 0x82);
    set_seg_cache(tr, 0, 0, 0xFFFF, 0x8B);
    cr0 = cr0::ET | cr0::CD | cr0::NW;
    r[EDX] = 0x0633;   // processor signature: family 6, model 3, stepping 3 (Pentium II)
    eip = 0xFFF0;
    eflags = fl::FIXED1;
    lazy = LazyFlags{};
    fpu.power_on();
    halted = false;
    inhibit_irq = false;
    nmi_pending = false;
    update_mode();
    tlb.flush();
}

void Cpu::update_mode() {
    pe = cr0 & cr0::PE;
    vm86 = pe && (eflags & fl::VM);
    paging = pe && (cr0 & cr0::PG);
    const uint8_t old_cpl = cpl;
    cpl = !pe ? 0 : vm86 ? 3 : cs_from_real_mode ? 0 : (seg[CS].sel & 3);
    if (cpl != old_cpl) {   // the OS/user split of retired instructions (performance counters)
        if (old_cpl == 0) icount_os += icount - icount_cpl_since;
        icount_cpl_since = icount;
    }
    code32 = pe && !vm86 && (seg[CS].attr & attr::DB);
    stack32 = seg[SS].attr & attr::DB;
    mmu_user = cpl == 3;
    ip_mask = code32 ? 0xFFFFFFFFu : 0xFFFFu;
    bool ac = (cr0 & cr0::AM) && (eflags & fl::AC) && cpl == 3;
    if (ac != align_check) {
        align_check = ac;
        tlb.flush();   // #AC needs every access on the slow path while it is armed
    }
}

// ---------------------------------------------------------------- lazy flags
namespace {
inline uint32_t parity_flag(uint32_t v) {
    // PF is set when the low byte has an even number of one bits (SDM vol.1 3.4.3.1).
    return ((0x6996u >> ((v ^ (v >> 4)) & 0xF)) & 1) ? 0 : fl::PF;
}

uint32_t compute_arith(const LazyFlags& l) {
    const uint32_t mask = l.bits == 32 ? 0xFFFFFFFFu : (1u << l.bits) - 1;
    const uint32_t msb = 1u << (l.bits - 1);
    const uint32_t res = l.res & mask, a = l.a & mask, b = l.b & mask;
    uint32_t f = parity_flag(res) | (res == 0 ? fl::ZF : 0) | (res & msb ? fl::SF : 0);
    switch (l.op) {
    case LazyOp::Add:
    case LazyOp::Adc: {
        bool carry = l.op == LazyOp::Adc && l.carry ? res <= a : res < a;
        f |= (carry ? fl::CF : 0) | (((a ^ res) & (b ^ res) & msb) ? fl::OF : 0) | ((a ^ b ^ res) & fl::AF);
        break;
    }
    case LazyOp::Sub:
    case LazyOp::Sbb: {
        bool borrow = l.op == LazyOp::Sbb && l.carry ? a <= b : a < b;
        f |= (borrow ? fl::CF : 0) | (((a ^ b) & (a ^ res) & msb) ? fl::OF : 0) | ((a ^ b ^ res) & fl::AF);
        break;
    }
    case LazyOp::Logic: break;   // CF = OF = 0; AF undefined, 0 on hardware
    case LazyOp::Inc:
        f |= (l.carry ? fl::CF : 0) | (res == msb ? fl::OF : 0) | ((a ^ res) & fl::AF);
        break;
    case LazyOp::Dec:
        f |= (l.carry ? fl::CF : 0) | (res == msb - 1 ? fl::OF : 0) | ((a ^ res) & fl::AF);
        break;
    case LazyOp::None: break;
    }
    return f;
}
}  // namespace

uint32_t Cpu::get_eflags() {
    if (lazy.op == LazyOp::None) return eflags | fl::FIXED1;
    return (eflags & ~fl::ARITH) | compute_arith(lazy) | fl::FIXED1;
}

void Cpu::set_eflags(uint32_t v) {
    uint32_t old = eflags;
    eflags = (v & 0x003F7FD5u) | fl::FIXED1;   // writable bits of a P6 (no VIF/VIP/ID games)
    eflags |= v & fl::ID;                        // ID toggles: CPUID is supported
    lazy.op = LazyOp::None;
    if ((old ^ eflags) & (fl::VM | fl::AC)) update_mode();
}

bool Cpu::cf() {
    // Only CF is wanted (ADC/SBB/INC/DEC/RCL...): compute just that.
    const uint32_t mask = lazy.bits == 32 ? 0xFFFFFFFFu : (1u << lazy.bits) - 1;
    const uint32_t a = lazy.a & mask, b = lazy.b & mask, res = lazy.res & mask;
    switch (lazy.op) {
    case LazyOp::None: return eflags & fl::CF;
    case LazyOp::Add: return res < a;
    case LazyOp::Adc: return lazy.carry ? res <= a : res < a;
    case LazyOp::Sub: return a < b;
    case LazyOp::Sbb: return lazy.carry ? a <= b : a < b;
    case LazyOp::Logic: return false;
    case LazyOp::Inc:
    case LazyOp::Dec: return lazy.carry;
    }
    return false;
}

bool Cpu::zf() {
    if (lazy.op == LazyOp::None) return eflags & fl::ZF;
    uint32_t mask = lazy.bits == 32 ? 0xFFFFFFFFu : (1u << lazy.bits) - 1;
    return (lazy.res & mask) == 0;
}

bool Cpu::cond(unsigned cc) {
    // Fast paths for what most branches follow: CMP/SUB and TEST/AND/OR/XOR (SDM vol.1 B.1).
    if (lazy.op == LazyOp::Sub || lazy.op == LazyOp::Logic) {
        const unsigned sh = 32 - lazy.bits;
        const uint32_t res = lazy.res << sh;   // operands moved to the top bits: signs line up
        bool r;
        if (lazy.op == LazyOp::Sub) {
            const uint32_t a = lazy.a << sh, b = lazy.b << sh;
            switch (cc >> 1) {
            case 0: r = int32_t((a ^ b) & (a ^ res)) < 0; break;
            case 1: r = a < b; break;
            case 2: r = a == b; break;
            case 3: r = a <= b; break;
            case 4: r = int32_t(res) < 0; break;
            case 5: r = parity_flag(res >> sh); break;
            case 6: r = int32_t(a) < int32_t(b); break;
            default: r = int32_t(a) <= int32_t(b); break;
            }
        } else {
            switch (cc >> 1) {
            case 0: case 1: r = false; break;                 // OF = CF = 0
            case 2: case 3: r = res == 0; break;              // ZF (CF = 0 for BE)
            case 4: case 6: r = int32_t(res) < 0; break;      // SF (OF = 0 for L)
            case 5: r = parity_flag(res >> sh); break;
            default: r = int32_t(res) <= 0; break;            // LE: ZF or SF
            }
        }
        return (cc & 1) ? !r : r;
    }
    uint32_t f = get_eflags();
    bool r;
    switch (cc >> 1) {
    case 0: r = f & fl::OF; break;
    case 1: r = f & fl::CF; break;
    case 2: r = f & fl::ZF; break;
    case 3: r = f & (fl::CF | fl::ZF); break;
    case 4: r = f & fl::SF; break;
    case 5: r = f & fl::PF; break;
    case 6: r = !(f & fl::SF) != !(f & fl::OF); break;
    default: r = (f & fl::ZF) || (!(f & fl::SF) != !(f & fl::OF)); break;
    }
    return (cc & 1) ? !r : r;
}

// ---------------------------------------------------------------- run loop
void Cpu::take_interrupts() {
    if (nmi_pending) {
        nmi_pending = false;
        halted = false;
        deliver(kNMI, -1, false, true);
        return;
    }
    if ((eflags & fl::IF) && intr_line) {
        halted = false;
        uint8_t v = intr_ack();
        deliver(v, -1, false, true);
    }
}

void Cpu::fetch_code(uint32_t lin, uint8_t* buf, unsigned n) {
    for (unsigned i = 0; i < n;) {
        uint32_t l = lin + i;
        uint32_t phys = translate(l, false, mmu_user, true);
        unsigned chunk = std::min<unsigned>(n - i, kPageSize - (l & kPageMask));
        for (unsigned k = 0; k < chunk; k++) buf[i + k] = mem.read8(phys + k);
        i += chunk;
    }
}

// One block, with the --profile bookkeeping around it compiled in only for the profiling
// instance: the normal run pays a single pointer test per block (in exec_block_at_eip).
template <bool kProfiled>
[[gnu::always_inline]] inline void Cpu::exec_block(uint64_t budget_left) {
    if constexpr (kProfiled) profile_block_begin();
    const bool trap = eflags & fl::TF;
    insn_eip = eip;   // a fetch fault in lookup() restarts here
    try {
        Block* b = nullptr;
        if (LIFT86_LIKELY(eip <= seg[CS].limit))
            b = blocks->chained(eip, seg[CS].base, code32 ? 1 : 0, mmu_user, tlb.generation);
        if (!b) b = blocks->lookup();
        size_t n = b->insns.size();
        if (single_step || trap || inhibit_irq) n = 1;
        if (n > budget_left) n = size_t(budget_left);
        inhibit_irq = false;
        inhibit_debug = false;
        const Insn* ip = b->insns.data();
        b->execs++;
        if (LIFT86_UNLIKELY(trace_insn != nullptr)) {
            for (size_t k = 0; k < n; k++) {
                const Insn& i = ip[k];
                insn_eip = eip;
                eip = (eip + i.len) & ip_mask;
                trace_insn(insn_eip, i);
                i.fn(*this, i);
                icount++;
                if (stop_block) break;
            }
        } else {
            // The hot loop: no decoding, no allocation, one indirect call per instruction.
            // A faulting instruction does not retire, so icount counts after the call.
            for (size_t k = 0; k < n; k++) {
                const Insn& i = ip[k];
                insn_eip = eip;
                eip = (eip + i.len) & ip_mask;
                i.fn(*this, i);
                icount++;
                if (LIFT86_UNLIKELY(stop_block)) break;
            }
        }
        stop_block = false;
        if (trap && !halted && !inhibit_debug) {
            // Single-step trap after the instruction (SDM vol.3 17.3.1.4): DR6.BS.
            dr[6] |= 0x4000;
            deliver(kDB, -1, false);
        }
    } catch (const GuestFault& f) {
        stop_block = false;
        eip = insn_eip;
        deliver(f.vector, f.error_code, false);
    }
    if constexpr (kProfiled) profile_block_end();
}

void Cpu::exec_block_at_eip(uint64_t budget_left) {
    if (LIFT86_UNLIKELY(profile != nullptr)) exec_block<true>(budget_left);
    else exec_block<false>(budget_left);
}

// --profile: the mode and boot phase of the block about to run (docs/profile.md). A phase
// change is decided here, where the block's first instruction is known, and committed when the
// block has retired an instruction (a fetch fault retires none: the block runs again later).
void Cpu::profile_block_begin() {
    using P = CpuProfile;
    P& p = *profile;
    const P::Mode m = P::mode_of(pe, vm86, cpl, code32);
    if (m != p.mode) {
        p.close_interval(P::host_ns());
        p.mode = m;
    }
    p.block_icount = icount;
    p.block_mode = m;
    p.pending = P::kNumPhases;
    if (p.phase == P::kUserSpace) return;   // the last phase: nothing left to detect
    const uint32_t lin = seg[CS].base + eip;
    P::Phase next = p.phase;
    if (m == P::kUser) next = P::kUserSpace;
    else if (p.phase == P::kKernel && p.kernel_tentative && m == P::kReal) next = p.before_kernel;
    else if (p.phase < P::kKernel && m != P::kReal && m != P::kV86 && lin >= 0x100000) next = P::kKernel;
    if (next == P::kFirmware && m == P::kReal && lin == 0x7C00) next = P::kBootLoader;   // the boot sector
    if (next == p.phase) return;
    p.pending = next;
    p.pending_entry = P::Entry{true, icount, time_ns ? time_ns() : icount, P::host_ns(), seg[CS].sel, eip};
}

void Cpu::profile_block_end() {
    using P = CpuProfile;
    P& p = *profile;
    const uint64_t n = icount - p.block_icount;
    if (n == 0) return;
    if (p.pending != P::kNumPhases) {
        const P::Phase next = p.pending;
        p.pending = P::kNumPhases;
        p.close_interval(P::host_ns());
        if (next == P::kKernel) {
            p.kernel_tentative = true;
            p.before_kernel = p.phase;
            p.kernel_snapshot = p.rows[P::kKernel];
            p.kernel_entry_snapshot = p.entered[P::kKernel];
        } else if (p.phase == P::kKernel && next < P::kKernel) {
            // Back in real mode: that was not the kernel. Its counts go to the phase before.
            P::Row since_entry = p.rows[P::kKernel];
            since_entry -= p.kernel_snapshot;
            p.rows[next] += since_entry;
            p.rows[P::kKernel] = p.kernel_snapshot;
            p.entered[P::kKernel] = p.kernel_entry_snapshot;
            p.kernel_tentative = false;
        } else if (next == P::kUserSpace) {
            p.kernel_tentative = false;
        }
        if (!p.entered[next].seen) p.entered[next] = p.pending_entry;
        p.phase = next;
    }
    p.rows[p.phase].insns[p.block_mode] += n;
    if (Block* b = blocks->last()) b->retired += n;   // null: the block was dropped while it ran
}

StopReason Cpu::run(uint64_t budget) {
    if (LIFT86_UNLIKELY(debug.active())) return run_debug(budget);   // breakpoints, steps, watches
    stop = StopReason::None;
    const uint64_t end = icount + budget;
    while (stop == StopReason::None && icount < end) {
        if (!inhibit_irq && (nmi_pending || ((eflags & fl::IF) && intr_line))) {
            try {
                take_interrupts();
            } catch (const GuestFault& f) {
                deliver(f.vector, f.error_code, false);
            }
        }
        if (halted) {
            stop = StopReason::Halted;
            break;
        }
        // exec_block_at_eip(), inlined: this is the hot loop of the interpreter.
        if (LIFT86_UNLIKELY(profile != nullptr)) exec_block<true>(end - icount);
        else exec_block<false>(end - icount);
        if (single_step && stop == StopReason::None) stop = StopReason::Budget;
    }
    if (stop == StopReason::None) stop = StopReason::Budget;
    return stop;
}

}  // namespace lift86
