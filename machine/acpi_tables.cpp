#include "machine/acpi_tables.hpp"

#include <cstring>
#include <stdexcept>

#include "machine/bus/phys_memory.hpp"

namespace lift86 {

namespace {

// Offsets in the common table header (ACPI 6.5 table 5.4 "DESCRIPTION_HEADER Fields").
constexpr uint32_t kHdrLength = 4, kHdrChecksum = 9, kHdrSize = 36;
// RSDP, ACPI 1.0 form (revision 0, 20 bytes; ACPI 6.5 table 5.3).
constexpr uint32_t kRsdpChecksum = 8, kRsdpRsdt = 16, kRsdpSize = 20;
// FADT, ACPI 1.0 form (revision 1, 116 bytes; ACPI 6.5 table 5.9 gives the later fields).
constexpr uint32_t kFadtSize = 116;
enum FadtField : uint32_t {
    kFirmwareCtrl = 36, kDsdt = 40, kIntModel = 44, kSciInt = 46, kSmiCmd = 48,
    kPm1aEvtBlk = 56, kPm1aCntBlk = 64, kPmTmrBlk = 76,
    kPm1EvtLen = 88, kPm1CntLen = 89, kPmTmrLen = 91,
    kPLvl2Lat = 96, kPLvl3Lat = 98, kCentury = 108, kIapcBootArch = 109, kFlags = 112,
};
// FADT flags (ACPI 6.5 table 5.10).
enum : uint32_t {
    kFlagWbinvd = 1u << 0,      // WBINVD flushes caches correctly
    kFlagProcC1 = 1u << 2,      // C1 (HLT) works
    kFlagPwrButton = 1u << 4,   // no fixed-feature power button
    kFlagSlpButton = 1u << 5,   // no fixed-feature sleep button
    kFlagFixRtc = 1u << 6,      // RTC wake status is not in the fixed register space
};
constexpr uint32_t kFacsSize = 64;   // ACPI 6.5 table 5.14; must be 64-byte aligned

void put16(std::vector<uint8_t>& b, uint32_t off, uint16_t v) { std::memcpy(&b[off], &v, 2); }
void put32(std::vector<uint8_t>& b, uint32_t off, uint32_t v) { std::memcpy(&b[off], &v, 4); }
uint8_t sum(const uint8_t* p, size_t n) {
    uint8_t s = 0;
    while (n--) s = uint8_t(s + *p++);
    return s;
}

std::vector<uint8_t> table_header(const char (&sig)[5], uint32_t length, uint8_t revision) {
    std::vector<uint8_t> t(length, 0);
    std::memcpy(&t[0], sig, 4);
    put32(t, kHdrLength, length);
    t[8] = revision;
    std::memcpy(&t[10], "LIFT86", 6);     // OEM ID
    std::memcpy(&t[16], "LIFT86PC", 8);   // OEM table ID
    put32(t, 24, 1);                      // OEM revision
    std::memcpy(&t[28], "LF86", 4);       // creator ID
    put32(t, 32, 1);                      // creator revision
    return t;
}

}  // namespace

uint32_t AcpiTables::add_table(const std::vector<uint8_t>& table) {
    tables_.resize((tables_.size() + 15) & ~size_t(15), 0);
    const uint32_t off = uint32_t(tables_.size());
    tables_.insert(tables_.end(), table.begin(), table.end());
    return off;
}

AcpiTables::AcpiTables(const AcpiBoard& board) {
    if (board.dsdt.size() < kHdrSize || std::memcmp(board.dsdt.data(), "DSDT", 4) != 0)
        throw std::invalid_argument("the embedded DSDT is not an ACPI table");
    uint32_t dsdt_len;
    std::memcpy(&dsdt_len, board.dsdt.data() + kHdrLength, 4);
    if (dsdt_len != board.dsdt.size()) throw std::invalid_argument("the embedded DSDT's length field is wrong");

    // FACS first: the blob is allocated 64-byte aligned, and the FACS must be (5.2.10).
    std::vector<uint8_t> facs(kFacsSize, 0);
    std::memcpy(&facs[0], "FACS", 4);
    put32(facs, 4, kFacsSize);
    const uint32_t facs_off = add_table(facs);

    const uint32_t dsdt_off = add_table(std::vector<uint8_t>(board.dsdt.begin(), board.dsdt.end()));
    checksums_.push_back({Blob::Tables, dsdt_off + kHdrChecksum, dsdt_off, dsdt_len});

    std::vector<uint8_t> fadt = table_header("FACP", kFadtSize, 1);
    // FIRMWARE_CTRL and DSDT hold offsets in the blob now; the pointer fix-ups add its address.
    put32(fadt, kFirmwareCtrl, facs_off);
    put32(fadt, kDsdt, dsdt_off);
    fadt[kIntModel] = 0;                           // dual 8259 PIC (ACPI 1.0 INT_MODEL)
    put16(fadt, kSciInt, board.sci_irq);
    put32(fadt, kSmiCmd, 0);                       // no SMI: ACPI mode from reset (SCI_EN = 1)
    put32(fadt, kPm1aEvtBlk, board.pm_base);
    put32(fadt, kPm1aCntBlk, board.pm_base + 4u);
    put32(fadt, kPmTmrBlk, board.pm_base + 8u);
    fadt[kPm1EvtLen] = 4;
    fadt[kPm1CntLen] = 2;
    fadt[kPmTmrLen] = 4;
    put16(fadt, kPLvl2Lat, 101);                   // > 100: C2 not supported
    put16(fadt, kPLvl3Lat, 1001);                  // > 1000: C3 not supported
    fadt[kCentury] = board.rtc_century;
    put16(fadt, kIapcBootArch, 0x0003);            // LEGACY_DEVICES | 8042 (read by ACPI 2.0+ OSes)
    put32(fadt, kFlags, kFlagWbinvd | kFlagProcC1 | kFlagPwrButton | kFlagSlpButton | kFlagFixRtc);
    const uint32_t fadt_off = add_table(fadt);
    pointers_.push_back({Blob::Tables, fadt_off + kFirmwareCtrl, Blob::Tables, 4});
    pointers_.push_back({Blob::Tables, fadt_off + kDsdt, Blob::Tables, 4});
    checksums_.push_back({Blob::Tables, fadt_off + kHdrChecksum, fadt_off, kFadtSize});

    std::vector<uint8_t> rsdt = table_header("RSDT", kHdrSize + 4, 1);
    put32(rsdt, kHdrSize, fadt_off);
    const uint32_t rsdt_off = add_table(rsdt);
    pointers_.push_back({Blob::Tables, rsdt_off + kHdrSize, Blob::Tables, 4});
    checksums_.push_back({Blob::Tables, rsdt_off + kHdrChecksum, rsdt_off, kHdrSize + 4});

    rsdp_.assign(kRsdpSize, 0);
    std::memcpy(&rsdp_[0], "RSD PTR ", 8);
    std::memcpy(&rsdp_[9], "LIFT86", 6);
    rsdp_[15] = 0;                                 // revision 0: ACPI 1.0, RSDT only
    put32(rsdp_, kRsdpRsdt, rsdt_off);
    pointers_.push_back({Blob::Rsdp, kRsdpRsdt, Blob::Tables, 4});
    checksums_.push_back({Blob::Rsdp, kRsdpChecksum, 0, kRsdpSize});
}

std::vector<uint8_t> AcpiTables::loader_script() const {
    std::vector<uint8_t> out;
    auto entry = [&out](uint32_t cmd) -> uint8_t* {
        out.resize(out.size() + kLoaderEntrySize, 0);
        uint8_t* e = &out[out.size() - kLoaderEntrySize];
        std::memcpy(e, &cmd, 4);
        return e + 4;
    };
    auto name = [](uint8_t* dst, const char* n) { std::strncpy(reinterpret_cast<char*>(dst), n, kLoaderNameSize - 1); };
    // The RSDP must be where the OS searches (the F segment); the tables anywhere in RAM.
    for (auto [blob, align, zone] : {std::tuple{Blob::Rsdp, 16u, kZoneFseg}, std::tuple{Blob::Tables, 64u, kZoneHigh}}) {
        uint8_t* e = entry(kCmdAllocate);
        name(e, file_name(blob));
        std::memcpy(e + kLoaderNameSize, &align, 4);
        e[kLoaderNameSize + 4] = zone;
    }
    for (const Pointer& p : pointers_) {
        uint8_t* e = entry(kCmdAddPointer);
        name(e, file_name(p.dest));
        name(e + kLoaderNameSize, file_name(p.target));
        std::memcpy(e + 2 * kLoaderNameSize, &p.offset, 4);
        e[2 * kLoaderNameSize + 4] = p.size;
    }
    // Checksums last: they cover the pointer fields patched above.
    for (const Checksum& c : checksums_) {
        uint8_t* e = entry(kCmdAddChecksum);
        name(e, file_name(c.file));
        std::memcpy(e + kLoaderNameSize, &c.offset, 4);
        std::memcpy(e + kLoaderNameSize + 4, &c.start, 4);
        std::memcpy(e + kLoaderNameSize + 8, &c.length, 4);
    }
    return out;
}

std::vector<uint8_t> AcpiTables::linked(Blob which, uint32_t rsdp_addr, uint32_t tables_addr) const {
    std::vector<uint8_t> b = which == Blob::Rsdp ? rsdp_ : tables_;
    for (const Pointer& p : pointers_) {
        if (p.dest != which) continue;
        uint32_t v = 0;
        std::memcpy(&v, &b[p.offset], p.size);
        v += p.target == Blob::Rsdp ? rsdp_addr : tables_addr;
        std::memcpy(&b[p.offset], &v, p.size);
    }
    for (const Checksum& c : checksums_) {
        if (c.file != which) continue;
        b[c.offset] = uint8_t(b[c.offset] - sum(&b[c.start], c.length));   // as SeaBIOS does
    }
    return b;
}

std::vector<uint8_t> AcpiTables::linked_rsdp(uint32_t rsdp_addr, uint32_t tables_addr) const {
    return linked(Blob::Rsdp, rsdp_addr, tables_addr);
}

std::vector<uint8_t> AcpiTables::linked_tables(uint32_t rsdp_addr, uint32_t tables_addr) const {
    return linked(Blob::Tables, rsdp_addr, tables_addr);
}

uint32_t AcpiTables::place(PhysMemory& mem, uint32_t rsdp_addr) const {
    const uint32_t tables_addr = (rsdp_addr + uint32_t(rsdp_.size()) + 63) & ~63u;
    const std::vector<uint8_t> r = linked_rsdp(rsdp_addr, tables_addr), t = linked_tables(rsdp_addr, tables_addr);
    mem.write_block(rsdp_addr, r.data(), r.size(), true);
    mem.write_block(tables_addr, t.data(), t.size(), true);
    return tables_addr + uint32_t(t.size());
}

}  // namespace lift86
