// Conversions between the x87 register format and the memory formats: integers (FILD/FIST),
// single and double precision (FLD/FST m32fp, m64fp) and 18-digit packed BCD (FBLD/FBSTP).
#include "frontend/x87/float80.hpp"
#include "frontend/x87/float80_internal.hpp"

namespace lift86::x87 {
using namespace detail;

Float80 detail::from_magnitude(bool sign, uint64_t mag) {
  if (mag == 0) return make_zero(sign);
  const int sh = __builtin_clzll(mag);
  return Float80{mag << sh, uint16_t((sign ? 0x8000 : 0) | (kBias + 63 - sh))};
}

Float80 from_int(int64_t v) {
  return from_magnitude(v < 0, v < 0 ? 0 - uint64_t(v) : uint64_t(v));
}

int64_t to_int(Float80 a, unsigned bits, FpEnv& env) {
  // The "integer indefinite" is the most negative integer (SDM 4.8.3.7).
  const int64_t indefinite = int64_t(~0ull << (bits - 1));
  switch (classify(a)) {
    case FpClass::Zero: return 0;
    case FpClass::Normal:
    case FpClass::Denormal:  // no DE for a register source (measured)
    case FpClass::PseudoDenormal: break;
    default: env.flags |= kIE; return indefinite;  // NaN, infinity, unsupported
  }
  bool inexact, up, big;
  const uint64_t mag = round_to_integer(a, env.rc, &inexact, &up, &big);
  const uint64_t limit = (1ull << (bits - 1)) - (a.sign() ? 0 : 1);
  if (big || mag > limit) {  // SDM vol.2 FIST: too large for the destination -> #IA
    env.flags |= kIE;
    return indefinite;
  }
  if (inexact) env.flags |= kPE;
  env.c1 = up;
  return a.sign() ? int64_t(0 - mag) : int64_t(mag);
}

// --- IEEE single/double ----------------------------------------------------------------------

namespace {
struct Format {
  int mbits, ebits;  // stored fraction bits, exponent bits
  int bias() const { return (1 << (ebits - 1)) - 1; }
  uint64_t exp_mask() const { return ((1ull << ebits) - 1) << mbits; }
  uint64_t sign_bit() const { return 1ull << (mbits + ebits); }
  uint64_t quiet_bit() const { return 1ull << (mbits - 1); }
};
constexpr Format kSingle{23, 8}, kDouble{52, 11};

Float80 from_ieee(uint64_t v, Format f, FpEnv& env) {
  const bool sign = v & f.sign_bit();
  const uint16_t sbit = sign ? 0x8000 : 0;
  const uint64_t frac = v & ((1ull << f.mbits) - 1);
  const int e = int((v & f.exp_mask()) >> f.mbits);
  if (e == (1 << f.ebits) - 1) {
    if (frac == 0) return make_inf(sign);
    // NaN: SNaN raises IE and is quieted; the payload moves to the top of the significand.
    if (!(frac & f.quiet_bit())) env.flags |= kIE;
    return Float80{0xC000000000000000ull | (frac << (63 - f.mbits)), uint16_t(sbit | 0x7FFF)};
  }
  if (e == 0) {
    if (frac == 0) return make_zero(sign);
    env.flags |= kDE;  // SDM vol.2 FLD: #D for a denormal m32fp/m64fp source
    const int sh = __builtin_clzll(frac);
    return Float80{frac << sh, uint16_t(sbit | (1 - f.bias() - f.mbits - sh + kBias + 63))};
  }
  return Float80{(1ull << 63) | (frac << (63 - f.mbits)), uint16_t(sbit | (e - f.bias() + kBias))};
}

uint64_t to_ieee(Float80 a, Format f, FpEnv& env) {
  const bool sign = a.sign();
  const uint64_t sbit = sign ? f.sign_bit() : 0;
  const uint64_t frac_mask = (1ull << f.mbits) - 1;
  switch (classify(a)) {
    case FpClass::Zero: return sbit;
    case FpClass::Infinity: return sbit | f.exp_mask();
    case FpClass::Unsupported:
      env.flags |= kIE;
      return f.sign_bit() | f.exp_mask() | f.quiet_bit();  // the indefinite of the format
    case FpClass::SNaN: env.flags |= kIE; [[fallthrough]];
    case FpClass::QNaN:  // quieted, payload truncated (SDM 4.8.3.5)
      return sbit | f.exp_mask() | f.quiet_bit() | ((a.mant >> (63 - f.mbits)) & frac_mask);
    case FpClass::Denormal:  // no DE for a register source (measured)
    case FpClass::PseudoDenormal:
    case FpClass::Normal: break;
  }
  const Unpacked u = unpack(a);
  const int32_t e = u.exp - kBias;  // unbiased exponent of the leading bit
  const int32_t emin = 1 - f.bias(), emax = f.bias();
  const u128 sig = u128(u.mant) << 64;
  const int p = f.mbits + 1;
  // Rounded to the format's precision with unbounded exponent: decides overflow and tininess.
  const Rounded r = round_sig(sign, sig, p, env.rc);
  const bool carry = (r.kept >> p) != 0;
  const int32_t er = e + carry;
  if (er > emax) {
    // Unmasked: the caller stores nothing (SDM 8.5.4, destination in memory); only OE is
    // reported (measured). Masked: infinity or the largest finite number per RC (SDM table
    // 4-10), inexact.
    env.flags |= kOE;
    if (!(env.masks & kOE)) return 0;
    env.flags |= kPE;
    const bool to_inf = env.rc == Rounding::Nearest || (env.rc == Rounding::Up && !sign) ||
                        (env.rc == Rounding::Down && sign);
    env.c1 = to_inf;
    return to_inf ? (sbit | f.exp_mask()) : (sbit | (f.exp_mask() - (1ull << f.mbits)) | frac_mask);
  }
  if (er >= emin) {
    const uint64_t kept = uint64_t(carry ? r.kept >> 1 : r.kept);
    if (r.inexact) env.flags |= kPE;
    env.c1 = r.up;
    return sbit | (uint64_t(er + f.bias()) << f.mbits) | (kept & frac_mask);
  }
  if (!(env.masks & kUE)) {  // tiny, unmasked: nothing is stored, only UE reported (SDM 8.5.5)
    env.flags |= kUE;
    return 0;
  }
  // A denormal of the format: fewer significand bits, possibly none.
  int keep = p - (emin - e);
  u128 s = sig;
  if (keep < 0) {
    s = shift_right_jam(sig, -keep);
    keep = 0;
  }
  const Rounded d = round_sig(sign, s, keep, env.rc);
  if (d.inexact) env.flags |= kUE | kPE;
  env.c1 = d.up;
  return sbit | uint64_t(d.kept);  // a carry to 2^mbits is exactly the smallest normal's encoding
}
}  // namespace

Float80 from_f32(uint32_t v, FpEnv& env) { return from_ieee(v, kSingle, env); }
Float80 from_f64(uint64_t v, FpEnv& env) { return from_ieee(v, kDouble, env); }
uint32_t to_f32(Float80 a, FpEnv& env) { return uint32_t(to_ieee(a, kSingle, env)); }
uint64_t to_f64(Float80 a, FpEnv& env) { return to_ieee(a, kDouble, env); }

// --- packed BCD (SDM vol.1 4.7, vol.2 FBLD/FBSTP) --------------------------------------------

Float80 from_bcd(const uint8_t bcd[10]) {
  // Invalid digits (A..F) give an undefined result on hardware; here they weigh as their value.
  uint64_t v = 0;
  for (int i = 8; i >= 0; --i) v = v * 100 + (bcd[i] >> 4) * 10 + (bcd[i] & 15);
  return from_magnitude(bcd[9] & 0x80, v);  // a negative zero loads as -0
}

void to_bcd(Float80 a, uint8_t out[10], FpEnv& env) {
  static constexpr uint8_t kIndefiniteBcd[10] = {0, 0, 0, 0, 0, 0, 0, 0xC0, 0xFF, 0xFF};
  auto indefinite = [&] {
    for (int i = 0; i < 10; ++i) out[i] = kIndefiniteBcd[i];
  };
  switch (classify(a)) {
    case FpClass::Zero:
    case FpClass::Normal:
    case FpClass::Denormal:  // no DE for a register source (measured)
    case FpClass::PseudoDenormal: break;
    default: env.flags |= kIE; return indefinite();
  }
  bool inexact, up, big;
  uint64_t mag = round_to_integer(a, env.rc, &inexact, &up, &big);
  if (big || mag > 999999999999999999ull) {
    env.flags |= kIE;
    return indefinite();
  }
  if (inexact) env.flags |= kPE;
  env.c1 = up;
  for (int i = 0; i < 9; ++i, mag /= 100) out[i] = uint8_t((mag % 10) | ((mag / 10 % 10) << 4));
  out[9] = a.sign() ? 0x80 : 0;
}

}  // namespace lift86::x87
