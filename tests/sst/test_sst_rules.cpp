// The harness's own rules: the opcode scanner, the undefined-flag table and the 286-vs-P6 skip
// rules. A wrong mask hides CPU bugs and a wrong skip hides whole instructions, so each rule is
// pinned by the cases that tell it apart from its neighbours.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "tests/sst/differences.hpp"
#include "tests/sst/flag_masks.hpp"
#include "tests/sst/opcode_info.hpp"

using namespace lift86::sst;
using namespace lift86::sst::flag;

namespace {

MooTest make_test(std::vector<uint8_t> bytes, uint16_t cx = 0) {
    MooTest t;
    t.bytes = std::move(bytes);
    t.init.present = 0x3FFF;
    t.init.regs[CX] = cx;
    return t;
}

uint16_t undef(std::vector<uint8_t> bytes, uint16_t cx = 0) {
    MooTest t = make_test(std::move(bytes), cx);
    auto op = scan_opcode(t.bytes);
    EXPECT_TRUE(op);
    return op ? undefined_flags(*op, t) : 0xFFFF;
}

const char* before(std::vector<uint8_t> bytes, int expected_vector = -1) {
    MooTest t = make_test(std::move(bytes));
    if (expected_vector >= 0) t.excp = MooException{uint8_t(expected_vector), 0};
    auto op = scan_opcode(t.bytes);
    EXPECT_TRUE(op);
    if (!op) return "unparsable";
    auto skip = skip_before_run(*op, t);
    return skip ? skip->reason : nullptr;
}

}  // namespace

TEST(OpcodeScan, PrefixesModrmDisplacementImmediate) {
    // lock es: add word [bp+1234h], 5678h  -> imm after a 16-bit displacement
    auto o = scan_opcode(std::vector<uint8_t>{0xF0, 0x26, 0x81, 0x86, 0x34, 0x12, 0x78, 0x56, 0xF4});
    ASSERT_TRUE(o);
    EXPECT_TRUE(o->lock);
    EXPECT_EQ(o->seg_override, 0x26);
    EXPECT_EQ(o->prefix_len, 2u);
    EXPECT_EQ(o->opcode, 0x81);
    EXPECT_EQ(o->reg(), 0u);
    EXPECT_TRUE(o->mem_operand());
    EXPECT_EQ(o->imm_offset, 6u);
    // mod=00 rm=110 is [disp16], not [bp]
    o = scan_opcode(std::vector<uint8_t>{0xC0, 0x26, 0x00, 0x10, 0x03});
    ASSERT_TRUE(o);
    EXPECT_EQ(o->imm_offset, 4u);
    // register operand, disp8 form, no ModRM at all
    EXPECT_EQ(scan_opcode(std::vector<uint8_t>{0xC0, 0xE0, 0x03})->imm_offset, 2u);
    EXPECT_EQ(scan_opcode(std::vector<uint8_t>{0xC0, 0x60, 0x01, 0x03})->imm_offset, 3u);
    EXPECT_FALSE(scan_opcode(std::vector<uint8_t>{0x04, 0x01})->has_modrm);
    EXPECT_TRUE(scan_opcode(std::vector<uint8_t>{0x0F, 0x01, 0xE0})->two_byte);
    // Cut short: no answer rather than a read past the end.
    EXPECT_FALSE(scan_opcode(std::vector<uint8_t>{0xF0, 0x26}));
    EXPECT_FALSE(scan_opcode(std::vector<uint8_t>{0x81}));
    // ...but a missing displacement is fine (the suite cuts BYTS after a ModRM that raised #UD).
    EXPECT_EQ(scan_opcode(std::vector<uint8_t>{0xC6, 0x0E, 0xF4})->imm_offset, 4u);
}

TEST(OpcodeScan, FormNames) {
    auto f = parse_form_name("F6.6");
    ASSERT_TRUE(f);
    EXPECT_EQ(f->opcode, 0xF6);
    EXPECT_EQ(f->reg, 6);
    f = parse_form_name("0F01.4");
    ASSERT_TRUE(f);
    EXPECT_TRUE(f->two_byte);
    EXPECT_EQ(f->opcode2, 0x01);
    EXPECT_EQ(f->reg, 4);
    EXPECT_EQ(parse_form_name("0F")->two_byte, false);
    EXPECT_FALSE(parse_form_name("G1"));
    EXPECT_FALSE(parse_form_name("F6.8"));
    EXPECT_FALSE(parse_form_name("F6."));
}

TEST(FlagMasks, ArithmeticAndLogic) {
    EXPECT_EQ(undef({0x00, 0x07}), 0);                        // ADD: all defined
    EXPECT_EQ(undef({0x08, 0x07}), AF);                       // OR
    EXPECT_EQ(undef({0x83, 0xE0, 0x01}), AF);                 // AND r/m16, imm8 (/4)
    EXPECT_EQ(undef({0x83, 0xF8, 0x01}), 0);                  // CMP (/7)
    EXPECT_EQ(undef({0xF7, 0xC8, 0x01, 0x00}), AF);           // TEST alias /1
    EXPECT_EQ(undef({0xF6, 0xE1}), SF | ZF | AF | PF);        // MUL
    EXPECT_EQ(undef({0xF7, 0xF9}), ARITH);                    // IDIV
    EXPECT_EQ(undef({0xF6, 0xD9}), 0);                        // NEG
    EXPECT_EQ(undef({0x37}), OF | SF | ZF | PF);              // AAA
    EXPECT_EQ(undef({0x27}), OF);                             // DAA
    EXPECT_EQ(undef({0xD4, 0x0A}), OF | AF | CF);             // AAM
}

TEST(FlagMasks, ShiftsDependOnTheCount) {
    EXPECT_EQ(undef({0xD2, 0xE0}, 0x0000), 0);                // SHL AL,CL with CL=0: nothing changes
    EXPECT_EQ(undef({0xD2, 0xE0}, 0x0020), 0);                // CL=32 masks to 0
    EXPECT_EQ(undef({0xD0, 0xE0}), AF);                       // SHL AL,1: OF defined
    EXPECT_EQ(undef({0xD2, 0xE0}, 0x0003), OF | AF);          // SHL AL,3
    EXPECT_EQ(undef({0xD2, 0xE0}, 0x0009), OF | AF | CF);     // SHL AL,9: count >= width
    EXPECT_EQ(undef({0xD3, 0xE0}, 0x0009), OF | AF);          // SHL AX,9: CF still defined
    EXPECT_EQ(undef({0xD2, 0xF8}, 0x0014), OF | AF);          // SAR AL,20: CF is the sign, defined
    EXPECT_EQ(undef({0xD2, 0xC0}, 0x0003), OF);               // ROL: AF untouched
    EXPECT_EQ(undef({0xD0, 0xD0}), 0);                        // RCL by 1: all defined
    EXPECT_EQ(undef({0xC1, 0x26, 0x00, 0x10, 0x10}), OF | AF | CF);   // SHL word [1000h],16
    EXPECT_EQ(undef({0xC0, 0xE8, 0x00}), 0);                  // SHR AL,0
}

TEST(Differences, Lock) {
    EXPECT_EQ(before({0xF0, 0x01, 0x07}), nullptr);           // lock add [bx],ax: lockable
    EXPECT_EQ(before({0xF0, 0xFE, 0x07}), nullptr);           // lock inc byte [bx]
    EXPECT_NE(before({0xF0, 0x01, 0xC0}), nullptr);           // lock add ax,ax: register dest
    EXPECT_NE(before({0xF0, 0x39, 0x07}), nullptr);           // lock cmp: not lockable
    EXPECT_NE(before({0xF0, 0x80, 0x3F, 0x01}), nullptr);     // lock cmp byte [bx],1 (/7)
    EXPECT_NE(before({0xF0, 0x90}), nullptr);                 // lock nop
    EXPECT_EQ(before({0xF0, 0x8F, 0xC8}, 6), nullptr);        // the 286 raised #UD too: compare
    EXPECT_EQ(before({0x01, 0xC0}), nullptr);
}

TEST(Differences, P6OutcomeOfLockIsUd) {
    MooTest t = make_test({0xF0, 0x90});
    auto skip = skip_before_run(*scan_opcode(t.bytes), t);
    ASSERT_TRUE(skip);
    EXPECT_EQ(skip->p6_vector, 6);
    MooTest fs = make_test({0x8C, 0xE0});
    EXPECT_EQ(skip_before_run(*scan_opcode(fs.bytes), fs)->p6_vector, -1);
}

TEST(Differences, SegmentRegisters) {
    EXPECT_NE(before({0x8C, 0xE0}), nullptr);                 // mov ax,fs
    EXPECT_NE(before({0x8E, 0xE8}), nullptr);                 // mov gs,ax
    EXPECT_EQ(before({0x8E, 0xC8}), nullptr);                 // mov cs,ax: #UD on both
    EXPECT_EQ(before({0x8C, 0xD8}), nullptr);                 // mov ax,ds
}

TEST(Differences, StackWrapOnlyForStackInstructions) {
    MooTest t = make_test({0xC3});
    t.excp = MooException{13, 0};
    auto ret = scan_opcode(t.bytes);
    EXPECT_NE(skip_after_run(*ret, t, 12), nullptr);          // RET at SP=FFFF: #SS on a P6
    EXPECT_EQ(skip_after_run(*ret, t, 13), nullptr);          // same vector: nothing to excuse
    EXPECT_EQ(skip_after_run(*ret, t, -1), nullptr);
    MooTest m = make_test({0x8B, 0x07});                      // mov ax,[bx]: DS, never #SS
    m.excp = MooException{13, 0};
    EXPECT_EQ(skip_after_run(*scan_opcode(m.bytes), m, 12), nullptr);
}

TEST(Differences, Revocations) {
    auto path = std::filesystem::temp_directory_path() / "lift86_test_revocations.txt";
    {
        std::ofstream out(path);
        out << "# comment\n\n0123456789ABCDEF0123456789abcdef01234567\nnot-a-hash\n";
    }
    Revocations r;
    r.load(path.string());
    EXPECT_EQ(r.size(), 1u);
    MooTest t;
    t.hash = std::array<uint8_t, 20>{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23,
                                     0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67};
    EXPECT_TRUE(r.revoked(t));
    t.hash->at(19) = 0;
    EXPECT_FALSE(r.revoked(t));
    Revocations none;
    none.load("/nonexistent/revocation_list.txt");
    EXPECT_FALSE(none.revoked(t));
    std::filesystem::remove(path);
}

TEST(OpcodeScan, LengthAndStackRelativeOperands) {
    // 5 prefixes + add word [si+1DDFh],7693h: 11 bytes, one past the 286's limit
    auto o = scan_opcode(std::vector<uint8_t>{0x2E, 0x36, 0x2E, 0x3E, 0x3E, 0x81, 0x84, 0xDF, 0x1D, 0x93, 0x76, 0xF4});
    ASSERT_TRUE(o);
    EXPECT_EQ(o->length(), 11u);
    EXPECT_EQ(scan_opcode(std::vector<uint8_t>{0x9A, 1, 2, 3, 4})->length(), 5u);      // call far ptr16:16
    EXPECT_EQ(scan_opcode(std::vector<uint8_t>{0xF7, 0xC0, 1, 2})->length(), 4u);      // test ax,iw
    EXPECT_EQ(scan_opcode(std::vector<uint8_t>{0xF7, 0xD0})->length(), 2u);            // not ax
    EXPECT_EQ(scan_opcode(std::vector<uint8_t>{0xC8, 1, 2, 3})->length(), 4u);         // enter iw,ib

    auto ss = [](std::vector<uint8_t> b) { return scan_opcode(b)->operand_in_ss(); };
    EXPECT_TRUE(ss({0x01, 0x02}));          // add [bp+si],ax
    EXPECT_TRUE(ss({0x01, 0x46, 0x10}));    // add [bp+10h],ax
    EXPECT_FALSE(ss({0x01, 0x06, 0, 0}));   // add [0000h],ax: mod=00 rm=110 is disp16, DS
    EXPECT_FALSE(ss({0x01, 0x07}));         // add [bx],ax
    EXPECT_TRUE(ss({0x36, 0x01, 0x07}));    // add ss:[bx],ax
    EXPECT_FALSE(ss({0x3E, 0x01, 0x02}));   // add ds:[bp+si],ax
    EXPECT_FALSE(ss({0x01, 0xC0}));         // register operand
    EXPECT_TRUE(ss({0x26, 0x36, 0xA5}));    // ss movsw: the last override wins
    EXPECT_FALSE(ss({0x36, 0x26, 0xA5}));   // es movsw
    EXPECT_FALSE(ss({0x36, 0xAB}));         // stosw writes ES:DI whatever the prefix
}

TEST(Differences, InstructionLengthLimit) {
    std::vector<uint8_t> b{0x2E, 0x36, 0x2E, 0x3E, 0x3E, 0x81, 0x84, 0xDF, 0x1D, 0x93, 0x76, 0xF4};
    EXPECT_NE(before(b, 13), nullptr);
    EXPECT_EQ(before(b), nullptr);   // no #GP on the 286: nothing to excuse
    EXPECT_EQ(before({0x2E, 0x36, 0x2E, 0x3E, 0x81, 0x84, 0xDF, 0x1D, 0x93, 0x76, 0xF4}, 13), nullptr);   // 10 bytes
}

TEST(Differences, StringOpFaultRegisters) {
    MooTest t = make_test({0xA5});
    auto op = scan_opcode(t.bytes);
    EXPECT_EQ(registers_not_compared(*op, t), 0);
    t.excp = MooException{13, 0};
    EXPECT_EQ(registers_not_compared(*op, t), (1u << SI) | (1u << DI) | (1u << CX));
    MooTest m = make_test({0x8B, 0x07});
    m.excp = MooException{13, 0};
    EXPECT_EQ(registers_not_compared(*scan_opcode(m.bytes), m), 0);
}

TEST(FlagMasks, FaultingAamHasNoDefinedFlags) {
    MooTest t = make_test({0xD4, 0x00});
    auto op = scan_opcode(t.bytes);
    EXPECT_EQ(undefined_flags(*op, t), OF | AF | CF);
    t.excp = MooException{0, 0};
    EXPECT_EQ(undefined_flags(*op, t), ARITH);
}
