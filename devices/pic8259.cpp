#include "devices/pic8259.hpp"

namespace lift86 {

namespace {
constexpr int kMaster = 0, kSlave = 1;
constexpr int kCascadeIr = 2;   // PC/AT: slave INT is wired to master IR2
}  // namespace

Pic8259::Pic8259(PortBus& bus) : bus_(bus) {
    // ELCR bits that exist on the PIIX: IRQ0, 1, 2 (master) and 8, 13 (slave) are always edge.
    chips_[kMaster].elcr_mask = 0xF8;
    chips_[kSlave].elcr_mask = 0xDE;
    // Power-on: the datasheet leaves the registers undefined until ICW1; start from the
    // state ICW1 would give, with the PC's usual wiring, so a half-initialised PIC is sane.
    chips_[kMaster].icw3 = 1u << kCascadeIr;
    chips_[kSlave].icw3 = kCascadeIr;
    chips_[kMaster].vector_base = 0x08;   // the BIOS default, in case someone acks before ICW2
    chips_[kSlave].vector_base = 0x70;
    bus_.register_ports(0x20, 2, this);
    bus_.register_ports(0xA0, 2, this);
    bus_.register_ports(0x4D0, 2, this);
}

Pic8259::~Pic8259() {
    bus_.unregister_ports(0x20, 2);
    bus_.unregister_ports(0xA0, 2);
    bus_.unregister_ports(0x4D0, 2);
}

// ---------------------------------------------------------------------------------------------
// One chip

// Priority is a rotating order: the IR after `lowest` has the highest priority.
int Pic8259::Chip::highest_in(uint8_t bits) const {
    for (int i = 1; i <= 8; i++) {
        int ir = (lowest + i) & 7;
        if (bits & (1u << ir)) return ir;
    }
    return -1;
}

int Pic8259::Chip::pending(bool is_master) const {
    uint8_t req = effective_irr() & ~imr;
    if (!req) return -1;
    if (special_mask) {
        // Special mask mode: "enables interrupts from all levels (lower as well as higher)
        // that are not masked" — only the levels actually in service are held off.
        return highest_in(req & ~isr);
    }
    int ir = highest_in(req);
    // Fully nested mode: a request is passed on only if it outranks every level in service.
    // In special fully nested mode the master lets its cascade input through again while it
    // is in service, so a higher-priority slave IR can interrupt a lower one (datasheet, SFNM).
    uint8_t blocking = isr;
    if (sfnm && is_master) blocking &= uint8_t(~icw3);
    for (int i = 1; i <= 8; i++) {
        int lvl = (lowest + i) & 7;
        if (blocking & (1u << lvl)) return -1;       // same or higher level in service
        if (lvl == ir) return ir;
    }
    return -1;
}

void Pic8259::Chip::set_input(int ir, bool level) {
    uint8_t bit = uint8_t(1u << ir);
    bool was = input & bit;
    if (level) {
        input |= bit;
        // Edge sense latch. A real 8259A also loses an edge whose input falls again before
        // INTA; emulated devices signal edges with IrqLine::pulse(), so the latch holds the
        // request until acknowledged (as QEMU's i8259 does). Level inputs are sampled live
        // through effective_irr(), so a level request that goes away before INTA does give
        // the spurious IR7 the datasheet describes.
        if (!was) irr |= bit;
    } else {
        input &= uint8_t(~bit);
    }
}

void Pic8259::Chip::ack(int ir) {
    uint8_t bit = uint8_t(1u << ir);
    irr &= uint8_t(~bit);
    if (auto_eoi) {
        // AEOI: the ISR bit is cleared at the end of the second INTA, i.e. never visible.
        if (rotate_on_aeoi) lowest = uint8_t(ir);
    } else {
        isr |= bit;
    }
}

void Pic8259::Chip::eoi(int ir, bool rotate) {
    if (ir < 0) return;   // non-specific EOI with nothing in service: no-op
    isr &= uint8_t(~(1u << ir));
    if (rotate) lowest = uint8_t(ir);   // the serviced level becomes the lowest
}

void Pic8259::Chip::reset_for_icw1(uint8_t icw1) {
    // Datasheet, "Initialization Command Words": ICW1 clears the edge sense circuit, the IMR,
    // special mask mode, resets IR7 to lowest priority and selects the IRR for reads. The ISR
    // is cleared too (as on real parts and every PC BIOS assumes).
    irr = 0;
    isr = 0;
    imr = 0;
    lowest = 7;
    special_mask = false;
    read_isr = false;
    poll = false;
    auto_eoi = false;
    sfnm = false;
    rotate_on_aeoi = false;
    icw4_needed = icw1 & 0x01;   // IC4
    single = icw1 & 0x02;        // SNGL
    ltim = icw1 & 0x08;          // LTIM
    // ADI (bit 2) only matters for 8080-mode CALL addresses.
    init_step = 2;
}

void Pic8259::Chip::write_cmd(uint8_t v) {
    if (v & 0x10) {   // ICW1
        reset_for_icw1(v);
        return;
    }
    if (v & 0x08) {   // OCW3
        if (v & 0x40) special_mask = v & 0x20;   // ESMM qualifies SMM
        if (v & 0x04) poll = true;
        if (v & 0x02) read_isr = v & 0x01;       // RR qualifies RIS
        return;
    }
    // OCW2: R SL EOI in bits 7..5, level in 2..0.
    int level = v & 7;
    switch (v >> 5) {
    case 0b001: eoi(highest_in(isr), false); break;   // non-specific EOI
    case 0b011: eoi(level, false); break;             // specific EOI
    case 0b101: eoi(highest_in(isr), true); break;    // rotate on non-specific EOI
    case 0b111: eoi(level, true); break;              // rotate on specific EOI
    case 0b100: rotate_on_aeoi = true; break;         // set rotate in AEOI mode
    case 0b000: rotate_on_aeoi = false; break;        // clear rotate in AEOI mode
    case 0b110: lowest = uint8_t(level); break;       // set priority (level = lowest)
    case 0b010: break;                                // no operation
    }
}

void Pic8259::Chip::write_data(uint8_t v) {
    switch (init_step) {
    case 2:   // ICW2: in 8086 mode only T7..T3 matter, the low three bits come from the IR
        vector_base = v & 0xF8;
        init_step = single ? (icw4_needed ? 4 : 0) : 3;
        break;
    case 3:   // ICW3: master = slave bitmap, slave = its ID on the cascade lines
        icw3 = v;
        init_step = icw4_needed ? 4 : 0;
        break;
    case 4:   // ICW4: uPM (bit 0, 8086 mode assumed either way), AEOI, BUF/M-S, SFNM
        auto_eoi = v & 0x02;
        sfnm = v & 0x10;
        init_step = 0;
        break;
    default:  // OCW1
        imr = v;
        break;
    }
}

uint8_t Pic8259::Chip::read_cmd(bool is_master) {
    if (poll) {
        // Poll command: this read acts as INTA. Bit 7 = request present, bits 2..0 = level.
        poll = false;
        int ir = pending(is_master);
        if (ir < 0) return 0x00;
        ack(ir);
        return uint8_t(0x80 | ir);
    }
    return read_isr ? isr : effective_irr();
}

// ---------------------------------------------------------------------------------------------
// The pair

void Pic8259::update() {
    Chip& m = chips_[kMaster];
    Chip& s = chips_[kSlave];
    m.set_input(kCascadeIr, s.pending(false) >= 0);
    bool now = m.pending(true) >= 0;
    if (now != intr_) {
        intr_ = now;
        if (on_intr) on_intr(now);
    }
}

void Pic8259::set_irq(int line, bool level) {
    if (line < 0 || line > 15 || line == kCascadeIr) return;
    chips_[line >> 3].set_input(line & 7, level);
    update();
}

uint8_t Pic8259::acknowledge() {
    Chip& m = chips_[kMaster];
    Chip& s = chips_[kSlave];
    uint8_t vector;
    int ir = m.pending(true);
    if (ir < 0) {
        // The request vanished (masked, or a level input dropped) between INTR and INTA:
        // the 8259A answers with IR7's vector and sets no ISR bit (datasheet, "spurious").
        vector = uint8_t(m.vector_base | 7);
    } else if (!m.single && (m.icw3 & (1u << ir))) {
        // A slave sits on this IR: the master sets its own ISR bit and the slave supplies the
        // vector. If the slave has nothing any more it too answers with IR7 (IRQ15) and
        // leaves its ISR alone, while the master's ISR bit stays set — hence the EOI rule
        // for spurious IRQ15.
        m.ack(ir);
        int sir = s.pending(false);
        if (sir < 0) {
            vector = uint8_t(s.vector_base | 7);
        } else {
            s.ack(sir);
            vector = uint8_t(s.vector_base | sir);
        }
    } else {
        m.ack(ir);
        vector = uint8_t(m.vector_base | ir);
    }
    update();
    return vector;
}

uint32_t Pic8259::io_read(uint16_t port, unsigned size) {
    uint8_t v;
    switch (port) {
    case 0x4D0: v = chips_[kMaster].elcr; break;
    case 0x4D1: v = chips_[kSlave].elcr; break;
    default: {
        int c = (port & 0x80) ? kSlave : kMaster;
        if (port & 1) {
            v = chips_[c].imr;   // A0 = 1 always reads the IMR
        } else {
            v = chips_[c].read_cmd(c == kMaster);
            update();   // a poll may have acknowledged
        }
    }
    }
    return v;
}

void Pic8259::io_write(uint16_t port, uint32_t value, unsigned size) {
    uint8_t v = uint8_t(value);
    switch (port) {
    case 0x4D0:
    case 0x4D1: {
        Chip& c = chips_[port & 1];
        c.elcr = v & c.elcr_mask;
        break;
    }
    default: {
        Chip& c = chips_[(port & 0x80) ? kSlave : kMaster];
        if (port & 1)
            c.write_data(v);
        else
            c.write_cmd(v);
    }
    }
    update();
}

}  // namespace lift86
