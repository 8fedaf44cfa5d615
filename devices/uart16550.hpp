// National Semiconductor / TI 16550A UART with 16-byte FIFOs, at `base`..`base+7`.
// The board makes COM1 (0x3F8, IRQ4) and COM2 (0x2F8, IRQ3) and wires a back-end to
// on_transmit / receive().
//
// Reference: TI PC16550D data sheet (SNLS378) — register table 2, "Interrupt Identification
// Register" table 4 (priorities and reset conditions), "FIFO Interrupt Mode Operation"
// (trigger levels and the character timeout), "Loopback", "Line Status Register".
//
// Transmission is instantaneous (no baud timing): a byte written to THR reaches the back-end
// at once and THR is empty again, so THRE/TEMT stay set. The THRE *interrupt* still follows
// the data sheet: it is cleared by reading IIR (when it is the source reported) or by writing
// THR, it is raised again each time THR empties, and enabling ETBEI while THR is empty raises
// it. The receive timeout is timed on the machine clock from the programmed baud rate.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>

#include "machine/bus/clock.hpp"
#include "machine/bus/irq.hpp"
#include "machine/bus/port_bus.hpp"

namespace lift86 {

class Uart16550 final : public PortDevice {
public:
    static constexpr size_t kFifoSize = 16;

    Uart16550(PortBus& bus, Clock& clock, uint16_t base);
    ~Uart16550() override;
    Uart16550(const Uart16550&) = delete;
    Uart16550& operator=(const Uart16550&) = delete;

    IrqLine irq;   // INTRPT gated by OUT2, as on the PC's serial adapter

    // Back-end: every byte the guest transmits (not called in loopback mode).
    std::function<void(uint8_t)> on_transmit;
    // Back-end: a byte arrives on SIN. Past rx_room() it overruns (LSR.OE), as on hardware.
    void receive(uint8_t byte);
    // How many bytes receive() can take now without an overrun (0 in loopback mode, where
    // SIN is disconnected). Back-ends should hold input back while this is 0.
    size_t rx_room() const;
    // Modem status inputs from the back-end (power-on: CTS, DSR, DCD asserted, RI not).
    void set_modem_inputs(bool cts, bool dsr, bool ri, bool dcd);

    uint16_t base() const { return base_; }
    uint16_t divisor() const { return uint16_t(dll_ | dlm_ << 8); }

    uint32_t io_read(uint16_t port, unsigned size) override;
    void io_write(uint16_t port, uint32_t value, unsigned size) override;

    // Register offsets and bits (data sheet names).
    enum : uint8_t { kRBR = 0, kIER = 1, kIIR = 2, kLCR = 3, kMCR = 4, kLSR = 5, kMSR = 6, kSCR = 7 };
    enum : uint8_t { kIER_RDA = 0x01, kIER_THRE = 0x02, kIER_RLS = 0x04, kIER_MS = 0x08 };
    enum : uint8_t { kIIR_NONE = 0x01, kIIR_RLS = 0x06, kIIR_RDA = 0x04, kIIR_CTI = 0x0C,
                     kIIR_THRE = 0x02, kIIR_MS = 0x00, kIIR_FIFO = 0xC0 };
    enum : uint8_t { kLSR_DR = 0x01, kLSR_OE = 0x02, kLSR_PE = 0x04, kLSR_FE = 0x08,
                     kLSR_BI = 0x10, kLSR_THRE = 0x20, kLSR_TEMT = 0x40, kLSR_RXERR = 0x80 };
    enum : uint8_t { kMCR_DTR = 0x01, kMCR_RTS = 0x02, kMCR_OUT1 = 0x04, kMCR_OUT2 = 0x08,
                     kMCR_LOOP = 0x10 };
    enum : uint8_t { kMSR_DCTS = 0x01, kMSR_DDSR = 0x02, kMSR_TERI = 0x04, kMSR_DDCD = 0x08,
                     kMSR_CTS = 0x10, kMSR_DSR = 0x20, kMSR_RI = 0x40, kMSR_DCD = 0x80 };
    enum : uint8_t { kLCR_DLAB = 0x80 };

private:
    bool loopback() const { return mcr_ & kMCR_LOOP; }
    size_t rx_capacity() const { return fifo_enabled_ ? kFifoSize : 1; }
    uint8_t interrupt_id() const;
    void update_irq();
    void update_msr();       // recompute the modem inputs, latching delta bits
    void rx_push(uint8_t byte);
    void rx_clear();
    void arm_timeout();
    void transmit(uint8_t byte);
    uint8_t read_reg(unsigned offset);
    void write_reg(unsigned offset, uint8_t v);

    PortBus& bus_;
    Clock& clock_;
    uint16_t base_;
    Clock::EventId timeout_event_;

    uint8_t rx_[kFifoSize] = {};
    size_t rx_head_ = 0, rx_count_ = 0;
    uint8_t last_rx_ = 0;          // RBR keeps the last byte read when the FIFO is empty
    bool fifo_enabled_ = false;
    uint8_t rx_trigger_ = 1;
    bool timeout_pending_ = false; // character timeout indication
    bool thr_pending_ = false;     // THRE interrupt (THR emptied since the last IIR/THR)

    uint8_t ier_ = 0, lcr_ = 0, mcr_ = 0, scr_ = 0;
    uint8_t lsr_errors_ = 0;       // OE/PE/FE/BI, cleared by reading LSR
    uint8_t msr_ = 0;              // inputs (bits 7..4) and deltas (3..0)
    uint8_t dll_ = 12, dlm_ = 0;   // 9600 baud
    bool ext_cts_ = true, ext_dsr_ = true, ext_ri_ = false, ext_dcd_ = true;
};

}  // namespace lift86
