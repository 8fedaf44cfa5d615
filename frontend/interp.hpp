// Shared pieces of the interpreter's instruction handlers: operand access and handler picking.
// Handlers are templates over the operand type T (uint8_t/uint16_t/uint32_t) and, for the hot
// forms, over whether the r/m operand is memory, so the common paths carry no run-time switch.
#pragma once
#include "frontend/cpu.hpp"
#include "frontend/decoder.hpp"

namespace lift86 {

template <class T> constexpr unsigned bits_of = sizeof(T) * 8;
template <class T> constexpr T msb_of = T(T(1) << (bits_of<T> - 1));

// Forms of the memory operand's offset a hot handler can be specialised for at bind time
// (pick_sm_ea): the general Cpu::ea(), or 32-bit addressing with a base and a displacement,
// without or with a scaled index; those need no presence tests and no 16-bit wrap.
enum EaForm : int { kEaAny = 0, kEaBase32 = 1, kEaBaseIndex32 = 2 };
template <int EA> inline uint32_t ea_of(const Cpu& c, const Insn& i) {
    if constexpr (EA == kEaBase32) return uint32_t(i.disp) + c.r[i.base];
    else if constexpr (EA == kEaBaseIndex32) return uint32_t(i.disp) + c.r[i.base] + (c.r[i.index] << i.scale);
    else return c.ea(i);
}

template <class T, bool MEM, int EA = kEaAny> inline T load_rm(Cpu& c, const Insn& i) {
    if constexpr (MEM) return c.read<T>(i.seg, ea_of<EA>(c, i));
    else return c.reg<T>(i.rm);
}
template <class T, bool MEM, int EA = kEaAny> inline void store_rm(Cpu& c, const Insn& i, T v) {
    if constexpr (MEM) c.write<T>(i.seg, ea_of<EA>(c, i), v);
    else c.set_reg<T>(i.rm, v);
}
template <class T> inline T load_rm(Cpu& c, const Insn& i) {
    return i.mem() ? load_rm<T, true>(c, i) : load_rm<T, false>(c, i);
}
template <class T> inline void store_rm(Cpu& c, const Insn& i, T v) {
    if (i.mem()) store_rm<T, true>(c, i, v);
    else store_rm<T, false>(c, i, v);
}

// Jumps within the code segment: EIP wraps to the operand size, and beyond the CS limit is #GP(0)
// (SDM vol.2 JMP/Jcc: "IF tempEIP is not within code segment limit THEN #GP(0)").
inline void near_branch(Cpu& c, uint32_t target, bool o32) {
    if (!o32) target &= 0xFFFF;
    if (target > c.seg[CS].limit) c.fault(kGP, 0);
    c.eip = target;
}

// Handler picking. A handler family is a struct with a static member template `f`:
// `f<T, MEM>` (pick_sm), `f<T>` (pick_s: sizes 1/2/4, pick_w: operand size 16/32).
template <class S> Handler pick_sm(unsigned size, bool mem) {
    if (size == 1) return mem ? &S::template f<uint8_t, true> : &S::template f<uint8_t, false>;
    if (size == 2) return mem ? &S::template f<uint16_t, true> : &S::template f<uint16_t, false>;
    return mem ? &S::template f<uint32_t, true> : &S::template f<uint32_t, false>;
}
// pick_sm for a family whose `f<T, MEM, EA>` also takes an EaForm: a 32-bit memory operand
// with a base gets the kEaBase32 or kEaBaseIndex32 instance. The Insn's memory operand is
// already filled when binders run.
template <class S, int EA> Handler pick_s_ea(unsigned size) {
    if (size == 1) return &S::template f<uint8_t, true, EA>;
    if (size == 2) return &S::template f<uint16_t, true, EA>;
    return &S::template f<uint32_t, true, EA>;
}
template <class S> Handler pick_sm_ea(unsigned size, bool mem, const Insn& i) {
    if (mem && i.a32() && i.base != kNoReg)
        return i.index == kNoReg ? pick_s_ea<S, kEaBase32>(size) : pick_s_ea<S, kEaBaseIndex32>(size);
    return pick_sm<S>(size, mem);
}
template <class S> Handler pick_s(unsigned size) {
    return size == 1 ? &S::template f<uint8_t> : size == 2 ? &S::template f<uint16_t> : &S::template f<uint32_t>;
}
template <class S> Handler pick_w(bool o32) { return o32 ? &S::template f<uint32_t> : &S::template f<uint16_t>; }

// Binder helper for an r/m operand: records its register number in Insn.rm when it is a
// register, and says whether it is memory (the MEM template argument of the handler).
inline bool rm_of(const OpView& o, Insn& i) {
    if (o.kind == OpKind::Gpr) i.rm = o.reg;
    return o.kind == OpKind::Mem;
}

}  // namespace lift86
