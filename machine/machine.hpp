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

#include "devices/drive_spec.hpp"
#include "frontend/cpu.hpp"
#include "machine/bus/clock.hpp"
#include "machine/bus/phys_memory.hpp"
#include "machine/bus/port_bus.hpp"

namespace lift86 {

class AcpiTables;
class Pic8259;
class Profiler;
class SerialBackend;
namespace gdb {
class GdbStub;
}

struct MachineConfig {
    uint32_t ram_mb = 128;
    std::string bios;                 // -bios FILE|none ("" = SeaBIOS when booting from a drive)
    std::string kernel, append, initrd;
    bool direct_boot = false;         // --direct-boot: a Linux -kernel entered without firmware (else SeaBIOS + option ROM)
    std::vector<DriveSpec> drives;    // -hda.. -cdrom -drive, indexes assigned
    bool snapshot = false;            // -snapshot: no drive file is ever written
    std::string screenshot;           // --screenshot FILE.png: the screen when the run ends
    std::string screen_text;          // --screen-text FILE: the VGA text screen as UTF-8 at the end
    std::string debugcon = "none";    // -debugcon stdio|file:PATH|none
    std::string serial = "none";      // -serial stdio|file:PATH|tcp:[HOST]:PORT,server[,nowait]|none (COM1)
    std::string serial2 = "none";     // a second -serial: COM2
    std::string firmware_log;         // --firmware-log stderr|PATH: SeaBIOS's debug port 0x402
    bool debug_exit = false;          // -device isa-debug-exit
    uint16_t debug_exit_base = 0xF4, debug_exit_size = 4;
    std::string display = "none";     // none | sdl
    std::string engine = "interp";
    std::set<std::string> trace;      // insn, int, io
    uint64_t max_insns = 0;           // 0: unlimited
    bool no_reboot = false;
    bool stats = false;               // --stats: instruction count and speed on stderr at exit
    std::string profile;              // --profile FILE|stderr: the run's profile at exit (machine/profile.hpp); "" = none
    Clock::Mode clock = Clock::Mode::Virtual;
    std::string gdb;                  // -gdb tcp::PORT|tcp:HOST:PORT, -s (tcp::1234): GDB stub; "" = none
    bool gdb_wait = false;            // -S: wait for gdb before the first instruction
};

// One instruction in Intel syntax (Zydis), for --trace insn and --profile. `len` is what is
// available at `bytes`; *insn_len (if given) gets the instruction's length, 0 when undecodable.
std::string disassemble_insn(const uint8_t* bytes, unsigned len, bool code32, uint32_t eip, uint32_t* insn_len = nullptr);

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
    void wire_pc();        // drives, VGA, display, fw_cfg: the parts of QEMU's pc machine
    AcpiTables acpi_tables() const;   // the board's ACPI description (machine/acpi_tables.hpp)
    // Firmware-less boots: runs the VGA BIOS's initialisation and sets text mode 3, as a BIOS
    // would (machine/vga_post.cpp). False when there is no VGA BIOS or it did not finish.
    bool run_vga_bios();
    const std::vector<uint8_t>& vga_option_rom() const;
    void trace_insn(uint32_t eip, const Insn& insn);
    void pump_serial();              // between slices: serial input into the UARTs, output out
    bool serial_input_open() const;  // a serial back-end could still deliver input (wakes a HLT)
    void wait_serial_input();        // halted: sleep in poll() on serial input until the next event

    struct Devices;
    std::unique_ptr<Devices> dev_;
    std::optional<int> exit_;
    std::FILE* debugcon_out_ = nullptr;
    bool debugcon_close_ = false;
    std::unique_ptr<SerialBackend> serial_[2];   // COM1, COM2 back-ends (machine/serial_backend); null: none
    std::FILE* fwlog_close_ = nullptr;
    bool reset_pending_ = false;
    std::unique_ptr<gdb::GdbStub> gdb_;   // machine/gdbstub/: polled between run slices
    std::unique_ptr<Profiler> profiler_;  // --profile (last: unhooks before the parts it counts go)
};

}  // namespace lift86
