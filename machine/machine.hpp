// The board: wires the CPU, memory, ports, clock and chips together according to a
// MachineConfig, loads the guest, and runs it (the CPU run loop and tier dispatch).
#pragma once
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>
#include <ctime>

#include "frontend/cpu.hpp"
#include "machine/bus/clock.hpp"
#include "machine/bus/phys_memory.hpp"
#include "machine/bus/port_bus.hpp"

namespace lift86 {

class Pic8259;

struct MachineConfig {
    uint32_t ram_mb = 128;
    std::string bios;                 // -bios
    std::string kernel, append, initrd;
    std::string hda;                  // -hda (without -bios: its boot sector is run directly)
    std::string debugcon = "none";    // -debugcon stdio|file:PATH|none
    std::string serial = "none";      // -serial stdio|file:PATH|none (COM1)
    std::string firmware_log;         // --firmware-log stderr|PATH: SeaBIOS's debug port 0x402
    bool debug_exit = false;          // -device isa-debug-exit
    uint16_t debug_exit_base = 0xF4, debug_exit_size = 4;
    std::string display = "none";
    std::string engine = "interp";
    std::set<std::string> trace;      // insn, int, io
    uint64_t max_insns = 0;           // 0: unlimited
    bool no_reboot = false;
    bool stats = false;               // --stats: instruction count and speed on stderr at exit
    Clock::Mode clock = Clock::Mode::Virtual;
};

// Exit statuses of lift86 (documented in README.md).
namespace exit_status {
constexpr int kOk = 0;           // the guest finished (halted for good, powered off)
constexpr int kUsage = 2;        // bad flags or input files
constexpr int kInsnLimit = 3;    // --max-insns reached
constexpr int kShutdown = 4;     // triple fault with -no-reboot
}

class Machine {
public:
    explicit Machine(const MachineConfig& cfg);
    ~Machine();

    // Runs until the guest ends; returns lift86's exit status.
    int run();
    void request_exit(int status);
    void request_reset();   // takes effect between instructions
    void reset();

    MachineConfig cfg;
    PhysMemory mem;
    PortBus io;
    Clock clock;
    Cpu cpu;

private:
    int run_loop();
    void load_guest();
    void wire_devices();
    void trace_insn(uint32_t eip, const Insn& insn);

    struct Devices;
    std::unique_ptr<Devices> dev_;
    std::optional<int> exit_;
    std::FILE* debugcon_out_ = nullptr;
    bool debugcon_close_ = false;
    std::FILE* serial_close_ = nullptr;
    std::FILE* fwlog_close_ = nullptr;
    bool reset_pending_ = false;
    uint64_t slice_start_icount_ = 0;
};

}  // namespace lift86
