// Shared pieces of the interpreter's instruction handlers: operand access and handler picking.
// Handlers are templates over the operand type T (uint8_t/uint16_t/uint32_t) and, for the hot
// forms, over whether the r/m operand is memory, so the common paths carry no run-time switch.
#pragma once
#include "frontend/cpu.hpp"
#include "frontend/decoder.hpp"

namespace lift86 {

template <class T> constexpr unsigned bits_of = sizeof(T) * 8;
template <class T> constexpr T msb_of = T(T(1) << (bits_of<T> - 1));

template <class T, bool MEM> inline T load_rm(Cpu& c, const Insn& i) {
    if constexpr (MEM) return c.read<T>(i.seg, c.ea(i));
    else return c.reg<T>(i.rm);
}
template <class T, bool MEM> inline void store_rm(Cpu& c, const Insn& i, T v) {
    if constexpr (MEM) c.write<T>(i.seg, c.ea(i), v);
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
