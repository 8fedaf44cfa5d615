#include "devices/uart16550.hpp"

namespace lift86 {

namespace {
// FCR bits 7..6: receiver FIFO trigger level (data sheet, FCR).
constexpr uint8_t kTriggerLevels[4] = {1, 4, 8, 14};
}  // namespace

Uart16550::Uart16550(PortBus& bus, Clock& clock, uint16_t base)
    : bus_(bus), clock_(clock), base_(base) {
    timeout_event_ = clock_.add_event("uart-timeout", [this] {
        // Four character times with no FIFO activity and data waiting (FIFO mode only).
        if (fifo_enabled_ && rx_count_ > 0) {
            timeout_pending_ = true;
            update_irq();
        }
    });
    update_msr();
    msr_ &= 0xF0;   // no deltas at power-on
    bus_.register_ports(base_, 8, this);
}

Uart16550::~Uart16550() {
    clock_.cancel(timeout_event_);
    bus_.unregister_ports(base_, 8);
}

// ---------------------------------------------------------------------------------------------
// Interrupts

// Highest-priority pending source (data sheet table 4): receiver line status, received data
// available / character timeout, THR empty, modem status.
uint8_t Uart16550::interrupt_id() const {
    if ((ier_ & kIER_RLS) && lsr_errors_) return kIIR_RLS;
    if (ier_ & kIER_RDA) {
        if (rx_count_ > 0 && (!fifo_enabled_ || rx_count_ >= rx_trigger_)) return kIIR_RDA;
        if (timeout_pending_) return kIIR_CTI;
    }
    if ((ier_ & kIER_THRE) && thr_pending_) return kIIR_THRE;
    if ((ier_ & kIER_MS) && (msr_ & 0x0F)) return kIIR_MS;
    return kIIR_NONE;
}

void Uart16550::update_irq() {
    // On the PC adapter INTRPT reaches the bus through a driver enabled by OUT2; in loopback
    // mode the OUT pins are forced inactive, which disconnects it too (data sheet, MCR bit 4).
    bool level = interrupt_id() != kIIR_NONE && (mcr_ & kMCR_OUT2) && !loopback();
    if (level != irq.level()) irq.set(level);
}

void Uart16550::update_msr() {
    bool cts, dsr, ri, dcd;
    if (loopback()) {   // outputs looped to inputs: RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD
        cts = mcr_ & kMCR_RTS;
        dsr = mcr_ & kMCR_DTR;
        ri = mcr_ & kMCR_OUT1;
        dcd = mcr_ & kMCR_OUT2;
    } else {
        cts = ext_cts_;
        dsr = ext_dsr_;
        ri = ext_ri_;
        dcd = ext_dcd_;
    }
    uint8_t in = uint8_t((cts ? kMSR_CTS : 0) | (dsr ? kMSR_DSR : 0) | (ri ? kMSR_RI : 0) |
                         (dcd ? kMSR_DCD : 0));
    uint8_t changed = in ^ (msr_ & 0xF0);
    uint8_t delta = msr_ & 0x0F;
    if (changed & kMSR_CTS) delta |= kMSR_DCTS;
    if (changed & kMSR_DSR) delta |= kMSR_DDSR;
    if ((changed & kMSR_RI) && !(in & kMSR_RI)) delta |= kMSR_TERI;   // trailing edge only
    if (changed & kMSR_DCD) delta |= kMSR_DDCD;
    msr_ = in | delta;
}

void Uart16550::set_modem_inputs(bool cts, bool dsr, bool ri, bool dcd) {
    ext_cts_ = cts;
    ext_dsr_ = dsr;
    ext_ri_ = ri;
    ext_dcd_ = dcd;
    update_msr();
    update_irq();
}

// ---------------------------------------------------------------------------------------------
// Receiver

void Uart16550::arm_timeout() {
    if (!fifo_enabled_ || rx_count_ == 0) {
        clock_.cancel(timeout_event_);
        return;
    }
    // Character time = start + data + parity + stop bits at 1.8432 MHz / 16 / divisor.
    unsigned bits = 1 + 5 + (lcr_ & 3) + ((lcr_ & 0x08) ? 1 : 0) + ((lcr_ & 0x04) ? 2 : 1);
    uint64_t div = divisor() ? divisor() : 65536;
    uint64_t char_ns = bits * div * 1000000000ull / 115200;
    clock_.schedule_in(timeout_event_, 4 * char_ns);
}

void Uart16550::rx_push(uint8_t byte) {
    if (rx_count_ < rx_capacity()) {
        rx_[(rx_head_ + rx_count_) % kFifoSize] = byte;
        rx_count_++;
    } else {
        // Overrun. FIFO mode: the character in the shift register is lost. Character mode:
        // the new character overwrites RBR, destroying the previous one (data sheet, LSR1).
        lsr_errors_ |= kLSR_OE;
        if (!fifo_enabled_) rx_[rx_head_] = byte;
    }
    arm_timeout();   // any FIFO activity restarts the timeout
    update_irq();
}

void Uart16550::rx_clear() {
    rx_head_ = rx_count_ = 0;
    timeout_pending_ = false;
    clock_.cancel(timeout_event_);
}

void Uart16550::receive(uint8_t byte) {
    if (loopback()) return;   // SIN is disconnected in loopback mode
    rx_push(byte);
}

size_t Uart16550::rx_room() const { return loopback() ? 0 : rx_capacity() - rx_count_; }

// ---------------------------------------------------------------------------------------------
// Transmitter

void Uart16550::transmit(uint8_t byte) {
    thr_pending_ = false;   // writing THR clears the THRE interrupt...
    if (loopback()) rx_push(byte);
    else if (on_transmit) on_transmit(byte);
    thr_pending_ = true;    // ...and THR is empty again straight away
}

// ---------------------------------------------------------------------------------------------
// Registers

uint8_t Uart16550::read_reg(unsigned off) {
    bool dlab = lcr_ & kLCR_DLAB;
    switch (off) {
    case kRBR: {
        if (dlab) return dll_;
        if (rx_count_ > 0) {
            last_rx_ = rx_[rx_head_];
            rx_head_ = (rx_head_ + 1) % kFifoSize;
            rx_count_--;
        }
        timeout_pending_ = false;   // reading a character clears the timeout indication
        arm_timeout();
        return last_rx_;
    }
    case kIER:
        return dlab ? dlm_ : ier_;
    case kIIR: {
        uint8_t id = interrupt_id();
        // Reading IIR while it reports THRE is what acknowledges a THRE interrupt.
        if (id == kIIR_THRE) thr_pending_ = false;
        return uint8_t(id | (fifo_enabled_ ? kIIR_FIFO : 0));
    }
    case kLCR:
        return lcr_;
    case kMCR:
        return mcr_;
    case kLSR: {
        uint8_t v = uint8_t(lsr_errors_ | kLSR_THRE | kLSR_TEMT | (rx_count_ ? kLSR_DR : 0));
        lsr_errors_ = 0;   // OE, PE, FE, BI clear on read
        return v;
    }
    case kMSR: {
        uint8_t v = msr_;
        msr_ &= 0xF0;      // delta bits clear on read
        return v;
    }
    default:
        return scr_;
    }
}

void Uart16550::write_reg(unsigned off, uint8_t v) {
    bool dlab = lcr_ & kLCR_DLAB;
    switch (off) {
    case kRBR:
        if (dlab) dll_ = v;
        else transmit(v);
        break;
    case kIER: {
        if (dlab) {
            dlm_ = v;
            break;
        }
        uint8_t old = ier_;
        ier_ = v & 0x0F;   // bits 7..4 are always 0
        // Enabling ETBEI while THR is empty requests a THRE interrupt at once (drivers enable
        // it to kick off transmission; QEMU and Bochs behave the same).
        if ((old ^ ier_) & kIER_THRE) thr_pending_ = ier_ & kIER_THRE;
        break;
    }
    case kIIR: {   // FCR
        bool enable = v & 0x01;
        if (enable != fifo_enabled_) rx_clear();   // changing FCR0 resets both FIFOs
        fifo_enabled_ = enable;
        // The other bits are only programmed while FCR0 is 1.
        if (enable) {
            if (v & 0x02) rx_clear();
            // Bit 2 clears the transmit FIFO, which is always empty here; bit 3 (DMA mode)
            // changes nothing without a DMA controller.
            rx_trigger_ = kTriggerLevels[v >> 6];
        } else {
            rx_trigger_ = 1;
        }
        arm_timeout();
        break;
    }
    case kLCR:
        lcr_ = v;
        break;
    case kMCR:
        mcr_ = v & 0x1F;
        update_msr();
        break;
    case kSCR:
        scr_ = v;
        break;
    default:
        break;   // LSR and MSR writes are factory test hooks: ignored
    }
}

uint32_t Uart16550::io_read(uint16_t port, unsigned size) {
    uint8_t v = read_reg((port - base_) & 7);
    update_irq();
    return v;
}

void Uart16550::io_write(uint16_t port, uint32_t value, unsigned size) {
    write_reg((port - base_) & 7, uint8_t(value));
    update_irq();
}

}  // namespace lift86
