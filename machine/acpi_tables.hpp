// The ACPI tables that describe lift86's PC to the OS: RSDP -> RSDT -> FADT -> {FACS, DSDT}
// (ACPI 6.5 chapter 5; ACPI 1.0 formats, which every ACPI OS reads). They say where the
// power-management registers of devices/acpi_pm are, and the DSDT (roms/acpi/dsdt.asl) gives
// the S5 sleep type that turns the machine off.
//
// The tables are built once, position-independent, as two blobs plus a list of pointer fields
// and checksums to fix up once the blobs have addresses. That list reaches the guest in two
// ways, which must agree (the unit test checks they do):
//  - through the firmware: fw_cfg files "etc/acpi/rsdp", "etc/acpi/tables" and the loader
//    script "etc/table-loader" (QEMU's BIOS linker/loader format, QEMU hw/acpi/bios-linker-
//    loader.c; SeaBIOS src/fw/romfile_loader.c runs it: allocate, patch pointers, checksum);
//  - without firmware (--direct-boot, -bios none): place() does the same work itself and
//    writes the result into guest memory where an OS searches for the RSDP (0xE0000-0xFFFFF,
//    ACPI 6.5 5.2.5.1).
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace lift86 {

class PhysMemory;

struct AcpiBoard {
    uint16_t pm_base = 0x600;       // devices/acpi_pm: PM1a_EVT, PM1a_CNT = +4, PM_TMR = +8
    uint16_t sci_irq = 9;           // as on PIIX4 / QEMU's pc machine
    uint8_t rtc_century = 0x32;     // CMOS index of the century byte
    std::span<const uint8_t> dsdt;  // compiled AML with a valid table header
};

class AcpiTables {
public:
    static constexpr const char* kRsdpFile = "etc/acpi/rsdp";
    static constexpr const char* kTablesFile = "etc/acpi/tables";
    static constexpr const char* kLoaderFile = "etc/table-loader";
    // Loader commands and zones (QEMU include/hw/acpi/bios-linker-loader.h).
    enum : uint32_t { kCmdAllocate = 1, kCmdAddPointer = 2, kCmdAddChecksum = 3 };
    enum : uint8_t { kZoneHigh = 1, kZoneFseg = 2 };
    static constexpr size_t kLoaderEntrySize = 128, kLoaderNameSize = 56;

    explicit AcpiTables(const AcpiBoard& board);   // throws std::invalid_argument for a bad DSDT

    const std::vector<uint8_t>& rsdp() const { return rsdp_; }
    const std::vector<uint8_t>& tables() const { return tables_; }
    std::vector<uint8_t> loader_script() const;     // the "etc/table-loader" file

    // The blobs with every pointer and checksum fixed up for these guest-physical addresses:
    // what the firmware ends up with after running the loader script.
    std::vector<uint8_t> linked_rsdp(uint32_t rsdp_addr, uint32_t tables_addr) const;
    std::vector<uint8_t> linked_tables(uint32_t rsdp_addr, uint32_t tables_addr) const;
    // Firmware-less boot: writes the linked RSDP at `rsdp_addr` (16-byte aligned, inside
    // 0xE0000-0xFFFFF) and the tables right after it (64-byte aligned for the FACS).
    // Returns the end address of what it wrote.
    uint32_t place(PhysMemory& mem, uint32_t rsdp_addr) const;

private:
    enum class Blob { Rsdp, Tables };
    struct Pointer {   // little-endian `size`-byte field at dest:offset += address of `target`
        Blob dest;
        uint32_t offset;
        Blob target;
        uint8_t size;
    };
    struct Checksum {  // byte at offset makes [start, start+length) sum to 0 mod 256
        Blob file;
        uint32_t offset, start, length;
    };
    uint32_t add_table(const std::vector<uint8_t>& table);   // appends (aligned), returns offset
    std::vector<uint8_t> linked(Blob which, uint32_t rsdp_addr, uint32_t tables_addr) const;
    static const char* file_name(Blob b) { return b == Blob::Rsdp ? kRsdpFile : kTablesFile; }

    std::vector<uint8_t> rsdp_, tables_;
    std::vector<Pointer> pointers_;
    std::vector<Checksum> checksums_;
};

}  // namespace lift86
