#include "devices/i8042.hpp"

#include <algorithm>

namespace lift86 {

namespace {

// The 8042's scan code translation ROM, set 2 -> set 1, for codes 00-7F (IBM PS/2 technical
// reference, "Scan Code Translation"). Unassigned set 2 codes still map somewhere: notably
// 02 -> 41, which is why "get scan code set" answers 41 for set 2 under translation.
constexpr uint8_t kXlat[128] = {
    0xFF, 0x43, 0x41, 0x3F, 0x3D, 0x3B, 0x3C, 0x58, 0x64, 0x44, 0x42, 0x40, 0x3E, 0x0F, 0x29, 0x59,
    0x65, 0x38, 0x2A, 0x70, 0x1D, 0x10, 0x02, 0x5A, 0x66, 0x71, 0x2C, 0x1F, 0x1E, 0x11, 0x03, 0x5B,
    0x67, 0x2E, 0x2D, 0x20, 0x12, 0x05, 0x04, 0x5C, 0x68, 0x39, 0x2F, 0x21, 0x14, 0x13, 0x06, 0x5D,
    0x69, 0x31, 0x30, 0x23, 0x22, 0x15, 0x07, 0x5E, 0x6A, 0x72, 0x32, 0x24, 0x16, 0x08, 0x09, 0x5F,
    0x6B, 0x33, 0x25, 0x17, 0x18, 0x0B, 0x0A, 0x60, 0x6C, 0x34, 0x35, 0x26, 0x27, 0x19, 0x0C, 0x61,
    0x6D, 0x73, 0x28, 0x74, 0x1A, 0x0D, 0x62, 0x6E, 0x3A, 0x36, 0x1C, 0x1B, 0x75, 0x2B, 0x63, 0x76,
    0x55, 0x56, 0x77, 0x78, 0x79, 0x7A, 0x0E, 0x7B, 0x7C, 0x4F, 0x7D, 0x4B, 0x47, 0x7E, 0x7F, 0x6F,
    0x52, 0x53, 0x50, 0x4C, 0x4D, 0x48, 0x01, 0x45, 0x57, 0x4E, 0x51, 0x4A, 0x37, 0x49, 0x46, 0x54,
};

// Codes 80-FF pass through unchanged (prefixes E0/E1, replies FA/AA/EE/FE...), except the
// two keys whose set 2 codes are above 7F: F7 (83) and Alt+SysRq (84).
uint8_t translate(uint8_t b) {
    if (b < 0x80) return kXlat[b];
    if (b == 0x83) return 0x41;
    if (b == 0x84) return 0x54;
    return b;
}

constexpr uint8_t kAck = 0xFA, kResend = 0xFE, kBatOk = 0xAA, kEcho = 0xEE;

}  // namespace

I8042::I8042(PortBus& bus) : bus_(bus) {
    // Before firmware programs it: keyboard interrupt and translation on, as a PC BIOS
    // leaves it, so a guest that never touches the controller still gets set 1 on IRQ1.
    // SYS stays 0 (cold boot) until the self test.
    ram_[0] = kCB_INT | kCB_XLAT;
    bus_.register_ports(0x60, 1, this);
    bus_.register_ports(0x64, 1, this);
}

I8042::~I8042() {
    bus_.unregister_ports(0x60, 1);
    bus_.unregister_ports(0x64, 1);
}

// ---------------------------------------------------------------------------------------------
// Output buffer and interrupts

void I8042::refill() {
    if (obf_) return;
    if (!replies_.empty()) {
        out_ = replies_.front().byte;
        obf_aux_ = replies_.front().aux;
        replies_.pop_front();
        obf_ = true;
        return;
    }
    // The keyboard can only clock data out while its interface is enabled.
    while (!(ram_[0] & kCB_DISABLE_KBD) && !kbd_.out.empty()) {
        uint8_t b = kbd_.out.front();
        kbd_.out.pop_front();
        if (ram_[0] & kCB_XLAT) {
            if (b == 0xF0) {   // break prefix: swallowed, sets bit 7 of the next code
                xlat_break_ = true;
                continue;
            }
            b = uint8_t(translate(b) | (xlat_break_ ? 0x80 : 0));
            xlat_break_ = false;
        }
        out_ = b;
        obf_aux_ = false;
        obf_ = true;
        return;
    }
    if (!(ram_[0] & kCB_DISABLE_AUX) && !mouse_.out.empty()) {
        out_ = mouse_.out.front();
        mouse_.out.pop_front();
        obf_aux_ = true;
        obf_ = true;
    }
}

void I8042::update_irq() {
    bool kbd = obf_ && !obf_aux_ && (ram_[0] & kCB_INT);
    bool aux = obf_ && obf_aux_ && (ram_[0] & kCB_INT2);
    if (kbd != irq_kbd.level()) irq_kbd.set(kbd);
    if (aux != irq_mouse.level()) irq_mouse.set(aux);
}

// ---------------------------------------------------------------------------------------------
// Controller

void I8042::write_output_port(uint8_t v) {
    outport_ = v;
    if (on_a20) on_a20(v & 0x02);
    if (!(v & 0x01)) {
        // Bit 0 is the CPU reset line, active low. The reset is taken as a pulse: the line
        // reads back high afterwards, so a later A20 command does not reset again.
        outport_ |= 0x01;
        if (on_reset) on_reset();
    }
}

void I8042::write_command_byte(uint8_t v) {
    ram_[0] = v;
    sys_flag_ = v & kCB_SYS;   // "placed in the system flag bit of the status register"
}

void I8042::controller_command(uint8_t cmd) {
    if (cmd >= 0x20 && cmd <= 0x3F) {   // read controller RAM (0x20 = command byte)
        reply(ram_[cmd & 0x1F]);
        return;
    }
    if ((cmd >= 0x60 && cmd <= 0x7F) || cmd == 0xD1 || cmd == 0xD2 || cmd == 0xD3 || cmd == 0xD4) {
        awaiting_ = cmd;   // the data byte follows on port 0x60
        return;
    }
    if (cmd >= 0xF0) {
        // Pulse output port bits 3..0 low for 6 us where the command's bit is 0. Only
        // bit 0 (CPU reset) is wired to anything.
        if (!(cmd & 0x01) && on_reset) on_reset();
        return;
    }
    switch (cmd) {
    case 0xA4: reply(0xF1); break;                          // password not installed
    case 0xA7: ram_[0] |= kCB_DISABLE_AUX; break;
    case 0xA8: ram_[0] &= uint8_t(~kCB_DISABLE_AUX); break;
    case 0xA9: reply(0x00); break;                          // aux interface test: OK
    case 0xAA:                                              // self test
        sys_flag_ = true;
        reply(0x55);
        break;
    case 0xAB: reply(0x00); break;                          // keyboard interface test: OK
    case 0xAD: ram_[0] |= kCB_DISABLE_KBD; break;
    case 0xAE: ram_[0] &= uint8_t(~kCB_DISABLE_KBD); break;
    case 0xC0: reply(0x80); break;                          // input port: keyboard not inhibited
    case 0xD0:                                              // read output port; 4/5 = OBF
        reply(uint8_t((outport_ & 0xCF) | (obf_ && !obf_aux_ ? 0x10 : 0) | (obf_ && obf_aux_ ? 0x20 : 0)));
        break;
    case 0xDD: write_output_port(outport_ & uint8_t(~0x02)); break;   // A20 off (HP Vectra)
    case 0xDF: write_output_port(outport_ | 0x02); break;             // A20 on
    case 0xE0: reply(0x00); break;                          // test inputs
    default: break;                                         // unknown: ignored
    }
}

void I8042::controller_data(uint8_t cmd, uint8_t v) {
    switch (cmd) {
    case 0x60: write_command_byte(v); break;
    case 0xD1: write_output_port(v); break;
    case 0xD2: reply(v, false); break;   // as if from the keyboard (not translated)
    case 0xD3: reply(v, true); break;    // as if from the mouse
    case 0xD4: mouse_command(v); break;
    default: ram_[cmd & 0x1F] = v; break;   // 0x61-0x7F: controller RAM
    }
}

// ---------------------------------------------------------------------------------------------
// Keyboard

void I8042::keyboard_command(uint8_t v) {
    if (kbd_.awaiting) {
        uint8_t cmd = kbd_.awaiting;
        kbd_.awaiting = 0;
        switch (cmd) {
        case 0xED:   // set LEDs
            kbd_.leds = v & 7;
            kbd_.send(kAck);
            if (on_leds) on_leds(kbd_.leds);
            return;
        case 0xF0:   // scan code set: 0 = query, 1..3 = select
            if (v == 0) {
                kbd_.send(kAck);
                kbd_.send(kbd_.set);
            } else if (v <= 3) {
                kbd_.set = v;
                kbd_.send(kAck);
            } else {
                kbd_.send(kResend);
            }
            return;
        case 0xF3:   // typematic rate/delay
            kbd_.typematic = v & 0x7F;
            kbd_.send(kAck);
            return;
        default:     // FB-FD: set 3 key types, the key code is acknowledged and ignored
            kbd_.send(kAck);
            return;
        }
    }
    // Every command but Echo and Resend discards what the keyboard had not sent yet.
    if (v != 0xEE && v != 0xFE) kbd_.out.clear();
    switch (v) {
    case 0xED: case 0xF0: case 0xF3: case 0xFB: case 0xFC: case 0xFD:
        kbd_.awaiting = v;
        kbd_.send(kAck);
        break;
    case 0xEE: kbd_.send(kEcho); break;
    case 0xF2:   // identify: MF2 keyboard
        kbd_.send(kAck);
        kbd_.send(0xAB);
        kbd_.send(0x83);
        break;
    case 0xF4: kbd_.scanning = true; kbd_.send(kAck); break;
    case 0xF5: kbd_.defaults(); kbd_.scanning = false; kbd_.send(kAck); break;
    case 0xF6: kbd_.defaults(); kbd_.send(kAck); break;
    case 0xF7: case 0xF8: case 0xF9: case 0xFA: kbd_.send(kAck); break;   // set 3 all-key types
    case 0xFE: kbd_.send(kbd_.last); break;
    case 0xFF:   // reset: ACK, then the basic assurance test passes
        kbd_.defaults();
        kbd_.leds = 0;
        kbd_.scanning = true;
        kbd_.send(kAck);
        kbd_.send(kBatOk);
        break;
    default: kbd_.send(kResend); break;
    }
}

void I8042::key_bytes(const uint8_t* bytes, size_t n) {
    if (!kbd_.scanning || n == 0) return;
    if (kbd_.out.size() + n > Keyboard::kBuffer) {
        // Buffer overrun: the keyboard drops the key and puts its overrun code in the last
        // buffer position (00 in set 2, which translation turns into set 1's FF).
        uint8_t overrun = kbd_.set == 1 ? 0xFF : 0x00;
        if (kbd_.out.empty() || kbd_.out.back() != overrun) {
            if (kbd_.out.size() >= Keyboard::kBuffer) kbd_.out.pop_back();
            kbd_.send(overrun);
        }
        kick();
        return;
    }
    bool brk = false;
    for (size_t i = 0; i < n; i++) {
        uint8_t b = bytes[i];
        if (kbd_.set == 1) {
            // Keyboard switched to native set 1: it does the translation itself.
            if (b == 0xF0) { brk = true; continue; }
            b = uint8_t(translate(b) | (brk ? 0x80 : 0));
            brk = false;
        }
        // Set 3 is accepted by F0 but the codes stay set 2's: no guest of interest uses it.
        kbd_.send(b);
    }
    kick();
}

void I8042::key_event(uint16_t set2, bool pressed) {
    uint8_t buf[3];
    size_t n = 0;
    if (set2 > 0xFF) buf[n++] = uint8_t(set2 >> 8);   // E0 / E1 prefix
    if (!pressed) buf[n++] = 0xF0;
    buf[n++] = uint8_t(set2);
    key_bytes(buf, n);
}

size_t I8042::key_room() const {
    return kbd_.out.size() >= Keyboard::kBuffer ? 0 : Keyboard::kBuffer - kbd_.out.size();
}

// ---------------------------------------------------------------------------------------------
// Mouse

void I8042::Mouse::packet(int dx, int dy) {
    // Byte 0: Y overflow, X overflow, Y sign, X sign, 1, middle, right, left; then X and Y
    // as the low 8 bits of 9-bit two's complement values.
    bool xo = dx < -256 || dx > 255, yo = dy < -256 || dy > 255;
    dx = std::clamp(dx, -256, 255);
    dy = std::clamp(dy, -256, 255);
    send(uint8_t((yo ? 0x80 : 0) | (xo ? 0x40 : 0) | (dy < 0 ? 0x20 : 0) | (dx < 0 ? 0x10 : 0) |
                 0x08 | (buttons & 7)));
    send(uint8_t(dx));
    send(uint8_t(dy));
}

void I8042::mouse_command(uint8_t v) {
    Mouse& m = mouse_;
    if (m.wrap && v != 0xEC && v != 0xFF) {   // wrap (echo) mode
        m.send(v);
        return;
    }
    if (m.awaiting) {
        uint8_t cmd = m.awaiting;
        m.awaiting = 0;
        if (cmd == 0xE8) m.resolution = v & 3;
        else m.rate = v;   // 0xF3
        m.send(kAck);
        return;
    }
    m.out.clear();   // a command interrupts the data stream
    switch (v) {
    case 0xE6: m.scale21 = false; m.send(kAck); break;
    case 0xE7: m.scale21 = true; m.send(kAck); break;
    case 0xE8: case 0xF3: m.awaiting = v; m.send(kAck); break;
    case 0xE9:   // status request: mode/buttons, resolution, sample rate
        m.send(kAck);
        m.send(uint8_t((m.remote ? 0x40 : 0) | (m.reporting ? 0x20 : 0) | (m.scale21 ? 0x10 : 0) |
                       (m.buttons & 1 ? 0x04 : 0) | (m.buttons & 4 ? 0x02 : 0) | (m.buttons & 2 ? 0x01 : 0)));
        m.send(m.resolution);
        m.send(m.rate);
        break;
    case 0xEA: m.remote = false; m.send(kAck); break;
    case 0xEB:   // read data: one packet with the movement since the last one
        m.send(kAck);
        m.packet(m.acc_dx, m.acc_dy);
        m.acc_dx = m.acc_dy = 0;
        break;
    case 0xEC: m.wrap = false; m.send(kAck); break;
    case 0xEE: m.wrap = true; m.send(kAck); break;
    case 0xF0: m.remote = true; m.send(kAck); break;
    case 0xF2: m.send(kAck); m.send(0x00); break;   // device ID: standard PS/2 mouse
    case 0xF4: m.reporting = true; m.send(kAck); break;
    case 0xF5: m.reporting = false; m.send(kAck); break;
    case 0xF6: m.defaults(); m.send(kAck); break;
    case 0xFE: m.send(m.last); break;
    case 0xFF:
        m.defaults();
        m.remote = m.wrap = false;
        m.acc_dx = m.acc_dy = 0;
        m.send(kAck);
        m.send(kBatOk);
        m.send(0x00);   // device ID after the self test
        break;
    default: m.send(kResend); break;
    }
}

void I8042::mouse_event(int dx, int dy, uint8_t buttons) {
    Mouse& m = mouse_;
    m.buttons = buttons & 7;
    if (m.remote) {
        m.acc_dx += dx;
        m.acc_dy += dy;
        return;
    }
    if (!m.reporting || m.wrap) return;
    if (m.out.size() + 3 > Mouse::kBuffer) return;   // guest not reading: drop the packet
    m.packet(dx, dy);
    kick();
}

// ---------------------------------------------------------------------------------------------
// Ports

uint32_t I8042::io_read(uint16_t port, unsigned size) {
    if (port == 0x64) {
        return uint8_t((obf_ ? kST_OBF : 0) | (sys_flag_ ? kST_SYS : 0) |
                       (last_was_command_ ? kST_CMD : 0) | kST_UNLOCKED |
                       (obf_ && obf_aux_ ? kST_AUXB : 0));
    }
    // Reading the data port empties the output buffer; with nothing new it still returns the
    // last byte, as the latch does.
    uint8_t v = out_;
    obf_ = false;
    kick();
    return v;
}

void I8042::io_write(uint16_t port, uint32_t value, unsigned size) {
    uint8_t v = uint8_t(value);
    if (port == 0x64) {
        last_was_command_ = true;
        awaiting_ = 0;   // a new command abandons one still waiting for its data byte
        controller_command(v);
    } else {
        last_was_command_ = false;
        if (awaiting_) {
            uint8_t cmd = awaiting_;
            awaiting_ = 0;
            controller_data(cmd, v);
        } else {
            // Data for the keyboard. Sending to it re-enables the keyboard interface (the
            // controller has to clock the byte out), as QEMU also does.
            ram_[0] &= uint8_t(~kCB_DISABLE_KBD);
            keyboard_command(v);
        }
    }
    kick();
}

}  // namespace lift86
