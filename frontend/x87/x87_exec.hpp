// Executes one decoded x87 instruction on an FpuState (SDM vol.1 ch.8, vol.2 instruction
// pages). The caller (interpreter or a JIT helper) has already decoded the instruction,
// computed the memory operand's effective address, checked CR0.EM/TS (#NM), and — for a
// waiting instruction — raised #MF/IRQ13 if has_pending_unmasked() was true.
#pragma once
#include <cstdint>

#include "frontend/x87/fpu_state.hpp"

namespace lift86::x87 {

// The instruction's memory operand at its (already computed) effective address.
struct X87Mem {
  // Both may throw (a guest page fault). execute() reads everything it needs before it
  // writes, writes before it changes any state, and works on a copy of FpuState that it
  // commits only at the end: a throw leaves the FpuState untouched.
  virtual void read(uint8_t* dst, unsigned n) = 0;
  virtual void write(const uint8_t* src, unsigned n) = 0;
  virtual ~X87Mem() = default;
};

struct X87Op {
  uint16_t mnemonic = 0;   // ZydisMnemonic (ZYDIS_MNEMONIC_FADD, FNSTENV, ...)
  uint8_t sti = 0;         // i of the st(i) register operand (ModRM.rm) when !mem
  bool mem = false;        // a memory operand is present
  uint16_t mem_size = 0;   // its size in bytes: 2, 4, 8, 10 (m80fp/m80bcd), 512 (FXSAVE); the
                           // env/FSAVE layouts (14/28, 94/108) are chosen by opsize32
  bool dst_is_sti = false; // the "st(i), st(0)" forms (FADD st(i),st0, FADDP, FSUBRP, ...)
  bool opsize32 = true;    // operand size 32: FSTENV/FSAVE 28/108-byte layouts
  bool real_mode = false;  // real or V86 mode: the real-mode FSTENV/FSAVE layouts
  uint32_t eflags_in = 0;  // guest EFLAGS, read by FCMOVcc (CF bit 0, PF bit 2, ZF bit 6)
  // Recorded by every non-control instruction (SDM 8.1.8, 8.1.9): CS:EIP of the instruction,
  // the memory operand's segment selector and offset (only when mem), the 11-bit opcode.
  uint16_t fcs = 0, fds = 0;
  uint32_t fip = 0, fdp = 0;
  uint16_t fop = 0;
};

struct X87Result {
  bool ok = true;                   // false: the caller raises #UD (FISTTP, unknown mnemonic)
  bool set_ax = false;              // FNSTSW AX
  uint16_t ax = 0;
  bool set_eflags = false;          // FCOMI/FCOMIP/FUCOMI/FUCOMIP: replace ZF, PF, CF with
  uint32_t zf_pf_cf = 0;            // these bits (ZF bit 6, PF bit 2, CF bit 0); OF/SF/AF = 0
};

X87Result execute(FpuState& st, const X87Op& op, X87Mem& mem);

// The no-wait forms (FNINIT, FNCLEX, FNSTSW, FNSTCW, FNSTENV, FNSAVE) and FXSAVE/FXRSTOR do
// not check for a pending unmasked exception first (SDM 8.3.11).
bool is_nowait(uint16_t mnemonic);
// An unmasked exception is pending (SW.ES): the caller raises #MF (CR0.NE=1) or IRQ13 before
// the next waiting x87 instruction (or WAIT/FWAIT).
bool has_pending_unmasked(const FpuState& st);

}  // namespace lift86::x87
