// The GDB stub's TCP transport and stop/resume state machine: see gdbstub.hpp.
#include "machine/gdbstub/gdbstub.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace lift86::gdb {

namespace {
constexpr auto kPollInterval = std::chrono::milliseconds(5);   // Ctrl-C latency while the guest runs
constexpr unsigned kMaxNaks = 8;                                // then give up resending one packet

uint16_t parse_port(const std::string& s, const std::string& spec) {
    char* end = nullptr;
    errno = 0;
    unsigned long v = std::strtoul(s.c_str(), &end, 10);
    if (s.empty() || *end || errno || v > 65535)
        throw StubError(fmt::format("invalid gdb port in '{}' (expected tcp::PORT or tcp:HOST:PORT)", spec));
    return uint16_t(v);
}
}  // namespace

Endpoint parse_endpoint(const std::string& spec) {
    Endpoint e;
    std::string s = spec;
    if (s.rfind("tcp:", 0) == 0) {
        s = s.substr(4);
    } else if (s.rfind("unix:", 0) == 0 || s == "stdio" || s.rfind("pipe:", 0) == 0 || s == "none") {
        throw StubError(fmt::format("unsupported gdb transport '{}' (only tcp::PORT or tcp:HOST:PORT)", spec));
    }
    const auto colon = s.rfind(':');
    if (colon == std::string::npos) {   // "1234"
        e.port = parse_port(s, spec);
        return e;
    }
    std::string host = s.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (!host.empty()) e.host = host;
    e.port = parse_port(s.substr(colon + 1), spec);
    return e;
}

GdbStub::GdbStub(Cpu& cpu, const Endpoint& where, Hooks hooks)
    : cpu_(cpu), hooks_(std::move(hooks)), session_(cpu, Session::Hooks{hooks_.stats, hooks_.screendump}) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* res = nullptr;
    const std::string port = std::to_string(where.port);
    if (int rc = getaddrinfo(where.host.c_str(), port.c_str(), &hints, &res); rc != 0)
        throw StubError(fmt::format("cannot listen for gdb on {}:{}: {}", where.host, where.port, gai_strerror(rc)));
    std::string err = "no usable address";
    for (addrinfo* a = res; a && listen_fd_ < 0; a = a->ai_next) {
        int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
        if (fd < 0) {
            err = std::strerror(errno);
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, a->ai_addr, a->ai_addrlen) != 0 || listen(fd, 1) != 0) {
            err = std::strerror(errno);
            close(fd);
            continue;
        }
        listen_fd_ = fd;
    }
    freeaddrinfo(res);
    if (listen_fd_ < 0) throw StubError(fmt::format("cannot listen for gdb on {}:{}: {}", where.host, where.port, err));
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&ss), &len);
    port_ = ss.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port)
                                     : ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
    fmt::print(stderr, "lift86: gdb stub listening on {}:{}\n", where.host, port_);
    std::fflush(stderr);
}

GdbStub::~GdbStub() {
    if (client_fd_ >= 0) close(client_fd_);
    if (listen_fd_ >= 0) close(listen_fd_);
}

bool GdbStub::send_raw(const std::string& s) {
    size_t off = 0;
    while (client_fd_ >= 0 && off < s.size()) {
        ssize_t n = send(client_fd_, s.data() + off, s.size() - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            off += size_t(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            // gdb is not reading: wait a while, then consider it gone rather than hang the guest.
            pollfd p{client_fd_, POLLOUT, 0};
            if (poll(&p, 1, 10000) > 0) continue;
        }
        drop_client();
        return false;
    }
    return client_fd_ >= 0;
}

bool GdbStub::send_packet(const std::string& payload) {
    last_sent_ = frame(payload);
    naks_in_a_row_ = 0;
    return send_raw(last_sent_);
}

bool GdbStub::accept_client() {
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return false;
    if (client_fd_ >= 0) {
        // One debugger at a time: a second one is hung up on at once rather than left waiting.
        fmt::print(stderr, "lift86: gdb: refusing a second connection while one is active\n");
        close(fd);
        return false;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    client_fd_ = fd;
    parser_.reset();
    last_sent_.clear();
    running_for_gdb_ = false;
    fmt::print(stderr, "lift86: gdb connected\n");
    return true;
}

void GdbStub::drop_client(const char* why) {
    if (client_fd_ < 0) return;
    close(client_fd_);
    client_fd_ = -1;
    parser_.reset();
    cpu_.debug.clear();   // no debugger, no breakpoints: the guest runs on at full speed
    running_for_gdb_ = false;
    fmt::print(stderr, "lift86: {}\n", why);
}

void GdbStub::start(bool wait) {
    if (!wait) return;
    fmt::print(stderr, "lift86: waiting for gdb before the first instruction (-S)\n");
    while (client_fd_ < 0) {
        pollfd p{listen_fd_, POLLIN, 0};
        if (poll(&p, 1, -1) < 0 && errno != EINTR) return;
        if (p.revents & POLLIN) accept_client();
    }
    stop_and_serve(kSigTrap);
}

void GdbStub::after_slice(StopReason why) {
    if (why == StopReason::Breakpoint && client_fd_ >= 0) {
        stop_and_serve(kSigTrap, cpu_.debug.take_hit());
        return;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now < next_poll_) return;
    next_poll_ = now + kPollInterval;
    poll_now();
}

void GdbStub::poll_now() {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {client_fd_, POLLIN, 0}};
    if (poll(fds, client_fd_ >= 0 ? 2 : 1, 0) <= 0) return;
    if (fds[0].revents & POLLIN) {
        const bool had_client = client_fd_ >= 0;
        if (accept_client() && !had_client) {
            // gdb expects the target stopped when it attaches; it asks '?' for the reason.
            stop_and_serve(kSigTrap);
            return;
        }
    }
    if (client_fd_ >= 0 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
        uint8_t buf[4096];
        ssize_t n = recv(client_fd_, buf, sizeof buf, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR && errno != EWOULDBLOCK)) {
            drop_client();
            return;
        }
        bool interrupt = false;
        for (ssize_t i = 0; i < n && client_fd_ >= 0; i++) {
            const PacketParser::Event ev = parser_.feed(buf[i]);
            bool resume = false;
            handle_event(ev, false, interrupt, resume);
        }
        if (interrupt && client_fd_ >= 0) stop_and_serve(kSigInt);
    }
}

void GdbStub::stop_and_serve(int signal, const DebugHit& hit) {
    const std::string reply = session_.stop_reply(signal, hit);
    if (running_for_gdb_) {
        running_for_gdb_ = false;
        if (!send_packet(reply)) return;
    }
    serve();
}

void GdbStub::serve() {
    uint8_t buf[4096];
    while (client_fd_ >= 0) {
        pollfd p[2] = {{client_fd_, POLLIN, 0}, {listen_fd_, POLLIN, 0}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR) continue;
            drop_client();
            return;
        }
        if (p[1].revents & POLLIN) accept_client();   // a second debugger: refused at once
        if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        ssize_t n = recv(client_fd_, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR || errno == EWOULDBLOCK)) continue;
        if (n <= 0) {
            drop_client();   // gdb went away, maybe in the middle of a packet: the guest runs on
            return;
        }
        bool resumed = false;
        for (ssize_t i = 0; i < n && client_fd_ >= 0; i++) {
            const PacketParser::Event ev = parser_.feed(buf[i]);
            bool interrupt = false, resume = false;
            if (!handle_event(ev, !resumed, interrupt, resume)) return;   // detached or killed
            if (resume) resumed = true;
            if (resumed && interrupt) {
                // Ctrl-C right behind the resume packet: stop again before running anything.
                resumed = false;
                if (!send_packet(session_.stop_reply(kSigInt))) return;
            }
        }
        if (resumed) {
            running_for_gdb_ = true;
            return;
        }
    }
}

// One parser event. `stopped`: packets are commands (else only Ctrl-C / vCtrlC matter, gdb sends
// nothing else while the guest runs). Returns false when the session ended (detach, kill).
bool GdbStub::handle_event(PacketParser::Event ev, bool stopped, bool& interrupt, bool& resume) {
    using Ev = PacketParser::Event;
    switch (ev) {
    case Ev::None:
    case Ev::Ack: return true;
    case Ev::Nak:
        if (!last_sent_.empty() && ++naks_in_a_row_ <= kMaxNaks) send_raw(last_sent_);
        return client_fd_ >= 0;
    case Ev::BadChecksum: return send_raw("-");
    case Ev::Oversized:
    case Ev::Malformed: return send_raw("+") && send_packet("E01");
    case Ev::Interrupt:
        interrupt = true;
        return true;
    case Ev::Packet: break;
    }
    if (!send_raw("+")) return false;
    if (!stopped) {
        if (parser_.payload().rfind("vCtrlC", 0) == 0) {
            interrupt = true;
            return send_packet("OK");
        }
        return true;   // ignored while running (all-stop mode)
    }
    Session::Result r;
    try {
        r = session_.handle(parser_.payload());
    } catch (const GuestFault&) {
        r.reply = "E01";   // a guest exception where none was expected: an error for gdb, not a crash
    } catch (const std::exception& e) {
        fmt::print(stderr, "lift86: gdb stub: error handling a packet: {}\n", e.what());
        r.reply = "E01";
    }
    if (r.reply && !send_packet(*r.reply)) return false;
    switch (r.action) {
    case Session::Action::None: return true;
    case Session::Action::Resume:
        resume = true;
        return true;
    case Session::Action::Detach:
        drop_client("gdb detached; the guest runs on");
        return false;
    case Session::Action::Kill:
        drop_client("killed by gdb");
        if (hooks_.kill) hooks_.kill();
        return false;
    }
    return true;
}

void GdbStub::on_exit(int status) {
    if (client_fd_ < 0) return;
    // W: the "process" exited with this status (gdb prints "[Inferior 1 (process 1) exited ...]").
    if (running_for_gdb_) send_packet(fmt::format("W{:02x}", status & 0xFF));
    if (client_fd_ >= 0) {
        close(client_fd_);
        client_fd_ = -1;
    }
}

}  // namespace lift86::gdb
