// 16550A UART: DLAB/divisor, IIR priorities and reset conditions, THRE interrupt rules,
// FIFO trigger levels and character timeout, overrun, LSR transitions, loopback, MSR deltas,
// OUT2 gating of the IRQ. Behaviour per the TI PC16550D data sheet.
#include <gtest/gtest.h>

#include <vector>

#include "devices/uart16550.hpp"
#include "machine/bus/clock.hpp"
#include "machine/bus/port_bus.hpp"

using namespace lift86;

namespace {

constexpr uint16_t kBase = 0x3F8;

void run_until(Clock& c, uint64_t ns) {
    while (c.next_deadline() <= ns) {
        c.skip_to_next_event();
        c.run_due();
    }
    if (ns > c.now()) c.advance_insns(ns - c.now());
    c.run_due();
}

struct UartTest : ::testing::Test {
    Clock clock{Clock::Mode::Virtual, 1};
    PortBus bus;
    Uart16550 uart{bus, clock, kBase};
    std::vector<uint8_t> sent;

    UartTest() { uart.on_transmit = [this](uint8_t b) { sent.push_back(b); }; }
    uint8_t rd(unsigned r) { return uint8_t(bus.read(uint16_t(kBase + r), 1)); }
    void wr(unsigned r, uint8_t v) { bus.write(uint16_t(kBase + r), v, 1); }
    // 115200 baud 8N1: a character is 10 bits = 86805.6 ns.
    void setup_115200_8n1() {
        wr(3, 0x80);
        wr(0, 1);
        wr(1, 0);
        wr(3, 0x03);
    }
    static constexpr uint64_t kCharNs = 10ull * 1000000000 / 115200;
};

}  // namespace

TEST_F(UartTest, ResetStateAndScratch) {
    EXPECT_EQ(rd(2), 0x01);    // IIR: no interrupt, FIFOs off
    EXPECT_EQ(rd(5), 0x60);    // LSR: THRE, TEMT
    EXPECT_EQ(rd(1), 0x00);
    EXPECT_EQ(rd(6) & 0xF0, 0xB0);   // DCD, DSR, CTS from the back-end
    wr(7, 0x5A);
    EXPECT_EQ(rd(7), 0x5A);
}

TEST_F(UartTest, DlabSwitchesToDivisorLatch) {
    wr(3, 0x83);
    wr(0, 0x0C);
    wr(1, 0x01);
    EXPECT_EQ(rd(0), 0x0C);
    EXPECT_EQ(rd(1), 0x01);
    EXPECT_EQ(uart.divisor(), 0x010C);
    EXPECT_TRUE(sent.empty());      // the DLL write did not transmit
    wr(3, 0x03);
    EXPECT_EQ(rd(1), 0x00);         // IER again
    wr(0, 'A');
    EXPECT_EQ(sent, std::vector<uint8_t>{'A'});
    EXPECT_EQ(rd(3), 0x03);
}

TEST_F(UartTest, ThreInterruptRaisedOnEnableClearedByIirReadOrThrWrite) {
    wr(4, 0x08);   // OUT2: the PC's IRQ enable
    wr(1, 0x02);   // ETBEI with THR empty: interrupt at once
    EXPECT_TRUE(uart.irq.level());
    EXPECT_EQ(rd(2), 0x02);
    EXPECT_FALSE(uart.irq.level());   // reading IIR acknowledged it
    EXPECT_EQ(rd(2), 0x01);
    wr(0, 'x');                        // THR empties again: new THRE interrupt
    EXPECT_TRUE(uart.irq.level());
    EXPECT_EQ(rd(2), 0x02);
    wr(1, 0x02);                       // rewriting the same IER does not re-raise it
    EXPECT_EQ(rd(2), 0x01);
    wr(1, 0x00);
    wr(1, 0x02);                       // but toggling ETBEI does
    EXPECT_EQ(rd(2), 0x02);
}

TEST_F(UartTest, IrqIsGatedByOut2) {
    wr(1, 0x02);
    EXPECT_FALSE(uart.irq.level());    // pending, but OUT2 is off
    EXPECT_EQ(rd(2) & 0x0F, 0x02);
    wr(1, 0x00);
    wr(1, 0x02);
    wr(4, 0x08);
    EXPECT_TRUE(uart.irq.level());
}

// Data sheet table 4: RLS > RDA (and timeout) > THRE > MSR, each with its own reset.
TEST_F(UartTest, InterruptPrioritiesAndResets) {
    wr(4, 0x08);
    uart.receive('a');
    uart.receive('b');                 // overrun in character mode: OE
    uart.set_modem_inputs(false, true, false, true);   // CTS dropped: DCTS
    wr(1, 0x0F);                       // all sources
    EXPECT_EQ(rd(2), 0x06);            // receiver line status
    EXPECT_EQ(rd(5) & 0x03, 0x03);     // OE + DR; reading LSR clears OE
    EXPECT_EQ(rd(2), 0x04);            // received data available
    EXPECT_EQ(rd(0), 'b');             // the overrun destroyed 'a'
    EXPECT_EQ(rd(2), 0x02);            // THRE (pending since ETBEI was enabled)
    EXPECT_EQ(rd(2), 0x00);            // the IIR read cleared THRE: modem status
    EXPECT_EQ(rd(6) & 0x0F, 0x01);     // DCTS; reading MSR clears it
    EXPECT_EQ(rd(2), 0x01);
    EXPECT_FALSE(uart.irq.level());
}

TEST_F(UartTest, LsrDataReadyAndOverrunTransitions) {
    EXPECT_EQ(rd(5) & 0x01, 0);
    uart.receive(0x41);
    EXPECT_EQ(rd(5), 0x61);            // DR, THRE, TEMT
    EXPECT_EQ(rd(0), 0x41);
    EXPECT_EQ(rd(5), 0x60);
    EXPECT_EQ(rd(0), 0x41);            // empty RBR still reads the last byte
    wr(2, 0x01);                       // FIFO mode: 16 bytes before an overrun
    for (int i = 0; i < 16; i++) uart.receive(uint8_t(i));
    EXPECT_EQ(uart.rx_room(), 0u);
    EXPECT_EQ(rd(5) & 0x02, 0);
    uart.receive(0xEE);                // 17th byte: lost, OE set
    EXPECT_EQ(rd(5) & 0x03, 0x03);
    EXPECT_EQ(rd(5) & 0x02, 0);        // OE cleared by the read
    for (int i = 0; i < 16; i++) EXPECT_EQ(rd(0), i);
    EXPECT_EQ(rd(5) & 0x01, 0);
}

class UartTrigger : public UartTest, public ::testing::WithParamInterface<std::pair<uint8_t, int>> {};

TEST_P(UartTrigger, RdaAtTheTriggerLevel) {
    auto [fcr, level] = GetParam();
    wr(4, 0x08);
    wr(2, fcr);
    wr(1, 0x01);
    EXPECT_EQ(rd(2), 0xC1);            // FIFOs enabled, nothing pending
    for (int i = 0; i < level - 1; i++) uart.receive(uint8_t(i));
    EXPECT_EQ(rd(2) & 0x0F, 0x01);     // one short of the trigger level: no RDA
    EXPECT_FALSE(uart.irq.level());
    uart.receive(0xFF);
    EXPECT_EQ(rd(2), 0xC4);
    EXPECT_TRUE(uart.irq.level());
    rd(0);                             // one below the trigger level
    EXPECT_EQ(rd(2) & 0x0F, 0x01);
    EXPECT_FALSE(uart.irq.level());
}

INSTANTIATE_TEST_SUITE_P(Levels, UartTrigger,
                         ::testing::Values(std::pair<uint8_t, int>{0x01, 1}, std::pair<uint8_t, int>{0x41, 4},
                                           std::pair<uint8_t, int>{0x81, 8}, std::pair<uint8_t, int>{0xC1, 14}));

// Fewer bytes than the trigger level: the character timeout (IIR 0xC) after four character
// times without FIFO activity; reading a byte clears it and restarts the timer.
TEST_F(UartTest, CharacterTimeout) {
    setup_115200_8n1();
    wr(4, 0x08);
    wr(2, 0xC1);   // trigger 14
    wr(1, 0x01);
    uart.receive('1');
    uart.receive('2');
    uart.receive('3');
    run_until(clock, clock.now() + 3 * kCharNs);
    EXPECT_EQ(rd(2), 0xC1);
    EXPECT_FALSE(uart.irq.level());
    run_until(clock, clock.now() + kCharNs + 1000);
    EXPECT_EQ(rd(2), 0xCC);
    EXPECT_TRUE(uart.irq.level());
    EXPECT_EQ(rd(0), '1');
    EXPECT_EQ(rd(2), 0xC1);
    EXPECT_FALSE(uart.irq.level());
    run_until(clock, clock.now() + 4 * kCharNs + 1000);
    EXPECT_EQ(rd(2), 0xCC);
    rd(0);
    rd(0);
    run_until(clock, clock.now() + 10 * kCharNs);
    EXPECT_EQ(rd(2), 0xC1);   // empty FIFO: no timeout
}

TEST_F(UartTest, NewCharacterRestartsTheTimeout) {
    setup_115200_8n1();
    wr(2, 0xC1);
    wr(1, 0x01);
    uart.receive('1');
    run_until(clock, clock.now() + 3 * kCharNs);
    uart.receive('2');
    run_until(clock, clock.now() + 3 * kCharNs);
    EXPECT_EQ(rd(2) & 0x0F, 0x01);
    run_until(clock, clock.now() + kCharNs + 1000);
    EXPECT_EQ(rd(2) & 0x0F, 0x0C);
}

TEST_F(UartTest, FifoControlClearsAndDisables) {
    wr(2, 0x01);
    uart.receive(1);
    uart.receive(2);
    wr(2, 0x03);                       // clear the receive FIFO
    EXPECT_EQ(rd(5) & 0x01, 0);
    uart.receive(3);
    wr(2, 0x00);                       // disabling the FIFOs empties them too
    EXPECT_EQ(rd(5) & 0x01, 0);
    EXPECT_EQ(rd(2) & 0xC0, 0);
    EXPECT_EQ(uart.rx_room(), 1u);     // character mode: a one-byte RBR
}

TEST_F(UartTest, LoopbackRoutesTxToRxAndOutputsToInputs) {
    wr(4, 0x1A);                       // LOOP | OUT2 | RTS, as Linux's probe does
    EXPECT_EQ(rd(6) & 0xF0, 0x90);     // DCD (OUT2) and CTS (RTS)
    wr(4, 0x1F);
    EXPECT_EQ(rd(6) & 0xF0, 0xF0);
    wr(0, 0x55);
    EXPECT_TRUE(sent.empty());         // nothing leaves the chip
    EXPECT_EQ(rd(5) & 0x01, 0x01);
    EXPECT_EQ(rd(0), 0x55);
    uart.receive(0x99);                // SIN is disconnected
    EXPECT_EQ(rd(5) & 0x01, 0);
    EXPECT_EQ(uart.rx_room(), 0u);
    wr(1, 0x01);
    wr(0, 0x66);
    EXPECT_EQ(rd(2), 0x04);            // interrupts work internally...
    EXPECT_FALSE(uart.irq.level());    // ...but the OUT2 pin is forced inactive
    rd(0);
    wr(4, 0x08);
    wr(0, 0x77);
    EXPECT_EQ(sent, std::vector<uint8_t>{0x77});
}

TEST_F(UartTest, ModemStatusDeltasAndInterrupt) {
    wr(4, 0x08);
    wr(1, 0x08);
    EXPECT_EQ(rd(2), 0x01);
    uart.set_modem_inputs(true, true, true, true);   // RI rises: no TERI (trailing edge only)
    EXPECT_EQ(rd(6), 0xF0);
    EXPECT_FALSE(uart.irq.level());
    uart.set_modem_inputs(true, false, false, false);   // DSR, RI, DCD fall
    EXPECT_TRUE(uart.irq.level());
    EXPECT_EQ(rd(2), 0x00);
    EXPECT_EQ(rd(6), 0x10 | 0x02 | 0x04 | 0x08);
    EXPECT_EQ(rd(6), 0x10);            // deltas cleared by the read
    EXPECT_FALSE(uart.irq.level());
}

TEST_F(UartTest, NonsenseDoesNotCrash) {
    wr(3, 0x80);
    wr(0, 0);
    wr(1, 0);                          // divisor 0
    wr(3, 0x03);
    wr(2, 0xC1);
    uart.receive(1);
    run_until(clock, clock.now() + 1000000000ull);
    wr(5, 0xFF);                       // LSR/MSR writes are ignored
    wr(6, 0xFF);
    EXPECT_EQ(rd(5) & 0x60, 0x60);
    for (int i = 0; i < 40; i++) rd(0);
    wr(1, 0xFF);
    EXPECT_EQ(rd(1), 0x0F);
}
