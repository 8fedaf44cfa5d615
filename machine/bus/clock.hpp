// The machine clock and its event scheduler (DESIGN.md decision 8).
// Time is kept in nanoseconds of guest time. In `virtual` mode it advances only with retired
// instructions (a fixed number of ns per instruction) and HLT jumps to the next event, so runs
// are reproducible bit for bit. In `host` mode it follows the host's monotonic clock.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace lift86 {

class Clock {
public:
    enum class Mode { Virtual, Host };
    using EventId = int;
    static constexpr uint64_t kNever = UINT64_MAX;

    explicit Clock(Mode mode = Mode::Virtual, uint32_t ns_per_insn = 1);

    Mode mode() const { return mode_; }
    // Guest time. The machine advances the clock between run slices; with the CPU's retired-
    // instruction counter attached, virtual time also moves within a slice, instruction by
    // instruction, so a device read mid-slice (a PIT or PM-timer read in a calibration loop)
    // sees the time of that instruction, as the TSC does.
    uint64_t now() const {
        return icount_ && mode_ == Mode::Virtual ? now_ns_ + (*icount_ - base_icount_) * ns_per_insn_ : now_ns_;
    }
    // `icount` must only grow, and advance_insns() must be told every instruction it counts.
    void attach_insn_counter(const uint64_t* icount) {
        icount_ = icount;
        base_icount_ = icount ? *icount : 0;
    }
    uint32_t ns_per_insn() const { return ns_per_insn_; }

    // Registers a named event whose callback runs when its deadline passes. Returns its id.
    EventId add_event(std::string name, std::function<void()> callback);
    void schedule_at(EventId id, uint64_t when_ns);
    void schedule_in(EventId id, uint64_t delay_ns) { schedule_at(id, now() + delay_ns); }
    void cancel(EventId id);
    bool pending(EventId id) const { return events_[id].when != kNever; }

    uint64_t next_deadline() const { return next_deadline_; }
    // Advances time by `insns` retired instructions (virtual mode) or to the host time.
    void advance_insns(uint64_t insns);
    // Jumps to the next deadline (HLT in virtual mode). Returns false when nothing is scheduled.
    bool skip_to_next_event();
    // Runs the callbacks of all events whose deadline has passed.
    void run_due();
    // Host mode: sleep until the next event or `max_ns`, whichever comes first.
    void sleep_until_next_event(uint64_t max_ns);

    // --profile: while set, run_due counts each event's callbacks and their host time.
    bool profiling = false;
    struct EventStats {
        std::string name;
        uint64_t calls = 0, ns = 0;
    };
    std::vector<EventStats> event_stats() const;

private:
    struct Event {
        std::string name;
        std::function<void()> callback;
        uint64_t when = kNever;
        uint64_t calls = 0, ns = 0;   // --profile
    };
    void recompute_next();
    uint64_t host_now() const;

    Mode mode_;
    uint32_t ns_per_insn_;
    uint64_t now_ns_ = 0;
    const uint64_t* icount_ = nullptr;   // attach_insn_counter
    uint64_t base_icount_ = 0;           // *icount_ when now_ns_ was last brought up to date
    uint64_t host_origin_ = 0;
    uint64_t next_deadline_ = kNever;
    std::vector<Event> events_;
};

}  // namespace lift86
