// The interpreter's side of the x87: decodes the operand of an ESC instruction into an X87Op,
// applies the CR0.EM/TS/MP/NE rules, and lets frontend/x87/ do the arithmetic (SDM vol.1 8.1,
// vol.3 2.5 and 6.15 "#NM", "#MF").
#include "frontend/interp.hpp"
#include "frontend/x87/x87_exec.hpp"

namespace lift86 {
namespace {

// The memory operand of one x87 instruction: CPU memory through the segment and page checks.
struct CpuX87Mem final : x87::X87Mem {
    Cpu& c;
    unsigned seg;
    uint32_t off;
    bool a32;
    CpuX87Mem(Cpu& cpu, unsigned s, uint32_t o, bool a) : c(cpu), seg(s), off(o), a32(a) {}
    uint32_t at(unsigned k) const { return a32 ? off + k : (off + k) & 0xFFFF; }
    void read(uint8_t* dst, unsigned n) override {
        c.check_seg(seg, off, n, false);
        for (unsigned k = 0; k < n; k++) dst[k] = c.read<uint8_t>(seg, at(k));
    }
    void write(const uint8_t* src, unsigned n) override {
        // Probe the first and last byte for write access first, so a #GP/#PF comes before any
        // byte is stored (the operand is written whole or not at all).
        c.check_seg(seg, off, n, true);
        c.write<uint8_t>(seg, at(0), c.read<uint8_t>(seg, at(0)));
        c.write<uint8_t>(seg, at(n - 1), c.read<uint8_t>(seg, at(n - 1)));
        for (unsigned k = 0; k < n; k++) c.write<uint8_t>(seg, at(k), src[k]);
    }
};

// Device-not-available (SDM vol.3 table 2-2): EM or TS set -> #NM for an ESC instruction.
void check_nm(Cpu& c) {
    if (c.cr0 & (cr0::EM | cr0::TS)) c.fault(kNM);
}
// A pending unmasked exception is reported at the next waiting x87 instruction: #MF when
// CR0.NE, else through FERR# -> IRQ13 (the PC's chipset also asserts IGNNE#, so execution goes on).
void check_pending(Cpu& c) {
    if (!x87::has_pending_unmasked(c.fpu)) return;
    if (c.cr0 & cr0::NE) c.fault(kMF);
    if (c.on_ferr) c.on_ferr();
}

void h_x87(Cpu& c, const Insn& i) {
    check_nm(c);
    if (!x87::is_nowait(i.mnemonic)) check_pending(c);
    x87::X87Op op{};
    op.mnemonic = i.mnemonic;
    op.sti = i.rm;
    op.mem = i.mem();
    op.mem_size = i.mem_size;
    op.dst_is_sti = i.op;
    op.opsize32 = i.o32();
    op.real_mode = !c.pe || c.vm86;
    op.fcs = c.seg[CS].sel;
    op.fip = c.insn_eip;
    op.fop = uint16_t(((i.opcode & 7) << 8) | i.modrm);
    op.eflags_in = c.get_eflags();
    uint32_t off = i.mem() ? c.ea(i) : 0;
    if (i.mem()) {
        op.fds = c.seg[i.seg].sel;
        op.fdp = off;
    }
    // FXSAVE/FXRSTOR need a 16-byte aligned operand: #GP(0) otherwise (SDM vol.2 FXSAVE).
    if ((i.mnemonic == ZYDIS_MNEMONIC_FXSAVE || i.mnemonic == ZYDIS_MNEMONIC_FXRSTOR) && ((c.seg[i.seg].base + off) & 15))
        c.fault(kGP, 0);
    CpuX87Mem mem(c, i.seg, off, i.a32());
    x87::X87Result r = x87::execute(c.fpu, op, mem);
    if (!r.ok) c.fault(kUD);
    if (r.set_ax) c.r16(EAX) = r.ax;
    if (r.set_eflags) {
        // FCOMI family: ZF, PF, CF from the compare; OF, SF, AF cleared (SDM vol.2 FCOMI).
        c.set_flags_eager(fl::ARITH, r.zf_pf_cf & (fl::ZF | fl::PF | fl::CF));
    }
}

// WAIT/FWAIT: #NM only when both MP and TS are set; then any pending exception is reported.
void h_fwait(Cpu& c, const Insn&) {
    if ((c.cr0 & (cr0::MP | cr0::TS)) == (cr0::MP | cr0::TS)) c.fault(kNM);
    check_pending(c);
}

}  // namespace

Handler bind_x87(const DecodedView& v, Insn& i) {
    if (v.mnemonic == ZYDIS_MNEMONIC_FWAIT) return h_fwait;
    const bool fxsr = v.mnemonic == ZYDIS_MNEMONIC_FXSAVE || v.mnemonic == ZYDIS_MNEMONIC_FXRSTOR;
    if (v.zi->meta.isa_ext != ZYDIS_ISA_EXT_X87 && !fxsr) return nullptr;
    if (fxsr && !(i.flags & insn_flag::MEM)) return nullptr;   // register forms are #UD
    // FISTTP is SSE3 (not on a P6): #UD.
    if (v.mnemonic == ZYDIS_MNEMONIC_FISTTP) return nullptr;
    // st(i) operand: the ModRM.rm field; the "st(i), st(0)" forms have it first.
    i.rm = uint8_t(v.zi->raw.modrm.rm);
    i.op = v.n >= 2 && v.op[0].kind == OpKind::St && v.op[0].reg != 0 ? 1 : 0;
    return h_x87;
}

}  // namespace lift86
