// One x87 instruction: operand fetch, stack checks, the soft-float operation, the masked or
// unmasked exception response, and the condition codes (SDM vol.1 8.4-8.5, vol.2 pages).
//
// Every instruction is described once in kRows (its family and parameters); each family has
// one handler. The instruction runs on a copy of the state that is committed at the end, so
// a faulting memory access leaves the guest's FPU untouched.
#include "frontend/x87/x87_exec.hpp"

#include <Zydis/Zydis.h>

#include <array>
#include <cstring>

#include "frontend/x87/transcendental.hpp"

namespace lift86::x87 {
namespace {

// --- little-endian memory images ------------------------------------------------------------
uint64_t get(const uint8_t* p, unsigned n) {
  uint64_t v = 0;
  for (unsigned i = n; i-- > 0;) v = (v << 8) | p[i];
  return v;
}
void put(uint8_t* p, uint64_t v, unsigned n) {
  for (unsigned i = 0; i < n; ++i, v >>= 8) p[i] = uint8_t(v);
}
Float80 get80(const uint8_t* p) { return Float80{get(p, 8), uint16_t(get(p + 8, 2))}; }
void put80(uint8_t* p, Float80 v) {
  put(p, v.mant, 8);
  put(p + 8, v.se, 2);
}

// --- the instruction table --------------------------------------------------------------------
enum class Family : uint8_t {
  None,      // not an x87 instruction we execute: #UD
  Arith,     // ST(0) or ST(i) = a op b                 (sub: ArithOp)
  Compare,   // condition codes or EFLAGS from a compare
  Load,      // push from memory or ST(i)              (sub: Format)
  Const,     // push a constant                        (sub: Constant)
  Store,     // ST(0) to memory or ST(i)               (sub: Format)
  Unary,     // ST(0) = f(ST(0))                       (sub: UnaryOp)
  Binary,    // f(ST(0), ST(1)) to ST(0), or to ST(1) and pop (sub: BinaryOp)
  PushTwo,   // ST(0) = f1(x), push f2(x): FXTRACT, FPTAN, FSINCOS (sub: PushOp)
  FCmov,     // FCMOVcc                                (sub: condition)
  Misc,      // everything else, by mnemonic
};
enum ArithOp : uint8_t { kAdd, kSub, kSubR, kMul, kDiv, kDivR };
enum Format : uint8_t { kFloat, kInt, kBcd };
enum UnaryOp : uint8_t { kChs, kAbs, kSqrt, kRndint, kSin, kCos, k2xm1 };
enum BinaryOp : uint8_t { kScale, kPrem, kPrem1, kPatan, kYl2x, kYl2xp1 };
enum PushOp : uint8_t { kXtract, kPtan, kSincos };
enum Cond : uint8_t { kB, kE, kBE, kU, kNB, kNE, kNBE, kNU };

// Row flags.
enum : uint8_t {
  kQuiet = 1,    // compare: FUCOM family, QNaN does not raise IE
  kEflags = 2,   // compare: FCOMI family, result in ZF/PF/CF
  kTest = 4,     // compare: FTST, against +0.0
  kControl = 8,  // control instruction: does not record FIP/FDP/FOP (SDM 8.1.8)
  kNoWait = 16,  // does not check for pending exceptions first (SDM 8.3.11)
  kIntMem = 32,  // the memory operand is an integer (FIADD, FICOM, ...)
};

struct OpInfo {
  Family family = Family::None;
  uint8_t sub = 0;
  uint8_t pops = 0;
  uint8_t flags = 0;
};
struct Row {
  ZydisMnemonic mnemonic;
  OpInfo info;
};

constexpr Row kRows[] = {
    // SDM vol.2 FADD/FSUB/FSUBR/FMUL/FDIV/FDIVR with their pop and integer forms.
    {ZYDIS_MNEMONIC_FADD, {Family::Arith, kAdd}},
    {ZYDIS_MNEMONIC_FADDP, {Family::Arith, kAdd, 1}},
    {ZYDIS_MNEMONIC_FIADD, {Family::Arith, kAdd, 0, kIntMem}},
    {ZYDIS_MNEMONIC_FSUB, {Family::Arith, kSub}},
    {ZYDIS_MNEMONIC_FSUBP, {Family::Arith, kSub, 1}},
    {ZYDIS_MNEMONIC_FISUB, {Family::Arith, kSub, 0, kIntMem}},
    {ZYDIS_MNEMONIC_FSUBR, {Family::Arith, kSubR}},
    {ZYDIS_MNEMONIC_FSUBRP, {Family::Arith, kSubR, 1}},
    {ZYDIS_MNEMONIC_FISUBR, {Family::Arith, kSubR, 0, kIntMem}},
    {ZYDIS_MNEMONIC_FMUL, {Family::Arith, kMul}},
    {ZYDIS_MNEMONIC_FMULP, {Family::Arith, kMul, 1}},
    {ZYDIS_MNEMONIC_FIMUL, {Family::Arith, kMul, 0, kIntMem}},
    {ZYDIS_MNEMONIC_FDIV, {Family::Arith, kDiv}},
    {ZYDIS_MNEMONIC_FDIVP, {Family::Arith, kDiv, 1}},
    {ZYDIS_MNEMONIC_FIDIV, {Family::Arith, kDiv, 0, kIntMem}},
    {ZYDIS_MNEMONIC_FDIVR, {Family::Arith, kDivR}},
    {ZYDIS_MNEMONIC_FDIVRP, {Family::Arith, kDivR, 1}},
    {ZYDIS_MNEMONIC_FIDIVR, {Family::Arith, kDivR, 0, kIntMem}},
    // Compares: FCOM (ordered: any NaN is invalid), FUCOM (unordered: only SNaN), FCOMI.
    {ZYDIS_MNEMONIC_FCOM, {Family::Compare, 0, 0}},
    {ZYDIS_MNEMONIC_FCOMP, {Family::Compare, 0, 1}},
    {ZYDIS_MNEMONIC_FCOMPP, {Family::Compare, 0, 2}},
    {ZYDIS_MNEMONIC_FUCOM, {Family::Compare, 0, 0, kQuiet}},
    {ZYDIS_MNEMONIC_FUCOMP, {Family::Compare, 0, 1, kQuiet}},
    {ZYDIS_MNEMONIC_FUCOMPP, {Family::Compare, 0, 2, kQuiet}},
    {ZYDIS_MNEMONIC_FICOM, {Family::Compare, 0, 0, kIntMem}},
    {ZYDIS_MNEMONIC_FICOMP, {Family::Compare, 0, 1, kIntMem}},
    {ZYDIS_MNEMONIC_FCOMI, {Family::Compare, 0, 0, kEflags}},
    {ZYDIS_MNEMONIC_FCOMIP, {Family::Compare, 0, 1, kEflags}},
    {ZYDIS_MNEMONIC_FUCOMI, {Family::Compare, 0, 0, kEflags | kQuiet}},
    {ZYDIS_MNEMONIC_FUCOMIP, {Family::Compare, 0, 1, kEflags | kQuiet}},
    {ZYDIS_MNEMONIC_FTST, {Family::Compare, 0, 0, kTest}},
    // Loads and stores.
    {ZYDIS_MNEMONIC_FLD, {Family::Load, kFloat}},
    {ZYDIS_MNEMONIC_FILD, {Family::Load, kInt}},
    {ZYDIS_MNEMONIC_FBLD, {Family::Load, kBcd}},
    {ZYDIS_MNEMONIC_FST, {Family::Store, kFloat, 0}},
    {ZYDIS_MNEMONIC_FSTP, {Family::Store, kFloat, 1}},
    {ZYDIS_MNEMONIC_FSTPNCE, {Family::Store, kFloat, 1}},  // D9 D8+i, an alias of FSTP st(i)
    {ZYDIS_MNEMONIC_FIST, {Family::Store, kInt, 0}},
    {ZYDIS_MNEMONIC_FISTP, {Family::Store, kInt, 1}},
    {ZYDIS_MNEMONIC_FBSTP, {Family::Store, kBcd, 1}},
    {ZYDIS_MNEMONIC_FLD1, {Family::Const, uint8_t(Constant::One)}},
    {ZYDIS_MNEMONIC_FLDL2T, {Family::Const, uint8_t(Constant::L2T)}},
    {ZYDIS_MNEMONIC_FLDL2E, {Family::Const, uint8_t(Constant::L2E)}},
    {ZYDIS_MNEMONIC_FLDPI, {Family::Const, uint8_t(Constant::Pi)}},
    {ZYDIS_MNEMONIC_FLDLG2, {Family::Const, uint8_t(Constant::LG2)}},
    {ZYDIS_MNEMONIC_FLDLN2, {Family::Const, uint8_t(Constant::LN2)}},
    {ZYDIS_MNEMONIC_FLDZ, {Family::Const, uint8_t(Constant::Zero)}},
    // Operations on ST(0), and on ST(0) with ST(1).
    {ZYDIS_MNEMONIC_FCHS, {Family::Unary, kChs}},
    {ZYDIS_MNEMONIC_FABS, {Family::Unary, kAbs}},
    {ZYDIS_MNEMONIC_FSQRT, {Family::Unary, kSqrt}},
    {ZYDIS_MNEMONIC_FRNDINT, {Family::Unary, kRndint}},
    {ZYDIS_MNEMONIC_FSIN, {Family::Unary, kSin}},
    {ZYDIS_MNEMONIC_FCOS, {Family::Unary, kCos}},
    {ZYDIS_MNEMONIC_F2XM1, {Family::Unary, k2xm1}},
    {ZYDIS_MNEMONIC_FSCALE, {Family::Binary, kScale, 0}},
    {ZYDIS_MNEMONIC_FPREM, {Family::Binary, kPrem, 0}},
    {ZYDIS_MNEMONIC_FPREM1, {Family::Binary, kPrem1, 0}},
    {ZYDIS_MNEMONIC_FPATAN, {Family::Binary, kPatan, 1}},
    {ZYDIS_MNEMONIC_FYL2X, {Family::Binary, kYl2x, 1}},
    {ZYDIS_MNEMONIC_FYL2XP1, {Family::Binary, kYl2xp1, 1}},
    {ZYDIS_MNEMONIC_FXTRACT, {Family::PushTwo, kXtract}},
    {ZYDIS_MNEMONIC_FPTAN, {Family::PushTwo, kPtan}},
    {ZYDIS_MNEMONIC_FSINCOS, {Family::PushTwo, kSincos}},
    // FCMOVcc (SDM vol.2 FCMOVcc): the EFLAGS condition.
    {ZYDIS_MNEMONIC_FCMOVB, {Family::FCmov, kB}},
    {ZYDIS_MNEMONIC_FCMOVE, {Family::FCmov, kE}},
    {ZYDIS_MNEMONIC_FCMOVBE, {Family::FCmov, kBE}},
    {ZYDIS_MNEMONIC_FCMOVU, {Family::FCmov, kU}},
    {ZYDIS_MNEMONIC_FCMOVNB, {Family::FCmov, kNB}},
    {ZYDIS_MNEMONIC_FCMOVNE, {Family::FCmov, kNE}},
    {ZYDIS_MNEMONIC_FCMOVNBE, {Family::FCmov, kNBE}},
    {ZYDIS_MNEMONIC_FCMOVNU, {Family::FCmov, kNU}},
    // The rest, handled one by one in misc().
    {ZYDIS_MNEMONIC_FXAM, {Family::Misc}},
    {ZYDIS_MNEMONIC_FXCH, {Family::Misc}},
    {ZYDIS_MNEMONIC_FFREE, {Family::Misc}},
    {ZYDIS_MNEMONIC_FFREEP, {Family::Misc, 0, 1}},  // DF C0+i: FFREE then pop (undocumented)
    {ZYDIS_MNEMONIC_FINCSTP, {Family::Misc}},
    {ZYDIS_MNEMONIC_FDECSTP, {Family::Misc}},
    {ZYDIS_MNEMONIC_FNOP, {Family::Misc}},
    {ZYDIS_MNEMONIC_FWAIT, {Family::Misc, 0, 0, kControl}},
    {ZYDIS_MNEMONIC_FNINIT, {Family::Misc, 0, 0, kControl | kNoWait}},
    {ZYDIS_MNEMONIC_FNCLEX, {Family::Misc, 0, 0, kControl | kNoWait}},
    {ZYDIS_MNEMONIC_FLDCW, {Family::Misc, 0, 0, kControl}},
    {ZYDIS_MNEMONIC_FNSTCW, {Family::Misc, 0, 0, kControl | kNoWait}},
    {ZYDIS_MNEMONIC_FNSTSW, {Family::Misc, 0, 0, kControl | kNoWait}},
    {ZYDIS_MNEMONIC_FLDENV, {Family::Misc, 0, 0, kControl}},
    {ZYDIS_MNEMONIC_FNSTENV, {Family::Misc, 0, 0, kControl | kNoWait}},
    {ZYDIS_MNEMONIC_FRSTOR, {Family::Misc, 0, 0, kControl}},
    {ZYDIS_MNEMONIC_FNSAVE, {Family::Misc, 0, 0, kControl | kNoWait}},
    {ZYDIS_MNEMONIC_FXSAVE, {Family::Misc, 0, 0, kControl | kNoWait}},
    {ZYDIS_MNEMONIC_FXRSTOR, {Family::Misc, 0, 0, kControl | kNoWait}},
    // The 8087/287 FENI, FDISI and FSETPM (DB E0/E1/E4) are no-ops on the 387 and later.
    {ZYDIS_MNEMONIC_FENI8087_NOP, {Family::Misc, 0, 0, kControl | kNoWait}},
    {ZYDIS_MNEMONIC_FDISI8087_NOP, {Family::Misc, 0, 0, kControl | kNoWait}},
    {ZYDIS_MNEMONIC_FSETPM287_NOP, {Family::Misc, 0, 0, kControl | kNoWait}},
    // FISTTP is SSE3, beyond the P6: not in the table, so #UD.
};

const OpInfo& lookup(uint16_t mnemonic) {
  static const auto table = [] {
    std::array<OpInfo, ZYDIS_MNEMONIC_MAX_VALUE + 1> t{};
    for (const Row& r : kRows) t[r.mnemonic] = r.info;
    return t;
  }();
  static const OpInfo none{};
  return mnemonic <= ZYDIS_MNEMONIC_MAX_VALUE ? table[mnemonic] : none;
}

// --- execution ----------------------------------------------------------------------------

class Exec {
 public:
  Exec(FpuState& s, const X87Op& op, X87Mem& mem, const OpInfo& in)
      : s(s), op(op), mem(mem), in(in), env(FpEnv::from_cw(s.cw)) {}

  X87Result run();

 private:
  FpuState& s;
  const X87Op& op;
  X87Mem& mem;
  const OpInfo& in;
  FpEnv env;
  X87Result res;

  void set_cc(uint16_t mask, uint16_t bits) { s.sw = uint16_t((s.sw & ~mask) | (bits & mask)); }
  void set_c1(bool v) { set_cc(kSwC1, v ? kSwC1 : 0); }
  // Stack faults (SDM 8.5.1.1): IE with SF; C1 tells overflow (1) from underflow (0). Returns
  // whether the masked response (store the indefinite) applies.
  bool stack_underflow() {
    env.flags |= kIE;
    s.sw |= kSwSF;
    set_c1(false);
    return env.masks & kIE;
  }
  bool stack_overflow() {
    env.flags |= kIE;
    s.sw |= kSwSF;
    set_c1(true);
    return env.masks & kIE;
  }
  void put_st(unsigned i, Float80 v) {
    s.st(i) = v;
    s.set_valid(i, true);
  }
  void pops(unsigned n) {
    while (n--) s.pop();
  }

  Float80 read_operand(Format f);
  void arith();
  void compare();
  void load();
  void constant();
  void store();
  void unary();
  void binary();
  void push_two();
  void fcmov();
  void misc();
  void store_env(uint8_t* p) const;
  unsigned load_env(const uint8_t* p);  // returns the layout's size
  unsigned env_size() const { return op.opsize32 ? 28 : 14; }
};

X87Result Exec::run() {
  if (!(in.flags & kControl)) {  // SDM 8.1.8: the pointers of the last non-control instruction
    s.fip = op.fip;
    s.fcs = op.fcs;
    s.fop = op.fop & 0x7FF;
    if (op.mem) {
      s.fdp = op.fdp;
      s.fds = op.fds;
    }
  }
  switch (in.family) {
    case Family::None: res.ok = false; return res;
    case Family::Arith: arith(); break;
    case Family::Compare: compare(); break;
    case Family::Load: load(); break;
    case Family::Const: constant(); break;
    case Family::Store: store(); break;
    case Family::Unary: unary(); break;
    case Family::Binary: binary(); break;
    case Family::PushTwo: push_two(); break;
    case Family::FCmov: fcmov(); break;
    case Family::Misc: misc(); break;
  }
  s.sw |= env.flags;  // exception flags are sticky until FNCLEX
  return res;
}

// A memory source operand converted to the register format; conversions raise IE for a
// signalling NaN and DE for a denormal (SDM 8.5.2), checked by the caller via env.
Float80 Exec::read_operand(Format f) {
  uint8_t b[10];
  const unsigned n = op.mem_size;
  mem.read(b, n);
  if (f == kInt) {  // m16int, m32int, m64int: sign-extend
    const unsigned sh = 64 - 8 * n;
    return from_int(int64_t(get(b, n) << sh) >> sh);
  }
  if (f == kBcd) return from_bcd(b);
  if (n == 10) return get80(b);  // m80fp: loaded exactly, no exception (SDM vol.2 FLD)
  FpEnv conv = env;
  conv.flags = 0;
  Float80 v = n == 4 ? from_f32(uint32_t(get(b, 4)), conv) : from_f64(get(b, 8), conv);
  if (in.family == Family::Load) {  // FLD m32fp/m64fp: the conversion is the operation
    env.flags |= conv.flags;
    return v;
  }
  // As the source of an arithmetic or compare, the operand keeps its nature: a signalling
  // NaN stays signalling, and a denormal raises DE only where the operation's precedence
  // puts it (a NaN in ST(0) wins, SDM 4.9.2).
  if (conv.flags & kIE) v.mant &= ~0x4000000000000000ull;
  if (conv.flags & kDE) env.denormal_source = true;
  return v;
}

void Exec::arith() {
  Float80 a, b;
  unsigned dst = 0;
  bool under = s.empty(0);
  if (op.mem) {
    b = read_operand(in.flags & kIntMem ? kInt : kFloat);
    a = s.st(0);
  } else {
    under |= s.empty(op.sti);
    // "op st(0), st(i)" computes st(0) op st(i); "op st(i), st(0)" computes st(i) op st(0).
    dst = op.dst_is_sti ? op.sti : 0;
    a = s.st(dst);
    b = s.st(op.dst_is_sti ? 0 : op.sti);
  }
  if (under) {
    if (!stack_underflow()) return;
    put_st(dst, kIndefinite);
    return pops(in.pops);
  }
  if (env.faulted()) return;  // the memory operand's conversion faulted
  Float80 r;
  switch (in.sub) {
    case kAdd: r = fadd(a, b, env); break;
    case kSub: r = fsub(a, b, env); break;
    case kSubR: r = fsub(b, a, env); break;
    case kMul: r = fmul(a, b, env); break;
    case kDiv: r = fdiv(a, b, env); break;
    case kDivR: r = fdiv(b, a, env); break;
  }
  set_c1(env.c1);
  // Unmasked IE/DE/ZE: destination and TOP unchanged (SDM 8.5.1-8.5.3). Unmasked OE/UE
  // deliver the bias-adjusted result and complete the instruction (SDM 8.5.4-8.5.5).
  if (env.faulted()) return;
  put_st(dst, r);
  pops(in.pops);
}

void Exec::compare() {
  bool under = s.empty(0);
  Float80 b{};
  if (in.flags & kTest) {
    b = make_zero(false);
  } else if (op.mem) {
    b = read_operand(in.flags & kIntMem ? kInt : kFloat);
  } else {
    const unsigned i = in.pops == 2 ? 1 : op.sti;  // FCOMPP/FUCOMPP always use ST(1)
    under |= s.empty(i);
    b = s.st(i);
  }
  // Unordered (NaN, unsupported, empty) gives 111 only when IE is masked (SDM vol.2 FCOM and
  // FCOMI operation sections; AMD parts set 111 regardless). C1 is cleared.
  Cmp c = Cmp::Unordered;
  if (under) {
    if (!stack_underflow()) return;
  } else {
    if (!env.faulted()) c = fcompare(s.st(0), b, in.flags & kQuiet, env);
    set_c1(false);
    if (env.unmasked(kIE)) return;
  }
  // C3,C2,C0 (or ZF,PF,CF): > 000, < 001, = 100, unordered 111.
  static constexpr uint8_t kBits[] = {/*Less*/ 0b001, /*Equal*/ 0b100, /*Greater*/ 0b000,
                                      /*Unordered*/ 0b111};
  const uint8_t bits = kBits[unsigned(c)];
  if (in.flags & kEflags) {
    res.set_eflags = true;
    res.zf_pf_cf = ((bits >> 2) & 1) << 6 | ((bits >> 1) & 1) << 2 | (bits & 1);
  } else {
    set_cc(kSwC3 | kSwC2 | kSwC0,
           uint16_t(((bits >> 2) & 1) ? kSwC3 : 0) | (((bits >> 1) & 1) ? kSwC2 : 0) | ((bits & 1) ? kSwC0 : 0));
  }
  if (!env.faulted()) pops(in.pops);  // an unmasked exception leaves TOP (SDM 8.5.1.2)
}

void Exec::load() {
  Float80 v;
  bool under = false;
  if (op.mem) {
    v = read_operand(Format(in.sub));
  } else {  // FLD st(i): an exact copy
    under = s.empty(op.sti);
    v = s.st(op.sti);
  }
  // An empty source is reported before a full stack (measured: C1 = 0 when both happen).
  if (under || !s.empty(7)) {
    if (under ? stack_underflow() : stack_overflow()) s.push(kIndefinite);
    return;
  }
  if (env.faulted()) return;  // SNaN with IE unmasked, denormal with DE unmasked: no push
  set_c1(false);
  s.push(v);
}

void Exec::constant() {
  if (!s.empty(7)) {
    if (stack_overflow()) s.push(kIndefinite);
    return;
  }
  set_c1(false);
  s.push(load_constant(Constant(in.sub), env.rc));
}

void Exec::store() {
  const unsigned n = op.mem_size;
  uint8_t b[10] = {};
  if (!op.mem) {  // FST/FSTP st(i): an exact copy
    if (s.empty(0)) {
      if (!stack_underflow()) return;
      put_st(op.sti, kIndefinite);
    } else {
      set_c1(false);
      put_st(op.sti, s.st(0));
    }
    return pops(in.pops);
  }
  if (s.empty(0)) {
    if (!stack_underflow()) return;
    // Masked: the destination format's indefinite is stored (SDM 4.8.3.7).
    FpEnv quiet_env = env;
    if (in.sub == kBcd) {
      to_bcd(kIndefinite, b, quiet_env);
    } else if (in.sub == kInt) {
      put(b, uint64_t(1) << (8 * n - 1), n);
    } else if (n == 4) {
      put(b, to_f32(kIndefinite, quiet_env), 4);
    } else if (n == 8) {
      put(b, to_f64(kIndefinite, quiet_env), 8);
    } else {
      put80(b, kIndefinite);
    }
    mem.write(b, n);
    return pops(in.pops);
  }
  const Float80 x = s.st(0);
  if (in.sub == kBcd) {
    to_bcd(x, b, env);
  } else if (in.sub == kInt) {
    put(b, uint64_t(to_int(x, 8 * n, env)), n);
  } else if (n == 4) {
    put(b, to_f32(x, env), 4);
  } else if (n == 8) {
    put(b, to_f64(x, env), 8);
  } else {
    put80(b, x);  // m80fp: exact, no exception
  }
  set_c1(env.c1);
  // To memory, an unmasked IE, OE or UE stores nothing and leaves the stack (SDM 8.5.4-5).
  if (env.unmasked(kIE | kDE | kOE | kUE)) return;
  mem.write(b, n);
  pops(in.pops);
}

void Exec::unary() {
  if (in.sub == kSin || in.sub == kCos) set_cc(kSwC2, 0);
  if (s.empty(0)) {
    if (stack_underflow()) put_st(0, kIndefinite);
    return;
  }
  const Float80 x = s.st(0);
  Float80 r;
  switch (in.sub) {
    case kChs: r = with_sign(x, !x.sign()); break;  // no exceptions, even for a NaN
    case kAbs: r = with_sign(x, false); break;
    case kSqrt: r = fsqrt(x, env); break;
    case kRndint: r = frndint(x, env); break;
    case kSin:
    case kCos:
      // SDM vol.2 FSIN: |x| >= 2^63 sets C2 and leaves ST(0) alone; otherwise C2 = 0.
      if (trig_out_of_range(x)) {
        set_cc(kSwC2 | kSwC1, kSwC2);
        return;
      }
      r = in.sub == kSin ? fsin(x, env) : fcos(x, env);
      break;
    case k2xm1: r = f2xm1(x, env); break;
  }
  set_c1(env.c1);
  if (env.faulted()) return;
  put_st(0, r);
}

void Exec::binary() {
  // FSCALE, FPREM and FPREM1 write ST(0); FPATAN, FYL2X and FYL2XP1 write ST(1) and pop.
  const unsigned dst = in.pops ? 1 : 0;
  if (in.sub == kPrem || in.sub == kPrem1) set_cc(kSwC2, 0);  // cleared first (as Bochs; measured)
  if (s.empty(0) || s.empty(1)) {
    if (!stack_underflow()) return;
    put_st(dst, kIndefinite);
    return pops(in.pops);
  }
  const Float80 x = s.st(0), y = s.st(1);
  Float80 r;
  switch (in.sub) {
    case kScale: r = fscale(x, y, env); break;
    case kPrem:
    case kPrem1: {
      // C2 = 1: incomplete reduction. C0, C3, C1 = quotient bits Q2, Q1, Q0 (SDM vol.2 FPREM);
      // all three are cleared for an incomplete one (measured).
      const Remainder rem = fprem(x, y, in.sub == kPrem1, env);
      set_c1(false);
      if (env.faulted()) return;
      put_st(0, rem.value);
      if (!rem.has_quotient) return;  // NaN or invalid: C0 and C3 stay
      const uint8_t q = rem.quotient;
      set_cc(kSwCC, uint16_t((q & 4 ? kSwC0 : 0) | (q & 2 ? kSwC3 : 0) | (q & 1 ? kSwC1 : 0) |
                             (rem.complete ? 0 : kSwC2)));
      return;
    }
    case kPatan: r = fpatan(y, x, env); break;
    case kYl2x: r = fyl2x(y, x, env); break;
    case kYl2xp1: r = fyl2xp1(y, x, env); break;
  }
  set_c1(env.c1);
  if (env.faulted()) return;
  put_st(dst, r);
  pops(in.pops);
}

void Exec::push_two() {
  // FXTRACT, FPTAN, FSINCOS replace ST(0) and push a second result. Masked stack faults
  // leave the indefinite in both places (SDM 8.5.1.1).
  if (in.sub != kXtract) set_cc(kSwC2, 0);
  if (s.empty(0) || !s.empty(7)) {
    if (!(s.empty(0) ? stack_underflow() : stack_overflow())) return;
    put_st(0, kIndefinite);
    s.push(kIndefinite);
    return;
  }
  const Float80 x = s.st(0);
  Float80 first, second;
  switch (in.sub) {
    case kXtract: {
      const Extracted e = fxtract(x, env);
      first = e.exponent;
      second = e.significand;
      break;
    }
    case kPtan:
    case kSincos:
      if (trig_out_of_range(x)) {
        set_cc(kSwC2 | kSwC1, kSwC2);
        return;
      }
      if (in.sub == kPtan) {
        first = ftan(x, env);
        second = kOne;  // SDM vol.2 FPTAN: pushes 1.0 for compatibility with the 8087
      } else {
        fsincos(x, env, &first, &second);
      }
      break;
  }
  set_c1(env.c1);
  if (env.faulted()) return;
  put_st(0, first);
  // FPTAN of a NaN or infinity pushes that NaN again instead of 1.0 (measured).
  s.push(in.sub == kPtan && is_nan(first) ? first : second);
}

void Exec::fcmov() {
  const uint32_t f = op.eflags_in;
  const bool cf = f & 1, pf = f & 4, zf = f & 0x40;
  bool cond = false;
  switch (in.sub & 3) {
    case kB: cond = cf; break;
    case kE: cond = zf; break;
    case kBE: cond = cf || zf; break;
    case kU: cond = pf; break;
  }
  if (in.sub >= kNB) cond = !cond;
  if (s.empty(0) || s.empty(op.sti)) {
    if (stack_underflow()) put_st(0, kIndefinite);
    return;
  }
  if (cond) put_st(0, s.st(op.sti));  // C1 is left alone (measured; the SDM defines only #IS)
}

void Exec::store_env(uint8_t* p) const {
  const uint16_t cw = s.cw, sw = s.status_word(), tw = s.tag_word();
  // Real and V86 mode store 20/32-bit linear pointers and the opcode (SDM 8.1.10, figures
  // 8-9..8-12); protected mode selector:offset. Reserved upper halves read 0xFFFF (measured).
  const uint32_t ip = op.real_mode ? (uint32_t(s.fcs) << 4) + s.fip : s.fip;
  const uint32_t dp = op.real_mode ? (uint32_t(s.fds) << 4) + s.fdp : s.fdp;
  if (!op.opsize32) {
    put(p + 0, cw, 2);
    put(p + 2, sw, 2);
    put(p + 4, tw, 2);
    put(p + 6, ip, 2);
    put(p + 10, dp, 2);
    if (op.real_mode) {
      put(p + 8, ((ip >> 16) & 0xF) << 12 | s.fop, 2);
      put(p + 12, ((dp >> 16) & 0xF) << 12, 2);
    } else {
      put(p + 8, s.fcs, 2);
      put(p + 12, s.fds, 2);
    }
    return;
  }
  put(p + 0, 0xFFFF0000u | cw, 4);
  put(p + 4, 0xFFFF0000u | sw, 4);
  put(p + 8, 0xFFFF0000u | tw, 4);
  if (op.real_mode) {
    put(p + 12, 0xFFFF0000u | (ip & 0xFFFF), 4);
    put(p + 16, (ip >> 16) << 12 | s.fop, 4);
    put(p + 20, 0xFFFF0000u | (dp & 0xFFFF), 4);
    put(p + 24, (dp >> 16) << 12, 4);
  } else {
    put(p + 12, ip, 4);
    put(p + 16, uint32_t(s.fop) << 16 | s.fcs, 4);
    put(p + 20, dp, 4);
    put(p + 24, 0xFFFF0000u | s.fds, 4);
  }
}

unsigned Exec::load_env(const uint8_t* p) {
  const bool big = op.opsize32;
  const unsigned w = big ? 4 : 2;  // field stride
  s.set_control_word(uint16_t(get(p, 2)));
  s.set_status_word(uint16_t(get(p + w, 2)));
  s.set_tag_word(uint16_t(get(p + 2 * w, 2)));
  if (op.real_mode) {  // pointers come back as linear addresses with a zero selector
    const uint32_t hi_ip = uint32_t(get(p + 4 * w, w)), hi_dp = uint32_t(get(p + 6 * w, w));
    s.fip = uint32_t(get(p + 3 * w, 2)) | ((hi_ip >> 12) & (big ? 0xFFFF : 0xF)) << 16;
    s.fdp = uint32_t(get(p + 5 * w, 2)) | ((hi_dp >> 12) & (big ? 0xFFFF : 0xF)) << 16;
    s.fop = hi_ip & 0x7FF;
    s.fcs = s.fds = 0;
  } else {
    s.fip = uint32_t(get(p + 3 * w, w));
    s.fcs = uint16_t(get(p + 4 * w, 2));
    if (big) s.fop = (get(p + 18, 2)) & 0x7FF;  // the 16-bit layout has no opcode field
    s.fdp = uint32_t(get(p + 5 * w, w));
    s.fds = uint16_t(get(p + 6 * w, 2));
  }
  return big ? 28 : 14;
}

void Exec::misc() {
  switch (op.mnemonic) {
    case ZYDIS_MNEMONIC_FXAM: {
      // C3,C2,C0 = class (empty 101), C1 = sign; never an exception (SDM vol.2 FXAM).
      const uint8_t c = s.empty(0) ? 0b101 : fxam_class(s.st(0));
      set_cc(kSwCC, uint16_t((c & 4 ? kSwC3 : 0) | (c & 2 ? kSwC2 : 0) | (c & 1 ? kSwC0 : 0) |
                             (s.st(0).sign() ? kSwC1 : 0)));
      return;
    }
    case ZYDIS_MNEMONIC_FXCH: {
      const bool e0 = s.empty(0), ei = s.empty(op.sti);
      if (e0 || ei) {
        if (!stack_underflow()) return;
        // Masked: the empty register(s) take the indefinite, then the exchange happens.
        if (e0) put_st(0, kIndefinite);
        if (ei) put_st(op.sti, kIndefinite);
      } else {
        set_c1(false);
      }
      const Float80 t = s.st(0);
      s.st(0) = s.st(op.sti);
      s.st(op.sti) = t;
      return;
    }
    case ZYDIS_MNEMONIC_FFREE:
    case ZYDIS_MNEMONIC_FFREEP:  // C1 cleared (measured; the SDM leaves C0..C3 undefined)
      s.set_valid(op.sti, false);
      set_c1(false);
      return pops(in.pops);
    case ZYDIS_MNEMONIC_FINCSTP:
      s.top = (s.top + 1) & 7;  // the tags do not change (SDM vol.2 FINCSTP)
      return set_c1(false);
    case ZYDIS_MNEMONIC_FDECSTP:
      s.top = (s.top - 1) & 7;
      return set_c1(false);
    case ZYDIS_MNEMONIC_FNOP:
    case ZYDIS_MNEMONIC_FWAIT:  // the caller did the pending-exception check
    case ZYDIS_MNEMONIC_FENI8087_NOP:
    case ZYDIS_MNEMONIC_FDISI8087_NOP:
    case ZYDIS_MNEMONIC_FSETPM287_NOP: return;
    case ZYDIS_MNEMONIC_FNINIT: s.init(); return;
    case ZYDIS_MNEMONIC_FNCLEX:  // the six flags, SF, ES and B; C0..C3 and TOP stay
      s.sw &= ~uint16_t(0x3F | kSwSF);
      return;
    case ZYDIS_MNEMONIC_FLDCW: {
      uint8_t b[2];
      mem.read(b, 2);
      // A flag unmasked by the new CW becomes pending: ES is derived (SDM vol.2 FLDCW).
      s.set_control_word(uint16_t(get(b, 2)));
      return;
    }
    case ZYDIS_MNEMONIC_FNSTCW: {
      uint8_t b[2];
      put(b, s.cw, 2);
      mem.write(b, 2);
      return;
    }
    case ZYDIS_MNEMONIC_FNSTSW:
      if (op.mem) {
        uint8_t b[2];
        put(b, s.status_word(), 2);
        mem.write(b, 2);
      } else {
        res.set_ax = true;
        res.ax = s.status_word();
      }
      return;
    case ZYDIS_MNEMONIC_FNSTENV: {
      uint8_t b[28];
      store_env(b);
      mem.write(b, env_size());
      s.cw |= 0x3F;  // then masks all exceptions (SDM vol.2 FSTENV)
      return;
    }
    case ZYDIS_MNEMONIC_FLDENV: {
      uint8_t b[28];
      mem.read(b, env_size());
      load_env(b);
      return;
    }
    case ZYDIS_MNEMONIC_FNSAVE: {
      uint8_t b[108];
      store_env(b);
      for (unsigned i = 0; i < 8; ++i) put80(b + env_size() + 10 * i, s.st(i));
      mem.write(b, env_size() + 80);
      s.init();  // then initialises the FPU (SDM vol.2 FSAVE)
      return;
    }
    case ZYDIS_MNEMONIC_FRSTOR: {
      uint8_t b[108];
      mem.read(b, env_size() + 80);
      const unsigned n = load_env(b);  // TOP first: the image is in ST(i) order
      for (unsigned i = 0; i < 8; ++i) s.st(i) = get80(b + n + 10 * i);
      return;
    }
    case ZYDIS_MNEMONIC_FXSAVE: {
      // SDM vol.2 FXSAVE, 32-bit layout. No SSE here: MXCSR holds its reset value and the
      // XMM and reserved areas are zero; MXCSR_MASK 0 means "the default FFBF" as on parts
      // before the Pentium 4.
      uint8_t b[512] = {};
      put(b + 0, s.cw, 2);
      put(b + 2, s.status_word(), 2);
      b[4] = s.abridged_tag();
      put(b + 6, s.fop, 2);
      put(b + 8, s.fip, 4);
      put(b + 12, s.fcs, 2);
      put(b + 16, s.fdp, 4);
      put(b + 20, s.fds, 2);
      put(b + 24, 0x1F80, 4);
      for (unsigned i = 0; i < 8; ++i) put80(b + 32 + 16 * i, s.st(i));
      mem.write(b, 512);
      return;
    }
    case ZYDIS_MNEMONIC_FXRSTOR: {
      uint8_t b[512];
      mem.read(b, 512);
      s.set_control_word(uint16_t(get(b, 2)));
      s.set_status_word(uint16_t(get(b + 2, 2)));
      s.valid = b[4];
      s.fop = get(b + 6, 2) & 0x7FF;
      s.fip = uint32_t(get(b + 8, 4));
      s.fcs = uint16_t(get(b + 12, 2));
      s.fdp = uint32_t(get(b + 16, 4));
      s.fds = uint16_t(get(b + 20, 2));
      for (unsigned i = 0; i < 8; ++i) s.st(i) = get80(b + 32 + 16 * i);
      return;
    }
    default: res.ok = false; return;
  }
}

}  // namespace

X87Result execute(FpuState& st, const X87Op& op, X87Mem& mem) {
  const OpInfo& in = lookup(op.mnemonic);
  FpuState s = st;  // committed only when nothing threw
  const X87Result r = Exec(s, op, mem, in).run();
  if (r.ok) st = s;
  return r;
}

bool is_nowait(uint16_t mnemonic) { return lookup(mnemonic).flags & kNoWait; }

bool has_pending_unmasked(const FpuState& st) { return st.error_pending(); }

}  // namespace lift86::x87
