// Intel 8042 keyboard controller (PS/2 flavour) at 0x60 (data) / 0x64 (status, command),
// with a PS/2 keyboard on its first port (IRQ1) and a PS/2 mouse on the auxiliary port
// (IRQ12).
//
// Reference: IBM Personal System/2 Hardware Interface Technical Reference — "Keyboard and
// Auxiliary Device Controller" (status register, command byte, controller commands, output
// port, scan code translation) and "Keyboard" / "Pointing Device" (their command sets).
//
// Commands complete instantly (IBF always reads 0). Each device (controller, keyboard, mouse)
// has its own output queue; the controller moves one byte at a time into its output buffer,
// controller replies first, then the keyboard, then the mouse, each only while its interface
// is enabled in the command byte. The keyboard speaks scan code set 2 and the controller
// translates to set 1 when the command byte's XLAT bit is set, byte by byte as on the 8042
// (so replies like the ID AB 83 arrive as AB 41, exactly as guests expect).
#pragma once
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>

#include "machine/bus/irq.hpp"
#include "machine/bus/port_bus.hpp"

namespace lift86 {

class I8042 final : public PortDevice {
public:
    explicit I8042(PortBus& bus);
    ~I8042() override;
    I8042(const I8042&) = delete;
    I8042& operator=(const I8042&) = delete;

    IrqLine irq_kbd;     // IRQ1: output buffer full with keyboard/controller data, INT bit set
    IrqLine irq_mouse;   // IRQ12: output buffer full with mouse data, INT2 bit set

    // Output port bit 1 (A20 gate), called on every write of the output port (0xD1, 0xDD,
    // 0xDF) so that whichever of the 8042 and port 0x92 was written last wins, as on QEMU.
    std::function<void(bool enabled)> on_a20;
    // Output port bit 0 driven low (0xD1 with bit 0 clear, or pulse command 0xFE): CPU reset.
    std::function<void()> on_reset;
    // Keyboard LEDs set by the guest (bit 0 Scroll Lock, bit 1 Num Lock, bit 2 Caps Lock).
    std::function<void(uint8_t leds)> on_leds;

    // Front-end input. Raw scan code set 2 bytes as the keyboard sends them (e.g. E0 F0 75
    // for releasing Up, or the eight bytes of Pause)...
    void key_bytes(const uint8_t* bytes, size_t n);
    // ...or one key: `set2` is the make code with its prefix in the high byte (0x1C for A,
    // 0xE075 for Up); the break code is derived.
    void key_event(uint16_t set2, bool pressed);
    // Free space in the keyboard's 16-byte buffer (a paste should wait while it is small).
    size_t key_room() const;
    // Mouse movement since the last call; dy > 0 is *up* (PS/2 convention); buttons bit 0 =
    // left, bit 1 = right, bit 2 = middle.
    void mouse_event(int dx, int dy, uint8_t buttons);

    bool a20() const { return outport_ & 0x02; }
    uint8_t command_byte() const { return ram_[0]; }
    uint8_t leds() const { return kbd_.leds; }

    uint32_t io_read(uint16_t port, unsigned size) override;
    void io_write(uint16_t port, uint32_t value, unsigned size) override;

    // Status register bits.
    enum : uint8_t { kST_OBF = 0x01, kST_IBF = 0x02, kST_SYS = 0x04, kST_CMD = 0x08,
                     kST_UNLOCKED = 0x10, kST_AUXB = 0x20, kST_TIMEOUT = 0x40, kST_PARITY = 0x80 };
    // Command byte bits.
    enum : uint8_t { kCB_INT = 0x01, kCB_INT2 = 0x02, kCB_SYS = 0x04, kCB_DISABLE_KBD = 0x10,
                     kCB_DISABLE_AUX = 0x20, kCB_XLAT = 0x40 };

private:
    struct Keyboard {
        static constexpr size_t kBuffer = 16;   // the keyboard's own FIFO
        std::deque<uint8_t> out;
        bool scanning = true;
        uint8_t set = 2;
        uint8_t awaiting = 0;   // command whose parameter byte comes next
        uint8_t leds = 0;
        uint8_t typematic = 0x2B;
        uint8_t last = 0;       // for Resend
        void send(uint8_t b) { out.push_back(b); last = b; }
        void defaults() { set = 2; typematic = 0x2B; }
    };
    struct Mouse {
        static constexpr size_t kBuffer = 255;
        std::deque<uint8_t> out;
        bool reporting = false, remote = false, wrap = false, scale21 = false;
        uint8_t awaiting = 0;
        uint8_t rate = 100, resolution = 2, buttons = 0;
        int acc_dx = 0, acc_dy = 0;   // remote mode: movement since the last Read Data
        uint8_t last = 0;
        void send(uint8_t b) { out.push_back(b); last = b; }
        void defaults() { rate = 100; resolution = 2; scale21 = false; reporting = false; }
        void packet(int dx, int dy);
    };
    struct Reply {
        uint8_t byte;
        bool aux;
    };

    void controller_command(uint8_t cmd);
    void controller_data(uint8_t cmd, uint8_t v);
    void keyboard_command(uint8_t v);
    void mouse_command(uint8_t v);
    void reply(uint8_t b, bool aux = false) { replies_.push_back({b, aux}); }
    void write_output_port(uint8_t v);
    void write_command_byte(uint8_t v);
    void refill();       // move the next byte into the output buffer if it is empty
    void update_irq();
    void kick() { refill(); update_irq(); }

    PortBus& bus_;
    uint8_t ram_[32] = {};       // controller RAM; byte 0 is the command byte
    uint8_t outport_ = 0xCF;     // reset high, A20 on, clock/data lines high
    bool sys_flag_ = false;
    bool last_was_command_ = false;
    uint8_t awaiting_ = 0;       // controller command waiting for its data byte
    bool obf_ = false, obf_aux_ = false;
    uint8_t out_ = 0;
    bool xlat_break_ = false;    // translation saw F0: set bit 7 of the next byte
    std::deque<Reply> replies_;
    Keyboard kbd_;
    Mouse mouse_;
};

}  // namespace lift86
