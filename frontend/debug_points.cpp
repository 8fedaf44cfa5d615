// The debugger interface (debug_points.hpp) and the interpreter's debug run loop, which honours
// it: Cpu::run hands over to Cpu::run_debug whenever a debug point or a step is active.
#include "frontend/debug_points.hpp"

#include <algorithm>

#include "frontend/block_cache.hpp"
#include "frontend/cpu.hpp"

namespace lift86 {

// ---------------------------------------------------------------- DebugPoints
void DebugPoints::update_active() {
    active_ = !bps_.empty() || !watches_.empty() || mode_ != Mode::Continue || skip_valid_;
}

void DebugPoints::changed() {
    generation_++;
    update_active();
}

const DebugPoints::Bp* DebugPoints::find_bp(uint32_t lin) const {
    auto it = std::lower_bound(bps_.begin(), bps_.end(), lin, [](const Bp& b, uint32_t a) { return b.lin < a; });
    return it != bps_.end() && it->lin == lin ? &*it : nullptr;
}

void DebugPoints::insert_breakpoint(BreakKind k, uint32_t lin) {
    auto it = std::lower_bound(bps_.begin(), bps_.end(), lin, [](const Bp& b, uint32_t a) { return b.lin < a; });
    if (it == bps_.end() || it->lin != lin) it = bps_.insert(it, Bp{lin, false, false});
    (k == BreakKind::Software ? it->sw : it->hw) = true;
    changed();
}

void DebugPoints::remove_breakpoint(BreakKind k, uint32_t lin) {
    auto it = std::lower_bound(bps_.begin(), bps_.end(), lin, [](const Bp& b, uint32_t a) { return b.lin < a; });
    if (it == bps_.end() || it->lin != lin) return;
    (k == BreakKind::Software ? it->sw : it->hw) = false;
    if (!it->sw && !it->hw) bps_.erase(it);
    changed();
}

bool DebugPoints::insert_watchpoint(WatchKind k, uint32_t lin, uint32_t len) {
    if (len == 0 || uint64_t(lin) + len > (uint64_t(1) << 32)) return false;
    for (const Watch& w : watches_)
        if (w.lin == lin && w.len == len && w.kind == k) return true;
    watches_.push_back(Watch{lin, len, k});
    tlb_.flush();   // pages with cached translations must go through the slow path from now on
    changed();
    return true;
}

void DebugPoints::remove_watchpoint(WatchKind k, uint32_t lin, uint32_t len) {
    auto it = std::find_if(watches_.begin(), watches_.end(),
                           [&](const Watch& w) { return w.lin == lin && w.len == len && w.kind == k; });
    if (it == watches_.end()) return;
    watches_.erase(it);
    tlb_.flush();   // (not needed for correctness: lets the page use the fast path again)
    changed();
}

void DebugPoints::clear() {
    bps_.clear();
    if (!watches_.empty()) tlb_.flush();
    watches_.clear();
    mode_ = Mode::Continue;
    skip_valid_ = false;
    watch_pending_ = false;
    hit_ = {};
    changed();
}

void DebugPoints::resume(Mode m, uint32_t pc, uint32_t range_start, uint32_t range_end) {
    mode_ = m;
    range_start_ = range_start;
    range_end_ = range_end;
    skip_valid_ = true;
    skip_lin_ = pc;
    watch_pending_ = false;
    hit_ = {};
    changed();
}

bool DebugPoints::should_stop_before(uint32_t lin) {
    if (skip_valid_) {
        skip_valid_ = false;
        update_active();
        if (lin == skip_lin_) return false;
    }
    const Bp* b = bps_.empty() ? nullptr : find_bp(lin);
    if (!b) return false;
    // Both kinds at one address: gdb inserted a software one, report that.
    hit_ = DebugHit{b->sw ? DebugHit::SwBreak : DebugHit::HwBreak, lin};
    mode_ = Mode::Continue;
    update_active();
    return true;
}

bool DebugPoints::breakpoint_in(uint32_t lin, uint32_t bytes) const {
    if (bps_.empty()) return false;
    const uint32_t last = lin + bytes - 1;
    auto first_at_or_after = [&](uint32_t a) {
        return std::lower_bound(bps_.begin(), bps_.end(), a, [](const Bp& b, uint32_t x) { return b.lin < x; });
    };
    if (last >= lin) {
        auto it = first_at_or_after(lin);
        return it != bps_.end() && it->lin <= last;
    }
    // The range wraps past 4 GiB (16-bit code near the top cannot, but stay exact).
    return first_at_or_after(lin) != bps_.end() || bps_.front().lin <= last;
}

bool DebugPoints::page_watched(uint32_t lin, bool write) const {
    const uint64_t page = lin & ~uint32_t(0xFFF);
    for (const Watch& w : watches_) {
        if (!matches(w.kind, write)) continue;
        const uint64_t first = w.lin & ~uint64_t(0xFFF), last = uint64_t(w.lin) + w.len - 1;
        if (page >= first && page <= last) return true;
    }
    return false;
}

bool DebugPoints::note_access(uint32_t lin, unsigned size, bool write) {
    const uint64_t a0 = lin, a1 = uint64_t(lin) + size;   // [a0, a1)
    for (const Watch& w : watches_) {
        if (!matches(w.kind, write)) continue;
        const uint64_t w0 = w.lin, w1 = uint64_t(w.lin) + w.len;
        if (a0 >= w1 || w0 >= a1) continue;
        if (!watch_pending_) {
            const DebugHit::Kind k = w.kind == WatchKind::Write  ? DebugHit::Watch
                                     : w.kind == WatchKind::Read ? DebugHit::RWatch
                                                                 : DebugHit::AWatch;
            // gdb matches the reported address against [start, start + len) of its watchpoints.
            hit_ = DebugHit{k, uint32_t(std::max(a0, w0))};
            watch_pending_ = true;
        }
        return true;
    }
    return false;
}

bool DebugPoints::step_done(uint32_t lin) {
    if (mode_ == Mode::Continue) return false;
    if (mode_ == Mode::Range && lin >= range_start_ && lin < range_end_) return false;
    mode_ = Mode::Continue;
    hit_ = DebugHit{DebugHit::Step, 0};
    update_active();
    return true;
}

// ---------------------------------------------------------------- the debug run loop
// Same structure as Cpu::run, with the checks of the contract in debug_points.hpp. Blocks run
// whole when nothing inside them can stop the CPU, so a kernel with a few breakpoints set runs
// close to full interpreter speed; watchpoints cost only the slow path on watched pages.
StopReason Cpu::run_debug(uint64_t budget) {
    stop = StopReason::None;
    const uint64_t end = icount + budget;
    DebugPoints& d = debug;
    auto watch_stop = [&] {
        if (!d.watch_pending()) return false;
        d.consume_watch();
        if (stop == StopReason::None) stop = StopReason::Breakpoint;   // (a reset or exit request wins)
        return true;
    };
    while (stop == StopReason::None && icount < end) {
        const bool stepping = d.stepping();
        if (!inhibit_irq && (nmi_pending || (eflags & fl::IF)) && (!stepping || halted)) {
            const bool was_halted = halted;
            try {
                take_interrupts();
            } catch (const GuestFault& f) {
                deliver(f.vector, f.error_code, false);
            }
            if (watch_stop()) break;   // the delivery's pushes touched a watched range
            // A step over HLT ends at the first instruction of the handler that woke the CPU.
            if (stepping && was_halted && !halted && d.step_done(seg[CS].base + eip)) {
                stop = StopReason::Breakpoint;
                break;
            }
        }
        if (halted) {
            stop = StopReason::Halted;
            break;
        }
        const uint32_t lin = seg[CS].base + eip;
        if (d.should_stop_before(lin)) {
            stop = StopReason::Breakpoint;
            break;
        }
        uint64_t n = 1;
        if (!stepping) {
            // The whole block when no breakpoint lies inside it. A fetch fault here is raised
            // again, and delivered, by exec_block_at_eip.
            Block* b = nullptr;
            try {
                b = blocks->lookup();
            } catch (const GuestFault&) {
            }
            if (b && !d.breakpoint_in(lin, std::max<uint32_t>(b->bytes, 1))) {
                n = end - icount;
            } else if (b) {
                // Run up to the first breakpoint inside the block (at least the first
                // instruction: a breakpoint there was just exempted), so a breakpoint in a hot
                // block does not make every instruction after it start a block of its own.
                uint32_t off = 0;
                size_t k = 0;
                for (; k < b->insns.size(); off += b->insns[k].len, k++)
                    if (k > 0 && d.has_breakpoint(lin + off)) break;
                n = std::max<size_t>(k, 1);
            }
        }
        exec_block_at_eip(n);
        if (watch_stop()) break;
        if (stop == StopReason::None && stepping && d.step_done(seg[CS].base + eip)) stop = StopReason::Breakpoint;
    }
    if (stop == StopReason::None) stop = StopReason::Budget;
    return stop;
}

}  // namespace lift86
