// The architectural state of the x87 FPU (SDM vol.1 8.1): eight physical data registers used
// as a stack, control/status/tag words and the last-instruction pointers.
#pragma once
#include <cstdint>

#include "frontend/x87/float80.hpp"

namespace lift86::x87 {

// Condition-code bits of the status word (SDM 8.1.3).
enum : uint16_t {
  kSwSF = 0x0040,  // stack fault (with IE)
  kSwES = 0x0080,  // error summary
  kSwC0 = 0x0100,
  kSwC1 = 0x0200,
  kSwC2 = 0x0400,
  kSwC3 = 0x4000,
  kSwB = 0x8000,  // busy: mirrors ES on the 387 and later
  kSwCC = kSwC0 | kSwC1 | kSwC2 | kSwC3,
  kSwTop = 0x3800,
};

struct FpuState {
  Float80 regs[8]{};   // physical registers R0..R7; ST(i) is R[(top + i) & 7]
  uint8_t valid = 0;   // bit i: R[i] is not empty. The full 2-bit tags are derived from the
                       // register contents when stored (SDM 8.1.7), as the P6 does.
  uint8_t top = 0;
  uint16_t cw = 0x037F;
  uint16_t sw = 0;     // exception flags, SF and C0..C3; TOP, ES and B are derived on read
  uint16_t fop = 0;    // last non-control opcode, 11 bits (SDM 8.1.9)
  uint16_t fcs = 0, fds = 0;
  uint32_t fip = 0, fdp = 0;

  // FNINIT / FINIT (SDM vol.2 FINIT): CW 037F, all registers empty, pointers cleared. The
  // registers keep their contents (measured: visible again after FLDENV of a tag word).
  void init() {
    FpuState fresh;
    for (int i = 0; i < 8; ++i) fresh.regs[i] = regs[i];
    *this = fresh;
  }
  // Power-on reset (SDM vol.3 table 9-1): CW 0040, tags 5555 (every register a valid +0).
  void power_on() {
    *this = FpuState{};
    cw = 0x0040;
    valid = 0xFF;
  }

  unsigned phys(unsigned i) const { return (top + i) & 7; }
  Float80& st(unsigned i) { return regs[phys(i)]; }
  const Float80& st(unsigned i) const { return regs[phys(i)]; }
  bool empty(unsigned i) const { return !((valid >> phys(i)) & 1); }
  void set_valid(unsigned i, bool v) {
    const uint8_t bit = uint8_t(1u << phys(i));
    valid = v ? (valid | bit) : (valid & ~bit);
  }
  // Push a value (the caller checks for stack overflow first) and pop (marks ST(0) empty).
  void push(Float80 v) {
    top = (top - 1) & 7;
    st(0) = v;
    set_valid(0, true);
  }
  void pop() {
    set_valid(0, false);
    top = (top + 1) & 7;
  }

  // ES is set while any unmasked exception flag is set; B mirrors it (SDM 8.1.3.1).
  bool error_pending() const { return (sw & ~cw & 0x3F) != 0; }
  uint16_t status_word() const {
    uint16_t s = uint16_t((sw & ~(kSwTop | kSwES | kSwB)) | (top << 11));
    if (error_pending()) s |= kSwES | kSwB;
    return s;
  }
  void set_status_word(uint16_t s) {
    top = (s >> 11) & 7;
    sw = s & ~(kSwTop | kSwES | kSwB);
  }
  // FLDCW (measured): bit 6 reads as 1, bits 7 and 13..15 as 0.
  void set_control_word(uint16_t c) { cw = uint16_t((c & 0x1F3F) | 0x0040); }

  // Full tag word for FSTENV/FSAVE: 00 valid, 01 zero, 10 special (NaN, infinity, denormal,
  // unsupported), 11 empty; bits 2i+1..2i belong to physical register i.
  uint16_t tag_word() const;
  // FLDENV/FRSTOR: only "empty" or "not empty" is kept from a loaded tag word.
  void set_tag_word(uint16_t tw);
  // FXSAVE's abridged tag byte: bit i = physical register i is not empty (SDM vol.2 FXSAVE).
  uint8_t abridged_tag() const { return valid; }
};

}  // namespace lift86::x87
