#include "machine/bus/phys_memory.hpp"

#include <chrono>
#include <typeinfo>
#include <cstdlib>
#include <stdexcept>

namespace lift86 {

PhysMemory::PhysMemory(uint32_t ram_bytes)
    : ram_size_((ram_bytes + kPageMask) & ~kPageMask), pages_(size_t(1) << (32 - kPageBits)) {
    // calloc: the kernel hands us zero pages lazily, so a large -m costs nothing until used.
    ram_ = static_cast<uint8_t*>(std::calloc(ram_size_ ? ram_size_ : 1, 1));
    if (!ram_) throw std::runtime_error("cannot allocate guest RAM");
    map_ram(0, ram_size_);
}

PhysMemory::~PhysMemory() { std::free(ram_); }

void PhysMemory::map_ram(PhysAddr base, uint32_t size) {
    for (uint64_t a = base; a < uint64_t(base) + size; a += kPageSize) {
        Page& p = pages_[a >> kPageBits];
        if (a < ram_size_) {
            p = Page{ram_ + a, nullptr, 0, kRam, p.flags};
        } else {
            p = Page{};
        }
    }
    notify_map_change();
}

void PhysMemory::set_ram_readonly(PhysAddr base, uint32_t size, bool ro) {
    for (uint64_t a = base; a < uint64_t(base) + size && a < ram_size_; a += kPageSize) {
        Page& p = pages_[a >> kPageBits];
        if (p.kind == kRam || p.kind == kRom) {
            p.host = ram_ + a;
            p.kind = ro ? kRom : kRam;
        }
    }
    notify_map_change();
}

void PhysMemory::set_pages(PhysAddr base, const Page* pages, size_t n) {
    std::vector<PhysAddr> had_code;
    for (size_t k = 0; k < n; k++) {
        const uint64_t a = uint64_t(base) + k * kPageSize;
        if (a >= (uint64_t(1) << 32)) break;
        Page& p = pages_[a >> kPageBits];
        const uint8_t flags = p.flags;   // code tracking belongs to the address, not the mapping
        p = pages[k];
        p.flags = flags;
        if (flags & kCode) had_code.push_back(PhysAddr(a));
    }
    notify_map_change();
    // After the whole range is switched, so a callback that re-reads memory sees the new map.
    if (on_code_write)
        for (PhysAddr a : had_code) on_code_write(a, kPageSize);
}

void PhysMemory::map_rom(PhysAddr base, const std::vector<uint8_t>& data) {
    uint32_t size = (uint32_t(data.size()) + kPageMask) & ~kPageMask;
    auto buf = std::make_unique<uint8_t[]>(size);
    std::memset(buf.get(), 0xFF, size);
    std::memcpy(buf.get(), data.data(), data.size());
    for (uint32_t off = 0; off < size; off += kPageSize)
        pages_[(uint64_t(base) + off) >> kPageBits] = Page{buf.get() + off, nullptr, 0, kRom, 0};
    roms_.push_back(std::move(buf));
    notify_map_change();
}

void PhysMemory::map_mmio(PhysAddr base, uint32_t size, MmioDevice* dev) {
    for (uint64_t a = base; a < uint64_t(base) + size; a += kPageSize)
        pages_[a >> kPageBits] = Page{nullptr, dev, base, kMmio, 0};
    notify_map_change();
}

void PhysMemory::set_a20(bool enabled) {
    uint32_t m = enabled ? 0xFFFFFFFFu : ~(1u << 20);
    if (m != a20_mask_) {
        a20_mask_ = m;
        notify_map_change();
    }
}

void PhysMemory::mark_code(PhysAddr a) {
    Page& p = pages_[(a & a20_mask_) >> kPageBits];
    if (!(p.flags & kCode)) {
        p.flags |= kCode;
        notify_map_change();   // direct-write TLB entries for this page must go
    }
}

uint32_t PhysMemory::read(PhysAddr a, unsigned size) {
    a &= a20_mask_;
    const Page& p = pages_[a >> kPageBits];
    uint32_t off = a & kPageMask;
    if (off + size <= kPageSize) {
        if (p.host) {
            uint32_t v = 0;
            std::memcpy(&v, p.host + off, size);   // little-endian host assumed (x86-64, AArch64)
            return v;
        }
        if (p.kind == kMmio) {
            if (mmio_profile) return mmio_read_profiled(p, a, size);
            return p.mmio->mmio_read(a - p.mmio_base, size);
        }
        return size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;   // open bus floats high
    }
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++) v |= read(a + i, 1) << (8 * i);
    return v;
}

void PhysMemory::write(PhysAddr a, uint32_t value, unsigned size) {
    a &= a20_mask_;
    Page& p = pages_[a >> kPageBits];
    uint32_t off = a & kPageMask;
    if (off + size > kPageSize) {
        for (unsigned i = 0; i < size; i++) write(a + i, uint8_t(value >> (8 * i)), 1);
        return;
    }
    switch (p.kind) {
    case kRam:
        // Store first, then let the code cache look: a block that is re-decoded at once sees
        // the new bytes.
        std::memcpy(p.host + off, &value, size);
        if ((p.flags & kCode) && on_code_write) on_code_write(a, size);
        break;
    case kMmio:
        if (mmio_profile) mmio_write_profiled(p, a, value, size);
        else p.mmio->mmio_write(a - p.mmio_base, value, size);
        break;
    case kRom:
    case kOpenBus: break;   // writes to ROM and to nothing are dropped, as on the bus
    }
}

namespace {
uint64_t now_ns() {
    return uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}
void account(PhysMemory::HandlerStats& st, const MmioDevice* d, PhysAddr a, uint64_t t0) {
    st.ns += now_ns() - t0;
    if (!st.type) st.type = typeid(*d).name();
    st.calls++;
    if (a < st.lo) st.lo = a;
    if (a > st.hi) st.hi = a;
}
}  // namespace

uint32_t PhysMemory::mmio_read_profiled(const Page& p, PhysAddr a, unsigned size) {
    MmioDevice* const d = p.mmio;   // copied first: a handler may remap the page
    const uint64_t t0 = now_ns();
    const uint32_t v = d->mmio_read(a - p.mmio_base, size);
    account((*mmio_profile)[d], d, a, t0);
    return v;
}

void PhysMemory::mmio_write_profiled(const Page& p, PhysAddr a, uint32_t value, unsigned size) {
    MmioDevice* const d = p.mmio;
    const uint32_t base = p.mmio_base;
    const uint64_t t0 = now_ns();
    d->mmio_write(a - base, value, size);
    account((*mmio_profile)[d], d, a, t0);
}

void PhysMemory::read_block(PhysAddr a, void* dst, size_t n) {
    auto* d = static_cast<uint8_t*>(dst);
    for (size_t i = 0; i < n; i++) d[i] = read8(PhysAddr(a + i));
}

void PhysMemory::write_block(PhysAddr a, const void* src, size_t n, bool force) {
    auto* s = static_cast<const uint8_t*>(src);
    for (size_t i = 0; i < n; i++) {
        PhysAddr x = PhysAddr(a + i) & a20_mask_;
        Page& p = pages_[x >> kPageBits];
        if (force && p.host && p.kind == kRom)
            p.host[x & kPageMask] = s[i];
        else
            write8(x, s[i]);
    }
}

}  // namespace lift86
