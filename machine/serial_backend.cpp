#include "machine/serial_backend.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <exception>

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "devices/uart16550.hpp"

namespace lift86 {

const char* const kSerialEscapeHelp =
    "C-a h    print this help\n"
    "C-a x    exit lift86\n"
    "C-a C-a  send C-a to the guest\n";

// =============================================================================================
// The terminal in raw mode, and its restoration on every way out.
//
// One terminal at a time (the CLI allows one stdio back-end). The state is global because the
// ways out are: the back-end's destructor (normal exit, guest poweroff, --max-insns, a LoadError
// unwinding the Machine), exit() from anywhere (atexit), a fatal or termination signal, and
// std::terminate. Everything a signal handler calls is async-signal-safe (tcsetattr, sigaction,
// sigprocmask, raise).
namespace {

struct RawTerminal {
    int fd = -1;
    termios saved{};
    termios raw{};
    volatile sig_atomic_t active = 0;
};
RawTerminal g_term;

// Signals that end the process (their default action): restore the terminal, then let the
// previous disposition act. Synchronous faults return and fault again into it; the others are
// raised again (delivered when the handler returns, the signal being blocked meanwhile).
constexpr int kEndingSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGABRT, SIGPIPE, SIGALRM,
                                  SIGSEGV, SIGBUS, SIGILL, SIGFPE};
struct sigaction g_old_action[NSIG];
bool g_handlers_installed = false;
std::terminate_handler g_old_terminate = nullptr;
bool g_atexit_registered = false;

void restore_terminal() {
    if (g_term.active) {
        tcsetattr(g_term.fd, TCSANOW, &g_term.saved);
        g_term.active = 0;
    }
}

bool is_fault(int sig) { return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE; }

void on_ending_signal(int sig) {
    const int saved_errno = errno;
    restore_terminal();
    sigaction(sig, &g_old_action[sig], nullptr);
    if (!is_fault(sig)) raise(sig);
    errno = saved_errno;
}

// Job control (kill -TSTP; the keyboard's Ctrl-Z is off in raw mode): hand the terminal back
// while stopped, and take it again on SIGCONT.
void on_stop_signal(int sig) {
    const int saved_errno = errno;
    const bool was_active = g_term.active;
    restore_terminal();
    struct sigaction dfl{};
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, nullptr);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, nullptr);
    raise(sig);   // stops here until SIGCONT
    sigprocmask(SIG_BLOCK, &set, nullptr);
    struct sigaction again{};
    again.sa_handler = on_stop_signal;
    sigemptyset(&again.sa_mask);
    again.sa_flags = SA_RESTART;
    sigaction(sig, &again, nullptr);
    if (was_active && tcsetattr(g_term.fd, TCSANOW, &g_term.raw) == 0) g_term.active = 1;
    errno = saved_errno;
}

void on_terminate() {
    restore_terminal();
    if (g_old_terminate) g_old_terminate();
    std::abort();
}

void install_handlers() {
    if (g_handlers_installed) return;
    for (int sig : kEndingSignals) {
        struct sigaction old{};
        sigaction(sig, nullptr, &old);
        g_old_action[sig] = old;
        if (old.sa_handler == SIG_IGN && !(old.sa_flags & SA_SIGINFO)) continue;   // nohup etc.: keep ignoring
        struct sigaction sa{};
        sa.sa_handler = on_ending_signal;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESTART;
        sigaction(sig, &sa, nullptr);
    }
    struct sigaction old{};
    sigaction(SIGTSTP, nullptr, &old);
    g_old_action[SIGTSTP] = old;
    if (!(old.sa_handler == SIG_IGN && !(old.sa_flags & SA_SIGINFO))) {
        struct sigaction sa{};
        sa.sa_handler = on_stop_signal;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESTART;
        sigaction(SIGTSTP, &sa, nullptr);
    }
    g_old_terminate = std::set_terminate(on_terminate);
    if (!g_atexit_registered) {
        std::atexit(restore_terminal);
        g_atexit_registered = true;
    }
    g_handlers_installed = true;
}

void uninstall_handlers() {
    if (!g_handlers_installed) return;
    for (int sig : kEndingSignals) sigaction(sig, &g_old_action[sig], nullptr);
    sigaction(SIGTSTP, &g_old_action[SIGTSTP], nullptr);
    std::set_terminate(g_old_terminate);
    g_old_terminate = nullptr;
    g_handlers_installed = false;
}

// QEMU's stdio chardev settings (chardev/char-stdio.c), with signal keys off as for
// -nographic: bytes pass through unchanged (no CR/LF mapping, no XON/XOFF), no echo, no line
// editing, no INTR/QUIT/SUSP. Output processing stays on, so lift86's own messages on stderr
// still start at the left margin.
bool enter_raw(int fd) {
    termios t{};
    if (tcgetattr(fd, &t) != 0) return false;
    g_term.fd = fd;
    g_term.saved = t;
    t.c_iflag &= ~tcflag_t(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
    t.c_oflag |= OPOST;
    t.c_lflag &= ~tcflag_t(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
    t.c_cflag &= ~tcflag_t(CSIZE | PARENB);
    t.c_cflag |= CS8;
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    g_term.raw = t;
    install_handlers();   // before the terminal changes: no window without a way back
    if (tcsetattr(fd, TCSANOW, &t) != 0) {
        uninstall_handlers();
        return false;
    }
    g_term.active = 1;
    return true;
}

void leave_raw() {
    restore_terminal();
    uninstall_handlers();
}

std::string errno_text() { return std::strerror(errno); }

}  // namespace

// =============================================================================================
// Spec parsing

namespace {
const char* const kSpecHelp = "stdio, file:PATH, tcp:[HOST]:PORT,server[,nowait] or none";

uint16_t parse_port(const std::string& s, const std::string& spec) {
    char* end = nullptr;
    errno = 0;
    unsigned long v = std::strtoul(s.c_str(), &end, 10);
    if (s.empty() || *end || errno || v > 65535 || s[0] == '-' || s[0] == '+')
        throw SerialBackendError(fmt::format("invalid port in -serial '{}' (expected tcp:[HOST]:PORT,server)", spec));
    return uint16_t(v);
}
}  // namespace

SerialSpec parse_serial_spec(const std::string& spec) {
    SerialSpec s;
    if (spec == "none" || spec == "null") return s;
    if (spec == "stdio" || spec == "mon:stdio") {   // lift86 has no monitor: mon:stdio = stdio
        s.kind = SerialSpec::Kind::Stdio;
        return s;
    }
    if (spec.rfind("file:", 0) == 0) {
        s.kind = SerialSpec::Kind::File;
        s.path = spec.substr(5);
        if (s.path.empty()) throw SerialBackendError("-serial file: needs a path (file:PATH)");
        return s;
    }
    if (spec.rfind("tcp:", 0) == 0) {
        s.kind = SerialSpec::Kind::Tcp;
        std::vector<std::string> parts;
        size_t start = 4;
        for (size_t p; (p = spec.find(',', start)) != std::string::npos; start = p + 1)
            parts.push_back(spec.substr(start, p - start));
        parts.push_back(spec.substr(start));
        const std::string& addr = parts[0];
        const size_t colon = addr.rfind(':');
        if (colon == std::string::npos)
            throw SerialBackendError(fmt::format("invalid -serial '{}' (expected tcp:[HOST]:PORT,server)", spec));
        std::string host = addr.substr(0, colon);
        if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
        if (!host.empty()) s.host = host;
        s.port = parse_port(addr.substr(colon + 1), spec);
        bool server = false;
        for (size_t k = 1; k < parts.size(); k++) {
            const std::string& o = parts[k];
            if (o == "server" || o == "server=on") server = true;
            else if (o == "server=off") server = false;
            else if (o == "nowait" || o == "wait=off") s.wait = false;
            else if (o == "wait" || o == "wait=on") s.wait = true;
            else if (o == "nodelay" || o == "nodelay=on" || o == "nodelay=off") {}   // always TCP_NODELAY
            else throw SerialBackendError(fmt::format("unsupported option '{}' in -serial '{}' (server, nowait)", o, spec));
        }
        if (!server)
            throw SerialBackendError(fmt::format("-serial '{}': only a TCP server is supported (add ,server)", spec));
        return s;
    }
    throw SerialBackendError(fmt::format("invalid -serial '{}' ({})", spec, kSpecHelp));
}

std::unique_ptr<SerialBackend> make_serial_backend(const std::string& spec, const std::string& name) {
    const SerialSpec s = parse_serial_spec(spec);
    switch (s.kind) {
    case SerialSpec::Kind::None: return nullptr;
    case SerialSpec::Kind::Stdio: return std::make_unique<StdioBackend>(STDIN_FILENO, stdout);
    case SerialSpec::Kind::File: return std::make_unique<FileBackend>(s.path);
    case SerialSpec::Kind::Tcp: return std::make_unique<TcpServerBackend>(s.host, s.port, s.wait, name);
    }
    return nullptr;
}

// =============================================================================================
// SerialBackend

SerialBackend::~SerialBackend() = default;

void SerialBackend::request_quit() {
    quit_ = true;
    if (on_quit) on_quit();
}

void SerialBackend::pump(Uart16550& uart) {
    read_input();
    while (!in_.empty() && uart.rx_room() > 0) {
        uart.receive(in_.front());
        in_.pop_front();
    }
    flush();
}

bool SerialBackend::wait_for_input(const std::vector<SerialBackend*>& backends, uint64_t timeout_ns) {
    std::vector<pollfd> fds;
    for (SerialBackend* b : backends)
        if (b && b->input_open())
            if (int fd = b->poll_fd(); fd >= 0) fds.push_back(pollfd{fd, POLLIN, 0});
    timespec ts{time_t(timeout_ns / 1000000000u), long(timeout_ns % 1000000000u)};
    // A regular file is always readable; a closed descriptor reports POLLNVAL: both wake at once,
    // and the next pump() sees the end.
    const int n = ppoll(fds.data(), fds.size(), &ts, nullptr);
    return n > 0;
}

// =============================================================================================
// stdio

StdioBackend::StdioBackend(int in_fd, std::FILE* out) : in_fd_(in_fd), out_(out) {}

StdioBackend::~StdioBackend() {
    flush();
    if (raw_) leave_raw();
}

void StdioBackend::start() {
    if (!isatty(in_fd_)) return;
    tty_ = true;
    // A background job may not touch its terminal: tcsetattr would stop it (SIGTTOU) and so
    // would reading (SIGTTIN). It gets no serial input instead.
    const pid_t fg = tcgetpgrp(in_fd_);
    if (fg >= 0 && fg != getpgrp()) {
        fmt::print(stderr, "lift86: stdin is a terminal in use by another process group (a background job?): no serial input\n");
        eof_ = true;
        return;
    }
    raw_ = enter_raw(in_fd_);
    if (!raw_) {
        fmt::print(stderr, "lift86: cannot put the terminal in raw mode ({}); serial input is line-buffered\n", errno_text());
        tty_ = false;
    }
}

void StdioBackend::write(uint8_t byte) {
    std::fputc(byte, out_);
    dirty_ = true;
}

void StdioBackend::flush() {
    if (dirty_) {
        std::fflush(out_);
        dirty_ = false;
    }
}

int StdioBackend::poll_fd() const {
    if (eof_) return -1;
    // A terminal is always read (for Ctrl-A x); other input only while there is room for it.
    return (tty_ || input_wanted()) ? in_fd_ : -1;
}

void StdioBackend::read_input() {
    if (eof_ || (!tty_ && !input_wanted())) return;
    // Never set O_NONBLOCK on stdin: the flag belongs to the open file, which the shell shares.
    // poll() with a zero timeout says whether one read() returns at once.
    pollfd p{in_fd_, POLLIN, 0};
    if (poll(&p, 1, 0) <= 0) return;
    if (p.revents & POLLNVAL) {
        eof_ = true;
        return;
    }
    if (!(p.revents & (POLLIN | POLLHUP | POLLERR))) return;
    uint8_t buf[kInputBuffer];
    const size_t want = tty_ ? sizeof buf : std::min(sizeof buf, kInputBuffer - buffered());
    const ssize_t n = read(in_fd_, buf, want);
    if (n > 0) {
        if (tty_) from_terminal(buf, size_t(n));
        else take(buf, size_t(n));
    } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        eof_ = true;   // end of the file or pipe, a hung-up terminal (EIO): no more input, the run goes on
    }
}

// The Ctrl-A escape (QEMU's mux chardev, chardev/char-mux.c): Ctrl-A x quits, Ctrl-A Ctrl-A is
// one Ctrl-A, Ctrl-A h (or ?) prints the help; other commands are dropped.
void StdioBackend::from_terminal(const uint8_t* bytes, size_t n) {
    for (size_t k = 0; k < n; k++) {
        const uint8_t b = bytes[k];
        if (escape_) {
            escape_ = false;
            if (b == kEscape) {
                if (buffered() < kTerminalBuffer) take(&b, 1);
            } else if (b == 'x' || b == 'X') {
                flush();
                fmt::print(stderr, "lift86: terminated (C-a x)\n");
                request_quit();
                return;   // the rest is for nobody
            } else if (b == 'h' || b == '?') {
                fmt::print(stderr, "\n{}", kSerialEscapeHelp);
            }
        } else if (b == kEscape) {
            escape_ = true;
        } else if (buffered() < kTerminalBuffer) {   // beyond: a guest that reads nothing loses keys
            take(&b, 1);
        }
    }
}

// =============================================================================================
// file:PATH

FileBackend::FileBackend(const std::string& path) : f_(std::fopen(path.c_str(), "wb")) {
    if (!f_) throw SerialBackendError(fmt::format("cannot open serial output file '{}': {}", path, errno_text()));
}

FileBackend::~FileBackend() { std::fclose(f_); }

void FileBackend::write(uint8_t byte) {
    std::fputc(byte, f_);
    dirty_ = true;
}

void FileBackend::flush() {
    if (dirty_) {
        std::fflush(f_);   // each slice: a reader following the file sees the output at once
        dirty_ = false;
    }
}

// =============================================================================================
// tcp:[HOST]:PORT,server[,nowait]

TcpServerBackend::TcpServerBackend(const std::string& host, uint16_t port, bool wait, std::string name)
    : host_(host), name_(std::move(name)), wait_(wait) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* res = nullptr;
    const std::string service = std::to_string(port);
    if (int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &res); rc != 0)
        throw SerialBackendError(fmt::format("cannot listen on {}:{} for {}: {}", host, port, name_, gai_strerror(rc)));
    std::string err = "no usable address";
    for (addrinfo* a = res; a && listen_fd_ < 0; a = a->ai_next) {
        const int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
        if (fd < 0) {
            err = errno_text();
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);   // restart at once after a run
        if (bind(fd, a->ai_addr, a->ai_addrlen) != 0 || listen(fd, 1) != 0) {
            err = errno_text();
            close(fd);
            continue;
        }
        listen_fd_ = fd;
    }
    freeaddrinfo(res);
    if (listen_fd_ < 0) throw SerialBackendError(fmt::format("cannot listen on {}:{} for {}: {}", host, port, name_, err));
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&ss), &len);
    port_ = ss.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port)
                                     : ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
}

TcpServerBackend::~TcpServerBackend() {
    // The last words of the guest (a shutdown message) still reach a connected client: give a
    // slow one up to a second.
    for (int tries = 0; client_fd_ >= 0 && !out_.empty() && tries < 10; tries++) {
        pollfd p{client_fd_, POLLOUT, 0};
        if (poll(&p, 1, 100) > 0) flush();
    }
    if (client_fd_ >= 0) close(client_fd_);
    if (listen_fd_ >= 0) close(listen_fd_);
}

void TcpServerBackend::start() {
    const std::string where = host_.find(':') != std::string::npos ? fmt::format("[{}]:{}", host_, port_)
                                                                   : fmt::format("{}:{}", host_, port_);
    if (!wait_) {
        fmt::print(stderr, "lift86: {} listening on tcp:{}\n", name_, where);
        return;
    }
    fmt::print(stderr, "lift86: {} waiting for a connection on tcp:{} (e.g. nc {} {})\n", name_, where, host_, port_);
    std::fflush(stderr);
    while (!connected()) {
        pollfd p{listen_fd_, POLLIN, 0};
        if (poll(&p, 1, -1) > 0) accept_client();
    }
}

bool TcpServerBackend::accept_client() {
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) return false;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);   // keystrokes, not bulk data
    client_fd_ = fd;
    return true;
}

void TcpServerBackend::disconnect() {
    close(client_fd_);
    client_fd_ = -1;
    out_.clear();   // for the next client, output starts from the moment it connects
}

void TcpServerBackend::write(uint8_t byte) {
    if (!connected()) return;   // nobody to hear it (as QEMU)
    if (out_.size() >= kOutputBuffer) {
        flush();
        if (out_.size() >= kOutputBuffer) return;   // a client that stopped reading loses output
    }
    out_.push_back(char(byte));
}

void TcpServerBackend::flush() {
    size_t off = 0;
    while (connected() && off < out_.size()) {
        const ssize_t n = send(client_fd_, out_.data() + off, out_.size() - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            off += size_t(n);
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            break;
        } else {
            disconnect();
            return;
        }
    }
    out_.erase(0, off);
}

int TcpServerBackend::poll_fd() const {
    if (!connected()) return listen_fd_;
    return input_wanted() ? client_fd_ : -1;
}

void TcpServerBackend::read_input() {
    if (!connected()) {
        // One client at a time: a second one waits in the listen backlog until this one leaves.
        if (!accept_client()) return;
    }
    if (!input_wanted()) return;
    uint8_t buf[kInputBuffer];
    const ssize_t n = recv(client_fd_, buf, std::min(sizeof buf, kInputBuffer - buffered()), MSG_DONTWAIT);
    if (n > 0) take(buf, size_t(n));
    else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) disconnect();
}

}  // namespace lift86
