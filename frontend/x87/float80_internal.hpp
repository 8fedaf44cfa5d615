// Building blocks shared by the files of the soft-float core (not part of the x87 API).
#pragma once
#include "frontend/x87/float80.hpp"

namespace lift86::x87::detail {

// A finite nonzero operand with the significand normalised (bit 63 set): value =
// mant * 2^(exp - kBias - 63). Denormals get an exponent below 1; a pseudo-denormal keeps
// exponent 1, the value the SDM gives it (8.2.2).
struct Unpacked {
  bool sign;
  int32_t exp;
  uint64_t mant;
};
Unpacked unpack(Float80 x);  // x must be Normal, Denormal or PseudoDenormal

inline int clz128(u128 v) {
  uint64_t hi = uint64_t(v >> 64);
  return hi ? __builtin_clzll(hi) : 64 + __builtin_clzll(uint64_t(v));
}
// Shift right, OR-ing every bit shifted out into bit 0 ("jamming") so rounding still sees
// that the value was inexact.
inline u128 shift_right_jam(u128 v, int n) {
  if (n <= 0) return v;
  if (n >= 128) return v != 0;
  return (v >> n) | ((v << (128 - n)) != 0);
}

// Keep the top `prec` bits (0..64) of a left-aligned significand, rounding per rc. `kept` may
// reach 2^prec (a carry out); `up` says the magnitude was increased (the x87's C1).
struct Rounded {
  u128 kept;
  bool inexact, up;
};
inline Rounded round_sig(bool sign, u128 sig, int prec, Rounding rc) {
  const u128 kept = prec ? sig >> (128 - prec) : 0;
  const u128 rem = prec ? sig << prec : sig;  // the dropped bits, left-aligned
  const u128 half = u128(1) << 127;
  const bool inexact = rem != 0;
  bool inc = false;
  switch (rc) {
    case Rounding::Nearest: inc = rem > half || (rem == half && (kept & 1)); break;
    case Rounding::Down: inc = inexact && sign; break;
    case Rounding::Up: inc = inexact && !sign; break;
    case Rounding::Chop: break;
  }
  return {kept + inc, inexact, inc};
}

// Round and pack the exact-or-jammed value (-1)^sign * raw * 2^scale (raw != 0 expected; zero
// gives a signed zero) to `prec` significand bits per env.rc, with the x87's full exponent
// range: denormal results, masked/unmasked overflow and underflow, PE and C1.
Float80 round_pack(bool sign, int32_t scale, u128 raw, int prec, FpEnv& env);

// Invalid operation: raise IE and give the real indefinite.
inline Float80 invalid(FpEnv& env) {
  env.flags |= kIE;
  return kIndefinite;
}
inline Float80 quiet(Float80 x) { return {x.mant | 0x4000000000000000ull, x.se}; }

// The NaN/unsupported screening every arithmetic operation starts with (SDM table 4-7).
// Returns true when it decided the result (*out).
//
// Exception precedence (SDM vol.1 4.9.2): invalid operands, then QNaN operands, then the other
// invalid cases and divide-by-zero, and only then the denormal operand: so an operation calls
// denormal_operand() once it knows it will compute. It raises DE for a denormal or
// pseudo-denormal operand and returns true when DE is unmasked (the operation stops there).
bool screen1(Float80 a, FpEnv& env, Float80* out);
bool screen2(Float80 a, Float80 b, FpEnv& env, Float80* out);
bool denormal_operand(FpEnv& env, Float80 a, Float80 b = Float80{});

// An integer as a Float80 (exact; +0 for a zero magnitude unless sign).
Float80 from_magnitude(bool sign, uint64_t mag);

// Rounds a finite value to an integer per rc: returns the magnitude (saturated at 2^64-1 when
// the value is >= 2^64, with *big set), sets inexact/up.
uint64_t round_to_integer(Float80 a, Rounding rc, bool* inexact, bool* up, bool* big);

}  // namespace lift86::x87::detail
