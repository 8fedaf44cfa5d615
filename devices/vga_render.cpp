// The VGA's screen: scan-out of video memory into a Framebuffer, in the geometry QEMU's VGA
// produces (so screenshots can be compared with QEMU's `screendump`), and the text screen as
// UTF-8 for tests.
#include <algorithm>

#include "devices/vga.hpp"

namespace lift86 {

namespace {

enum : uint8_t { SR_CLOCKING = 1, SR_CHAR_MAP = 3 };
enum : uint8_t { GR_MODE = 5, GR_MISC = 6 };
enum : uint8_t { CR_H_DISP_END = 0x01, CR_OVERFLOW = 0x07, CR_MAX_SCAN = 0x09,
                 CR_CURSOR_START = 0x0A, CR_CURSOR_END = 0x0B, CR_START_HI = 0x0C,
                 CR_START_LO = 0x0D, CR_CURSOR_HI = 0x0E, CR_CURSOR_LO = 0x0F,
                 CR_OFFSET = 0x13, CR_MODE = 0x17, CR_LINE_COMPARE = 0x18 };
enum : uint8_t { AR_MODE = 0x10, AR_PLANE_ENABLE = 0x12, AR_COLOR_SELECT = 0x14 };

constexpr uint32_t kPlanarMask = Vga::kPlanarSize - 1;
constexpr unsigned kMaxDim = 16384;   // refuse to draw nonsense geometry

inline uint8_t widen6(uint8_t v) { return uint8_t((v << 2) | (v >> 4)); }
inline uint8_t widen5(unsigned v) { return uint8_t((v << 3) | (v >> 2)); }
inline uint8_t widen6b(unsigned v) { return uint8_t((v << 2) | (v >> 4)); }

}  // namespace

uint32_t Vga::dac_rgb(uint8_t index) const {
    const uint8_t* c = &dac_[index * 3];
    if (dac_8bit_) return uint32_t(c[0]) << 16 | uint32_t(c[1]) << 8 | c[2];
    return uint32_t(widen6(c[0])) << 16 | uint32_t(widen6(c[1])) << 8 | widen6(c[2]);
}

uint32_t Vga::palette256(uint8_t i) const { return dac_rgb(uint8_t(i & pel_mask_)); }

// The attribute controller's 16 palette registers, through the colour select register
// (AR14; AR10 bit 7 chooses whether it supplies bits 7-4 or 7-6) and the PEL mask, to the DAC.
Vga::Palette16 Vga::palette16() const {
    Palette16 p;
    for (unsigned i = 0; i < 16; i++) {
        uint8_t v = ar_[i];
        if (ar_[AR_MODE] & 0x80) v = uint8_t(((ar_[AR_COLOR_SELECT] & 0x0F) << 4) | (v & 0x0F));
        else v = uint8_t(((ar_[AR_COLOR_SELECT] & 0x0C) << 4) | (v & 0x3F));
        p.c[i] = palette256(v);
    }
    return p;
}

Vga::Geometry Vga::geometry() const {
    Geometry g;
    // The attribute controller's palette address source bit (AR index bit 5) clear, or the
    // sequencer's screen-off bit, blank the screen.
    bool blank = !(ar_index_ & 0x20) || (sr_[SR_CLOCKING] & 0x20);
    if (vbe_enabled()) {
        g.kind = ScreenKind::Vbe;
        g.bpp = dispi_[kDispiBpp];
        g.width = dispi_[kDispiXres];
        g.height = dispi_[kDispiYres];
    } else if (!(gr_[GR_MISC] & 0x01)) {
        g.kind = ScreenKind::Text;
        g.cell_h = (cr_[CR_MAX_SCAN] & 0x1F) + 1u;
        g.cell_w = (sr_[SR_CLOCKING] & 0x01) ? 8 : 9;
        if (sr_[SR_CLOCKING] & 0x08) g.cell_w *= 2;   // dot clock / 2: 40-column modes
        g.cols = cr_[CR_H_DISP_END] + 1u;
        g.rows = vde() / g.cell_h;
        g.width = g.cols * g.cell_w;
        g.height = g.rows * g.cell_h;
    } else {
        unsigned shift = (gr_[GR_MODE] >> 5) & 3;
        g.kind = shift == 0 ? ScreenKind::Planar16 : shift == 1 ? ScreenKind::Cga4 : ScreenKind::Vga256;
        g.width = (cr_[CR_H_DISP_END] + 1u) * 8;
        if (shift < 2 && (sr_[SR_CLOCKING] & 0x08)) g.width *= 2;   // each pixel twice
        g.height = vde();
    }
    if (g.width == 0 || g.height == 0 || g.width > kMaxDim || g.height > kMaxDim) {
        g = Geometry{};
        g.width = 640;
        g.height = 480;
        return g;
    }
    if (blank) {
        // Keep the mode's size (a mode switch blanks the screen briefly), except for the
        // meaningless geometry of registers nobody has programmed yet (power-on).
        unsigned w = g.width, h = g.height;
        g = Geometry{};
        g.width = w >= 160 && h >= 100 ? w : 640;
        g.height = w >= 160 && h >= 100 ? h : 480;
    }
    return g;
}

void Vga::render(Framebuffer& fb) const {
    Geometry g = geometry();
    fb.resize(g.width, g.height);
    switch (g.kind) {
    case ScreenKind::Blank: fb.fill(0); break;
    case ScreenKind::Text: render_text(fb, g); break;
    case ScreenKind::Vbe: render_vbe(fb, g); break;
    default: render_graphics(fb, g); break;
    }
}

// ---------------------------------------------------------------------------------------------
// Text modes

void Vga::render_text(Framebuffer& fb, const Geometry& g) const {
    const Palette16 pal = palette16();
    const uint8_t plane_enable = ar_[AR_PLANE_ENABLE] & 0x0F;
    const bool blink = ar_[AR_MODE] & 0x08;           // attribute bit 7 blinks, not intensity
    const bool line_graphics = ar_[AR_MODE] & 0x04;   // 9th dot of C0-DF repeats the 8th
    const bool wide = sr_[SR_CLOCKING] & 0x08;
    const unsigned glyph_w = wide ? g.cell_w / 2 : g.cell_w;
    // Character map select (SR3): attribute bit 3 = 0 uses bits 4,1,0, = 1 uses bits 5,3,2.
    // Map n starts at plane 2 offset (n & 3) * 16K + (n >> 2) * 8K.
    const uint8_t cm = sr_[SR_CHAR_MAP];
    const unsigned map_b = ((cm >> 4) & 1) << 2 | (cm & 3);
    const unsigned map_a = ((cm >> 5) & 1) << 2 | ((cm >> 2) & 3);
    const uint32_t font_base[2] = {(map_b & 3) * 0x4000u + (map_b >> 2) * 0x2000u,
                                   (map_a & 3) * 0x4000u + (map_a >> 2) * 0x2000u};
    const uint32_t line_bytes = uint32_t(cr_[CR_OFFSET]) << 3;   // 2 cells per CR13 unit
    const uint32_t start = uint32_t(cr_[CR_START_HI] << 8 | cr_[CR_START_LO]) * 4;
    const uint32_t cursor_addr = uint32_t(cr_[CR_CURSOR_HI] << 8 | cr_[CR_CURSOR_LO]) * 4;
    const bool cursor_on = !(cr_[CR_CURSOR_START] & 0x20);
    const unsigned cur_first = cr_[CR_CURSOR_START] & 0x1F;
    const unsigned cur_last = std::min<unsigned>(cr_[CR_CURSOR_END] & 0x1F, g.cell_h - 1);
    const uint32_t line_compare = cr_[CR_LINE_COMPARE] | ((cr_[CR_OVERFLOW] & 0x10) << 4) |
                                  ((cr_[CR_MAX_SCAN] & 0x40) << 3);

    uint32_t addr = start;
    for (unsigned row = 0; row < g.rows; row++) {
        for (unsigned col = 0; col < g.cols; col++) {
            uint32_t a = (addr + col * 4) & kPlanarMask;
            uint8_t ch = vram_[a], at = vram_[a + 1];
            uint32_t fg = pal.c[at & plane_enable & 0x0F];
            uint32_t bg = pal.c[(at >> 4) & (blink ? 0x07 : 0x0F) & plane_enable];
            uint32_t font = font_base[(at >> 3) & 1] + ch * 32u;
            bool dup9 = line_graphics && ch >= 0xC0 && ch <= 0xDF;
            bool has_cursor = cursor_on && ((addr + col * 4) & kPlanarMask) == (cursor_addr & kPlanarMask);
            for (unsigned y = 0; y < g.cell_h; y++) {
                uint8_t bits = vram_[((font + y) * 4 + 2) & kPlanarMask];
                bool ninth = dup9;
                if (has_cursor && y >= cur_first && y <= cur_last) {
                    bits = 0xFF;   // the cursor is drawn in the foreground colour, full width
                    ninth = true;
                }
                uint32_t* out = fb.row(row * g.cell_h + y) + col * g.cell_w;
                for (unsigned x = 0; x < glyph_w; x++) {
                    bool on = x < 8 ? (bits >> (7 - x)) & 1 : (ninth && (bits & 1));
                    uint32_t c = on ? fg : bg;
                    if (wide) out[2 * x] = out[2 * x + 1] = c;
                    else out[x] = c;
                }
            }
        }
        // A split screen (line compare) restarts the scan at address 0.
        unsigned next_line = (row + 1) * g.cell_h;
        addr += line_bytes;
        if (row * g.cell_h <= line_compare && next_line > line_compare) addr = 0;
    }
}

std::vector<std::string> Vga::text_lines() const {
    std::vector<std::string> lines;
    if (vbe_enabled() || (gr_[GR_MISC] & 0x01)) return lines;
    Geometry g = geometry();
    if (g.cols == 0 || g.rows == 0 || g.cols > 512 || g.rows > 512) return lines;
    const uint32_t line_bytes = uint32_t(cr_[CR_OFFSET]) << 3;
    uint32_t addr = uint32_t(cr_[CR_START_HI] << 8 | cr_[CR_START_LO]) * 4;
    for (unsigned row = 0; row < g.rows; row++) {
        std::string s;
        for (unsigned col = 0; col < g.cols; col++) s += cp437_to_utf8(vram_[(addr + col * 4) & kPlanarMask]);
        while (!s.empty() && s.back() == ' ') s.pop_back();
        lines.push_back(std::move(s));
        addr += line_bytes;
    }
    return lines;
}

std::string Vga::text_screen() const {
    std::string out;
    for (const std::string& l : text_lines()) {
        out += l;
        out += '\n';
    }
    return out;
}

std::pair<int, int> Vga::cursor() const {
    Geometry g = geometry();
    if (g.kind != ScreenKind::Text || (cr_[CR_CURSOR_START] & 0x20)) return {-1, -1};
    uint32_t start = uint32_t(cr_[CR_START_HI] << 8 | cr_[CR_START_LO]);
    uint32_t pos = uint32_t(cr_[CR_CURSOR_HI] << 8 | cr_[CR_CURSOR_LO]);
    uint32_t per_row = uint32_t(cr_[CR_OFFSET]) * 2;
    if (pos < start || per_row == 0) return {-1, -1};
    uint32_t rel = pos - start, row = rel / per_row, col = rel % per_row;
    if (row >= g.rows || col >= g.cols) return {-1, -1};
    return {int(col), int(row)};
}

// ---------------------------------------------------------------------------------------------
// Graphics modes (VGA): planar 16 colours, CGA 4 colours, 256 colours

void Vga::render_graphics(Framebuffer& fb, const Geometry& g) const {
    const unsigned shift = (gr_[GR_MODE] >> 5) & 3;
    const bool half_clock = shift < 2 && (sr_[SR_CLOCKING] & 0x08);
    const unsigned double_scan = cr_[CR_MAX_SCAN] >> 7;
    // Scan lines per row of memory: the max scan line count (doubled by CR9 bit 7). CGA modes
    // use their 2-line rows for the bank interleave instead (below), so only double scan counts.
    const unsigned repeat = shift == 1 ? 1u << double_scan
                                       : ((cr_[CR_MAX_SCAN] & 0x1F) + 1u) << double_scan;
    const uint32_t line_bytes = uint32_t(cr_[CR_OFFSET]) << 3;
    const uint32_t line_compare = cr_[CR_LINE_COMPARE] | ((cr_[CR_OVERFLOW] & 0x10) << 4) |
                                  ((cr_[CR_MAX_SCAN] & 0x40) << 3);
    const uint8_t plane_enable = ar_[AR_PLANE_ENABLE] & 0x0F;
    const Palette16 pal = palette16();
    uint32_t pal256[256];
    if (shift >= 2)
        for (unsigned i = 0; i < 256; i++) pal256[i] = palette256(uint8_t(i));

    const unsigned src_w = half_clock || shift >= 2 ? g.width / 2 : g.width;   // source pixels
    uint32_t base = uint32_t(cr_[CR_START_HI] << 8 | cr_[CR_START_LO]) * 4;
    unsigned mem_row = 0, run = 0;
    std::vector<uint32_t> line(src_w + 8);
    for (unsigned y = 0; y < g.height; y++) {
        uint32_t addr = base;
        // CRTC mode control bits 0 and 1 substitute row scan counter bits for memory address
        // bits 13/14 of the CGA/Hercules-compatible modes (interleaved banks at 0x2000).
        if (!(cr_[CR_MODE] & 0x01)) {
            unsigned b = 14 + ((cr_[CR_MODE] >> 6) & 1);
            addr = (addr & ~(1u << b)) | ((mem_row & 1) << b);
        }
        if (!(cr_[CR_MODE] & 0x02)) addr = (addr & ~0x8000u) | ((mem_row & 2) << 14);

        if (shift == 0) {
            for (unsigned x = 0; x < src_w; x += 8) {
                const uint8_t* u = &vram_[(addr + x / 2) & kPlanarMask];
                for (unsigned b = 0; b < 8; b++) {
                    unsigned bit = 7 - b;
                    unsigned c = ((u[0] >> bit) & 1) | ((u[1] >> bit) & 1) << 1 |
                                 ((u[2] >> bit) & 1) << 2 | ((u[3] >> bit) & 1) << 3;
                    line[x + b] = pal.c[c & plane_enable];
                }
            }
        } else if (shift == 1) {
            // Packed 2-bit pixels: planes 0 and 1 hold the even and odd bytes (odd/even), 4
            // pixels each; planes 2 and 3 give the upper bits.
            for (unsigned x = 0; x < src_w; x += 8) {
                const uint8_t* u = &vram_[(addr + x / 2) & kPlanarMask];
                for (unsigned b = 0; b < 8; b++) {
                    unsigned lo = b < 4 ? u[0] : u[1], hi = b < 4 ? u[2] : u[3];
                    unsigned s = 6 - 2 * (b & 3);
                    unsigned c = ((lo >> s) & 3) | ((hi >> s) & 3) << 2;
                    line[x + b] = pal.c[c & plane_enable];
                }
            }
        } else {
            for (unsigned x = 0; x < src_w; x++) line[x] = pal256[vram_[(addr + x) & kPlanarMask]];
        }
        uint32_t* out = fb.row(y);
        if (src_w == g.width) std::copy(line.begin(), line.begin() + g.width, out);
        else
            for (unsigned x = 0; x < g.width; x++) out[x] = line[x / 2];

        if (++run == repeat) {
            run = 0;
            unsigned mask = (cr_[CR_MODE] & 3) ^ 3;   // advance after every bank of the interleave
            if ((mem_row & mask) == mask) base += line_bytes;
            mem_row++;
        }
        if (y == line_compare) base = 0;
    }
}

// ---------------------------------------------------------------------------------------------
// VBE (DISPI) modes: packed pixels straight from the framebuffer

void Vga::render_vbe(Framebuffer& fb, const Geometry& g) const {
    const unsigned bpp = g.bpp;
    if (bpp == 4) {
        // Planar 4 bpp: VGA planes scanned at the VBE geometry.
        const Palette16 pal = palette16();
        const uint8_t plane_enable = ar_[AR_PLANE_ENABLE] & 0x0F;
        for (unsigned y = 0; y < g.height; y++) {
            uint64_t addr = vbe_start_ + uint64_t(y) * vbe_line_bytes_;
            uint32_t* out = fb.row(y);
            for (unsigned x = 0; x < g.width; x++) {
                uint64_t a = addr + (x / 8) * 4;
                if (a + 4 > kVramSize) { out[x] = 0; continue; }
                unsigned bit = 7 - (x & 7), c = 0;
                for (unsigned p = 0; p < 4; p++) c |= ((vram_[a + p] >> bit) & 1) << p;
                out[x] = pal.c[c & plane_enable];
            }
        }
        return;
    }
    uint32_t pal256[256];
    if (bpp == 8)
        for (unsigned i = 0; i < 256; i++) pal256[i] = palette256(uint8_t(i));
    const unsigned bytes = bpp == 15 ? 2 : bpp / 8;
    for (unsigned y = 0; y < g.height; y++) {
        uint64_t addr = vbe_start_ + uint64_t(y) * vbe_line_bytes_;
        uint32_t* out = fb.row(y);
        if (addr + uint64_t(g.width) * bytes > kVramSize) {
            std::fill(out, out + g.width, 0u);
            continue;
        }
        const uint8_t* p = &vram_[addr];
        for (unsigned x = 0; x < g.width; x++, p += bytes) {
            switch (bpp) {
            case 8: out[x] = pal256[p[0]]; break;
            case 15: {   // x:1 r:5 g:5 b:5
                unsigned v = p[0] | p[1] << 8;
                out[x] = uint32_t(widen5((v >> 10) & 31)) << 16 | uint32_t(widen5((v >> 5) & 31)) << 8 |
                         widen5(v & 31);
                break;
            }
            case 16: {   // r:5 g:6 b:5
                unsigned v = p[0] | p[1] << 8;
                out[x] = uint32_t(widen5((v >> 11) & 31)) << 16 | uint32_t(widen6b((v >> 5) & 63)) << 8 |
                         widen5(v & 31);
                break;
            }
            default:     // 24 and 32: B, G, R (, X) in memory
                out[x] = uint32_t(p[2]) << 16 | uint32_t(p[1]) << 8 | p[0];
                break;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// CP437

const char* cp437_to_utf8(uint8_t ch) {
    // The IBM PC character set as drawn by the VGA ROM font: 01-1F and 7F are symbols.
    static const char* const kTable[256] = {
        " ", "☺", "☻", "♥", "♦", "♣", "♠", "•", "◘", "○", "◙", "♂", "♀", "♪", "♫", "☼",
        "►", "◄", "↕", "‼", "¶", "§", "▬", "↨", "↑", "↓", "→", "←", "∟", "↔", "▲", "▼",
        " ", "!", "\"", "#", "$", "%", "&", "'", "(", ")", "*", "+", ",", "-", ".", "/",
        "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", ":", ";", "<", "=", ">", "?",
        "@", "A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M", "N", "O",
        "P", "Q", "R", "S", "T", "U", "V", "W", "X", "Y", "Z", "[", "\\", "]", "^", "_",
        "`", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o",
        "p", "q", "r", "s", "t", "u", "v", "w", "x", "y", "z", "{", "|", "}", "~", "⌂",
        "Ç", "ü", "é", "â", "ä", "à", "å", "ç", "ê", "ë", "è", "ï", "î", "ì", "Ä", "Å",
        "É", "æ", "Æ", "ô", "ö", "ò", "û", "ù", "ÿ", "Ö", "Ü", "¢", "£", "¥", "₧", "ƒ",
        "á", "í", "ó", "ú", "ñ", "Ñ", "ª", "º", "¿", "⌐", "¬", "½", "¼", "¡", "«", "»",
        "░", "▒", "▓", "│", "┤", "╡", "╢", "╖", "╕", "╣", "║", "╗", "╝", "╜", "╛", "┐",
        "└", "┴", "┬", "├", "─", "┼", "╞", "╟", "╚", "╔", "╩", "╦", "╠", "═", "╬", "╧",
        "╨", "╤", "╥", "╙", "╘", "╒", "╓", "╫", "╪", "┘", "┌", "█", "▄", "▌", "▐", "▀",
        "α", "ß", "Γ", "π", "Σ", "σ", "µ", "τ", "Φ", "Θ", "Ω", "δ", "∞", "φ", "ε", "∩",
        "≡", "±", "≥", "≤", "⌠", "⌡", "÷", "≈", "°", "∙", "·", "√", "ⁿ", "²", "■", "\u00A0",
    };
    return kTable[ch];
}

}  // namespace lift86
