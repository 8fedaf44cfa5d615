#include "devices/pci_bus.hpp"

#include <algorithm>
#include <stdexcept>

namespace lift86 {

namespace {
constexpr uint16_t kConfigAddress = 0xCF8, kResetControl = 0xCF9, kConfigData = 0xCFC;
constexpr uint8_t kRcrSystemReset = 0x02, kRcrResetCpu = 0x04;
// Command bits a function implements by default (QEMU's pci_init_wmask: everything but the
// reserved bits, wait-cycle control and the read-only high byte).
constexpr uint16_t kCommandWritable = 0x077F;
// Status bits that are write-1-to-clear error flags (PCI 3.0, 6.2.3).
constexpr uint16_t kStatusW1c = 0xF900;
}  // namespace

// ---------------------------------------------------------------------------------------------
// PciDevice

PciDevice::PciDevice(uint16_t vendor, uint16_t device, uint8_t revision, uint32_t class_code,
                     uint8_t header_type) {
    set_cfg16(pci::kVendorId, vendor);
    set_cfg16(pci::kDeviceId, device);
    cfg_[pci::kRevision] = revision;
    cfg_[pci::kProgIf] = uint8_t(class_code);
    cfg_[pci::kSubclass] = uint8_t(class_code >> 8);
    cfg_[pci::kClass] = uint8_t(class_code >> 16);
    cfg_[pci::kHeaderType] = header_type;
    if ((header_type & 0x7F) == 0) {
        // QEMU gives every type-0 function the subsystem IDs 1AF4:1100 (Red Hat, "QEMU
        // virtual machine"); SeaBIOS looks for them on 00:00.0 to decide that it runs on
        // QEMU (src/fw/paravirt.c, qemu_detect) and then takes its QEMU code paths.
        set_cfg16(pci::kSubsystemVendorId, 0x1AF4);
        set_cfg16(pci::kSubsystemId, 0x1100);
    }
    set_cfg16(pci::kCommand, 0);
    wmask_[pci::kCommand] = uint8_t(kCommandWritable);
    wmask_[pci::kCommand + 1] = uint8_t(kCommandWritable >> 8);
    w1cmask_[pci::kStatus] = uint8_t(kStatusW1c);
    w1cmask_[pci::kStatus + 1] = uint8_t(kStatusW1c >> 8);
    wmask_[pci::kCacheLineSize] = 0xFF;
    wmask_[pci::kInterruptLine] = 0xFF;
    // Device-specific registers: writable unless the function says otherwise (QEMU default).
    set_writable(pci::kDeviceSpecific, 256 - pci::kDeviceSpecific, true);
}

PciDevice::~PciDevice() {
    if (bus_) bus_->detach(*this);
}

uint16_t PciDevice::cfg16(uint8_t off) const {
    return uint16_t(cfg_[off] | (off < 255 ? cfg_[off + 1] << 8 : 0));
}

uint32_t PciDevice::cfg32(uint8_t off) const {
    uint32_t v = 0;
    for (unsigned i = 0; i < 4 && off + i < 256; i++) v |= uint32_t(cfg_[off + i]) << (8 * i);
    return v;
}

void PciDevice::set_cfg16(uint8_t off, uint16_t v) {
    for (unsigned i = 0; i < 2 && off + i < 256; i++) cfg_[off + i] = uint8_t(v >> (8 * i));
}

void PciDevice::set_cfg32(uint8_t off, uint32_t v) {
    for (unsigned i = 0; i < 4 && off + i < 256; i++) cfg_[off + i] = uint8_t(v >> (8 * i));
}

void PciDevice::set_writable(uint8_t off, unsigned n, bool writable) {
    for (unsigned i = 0; i < n && off + i < 256; i++) wmask_[off + i] = writable ? 0xFF : 0x00;
}

void PciDevice::declare_bar(int index, BarType type, uint32_t size) {
    if (index < 0 || index >= pci::kNumBars) throw std::logic_error("PCI BAR index out of range");
    if (size < (type == BarType::kIo ? 4u : 16u) || (size & (size - 1)))
        throw std::logic_error("PCI BAR size must be a power of two (I/O >= 4, memory >= 16)");
    const uint8_t off = uint8_t(pci::kBar0 + 4 * index);
    bars_[index].size = size;
    bars_[index].type = type;
    // Low bits say what the BAR is and are read-only (PCI 3.0, 6.2.5.1): bit 0 = I/O space;
    // for memory, bits 2:1 = 00 (32-bit anywhere) and bit 3 = prefetchable.
    const uint32_t type_bits = type == BarType::kIo ? 0x1u : type == BarType::kMem32Prefetch ? 0x8u : 0x0u;
    const uint32_t low_bits = type == BarType::kIo ? 0x3u : 0xFu;
    set_cfg32(off, type_bits);
    const uint32_t mask = ~(size - 1) & ~low_bits;
    for (unsigned i = 0; i < 4; i++) wmask_[off + i] = uint8_t(mask >> (8 * i));
}

void PciDevice::declare_rom(uint32_t size) {
    if (size < 2048 || (size & (size - 1))) throw std::logic_error("PCI ROM size must be a power of two >= 2 KiB");
    bars_[pci::kRomSlot].size = size;
    bars_[pci::kRomSlot].type = BarType::kMem32;
    set_cfg32(pci::kRomBar, 0);
    // Address bits 31:11 down to the size, plus the enable bit 0 (PCI 3.0, 6.2.5.2).
    const uint32_t mask = (~(size - 1) & 0xFFFFF800u) | 0x1u;
    for (unsigned i = 0; i < 4; i++) wmask_[pci::kRomBar + i] = uint8_t(mask >> (8 * i));
}

uint32_t PciDevice::config_read(uint8_t offset, unsigned size) {
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= uint32_t(offset + i < 256 ? cfg_[offset + i] : 0xFF) << (8 * i);
    return v;
}

void PciDevice::config_write(uint8_t offset, uint32_t value, unsigned size) {
    const unsigned end = std::min(256u, unsigned(offset) + size);
    bool remap = false;
    for (unsigned a = offset; a < end; a++) {
        const uint8_t b = uint8_t(value >> (8 * (a - offset)));
        cfg_[a] = uint8_t((cfg_[a] & ~wmask_[a]) | (b & wmask_[a]));
        cfg_[a] &= uint8_t(~(b & w1cmask_[a]));
        if (a == pci::kCommand || a == pci::kCommand + 1 || (a >= pci::kBar0 && a < pci::kBar0 + 24) ||
            (a >= pci::kRomBar && a < pci::kRomBar + 4))
            remap = true;
    }
    if (remap) {
        update_mappings();
        update_irq();   // the Interrupt Disable bit may have changed
    }
    config_written(offset, size);
}

// Which address a BAR decodes now, with QEMU's rules (hw/pci/pci.c, pci_bar_address): the
// command register must enable the space; address 0, a range that wraps or runs past the
// end of the space (as during sizing, when the BAR holds ~(size-1)) decodes nothing.
uint32_t PciDevice::decode_bar(int index) const {
    const Bar& b = bars_[index];
    if (!b.size) return pci::kUnmapped;
    const uint16_t cmd = cfg16(pci::kCommand);
    if (index == pci::kRomSlot) {
        const uint32_t v = cfg32(pci::kRomBar);
        if (!(cmd & pci::kCmdMemory) || !(v & 1)) return pci::kUnmapped;
        const uint32_t addr = v & ~(b.size - 1) & 0xFFFFF800u;
        const uint64_t last = uint64_t(addr) + b.size - 1;
        if (addr == 0 || last >= 0xFFFFFFFFull) return pci::kUnmapped;
        return addr;
    }
    const uint32_t v = cfg32(uint8_t(pci::kBar0 + 4 * index));
    if (b.type == BarType::kIo) {
        if (!(cmd & pci::kCmdIo)) return pci::kUnmapped;
        const uint32_t addr = v & ~(b.size - 1) & ~0x3u;
        const uint64_t last = uint64_t(addr) + b.size - 1;
        if (addr == 0 || last > 0xFFFF) return pci::kUnmapped;
        return addr;
    }
    if (!(cmd & pci::kCmdMemory)) return pci::kUnmapped;
    const uint32_t addr = v & ~(b.size - 1) & ~0xFu;
    const uint64_t last = uint64_t(addr) + b.size - 1;
    if (addr == 0 || last >= 0xFFFFFFFFull) return pci::kUnmapped;
    return addr;
}

void PciDevice::update_mappings() {
    for (int i = 0; i < int(bars_.size()); i++) {
        const uint32_t now = decode_bar(i);
        const uint32_t was = bars_[i].mapped;
        if (now == was) continue;
        bars_[i].mapped = now;
        if (was != pci::kUnmapped) bar_unmapped(i, was);
        if (now != pci::kUnmapped) bar_mapped(i, now);
    }
}

void PciDevice::reset() {
    // PCI 3.0, 6.2.2: RESET# clears the command register, so the function decodes nothing
    // and drives no interrupt; BARs lose their addresses (QEMU's pci_reset_regions).
    set_cfg16(pci::kCommand, 0);
    set_cfg16(pci::kStatus, uint16_t(cfg16(pci::kStatus) & ~(kStatusW1c | pci::kStatusInterrupt)));
    cfg_[pci::kCacheLineSize] = 0;
    cfg_[pci::kInterruptLine] = 0;
    for (int i = 0; i < pci::kNumBars; i++)
        if (bars_[i].size) {
            const uint8_t off = uint8_t(pci::kBar0 + 4 * i);
            set_cfg32(off, cfg32(off) & (bars_[i].type == BarType::kIo ? 0x3u : 0xFu));
        }
    if (bars_[pci::kRomSlot].size) set_cfg32(pci::kRomBar, 0);
    update_mappings();
    irq_level_ = false;
    update_irq();
}

void PciDevice::set_irq(bool level) {
    irq_level_ = level;
    update_irq();
}

void PciDevice::update_irq() {
    // PCI 3.0, 6.2.2-6.2.3: Interrupt Disable masks INTx#; Interrupt Status shows the
    // function's own request regardless.
    uint16_t st = cfg16(pci::kStatus);
    st = irq_level_ ? uint16_t(st | pci::kStatusInterrupt) : uint16_t(st & ~pci::kStatusInterrupt);
    set_cfg16(pci::kStatus, st);
    const bool out = irq_level_ && !(cfg16(pci::kCommand) & pci::kCmdIntxDisable) && cfg_[pci::kInterruptPin] != 0;
    if (out == irq_out_) return;
    irq_out_ = out;
    if (bus_) bus_->intx_changed(*this, out);
}

// ---------------------------------------------------------------------------------------------
// PciBus

PciBus::PciBus(PortBus& io) : io_(io) { io_.register_ports(kConfigAddress, 8, this); }

PciBus::~PciBus() {
    io_.unregister_ports(kConfigAddress, 8);
    for (PciDevice* d : slots_)
        if (d) d->bus_ = nullptr;
}

void PciBus::attach(PciDevice& dev, unsigned slot, unsigned fn) {
    if (slot > 31 || fn > 7) throw std::logic_error("PCI device/function out of range");
    PciDevice*& place = slots_[slot * 8 + fn];
    if (place) throw std::logic_error("PCI device/function already taken");
    if (dev.bus_) throw std::logic_error("PCI function already attached");
    place = &dev;
    dev.bus_ = this;
    dev.devfn_ = uint8_t(slot * 8 + fn);
    // PCI 3.0, 6.2.1: bit 7 of function 0's header type says "look at functions 1-7";
    // firmware (SeaBIOS's pci_next) skips them otherwise.
    if (PciDevice* f0 = slots_[slot * 8])
        for (unsigned f = 1; f < 8; f++)
            if (slots_[slot * 8 + f]) f0->cfg_[pci::kHeaderType] |= pci::kHeaderMultiFunction;
    if (dev.irq_out_) intx_changed(dev, true);
}

void PciBus::detach(PciDevice& dev) {
    if (dev.bus_ != this) return;
    if (dev.irq_out_) intx_changed(dev, false);
    slots_[dev.devfn_] = nullptr;
    dev.bus_ = nullptr;
}

uint32_t PciBus::config_read(unsigned slot, unsigned fn, uint8_t offset, unsigned size) {
    PciDevice* d = device(slot, fn);
    if (!d) return size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;   // master abort: all ones
    return d->config_read(offset, size);
}

void PciBus::config_write(unsigned slot, unsigned fn, uint8_t offset, uint32_t value, unsigned size) {
    if (PciDevice* d = device(slot, fn)) d->config_write(offset, value, size);
}

PciDevice* PciBus::selected() const {
    // Only bus 0 exists (no PCI-to-PCI bridges): type 1 cycles to other buses master-abort.
    if (!(address_ & 0x80000000u) || ((address_ >> 16) & 0xFF) != 0) return nullptr;
    return slots_[(address_ >> 8) & 0xFF];
}

void PciBus::reset() {
    address_ = 0;
    rcr_ = 0;
    for (PciDevice* d : slots_)
        if (d) d->reset();
}

uint32_t PciBus::io_read(uint16_t port, unsigned size) {
    const uint32_t ones = size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
    if (port == kConfigAddress && size == 4) return address_;
    if (port == kResetControl && size == 1) return rcr_;
    if (port >= kConfigData) {
        PciDevice* d = selected();
        if (!d) return ones;
        // Byte k of the data window is register (address & 0xFC) + k; a wide access at an
        // odd port reads on into the next register, as QEMU does.
        return d->config_read(uint8_t((address_ & 0xFC) + (port - kConfigData)), size);
    }
    return ones;   // other widths at 0xCF8-0xCFB: CONFIG_ADDRESS answers dword accesses only
}

void PciBus::io_write(uint16_t port, uint32_t value, unsigned size) {
    if (port == kConfigAddress && size == 4) {
        // QEMU keeps every bit and reads them back; only bits 31, 23:2 select anything.
        address_ = value;
        return;
    }
    if (port == kResetControl && size == 1) {
        // PIIX3 datasheet, RC register: "a 0 to 1 transition of RCPU initiates the reset",
        // hard when SRST (bit 1) is set.
        // Bit 2 is never stored (it reads back 0), so every write with it set is such a
        // transition; QEMU likewise resets on any write with bit 2.
        const uint8_t v = uint8_t(value);
        const bool fire = v & kRcrResetCpu;
        rcr_ = v & kRcrSystemReset;
        if (fire && on_reset) on_reset(v & kRcrSystemReset);
        return;
    }
    if (port >= kConfigData) {
        if (PciDevice* d = selected())
            d->config_write(uint8_t((address_ & 0xFC) + (port - kConfigData)), value, size);
    }
}

void PciBus::intx_changed(PciDevice& dev, bool level) {
    const int pirq = pirq_of(dev.slot(), dev.cfg_[pci::kInterruptPin]);
    const bool before = pirq_count_[pirq] > 0;
    pirq_count_[pirq] += level ? 1 : -1;
    const bool after = pirq_count_[pirq] > 0;
    if (before != after && pirq_sink_) pirq_sink_(pirq, after);
}

}  // namespace lift86
