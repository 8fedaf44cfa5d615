#include "devices/pit8254.hpp"

namespace lift86 {

namespace {

using u128 = unsigned __int128;
constexpr uint64_t kNsPerSec = 1000000000;

// ---- Per-mode behaviour of the counting element, as functions of c = clock pulses counted
// since the CE was loaded with n (datasheet figures 11-16). All assume n >= 1.

// Level of OUT after c pulses.
bool out_after(uint8_t mode, uint32_t n, uint64_t c) {
    switch (mode) {
    case 0:   // interrupt on terminal count: low until the count reaches zero
    case 1:   // one-shot: low from the trigger until terminal count
        return c >= n;
    case 2:   // rate generator: low for the one clock in which the CE holds 1
        return n < 2 || c % n != n - 1;
    case 3:   // square wave: high for ceil(n/2) clocks, low for floor(n/2)
        return n < 2 || c % n < (n + 1) / 2;
    default:  // 4, 5 strobes: low for the one clock after the CE reaches zero
        return c != n;
    }
}

// Smallest c' > c at which OUT differs from OUT at c, or UINT64_MAX.
uint64_t next_flip(uint8_t mode, uint32_t n, uint64_t c) {
    constexpr uint64_t never = UINT64_MAX;
    switch (mode) {
    case 0:
    case 1:
        return c < n ? n : never;
    case 2: {
        if (n < 2) return never;   // count 1 is illegal in mode 2 (table 5): OUT stays high
        uint64_t q = c % n;
        return q == n - 1 ? c + 1 : c + (n - 1 - q);
    }
    case 3: {
        if (n < 2) return never;
        uint64_t q = c % n, h = (n + 1) / 2;
        return q < h ? c + (h - q) : c + (n - q);
    }
    default:
        return c < n ? n : c == n ? n + 1 : never;
    }
}

// Value of the counting element after c pulses (binary; `m` = 65536 or 10000).
uint32_t ce_after(uint8_t mode, uint32_t n, uint32_t m, uint64_t c) {
    switch (mode) {
    case 2:   // n, n-1, ..., 1, reload n
        return uint32_t((n - c % n) % m);
    case 3: {
        // Mode 3 decrements by two. An odd count first loses one (high half) or three (low
        // half) so that the halves last (n+1)/2 and (n-1)/2 clocks; each half starts at n.
        uint64_t q = c % n;
        uint64_t v;
        if (n % 2 == 0) {
            v = n - 2 * (q % (n / 2));
        } else {
            uint64_t h = (n + 1) / 2;
            if (q < h) v = q == 0 ? n : n + 1 - 2 * q;
            else v = q == h ? n : n - 1 - 2 * (q - h);
        }
        return uint32_t(v % m);
    }
    default:  // 0, 1, 4, 5: count down through zero and keep wrapping
        return uint32_t((n + m - c % m) % m);
    }
}

uint16_t to_bcd(uint32_t v) {
    v %= 10000;
    return uint16_t((v / 1000) << 12 | (v / 100 % 10) << 8 | (v / 10 % 10) << 4 | v % 10);
}

}  // namespace

uint64_t Pit8254::tick_at(uint64_t ns) { return uint64_t(u128(ns) * kInputHz / kNsPerSec); }

uint64_t Pit8254::ns_of_tick(uint64_t tick) {
    return uint64_t((u128(tick) * kNsPerSec + kInputHz - 1) / kInputHz);
}

// ---------------------------------------------------------------------------------------------
// Counter

uint32_t Pit8254::Counter::decoded_cr() const {
    uint32_t v = cr;
    if (bcd) {
        // Digits above 9 are nonsense the guest wrote; weigh them anyway and stay in range.
        v = ((cr >> 12) & 15) * 1000 + ((cr >> 8) & 15) * 100 + ((cr >> 4) & 15) * 10 + (cr & 15);
        v %= 10000;
    }
    return v == 0 ? modulus() : v;   // 0 is the maximum count: 2^16 or 10^4
}

bool Pit8254::Counter::out_in(const Run& r, uint64_t t) const {
    switch (r.state) {
    case Run::Idle:
        return mode != 0;   // initial OUT after a control word: low in mode 0, else high
    case Run::Frozen:
        // GATE low forces OUT high at once in modes 2 and 3; in 0 and 4 it only stops counting.
        return (mode == 2 || mode == 3) ? true : out_after(mode, r.n, r.c0);
    case Run::Counting:
        if (t < r.start) return r.pre_out;   // the load clock has not come yet
        return out_after(mode, r.n, r.c0 + (t - r.start));
    }
    return true;
}

uint64_t Pit8254::Counter::next_change_in(const Run& r, uint64_t t) const {
    if (r.state != Run::Counting) return kNever;
    uint64_t c, base;
    if (t < r.start) {
        if (out_in(r, t) != out_after(mode, r.n, r.c0)) return r.start;
        c = r.c0;
        base = r.start;
    } else {
        c = r.c0 + (t - r.start);
        base = t;
    }
    uint64_t c2 = next_flip(mode, r.n, c);
    if (c2 == kNever) return kNever;
    return base + (c2 - c);
}

uint64_t Pit8254::Counter::next_change(uint64_t t) const {
    const Run& r = run_at(t);
    uint64_t k = next_change_in(r, t);
    if (has_next && t < next.start && k >= next.start) {
        // The pending count takes over at next.start, possibly before the old run's change.
        if (out_in(run, next.start - 1) != out_in(next, next.start)) return next.start;
        return next_change_in(next, next.start);
    }
    return k;
}

uint32_t Pit8254::Counter::ce_at(uint64_t t) const {
    const Run& r = run_at(t);
    switch (r.state) {
    case Run::Idle:
        return has_count ? decoded_cr() % modulus() : 0;
    case Run::Frozen:
        return ce_after(mode, r.n, modulus(), r.c0);
    case Run::Counting:
        if (t < r.start) return r.n % modulus();
        return ce_after(mode, r.n, modulus(), r.c0 + (t - r.start));
    }
    return 0;
}

void Pit8254::Counter::control(uint8_t cw) {
    // "When a Control Word is written to a Counter, all Control Logic is immediately reset
    // and OUT goes to a known initial state" (datasheet, "Write Operations").
    rw = (cw >> 4) & 3;
    mode_bits = (cw >> 1) & 7;
    mode = mode_bits > 5 ? mode_bits - 4 : mode_bits;   // 11x are modes 2/3 (X don't care)
    bcd = cw & 1;
    has_count = false;
    write_msb_next = false;
    read_msb_next = false;
    null_until = kNever;
    run = Run{};
    has_next = false;
}

void Pit8254::Counter::write_count(uint8_t byte, uint64_t t) {
    switch (rw) {
    case 1: load(byte, t); break;
    case 2: load(uint32_t(byte) << 8, t); break;
    default:
        if (!write_msb_next) {
            write_lsb = byte;
            write_msb_next = true;
            // Mode 0: "Writing the first byte disables counting. OUT is set low immediately."
            // Freeze the CE where it is; counting resumes with the complete new count.
            if (mode == 0) {
                uint32_t v = ce_at(t);
                run = Run{Run::Frozen, v ? v : modulus(), 0, 0, false};
                has_next = false;
            }
        } else {
            write_msb_next = false;
            load(write_lsb | uint32_t(byte) << 8, t);
        }
    }
}

// A complete count was written at tick t.
void Pit8254::Counter::load(uint32_t raw, uint64_t t) {
    cr = uint16_t(raw);
    bool first = !has_count;
    has_count = true;
    uint32_t n = decoded_cr();
    // The CE is loaded on the next input clock (t + 1), and decremented by the ones after.
    // Until then OUT keeps its level, except that mode 0 drives it low at once.
    Run fresh{Run::Counting, n, t + 1, 0, mode != 0 && out_at(t)};
    switch (mode) {
    case 0:
    case 4:
        // Modes 0 and 4 take the new count on the next clock even while counting. With GATE
        // low the count is still loaded, but not decremented.
        run = gate ? fresh : Run{Run::Frozen, n, 0, 0, true};
        null_until = t + 1;
        break;
    case 1:
    case 5:
        // Hardware-triggered modes: the count waits in the CR for a GATE rising edge and
        // does not disturb a one-shot in progress.
        null_until = kNever;
        break;
    default: {   // 2, 3
        if (!gate) {   // loaded by the GATE rising edge
            null_until = kNever;
            break;
        }
        if (first || run.state != Run::Counting || t < run.start) {
            run = fresh;
            has_next = false;
            null_until = t + 1;
            break;
        }
        // Counting already: the new count is loaded at the end of the current period
        // (mode 2) or half-period (mode 3), without glitching OUT.
        promote(t);
        uint64_t c = run.c0 + (t - run.start);
        uint64_t q = c % run.n, boundary;
        bool low_half = false;
        if (mode == 2) {
            boundary = c - q + run.n;
        } else {
            uint64_t h = (run.n + 1) / 2;
            if (q < h) { boundary = c - q + h; low_half = true; }
            else boundary = c - q + run.n;
        }
        next = Run{Run::Counting, n, run.start + (boundary - run.c0), low_half ? (n + 1) / 2 : 0, true};
        has_next = true;
        null_until = next.start;
    }
    }
}

void Pit8254::Counter::set_gate(bool level, uint64_t t) {
    if (level == gate) return;
    gate = level;
    promote(t);
    bool in_progress = run.state == Run::Counting;
    uint64_t c = in_progress && t >= run.start ? run.c0 + (t - run.start) : 0;
    // A trigger or reload takes effect on the next clock; OUT holds its level until then
    // (a retrigger in mode 1 keeps the pulse low rather than glitching).
    Run fresh{Run::Counting, decoded_cr(), t + 1, 0, out_at(t)};
    switch (mode) {
    case 0:
    case 4:   // gate enables/disables counting, no reload
        if (!level && in_progress) run = Run{Run::Frozen, run.n, 0, c, true};
        else if (level && run.state == Run::Frozen) run = Run{Run::Counting, run.n, t, run.c0, true};
        break;
    case 1:
    case 5:   // rising edge triggers (and retriggers) with the CR
        if (level && has_count) {
            run = fresh;
            null_until = t + 1;
        }
        break;
    default:  // 2, 3: low stops counting (OUT high), rising edge reloads the CR
        has_next = false;
        if (!level) {
            if (in_progress) run = Run{Run::Frozen, run.n, 0, c, true};
        } else if (has_count) {
            run = fresh;
            null_until = t + 1;
        }
    }
}

void Pit8254::Counter::latch_count(uint64_t t) {
    if (count_latched) return;   // a second latch before the first is read is ignored
    uint32_t v = ce_at(t);
    latch = bcd ? to_bcd(v) : uint16_t(v);
    count_latched = true;
    latch_msb_next = false;
}

void Pit8254::Counter::latch_status(uint64_t t) {
    if (status_latched) return;
    // Read-back status byte (datasheet figure 20): OUT, NULL COUNT, RW1 RW0, M2 M1 M0, BCD.
    status = uint8_t((out_at(t) ? 0x80 : 0) | (t < null_until ? 0x40 : 0) | rw << 4 |
                     mode_bits << 1 | (bcd ? 1 : 0));
    status_latched = true;
}

uint8_t Pit8254::Counter::read(uint64_t t) {
    if (status_latched) {   // a latched status is read before a latched count
        status_latched = false;
        return status;
    }
    uint16_t v;
    bool msb;
    if (count_latched) {
        v = latch;
        if (rw == 3) {
            msb = latch_msb_next;
            latch_msb_next = !latch_msb_next;
            if (msb) count_latched = false;
        } else {
            msb = rw == 2;
            count_latched = false;
        }
    } else {
        uint32_t ce = ce_at(t);
        v = bcd ? to_bcd(ce) : uint16_t(ce);
        if (rw == 3) {
            msb = read_msb_next;
            read_msb_next = !read_msb_next;
        } else {
            msb = rw == 2;
        }
    }
    return msb ? uint8_t(v >> 8) : uint8_t(v);
}

// ---------------------------------------------------------------------------------------------
// The chip

Pit8254::Pit8254(PortBus& bus, Clock& clock) : bus_(bus), clock_(clock) {
    event_ = clock_.add_event("pit0", [this] { on_event(); });
    last_sync_tick_ = now_tick();
    bus_.register_ports(0x40, 4, this);
}

Pit8254::~Pit8254() {
    clock_.cancel(event_);
    bus_.unregister_ports(0x40, 4);
}

uint64_t Pit8254::begin(int i) {
    uint64_t t = now_tick();
    Counter& c = ctr_[i];
    if (i == 0) {
        // Did OUT0 rise anywhere in (last sync, t]? OUT alternates, so only the first two
        // changes matter. If the line cannot show that edge by its level alone (the event
        // ran late, or the low pulse of mode 2 lies entirely in the gap), pulse it.
        bool rose = false;
        uint64_t k1 = c.next_change(last_sync_tick_);
        if (k1 <= t) {
            if (c.out_at(k1)) rose = true;
            else if (c.next_change(k1) <= t) rose = true;
        }
        bool now_out = c.out_at(t);
        if (rose && !(!irq0.level() && now_out)) {
            if (irq0.level()) irq0.lower();
            irq0.raise();
        }
        if (irq0.level() != now_out) irq0.set(now_out);
        last_sync_tick_ = t;
    }
    c.promote(t);
    return t;
}

void Pit8254::end(int i, uint64_t t) {
    if (i != 0) return;
    Counter& c = ctr_[0];
    bool now_out = c.out_at(t);
    if (irq0.level() != now_out) irq0.set(now_out);   // e.g. a control word just reset OUT
    last_sync_tick_ = t;
    uint64_t k = c.next_change(t);
    if (k == kNever) clock_.cancel(event_);
    else clock_.schedule_at(event_, ns_of_tick(k));
}

void Pit8254::on_event() {
    uint64_t t = begin(0);
    end(0, t);
}

void Pit8254::set_gate(int counter, bool level) {
    int i = index(counter);
    uint64_t t = begin(i);
    ctr_[i].set_gate(level, t);
    end(i, t);
}

bool Pit8254::out(int counter) {
    int i = index(counter);
    uint64_t t = begin(i);
    bool v = ctr_[i].out_at(t);
    end(i, t);
    return v;
}

uint32_t Pit8254::count(int counter) {
    int i = index(counter);
    return ctr_[i].ce_at(now_tick());
}

uint32_t Pit8254::io_read(uint16_t port, unsigned size) {
    int i = port & 3;
    if (i == 3) return 0xFF;   // the control word register is write-only; the bus floats
    uint64_t t = begin(i);
    uint8_t v = ctr_[i].read(t);
    end(i, t);
    return v;
}

void Pit8254::io_write(uint16_t port, uint32_t value, unsigned size) {
    uint8_t v = uint8_t(value);
    int i = port & 3;
    if (i != 3) {
        uint64_t t = begin(i);
        ctr_[i].write_count(v, t);
        end(i, t);
        return;
    }
    int sc = v >> 6;
    if (sc == 3) {
        // Read-back command (datasheet figure 19): bit 5 = !COUNT, bit 4 = !STATUS,
        // bits 3..1 select counters 2..0.
        for (int k = 0; k < 3; k++) {
            if (!(v & (2 << k))) continue;
            uint64_t t = begin(k);
            if (!(v & 0x20)) ctr_[k].latch_count(t);
            if (!(v & 0x10)) ctr_[k].latch_status(t);
            end(k, t);
        }
        return;
    }
    uint64_t t = begin(sc);
    if (((v >> 4) & 3) == 0)
        ctr_[sc].latch_count(t);   // counter latch command
    else
        ctr_[sc].control(v);
    end(sc, t);
}

}  // namespace lift86
