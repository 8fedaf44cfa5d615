// x87 transcendentals in integer arithmetic (see transcendental.hpp).
//
// Internally values are "Big" floats with a 128-bit significand. Every function reduces its
// argument exactly (or nearly so), sums a short Taylor/atanh series, and rounds once with
// round_pack, which supplies the RC rounding, C1, PE, UE and OE behaviour of the core.
// Constants were generated with 800-bit mpmath and are truncated with a sticky low bit.
#include "frontend/x87/transcendental.hpp"

#include "frontend/x87/float80_internal.hpp"

namespace lift86::x87 {
using namespace detail;

namespace {

// value = (-1)^neg * m * 2^(exp - 127); m normalised (bit 127 set), or m == 0 for zero.
struct Big {
  bool neg = false;
  int32_t exp = 0;
  u128 m = 0;
};

constexpr Big mk(bool neg, int32_t exp, uint64_t hi, uint64_t lo) {
  return Big{neg, exp, (u128(hi) << 64) | lo};
}
constexpr Big kPi = mk(false, 1, 0xC90FDAA22168C234ull, 0xC4C6628B80DC1CD1ull);
constexpr Big kPiHalf = mk(false, 0, 0xC90FDAA22168C234ull, 0xC4C6628B80DC1CD1ull);
constexpr Big kTwoOverPi = mk(false, -1, 0xA2F9836E4E441529ull, 0xFC2757D1F534DDC1ull);
constexpr Big kLog2E = mk(false, 0, 0xB8AA3B295C17F0BBull, 0xBE87FED0691D3E89ull);
constexpr Big kLn2 = mk(false, -1, 0xB17217F7D1CF79ABull, 0xC9E3B39803F2F6AFull);
constexpr Big kOneBig = mk(false, 0, 0x8000000000000000ull, 0);
// atan(j/16), j = 0..16.
constexpr Big kAtanTable[17] = {
    Big{},
    mk(false, -5, 0xFFAADDB967EF4E36ull, 0xCB2792DC0E2E0D51ull),
    mk(false, -4, 0xFEADD4D5617B6E32ull, 0xC897989F3E888EF7ull),
    mk(false, -3, 0xBDCBDA5E72D81134ull, 0x7B0B4F881C9C7487ull),
    mk(false, -3, 0xFADBAFC96406EB15ull, 0x6DC79EF5F7A217E5ull),
    mk(false, -2, 0x9B13B9B83F5E5E69ull, 0xC5ABB498D27AF329ull),
    mk(false, -2, 0xB7B0CA0F26F78473ull, 0x8AA32122DCFE4483ull),
    mk(false, -2, 0xD327761E611FE5B6ull, 0x427C95E9001E7137ull),
    mk(false, -2, 0xED63382B0DDA7B45ull, 0x6FE445ECBC3A8D03ull),
    mk(false, -1, 0x832BF4A6D9867E2Aull, 0x4B6A09CB61A515C1ull),
    mk(false, -1, 0x8F005D5EF7F59F9Bull, 0x5C835E1665C43747ull),
    mk(false, -1, 0x9A2F80E671BDDA20ull, 0x4226F8E2204FF3BDull),
    mk(false, -1, 0xA4BC7D1934F70924ull, 0x19A87F2A457DAC9Full),
    mk(false, -1, 0xAEAC4C38B4D8C080ull, 0x14725E2F3E52070Bull),
    mk(false, -1, 0xB8053E2BC2319E73ull, 0xCB2DA55210A4443Dull),
    mk(false, -1, 0xC0CE85B8AC526640ull, 0x89DD62C46E92FA25ull),
    mk(false, -1, 0xC90FDAA22168C234ull, 0xC4C6628B80DC1CD1ull),
};
// pi/2 * 2^320 as a 384-bit integer (little-endian limbs), for exact argument reduction.
constexpr uint64_t kPiHalfWide[6] = {0xA29410F31C6809BBull, 0x04177D4C76273644ull, 0x52049C1114CF98E8ull,
                                     0x898CC51701B839A2ull, 0x921FB54442D18469ull, 0x0000000000000001ull};
constexpr int kWideFrac = 320;

Big neg(Big a) {
  a.neg = !a.neg;
  return a;
}
Big normalise(bool n, int32_t exp, u128 m) {
  if (m == 0) return Big{};
  const int s = clz128(m);
  return Big{n, exp - s, m << s};
}
Big from_f80(Float80 x) {  // finite
  if (classify(x) == FpClass::Zero) return Big{};
  const Unpacked u = unpack(x);
  return Big{u.sign, u.exp - kBias, u128(u.mant) << 64};
}
Big big_int(int64_t v) {
  const uint64_t mag = v < 0 ? 0 - uint64_t(v) : uint64_t(v);
  return normalise(v < 0, 127, mag);
}
Float80 to_f80(const Big& a, FpEnv& env) {
  if (a.m == 0) return make_zero(a.neg);
  return round_pack(a.neg, a.exp - 127, a.m, 64, env);
}

// 128x128 -> top 128 bits of the product, the rest jammed into the low bit.
Big mul(const Big& a, const Big& b) {
  if (a.m == 0 || b.m == 0) return Big{};
  const uint64_t a1 = uint64_t(a.m >> 64), a0 = uint64_t(a.m), b1 = uint64_t(b.m >> 64), b0 = uint64_t(b.m);
  const u128 p00 = u128(a0) * b0, p01 = u128(a0) * b1, p10 = u128(a1) * b0, p11 = u128(a1) * b1;
  const u128 mid = (p00 >> 64) + uint64_t(p01) + uint64_t(p10);  // < 3 * 2^64
  const u128 hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
  const uint64_t lo = uint64_t(mid) | uint64_t(p00);  // only "nonzero" matters below hi
  // hi >= 2^126: at most one normalising shift.
  const bool top = hi >> 127;
  const u128 m = top ? hi : (hi << 1) | (uint64_t(mid) >> 63);
  return Big{a.neg != b.neg, a.exp + b.exp + (top ? 1 : 0), m | (lo != 0)};
}

// Exact in 256 bits (y below x's 128 bits lands in the low word; beyond that it is a sticky
// bit), then normalised to 128 bits with everything lower jammed: a sum keeps knowing that it
// is inexact, and on which side of the truncated value the true one lies.
Big add(const Big& a, const Big& b) {
  if (a.m == 0) return b;
  if (b.m == 0) return a;
  const bool a_big = a.exp > b.exp || (a.exp == b.exp && a.m >= b.m);
  const Big& x = a_big ? a : b;
  const Big& y = a_big ? b : a;
  // 256-bit values hi:lo with one bit of headroom: x at bits 254..127, y shifted to align.
  const u128 xh = x.m >> 1, xl = x.m << 127;
  u128 yh = y.m >> 1, yl = y.m << 127;
  const int d = x.exp - y.exp;
  if (d >= 256) {
    yh = 0, yl = 1;
  } else if (d >= 128) {
    const bool sticky = yl != 0 || (d > 128 && (yh << (256 - d)) != 0);
    yl = (d == 128 ? yh : yh >> (d - 128)) | sticky;
    yh = 0;
  } else if (d > 0) {
    const bool sticky = (yl << (128 - d)) != 0;
    yl = (yl >> d) | (yh << (128 - d)) | sticky;
    yh >>= d;
  }
  u128 hi, lo;
  if (x.neg == y.neg) {
    lo = xl + yl;
    hi = xh + yh + (lo < xl);
  } else {
    lo = xl - yl;
    hi = xh - yh - (xl < yl);
  }
  if (hi == 0 && lo == 0) return Big{};
  int32_t exp = x.exp + 1;  // exponent of bit 255
  if (hi == 0) {
    hi = lo, lo = 0;
    exp -= 128;
  }
  const int s = clz128(hi);
  const u128 m = s ? (hi << s) | (lo >> (128 - s)) : hi;
  const u128 rest = s ? lo << s : lo;
  return Big{x.neg, exp - s, m | (rest != 0)};
}
Big sub(const Big& a, const Big& b) { return add(a, neg(b)); }

// Long division, 128 quotient bits and a sticky bit.
Big div(const Big& a, const Big& b) {
  if (a.m == 0) return Big{};
  u128 r = a.m;
  const u128 d = b.m;
  int32_t e = a.exp - b.exp;
  bool hi = false;  // bit 128 of the partial remainder
  if (r < d) {      // quotient in [1/2, 1): start one bit further
    --e;
    hi = r >> 127;
    r <<= 1;
  }
  u128 q = 0;
  for (int i = 0; i < 128; ++i) {
    const bool bit = hi || r >= d;
    if (bit) r -= d;
    q = (q << 1) | bit;
    hi = r >> 127;
    r <<= 1;
  }
  return Big{a.neg != b.neg, e, q | (hi || r != 0)};
}

// Division by a small integer (series coefficients): two 64-bit digits.
Big div_small(const Big& a, uint32_t n) {
  if (a.m == 0) return a;
  const u128 q1 = a.m / n, r1 = a.m % n;
  const u128 n2 = r1 << 64;
  const uint64_t q2 = uint64_t(n2 / n), r2 = uint64_t(n2 % n);
  // The 192-bit quotient q1:q2, normalised to 128 bits with the rest jammed.
  const int s = clz128(q1);  // q1 >= 2^127 / n, so s < 64 for n < 2^32
  const u128 m = (q1 << s) | (s ? u128(q2 >> (64 - s)) : 0);
  const bool sticky = (s < 64 && uint64_t(q2 << s) != 0) || r2 != 0;
  return Big{a.neg, a.exp - s, m | sticky};
}

// Sums a series whose terms shrink: stops when a term no longer reaches the sum's bits.
bool negligible(const Big& term, const Big& sum) { return term.m == 0 || term.exp < sum.exp - 132; }

// sin and cos of |r| <= ~pi/4 by Taylor series.
void sincos_series(const Big& r, Big* s, Big* c) {
  const Big r2 = mul(r, r);
  Big term = r, sum = r;
  for (uint32_t n = 1; n < 60; ++n) {
    term = neg(div_small(mul(term, r2), (2 * n) * (2 * n + 1)));
    sum = add(sum, term);
    if (negligible(term, sum)) break;
  }
  *s = sum;
  term = kOneBig, sum = kOneBig;
  for (uint32_t n = 1; n < 60; ++n) {
    term = neg(div_small(mul(term, r2), (2 * n - 1) * (2 * n)));
    sum = add(sum, term);
    if (negligible(term, sum)) break;
  }
  *c = sum;
}

// --- argument reduction: x = k * pi/2 + r, |r| <= pi/4 ---------------------------------------
struct Wide {  // 384-bit unsigned
  uint64_t w[6] = {};
};
bool wide_less(const Wide& a, const Wide& b) {
  for (int i = 5; i >= 0; --i)
    if (a.w[i] != b.w[i]) return a.w[i] < b.w[i];
  return false;
}
Wide wide_sub(const Wide& a, const Wide& b) {  // a >= b
  Wide r;
  uint64_t borrow = 0;
  for (int i = 0; i < 6; ++i) {
    const u128 d = u128(a.w[i]) - b.w[i] - borrow;
    r.w[i] = uint64_t(d);
    borrow = (d >> 64) ? 1 : 0;
  }
  return r;
}
Wide wide_mul(const uint64_t p[6], uint64_t k) {
  Wide r;
  u128 carry = 0;
  for (int i = 0; i < 6; ++i) {
    const u128 t = u128(p[i]) * k + carry;
    r.w[i] = uint64_t(t);
    carry = t >> 64;
  }
  return r;
}
Wide wide_half(const uint64_t p[6]) {
  Wide r;
  for (int i = 0; i < 6; ++i) r.w[i] = (p[i] >> 1) | (i < 5 ? p[i + 1] << 63 : 0);
  return r;
}
// The Big value of a wide fixed-point number with kWideFrac fraction bits.
Big wide_to_big(const Wide& a, bool n) {
  int top = 5;
  while (top >= 0 && a.w[top] == 0) --top;
  if (top < 0) return Big{};
  const int bit = top * 64 + 63 - __builtin_clzll(a.w[top]);  // index of the leading one
  // Gather the 128 bits below and including `bit`, and whether anything is lower still.
  u128 m = 0;
  bool sticky = false;
  for (int i = 0; i < 6; ++i) {
    for (int b = 0; b < 64; ++b) {
      const int pos = i * 64 + b;
      if (!((a.w[i] >> b) & 1)) continue;
      const int rel = pos - (bit - 127);
      if (rel >= 0)
        m |= u128(1) << rel;
      else
        sticky = true;
    }
  }
  return Big{n, bit - kWideFrac, m | sticky};
}

// |x| (finite, nonzero, < 2^63) reduced: returns r with |r| <= pi/4 (a hair more at worst)
// and the quadrant k mod 4.
Big reduce(Float80 x, unsigned* quadrant) {
  const Unpacked u = unpack(x);
  const int32_t e = u.exp - kBias;  // |x| = mant * 2^(e - 63)
  Big ax = from_f80(x);
  ax.neg = false;
  *quadrant = 0;
  // |x| < pi/4 needs no reduction (pi/4 = 0.C90F.. * 2^0, i.e. below 2^-1 * 1.57).
  if (e < -1 || (e == -1 && u.mant <= 0xC90FDAA22168C234ull)) return ax;
  // k = round(|x| * 2/pi): a 128-bit estimate is off by at most one, corrected below.
  const Big q = mul(ax, kTwoOverPi);
  uint64_t k = 0;
  if (q.exp >= -1) {
    const u128 scaled = q.m >> (126 - q.exp);  // integer part and one fraction bit
    k = uint64_t((scaled + 1) >> 1);
  }
  // X = |x| * 2^320 exactly (mant << (e - 63 + 320)), R = X - k * (pi/2 * 2^320).
  Wide X;
  const int sh = e - 63 + kWideFrac;  // >= 256
  X.w[sh / 64] = u.mant << (sh % 64);
  if (sh % 64 && sh / 64 + 1 < 6) X.w[sh / 64 + 1] = u.mant >> (64 - sh % 64);
  const Wide kp = wide_mul(kPiHalfWide, k);
  const Wide half = wide_half(kPiHalfWide);
  bool rneg = wide_less(X, kp);
  Wide R = rneg ? wide_sub(kp, X) : wide_sub(X, kp);
  if (wide_less(half, R)) {  // the estimate was off by one
    Wide p{};
    for (int i = 0; i < 6; ++i) p.w[i] = kPiHalfWide[i];
    R = wide_sub(p, R);
    k += rneg ? -1 : 1;
    rneg = !rneg;
  }
  *quadrant = unsigned(k & 3);
  return wide_to_big(R, rneg);
}

// --- atan, log2, expm1 -----------------------------------------------------------------

// atan(t) for 0 <= t <= 1: atan(t) = atan(c) + atan((t - c) / (1 + t c)), c = j/16 nearest.
Big atan_unit(const Big& t) {
  if (t.m == 0) return Big{};
  unsigned j = 0;
  if (t.exp >= -5) j = unsigned((t.m >> (127 - 5 - t.exp)) + 1) >> 1;  // round(16 t)
  if (j > 16) j = 16;
  Big u = t;
  if (j) {
    const Big c = big_int(j);
    const Big c16 = Big{false, c.exp - 4, c.m};
    u = div(sub(t, c16), add(kOneBig, mul(t, c16)));
  }
  const Big u2 = mul(u, u);
  Big power = u, sum = u;
  for (uint32_t n = 1; n < 60; ++n) {
    power = neg(mul(power, u2));
    const Big term = div_small(power, 2 * n + 1);
    sum = add(sum, term);
    if (negligible(term, sum)) break;
  }
  return add(kAtanTable[j], sum);
}

// ln(f) for f near 1 as 2 atanh(z), z = (f - 1) / (f + 1), or given z directly.
Big two_atanh(const Big& z) {
  if (z.m == 0) return Big{};
  const Big z2 = mul(z, z);
  Big power = z, sum = z;
  for (uint32_t n = 1; n < 80; ++n) {
    power = mul(power, z2);
    const Big term = div_small(power, 2 * n + 1);
    sum = add(sum, term);
    if (negligible(term, sum)) break;
  }
  return Big{sum.neg, sum.exp + 1, sum.m};
}

// log2(v) for v > 0: v = f * 2^E with f in [sqrt(1/2), sqrt(2)).
Big log2_big(const Big& v) {
  int32_t e = v.exp;
  Big f{false, 0, v.m};
  if (v.m > (u128(0xB504F333F9DE6484ull) << 64)) {  // f > sqrt(2): use f/2
    f.exp = -1;
    ++e;
  }
  const Big lnf = two_atanh(div(sub(f, kOneBig), add(f, kOneBig)));
  return add(big_int(e), mul(lnf, kLog2E));
}

// 2^x - 1 for |x| <= 1: expm1(x ln 2) by its Taylor series (no cancellation near 0).
Big exp2m1_unit(const Big& x) {
  const Big t = mul(x, kLn2);
  Big term = t, sum = t;
  for (uint32_t n = 2; n < 80; ++n) {
    term = div_small(mul(term, t), n);
    sum = add(sum, term);
    if (negligible(term, sum)) break;
  }
  return sum;
}

// The screening shared by FSIN/FCOS/FSINCOS/FPTAN: NaN, unsupported and infinity (invalid,
// SDM vol.2 FSIN), zero (returned exactly, and flagged), denormal operand.
bool trig_screen(Float80 x, FpEnv& env, Float80* out, bool* zero) {
  *zero = false;
  if (screen1(x, env, out)) return true;
  const FpClass c = classify(x);
  if (c == FpClass::Infinity) {
    *out = invalid(env);
    return true;
  }
  if (c == FpClass::Zero) {
    *zero = true;
    return true;
  }
  if (denormal_operand(env, x)) {
    *out = Float80{};
    return true;
  }
  return false;
}

void sincos_big(Float80 x, Big* s, Big* c) {
  unsigned q;
  const Big r = reduce(x, &q);
  Big sr, cr;
  sincos_series(Big{false, r.exp, r.m}, &sr, &cr);
  if (r.neg) sr = neg(sr);
  // sin(k pi/2 + r) and cos(k pi/2 + r) by quadrant.
  switch (q) {
    case 0: *s = sr, *c = cr; break;
    case 1: *s = cr, *c = neg(sr); break;
    case 2: *s = neg(sr), *c = neg(cr); break;
    default: *s = neg(cr), *c = sr; break;
  }
  if (x.sign()) *s = neg(*s);  // sin is odd, cos even
}

}  // namespace

bool trig_out_of_range(Float80 x) {
  return classify(x) == FpClass::Normal && x.exp() >= kBias + 63;
}

Float80 fsin(Float80 x, FpEnv& env) {
  Float80 out;
  bool zero;
  if (trig_screen(x, env, &out, &zero)) return zero ? x : out;
  Big s, c;
  sincos_big(x, &s, &c);
  return to_f80(s, env);
}

Float80 fcos(Float80 x, FpEnv& env) {
  Float80 out;
  bool zero;
  if (trig_screen(x, env, &out, &zero)) return zero ? kOne : out;
  Big s, c;
  sincos_big(x, &s, &c);
  return to_f80(c, env);
}

void fsincos(Float80 x, FpEnv& env, Float80* sin, Float80* cos) {
  Float80 out;
  bool zero;
  if (trig_screen(x, env, &out, &zero)) {
    *sin = zero ? x : out;
    *cos = zero ? kOne : out;
    return;
  }
  Big s, c;
  sincos_big(x, &s, &c);
  *sin = to_f80(s, env);
  const bool sin_up = env.c1;
  *cos = to_f80(c, env);
  env.c1 |= sin_up;  // C1: either result was rounded up (measured)
}

Float80 ftan(Float80 x, FpEnv& env) {
  Float80 out;
  bool zero;
  if (trig_screen(x, env, &out, &zero)) return zero ? x : out;
  unsigned q;
  const Big r = reduce(x, &q);
  Big t;
  if (!(q & 1) && r.exp < -20) {
    // tan r = r + r^3/3 + 2r^5/15 + 17r^7/315 + 62r^9/2835: summed onto the exact r, so a
    // directed rounding sees on which side of r the result lies (sin/cos would blur it).
    static constexpr uint32_t kNum[] = {1, 2, 17, 62}, kDen[] = {3, 15, 315, 2835};
    const Big r2 = mul(r, r);
    Big power = r;
    t = r;
    for (int i = 0; i < 4; ++i) {
      power = mul(power, r2);
      t = add(t, div_small(mul(power, big_int(kNum[i])), kDen[i]));
    }
  } else {
    Big sr, cr;
    sincos_series(Big{false, r.exp, r.m}, &sr, &cr);
    if (r.neg) sr = neg(sr);
    t = q & 1 ? neg(div(cr, sr)) : div(sr, cr);  // tan(r + pi/2) = -cot r; never 0/0
  }
  return to_f80(x.sign() ? neg(t) : t, env);
}

Float80 fpatan(Float80 y, Float80 x, FpEnv& env) {
  Float80 out;
  if (screen2(y, x, env, &out)) return out;
  const FpClass cy = classify(y), cx = classify(x);
  if (denormal_operand(env, y, x)) return Float80{};
  const bool sy = y.sign(), sx = x.sign();
  auto sign_y = [&](const Big& v) { return to_f80(sy ? neg(v) : v, env); };
  // SDM vol.2 FPATAN table of special operands.
  if (cy == FpClass::Zero) return sx ? sign_y(kPi) : make_zero(sy);
  if (cy == FpClass::Infinity) {
    if (cx != FpClass::Infinity) return sign_y(kPiHalf);
    const Big quarter{false, kPi.exp - 2, kPi.m};
    return sign_y(sx ? sub(kPi, quarter) : quarter);  // 3pi/4 or pi/4
  }
  if (cx == FpClass::Zero) return sign_y(kPiHalf);
  if (cx == FpClass::Infinity) return sx ? sign_y(kPi) : make_zero(sy);
  Big ay = from_f80(y), ax = from_f80(x);
  ay.neg = ax.neg = false;
  const bool steep = ay.exp > ax.exp || (ay.exp == ax.exp && ay.m > ax.m);
  Big a = steep ? sub(kPiHalf, atan_unit(div(ax, ay))) : atan_unit(div(ay, ax));
  if (sx) a = sub(kPi, a);
  return sign_y(a);
}

Float80 f2xm1(Float80 x, FpEnv& env) {
  Float80 out;
  if (screen1(x, env, &out)) return out;
  const FpClass c = classify(x);
  if (c == FpClass::Zero) return x;
  if (c == FpClass::Infinity) return x.sign() ? with_sign(kOne, true) : x;  // -1 or +inf
  if (denormal_operand(env, x)) return Float80{};
  const Unpacked u = unpack(x);
  const int32_t e = u.exp - kBias;
  // Integers (in the architectural range only -1 and 1) have exact results.
  if (e >= 0 && e < 7 && (u.mant << (e + 1)) == 0) {
    const int32_t n = int32_t(u.mant >> (63 - e)) * (u.sign ? -1 : 1);
    return to_f80(sub(Big{false, n, u128(1) << 127}, kOneBig), env);
  }
  const Big bx = from_f80(x);
  if (e < 0) return to_f80(exp2m1_unit(bx), env);
  // Outside the SDM's -1..+1 the result is undefined; we still give 2^x - 1, as
  // 2^n * 2^f - 1 with n = round(x), |f| <= 1/2 (clamped: beyond |x| > 2^15 it saturates).
  const int32_t n = e >= 15 ? (u.sign ? -40000 : 40000)
                            : int32_t(((u.mant >> (62 - e)) + 1) >> 1) * (u.sign ? -1 : 1);
  const Big f = sub(bx, big_int(n));
  Big p = add(exp2m1_unit(f), kOneBig);
  p.exp += n;
  return to_f80(sub(p, kOneBig), env);
}

Float80 fyl2x(Float80 y, Float80 x, FpEnv& env) {
  Float80 out;
  if (screen2(x, y, env, &out)) return out;
  const FpClass cx = classify(x), cy = classify(y);
  // SDM vol.2 FYL2X table of special operands.
  if (x.sign() && cx != FpClass::Zero) return invalid(env);  // log of a negative number
  const bool sy = y.sign();
  if (cx == FpClass::Zero) {  // log2(0) = -inf
    if (cy == FpClass::Zero) return invalid(env);
    if (cy != FpClass::Infinity) env.flags |= kZE;
    return make_inf(!sy);
  }
  if (cx == FpClass::Infinity) {
    if (cy == FpClass::Zero) return invalid(env);
    if (denormal_operand(env, y)) return Float80{};
    return make_inf(sy);
  }
  const bool one = x == kOne;
  if (one && cy == FpClass::Infinity) return invalid(env);  // inf * log2(1)
  if (denormal_operand(env, x, y)) return Float80{};
  const bool below_one = x.exp() < kBias;  // 0 < x < 1: log2 x < 0
  if (one) return make_zero(sy);
  if (cy == FpClass::Infinity) return make_inf(sy != below_one);
  if (cy == FpClass::Zero) return make_zero(sy != below_one);
  return to_f80(mul(log2_big(from_f80(x)), from_f80(y)), env);
}

Float80 fyl2xp1(Float80 y, Float80 x, FpEnv& env) {
  Float80 out;
  if (screen2(x, y, env, &out)) return out;
  const FpClass cx = classify(x), cy = classify(y);
  const bool sx = x.sign(), sy = y.sign();
  // SDM vol.2 FYL2XP1: defined for |x| < 1 - sqrt(2)/2; outside we still give y*log2(1+x).
  if (cx == FpClass::Infinity) {
    if (sx || cy == FpClass::Zero) return invalid(env);
    if (denormal_operand(env, y)) return Float80{};
    return make_inf(sy);
  }
  if (cx == FpClass::Zero) {  // log2(1 +- 0) = +-0
    if (cy == FpClass::Infinity) return invalid(env);
    if (denormal_operand(env, y)) return Float80{};
    return make_zero(sx != sy);
  }
  Big bx = from_f80(x);
  // 1 + x <= 0: the logarithm of a non-positive number.
  if (sx && (bx.exp > 0 || (bx.exp == 0 && bx.m >= kOneBig.m))) {
    if (bx.exp == 0 && bx.m == kOneBig.m && cy != FpClass::Zero && cy != FpClass::Infinity) {
      env.flags |= kZE;  // log2(0)
      return make_inf(!sy);
    }
    return invalid(env);
  }
  if (denormal_operand(env, x, y)) return Float80{};
  if (cy == FpClass::Infinity) return make_inf(sx != sy);
  if (cy == FpClass::Zero) return make_zero(sx != sy);
  Big l;
  if (bx.exp < -2 || (bx.exp == -2 && bx.m < (u128(0x95F619980C4336F7ull) << 64))) {
    // |x| < 0.2929: ln(1 + x) = 2 atanh(x / (2 + x)), accurate for tiny x.
    l = mul(two_atanh(div(bx, add(Big{false, 1, kOneBig.m}, bx))), kLog2E);
  } else {
    l = log2_big(add(kOneBig, bx));
  }
  return to_f80(mul(l, from_f80(y)), env);
}

}  // namespace lift86::x87
