#include "devices/pci_vga.hpp"

namespace lift86 {

PciVga::PciVga(PciBus& bus, Vga& vga, unsigned slot)
    : PciDevice(Vga::kPciVendorId, Vga::kPciDeviceId, 0x02, Vga::kPciClassCode), bus_(bus), vga_(vga) {
    declare_bar(0, BarType::kMem32Prefetch, Vga::kLfbSize);
    if (vga.rom_bar_size()) declare_rom(vga.rom_bar_size());
    bus.attach(*this, slot, 0);
}

PciVga::~PciVga() { bus_.detach(*this); }

void PciVga::bar_mapped(int index, uint32_t address) {
    if (index == 0) vga_.map_lfb(address);
    else if (index == pci::kRomSlot) vga_.map_rom(address);
}

void PciVga::bar_unmapped(int index, uint32_t) {
    if (index == 0) vga_.unmap_lfb();
    else if (index == pci::kRomSlot) vga_.unmap_rom();
}

}  // namespace lift86
