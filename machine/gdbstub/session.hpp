// One gdb connection's command interpreter: takes a packet payload, acts on the CPU, and says
// what to answer and whether the guest should run. No sockets (gdbstub.hpp owns those), so it
// can be driven directly by tests.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "frontend/debug_points.hpp"

namespace lift86 {
class Cpu;
}

namespace lift86::gdb {

// Signals in stop replies (gdb's own numbering, include/gdb/signals.def).
constexpr int kSigInt = 2, kSigTrap = 5;

class Session {
public:
    // What the machine offers beyond the CPU: optional.
    struct Hooks {
        std::function<std::string()> stats;   // extra lines for `monitor stats`
        // `monitor screendump FILE.png`: writes the screen now; returns "" or a one-line error.
        std::function<std::string(const std::string& path)> screendump;
    };
    enum class Action { None, Resume, Detach, Kill };
    struct Result {
        std::optional<std::string> reply;   // payload to send (unframed); nullopt: send nothing
        Action action = Action::None;
    };

    Session(Cpu& cpu, Hooks hooks = {});

    // One received packet (RLE already expanded, binary escapes still in place).
    Result handle(std::string_view payload);
    // The stop reply for a stop with `signal` (and the debug hit for kSigTrap); also remembered
    // as the answer to later `?` packets.
    std::string stop_reply(int signal, const DebugHit& hit = {});
    std::string last_stop() const { return last_stop_; }
    // Runs a `monitor` command and returns its output text.
    std::string monitor(std::string_view cmd);

private:
    Result resume(DebugPoints::Mode mode, uint32_t range_start = 0, uint32_t range_end = 0);
    Result handle_query(std::string_view p);
    Result handle_vcont(std::string_view p);
    Result handle_point(std::string_view p, bool insert);
    std::string read_memory(std::string_view args);
    std::string write_memory(std::string_view args, bool binary);
    uint32_t pc_linear() const;

    Cpu& cpu_;
    Hooks hooks_;
    std::string last_stop_ = "S05";
    bool xml_i8086_ = false;   // target.xml names i8086: the CPU ran 16-bit code when gdb connected
};

// Debugger memory access at linear addresses through the guest's page tables, without faults,
// accessed/dirty bits or watchpoint hits. Returns the number of bytes done (stops at the first
// unmapped page).
size_t debug_read(Cpu& cpu, uint32_t lin, uint8_t* out, size_t n);
size_t debug_write(Cpu& cpu, uint32_t lin, const uint8_t* in, size_t n);

}  // namespace lift86::gdb
