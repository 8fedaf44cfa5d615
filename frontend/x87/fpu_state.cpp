#include "frontend/x87/fpu_state.hpp"

namespace lift86::x87 {

uint16_t FpuState::tag_word() const {
  uint16_t tw = 0;
  for (unsigned r = 0; r < 8; ++r) {
    unsigned tag = 3;  // empty
    if ((valid >> r) & 1) {
      switch (classify(regs[r])) {
        case FpClass::Normal: tag = 0; break;
        case FpClass::Zero: tag = 1; break;
        default: tag = 2; break;  // NaN, infinity, denormal, pseudo-denormal, unsupported
      }
    }
    tw |= uint16_t(tag << (2 * r));
  }
  return tw;
}

void FpuState::set_tag_word(uint16_t tw) {
  valid = 0;
  for (unsigned r = 0; r < 8; ++r)
    if (((tw >> (2 * r)) & 3) != 3) valid |= uint8_t(1u << r);
}

}  // namespace lift86::x87
