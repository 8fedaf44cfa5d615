// `monitor` commands (gdb's qRcmd): the machine state gdb's register view cannot show.
#include <fmt/format.h>

#include <algorithm>
#include <sstream>
#include <vector>

#include "frontend/block_cache.hpp"
#include "frontend/cpu.hpp"
#include "machine/gdbstub/packet.hpp"
#include "machine/gdbstub/session.hpp"

namespace lift86::gdb {

namespace {

const char kHelp[] =
    "lift86 monitor commands:\n"
    "  regs            all CPU registers with the hidden segment state (base, limit, attributes),\n"
    "                  descriptor tables, control and debug registers, mode\n"
    "  walk ADDR       the page-table walk of linear address ADDR\n"
    "  tlb             the valid softmmu TLB entries (linear page -> physical page)\n"
    "  xp ADDR [LEN]   hex dump of LEN (default 64, at most 4096) bytes of physical memory\n"
    "  stats           instructions retired, blocks and instructions decoded\n"
    "  screendump FILE write the screen as PNG now (QEMU's screendump)\n"
    "  help            this text\n"
    "Numbers are hex with or without 0x.\n";

std::optional<uint64_t> parse_num(std::string_view s) {
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s.remove_prefix(2);
    return parse_hex(s);
}

std::string seg_desc(const Segment& s) {
    // Segment::attr: type(0-3) S(4) DPL(5-6) P(7) AVL(12) L(13) D/B(14) G(15) (SDM vol.3 3.4.5)
    const uint32_t a = s.attr;
    std::string kind;
    if (s.null) {
        kind = "null";
    } else if (!(a & attr::S)) {
        static const char* const kSys[16] = {"reserved", "tss16", "ldt", "tss16-busy", "callgate16", "taskgate",
                                             "intgate16", "trapgate16", "reserved", "tss32", "reserved",
                                             "tss32-busy", "callgate32", "reserved", "intgate32", "trapgate32"};
        kind = kSys[a & 15];
    } else if (a & attr::CODE) {
        kind = fmt::format("code{}{}{}", (a & attr::DB) ? "32" : "16", (a & attr::RW) ? " r" : "",
                           (a & attr::DC) ? " conforming" : "");
    } else {
        kind = fmt::format("data{}{}{}", (a & attr::DB) ? "32" : "16", (a & attr::RW) ? " rw" : " ro",
                           (a & attr::DC) ? " expand-down" : "");
    }
    return fmt::format("sel={:04x} base={:08x} limit={:08x} attr={:04x} dpl={}{}{} {}", s.sel, s.base, s.limit, a,
                       attr::dpl(a), (a & attr::P) ? "" : " not-present", (a & attr::G) ? " G" : "", kind);
}

std::string flags_text(uint32_t f) {
    static const struct {
        uint32_t bit;
        const char* name;
    } kBits[] = {{fl::CF, "CF"}, {fl::PF, "PF"}, {fl::AF, "AF"}, {fl::ZF, "ZF"}, {fl::SF, "SF"}, {fl::TF, "TF"},
                 {fl::IF, "IF"}, {fl::DF, "DF"}, {fl::OF, "OF"}, {fl::NT, "NT"}, {fl::RF, "RF"}, {fl::VM, "VM"},
                 {fl::AC, "AC"}, {fl::VIF, "VIF"}, {fl::VIP, "VIP"}, {fl::ID, "ID"}};
    std::string s;
    for (const auto& b : kBits)
        if (f & b.bit) s += std::string(s.empty() ? "" : " ") + b.name;
    return fmt::format("[{}] IOPL={}", s, (f >> 12) & 3);
}

std::string regs(Cpu& c) {
    std::string o;
    o += fmt::format("eax={:08x} ebx={:08x} ecx={:08x} edx={:08x}\n", c.r[EAX], c.r[EBX], c.r[ECX], c.r[EDX]);
    o += fmt::format("esi={:08x} edi={:08x} ebp={:08x} esp={:08x}\n", c.r[ESI], c.r[EDI], c.r[EBP], c.r[ESP]);
    const uint32_t f = c.get_eflags();
    o += fmt::format("eip={:08x} (linear {:08x}) eflags={:08x} {}\n", c.eip, c.seg[CS].base + c.eip, f, flags_text(f));
    const char* mode = !c.pe ? "real" : c.vm86 ? "virtual-8086" : "protected";
    o += fmt::format("mode: {}, {}-bit code, {}-bit stack, CPL {}, paging {}{}, A20 {}{}{}\n", mode,
                     c.code32 ? 32 : 16, c.stack32 ? 32 : 16, c.cpl, c.paging ? "on" : "off",
                     c.paging && (c.cr4 & cr4::PSE) ? " (PSE)" : "", c.mem.a20() ? "on" : "off",
                     c.halted ? ", halted" : "", c.inhibit_irq ? ", interrupt shadow" : "");
    static const char* const kNames[kNumSegs] = {"es", "cs", "ss", "ds", "fs", "gs"};
    for (unsigned s : {CS, SS, DS, ES, FS, GS}) o += fmt::format("{}  {}\n", kNames[s], seg_desc(c.seg[s]));
    o += fmt::format("ldtr {}\n", seg_desc(c.ldtr));
    o += fmt::format("tr  {}\n", seg_desc(c.tr));
    o += fmt::format("gdtr base={:08x} limit={:04x}   idtr base={:08x} limit={:04x}\n", c.gdtr.base, c.gdtr.limit,
                     c.idtr.base, c.idtr.limit);
    o += fmt::format("cr0={:08x} cr2={:08x} cr3={:08x} cr4={:08x}\n", c.cr0, c.cr2, c.cr3, c.cr4);
    o += fmt::format("dr0={:08x} dr1={:08x} dr2={:08x} dr3={:08x} dr6={:08x} dr7={:08x}\n", c.dr[0], c.dr[1], c.dr[2],
                     c.dr[3], c.dr[6], c.dr[7]);
    o += fmt::format("fpu: cw={:04x} sw={:04x} tw={:04x} top={}\n", c.fpu.cw, c.fpu.status_word(), c.fpu.tag_word(),
                     c.fpu.top);
    o += fmt::format("sysenter cs={:04x} esp={:08x} eip={:08x}\n", c.sysenter_cs, c.sysenter_esp, c.sysenter_eip);
    return o;
}

std::string pte_flags(uint32_t e) {
    return fmt::format("{}{}{}{}{}{}", (e & 1) ? "P" : "-", (e & 2) ? " RW" : " RO", (e & 4) ? " US" : " S",
                       (e & 0x20) ? " A" : "", (e & 0x40) ? " D" : "", (e & 0x100) ? " G" : "");
}

std::string walk(Cpu& c, uint32_t lin) {
    // The same walk as Cpu::translate (SDM vol.3 4.3), printed instead of cached.
    if (!c.paging) return fmt::format("paging is off: linear {:08x} = physical {:08x}\n", lin, lin & c.mem.a20_mask());
    std::string o = fmt::format("linear {:08x}: cr3={:08x} pde index {:03x}, pte index {:03x}, offset {:03x}\n", lin,
                                c.cr3, lin >> 22, (lin >> 12) & 0x3FF, lin & 0xFFF);
    const uint32_t pde_addr = (c.cr3 & 0xFFFFF000u) | ((lin >> 20) & 0xFFC);
    const uint32_t pde = c.mem.read32(pde_addr);
    o += fmt::format("  pde @{:08x} = {:08x} {}{}\n", pde_addr, pde, pte_flags(pde), (pde & 0x80) ? " PS" : "");
    if (!(pde & 1)) return o + "  not present: #PF\n";
    if ((pde & 0x80) && (c.cr4 & cr4::PSE)) {
        const uint32_t phys = (pde & 0xFFC00000u) | (lin & 0x3FFFFF);
        return o + fmt::format("  4 MiB page: physical {:08x}\n", phys);
    }
    const uint32_t pte_addr = (pde & 0xFFFFF000u) | ((lin >> 10) & 0xFFC);
    const uint32_t pte = c.mem.read32(pte_addr);
    o += fmt::format("  pte @{:08x} = {:08x} {}\n", pte_addr, pte, pte_flags(pte));
    if (!(pte & 1)) return o + "  not present: #PF\n";
    const uint32_t rights = pde & pte;
    return o + fmt::format("  physical {:08x} ({}, {})\n", (pte & 0xFFFFF000u) | (lin & 0xFFF),
                           (rights & 2) ? "writable" : "read-only", (rights & 4) ? "user" : "supervisor");
}

std::string tlb(Cpu& c) {
    std::string o;
    unsigned n = 0;
    for (unsigned u = 0; u < 2; u++)
        for (unsigned k = 0; k < 2; k++)
            for (unsigned i = 0; i < Tlb::kEntries; i++) {
                const TlbEntry& e = c.tlb.e[u][k][i];
                if (e.tag & kPageMask) continue;   // invalid (tag 1)
                o += fmt::format("  {} {} {:08x} -> {:08x}\n", u ? "user" : "sup ", k ? "write" : "read ", e.tag, e.phys);
                n++;
            }
    return fmt::format("{} valid TLB entries ({} per class and kind){}\n", n, unsigned(Tlb::kEntries), n ? ":" : "") + o;
}

std::string xp(Cpu& c, uint32_t addr, uint32_t len) {
    std::string o;
    for (uint32_t i = 0; i < len; i += 16) {
        o += fmt::format("{:08x}:", addr + i);
        std::string ascii;
        for (uint32_t k = i; k < std::min(len, i + 16); k++) {
            const uint8_t b = c.mem.read8(addr + k);
            o += fmt::format(" {:02x}", b);
            ascii.push_back(b >= 0x20 && b < 0x7F ? char(b) : '.');
        }
        o += "  " + ascii + "\n";
    }
    return o;
}

}  // namespace

std::string Session::monitor(std::string_view cmd) {
    std::vector<std::string> w;
    {
        std::istringstream in{std::string(cmd)};
        for (std::string t; in >> t;) w.push_back(t);
    }
    if (w.empty() || w[0] == "help") return kHelp;
    if (w[0] == "regs" || w[0] == "info") return regs(cpu_);
    if (w[0] == "tlb") return tlb(cpu_);
    if (w[0] == "walk") {
        auto a = w.size() == 2 ? parse_num(w[1]) : std::nullopt;
        if (!a || *a > 0xFFFFFFFFull) return "usage: walk ADDR (a linear address, hex)\n";
        return walk(cpu_, uint32_t(*a));
    }
    if (w[0] == "xp") {
        auto a = w.size() >= 2 ? parse_num(w[1]) : std::nullopt;
        auto n = w.size() == 3 ? parse_num(w[2]) : std::optional<uint64_t>(64);
        if (!a || !n || w.size() > 3 || *a > 0xFFFFFFFFull || *n == 0 || *n > 4096 || *a + *n > 0x100000000ull)
            return "usage: xp ADDR [LEN] (physical address, 1 to 1000 hex bytes)\n";
        return xp(cpu_, uint32_t(*a), uint32_t(*n));
    }
    if (w[0] == "stats") {
        std::string o = fmt::format("instructions retired: {}\nblocks cached: {}\ninstructions decoded: {}\n",
                                    cpu_.icount, cpu_.blocks->size(), cpu_.blocks->decoded_insns());
        if (hooks_.stats) o += hooks_.stats();
        return o;
    }
    if (w[0] == "screendump") {
        if (w.size() != 2) return "usage: screendump FILE.png\n";
        if (!hooks_.screendump) return "no display on this machine\n";
        std::string err = hooks_.screendump(w[1]);
        return err.empty() ? fmt::format("screen written to {}\n", w[1]) : err + "\n";
    }
    return fmt::format("unknown monitor command '{}'; try 'monitor help'\n", w[0]);
}

}  // namespace lift86::gdb
