// A character back-end for a serial port, as QEMU's -serial: where the bytes a guest's UART
// transmits go, and where the bytes it receives come from.
//
//   stdio                          output to stdout, input from stdin. A terminal on stdin is put
//                                  in raw mode (no echo, no line editing, no signal keys: Ctrl-C
//                                  reaches the guest as 0x03) and restored on every way out. Ctrl-A
//                                  is an escape, as in QEMU's -nographic: Ctrl-A x quits lift86,
//                                  Ctrl-A Ctrl-A sends one Ctrl-A, Ctrl-A h prints the list. Input
//                                  that is not a terminal (a pipe, a file) is passed on as it is,
//                                  and its end simply ends the input.
//   file:PATH                      output only (the file is created or truncated).
//   tcp:[HOST]:PORT,server[,nowait]  a TCP server on HOST (default 127.0.0.1), one client at a
//                                  time; output is dropped while nobody is connected. Without
//                                  nowait the run waits for the first client, as QEMU does.
//   none                           nothing connected (the UART is still there).
//
// Input is never pushed at the UART: the board calls pump() between run slices, and pump() hands
// the UART only what its rx_room() allows, keeping the rest, so a paste is not lost to overruns.
// The host side is read only while the back-end's own buffer has room, so a pipe or socket
// sender is held back by the kernel's buffers (flow control) rather than losing bytes.
#pragma once
#include <cstdint>
#include <cstdio>
#include <deque>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace lift86 {

class Uart16550;

// A user error (bad spec, file that cannot be opened, port in use): one line, no crash.
struct SerialBackendError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// A parsed -serial argument.
struct SerialSpec {
    enum class Kind { None, Stdio, File, Tcp } kind = Kind::None;
    std::string path;                 // File
    std::string host = "127.0.0.1";   // Tcp: lift86 listens only locally unless told
    uint16_t port = 0;                // Tcp: 0 = any free port (printed at start-up)
    bool wait = true;                 // Tcp: wait for the first client before the guest runs
};
// Throws SerialBackendError naming what is wrong.
SerialSpec parse_serial_spec(const std::string& spec);

class SerialBackend {
public:
    virtual ~SerialBackend();
    SerialBackend(const SerialBackend&) = delete;
    SerialBackend& operator=(const SerialBackend&) = delete;

    // The guest transmitted a byte.
    virtual void write(uint8_t byte) = 0;
    // Once, before the guest's first instruction: a TCP server waits for its client, stdio
    // puts a terminal in raw mode. May block (the TCP wait).
    virtual void start() {}
    // Between run slices, never blocking: takes what the host has sent, hands the UART what it
    // can take now, and sends out what the guest wrote.
    void pump(Uart16550& uart);
    // Sends out buffered output.
    virtual void flush() {}
    // Input may still arrive (stdin not at its end, a TCP server): a wake source for a halted
    // guest, and what wait_for_input() sleeps on.
    virtual bool input_open() const { return false; }
    // Input taken from the host and not yet handed to the UART.
    size_t buffered() const { return in_.size(); }

    // The user asked to end lift86 (Ctrl-A x on a terminal). Called from pump().
    std::function<void()> on_quit;
    bool quit_requested() const { return quit_; }

    // Sleeps until one of `backends` has input (or a client to accept) or `timeout_ns` passes,
    // whichever comes first. Returns true when woken by input.
    static bool wait_for_input(const std::vector<SerialBackend*>& backends, uint64_t timeout_ns);

    static constexpr size_t kInputBuffer = 4096;   // read from the host only below this

protected:
    SerialBackend() = default;
    virtual void read_input() {}                  // non-blocking; calls take()
    virtual int poll_fd() const { return -1; }    // what wait_for_input() polls; -1: nothing now
    bool input_wanted() const { return in_.size() < kInputBuffer; }
    void take(const uint8_t* bytes, size_t n) { in_.insert(in_.end(), bytes, bytes + n); }
    void request_quit();

private:
    std::deque<uint8_t> in_;
    bool quit_ = false;
};

// stdio: reads `in_fd` (stdin), writes `out` (stdout). Tests pass a pipe or a pseudo-terminal.
class StdioBackend final : public SerialBackend {
public:
    StdioBackend(int in_fd, std::FILE* out);
    ~StdioBackend() override;   // restores the terminal
    void write(uint8_t byte) override;
    void start() override;
    void flush() override;
    bool input_open() const override { return !eof_; }
    bool raw_mode() const { return raw_; }   // start() put a terminal in raw mode

    static constexpr uint8_t kEscape = 0x01;        // Ctrl-A
    static constexpr size_t kTerminalBuffer = 65536; // typed input kept for a guest not reading

protected:
    void read_input() override;
    int poll_fd() const override;

private:
    void from_terminal(const uint8_t* bytes, size_t n);

    int in_fd_;
    std::FILE* out_;
    bool tty_ = false, raw_ = false, eof_ = false, escape_ = false, dirty_ = false;
};

// file:PATH
class FileBackend final : public SerialBackend {
public:
    explicit FileBackend(const std::string& path);   // throws SerialBackendError
    ~FileBackend() override;
    void write(uint8_t byte) override;
    void flush() override;

private:
    std::FILE* f_;
    bool dirty_ = false;
};

// tcp:[HOST]:PORT,server[,nowait]
class TcpServerBackend final : public SerialBackend {
public:
    // Binds and listens at once (throws SerialBackendError: "cannot listen on ..."); `name`
    // ("COM1") appears in the messages.
    TcpServerBackend(const std::string& host, uint16_t port, bool wait, std::string name);
    ~TcpServerBackend() override;
    void write(uint8_t byte) override;
    void start() override;   // prints where to connect; without nowait, waits for the client
    void flush() override;
    bool input_open() const override { return true; }   // a client may always (re)connect
    uint16_t port() const { return port_; }
    bool connected() const { return client_fd_ >= 0; }

    static constexpr size_t kOutputBuffer = 1 << 20;   // beyond this a stalled client loses output

protected:
    void read_input() override;
    int poll_fd() const override;

private:
    bool accept_client();
    void disconnect();

    std::string host_, name_;
    uint16_t port_ = 0;
    bool wait_;
    int listen_fd_ = -1, client_fd_ = -1;
    std::string out_;
};

// Makes the back-end for a -serial argument; nullptr for "none". `name` is the port ("COM1").
// Throws SerialBackendError.
std::unique_ptr<SerialBackend> make_serial_backend(const std::string& spec, const std::string& name);

// The help text of the Ctrl-A escape (Ctrl-A h prints it).
extern const char* const kSerialEscapeHelp;

}  // namespace lift86
