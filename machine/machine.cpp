#include "machine/machine.hpp"

#include <Zydis/Zydis.h>
#include <fmt/format.h>

#include <chrono>

#include "frontend/block_cache.hpp"
#include "devices/cmos_rtc.hpp"
#include "devices/debugcon.hpp"
#include "devices/i8042.hpp"
#include "devices/isa_debug_exit.hpp"
#include "devices/pic8259.hpp"
#include "devices/pit8254.hpp"
#include "devices/port61.hpp"
#include "devices/port92.hpp"
#include "devices/uart16550.hpp"
#include "machine/loaders.hpp"

namespace lift86 {

// The ISA chips every PC has, wired as on an IBM PC/AT: PIT -> IRQ0, keyboard IRQ1, COM2 IRQ3,
// COM1 IRQ4, RTC IRQ8, mouse IRQ12, FPU error IRQ13.
struct Machine::Devices {
    Pic8259 pic;
    Pit8254 pit;
    Port61 port61;
    CmosRtc rtc;
    Uart16550 com1, com2;
    I8042 kbc;
    Port92 port92;
    DebugCon debugcon;
    DebugCon firmware_log;   // SeaBIOS writes its log to port 0x402 on QEMU-like machines
    std::unique_ptr<IsaDebugExit> debug_exit;

    Devices(PortBus& io, Clock& clock, std::time_t rtc_start)
        : pic(io), pit(io, clock), port61(io, clock, pit), rtc(io, clock, rtc_start), com1(io, clock, 0x3F8),
          com2(io, clock, 0x2F8), kbc(io), port92(io), debugcon(io),
          firmware_log(io, 0x402) {}
};

Machine::Machine(const MachineConfig& c)
    : cfg(c), mem(c.ram_mb << 20), clock(c.clock, 1), cpu(mem, io),
      // Virtual clock: a fixed date so runs are reproducible; host clock: the real time.
      dev_(std::make_unique<Devices>(io, clock, c.clock == Clock::Mode::Virtual ? std::time_t(1767225600) : std::time(nullptr))) {
    wire_devices();
    load_guest();
}

Machine::~Machine() {
    std::fflush(stdout);
    if (serial_close_) std::fclose(serial_close_);
    if (fwlog_close_) std::fclose(fwlog_close_);
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
    Devices& d = *dev_;
    d.pic.on_intr = [](bool) {};   // polled by the CPU between blocks
    cpu.intr_pending = [&d] { return d.pic.intr(); };
    cpu.intr_ack = [&d] { return d.pic.acknowledge(); };
    d.pit.irq0.connect([&d](bool l) { d.pic.set_irq(0, l); });
    d.kbc.irq_kbd.connect([&d](bool l) { d.pic.set_irq(1, l); });
    d.com2.irq.connect([&d](bool l) { d.pic.set_irq(3, l); });
    d.com1.irq.connect([&d](bool l) { d.pic.set_irq(4, l); });
    d.rtc.irq.connect([&d](bool l) { d.pic.set_irq(8, l); });
    d.kbc.irq_mouse.connect([&d](bool l) { d.pic.set_irq(12, l); });
    cpu.on_ferr = [&d] { d.pic.set_irq(13, true); d.pic.set_irq(13, false); };
    d.kbc.on_a20 = [this](bool on) { mem.set_a20(on); };
    d.port92.on_a20 = [this](bool on) { mem.set_a20(on); };
    d.kbc.on_reset = [this] { request_reset(); };
    d.port92.on_reset = [this] { request_reset(); };
    // CMOS memory size bytes (IBM PC/AT technical reference; what firmware reads).
    const uint32_t kb = mem.ram_size() / 1024;
    const uint32_t ext = kb > 1024 ? std::min<uint32_t>(kb - 1024, 0xFFFF) : 0;
    d.rtc.set_byte(0x15, 0x80); d.rtc.set_byte(0x16, 0x02);   // 640 KiB base memory
    d.rtc.set_byte(0x17, uint8_t(ext)); d.rtc.set_byte(0x18, uint8_t(ext >> 8));
    d.rtc.set_byte(0x30, uint8_t(ext)); d.rtc.set_byte(0x31, uint8_t(ext >> 8));
    const uint32_t above16 = mem.ram_size() > (16u << 20) ? std::min<uint32_t>((mem.ram_size() - (16u << 20)) >> 16, 0xFFFF) : 0;
    d.rtc.set_byte(0x34, uint8_t(above16)); d.rtc.set_byte(0x35, uint8_t(above16 >> 8));
    d.rtc.set_byte(0x14, 0x06);   // equipment: FPU present, VGA/EGA display
    d.rtc.set_byte(0x32, 0x20);   // century (BCD)

    if (debugcon_out_) {
        std::FILE* out = debugcon_out_;
        d.debugcon.on_output = [out](uint8_t b) {
            std::fputc(b, out);
            if (b == '\n') std::fflush(out);
        };
    }
    if (!cfg.firmware_log.empty()) {
        std::FILE* out = stderr;
        if (cfg.firmware_log != "stderr") {
            out = std::fopen(cfg.firmware_log.c_str(), "wb");
            if (!out) throw LoadError(fmt::format("cannot open firmware log file '{}'", cfg.firmware_log));
            fwlog_close_ = out;
        }
        d.firmware_log.on_output = [out](uint8_t b) {
            std::fputc(b, out);
            if (b == '\n') std::fflush(out);
        };
    }
    if (cfg.debug_exit) {
        d.debug_exit = std::make_unique<IsaDebugExit>(io, cfg.debug_exit_base, cfg.debug_exit_size);
        d.debug_exit->on_exit = [this](uint32_t status) { request_exit(int(status)); };
    }
    if (cfg.serial == "stdio" || cfg.serial.rfind("file:", 0) == 0) {
        std::FILE* out = stdout;
        if (cfg.serial != "stdio") {
            std::string path = cfg.serial.substr(5);
            out = std::fopen(path.c_str(), "wb");
            if (!out) throw LoadError(fmt::format("cannot open serial output file '{}'", path));
            serial_close_ = out;
        }
        d.com1.on_transmit = [out](uint8_t b) {
            std::fputc(b, out);
            if (b == '\n') std::fflush(out);
        };
    }
    // The clock advances between slices; within one, time moves with the instructions retired.
    cpu.time_ns = [this] { return clock.now() + (cpu.icount - slice_start_icount_) * clock.ns_per_insn(); };
    cpu.on_triple_fault = [this] {
        if (cfg.no_reboot) {
            fmt::print(stderr, "lift86: triple fault at {:04x}:{:08x}; ending (-no-reboot)\n", cpu.seg[CS].sel, cpu.eip);
            request_exit(exit_status::kShutdown);
        } else {
            request_reset();
        }
    };
    if (cfg.trace.count("insn")) cpu.trace_insn = [this](uint32_t eip, const Insn& i) { trace_insn(eip, i); };
    if (cfg.trace.count("int")) {
        cpu.trace_interrupt = [this](uint8_t v, int32_t err, bool sw, bool ext) {
            fmt::print(stderr, "int  {:02x} {} err={} at {:04x}:{:08x} icount={}\n", v, ext ? "external" : sw ? "software" : "exception",
                       err < 0 ? std::string("-") : fmt::format("{:04x}", err), cpu.seg[CS].sel, cpu.eip, cpu.icount);
        };
    }
    if (cfg.trace.count("io")) {
        io.trace = [this](bool write, uint16_t port, uint32_t v, unsigned size) {
            fmt::print(stderr, "io   {} port {:04x} {:0{}x} at {:04x}:{:08x}\n", write ? "out" : "in ", port, v, size * 2,
                       cpu.seg[CS].sel, cpu.insn_eip);
        };
    }
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

void Machine::request_reset() {
    if (cfg.no_reboot) {
        fmt::print(stderr, "lift86: the guest reset the machine; ending (-no-reboot)\n");
        request_exit(exit_status::kOk);
        return;
    }
    reset_pending_ = true;
    cpu.stop = StopReason::Request;
    cpu.stop_block = true;
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
    const auto t0 = std::chrono::steady_clock::now();
    const int status = run_loop();
    if (cfg.stats) {
        double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        fmt::print(stderr, "lift86: {} instructions in {:.3f} s ({:.1f} MIPS), {} blocks / {} instructions decoded\n",
                   cpu.icount, secs, secs > 0 ? cpu.icount / secs / 1e6 : 0.0, cpu.blocks->size(),
                   cpu.blocks->decoded_insns());
    }
    return status;
}

int Machine::run_loop() {
    constexpr uint64_t kSlice = 20000;   // instructions between device/event checks at most
    for (;;) {
        if (exit_) break;
        if (reset_pending_) {
            reset_pending_ = false;
            reset();
        }
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
        slice_start_icount_ = before;
        StopReason why = cpu.run(budget);
        clock.advance_insns(cpu.icount - before);
        clock.run_due();
        if (why == StopReason::Shutdown) continue;   // on_triple_fault already asked for reset or exit
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
