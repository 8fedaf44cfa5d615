// Differential tests: lift86's interpreter against Unicorn 2 on generated instruction sequences
// (DESIGN.md "How lift86 is tested", oracle 3). Each test runs thousands of seeded sequences; a
// mismatch is shrunk (units dropped while the same field still differs), grouped with mismatches
// of the same kind, and printed with everything needed to reproduce it.
//
// Environment:
//   LIFT86_DIFF_COUNT=n          sequences per test (default 3000; 1000 for the #DE tests)
//   LIFT86_DIFF_SEED=n           base seed (default fixed: runs are reproducible)
//   LIFT86_DIFF_REPRO=mode:seed[:faults]   run only that sequence and print its report
//   LIFT86_DIFF_VERBOSE=1        print every group's report (default: the first 40 groups)
#include <gtest/gtest.h>
#include <Zydis/Zydis.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <set>

#include "tests/diff/generator.hpp"
#include "tests/diff/runners.hpp"

namespace lift86::diff {
namespace {

uint64_t env_u64(const char* name, uint64_t def) {
    const char* v = std::getenv(name);
    return v && *v ? std::strtoull(v, nullptr, 0) : def;
}

uint64_t mix(uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

struct Outcome {
    RunResult l, u;
    std::vector<Diff> d;
    bool harness = false;   // a harness problem, not an engine difference
};

Outcome run_both(Lift86Runner& lr, const Sequence& s) {
    Outcome o;
    o.l = lr.run(s);
    o.u = run_unicorn(s);
    o.harness = !o.u.error.empty() || (!o.l.error.empty() && o.l.vector != -2);
    if (!o.harness) o.d = compare(s, o.l, o.u);
    return o;
}

bool has_field(const std::vector<Diff>& d, const std::string& f) {
    for (const Diff& x : d)
        if (x.field == f) return true;
    return false;
}

// Drops units while the first differing field still differs.
Sequence shrink(Lift86Runner& lr, Sequence s, const std::string& field) {
    for (bool changed = true; changed;) {
        changed = false;
        for (size_t i = s.units.size(); i-- > 0 && s.units.size() > 1;) {
            Sequence t = s;
            t.units.erase(t.units.begin() + long(i));
            t.assemble();
            Outcome o = run_both(lr, t);
            if (!o.harness && has_field(o.d, field)) {
                s = std::move(t);
                changed = true;
            }
        }
    }
    return s;
}

struct Group {
    unsigned count = 0;
    std::string report;
};

struct Campaign {
    Mode mode;
    bool faults;
    unsigned count;
};

GenOptions options_for(Mode m, bool faults) {
    GenOptions o;
    o.mode = m;
    o.allow_faults = faults;
    if (faults) o.favour = {"div", "idiv", "aam", "int", "int3", "into", "bound"};
    return o;
}

struct CampaignResult {
    unsigned mismatches = 0;
    unsigned harness_problems = 0;
    std::vector<std::string> never_executed;   // tested forms lift86 never executed (coverage)
    size_t sequences = 0;
};

// Runs the sequences of a campaign; prints the grouped reports.
CampaignResult run_campaign(const Campaign& c) {
    CampaignResult res;
    const char* repro = std::getenv("LIFT86_DIFF_REPRO");
    Lift86Runner lr(c.mode);
    const GenOptions opt = options_for(c.mode, c.faults);
    std::vector<uint64_t> seeds;
    if (repro && *repro) {
        std::string r = repro;
        std::string want = std::string(mode_name(c.mode)) + ":";
        bool faults = r.find(":faults") != std::string::npos;
        if (r.rfind(want, 0) != 0 || faults != c.faults) {
            std::printf("LIFT86_DIFF_REPRO=%s is not for this test\n", repro);
            return res;
        }
        seeds.push_back(std::strtoull(r.c_str() + want.size(), nullptr, 0));
    } else {
        const uint64_t base = env_u64("LIFT86_DIFF_SEED", 0x1f86d1ffull);
        for (unsigned i = 0; i < c.count; i++) seeds.push_back(mix(base ^ mix(uint64_t(c.mode) * 2 + c.faults) ^ i));
    }

    std::vector<unsigned> executed(forms().size());
    std::map<std::string, Group> groups;
    std::map<std::string, Group> harness;
    unsigned mismatches = 0, shrinks = 0, faulted = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (uint64_t seed : seeds) {
        Sequence s = generate(opt, seed);
        Outcome o = run_both(lr, s);
        if (repro && *repro) std::printf("%s", report(s, o.l, o.u, o.d).c_str());
        if (o.u.vector >= 0) faulted++;
        for (uint32_t off : o.l.trace) {
            if (off >= s.insn_at.size() || s.insn_at[off] < 0) continue;
            const GenInsn& g = s.insns[size_t(s.insn_at[off])];
            if (g.form >= 0 && !g.setup) executed[size_t(g.form)]++;
        }
        if (o.harness) {
            std::string key = "harness: " + (o.u.error.empty() ? o.l.error : o.u.error).substr(0, 60);
            Group& g = harness[key];
            if (g.count++ == 0) g.report = report(s, o.l, o.u, o.d);
            continue;
        }
        if (o.d.empty()) continue;
        mismatches++;
        Sequence small = s;
        Outcome so = o;
        if (shrinks < 300) {   // the minimiser runs each candidate twice: bound its cost
            shrinks++;
            small = shrink(lr, s, o.d.front().field);
            so = run_both(lr, small);
            if (so.harness || so.d.empty()) { small = s; so = o; }
        }
        Group& g = groups[group_key(small, so.d)];
        if (g.count++ == 0) g.report = report(small, so.l, so.u, so.d);
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("[%s%s] %zu sequences in %.1f s: %u mismatching, %u raised an exception in Unicorn, "
                "%zu kinds of mismatch, %zu kinds of harness problem\n",
                mode_name(c.mode), c.faults ? " #DE" : "", seeds.size(), secs, mismatches, faulted, groups.size(),
                harness.size());
    const bool verbose = env_u64("LIFT86_DIFF_VERBOSE", 0) != 0;
    unsigned shown = 0;
    for (auto& [key, g] : groups) {
        std::printf("--- %u x %s\n", g.count, key.c_str());
        if (verbose || shown++ < 40) std::printf("%s", g.report.c_str());
    }
    for (auto& [key, g] : harness) std::printf("--- %u x %s\n%s", g.count, key.c_str(), g.report.c_str());
    for (size_t k = 0; k < executed.size(); k++)
        if (!executed[k] && (c.faults || !(forms()[k].attr & fattr::FAULTS))) res.never_executed.push_back(forms()[k].name);
    res.mismatches = mismatches;
    for (auto& [key, g] : harness) res.harness_problems += g.count;
    res.sequences = seeds.size();
    return res;
}

void check(const Campaign& c, bool want_coverage) {
    CampaignResult r = run_campaign(c);
    EXPECT_EQ(r.mismatches, 0u) << "lift86 and Unicorn disagree: see the reports above";
    EXPECT_EQ(r.harness_problems, 0u) << "generator/harness problems: see the reports above";
    // With the default counts every form of the table runs many times; a form that never ran
    // means the generator (or a #UD in lift86) silently stopped testing it.
    if (want_coverage && r.sequences >= 1000) {
        std::string missing;
        for (const std::string& n : r.never_executed) missing += "  " + n + "\n";
        EXPECT_TRUE(r.never_executed.empty()) << "forms never executed by lift86:\n" << missing;
    }
}

unsigned count_for(unsigned def) { return unsigned(env_u64("LIFT86_DIFF_COUNT", def)); }

TEST(Interp, Real16) { check({Mode::Real16, false, count_for(3000)}, true); }
TEST(Interp, Prot32) { check({Mode::Prot32, false, count_for(3000)}, true); }
// DIV/IDIV/AAM with unconstrained operands: both engines must raise #DE on the same instruction
// with the same state, or agree on the result.
TEST(Interp, Real16DivideErrors) { check({Mode::Real16, true, count_for(1000)}, false); }
TEST(Interp, Prot32DivideErrors) { check({Mode::Prot32, true, count_for(1000)}, false); }

// ---------------------------------------------------------------- the generator itself
// Every emitted instruction decodes (Zydis) to exactly the bytes the generator meant, and every
// form of the table is generated in both modes.
TEST(Generator, EncodesWhatTheTableSays) {
    for (Mode m : {Mode::Real16, Mode::Prot32}) {
        ZydisDecoder dec;
        ZydisDecoderInit(&dec, m == Mode::Real16 ? ZYDIS_MACHINE_MODE_REAL_16 : ZYDIS_MACHINE_MODE_LEGACY_32,
                         m == Mode::Real16 ? ZYDIS_STACK_WIDTH_16 : ZYDIS_STACK_WIDTH_32);
        std::set<int> seen;
        for (unsigned i = 0; i < 3000; i++) {
            Sequence s = generate(options_for(m, i % 4 == 0), mix(i));
            ASSERT_LT(s.code.size(), layout::kCodeMax);
            for (const GenInsn& g : s.insns) {
                ZydisDecodedInstruction zi;
                ZyanStatus st = ZydisDecoderDecodeInstruction(&dec, nullptr, &s.code[g.off], g.len, &zi);
                ASSERT_TRUE(ZYAN_SUCCESS(st)) << mode_name(m) << " seed " << mix(i) << ":\n" << s.disassemble();
                ASSERT_EQ(zi.length, g.len) << mode_name(m) << " seed " << mix(i) << ":\n" << s.disassemble();
                if (g.form >= 0 && !g.setup) seen.insert(g.form);
            }
            for (const Unit& u : s.units) seen.insert(u.main_form);
        }
        for (size_t k = 0; k < forms().size(); k++)
            EXPECT_TRUE(seen.count(int(k))) << mode_name(m) << ": form never generated: " << forms()[k].name;
    }
}

// The same seed gives the same sequence.
TEST(Generator, Reproducible) {
    for (Mode m : {Mode::Real16, Mode::Prot32}) {
        Sequence a = generate(options_for(m, false), 1234), b = generate(options_for(m, false), 1234);
        EXPECT_EQ(a.code, b.code);
        EXPECT_EQ(a.init.window, b.init.window);
    }
}

// The flag mask follows the instructions actually executed.
TEST(Generator, UndefinedFlagsFollowExecution) {
    Sequence s;
    s.mode = Mode::Real16;
    Unit u;
    // mul bl (SF ZF AF PF undefined), then add al, 1 (all defined)
    u.bytes = {0xF6, 0xE3, 0x04, 0x01};
    GenInsn mul;
    mul.off = 0; mul.len = 2; mul.form = int16_t(form_index("mul Eb"));
    mul.defd = flagbits::O | flagbits::C; mul.undef = flagbits::S | flagbits::Z | flagbits::A | flagbits::P;
    GenInsn add;
    add.off = 2; add.len = 2; add.form = int16_t(form_index("add AL,Ib")); add.defd = flagbits::ALL;
    u.insns = {mul, add};
    s.units = {u};
    s.assemble();
    EXPECT_EQ(s.undefined_after({0}), flagbits::S | flagbits::Z | flagbits::A | flagbits::P);
    EXPECT_EQ(s.undefined_after({0, 2}), 0);
}

}  // namespace
}  // namespace lift86::diff
