// VGA registers, video memory access and the DISPI interface. The screen renderer is in
// vga_render.cpp.
#include "devices/vga.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

namespace lift86 {

namespace {

// Register bits that exist (IBM VGA TRM register descriptions); the rest read back as 0.
constexpr uint8_t kSeqMask[8] = {0x03, 0x3D, 0x0F, 0x3F, 0x0E, 0x00, 0x00, 0xFF};
constexpr uint8_t kGfxMask[16] = {0x0F, 0x0F, 0x0F, 0x1F, 0x03, 0x7B, 0x0F, 0x0F, 0xFF};

// Sequencer / graphics controller / CRTC register numbers used below.
enum : uint8_t { SR_CLOCKING = 1, SR_MAP_MASK = 2, SR_MEMORY_MODE = 4 };
enum : uint8_t { GR_SET_RESET = 0, GR_ENABLE_SR = 1, GR_COLOR_COMPARE = 2, GR_ROTATE = 3,
                 GR_READ_MAP = 4, GR_MODE = 5, GR_MISC = 6, GR_COLOR_DONT_CARE = 7,
                 GR_BIT_MASK = 8 };
enum : uint8_t { CR_H_DISP_END = 0x01, CR_OVERFLOW = 0x07, CR_MAX_SCAN = 0x09,
                 CR_V_RETRACE_END = 0x11, CR_V_DISP_END = 0x12, CR_OFFSET = 0x13,
                 CR_MODE = 0x17, CR_LINE_COMPARE = 0x18 };
enum : uint8_t { SR4_ODD_EVEN_DISABLE = 0x04, SR4_CHAIN4 = 0x08 };

// Expands the low 4 bits of `m` to a byte mask per plane: bit p -> 0xFF in lane p.
inline uint8_t lane(unsigned m, unsigned p) { return (m >> p) & 1 ? 0xFF : 0x00; }
inline uint8_t ror8(uint8_t v, unsigned n) { n &= 7; return uint8_t((v >> n) | (v << ((8 - n) & 7))); }

}  // namespace

Vga::Vga(PortBus& io, PhysMemory& mem, Clock& clock)
    : io_(io), mem_(mem), clock_(clock), vram_(kVramSize, 0) {
    lfb_window_.vga = this;
    rom_window_.vga = this;
    reset();
    io_.register_ports(0x3B0, 0x30, this);
    io_.register_ports(0x1CE, 3, this);
    mem_.map_mmio(kLegacyBase, kLegacySize, this);
}

Vga::~Vga() {
    unmap_rom();
    unmap_lfb();
    mem_.map_ram(kLegacyBase, kLegacySize);
    io_.unregister_ports(0x3B0, 0x30);
    io_.unregister_ports(0x1CE, 3);
}

void Vga::reset() {
    misc_ = fcr_ = 0;
    sr_index_ = gr_index_ = cr_index_ = ar_index_ = 0;
    sr_.fill(0);
    gr_.fill(0);
    cr_.fill(0);
    ar_.fill(0);
    ar_flipflop_ = false;
    latch_.fill(0);
    dac_.fill(0);
    dac_read_index_ = dac_write_index_ = dac_sub_ = dac_state_ = 0;
    pel_mask_ = 0xFF;
    dac_8bit_ = false;
    dispi_index_ = 0;
    dispi_.fill(0);
    dispi_[kDispiId] = kDispiId5;
    bank_offset_ = vbe_line_bytes_ = vbe_start_ = 0;
}

// ---------------------------------------------------------------------------------------------
// PCI glue

void Vga::map_lfb(PhysAddr base) {
    unmap_lfb();
    lfb_base_ = base;
    lfb_mapped_ = true;
    mem_.map_mmio(base, kLfbSize, &lfb_window_);
}

void Vga::unmap_lfb() {
    if (!lfb_mapped_) return;
    lfb_mapped_ = false;
    mem_.map_ram(lfb_base_, kLfbSize);   // RAM if it was under RAM, open bus otherwise
}

bool Vga::load_option_rom(const std::string& path, std::string* error) {
    std::ifstream f(path, std::ios::binary);
    if (!f) {
        if (error) *error = "cannot open VGA BIOS " + path + ": " + std::strerror(errno);
        return false;
    }
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if (bytes.size() < 3 || bytes[0] != 0x55 || bytes[1] != 0xAA) {
        if (error) *error = "VGA BIOS " + path + " is not an option ROM (no 55 AA signature)";
        return false;
    }
    rom_ = std::move(bytes);
    return true;
}

uint32_t Vga::rom_bar_size() const {
    if (rom_.empty()) return 0;
    uint32_t s = 2048;   // PCI 3.0 6.2.5.2: the expansion ROM BAR decodes at least 2 KiB
    while (s < rom_.size()) s <<= 1;
    return s;
}

void Vga::map_rom(PhysAddr base) {
    unmap_rom();
    if (rom_.empty()) return;
    rom_base_ = base;
    rom_mapped_ = true;
    // map_mmio works on whole pages; the BAR is at least 2 KiB aligned to its size, so round.
    uint32_t size = (rom_bar_size() + kPageMask) & ~kPageMask;
    mem_.map_mmio(base & ~kPageMask, size, &rom_window_);
}

void Vga::unmap_rom() {
    if (!rom_mapped_) return;
    rom_mapped_ = false;
    mem_.map_ram(rom_base_ & ~kPageMask, (rom_bar_size() + kPageMask) & ~kPageMask);
}

uint32_t Vga::RomWindow::mmio_read(uint32_t offset, unsigned size) {
    // The mapping starts at the page below the BAR base; translate back to ROM offsets.
    uint32_t base_in_page = vga->rom_base_ & kPageMask;
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        uint32_t o = offset + i - base_in_page;
        uint8_t b = (offset + i >= base_in_page && o < vga->rom_.size()) ? vga->rom_[o] : 0xFF;
        v |= uint32_t(b) << (8 * i);
    }
    return v;
}

uint32_t Vga::LfbWindow::mmio_read(uint32_t offset, unsigned size) {
    uint32_t v = 0;
    if (offset + size <= kVramSize) {
        std::memcpy(&v, vga->vram_.data() + offset, size);   // little-endian host
        return v;
    }
    return size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
}

void Vga::LfbWindow::mmio_write(uint32_t offset, uint32_t value, unsigned size) {
    if (offset + size <= kVramSize) std::memcpy(vga->vram_.data() + offset, &value, size);
}

// ---------------------------------------------------------------------------------------------
// Ports

uint32_t Vga::io_read(uint16_t port, unsigned size) {
    if (port >= 0x1CE && port <= 0x1D0) {
        // DISPI registers are 16 bits wide; a byte read sees the low byte.
        uint16_t v = port == 0x1CE ? dispi_index_ : dispi_read();
        return size == 1 ? v & 0xFF : v;
    }
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++) v |= uint32_t(read_port(uint16_t(port + i))) << (8 * i);
    return v;
}

void Vga::io_write(uint16_t port, uint32_t value, unsigned size) {
    if (port >= 0x1CE && port <= 0x1D0) {
        uint16_t v = uint16_t(size == 1 ? value & 0xFF : value & 0xFFFF);
        if (port == 0x1CE) dispi_index_ = v;
        else dispi_write(v);
        return;
    }
    // `out dx, ax` to an index port writes the index (AL) and then the data (AH): the usual
    // way to program the sequencer, graphics controller and CRTC in one instruction.
    for (unsigned i = 0; i < size; i++) write_port(uint16_t(port + i), uint8_t(value >> (8 * i)));
}

bool Vga::port_inactive(uint16_t port) const {
    // Misc output bit 0 (I/O address select) moves the CRTC and input status 1 between 3Bx
    // (monochrome) and 3Dx (colour); the other block does not respond.
    if (misc_ & 0x01) return port >= 0x3B0 && port <= 0x3BF;
    return port >= 0x3D0 && port <= 0x3DF;
}

uint8_t Vga::read_port(uint16_t port) {
    if (port_inactive(port)) return 0xFF;
    switch (port) {
    case 0x3C0:   // attribute index (with the palette address source bit)
        return ar_index_;
    case 0x3C1: {
        unsigned i = ar_index_ & 0x1F;
        return i < ar_.size() ? ar_[i] : 0;
    }
    case 0x3C2:   // input status 0: no switch sense, no vertical interrupt
        return 0x00;
    case 0x3C4: return sr_index_;
    case 0x3C5: return sr_[sr_index_];
    case 0x3C6: return pel_mask_;
    case 0x3C7: return dac_state_;   // 0: last index written was the write index, 3: read
    case 0x3C8: return dac_write_index_;
    case 0x3C9: {
        uint8_t v = dac_[dac_read_index_ * 3 + dac_sub_];
        if (++dac_sub_ == 3) {
            dac_sub_ = 0;
            dac_read_index_++;
        }
        return v;
    }
    case 0x3CA: return fcr_;
    case 0x3CC: return misc_;
    case 0x3CE: return gr_index_;
    case 0x3CF: return gr_[gr_index_];
    case 0x3B4: case 0x3D4: return cr_index_;
    case 0x3B5: case 0x3D5: return cr_[cr_index_];
    case 0x3BA: case 0x3DA:
        ar_flipflop_ = false;   // reading input status 1 resets the attribute flip-flop
        return input_status1();
    default:
        return 0xFF;
    }
}

void Vga::write_port(uint16_t port, uint8_t v) {
    if (port_inactive(port)) return;
    switch (port) {
    case 0x3C0:
        if (!ar_flipflop_) {
            ar_index_ = v & 0x3F;
        } else {
            unsigned i = ar_index_ & 0x1F;
            switch (i) {
            case 0x10: ar_[i] = v & ~0x10; break;   // mode control: bit 4 reserved
            case 0x11: ar_[i] = v; break;           // overscan colour
            case 0x12: ar_[i] = v & 0x3F; break;    // colour plane enable
            case 0x13: ar_[i] = v & 0x0F; break;    // horizontal pel panning
            case 0x14: ar_[i] = v & 0x0F; break;    // colour select
            default:
                if (i < 0x10) ar_[i] = v & 0x3F;    // palette registers are 6 bits
                break;
            }
        }
        ar_flipflop_ = !ar_flipflop_;
        break;
    case 0x3C2:
        misc_ = v & ~0x10;
        break;
    case 0x3C4: sr_index_ = v & 7; break;
    case 0x3C5: sr_[sr_index_] = v & kSeqMask[sr_index_]; break;
    case 0x3C6: pel_mask_ = v; break;
    case 0x3C7:
        dac_read_index_ = v;
        dac_sub_ = 0;
        dac_state_ = 3;
        break;
    case 0x3C8:
        dac_write_index_ = v;
        dac_sub_ = 0;
        dac_state_ = 0;
        break;
    case 0x3C9:
        // Components are 6 bits unless the VBE 8-bit DAC is on; a colour takes effect when
        // its third component arrives and the write index then moves on.
        dac_cache_[dac_sub_] = dac_8bit_ ? v : (v & 0x3F);
        if (++dac_sub_ == 3) {
            std::memcpy(&dac_[dac_write_index_ * 3], dac_cache_, 3);
            dac_sub_ = 0;
            dac_write_index_++;
        }
        break;
    case 0x3CE: gr_index_ = v & 0x0F; break;
    case 0x3CF: gr_[gr_index_] = v & kGfxMask[gr_index_]; break;
    case 0x3B4: case 0x3D4: cr_index_ = v; break;
    case 0x3B5: case 0x3D5:
        // CR11 bit 7 write-protects CR0-CR7, except the line compare bit 8 in CR7 bit 4.
        if ((cr_[CR_V_RETRACE_END] & 0x80) && cr_index_ <= CR_OVERFLOW) {
            if (cr_index_ == CR_OVERFLOW) cr_[CR_OVERFLOW] = uint8_t((cr_[CR_OVERFLOW] & ~0x10) | (v & 0x10));
            break;
        }
        cr_[cr_index_] = v;
        break;
    case 0x3BA: case 0x3DA:
        fcr_ = v & 0x10;   // feature control
        break;
    default:
        break;
    }
}

// Input status 1: bit 0 "display disabled" (horizontal or vertical blanking), bit 3 vertical
// retrace. Timed on the machine clock from the CRTC timing registers and the dot clock the
// misc output selects (25.175 / 28.322 MHz), like QEMU's "precise" retrace. Software polls
// these bits to pace itself to the frame rate, so they must really toggle.
uint8_t Vga::input_status1() {
    uint64_t now = clock_.now();
    // A guest that polls while the clock stands still (a clock that only moves between run
    // slices) must still see the bits change: charge ~1 us per read then, as an ISA read costs.
    if (now == last_status_ns_) status_stall_ns_ += 1000;
    last_status_ns_ = now;
    now += status_stall_ns_;

    uint32_t htotal, hdisp, vtotal, vdisp, vrs, vrlen;
    uint64_t dot_hz;
    unsigned dots;
    if (vbe_enabled()) {
        // DISPI modes have no CRTC timing: use a 60 Hz frame of the VBE resolution.
        hdisp = std::max<uint32_t>(dispi_[kDispiXres] / 8, 1);
        htotal = hdisp + hdisp / 4 + 1;
        vdisp = std::max<uint32_t>(dispi_[kDispiYres], 1);
        vtotal = vdisp + vdisp / 20 + 3;
        vrs = vdisp + 1;
        vrlen = 2;
        dots = 8;
        dot_hz = uint64_t(htotal) * 8 * vtotal * 60;
    } else {
        htotal = cr_[0x00] + 5u;
        hdisp = cr_[CR_H_DISP_END] + 1u;
        vtotal = (cr_[0x06] | ((cr_[CR_OVERFLOW] & 0x01) << 8) | ((cr_[CR_OVERFLOW] & 0x20) << 4)) + 2u;
        vdisp = vde();
        vrs = cr_[0x10] | ((cr_[CR_OVERFLOW] & 0x04) << 6) | ((cr_[CR_OVERFLOW] & 0x80) << 2);
        // Vertical retrace ends when the line counter's low 4 bits match CR11 bits 3-0.
        vrlen = ((cr_[CR_V_RETRACE_END] & 0x0F) - (vrs & 0x0F)) & 0x0F;
        if (vrlen == 0) vrlen = 16;
        dots = (sr_[SR_CLOCKING] & 0x01) ? 8 : 9;
        dot_hz = ((misc_ >> 2) & 3) == 1 ? 28322000 : 25175000;
        if (sr_[SR_CLOCKING] & 0x08) dot_hz /= 2;   // dot clock / 2
    }
    uint64_t line_dots = uint64_t(htotal) * dots;
    uint64_t frame_dots = line_dots * vtotal;
    // Position in the frame in dots: ns * dot_hz / 1e9, kept in range with a modulo first.
    uint64_t frame_ns = frame_dots * 1000000000ull / dot_hz;
    if (frame_ns == 0) frame_ns = 1;
    uint64_t t = now % frame_ns;
    uint64_t dot = t * dot_hz / 1000000000ull;
    uint64_t line = dot / line_dots, col = (dot % line_dots) / dots;

    uint8_t v = 0;
    if (line >= vrs && line < uint64_t(vrs) + vrlen) v |= 0x08;
    if (line >= vdisp || col >= hdisp) v |= 0x01;
    return v;
}

uint32_t Vga::vde() const {
    return (cr_[CR_V_DISP_END] | ((cr_[CR_OVERFLOW] & 0x02) << 7) | ((cr_[CR_OVERFLOW] & 0x40) << 3)) + 1u;
}

// ---------------------------------------------------------------------------------------------
// DISPI (Bochs VBE)

uint16_t Vga::dispi_read() {
    if (dispi_index_ < kDispiCount) {
        if (dispi_[kDispiEnable] & kDispiGetCaps) {
            // With GETCAPS set, XRES/YRES/BPP read the maxima (how vgabios sizes its mode list).
            switch (dispi_index_) {
            case kDispiXres: return kDispiMaxXres;
            case kDispiYres: return kDispiMaxYres;
            case kDispiBpp: return kDispiMaxBpp;
            default: break;
            }
        }
        return dispi_[dispi_index_];
    }
    if (dispi_index_ == kDispiVideoMemory64K) return uint16_t(kVramSize >> 16);
    return 0;
}

void Vga::dispi_write(uint16_t v) {
    switch (dispi_index_) {
    case kDispiId:
        if (v >= kDispiId0 && v <= kDispiId5) dispi_[kDispiId] = v;
        break;
    case kDispiXres: case kDispiYres: case kDispiBpp:
    case kDispiVirtWidth: case kDispiXOffset: case kDispiYOffset:
        dispi_[dispi_index_] = v;
        dispi_fixup();
        break;
    case kDispiBank: {
        uint16_t mask = uint16_t((kVramSize >> 16) - 1);
        if (dispi_[kDispiBpp] == 4) mask >>= 2;   // planar: a bank is 64 Ki plane offsets
        dispi_[kDispiBank] = v & mask;
        bank_offset_ = uint32_t(dispi_[kDispiBank]) << 16;
        break;
    }
    case kDispiEnable:
        dispi_enable(v);
        break;
    default:   // VIRT_HEIGHT is computed; the rest do not exist
        break;
    }
}

// Clamps the mode registers to what fits (the DISPI interface has no way to report an error,
// so Bochs and QEMU adjust to the nearest valid value) and derives the scan-out parameters.
void Vga::dispi_fixup() {
    auto& r = dispi_;
    if (!(r[kDispiEnable] & kDispiEnabled)) return;
    unsigned bits;
    switch (r[kDispiBpp]) {
    case 4: case 8: case 16: case 24: case 32: bits = r[kDispiBpp]; break;
    case 15: bits = 16; break;
    default: bits = 8; r[kDispiBpp] = 8; break;
    }
    r[kDispiXres] &= ~7u;
    if (r[kDispiXres] == 0) r[kDispiXres] = 8;
    if (r[kDispiXres] > kDispiMaxXres) r[kDispiXres] = kDispiMaxXres;
    r[kDispiVirtWidth] &= ~7u;
    if (r[kDispiVirtWidth] > kDispiMaxXres) r[kDispiVirtWidth] = kDispiMaxXres;
    if (r[kDispiVirtWidth] < r[kDispiXres]) r[kDispiVirtWidth] = r[kDispiXres];

    uint32_t line = uint32_t(r[kDispiVirtWidth]) * bits / 8;
    uint32_t max_y = kVramSize / line;
    if (r[kDispiYres] == 0) r[kDispiYres] = 1;
    if (r[kDispiYres] > kDispiMaxYres) r[kDispiYres] = kDispiMaxYres;
    if (r[kDispiYres] > max_y) r[kDispiYres] = uint16_t(max_y);

    if (r[kDispiXOffset] > kDispiMaxXres) r[kDispiXOffset] = kDispiMaxXres;
    if (r[kDispiYOffset] > kDispiMaxYres) r[kDispiYOffset] = kDispiMaxYres;
    uint32_t start = uint32_t(r[kDispiXOffset]) * bits / 8 + uint32_t(r[kDispiYOffset]) * line;
    if (start + uint64_t(r[kDispiYres]) * line > kVramSize) {
        r[kDispiYOffset] = 0;
        start = uint32_t(r[kDispiXOffset]) * bits / 8;
        if (start + uint64_t(r[kDispiYres]) * line > kVramSize) {
            r[kDispiXOffset] = 0;
            start = 0;
        }
    }
    r[kDispiVirtHeight] = uint16_t(std::min<uint32_t>(max_y, 0xFFFF));
    vbe_line_bytes_ = line;
    vbe_start_ = start;
}

void Vga::dispi_enable(uint16_t v) {
    auto& r = dispi_;
    if ((v & kDispiEnabled) && !(r[kDispiEnable] & kDispiEnabled)) {
        r[kDispiVirtWidth] = r[kDispiXOffset] = r[kDispiYOffset] = 0;
        r[kDispiEnable] |= kDispiEnabled;
        dispi_fixup();
        if (!(v & kDispiNoClearMem))
            std::memset(vram_.data(), 0, std::min<size_t>(size_t(r[kDispiYres]) * vbe_line_bytes_, kVramSize));
        // Put the VGA side in a matching graphics state, as Bochs and QEMU do: graphics mode
        // with the 64 KiB window at 0xA0000 (for banked access), no CGA addressing, chain-4
        // for packed pixels, and CRTC values that describe the resolution.
        gr_[GR_MISC] = uint8_t((gr_[GR_MISC] & ~0x0C) | 0x04 | 0x01);
        cr_[CR_MODE] |= 3;
        cr_[CR_OFFSET] = uint8_t(vbe_line_bytes_ >> 3);
        cr_[CR_H_DISP_END] = uint8_t((r[kDispiXres] >> 3) - 1);
        unsigned h = r[kDispiYres] - 1u;
        cr_[CR_V_DISP_END] = uint8_t(h);
        cr_[CR_OVERFLOW] = uint8_t((cr_[CR_OVERFLOW] & ~0x42) | ((h >> 7) & 0x02) | ((h >> 3) & 0x40));
        cr_[CR_LINE_COMPARE] = 0xFF;
        cr_[CR_OVERFLOW] |= 0x10;
        cr_[CR_MAX_SCAN] |= 0x40;
        unsigned shift;
        if (r[kDispiBpp] == 4) {
            shift = 0;
            sr_[SR_CLOCKING] &= ~0x08;
        } else {
            shift = 2;
            sr_[SR_MEMORY_MODE] |= SR4_CHAIN4;
            sr_[SR_MAP_MASK] |= 0x0F;
        }
        gr_[GR_MODE] = uint8_t((gr_[GR_MODE] & ~0x60) | (shift << 5));
        cr_[CR_MAX_SCAN] &= ~0x9F;   // no double scan, one line per row
    } else if (!(v & kDispiEnabled)) {
        bank_offset_ = 0;
    }
    dac_8bit_ = v & kDispi8BitDac;
    r[kDispiEnable] = v;
}

// ---------------------------------------------------------------------------------------------
// Video memory through the legacy window

bool Vga::decode(uint32_t& addr) const {
    // GR6 bits 3-2: memory map select (IBM VGA TRM, Miscellaneous Register).
    switch ((gr_[GR_MISC] >> 2) & 3) {
    case 0:   // A0000-BFFFF
        return true;
    case 1:   // A0000-AFFFF, plus the VBE bank
        if (addr >= 0x10000) return false;
        addr += bank_offset_;
        return true;
    case 2:   // B0000-B7FFF
        if (addr < 0x10000 || addr >= 0x18000) return false;
        addr -= 0x10000;
        return true;
    default:  // B8000-BFFFF
        if (addr < 0x18000) return false;
        addr -= 0x18000;
        return true;
    }
}

void Vga::load_latches(uint32_t unit) {
    uint64_t a = uint64_t(unit) * 4;
    if (a + 4 <= kVramSize) std::memcpy(latch_.data(), &vram_[a], 4);
}

// Every read loads the four latches from the addressed plane offset; what the CPU gets depends
// on the addressing mode and, for planar access, the read mode (GR5 bit 3).
uint8_t Vga::mem_read(uint32_t addr) {
    if (!decode(addr)) return 0xFF;
    if (sr_[SR_MEMORY_MODE] & SR4_CHAIN4) {
        if (addr >= kVramSize) return 0xFF;
        load_latches(addr >> 2);
        return vram_[addr];
    }
    if (gr_[GR_MODE] & 0x10) {
        // Host odd/even read addressing: A0 picks plane 0/1 (or 2/3 by GR4 bit 1).
        uint32_t unit = addr >> 1;
        if (uint64_t(unit) * 4 + 4 > kVramSize) return 0xFF;
        load_latches(unit);
        return vram_[unit * 4 + ((gr_[GR_READ_MAP] & 2) | (addr & 1))];
    }
    if (uint64_t(addr) * 4 + 4 > kVramSize) return 0xFF;
    load_latches(addr);
    if (!(gr_[GR_MODE] & 0x08)) return latch_[gr_[GR_READ_MAP] & 3];   // read mode 0
    // Read mode 1: bit set where every plane not excluded by Color Don't Care matches the
    // Color Compare value.
    uint8_t diff = 0;
    for (unsigned p = 0; p < 4; p++)
        if (gr_[GR_COLOR_DONT_CARE] & (1u << p)) diff |= latch_[p] ^ lane(gr_[GR_COLOR_COMPARE], p);
    return uint8_t(~diff);
}

// Planar writes go through the graphics controller's data path (IBM VGA TRM "Write Modes"):
// rotate, set/reset, logical function with the latches, bit mask; then the sequencer's map
// mask selects the planes written. Chain-4 and odd/even writes select one plane (pair) by the
// low address bits and store the byte as it is.
void Vga::mem_write(uint32_t addr, uint8_t v) {
    if (!decode(addr)) return;
    unsigned planes = sr_[SR_MAP_MASK] & 0x0F;
    if (sr_[SR_MEMORY_MODE] & SR4_CHAIN4) {
        // The two low address bits select the plane, which the map mask may disable. As in
        // QEMU the byte is stored as is, bypassing the write modes: chain-4 is also the VBE
        // banked window, whose bytes are framebuffer bytes whatever the GC registers hold.
        if (addr >= kVramSize) return;
        if (planes & (1u << (addr & 3))) vram_[addr] = v;
        return;
    }
    if (!(sr_[SR_MEMORY_MODE] & SR4_ODD_EVEN_DISABLE)) {
        // Odd/even (text and CGA modes): even addresses reach planes 0 and 2, odd ones planes
        // 1 and 3, at plane offset addr >> 1. Stored directly like chain-4 (as QEMU does).
        uint32_t unit = addr >> 1;
        if (uint64_t(unit) * 4 + 4 > kVramSize) return;
        planes &= (addr & 1) ? 0x0A : 0x05;
        for (unsigned p = 0; p < 4; p++)
            if (planes & (1u << p)) vram_[unit * 4 + p] = v;
        return;
    }
    const uint32_t unit = addr;
    if (uint64_t(unit) * 4 + 4 > kVramSize) return;

    const unsigned mode = gr_[GR_MODE] & 3;
    const unsigned func = (gr_[GR_ROTATE] >> 3) & 3;
    uint8_t mask = gr_[GR_BIT_MASK];
    uint8_t data[4];
    switch (mode) {
    case 0: {
        uint8_t r = ror8(v, gr_[GR_ROTATE] & 7);
        for (unsigned p = 0; p < 4; p++)
            data[p] = (gr_[GR_ENABLE_SR] >> p) & 1 ? lane(gr_[GR_SET_RESET], p) : r;
        break;
    }
    case 1:   // the latches, unchanged: the fast planar copy
        for (unsigned p = 0; p < 4; p++)
            if (planes & (1u << p)) vram_[unit * 4 + p] = latch_[p];
        return;
    case 2:   // CPU data bits 3-0 are a colour, spread over the 8 pixels
        for (unsigned p = 0; p < 4; p++) data[p] = lane(v, p);
        break;
    default: {   // 3: rotated CPU data ANDed with the bit mask; set/reset gives the colour
        mask &= ror8(v, gr_[GR_ROTATE] & 7);
        for (unsigned p = 0; p < 4; p++) data[p] = lane(gr_[GR_SET_RESET], p);
        break;
    }
    }
    for (unsigned p = 0; p < 4; p++) {
        uint8_t d = data[p];
        switch (func) {
        case 1: d &= latch_[p]; break;
        case 2: d |= latch_[p]; break;
        case 3: d ^= latch_[p]; break;
        default: break;
        }
        d = uint8_t((d & mask) | (latch_[p] & ~mask));
        if (planes & (1u << p)) vram_[unit * 4 + p] = d;
    }
}

uint32_t Vga::mmio_read(uint32_t offset, unsigned size) {
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++) v |= uint32_t(mem_read((offset + i) & 0x1FFFF)) << (8 * i);
    return v;
}

void Vga::mmio_write(uint32_t offset, uint32_t value, unsigned size) {
    for (unsigned i = 0; i < size; i++) mem_write((offset + i) & 0x1FFFF, uint8_t(value >> (8 * i)));
}

}  // namespace lift86
