// gdb commands on the guest CPU: see session.hpp. Packet reference: GDB manual appendix E.
#include "machine/gdbstub/session.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "frontend/cpu.hpp"
#include "machine/gdbstub/packet.hpp"
#include "machine/gdbstub/registers.hpp"

namespace lift86::gdb {

namespace {

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// "addr,len" (both hex), as in m/M/X/Z packets.
bool parse_addr_len(std::string_view s, uint64_t& addr, uint64_t& len) {
    auto comma = s.find(',');
    if (comma == std::string_view::npos) return false;
    auto a = parse_hex(s.substr(0, comma)), l = parse_hex(s.substr(comma + 1));
    if (!a || !l) return false;
    addr = *a, len = *l;
    return true;
}

// Memory errors are reported as E14 (EFAULT), as gdbserver and QEMU do.
const char* const kFault = "E14";
const char* const kBadArgs = "E16";

}  // namespace

size_t debug_read(Cpu& cpu, uint32_t lin, uint8_t* out, size_t n) {
    size_t done = 0;
    while (done < n) {
        const uint32_t l = uint32_t(lin + done);
        uint32_t phys;
        if (!cpu.debug_translate(l, phys)) break;
        const size_t chunk = std::min<size_t>(n - done, kPageSize - (l & kPageMask));
        for (size_t k = 0; k < chunk; k++) out[done + k] = cpu.mem.read8(phys + uint32_t(k));
        done += chunk;
        if (uint64_t(lin) + done > 0xFFFFFFFFull) break;   // no wrap past 4 GiB
    }
    return done;
}

size_t debug_write(Cpu& cpu, uint32_t lin, const uint8_t* in, size_t n) {
    size_t done = 0;
    while (done < n) {
        const uint32_t l = uint32_t(lin + done);
        uint32_t phys;
        if (!cpu.debug_translate(l, phys)) break;
        const size_t chunk = std::min<size_t>(n - done, kPageSize - (l & kPageMask));
        for (size_t k = 0; k < chunk; k++) {
            const uint32_t p = phys + uint32_t(k);
            if (cpu.mem.page(p).kind == PhysMemory::kRom) {
                // A debugger may patch firmware (QEMU allows it too); decoded blocks must follow.
                cpu.mem.write_block(p, &in[done + k], 1, true);
                if (cpu.mem.is_code(p) && cpu.mem.on_code_write) cpu.mem.on_code_write(p & cpu.mem.a20_mask(), 1);
            } else {
                cpu.mem.write8(p, in[done + k]);   // RAM (code pages drop their blocks), MMIO
            }
        }
        done += chunk;
        if (uint64_t(lin) + done > 0xFFFFFFFFull) break;
    }
    return done;
}

Session::Session(Cpu& cpu, Hooks hooks) : cpu_(cpu), hooks_(std::move(hooks)) {}

uint32_t Session::pc_linear() const { return cpu_.seg[CS].base + cpu_.eip; }

std::string Session::stop_reply(int signal, const DebugHit& hit) {
    std::string r = fmt::format("T{:02x}thread:1;", signal);
    // gdb's PC is EIP. A breakpoint is at a linear address, which is EIP only when CS.base is 0;
    // otherwise (real mode with CS != 0) gdb would not find its breakpoint at the PC and would
    // silently resume: a plain SIGTRAP makes it stop and say so.
    const bool bp_at_pc = hit.addr == cpu_.eip;
    switch (hit.kind) {
    case DebugHit::SwBreak: r += bp_at_pc ? "swbreak:;" : ""; break;
    case DebugHit::HwBreak: r += bp_at_pc ? "hwbreak:;" : ""; break;
    case DebugHit::Watch: r += fmt::format("watch:{:x};", hit.addr); break;
    case DebugHit::RWatch: r += fmt::format("rwatch:{:x};", hit.addr); break;
    case DebugHit::AWatch: r += fmt::format("awatch:{:x};", hit.addr); break;
    case DebugHit::Step:
    case DebugHit::None: break;
    }
    // Expedited registers (esp, ebp, eip) save gdb a `g` round trip at every stop.
    for (unsigned n : {4u, 5u, 8u}) r += fmt::format("{:02x}:{};", n, to_hex(read_reg(cpu_, n)));
    last_stop_ = r;
    return r;
}

Session::Result Session::resume(DebugPoints::Mode mode, uint32_t range_start, uint32_t range_end) {
    cpu_.debug.resume(mode, pc_linear(), range_start, range_end);
    return {std::nullopt, Action::Resume};
}

Session::Result Session::handle(std::string_view p) {
    if (p.empty()) return {""};
    const std::string_view args = p.substr(1);
    switch (p[0]) {
    case '?': return {last_stop_};
    case 'g': return {to_hex(read_all(cpu_))};
    case 'G': {
        auto bytes = from_hex(args);
        if (!bytes) return {kBadArgs};
        return {write_all(cpu_, *bytes) ? "OK" : "E01"};
    }
    case 'p': {
        auto n = parse_hex(args);
        if (!n || *n >= num_regs()) return {"E01"};
        return {to_hex(read_reg(cpu_, unsigned(*n)))};
    }
    case 'P': {
        auto eq = args.find('=');
        if (eq == std::string_view::npos) return {kBadArgs};
        auto n = parse_hex(args.substr(0, eq));
        auto bytes = from_hex(args.substr(eq + 1));
        if (!n || !bytes || *n >= num_regs()) return {kBadArgs};
        return {write_reg(cpu_, unsigned(*n), *bytes) ? "OK" : "E01"};
    }
    case 'm': return {read_memory(args)};
    case 'M': return {write_memory(args, false)};
    case 'X': return {write_memory(args, true)};
    case 'c':
    case 's':
    case 'C':
    case 'S': {
        // c [addr], s [addr], C sig[;addr], S sig[;addr]: the signal is meaningless for a CPU.
        std::string_view a = args;
        if (p[0] == 'C' || p[0] == 'S') {
            auto semi = a.find(';');
            a = semi == std::string_view::npos ? std::string_view() : a.substr(semi + 1);
        }
        if (!a.empty()) {
            auto addr = parse_hex(a);
            if (!addr) return {kBadArgs};
            cpu_.eip = uint32_t(*addr);
        }
        return resume(p[0] == 'c' || p[0] == 'C' ? DebugPoints::Mode::Continue : DebugPoints::Mode::Step);
    }
    case 'v':
        if (starts_with(p, "vCont?")) return {"vCont;c;C;s;S;r"};
        if (starts_with(p, "vCont;")) return handle_vcont(p.substr(6));
        if (starts_with(p, "vKill")) return {"OK", Action::Kill};
        if (starts_with(p, "vCtrlC")) return {"OK"};   // the guest is already stopped
        return {""};                                   // vMustReplyEmpty and all we lack
    case 'q': return handle_query(p);
    case 'H':   // Hg / Hc: there is one thread, whichever is named
    case 'T':   // thread alive
        return {"OK"};
    case 'Z': return handle_point(args, true);
    case 'z': return handle_point(args, false);
    case 'D': return {"OK", Action::Detach};
    case 'k': return {std::nullopt, Action::Kill};
    default: return {""};   // unsupported: the empty reply (GDB manual E.1)
    }
}

Session::Result Session::handle_vcont(std::string_view list) {
    // vCont;action[:thread];action[:thread]... The first action naming our thread (1), all
    // threads (-1), any thread (0) or none applies.
    while (!list.empty()) {
        auto semi = list.find(';');
        std::string_view item = list.substr(0, semi);
        list = semi == std::string_view::npos ? std::string_view() : list.substr(semi + 1);
        std::string_view action = item, thread;
        if (auto colon = item.find(':'); colon != std::string_view::npos) {
            action = item.substr(0, colon);
            thread = item.substr(colon + 1);
        }
        if (!thread.empty() && thread != "-1" && thread != "0" && thread != "1" && thread != "01" &&
            thread != "p1.1" && thread != "p1.-1")
            continue;
        if (action.empty()) return {kBadArgs};
        switch (action[0]) {
        case 'c':
        case 'C': return resume(DebugPoints::Mode::Continue);
        case 's':
        case 'S': return resume(DebugPoints::Mode::Step);
        case 'r': {
            uint64_t start, end;
            if (!parse_addr_len(action.substr(1), start, end)) return {kBadArgs};
            // gdb's range is in PC terms; the CPU's in linear terms: add CS.base as the PC has.
            const uint32_t base = cpu_.seg[CS].base;
            return resume(DebugPoints::Mode::Range, uint32_t(start) + base, uint32_t(end) + base);
        }
        case 't': return {"OK"};   // stop: it already is
        default: return {kBadArgs};
        }
    }
    return {kBadArgs};
}

Session::Result Session::handle_point(std::string_view a, bool insert) {
    // type,addr,kind[;cond...]: conditions and commands are not advertised, so ignored.
    if (a.size() < 2 || a[1] != ',') return {kBadArgs};
    const char type = a[0];
    std::string_view rest = a.substr(2);
    rest = rest.substr(0, rest.find(';'));
    uint64_t addr, len;
    if (!parse_addr_len(rest, addr, len) || addr > 0xFFFFFFFFull) return {kBadArgs};
    DebugPoints& d = cpu_.debug;
    const uint32_t lin = uint32_t(addr);
    switch (type) {
    case '0':
    case '1': {
        const BreakKind k = type == '0' ? BreakKind::Software : BreakKind::Hardware;
        if (insert) d.insert_breakpoint(k, lin);
        else d.remove_breakpoint(k, lin);
        return {"OK"};
    }
    case '2':
    case '3':
    case '4': {
        const WatchKind k = type == '2' ? WatchKind::Write : type == '3' ? WatchKind::Read : WatchKind::Access;
        if (len == 0 || len > 0xFFFFFFFFull) return {kBadArgs};
        if (!insert) {
            d.remove_watchpoint(k, lin, uint32_t(len));
            return {"OK"};
        }
        return {d.insert_watchpoint(k, lin, uint32_t(len)) ? "OK" : kBadArgs};
    }
    default: return {""};
    }
}

std::string Session::read_memory(std::string_view args) {
    uint64_t addr, len;
    if (!parse_addr_len(args, addr, len)) return kBadArgs;
    if (len == 0) return "";
    if (addr > 0xFFFFFFFFull) return kFault;
    len = std::min<uint64_t>(len, kMaxPacket / 2);   // what fits in a reply
    std::vector<uint8_t> buf(len);
    const size_t got = debug_read(cpu_, uint32_t(addr), buf.data(), buf.size());
    if (got == 0) return kFault;   // a shorter reply tells gdb where readable memory ends
    return to_hex(buf.data(), got);
}

std::string Session::write_memory(std::string_view args, bool binary) {
    auto colon = args.find(':');
    if (colon == std::string_view::npos) return kBadArgs;
    uint64_t addr, len;
    if (!parse_addr_len(args.substr(0, colon), addr, len)) return kBadArgs;
    std::optional<std::string> data =
        binary ? unescape_binary(args.substr(colon + 1)) : from_hex(args.substr(colon + 1));
    if (!data || data->size() != len) return kBadArgs;
    if (len == 0) return "OK";   // gdb probes X support with an empty write
    if (addr > 0xFFFFFFFFull) return kFault;
    const size_t done = debug_write(cpu_, uint32_t(addr), reinterpret_cast<const uint8_t*>(data->data()), data->size());
    return done == len ? "OK" : kFault;
}

Session::Result Session::handle_query(std::string_view p) {
    if (starts_with(p, "qSupported"))
        return {fmt::format("PacketSize={:x};qXfer:features:read+;swbreak+;hwbreak+;vContSupported+", kMaxPacket)};
    if (starts_with(p, "qXfer:features:read:")) {
        std::string_view rest = p.substr(20);
        auto colon = rest.find(':');
        if (colon == std::string_view::npos) return {kBadArgs};
        if (rest.substr(0, colon) != "target.xml") return {"E00"};
        uint64_t off, len;
        if (!parse_addr_len(rest.substr(colon + 1), off, len)) return {kBadArgs};
        // Fixed at the first read of the description (gdb reads it in pieces at connect time).
        if (off == 0) xml_i8086_ = !cpu_.code32;
        const std::string& xml = target_xml(xml_i8086_);
        if (off >= xml.size()) return {"l"};
        len = std::min<uint64_t>(len, kMaxPacket / 2);
        std::string chunk = xml.substr(size_t(off), size_t(len));
        return {(off + chunk.size() < xml.size() ? "m" : "l") + chunk};
    }
    if (p == "qAttached" || starts_with(p, "qAttached:")) return {"1"};   // detach, not kill, on quit
    if (p == "qC") return {"QC1"};
    if (p == "qfThreadInfo") return {"m1"};
    if (p == "qsThreadInfo") return {"l"};
    if (starts_with(p, "qThreadExtraInfo,")) {
        std::string s = cpu_.halted ? "CPU 0 (halted)" : "CPU 0";
        return {to_hex(s)};
    }
    if (starts_with(p, "qRcmd,")) {
        auto cmd = from_hex(p.substr(6));
        if (!cmd) return {kBadArgs};
        std::string out = monitor(*cmd);
        return {out.empty() ? "OK" : to_hex(out)};
    }
    if (starts_with(p, "qSymbol")) return {"OK"};
    return {""};   // qOffsets, qTStatus, qTfV...: unsupported
}

}  // namespace lift86::gdb
