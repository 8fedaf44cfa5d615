#include "tests/diff/runners.hpp"

#include <unicorn/unicorn.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "frontend/block_cache.hpp"
#include "frontend/cpu.hpp"

namespace lift86::diff {

namespace {

const char* const kRegNames[8] = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"};

std::string hex32(uint32_t v) {
    char b[16];
    std::snprintf(b, sizeof b, "%08x", v);
    return b;
}

// GDT for 32-bit mode (SDM vol.3 3.4.5): null, 0x08 flat 32-bit code, then one data segment per
// SegReg s at selector 0x10 + 8*s with base kSegOff[s], limit 4 GiB, 32-bit (B set).
void write_gdt(uint8_t* ram) {
    uint32_t gdt[16] = {0, 0, 0x0000FFFF, 0x00CF9B00};
    for (unsigned sr = 0; sr < 6; sr++) {
        uint32_t base = layout::kSegOff[sr];
        gdt[(2 + sr) * 2] = (base << 16) | 0xFFFF;
        gdt[(2 + sr) * 2 + 1] = (base & 0xFF000000u) | 0x00CF9300u | ((base >> 16) & 0xFF);
    }
    std::memcpy(ram + layout::kGdt, gdt, sizeof gdt);
}

// Exceptions that push an error code (SDM vol.3 6.13, table 6-1).
bool has_error_code(int v) { return v == 8 || (v >= 10 && v <= 14) || v == 17; }

}  // namespace

// ---------------------------------------------------------------- lift86
struct Lift86Runner::Impl {
    Mode mode;
    PhysMemory mem{layout::kMemSize};
    PortBus io;
    Cpu cpu{mem, io};
    std::vector<uint32_t> trace;
    uint32_t code_lin = layout::kCode;

    void write_tables(uint8_t* ram) {
        auto w16 = [&](uint32_t a, uint16_t v) { std::memcpy(ram + a, &v, 2); };
        auto w32 = [&](uint32_t a, uint32_t v) { std::memcpy(ram + a, &v, 4); };
        // Exception stubs: vector v lands on the HLT at kStubs + v.
        std::memset(ram + layout::kStubs, 0xF4, 256);
        if (mode == Mode::Real16) {
            for (unsigned v = 0; v < 256; v++) {   // IVT: far pointers 3000:v
                w16(v * 4, uint16_t(v));
                w16(v * 4 + 2, uint16_t(layout::kStubs >> 4));
            }
        } else {
            write_gdt(ram);
            for (unsigned v = 0; v < 256; v++) {   // 32-bit interrupt gates to the stubs (vol.3 6.11)
                uint32_t off = layout::kStubs + v;
                w32(layout::kIdt + v * 8, (0x08u << 16) | (off & 0xFFFF));
                w32(layout::kIdt + v * 8 + 4, (off & 0xFFFF0000u) | 0x8E00);
            }
        }
    }

    explicit Impl(Mode m) : mode(m) {
        cpu.trace_insn = [this](uint32_t eip, const Insn&) {
            // Only the sequence's own instructions (not the exception stubs).
            uint32_t lin = cpu.seg[CS].base + eip;
            if (lin >= code_lin && lin < code_lin + layout::kCodeMax) trace.push_back(lin - code_lin);
        };
    }

    RunResult run(const Sequence& s) {
        RunResult res;
        trace.clear();
        cpu.reset();
        if (s.code.size() > layout::kCodeMax) { res.error = "code too long"; return res; }
        // All of RAM is rebuilt for every sequence (a sequence shrunk by the minimiser may write
        // outside the window), then every decoded block is dropped.
        uint8_t* ram = mem.ram();
        std::memset(ram, 0, layout::kMemSize);
        code_lin = layout::kCode + s.code_off;
        std::memcpy(ram + code_lin, s.code.data(), s.code.size());
        const uint32_t win = layout::window(mode);
        std::memcpy(ram + win, s.init.window.data(), layout::kWindowSize);
        write_tables(ram);
        cpu.blocks->flush();

        if (mode == Mode::Real16) {
            cpu.load_seg_real(CS, layout::kRealCodeSeg);
            for (unsigned sr : {ES, SS, DS, FS, GS}) cpu.load_seg_real(sr, uint16_t(layout::kRealDataSeg + layout::kSegOff[sr] / 16));
            cpu.idtr = {0, 0x3FF};
        } else {
            cpu.cr0 |= cr0::PE;
            constexpr uint32_t code_attr = attr::P | attr::S | attr::CODE | attr::RW | attr::ACCESSED | attr::DB | attr::G;
            constexpr uint32_t data_attr = attr::P | attr::S | attr::RW | attr::ACCESSED | attr::DB | attr::G;
            cpu.set_seg_cache(cpu.seg[CS], 0x08, 0, 0xFFFFFFFFu, code_attr);
            for (unsigned sr : {ES, SS, DS, FS, GS})
                cpu.set_seg_cache(cpu.seg[sr], uint16_t(0x10 + 8 * sr), layout::kSegOff[sr], 0xFFFFFFFFu, data_attr);
            cpu.gdtr = {layout::kGdt, 0x3F};
            cpu.idtr = {layout::kIdt, 0x7FF};
        }
        cpu.eip = layout::code_eip(mode) + s.code_off;
        for (int k = 0; k < 8; k++) cpu.r[k] = s.init.r[k];
        cpu.set_eflags(s.init.eflags);
        cpu.update_mode();
        cpu.flush_tlb();

        cpu.run(4000);
        if (cpu.stop != StopReason::Halted) {
            res.error = "lift86 did not halt (stop reason " + std::to_string(int(cpu.stop)) + ")";
            res.vector = -2;
        }
        const uint32_t lin = cpu.seg[CS].base + cpu.eip - 1;
        for (int k = 0; k < 8; k++) res.r[k] = cpu.r[k];
        res.eflags = cpu.get_eflags();
        const uint32_t code_eip = layout::code_eip(mode) + s.code_off;
        res.stop = cpu.eip - 1 - code_eip;
        if (res.error.empty() && lin >= layout::kStubs && lin < layout::kStubs + 256) {
            // An exception was delivered to a stub: take its frame back off the stack.
            res.vector = int(lin - layout::kStubs);
            const uint32_t ss = win + layout::kSegOff[SS];
            if (mode == Mode::Real16) {
                const uint32_t sp = cpu.r[ESP] & 0xFFFF;
                res.stop = mem.read16(ss + sp) - code_eip;
                res.eflags = (res.eflags & 0xFFFF0000u) | mem.read16(ss + ((sp + 4) & 0xFFFF));
                res.r[ESP] = (cpu.r[ESP] & 0xFFFF0000u) | ((sp + 6) & 0xFFFF);
                res.frame_lo = layout::kSegOff[SS] + sp;
                res.frame_len = 6;
            } else {
                // An error code sits below EIP for some exceptions, never for INT n
                // (SDM vol.3 6.13): the frame is the one whose CS slot holds 0x08.
                const uint32_t esp = cpu.r[ESP];
                const uint32_t e = has_error_code(res.vector) && mem.read32(ss + esp + 4) != 0x08 ? 4 : 0;
                res.stop = mem.read32(ss + esp + e) - code_eip;
                res.eflags = mem.read32(ss + esp + e + 8);
                res.r[ESP] = esp + 12 + e;
                res.frame_lo = layout::kSegOff[SS] + esp;
                res.frame_len = 12 + e;
            }
            // The faulting instruction did not complete: it does not count for the flags.
            if (!trace.empty() && trace.back() == res.stop) trace.pop_back();
        } else if (res.error.empty() && lin != code_lin + s.hlt_off) {
            res.error = "lift86 halted at an unexpected address " + hex32(lin);
        }
        res.window.assign(mem.ram() + win, mem.ram() + win + layout::kWindowSize);
        res.trace = trace;
        return res;
    }
};

Lift86Runner::Lift86Runner(Mode m) : impl_(std::make_unique<Impl>(m)) {}
Lift86Runner::~Lift86Runner() = default;
RunResult Lift86Runner::run(const Sequence& s) { return impl_->run(s); }

// ---------------------------------------------------------------- Unicorn
namespace {

struct UcHookState {
    int vector = -1;
    uint32_t win = 0;
    std::vector<std::pair<uint32_t, unsigned>>* reads = nullptr;
};

void on_intr(uc_engine* uc, uint32_t intno, void* user) {
    static_cast<UcHookState*>(user)->vector = int(intno);
    uc_emu_stop(uc);
}

void on_read(uc_engine*, uc_mem_type, uint64_t addr, int size, int64_t, void* user) {
    auto* st = static_cast<UcHookState*>(user);
    if (addr >= st->win && addr < st->win + layout::kWindowSize)
        st->reads->push_back({uint32_t(addr - st->win), unsigned(size)});
}

}  // namespace

RunResult run_unicorn(const Sequence& s, std::vector<std::pair<uint32_t, unsigned>>* reads) {
    RunResult res;
    static std::vector<uint8_t>* buf = [] {
        auto* b = new std::vector<uint8_t>(layout::kMemSize + 4096);
        return b;
    }();
    uint8_t* mem = reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(buf->data()) + 4095) & ~uintptr_t(4095));
    std::memset(mem, 0, layout::kMemSize);
    const uint32_t win = layout::window(s.mode);
    std::memcpy(mem + win, s.init.window.data(), layout::kWindowSize);
    std::memcpy(mem + layout::kCode + s.code_off, s.code.data(), s.code.size());
    if (s.mode == Mode::Prot32) write_gdt(mem);

    uc_engine* uc = nullptr;
    uc_err err = uc_open(UC_ARCH_X86, s.mode == Mode::Real16 ? UC_MODE_16 : UC_MODE_32, &uc);
    if (err != UC_ERR_OK) { res.error = std::string("uc_open: ") + uc_strerror(err); return res; }
    uc_mem_map_ptr(uc, 0, layout::kMemSize, UC_PROT_ALL, mem);
    UcHookState st;
    st.win = win;
    st.reads = reads;
    uc_hook h_intr, h_read;
    uc_hook_add(uc, &h_intr, UC_HOOK_INTR, reinterpret_cast<void*>(on_intr), &st, 1, 0);
    if (reads) uc_hook_add(uc, &h_read, UC_HOOK_MEM_READ, reinterpret_cast<void*>(on_read), &st, 1, 0);

    static const int kRegs[8] = {UC_X86_REG_EAX, UC_X86_REG_ECX, UC_X86_REG_EDX, UC_X86_REG_EBX,
                                 UC_X86_REG_ESP, UC_X86_REG_EBP, UC_X86_REG_ESI, UC_X86_REG_EDI};
    static const int kSegRegs[6] = {UC_X86_REG_ES, UC_X86_REG_CS, UC_X86_REG_SS, UC_X86_REG_DS, UC_X86_REG_FS, UC_X86_REG_GS};
    if (s.mode == Mode::Real16) {
        uint32_t cs = layout::kRealCodeSeg;
        uc_reg_write(uc, UC_X86_REG_CS, &cs);
        for (unsigned sr : {ES, SS, DS, FS, GS}) {
            uint32_t sel = layout::kRealDataSeg + layout::kSegOff[sr] / 16;
            uc_reg_write(uc, kSegRegs[sr], &sel);
        }
    } else {
        // Unicorn loads the data segments from the same GDT as lift86.
        uc_x86_mmr gdtr{};
        gdtr.base = layout::kGdt;
        gdtr.limit = 0x3F;
        uc_reg_write(uc, UC_X86_REG_GDTR, &gdtr);
        for (unsigned sr : {ES, SS, DS, FS, GS}) {
            uint32_t sel = 0x10 + 8 * sr;
            if (uc_reg_write(uc, kSegRegs[sr], &sel) != UC_ERR_OK) res.error = "unicorn: cannot load a segment";
        }
    }
    for (int k = 0; k < 8; k++) uc_reg_write(uc, kRegs[k], &s.init.r[k]);
    uint32_t fl = s.init.eflags;
    uc_reg_write(uc, UC_X86_REG_EFLAGS, &fl);
    // In 16-bit mode Unicorn takes `begin` as IP and `until` as a linear address.
    const uint64_t begin = layout::code_eip(s.mode) + s.code_off;
    const uint64_t until = layout::kCode + s.code_off + s.hlt_off;
    err = uc_emu_start(uc, begin, until, 2'000'000, 0);
    uint32_t eip = 0;
    for (int k = 0; k < 8; k++) uc_reg_read(uc, kRegs[k], &res.r[k]);
    uc_reg_read(uc, UC_X86_REG_EIP, &eip);
    uc_reg_read(uc, UC_X86_REG_EFLAGS, &res.eflags);
    res.stop = eip - layout::code_eip(s.mode) - s.code_off;
    if (err == UC_ERR_INSN_INVALID) res.vector = 6;
    else if (err != UC_ERR_OK) res.error = std::string("unicorn: ") + uc_strerror(err) + " at offset " + hex32(res.stop);
    else if (st.vector >= 0) res.vector = st.vector;
    else if (res.stop != s.hlt_off) res.error = "unicorn stopped early at offset " + hex32(res.stop);
    res.window.assign(mem + win, mem + win + layout::kWindowSize);
    uc_close(uc);
    return res;
}

// ---------------------------------------------------------------- comparison
uint16_t undefined_flags(const Sequence& s, const RunResult& lift) { return s.undefined_after(lift.trace); }

std::vector<Diff> compare(const Sequence& s, const RunResult& l, const RunResult& u) {
    std::vector<Diff> d;
    if (l.vector == -2) d.push_back({"halt", l.error, "halted"});
    if (l.vector != u.vector)
        d.push_back({"exception", l.vector < 0 ? "none" : "#" + std::to_string(l.vector),
                     u.vector < 0 ? "none" : "#" + std::to_string(u.vector)});
    if (l.stop != u.stop) d.push_back({"eip", "+" + hex32(l.stop), "+" + hex32(u.stop)});
    for (int k = 0; k < 8; k++)
        if (l.r[k] != u.r[k]) d.push_back({kRegNames[k], hex32(l.r[k]), hex32(u.r[k])});
    const uint32_t mask = 0xFD5u & ~uint32_t(undefined_flags(s, l));
    if ((l.eflags ^ u.eflags) & mask) {
        uint32_t x = (l.eflags ^ u.eflags) & mask;
        d.push_back({"eflags", hex32(l.eflags) + " (differs in " + flag_names(x) + ")", hex32(u.eflags)});
    }
    // Memory, minus the exception frame lift86 pushed (Unicorn's hook takes the exception
    // before anything is pushed).
    std::string ranges;
    unsigned nbytes = 0;
    for (uint32_t a = 0; a < layout::kWindowSize; a++) {
        if (l.frame_len && ((a - l.frame_lo) & 0xFFFF) < l.frame_len) continue;
        if (l.window[a] == u.window[a]) continue;
        uint32_t b = a;
        while (b + 1 < layout::kWindowSize && l.window[b + 1] != u.window[b + 1]) b++;
        if (nbytes < 64) {
            char line[200];
            std::string lh, uh;
            for (uint32_t k = a; k <= b && k < a + 16; k++) {
                char h[4];
                std::snprintf(h, sizeof h, "%02x", l.window[k]);
                lh += h;
                std::snprintf(h, sizeof h, "%02x", u.window[k]);
                uh += h;
            }
            std::snprintf(line, sizeof line, "%s[%04x..%04x] lift86 %s unicorn %s", ranges.empty() ? "" : "; ", a, b,
                          lh.c_str(), uh.c_str());
            ranges += line;
        }
        nbytes += b - a + 1;
        a = b;
    }
    if (nbytes) d.push_back({"mem", ranges, std::to_string(nbytes) + " bytes differ"});
    return d;
}

std::string report(const Sequence& s, const RunResult& l, const RunResult& u, const std::vector<Diff>& d) {
    std::string o;
    char line[512];
    std::snprintf(line, sizeof line, "=== %s: mode %s, seed 0x%016llx (reproduce: LIFT86_DIFF_REPRO=%s:0x%llx%s)\n",
                  d.empty() ? "sequence (no difference)" : "mismatch", mode_name(s.mode), (unsigned long long)s.seed, mode_name(s.mode), (unsigned long long)s.seed,
                  s.faults_allowed ? ":faults" : "");
    o += line;
    o += "code (" + std::string(s.mode == Mode::Real16 ? "CS=2000, offsets are IP" : "addresses are EIP") + "):\n" + s.disassemble();
    std::string hex;
    for (uint8_t b : s.code) {
        char h[4];
        std::snprintf(h, sizeof h, "%02x", b);
        hex += h;
    }
    o += "bytes: " + hex + "\n";
    o += "initial:";
    for (int k = 0; k < 8; k++) o += std::string(" ") + kRegNames[k] + "=" + hex32(s.init.r[k]);
    o += " eflags=" + hex32(s.init.eflags) + "\n";
    o += std::string("layout: ") + (s.mode == Mode::Real16
                                        ? "real mode, CS=2000 DS=1000 SS=1008 ES=1010 FS=1020 GS=1030 (window = linear 0x10000)"
                                        : "32-bit protected mode, flat CS; data segment bases DS=0 SS=0x80 ES=0x100 "
                                          "FS=0x200 GS=0x300 (window = linear 0)") + "\n";
    // The initial window bytes the sequence reads (from a diagnostic Unicorn run with a read hook).
    std::vector<std::pair<uint32_t, unsigned>> reads;
    run_unicorn(s, &reads);
    std::sort(reads.begin(), reads.end());
    reads.erase(std::unique(reads.begin(), reads.end()), reads.end());
    if (!reads.empty()) {
        o += "window bytes read (offsets from the window start; initial values):";
        unsigned shown = 0;
        for (auto [a, n] : reads) {
            if (shown++ == 24) { o += " ..."; break; }
            std::snprintf(line, sizeof line, " [%04x]=", a);
            o += line;
            for (int k = int(n) - 1; k >= 0; k--) {
                char h[4];
                std::snprintf(h, sizeof h, "%02x", s.init.window[(a + unsigned(k)) & 0xFFFF]);
                o += h;
            }
        }
        o += "\n";
    }
    o += "executed (lift86):";
    for (uint32_t t : l.trace) {
        std::snprintf(line, sizeof line, " %x", layout::code_eip(s.mode) + s.code_off + t);
        o += line;
    }
    o += "\nundefined flags masked: " + flag_names(undefined_flags(s, l)) + "\n";
    if (!l.error.empty()) o += "lift86: " + l.error + "\n";
    if (!u.error.empty()) o += "unicorn: " + u.error + "\n";
    for (const Diff& x : d) o += "  " + x.field + ": lift86 " + x.lift + " | unicorn " + x.uc + "\n";
    std::snprintf(line, sizeof line, "  final eflags: lift86 %08x unicorn %08x\n", l.eflags, u.eflags);
    o += line;
    return o;
}

std::string group_key(const Sequence& s, const std::vector<Diff>& d) {
    std::string forms_part;
    for (const Unit& u : s.units) {
        if (!forms_part.empty()) forms_part += " ; ";
        forms_part += u.main_form >= 0 ? forms()[size_t(u.main_form)].name : "?";
    }
    std::string fields;
    for (const Diff& x : d) {
        if (!fields.empty()) fields += ",";
        fields += x.field;
        if (x.field == "eflags") {
            size_t p = x.lift.find("in ");
            if (p != std::string::npos) fields += "(" + x.lift.substr(p + 3, x.lift.size() - p - 4) + ")";
        }
        if (x.field == "exception") fields += "(" + x.lift + "/" + x.uc + ")";
    }
    return "[" + std::string(mode_name(s.mode)) + "] " + forms_part + " | " + fields;
}

}  // namespace lift86::diff
