#include "machine/bus/clock.hpp"

#include <chrono>
#include <thread>

namespace lift86 {

Clock::Clock(Mode mode, uint32_t ns_per_insn) : mode_(mode), ns_per_insn_(ns_per_insn) {
    host_origin_ = host_now();
}

uint64_t Clock::host_now() const {
    return uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::steady_clock::now().time_since_epoch())
                        .count());
}

Clock::EventId Clock::add_event(std::string name, std::function<void()> callback) {
    events_.push_back(Event{std::move(name), std::move(callback), kNever});
    return EventId(events_.size() - 1);
}

void Clock::schedule_at(EventId id, uint64_t when_ns) {
    events_[id].when = when_ns;
    if (when_ns < next_deadline_) next_deadline_ = when_ns;
}

void Clock::cancel(EventId id) {
    events_[id].when = kNever;
    recompute_next();
}

void Clock::recompute_next() {
    next_deadline_ = kNever;
    for (const Event& e : events_)
        if (e.when < next_deadline_) next_deadline_ = e.when;
}

void Clock::advance_insns(uint64_t insns) {
    if (mode_ == Mode::Virtual)
        now_ns_ += insns * ns_per_insn_;
    else
        now_ns_ = host_now() - host_origin_;
    if (icount_) base_icount_ = *icount_;
}

bool Clock::skip_to_next_event() {
    if (next_deadline_ == kNever) return false;
    if (next_deadline_ > now_ns_) {
        if (mode_ == Mode::Host) sleep_until_next_event(next_deadline_ - now_ns_);
        else now_ns_ = next_deadline_;
    }
    return true;
}

void Clock::sleep_until_next_event(uint64_t max_ns) {
    uint64_t target = now_ns_ + max_ns;
    if (next_deadline_ < target) target = next_deadline_;
    uint64_t h = host_now() - host_origin_;
    if (target > h) std::this_thread::sleep_for(std::chrono::nanoseconds(target - h));
    now_ns_ = host_now() - host_origin_;
}

void Clock::run_due() {
    // Callbacks may reschedule (themselves or others): loop until nothing is due.
    while (next_deadline_ <= now_ns_) {
        for (size_t i = 0; i < events_.size(); i++) {
            if (events_[i].when <= now_ns_) {
                events_[i].when = kNever;
                recompute_next();
                if (profiling) {
                    const uint64_t t0 = host_now();
                    events_[i].callback();
                    events_[i].ns += host_now() - t0;
                    events_[i].calls++;
                } else {
                    events_[i].callback();
                }
            }
        }
        recompute_next();
    }
}

std::vector<Clock::EventStats> Clock::event_stats() const {
    std::vector<EventStats> out;
    for (const Event& e : events_) out.push_back(EventStats{e.name, e.calls, e.ns});
    return out;
}

}  // namespace lift86
