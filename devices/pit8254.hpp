// Intel 8254 programmable interval timer at 0x40-0x43, clocked at 1.193182 MHz.
//
// Reference: Intel 8254 datasheet (order 231164), "Modes", "Read-Back Command",
// "Gate Pin Operations Summary" (table 4) and "Minimum and Maximum Initial Counts" (table 5).
//
// Nothing here ticks. Each counter remembers the tick at which its current count was loaded
// and derives the counting element, OUT and the status byte from the machine clock on demand
// (ticks = ns * 1193182 / 1e9). Counter 0 schedules one Clock event per change of its OUT
// pin — two per period in modes 2 and 3, never one per input clock — and mirrors OUT on
// `irq0` (the PC wires OUT0 to IRQ0, edge triggered). Counter 2's GATE and OUT are reached
// through port 0x61 (see port61.hpp); counter 1 (DRAM refresh) is computed but unused.
#pragma once
#include <cstdint>

#include "machine/bus/clock.hpp"
#include "machine/bus/irq.hpp"
#include "machine/bus/port_bus.hpp"

namespace lift86 {

class Pit8254 final : public PortDevice {
public:
    static constexpr uint64_t kInputHz = 1193182;

    Pit8254(PortBus& bus, Clock& clock);
    ~Pit8254() override;
    Pit8254(const Pit8254&) = delete;
    Pit8254& operator=(const Pit8254&) = delete;

    IrqLine irq0;   // follows OUT0; the board connects it to PIC input 0

    // The GATE pins. On the PC counters 0 and 1 are tied high; counter 2's gate is bit 0 of
    // port 0x61.
    void set_gate(int counter, bool level);
    bool gate(int counter) const { return ctr_[index(counter)].gate; }
    // Level of the OUT pin now.
    bool out(int counter);
    // Value of the counting element now (binary, as the counter holds it); for tests/monitor.
    uint32_t count(int counter);

    // Input clock ticks elapsed at machine time `ns`, and the first ns at which `tick` has
    // elapsed. Public so tests and port 0x61 speak the same arithmetic.
    static uint64_t tick_at(uint64_t ns);
    static uint64_t ns_of_tick(uint64_t tick);

    uint32_t io_read(uint16_t port, unsigned size) override;
    void io_write(uint16_t port, uint32_t value, unsigned size) override;

private:
    static constexpr uint64_t kNever = UINT64_MAX;
    static int index(int counter) { return counter >= 0 && counter < 3 ? counter : 2; }

    // One stretch of counting with fixed parameters. The counting element holds its initial
    // value `n` at tick `start` after `c0` pulses have already been counted (c0 > 0 when a
    // gate pause resumes, or a mode 3 count starts in its low half), and is decremented by
    // every input clock after that.
    struct Run {
        enum State : uint8_t { Idle, Counting, Frozen };
        State state = Idle;   // Idle: no count in the CE (after a control word, or mode 1/5
                              // waiting for a trigger); Frozen: gate holds the count
        uint32_t n = 0;       // initial count, 1..65536 (10000 in BCD)
        uint64_t start = 0;
        uint64_t c0 = 0;
        bool pre_out = true;  // OUT during the clock before `start` (the load is pending)
    };

    struct Counter {
        uint8_t mode = 0;        // 0..5 (6 and 7 fold onto 2 and 3)
        uint8_t mode_bits = 0;   // as written, for the status byte
        uint8_t rw = 3;          // 1 = LSB, 2 = MSB, 3 = LSB then MSB
        bool bcd = false;
        bool gate = true;
        uint16_t cr = 0;         // count register as last written (raw, BCD if bcd)
        bool has_count = false;  // a complete count was written since the control word
        bool write_msb_next = false;
        uint8_t write_lsb = 0;
        bool read_msb_next = false;
        bool count_latched = false;
        bool latch_msb_next = false;
        uint16_t latch = 0;
        bool status_latched = false;
        uint8_t status = 0;
        uint64_t null_until = kNever;   // null count flag reads 1 before this tick
        Run run;
        Run next;                // modes 2/3: new count taking effect at `next.start`
        bool has_next = false;

        uint32_t modulus() const { return bcd ? 10000 : 65536; }
        uint32_t decoded_cr() const;
        const Run& run_at(uint64_t t) const { return has_next && t >= next.start ? next : run; }
        void promote(uint64_t t) {
            if (has_next && t >= next.start) { run = next; has_next = false; }
        }
        bool out_in(const Run& r, uint64_t t) const;
        uint64_t next_change_in(const Run& r, uint64_t t) const;
        bool out_at(uint64_t t) const { return out_in(run_at(t), t); }
        uint64_t next_change(uint64_t t) const;   // first tick > t at which OUT changes
        uint32_t ce_at(uint64_t t) const;

        void control(uint8_t cw);
        void write_count(uint8_t byte, uint64_t t);
        void load(uint32_t raw, uint64_t t);
        uint8_t read(uint64_t t);
        void latch_count(uint64_t t);
        void latch_status(uint64_t t);
        void set_gate(bool level, uint64_t t);
    };

    uint64_t now_tick() const { return tick_at(clock_.now()); }
    // Bracket every operation on a counter: begin() brings counter 0's IRQ line up to date
    // with the old programming (including edges that a late event would otherwise lose),
    // end() reschedules the event for the next OUT0 change.
    uint64_t begin(int i);
    void end(int i, uint64_t t);
    void on_event();

    PortBus& bus_;
    Clock& clock_;
    Clock::EventId event_;
    Counter ctr_[3];
    uint64_t last_sync_tick_ = 0;
};

}  // namespace lift86
