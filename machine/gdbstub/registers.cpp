// Guest registers for gdb: see registers.hpp.
#include "machine/gdbstub/registers.hpp"

#include <cstring>
#include <vector>

#include "frontend/cpu.hpp"
#include "frontend/protmode.hpp"

namespace lift86::gdb {

namespace {

enum class Group { Core, Sys };

struct Reg {
    const char* name;
    unsigned bits;
    const char* type;
    const char* group;   // gdb register group, or nullptr for the default
    Group feature;
};

// One row per register, in register-number order (the order of `g` packets).
const Reg kRegs[] = {
    {"eax", 32, "int32", nullptr, Group::Core},    {"ecx", 32, "int32", nullptr, Group::Core},
    {"edx", 32, "int32", nullptr, Group::Core},    {"ebx", 32, "int32", nullptr, Group::Core},
    {"esp", 32, "data_ptr", nullptr, Group::Core}, {"ebp", 32, "data_ptr", nullptr, Group::Core},
    {"esi", 32, "int32", nullptr, Group::Core},    {"edi", 32, "int32", nullptr, Group::Core},
    {"eip", 32, "code_ptr", nullptr, Group::Core}, {"eflags", 32, "i386_eflags", nullptr, Group::Core},
    {"cs", 32, "int32", nullptr, Group::Core},     {"ss", 32, "int32", nullptr, Group::Core},
    {"ds", 32, "int32", nullptr, Group::Core},     {"es", 32, "int32", nullptr, Group::Core},
    {"fs", 32, "int32", nullptr, Group::Core},     {"gs", 32, "int32", nullptr, Group::Core},
    {"st0", 80, "i387_ext", nullptr, Group::Core}, {"st1", 80, "i387_ext", nullptr, Group::Core},
    {"st2", 80, "i387_ext", nullptr, Group::Core}, {"st3", 80, "i387_ext", nullptr, Group::Core},
    {"st4", 80, "i387_ext", nullptr, Group::Core}, {"st5", 80, "i387_ext", nullptr, Group::Core},
    {"st6", 80, "i387_ext", nullptr, Group::Core}, {"st7", 80, "i387_ext", nullptr, Group::Core},
    {"fctrl", 32, "int", "float", Group::Core},    {"fstat", 32, "int", "float", Group::Core},
    {"ftag", 32, "int", "float", Group::Core},     {"fiseg", 32, "int", "float", Group::Core},
    {"fioff", 32, "int", "float", Group::Core},    {"foseg", 32, "int", "float", Group::Core},
    {"fooff", 32, "int", "float", Group::Core},    {"fop", 32, "int", "float", Group::Core},
    {"cr0", 32, "int32", "system", Group::Sys},    {"cr2", 32, "data_ptr", "system", Group::Sys},
    {"cr3", 32, "int32", "system", Group::Sys},    {"cr4", 32, "int32", "system", Group::Sys},
    {"dr0", 32, "data_ptr", "system", Group::Sys}, {"dr1", 32, "data_ptr", "system", Group::Sys},
    {"dr2", 32, "data_ptr", "system", Group::Sys}, {"dr3", 32, "data_ptr", "system", Group::Sys},
    {"dr6", 32, "int32", "system", Group::Sys},    {"dr7", 32, "int32", "system", Group::Sys},
    {"gdtr_base", 32, "data_ptr", "system", Group::Sys}, {"gdtr_limit", 32, "int32", "system", Group::Sys},
    {"idtr_base", 32, "data_ptr", "system", Group::Sys}, {"idtr_limit", 32, "int32", "system", Group::Sys},
    {"ldtr", 32, "int32", "system", Group::Sys},   {"tr", 32, "int32", "system", Group::Sys},
};
constexpr unsigned kNumRegs = sizeof(kRegs) / sizeof(kRegs[0]);
enum : unsigned {
    kEip = 8, kEflags = 9, kCs = 10, kSt0 = 16, kFctrl = 24, kFop = 31,
    kCr0 = 32, kCr2, kCr3, kCr4, kDr0, kDr1, kDr2, kDr3, kDr6, kDr7, kGdtrBase, kGdtrLimit, kIdtrBase,
    kIdtrLimit, kLdtr, kTr,
};
static_assert(kTr + 1 == kNumRegs);
// gdb's segment register order (cs ss ds es fs gs) to the SDM encoding order of CpuState::seg.
const unsigned kSegOf[6] = {CS, SS, DS, ES, FS, GS};

std::string build_xml(const char* arch) {
    std::string x = "<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n<target version=\"1.0\">\n"
                    "<architecture>" + std::string(arch) + "</architecture>\n";
    // The flag types of gdb's own 32bit-core.xml / 32bit-sse.xml.
    const char* eflags =
        "<flags id=\"i386_eflags\" size=\"4\">"
        "<field name=\"CF\" start=\"0\" end=\"0\"/><field name=\"\" start=\"1\" end=\"1\"/>"
        "<field name=\"PF\" start=\"2\" end=\"2\"/><field name=\"AF\" start=\"4\" end=\"4\"/>"
        "<field name=\"ZF\" start=\"6\" end=\"6\"/><field name=\"SF\" start=\"7\" end=\"7\"/>"
        "<field name=\"TF\" start=\"8\" end=\"8\"/><field name=\"IF\" start=\"9\" end=\"9\"/>"
        "<field name=\"DF\" start=\"10\" end=\"10\"/><field name=\"OF\" start=\"11\" end=\"11\"/>"
        "<field name=\"NT\" start=\"14\" end=\"14\"/><field name=\"RF\" start=\"16\" end=\"16\"/>"
        "<field name=\"VM\" start=\"17\" end=\"17\"/><field name=\"AC\" start=\"18\" end=\"18\"/>"
        "<field name=\"VIF\" start=\"19\" end=\"19\"/><field name=\"VIP\" start=\"20\" end=\"20\"/>"
        "<field name=\"ID\" start=\"21\" end=\"21\"/></flags>\n";
    struct Feature {
        Group g;
        const char* name;
        const char* types;
    };
    const Feature features[] = {{Group::Core, "org.gnu.gdb.i386.core", eflags},
                                {Group::Sys, "org.lift86.i386.sys", ""}};
    for (const Feature& f : features) {
        x += "<feature name=\"";
        x += f.name;
        x += "\">\n";
        x += f.types;
        for (unsigned n = 0; n < kNumRegs; n++) {
            const Reg& r = kRegs[n];
            if (r.feature != f.g) continue;
            x += "<reg name=\"" + std::string(r.name) + "\" bitsize=\"" + std::to_string(r.bits) + "\" type=\"" + r.type +
                 "\" regnum=\"" + std::to_string(n) + "\"";
            if (r.group) x += " group=\"" + std::string(r.group) + "\"";
            x += "/>\n";
        }
        x += "</feature>\n";
    }
    x += "</target>\n";
    return x;
}

std::string le32(uint32_t v) {
    char b[4] = {char(v), char(v >> 8), char(v >> 16), char(v >> 24)};
    return std::string(b, 4);
}
uint32_t get_le32(std::string_view b) {
    return uint32_t(uint8_t(b[0])) | uint32_t(uint8_t(b[1])) << 8 | uint32_t(uint8_t(b[2])) << 16 |
           uint32_t(uint8_t(b[3])) << 24;
}

// Loads a segment register the way the debugger means it: the selector's descriptor as it is in
// memory now, without the privilege checks of MOV Sreg (gdb is not running at any CPL).
bool load_seg_for_debugger(Cpu& cpu, unsigned s, uint16_t sel) {
    if (cpu.seg[s].sel == sel) return true;
    if (!cpu.pe || cpu.vm86) {
        cpu.load_seg_real(s, sel);
    } else if (pm::is_null(sel)) {
        if (s == CS || s == SS) return false;
        pm::load_null(cpu, cpu.seg[s], sel);
    } else {
        pm::Descriptor d;
        try {
            if (!cpu.read_descriptor(sel, d.lo, d.hi)) return false;
        } catch (const GuestFault&) {
            return false;   // the GDT/LDT page is not mapped
        }
        if (!d.is_segment()) return false;
        cpu.seg[s] = pm::segment_from(sel, d);
    }
    cpu.update_mode();
    return true;
}

}  // namespace

const std::string& target_xml(bool i8086) {
    static const std::string xml386 = build_xml("i386"), xml8086 = build_xml("i8086");
    return i8086 ? xml8086 : xml386;
}

unsigned num_regs() { return kNumRegs; }

std::string read_reg(Cpu& c, unsigned n) {
    if (n < 8) return le32(c.r[n]);
    if (n == kEip) return le32(c.eip);
    if (n == kEflags) return le32(c.get_eflags());
    if (n >= kCs && n < kCs + 6) return le32(c.seg[kSegOf[n - kCs]].sel);
    if (n >= kSt0 && n < kSt0 + 8) {
        const x87::Float80& f = c.fpu.st(n - kSt0);
        char b[10];
        for (int i = 0; i < 8; i++) b[i] = char(f.mant >> (8 * i));
        b[8] = char(f.se), b[9] = char(f.se >> 8);
        return std::string(b, 10);
    }
    switch (n) {
    case kFctrl: return le32(c.fpu.cw);
    case kFctrl + 1: return le32(c.fpu.status_word());
    case kFctrl + 2: return le32(c.fpu.tag_word());
    case kFctrl + 3: return le32(c.fpu.fcs);
    case kFctrl + 4: return le32(c.fpu.fip);
    case kFctrl + 5: return le32(c.fpu.fds);
    case kFctrl + 6: return le32(c.fpu.fdp);
    case kFop: return le32(c.fpu.fop);
    case kCr0: return le32(c.cr0);
    case kCr2: return le32(c.cr2);
    case kCr3: return le32(c.cr3);
    case kCr4: return le32(c.cr4);
    case kDr0: case kDr1: case kDr2: case kDr3: return le32(c.dr[n - kDr0]);
    case kDr6: return le32(c.dr[6]);
    case kDr7: return le32(c.dr[7]);
    case kGdtrBase: return le32(c.gdtr.base);
    case kGdtrLimit: return le32(c.gdtr.limit);
    case kIdtrBase: return le32(c.idtr.base);
    case kIdtrLimit: return le32(c.idtr.limit);
    case kLdtr: return le32(c.ldtr.sel);
    case kTr: return le32(c.tr.sel);
    default: break;
    }
    return {};
}

bool write_reg(Cpu& c, unsigned n, std::string_view b) {
    if (n >= kNumRegs || b.size() != kRegs[n].bits / 8) return false;
    if (n >= kSt0 && n < kSt0 + 8) {
        x87::Float80& f = c.fpu.st(n - kSt0);
        f.mant = 0;
        for (int i = 0; i < 8; i++) f.mant |= uint64_t(uint8_t(b[i])) << (8 * i);
        f.se = uint16_t(uint8_t(b[8]) | uint8_t(b[9]) << 8);
        return true;
    }
    const uint32_t v = get_le32(b);
    if (n < 8) {
        c.r[n] = v;
        return true;
    }
    if (n >= kCs && n < kCs + 6) return v <= 0xFFFF && load_seg_for_debugger(c, kSegOf[n - kCs], uint16_t(v));
    try {
        switch (n) {
        case kEip: c.eip = v; return true;
        case kEflags:
            c.set_eflags(v);
            c.update_mode();
            return true;
        case kFctrl: c.fpu.set_control_word(uint16_t(v)); return true;
        case kFctrl + 1: c.fpu.set_status_word(uint16_t(v)); return true;
        case kFctrl + 2: c.fpu.set_tag_word(uint16_t(v)); return true;
        case kFctrl + 3: c.fpu.fcs = uint16_t(v); return true;
        case kFctrl + 4: c.fpu.fip = v; return true;
        case kFctrl + 5: c.fpu.fds = uint16_t(v); return true;
        case kFctrl + 6: c.fpu.fdp = v; return true;
        case kFop: c.fpu.fop = uint16_t(v & 0x7FF); return true;
        case kCr0: c.set_cr0(v); return true;
        case kCr2: c.cr2 = v; return true;
        case kCr3: c.set_cr3(v); return true;
        case kCr4: c.set_cr4(v); return true;
        case kDr0: case kDr1: case kDr2: case kDr3: c.dr[n - kDr0] = v; return true;
        case kDr6: c.dr[6] = v; return true;
        case kDr7: c.dr[7] = v; return true;
        case kGdtrBase: c.gdtr.base = v; return true;
        case kGdtrLimit: c.gdtr.limit = v & 0xFFFF; return true;
        case kIdtrBase: c.idtr.base = v; return true;
        case kIdtrLimit: c.idtr.limit = v & 0xFFFF; return true;
        default: return false;   // LDTR and TR: their caches come from descriptors; use the guest
        }
    } catch (const GuestFault&) {
        return false;   // e.g. CR0.PG without PE, reserved CR4 bits: #GP for the guest, E for gdb
    }
}

std::string read_all(Cpu& c) {
    std::string out;
    for (unsigned n = 0; n < kNumRegs; n++) out += read_reg(c, n);
    return out;
}

bool write_all(Cpu& c, std::string_view b) {
    size_t at = 0;
    bool ok = true;
    for (unsigned n = 0; n < kNumRegs && at < b.size(); n++) {
        const size_t sz = kRegs[n].bits / 8;
        if (at + sz > b.size()) return false;
        std::string_view v = b.substr(at, sz);
        at += sz;
        if (read_reg(c, n) == v) continue;   // unchanged: no segment reloads, no CR side effects
        ok = write_reg(c, n, v) && ok;
    }
    return ok && at == b.size();
}

}  // namespace lift86::gdb
