// The x87 FPU (frontend/x87). Expected bit patterns were measured on a host x87 (results of
// the basic arithmetic, conversions, flags and memory layouts are identical on Intel and AMD
// parts) or, for the transcendentals, computed with 400-bit mpmath and rounded to 64 bits.
#include <gtest/gtest.h>

#include <Zydis/Zydis.h>

#include <cstring>
#include <stdexcept>
#include <vector>

#include "frontend/x87/float80.hpp"
#include "frontend/x87/fpu_state.hpp"
#include "frontend/x87/transcendental.hpp"
#include "frontend/x87/x87_exec.hpp"

namespace lift86::x87 {
namespace {

constexpr Float80 F(uint16_t se, uint64_t mant) { return Float80{mant, se}; }

// A memory operand backed by a byte vector; can be told to fault on write.
struct Buf : X87Mem {
  std::vector<uint8_t> bytes = std::vector<uint8_t>(512, 0xA5);
  bool fault_on_write = false;
  void read(uint8_t* dst, unsigned n) override { std::memcpy(dst, bytes.data(), n); }
  void write(const uint8_t* src, unsigned n) override {
    if (fault_on_write) throw std::runtime_error("#PF");
    std::memcpy(bytes.data(), src, n);
  }
  uint64_t le(unsigned n, unsigned at = 0) const {
    uint64_t v = 0;
    for (unsigned i = n; i-- > 0;) v = (v << 8) | bytes[at + i];
    return v;
  }
  void set(uint64_t v, unsigned n, unsigned at = 0) {
    for (unsigned i = 0; i < n; ++i, v >>= 8) bytes[at + i] = uint8_t(v);
  }
  void set80(Float80 f, unsigned at = 0) {
    set(f.mant, 8, at);
    set(f.se, 2, at + 8);
  }
  Float80 get80(unsigned at = 0) const { return F(uint16_t(le(2, at + 8)), le(8, at)); }
};

// A little machine: FNINIT state, helpers that run one instruction.
struct Fpu {
  FpuState s;
  Buf mem;
  X87Result last;

  X87Result run(ZydisMnemonic m, uint8_t sti = 0, bool dst_is_sti = false) {
    X87Op op;
    op.mnemonic = m;
    op.sti = sti;
    op.dst_is_sti = dst_is_sti;
    return last = execute(s, op, mem);
  }
  X87Result run_mem(ZydisMnemonic m, uint16_t size, bool opsize32 = true, bool real_mode = false) {
    X87Op op;
    op.mnemonic = m;
    op.mem = true;
    op.mem_size = size;
    op.opsize32 = opsize32;
    op.real_mode = real_mode;
    return last = execute(s, op, mem);
  }
  void cw(uint16_t v) {
    mem.set(v, 2);
    run_mem(ZYDIS_MNEMONIC_FLDCW, 2);
  }
  void push(Float80 f) {
    mem.set80(f);
    run_mem(ZYDIS_MNEMONIC_FLD, 10);
  }
  void push_int(int64_t v) {
    mem.set(uint64_t(v), 8);
    run_mem(ZYDIS_MNEMONIC_FILD, 8);
  }
  Float80 st(unsigned i) const { return s.st(i); }
  uint16_t sw() const { return s.status_word(); }
  uint16_t flags() const { return sw() & 0x7F; }
  uint16_t cc() const { return sw() & kSwCC; }
};

#define EXPECT_F80(actual, want_se, want_mant)              \
  do {                                                      \
    const Float80 a_ = (actual);                            \
    EXPECT_EQ(a_.se, uint16_t(want_se)) << "sign/exponent"; \
    EXPECT_EQ(a_.mant, uint64_t(want_mant)) << "significand"; \
  } while (0)

// --- precision and rounding control (SDM 8.1.5.2, 4.8.4) ------------------------------------

TEST(Float80, OneThirdInEveryPrecisionAndRounding) {
  // fld1; fidiv m32int 3 with PC x RC; measured result and C1 (round-up bit).
  struct Row {
    uint16_t pc, rc;
    uint64_t mant;
    bool c1;
  };
  const Row rows[] = {
      {0, 0, 0xAAAAAB0000000000, true},  {0, 1, 0xAAAAAA0000000000, false}, {0, 2, 0xAAAAAB0000000000, true},
      {0, 3, 0xAAAAAA0000000000, false}, {2, 0, 0xAAAAAAAAAAAAA800, false}, {2, 1, 0xAAAAAAAAAAAAA800, false},
      {2, 2, 0xAAAAAAAAAAAAB000, true},  {2, 3, 0xAAAAAAAAAAAAA800, false}, {3, 0, 0xAAAAAAAAAAAAAAAB, true},
      {3, 1, 0xAAAAAAAAAAAAAAAA, false}, {3, 2, 0xAAAAAAAAAAAAAAAB, true},  {3, 3, 0xAAAAAAAAAAAAAAAA, false},
  };
  for (const Row& r : rows) {
    SCOPED_TRACE(testing::Message() << "PC=" << r.pc << " RC=" << r.rc);
    Fpu f;
    f.cw(uint16_t(0x007F | r.pc << 8 | r.rc << 10));
    f.run(ZYDIS_MNEMONIC_FLD1);
    f.mem.set(3, 4);
    f.run_mem(ZYDIS_MNEMONIC_FIDIV, 4);
    EXPECT_F80(f.st(0), 0x3FFD, r.mant);
    EXPECT_EQ(f.flags(), kPE);
    EXPECT_EQ(bool(f.sw() & kSwC1), r.c1);
  }
}

TEST(Float80, PointOnePlusPointTwo) {
  const uint64_t d01 = 0x3FB999999999999Aull, d02 = 0x3FC999999999999Aull;
  Fpu f;
  f.mem.set(d01, 8);
  f.run_mem(ZYDIS_MNEMONIC_FLD, 8);
  f.mem.set(d02, 8);
  f.run_mem(ZYDIS_MNEMONIC_FADD, 8);
  EXPECT_F80(f.st(0), 0x3FFD, 0x9999999999999C00);  // exact in 64 bits
  EXPECT_EQ(f.flags(), 0);
  f.run_mem(ZYDIS_MNEMONIC_FST, 8);  // the famous 0.30000000000000004
  EXPECT_EQ(f.mem.le(8), 0x3FD3333333333334ull);
  EXPECT_EQ(f.flags(), kPE);
  EXPECT_TRUE(f.sw() & kSwC1);

  Fpu g;  // PC=53 rounds the sum itself
  g.cw(0x027F);
  g.mem.set(d01, 8);
  g.run_mem(ZYDIS_MNEMONIC_FLD, 8);
  g.mem.set(d02, 8);
  g.run_mem(ZYDIS_MNEMONIC_FADD, 8);
  EXPECT_F80(g.st(0), 0x3FFD, 0x999999999999A000);
  EXPECT_EQ(g.flags(), kPE);
}

TEST(Float80, SquareRootOfTwo) {
  const uint64_t down = 0xB504F333F9DE6484, up = 0xB504F333F9DE6485;
  const uint64_t want[4] = {down, down, up, down};
  for (uint16_t rc = 0; rc < 4; ++rc) {
    Fpu f;
    f.cw(uint16_t(0x037F | rc << 10));
    f.push_int(2);
    f.run(ZYDIS_MNEMONIC_FSQRT);
    EXPECT_F80(f.st(0), 0x3FFF, want[rc]);
    EXPECT_EQ(f.flags(), kPE);
    EXPECT_EQ(bool(f.sw() & kSwC1), rc == 2);
  }
  Fpu f;  // sqrt(-1): invalid, the real indefinite
  f.push_int(-1);
  f.run(ZYDIS_MNEMONIC_FSQRT);
  EXPECT_EQ(f.st(0), kIndefinite);
  EXPECT_EQ(f.flags(), kIE);
}

TEST(Float80, ExactCancellationGivesSignedZeroPerRounding) {
  for (uint16_t rc = 0; rc < 4; ++rc) {
    FpEnv env = FpEnv::from_cw(uint16_t(0x037F | rc << 10));
    const Float80 r = fsub(kOne, kOne, env);
    EXPECT_EQ(r, make_zero(rc == 1)) << "RC=" << rc;  // -0 only when rounding down
  }
}

// --- denormals, underflow, overflow (SDM 4.9.1.4-5, 8.5.4-5) ---------------------------------

TEST(Float80, DenormalResults) {
  const Float80 min_normal = F(0x0001, 0x8000000000000000);
  FpEnv env;
  const Float80 three_quarters = F(0x3FFE, 0xC000000000000000);
  // Exact denormal: no UE when masked (tiny but exact).
  EXPECT_EQ(fmul(min_normal, three_quarters, env), F(0x0000, 0x6000000000000000));
  EXPECT_EQ(env.flags, 0);
  // Inexact denormal: UE and PE, rounded up (C1).
  env = FpEnv{};
  EXPECT_EQ(fmul(F(0x0001, 0x8000000000000001), three_quarters, env), F(0x0000, 0x6000000000000001));
  EXPECT_EQ(env.flags, kUE | kPE);
  EXPECT_TRUE(env.c1);
  // Unmasked UE: the register gets the result scaled by 2^24576 (measured: 6000:C000000000000002).
  env = FpEnv::from_cw(0x036F);
  EXPECT_EQ(fmul(F(0x0001, 0x8000000000000001), three_quarters, env), F(0x6000, 0xC000000000000002));
  EXPECT_EQ(env.flags, kUE | kPE);
  // Total underflow to +0 in round-to-nearest.
  env = FpEnv{};
  EXPECT_EQ(fmul(min_normal, min_normal, env), make_zero(false));
  EXPECT_EQ(env.flags, kUE | kPE);
}

TEST(Float80, OverflowByRoundingMode) {
  const Float80 big = F(0x7FFE, 0xC000000000000000), four = F(0x4001, 0x8000000000000000);
  FpEnv env;  // nearest: infinity, rounded up
  EXPECT_EQ(fmul(big, four, env), make_inf(false));
  EXPECT_EQ(env.flags, kOE | kPE);
  EXPECT_TRUE(env.c1);
  env = FpEnv::from_cw(0x0F7F);  // chop: the largest finite number
  EXPECT_EQ(fmul(big, four, env), F(0x7FFE, 0xFFFFFFFFFFFFFFFF));
  EXPECT_EQ(env.flags, kOE | kPE);
  EXPECT_FALSE(env.c1);
  env = FpEnv::from_cw(0x0C7F & ~0x0300);  // chop with PC=24: largest 24-bit significand
  EXPECT_EQ(fmul(big, four, env), F(0x7FFE, 0xFFFFFF0000000000));
  env = FpEnv::from_cw(0x0377);  // unmasked OE: scaled by 2^-24576 (measured 2000:C000...)
  EXPECT_EQ(fmul(big, four, env), F(0x2000, 0xC000000000000000));
  EXPECT_EQ(env.flags, kOE);
}

TEST(Float80, PseudoDenormalOperand) {
  // exponent 0 with J=1: a denormal operand (DE) valued like exponent 1 (SDM 8.2.2).
  const Float80 pseudo = F(0x0000, 0x8000000000000001);
  EXPECT_EQ(classify(pseudo), FpClass::PseudoDenormal);
  FpEnv env;
  EXPECT_EQ(fadd(pseudo, make_zero(false), env), F(0x0001, 0x8000000000000001));  // normalised
  EXPECT_EQ(env.flags, kDE);
  Fpu f;  // FXAM: denormal class, tag "special"
  f.push(pseudo);
  f.run(ZYDIS_MNEMONIC_FXAM);
  EXPECT_EQ(f.cc(), kSwC3 | kSwC2);
  EXPECT_EQ((f.s.tag_word() >> (2 * f.s.phys(0))) & 3, 2);
  // DE unmasked: nothing happens to the destination.
  f.cw(0x037D);
  f.push(kOne);
  f.run(ZYDIS_MNEMONIC_FADD, 1);
  EXPECT_EQ(f.st(0), kOne);
  EXPECT_TRUE(f.sw() & kSwES);
  EXPECT_TRUE(has_pending_unmasked(f.s));
}

TEST(Float80, UnsupportedEncodingsAreInvalid) {
  const Float80 unnormal = F(0x3FFF, 0x4000000000000000), pseudo_inf = F(0x7FFF, 0);
  EXPECT_EQ(classify(unnormal), FpClass::Unsupported);
  EXPECT_EQ(classify(pseudo_inf), FpClass::Unsupported);
  FpEnv env;
  EXPECT_EQ(fadd(unnormal, kOne, env), kIndefinite);
  EXPECT_EQ(env.flags, kIE);
  EXPECT_EQ(fxam_class(unnormal), 0);
}

// --- NaN propagation (SDM vol.1 table 4-7, x87 column) -------------------------------------

TEST(Float80, NaNPropagation) {
  const Float80 qnan_small = F(0x7FFF, 0xC000000000000001), qnan_big = F(0xFFFF, 0xE000000000000000);
  const Float80 snan = F(0x7FFF, 0xA000000000000000);
  FpEnv env;
  EXPECT_EQ(fadd(qnan_small, qnan_big, env), qnan_big);  // larger significand
  EXPECT_EQ(env.flags, 0);
  EXPECT_EQ(fmul(snan, kOne, env), F(0x7FFF, 0xE000000000000000));  // quieted, IE
  EXPECT_EQ(env.flags, kIE);
  env = FpEnv{};
  EXPECT_EQ(fsub(snan, qnan_small, env), qnan_small);  // SNaN and QNaN: the QNaN
  EXPECT_EQ(env.flags, kIE);
  env = FpEnv{};  // QNaN outranks a denormal operand: no DE
  EXPECT_EQ(fdiv(qnan_small, F(0x0000, 1), env), qnan_small);
  EXPECT_EQ(env.flags, 0);
  env = FpEnv{};  // inf - inf: the real indefinite
  EXPECT_EQ(fadd(make_inf(false), make_inf(true), env), kIndefinite);
  EXPECT_EQ(env.flags, kIE);
  env = FpEnv{};  // x / 0: ZE and a signed infinity, and no DE even for a denormal dividend
  EXPECT_EQ(fdiv(F(0x8000, 5), make_zero(false), env), make_inf(true));
  EXPECT_EQ(env.flags, kZE);
}

// --- conversions ------------------------------------------------------------------------------

TEST(Convert, FistRoundingAndOverflow) {
  struct Row {
    uint64_t dbl;  // the source as an IEEE double
    uint16_t rc, want, flags;
    bool c1;
  };
  const uint64_t p25 = 0x4004000000000000, m25 = 0xC004000000000000, p32767_5 = 0x40DFFFE000000000;
  const Row rows[] = {
      {p25, 0, 0x0002, kPE, false},      {p25, 2, 0x0003, kPE, true},       {m25, 0, 0xFFFE, kPE, false},
      {m25, 1, 0xFFFD, kPE, true},       {m25, 3, 0xFFFE, kPE, false},      {p32767_5, 0, 0x8000, kIE, false},
      {p32767_5, 3, 0x7FFF, kPE, false}, {0x46293E5939A08CEA /*1e30*/, 0, 0x8000, kIE, false},
  };
  for (const Row& r : rows) {
    SCOPED_TRACE(testing::Message() << std::hex << r.dbl << " RC=" << r.rc);
    Fpu f;
    f.cw(uint16_t(0x037F | r.rc << 10));
    f.mem.set(r.dbl, 8);
    f.run_mem(ZYDIS_MNEMONIC_FLD, 8);
    f.run_mem(ZYDIS_MNEMONIC_FISTP, 2);
    EXPECT_EQ(f.mem.le(2), r.want);
    EXPECT_EQ(f.flags(), r.flags);
    EXPECT_EQ(bool(f.sw() & kSwC1), r.c1);
    EXPECT_TRUE(f.s.empty(0));  // popped
  }
  FpEnv env;  // the 64-bit boundaries
  EXPECT_EQ(to_int(F(0xC03E, 0x8000000000000000), 64, env), INT64_MIN);  // -2^63 fits
  EXPECT_EQ(env.flags, 0);
  EXPECT_EQ(to_int(F(0x403E, 0x8000000000000000), 64, env), INT64_MIN);  // +2^63: indefinite
  EXPECT_EQ(env.flags, kIE);
}

TEST(Convert, UnmaskedInvalidStoreLeavesMemoryAndStack) {
  Fpu f;
  f.cw(0x037E);  // IE unmasked
  f.push(make_inf(false));
  f.mem.set(0x1234, 2);
  f.run_mem(ZYDIS_MNEMONIC_FISTP, 2);
  EXPECT_EQ(f.mem.le(2), 0x1234u);
  EXPECT_FALSE(f.s.empty(0));
  EXPECT_EQ(f.flags() & kIE, kIE);
}

TEST(Convert, SingleAndDouble) {
  FpEnv env;
  // The smallest single denormal loads normalised, with DE.
  EXPECT_EQ(from_f32(1, env), F(0x3F6A, 0x8000000000000000));
  EXPECT_EQ(env.flags, kDE);
  env = FpEnv{};  // SNaN single: IE, quieted, payload moved up
  EXPECT_EQ(from_f32(0x7F800001, env), F(0x7FFF, 0xC000010000000000));
  EXPECT_EQ(env.flags, kIE);
  env = FpEnv{};  // to single: ties to even, overflow, and a denormal result
  EXPECT_EQ(to_f32(F(0x3FFF, 0x8000008000000000), env), 0x3F800000u);  // 1 + 2^-24: tie, even
  EXPECT_EQ(to_f32(F(0x3FFF, 0x8000018000000000), env), 0x3F800002u);  // tie, up to even
  EXPECT_EQ(env.flags, kPE);
  env = FpEnv{};
  EXPECT_EQ(to_f32(F(0x4400, 0x8000000000000000), env), 0x7F800000u);
  EXPECT_EQ(env.flags, kOE | kPE);
  env = FpEnv{};
  EXPECT_EQ(to_f32(F(0x3F69, 0xC000000000000000), env), 0x00000001u);  // 0.75 * 2^-149: up
  EXPECT_EQ(env.flags, kUE | kPE);
  env = FpEnv{};
  EXPECT_EQ(to_f64(kIndefinite, env), 0xFFF8000000000000ull);
  EXPECT_EQ(env.flags, 0);
}

TEST(Convert, PackedBcd) {
  Fpu f;
  f.mem.set(0xC132D68780000000ull, 8);  // -1234567.5 (ties to even -> 1234568)
  f.run_mem(ZYDIS_MNEMONIC_FLD, 8);
  f.run_mem(ZYDIS_MNEMONIC_FBSTP, 10);
  const uint8_t want[10] = {0x68, 0x45, 0x23, 0x01, 0, 0, 0, 0, 0, 0x80};
  EXPECT_EQ(0, std::memcmp(f.mem.bytes.data(), want, 10));
  EXPECT_EQ(f.flags(), kPE);
  EXPECT_TRUE(f.sw() & kSwC1);
  // 10^18 has 19 digits: invalid, the BCD indefinite FFFF C000000000000000.
  Fpu g;
  g.push_int(1000000000000000000);
  g.run_mem(ZYDIS_MNEMONIC_FBSTP, 10);
  const uint8_t indef[10] = {0, 0, 0, 0, 0, 0, 0, 0xC0, 0xFF, 0xFF};
  EXPECT_EQ(0, std::memcmp(g.mem.bytes.data(), indef, 10));
  EXPECT_EQ(g.flags(), kIE);
  // FBLD of 999999999999999999 and of -0.
  const uint8_t nines[10] = {0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x00};
  EXPECT_EQ(from_bcd(nines), from_int(999999999999999999));
  const uint8_t negzero[10] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80};
  EXPECT_EQ(from_bcd(negzero), make_zero(true));
}

// --- the register stack (SDM 8.5.1.1) ---------------------------------------------------------

TEST(Stack, OverflowAndUnderflow) {
  Fpu f;
  for (int i = 0; i < 8; ++i) f.run(ZYDIS_MNEMONIC_FLDZ);
  EXPECT_EQ(f.flags(), 0);
  f.run(ZYDIS_MNEMONIC_FLD1);  // ninth push: overflow, masked -> indefinite
  EXPECT_EQ(f.flags(), uint16_t(kIE) | kSwSF);
  EXPECT_TRUE(f.sw() & kSwC1);
  EXPECT_EQ(f.st(0), kIndefinite);

  Fpu g;  // FADD with an empty ST(1): underflow, C1 = 0, ST(0) = indefinite
  g.run(ZYDIS_MNEMONIC_FLD1);
  g.run(ZYDIS_MNEMONIC_FADD, 1);
  EXPECT_EQ(g.flags(), uint16_t(kIE) | kSwSF);
  EXPECT_FALSE(g.sw() & kSwC1);
  EXPECT_EQ(g.st(0), kIndefinite);

  Fpu h;  // unmasked: nothing changes but the flags, and ES is pending
  h.cw(0x037E);
  h.run(ZYDIS_MNEMONIC_FLD1);
  h.run(ZYDIS_MNEMONIC_FADD, 1);
  EXPECT_EQ(h.st(0), kOne);
  EXPECT_EQ(h.sw() & (kSwES | kSwB), kSwES | kSwB);
  EXPECT_FALSE(is_nowait(ZYDIS_MNEMONIC_FADD));
  EXPECT_TRUE(is_nowait(ZYDIS_MNEMONIC_FNCLEX));
  h.run(ZYDIS_MNEMONIC_FNCLEX);
  EXPECT_FALSE(has_pending_unmasked(h.s));
}

TEST(Stack, PopFormsAndReversedOperands) {
  Fpu f;
  f.push_int(10);
  f.push_int(4);  // ST0 = 4, ST1 = 10
  f.run(ZYDIS_MNEMONIC_FSUBP, 1, true);  // ST1 = ST1 - ST0 = 6, pop
  EXPECT_EQ(f.st(0), from_int(6));
  EXPECT_EQ(f.s.top, 7);
  f.push_int(3);
  f.run(ZYDIS_MNEMONIC_FSUBR, 1);  // ST0 = ST1 - ST0 = 3
  EXPECT_EQ(f.st(0), from_int(3));
  f.run(ZYDIS_MNEMONIC_FDIVR, 1, true);  // ST1 = ST0 / ST1 = 3/6
  EXPECT_EQ(f.st(1), F(0x3FFE, 0x8000000000000000));
  f.run(ZYDIS_MNEMONIC_FXCH, 1);
  EXPECT_EQ(f.st(0), F(0x3FFE, 0x8000000000000000));
  EXPECT_EQ(f.st(1), from_int(3));
}

TEST(Stack, FaultingStoreLeavesStateUntouched) {
  Fpu f;
  f.push_int(7);
  const FpuState before = f.s;
  f.mem.fault_on_write = true;
  X87Op op;
  op.mnemonic = ZYDIS_MNEMONIC_FSTP;
  op.mem = true;
  op.mem_size = 4;
  op.fip = 0x1234;
  EXPECT_THROW(execute(f.s, op, f.mem), std::runtime_error);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(f.s.regs[i], before.regs[i]);
  EXPECT_EQ(f.s.valid, before.valid);
  EXPECT_EQ(f.s.top, before.top);
  EXPECT_EQ(f.s.sw, before.sw);
  EXPECT_EQ(f.s.fip, before.fip);  // not even the instruction pointer was recorded
}

// --- compares and classification -------------------------------------------------------------

TEST(Compare, ConditionCodesAndEflags) {
  Fpu f;
  f.push_int(2);
  f.push_int(1);  // ST0 = 1 < ST1 = 2
  f.run(ZYDIS_MNEMONIC_FCOM, 1);
  EXPECT_EQ(f.cc(), kSwC0);
  f.run(ZYDIS_MNEMONIC_FCOMI, 1);
  EXPECT_TRUE(f.last.set_eflags);
  EXPECT_EQ(f.last.zf_pf_cf, 0x01u);  // CF
  f.run(ZYDIS_MNEMONIC_FXCH, 1);
  f.run(ZYDIS_MNEMONIC_FUCOMI, 1);
  EXPECT_EQ(f.last.zf_pf_cf, 0x00u);  // greater
  f.run(ZYDIS_MNEMONIC_FTST);
  EXPECT_EQ(f.cc(), 0);
  f.push(F(0x7FFF, 0xC000000000000000));  // a QNaN: FUCOM quiet, FCOM invalid
  f.run(ZYDIS_MNEMONIC_FUCOM, 1);
  EXPECT_EQ(f.cc(), kSwC3 | kSwC2 | kSwC0);
  EXPECT_EQ(f.flags(), 0);
  f.run(ZYDIS_MNEMONIC_FCOMIP, 1);
  EXPECT_EQ(f.last.zf_pf_cf, 0x45u);
  EXPECT_EQ(f.flags(), kIE);
  f.run(ZYDIS_MNEMONIC_FCOMPP, 1);  // ST0 = 2 > ST1 = 1
  EXPECT_EQ(f.cc(), 0);
  EXPECT_EQ(f.s.valid, 0);  // everything popped
}

TEST(Compare, FxamClasses) {
  struct Row {
    Float80 v;
    uint16_t cc;
  };
  const Row rows[] = {
      {F(0x3FFF, 0x4000000000000000), 0},                  // unsupported (unnormal)
      {F(0x7FFF, 0xC000000000000000), kSwC0},              // NaN
      {F(0xBFFF, 0x8000000000000000), kSwC2 | kSwC1},      // normal, negative
      {make_inf(false), kSwC2 | kSwC0},                    // infinity
      {make_zero(true), kSwC3 | kSwC1},                    // zero, negative
      {F(0x0000, 0x0000000000000001), kSwC3 | kSwC2},      // denormal
  };
  for (const Row& r : rows) {
    Fpu f;
    f.push(r.v);
    f.run(ZYDIS_MNEMONIC_FXAM);
    EXPECT_EQ(f.cc(), r.cc) << std::hex << r.v.se << ":" << r.v.mant;
  }
  Fpu e;  // empty: C3 and C0
  e.run(ZYDIS_MNEMONIC_FXAM);
  EXPECT_EQ(e.cc() & ~kSwC1, kSwC3 | kSwC0);
}

TEST(Compare, FcmovReadsEflags) {
  Fpu f;
  f.push_int(5);
  f.push_int(9);
  X87Op op;
  op.mnemonic = ZYDIS_MNEMONIC_FCMOVB;
  op.sti = 1;
  op.eflags_in = 0;  // CF clear: no move
  execute(f.s, op, f.mem);
  EXPECT_EQ(f.st(0), from_int(9));
  op.eflags_in = 1;
  execute(f.s, op, f.mem);
  EXPECT_EQ(f.st(0), from_int(5));
  op.mnemonic = ZYDIS_MNEMONIC_FCMOVNU;  // PF set: no move
  op.eflags_in = 4;
  f.push_int(1);
  execute(f.s, op, f.mem);
  EXPECT_EQ(f.st(0), from_int(1));
}

// --- FPREM / FPREM1 / FRNDINT / FSCALE / FXTRACT -------------------------------------------

TEST(Partial, FpremQuotientBits) {
  // 100 rem 7 = 2, quotient 14 = 0b1110: C0 = Q2 = 1, C3 = Q1 = 1, C1 = Q0 = 0 (measured 7100).
  Fpu f;
  f.push_int(7);
  f.push_int(100);
  f.run(ZYDIS_MNEMONIC_FPREM);
  EXPECT_EQ(f.st(0), from_int(2));
  EXPECT_EQ(f.cc(), kSwC3 | kSwC0);
  // FPREM1 rounds the quotient to nearest: 11 rem 4 = -1 (q = 3: C3 = 1, C1 = 1).
  Fpu g;
  g.push_int(4);
  g.push_int(11);
  g.run(ZYDIS_MNEMONIC_FPREM1);
  EXPECT_EQ(g.st(0), from_int(-1));
  EXPECT_EQ(g.cc(), kSwC3 | kSwC1);
  // 1e300 rem 3: exponent difference >= 64, a partial remainder with C2 = 1 (measured).
  Fpu h;
  h.mem.set(0x4008000000000000, 8);  // 3.0
  h.run_mem(ZYDIS_MNEMONIC_FLD, 8);
  h.mem.set(0x7E37E43C8800759Cull, 8);  // 1e300
  h.run_mem(ZYDIS_MNEMONIC_FLD, 8);
  h.run(ZYDIS_MNEMONIC_FPREM);
  EXPECT_EQ(h.st(0), F(0x43BD, 0xEB38000000000000));
  EXPECT_EQ(h.cc(), kSwC2);
}

TEST(Partial, RndintScaleXtract) {
  FpEnv env;
  EXPECT_EQ(frndint(F(0xBFFD, 0x9999999999999999), env), make_zero(true));  // -0.3 -> -0
  EXPECT_EQ(env.flags, kPE);
  env = FpEnv::from_cw(0x0B7F);  // round up: 2.5 -> 3
  EXPECT_EQ(frndint(F(0x4000, 0xA000000000000000), env), from_int(3));
  EXPECT_TRUE(env.c1);
  env = FpEnv{};
  EXPECT_EQ(fscale(kOne, F(0xC000, 0xE000000000000000) /* -3.5 -> -3 */, env), F(0x3FFC, 0x8000000000000000));
  EXPECT_EQ(fscale(make_zero(false), make_inf(false), env), kIndefinite);  // 0 * 2^inf
  Fpu f;  // FXTRACT of -10: ST1 = 3, ST0 = -1.25
  f.push_int(-10);
  f.run(ZYDIS_MNEMONIC_FXTRACT);
  EXPECT_EQ(f.st(0), F(0xBFFF, 0xA000000000000000));
  EXPECT_EQ(f.st(1), from_int(3));
  Fpu z;  // of zero: ZE, exponent -inf
  z.run(ZYDIS_MNEMONIC_FLDZ);
  z.run(ZYDIS_MNEMONIC_FXTRACT);
  EXPECT_EQ(z.st(1), make_inf(true));
  EXPECT_EQ(z.flags(), kZE);
}

// --- constants and transcendentals (expected values from mpmath, correctly rounded) -----------

TEST(Transcendental, ConstantsFollowRoundingControl) {
  EXPECT_EQ(load_constant(Constant::Pi, Rounding::Nearest), F(0x4000, 0xC90FDAA22168C235));
  EXPECT_EQ(load_constant(Constant::Pi, Rounding::Chop), F(0x4000, 0xC90FDAA22168C234));
  EXPECT_EQ(load_constant(Constant::L2T, Rounding::Nearest), F(0x4000, 0xD49A784BCD1B8AFE));
  EXPECT_EQ(load_constant(Constant::L2T, Rounding::Up), F(0x4000, 0xD49A784BCD1B8AFF));
  EXPECT_EQ(load_constant(Constant::LN2, Rounding::Down), F(0x3FFE, 0xB17217F7D1CF79AB));
}

TEST(Transcendental, SineOfPi) {
  // FLDPI rounds pi up to ...C235 under round-to-nearest, so sin is slightly negative:
  // -(pi_80 - pi). (Intel and AMD parts reduce with a 66-bit pi and give -2^-64 instead.)
  Fpu f;
  f.run(ZYDIS_MNEMONIC_FLDPI);
  f.run(ZYDIS_MNEMONIC_FSIN);
  EXPECT_F80(f.st(0), 0xBFBE, 0xECE675D1FC8F8CBB);
  EXPECT_EQ(f.flags(), kPE);
  EXPECT_FALSE(f.sw() & kSwC2);
  // With FLDPI rounded down (...C234), sin(pi_80) = pi - pi_80 > 0.
  Fpu g;
  g.cw(0x077F);
  g.run(ZYDIS_MNEMONIC_FLDPI);
  g.cw(0x037F);
  g.run(ZYDIS_MNEMONIC_FSIN);
  EXPECT_F80(g.st(0), 0x3FC0, 0xC4C6628B80DC1CD1);
}

TEST(Transcendental, KnownValues) {
  FpEnv env;
  EXPECT_EQ(fsin(kOne, env), F(0x3FFE, 0xD76AA47848677021));
  EXPECT_EQ(fcos(kOne, env), F(0x3FFE, 0x8A51407DA8345C92));
  EXPECT_EQ(ftan(kOne, env), F(0x3FFF, 0xC75922E5F71D2DC5));
  EXPECT_EQ(f2xm1(F(0x3FFE, 0x8000000000000000), env), F(0x3FFD, 0xD413CCCFE7799211));  // sqrt2-1
  EXPECT_EQ(f2xm1(F(0xBFE1, 0x8000000000000000), env), F(0xBFE0, 0xB17217F6DBD189B1));  // x=-2^-30
  EXPECT_EQ(fpatan(kOne, kOne, env), F(0x3FFE, 0xC90FDAA22168C235));                   // pi/4
  EXPECT_EQ(fpatan(kOne, from_int(-1), env), F(0x4000, 0x96CBE3F9990E91A8));           // 3pi/4
  EXPECT_EQ(fyl2x(kOne, from_int(10), env), F(0x4000, 0xD49A784BCD1B8AFE));            // log2 10
  EXPECT_EQ(fyl2xp1(kOne, F(0x3FD7, 0x8000000000000000), env), F(0x3FD7, 0xB8AA3B295BBB9B9E));
  // Large arguments need the long pi: sin and cos of 2^62 and of 10^18.
  EXPECT_EQ(fsin(F(0x403D, 0x8000000000000000), env), F(0xBFFE, 0xB3F2B9AAF80A3946));
  EXPECT_EQ(fcos(F(0x403D, 0x8000000000000000), env), F(0xBFFE, 0xB6158FC106383E05));
  EXPECT_EQ(fsin(from_int(1000000000000000000), env), F(0xBFFE, 0xFE333CC682E96D39));
  EXPECT_EQ(env.flags, kPE);
  // Exact cases raise nothing: log2(8) * 3 = 9, 2^1 - 1 = 1, sin(-0) = -0.
  env = FpEnv{};
  EXPECT_EQ(fyl2x(from_int(3), from_int(8), env), from_int(9));
  EXPECT_EQ(f2xm1(kOne, env), kOne);
  EXPECT_EQ(fsin(make_zero(true), env), make_zero(true));
  EXPECT_EQ(env.flags, 0);
  // Special operands: log2(0) is -inf with ZE; log of a negative number is invalid.
  EXPECT_EQ(fyl2x(kOne, make_zero(false), env), make_inf(true));
  EXPECT_EQ(env.flags, kZE);
  EXPECT_EQ(fyl2x(kOne, from_int(-2), env), kIndefinite);
}

TEST(Transcendental, OutOfRangeSetsC2) {
  Fpu f;
  f.push(F(0x403E, 0x8000000000000000));  // 2^63
  f.run(ZYDIS_MNEMONIC_FSIN);
  EXPECT_EQ(f.st(0), F(0x403E, 0x8000000000000000));  // unchanged
  EXPECT_EQ(f.cc(), kSwC2);
  f.run(ZYDIS_MNEMONIC_FPTAN);
  EXPECT_EQ(f.s.top, 7);  // nothing pushed
  f.run(ZYDIS_MNEMONIC_FSTP, 0);
  f.run(ZYDIS_MNEMONIC_FLDZ);
  f.run(ZYDIS_MNEMONIC_FPTAN);  // tan 0 = 0, then 1.0 pushed
  EXPECT_EQ(f.st(0), kOne);
  EXPECT_EQ(f.st(1), make_zero(false));
  EXPECT_EQ(f.cc() & kSwC2, 0);
  f.run(ZYDIS_MNEMONIC_FSINCOS);  // of 1.0: ST0 = cos, ST1 = sin
  EXPECT_EQ(f.st(0), F(0x3FFE, 0x8A51407DA8345C92));
  EXPECT_EQ(f.st(1), F(0x3FFE, 0xD76AA47848677021));
}

// --- control instructions and memory images (SDM 8.1.10, vol.2 FXSAVE) -----------------------

TEST(Control, ControlWordReservedBits) {
  Fpu f;
  f.cw(0x0000);
  f.run_mem(ZYDIS_MNEMONIC_FNSTCW, 2);
  EXPECT_EQ(f.mem.le(2), 0x0040u);  // bit 6 reads as 1 (measured)
  f.cw(0xFFFF);
  f.run_mem(ZYDIS_MNEMONIC_FNSTCW, 2);
  EXPECT_EQ(f.mem.le(2), 0x1F7Fu);
  f.run(ZYDIS_MNEMONIC_FNINIT);
  EXPECT_EQ(f.s.cw, 0x037F);
  EXPECT_EQ(f.s.tag_word(), 0xFFFF);
  X87Op op;
  op.mnemonic = ZYDIS_MNEMONIC_FNSTSW;  // FNSTSW AX
  f.run(ZYDIS_MNEMONIC_FLD1);
  const X87Result r = execute(f.s, op, f.mem);
  EXPECT_TRUE(r.set_ax);
  EXPECT_EQ(r.ax, 0x3800);  // TOP = 7
}

// A state with ST0 = 1.0, ST1 = +0 (TOP = 6) and known pointers, for the memory-image tests.
Fpu image_state() {
  Fpu f;
  f.run(ZYDIS_MNEMONIC_FLDZ);
  X87Op op;  // FLD m32fp 1.0, recording its pointers
  op.mnemonic = ZYDIS_MNEMONIC_FLD;
  op.mem = true;
  op.mem_size = 4;
  op.fcs = 0x0010;
  op.fip = 0x00111111;
  op.fds = 0x0018;
  op.fdp = 0x00ABCDEF;
  op.fop = 0x0107;  // D9 07
  f.mem.set(0x3F800000, 4);
  execute(f.s, op, f.mem);
  EXPECT_EQ(f.s.fip, 0x00111111u);
  EXPECT_EQ(f.s.fop, 0x0107);
  return f;
}

TEST(Control, FstenvProtected32Layout) {
  Fpu f = image_state();
  f.s.fip = 0x00123456;
  f.s.fop = 0x1E8;
  f.run_mem(ZYDIS_MNEMONIC_FNSTENV, 28);
  // Reserved upper halves read 0xFFFF (measured). Tags: ST0 = 1.0 valid, ST1 = +0 zero.
  const uint32_t want[7] = {0xFFFF037F, 0xFFFF3000, 0xFFFF4FFF, 0x00123456,
                            0x01E80010 /* FOP:FCS */, 0x00ABCDEF, 0xFFFF0018};
  for (int i = 0; i < 7; ++i) EXPECT_EQ(f.mem.le(4, 4 * i), want[i]) << "dword " << i;
  EXPECT_EQ(f.s.cw, 0x037F | 0x3F);  // FSTENV then masks all exceptions (already masked)
}

TEST(Control, FsaveReal16LayoutAndReinit) {
  Fpu f = image_state();
  f.s.fcs = 0x1234;
  f.s.fip = 0x0010;  // linear 0x12350
  f.s.fds = 0x2000;
  f.s.fdp = 0xFFFF;  // linear 0x2FFFF
  f.s.fop = 0x5E8;
  f.run_mem(ZYDIS_MNEMONIC_FNSAVE, 94, /*opsize32=*/false, /*real_mode=*/true);
  // IP 1234:0010 -> linear 12350 split 2350 / 1 in bits 15..12 beside FOP; DP 2000:FFFF -> 2FFFF.
  const uint16_t want[7] = {0x037F, 0x3000, 0x4FFF, 0x2350, 0x15E8, 0xFFFF, 0x2000};
  for (int i = 0; i < 7; ++i) EXPECT_EQ(f.mem.le(2, 2 * i), want[i]) << "word " << i;
  EXPECT_EQ(f.mem.get80(14), kOne);                       // ST(0)
  EXPECT_EQ(f.mem.get80(24), make_zero(false));           // ST(1)
  EXPECT_EQ(f.s.tag_word(), 0xFFFF);                      // FNSAVE reinitialises
  // FRSTOR brings it all back, TOP first so the registers land in ST(i) order.
  f.run_mem(ZYDIS_MNEMONIC_FRSTOR, 94, false, true);
  EXPECT_EQ(f.st(0), kOne);
  EXPECT_EQ(f.st(1), make_zero(false));
  EXPECT_EQ(f.s.top, 6);
  EXPECT_EQ(f.s.fip, 0x12350u);  // pointers come back as linear addresses
  EXPECT_EQ(f.s.fop, 0x5E8);
}

TEST(Control, EnvironmentRoundTripInAllFourLayouts) {
  for (int layout = 0; layout < 4; ++layout) {
    const bool o32 = layout & 1, real = layout & 2;
    SCOPED_TRACE(testing::Message() << "opsize32=" << o32 << " real=" << real);
    Fpu f = image_state();
    f.cw(0x0A5F);  // PE unmasked, RC up, PC 53
    f.s.sw |= kSwC3 | uint16_t(kPE);
    f.s.fcs = 0x1000, f.s.fip = 0x0234, f.s.fds = 0x2000, f.s.fdp = 0x0ABC, f.s.fop = 0x7FF;
    const uint16_t sw = f.sw(), tw = f.s.tag_word();
    f.run_mem(ZYDIS_MNEMONIC_FNSTENV, o32 ? 28 : 14, o32, real);
    EXPECT_EQ(f.s.cw, 0x0A7F);  // FSTENV masks every exception afterwards
    f.run(ZYDIS_MNEMONIC_FNINIT);
    f.run_mem(ZYDIS_MNEMONIC_FLDENV, o32 ? 28 : 14, o32, real);
    EXPECT_EQ(f.s.cw, 0x0A5F);
    EXPECT_EQ(f.sw(), sw);
    EXPECT_EQ(f.s.tag_word(), tw);
    EXPECT_TRUE(has_pending_unmasked(f.s));  // PE is unmasked in the loaded CW
    if (real) {  // linear pointers, zero selectors
      EXPECT_EQ(f.s.fip, 0x10234u);
      EXPECT_EQ(f.s.fdp, 0x20ABCu);
      EXPECT_EQ(f.s.fcs, 0);
      EXPECT_EQ(f.s.fop, 0x7FF);
    } else {
      EXPECT_EQ(f.s.fip, 0x0234u);
      EXPECT_EQ(f.s.fcs, 0x1000);
      EXPECT_EQ(f.s.fdp, 0x0ABCu);
      EXPECT_EQ(f.s.fds, 0x2000);
      if (o32) {
        EXPECT_EQ(f.s.fop, 0x7FF);  // the 16-bit protected layout has no opcode
      }
    }
  }
}

TEST(Control, FxsaveLayoutAndRestore) {
  Fpu f = image_state();
  f.run_mem(ZYDIS_MNEMONIC_FXSAVE, 512);
  EXPECT_EQ(f.mem.le(2, 0), 0x037Fu);
  EXPECT_EQ(f.mem.le(2, 2), 0x3000u);
  EXPECT_EQ(f.mem.le(1, 4), 0xC0u);  // abridged tag: physical registers 6 and 7
  EXPECT_EQ(f.mem.le(4, 16), 0x00ABCDEFu);
  EXPECT_EQ(f.mem.le(2, 20), 0x0018u);
  EXPECT_EQ(f.mem.le(4, 24), 0x1F80u);  // MXCSR
  EXPECT_EQ(f.mem.get80(32), kOne);
  EXPECT_EQ(f.mem.le(6, 42), 0u);
  EXPECT_EQ(f.mem.le(8, 160), 0u);  // XMM area zero
  Fpu g;
  g.mem = f.mem;
  g.run_mem(ZYDIS_MNEMONIC_FXRSTOR, 512);
  EXPECT_EQ(g.s.top, 6);
  EXPECT_EQ(g.st(0), kOne);
  EXPECT_EQ(g.s.tag_word(), 0x4FFF);  // ST1 = +0 is tagged zero again
}

TEST(Control, UndefinedAndNoWaitForms) {
  Fpu f;
  EXPECT_FALSE(f.run(ZYDIS_MNEMONIC_FISTTP).ok);  // SSE3, not on a P6
  EXPECT_FALSE(f.run(ZYDIS_MNEMONIC_ADD).ok);
  EXPECT_TRUE(is_nowait(ZYDIS_MNEMONIC_FNSAVE));
  EXPECT_TRUE(is_nowait(ZYDIS_MNEMONIC_FXSAVE));
  EXPECT_FALSE(is_nowait(ZYDIS_MNEMONIC_FLDCW));
  // FLDCW unmasking a pending flag makes it an error (ES) for the next waiting instruction.
  f.run(ZYDIS_MNEMONIC_FLD1);
  f.push_int(0);
  f.run(ZYDIS_MNEMONIC_FDIV, 1, true);  // 1/0 masked: ZE
  EXPECT_FALSE(has_pending_unmasked(f.s));
  f.cw(0x037B);
  EXPECT_TRUE(has_pending_unmasked(f.s));
}

}  // namespace
}  // namespace lift86::x87
