// The GDB stub's transport and its place in the machine's run loop: a TCP listener (one client
// at a time), the framing of packets.hpp, and the stop/resume state machine around Session.
//
// The run loop calls after_slice() after every Cpu::run slice. It costs one steady-clock read
// unless a poll is due (every few milliseconds): then a non-blocking poll() of the sockets
// accepts a new client (the guest stops, as gdb expects when it attaches) or reads Ctrl-C.
// While gdb holds the guest stopped, after_slice() blocks serving packets until gdb resumes,
// detaches or goes away; a vanished client lets the guest run on.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>

#include "frontend/cpu.hpp"
#include "machine/gdbstub/packet.hpp"
#include "machine/gdbstub/session.hpp"

namespace lift86::gdb {

// A user error in -gdb / the listening socket (bad spec, address in use): one line, no crash.
struct StubError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct Endpoint {
    std::string host = "127.0.0.1";   // QEMU listens on all interfaces; lift86 only locally unless told
    uint16_t port = 1234;             // 0: any free port (printed on stderr)
};
// "tcp::PORT", "tcp:HOST:PORT", ":PORT", "PORT" (QEMU's -gdb syntax). Throws StubError.
Endpoint parse_endpoint(const std::string& spec);

class GdbStub {
public:
    struct Hooks {
        std::function<void()> kill;              // gdb `kill`: end lift86
        std::function<std::string()> stats;      // extra lines for `monitor stats`
        std::function<std::string(const std::string& path)> screendump;   // `monitor screendump FILE`
    };
    // Binds and listens (throws StubError). Prints "lift86: gdb stub listening on HOST:PORT".
    GdbStub(Cpu& cpu, const Endpoint& where, Hooks hooks);
    ~GdbStub();
    GdbStub(const GdbStub&) = delete;
    GdbStub& operator=(const GdbStub&) = delete;

    uint16_t port() const { return port_; }
    // Before the first instruction. `wait` (-S): block until gdb connects and resumes the guest.
    void start(bool wait);
    // After each Cpu::run slice; `why` is what run() returned.
    void after_slice(StopReason why);
    // lift86 is ending with exit status `status`: tell gdb (W packet) and hang up.
    void on_exit(int status);

private:
    bool accept_client();                     // true when a client is now connected
    // The client is gone: debug points off, the guest runs on. `why` goes to stderr.
    void drop_client(const char* why = "gdb disconnected; the guest runs on");
    void stop_and_serve(int signal, const DebugHit& hit = {});
    // Serves packets while the guest is stopped; returns when it should run again.
    void serve();
    bool handle_event(PacketParser::Event ev, bool stopped, bool& interrupt, bool& resume);
    bool send_raw(const std::string& s);
    bool send_packet(const std::string& payload);
    void poll_now();

    Cpu& cpu_;
    Hooks hooks_;
    Session session_;
    PacketParser parser_;
    int listen_fd_ = -1, client_fd_ = -1;
    uint16_t port_ = 0;
    std::string last_sent_;                   // for retransmission on '-'
    unsigned naks_in_a_row_ = 0;
    std::chrono::steady_clock::time_point next_poll_{};
    bool running_for_gdb_ = false;            // gdb resumed the guest and waits for a stop reply
};

}  // namespace lift86::gdb
