// The PCI face of the standard VGA (QEMU's "-vga std", PCI 1234:1111): BAR0 is the Bochs VBE
// linear framebuffer and the expansion ROM BAR carries the VGA BIOS (SeaBIOS's
// vgabios-stdvga.bin), which the system BIOS finds, copies to 0xC0000 and runs.
// What the board wires: construct after the Vga and attach to the PciBus (slot 2, as QEMU).
#pragma once
#include "devices/pci_bus.hpp"
#include "devices/vga.hpp"

namespace lift86 {

class PciVga final : public PciDevice {
public:
    PciVga(PciBus& bus, Vga& vga, unsigned slot = 2);
    ~PciVga() override;

protected:
    void bar_mapped(int index, uint32_t address) override;
    void bar_unmapped(int index, uint32_t address) override;

private:
    PciBus& bus_;
    Vga& vga_;
};

}  // namespace lift86
