// Control transfer: JMP/Jcc/LOOP/CALL/RET (near and far), INT n/INT3/INTO/INT1, IRET, BOUND, HLT.
// Far transfers, interrupts and IRET are helpers shared with the translator (far_transfer.cpp,
// interrupts.cpp); this file only decodes their operands.
#include "frontend/interp.hpp"

#include <utility>

namespace lift86 {
namespace {

void h_jmp_rel(Cpu& c, const Insn& i) { near_branch(c, c.eip + i.imm, i.o32()); }
// One handler per condition and operand size: the condition folds into cond_fast().
template <unsigned CC, bool O32> void h_jcc(Cpu& c, const Insn& i) {
    if (c.cond_fast<CC>()) near_branch(c, c.eip + i.imm, O32);
}
template <bool O32, unsigned... CC> Handler pick_jcc(unsigned cc, std::integer_sequence<unsigned, CC...>) {
    static constexpr Handler t[16] = {&h_jcc<CC, O32>...};
    return t[cc];
}
// JCXZ/JECXZ and LOOPcc count with CX or ECX according to the address size (SDM vol.2 LOOP).
void h_jcxz(Cpu& c, const Insn& i) {
    uint32_t cx = i.a32() ? c.r[ECX] : c.r16(ECX);
    if (cx == 0) near_branch(c, c.eip + i.imm, i.o32());
}
template <int KIND> void h_loop(Cpu& c, const Insn& i) {   // 0 LOOP, 1 LOOPE, 2 LOOPNE
    uint32_t cx;
    if (i.a32()) cx = --c.r[ECX];
    else cx = --c.r16(ECX);
    bool take = cx != 0;
    if (KIND == 1) take = take && c.zf();
    if (KIND == 2) take = take && !c.zf();
    if (take) near_branch(c, c.eip + i.imm, i.o32());
}

template <class T> uint32_t check_target(Cpu& c, uint32_t target) {
    target = T(target);
    if (target > c.seg[CS].limit) c.fault(kGP, 0);
    return target;
}
struct JmpE {
    template <class T> static void f(Cpu& c, const Insn& i) { c.eip = check_target<T>(c, load_rm<T>(c, i)); }
};
struct CallRel {
    template <class T> static void f(Cpu& c, const Insn& i) {
        uint32_t t = check_target<T>(c, c.eip + i.imm);
        c.push<T>(T(c.eip));
        c.eip = t;
    }
};
struct CallE {
    template <class T> static void f(Cpu& c, const Insn& i) {
        uint32_t t = check_target<T>(c, load_rm<T>(c, i));
        c.push<T>(T(c.eip));
        c.eip = t;
    }
};
struct Ret {
    template <class T> static void f(Cpu& c, const Insn& i) {
        T t = c.read<T>(SS, c.sp());
        uint32_t target = check_target<T>(c, t);
        c.set_sp(c.sp() + sizeof(T) + (i.imm & 0xFFFF));
        c.eip = target;
    }
};
// Far forms: a pointer immediate (imm = offset, imm2 = selector) or m16:16/m16:32.
template <bool CALL> void h_far_ptr(Cpu& c, const Insn& i) {
    unsigned osize = i.o32() ? 4 : 2;
    if (CALL) c.far_call(i.imm2, i.imm, osize);
    else c.far_jump(i.imm2, i.imm, osize);
}
template <bool CALL> void h_far_mem(Cpu& c, const Insn& i) {
    if (!i.mem()) c.fault(kUD);
    unsigned osize = i.o32() ? 4 : 2;
    uint32_t off = c.ea(i);
    uint32_t target = osize == 4 ? c.read<uint32_t>(i.seg, off) : c.read<uint16_t>(i.seg, off);
    uint16_t sel = c.read<uint16_t>(i.seg, off + osize);
    if (CALL) c.far_call(sel, target, osize);
    else c.far_jump(sel, target, osize);
}
void h_retf(Cpu& c, const Insn& i) { c.far_return(i.o32() ? 4 : 2, uint16_t(i.imm)); }
void h_iret(Cpu& c, const Insn& i) { c.iret(i.o32() ? 4 : 2); }

// INT n is IOPL-sensitive in V86 mode (SDM vol.3 20.3.3, no VME); INT3 and INTO are not.
void h_int(Cpu& c, const Insn& i) {
    if (c.vm86 && ((c.eflags & fl::IOPL) >> 12) < 3) c.fault(kGP, 0);
    c.deliver(uint8_t(i.imm), -1, true);
}
void h_int3(Cpu& c, const Insn&) { c.deliver(kBP, -1, true); }
void h_into(Cpu& c, const Insn&) {
    if (c.get_eflags() & fl::OF) c.deliver(kOF, -1, true);
}
// INT1 / ICEBP (F1): a #DB delivered like a hardware event, without the gate DPL check.
void h_int1(Cpu& c, const Insn&) { c.deliver(kDB, -1, false); }

struct Bound {
    template <class T> static void f(Cpu& c, const Insn& i) {
        using S = std::make_signed_t<T>;
        uint32_t off = c.ea(i);
        S lo = S(c.read<T>(i.seg, off)), hi = S(c.read<T>(i.seg, off + sizeof(T)));
        S idx = S(c.reg<T>(i.reg));
        if (idx < lo || idx > hi) c.fault(kBR);
    }
};

// HLT is privileged (#GP(0) unless CPL 0). The run loop sleeps until an interrupt.
void h_hlt(Cpu& c, const Insn&) {
    if (c.pe && c.cpl != 0) c.fault(kGP, 0);
    c.halted = true;
    c.stop_block = true;
}

}  // namespace

Handler bind_control(const DecodedView& v, Insn& i) {
    const OpView& a = v.op[0];
    const bool o32 = v.zi->operand_width == 32;
    // Near branch targets follow the operand size (Zydis reports 16-bit branches with eip).
    if (o32) i.flags |= insn_flag::O32;
    else i.flags &= ~insn_flag::O32;
    switch (v.mnemonic) {
    case ZYDIS_MNEMONIC_JMP:
        if (a.kind == OpKind::Imm) return h_jmp_rel;
        if (a.kind == OpKind::Ptr) return h_far_ptr<false>;
        if (v.zi->meta.branch_type == ZYDIS_BRANCH_TYPE_FAR) return h_far_mem<false>;
        if (a.kind == OpKind::Gpr) i.rm = a.reg;
        return pick_w<JmpE>(a.size == 4);
    case ZYDIS_MNEMONIC_CALL:
        if (a.kind == OpKind::Imm) return pick_w<CallRel>(o32);
        if (a.kind == OpKind::Ptr) return h_far_ptr<true>;
        if (v.zi->meta.branch_type == ZYDIS_BRANCH_TYPE_FAR) return h_far_mem<true>;
        if (a.kind == OpKind::Gpr) i.rm = a.reg;
        return pick_w<CallE>(a.size == 4);
    case ZYDIS_MNEMONIC_RET:   // Zydis names both near (C2/C3) and far (CA/CB) returns RET
        if (v.n == 0) i.imm = 0;
        if (v.zi->opcode == 0xCA || v.zi->opcode == 0xCB) return h_retf;
        return pick_w<Ret>(o32);
    case ZYDIS_MNEMONIC_JB: case ZYDIS_MNEMONIC_JBE: case ZYDIS_MNEMONIC_JL: case ZYDIS_MNEMONIC_JLE:
    case ZYDIS_MNEMONIC_JNB: case ZYDIS_MNEMONIC_JNBE: case ZYDIS_MNEMONIC_JNL: case ZYDIS_MNEMONIC_JNLE:
    case ZYDIS_MNEMONIC_JNO: case ZYDIS_MNEMONIC_JNP: case ZYDIS_MNEMONIC_JNS: case ZYDIS_MNEMONIC_JNZ:
    case ZYDIS_MNEMONIC_JO: case ZYDIS_MNEMONIC_JP: case ZYDIS_MNEMONIC_JS: case ZYDIS_MNEMONIC_JZ:
        i.op = v.zi->opcode & 0xF;
        return o32 ? pick_jcc<true>(i.op, std::make_integer_sequence<unsigned, 16>{})
                   : pick_jcc<false>(i.op, std::make_integer_sequence<unsigned, 16>{});
    case ZYDIS_MNEMONIC_JCXZ:
    case ZYDIS_MNEMONIC_JECXZ: return h_jcxz;
    case ZYDIS_MNEMONIC_LOOP: return h_loop<0>;
    case ZYDIS_MNEMONIC_LOOPE: return h_loop<1>;
    case ZYDIS_MNEMONIC_LOOPNE: return h_loop<2>;
    case ZYDIS_MNEMONIC_IRET:
    case ZYDIS_MNEMONIC_IRETD: return h_iret;
    case ZYDIS_MNEMONIC_INT: return h_int;
    case ZYDIS_MNEMONIC_INT3: return h_int3;
    case ZYDIS_MNEMONIC_INTO: return h_into;
    case ZYDIS_MNEMONIC_INT1: return h_int1;
    case ZYDIS_MNEMONIC_BOUND:
        if (v.op[1].kind != OpKind::Mem) return nullptr;
        i.reg = a.reg;
        return pick_w<Bound>(a.size == 4);
    case ZYDIS_MNEMONIC_HLT: return h_hlt;
    default:
        // Not ours: restore the operand-size flag the decoder computed.
        if (v.code32 != bool(v.zi->attributes & ZYDIS_ATTRIB_HAS_OPERANDSIZE)) i.flags |= insn_flag::O32;
        else i.flags &= ~insn_flag::O32;
        return nullptr;
    }
}

}  // namespace lift86
