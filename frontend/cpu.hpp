// The guest CPU: architectural state plus what the engines need to run it — the memory access
// path (segmentation, then the softmmu TLB, then the page walk), lazy flags, exceptions, and
// the interface to the board (ports, interrupt line). Instruction semantics live in interp_*.cpp
// and in the helpers for complex instructions that both engines call.
#pragma once
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>

#include "frontend/cpu_state.hpp"
#include "frontend/debug_points.hpp"
#include "frontend/insn.hpp"
#include "machine/bus/phys_memory.hpp"
#include "machine/bus/port_bus.hpp"
#include "machine/bus/tlb.hpp"

#if defined(__GNUC__)
#define LIFT86_LIKELY(x) __builtin_expect(!!(x), 1)
#define LIFT86_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define LIFT86_LIKELY(x) (x)
#define LIFT86_UNLIKELY(x) (x)
#endif

namespace lift86 {

class BlockCache;
struct CpuProfile;

// Exception vectors (SDM vol.3 6.3.1).
enum Vector : uint8_t {
    kDE = 0, kDB = 1, kNMI = 2, kBP = 3, kOF = 4, kBR = 5, kUD = 6, kNM = 7, kDF = 8,
    kTS = 10, kNP = 11, kSS = 12, kGP = 13, kPF = 14, kMF = 16, kAC = 17, kMC = 18,
};

// Thrown by anything that raises a guest exception in the middle of an instruction. The run
// loop catches it, rewinds EIP to the instruction and delivers the exception.
struct GuestFault {
    uint8_t vector;
    int32_t error_code;   // -1: the exception pushes no error code
};

// Why run() returned.
enum class StopReason { None, Budget, Halted, Breakpoint, Shutdown, Reset, Request };

// What started a hardware task switch (SDM vol.3 7.3): decides busy bits, NT and the back link.
enum TaskSource { kTaskJmp, kTaskCall, kTaskIret, kTaskInt };

class Cpu : public CpuState {
public:
    Cpu(PhysMemory& mem, PortBus& io);
    ~Cpu();

    PhysMemory& mem;
    PortBus& io;
    Tlb tlb;
    DebugPoints debug{tlb};   // breakpoints, steps, watchpoints (debug_points.hpp: the engine contract)
    BlockCache* blocks;

    // ---- board interface ----
    // The INTR input: the board keeps it equal to the PIC's INT output (Pic8259::on_intr), so
    // the run loop tests a byte between blocks instead of asking the PIC.
    bool intr_line = false;
    std::function<uint8_t()> intr_ack;     // INTA cycle: returns the vector
    bool nmi_pending = false;
    std::function<void()> on_triple_fault;   // the board resets (or ends, with -no-reboot)
    std::function<uint64_t()> time_ns;       // machine clock for RDTSC
    std::function<void()> on_ferr;           // x87 error with CR0.NE=0: FERR# -> IRQ13
    std::function<void(uint32_t eip, const Insn&)> trace_insn;   // --trace insn (slow path)
    CpuProfile* profile = nullptr;   // --profile: counters kept per block (frontend/cpu_profile.hpp)
    // --trace int: every exception and interrupt as it is delivered (faults during delivery too).
    std::function<void(uint8_t vector, int32_t error_code, bool software, bool external)> trace_interrupt;

    // ---- mode caches, recomputed by update_mode() whenever CR0/EFLAGS.VM/CS/SS change ----
    uint8_t cpl = 0;
    // Instructions retired at CPL 0 up to icount_cpl_since (the last CPL change); with icount,
    // the OS/USR split the P6 performance counters filter on (frontend/interp_system.cpp).
    uint64_t icount_os = 0, icount_cpl_since = 0;
    uint64_t insns_os() const { return icount_os + (cpl == 0 ? icount - icount_cpl_since : 0); }
    bool pe = false, vm86 = false, code32 = false, stack32 = false, paging = false;
    uint8_t mmu_user = 0;          // TLB class: CPL 3 accesses use the user entries
    uint32_t ip_mask = 0xFFFF;     // EIP wraps at 64 KiB in 16-bit code
    // MOV CR0/LMSW set PE and CS has not been loaded since: the processor is in protected mode
    // but still at CPL 0, whatever the low bits of the real-mode CS value are, until the far
    // jump that loads CS (SDM vol.3 9.9.1 "Switching to Protected Mode"; CPL is the RPL of a
    // CS *loaded* in protected mode).
    bool cs_from_real_mode = false;
    void update_mode();

    // ---- execution ----
    uint32_t insn_eip = 0;         // EIP of the instruction being executed (fault restart point)
    uint64_t icount = 0;           // retired instructions
    bool stop_block = false;       // a handler changed something the rest of the block depends on
    bool inhibit_irq = false;      // one-instruction interrupt shadow after STI / MOV SS / POP SS
    bool inhibit_debug = false;    // MOV SS / POP SS also hold off #DB traps (SDM vol.3 6.8.3)
    StopReason stop = StopReason::None;
    bool single_step = false;      // run one instruction per call (gdb stepi, TF)

    // Runs guest code until `budget` instructions have retired or something stops it.
    StopReason run(uint64_t budget);
    void reset();
    // Delivers an exception or interrupt now (the state is at an instruction boundary).
    void deliver(uint8_t vector, int32_t error_code, bool software, bool external = false);
    [[noreturn]] void fault(uint8_t vector, int32_t error_code = -1) { throw GuestFault{vector, error_code}; }

    // ---- lazy flags ----
    uint32_t get_eflags();
    void set_eflags(uint32_t v);   // raw: callers apply privilege masks first
    void set_arith(LazyOp op, unsigned bits, uint32_t res, uint32_t a, uint32_t b, uint32_t carry = 0) {
        lazy.op = op; lazy.bits = uint8_t(bits); lazy.res = res; lazy.a = a; lazy.b = b; lazy.carry = carry;
    }
    // Eager: set the given arithmetic flags to `values` (others keep their current value).
    void set_flags_eager(uint32_t mask, uint32_t values) {
        // Overwriting all six arithmetic flags needs nothing from the lazy record.
        uint32_t f = (mask & fl::ARITH) == fl::ARITH ? eflags : get_eflags();
        eflags = (f & ~mask) | (values & mask);
        lazy.op = LazyOp::None;
    }
    bool cf();
    bool zf();
    bool cond(unsigned cc);        // Jcc/SETcc/CMOVcc condition 0..15 (SDM vol.2 appendix B.1.4.7)
    // cond() for a condition known at compile time (Jcc binds one handler per condition): the
    // common cases inline, the rest through cond(). ZF and SF depend on the result alone, so they
    // need no switch on the lazy operation; CMP/SUB and TEST/logic cover the other branches.
    template <unsigned CC> bool cond_fast() {
        constexpr unsigned k = CC >> 1;
        bool r;
        if constexpr (k == 2 || k == 4) {
            if (lazy.op == LazyOp::None) {
                r = eflags & (k == 2 ? fl::ZF : fl::SF);
            } else {
                const uint32_t res = lazy.res << (32 - lazy.bits);
                r = k == 2 ? res == 0 : int32_t(res) < 0;
            }
        } else if (lazy.op == LazyOp::Sub && k != 5) {
            const unsigned sh = 32 - lazy.bits;
            const uint32_t a = lazy.a << sh, b = lazy.b << sh;
            if constexpr (k == 0) r = int32_t((a ^ b) & (a ^ (lazy.res << sh))) < 0;
            else if constexpr (k == 1) r = a < b;
            else if constexpr (k == 3) r = a <= b;
            else if constexpr (k == 6) r = int32_t(a) < int32_t(b);
            else r = int32_t(a) <= int32_t(b);
        } else if (lazy.op == LazyOp::Logic && k != 5) {
            const uint32_t res = lazy.res << (32 - lazy.bits);
            if constexpr (k == 0 || k == 1) r = false;          // OF = CF = 0
            else if constexpr (k == 3) r = res == 0;            // BE: ZF (CF = 0)
            else if constexpr (k == 6) r = int32_t(res) < 0;    // L: SF (OF = 0)
            else r = int32_t(res) <= 0;                         // LE: ZF or SF
        } else {
            return cond(CC);
        }
        return (CC & 1) ? !r : r;
    }

    // ---- registers ----
    uint8_t& r8(unsigned i) { return reinterpret_cast<uint8_t*>(&r[i & 3])[i >> 2]; }   // AL..BH
    uint16_t& r16(unsigned i) { return *reinterpret_cast<uint16_t*>(&r[i]); }
    template <class T> T reg(unsigned i) {
        if constexpr (sizeof(T) == 1) return r8(i);
        else if constexpr (sizeof(T) == 2) return r16(i);
        else return r[i];
    }
    template <class T> void set_reg(unsigned i, T v) {
        if constexpr (sizeof(T) == 1) r8(i) = v;
        else if constexpr (sizeof(T) == 2) r16(i) = v;
        else r[i] = v;
    }

    // ---- memory: segment-relative (checked), linear, physical ----
    uint32_t ea(const Insn& i) const {
        uint32_t a = uint32_t(i.disp);
        if (i.base != kNoReg) a += r[i.base];
        if (i.index != kNoReg) a += r[i.index] << i.scale;
        return i.a32() ? a : (a & 0xFFFF);
    }
    [[noreturn]] void seg_fault(unsigned s);
    uint32_t check_seg(unsigned s, uint32_t off, unsigned size, bool write) {
        const Segment& sg = seg[s];
        // off in [lo, hi - size + 1] and the access allowed, in one compare (Segment::rspan):
        // below lo, off - lo wraps above any span.
        if (LIFT86_UNLIKELY(int64_t(uint32_t(off - sg.lo)) + int64_t(size - 1) > (write ? sg.wspan : sg.rspan)))
            seg_fault(s);
        return sg.base + off;
    }
    template <class T> T read(unsigned s, uint32_t off) { return read_lin<T>(check_seg(s, off, sizeof(T), false)); }
    template <class T> void write(unsigned s, uint32_t off, T v) { write_lin<T>(check_seg(s, off, sizeof(T), true), v); }

    template <class T> T read_lin(uint32_t lin) {
        // One compare checks the page and that the access stays inside it: the entry for lin's
        // page can only ever hold a tag of that index, never the next page's.
        TlbEntry& e = tlb.at(mmu_user, Tlb::kRead, lin);
        if (LIFT86_LIKELY(e.tag == (uint32_t(lin + sizeof(T) - 1) & ~kPageMask))) {
            T v;
            std::memcpy(&v, reinterpret_cast<const void*>(lin + e.addend), sizeof(T));
            return v;
        }
        return T(read_slow(lin, sizeof(T), mmu_user));
    }
    template <class T> void write_lin(uint32_t lin, T v) {
        TlbEntry& e = tlb.at(mmu_user, Tlb::kWrite, lin);
        if (LIFT86_LIKELY(e.tag == (uint32_t(lin + sizeof(T) - 1) & ~kPageMask))) {   // (as in read_lin)
            std::memcpy(reinterpret_cast<void*>(lin + e.addend), &v, sizeof(T));
            return;
        }
        write_slow(lin, uint32_t(v), sizeof(T), mmu_user);
    }
    uint64_t read_lin64(uint32_t lin) { return read_lin<uint32_t>(lin) | uint64_t(read_lin<uint32_t>(lin + 4)) << 32; }
    // Supervisor-privilege accesses the CPU makes on its own (descriptor tables, TSS, IDT).
    uint32_t read_sys(uint32_t lin, unsigned size) { return read_slow(lin, size, 0); }
    void write_sys(uint32_t lin, uint32_t v, unsigned size) { write_slow(lin, v, size, 0); }

    uint32_t read_slow(uint32_t lin, unsigned size, unsigned user);
    void write_slow(uint32_t lin, uint32_t v, unsigned size, unsigned user);
    // Linear -> physical for an access (page walk on a TLB miss; raises #PF). Fills the TLB.
    uint32_t translate(uint32_t lin, bool write, unsigned user, bool fetch = false);
    // Debugger access: no faults, no A/D bits; false when not mapped.
    bool debug_translate(uint32_t lin, uint32_t& phys);
    void flush_tlb() { tlb.flush(); }
    bool align_check = false;      // CR0.AM && EFLAGS.AC && CPL 3: no TLB fills, slow path checks
    void check_alignment(uint32_t lin, unsigned size);
    // Reads code bytes for the decoder (fetch permission, no alignment check). Raises #PF.
    void fetch_code(uint32_t lin, uint8_t* buf, unsigned n);

    // ---- stack ----
    uint32_t sp_mask() const { return stack32 ? 0xFFFFFFFFu : 0xFFFFu; }
    uint32_t sp() const { return r[ESP] & sp_mask(); }
    void set_sp(uint32_t v) { r[ESP] = stack32 ? v : ((r[ESP] & 0xFFFF0000u) | (v & 0xFFFF)); }
    template <class T> void push(T v) {
        uint32_t nsp = (r[ESP] - sizeof(T)) & sp_mask();
        write<T>(SS, nsp, v);
        set_sp(nsp);
    }
    template <class T> T pop() {
        T v = read<T>(SS, sp());
        set_sp(sp() + sizeof(T));
        return v;
    }

    // ---- segments ----
    // Loads a segment register in the current mode with all protected-mode checks (SDM vol.3 5.4,
    // 5.5; MOV/POP Sreg and LDS...). Raises #GP/#SS/#NP with the selector as error code.
    void load_seg(unsigned s, uint16_t sel);
    // Real-mode / V86 style load: base = sel*16, attributes kept (SDM vol.3 20.1.1).
    void load_seg_real(unsigned s, uint16_t sel);
    // Sets a segment from a raw descriptor (no checks) and recomputes its derived fields.
    void set_seg_cache(Segment& sg, uint16_t sel, uint32_t base, uint32_t limit, uint32_t attr);
    static void derive_seg(Segment& sg, bool is_ss);
    // Reads the 8-byte descriptor for `sel` from the GDT/LDT; false if outside the table limit.
    bool read_descriptor(uint16_t sel, uint32_t& lo, uint32_t& hi);
    void write_descriptor_hi(uint16_t sel, uint32_t hi);

    // ---- control registers ----
    void set_cr0(uint32_t v);
    void set_cr3(uint32_t v);
    void set_cr4(uint32_t v);

    // ---- I/O with the TSS permission bitmap (SDM vol.1 19.5) ----
    void check_io(uint16_t port, unsigned size);
    uint32_t port_in(uint16_t port, unsigned size) { check_io(port, size); return io.read(port, size); }
    void port_out(uint16_t port, uint32_t v, unsigned size) { check_io(port, size); io.write(port, v, size); }

    // ---- far transfers, interrupts, tasks (frontend/far_transfer.cpp, interrupts.cpp, task.cpp) ----
    void far_jump(uint16_t sel, uint32_t off, unsigned osize);
    void far_call(uint16_t sel, uint32_t off, unsigned osize);
    void far_return(unsigned osize, uint16_t pop_bytes);
    void iret(unsigned osize);
    void task_switch(uint16_t sel, uint32_t desc_lo, uint32_t desc_hi, int source, uint32_t next_eip);

private:
    void take_interrupts();
    void exec_block_at_eip(uint64_t budget_left);
    template <bool kProfiled> void exec_block(uint64_t budget_left);
    void profile_block_begin();   // --profile: before and after each block (cold: only while profiling)
    void profile_block_end();
    StopReason run_debug(uint64_t budget);   // run() while debug.active() (debug_points.cpp)
};

}  // namespace lift86
