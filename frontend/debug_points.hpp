// The CPU's debugger interface, independent of the engine that runs guest code: breakpoints and
// single-step by linear address, and write/read/access watchpoints over linear ranges. The GDB
// stub (machine/gdbstub/) is its only client today; the interface is what any engine must honour.
//
// Addresses are *linear* (segment base + offset, before paging), because that is what both a
// breakpoint on an instruction (CS.base + EIP) and a watchpoint on data (DS.base + offset) reduce
// to in every CPU mode: real mode (CS*16+IP), V86, 16/32-bit protected mode, with or without
// paging. A debugger that thinks in virtual addresses of a flat kernel sees the same numbers.
//
// ---- Contract for an engine (the interpreter honours it in Cpu::run_debug, debug_points.cpp) ----
//  1. One cheap check: while `active()` is false an engine runs at full speed and never looks at
//     this object again. The set only changes while the CPU is stopped (between Cpu::run calls),
//     so the check is needed once per run() call, not per block.
//  2. While `active()`, before executing an instruction at linear address L the engine calls
//     `should_stop_before(L)`; when it returns true the instruction is NOT executed and run()
//     returns StopReason::Breakpoint with `hit()` telling why. The instruction the CPU resumes at
//     is exempt once (`resume()` arms this), so "continue" from a breakpoint makes progress.
//     An engine may run a whole block without per-instruction checks when
//     `!stepping() && !breakpoint_in(first, bytes)` for the block's linear byte range; a
//     translator does the same with its translated regions (or simply hands blocks that contain
//     a breakpoint back to the interpreter). `generation()` changes on every insert/remove, so
//     translated code that baked checks in can be dropped when it moves.
//  3. Watchpoints: every guest data access to a page for which `page_watched(L, write)` is true
//     must take the slow memory path (Cpu::read_slow / write_slow). The interpreter guarantees it
//     by never filling the softmmu TLB for such pages (Cpu::translate) and by flushing the TLB
//     whenever the watch set changes (this object does that). A JIT that inlines the TLB hit
//     path therefore needs nothing extra: its miss helper is the slow path. The slow path calls
//     `note_access()` *after* the access completed; a hit makes the instruction finish and the
//     engine stop right after it (`watch_pending()`), which is what gdb expects.
//  4. Single-step (`stepping()`): exactly one guest instruction retires, or one exception or
//     interrupt is delivered (the stop is then at the handler's first instruction), and run()
//     returns StopReason::Breakpoint with hit kind Step. Range-step (gdb vCont;r) repeats steps
//     while the linear EIP stays inside [start, end). External interrupts are held off while
//     stepping, as QEMU does, unless the CPU is halted (otherwise a step over HLT never ends).
#pragma once
#include <cstdint>
#include <vector>

#include "machine/bus/tlb.hpp"

namespace lift86 {

enum class BreakKind : uint8_t { Software, Hardware };          // gdb Z0 / Z1
enum class WatchKind : uint8_t { Write, Read, Access };         // gdb Z2 / Z3 / Z4

// Why the CPU stopped for the debugger.
struct DebugHit {
    enum Kind : uint8_t { None, SwBreak, HwBreak, Step, Watch, RWatch, AWatch };
    Kind kind = None;
    uint32_t addr = 0;   // breakpoints: the breakpoint's address; watchpoints: the watched address
                         // that was accessed (inside the watched range); step: 0
};

class DebugPoints {
public:
    explicit DebugPoints(Tlb& tlb) : tlb_(tlb) {}

    // ---- the debugger's side (only while the CPU is stopped). Idempotent: inserting what is
    // already there or removing what is not succeeds, as the GDB protocol asks.
    void insert_breakpoint(BreakKind k, uint32_t lin);
    void remove_breakpoint(BreakKind k, uint32_t lin);
    // false: `len` is 0 or the range wraps around 4 GiB
    bool insert_watchpoint(WatchKind k, uint32_t lin, uint32_t len);
    void remove_watchpoint(WatchKind k, uint32_t lin, uint32_t len);
    void clear();   // everything off (debugger detached)

    enum class Mode : uint8_t { Continue, Step, Range };
    // Sets how the next run() goes. `pc` is the linear address the CPU resumes at: a breakpoint
    // there does not stop the first instruction. Range: step while start <= linear EIP < end.
    void resume(Mode m, uint32_t pc, uint32_t range_start = 0, uint32_t range_end = 0);
    // The reason of the last debug stop; reading it with take_hit() clears it.
    DebugHit hit() const { return hit_; }
    DebugHit take_hit() {
        DebugHit h = hit_;
        hit_ = {};
        return h;
    }

    // ---- the engine's side
    bool active() const { return active_; }
    bool stepping() const { return mode_ != Mode::Continue; }
    bool watching() const { return !watches_.empty(); }
    uint64_t generation() const { return generation_; }
    // Stop before the instruction at `lin`? Records the hit. Consumes the resume exemption.
    bool should_stop_before(uint32_t lin);
    // Any breakpoint in [lin, lin + bytes)? (bytes > 0; the range may wrap at 4 GiB)
    bool breakpoint_in(uint32_t lin, uint32_t bytes) const;
    bool has_breakpoint(uint32_t lin) const { return find_bp(lin) != nullptr; }
    // Is a watchpoint of a kind that this access (read or write) can trigger on the page of `lin`?
    bool page_watched(uint32_t lin, bool write) const;
    // A completed data access [lin, lin + size). Returns true (and records the hit, the first one
    // wins) when it touches a watched range of a matching kind.
    bool note_access(uint32_t lin, unsigned size, bool write);
    bool watch_pending() const { return watch_pending_; }
    // After one instruction ran (or one exception was delivered) at the engine's choosing:
    // returns true when a step/range-step is complete at the new linear EIP `lin` (records the
    // Step hit and returns to Continue mode).
    bool step_done(uint32_t lin);
    // The engine stops for a pending watch hit: clears the pending flag (the hit stays readable).
    void consume_watch() { watch_pending_ = false; }

private:
    struct Bp {
        uint32_t lin;
        bool sw, hw;
    };
    struct Watch {
        uint32_t lin, len;
        WatchKind kind;
    };
    const Bp* find_bp(uint32_t lin) const;
    void changed();
    void update_active();
    static bool matches(WatchKind k, bool write) {
        return k == WatchKind::Access || (k == WatchKind::Write) == write;
    }

    Tlb& tlb_;
    std::vector<Bp> bps_;          // sorted by address (gdb uses a handful)
    std::vector<Watch> watches_;
    Mode mode_ = Mode::Continue;
    uint32_t range_start_ = 0, range_end_ = 0;
    bool skip_valid_ = false;      // the resume exemption
    uint32_t skip_lin_ = 0;
    bool active_ = false;
    bool watch_pending_ = false;
    DebugHit hit_;
    uint64_t generation_ = 0;
};

}  // namespace lift86
