// Integer arithmetic and logic: ADD..CMP/TEST, INC/DEC/NOT/NEG, shifts and rotates, SHLD/SHRD,
// MUL/IMUL/DIV/IDIV, bit tests and scans, BCD adjusts, XADD/CMPXCHG/CMPXCHG8B, BSWAP, SETcc.
// Flag definitions follow the Intel SDM vol.2 page of each instruction; where the SDM says
// "undefined" the value chosen is noted.
#include "frontend/interp.hpp"

namespace lift86 {
namespace {

enum AluOp { ADD, OR, ADC, SBB, AND, SUB, XOR, CMP, TEST };

// Computes a two-operand ALU result; `cin` is the carry-in for ADC/SBB.
template <int OP, class T> inline T alu_result(T a, T b, uint32_t cin) {
    if constexpr (OP == ADD) return T(a + b);
    else if constexpr (OP == ADC) return T(a + b + cin);
    else if constexpr (OP == SUB || OP == CMP) return T(a - b);
    else if constexpr (OP == SBB) return T(a - b - cin);
    else if constexpr (OP == AND || OP == TEST) return T(a & b);
    else if constexpr (OP == OR) return T(a | b);
    else return T(a ^ b);
}
template <int OP, class T> inline void alu_flags(Cpu& c, T r, T a, T b, uint32_t cin) {
    constexpr unsigned n = bits_of<T>;
    if constexpr (OP == ADD) c.set_arith(LazyOp::Add, n, r, a, b);
    else if constexpr (OP == ADC) c.set_arith(LazyOp::Adc, n, r, a, b, cin);
    else if constexpr (OP == SUB || OP == CMP) c.set_arith(LazyOp::Sub, n, r, a, b);
    else if constexpr (OP == SBB) c.set_arith(LazyOp::Sbb, n, r, a, b, cin);
    else c.set_arith(LazyOp::Logic, n, r, a, b);
}
template <int OP> constexpr bool writes_back = OP != CMP && OP != TEST;

// dst = dst OP src, where dst is r/m and src is a register (E,G) or an immediate (E,I);
// or dst is a register and src is r/m (G,E). The result is stored before flags are set, so
// a faulting store leaves the flags untouched (precise exceptions).
template <int OP, class T, bool MEM, int EA> inline void alu_apply_rm(Cpu& c, const Insn& i, T b) {
    uint32_t cin = (OP == ADC || OP == SBB) ? c.cf() : 0;
    if constexpr (MEM) {
        uint32_t off = ea_of<EA>(c, i);
        T a = c.read<T>(i.seg, off);
        T r = alu_result<OP>(a, b, cin);
        if constexpr (writes_back<OP>) c.write<T>(i.seg, off, r);
        alu_flags<OP>(c, r, a, b, cin);
    } else {
        T a = c.reg<T>(i.rm);
        T r = alu_result<OP>(a, b, cin);
        if constexpr (writes_back<OP>) c.set_reg<T>(i.rm, r);
        alu_flags<OP>(c, r, a, b, cin);
    }
}
template <int OP> struct AluEG {
    template <class T, bool MEM, int EA = kEaAny> static void f(Cpu& c, const Insn& i) {
        alu_apply_rm<OP, T, MEM, EA>(c, i, c.reg<T>(i.reg));
    }
};
template <int OP> struct AluEI {
    template <class T, bool MEM, int EA = kEaAny> static void f(Cpu& c, const Insn& i) {
        alu_apply_rm<OP, T, MEM, EA>(c, i, T(i.imm));
    }
};
template <int OP> struct AluGE {
    template <class T, bool MEM, int EA = kEaAny> static void f(Cpu& c, const Insn& i) {
        uint32_t cin = (OP == ADC || OP == SBB) ? c.cf() : 0;
        T a = c.reg<T>(i.reg), b = load_rm<T, MEM, EA>(c, i);
        T r = alu_result<OP>(a, b, cin);
        if constexpr (writes_back<OP>) c.set_reg<T>(i.reg, r);
        alu_flags<OP>(c, r, a, b, cin);
    }
};

template <int OP> Handler bind_alu_op(const DecodedView& v, Insn& i) {
    const OpView &d = v.op[0], &s = v.op[1];
    if (v.n != 2) return nullptr;
    unsigned size = d.size;
    if (s.kind == OpKind::Imm) {
        if (d.kind == OpKind::Gpr) i.rm = d.reg;
        return pick_sm_ea<AluEI<OP>>(size, d.kind == OpKind::Mem, i);
    }
    if (d.kind == OpKind::Mem && s.kind == OpKind::Gpr) {
        i.reg = s.reg;
        return pick_sm_ea<AluEG<OP>>(size, true, i);
    }
    if (d.kind == OpKind::Gpr && s.kind == OpKind::Gpr) {
        i.rm = d.reg;
        i.reg = s.reg;
        return pick_sm<AluEG<OP>>(size, false);
    }
    if (d.kind == OpKind::Gpr && s.kind == OpKind::Mem) {
        i.reg = d.reg;
        return pick_sm_ea<AluGE<OP>>(size, true, i);
    }
    return nullptr;
}

// ---------------------------------------------------------------- INC DEC NOT NEG
enum UnOp { INC, DEC, NOT, NEG };
template <int OP> struct Unary {
    template <class T, bool MEM> static void f(Cpu& c, const Insn& i) {
        uint32_t off = MEM ? c.ea(i) : 0;
        T a = MEM ? c.read<T>(i.seg, off) : c.reg<T>(i.rm);
        T r = OP == INC ? T(a + 1) : OP == DEC ? T(a - 1) : OP == NOT ? T(~a) : T(0 - a);
        uint32_t keep_cf = (OP == INC || OP == DEC) ? c.cf() : 0;   // INC/DEC leave CF alone
        if constexpr (MEM) c.write<T>(i.seg, off, r);
        else c.set_reg<T>(i.rm, r);
        if constexpr (OP == INC) c.set_arith(LazyOp::Inc, bits_of<T>, r, a, 1, keep_cf);
        else if constexpr (OP == DEC) c.set_arith(LazyOp::Dec, bits_of<T>, r, a, 1, keep_cf);
        else if constexpr (OP == NEG) c.set_arith(LazyOp::Sub, bits_of<T>, r, 0, a);
    }
};

// ---------------------------------------------------------------- shifts and rotates
enum ShOp { ROL, ROR, RCL, RCR, SHL, SHR, SAR };

inline uint32_t szp(uint32_t r, unsigned n) {
    uint32_t mask = n == 32 ? 0xFFFFFFFFu : (1u << n) - 1;
    r &= mask;
    uint8_t lo = uint8_t(r);
    lo ^= lo >> 4; lo ^= lo >> 2; lo ^= lo >> 1;
    return (r == 0 ? fl::ZF : 0) | ((r >> (n - 1)) & 1 ? fl::SF : 0) | ((lo & 1) ? 0 : fl::PF);
}

// Returns the result and sets the flags the SDM defines (OF is computed with the count-1
// formula for every count; the SDM leaves it undefined for counts > 1). AF: undefined, 0.
struct ShiftFlags { uint32_t mask, values; };
template <int OP, class T> inline T shift(Cpu& c, T a, unsigned count, bool& changed, ShiftFlags& out) {
    constexpr unsigned n = bits_of<T>;
    const unsigned cnt = count & 0x1F;   // masked to 5 bits on the 286 and later
    changed = cnt != 0;
    if (!cnt) return a;
    uint32_t cf = (OP == RCL || OP == RCR) ? c.cf() : 0;   // only the rotates through CF read it
    T r;
    uint32_t newf;   // flags computed: mask of what is written
    uint32_t mask = fl::CF | fl::OF;
    switch (OP) {
    case ROL: {
        unsigned t = cnt % n;
        r = t ? T((a << t) | (a >> (n - t))) : a;
        cf = r & 1;
        newf = (cf ? fl::CF : 0) | ((((r >> (n - 1)) & 1) ^ cf) ? fl::OF : 0);
        break;
    }
    case ROR: {
        unsigned t = cnt % n;
        r = t ? T((a >> t) | (a << (n - t))) : a;
        uint32_t m1 = (r >> (n - 1)) & 1, m2 = (r >> (n - 2)) & 1;
        newf = (m1 ? fl::CF : 0) | ((m1 ^ m2) ? fl::OF : 0);
        break;
    }
    case RCL: {
        unsigned t = n == 32 ? cnt : cnt % (n + 1);
        uint64_t wide = (uint64_t(cf) << n) | a;   // n+1 bit rotate
        for (unsigned k = 0; k < t; k++) {
            uint64_t top = (wide >> n) & 1;
            wide = ((wide << 1) | top) & ((uint64_t(2) << n) - 1);
        }
        r = T(wide);
        cf = (wide >> n) & 1;
        newf = (cf ? fl::CF : 0) | ((((r >> (n - 1)) & 1) ^ cf) ? fl::OF : 0);
        break;
    }
    case RCR: {
        unsigned t = n == 32 ? cnt : cnt % (n + 1);
        uint32_t of = ((a >> (n - 1)) & 1) ^ cf;   // computed before the rotation (SDM RCR)
        uint64_t wide = (uint64_t(cf) << n) | a;
        for (unsigned k = 0; k < t; k++) {
            uint64_t low = wide & 1;
            wide = (wide >> 1) | (low << n);
        }
        r = T(wide);
        cf = (wide >> n) & 1;
        newf = (cf ? fl::CF : 0) | (of ? fl::OF : 0);
        break;
    }
    case SHL: {
        r = cnt < n ? T(a << cnt) : T(0);
        cf = cnt <= n ? (a >> (n - cnt)) & 1 : 0;
        newf = (cf ? fl::CF : 0) | ((((r >> (n - 1)) & 1) ^ cf) ? fl::OF : 0) | szp(r, n);
        mask = fl::ARITH;
        break;
    }
    case SHR: {
        r = cnt < n ? T(a >> cnt) : T(0);
        cf = cnt <= n ? (a >> (cnt - 1)) & 1 : 0;
        newf = (cf ? fl::CF : 0) | (((a >> (n - 1)) & 1) ? fl::OF : 0) | szp(r, n);
        mask = fl::ARITH;
        break;
    }
    default: {   // SAR
        using S = std::make_signed_t<T>;
        unsigned t = cnt < n ? cnt : n - 1;
        r = T(S(a) >> t);
        cf = cnt < n ? (S(a) >> (cnt - 1)) & 1 : (a >> (n - 1)) & 1;
        newf = (cf ? fl::CF : 0) | szp(r, n);
        mask = fl::ARITH;
        break;
    }
    }
    out = {mask, newf};
    return r;
}

template <int OP, bool BY_CL> struct Shift {
    template <class T, bool MEM> static void f(Cpu& c, const Insn& i) {
        unsigned count = BY_CL ? c.r8(1) : i.imm;
        uint32_t off = MEM ? c.ea(i) : 0;
        T a = MEM ? c.read<T>(i.seg, off) : c.reg<T>(i.rm);
        bool changed;
        ShiftFlags pf;
        T r = shift<OP, T>(c, a, count, changed, pf);
        if (!changed) return;   // flags are committed after the store (precise exceptions)
        if constexpr (MEM) c.write<T>(i.seg, off, r);
        else c.set_reg<T>(i.rm, r);
        c.set_flags_eager(pf.mask, pf.values);
    }
};

// SHLD/SHRD (SDM vol.2): count masked to 5 bits; a count above the operand size gives an
// undefined result (here: the double shift continued through the 64-bit window).
template <bool LEFT, bool BY_CL> struct DoubleShift {
    template <class T, bool MEM> static void f(Cpu& c, const Insn& i) {
        constexpr unsigned n = bits_of<T>;
        unsigned cnt = (BY_CL ? c.r8(1) : i.imm) & 0x1F;
        if (!cnt) return;
        uint32_t off = MEM ? c.ea(i) : 0;
        T a = MEM ? c.read<T>(i.seg, off) : c.reg<T>(i.rm);
        T b = c.reg<T>(i.reg);
        T r;
        uint32_t cf;
        if constexpr (LEFT) {
            uint64_t w = (uint64_t(a) << n) | b;   // a:b, a in the high half
            if (n == 16) w = (w << 16) | a;         // 16-bit: a:b:a so counts 17..31 continue
            unsigned total = n == 16 ? 48 : 64;
            r = T(w >> (total - n - cnt));
            cf = (w >> (total - cnt)) & 1;
        } else {
            uint64_t w = (uint64_t(b) << n) | a;   // b:a, a in the low half
            if (n == 16) w |= uint64_t(a) << 32;
            r = T(w >> cnt);
            cf = (w >> (cnt - 1)) & 1;
        }
        uint32_t of = ((r ^ a) >> (n - 1)) & 1;   // sign change (defined for count 1)
        if constexpr (MEM) c.write<T>(i.seg, off, r);
        else c.set_reg<T>(i.rm, r);
        c.set_flags_eager(fl::CF | fl::OF | fl::SF | fl::ZF | fl::PF | fl::AF,
                          (cf ? fl::CF : 0) | (of ? fl::OF : 0) | szp(r, n));
    }
};

// ---------------------------------------------------------------- multiply and divide
// MUL/IMUL: CF = OF = the upper half is significant. SF/ZF/PF: undefined, computed from the
// low half as P6 does for most cases; AF undefined, 0.
template <bool SIGNED> struct MulAcc {
    template <class T, bool MEM> static void f(Cpu& c, const Insn& i) {
        constexpr unsigned n = bits_of<T>;
        T src = load_rm<T, MEM>(c, i);
        uint64_t lo, hi;
        bool over;
        if constexpr (SIGNED) {
            using S = std::make_signed_t<T>;
            int64_t p = int64_t(S(c.reg<T>(EAX))) * int64_t(S(src));
            lo = uint64_t(p) & ((uint64_t(1) << n) - 1);
            hi = (uint64_t(p) >> n) & ((uint64_t(1) << n) - 1);
            over = p != int64_t(S(T(lo)));
        } else {
            uint64_t p = uint64_t(c.reg<T>(EAX)) * uint64_t(src);
            lo = p & ((uint64_t(1) << n) - 1);
            hi = p >> n;
            over = hi != 0;
        }
        if constexpr (n == 8) c.r16(EAX) = uint16_t(lo | (hi << 8));
        else {
            c.set_reg<T>(EAX, T(lo));
            c.set_reg<T>(EDX, T(hi));
        }
        c.set_flags_eager(fl::ARITH, (over ? fl::CF | fl::OF : 0) | szp(uint32_t(lo), n));
    }
};
// IMUL r, r/m (, imm): truncated product; CF = OF = truncation lost significant bits.
template <bool IMM> struct ImulG {
    template <class T, bool MEM> static void f(Cpu& c, const Insn& i) {
        using S = std::make_signed_t<T>;
        T a = IMM ? T(i.imm) : c.reg<T>(i.reg);
        T b = load_rm<T, MEM>(c, i);
        int64_t p = int64_t(S(a)) * int64_t(S(b));
        T r = T(p);
        c.set_reg<T>(i.reg, r);
        bool over = p != int64_t(S(r));
        c.set_flags_eager(fl::ARITH, (over ? fl::CF | fl::OF : 0) | szp(r, bits_of<T>));
    }
};
// DIV/IDIV: #DE on a zero divisor or a quotient that does not fit (SDM vol.2 DIV, IDIV);
// flags undefined, left unchanged.
template <bool SIGNED> struct Div {
    template <class T, bool MEM> static void f(Cpu& c, const Insn& i) {
        constexpr unsigned n = bits_of<T>;
        T d = load_rm<T, MEM>(c, i);
        if (d == 0) c.fault(kDE);
        uint64_t dividend = n == 8 ? c.r16(EAX)
                          : n == 16 ? (uint32_t(c.r16(EDX)) << 16) | c.r16(EAX)
                                    : (uint64_t(c.r[EDX]) << 32) | c.r[EAX];
        uint64_t q, rem;
        if constexpr (SIGNED) {
            using S = std::make_signed_t<T>;
            // Sign-extend the 2n-bit dividend.
            int64_t dv = n == 32 ? int64_t(dividend) : int64_t(dividend << (64 - 2 * n)) >> (64 - 2 * n);
            int64_t ds = S(d);
            if (ds == -1 && dv == INT64_MIN) c.fault(kDE);   // would trap the host too
            int64_t qs = dv / ds, rs = dv % ds;
            int64_t lim = int64_t(1) << (n - 1);
            if (qs >= lim || qs < -lim) c.fault(kDE);
            q = uint64_t(qs);
            rem = uint64_t(rs);
        } else {
            q = dividend / d;
            rem = dividend % d;
            if (q >> n) c.fault(kDE);
        }
        if constexpr (n == 8) c.r16(EAX) = uint16_t((q & 0xFF) | ((rem & 0xFF) << 8));
        else {
            c.set_reg<T>(EAX, T(q));
            c.set_reg<T>(EDX, T(rem));
        }
    }
};

// ---------------------------------------------------------------- bit test / scan
enum BtOp { BT, BTS, BTR, BTC };
// With a register bit offset and a memory operand the offset is signed and may reach outside
// the addressed word (SDM vol.2 BT, "bit base"); with an immediate it is taken modulo the size.
template <int OP, bool IMM> struct BitTest {
    template <class T, bool MEM> static void f(Cpu& c, const Insn& i) {
        constexpr unsigned n = bits_of<T>;
        uint32_t bitoff = IMM ? i.imm : c.reg<T>(i.reg);
        uint32_t bit = bitoff & (n - 1);
        T v, r;
        uint32_t off = 0;
        if constexpr (MEM) {
            off = c.ea(i);
            if (!IMM) {
                using S = std::make_signed_t<T>;
                int32_t words = int32_t(S(T(bitoff))) >> (n == 16 ? 4 : 5);
                off += uint32_t(words) * sizeof(T);
                if (!i.a32()) off &= 0xFFFF;
            }
            v = c.read<T>(i.seg, off);
        } else {
            v = c.reg<T>(i.rm);
        }
        bool old = (v >> bit) & 1;
        r = OP == BTS ? T(v | (T(1) << bit)) : OP == BTR ? T(v & ~(T(1) << bit)) : OP == BTC ? T(v ^ (T(1) << bit)) : v;
        if constexpr (OP != BT) {
            if constexpr (MEM) c.write<T>(i.seg, off, r);
            else c.set_reg<T>(i.rm, r);
        }
        c.set_flags_eager(fl::CF, old ? fl::CF : 0);
    }
};
// BSF/BSR: ZF = source is zero; then the destination is left unchanged (P6 behaviour).
template <bool REVERSE> struct BitScan {
    template <class T, bool MEM> static void f(Cpu& c, const Insn& i) {
        T s = load_rm<T, MEM>(c, i);
        if (!s) {
            c.set_flags_eager(fl::ZF, fl::ZF);
            return;
        }
        unsigned idx = REVERSE ? 31 - __builtin_clz(uint32_t(s)) : __builtin_ctz(uint32_t(s));
        c.set_reg<T>(i.reg, T(idx));
        c.set_flags_eager(fl::ZF, 0);
    }
};

// ---------------------------------------------------------------- exchange-and-op
template <class T, bool MEM> void xadd_impl(Cpu& c, const Insn& i) {
    uint32_t off = MEM ? c.ea(i) : 0;
    T a = MEM ? c.read<T>(i.seg, off) : c.reg<T>(i.rm);
    T b = c.reg<T>(i.reg);
    T r = T(a + b);
    if constexpr (MEM) c.write<T>(i.seg, off, r);
    c.set_reg<T>(i.reg, a);
    if constexpr (!MEM) c.set_reg<T>(i.rm, r);
    c.set_arith(LazyOp::Add, bits_of<T>, r, a, b);
}
struct Xadd { template <class T, bool MEM> static void f(Cpu& c, const Insn& i) { xadd_impl<T, MEM>(c, i); } };

// CMPXCHG: compare the accumulator with the destination; the destination is always written
// (with its old value on mismatch), as the locked bus cycle does (SDM vol.2 CMPXCHG).
struct Cmpxchg {
    template <class T, bool MEM> static void f(Cpu& c, const Insn& i) {
        uint32_t off = MEM ? c.ea(i) : 0;
        T d = MEM ? c.read<T>(i.seg, off) : c.reg<T>(i.rm);
        T acc = c.reg<T>(EAX);
        T nv = acc == d ? c.reg<T>(i.reg) : d;
        if constexpr (MEM) c.write<T>(i.seg, off, nv);
        else c.set_reg<T>(i.rm, nv);
        if (acc != d) c.set_reg<T>(EAX, d);
        c.set_arith(LazyOp::Sub, bits_of<T>, T(acc - d), acc, d);
    }
};

void h_cmpxchg8b(Cpu& c, const Insn& i) {
    if (!i.mem()) c.fault(kUD);
    uint32_t off = c.ea(i);
    uint32_t lo = c.read<uint32_t>(i.seg, off), hi = c.read<uint32_t>(i.seg, off + 4);
    bool eq = lo == c.r[EAX] && hi == c.r[EDX];
    if (eq) {
        c.write<uint32_t>(i.seg, off + 4, c.r[ECX]);   // check the high half first: precise
        c.write<uint32_t>(i.seg, off, c.r[EBX]);
    } else {
        c.write<uint32_t>(i.seg, off + 4, hi);
        c.write<uint32_t>(i.seg, off, lo);
        c.r[EAX] = lo;
        c.r[EDX] = hi;
    }
    c.set_flags_eager(fl::ZF, eq ? fl::ZF : 0);
}

// BSWAP r32; with a 16-bit operand the result is undefined (P6: zero).
void h_bswap32(Cpu& c, const Insn& i) { c.r[i.rm] = __builtin_bswap32(c.r[i.rm]); }
void h_bswap16(Cpu& c, const Insn& i) { c.r16(i.rm) = 0; }

// ---------------------------------------------------------------- SETcc, conversions, BCD
template <bool MEM> void h_setcc(Cpu& c, const Insn& i) { store_rm<uint8_t, MEM>(c, i, c.cond(i.op) ? 1 : 0); }

void h_cbw(Cpu& c, const Insn&) { c.r16(EAX) = uint16_t(int16_t(int8_t(c.r8(0)))); }
void h_cwde(Cpu& c, const Insn&) { c.r[EAX] = uint32_t(int32_t(int16_t(c.r16(EAX)))); }
void h_cwd(Cpu& c, const Insn&) { c.r16(EDX) = (c.r16(EAX) & 0x8000) ? 0xFFFF : 0; }
void h_cdq(Cpu& c, const Insn&) { c.r[EDX] = (c.r[EAX] & 0x80000000u) ? 0xFFFFFFFFu : 0; }
// SALC (D6, undocumented): AL = CF ? FF : 00.
void h_salc(Cpu& c, const Insn&) { c.r8(0) = c.cf() ? 0xFF : 0; }

// DAA/DAS, following the SDM vol.2 pseudo-code literally (note DAS has no "ELSE CF <- 0" in its
// second step, DAA has). OF is undefined: left unchanged.
template <bool SUBTRACT> void h_daa(Cpu& c, const Insn&) {
    uint32_t f = c.get_eflags();
    const uint8_t old_al = c.r8(0);
    const bool old_cf = f & fl::CF;
    uint8_t al = old_al;
    bool cf = false, af = false;
    if ((al & 0xF) > 9 || (f & fl::AF)) {
        cf = old_cf || (SUBTRACT ? al < 6 : al > 0xF9);
        al = SUBTRACT ? uint8_t(al - 6) : uint8_t(al + 6);
        af = true;
    }
    if (old_al > 0x99 || old_cf) {
        al = SUBTRACT ? uint8_t(al - 0x60) : uint8_t(al + 0x60);
        cf = true;
    } else if (!SUBTRACT) {
        cf = false;
    }
    c.r8(0) = al;
    c.set_flags_eager(fl::CF | fl::AF | fl::SF | fl::ZF | fl::PF, (cf ? fl::CF : 0) | (af ? fl::AF : 0) | szp(al, 8));
}
// AAA/AAS: CF = AF = adjustment made; OF SF ZF PF undefined (computed from AL here).
template <bool SUBTRACT> void h_aaa(Cpu& c, const Insn&) {
    uint32_t f = c.get_eflags();
    bool adj = (c.r8(0) & 0xF) > 9 || (f & fl::AF);
    if (adj) {
        if (SUBTRACT) {
            c.r16(EAX) = uint16_t(c.r16(EAX) - 6);
            c.r8(4) = uint8_t(c.r8(4) - 1);
        } else {
            c.r16(EAX) = uint16_t(c.r16(EAX) + 0x106);
        }
    }
    c.r8(0) &= 0xF;
    c.set_flags_eager(fl::ARITH, (adj ? fl::CF | fl::AF : 0) | szp(c.r8(0), 8));
}
// AAM imm8: #DE when imm8 = 0. AAD imm8. SF ZF PF from AL; OF AF CF undefined (0).
void h_aam(Cpu& c, const Insn& i) {
    uint8_t base = uint8_t(i.imm);
    if (!base) c.fault(kDE);
    uint8_t al = c.r8(0);
    c.r8(4) = al / base;
    c.r8(0) = al % base;
    c.set_flags_eager(fl::ARITH, szp(c.r8(0), 8));
}
void h_aad(Cpu& c, const Insn& i) {
    uint8_t al = uint8_t(c.r8(0) + c.r8(4) * uint8_t(i.imm));
    c.r16(EAX) = al;
    c.set_flags_eager(fl::ARITH, szp(al, 8));
}

template <int OP> Handler sh_pick(const DecodedView& v, Insn& i) {
    const OpView &d = v.op[0], &s = v.op[1];
    if (v.n != 2 || (d.kind != OpKind::Gpr && d.kind != OpKind::Mem)) return nullptr;
    if (d.kind == OpKind::Gpr) i.rm = d.reg;
    if (s.kind == OpKind::Gpr) return pick_sm<Shift<OP, true>>(d.size, d.kind == OpKind::Mem);
    return pick_sm<Shift<OP, false>>(d.size, d.kind == OpKind::Mem);
}

inline bool rm0(const DecodedView& v, Insn& i) { return rm_of(v.op[0], i); }   // r/m is operand 0
inline bool rm1(const DecodedView& v, Insn& i) { return rm_of(v.op[1], i); }   // r/m is operand 1

}  // namespace

Handler bind_alu(const DecodedView& v, Insn& i) {
    switch (v.mnemonic) {
    case ZYDIS_MNEMONIC_ADD: return bind_alu_op<ADD>(v, i);
    case ZYDIS_MNEMONIC_OR: return bind_alu_op<OR>(v, i);
    case ZYDIS_MNEMONIC_ADC: return bind_alu_op<ADC>(v, i);
    case ZYDIS_MNEMONIC_SBB: return bind_alu_op<SBB>(v, i);
    case ZYDIS_MNEMONIC_AND: return bind_alu_op<AND>(v, i);
    case ZYDIS_MNEMONIC_SUB: return bind_alu_op<SUB>(v, i);
    case ZYDIS_MNEMONIC_XOR: return bind_alu_op<XOR>(v, i);
    case ZYDIS_MNEMONIC_CMP: return bind_alu_op<CMP>(v, i);
    case ZYDIS_MNEMONIC_TEST: return bind_alu_op<TEST>(v, i);
    case ZYDIS_MNEMONIC_INC: return pick_sm<Unary<INC>>(v.op[0].size, rm0(v, i));
    case ZYDIS_MNEMONIC_DEC: return pick_sm<Unary<DEC>>(v.op[0].size, rm0(v, i));
    case ZYDIS_MNEMONIC_NOT: return pick_sm<Unary<NOT>>(v.op[0].size, rm0(v, i));
    case ZYDIS_MNEMONIC_NEG: return pick_sm<Unary<NEG>>(v.op[0].size, rm0(v, i));
    case ZYDIS_MNEMONIC_ROL: return sh_pick<ROL>(v, i);
    case ZYDIS_MNEMONIC_ROR: return sh_pick<ROR>(v, i);
    case ZYDIS_MNEMONIC_RCL: return sh_pick<RCL>(v, i);
    case ZYDIS_MNEMONIC_RCR: return sh_pick<RCR>(v, i);
    case ZYDIS_MNEMONIC_SHL: return sh_pick<SHL>(v, i);
    case ZYDIS_MNEMONIC_SHR: return sh_pick<SHR>(v, i);
    case ZYDIS_MNEMONIC_SAR: return sh_pick<SAR>(v, i);
    case ZYDIS_MNEMONIC_SHLD:
    case ZYDIS_MNEMONIC_SHRD: {
        if (v.n != 3) return nullptr;
        bool mem = rm0(v, i);
        i.reg = v.op[1].reg;
        bool cl = v.op[2].kind == OpKind::Gpr;
        if (v.mnemonic == ZYDIS_MNEMONIC_SHLD)
            return cl ? pick_sm<DoubleShift<true, true>>(v.op[0].size, mem) : pick_sm<DoubleShift<true, false>>(v.op[0].size, mem);
        return cl ? pick_sm<DoubleShift<false, true>>(v.op[0].size, mem) : pick_sm<DoubleShift<false, false>>(v.op[0].size, mem);
    }
    case ZYDIS_MNEMONIC_MUL: return pick_sm<MulAcc<false>>(v.op[0].size, rm0(v, i));
    case ZYDIS_MNEMONIC_DIV: return pick_sm<Div<false>>(v.op[0].size, rm0(v, i));
    case ZYDIS_MNEMONIC_IDIV: return pick_sm<Div<true>>(v.op[0].size, rm0(v, i));
    case ZYDIS_MNEMONIC_IMUL:
        if (v.n == 1) return pick_sm<MulAcc<true>>(v.op[0].size, rm0(v, i));
        i.reg = v.op[0].reg;
        if (v.n == 2) return pick_sm<ImulG<false>>(v.op[0].size, rm1(v, i));
        if (v.n == 3) return pick_sm<ImulG<true>>(v.op[0].size, rm1(v, i));
        return nullptr;
    case ZYDIS_MNEMONIC_BT:
    case ZYDIS_MNEMONIC_BTS:
    case ZYDIS_MNEMONIC_BTR:
    case ZYDIS_MNEMONIC_BTC: {
        bool mem = rm0(v, i);
        bool imm = v.op[1].kind == OpKind::Imm;
        if (!imm) i.reg = v.op[1].reg;
        unsigned sz = v.op[0].size;
#define LIFT86_BT(OPC) return imm ? pick_sm<BitTest<OPC, true>>(sz, mem) : pick_sm<BitTest<OPC, false>>(sz, mem)
        switch (v.mnemonic) {
        case ZYDIS_MNEMONIC_BT: LIFT86_BT(BT);
        case ZYDIS_MNEMONIC_BTS: LIFT86_BT(BTS);
        case ZYDIS_MNEMONIC_BTR: LIFT86_BT(BTR);
        default: LIFT86_BT(BTC);
        }
#undef LIFT86_BT
    }
    case ZYDIS_MNEMONIC_BSF:
    case ZYDIS_MNEMONIC_BSR: {
        i.reg = v.op[0].reg;
        bool mem = rm1(v, i);
        return v.mnemonic == ZYDIS_MNEMONIC_BSF ? pick_sm<BitScan<false>>(v.op[0].size, mem)
                                                : pick_sm<BitScan<true>>(v.op[0].size, mem);
    }
    case ZYDIS_MNEMONIC_XADD: {
        bool mem = rm0(v, i);
        i.reg = v.op[1].reg;
        return pick_sm<Xadd>(v.op[0].size, mem);
    }
    case ZYDIS_MNEMONIC_CMPXCHG: {
        bool mem = rm0(v, i);
        i.reg = v.op[1].reg;
        return pick_sm<Cmpxchg>(v.op[0].size, mem);
    }
    case ZYDIS_MNEMONIC_CMPXCHG8B: return h_cmpxchg8b;
    case ZYDIS_MNEMONIC_BSWAP:
        i.rm = v.op[0].reg;
        return v.op[0].size == 4 ? h_bswap32 : h_bswap16;
    case ZYDIS_MNEMONIC_SETB: case ZYDIS_MNEMONIC_SETBE: case ZYDIS_MNEMONIC_SETL: case ZYDIS_MNEMONIC_SETLE:
    case ZYDIS_MNEMONIC_SETNB: case ZYDIS_MNEMONIC_SETNBE: case ZYDIS_MNEMONIC_SETNL: case ZYDIS_MNEMONIC_SETNLE:
    case ZYDIS_MNEMONIC_SETNO: case ZYDIS_MNEMONIC_SETNP: case ZYDIS_MNEMONIC_SETNS: case ZYDIS_MNEMONIC_SETNZ:
    case ZYDIS_MNEMONIC_SETO: case ZYDIS_MNEMONIC_SETP: case ZYDIS_MNEMONIC_SETS: case ZYDIS_MNEMONIC_SETZ:
        i.op = v.zi->opcode & 0xF;
        return rm0(v, i) ? h_setcc<true> : h_setcc<false>;
    case ZYDIS_MNEMONIC_CBW: return h_cbw;
    case ZYDIS_MNEMONIC_CWDE: return h_cwde;
    case ZYDIS_MNEMONIC_CWD: return h_cwd;
    case ZYDIS_MNEMONIC_CDQ: return h_cdq;
    case ZYDIS_MNEMONIC_SALC: return h_salc;
    case ZYDIS_MNEMONIC_DAA: return h_daa<false>;
    case ZYDIS_MNEMONIC_DAS: return h_daa<true>;
    case ZYDIS_MNEMONIC_AAA: return h_aaa<false>;
    case ZYDIS_MNEMONIC_AAS: return h_aaa<true>;
    case ZYDIS_MNEMONIC_AAM: return h_aam;
    case ZYDIS_MNEMONIC_AAD: return h_aad;
    default: return nullptr;
    }
}

}  // namespace lift86
