// ACPI fixed-hardware power-management registers: the PM1a event and control blocks and the
// PM timer (ACPI 6.5 section 4.8 "ACPI Hardware Model", 4.8.3 "PM1 Event/Control Grouping",
// 4.8.3.3 "Power Management Timer"), at the addresses the FADT gives the OS
// (machine/acpi_tables.cpp). Laid out as the PIIX4 power-management function does on QEMU's pc
// machine (PMBASE 0x600), so guests see what they know:
//
//   base+0  PM1_STS  (16 bit, write 1 to clear)  bit 0 TMR_STS, 5 GBL_STS, 8 PWRBTN_STS, 15 WAK_STS
//   base+2  PM1_EN   (16 bit)                    bit 0 TMR_EN, 5 GBL_EN, 8 PWRBTN_EN, 10 RTC_EN
//   base+4  PM1_CNT  (16 bit)                    bit 0 SCI_EN, bits 10-12 SLP_TYP, bit 13 SLP_EN
//   base+8  PM_TMR   (32 bit, read only)         24-bit counter at 3.579545 MHz
//
// There is no SMI command port (FADT SMI_CMD = 0): the machine is in ACPI mode from reset, so
// SCI_EN reads 1. Writing SLP_EN with SLP_TYP = the \_S5 value of the DSDT (0, as on PIIX4)
// powers the machine off (on_power_off); other sleep types are not offered by the DSDT and
// are ignored. The SCI (IRQ 9, level-triggered) is asserted while PM1_STS & PM1_EN is non-zero;
// the only event source wired is the timer's bit-23 carry (TMR_STS). Time is the machine
// clock's, which moves with every retired instruction (Clock::attach_insn_counter).
#pragma once
#include <cstdint>
#include <functional>

#include "machine/bus/clock.hpp"
#include "machine/bus/irq.hpp"
#include "machine/bus/port_bus.hpp"

namespace lift86 {

class AcpiPm final : public PortDevice {
public:
    static constexpr uint16_t kDefaultBase = 0x600;
    static constexpr uint16_t kSlpTypS5 = 0;           // the DSDT's \_S5 package (roms/acpi/dsdt.asl)
    static constexpr uint64_t kTimerHz = 3579545;      // ACPI 4.8.3.3: 3.579545 MHz
    enum : uint16_t { kTmrSts = 1u << 0, kPwrBtnSts = 1u << 8, kWakSts = 1u << 15 };
    enum : uint16_t { kSciEn = 1u << 0, kSlpEn = 1u << 13 };

    AcpiPm(PortBus& io, Clock& clock, uint16_t base = kDefaultBase);
    ~AcpiPm() override;
    AcpiPm(const AcpiPm&) = delete;
    AcpiPm& operator=(const AcpiPm&) = delete;

    IrqLine sci;                                 // to the PIC's IRQ 9
    std::function<void()> on_power_off;        // the OS entered S5 (soft off)

    uint32_t timer() const;                    // current PM_TMR value (24 bits)
    uint16_t base() const { return base_; }
    void reset();

    uint32_t io_read(uint16_t port, unsigned size) override;
    void io_write(uint16_t port, uint32_t value, unsigned size) override;

private:
    uint64_t ticks() const;       // PM timer ticks since construction
    void update_sci();
    void schedule_carry();        // the next bit-23 change of the timer, while TMR_EN is set
    uint32_t read_reg(unsigned off) const;
    void write_reg(unsigned off, uint32_t value);   // one 16-bit register

    PortBus& io_;
    Clock& clock_;
    uint16_t base_;
    Clock::EventId carry_event_;
    uint16_t sts_ = 0, en_ = 0, cnt_ = kSciEn;
};

}  // namespace lift86
