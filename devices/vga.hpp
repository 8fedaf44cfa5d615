// IBM VGA with the Bochs VBE "DISPI" extension: the adapter QEMU calls `-vga std`
// (PCI 1234:1111), for which SeaBIOS's vgabios-stdvga.bin is written.
//
// References: IBM VGA XGA Technical Reference Manual ("Video Graphics Array": sequencer,
// CRT controller, graphics controller, attribute controller, DAC, general registers, and the
// "Programming Considerations" for write modes 0-3 and read modes 0-1); FreeVGA's register
// pages; Bochs/QEMU "vbe_display_api" for the DISPI registers at 0x1CE/0x1CF.
//
// What the board must wire:
//   * Construct one `Vga(io, mem, clock)`. The constructor claims ports 0x3B0-0x3DF and
//     0x1CE-0x1D0 and maps the legacy window 0xA0000-0xBFFFF (MMIO) itself.
//   * PCI (the board's PCI VGA function, vendor kPciVendorId, device kPciDeviceId, class
//     kPciClassCode): BAR0 is a 32-bit prefetchable memory BAR of kLfbSize bytes. When the
//     guest programs BAR0 with memory decoding enabled, call map_lfb(base); when it moves the
//     BAR or disables decoding, call unmap_lfb() (and map_lfb(new base)). The expansion ROM BAR
//     is rom_bar_size() bytes: map_rom(base)/unmap_rom() when it is enabled/disabled; the bytes
//     are option_rom() (load them first with load_option_rom(kDefaultRomPath, &err)).
//     Without PCI the VGA BIOS looks for the LFB at kDefaultLfbBase: map_lfb(kDefaultLfbBase).
//   * Machine reset: reset().
//   * A display calls render(fb) about 60 times a second of host time; tests call
//     text_screen(). Both only read the device, on the thread that runs the CPU.
//
// Memory model (as QEMU's): video memory is one 16 MiB array. The four VGA planes are
// interleaved — byte 4*o + p is plane p at plane offset o — so the 256 KiB of planar memory
// is its first 256 KiB, chain-4 byte a is array byte a (plane a & 3, offset a >> 2), odd/even
// byte a is plane (a & 1) at offset a >> 1, and the VBE linear framebuffer is the array
// itself. The CRTC scans the same array, so every addressing mode sees what the others wrote.
// The CRTC's word/doubleword address modes are implied by this layout and not modelled.
// Chain-4 and odd/even writes store the byte directly (no write modes), as QEMU does.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "devices/framebuffer.hpp"
#include "machine/bus/clock.hpp"
#include "machine/bus/phys_memory.hpp"
#include "machine/bus/port_bus.hpp"

namespace lift86 {

class Vga final : public PortDevice, public MmioDevice {
public:
    static constexpr uint32_t kVramSize = 16u << 20;     // QEMU's default vgamem_mb=16
    static constexpr uint32_t kPlanarSize = 256u << 10;  // the standard VGA's 4 x 64 KiB
    static constexpr PhysAddr kLegacyBase = 0xA0000;
    static constexpr uint32_t kLegacySize = 0x20000;
    static constexpr uint16_t kPciVendorId = 0x1234;
    static constexpr uint16_t kPciDeviceId = 0x1111;
    static constexpr uint32_t kPciClassCode = 0x030000;  // display / VGA-compatible / 0
    static constexpr uint32_t kLfbSize = kVramSize;
    static constexpr PhysAddr kDefaultLfbBase = 0xE0000000;  // VBE_DISPI_LFB_PHYSICAL_ADDRESS
    static constexpr const char* kDefaultRomPath = "/usr/share/seabios/vgabios-stdvga.bin";

    // DISPI register indexes (port 0x1CE) and values.
    enum : uint16_t {
        kDispiId = 0, kDispiXres, kDispiYres, kDispiBpp, kDispiEnable, kDispiBank,
        kDispiVirtWidth, kDispiVirtHeight, kDispiXOffset, kDispiYOffset, kDispiVideoMemory64K,
        kDispiCount = 10,   // registers 0..9 are stored; 0xA is computed
    };
    enum : uint16_t { kDispiId0 = 0xB0C0, kDispiId5 = 0xB0C5 };
    enum : uint16_t { kDispiEnabled = 0x01, kDispiGetCaps = 0x02, kDispi8BitDac = 0x20,
                      kDispiLfbEnabled = 0x40, kDispiNoClearMem = 0x80 };
    static constexpr uint16_t kDispiMaxXres = 16000, kDispiMaxYres = 12000, kDispiMaxBpp = 32;

    Vga(PortBus& io, PhysMemory& mem, Clock& clock);
    ~Vga() override;
    Vga(const Vga&) = delete;
    Vga& operator=(const Vga&) = delete;

    // Power-on state: every register 0 (as QEMU), DISPI ID 0xB0C5, memory kept.
    void reset();

    // --- PCI glue -------------------------------------------------------------------------
    void map_lfb(PhysAddr base);          // LFB (kLfbSize bytes) at base; replaces a previous map
    void unmap_lfb();
    bool lfb_mapped() const { return lfb_mapped_; }
    PhysAddr lfb_base() const { return lfb_base_; }
    // Reads the option ROM image (e.g. vgabios-stdvga.bin). False with one line in *error.
    bool load_option_rom(const std::string& path, std::string* error);
    void set_option_rom(std::vector<uint8_t> bytes) { rom_ = std::move(bytes); }
    const std::vector<uint8_t>& option_rom() const { return rom_; }
    uint32_t rom_bar_size() const;        // power of two >= the image (>= 2 KiB), 0 without one
    void map_rom(PhysAddr base);          // read-only ROM image at base (rom_bar_size() bytes)
    void unmap_rom();

    // --- Screen ---------------------------------------------------------------------------
    enum class ScreenKind { Blank, Text, Planar16, Cga4, Vga256, Vbe };
    struct Geometry {
        ScreenKind kind = ScreenKind::Blank;
        unsigned width = 0, height = 0;   // pixels of the rendered frame
        unsigned cols = 0, rows = 0;      // text modes: character cells
        unsigned cell_w = 0, cell_h = 0;  // text modes: dots per cell
        unsigned bpp = 0;                 // VBE modes
    };
    Geometry geometry() const;
    // Draws the current screen in the frame size QEMU's VGA uses, so screenshots compare with
    // QEMU's screendump: text 720x400 for mode 3, mode 13h as 640x400 (pixels doubled), 0Dh
    // as 640x400, 12h as 640x480, VBE modes at their resolution; black while blanked (AR index
    // bit 5 clear, SR1 screen off). Cursor always shown; blinking characters always shown
    // (attribute bit 7 is blink, not bright background, while AR10 bit 3 is set).
    void render(Framebuffer& fb) const;
    // Text modes: the characters on screen as UTF-8 (CP437), one line per row, each ending in
    // '\n' with trailing blanks removed. Empty string in graphics modes.
    std::string text_screen() const;
    std::vector<std::string> text_lines() const;
    // Text cursor cell, or {-1, -1} when hidden / off screen / not a text mode.
    std::pair<int, int> cursor() const;

    // --- Inspection (tests, debugging) ----------------------------------------------------
    const uint8_t* vram() const { return vram_.data(); }
    uint8_t* vram() { return vram_.data(); }
    uint8_t plane(unsigned p, uint32_t offset) const { return vram_[(offset * 4 + p) % kPlanarSize]; }
    uint8_t latch(unsigned p) const { return latch_[p]; }
    uint8_t dac(unsigned index, unsigned component) const { return dac_[index * 3 + component]; }
    uint16_t dispi(unsigned index) const { return index < kDispiCount ? dispi_[index] : 0; }
    uint8_t crtc(unsigned i) const { return cr_[i & 0xFF]; }
    uint8_t seq(unsigned i) const { return sr_[i & 7]; }
    uint8_t gfx(unsigned i) const { return gr_[i & 15]; }
    uint8_t attr(unsigned i) const { return ar_[i % 0x15]; }
    uint8_t misc_output() const { return misc_; }
    bool vbe_enabled() const { return dispi_[kDispiEnable] & kDispiEnabled; }
    // DAC colour of a palette index as 0x00RRGGBB (6-bit values widened by replication).
    uint32_t dac_rgb(uint8_t index) const;

    // PortDevice: 0x3B0-0x3DF (bytes; wider accesses are split) and 0x1CE-0x1D0 (words).
    uint32_t io_read(uint16_t port, unsigned size) override;
    void io_write(uint16_t port, uint32_t value, unsigned size) override;
    // MmioDevice: the legacy window, offsets from 0xA0000.
    uint32_t mmio_read(uint32_t offset, unsigned size) override;
    void mmio_write(uint32_t offset, uint32_t value, unsigned size) override;

private:
    // The LFB and ROM BAR are separate MMIO mappings of this device.
    struct LfbWindow final : MmioDevice {
        Vga* vga;
        uint32_t mmio_read(uint32_t offset, unsigned size) override;
        void mmio_write(uint32_t offset, uint32_t value, unsigned size) override;
    };
    struct RomWindow final : MmioDevice {
        Vga* vga;
        uint32_t mmio_read(uint32_t offset, unsigned size) override;
        void mmio_write(uint32_t, uint32_t, unsigned) override {}
    };

    uint8_t read_port(uint16_t port);
    void write_port(uint16_t port, uint8_t v);
    bool port_inactive(uint16_t port) const;   // 3Bx in colour mode / 3Dx in mono mode
    uint8_t input_status1();
    uint16_t dispi_read();
    void dispi_write(uint16_t v);
    void dispi_fixup();
    void dispi_enable(uint16_t v);

    uint8_t mem_read(uint32_t addr);           // addr: offset in the 128 KiB legacy window
    void mem_write(uint32_t addr, uint8_t v);
    bool decode(uint32_t& addr) const;         // window offset -> memory address, false if unmapped
    void load_latches(uint32_t unit);

    // Rendering helpers (vga_render part of vga.cpp).
    struct Palette16 { uint32_t c[16]; };
    Palette16 palette16() const;
    uint32_t palette256(uint8_t i) const;
    void render_text(Framebuffer& fb, const Geometry& g) const;
    void render_graphics(Framebuffer& fb, const Geometry& g) const;
    void render_vbe(Framebuffer& fb, const Geometry& g) const;
    uint32_t vde() const;                      // vertical display end + 1 (scan lines)

    PortBus& io_;
    PhysMemory& mem_;
    Clock& clock_;
    std::vector<uint8_t> vram_;
    std::vector<uint8_t> rom_;
    LfbWindow lfb_window_;
    RomWindow rom_window_;
    bool lfb_mapped_ = false, rom_mapped_ = false;
    PhysAddr lfb_base_ = 0, rom_base_ = 0;

    // General registers.
    uint8_t misc_ = 0, fcr_ = 0;
    // Sequencer, graphics controller, CRT controller, attribute controller.
    uint8_t sr_index_ = 0, gr_index_ = 0, cr_index_ = 0, ar_index_ = 0;
    std::array<uint8_t, 8> sr_{};
    std::array<uint8_t, 16> gr_{};
    std::array<uint8_t, 256> cr_{};
    std::array<uint8_t, 0x15> ar_{};
    bool ar_flipflop_ = false;   // false: next 0x3C0 write is the index
    std::array<uint8_t, 4> latch_{};
    // DAC.
    std::array<uint8_t, 768> dac_{};
    uint8_t dac_read_index_ = 0, dac_write_index_ = 0, dac_sub_ = 0, dac_state_ = 0;
    uint8_t dac_cache_[3] = {};
    uint8_t pel_mask_ = 0xFF;
    bool dac_8bit_ = false;
    // DISPI.
    uint16_t dispi_index_ = 0;
    std::array<uint16_t, kDispiCount> dispi_{};
    uint32_t bank_offset_ = 0;       // legacy window 0xA0000 (memory map 1) -> vram + this
    uint32_t vbe_line_bytes_ = 0;    // bytes per scan line of the VBE mode
    uint32_t vbe_start_ = 0;         // byte address of the VBE display start
    // Input status 1 when the machine clock does not move between reads (see input_status1).
    uint64_t last_status_ns_ = UINT64_MAX, status_stall_ns_ = 0;
};

// CP437 (the VGA ROM font's code page) to UTF-8; 0x00 maps to a space.
const char* cp437_to_utf8(uint8_t ch);

}  // namespace lift86
