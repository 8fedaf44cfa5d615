// Linear -> physical translation: the x86 two-level page walk (SDM vol.3 4.3, 4.6, 4.8) that
// fills the softmmu TLB, and the slow memory path every TLB miss goes through.
#include "frontend/cpu.hpp"

namespace lift86 {

namespace pte {
constexpr uint32_t P = 1, RW = 2, US = 4, A = 0x20, D = 0x40, PS = 0x80;
}

uint32_t Cpu::translate(uint32_t lin, bool write, unsigned user, bool fetch) {
    (void)fetch;   // no NX without PAE: fetches are checked as reads (SDM vol.3 4.6)
    uint32_t phys;
    if (!paging) {
        phys = lin;
    } else {
        // Page-fault error code: P (protection, not absence), W/R, U/S (SDM vol.3 4.7).
        auto page_fault = [&](bool present) {
            cr2 = lin;
            fault(kPF, int32_t((present ? 1 : 0) | (write ? 2 : 0) | (user ? 4 : 0)));
        };
        uint32_t pde_addr = (cr3 & 0xFFFFF000u) | ((lin >> 20) & 0xFFC);
        uint32_t pde = mem.read32(pde_addr);
        if (!(pde & pte::P)) page_fault(false);
        bool large = (pde & pte::PS) && (cr4 & cr4::PSE);
        uint32_t entry = pde, entry_addr = pde_addr, rights = pde;
        if (large) {
            // Bits 21:12 of a 4 MiB PDE are reserved without PSE-36/PAT: #PF with RSVD (bit 3).
            if (pde & 0x003FF000u) {
                cr2 = lin;
                fault(kPF, int32_t(1 | 8 | (write ? 2 : 0) | (user ? 4 : 0)));
            }
            phys = (pde & 0xFFC00000u) | (lin & 0x3FFFFF);
        } else {
            entry_addr = (pde & 0xFFFFF000u) | ((lin >> 10) & 0xFFC);
            entry = mem.read32(entry_addr);
            if (!(entry & pte::P)) page_fault(false);
            rights = pde & entry;   // the stricter of the two levels wins (SDM vol.3 4.6.1)
            phys = (entry & 0xFFFFF000u) | (lin & 0xFFF);
        }
        if (user && !(rights & pte::US)) page_fault(true);
        // Supervisor writes ignore R/W unless CR0.WP (SDM vol.3 4.6.1).
        if (write && !(rights & pte::RW) && (user || (cr0 & cr0::WP))) page_fault(true);
        // Accessed bits on every level walked; dirty on the last level for a write (4.8).
        if (!large && !(pde & pte::A)) mem.write32(pde_addr, pde | pte::A);
        uint32_t want = entry | pte::A | (write ? pte::D : 0);
        if (want != entry) mem.write32(entry_addr, want);
    }
    // Watched pages stay out of the TLB: their accesses must reach the slow path (debug_points.hpp).
    if (!align_check && !(LIFT86_UNLIKELY(debug.watching()) && debug.page_watched(lin, write))) {
        uint32_t page = phys & ~kPageMask;
        if (uint8_t* host = mem.host_ptr(page, write)) {
            TlbEntry& e = tlb.at(user, write ? Tlb::kWrite : Tlb::kRead, lin);
            e.tag = lin & ~kPageMask;
            e.phys = page;
            e.addend = reinterpret_cast<uintptr_t>(host) - (lin & ~kPageMask);
        }
    }
    return phys;
}

bool Cpu::debug_translate(uint32_t lin, uint32_t& phys) {
    if (!paging) {
        phys = lin;
        return true;
    }
    uint32_t pde = mem.read32((cr3 & 0xFFFFF000u) | ((lin >> 20) & 0xFFC));
    if (!(pde & pte::P)) return false;
    if ((pde & pte::PS) && (cr4 & cr4::PSE)) {
        phys = (pde & 0xFFC00000u) | (lin & 0x3FFFFF);
        return true;
    }
    uint32_t e = mem.read32((pde & 0xFFFFF000u) | ((lin >> 10) & 0xFFC));
    if (!(e & pte::P)) return false;
    phys = (e & 0xFFFFF000u) | (lin & 0xFFF);
    return true;
}

void Cpu::check_alignment(uint32_t lin, unsigned size) {
    // #AC: CR0.AM, EFLAGS.AC and CPL 3 (SDM vol.3 6.15, interrupt 17).
    if (align_check && (lin & (size - 1))) fault(kAC, 0);
}

namespace {
uint32_t read_unwatched(Cpu& c, uint32_t lin, unsigned size, unsigned user);
void write_unwatched(Cpu& c, uint32_t lin, uint32_t v, unsigned size, unsigned user);
}  // namespace

uint32_t Cpu::read_slow(uint32_t lin, unsigned size, unsigned user) {
    if (user) check_alignment(lin, size);
    if (LIFT86_UNLIKELY(debug.watching())) {
        // The access first (it may fault), then the watchpoint hit: the instruction completes
        // and the CPU stops after it (debug_points.hpp).
        const uint32_t v = read_unwatched(*this, lin, size, user);
        if (debug.note_access(lin, size, false)) stop_block = true;
        return v;
    }
    return read_unwatched(*this, lin, size, user);
}

void Cpu::write_slow(uint32_t lin, uint32_t v, unsigned size, unsigned user) {
    if (user) check_alignment(lin, size);
    write_unwatched(*this, lin, v, size, user);
    if (LIFT86_UNLIKELY(debug.watching()) && debug.note_access(lin, size, true)) stop_block = true;
}

namespace {
uint32_t read_unwatched(Cpu& c, uint32_t lin, unsigned size, unsigned user) {
    PhysMemory& mem = c.mem;
    auto translate = [&](uint32_t l, bool w, unsigned u) { return c.translate(l, w, u); };
    if ((lin & kPageMask) + size <= kPageSize) return mem.read(translate(lin, false, user), size);
    // Crosses a page: both pages must translate before anything is read (precise #PF).
    uint32_t second = (lin + size - 1) & ~kPageMask;
    uint32_t p1 = translate(lin, false, user), p2 = translate(second, false, user);
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        uint32_t l = lin + i;
        uint32_t p = (l & ~kPageMask) == second ? p2 + (l - second) : p1 + i;
        v |= uint32_t(mem.read8(p)) << (8 * i);
    }
    return v;
}

void write_unwatched(Cpu& c, uint32_t lin, uint32_t v, unsigned size, unsigned user) {
    PhysMemory& mem = c.mem;
    auto translate = [&](uint32_t l, bool w, unsigned u) { return c.translate(l, w, u); };
    if ((lin & kPageMask) + size <= kPageSize) {
        mem.write(translate(lin, true, user), v, size);
        return;
    }
    uint32_t second = (lin + size - 1) & ~kPageMask;
    uint32_t p1 = translate(lin, true, user), p2 = translate(second, true, user);
    for (unsigned i = 0; i < size; i++) {
        uint32_t l = lin + i;
        uint32_t p = (l & ~kPageMask) == second ? p2 + (l - second) : p1 + i;
        mem.write8(p, uint8_t(v >> (8 * i)));
    }
}

}  // namespace

}  // namespace lift86
