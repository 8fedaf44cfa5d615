// QEMU's firmware configuration device (fw_cfg), I/O port flavour of the PC:
//
//   0x510        selector (16-bit writes): item key; resets the data offset to 0
//   0x511        data (8-bit reads, also at 0x510): next byte of the item, 0 past its end
//   0x514-0x51B  DMA address, big-endian 64-bit: a 32-bit write to 0x514 sets the high half,
//                a 32-bit write to 0x518 sets the low half and runs the transfer described
//                by the FWCfgDmaAccess at that guest-physical address; reads give "QEMU CFG"
//
// Reference: QEMU docs/specs/fw_cfg.rst; QEMU hw/nvram/fw_cfg.c for the corner cases (reads
// past the end, DMA to an item's end, invalid keys) and hw/i386/fw_cfg.c for the items of
// the "pc" machine; SeaBIOS src/fw/paravirt.c (qemu_cfg_*) for the firmware side.
//
// Items present from construction (as QEMU's pc machine gives them): signature 0x00 "QEMU",
// ID 0x01 (traditional + DMA), UUID 0x02 (zeros), RAM size 0x03 (u64, PhysMemory's size),
// NOGRAPHIC 0x04 (0), NB_CPUS 0x05 and MAX_CPUS 0x0F (1), NUMA 0x0D (no nodes), BOOT_MENU 0x0E
// (0), FILE_DIR 0x19, IRQ0_OVERRIDE 0x8002 (1). Integers are little-endian, the directory
// big-endian.
//
// What the board must wire (machine/machine.cpp): construct it on the PortBus and PhysMemory,
// then add what QEMU's pc machine adds, before the guest runs:
//   add_file("etc/e820", table)            // 20-byte entries {u64 addr, u64 len, u32 type}, LE
//   add_file("etc/boot-fail-wait", u32 -1) // QEMU always adds it (reboot timeout)
//   add_file("bootorder", "/pci@i0cf8/ide@1,1/drive@0/disk@0\n") // when a boot order is given
//   set_cpus(n, max); add_item(kBootMenu, u16) for -boot menu=on
//   (SeaBIOS reads "etc/show-boot-menu" from key 0x0E: prefer add_item(kBootMenu) over a file)
//   later etc/acpi/tables, etc/table-loader, etc/acpi/rsdp, etc/smbios/*.
// On machine reset call reset() (selects the signature, clears the DMA address).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "machine/bus/phys_memory.hpp"
#include "machine/bus/port_bus.hpp"

namespace lift86 {

class FwCfg final : public PortDevice {
public:
    FwCfg(PortBus& io, PhysMemory& mem);
    ~FwCfg() override;
    FwCfg(const FwCfg&) = delete;
    FwCfg& operator=(const FwCfg&) = delete;

    // Selector keys (QEMU include/standard-headers/linux/qemu_fw_cfg.h).
    enum : uint16_t {
        kSignature = 0x00, kId = 0x01, kUuid = 0x02, kRamSize = 0x03, kNoGraphic = 0x04,
        kNbCpus = 0x05, kMachineId = 0x06, kNuma = 0x0D, kBootMenu = 0x0E, kMaxCpus = 0x0F,
        kFileDir = 0x19, kFileFirst = 0x20,
        kWriteChannel = 0x4000, kArchLocal = 0x8000,
        kAcpiTables = 0x8000, kSmbiosEntries = 0x8001, kIrq0Override = 0x8002, kE820Table = 0x8003,
    };
    // FW_CFG_ID feature bits and FWCfgDmaAccess control bits.
    enum : uint32_t { kIdTraditional = 0x1, kIdDma = 0x2 };
    enum : uint32_t { kDmaError = 0x01, kDmaRead = 0x02, kDmaSkip = 0x04, kDmaSelect = 0x08, kDmaWrite = 0x10 };
    static constexpr uint16_t kPortSelector = 0x510, kPortData = 0x511, kPortDma = 0x514;
    static constexpr size_t kMaxNameLen = 55;   // 56-byte name field, NUL-terminated

    // Adds or replaces a numbered item (not a file key: 0x20-0x7FFF are the directory's).
    // Throws std::invalid_argument for a key in the file range.
    void add_item(uint16_t key, std::vector<uint8_t> bytes);
    void add_u16(uint16_t key, uint16_t v);
    void add_u32(uint16_t key, uint32_t v);
    void add_u64(uint16_t key, uint64_t v);
    // Adds or replaces a named file and lists it in FILE_DIR. Files are kept sorted by name
    // and numbered from 0x20 in that order (QEMU's order for current machine types), so a
    // file's key may change when another is added: look it up with file_key(). Throws
    // std::invalid_argument for an empty name or one longer than kMaxNameLen.
    void add_file(const std::string& name, std::vector<uint8_t> bytes);
    void add_file(const std::string& name, const std::string& text) {
        add_file(name, std::vector<uint8_t>(text.begin(), text.end()));
    }
    // NB_CPUS, MAX_CPUS and the NUMA item sized for them (count 0, one zero word per CPU).
    void set_cpus(uint16_t nb_cpus, uint16_t max_cpus);

    // The item a key selects (the write-channel bit is ignored), or null.
    const std::vector<uint8_t>* item(uint16_t key) const;
    int file_key(const std::string& name) const;   // -1 when absent
    uint16_t selected() const { return key_; }
    uint32_t offset() const { return offset_; }

    void reset();

    uint32_t io_read(uint16_t port, unsigned size) override;
    void io_write(uint16_t port, uint32_t value, unsigned size) override;

private:
    void select(uint16_t key);
    uint8_t read_data();
    void dma_transfer(uint64_t access_addr);
    void rebuild_dir();

    PortBus& io_;
    PhysMemory& mem_;
    std::map<uint16_t, std::vector<uint8_t>> items_;
    std::vector<std::pair<std::string, std::vector<uint8_t>>> files_;   // sorted by name
    uint16_t key_ = kSignature;
    uint32_t offset_ = 0;
    uint64_t dma_addr_ = 0;
};

}  // namespace lift86
