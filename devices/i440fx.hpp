// The i440FX/PIIX3 chipset of QEMU's "pc" machine, as firmware sees it on PCI bus 0:
//
//   00:00.0  I440fx     Intel 82441FX PMC (host bridge), 8086:1237 rev 02, class 06/00
//   00:01.0  Piix3Isa   Intel 82371SB PIIX3 PCI-to-ISA bridge, 8086:7000, class 06/01
//   00:01.1  Piix3Ide   Intel 82371SB PIIX3 IDE, 8086:7010, class 01/01 prog-if 0x80
//
// References: Intel 82441FX/82442FX datasheet (order 290549), 3.2 (PAM0-PAM6 at 0x59-0x5F,
// SMRAM at 0x72); Intel 82371FB/SB datasheet (order 290550), 2.2 (PIRQRC[A:D] at 0x60-0x63)
// and 2.3 (IDETIM at 0x40/0x42, BMIBA at 0x20); SeaBIOS src/fw/shadow.c and src/fw/pciinit.c
// for what the firmware does with them; QEMU hw/pci-host/i440fx.c, hw/pci-host/pam.c,
// hw/isa/piix3.c, hw/ide/piix.c for the register values after reset (read for behaviour).
//
// What the board must wire (machine/machine.cpp):
//   PciBus pci{io};
//   I440fx host{pci, mem};                        // attaches itself at 00:00.0
//   Piix3Isa isa{pci};                            // 00:01.0, becomes the PIRQ router
//   Piix3Ide ide{pci, io};                        // 00:01.1
//   isa.on_isa_irq = [&](int irq, bool l) { pic.set_irq(irq, l); };   // PCI INTx -> PIC
//   ide.bmdma = &ata_bus_master;                  // optional: 16 ports registered at BAR4
//   ide.on_bmdma_map = ...; ide.on_decode = ...;  // optional, see Piix3Ide
//   pci.on_reset = [&](bool) { request_reset(); };
//   on machine reset: pci.reset() (PAM back to "disabled", PIRQs unrouted, BARs unmapped).
// Construct the I440fx after PhysMemory and before or after the BIOS ROM is mapped; it
// remembers what 0xC0000-0xFFFFF held the first time shadow RAM replaces it.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <vector>

#include "devices/pci_bus.hpp"
#include "machine/bus/phys_memory.hpp"
#include "machine/bus/port_bus.hpp"

namespace lift86 {

// 82441FX host bridge: the PAM registers choose, per region of 0xC0000-0xFFFFF, between the
// ROM/PCI side and the DRAM behind it ("shadow RAM"); the SMRAM register is only stored.
class I440fx final : public PciDevice {
public:
    I440fx(PciBus& bus, PhysMemory& mem, unsigned slot = 0);
    ~I440fx() override;

    // PAM attribute of a region (82441FX datasheet, table "PAM registers"): bit 0 = read
    // enable (RE), bit 1 = write enable (WE).
    enum Pam : uint8_t { kPamDisabled = 0, kPamReadOnly = 1, kPamWriteOnly = 2, kPamReadWrite = 3 };
    // 13 regions: 0 = 0xF0000-0xFFFFF (PAM0 bits 5:4), 1..12 = 16 KiB each from 0xC0000
    // (PAM1 bits 1:0 = 0xC0000, PAM1 bits 5:4 = 0xC4000, ..., PAM6 bits 5:4 = 0xEC000).
    static constexpr int kPamRegions = 13;
    static uint32_t pam_base(int region) { return region == 0 ? 0xF0000u : 0xC0000u + uint32_t(region - 1) * 0x4000u; }
    static uint32_t pam_size(int region) { return region == 0 ? 0x10000u : 0x4000u; }
    Pam pam(int region) const { return Pam(applied_[region]); }
    uint8_t smram() const { return cfg_[kSmram]; }

    void reset() override;

    enum : uint8_t { kPam0 = 0x59, kSmram = 0x72, kRamSizeReg = 0x57 };

protected:
    void config_written(uint8_t offset, unsigned size) override;

private:
    void update_pam();
    void apply_pam(int region, uint8_t attr);

    PhysMemory& mem_;
    std::array<uint8_t, kPamRegions> applied_{};                  // attribute in force
    std::array<std::vector<PhysMemory::Page>, kPamRegions> saved_;  // the ROM/PCI side
};

// PIIX3 function 0: the PCI-to-ISA bridge. Its PIRQ route control registers (0x60-0x63)
// steer the four PCI interrupt lines to ISA IRQs: bit 7 set = not routed, bits 3:0 = IRQ.
// Several PIRQs routed to one IRQ are ORed (the lines are wired-OR, active low).
class Piix3Isa final : public PciDevice {
public:
    explicit Piix3Isa(PciBus& bus, unsigned slot = 1);
    ~Piix3Isa() override;

    // An ISA IRQ input driven by PCI interrupts changes level (level-triggered: the guest
    // sets the IRQ's ELCR bit; SeaBIOS does for IRQs 10 and 11).
    std::function<void(int isa_irq, bool level)> on_isa_irq;
    // The ISA IRQ PIRQ `pirq` (0 = PIRQA) is routed to, or -1.
    int route(int pirq) const;
    // Current level of an ISA IRQ as driven by PCI interrupts.
    bool isa_irq_level(int isa_irq) const { return isa_levels_ & (1u << isa_irq); }

    void reset() override;

    enum : uint8_t { kPirqRouteA = 0x60 };

protected:
    void config_written(uint8_t offset, unsigned size) override;

private:
    void pirq_changed(int pirq, bool level);
    void recompute();

    std::array<bool, 4> pirq_{};
    uint16_t isa_levels_ = 0;
};

// PIIX3 function 1: the IDE controller in legacy ("compatibility") mode: the channels
// answer at 0x1F0-0x1F7/0x3F6 (IRQ14) and 0x170-0x177/0x376 (IRQ15) whatever the BARs say,
// so BARs 0-3 do not exist; BAR4 (BMIBA) holds the 16 bus-master IDE ports. The ATA device
// itself lives elsewhere; this function is its PCI face.
class Piix3Ide final : public PciDevice {
public:
    Piix3Ide(PciBus& bus, PortBus& io, unsigned slot = 1);
    ~Piix3Ide() override;

    // Optional: the bus-master IDE register block. While BAR4 decodes, ports
    // [bmdma_base(), +16) are registered to it on the PortBus (it sees absolute ports).
    PortDevice* bmdma = nullptr;
    // Optional: BAR4 started (mapped = true, at `base`) or stopped decoding.
    std::function<void(bool mapped, uint16_t base)> on_bmdma_map;
    bool bmdma_mapped() const { return bar_address(kBmdmaBar) != pci::kUnmapped; }
    uint16_t bmdma_base() const { return uint16_t(bar_address(kBmdmaBar)); }

    // IDETIM bit 15 ("IDE decode enable") of channel 0 (primary, 0x40) or 1 (secondary,
    // 0x42) changed. SeaBIOS sets both; Linux's ata_piix ignores a channel whose bit is
    // clear. QEMU keeps the legacy ports decoded regardless; a board that wants QEMU's
    // behaviour can ignore this.
    std::function<void(int channel, bool enabled)> on_decode;
    bool decode_enabled(int channel) const { return cfg16(uint8_t(kIdetim + 2 * channel)) & 0x8000; }

    void reset() override;

    enum : uint8_t { kIdetim = 0x40 };
    static constexpr int kBmdmaBar = 4;

protected:
    void bar_mapped(int index, uint32_t address) override;
    void bar_unmapped(int index, uint32_t address) override;
    void config_written(uint8_t offset, unsigned size) override;

private:
    PortBus& io_;
    std::array<bool, 2> decode_{};
};

}  // namespace lift86
