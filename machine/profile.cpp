#include "machine/profile.hpp"

#include <cxxabi.h>
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <map>
#include <vector>

#include "frontend/block_cache.hpp"
#include "frontend/cpu.hpp"
#include "machine/loaders.hpp"
#include "machine/machine.hpp"

namespace lift86 {

namespace {

using P = CpuProfile;

const char* const kModeNames[P::kNumModes] = {"real mode", "virtual-8086", "protected CPL0 16-bit",
                                              "protected CPL0 32-bit", "protected CPL1-2", "user (CPL3)"};
const char* const kPhaseNames[P::kNumPhases] = {"firmware", "boot loader", "kernel", "user space"};

double secs(uint64_t ns) { return double(ns) / 1e9; }
double pct(uint64_t part, uint64_t whole) { return whole ? 100.0 * double(part) / double(whole) : 0.0; }
std::string mips(uint64_t insns, uint64_t ns) { return ns ? fmt::format("{:.1f}", double(insns) * 1e3 / double(ns)) : "-"; }

// "lift86::Uart16550" for typeid(...).name()'s "N6lift869Uart16550E", without the namespace.
std::string type_name(const char* mangled) {
    if (!mangled) return "(no device)";
    int status = 0;
    char* d = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
    std::string s = status == 0 && d ? d : mangled;
    std::free(d);
    if (s.rfind("lift86::", 0) == 0) s = s.substr(8);
    return s;
}

std::string range(uint32_t lo, uint32_t hi, int digits) {
    if (lo > hi) return "-";
    return lo == hi ? fmt::format("{:#0{}x}", lo, digits + 2) : fmt::format("{:#0{}x}-{:#0{}x}", lo, digits + 2, hi, digits + 2);
}

}  // namespace

Profiler::Profiler(Cpu& cpu, PhysMemory& mem, PortBus& io, Clock& clock, const std::string& dest)
    : cpu_(cpu), mem_(mem), io_(io), clock_(clock), dest_(dest) {
    if (dest == "stderr") {
        out_ = stderr;
    } else {
        out_ = std::fopen(dest.c_str(), "w");
        if (!out_) throw LoadError(fmt::format("cannot write the profile to '{}': {}", dest, std::strerror(errno)));
        close_ = true;
    }
    cpu_.profile = &cpu_prof_;
    cpu_.blocks->keep_code = true;
    cpu_.blocks->on_drop = [this](const Block& b) { fold(b); };
    io_.profile = &ports_;
    mem_.mmio_profile = &mmio_;
    clock_.profiling = true;
}

Profiler::~Profiler() {
    cpu_.profile = nullptr;
    cpu_.blocks->keep_code = false;
    cpu_.blocks->on_drop = nullptr;
    io_.profile = nullptr;
    mem_.mmio_profile = nullptr;
    clock_.profiling = false;
    if (close_) std::fclose(out_);
}

CpuProfile::Phase Profiler::first_phase() const {
    if (cpu_.pe) return P::kKernel;
    return cpu_.seg[CS].base + cpu_.eip == 0x7C00 ? P::kBootLoader : P::kFirmware;
}

void Profiler::start() {
    start_ns_ = now();
    start_cpu_ = std::clock();
    const P::Phase phase = first_phase();
    cpu_prof_.start_phase = phase;
    cpu_prof_.start(start_ns_);
    cpu_prof_.mode = P::mode_of(cpu_.pe, cpu_.vm86, cpu_.cpl, cpu_.code32);
    cpu_prof_.entered[phase] = P::Entry{true, cpu_.icount, clock_.now(), start_ns_, cpu_.seg[CS].sel, cpu_.eip};
}

void Profiler::on_reset() {
    cpu_prof_.start_phase = first_phase();
    cpu_prof_.on_reset();
    P::Entry& e = cpu_prof_.entered[cpu_prof_.start_phase];
    if (!e.seen) e = P::Entry{true, cpu_.icount, clock_.now(), now(), cpu_.seg[CS].sel, cpu_.eip};
}

std::string Profiler::key_of(const Block& b) {
    std::string k(reinterpret_cast<const char*>(&b.phys), sizeof b.phys);
    k += char(b.mode);
    k.append(reinterpret_cast<const char*>(b.code.data()), b.code.size());
    return k;
}

void Profiler::add(BlockRecord& r, const Block& b) {
    if (r.decodes++ == 0) {
        r.phys = b.phys, r.lin = b.lin, r.eip = b.eip, r.cs = b.cs_sel;
        r.code32 = b.mode & 1, r.cpu_mode = b.cpu_mode;
        r.ninsns = uint32_t(b.insns.size());
        r.bytes = b.bytes;
        r.code = b.code;
    }
    r.execs += b.execs;
    r.retired += b.retired;
}

void Profiler::fold(const Block& b) {
    if (b.execs == 0 && b.retired == 0) return;
    add(dead_[key_of(b)], b);
}

void Profiler::report(const MachineConfig& cfg, int exit_status) {
    std::string guest;
    if (!cfg.kernel.empty()) guest = "-kernel " + cfg.kernel;
    for (const DriveSpec& d : cfg.drives) guest += (guest.empty() ? "" : " ") + d.file;
    if (!cfg.bios.empty()) guest += (guest.empty() ? "-bios " : " -bios ") + cfg.bios;
    cpu_prof_.finish();
    const uint64_t host_total = now() - start_ns_;
    const uint64_t icount = cpu_.icount;
    const P::Row total = cpu_prof_.total();
    uint64_t counted = 0, run_ns = 0;
    for (unsigned m = 0; m < P::kNumModes; m++) counted += total.insns[m], run_ns += total.run_ns[m];
    std::string o;
    auto line = [&o](const std::string& s) { o += s, o += '\n'; };

    std::string how = exit_status == exit_status::kOk          ? "the guest finished"
                      : exit_status == exit_status::kInsnLimit ? "--max-insns reached"
                      : exit_status == exit_status::kShutdown  ? "triple fault (-no-reboot)"
                      : (exit_status & 1)                      ? "isa-debug-exit"
                                                               : "error";
    line("lift86 profile (docs/profile.md explains how to read it)");
    line(fmt::format("guest: {}; clock: {}; exit status {} ({})", guest,
                     clock_.mode() == Clock::Mode::Virtual ? "virtual" : "host", exit_status, how));
    line("");
    line("== Totals ==");
    line(fmt::format("{:<24}{}", "instructions retired", icount));
    if (counted != icount) line(fmt::format("{:<24}{} (profiled; {} ran before profiling began)", "", counted, icount - counted));
    line(fmt::format("{:<24}{:.3f} s (CPU time of lift86: {:.3f} s; much less means the host was busy elsewhere)", "host time",
                     secs(host_total), double(std::clock() - start_cpu_) / CLOCKS_PER_SEC));
    line(fmt::format("{:<24}{} MIPS (host time running the guest: {})", "guest speed", mips(icount, host_total), mips(counted, run_ns)));
    line(fmt::format("{:<24}{:.9f} s", "virtual time", secs(clock_.now())));
    line(fmt::format("{:<24}{} halts, {:.3f} s host, {:.9f} s virtual", "halted (HLT)", total.halts, secs(total.halted_ns),
                     secs(total.halted_virtual_ns)));
    const BlockCache& bc = *cpu_.blocks;
    line(fmt::format("{:<24}{} ({} instructions); live {}; invalidated {}; cache flushes {}", "blocks decoded",
                     bc.decoded_blocks(), bc.decoded_insns(), bc.size(), bc.dropped_blocks(), bc.flushes()));
    if (cpu_prof_.resets) line(fmt::format("{:<24}{}", "guest resets", cpu_prof_.resets));

    // ---- boot phases
    line("");
    line("== Boot phases ==");
    line(fmt::format("{:<13} {:>12} {:<15} {:>12} {:>14} {:>7} {:>9} {:>7} {:>9} {:>12}  {}", "phase", "from icount", "at CS:EIP",
                     "virtual s", "instructions", "share", "host s", "MIPS", "halted s", "halted virt", "main mode"));
    for (unsigned ph = 0; ph < P::kNumPhases; ph++) {
        const P::Row& r = cpu_prof_.rows[ph];
        const P::Entry& e = cpu_prof_.entered[ph];
        uint64_t insns = 0, ns = 0;
        unsigned main = 0;
        for (unsigned m = 0; m < P::kNumModes; m++) {
            insns += r.insns[m], ns += r.run_ns[m];
            if (r.insns[m] > r.insns[main]) main = m;
        }
        if (!e.seen && !insns) {
            line(fmt::format("{:<13} {:>12}", kPhaseNames[ph], "-"));
            continue;
        }
        line(fmt::format("{:<13} {:>12} {:<15} {:>12.6f} {:>14} {:>6.2f}% {:>9.3f} {:>7} {:>9.3f} {:>12.6f}  {}", kPhaseNames[ph],
                         e.icount, fmt::format("{:04x}:{:08x}", e.cs, e.eip), secs(e.virtual_ns), insns, pct(insns, counted),
                         secs(ns), mips(insns, ns), secs(r.halted_ns), secs(r.halted_virtual_ns),
                         insns ? fmt::format("{} {:.1f}%", kModeNames[main], pct(r.insns[main], insns)) : std::string("-")));
    }
    const P::Entry& u = cpu_prof_.entered[P::kUserSpace];
    if (u.seen)
        line(fmt::format("first user instruction at icount {}, virtual time {:.9f} s, host time {:.3f} s ({:04x}:{:08x})", u.icount,
                         secs(u.virtual_ns), secs(u.host_ns - start_ns_), u.cs, u.eip));
    else
        line("no user-mode (CPL3) instruction ran");

    // ---- CPU modes
    line("");
    line("== CPU modes ==");
    line(fmt::format("{:<24}{:>14} {:>8} {:>10} {:>8}", "mode", "instructions", "share", "host s", "MIPS"));
    for (unsigned m = 0; m < P::kNumModes; m++)
        line(fmt::format("{:<24}{:>14} {:>7.2f}% {:>10.3f} {:>8}", kModeNames[m], total.insns[m], pct(total.insns[m], counted),
                         secs(total.run_ns[m]), mips(total.insns[m], total.run_ns[m])));
    line(fmt::format("{:<24}{:>14} {:>8} {:>10.3f}", "halted (HLT)", "-", "", secs(total.halted_ns)));
    line(fmt::format("{:<24}{:>14} {:>7.2f}% {:>10.3f} {:>8}", "total", counted, 100.0, secs(run_ns + total.halted_ns),
                     mips(counted, run_ns)));

    // ---- hottest blocks: the dead ones and the live ones, merged by place and bytes
    std::unordered_map<std::string, BlockRecord> all = dead_;
    bc.for_each_block([&all](const Block& b) {
        if (b.execs == 0 && b.retired == 0) return;
        BlockRecord& r = all[key_of(b)];
        add(r, b);
        r.alive = true;
    });
    std::vector<const BlockRecord*> hot;
    hot.reserve(all.size());
    uint64_t in_blocks = 0;
    for (const auto& [k, r] : all) hot.push_back(&r), in_blocks += r.retired;
    std::sort(hot.begin(), hot.end(), [](const BlockRecord* a, const BlockRecord* b) {
        return a->retired != b->retired ? a->retired > b->retired : a->phys < b->phys;
    });
    line("");
    line(fmt::format("== Hottest blocks (by instructions retired; top {} of {} blocks) ==", std::min<size_t>(kHotBlocks, hot.size()),
                     hot.size()));
    {
        // How many of the hottest blocks a translator must compile to cover a share of the run.
        std::string cover;
        const double goals[] = {0.5, 0.9, 0.99};
        uint64_t acc = 0;
        size_t k = 0, g = 0;
        for (; k < hot.size() && g < 3; k++) {
            acc += hot[k]->retired;
            while (g < 3 && double(acc) >= goals[g] * double(counted)) {
                cover += fmt::format("{}{:.0f}%: {} blocks", cover.empty() ? "" : ", ", goals[g] * 100, k + 1);
                g++;
            }
        }
        line(fmt::format("blocks needed to cover {}", cover.empty() ? "-" : cover));
        if (in_blocks != counted)
            line(fmt::format("({} instructions ran in block executions during which the block itself was dropped: not attributed)",
                             counted - in_blocks));
    }
    for (size_t k = 0; k < hot.size() && k < kHotBlocks; k++) {
        const BlockRecord& r = *hot[k];
        std::string extra;
        if (r.decodes > 1) extra += fmt::format(", decoded {} times", r.decodes);
        if (!r.alive) extra += ", dropped";
        line(fmt::format("#{:<3} {:>6.2f}% {:>12} insns  phys {:#010x}  {:04x}:{:08x} (linear {:#010x})  {}  {} insns x {} execs{}", k + 1,
                         pct(r.retired, counted), r.retired, r.phys, r.cs, r.eip, r.lin, kModeNames[r.cpu_mode % P::kNumModes],
                         r.ninsns, r.execs, extra));
        std::vector<uint8_t> code = r.code;
        if (code.empty())   // decoded before profiling began: read it back (it may have changed)
            for (uint32_t b = 0; b < r.bytes; b++) code.push_back(mem_.read8(r.phys + b));
        uint32_t off = 0;
        for (uint32_t n = 0; n < r.ninsns && off < code.size(); n++) {
            const size_t avail = std::min<size_t>(15, code.size() - off);
            uint32_t len = 0;
            const std::string text = disassemble_insn(code.data() + off, unsigned(avail), r.code32, r.eip + off, &len);
            if (!len) break;
            std::string hex;
            for (uint32_t b = 0; b < len; b++) hex += fmt::format("{:02x}", code[off + b]);
            line(fmt::format("      {:08x}  {:<20} {}", r.eip + off, hex, text));
            off += len;
        }
    }

    // ---- devices
    line("");
    line("== Time in devices (host time inside their handlers) ==");
    line(fmt::format("{:<8}{:<26}{:<24}{:>10} {:>10} {:>9} {:>7}", "kind", "device", "where", "calls", "host s", "ns/call", "share"));
    struct Row {
        std::string kind, name, where;
        uint64_t calls, ns;
    };
    std::vector<Row> rows;
    for (const auto& [d, st] : ports_) rows.push_back({"port", type_name(st.type), range(st.lo, st.hi, 2), st.calls, st.ns});
    for (const auto& [d, st] : mmio_) rows.push_back({"mmio", type_name(st.type), range(st.lo, st.hi, 8), st.calls, st.ns});
    std::map<std::string, std::pair<uint64_t, uint64_t>> events;   // by name: calls, ns
    for (const Clock::EventStats& e : clock_.event_stats()) {
        auto& [c, ns] = events[e.name];
        c += e.calls, ns += e.ns;
    }
    for (const auto& [name, v] : events)
        if (v.first) rows.push_back({"event", name, "timer", v.first, v.second});
    if (display_calls_) rows.push_back({"display", "refresh", "Display::poll", display_calls_, display_ns_});
    std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.ns > b.ns; });
    uint64_t dev_ns = 0, dev_calls = 0;
    for (const Row& r : rows) {
        dev_ns += r.ns, dev_calls += r.calls;
        line(fmt::format("{:<8}{:<26}{:<24}{:>10} {:>10.6f} {:>9.0f} {:>6.2f}%", r.kind, r.name, r.where, r.calls, secs(r.ns),
                         r.calls ? double(r.ns) / double(r.calls) : 0.0, pct(r.ns, host_total)));
    }
    line(fmt::format("{:<58}{:>10} {:>10.6f} {:>9} {:>6.2f}%", "total", dev_calls, secs(dev_ns), "", pct(dev_ns, host_total)));

    std::fwrite(o.data(), 1, o.size(), out_);
    std::fflush(out_);
}

}  // namespace lift86
