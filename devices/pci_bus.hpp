// PCI bus 0 of a PC: configuration mechanism #1 and the PCI device model.
//
//   0xCF8  CONFIG_ADDRESS (dword accesses only): bit 31 enable, 23:16 bus, 15:11 device,
//          10:8 function, 7:2 register
//   0xCFC  CONFIG_DATA, 0xCFC-0xCFF: byte/word/dword at any offset; byte k of the window
//          is config register (CONFIG_ADDRESS & 0xFC) + k
//   0xCF9  Reset Control register of the PIIX3 (byte accesses): bit 1 selects a hard
//          reset, a 0 -> 1 transition of bit 2 resets the system
//
// References: PCI Local Bus Specification 3.0, 3.2.2.3.2 (mechanism #1) and 6.1-6.2
// (configuration header, BARs, expansion ROM BAR, command/status); Intel 82371SB (PIIX3)
// datasheet 2.3 (Reset Control register); QEMU hw/pci/pci.c (which BAR values count as
// mapped, default write masks and subsystem IDs), read for behaviour.
//
// What the board must wire (machine/machine.cpp):
//   - construct one PciBus on the PortBus and attach the chipset (see i440fx.hpp);
//   - PciBus::on_reset -> the machine's reset request (SeaBIOS and Linux reboot via 0xCF9);
//   - on machine reset, call PciBus::reset() (resets every function: BARs unmapped,
//     i440FX PAM back to ROM, PIRQs unrouted) before reloading the firmware;
//   - the PIRQ sink is installed by the PIIX3 (Piix3Isa); without one, INTx goes nowhere.
// The PciBus must outlive the devices attached to it.
#pragma once
#include <array>
#include <cstdint>
#include <functional>

#include "machine/bus/port_bus.hpp"

namespace lift86 {

class PciBus;

// Configuration header offsets (PCI 3.0, figure 6-1) and register bits.
namespace pci {
enum : uint8_t {
    kVendorId = 0x00, kDeviceId = 0x02, kCommand = 0x04, kStatus = 0x06, kRevision = 0x08,
    kProgIf = 0x09, kSubclass = 0x0A, kClass = 0x0B, kCacheLineSize = 0x0C, kLatencyTimer = 0x0D,
    kHeaderType = 0x0E, kBar0 = 0x10, kSubsystemVendorId = 0x2C, kSubsystemId = 0x2E,
    kRomBar = 0x30, kCapabilities = 0x34, kInterruptLine = 0x3C, kInterruptPin = 0x3D,
    kDeviceSpecific = 0x40,
};
enum : uint16_t {
    kCmdIo = 0x0001, kCmdMemory = 0x0002, kCmdMaster = 0x0004, kCmdSerr = 0x0100,
    kCmdIntxDisable = 0x0400,
};
enum : uint16_t {
    kStatusInterrupt = 0x0008, kStatusFastBack = 0x0080, kStatusDevselMedium = 0x0200,
};
enum : uint8_t { kHeaderMultiFunction = 0x80 };
enum : int { kNumBars = 6, kRomSlot = 6 };   // BAR index 6 = expansion ROM (offset 0x30)
enum : int { kIntA = 1, kIntB = 2, kIntC = 3, kIntD = 4 };   // Interrupt Pin values
constexpr uint32_t kUnmapped = 0xFFFFFFFFu;
}  // namespace pci

// One PCI function: 256 bytes of configuration space with per-byte write masks.
// Derived classes describe themselves in their constructor (identity, BARs, interrupt pin,
// reset values) and override the hooks they need.
class PciDevice {
public:
    // `class_code` is 0xCCSSPP: base class, subclass, programming interface.
    PciDevice(uint16_t vendor, uint16_t device, uint8_t revision, uint32_t class_code,
              uint8_t header_type = 0);
    virtual ~PciDevice();
    PciDevice(const PciDevice&) = delete;
    PciDevice& operator=(const PciDevice&) = delete;

    // A configuration cycle from the bus: `size` (1, 2, 4) bytes at `offset`, little-endian;
    // bytes beyond 0xFF read as 0xFF and are not written. Writes honour the write masks and
    // write-1-to-clear bits, then remap BARs when the command register or a BAR changed and
    // finally call config_written(). Derived classes may override and call these.
    virtual uint32_t config_read(uint8_t offset, unsigned size);
    virtual void config_write(uint8_t offset, uint32_t value, unsigned size);

    // Power-on/RESET# state of the standard header: command and BARs cleared (so every BAR
    // is unmapped), interrupt line 0, INTx deasserted. Overrides call PciDevice::reset() first
    // and then set their own registers.
    virtual void reset();

    // Drives the function's INTx# pin (the one in the Interrupt Pin register); level-sensitive.
    // Masked by the command register's Interrupt Disable bit; mirrored in status bit 3.
    void set_irq(bool level);
    bool irq_level() const { return irq_level_; }

    // The address BAR `index` (0-5, or pci::kRomSlot) decodes now, or pci::kUnmapped.
    uint32_t bar_address(int index) const { return bars_[index].mapped; }
    uint32_t bar_size(int index) const { return bars_[index].size; }

    PciBus* bus() const { return bus_; }
    unsigned slot() const { return devfn_ >> 3; }
    unsigned function() const { return devfn_ & 7; }

    // Raw configuration space, for the device itself, the board and tests: no masks, no
    // side effects.
    uint8_t cfg8(uint8_t off) const { return cfg_[off]; }
    uint16_t cfg16(uint8_t off) const;
    uint32_t cfg32(uint8_t off) const;
    void set_cfg8(uint8_t off, uint8_t v) { cfg_[off] = v; }
    void set_cfg16(uint8_t off, uint16_t v);
    void set_cfg32(uint8_t off, uint32_t v);

protected:
    enum class BarType { kIo, kMem32, kMem32Prefetch };
    // Declares BAR `index` (0-5): `size` is a power of two (I/O: 4..256 bytes per PCI, any
    // power of two >= 4 accepted; memory: >= 16). Sizing works by the write mask: writing
    // 0xFFFFFFFF reads back ~(size - 1) plus the type bits.
    void declare_bar(int index, BarType type, uint32_t size);
    // Declares the expansion ROM BAR (0x30) of `size` bytes (power of two, >= 2 KiB);
    // it decodes when its enable bit (bit 0) and the command register's memory bit are set.
    void declare_rom(uint32_t size);
    // Sets the Interrupt Pin register (pci::kIntA..kIntD, 0 = none).
    void set_interrupt_pin(uint8_t pin) { cfg_[pci::kInterruptPin] = pin; }
    // Makes bytes [off, off+n) read-only (mask 0) or fully writable (mask 0xFF).
    void set_writable(uint8_t off, unsigned n, bool writable);
    void set_wmask(uint8_t off, uint8_t mask) { wmask_[off] = mask; }

    // BAR `index` starts decoding at `address` (I/O port or physical address): register the
    // ranges on the PortBus/PhysMemory here.
    virtual void bar_mapped(int index, uint32_t address) {}
    // BAR `index` stops decoding at `address` (moved, disabled, or reset): unregister them.
    virtual void bar_unmapped(int index, uint32_t address) {}
    // After a configuration write to [offset, offset+size), masks already applied.
    virtual void config_written(uint8_t offset, unsigned size) {}

    // Recomputes every BAR's decode state and calls bar_mapped/bar_unmapped for changes.
    // Called after writes and reset(); call it after changing the command register or a BAR
    // with set_cfg*().
    void update_mappings();

    uint8_t cfg_[256] = {};
    uint8_t wmask_[256] = {};
    uint8_t w1cmask_[256] = {};

private:
    friend class PciBus;
    struct Bar {
        uint32_t size = 0;          // 0 = not implemented
        BarType type = BarType::kMem32;
        uint32_t mapped = pci::kUnmapped;
    };
    uint32_t decode_bar(int index) const;
    void update_irq();

    PciBus* bus_ = nullptr;
    uint8_t devfn_ = 0;
    std::array<Bar, 7> bars_{};
    bool irq_level_ = false;        // what the function drives
    bool irq_out_ = false;          // what reaches the bus (after Interrupt Disable)
};

class PciBus final : public PortDevice {
public:
    explicit PciBus(PortBus& io);
    ~PciBus() override;
    PciBus(const PciBus&) = delete;
    PciBus& operator=(const PciBus&) = delete;

    // Plugs `dev` in at bus 0, device `slot` (0-31), function `fn` (0-7). Function 0 gets the
    // multi-function bit of its header type as soon as the slot has another function.
    // Throws std::logic_error when the place is taken or out of range.
    void attach(PciDevice& dev, unsigned slot, unsigned fn);
    void detach(PciDevice& dev);
    PciDevice* device(unsigned slot, unsigned fn) const { return slots_[(slot & 31) * 8 + (fn & 7)]; }

    // A configuration cycle on bus 0, as CONFIG_ADDRESS/CONFIG_DATA would make it; absent
    // functions read as all ones. For the board, the monitor and tests.
    uint32_t config_read(unsigned slot, unsigned fn, uint8_t offset, unsigned size);
    void config_write(unsigned slot, unsigned fn, uint8_t offset, uint32_t value, unsigned size);

    // RESET#: resets every function, CONFIG_ADDRESS and the Reset Control register.
    void reset();

    // 0xCF9 bit 2 went from 0 to 1. `hard` is bit 1 (SRST: hard reset, as SeaBIOS and Linux
    // request it); QEMU resets the whole machine either way.
    std::function<void(bool hard)> on_reset;

    // INTx routing. A function's INTx# pin reaches one of the four PIRQ lines of the
    // chipset; the i440FX board rotates them by slot (QEMU's pci_slot_get_pirq, what
    // SeaBIOS's piix_pci_slot_get_irq and the ACPI _PRT assume):
    //   PIRQ = (slot - 1 + pin - 1) mod 4
    static int pirq_of(unsigned slot, int pin) { return int((slot + 3 + unsigned(pin) - 1) & 3); }
    // The PIRQ router (the PIIX3) installs this; it is told whenever a PIRQ line's level (the
    // OR of every INTx wired to it) changes.
    void set_pirq_sink(std::function<void(int pirq, bool level)> sink) { pirq_sink_ = std::move(sink); }
    bool pirq_level(int pirq) const { return pirq_count_[pirq & 3] > 0; }

    uint32_t config_address() const { return address_; }

    uint32_t io_read(uint16_t port, unsigned size) override;
    void io_write(uint16_t port, uint32_t value, unsigned size) override;

private:
    friend class PciDevice;
    void intx_changed(PciDevice& dev, bool level);
    PciDevice* selected() const;

    PortBus& io_;
    std::array<PciDevice*, 256> slots_{};
    uint32_t address_ = 0;     // CONFIG_ADDRESS
    uint8_t rcr_ = 0;          // Reset Control register (only bit 1, SRST, is kept)
    std::array<int, 4> pirq_count_{};
    std::function<void(int, bool)> pirq_sink_;
};

}  // namespace lift86
