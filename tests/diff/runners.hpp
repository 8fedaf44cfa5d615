// Runs one generated sequence on lift86's interpreter and on Unicorn with the same initial state,
// and compares the outcome: GPRs, EIP, EFLAGS (minus the SDM-undefined flags of the instructions
// that ran), the exception raised if any, and the 64 KiB data window.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tests/diff/generator.hpp"

namespace lift86::diff {

struct RunResult {
    std::string error;              // a harness problem (not an engine difference)
    uint32_t r[8] = {};
    uint32_t stop = 0;              // code offset where execution stopped (HLT, or the faulting insn)
    uint32_t eflags = 0;
    int vector = -1;                // exception raised, -1 for none
    std::vector<uint8_t> window;
    std::vector<uint32_t> trace;    // lift86: code offsets of the instructions executed, in order
    uint32_t frame_lo = 0, frame_len = 0;   // window bytes written by lift86's exception delivery
};

struct Diff {
    std::string field;   // "eax", "eflags", "mem", "exception", "eip", "halt"
    std::string lift, uc;
};

// lift86: one CPU and memory reused for every sequence of a mode (building PhysMemory costs a
// 4 GiB page table).
class Lift86Runner {
public:
    explicit Lift86Runner(Mode m);
    ~Lift86Runner();
    RunResult run(const Sequence& s);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Unicorn: a fresh engine per sequence (TOOLCHAIN.md: uc_mem_write does not flush its code cache).
// `reads`, when given, records the window offsets the sequence reads (diagnostics only: a memory
// hook changes some of Unicorn's results, TOOLCHAIN.md).
RunResult run_unicorn(const Sequence& s, std::vector<std::pair<uint32_t, unsigned>>* reads = nullptr);

// The status flags undefined at the end of the run lift86 made.
uint16_t undefined_flags(const Sequence& s, const RunResult& lift);
std::vector<Diff> compare(const Sequence& s, const RunResult& lift, const RunResult& uc);

// The full text a developer needs to reproduce a mismatch.
std::string report(const Sequence& s, const RunResult& lift, const RunResult& uc, const std::vector<Diff>& d);
// A short key grouping mismatches of the same kind: "<tested forms> | <fields>".
std::string group_key(const Sequence& s, const std::vector<Diff>& d);

}  // namespace lift86::diff
