// --profile: where a guest's run spends its time — instructions and host time per CPU mode and
// boot phase, the hottest blocks with their disassembly, and host time inside devices. The
// report is what the translator will be aimed with: the hot blocks are what it compiles first.
// docs/profile.md explains how to read it.
#pragma once
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>
#include <unordered_map>

#include "frontend/cpu_profile.hpp"
#include "machine/bus/clock.hpp"
#include "machine/bus/phys_memory.hpp"
#include "machine/bus/port_bus.hpp"

namespace lift86 {

class Cpu;
struct Block;
struct MachineConfig;

class Profiler {
public:
    // Opens the report's destination ("stderr" or a file path, truncated now so that a path that
    // cannot be written is refused before the guest runs) and hooks the counters into the CPU,
    // the block cache, the buses and the clock. Throws std::runtime_error with a one-line message.
    Profiler(Cpu& cpu, PhysMemory& mem, PortBus& io, Clock& clock, const std::string& dest);
    ~Profiler();   // unhooks
    Profiler(const Profiler&) = delete;
    Profiler& operator=(const Profiler&) = delete;

    static uint64_t now() { return CpuProfile::host_ns(); }

    // The run starts (icount 0); a guest reset starts phase detection again. The first phase
    // follows from where the CPU starts: at the reset vector (firmware), at 0000:7C00 (a boot
    // sector, -bios none) or in protected mode (a kernel entered directly).
    void start();
    void on_reset();
    // Around a halt: the board waits (or jumps) to the next event; `virtual_ns` is how much
    // machine time the halt skipped.
    void halt_begin() { cpu_prof_.halt_begin(); }
    void halt_end(uint64_t virtual_ns) { cpu_prof_.halt_end(virtual_ns); }
    // Host time of one display refresh (Display::poll).
    void add_display(uint64_t ns) { display_calls_++, display_ns_ += ns; }

    // Writes the report: `cfg` says what ran, `exit_status` how it ended.
    void report(const MachineConfig& cfg, int exit_status);

    static constexpr unsigned kHotBlocks = 30;

    // One block's counts, kept past its death (SMC, flush); merged with any later block decoded
    // at the same place from the same bytes.
    struct BlockRecord {
        uint32_t phys = 0, lin = 0, eip = 0;
        uint16_t cs = 0;
        uint8_t code32 = 0, cpu_mode = 0;
        uint32_t ninsns = 0, bytes = 0;
        uint64_t execs = 0, retired = 0;
        unsigned decodes = 0;   // how many times this code was decoded (1 + drops, SMC churn)
        bool alive = false;
        std::vector<uint8_t> code;
    };

private:
    CpuProfile::Phase first_phase() const;
    static std::string key_of(const Block& b);
    static void add(BlockRecord& r, const Block& b);
    void fold(const Block& b);

    Cpu& cpu_;
    PhysMemory& mem_;
    PortBus& io_;
    Clock& clock_;
    std::FILE* out_ = nullptr;
    bool close_ = false;
    std::string dest_;
    CpuProfile cpu_prof_;
    std::unordered_map<const PortDevice*, PortBus::HandlerStats> ports_;
    std::unordered_map<const MmioDevice*, PhysMemory::HandlerStats> mmio_;
    std::unordered_map<std::string, BlockRecord> dead_;   // blocks that were dropped
    uint64_t display_calls_ = 0, display_ns_ = 0;
    uint64_t start_ns_ = 0;
    std::clock_t start_cpu_ = 0;   // std::clock() at the start
};

}  // namespace lift86
