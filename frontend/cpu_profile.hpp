// The counters --profile needs from the CPU (machine/profile.cpp turns them into the report).
// They are kept per executed block, never per instruction, and only while a profile is taken:
// Cpu::profile is null otherwise and the run loop pays one pointer test per block.
#pragma once
#include <chrono>
#include <cstdint>

namespace lift86 {

struct CpuProfile {
    // The CPU modes the report splits time by (SDM vol.3 2.2: real, virtual-8086, protected).
    enum Mode : uint8_t { kReal, kV86, kPm16, kPm32, kRing12, kUser, kNumModes };
    // Boot phases, detected from the code the guest runs (docs/profile.md):
    //   firmware     from reset;
    //   boot loader  from the first real-mode block at linear 0x7C00 (the boot sector);
    //   kernel       from the first protected-mode (not V86) block at or above 1 MiB; tentative
    //                until user space starts: a return to real mode before that (SeaBIOS runs
    //                its relocated init code above 1 MiB, syslinux its modules) gives the
    //                instructions back to the phase before;
    //   user space   from the first CPL 3 instruction (not V86).
    // A guest started directly (-kernel) begins in the kernel phase, -bios none in the boot loader.
    enum Phase : uint8_t { kFirmware, kBootLoader, kKernel, kUserSpace, kNumPhases };

    static Mode mode_of(bool pe, bool vm86, unsigned cpl, bool code32) {
        if (!pe) return kReal;
        if (vm86) return kV86;
        if (cpl == 3) return kUser;
        if (cpl != 0) return kRing12;
        return code32 ? kPm32 : kPm16;
    }
    static uint64_t host_ns() {
        return uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::steady_clock::now().time_since_epoch()).count());
    }

    // Everything counted while the guest was in one phase.
    struct Row {
        uint64_t insns[kNumModes] = {};
        uint64_t run_ns[kNumModes] = {};   // host time while running (HLT excluded)
        uint64_t halted_ns = 0;            // host time in HLT (sleeping, in host-clock mode)
        uint64_t halted_virtual_ns = 0;    // machine time HLT skipped
        uint64_t halts = 0;
        Row& operator+=(const Row& o) {
            for (unsigned m = 0; m < kNumModes; m++) insns[m] += o.insns[m], run_ns[m] += o.run_ns[m];
            halted_ns += o.halted_ns, halted_virtual_ns += o.halted_virtual_ns, halts += o.halts;
            return *this;
        }
        Row& operator-=(const Row& o) {
            for (unsigned m = 0; m < kNumModes; m++) insns[m] -= o.insns[m], run_ns[m] -= o.run_ns[m];
            halted_ns -= o.halted_ns, halted_virtual_ns -= o.halted_virtual_ns, halts -= o.halts;
            return *this;
        }
    };
    // Where the guest first entered a phase.
    struct Entry {
        bool seen = false;
        uint64_t icount = 0, virtual_ns = 0, host_ns = 0;
        uint16_t cs = 0;
        uint32_t eip = 0;
    };

    Row rows[kNumPhases];
    Entry entered[kNumPhases];
    Phase phase = kFirmware;
    Phase start_phase = kFirmware;   // where a (re)boot begins: set by the board
    Mode mode = kReal;               // of the block that ran last
    uint64_t since = 0;              // host time the current (phase, mode) interval began
    uint64_t resets = 0;

    // A tentative kernel phase: what to give back if the guest returns to real mode.
    bool kernel_tentative = false;
    Phase before_kernel = kFirmware;
    Row kernel_snapshot;
    Entry kernel_entry_snapshot;

    // Filled by Cpu at the start of each block, used when it ends.
    uint64_t block_icount = 0;
    Mode block_mode = kReal;
    Phase pending = kNumPhases;      // a phase change decided at the block start (kNumPhases: none)
    Entry pending_entry;

    void start(uint64_t now) { since = now; phase = start_phase; }
    // Closes the running interval: its host time goes to the current phase and mode.
    void close_interval(uint64_t now) {
        rows[phase].run_ns[mode] += now - since;
        since = now;
    }
    // The board calls these around a halt (HLT waiting for the next event or input).
    void halt_begin() { close_interval(host_ns()); }
    void halt_end(uint64_t virtual_ns_skipped) {
        const uint64_t now = host_ns();
        rows[phase].halted_ns += now - since;
        rows[phase].halted_virtual_ns += virtual_ns_skipped;
        rows[phase].halts++;
        since = now;
    }
    // A guest reset: phase detection starts again (the counts stay).
    void on_reset() {
        close_interval(host_ns());
        phase = start_phase;
        kernel_tentative = false;
        pending = kNumPhases;
        resets++;
    }
    void finish() { close_interval(host_ns()); }

    Row total() const {
        Row t;
        for (const Row& r : rows) t += r;
        return t;
    }
};

}  // namespace lift86
