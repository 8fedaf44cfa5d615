// Two cascaded Intel 8259A programmable interrupt controllers, as wired in every PC/AT:
// master at 0x20/0x21, slave at 0xA0/0xA1 with its INT output on master IR2, plus the
// edge/level control registers (ELCR) at 0x4D0/0x4D1 that PCI-era chipsets (PIIX) add.
//
// Reference: Intel 8259A datasheet (order 231468), "Programming the 8259A"; Intel 82371AB
// (PIIX4) datasheet section 3.4 for the ELCR.
//
// The board wires device IRQ lines to set_irq(), mirrors intr() into the CPU's INTR input
// through on_intr, and calls acknowledge() to run the two INTA cycles and get the vector.
#pragma once
#include <cstdint>
#include <functional>

#include "machine/bus/port_bus.hpp"

namespace lift86 {

class Pic8259 final : public PortDevice {
public:
    explicit Pic8259(PortBus& bus);
    ~Pic8259() override;
    Pic8259(const Pic8259&) = delete;
    Pic8259& operator=(const Pic8259&) = delete;

    // Drives input `line` (0..15; 0..7 master, 8..15 slave). Line 2 is the cascade and is
    // driven internally by the slave, so device requests on it are ignored.
    void set_irq(int line, bool level);
    // The master's INT output: true when an unmasked request outranks everything in service.
    bool intr() const { return intr_; }
    // The two INTA cycles: returns the vector, sets the in-service bit (unless auto-EOI) and
    // clears the edge latch. With nothing left to deliver it returns the IR7 vector of the
    // chip concerned without touching its ISR ("spurious" IRQ7 / IRQ15).
    uint8_t acknowledge();
    // Called exactly when intr() changes, from every path that can change it (input lines,
    // register writes, polls, INTA): the board keeps Cpu::intr_line equal to intr() with it.
    std::function<void(bool)> on_intr;

    // Read-only views for the monitor and tests. Index 0 = master, 1 = slave.
    uint8_t irr(int chip) const { return chips_[chip].effective_irr(); }
    uint8_t isr(int chip) const { return chips_[chip].isr; }
    uint8_t imr(int chip) const { return chips_[chip].imr; }
    uint8_t elcr(int chip) const { return chips_[chip].elcr; }

    uint32_t io_read(uint16_t port, unsigned size) override;
    void io_write(uint16_t port, uint32_t value, unsigned size) override;

private:
    struct Chip {
        // Registers (datasheet "Interrupt Request Register", "In-Service Register", "IMR").
        uint8_t irr = 0;      // edge latches; level inputs are sampled live (see effective_irr)
        uint8_t isr = 0;
        uint8_t imr = 0;
        uint8_t input = 0;    // current level of the IR pins
        uint8_t elcr = 0;     // 1 = level triggered (per-input ELCR bit)
        uint8_t elcr_mask = 0;  // ELCR bits that exist (IRQ0/1/2/8/13 are edge-only)
        // Programming state.
        uint8_t vector_base = 0;   // ICW2 T7..T3
        uint8_t icw3 = 0;          // master: bitmap of IRs with a slave; slave: its ID
        uint8_t lowest = 7;        // the IR with the lowest priority (rotation state)
        int init_step = 0;         // 0 = operational; 2..4 = next ICW expected
        bool icw4_needed = false;
        bool single = false;       // ICW1 SNGL: no ICW3, no cascade
        bool ltim = false;         // ICW1 LTIM: every input level triggered
        bool auto_eoi = false;     // ICW4 AEOI
        bool sfnm = false;         // ICW4 special fully nested mode
        bool rotate_on_aeoi = false;
        bool special_mask = false; // OCW3 SMM
        bool read_isr = false;     // OCW3 RR/RIS
        bool poll = false;         // OCW3 P: next read is a poll

        uint8_t level_mask() const { return ltim ? 0xFF : elcr; }
        uint8_t effective_irr() const {
            return uint8_t((irr & ~level_mask()) | (input & level_mask()));
        }
        int highest_in(uint8_t bits) const;   // highest-priority IR set in `bits`, or -1
        int pending(bool is_master) const;    // IR that would be requested now, or -1
        void set_input(int ir, bool level);
        void ack(int ir);
        void eoi(int ir, bool rotate);
        void write_cmd(uint8_t v);            // A0 = 0
        void write_data(uint8_t v);           // A0 = 1
        uint8_t read_cmd(bool is_master);     // A0 = 0 (IRR/ISR/poll)
        void reset_for_icw1(uint8_t icw1);
    };

    void update();   // propagates slave INT to master IR2 and recomputes INTR

    PortBus& bus_;
    Chip chips_[2];
    bool intr_ = false;
};

}  // namespace lift86
