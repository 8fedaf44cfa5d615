#include "devices/i440fx.hpp"

#include <algorithm>

namespace lift86 {

// ---------------------------------------------------------------------------------------------
// 82441FX host bridge

I440fx::I440fx(PciBus& bus, PhysMemory& mem, unsigned slot)
    : PciDevice(0x8086, 0x1237, 0x02, 0x060000), mem_(mem) {
    bus.attach(*this, slot, 0);
    reset();
}

I440fx::~I440fx() = default;   // the mapping stays as it is: PhysMemory may already be gone

void I440fx::reset() {
    PciDevice::reset();
    // The 82441FX clears PAM0-PAM6 on reset, so 0xC0000-0xFFFFF shows the ROM side again.
    // QEMU leaves them as they were (SeaBIOS's shadow.c qemu_reboot copies the pristine image
    // back into shadow RAM before it resets). SeaBIOS copes with both: with PAM0's read
    // enable clear it unlocks from the 4 GiB alias and copies itself again. Clearing them lets
    // the board map a fresh BIOS ROM on reset without stale shadow RAM on top of it.
    for (int r = kPam0; r < kPam0 + 7; r++) cfg_[r] = 0;
    cfg_[kSmram] = 0x02;   // C_BASE_SEG = 010b (0xA0000), closed, not locked (datasheet default)
    // QEMU puts the RAM size in 8 MiB units at 0x57 for coreboot 4.0 and older; not a real
    // 82441FX register (real DRB registers live at 0x60-0x67).
    cfg_[kRamSizeReg] = uint8_t(std::min<uint32_t>(mem_.ram_size() / (8u << 20), 255));
    update_pam();
}

void I440fx::config_written(uint8_t offset, unsigned size) {
    // SeaBIOS rewrites PAM0-PAM6 as two dwords at 0x58 and 0x5C (shadow.c).
    if (offset < kPam0 + 7 && offset + size > kPam0) update_pam();
}

void I440fx::update_pam() {
    for (int r = 0; r < kPamRegions; r++) {
        // Region 0 is PAM0's high nibble; then each PAM register holds two regions, the
        // lower address in its low nibble (as QEMU's pam_update indexes them).
        const uint8_t reg = cfg_[kPam0 + (r + 1) / 2];
        const uint8_t attr = (r & 1) ? (reg & 0x3) : ((reg >> 4) & 0x3);
        if (attr != applied_[r]) apply_pam(r, attr);
    }
}

void I440fx::apply_pam(int region, uint8_t attr) {
    const uint32_t base = pam_base(region);
    const size_t n = pam_size(region) / kPageSize;
    std::vector<PhysMemory::Page>& saved = saved_[region];
    if (applied_[region] == kPamDisabled) {
        // Leaving the ROM/PCI side: remember what was mapped there (the BIOS ROM, option
        // ROMs, or nothing) so that disabling shadowing shows it again.
        saved.clear();
        for (size_t k = 0; k < n; k++) saved.push_back(mem_.page(PhysAddr(base + k * kPageSize)));
    }
    applied_[region] = attr;
    if (attr == kPamDisabled) {
        mem_.set_pages(base, saved.data(), saved.size());
        return;
    }
    // Shadow RAM is the DRAM at the same address. Read-only: reads from DRAM, writes are
    // dropped. Write-only (WE without RE) should read from the ROM side and write to DRAM;
    // QEMU maps it as plain read/write DRAM (hw/pci-host/pam.c, "XXX"), and so do we.
    // SeaBIOS never uses it: it goes from disabled to 0x33/0x30 (read/write) to 0x11/0x10.
    std::vector<PhysMemory::Page> pages(n);
    for (size_t k = 0; k < n; k++) {
        const uint32_t a = base + uint32_t(k) * kPageSize;
        if (a + kPageSize > mem_.ram_size()) continue;   // no DRAM behind it: nothing answers
        pages[k].host = mem_.ram() + a;
        pages[k].kind = attr == kPamReadOnly ? PhysMemory::kRom : PhysMemory::kRam;
    }
    mem_.set_pages(base, pages.data(), n);
}

// ---------------------------------------------------------------------------------------------
// PIIX3 PCI-to-ISA bridge

Piix3Isa::Piix3Isa(PciBus& bus, unsigned slot)
    : PciDevice(0x8086, 0x7000, 0x00, 0x060100, pci::kHeaderMultiFunction) {
    // Header type 0x80 makes PciDevice skip the subsystem IDs (they belong to type 0); QEMU
    // sets them on every function, so do it here too.
    set_cfg16(pci::kSubsystemVendorId, 0x1AF4);
    set_cfg16(pci::kSubsystemId, 0x1100);
    bus.attach(*this, slot, 0);
    bus.set_pirq_sink([this](int pirq, bool level) { pirq_changed(pirq, level); });
    for (int p = 0; p < 4; p++) pirq_[p] = bus.pirq_level(p);
    reset();
}

Piix3Isa::~Piix3Isa() {
    if (PciBus* b = bus()) b->set_pirq_sink(nullptr);
}

void Piix3Isa::reset() {
    PciDevice::reset();
    // Values after reset as QEMU's piix3_reset sets them (PIIX3 datasheet defaults).
    set_cfg16(pci::kCommand, 0x0007);   // I/O, memory, bus master: the ISA bridge is always on
    set_cfg16(pci::kStatus, pci::kStatusDevselMedium);
    cfg_[0x4C] = 0x4D;   // IORT: ISA I/O recovery timer
    cfg_[0x4E] = 0x03;   // XBCS: X-bus chip select (RTC, keyboard controller)
    cfg_[0x4F] = 0x00;
    for (int p = 0; p < 4; p++) cfg_[kPirqRouteA + p] = 0x80;   // PIRQRC[A:D]: routing disabled
    cfg_[0x69] = 0x02;   // TOM: top of memory
    cfg_[0x70] = 0x80;   // MBIRQ0: motherboard IRQ routing disabled
    cfg_[0x76] = 0x0C;   // MBDMA0/1: no channel
    cfg_[0x77] = 0x0C;
    cfg_[0x78] = 0x02;   // PCSC: programmable chip select
    cfg_[0x79] = 0x00;
    cfg_[0x80] = 0x00;   // APICBASE
    cfg_[0x82] = 0x00;   // DLC
    cfg_[0xA0] = 0x08;   // SMICNTL
    for (int r : {0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7, 0xAA, 0xAB, 0xAC, 0xAE}) cfg_[r] = 0x00;
    cfg_[0xA8] = 0x0F;   // SEE
    update_mappings();
    recompute();
}

int Piix3Isa::route(int pirq) const {
    // QEMU takes any value below 16 as an IRQ number (piix3_route_intx_pin_to_irq); on the
    // PIIX3 bit 7 (IRQROUTEN, active low) disables and bits 3:0 select, which agrees for
    // every value a BIOS writes.
    const uint8_t v = cfg_[kPirqRouteA + (pirq & 3)];
    return v < 16 ? v : -1;
}

void Piix3Isa::config_written(uint8_t offset, unsigned size) {
    if (offset < kPirqRouteA + 4 && offset + size > kPirqRouteA) recompute();
}

void Piix3Isa::pirq_changed(int pirq, bool level) {
    pirq_[pirq & 3] = level;
    recompute();
}

void Piix3Isa::recompute() {
    uint16_t levels = 0;
    for (int p = 0; p < 4; p++) {
        const int irq = route(p);
        if (irq >= 0 && pirq_[p]) levels |= uint16_t(1u << irq);
    }
    const uint16_t changed = levels ^ isa_levels_;
    isa_levels_ = levels;
    for (int irq = 0; irq < 16; irq++)
        if ((changed & (1u << irq)) && on_isa_irq) on_isa_irq(irq, levels & (1u << irq));
}

// ---------------------------------------------------------------------------------------------
// PIIX3 IDE

Piix3Ide::Piix3Ide(PciBus& bus, PortBus& io, unsigned slot)
    : PciDevice(0x8086, 0x7010, 0x00, 0x010180), io_(io) {
    // Prog-if 0x80: bus-master capable, both channels fixed in compatibility mode.
    declare_bar(kBmdmaBar, BarType::kIo, 16);
    bus.attach(*this, slot, 1);
    reset();
}

Piix3Ide::~Piix3Ide() {
    if (bmdma && bmdma_mapped()) io_.unregister_ports(bmdma_base(), 16);
}

void Piix3Ide::reset() {
    PciDevice::reset();   // command 0: BAR4 stops decoding
    set_cfg16(pci::kStatus, pci::kStatusFastBack | pci::kStatusDevselMedium);
    set_cfg32(pci::kBar0 + 4 * kBmdmaBar, 0x00000001);   // BMIBA after reset (QEMU)
    update_mappings();
    // IDETIM (0x40-0x43) keeps its value: QEMU's reset handlers touch only the standard
    // header and BMIBA; it is zero at power-on.
    config_written(kIdetim, 4);
}

void Piix3Ide::bar_mapped(int index, uint32_t address) {
    if (index != kBmdmaBar) return;
    if (bmdma) io_.register_ports(uint16_t(address), 16, bmdma);
    if (on_bmdma_map) on_bmdma_map(true, uint16_t(address));
}

void Piix3Ide::bar_unmapped(int index, uint32_t address) {
    if (index != kBmdmaBar) return;
    if (bmdma) io_.unregister_ports(uint16_t(address), 16);
    if (on_bmdma_map) on_bmdma_map(false, uint16_t(address));
}

void Piix3Ide::config_written(uint8_t offset, unsigned size) {
    if (!(offset < kIdetim + 4 && offset + size > kIdetim)) return;
    for (int ch = 0; ch < 2; ch++) {
        const bool en = decode_enabled(ch);
        if (en == decode_[ch]) continue;
        decode_[ch] = en;
        if (on_decode) on_decode(ch, en);
    }
}

}  // namespace lift86
