// Documented differences between the 80286 the suite was captured on and the P6-class CPU lift86
// emulates. A test that exercises one is skipped (never counted as passed) and the reason is
// printed. Only differences the manuals document belong here — never a rule to hide a failure.
#pragma once
#include <cstdint>
#include <optional>
#include <set>
#include <string>

#include "tests/sst/moo.hpp"
#include "tests/sst/opcode_info.hpp"

namespace lift86::sst {

// SHA-1 hashes (lower-case hex) of tests the suite's authors withdrew (revocation_list.txt).
class Revocations {
public:
    // Missing file: empty list. Lines starting with '#' and blank lines are ignored.
    void load(const std::string& path);
    bool revoked(const MooTest& t) const;
    size_t size() const { return hashes_.size(); }

private:
    std::set<std::string> hashes_;
};

// A whole file that cannot be run on a 386+ (e.g. a form that is a different instruction there).
const char* skip_form(const FormName& form);

// Decided from the test alone, before running it.
struct Skip {
    const char* reason;
    // The exception a P6 must raise instead of doing what the 286 did (-1: it runs the
    // instruction, with an outcome the test cannot check). The runner verifies it.
    int p6_vector;
};
std::optional<Skip> skip_before_run(const OpcodeInfo& op, const MooTest& t);

// Registers (MooReg bits) not to compare for this test, where the 286 leaves a documented
// different value; 0 for most tests.
uint16_t registers_not_compared(const OpcodeInfo& op, const MooTest& t);

// Decided after running, from how the result differs: `got_vector` is the exception vector the
// CPU delivered that the test did not expect (-1 when none was detected). Null: a real failure.
const char* skip_after_run(const OpcodeInfo& op, const MooTest& t, int got_vector);

}  // namespace lift86::sst
