// VGA: register files (masks, CRTC protect and port selection, attribute flip-flop, DAC
// indexes), input status 1 timing on the machine clock, the graphics controller's write modes
// 0-3 and read modes 0-1 against hand-computed plane contents, chain-4 / odd-even / memory map
// addressing, the renderer (9-dot text with a known glyph, cursor, blink attribute, mode 13h,
// planar 16 colours), text_screen(), the DISPI interface with the LFB, the option ROM BAR, and
// PNG screenshots read back with libpng.
#include <gtest/gtest.h>
#include <png.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <unistd.h>

#include "devices/png_writer.hpp"
#include "devices/vga.hpp"
#include "machine/bus/clock.hpp"
#include "machine/bus/phys_memory.hpp"
#include "machine/bus/port_bus.hpp"

using namespace lift86;

namespace {

// Standard register values of BIOS modes 03h, 12h and 13h (IBM VGA TRM, mode tables).
constexpr uint8_t kMode3Seq[5] = {0x03, 0x00, 0x03, 0x00, 0x02};
constexpr uint8_t kMode3Crtc[25] = {0x5F, 0x4F, 0x50, 0x82, 0x55, 0x81, 0xBF, 0x1F, 0x00,
                                    0x4F, 0x0D, 0x0E, 0x00, 0x00, 0x00, 0x00, 0x9C, 0x8E,
                                    0x8F, 0x28, 0x1F, 0x96, 0xB9, 0xA3, 0xFF};
constexpr uint8_t kMode3Gfx[9] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0E, 0x00, 0xFF};
constexpr uint8_t kMode3Attr[21] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3A,
                                    0x3B, 0x3C, 0x3D, 0x3E, 0x3F, 0x0C, 0x00, 0x0F, 0x08, 0x00};

constexpr uint8_t kMode12Seq[5] = {0x03, 0x01, 0x0F, 0x00, 0x06};
constexpr uint8_t kMode12Crtc[25] = {0x5F, 0x4F, 0x50, 0x82, 0x54, 0x80, 0x0B, 0x3E, 0x00,
                                     0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xEA, 0x8C,
                                     0xDF, 0x28, 0x00, 0xE7, 0x04, 0xE3, 0xFF};
constexpr uint8_t kMode12Gfx[9] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x0F, 0xFF};
constexpr uint8_t kMode12Attr[21] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3A,
                                     0x3B, 0x3C, 0x3D, 0x3E, 0x3F, 0x01, 0x00, 0x0F, 0x00, 0x00};

constexpr uint8_t kMode13Seq[5] = {0x03, 0x01, 0x0F, 0x00, 0x0E};
constexpr uint8_t kMode13Crtc[25] = {0x5F, 0x4F, 0x50, 0x82, 0x54, 0x80, 0xBF, 0x1F, 0x00,
                                     0x41, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x9C, 0x8E,
                                     0x8F, 0x28, 0x40, 0x96, 0xB9, 0xA3, 0xFF};
constexpr uint8_t kMode13Gfx[9] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x05, 0x0F, 0xFF};
constexpr uint8_t kMode13Attr[21] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A,
                                     0x0B, 0x0C, 0x0D, 0x0E, 0x0F, 0x41, 0x00, 0x0F, 0x00, 0x00};

struct VgaTest : ::testing::Test {
    Clock clock{Clock::Mode::Virtual, 1};
    PortBus io;
    PhysMemory mem{1u << 20};
    Vga vga{io, mem, clock};

    void outb(uint16_t p, uint8_t v) { io.write(p, v, 1); }
    void outw(uint16_t p, uint16_t v) { io.write(p, v, 2); }
    uint8_t inb(uint16_t p) { return uint8_t(io.read(p, 1)); }
    uint16_t inw(uint16_t p) { return uint16_t(io.read(p, 2)); }
    void seq(uint8_t i, uint8_t v) { outb(0x3C4, i); outb(0x3C5, v); }
    void gfx(uint8_t i, uint8_t v) { outb(0x3CE, i); outb(0x3CF, v); }
    void crtc(uint8_t i, uint8_t v) { outb(0x3D4, i); outb(0x3D5, v); }
    void attr(uint8_t i, uint8_t v) { inb(0x3DA); outb(0x3C0, i); outb(0x3C0, v); }
    void dac(uint8_t i, uint8_t r, uint8_t g, uint8_t b) {
        outb(0x3C8, i);
        outb(0x3C9, r);
        outb(0x3C9, g);
        outb(0x3C9, b);
    }
    void dispi(uint16_t i, uint16_t v) { outw(0x1CE, i); outw(0x1CF, v); }
    uint16_t dispi(uint16_t i) { outw(0x1CE, i); return inw(0x1CF); }
    uint8_t rd(PhysAddr a) { return mem.read8(a); }
    void wr(PhysAddr a, uint8_t v) { mem.write8(a, v); }

    void set_mode(uint8_t misc, const uint8_t* s, const uint8_t* c, const uint8_t* g, const uint8_t* a) {
        outb(0x3C2, misc);
        for (uint8_t i = 0; i < 5; i++) seq(i, s[i]);
        crtc(0x11, 0x00);   // unprotect CR0-7
        for (uint8_t i = 0; i < 25; i++) crtc(i, c[i]);
        for (uint8_t i = 0; i < 9; i++) gfx(i, g[i]);
        inb(0x3DA);
        for (uint8_t i = 0; i < 21; i++) {
            outb(0x3C0, i);
            outb(0x3C0, a[i]);
        }
        outb(0x3C0, 0x20);   // palette address source: video on
    }
    // The EGA-compatible 64-colour palette in DAC entries 0-63 (rgbRGB bits).
    void load_ega_palette() {
        for (unsigned i = 0; i < 64; i++)
            dac(uint8_t(i), uint8_t(((i >> 2) & 1) * 0x2A + ((i >> 5) & 1) * 0x15),
                uint8_t(((i >> 1) & 1) * 0x2A + ((i >> 4) & 1) * 0x15),
                uint8_t((i & 1) * 0x2A + ((i >> 3) & 1) * 0x15));
    }
    // Writes a 16-line glyph into font 0 in plane 2 the way the VGA BIOS does, then returns to
    // text-mode memory access.
    void load_glyph(uint8_t ch, const uint8_t (&rows)[16]) {
        seq(2, 0x04);
        seq(4, 0x07);
        gfx(4, 0x02);
        gfx(5, 0x00);
        gfx(6, 0x04);
        for (unsigned r = 0; r < 16; r++) wr(0xA0000 + ch * 32 + r, rows[r]);
        seq(2, 0x03);
        seq(4, 0x02);
        gfx(4, 0x00);
        gfx(5, 0x10);
        gfx(6, 0x0E);
    }
    void planar_setup() {   // mode 12h memory access: planar, write mode 0, A0000 64K
        seq(2, 0x0F);
        seq(4, 0x06);
        gfx(5, 0x00);
        gfx(6, 0x05);
        gfx(8, 0xFF);
    }
    void fill_planes(PhysAddr a, uint8_t p0, uint8_t p1, uint8_t p2, uint8_t p3) {
        const uint8_t v[4] = {p0, p1, p2, p3};
        for (unsigned p = 0; p < 4; p++) {
            seq(2, uint8_t(1u << p));
            wr(a, v[p]);
        }
        seq(2, 0x0F);
    }
    void expect_planes(uint32_t off, uint8_t p0, uint8_t p1, uint8_t p2, uint8_t p3) {
        EXPECT_EQ(vga.plane(0, off), p0) << "plane 0 @" << off;
        EXPECT_EQ(vga.plane(1, off), p1) << "plane 1 @" << off;
        EXPECT_EQ(vga.plane(2, off), p2) << "plane 2 @" << off;
        EXPECT_EQ(vga.plane(3, off), p3) << "plane 3 @" << off;
    }
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Registers

TEST_F(VgaTest, IndexedRegistersReadBackWithTheirMasks) {
    outb(0x3C2, 0x01);
    seq(2, 0xFF);
    EXPECT_EQ(inb(0x3C4), 2);
    EXPECT_EQ(inb(0x3C5), 0x0F);          // map mask has 4 bits
    gfx(5, 0xFF);
    EXPECT_EQ(inb(0x3CF), 0x7B);          // GR5 bits 2 and 7 do not exist
    crtc(0x13, 0x28);
    EXPECT_EQ(inb(0x3D4), 0x13);
    EXPECT_EQ(inb(0x3D5), 0x28);
    outw(0x3C4, 0x0304);                   // out dx, ax: index in AL, data in AH
    EXPECT_EQ(vga.seq(4), 0x02);           // SR4 bit 0 does not exist: 0x03 & 0x0E
    outw(0x3CE, 0x0A06);
    EXPECT_EQ(vga.gfx(6), 0x0A);
    EXPECT_EQ(inb(0x3CC), 0x01);           // misc output reads back at 0x3CC
}

TEST_F(VgaTest, CrtcProtectBitLocksRegisters0To7ExceptLineCompareBit8) {
    outb(0x3C2, 0x01);
    crtc(0x00, 0x5F);
    crtc(0x07, 0x00);
    crtc(0x11, 0x80);                      // protect
    crtc(0x00, 0x12);
    crtc(0x06, 0x34);
    crtc(0x07, 0xFF);
    crtc(0x09, 0x4F);                      // not protected
    EXPECT_EQ(vga.crtc(0x00), 0x5F);
    EXPECT_EQ(vga.crtc(0x06), 0x00);
    EXPECT_EQ(vga.crtc(0x07), 0x10);       // only bit 4 got through
    EXPECT_EQ(vga.crtc(0x09), 0x4F);
    crtc(0x11, 0x00);                      // CR11 itself is not protected
    crtc(0x00, 0x12);
    EXPECT_EQ(vga.crtc(0x00), 0x12);
}

TEST_F(VgaTest, MiscOutputBit0MovesCrtcBetween3B4And3D4) {
    outb(0x3C2, 0x00);                     // monochrome addresses
    outb(0x3B4, 0x0E);
    outb(0x3B5, 0x12);
    EXPECT_EQ(vga.crtc(0x0E), 0x12);
    outb(0x3D4, 0x0F);                     // the colour block does not respond
    EXPECT_EQ(inb(0x3D4), 0xFF);
    EXPECT_EQ(inb(0x3B4), 0x0E);
    outb(0x3C2, 0x01);                     // colour addresses
    outb(0x3D4, 0x0E);
    outb(0x3D5, 0x34);
    EXPECT_EQ(vga.crtc(0x0E), 0x34);
    outb(0x3B5, 0x56);                     // ignored now
    EXPECT_EQ(vga.crtc(0x0E), 0x34);
    EXPECT_EQ(inb(0x3B5), 0xFF);
    EXPECT_EQ(inb(0x3D5), 0x34);
}

TEST_F(VgaTest, AttributeFlipFlopAlternatesAndInputStatusReadResetsIt) {
    outb(0x3C2, 0x01);
    inb(0x3DA);
    outb(0x3C0, 0x01);                     // index
    outb(0x3C0, 0x15);                     // data
    EXPECT_EQ(vga.attr(1), 0x15);
    outb(0x3C0, 0x22);                     // index again (with PAS)
    EXPECT_EQ(inb(0x3C0), 0x22);           // the index register reads back
    EXPECT_EQ(inb(0x3C1), 0x00);           // AR2
    inb(0x3DA);                            // flip-flop was at "data": reset it to "index"
    outb(0x3C0, 0x03);
    outb(0x3C0, 0x2A);
    EXPECT_EQ(vga.attr(2), 0x00);          // the 0x03 went to the index, not to AR2
    EXPECT_EQ(vga.attr(3), 0x2A);
    EXPECT_EQ(inb(0x3C1), 0x2A);
    outb(0x3C0, 0x04);                     // flip-flop at "index" after the data write
    outb(0x3C0, 0xFF);
    EXPECT_EQ(vga.attr(4), 0x3F);          // palette registers are 6 bits
}

TEST_F(VgaTest, DacIndexesAutoIncrementAndComponentsAreSixBits) {
    outb(0x3C8, 5);
    for (uint8_t v : {0x01, 0x02, 0x03, 0x3F, 0xFF, 0x40}) outb(0x3C9, v);
    EXPECT_EQ(inb(0x3C8), 7);              // two colours written: index moved on twice
    EXPECT_EQ(inb(0x3C7), 0);              // DAC state: write mode
    outb(0x3C7, 5);
    EXPECT_EQ(inb(0x3C7), 3);              // DAC state: read mode
    uint8_t got[6];
    for (uint8_t& g : got) g = inb(0x3C9);
    const uint8_t want[6] = {0x01, 0x02, 0x03, 0x3F, 0x3F, 0x00};
    for (int i = 0; i < 6; i++) EXPECT_EQ(got[i], want[i]) << i;
    EXPECT_EQ(inb(0x3C9), 0x00);           // entry 7, red
    // A partial colour does not reach the DAC until its third component.
    outb(0x3C8, 9);
    outb(0x3C9, 0x11);
    outb(0x3C9, 0x22);
    EXPECT_EQ(vga.dac(9, 0), 0);
    outb(0x3C9, 0x33);
    EXPECT_EQ(vga.dac(9, 0), 0x11);
    EXPECT_EQ(vga.dac_rgb(9), 0x458ACFu);  // 6-bit values widened by bit replication
}

// Mode 3 timing: 28.322 MHz, 9-dot characters, 100 characters per line (31.777 us), 449 lines
// (14.27 ms, 70 Hz), 400 displayed lines, vertical retrace on lines 412-413, 80 displayed
// characters per line.
TEST_F(VgaTest, InputStatus1FollowsTheMachineClock) {
    set_mode(0x67, kMode3Seq, kMode3Crtc, kMode3Gfx, kMode3Attr);
    const double line_ns = 900 * 1e9 / 28322000;
    auto at = [&](double ns) {
        clock.advance_insns(uint64_t(ns) - clock.now());
        return inb(0x3DA);
    };
    EXPECT_EQ(at(100 * line_ns + 10 * 9e9 / 28322000), 0x00);   // line 100, char 10: active
    EXPECT_EQ(at(100 * line_ns + 90 * 9e9 / 28322000), 0x01);   // char 90: horizontal blank
    EXPECT_EQ(at(405.5 * line_ns), 0x01);                        // vertical blank, no retrace
    EXPECT_EQ(at(412.5 * line_ns), 0x09);                        // vertical retrace
    EXPECT_EQ(at(420.5 * line_ns), 0x01);                        // retrace over
    EXPECT_EQ(at((449 + 412.5) * line_ns), 0x09);                // the next frame's retrace
    EXPECT_EQ(at((449 + 449 + 200) * line_ns + 1000), 0x00);
}

TEST_F(VgaTest, RetraceStillTogglesWhenTheClockStandsStill) {
    set_mode(0x67, kMode3Seq, kMode3Crtc, kMode3Gfx, kMode3Attr);
    bool seen_on = false, seen_off_after = false;
    for (int i = 0; i < 100000 && !seen_off_after; i++) {
        bool retrace = inb(0x3DA) & 0x08;
        if (retrace) seen_on = true;
        else if (seen_on) seen_off_after = true;
    }
    EXPECT_TRUE(seen_on && seen_off_after);   // a BIOS "wait for retrace" loop terminates
}

// ---------------------------------------------------------------------------------------------
// Write modes and read modes (planar addressing)

TEST_F(VgaTest, WriteMode0MapMaskSetResetAndRotate) {
    planar_setup();
    wr(0xA0000, 0xA5);
    expect_planes(0, 0xA5, 0xA5, 0xA5, 0xA5);
    seq(2, 0x05);                          // map mask: planes 0 and 2
    wr(0xA0001, 0x3C);
    expect_planes(1, 0x3C, 0x00, 0x3C, 0x00);
    seq(2, 0x0F);
    gfx(0, 0x0A);                          // set/reset value 1010
    gfx(1, 0x0F);                          // enabled for all planes: the CPU byte is unused
    wr(0xA0002, 0x5A);
    expect_planes(2, 0x00, 0xFF, 0x00, 0xFF);
    gfx(1, 0x03);                          // planes 0-1 from set/reset, 2-3 from the CPU
    wr(0xA0003, 0x81);
    expect_planes(3, 0x00, 0xFF, 0x81, 0x81);
    gfx(1, 0x00);
    gfx(3, 0x04);                          // rotate right by 4
    wr(0xA0004, 0x12);
    expect_planes(4, 0x21, 0x21, 0x21, 0x21);
}

TEST_F(VgaTest, WriteMode0LogicalFunctionsAndBitMaskUseTheLatches) {
    planar_setup();
    fill_planes(0xA0010, 0xF0, 0x0F, 0xFF, 0x00);
    rd(0xA0010);                           // load the latches
    gfx(3, 0x08);                          // AND with latches
    wr(0xA0010, 0x3C);
    expect_planes(0x10, 0x30, 0x0C, 0x3C, 0x00);
    rd(0xA0010);
    gfx(3, 0x18);                          // XOR with latches
    gfx(8, 0x0F);                          // only the low 4 bits from the data path
    wr(0xA0010, 0xFF);
    expect_planes(0x10, 0x3F, 0x03, 0x33, 0x0F);
    gfx(3, 0x10);                          // OR
    gfx(8, 0xFF);
    rd(0xA0010);
    wr(0xA0010, 0x80);
    expect_planes(0x10, 0xBF, 0x83, 0xB3, 0x8F);
}

TEST_F(VgaTest, WriteMode1CopiesTheLatches) {
    planar_setup();
    fill_planes(0xA0010, 0x3F, 0x03, 0x33, 0x0F);
    EXPECT_EQ(rd(0xA0010), 0x3F);          // read mode 0, map 0; loads all four latches
    EXPECT_EQ(vga.latch(2), 0x33);
    gfx(5, 0x01);
    gfx(8, 0x00);                          // the bit mask does not apply in write mode 1
    wr(0xA0020, 0x00);
    expect_planes(0x20, 0x3F, 0x03, 0x33, 0x0F);
    gfx(5, 0x00);
    gfx(8, 0xFF);
    fill_planes(0xA0030, 0, 0, 0, 0);      // (writes do not touch the latches)
    gfx(5, 0x01);
    seq(2, 0x02);                          // the map mask applies in write mode 1
    wr(0xA0030, 0x00);
    expect_planes(0x30, 0x00, 0x03, 0x00, 0x00);
}

TEST_F(VgaTest, WriteMode2SpreadsAColourUnderTheBitMask) {
    planar_setup();
    fill_planes(0xA0030, 0x0F, 0x0F, 0x0F, 0x0F);
    rd(0xA0030);
    gfx(5, 0x02);
    gfx(8, 0xF0);
    wr(0xA0030, 0x05);                     // colour 0101 into the 4 left pixels
    expect_planes(0x30, 0xFF, 0x0F, 0xFF, 0x0F);
}

TEST_F(VgaTest, WriteMode3UsesRotatedDataAsBitMaskAndSetResetAsColour) {
    planar_setup();
    fill_planes(0xA0040, 0xFF, 0x00, 0x00, 0xFF);
    rd(0xA0040);
    gfx(5, 0x03);
    gfx(0, 0x06);                          // colour 0110
    gfx(1, 0x00);                          // enable set/reset is ignored in write mode 3
    gfx(8, 0x3F);
    wr(0xA0040, 0x0F);                     // effective mask 0x0F & 0x3F
    expect_planes(0x40, 0xF0, 0x0F, 0x0F, 0xF0);
    rd(0xA0040);
    gfx(3, 0x04);                          // rotate 4: 0x0F -> 0xF0, & 0x3F = 0x30
    wr(0xA0040, 0x0F);
    expect_planes(0x40, 0xC0, 0x3F, 0x3F, 0xC0);
}

TEST_F(VgaTest, ReadMode0SelectsAPlaneAndReadMode1ComparesColours) {
    planar_setup();
    fill_planes(0xA0050, 0xF0, 0xCC, 0xAA, 0x0F);
    gfx(4, 2);
    EXPECT_EQ(rd(0xA0050), 0xAA);
    gfx(4, 3);
    EXPECT_EQ(rd(0xA0050), 0x0F);
    // Pixel colours, bit 7 to bit 0: 7, 3, 5, 1, 14, 10, 12, 8.
    gfx(5, 0x08);
    gfx(2, 0x05);                          // colour compare 0101
    gfx(7, 0x0F);                          // all planes count
    EXPECT_EQ(rd(0xA0050), 0x20);
    gfx(7, 0x05);                          // only planes 0 and 2 count: colours x1x1
    EXPECT_EQ(rd(0xA0050), 0xA0);
    gfx(2, 0x08);
    gfx(7, 0x0F);
    EXPECT_EQ(rd(0xA0050), 0x01);
}

// ---------------------------------------------------------------------------------------------
// Addressing

TEST_F(VgaTest, Chain4AddressingSpreadsBytesOverPlanes) {
    seq(2, 0x0F);
    seq(4, 0x0E);
    gfx(5, 0x40);
    gfx(6, 0x05);
    for (unsigned i = 0; i < 5; i++) wr(0xA0000 + i, uint8_t(0x11 * (i + 1)));
    expect_planes(0, 0x11, 0x22, 0x33, 0x44);
    EXPECT_EQ(vga.plane(0, 1), 0x55);
    EXPECT_EQ(vga.vram()[4], 0x55);        // chain-4 memory is linear in the array
    seq(2, 0x01);                          // only plane 0 writable
    wr(0xA0001, 0x99);
    wr(0xA0004, 0x99);
    EXPECT_EQ(vga.plane(1, 0), 0x22);
    EXPECT_EQ(vga.plane(0, 1), 0x99);
    EXPECT_EQ(rd(0xA0002), 0x33);
    EXPECT_EQ(mem.read32(0xA0000), 0x44332211u);   // wide accesses are split into bytes
}

TEST_F(VgaTest, OddEvenAddressingForTextMemory) {
    seq(2, 0x03);
    seq(4, 0x02);
    gfx(5, 0x10);
    gfx(6, 0x0E);                          // B8000-BFFFF
    wr(0xB8000, 'A');
    wr(0xB8001, 0x1F);
    wr(0xB8002, 'B');
    expect_planes(0, 'A', 0x1F, 0x00, 0x00);
    EXPECT_EQ(vga.plane(0, 1), 'B');
    EXPECT_EQ(rd(0xB8001), 0x1F);
    EXPECT_EQ(rd(0xB8002), 'B');
    seq(2, 0x0F);                          // with all planes enabled even bytes reach plane 2
    wr(0xB8004, 'C');
    EXPECT_EQ(vga.plane(0, 2), 'C');
    EXPECT_EQ(vga.plane(2, 2), 'C');
    EXPECT_EQ(vga.plane(1, 2), 0x00);
    gfx(4, 0x02);                          // read map 2: odd/even reads planes 2/3
    EXPECT_EQ(rd(0xB8004), 'C');
}

TEST_F(VgaTest, MemoryMapSelectDecodesOnlyItsWindow) {
    seq(2, 0x03);
    seq(4, 0x02);
    gfx(5, 0x10);
    gfx(6, 0x0E);                          // B8000-BFFFF only
    wr(0xA0000, 0x77);
    wr(0xB0000, 0x77);
    EXPECT_EQ(rd(0xA0000), 0xFF);
    EXPECT_EQ(rd(0xB0000), 0xFF);
    EXPECT_EQ(vga.plane(0, 0), 0x00);
    gfx(6, 0x0A);                          // B0000-B7FFF (monochrome)
    wr(0xB0000, 0x66);
    EXPECT_EQ(vga.plane(0, 0), 0x66);
    EXPECT_EQ(rd(0xB8000), 0xFF);
    gfx(6, 0x02);                          // A0000-BFFFF: B8000 is offset 0x18000
    wr(0xB8000, 0x55);
    EXPECT_EQ(vga.plane(0, 0x18000 / 2), 0x55);
}

// ---------------------------------------------------------------------------------------------
// Rendering

TEST_F(VgaTest, TextModeDrawsGlyphsFromPlane2WithAttributeColours) {
    set_mode(0x67, kMode3Seq, kMode3Crtc, kMode3Gfx, kMode3Attr);
    load_ega_palette();
    uint8_t glyph[16] = {0x81, 0xFF, 0x00, 0x01};
    load_glyph('A', glyph);
    load_glyph(0xC4, glyph);               // a line-drawing character: 9th dot repeats the 8th
    wr(0xB8000, 'A');
    wr(0xB8001, 0x1E);                     // yellow on blue
    wr(0xB8002, 0xC4);
    wr(0xB8003, 0x1E);
    crtc(0x0E, 0x07);                      // cursor far away
    crtc(0x0F, 0xD0);

    Vga::Geometry g = vga.geometry();
    EXPECT_EQ(g.kind, Vga::ScreenKind::Text);
    EXPECT_EQ(g.cols, 80u);
    EXPECT_EQ(g.rows, 25u);
    EXPECT_EQ(g.cell_w, 9u);
    EXPECT_EQ(g.cell_h, 16u);
    Framebuffer fb;
    vga.render(fb);
    ASSERT_EQ(fb.width, 720u);
    ASSERT_EQ(fb.height, 400u);
    const uint32_t yellow = 0xFFFF55, blue = 0x0000AA;
    EXPECT_EQ(fb.at(0, 0), yellow);        // 0x81: dots 0 and 7
    EXPECT_EQ(fb.at(1, 0), blue);
    EXPECT_EQ(fb.at(7, 0), yellow);
    EXPECT_EQ(fb.at(8, 0), blue);          // 9th dot of a normal character: background
    EXPECT_EQ(fb.at(4, 1), yellow);        // 0xFF row
    EXPECT_EQ(fb.at(4, 2), blue);
    EXPECT_EQ(fb.at(7, 3), yellow);        // 0x01 row
    EXPECT_EQ(fb.at(8, 3), blue);
    EXPECT_EQ(fb.at(9 + 7, 3), yellow);    // the 0xC4 cell
    EXPECT_EQ(fb.at(9 + 8, 3), yellow);    // line graphics: 9th dot copies the 8th
    EXPECT_EQ(fb.at(9 + 8, 0), yellow);
    EXPECT_EQ(fb.at(9 + 8, 2), blue);
    EXPECT_EQ(fb.at(30, 0), 0x000000u);    // blank cells: char 0, attribute 0

    seq(1, 0x01);                          // 8-dot characters
    vga.render(fb);
    EXPECT_EQ(fb.width, 640u);
    EXPECT_EQ(fb.at(8, 0), yellow);        // the 0xC4 cell now starts at x = 8
    EXPECT_EQ(fb.at(8 + 7, 3), yellow);
    EXPECT_EQ(fb.at(8 + 1, 0), blue);
}

TEST_F(VgaTest, TextCursorAndBlinkAttribute) {
    set_mode(0x67, kMode3Seq, kMode3Crtc, kMode3Gfx, kMode3Attr);
    load_ega_palette();
    // Cell (5, 2): space, light grey on black; cursor there on lines 14-15.
    wr(0xB8000 + (2 * 80 + 5) * 2, ' ');
    wr(0xB8000 + (2 * 80 + 5) * 2 + 1, 0x07);
    crtc(0x0A, 0x0E);
    crtc(0x0B, 0x0F);
    crtc(0x0E, 0x00);
    crtc(0x0F, 2 * 80 + 5);
    Framebuffer fb;
    vga.render(fb);
    EXPECT_EQ(vga.cursor(), std::make_pair(5, 2));
    EXPECT_EQ(fb.at(5 * 9 + 3, 2 * 16 + 14), 0xAAAAAAu);
    EXPECT_EQ(fb.at(5 * 9 + 8, 2 * 16 + 15), 0xAAAAAAu);
    EXPECT_EQ(fb.at(5 * 9 + 3, 2 * 16 + 13), 0x000000u);
    crtc(0x0A, 0x2E);                      // cursor off
    vga.render(fb);
    EXPECT_EQ(fb.at(5 * 9 + 3, 2 * 16 + 14), 0x000000u);
    EXPECT_EQ(vga.cursor(), std::make_pair(-1, -1));

    // Attribute 0xF0: with blinking enabled (AR10 bit 3) bit 7 is blink, so the background is
    // colour 7; with it disabled the background is bright white.
    wr(0xB8000, ' ');
    wr(0xB8001, 0xF0);
    vga.render(fb);
    EXPECT_EQ(fb.at(2, 2), 0xAAAAAAu);
    attr(0x10, 0x04);
    outb(0x3C0, 0x20);
    vga.render(fb);
    EXPECT_EQ(fb.at(2, 2), 0xFFFFFFu);
}

TEST_F(VgaTest, BlankWhenPaletteAddressSourceIsClear) {
    set_mode(0x67, kMode3Seq, kMode3Crtc, kMode3Gfx, kMode3Attr);
    load_ega_palette();
    wr(0xB8001, 0x70);                     // grey background in cell 0
    Framebuffer fb;
    vga.render(fb);
    EXPECT_EQ(fb.at(0, 0), 0xAAAAAAu);
    inb(0x3DA);
    outb(0x3C0, 0x00);                     // PAS = 0: the attribute controller owns the palette
    EXPECT_EQ(vga.geometry().kind, Vga::ScreenKind::Blank);
    vga.render(fb);
    EXPECT_EQ(fb.width, 720u);             // the mode's size is kept while blanked
    EXPECT_EQ(fb.at(0, 0), 0x000000u);
    vga.reset();                           // power-on registers: a plain 640x480 black frame
    vga.render(fb);
    EXPECT_EQ(fb.width, 640u);
    EXPECT_EQ(fb.height, 480u);
}

TEST_F(VgaTest, TextScreenReturnsUtf8Lines) {
    set_mode(0x67, kMode3Seq, kMode3Crtc, kMode3Gfx, kMode3Attr);
    const char* hello = "Hello, VGA";
    for (unsigned i = 0; hello[i]; i++) wr(0xB8000 + (80 + i) * 2, uint8_t(hello[i]));
    wr(0xB8000 + 2 * 160 + 0, 0x82);       // é
    wr(0xB8000 + 2 * 160 + 2, 0xB0);       // ░
    wr(0xB8000 + 2 * 160 + 4, 0xC9);       // ╔
    for (unsigned i = 0; i < 80; i++) wr(0xB8000 + 24 * 160 + i * 2, 'x');
    auto lines = vga.text_lines();
    ASSERT_EQ(lines.size(), 25u);
    EXPECT_EQ(lines[0], "");               // NULs are blanks, trailing blanks trimmed
    EXPECT_EQ(lines[1], "Hello, VGA");
    EXPECT_EQ(lines[2], "é░╔");
    EXPECT_EQ(lines[24], std::string(80, 'x'));
    std::string s = vga.text_screen();
    EXPECT_NE(s.find("\nHello, VGA\né░╔\n"), std::string::npos);
    // The start address (CR0C/0D) scrolls the screen: one row down.
    crtc(0x0D, 80);
    EXPECT_EQ(vga.text_lines()[0], "Hello, VGA");
    // Graphics modes have no text.
    gfx(6, 0x05);
    EXPECT_EQ(vga.text_screen(), "");
}

TEST_F(VgaTest, Mode13hRendersDoubledPixelsThroughTheDac) {
    set_mode(0x63, kMode13Seq, kMode13Crtc, kMode13Gfx, kMode13Attr);
    dac(5, 0x3F, 0x00, 0x20);
    wr(0xA0000 + 3 * 320 + 10, 5);
    Framebuffer fb;
    vga.render(fb);
    EXPECT_EQ(vga.geometry().kind, Vga::ScreenKind::Vga256);
    ASSERT_EQ(fb.width, 640u);             // as QEMU: 320 pixels drawn twice
    ASSERT_EQ(fb.height, 400u);            // 200 lines, each scanned twice
    for (unsigned y : {6u, 7u})
        for (unsigned x : {20u, 21u}) EXPECT_EQ(fb.at(x, y), 0xFF0082u) << x << "," << y;
    EXPECT_EQ(fb.at(22, 6), 0u);
    EXPECT_EQ(fb.at(20, 8), 0u);
    outb(0x3C6, 0xFE);                     // PEL mask: index 5 becomes 4
    dac(4, 0x00, 0x3F, 0x00);
    vga.render(fb);
    EXPECT_EQ(fb.at(20, 6), 0x00FF00u);
}

TEST_F(VgaTest, PlanarSixteenColourModeAndPlaneEnable) {
    set_mode(0xE3, kMode12Seq, kMode12Crtc, kMode12Gfx, kMode12Attr);
    load_ega_palette();
    gfx(5, 0x02);                          // write mode 2
    gfx(8, 0x10);                          // pixel 3 of the byte
    rd(0xA0000 + 2 * 80);
    wr(0xA0000 + 2 * 80, 0x0C);            // light red at (3, 2)
    Framebuffer fb;
    vga.render(fb);
    ASSERT_EQ(fb.width, 640u);
    ASSERT_EQ(fb.height, 480u);
    EXPECT_EQ(fb.at(3, 2), 0xFF5555u);
    EXPECT_EQ(fb.at(4, 2), 0x000000u);
    EXPECT_EQ(fb.at(3, 1), 0x000000u);
    attr(0x12, 0x07);                      // colour plane enable: plane 3 off -> colour 4
    outb(0x3C0, 0x20);
    vga.render(fb);
    EXPECT_EQ(fb.at(3, 2), 0xAA0000u);
}

// ---------------------------------------------------------------------------------------------
// DISPI and the linear framebuffer

TEST_F(VgaTest, DispiIdentificationAndCapabilities) {
    EXPECT_EQ(dispi(Vga::kDispiId), 0xB0C5);
    dispi(Vga::kDispiId, 0xB0C0);
    EXPECT_EQ(dispi(Vga::kDispiId), 0xB0C0);
    dispi(Vga::kDispiId, 0x1234);          // not an ID: ignored
    EXPECT_EQ(dispi(Vga::kDispiId), 0xB0C0);
    EXPECT_EQ(inw(0x1CE), Vga::kDispiId);  // the index reads back
    EXPECT_EQ(dispi(Vga::kDispiVideoMemory64K), 256);   // 16 MiB
    dispi(Vga::kDispiEnable, Vga::kDispiGetCaps);
    EXPECT_EQ(dispi(Vga::kDispiXres), Vga::kDispiMaxXres);
    EXPECT_EQ(dispi(Vga::kDispiBpp), 32);
    dispi(Vga::kDispiEnable, 0);
    EXPECT_EQ(dispi(Vga::kDispiXres), 0);
}

TEST_F(VgaTest, DispiModeSetShowsLfbPixels) {
    vga.map_lfb(0xE0000000);
    inb(0x3DA);
    outb(0x3C0, 0x20);
    std::memset(vga.vram(), 0xEE, 4096);
    dispi(Vga::kDispiXres, 640);
    dispi(Vga::kDispiYres, 480);
    dispi(Vga::kDispiBpp, 32);
    dispi(Vga::kDispiEnable, Vga::kDispiEnabled | Vga::kDispiLfbEnabled);
    EXPECT_EQ(vga.vram()[100], 0);         // enabling without NOCLEARMEM clears the screen
    EXPECT_EQ(dispi(Vga::kDispiVirtWidth), 640);
    EXPECT_EQ(dispi(Vga::kDispiVirtHeight), (16u << 20) / (640 * 4));
    mem.write32(0xE0000000 + (1 * 640 + 2) * 4, 0x00123456);
    EXPECT_EQ(mem.read32(0xE0000000 + (1 * 640 + 2) * 4), 0x00123456u);
    Vga::Geometry g = vga.geometry();
    EXPECT_EQ(g.kind, Vga::ScreenKind::Vbe);
    Framebuffer fb;
    vga.render(fb);
    ASSERT_EQ(fb.width, 640u);
    ASSERT_EQ(fb.height, 480u);
    EXPECT_EQ(fb.at(2, 1), 0x123456u);
    EXPECT_EQ(fb.at(3, 1), 0u);
    // The VGA side was switched to a graphics mode with the 64 KiB window at A0000.
    EXPECT_EQ(vga.gfx(6) & 0x0D, 0x05);

    // Panning: virtual width 1024, display starts at (8, 2).
    dispi(Vga::kDispiVirtWidth, 1024);
    dispi(Vga::kDispiXOffset, 8);
    dispi(Vga::kDispiYOffset, 2);
    mem.write32(0xE0000000 + (2 * 1024 + 8) * 4, 0x00ABCDEF);
    vga.render(fb);
    EXPECT_EQ(fb.at(0, 0), 0xABCDEFu);

    dispi(Vga::kDispiEnable, 0);
    EXPECT_NE(vga.geometry().kind, Vga::ScreenKind::Vbe);
    vga.unmap_lfb();
    EXPECT_EQ(mem.read32(0xE0000000), 0xFFFFFFFFu);   // open bus again
}

TEST_F(VgaTest, DispiPixelFormats) {
    vga.map_lfb(0xFD000000);
    inb(0x3DA);
    outb(0x3C0, 0x20);
    auto mode = [&](unsigned bpp, uint16_t extra = 0) {
        dispi(Vga::kDispiEnable, 0);
        dispi(Vga::kDispiXres, 320);
        dispi(Vga::kDispiYres, 200);
        dispi(Vga::kDispiBpp, uint16_t(bpp));
        dispi(Vga::kDispiEnable, uint16_t(Vga::kDispiEnabled | Vga::kDispiLfbEnabled | extra));
    };
    Framebuffer fb;
    mode(16);
    mem.write16(0xFD000000, 0xF800);
    mem.write16(0xFD000002, 0x07E0);
    mem.write16(0xFD000004, 0x001F);
    vga.render(fb);
    EXPECT_EQ(fb.at(0, 0), 0xFF0000u);
    EXPECT_EQ(fb.at(1, 0), 0x00FF00u);
    EXPECT_EQ(fb.at(2, 0), 0x0000FFu);
    mode(15);
    mem.write16(0xFD000000, 0x7C00);
    mem.write16(0xFD000002, 0x03E0);
    vga.render(fb);
    EXPECT_EQ(fb.at(0, 0), 0xFF0000u);
    EXPECT_EQ(fb.at(1, 0), 0x00FF00u);
    mode(24);
    mem.write8(0xFD000003, 0x56);          // pixel 1: B, G, R
    mem.write8(0xFD000004, 0x34);
    mem.write8(0xFD000005, 0x12);
    vga.render(fb);
    EXPECT_EQ(fb.at(1, 0), 0x123456u);
    mode(8, Vga::kDispi8BitDac);
    dac(7, 0xFF, 0x80, 0x01);              // 8-bit DAC: full-range components
    mem.write8(0xFD000000 + 320 + 4, 7);
    vga.render(fb);
    EXPECT_EQ(fb.at(4, 1), 0xFF8001u);
    EXPECT_EQ(vga.geometry().bpp, 8u);
}

TEST_F(VgaTest, DispiBankSwitchesTheA0000Window) {
    vga.map_lfb(0xE0000000);
    dispi(Vga::kDispiXres, 1024);
    dispi(Vga::kDispiYres, 768);
    dispi(Vga::kDispiBpp, 8);
    dispi(Vga::kDispiEnable, Vga::kDispiEnabled);   // banked: no LFB bit
    dispi(Vga::kDispiBank, 3);
    EXPECT_EQ(dispi(Vga::kDispiBank), 3);
    wr(0xA0010, 0x5A);
    EXPECT_EQ(vga.vram()[3 * 0x10000 + 0x10], 0x5A);
    EXPECT_EQ(mem.read8(0xE0000000 + 3 * 0x10000 + 0x10), 0x5A);
    EXPECT_EQ(rd(0xA0010), 0x5A);
    EXPECT_EQ(rd(0xB0000), 0xFF);          // the window is 64 KiB
    dispi(Vga::kDispiEnable, 0);           // disabling returns to bank 0
    wr(0xA0010, 0x11);
    EXPECT_EQ(vga.vram()[0x10], 0x11);
    EXPECT_EQ(vga.vram()[3 * 0x10000 + 0x10], 0x5A);
}

// ---------------------------------------------------------------------------------------------
// Option ROM

TEST_F(VgaTest, OptionRomBar) {
    std::string err;
    EXPECT_FALSE(vga.load_option_rom("/nonexistent/vgabios.bin", &err));
    EXPECT_NE(err.find("/nonexistent/vgabios.bin"), std::string::npos);
    EXPECT_EQ(err.find('\n'), std::string::npos);
    EXPECT_EQ(vga.rom_bar_size(), 0u);
    std::vector<uint8_t> rom(39936, 0x00);
    rom[0] = 0x55;
    rom[1] = 0xAA;
    rom[2] = 39936 / 512;
    rom[39935] = 0x77;
    vga.set_option_rom(rom);
    EXPECT_EQ(vga.rom_bar_size(), 65536u);
    vga.map_rom(0xFEB00000);
    EXPECT_EQ(mem.read16(0xFEB00000), 0xAA55);
    EXPECT_EQ(mem.read8(0xFEB00000 + 39935), 0x77);
    EXPECT_EQ(mem.read8(0xFEB00000 + 39936), 0xFF);   // past the image
    mem.write8(0xFEB00000, 0x00);                      // read-only
    EXPECT_EQ(mem.read8(0xFEB00000), 0x55);
    vga.unmap_rom();
    EXPECT_EQ(mem.read16(0xFEB00000), 0xFFFF);
    if (FILE* f = std::fopen(Vga::kDefaultRomPath, "rb")) {
        std::fclose(f);
        ASSERT_TRUE(vga.load_option_rom(Vga::kDefaultRomPath, &err)) << err;
        EXPECT_EQ(vga.option_rom()[0], 0x55);
        EXPECT_EQ(vga.option_rom()[1], 0xAA);
    }
}

// ---------------------------------------------------------------------------------------------
// PNG

TEST(PngWriter, WritesAnImageLibpngReadsBack) {
    Framebuffer fb;
    fb.resize(5, 3);
    fb.fill(0x000000);
    fb.pixels[1 * 5 + 3] = 0x12AB34;
    fb.pixels[2 * 5 + 4] = 0xFFFFFF;
    std::string path = ::testing::TempDir() + "lift86_vga_test_" + std::to_string(::getpid()) + ".png";
    std::string err;
    ASSERT_TRUE(write_png(path, fb, &err)) << err;

    png_image img;
    std::memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    ASSERT_TRUE(png_image_begin_read_from_file(&img, path.c_str())) << img.message;
    EXPECT_EQ(img.width, 5u);
    EXPECT_EQ(img.height, 3u);
    img.format = PNG_FORMAT_RGB;
    std::vector<uint8_t> buf(PNG_IMAGE_SIZE(img));
    ASSERT_TRUE(png_image_finish_read(&img, nullptr, buf.data(), 0, nullptr)) << img.message;
    const uint8_t* px = &buf[(1 * 5 + 3) * 3];
    EXPECT_EQ(px[0], 0x12);
    EXPECT_EQ(px[1], 0xAB);
    EXPECT_EQ(px[2], 0x34);
    EXPECT_EQ(buf[(2 * 5 + 4) * 3 + 1], 0xFF);
    EXPECT_EQ(buf[0], 0x00);
    std::remove(path.c_str());

    EXPECT_FALSE(write_png("/nonexistent-dir/x.png", fb, &err));
    EXPECT_EQ(err.rfind("cannot write /nonexistent-dir/x.png: ", 0), 0u) << err;
    EXPECT_EQ(err.find('\n'), std::string::npos);
    Framebuffer empty;
    EXPECT_FALSE(write_png(path, empty, &err));
}
