// Data movement and the stack: MOV (incl. segment registers), MOVZX/MOVSX, LEA, XCHG, XLAT,
// CMOVcc, PUSH/POP and friends, ENTER/LEAVE, LDS-family, LAHF/SAHF, flag instructions.
#include "frontend/interp.hpp"

namespace lift86 {
namespace {

// ---------------------------------------------------------------- MOV
struct MovEG {
    template <class T, bool MEM, int EA = kEaAny> static void f(Cpu& c, const Insn& i) { store_rm<T, MEM, EA>(c, i, c.reg<T>(i.reg)); }
};
struct MovGE {
    template <class T, bool MEM, int EA = kEaAny> static void f(Cpu& c, const Insn& i) { c.set_reg<T>(i.reg, load_rm<T, MEM, EA>(c, i)); }
};
struct MovEI { template <class T, bool MEM> static void f(Cpu& c, const Insn& i) { store_rm<T, MEM>(c, i, T(i.imm)); } };

// MOV Sreg, r/m16. Loading SS inhibits interrupts for one instruction (SDM vol.2 MOV).
template <bool MEM> void h_mov_sreg_load(Cpu& c, const Insn& i) {
    uint16_t sel = load_rm<uint16_t, MEM>(c, i);
    c.load_seg(i.reg, sel);
    if (i.reg == SS) {
        c.inhibit_irq = c.inhibit_debug = true;
        c.stop_block = true;
    }
}
// MOV r/m, Sreg: to memory always 16 bits; to a 32-bit register zero-extended (P6 and later).
template <bool MEM> void h_mov_sreg_store(Cpu& c, const Insn& i) {
    uint16_t sel = c.seg[i.reg].sel;
    if constexpr (MEM) c.write<uint16_t>(i.seg, c.ea(i), sel);
    else if (i.o32()) c.r[i.rm] = sel;
    else c.r16(i.rm) = sel;
}

// MOVZX / MOVSX: the source size is in Insn.op (1 or 2).
template <bool SIGN> struct MovX {
    template <class T, bool MEM, int EA = kEaAny> static void f(Cpu& c, const Insn& i) {
        uint32_t v;
        if (i.op == 1) {
            uint8_t s = load_rm<uint8_t, MEM, EA>(c, i);
            v = SIGN ? uint32_t(int32_t(int8_t(s))) : s;
        } else {
            uint16_t s = load_rm<uint16_t, MEM, EA>(c, i);
            v = SIGN ? uint32_t(int32_t(int16_t(s))) : s;
        }
        c.set_reg<T>(i.reg, T(v));
    }
};

struct Lea {   // (MEM is always true: LEA of a register is #UD)
    template <class T, bool MEM, int EA = kEaAny> static void f(Cpu& c, const Insn& i) { c.set_reg<T>(i.reg, T(ea_of<EA>(c, i))); }
};

struct Xchg {
    template <class T, bool MEM> static void f(Cpu& c, const Insn& i) {
        T a = c.reg<T>(i.reg);
        if constexpr (MEM) {
            uint32_t off = c.ea(i);
            T b = c.read<T>(i.seg, off);
            c.write<T>(i.seg, off, a);
            c.set_reg<T>(i.reg, b);
        } else {
            T b = c.reg<T>(i.rm);
            c.set_reg<T>(i.rm, a);
            c.set_reg<T>(i.reg, b);
        }
    }
};

void h_xlat(Cpu& c, const Insn& i) {
    uint32_t off = c.r[EBX] + c.r8(0);
    if (!i.a32()) off &= 0xFFFF;
    c.r8(0) = c.read<uint8_t>(i.seg, off);
}

// CMOVcc: the source is read whatever the condition (a memory source can fault; SDM vol.2).
struct Cmov {
    template <class T, bool MEM> static void f(Cpu& c, const Insn& i) {
        T v = load_rm<T, MEM>(c, i);
        if (c.cond(i.op)) c.set_reg<T>(i.reg, v);
    }
};

// ---------------------------------------------------------------- stack
struct PushR { template <class T> static void f(Cpu& c, const Insn& i) { c.push<T>(c.reg<T>(i.rm)); } };
struct PushM { template <class T> static void f(Cpu& c, const Insn& i) { c.push<T>(c.read<T>(i.seg, c.ea(i))); } };
struct PushI { template <class T> static void f(Cpu& c, const Insn& i) { c.push<T>(T(i.imm)); } };
struct PushS {
    // A 32-bit push of a segment register writes only 16 bits (P6 and later; SDM vol.2 PUSH).
    template <class T> static void f(Cpu& c, const Insn& i) {
        uint32_t nsp = (c.r[ESP] - sizeof(T)) & c.sp_mask();
        c.write<uint16_t>(SS, nsp, c.seg[i.reg].sel);
        c.set_sp(nsp);
    }
};
struct PopR { template <class T> static void f(Cpu& c, const Insn& i) { T v = c.pop<T>(); c.set_reg<T>(i.rm, v); } };
struct PopM {
    // The address is computed after ESP is incremented (SDM vol.2 POP); a fault restores ESP.
    template <class T> static void f(Cpu& c, const Insn& i) {
        uint32_t old = c.r[ESP];
        T v = c.pop<T>();
        try {
            c.write<T>(i.seg, c.ea(i), v);
        } catch (...) {
            c.r[ESP] = old;
            throw;
        }
    }
};
struct PopS {
    template <class T> static void f(Cpu& c, const Insn& i) {
        uint16_t sel = uint16_t(c.read<T>(SS, c.sp()));
        c.load_seg(i.reg, sel);
        c.set_sp(c.sp() + sizeof(T));
        if (i.reg == SS) {
            c.inhibit_irq = c.inhibit_debug = true;
            c.stop_block = true;
        }
    }
};

struct Pusha {
    template <class T> static void f(Cpu& c, const Insn&) {
        T vals[8];
        for (unsigned k = 0; k < 8; k++) vals[k] = c.reg<T>(k);   // ESP as it was before
        uint32_t sp = c.sp();
        for (unsigned k = 0; k < 8; k++) c.write<T>(SS, (sp - (k + 1) * sizeof(T)) & c.sp_mask(), vals[k]);
        c.set_sp(sp - 8 * sizeof(T));
    }
};
struct Popa {
    template <class T> static void f(Cpu& c, const Insn&) {
        uint32_t sp = c.sp();
        T vals[8];
        for (unsigned k = 0; k < 8; k++) vals[7 - k] = c.read<T>(SS, (sp + k * sizeof(T)) & c.sp_mask());
        for (unsigned k = 0; k < 8; k++)
            if (k != ESP) c.set_reg<T>(k, vals[k]);
        c.set_sp(sp + 8 * sizeof(T));
    }
};

// PUSHF/POPF (SDM vol.2): in V86 mode with IOPL < 3, #GP(0) (no VME). VM and RF are not
// stored; POPF changes IF only when CPL <= IOPL and IOPL only at CPL 0, never VM/VIP/VIF.
struct Pushf {
    template <class T> static void f(Cpu& c, const Insn&) {
        if (c.vm86 && ((c.eflags & fl::IOPL) >> 12) < 3) c.fault(kGP, 0);
        c.push<T>(T(c.get_eflags() & ~(fl::VM | fl::RF)));
    }
};
struct Popf {
    template <class T> static void f(Cpu& c, const Insn&) {
        unsigned iopl = (c.eflags & fl::IOPL) >> 12;
        if (c.vm86 && iopl < 3) c.fault(kGP, 0);
        uint32_t v = c.read<T>(SS, c.sp());
        uint32_t mask = fl::ARITH | fl::TF | fl::DF | fl::NT | fl::AC | fl::ID | fl::IF | fl::IOPL;
        if (c.pe && !c.vm86) {
            if (c.cpl > iopl) mask &= ~fl::IF;
            if (c.cpl > 0) mask &= ~fl::IOPL;
        } else if (c.vm86) {
            mask &= ~fl::IOPL;
        }
        if (sizeof(T) == 2) mask &= 0xFFFF;
        c.set_sp(c.sp() + sizeof(T));
        uint32_t old = c.get_eflags();
        c.set_eflags(((old & ~mask) | (v & mask)) & ~fl::RF);
        c.update_mode();
        c.stop_block = true;   // IF or TF may have changed: interrupts and traps are checked
    }
};

void h_lahf(Cpu& c, const Insn&) { c.r8(4) = uint8_t(c.get_eflags() & 0xD7) | 2; }
void h_sahf(Cpu& c, const Insn&) {
    constexpr uint32_t m = fl::SF | fl::ZF | fl::AF | fl::PF | fl::CF;
    c.set_flags_eager(m, c.r8(4));
}

// ENTER imm16, imm8 (SDM vol.2 ENTER pseudo-code; the nesting level is taken modulo 32).
struct Enter {
    template <class T> static void f(Cpu& c, const Insn& i) {
        const uint32_t size = i.imm & 0xFFFF;
        const unsigned level = i.imm2 & 31;
        const uint32_t mask = c.sp_mask();
        uint32_t sp = c.sp();
        uint32_t bp = c.stack32 ? c.r[EBP] : c.r16(EBP);
        sp = (sp - sizeof(T)) & mask;
        c.write<T>(SS, sp, T(c.r[EBP]));
        const uint32_t frame = sp;
        for (unsigned k = 1; k < level; k++) {
            bp = (bp - sizeof(T)) & mask;
            T v = c.read<T>(SS, bp);
            sp = (sp - sizeof(T)) & mask;
            c.write<T>(SS, sp, v);
        }
        if (level > 0) {
            sp = (sp - sizeof(T)) & mask;
            c.write<T>(SS, sp, T(frame));
        }
        sp = (sp - size) & mask;
        // The new stack top must be writable: touch it so a #SS/#PF comes before any state change.
        if (size) c.write<uint8_t>(SS, sp, c.read<uint8_t>(SS, sp));
        c.set_reg<T>(EBP, T(frame));
        c.set_sp(sp);
    }
};
struct Leave {
    template <class T> static void f(Cpu& c, const Insn&) {
        uint32_t bp = c.stack32 ? c.r[EBP] : c.r16(EBP);
        T v = c.read<T>(SS, bp);
        c.set_sp(bp + sizeof(T));
        c.set_reg<T>(EBP, v);
    }
};

// LDS/LES/LFS/LGS/LSS r, m16:16/32: the segment is loaded (and checked) before the register.
struct LoadFar {
    template <class T> static void f(Cpu& c, const Insn& i) {
        uint32_t off = c.ea(i);
        T o = c.read<T>(i.seg, off);
        uint16_t sel = c.read<uint16_t>(i.seg, off + sizeof(T));
        c.load_seg(i.op, sel);
        c.set_reg<T>(i.reg, o);
        if (i.op == SS) c.stop_block = true;
    }
};

// ---------------------------------------------------------------- flags
void h_clc(Cpu& c, const Insn&) { c.set_flags_eager(fl::CF, 0); }
void h_stc(Cpu& c, const Insn&) { c.set_flags_eager(fl::CF, fl::CF); }
void h_cmc(Cpu& c, const Insn&) { c.set_flags_eager(fl::CF, c.cf() ? 0 : fl::CF); }
void h_cld(Cpu& c, const Insn&) { c.eflags &= ~fl::DF; }
void h_std(Cpu& c, const Insn&) { c.eflags |= fl::DF; }
// CLI/STI: #GP(0) when CPL > IOPL in protected mode or IOPL < 3 in V86 mode (no PVI/VME).
void check_iopl(Cpu& c) {
    unsigned iopl = (c.eflags & fl::IOPL) >> 12;
    if (c.pe && c.cpl > iopl) c.fault(kGP, 0);
}
void h_cli(Cpu& c, const Insn&) {
    check_iopl(c);
    c.eflags &= ~fl::IF;
}
void h_sti(Cpu& c, const Insn&) {
    check_iopl(c);
    if (!(c.eflags & fl::IF)) {
        c.eflags |= fl::IF;
        c.inhibit_irq = true;   // interrupts are recognised after the next instruction
        c.stop_block = true;
    }
}
void h_nop(Cpu&, const Insn&) {}

}  // namespace

Handler bind_data(const DecodedView& v, Insn& i) {
    const OpView &a = v.op[0], &b = v.op[1];
    switch (v.mnemonic) {
    case ZYDIS_MNEMONIC_MOV:
        if (v.n != 2) return nullptr;
        if (a.kind == OpKind::Sreg) {
            if (a.reg == CS) return nullptr;   // MOV CS, r/m is #UD
            i.reg = a.reg;
            return rm_of(b, i) ? h_mov_sreg_load<true> : h_mov_sreg_load<false>;
        }
        if (b.kind == OpKind::Sreg) {
            i.reg = b.reg;
            return rm_of(a, i) ? h_mov_sreg_store<true> : h_mov_sreg_store<false>;
        }
        if (b.kind == OpKind::Imm) return pick_sm<MovEI>(a.size, rm_of(a, i));
        if (b.kind == OpKind::Gpr && (a.kind == OpKind::Gpr || a.kind == OpKind::Mem)) {
            i.reg = b.reg;
            return pick_sm_ea<MovEG>(b.size, rm_of(a, i), i);
        }
        if (a.kind == OpKind::Gpr && b.kind == OpKind::Mem) {
            i.reg = a.reg;
            return pick_sm_ea<MovGE>(a.size, true, i);
        }
        return nullptr;
    case ZYDIS_MNEMONIC_MOVZX:
    case ZYDIS_MNEMONIC_MOVSX: {
        i.reg = a.reg;
        i.op = b.size;
        bool mem = rm_of(b, i);
        return v.mnemonic == ZYDIS_MNEMONIC_MOVZX ? pick_sm_ea<MovX<false>>(a.size, mem, i) : pick_sm_ea<MovX<true>>(a.size, mem, i);
    }
    case ZYDIS_MNEMONIC_LEA:
        if (b.kind != OpKind::Mem) return nullptr;   // LEA with a register source is #UD
        i.reg = a.reg;
        return pick_sm_ea<Lea>(a.size == 4 ? 4 : 2, true, i);
    case ZYDIS_MNEMONIC_XCHG:
        if (a.kind == OpKind::Mem) {
            i.reg = b.reg;
            return pick_sm<Xchg>(b.size, true);
        }
        i.reg = a.reg;
        return pick_sm<Xchg>(a.size, rm_of(b, i));
    case ZYDIS_MNEMONIC_NOP: return h_nop;
    // ENDBR32 (F3 0F 1E FB) sits in the P6's reserved-NOP space 0F 19..0F 1F: a NOP there.
    case ZYDIS_MNEMONIC_ENDBR32: return h_nop;
    case ZYDIS_MNEMONIC_XLAT: return h_xlat;
    case ZYDIS_MNEMONIC_CMOVB: case ZYDIS_MNEMONIC_CMOVBE: case ZYDIS_MNEMONIC_CMOVL: case ZYDIS_MNEMONIC_CMOVLE:
    case ZYDIS_MNEMONIC_CMOVNB: case ZYDIS_MNEMONIC_CMOVNBE: case ZYDIS_MNEMONIC_CMOVNL: case ZYDIS_MNEMONIC_CMOVNLE:
    case ZYDIS_MNEMONIC_CMOVNO: case ZYDIS_MNEMONIC_CMOVNP: case ZYDIS_MNEMONIC_CMOVNS: case ZYDIS_MNEMONIC_CMOVNZ:
    case ZYDIS_MNEMONIC_CMOVO: case ZYDIS_MNEMONIC_CMOVP: case ZYDIS_MNEMONIC_CMOVS: case ZYDIS_MNEMONIC_CMOVZ:
        i.op = v.zi->opcode & 0xF;
        i.reg = a.reg;
        return pick_sm<Cmov>(a.size, rm_of(b, i));
    case ZYDIS_MNEMONIC_PUSH: {
        bool o32 = v.zi->operand_width == 32;
        switch (a.kind) {
        case OpKind::Gpr: i.rm = a.reg; return pick_w<PushR>(a.size == 4);
        case OpKind::Mem: return pick_w<PushM>(a.size == 4);
        case OpKind::Imm: return pick_w<PushI>(o32);
        case OpKind::Sreg: i.reg = a.reg; return pick_w<PushS>(o32);
        default: return nullptr;
        }
    }
    case ZYDIS_MNEMONIC_POP: {
        bool o32 = v.zi->operand_width == 32;
        switch (a.kind) {
        case OpKind::Gpr: i.rm = a.reg; return pick_w<PopR>(a.size == 4);
        case OpKind::Mem: return pick_w<PopM>(a.size == 4);
        case OpKind::Sreg:
            if (a.reg == CS) return nullptr;
            i.reg = a.reg;
            return pick_w<PopS>(o32);
        default: return nullptr;
        }
    }
    case ZYDIS_MNEMONIC_PUSHA: return pick_w<Pusha>(false);
    case ZYDIS_MNEMONIC_PUSHAD: return pick_w<Pusha>(true);
    case ZYDIS_MNEMONIC_POPA: return pick_w<Popa>(false);
    case ZYDIS_MNEMONIC_POPAD: return pick_w<Popa>(true);
    case ZYDIS_MNEMONIC_PUSHF: return pick_w<Pushf>(false);
    case ZYDIS_MNEMONIC_PUSHFD: return pick_w<Pushf>(true);
    case ZYDIS_MNEMONIC_POPF: return pick_w<Popf>(false);
    case ZYDIS_MNEMONIC_POPFD: return pick_w<Popf>(true);
    case ZYDIS_MNEMONIC_LAHF: return h_lahf;
    case ZYDIS_MNEMONIC_SAHF: return h_sahf;
    case ZYDIS_MNEMONIC_ENTER: return pick_w<Enter>(v.zi->operand_width == 32);
    case ZYDIS_MNEMONIC_LEAVE: return pick_w<Leave>(v.zi->operand_width == 32);
    case ZYDIS_MNEMONIC_LDS: i.op = DS; goto load_far;
    case ZYDIS_MNEMONIC_LES: i.op = ES; goto load_far;
    case ZYDIS_MNEMONIC_LFS: i.op = FS; goto load_far;
    case ZYDIS_MNEMONIC_LGS: i.op = GS; goto load_far;
    case ZYDIS_MNEMONIC_LSS: i.op = SS; goto load_far;
    load_far:
        if (b.kind != OpKind::Mem) return nullptr;   // register source: #UD
        i.reg = a.reg;
        return pick_w<LoadFar>(a.size == 4);
    case ZYDIS_MNEMONIC_CLC: return h_clc;
    case ZYDIS_MNEMONIC_STC: return h_stc;
    case ZYDIS_MNEMONIC_CMC: return h_cmc;
    case ZYDIS_MNEMONIC_CLD: return h_cld;
    case ZYDIS_MNEMONIC_STD: return h_std;
    case ZYDIS_MNEMONIC_CLI: return h_cli;
    case ZYDIS_MNEMONIC_STI: return h_sti;
    default: return nullptr;
    }
}

}  // namespace lift86
