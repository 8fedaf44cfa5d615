// The x87 double-extended format in software: every operation works on integers only, so
// results are bit-identical on every host (x86-64, AArch64). Never compute in host double.
//
// Behaviour follows the P6-class x87 (Intel SDM vol.1 ch.4 and ch.8):
//   * rounding control (RC) and precision control (PC, 24/53/64 significand bits with the full
//     15-bit exponent range kept, SDM 8.1.5.2);
//   * the six exception flags with their masked responses, and for unmasked overflow/underflow
//     to a register the exponent bias of 24576 (SDM 8.5.4, 8.5.5);
//   * tininess detected after rounding with unbounded exponent (SDM 4.9.1.5);
//   * C1 as the "round-up" bit (set when the magnitude was increased by rounding);
//   * NaN propagation of SDM vol.1 table 4-7, default NaN = "real indefinite".
//
// Every operation takes an FpEnv: the rounding/precision/mask settings in, and the raised flags
// (and C1) out. An operation never decides whether its result is stored: the caller (x87_exec)
// looks at the flags. Pre-computation exceptions (IE, DE, ZE) that are unmasked mean "store
// nothing"; for unmasked OE/UE the operation already returns the bias-adjusted value that the
// SDM says goes to a register destination.
#pragma once
#include <cstdint>

namespace lift86::x87 {

using u128 = unsigned __int128;

struct Float80 {
  uint64_t mant = 0;  // significand with the explicit integer bit J at bit 63
  uint16_t se = 0;    // bit 15: sign, bits 14..0: biased exponent (bias 16383)

  constexpr bool sign() const { return se >> 15; }
  constexpr uint16_t exp() const { return se & 0x7FFF; }
  constexpr bool operator==(const Float80&) const = default;
};

inline constexpr int kBias = 16383;
inline constexpr uint16_t kMaxExp = 0x7FFF;
// The default NaN ("real indefinite", SDM 4.8.3.7): negative QNaN with only the quiet bit.
inline constexpr Float80 kIndefinite{0xC000000000000000ull, 0xFFFF};
inline constexpr Float80 kOne{0x8000000000000000ull, 0x3FFF};

constexpr Float80 make_zero(bool neg) { return {0, uint16_t(neg ? 0x8000 : 0)}; }
constexpr Float80 make_inf(bool neg) { return {0x8000000000000000ull, uint16_t(neg ? 0xFFFF : 0x7FFF)}; }
constexpr Float80 with_sign(Float80 x, bool neg) { return {x.mant, uint16_t((x.se & 0x7FFF) | (neg ? 0x8000 : 0))}; }

// SDM vol.1 8.2.2 and table 8-3. "Unsupported" covers the encodings the 387 and later reject
// with an invalid-operation exception: pseudo-NaN, pseudo-infinity and unnormal (J=0, exp!=0).
enum class FpClass : uint8_t { Zero, Denormal, PseudoDenormal, Normal, Infinity, QNaN, SNaN, Unsupported };
FpClass classify(Float80 x);
inline bool is_nan(Float80 x) {
  FpClass c = classify(x);
  return c == FpClass::QNaN || c == FpClass::SNaN;
}

// Exception flags at their status-word / control-word-mask bit positions (SDM 8.1.3, 8.1.5).
enum : uint8_t { kIE = 0x01, kDE = 0x02, kZE = 0x04, kOE = 0x08, kUE = 0x10, kPE = 0x20 };

enum class Rounding : uint8_t { Nearest = 0, Down = 1, Up = 2, Chop = 3 };  // CW.RC

struct FpEnv {
  Rounding rc = Rounding::Nearest;
  uint8_t prec = 64;     // significand bits for the PC-controlled ops (add, sub, mul, div, sqrt)
  uint8_t masks = 0x3F;  // CW bits 0..5: 1 = masked
  uint8_t flags = 0;     // raised exceptions (accumulates)
  bool c1 = false;       // the last rounding increased the magnitude
  // Set by the caller when an operand came from a single/double denormal in memory (which
  // the conversion normalised): the operation reports DE where its precedence allows.
  bool denormal_source = false;

  // PC = 00 -> 24 bits, 10 -> 53, 11 -> 64; the reserved 01 behaves as 64 here.
  static FpEnv from_cw(uint16_t cw);
  bool unmasked(uint8_t f) const { return (flags & f & ~masks) != 0; }
  // An unmasked pre-computation exception: the instruction must leave its destination alone.
  bool faulted() const { return unmasked(kIE | kDE | kZE); }
};

// --- arithmetic (SDM vol.2 FADD, FSUB, FMUL, FDIV, FSQRT): honour PC -------------------------
Float80 fadd(Float80 a, Float80 b, FpEnv& env);
Float80 fsub(Float80 a, Float80 b, FpEnv& env);
Float80 fmul(Float80 a, Float80 b, FpEnv& env);
Float80 fdiv(Float80 a, Float80 b, FpEnv& env);
Float80 fsqrt(Float80 a, FpEnv& env);

// --- the rest ignore PC (SDM 8.1.5.2) -------------------------------------------------------
Float80 frndint(Float80 a, FpEnv& env);
Float80 fscale(Float80 a, Float80 b, FpEnv& env);  // a * 2^trunc(b)

struct Extracted { Float80 exponent, significand; };
Extracted fxtract(Float80 a, FpEnv& env);

// FPREM (ieee=false, truncating quotient) and FPREM1 (ieee=true, nearest quotient). When the
// exponent difference is 64 or more only a partial remainder is produced (complete=false, C2=1).
// A NaN or invalid-operation result has no quotient (has_quotient=false): FPREM then leaves
// C0, C1 and C3 alone.
struct Remainder {
  Float80 value;
  bool complete = true;
  bool has_quotient = true;
  uint8_t quotient = 0;  // low 3 bits
};
Remainder fprem(Float80 a, Float80 b, bool ieee, FpEnv& env);

enum class Cmp : uint8_t { Less, Equal, Greater, Unordered };
// quiet = FUCOM family: only SNaN raises IE. Otherwise any NaN raises IE (FCOM, FTST, FICOM).
Cmp fcompare(Float80 a, Float80 b, bool quiet, FpEnv& env);

// FXAM class code C3,C2,C0 (SDM vol.2 FXAM); C1 is the sign. Empty is decided by the caller.
uint8_t fxam_class(Float80 x);  // returns C3<<2 | C2<<1 | C0

// --- conversions ----------------------------------------------------------------------------
Float80 from_int(int64_t v);                      // exact
// Round to integer per RC and range-check to a signed `bits`-wide integer; an out-of-range,
// NaN, infinite or unsupported value raises IE and gives the integer indefinite (1 << bits-1).
int64_t to_int(Float80 a, unsigned bits, FpEnv& env);
Float80 from_f32(uint32_t v, FpEnv& env);         // SNaN -> IE, denormal -> DE
Float80 from_f64(uint64_t v, FpEnv& env);
uint32_t to_f32(Float80 a, FpEnv& env);           // rounds per RC to single (not PC)
uint64_t to_f64(Float80 a, FpEnv& env);
// 18-digit packed BCD (SDM 4.7): bytes 0..8 two digits each, byte 9 bit 7 = sign.
Float80 from_bcd(const uint8_t bcd[10]);
void to_bcd(Float80 a, uint8_t out[10], FpEnv& env);  // overflow/NaN -> IE, BCD indefinite

// Constants of FLD1/FLDL2T/... rounded per RC from their 66-bit internal form (SDM 8.3.8).
enum class Constant : uint8_t { One, L2T, L2E, Pi, LG2, LN2, Zero };
Float80 load_constant(Constant c, Rounding rc);

}  // namespace lift86::x87
