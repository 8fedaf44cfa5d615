#include "machine/cli.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <unistd.h>

#include "machine/gdbstub/gdbstub.hpp"
#include "machine/serial_backend.hpp"

namespace lift86 {

namespace {

// QEMU spells its long options with one dash (-bios, -kernel). CLI11 wants two, so single-dash
// spellings of our long options are rewritten before parsing; both spellings work.
const char* const kQemuStyle[] = {"bios", "kernel", "append", "initrd", "hda", "hdb", "hdc", "hdd", "drive",
                                   "debugcon", "device", "display",
                                   "nographic", "serial", "no-reboot", "snapshot", "cdrom", "gdb", "machine"};

std::vector<std::string> normalise(int argc, char** argv) {
    std::vector<std::string> out;
    for (int k = 1; k < argc; k++) {
        std::string a = argv[k];
        if (a.size() > 2 && a[0] == '-' && a[1] != '-') {
            std::string name = a.substr(1), value;
            if (auto eq = name.find('='); eq != std::string::npos) name = name.substr(0, eq);
            for (const char* q : kQemuStyle)
                if (name == q) a = "-" + a;
        }
        out.push_back(a);
    }
    return out;
}

uint32_t parse_mem(const std::string& s) {
    // -m 128, -m 128M, -m 1G (QEMU: a bare number means MiB).
    char* end = nullptr;
    unsigned long long v = std::strtoull(s.c_str(), &end, 10);
    std::string suffix = end ? end : "";
    if (end == s.c_str()) throw CliError(fmt::format("invalid memory size '{}'", s));
    if (suffix == "G" || suffix == "g") v *= 1024;
    else if (!(suffix.empty() || suffix == "M" || suffix == "m")) throw CliError(fmt::format("invalid memory size '{}'", s));
    if (v < 1 || v > 3072) throw CliError(fmt::format("memory size '{}' out of range (1 MiB to 3 GiB)", s));
    return uint32_t(v);
}

void parse_device(const std::string& spec, MachineConfig& cfg) {
    // -device isa-debug-exit[,iobase=N][,iosize=N]
    std::vector<std::string> parts;
    size_t start = 0;
    for (size_t p; (p = spec.find(',', start)) != std::string::npos; start = p + 1) parts.push_back(spec.substr(start, p - start));
    parts.push_back(spec.substr(start));
    if (parts[0] != "isa-debug-exit")
        throw CliError(fmt::format("unknown device '{}' (supported: isa-debug-exit)", parts[0]));
    cfg.debug_exit = true;
    for (size_t k = 1; k < parts.size(); k++) {
        auto eq = parts[k].find('=');
        std::string key = parts[k].substr(0, eq), val = eq == std::string::npos ? "" : parts[k].substr(eq + 1);
        char* end = nullptr;
        unsigned long n = std::strtoul(val.c_str(), &end, 0);
        if (val.empty() || *end || n > 0xFFFF) throw CliError(fmt::format("invalid value in '-device {}': '{}'", spec, parts[k]));
        if (key == "iobase") cfg.debug_exit_base = uint16_t(n);
        else if (key == "iosize") cfg.debug_exit_size = uint16_t(n ? n : 1);
        else throw CliError(fmt::format("unknown property '{}' of isa-debug-exit", key));
    }
}

// The folder of the lift86 binary: set-up puts the default guests beside it.
std::filesystem::path exe_dir() {
    std::error_code ec;
    auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    return ec ? std::filesystem::path() : exe.parent_path();
}

// What lift86 boots with no arguments: Debian's Linux with a busybox shell on the terminal when
// set-up has prepared it (build/linux-guest), else the compute demo (build/guests/default.elf).
bool use_default_guest(MachineConfig& cfg, const std::string& mem_flag, bool clock_given) {
    const std::filesystem::path dir = exe_dir();
    if (dir.empty()) return false;
    const auto linux_dir = dir / "linux-guest";
    if (std::filesystem::exists(linux_dir / "vmlinuz") && std::filesystem::exists(linux_dir / "initrd.gz")) {
        cfg.kernel = (linux_dir / "vmlinuz").string();
        cfg.initrd = (linux_dir / "initrd.gz").string();
        // The fast path: --direct-boot (no firmware; the kernel unpacked on the host, half the
        // instructions of the boot; the VGA BIOS still sets text mode). In a window the console
        // is the VGA screen and the keyboard; otherwise (-nographic, no screen) the serial port on
        // the terminal. `poweroff` ends lift86 (ACPI), `reboot` restarts the machine.
        const bool window = cfg.display == "sdl";
        cfg.append = std::string(window ? "console=tty0" : "console=ttyS0") + " isapnp=0 cryptomgr.notests quiet";
        if (mem_flag == "128") cfg.ram_mb = 256;
        if (!window && cfg.serial == "none") cfg.serial = "stdio";
        cfg.direct_boot = true;
        // An interactive guest runs on the host's clock (as QEMU does), unless --clock says
        // otherwise: guest time follows wall time, and an idle shell sleeps in HLT instead of
        // racing the virtual clock from one timer tick to the next at full speed (~6% of a core
        // idle instead of 100%).
        if (!clock_given) cfg.clock = Clock::Mode::Host;
        return true;
    }
    const auto demo = dir / "guests" / "default.elf";
    if (!std::filesystem::exists(demo)) return false;
    cfg.kernel = demo.string();
    if (cfg.debugcon == "none") cfg.debugcon = "stdio";
    cfg.debug_exit = true;
    return true;
}

}  // namespace

bool parse_cli(int argc, char** argv, MachineConfig& cfg) {
    CLI::App app{"lift86: a full-system x86 PC emulator with a dynamic binary translator", "lift86"};
    std::string mem = "128", device, trace, clock = "virtual";
    bool nographic = false, version = false;
    app.add_option("-m", mem, "guest RAM in MiB (suffix M or G accepted)")->capture_default_str();
    app.add_option("--bios", cfg.bios, "firmware image (64 KiB to 256 KiB) mapped below 4 GiB and 1 MiB; default with a drive: SeaBIOS; 'none': run the first disk's boot sector directly");
    app.add_option("--kernel", cfg.kernel, "Linux bzImage (booted by the firmware through lift86's option ROM, as QEMU does) or multiboot kernel (ELF32 or a.out kludge, entered directly)");
    app.add_flag("--direct-boot", cfg.direct_boot, "boot a Linux -kernel without firmware: lift86 unpacks it (xz/gzip) on the host and enters it in protected mode (faster; also with -bios none)");
    app.add_option("--append", cfg.append, "kernel command line");
    app.add_option("--initrd", cfg.initrd, "initial ramdisk (a multiboot module for multiboot kernels)");
    std::string hd[4], cdrom;
    std::vector<std::string> drive_specs;
    for (int k = 0; k < 4; k++)
        app.add_option(fmt::format("--hd{}", char('a' + k)), hd[k], fmt::format("IDE disk image at index {} (raw)", k));
    app.add_option("--cdrom", cdrom, "ISO image in an ATAPI CD-ROM drive (IDE index 2)");
    app.add_option("--drive", drive_specs, "file=FILE[,format=raw][,if=ide][,media=disk|cdrom][,index=N][,readonly=on][,snapshot=on]");
    app.add_flag("--snapshot", cfg.snapshot, "never write any disk image: guest writes stay in memory");
    app.add_option("--screenshot", cfg.screenshot, "write the screen as PNG when the run ends");
    app.add_option("--screen-text", cfg.screen_text, "write the VGA text screen (UTF-8) to a file when the run ends");
    app.add_option("--debugcon", cfg.debugcon, "debug console on port 0xE9: stdio, file:PATH or none")->capture_default_str();
    std::vector<std::string> serial_specs;   // given twice: COM1, then COM2
    app.add_option("--serial", serial_specs,
                   "COM1 back-end (a second -serial: COM2): stdio (a terminal goes raw: C-a x quits, C-a C-a "
                   "sends C-a, C-a h helps), file:PATH, tcp:[HOST]:PORT,server[,nowait] (HOST default "
                   "127.0.0.1) or none; default none")
        ->type_size(1)
        ->allow_extra_args(false)
        ->take_all();
    app.add_option("--firmware-log", cfg.firmware_log, "SeaBIOS's debug log (port 0x402) to stderr or a file");
    app.add_option("--device", device, "extra device: isa-debug-exit[,iobase=0xf4][,iosize=0x04]");
    cfg.display = "default";
    app.add_option("--display", cfg.display, "display: sdl (a window) or none; default: sdl when $DISPLAY is set");
    app.add_flag("--nographic", nographic, "no display; serial console on the terminal");
    app.add_flag("--no-reboot", cfg.no_reboot, "end lift86 instead of resetting the guest (exit status 4 on triple fault)");
    app.add_option("--engine", cfg.engine, "execution engine: interp")->capture_default_str();
    app.add_option("--trace", trace, "comma-separated trace points on stderr: insn, int, io, post (POST codes on port 0x80)");
    app.add_option("--max-insns", cfg.max_insns, "stop after N guest instructions (exit status 3)");
    app.add_option("--clock", clock, "machine clock: virtual (reproducible) or host (wall clock)")->capture_default_str();
    app.add_flag("--stats", cfg.stats, "print instructions retired, blocks decoded and guest MIPS at exit");
    app.add_option("--profile", cfg.profile,
                   "write a profile when the run ends to FILE (or 'stderr'): instructions and host time per CPU mode "
                   "and boot phase, the hottest blocks disassembled, time in devices (docs/profile.md)")
        ->type_name("FILE|stderr");
    app.add_flag("--version", version, "print the version and exit");
    bool gdb_default = false;
    app.add_option("--gdb", cfg.gdb, "GDB stub on tcp::PORT or tcp:HOST:PORT (only 127.0.0.1 unless HOST is given)");
    app.add_flag("-s", gdb_default, "GDB stub on tcp::1234 (shorthand for -gdb tcp::1234)");
    app.add_flag("-S", cfg.gdb_wait, "stop before the first instruction until gdb continues (implies -s without -gdb)");

    std::vector<std::string> args = normalise(argc, argv);
    std::reverse(args.begin(), args.end());   // CLI11 takes a reversed vector
    try {
        app.parse(args);
    } catch (const CLI::CallForHelp&) {
        std::cout << app.help();
        return false;
    } catch (const CLI::ParseError& e) {
        throw CliError(e.what());
    }
    if (version) {
        std::cout << "lift86 0.1\n";
        return false;
    }
    cfg.ram_mb = parse_mem(mem);
    if ((gdb_default || cfg.gdb_wait) && cfg.gdb.empty()) cfg.gdb = "tcp::1234";
    if (!cfg.gdb.empty()) {
        try {
            gdb::parse_endpoint(cfg.gdb);
        } catch (const gdb::StubError& e) {
            throw CliError(e.what());
        }
    }
    if (!device.empty()) parse_device(device, cfg);
    if (nographic) {
        cfg.display = "none";
        if (serial_specs.empty()) serial_specs.push_back("stdio");   // as QEMU: the serial console on the terminal
    }
    if (serial_specs.size() > 2) throw CliError("too many -serial (the PC has two serial ports here: COM1, COM2)");
    if (!serial_specs.empty()) cfg.serial = serial_specs[0];
    if (serial_specs.size() > 1) cfg.serial2 = serial_specs[1];
    try {
        if (parse_serial_spec(cfg.serial).kind == SerialSpec::Kind::Stdio &&
            parse_serial_spec(cfg.serial2).kind == SerialSpec::Kind::Stdio)
            throw CliError("-serial stdio can be used only once");
    } catch (const SerialBackendError& e) {
        throw CliError(e.what());
    }
    if (cfg.display != "none" && cfg.display != "sdl" && cfg.display != "default")
        throw CliError(fmt::format("unknown display '{}' (sdl or none)", cfg.display));
    if (cfg.engine != "interp") throw CliError(fmt::format("unknown engine '{}' (available: interp)", cfg.engine));
    if (clock == "virtual") cfg.clock = Clock::Mode::Virtual;
    else if (clock == "host") cfg.clock = Clock::Mode::Host;
    else throw CliError(fmt::format("unknown clock '{}' (virtual or host)", clock));
    for (size_t start = 0; !trace.empty() && start <= trace.size();) {
        size_t p = trace.find(',', start);
        std::string t = trace.substr(start, p == std::string::npos ? std::string::npos : p - start);
        if (t != "insn" && t != "int" && t != "io" && t != "post")
            throw CliError(fmt::format("unknown trace point '{}' (insn, int, io, post)", t));
        cfg.trace.insert(t);
        if (p == std::string::npos) break;
        start = p + 1;
    }
    if (cfg.debugcon != "stdio" && cfg.debugcon != "none" && cfg.debugcon.rfind("file:", 0) != 0)
        throw CliError(fmt::format("invalid -debugcon '{}' (stdio, file:PATH or none)", cfg.debugcon));
    try {
        for (int k = 0; k < 4; k++)
            if (!hd[k].empty()) cfg.drives.push_back(legacy_drive(fmt::format("hd{}", char('a' + k)), hd[k]));
        if (!cdrom.empty()) cfg.drives.push_back(legacy_drive("cdrom", cdrom));
        for (const std::string& d : drive_specs) cfg.drives.push_back(parse_drive_spec(d));
        assign_drive_indexes(cfg.drives);
    } catch (const DriveSpecError& e) {
        throw CliError(e.what());
    }
    if (cfg.display == "default") {
        // As QEMU: a window when there is a screen to put it on.
        const bool screen = std::getenv("DISPLAY") || std::getenv("WAYLAND_DISPLAY");
        cfg.display = screen && !nographic ? "sdl" : "none";
    }
    if (cfg.bios == "none" && cfg.kernel.empty() &&
        (cfg.drives.empty() || cfg.drives[0].index != 0 || cfg.drives[0].media != DriveSpec::Media::Disk))
        throw CliError("-bios none runs the boot sector of the first hard disk: give -hda (or -kernel)");
    if (cfg.direct_boot && cfg.kernel.empty()) throw CliError("--direct-boot boots a -kernel: give -kernel");
    if (cfg.bios.empty() && cfg.kernel.empty() && cfg.drives.empty()) {
        if (!use_default_guest(cfg, mem, app.count("--clock") > 0))
            throw CliError("no guest given (-kernel, -bios, -hda or -cdrom) and no default guest next to the lift86 binary; run the README's set-up command");
    }
    return true;
}

}  // namespace lift86
