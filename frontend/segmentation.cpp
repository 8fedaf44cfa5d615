// Segmentation: segment register loads in real, V86 and protected mode (SDM vol.3 3.4, 5.4-5.6,
// 20.1.1; vol.2 MOV, POP, LDS/LES/LFS/LGS/LSS), the hidden descriptor cache and the offset range
// an access is checked against, descriptor table reads, and the I/O permission check (vol.1 19.5).
#include "frontend/protmode.hpp"

namespace lift86 {

using pm::Descriptor;

// ---------------------------------------------------------------- descriptor cache

void Cpu::set_seg_cache(Segment& sg, uint16_t sel, uint32_t base, uint32_t limit, uint32_t a) {
    sg.sel = sel;
    sg.base = base;
    sg.limit = limit;   // byte-granular (already expanded from a page-granular descriptor)
    sg.attr = a;
    sg.null = false;
    derive_seg(sg, &sg == &seg[SS]);
    if (&sg == &seg[CS]) cs_from_real_mode = false;   // CPL is CS.RPL again (update_mode)
}

// The offsets an access may touch and whether it may read or write (SDM vol.3 5.3, 3.4.5.1).
// A stack segment follows the same rules; its B bit only also selects ESP over SP (update_mode).
void Cpu::derive_seg(Segment& sg, bool is_ss) {
    (void)is_ss;
    const uint32_t a = sg.attr;
    if (sg.null) {   // protected-mode null selector: every access is #GP(0) (SDM vol.3 3.4.2)
        sg.lo = 1, sg.hi = 0;
        sg.readable = sg.writable = false;
        sg.rspan = sg.wspan = -1;
        return;
    }
    const bool code = (a & attr::S) && (a & attr::CODE);
    if (!code && (a & attr::DC)) {
        // Expand-down data: valid offsets are limit+1 up to 64 KiB - 1 (B = 0) or 4 GiB - 1 (B = 1).
        const uint32_t upper = (a & attr::DB) ? 0xFFFFFFFFu : 0xFFFFu;
        if (sg.limit >= upper) sg.lo = 1, sg.hi = 0;   // empty
        else sg.lo = sg.limit + 1, sg.hi = upper;
    } else {
        sg.lo = 0, sg.hi = sg.limit;
    }
    // Code: readable only with R set, never writable. Data: always readable, writable with W.
    sg.readable = code ? (a & attr::RW) != 0 : true;
    sg.writable = !code && (a & attr::RW);
    const int64_t span = int64_t(sg.hi) - int64_t(sg.lo);   // -1 when empty
    sg.rspan = sg.readable ? span : -1;
    sg.wspan = sg.writable ? span : -1;
}

// ---------------------------------------------------------------- descriptor tables

bool Cpu::read_descriptor(uint16_t sel, uint32_t& lo, uint32_t& hi) {
    // TI selects the LDT (SDM vol.3 3.4.2); an LDTR holding a null selector has no table.
    uint32_t base, limit;
    if (sel & 4) {
        if (ldtr.null || pm::is_null(ldtr.sel)) return false;
        base = ldtr.base, limit = ldtr.limit;
    } else {
        base = gdtr.base, limit = gdtr.limit;
    }
    const uint32_t off = sel & 0xFFF8u;
    if (off + 7 > limit) return false;
    lo = read_sys(base + off, 4);
    hi = read_sys(base + off + 4, 4);
    return true;
}

void Cpu::write_descriptor_hi(uint16_t sel, uint32_t hi) {
    const uint32_t base = (sel & 4) ? ldtr.base : gdtr.base;
    write_sys(base + (sel & 0xFFF8u) + 4, hi, 4);
}

namespace pm {

Descriptor fetch_descriptor(Cpu& cpu, uint16_t sel, uint8_t vector) {
    Descriptor d;
    if (!cpu.read_descriptor(sel, d.lo, d.hi)) cpu.fault(vector, sel_error(sel));
    return d;
}

void mark_accessed(Cpu& cpu, uint16_t sel, Descriptor& d) {
    // Only code and data segments have an accessed bit (type bit 0); written only when it changes.
    if (d.is_segment() && !(d.hi & (attr::ACCESSED << 8))) {
        d.hi |= attr::ACCESSED << 8;
        cpu.write_descriptor_hi(sel, d.hi);
    }
}

void load_descriptor(Cpu& cpu, Segment& sg, uint16_t sel, Descriptor d) {
    mark_accessed(cpu, sel, d);
    cpu.set_seg_cache(sg, sel, d.base(), d.limit(), d.attr());
}

void load_null(Cpu& cpu, Segment& sg, uint16_t sel) {
    sg.sel = sel;
    sg.null = true;
    cpu.derive_seg(sg, &sg == &cpu.seg[SS]);
}

Segment segment_from(uint16_t sel, const Descriptor& d) {
    Segment sg;
    sg.sel = sel, sg.base = d.base(), sg.limit = d.limit(), sg.attr = d.attr(), sg.null = false;
    Cpu::derive_seg(sg, true);
    return sg;
}

Descriptor check_stack_segment(Cpu& cpu, uint16_t sel, unsigned pl, uint8_t vector) {
    if (is_null(sel)) cpu.fault(vector, sel_error(sel));   // #GP(0) / #TS(0): never a null SS
    Descriptor d = fetch_descriptor(cpu, sel, vector);
    if (rpl(sel) != pl || !d.writable_data() || d.dpl() != pl) cpu.fault(vector, sel_error(sel));
    if (!d.present()) cpu.fault(kSS, sel_error(sel));
    return d;
}

Descriptor check_data_segment(Cpu& cpu, uint16_t sel, unsigned cpl, uint8_t vector) {
    Descriptor d = fetch_descriptor(cpu, sel, vector);
    if (!d.is_data() && !d.readable_code()) cpu.fault(vector, sel_error(sel));
    if ((d.is_data() || !d.conforming()) && (rpl(sel) > d.dpl() || cpl > d.dpl()))
        cpu.fault(vector, sel_error(sel));
    if (!d.present()) cpu.fault(kNP, sel_error(sel));
    return d;
}

void null_inaccessible_data_segments(Cpu& cpu) {
    for (unsigned s : {ES, FS, GS, DS}) {
        Segment& sg = cpu.seg[s];
        if (sg.null) continue;
        const bool conforming_code = (sg.attr & attr::S) && (sg.attr & attr::CODE) && (sg.attr & attr::DC);
        if (!conforming_code && attr::dpl(sg.attr) < cpu.cpl) load_null(cpu, sg, 0);
    }
}

}  // namespace pm

// ---------------------------------------------------------------- segment register loads

void Cpu::load_seg_real(unsigned s, uint16_t sel) {
    Segment& sg = seg[s];
    sg.sel = sel;
    sg.base = uint32_t(sel) << 4;
    sg.null = false;
    if (vm86) {
        // Virtual-8086 mode: every segment is a 64 KiB read/write segment at privilege 3
        // (SDM vol.3 20.1.1).
        sg.limit = 0xFFFF;
        sg.attr = attr::P | attr::S | attr::RW | attr::ACCESSED | (3u << 5);
    } else {
        // Real mode changes only selector and base: the limit, and the B/G bits, stay what the
        // cache holds, which is what makes "unreal mode" work (SDM vol.3 20.1.1, 9.9.2).
        sg.attr = (sg.attr & (attr::DB | attr::G)) | attr::P | attr::S | attr::RW | attr::ACCESSED;
    }
    derive_seg(sg, s == SS);
    if (s == CS || s == SS) update_mode();
}

// MOV Sreg / POP Sreg / LxS in protected mode: SDM vol.2 MOV, "Operation".
void Cpu::load_seg(unsigned s, uint16_t sel) {
    if (!pe || vm86) {
        load_seg_real(s, sel);
        return;
    }
    if (s == CS) fault(kUD);   // MOV CS is undefined; CS is only loaded by control transfers
    if (s == SS) {
        // Null SS is #GP(0); RPL and DPL must equal CPL; writable data; not present is #SS.
        Descriptor d = pm::check_stack_segment(*this, sel, cpl, kGP);
        pm::load_descriptor(*this, seg[SS], sel, d);
        update_mode();
        return;
    }
    if (pm::is_null(sel)) {   // DS, ES, FS, GS may hold a null selector
        pm::load_null(*this, seg[s], sel);
        return;
    }
    Descriptor d = pm::check_data_segment(*this, sel, cpl, kGP);
    pm::load_descriptor(*this, seg[s], sel, d);
}

// An access outside a segment: #SS(0) for the stack segment, #GP(0) otherwise (SDM vol.3 6.15,
// interrupts 12 and 13).
void Cpu::seg_fault(unsigned s) {
    if (s == SS) fault(kSS, 0);
    fault(kGP, 0);
}

// ---------------------------------------------------------------- I/O permission

// IN/OUT/INS/OUTS at CPL > IOPL, or in V86 mode, are allowed only when every bit for the
// accessed ports is 0 in the TSS I/O permission bitmap (SDM vol.1 19.5.1-19.5.2, vol.3 20.2.8.1).
void Cpu::check_io(uint16_t port, unsigned size) {
    if (!pe) return;
    const unsigned iopl = (eflags & fl::IOPL) >> 12;
    if (!vm86 && cpl <= iopl) return;
    // Only a 32-bit TSS has a bitmap; its base is the word at offset 66H.
    const bool tss32 = !(tr.attr & attr::S) && (tr.attr & 0xD) == pm::kTss32;
    if (!tss32 || tr.limit < 0x67) fault(kGP, 0);
    const uint32_t map = read_sys(tr.base + 0x66, 2);
    const uint32_t at = map + port / 8;
    // Two bytes are always read, so both must lie within the TSS limit.
    if (at + 1 > tr.limit) fault(kGP, 0);
    const uint32_t bits = read_sys(tr.base + at, 2);
    const uint32_t want = ((1u << size) - 1) << (port & 7);
    if (bits & want) fault(kGP, 0);
}

}  // namespace lift86
