#include "machine/machine.hpp"

#include <Zydis/Zydis.h>
#include <fmt/format.h>

#include "machine/loaders.hpp"

namespace lift86 {

struct Machine::Devices {
};

Machine::Machine(const MachineConfig& c)
    : cfg(c), mem(c.ram_mb << 20), clock(c.clock, 1), cpu(mem, io), dev_(std::make_unique<Devices>()) {
    wire_devices();
    load_guest();
}

Machine::~Machine() {
    if (debugcon_out_) std::fflush(debugcon_out_);
    if (debugcon_close_) std::fclose(debugcon_out_);
}

void Machine::wire_devices() {
    if (cfg.debugcon == "stdio") {
        debugcon_out_ = stdout;
    } else if (cfg.debugcon.rfind("file:", 0) == 0) {
        std::string path = cfg.debugcon.substr(5);
        debugcon_out_ = std::fopen(path.c_str(), "wb");
        if (!debugcon_out_) throw LoadError(fmt::format("cannot open debug console file '{}'", path));
        debugcon_close_ = true;
    }
    cpu.time_ns = [this] { return clock.now(); };
    cpu.on_triple_fault = [this] {
        if (cfg.no_reboot) {
            fmt::print(stderr, "lift86: triple fault at {:04x}:{:08x}; ending (-no-reboot)\n", cpu.seg[CS].sel, cpu.eip);
            request_exit(exit_status::kShutdown);
        } else {
            reset();
        }
    };
    if (cfg.trace.count("insn")) cpu.trace_insn = [this](uint32_t eip, const Insn& i) { trace_insn(eip, i); };
}

void Machine::load_guest() {
    if (!cfg.bios.empty()) load_bios(mem, read_file(cfg.bios, "BIOS image"), cfg.bios);
    if (!cfg.kernel.empty()) {
        std::vector<MultibootModule> mods;
        if (!cfg.initrd.empty()) mods.push_back({cfg.initrd, cfg.initrd});
        load_multiboot(cpu, mem, read_file(cfg.kernel, "kernel"), cfg.kernel, cfg.append, mods);
    } else if (!cfg.hda.empty() && cfg.bios.empty()) {
        load_boot_sector(cpu, mem, read_file(cfg.hda, "disk image"), cfg.hda);
    } else if (cfg.bios.empty()) {
        throw LoadError("nothing to boot");
    }
}

void Machine::reset() {
    cpu.reset();
    mem.set_a20(true);
    load_guest();
}

void Machine::request_exit(int status) {
    if (!exit_) exit_ = status;
    cpu.stop = StopReason::Request;
    cpu.stop_block = true;
}

void Machine::trace_insn(uint32_t eip, const Insn& insn) {
    uint8_t bytes[16] = {};
    uint32_t lin = cpu.seg[CS].base + eip, phys;
    for (unsigned k = 0; k < insn.len; k++)
        bytes[k] = cpu.debug_translate(lin + k, phys) ? mem.read8(phys) : 0;
    ZydisDisassembledInstruction d;
    const bool ok = ZYAN_SUCCESS(ZydisDisassembleIntel(cpu.code32 ? ZYDIS_MACHINE_MODE_LEGACY_32 : ZYDIS_MACHINE_MODE_LEGACY_16,
                                                       eip, bytes, insn.len, &d));
    fmt::print(stderr, "{:04x}:{:08x} {:<40} eax={:08x} ebx={:08x} ecx={:08x} edx={:08x} esp={:08x} fl={:08x}\n",
               cpu.seg[CS].sel, eip, ok ? d.text : "(bad)", cpu.r[EAX], cpu.r[EBX], cpu.r[ECX], cpu.r[EDX], cpu.r[ESP],
               cpu.get_eflags());
}

int Machine::run() {
    constexpr uint64_t kSlice = 20000;   // instructions between device/event checks at most
    for (;;) {
        if (exit_) break;
        uint64_t budget = kSlice;
        if (clock.mode() == Clock::Mode::Virtual && clock.next_deadline() != Clock::kNever) {
            uint64_t until = clock.next_deadline() > clock.now() ? (clock.next_deadline() - clock.now()) / clock.ns_per_insn() : 0;
            budget = std::min<uint64_t>(budget, until + 1);
        }
        if (cfg.max_insns) {
            if (cpu.icount >= cfg.max_insns) {
                fmt::print(stderr, "lift86: stopped after {} instructions (--max-insns) at {:04x}:{:08x}\n", cpu.icount,
                           cpu.seg[CS].sel, cpu.eip);
                request_exit(exit_status::kInsnLimit);
                break;
            }
            budget = std::min(budget, cfg.max_insns - cpu.icount);
        }
        uint64_t before = cpu.icount;
        StopReason why = cpu.run(budget);
        clock.advance_insns(cpu.icount - before);
        clock.run_due();
        if (why == StopReason::Shutdown) {
            cpu.on_triple_fault();
            continue;
        }
        if (why == StopReason::Halted && !exit_) {
            // HLT: jump (or sleep) to the next event; with interrupts off and nothing that could
            // deliver an NMI, the guest can never wake up again — end the run.
            bool can_wake = (cpu.eflags & fl::IF) && clock.next_deadline() != Clock::kNever;
            if (!can_wake && !(cpu.intr_pending && cpu.intr_pending() && (cpu.eflags & fl::IF))) {
                fmt::print(stderr, "lift86: guest halted at {:04x}:{:08x} with {}; ending the run\n", cpu.seg[CS].sel,
                           cpu.eip, (cpu.eflags & fl::IF) ? "nothing left that could wake it" : "interrupts disabled");
                request_exit(exit_status::kOk);
                break;
            }
            clock.skip_to_next_event();
            clock.run_due();
        }
    }
    if (debugcon_out_) std::fflush(debugcon_out_);
    return exit_.value_or(exit_status::kOk);
}

}  // namespace lift86
