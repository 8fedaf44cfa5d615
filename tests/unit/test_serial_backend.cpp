// Serial back-ends (machine/serial_backend): -serial spec parsing; stdio input from a pipe
// (passed as is, fed to the UART only as fast as rx_room() allows, flow control towards the
// host, end of input); stdio on a pseudo-terminal (raw mode set and restored, also on signals,
// exit() and std::terminate; the Ctrl-A escape); the TCP server (accept, echo both ways, one
// client after another, port in use); file output; waiting for input.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pty.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "devices/uart16550.hpp"
#include "machine/bus/clock.hpp"
#include "machine/bus/port_bus.hpp"
#include "machine/serial_backend.hpp"

using namespace lift86;

namespace {

constexpr uint16_t kBase = 0x3F8;

// A UART as the guest sees it: through its ports.
struct Com {
    Clock clock{Clock::Mode::Virtual, 1};
    PortBus bus;
    Uart16550 uart{bus, clock, kBase};
    std::vector<uint8_t> sent;   // what the guest transmitted (when not given to a back-end)

    Com() { uart.on_transmit = [this](uint8_t b) { sent.push_back(b); }; }
    uint8_t rd(unsigned r) { return uint8_t(bus.read(uint16_t(kBase + r), 1)); }
    void wr(unsigned r, uint8_t v) { bus.write(uint16_t(kBase + r), v, 1); }
    void fifo_on() { wr(2, 0x01); }
    // Reads every byte the receiver holds; sets *overrun if LSR reported one.
    std::string drain(bool* overrun) {
        std::string s;
        for (;;) {
            const uint8_t lsr = rd(5);
            if (lsr & Uart16550::kLSR_OE) *overrun = true;
            if (!(lsr & Uart16550::kLSR_DR)) return s;
            s.push_back(char(rd(0)));
        }
    }
};

struct Pipe {
    int r = -1, w = -1;
    Pipe() {
        int fds[2];
        if (pipe(fds) == 0) {
            r = fds[0];
            w = fds[1];
        }
    }
    ~Pipe() {
        if (r >= 0) close(r);
        if (w >= 0) close(w);
    }
    void put(const std::string& s) const { ASSERT_EQ(::write(w, s.data(), s.size()), ssize_t(s.size())); }
    void close_write() {
        close(w);
        w = -1;
    }
};

struct Pty {
    int master = -1, slave = -1;
    termios cooked{};
    Pty() {
        if (openpty(&master, &slave, nullptr, nullptr, nullptr) != 0) return;
        // A known "cooked" line discipline, as a shell leaves it.
        tcgetattr(slave, &cooked);
        cooked.c_lflag |= ICANON | ECHO | ISIG | IEXTEN;
        cooked.c_iflag |= ICRNL | IXON;
        cooked.c_oflag |= OPOST;
        tcsetattr(slave, TCSANOW, &cooked);
        tcgetattr(slave, &cooked);
    }
    ~Pty() {
        if (master >= 0) close(master);
        if (slave >= 0) close(slave);
    }
    termios now() const {
        termios t{};
        tcgetattr(slave, &t);
        return t;
    }
    bool is_cooked() const {
        const termios t = now();
        return t.c_lflag == cooked.c_lflag && t.c_iflag == cooked.c_iflag && t.c_oflag == cooked.c_oflag &&
               t.c_cflag == cooked.c_cflag && std::memcmp(t.c_cc, cooked.c_cc, sizeof t.c_cc) == 0;
    }
    static bool is_raw(const termios& t) {
        return !(t.c_lflag & (ICANON | ECHO | ISIG | IEXTEN)) && !(t.c_iflag & (ICRNL | IXON | INLCR | ISTRIP)) &&
               (t.c_oflag & OPOST) && t.c_cc[VMIN] == 1;
    }
};

std::FILE* null_out() {
    static std::FILE* f = std::fopen("/dev/null", "wb");
    return f;
}

// Pumps until `done` or two seconds pass (input from another process or socket arrives a
// little later).
template <class F>
void pump_until(SerialBackend& b, Uart16550& uart, F done) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (!done() && std::chrono::steady_clock::now() < end) {
        b.pump(uart);
        if (!done()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Spec parsing

TEST(SerialSpecTest, Kinds) {
    EXPECT_EQ(parse_serial_spec("none").kind, SerialSpec::Kind::None);
    EXPECT_EQ(parse_serial_spec("stdio").kind, SerialSpec::Kind::Stdio);
    EXPECT_EQ(parse_serial_spec("mon:stdio").kind, SerialSpec::Kind::Stdio);
    SerialSpec f = parse_serial_spec("file:/tmp/x.log");
    EXPECT_EQ(f.kind, SerialSpec::Kind::File);
    EXPECT_EQ(f.path, "/tmp/x.log");
    SerialSpec t = parse_serial_spec("tcp::4444,server");
    EXPECT_EQ(t.kind, SerialSpec::Kind::Tcp);
    EXPECT_EQ(t.host, "127.0.0.1");
    EXPECT_EQ(t.port, 4444);
    EXPECT_TRUE(t.wait);
    SerialSpec t2 = parse_serial_spec("tcp:0.0.0.0:5555,server,nowait");
    EXPECT_EQ(t2.host, "0.0.0.0");
    EXPECT_EQ(t2.port, 5555);
    EXPECT_FALSE(t2.wait);
    SerialSpec t3 = parse_serial_spec("tcp:[::1]:6,server=on,wait=off");
    EXPECT_EQ(t3.host, "::1");
    EXPECT_EQ(t3.port, 6);
    EXPECT_FALSE(t3.wait);
}

TEST(SerialSpecTest, ErrorsNameTheProblem) {
    auto msg = [](const std::string& spec) {
        try {
            parse_serial_spec(spec);
        } catch (const SerialBackendError& e) {
            return std::string(e.what());
        }
        return std::string("(accepted)");
    };
    EXPECT_EQ(msg("pty"), "invalid -serial 'pty' (stdio, file:PATH, tcp:[HOST]:PORT,server[,nowait] or none)");
    EXPECT_EQ(msg("file:"), "-serial file: needs a path (file:PATH)");
    EXPECT_EQ(msg("tcp::4444"), "-serial 'tcp::4444': only a TCP server is supported (add ,server)");
    EXPECT_EQ(msg("tcp::99999,server"), "invalid port in -serial 'tcp::99999,server' (expected tcp:[HOST]:PORT,server)");
    EXPECT_EQ(msg("tcp::x,server"), "invalid port in -serial 'tcp::x,server' (expected tcp:[HOST]:PORT,server)");
    EXPECT_EQ(msg("tcp:4444,server"), "invalid -serial 'tcp:4444,server' (expected tcp:[HOST]:PORT,server)");
    EXPECT_EQ(msg("tcp::1,server,telnet"), "unsupported option 'telnet' in -serial 'tcp::1,server,telnet' (server, nowait)");
    EXPECT_EQ(make_serial_backend("none", "COM1"), nullptr);
}

// ---------------------------------------------------------------------------------------------
// stdio from a pipe

TEST(SerialStdioPipe, InputFollowsRxRoomWithoutOverrun) {
    Com com;
    com.fifo_on();
    Pipe p;
    StdioBackend b(p.r, null_out());
    b.start();
    EXPECT_FALSE(b.raw_mode());   // not a terminal
    std::string text;
    for (int k = 0; k < 100; k++) text.push_back(char('A' + k % 26));
    p.put(text);
    b.pump(com.uart);
    // Sixteen bytes fill the FIFO; the rest waits in the back-end instead of overrunning.
    EXPECT_EQ(com.uart.rx_room(), 0u);
    EXPECT_EQ(b.buffered(), 84u);
    bool overrun = false;
    std::string got;
    for (int k = 0; k < 20 && got.size() < text.size(); k++) {
        got += com.drain(&overrun);
        b.pump(com.uart);
    }
    EXPECT_EQ(got, text);
    EXPECT_FALSE(overrun);
    EXPECT_TRUE(b.input_open());
    p.close_write();
    b.pump(com.uart);
    EXPECT_FALSE(b.input_open());   // end of input: nothing more will come, and the run goes on
    EXPECT_FALSE(b.quit_requested());
}

TEST(SerialStdioPipe, CharacterModeTakesOneByteAtATime) {
    Com com;   // FIFOs off: RBR holds one byte
    Pipe p;
    StdioBackend b(p.r, null_out());
    b.start();
    p.put("xyz");
    bool overrun = false;
    std::string got;
    for (int k = 0; k < 3; k++) {
        b.pump(com.uart);
        EXPECT_EQ(com.uart.rx_room(), 0u);
        b.pump(com.uart);   // a second pump must not push a byte over the first
        got += com.drain(&overrun);
    }
    EXPECT_EQ(got, "xyz");
    EXPECT_FALSE(overrun);
}

TEST(SerialStdioPipe, UartOverrunsWhenFedPastRxRoom) {
    // The failure the back-end avoids, shown on the same UART: a 17th byte is an overrun.
    Com com;
    com.fifo_on();
    for (int k = 0; k < 17; k++) com.uart.receive(uint8_t('a' + k));
    bool overrun = false;
    EXPECT_EQ(com.drain(&overrun).size(), 16u);
    EXPECT_TRUE(overrun);
}

TEST(SerialStdioPipe, BytesPassAsTheyAre) {
    // Not a terminal: Ctrl-A, Ctrl-C and CR reach the guest unchanged and nothing quits.
    Com com;
    com.fifo_on();
    Pipe p;
    StdioBackend b(p.r, null_out());
    b.start();
    p.put(std::string("\x01x\x03\r\x01\x01", 6));
    b.pump(com.uart);
    bool overrun = false;
    EXPECT_EQ(com.drain(&overrun), std::string("\x01x\x03\r\x01\x01", 6));
    EXPECT_FALSE(b.quit_requested());
}

TEST(SerialStdioPipe, HostIsHeldBackWhileTheGuestReadsNothing) {
    Com com;
    com.fifo_on();
    Pipe p;
    StdioBackend b(p.r, null_out());
    b.start();
    p.put(std::string(20000, 'q'));
    for (int k = 0; k < 50; k++) b.pump(com.uart);
    // The back-end keeps at most kInputBuffer; the rest stays in the pipe, not lost.
    EXPECT_LE(b.buffered(), SerialBackend::kInputBuffer);
    bool overrun = false;
    size_t total = 0;
    for (int k = 0; k < 5000 && total < 20000; k++) {
        total += com.drain(&overrun).size();
        b.pump(com.uart);
    }
    EXPECT_EQ(total, 20000u);
    EXPECT_FALSE(overrun);
}

TEST(SerialStdioPipe, OutputGoesOut) {
    Pipe out;
    std::FILE* f = fdopen(dup(out.w), "wb");
    ASSERT_NE(f, nullptr);
    {
        Pipe in;
        StdioBackend b(in.r, f);
        Com com;
        com.uart.on_transmit = [&b](uint8_t c) { b.write(c); };
        for (char c : std::string("login: ")) com.wr(0, uint8_t(c));   // no newline: a prompt
        b.pump(com.uart);   // the pump flushes, so a prompt shows before any newline
        char buf[64] = {};
        pollfd pf{out.r, POLLIN, 0};
        ASSERT_EQ(poll(&pf, 1, 1000), 1);
        ASSERT_EQ(read(out.r, buf, sizeof buf), 7);
        EXPECT_STREQ(buf, "login: ");
    }
    std::fclose(f);
}

// ---------------------------------------------------------------------------------------------
// stdio on a terminal

TEST(SerialStdioTerminal, RawModeIsSetAndRestored) {
    Pty t;
    ASSERT_GE(t.slave, 0) << "openpty failed";
    ASSERT_TRUE(t.is_cooked());
    {
        StdioBackend b(t.slave, null_out());
        EXPECT_TRUE(t.is_cooked());   // nothing changes before start()
        b.start();
        EXPECT_TRUE(b.raw_mode());
        EXPECT_TRUE(Pty::is_raw(t.now()));
    }
    EXPECT_TRUE(t.is_cooked());
}

TEST(SerialStdioTerminal, CtrlAEscape) {
    Pty t;
    ASSERT_GE(t.slave, 0);
    Com com;
    com.fifo_on();
    StdioBackend b(t.slave, null_out());
    int quits = 0;
    b.on_quit = [&quits] { quits++; };
    b.start();
    // Ctrl-C is data (no signal keys); C-a C-a is one C-a; C-a h prints help and C-a q is
    // dropped; C-a x quits and nothing after it is delivered. CR stays CR (no ICRNL).
    const std::string keys("ab\x03\r\x01\x01" "c\x01h\x01qd\x01xzz", 15);
    ASSERT_EQ(::write(t.master, keys.data(), keys.size()), ssize_t(keys.size()));
    pump_until(b, com.uart, [&] { return b.quit_requested(); });
    EXPECT_TRUE(b.quit_requested());
    EXPECT_EQ(quits, 1);
    bool overrun = false;
    EXPECT_EQ(com.drain(&overrun), std::string("ab\x03\r\x01" "cd", 7));
    EXPECT_FALSE(overrun);
}

TEST(SerialStdioTerminal, CtrlAAcrossReads) {
    // The escape may end one read() and its command start the next.
    Pty t;
    ASSERT_GE(t.slave, 0);
    Com com;
    com.fifo_on();
    StdioBackend b(t.slave, null_out());
    b.start();
    ASSERT_EQ(::write(t.master, "k\x01", 2), 2);
    bool overrun = false;
    std::string got;
    pump_until(b, com.uart, [&] { return (got += com.drain(&overrun)) == "k"; });
    EXPECT_EQ(got, "k");
    ASSERT_EQ(::write(t.master, "\x01", 1), 1);
    got.clear();
    pump_until(b, com.uart, [&] { return (got += com.drain(&overrun)) == "\x01"; });
    EXPECT_EQ(got, "\x01");
    EXPECT_FALSE(b.quit_requested());
}

namespace {
// Runs `how` in a child that put the terminal in raw mode; returns the child's wait status.
// The child exits 90 if raw mode was not in effect before `how`.
template <class F>
int in_raw_child(Pty& t, F how) {
    std::fflush(nullptr);
    const pid_t pid = fork();
    if (pid == 0) {
        auto* b = new StdioBackend(t.slave, null_out());   // never deleted: the destructor must not be what restores
        b->start();
        if (!Pty::is_raw(t.now())) _exit(90);
        how();
        _exit(91);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return status;
}
}  // namespace

TEST(SerialStdioTerminal, RestoredOnTerminationSignals) {
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
        Pty t;
        ASSERT_GE(t.slave, 0);
        const int status = in_raw_child(t, [sig] { kill(getpid(), sig); pause(); });
        ASSERT_TRUE(WIFSIGNALED(status)) << "signal " << sig << ": status " << status;
        EXPECT_EQ(WTERMSIG(status), sig);   // re-raised with the default action
        EXPECT_TRUE(t.is_cooked()) << "signal " << sig;
    }
}

TEST(SerialStdioTerminal, RestoredOnExitAndTerminate) {
    {
        Pty t;
        const int status = in_raw_child(t, [] { std::exit(7); });
        ASSERT_TRUE(WIFEXITED(status));
        EXPECT_EQ(WEXITSTATUS(status), 7);
        EXPECT_TRUE(t.is_cooked());
    }
    {
        Pty t;
        const int status = in_raw_child(t, [] { std::terminate(); });
        ASSERT_TRUE(WIFSIGNALED(status));
        EXPECT_EQ(WTERMSIG(status), SIGABRT);
        EXPECT_TRUE(t.is_cooked());
    }
    {
        // The control: _exit() skips every hook, and the terminal stays raw. This is what the
        // checks above would see if the restoration were missing.
        Pty t;
        const int status = in_raw_child(t, [] { _exit(5); });
        ASSERT_TRUE(WIFEXITED(status));
        EXPECT_EQ(WEXITSTATUS(status), 5);
        EXPECT_TRUE(Pty::is_raw(t.now()));
    }
}

TEST(SerialStdioTerminal, HandlersRemovedAfterwards) {
    // Once the back-end is gone lift86 no longer meddles with signals or std::terminate.
    struct sigaction before{}, after{};
    sigaction(SIGTERM, nullptr, &before);
    const std::terminate_handler th = std::get_terminate();
    {
        Pty t;
        StdioBackend b(t.slave, null_out());
        b.start();
        struct sigaction during{};
        sigaction(SIGTERM, nullptr, &during);
        EXPECT_NE(during.sa_handler, before.sa_handler);
        EXPECT_NE(std::get_terminate(), th);
    }
    sigaction(SIGTERM, nullptr, &after);
    EXPECT_EQ(after.sa_handler, before.sa_handler);
    EXPECT_EQ(std::get_terminate(), th);
}

// ---------------------------------------------------------------------------------------------
// file:PATH

TEST(SerialFile, WritesAndReportsErrors) {
    const auto path = std::filesystem::temp_directory_path() / ("lift86_serial_" + std::to_string(getpid()) + ".log");
    {
        std::ofstream(path) << "old contents that must go";
        auto b = make_serial_backend("file:" + path.string(), "COM1");
        ASSERT_NE(b, nullptr);
        for (char c : std::string("hello\nworld")) b->write(uint8_t(c));
        b->flush();
        std::ifstream in(path);
        std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        EXPECT_EQ(s, "hello\nworld");   // flushed: visible while the run goes on
        EXPECT_FALSE(b->input_open());
    }
    std::filesystem::remove(path);
    try {
        make_serial_backend("file:/nonexistent/dir/x.log", "COM1");
        FAIL() << "no error";
    } catch (const SerialBackendError& e) {
        EXPECT_STREQ(e.what(), "cannot open serial output file '/nonexistent/dir/x.log': No such file or directory");
    }
}

// ---------------------------------------------------------------------------------------------
// tcp:HOST:PORT,server

namespace {
int connect_to(uint16_t port) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}
std::string recv_some(int fd, size_t want) {
    std::string s;
    while (s.size() < want) {
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, 2000) <= 0) break;
        char buf[256];
        const ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        s.append(buf, size_t(n));
    }
    return s;
}
}  // namespace

TEST(SerialTcp, AcceptEchoAndReconnect) {
    TcpServerBackend b("127.0.0.1", 0, /*wait=*/true, "COM1");
    ASSERT_NE(b.port(), 0);
    Com com;
    com.fifo_on();
    com.uart.on_transmit = [&b](uint8_t c) { b.write(c); };
    EXPECT_TRUE(b.input_open());

    const int c1 = connect_to(b.port());
    ASSERT_GE(c1, 0);
    b.start();   // waits for the client: already in the backlog
    EXPECT_TRUE(b.connected());

    ASSERT_EQ(send(c1, "ping", 4, 0), 4);
    bool overrun = false;
    std::string got;
    pump_until(b, com.uart, [&] { return (got += com.drain(&overrun)).size() >= 4; });
    EXPECT_EQ(got, "ping");
    for (char c : std::string("pong\n")) com.wr(0, uint8_t(c));   // the guest answers
    b.pump(com.uart);
    EXPECT_EQ(recv_some(c1, 5), "pong\n");

    // A second client waits while the first is connected.
    const int c2 = connect_to(b.port());
    ASSERT_GE(c2, 0);
    ASSERT_EQ(send(c2, "early", 5, 0), 5);
    for (int k = 0; k < 20; k++) b.pump(com.uart);
    EXPECT_EQ(com.drain(&overrun), "");

    close(c1);
    pump_until(b, com.uart, [&] { return !b.connected(); });
    EXPECT_FALSE(b.connected());
    for (char c : std::string("nobody hears this")) com.wr(0, uint8_t(c));   // dropped
    b.pump(com.uart);
    // Then the second client is taken, its input delivered, and the output it gets starts now.
    got.clear();
    pump_until(b, com.uart, [&] { return (got += com.drain(&overrun)).size() >= 5; });
    EXPECT_TRUE(b.connected());
    EXPECT_EQ(got, "early");
    for (char c : std::string("hi")) com.wr(0, uint8_t(c));
    b.pump(com.uart);
    EXPECT_EQ(recv_some(c2, 2), "hi");
    EXPECT_FALSE(overrun);
    close(c2);
}

TEST(SerialTcp, PortInUseIsOneLine) {
    TcpServerBackend first("127.0.0.1", 0, false, "COM1");
    const std::string spec = "tcp:127.0.0.1:" + std::to_string(first.port()) + ",server,nowait";
    try {
        make_serial_backend(spec, "COM2");
        FAIL() << "no error";
    } catch (const SerialBackendError& e) {
        EXPECT_EQ(std::string(e.what()),
                  "cannot listen on 127.0.0.1:" + std::to_string(first.port()) + " for COM2: Address already in use");
    }
}

TEST(SerialTcp, NowaitStartsAtOnce) {
    TcpServerBackend b("127.0.0.1", 0, /*wait=*/false, "COM1");
    b.start();
    EXPECT_FALSE(b.connected());
    b.write('x');   // nobody connected: dropped, no crash
    Com com;
    b.pump(com.uart);
    const int c = connect_to(b.port());
    ASSERT_GE(c, 0);
    pump_until(b, com.uart, [&] { return b.connected(); });
    EXPECT_TRUE(b.connected());
    close(c);
}

// ---------------------------------------------------------------------------------------------
// Waiting for input (a halted guest)

TEST(SerialWait, SleepsUntilInputOrTimeout) {
    Pipe p;
    StdioBackend b(p.r, null_out());
    b.start();
    std::vector<SerialBackend*> list{&b, nullptr};
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_FALSE(SerialBackend::wait_for_input(list, 30'000'000));
    EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(25));

    std::thread writer([&p] {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        p.put("!");
    });
    t0 = std::chrono::steady_clock::now();
    EXPECT_TRUE(SerialBackend::wait_for_input(list, 10'000'000'000));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
    writer.join();

    // At the end of input there is nothing to wait for (the board then does not wait at all).
    p.close_write();
    Com com;
    com.fifo_on();
    pump_until(b, com.uart, [&] { return !b.input_open(); });   // "!" first, then the end
    EXPECT_FALSE(b.input_open());
    EXPECT_FALSE(SerialBackend::wait_for_input(list, 1'000'000));
}

TEST(SerialWait, ANewTcpClientWakes) {
    TcpServerBackend b("127.0.0.1", 0, false, "COM1");
    std::vector<SerialBackend*> list{&b};
    EXPECT_FALSE(SerialBackend::wait_for_input(list, 10'000'000));
    const int c = connect_to(b.port());
    ASSERT_GE(c, 0);
    EXPECT_TRUE(SerialBackend::wait_for_input(list, 2'000'000'000));
    close(c);
}
