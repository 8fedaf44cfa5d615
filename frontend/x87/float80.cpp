// The x87 soft-float core: classification, rounding, the basic arithmetic and the
// "partial" operations (FPREM, FSCALE, FXTRACT, FRNDINT, compares). See float80.hpp.
#include "frontend/x87/float80.hpp"

#include <utility>

#include "frontend/x87/float80_internal.hpp"

namespace lift86::x87 {
using namespace detail;

FpEnv FpEnv::from_cw(uint16_t cw) {
  FpEnv e;
  e.masks = cw & 0x3F;
  e.rc = Rounding((cw >> 10) & 3);
  static constexpr uint8_t kPrec[4] = {24, 64, 53, 64};  // PC=01 is reserved (SDM table 8-5)
  e.prec = kPrec[(cw >> 8) & 3];
  return e;
}

FpClass classify(Float80 x) {
  const uint16_t e = x.exp();
  const bool j = x.mant >> 63;
  if (e == 0) {
    if (x.mant == 0) return FpClass::Zero;
    return j ? FpClass::PseudoDenormal : FpClass::Denormal;
  }
  if (!j) return FpClass::Unsupported;  // unnormal, pseudo-infinity, pseudo-NaN
  if (e == kMaxExp) {
    if ((x.mant << 1) == 0) return FpClass::Infinity;
    return (x.mant >> 62) & 1 ? FpClass::QNaN : FpClass::SNaN;
  }
  return FpClass::Normal;
}

namespace detail {

Unpacked unpack(Float80 x) {
  Unpacked u{x.sign(), x.exp(), x.mant};
  if (u.exp == 0) {
    // Denormal: value = mant * 2^(1 - bias - 63). Pseudo-denormals (J=1) need no shift.
    int sh = __builtin_clzll(u.mant);
    u.mant <<= sh;
    u.exp = 1 - sh;
  }
  return u;
}

Float80 round_pack(bool sign, int32_t scale, u128 raw, int prec, FpEnv& env) {
  const uint16_t sbit = sign ? 0x8000 : 0;
  if (raw == 0) return make_zero(sign);
  const int s = clz128(raw);
  const u128 sig = raw << s;
  const int32_t exp = scale - s + 127 + kBias;  // biased exponent of sig's bit 127

  // Round with unbounded exponent first: its exponent decides tininess (SDM 4.9.1.5: "the
  // magnitude of the rounded result with unbounded exponent").
  const Rounded r = round_sig(sign, sig, prec, env.rc);
  u128 kept = r.kept;
  int32_t er = exp;
  if (kept >> prec) {  // 1.11..1 rounded up to 10.00..0
    kept >>= 1;
    ++er;
  }
  auto pack = [&](int32_t e, u128 k) {
    return Float80{uint64_t(k << (64 - prec)), uint16_t(sbit | e)};
  };

  if (er >= 0x7FFF) {  // overflow, SDM 4.9.1.4 and 8.5.4
    if (env.masks & kOE) {
      env.flags |= kOE | kPE;
      // Round-to-nearest and rounding away from zero give infinity; the other directions give
      // the largest finite number of the current precision (SDM table 4-10).
      const bool to_inf = env.rc == Rounding::Nearest || (env.rc == Rounding::Up && !sign) ||
                          (env.rc == Rounding::Down && sign);
      env.c1 = to_inf;
      if (to_inf) return make_inf(sign);
      return Float80{~0ull << (64 - prec), uint16_t(sbit | 0x7FFE)};
    }
    // Unmasked: the result goes to the register divided by 2^24576; if even that overflows
    // ("massive overflow", FSCALE) a signed infinity is stored (SDM 8.5.4), reported as
    // inexact and rounded up (measured).
    env.flags |= kOE | (r.inexact ? kPE : 0);
    env.c1 = r.up;
    er -= 24576;
    if (er >= 0x7FFF) {
      env.flags |= kPE;
      env.c1 = true;
      return make_inf(sign);
    }
    return pack(er, kept);
  }
  if (er >= 1) {
    if (r.inexact) env.flags |= kPE;
    env.c1 = r.up;
    return pack(er, kept);
  }

  // Tiny.
  if (!(env.masks & kUE)) {
    // Unmasked: UE regardless of exactness, result multiplied by 2^24576 (SDM 8.5.5).
    env.flags |= kUE | (r.inexact ? kPE : 0);
    env.c1 = r.up;
    if (er + 24576 >= 1) return pack(er + 24576, kept);
    // Massive underflow (FSCALE): even the biased result is tiny. A signed zero, inexact and
    // not rounded up, in every rounding mode (measured; the SDM does not say).
    env.flags |= kPE;
    env.c1 = false;
    return make_zero(sign);
  }
  // Masked: denormalise, round at the same significand positions (PC still applies), and
  // report UE only when the denormal is inexact (SDM 4.9.1.5).
  const Rounded d = round_sig(sign, shift_right_jam(sig, 1 - exp), prec, env.rc);
  if (d.inexact) env.flags |= kUE | kPE;
  env.c1 = d.up;
  // A carry into the integer bit makes the smallest normal (exponent 1).
  const bool normal = (d.kept >> (prec - 1)) & 1;
  return pack(normal ? 1 : 0, d.kept);
}

// SDM vol.1 table 4-7, x87 column.
static Float80 propagate_nan(Float80 a, Float80 b, FpClass ca, FpClass cb) {
  const bool na = ca == FpClass::QNaN || ca == FpClass::SNaN;
  const bool nb = cb == FpClass::QNaN || cb == FpClass::SNaN;
  if (na && nb) {
    if (ca != cb) return quiet(ca == FpClass::QNaN ? a : b);  // SNaN and QNaN: the QNaN
    // Two of a kind: the larger significand; on a tie the positive one.
    if (a.mant != b.mant) return quiet(a.mant > b.mant ? a : b);
    return quiet(a.se < b.se ? a : b);
  }
  return quiet(na ? a : b);
}

static bool is_denormal(FpClass c) { return c == FpClass::Denormal || c == FpClass::PseudoDenormal; }
static bool is_nan(FpClass c) { return c == FpClass::QNaN || c == FpClass::SNaN; }

bool screen2(Float80 a, Float80 b, FpEnv& env, Float80* out) {
  const FpClass ca = classify(a), cb = classify(b);
  if (ca == FpClass::Unsupported || cb == FpClass::Unsupported) {
    *out = invalid(env);
    return true;
  }
  if (is_nan(ca) || is_nan(cb)) {
    if (ca == FpClass::SNaN || cb == FpClass::SNaN) env.flags |= kIE;
    *out = propagate_nan(a, b, ca, cb);
    return true;
  }
  return false;
}

bool denormal_operand(FpEnv& env, Float80 a, Float80 b) {
  if (env.denormal_source || is_denormal(classify(a)) || is_denormal(classify(b))) env.flags |= kDE;
  return env.unmasked(kDE);
}

bool screen1(Float80 a, FpEnv& env, Float80* out) {
  const FpClass c = classify(a);
  if (c == FpClass::Unsupported) {
    *out = invalid(env);
    return true;
  }
  if (is_nan(c)) {
    if (c == FpClass::SNaN) env.flags |= kIE;
    *out = quiet(a);
    return true;
  }
  return false;
}

uint64_t round_to_integer(Float80 a, Rounding rc, bool* inexact, bool* up, bool* big) {
  *inexact = *up = *big = false;
  if (classify(a) == FpClass::Zero) return 0;
  const Unpacked u = unpack(a);
  const int frac = kBias + 63 - u.exp;  // fraction bits inside the 64-bit significand
  if (frac < 0) {
    *big = true;  // >= 2^64, already an integer
    return ~0ull;
  }
  if (frac == 0) return u.mant;
  // Split into integer part and the fraction left-aligned in 64 bits; below 0.5 only
  // "nonzero and less than a half" matters.
  const uint64_t kept = frac >= 64 ? 0 : u.mant >> frac;
  const uint64_t rem = frac > 64 ? 1 : frac == 64 ? u.mant : u.mant << (64 - frac);
  const Rounded r = round_sig(u.sign, (u128(kept) << 64) | rem, 64, rc);
  *inexact = r.inexact;
  *up = r.up;
  return uint64_t(r.kept);  // kept < 2^63 here, so +1 cannot wrap
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// Add / subtract (SDM vol.2 FADD, FSUB): exact alignment in 128 bits with a sticky bit.

static Float80 add_signed(Float80 a, Float80 b, bool negate_b, FpEnv& env) {
  Float80 out;
  if (screen2(a, b, env, &out)) return out;
  const FpClass ca = classify(a), cb = classify(b);
  const bool sa = a.sign(), sb = b.sign() != negate_b;
  if (ca == FpClass::Infinity || cb == FpClass::Infinity) {
    if (ca == cb && sa != sb) return invalid(env);  // inf - inf
    if (denormal_operand(env, a, b)) return out;
    return make_inf(ca == FpClass::Infinity ? sa : sb);
  }
  if (denormal_operand(env, a, b)) return out;  // unmasked DE: the operation is not performed
  const bool za = ca == FpClass::Zero, zb = cb == FpClass::Zero;
  // Exact zero sums are +0, except -0 when rounding down (IEEE 754 6.3).
  if (za && zb) return make_zero(sa == sb ? sa : env.rc == Rounding::Down);
  Unpacked x = za ? unpack(b) : unpack(a);
  Unpacked y = zb || za ? Unpacked{false, 0, 0} : unpack(b);
  x.sign = za ? sb : sa;
  y.sign = sb;
  if (!za && !zb && (x.exp < y.exp || (x.exp == y.exp && x.mant < y.mant))) std::swap(x, y);
  // |x| >= |y|. Put x at bits 126..63 (one bit of headroom for the carry).
  const int32_t scale = x.exp - kBias - 63 - 63;
  const u128 X = u128(x.mant) << 63;
  const u128 Y = y.mant ? shift_right_jam(u128(y.mant) << 63, x.exp - y.exp) : 0;
  if (x.sign == y.sign || !Y) return round_pack(x.sign, scale, X + Y, env.prec, env);
  const u128 D = X - Y;
  if (D == 0) return make_zero(env.rc == Rounding::Down);
  return round_pack(x.sign, scale, D, env.prec, env);
}

Float80 fadd(Float80 a, Float80 b, FpEnv& env) { return add_signed(a, b, false, env); }
Float80 fsub(Float80 a, Float80 b, FpEnv& env) { return add_signed(a, b, true, env); }

Float80 fmul(Float80 a, Float80 b, FpEnv& env) {
  Float80 out;
  if (screen2(a, b, env, &out)) return out;
  const FpClass ca = classify(a), cb = classify(b);
  const bool sign = a.sign() != b.sign();
  if (ca == FpClass::Infinity || cb == FpClass::Infinity) {
    if (ca == FpClass::Zero || cb == FpClass::Zero) return invalid(env);  // 0 * inf
    if (denormal_operand(env, a, b)) return out;
    return make_inf(sign);
  }
  if (denormal_operand(env, a, b)) return out;
  if (ca == FpClass::Zero || cb == FpClass::Zero) return make_zero(sign);
  const Unpacked x = unpack(a), y = unpack(b);
  return round_pack(sign, x.exp + y.exp - 2 * (kBias + 63), u128(x.mant) * y.mant, env.prec, env);
}

Float80 fdiv(Float80 a, Float80 b, FpEnv& env) {
  Float80 out;
  if (screen2(a, b, env, &out)) return out;
  const FpClass ca = classify(a), cb = classify(b);
  const bool sign = a.sign() != b.sign();
  if (ca == FpClass::Infinity && cb == FpClass::Infinity) return invalid(env);  // inf / inf
  if (cb == FpClass::Zero) {
    if (ca == FpClass::Zero) return invalid(env);  // 0 / 0
    if (ca != FpClass::Infinity) {
      env.flags |= kZE;  // SDM 8.5.3: the masked response is a signed infinity; no DE
      return make_inf(sign);
    }
  }
  if (denormal_operand(env, a, b)) return out;
  if (ca == FpClass::Infinity) return make_inf(sign);
  if (cb == FpClass::Infinity || ca == FpClass::Zero) return make_zero(sign);
  const Unpacked x = unpack(a), y = unpack(b);
  // Two 64-bit quotient digits: (x<<63)/y has 63..64 bits, the second digit 64 more, and the
  // final remainder becomes the sticky bit.
  const u128 n1 = u128(x.mant) << 63;
  const uint64_t q1 = uint64_t(n1 / y.mant), r1 = uint64_t(n1 % y.mant);
  const u128 n2 = u128(r1) << 64;
  const uint64_t q2 = uint64_t(n2 / y.mant), r2 = uint64_t(n2 % y.mant);
  const u128 raw = (u128(q1) << 64) | q2 | (r2 != 0);
  return round_pack(sign, x.exp - y.exp - 127, raw, env.prec, env);
}

Float80 fsqrt(Float80 a, FpEnv& env) {
  Float80 out;
  if (screen1(a, env, &out)) return out;
  const FpClass c = classify(a);
  if (c == FpClass::Zero) return a;  // sqrt(-0) = -0
  if (a.sign()) return invalid(env);  // includes -inf and negative denormals
  if (c == FpClass::Infinity) return a;
  if (denormal_operand(env, a)) return out;
  const Unpacked u = unpack(a);
  // value = mant * 2^t. Append k zero bits (k of t's parity) so the integer root has about 67
  // bits: enough for a round bit, and the remainder gives the sticky bit.
  const int32_t t = u.exp - kBias - 63;
  const int k = ((t - 70) & 1) ? 71 : 70;
  u128 rem = 0, root = 0;
  for (int pair = (64 + k + 1) / 2 - 1; pair >= 0; --pair) {
    // The two radicand bits at positions 2*pair+1, 2*pair of (mant << k).
    unsigned two = 0;
    for (int b = 1; b >= 0; --b) {
      const int pos = 2 * pair + b - k;
      two = (two << 1) | ((pos >= 0 && pos < 64) ? unsigned(u.mant >> pos) & 1 : 0);
    }
    rem = (rem << 2) | two;
    const u128 trial = (root << 2) | 1;
    root <<= 1;
    if (rem >= trial) {
      rem -= trial;
      root |= 1;
    }
  }
  return round_pack(false, (t - k) / 2 - 1, (root << 1) | (rem != 0), env.prec, env);
}

// ---------------------------------------------------------------------------------------------

Float80 frndint(Float80 a, FpEnv& env) {
  Float80 out;
  if (screen1(a, env, &out)) return out;
  const FpClass c = classify(a);
  if (c == FpClass::Zero || c == FpClass::Infinity) return a;
  if (denormal_operand(env, a)) return out;
  bool inexact, up, big;
  const uint64_t mag = round_to_integer(a, env.rc, &inexact, &up, &big);
  if (big) return a;
  if (inexact) env.flags |= kPE;
  env.c1 = up;
  if (!inexact) return a;                    // already an integer
  if (mag == 0) return make_zero(a.sign());  // keeps the sign: frndint(-0.3) = -0
  return from_magnitude(a.sign(), mag);
}

Float80 fscale(Float80 a, Float80 b, FpEnv& env) {
  Float80 out;
  if (screen2(a, b, env, &out)) return out;
  const FpClass ca = classify(a), cb = classify(b);
  // SDM vol.2 FSCALE table: 0 * 2^+inf and inf * 2^-inf are invalid.
  if (cb == FpClass::Infinity) {
    if (!b.sign()) {
      if (ca == FpClass::Zero) return invalid(env);
      if (denormal_operand(env, a)) return out;
      return make_inf(a.sign());
    }
    if (ca == FpClass::Infinity) return invalid(env);
    if (denormal_operand(env, a)) return out;
    return make_zero(a.sign());
  }
  if (denormal_operand(env, a, b)) return out;
  if (ca == FpClass::Zero || ca == FpClass::Infinity) return a;
  // trunc(b), clamped to 2^20 in magnitude: past 2^17 every operand over/underflows anyway.
  int32_t n = 0;
  if (cb != FpClass::Zero) {
    const Unpacked ub = unpack(b);
    const int frac = kBias + 63 - ub.exp;
    if (frac < 63 - 20)
      n = 1 << 20;
    else
      n = frac >= 64 ? 0 : int32_t(ub.mant >> frac);
    if (ub.sign) n = -n;
  }
  const Unpacked u = unpack(a);
  return round_pack(u.sign, u.exp - kBias - 63 + n, u.mant, 64, env);
}

Extracted fxtract(Float80 a, FpEnv& env) {
  Float80 out;
  if (screen1(a, env, &out)) return {out, out};
  const FpClass c = classify(a);
  if (c == FpClass::Zero) {
    env.flags |= kZE;  // SDM vol.2 FXTRACT: exponent -inf, significand the signed zero
    return {make_inf(true), a};
  }
  if (c == FpClass::Infinity) return {make_inf(false), a};
  if (denormal_operand(env, a)) return {out, out};
  const Unpacked u = unpack(a);
  const int32_t e = u.exp - kBias;
  return {from_magnitude(e < 0, uint64_t(e < 0 ? -e : e)), Float80{u.mant, uint16_t((u.sign ? 0x8000 : 0) | kBias)}};
}

Remainder fprem(Float80 a, Float80 b, bool ieee, FpEnv& env) {
  Remainder res;
  res.has_quotient = false;
  if (screen2(a, b, env, &res.value)) return res;
  const FpClass ca = classify(a), cb = classify(b);
  if (ca == FpClass::Infinity || cb == FpClass::Zero) {
    res.value = invalid(env);
    return res;
  }
  res.has_quotient = true;
  if (denormal_operand(env, a, b)) return res;
  res.value = a;
  if (ca == FpClass::Zero) return res;
  const Unpacked x = unpack(a), y = cb == FpClass::Infinity ? Unpacked{} : unpack(b);
  const int32_t d = x.exp - y.exp;
  if (cb == FpClass::Infinity || d < (ieee ? -1 : 0)) {  // |a| < |b| (or < |b|/2): a is its own remainder, re-packed
    res.value = round_pack(x.sign, x.exp - kBias - 63, x.mant, 64, env);  // (normalises a
    return res;                                                           // pseudo-denormal)
  }
  u128 num, den;
  int32_t scale;
  if (d >= 64) {
    // Partial remainder (SDM vol.2 FPREM): reduce the exponent by N in 32..63 with a
    // truncating quotient of (a/b)/2^(d-N); N = 32 + d mod 32 as on Intel parts.
    const int n = 32 + d % 32;
    num = u128(x.mant) << n;
    den = y.mant;
    scale = x.exp - n - kBias - 63;
    res.complete = false;
    ieee = false;
  } else if (d >= 0) {
    num = u128(x.mant) << d;
    den = y.mant;
    scale = y.exp - kBias - 63;
  } else {  // FPREM1 with |b|/2 <= |a| < |b|: compare against 2|b| scaled to a's exponent
    num = x.mant;
    den = u128(y.mant) << 1;
    scale = x.exp - kBias - 63;
  }
  u128 q = num / den, r = num % den;
  bool sign = x.sign;
  if (ieee && (2 * r > den || (2 * r == den && (q & 1)))) {  // round the quotient to nearest
    r = den - r;
    ++q;
    sign = !sign;
  }
  if (res.complete) res.quotient = uint8_t(q & 7);
  res.value = r == 0 ? make_zero(x.sign) : round_pack(sign, scale, r, 64, env);
  return res;
}

Cmp fcompare(Float80 a, Float80 b, bool quiet_nan, FpEnv& env) {
  const FpClass ca = classify(a), cb = classify(b);
  if (ca == FpClass::Unsupported || cb == FpClass::Unsupported) {
    env.flags |= kIE;
    return Cmp::Unordered;
  }
  if (is_nan(ca) || is_nan(cb)) {
    if (!quiet_nan || ca == FpClass::SNaN || cb == FpClass::SNaN) env.flags |= kIE;
    return Cmp::Unordered;
  }
  denormal_operand(env, a, b);
  const bool za = ca == FpClass::Zero, zb = cb == FpClass::Zero;
  if (za && zb) return Cmp::Equal;  // +0 == -0
  if (za) return b.sign() ? Cmp::Greater : Cmp::Less;
  if (zb) return a.sign() ? Cmp::Less : Cmp::Greater;
  if (a.sign() != b.sign()) return a.sign() ? Cmp::Less : Cmp::Greater;
  int mag;  // sign of |a| - |b|
  if (ca == FpClass::Infinity || cb == FpClass::Infinity) {
    mag = (ca == FpClass::Infinity) - (cb == FpClass::Infinity);
  } else {
    const Unpacked x = unpack(a), y = unpack(b);
    mag = x.exp != y.exp ? (x.exp > y.exp ? 1 : -1) : x.mant == y.mant ? 0 : (x.mant > y.mant ? 1 : -1);
  }
  if (mag == 0) return Cmp::Equal;
  return (mag > 0) != a.sign() ? Cmp::Greater : Cmp::Less;
}

uint8_t fxam_class(Float80 x) {
  switch (classify(x)) {  // C3 C2 C0, SDM vol.2 FXAM table
    case FpClass::Unsupported: return 0b000;
    case FpClass::QNaN:
    case FpClass::SNaN: return 0b001;
    case FpClass::Normal: return 0b010;
    case FpClass::Infinity: return 0b011;
    case FpClass::Zero: return 0b100;
    case FpClass::Denormal:
    case FpClass::PseudoDenormal: return 0b110;
  }
  return 0;
}

// The constants' first 64 significand bits (truncated) and whether the exact value lies above
// the midpoint to the next number. Measured: every RC mode gives the exact value correctly
// rounded (the 66-bit internal constants of SDM 8.3.8 never show through), and none is exact.
namespace {
struct ConstantRow {
  uint16_t se;
  uint64_t mant;
  bool nearest_up;
};
constexpr ConstantRow kConstants[] = {
    {0x3FFF, 0x8000000000000000ull, false},  // 1 (exact)
    {0x4000, 0xD49A784BCD1B8AFEull, false},  // log2(10)
    {0x3FFF, 0xB8AA3B295C17F0BBull, true},   // log2(e)
    {0x4000, 0xC90FDAA22168C234ull, true},   // pi
    {0x3FFD, 0x9A209A84FBCFF798ull, true},   // log10(2)
    {0x3FFE, 0xB17217F7D1CF79ABull, true},   // ln(2)
    {0x0000, 0x0000000000000000ull, false},  // +0 (exact)
};
}  // namespace

Float80 load_constant(Constant c, Rounding rc) {
  const ConstantRow& row = kConstants[unsigned(c)];
  const bool exact = c == Constant::One || c == Constant::Zero;
  // All constants are positive, so Down and Chop truncate and Up increments.
  const bool up = !exact && (rc == Rounding::Up || (rc == Rounding::Nearest && row.nearest_up));
  return Float80{row.mant + up, row.se};  // no constant's low bits are all ones: no carry
}

}  // namespace lift86::x87
