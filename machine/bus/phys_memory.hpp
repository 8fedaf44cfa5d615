// Guest physical address space: RAM, ROM, MMIO and open bus, at 4 KiB page granularity.
// The A20 gate masks address bit 20 as the PC's keyboard controller / port 0x92 do.
#pragma once
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

namespace lift86 {

using PhysAddr = uint32_t;
constexpr uint32_t kPageBits = 12;
constexpr uint32_t kPageSize = 1u << kPageBits;
constexpr uint32_t kPageMask = kPageSize - 1;

// A device that answers memory-mapped accesses. Offsets are relative to the mapped base.
class MmioDevice {
public:
    virtual ~MmioDevice() = default;
    virtual uint32_t mmio_read(uint32_t offset, unsigned size) = 0;
    virtual void mmio_write(uint32_t offset, uint32_t value, unsigned size) = 0;
};

class PhysMemory {
public:
    enum PageKind : uint8_t { kOpenBus = 0, kRam, kRom, kMmio };
    enum PageFlag : uint8_t { kCode = 1 };   // page holds decoded/translated code

    struct Page {
        uint8_t* host = nullptr;   // RAM/ROM backing store (page-aligned); null for MMIO/open bus
        MmioDevice* mmio = nullptr;
        uint32_t mmio_base = 0;    // physical base of the MMIO mapping (offset = addr - base)
        PageKind kind = kOpenBus;
        uint8_t flags = 0;
    };

    explicit PhysMemory(uint32_t ram_bytes);
    ~PhysMemory();

    uint32_t ram_size() const { return ram_size_; }
    uint8_t* ram() { return ram_; }

    // Maps a copy of `data` read-only at `base` (4 KiB aligned; the tail is padded with 0xFF).
    void map_rom(PhysAddr base, const std::vector<uint8_t>& data);
    // Maps `size` bytes at `base` (both 4 KiB aligned) to an MMIO device, over whatever was there.
    void map_mmio(PhysAddr base, uint32_t size, MmioDevice* dev);
    // Maps guest RAM back at [base, base+size) (e.g. after MMIO is removed).
    void map_ram(PhysAddr base, uint32_t size);
    // Makes [base, base+size) of RAM read-only (ROM semantics: writes ignored) or writable again.
    void set_ram_readonly(PhysAddr base, uint32_t size, bool ro);
    // Chipset remapping (the i440FX PAM registers switch 0xC0000-0xFFFFF between ROM and shadow
    // RAM): replaces the mapping of the `n` pages from `base` (4 KiB aligned) with `pages`, e.g.
    // entries saved earlier from page(). A RAM entry must point into ram(). The bytes behind
    // the addresses change without a store, so translated code on those pages is dropped
    // through on_code_write, as if the whole page had been written.
    void set_pages(PhysAddr base, const Page* pages, size_t n);

    // A20 gate: when disabled, physical address bit 20 is forced to 0 (wrap at 1 MiB).
    void set_a20(bool enabled);
    bool a20() const { return a20_mask_ == 0xFFFFFFFFu; }
    uint32_t a20_mask() const { return a20_mask_; }

    const Page& page(PhysAddr a) const { return pages_[(a & a20_mask_) >> kPageBits]; }

    // Host pointer for direct access to the byte at `a`, or null when the page is not plain
    // memory for this access (MMIO, open bus, ROM for writes, code page for writes).
    uint8_t* host_ptr(PhysAddr a, bool write) {
        a &= a20_mask_;
        Page& p = pages_[a >> kPageBits];
        if (!p.host) return nullptr;
        if (write && (p.kind != kRam || (p.flags & kCode))) return nullptr;
        return p.host + (a & kPageMask);
    }

    // Slow, general accessors (any alignment, any page kind). Sizes 1, 2, 4.
    uint32_t read(PhysAddr a, unsigned size);
    void write(PhysAddr a, uint32_t value, unsigned size);
    uint8_t read8(PhysAddr a) { return uint8_t(read(a, 1)); }
    uint16_t read16(PhysAddr a) { return uint16_t(read(a, 2)); }
    uint32_t read32(PhysAddr a) { return read(a, 4); }
    void write8(PhysAddr a, uint8_t v) { write(a, v, 1); }
    void write16(PhysAddr a, uint16_t v) { write(a, v, 2); }
    void write32(PhysAddr a, uint32_t v) { write(a, v, 4); }
    // Block copies for loaders and DMA; they ignore ROM protection when `force` (loading firmware).
    void read_block(PhysAddr a, void* dst, size_t n);
    void write_block(PhysAddr a, const void* src, size_t n, bool force = false);

    // Self-modifying code support (DESIGN.md decision 5): a page that holds decoded code is
    // marked; every write to it calls `on_code_write(addr, size)`, whose owner drops the blocks
    // the write really touches and unmarks the page once it holds no code.
    void mark_code(PhysAddr a);
    void clear_code(PhysAddr a) { pages_[(a & a20_mask_) >> kPageBits].flags &= ~kCode; }
    bool is_code(PhysAddr a) const { return page(a).flags & kCode; }
    std::function<void(PhysAddr addr, unsigned size)> on_code_write;
    // Called whenever the mapping changes in a way that makes cached host pointers stale
    // (A20 toggled, ROM/MMIO remapped, a page newly marked as code): the CPU flushes its TLB.
    std::function<void()> on_map_change;

    // --profile: calls and host time of each MMIO device's handlers, with the lowest and
    // highest physical address it was accessed at. Null: not profiling.
    struct HandlerStats {
        uint64_t calls = 0, ns = 0;
        uint32_t lo = UINT32_MAX, hi = 0;
        const char* type = nullptr;   // typeid(device).name(), taken at the first call
    };
    std::unordered_map<const MmioDevice*, HandlerStats>* mmio_profile = nullptr;

private:
    uint32_t mmio_read_profiled(const Page& p, PhysAddr a, unsigned size);
    void mmio_write_profiled(const Page& p, PhysAddr a, uint32_t value, unsigned size);
    void notify_map_change() { if (on_map_change) on_map_change(); }

    uint32_t ram_size_;
    uint8_t* ram_ = nullptr;
    std::vector<std::unique_ptr<uint8_t[]>> roms_;
    std::vector<Page> pages_;           // 1M entries: the whole 4 GiB space
    uint32_t a20_mask_ = 0xFFFFFFFFu;
};

}  // namespace lift86
