// x87 transcendental instructions (SDM vol.2 FSIN, FCOS, FSINCOS, FPTAN, FPATAN, F2XM1,
// FYL2X, FYL2XP1) in integer arithmetic. Each result is computed to about 120 bits
// (argument reduction with a 320-bit pi) and rounded once per CW.RC to 64 bits, so it is
// faithfully rounded — nearly always correctly rounded — and identical on every host. (Real
// Intel parts reduce with a 66-bit pi and are less accurate near multiples of pi/2; we do
// not imitate that.) PC does not apply (SDM 8.1.5.2).
#pragma once
#include "frontend/x87/float80.hpp"

namespace lift86::x87 {

// FSIN/FCOS/FSINCOS/FPTAN accept |x| < 2^63; for a larger finite x they set C2 and leave
// the stack alone (SDM vol.2 FSIN).
bool trig_out_of_range(Float80 x);

Float80 fsin(Float80 x, FpEnv& env);
Float80 fcos(Float80 x, FpEnv& env);
// FSINCOS: both results; the flags of both roundings accumulate, C1 if either rounded up.
void fsincos(Float80 x, FpEnv& env, Float80* sin, Float80* cos);
Float80 ftan(Float80 x, FpEnv& env);             // FPTAN's tangent (it then pushes 1.0)
Float80 fpatan(Float80 y, Float80 x, FpEnv& env); // FPATAN: arctan(ST1 / ST0) with quadrant
Float80 f2xm1(Float80 x, FpEnv& env);            // 2^x - 1
Float80 fyl2x(Float80 y, Float80 x, FpEnv& env);   // ST1 * log2(ST0): y * log2(x)
Float80 fyl2xp1(Float80 y, Float80 x, FpEnv& env); // y * log2(x + 1)

}  // namespace lift86::x87
