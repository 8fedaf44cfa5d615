#include "machine/machine.hpp"

#include <Zydis/Zydis.h>
#include <fmt/format.h>

#include <chrono>
#include <cstring>
#include <filesystem>

#include "frontend/block_cache.hpp"
#include "devices/acpi_pm.hpp"
#include "devices/ata.hpp"
#include "devices/atapi.hpp"
#include "devices/cmos_rtc.hpp"
#include "devices/display/display.hpp"
#include "devices/fw_cfg.hpp"
#include "devices/i440fx.hpp"
#include "devices/pci_bus.hpp"
#include "devices/pci_vga.hpp"
#include "devices/png_writer.hpp"
#include "devices/vga.hpp"
#include "devices/debugcon.hpp"
#include "devices/i8042.hpp"
#include "devices/isa_debug_exit.hpp"
#include "devices/pic8259.hpp"
#include "devices/pit8254.hpp"
#include "devices/port61.hpp"
#include "devices/port92.hpp"
#include "devices/uart16550.hpp"
#include "machine/acpi_tables.hpp"
#include "machine/gdbstub/gdbstub.hpp"
#include "machine/loaders.hpp"
#include "machine/profile.hpp"
#include "machine/serial_backend.hpp"
#include "roms/roms.hpp"

namespace lift86 {

static constexpr const char* kDefaultBios = "/usr/share/seabios/bios.bin";   // Debian's seabios
static constexpr uint32_t kFirmwarelessAcpiBase = 0xE0000;   // reserved in the loaders' e820 maps

// QEMU's "pc" machine: the ISA chips of an IBM PC/AT (PIT -> IRQ0, keyboard IRQ1, COM2 IRQ3,
// COM1 IRQ4, RTC IRQ8, mouse IRQ12, FPU error IRQ13, IDE IRQ14/15) behind an i440FX/PIIX3
// PCI chipset, fw_cfg, and a standard VGA on PCI slot 2.
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
    PciBus pci;
    I440fx host;
    Piix3Isa isa;
    Piix3Ide ide;
    IdeChannel ide0, ide1;
    FwCfg fwcfg;
    AcpiPm acpi_pm;   // PIIX4-style PM1a/PM-timer block at 0x600 (QEMU's pc machine puts it there)
    Vga vga;
    std::unique_ptr<PciVga> pci_vga;
    std::unique_ptr<Display> display;

    Devices(PortBus& io, PhysMemory& mem, Clock& clock, std::time_t rtc_start)
        : pic(io), pit(io, clock), port61(io, clock, pit), rtc(io, clock, rtc_start), com1(io, clock, 0x3F8),
          com2(io, clock, 0x2F8), kbc(io), port92(io), debugcon(io), firmware_log(io, 0x402), pci(io),
          host(pci, mem), isa(pci), ide(pci, io), ide0(io, clock, 0x1F0, 0x3F6), ide1(io, clock, 0x170, 0x376),
          fwcfg(io, mem), acpi_pm(io, clock), vga(io, mem, clock) {}
};

Machine::Machine(const MachineConfig& c)
    : cfg(c), mem(c.ram_mb << 20), clock(c.clock, 1), cpu(mem, io),
      // Virtual clock: a fixed date so runs are reproducible; host clock: the real time.
      dev_(std::make_unique<Devices>(io, mem, clock, c.clock == Clock::Mode::Virtual ? std::time_t(1767225600) : std::time(nullptr))) {
    // First: a profile that cannot be written is refused before anything runs.
    if (!cfg.profile.empty()) profiler_ = std::make_unique<Profiler>(cpu, mem, io, clock, cfg.profile);
    wire_devices();
    load_guest();
    if (!cfg.gdb.empty()) {
        try {
            gdb::GdbStub::Hooks hooks;
            hooks.kill = [this] { request_exit(exit_status::kOk); };
            hooks.screendump = [this](const std::string& path) {
                std::string err;
                return dev_->display->screenshot(path, &err) ? std::string() : err;
            };
            hooks.stats = [this] {
                return fmt::format("machine clock: {} ns ({})\n", clock.now(),
                                   clock.mode() == Clock::Mode::Virtual ? "virtual" : "host");
            };
            gdb_ = std::make_unique<gdb::GdbStub>(cpu, gdb::parse_endpoint(cfg.gdb), std::move(hooks));
        } catch (const gdb::StubError& e) {
            throw LoadError(e.what());
        }
    }
}

Machine::~Machine() {
    std::fflush(stdout);
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
    d.pic.on_intr = [this](bool level) { cpu.intr_line = level; };   // tested by the CPU between blocks
    cpu.intr_line = d.pic.intr();
    cpu.intr_ack = [&d] { return d.pic.acknowledge(); };
    d.pit.irq0.connect([&d](bool l) { d.pic.set_irq(0, l); });
    d.kbc.irq_kbd.connect([&d](bool l) { d.pic.set_irq(1, l); });
    d.com2.irq.connect([&d](bool l) { d.pic.set_irq(3, l); });
    d.com1.irq.connect([&d](bool l) { d.pic.set_irq(4, l); });
    d.rtc.irq.connect([&d](bool l) { d.pic.set_irq(8, l); });
    d.kbc.irq_mouse.connect([&d](bool l) { d.pic.set_irq(12, l); });
    cpu.on_ferr = [&d] { d.pic.set_irq(13, true); d.pic.set_irq(13, false); };
    d.ide0.irq.connect([&d](bool l) { d.pic.set_irq(14, l); });
    d.ide1.irq.connect([&d](bool l) { d.pic.set_irq(15, l); });
    d.acpi_pm.sci.connect([&d](bool l) { d.pic.set_irq(9, l); });
    // The OS wrote the \_S5 sleep type: the machine is off, lift86's run is over.
    d.acpi_pm.on_power_off = [this] { request_exit(exit_status::kOk); };
    d.isa.on_isa_irq = [&d](int irq, bool l) { d.pic.set_irq(irq, l); };
    d.pci.on_reset = [this](bool) { request_reset(); };
    wire_pc();
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
    // -serial (once: COM1, twice: COM2 too). Output leaves at once; input is pumped into the
    // UART between slices (pump_serial), only as fast as its FIFO takes it.
    Uart16550* const coms[2] = {&d.com1, &d.com2};
    const std::string* const specs[2] = {&cfg.serial, &cfg.serial2};
    for (int k = 0; k < 2; k++) {
        try {
            serial_[k] = make_serial_backend(*specs[k], fmt::format("COM{}", k + 1));
        } catch (const SerialBackendError& e) {
            throw LoadError(e.what());
        }
        if (SerialBackend* b = serial_[k].get()) {
            coms[k]->on_transmit = [b](uint8_t byte) { b->write(byte); };
            b->on_quit = [this] { request_exit(exit_status::kOk); };   // Ctrl-A x
        }
    }
    // The clock advances between slices; within one, time moves with the instructions retired.
    clock.attach_insn_counter(&cpu.icount);
    cpu.time_ns = [this] { return clock.now(); };
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
    const bool trace_io = cfg.trace.count("io"), trace_post = cfg.trace.count("post");
    if (trace_io || trace_post) {
        io.trace = [this, trace_io, trace_post](bool write, uint16_t port, uint32_t v, unsigned size) {
            if (trace_io)
                fmt::print(stderr, "io   {} port {:04x} {:0{}x} at {:04x}:{:08x}\n", write ? "out" : "in ", port, v, size * 2,
                           cpu.seg[CS].sel, cpu.insn_eip);
            // POST codes: firmware writes its progress to port 0x80 (the PC's diagnostic port).
            if (trace_post && write && port == 0x80) fmt::print(stderr, "post {:02x}\n", v & 0xFF);
        };
    }
}

void Machine::wire_pc() {
    Devices& d = *dev_;
    // Drives: IDE index i sits on channel i/2 at position i%2 (QEMU's -hda..-hdd, -cdrom = 2).
    uint8_t translation = 0;
    for (const DriveSpec& spec : cfg.drives) {
        IdeChannel& chan = spec.channel() == 0 ? d.ide0 : d.ide1;
        try {
            if (spec.media == DriveSpec::Media::Cdrom) {
                chan.attach(unsigned(spec.position()),
                            std::make_unique<AtapiCdrom>(spec.file.empty() ? nullptr
                                                                            : std::make_unique<DiskImage>(spec.file, DiskImageOptions{.read_only = true})));
                continue;
            }
            auto img = std::make_unique<DiskImage>(spec.file, DiskImageOptions{.read_only = spec.read_only,
                                                                               .snapshot = spec.snapshot || cfg.snapshot});
            if (!img->notice().empty()) fmt::print(stderr, "lift86: warning: {}\n", img->notice());
            AtaGeometry g = guess_ata_geometry(*img);
            translation |= uint8_t(g.translation << (2 * spec.index));
            AtaDiskConfig dc;
            dc.serial = fmt::format("LIFT86-HD{}", spec.index);
            dc.geometry = g;
            if (spec.index < 2) {
                // The AT disk-type bytes QEMU's pc board fills for hd0/hd1 (type 47, user-defined).
                const uint8_t base = spec.index == 0 ? 0x1B : 0x24;
                d.rtc.set_byte(0x12, uint8_t(d.rtc.get_byte(0x12) | (spec.index == 0 ? 0xF0 : 0x0F)));
                d.rtc.set_byte(uint8_t(0x19 + spec.index), 47);
                const uint8_t bytes[9] = {uint8_t(g.cylinders), uint8_t(g.cylinders >> 8), uint8_t(g.heads), 0xFF, 0xFF,
                                          uint8_t(0xC0 | (g.heads > 8 ? 8 : 0)), uint8_t(g.cylinders), uint8_t(g.cylinders >> 8),
                                          uint8_t(g.sectors)};
                for (unsigned k = 0; k < 9; k++) d.rtc.set_byte(uint8_t(base + k), bytes[k]);
            }
            chan.attach(unsigned(spec.position()), std::make_unique<AtaDisk>(std::move(img), dc));
        } catch (const DiskImageError& e) {
            throw LoadError(e.what());
        }
    }
    d.rtc.set_byte(0x39, translation);

    // VGA: the VGA BIOS rides in the PCI function's expansion ROM, as on QEMU's -vga std.
    std::string err;
    if (!d.vga.load_option_rom(Vga::kDefaultRomPath, &err) && !cfg.bios.empty() && cfg.bios != "none")
        fmt::print(stderr, "lift86: warning: no VGA BIOS ({}); the screen stays blank until the OS sets a mode\n", err);
    d.pci_vga = std::make_unique<PciVga>(d.pci, d.vga);

    // fw_cfg: what QEMU's pc machine tells SeaBIOS.
    d.fwcfg.add_u64(FwCfg::kRamSize, mem.ram_size());
    d.fwcfg.set_cpus(1, 1);
    d.fwcfg.add_u32(FwCfg::kIrq0Override, 1);
    std::vector<uint8_t> e820(20, 0);   // {u64 addr, u64 len, u32 type}: all RAM is usable
    const uint64_t len = mem.ram_size();
    std::memcpy(e820.data() + 8, &len, 8);
    e820[16] = 1;
    d.fwcfg.add_file("etc/e820", e820);
    std::vector<uint8_t> wait(4, 0xFF);
    d.fwcfg.add_file("etc/boot-fail-wait", wait);
    // ACPI tables for the firmware to install (machine/acpi_tables.hpp); a firmware-less boot
    // gets the same tables placed in memory by load_guest.
    const AcpiTables acpi = acpi_tables();
    d.fwcfg.add_file(AcpiTables::kRsdpFile, acpi.rsdp());
    d.fwcfg.add_file(AcpiTables::kTablesFile, acpi.tables());
    d.fwcfg.add_file(AcpiTables::kLoaderFile, acpi.loader_script());

    // Display.
    d.display = make_display(cfg.display, &err);
    if (!d.display) throw LoadError(err);
    d.display->set_source([&d](Framebuffer& fb) { d.vga.render(fb); });
    d.display->on_key = [&d](uint16_t code, bool pressed) { d.kbc.key_event(code, pressed); };
    d.display->on_close = [this] { request_exit(exit_status::kOk); };
}

void Machine::load_guest() {
    bool firmware = false;   // a BIOS runs first (and installs the ACPI tables from fw_cfg)
    std::vector<uint8_t> image;   // the -kernel file
    if (!cfg.kernel.empty()) image = read_file(cfg.kernel, "kernel");
    if (!cfg.kernel.empty() && !cfg.direct_boot && cfg.bios != "none" && has_linux_header(image)) {
        // -kernel with a Linux kernel, as on QEMU: the firmware (SeaBIOS, or -bios FILE) boots,
        // and the option ROM it finds in fw_cfg loads the kernel from there (loaders.hpp).
        const std::string bios = cfg.bios.empty() ? std::string(kDefaultBios) : cfg.bios;
        if (cfg.bios.empty() && !std::filesystem::exists(bios))
            throw LoadError(fmt::format("no firmware for -kernel: {} is missing (apt-get install seabios); "
                                        "--direct-boot boots the kernel without firmware", bios));
        load_bios(mem, read_file(bios, "BIOS image"), bios);
        firmware = true;
        load_linux_fw_cfg(dev_->fwcfg, mem.ram_size(), image, cfg.kernel, cfg.append, cfg.initrd);
    } else if (!cfg.kernel.empty()) {
        // Firmware-less (--direct-boot, -bios none, multiboot kernels): lift86 loads the kernel
        // and enters it in protected mode itself. A -bios image is still mapped.
        if (!cfg.bios.empty() && cfg.bios != "none") {
            load_bios(mem, read_file(cfg.bios, "BIOS image"), cfg.bios);
            firmware = true;
        }
        if (is_linux_kernel(image)) {
            // The kernel's text console needs the VGA in text mode, which no firmware set up.
            if (!firmware) run_vga_bios();
            load_linux(cpu, mem, image, cfg.kernel, cfg.append, cfg.initrd);
        } else if (has_linux_header(image)) {
            throw LoadError(fmt::format("'{}': Linux boot protocol too old for a direct boot (a 2.04+ bzImage is needed)", cfg.kernel));
        } else {
            std::vector<MultibootModule> mods;
            if (!cfg.initrd.empty()) mods.push_back({cfg.initrd, cfg.initrd});
            load_multiboot(cpu, mem, image, cfg.kernel, cfg.append, mods);
        }
    } else if (cfg.bios == "none") {
        const DriveSpec& boot = cfg.drives.at(0);
        load_boot_sector(cpu, mem, read_file(boot.file, "disk image"), boot.file);
    } else {
        // Firmware: the given image, or Debian's SeaBIOS as QEMU's default.
        const std::string bios = cfg.bios.empty() ? std::string(kDefaultBios) : cfg.bios;
        if (cfg.bios.empty() && !std::filesystem::exists(bios))
            throw LoadError(fmt::format("no firmware: {} is missing (apt-get install seabios) and no -bios was given", bios));
        load_bios(mem, read_file(bios, "BIOS image"), bios);
        firmware = true;
    }
    // No firmware: the board puts the ACPI tables where an OS searches for the RSDP (the BIOS
    // area, 0xE0000-0xFFFFF; ACPI 6.5 5.2.5.1), as a BIOS would have.
    if (!firmware) acpi_tables().place(mem, kFirmwarelessAcpiBase);
}

const std::vector<uint8_t>& Machine::vga_option_rom() const { return dev_->vga.option_rom(); }

AcpiTables Machine::acpi_tables() const {
    AcpiBoard board;
    board.pm_base = dev_->acpi_pm.base();
    board.dsdt = dsdt_aml();
    return AcpiTables(board);
}

void Machine::reset() {
    // The RESET line reaches the chipset and the drives too: PAM back to ROM, BARs unmapped.
    Devices& d = *dev_;
    d.pci.reset();
    d.fwcfg.reset();
    d.acpi_pm.reset();
    d.ide0.reset();
    d.ide1.reset();
    d.vga.reset();
    cpu.reset();
    mem.set_a20(true);
    load_guest();
    if (profiler_) profiler_->on_reset();
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

std::string disassemble_insn(const uint8_t* bytes, unsigned len, bool code32, uint32_t eip, uint32_t* insn_len) {
    ZydisDisassembledInstruction d;
    const bool ok = ZYAN_SUCCESS(ZydisDisassembleIntel(code32 ? ZYDIS_MACHINE_MODE_LEGACY_32 : ZYDIS_MACHINE_MODE_LEGACY_16, eip,
                                                       bytes, len, &d));
    if (insn_len) *insn_len = ok ? d.info.length : 0;
    return ok ? d.text : "(bad)";
}

void Machine::trace_insn(uint32_t eip, const Insn& insn) {
    uint8_t bytes[16] = {};
    uint32_t lin = cpu.seg[CS].base + eip, phys;
    for (unsigned k = 0; k < insn.len; k++)
        bytes[k] = cpu.debug_translate(lin + k, phys) ? mem.read8(phys) : 0;
    fmt::print(stderr, "{:04x}:{:08x} {:<40} eax={:08x} ebx={:08x} ecx={:08x} edx={:08x} esp={:08x} fl={:08x}\n",
               cpu.seg[CS].sel, eip, disassemble_insn(bytes, insn.len, cpu.code32, eip), cpu.r[EAX], cpu.r[EBX], cpu.r[ECX], cpu.r[EDX], cpu.r[ESP],
               cpu.get_eflags());
}

int Machine::run() {
    const auto t0 = std::chrono::steady_clock::now();
    if (profiler_) profiler_->start();
    const int status = run_loop();
    if (profiler_) profiler_->report(cfg, status);   // every way out of the run ends here
    if (cfg.stats) {
        double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        fmt::print(stderr, "lift86: {} instructions in {:.3f} s ({:.1f} MIPS), {} blocks / {} instructions decoded\n",
                   cpu.icount, secs, secs > 0 ? cpu.icount / secs / 1e6 : 0.0, cpu.blocks->size(),
                   cpu.blocks->decoded_insns());
    }
    return status;
}

void Machine::pump_serial() {
    Uart16550* const coms[2] = {&dev_->com1, &dev_->com2};
    for (int k = 0; k < 2; k++)
        if (serial_[k]) serial_[k]->pump(*coms[k]);
}

bool Machine::serial_input_open() const {
    for (const auto& s : serial_)
        if (s && s->input_open()) return true;
    return false;
}

// The guest is halted with interrupts on and serial input may still arrive. Host clock: sleep in
// poll() until input comes or the next event is due. Virtual clock with no event pending: only
// input can wake the guest, so block on it (an idle shell costs no CPU); guest time stands still
// meanwhile. Never longer than kMaxWait, so that the display and gdb are still served.
void Machine::wait_serial_input() {
    constexpr uint64_t kMaxWait = 50'000'000;   // ns
    uint64_t wait = kMaxWait;
    if (clock.mode() == Clock::Mode::Host) {
        clock.advance_insns(0);   // host mode: now = the host's time
        if (clock.next_deadline() != Clock::kNever)
            wait = std::min(wait, clock.next_deadline() > clock.now() ? clock.next_deadline() - clock.now() : 0);
    }
    SerialBackend::wait_for_input({serial_[0].get(), serial_[1].get()}, wait);
    clock.advance_insns(0);
    clock.run_due();
    pump_serial();
}

int Machine::run_loop() {
    constexpr uint64_t kSlice = 20000;   // instructions between device/event checks at most
    // A TCP serial server waits for its client now, as QEMU does; a terminal goes raw after
    // all the waits (this one and -S), so that Ctrl-C still ends lift86 while it waits.
    for (auto& s : serial_)
        if (s && !dynamic_cast<StdioBackend*>(s.get())) s->start();
    if (gdb_) gdb_->start(cfg.gdb_wait);   // -S: gdb first
    for (auto& s : serial_)
        if (s && dynamic_cast<StdioBackend*>(s.get())) s->start();
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
        StopReason why = cpu.run(budget);
        clock.advance_insns(cpu.icount - before);
        clock.run_due();
        const uint64_t poll_t0 = profiler_ ? Profiler::now() : 0;
        dev_->display->poll();   // throttled inside: events and frames at host-time intervals
        if (profiler_) profiler_->add_display(Profiler::now() - poll_t0);
        pump_serial();
        if (gdb_) gdb_->after_slice(why);   // a debug stop or a due poll; blocks while gdb holds the guest
        if (why == StopReason::Shutdown) continue;   // on_triple_fault already asked for reset or exit
        if (why == StopReason::Halted && !exit_) {
            // An interrupt raised since the CPU stopped (serial input just pumped in, a key) is
            // taken now: time must not jump past it to the next event.
            if ((cpu.eflags & fl::IF) && cpu.intr_line) continue;
            // HLT: jump (or sleep) to the next event; with interrupts off and nothing that could
            // deliver an NMI, the guest can never wake up again — end the run. Serial input that
            // may still arrive is a wake source too.
            const bool serial_input = serial_input_open();
            bool can_wake = (cpu.eflags & fl::IF) && (clock.next_deadline() != Clock::kNever || serial_input);
            if (!can_wake && !(cpu.intr_line && (cpu.eflags & fl::IF))) {
                fmt::print(stderr, "lift86: guest halted at {:04x}:{:08x} with {}; ending the run\n", cpu.seg[CS].sel,
                           cpu.eip, (cpu.eflags & fl::IF) ? "nothing left that could wake it" : "interrupts disabled");
                request_exit(exit_status::kOk);
                break;
            }
            const uint64_t halt_v0 = clock.now();
            if (profiler_) profiler_->halt_begin();   // (until the event that wakes the guest has run)
            if (serial_input && (cpu.eflags & fl::IF) &&
                (clock.mode() == Clock::Mode::Host || clock.next_deadline() == Clock::kNever)) {
                wait_serial_input();
            } else {
                clock.skip_to_next_event();
                clock.run_due();
            }
            if (profiler_) profiler_->halt_end(clock.now() - halt_v0);
        }
    }
    if (debugcon_out_) std::fflush(debugcon_out_);
    for (auto& s : serial_)
        if (s) s->flush();
    if (!cfg.screenshot.empty()) {
        std::string err;
        if (!dev_->display->screenshot(cfg.screenshot, &err)) fmt::print(stderr, "lift86: {}\n", err);
    }
    if (!cfg.screen_text.empty()) {
        std::FILE* f = std::fopen(cfg.screen_text.c_str(), "wb");
        if (!f) {
            fmt::print(stderr, "lift86: cannot write screen text to '{}'\n", cfg.screen_text);
        } else {
            const std::string text = dev_->vga.text_screen();
            std::fwrite(text.data(), 1, text.size(), f);
            std::fclose(f);
        }
    }
    if (gdb_) gdb_->on_exit(exit_.value_or(exit_status::kOk));
    return exit_.value_or(exit_status::kOk);
}

}  // namespace lift86
