// Decoder quirks: what Zydis reports and what the x86 really does, one test per quirk found.
#include <gtest/gtest.h>

#include "cpu_fixture.hpp"
#include "frontend/decoder.hpp"

using namespace lift86;
using lift86::test::CpuFixture;

static Insn dec(std::vector<uint8_t> b, bool code32 = false) {
    Insn i;
    b.resize(16, 0x90);
    EXPECT_EQ(decode_insn(b.data(), 15, code32, i), DecodeStatus::Ok);
    return i;
}

TEST(Decoder, SegmentDefaultsAndOverrides) {
    EXPECT_EQ(dec({0x8B, 0x07}).seg, DS);               // mov ax,[bx]
    EXPECT_EQ(dec({0x8B, 0x46, 0x00}).seg, SS);         // mov ax,[bp+0]: BP-based -> SS
    EXPECT_EQ(dec({0x3E, 0x8B, 0x46, 0x00}).seg, DS);   // ds: override beats the BP default
    EXPECT_EQ(dec({0x26, 0x8B, 0x07}).seg, ES);
    EXPECT_EQ(dec({0x8B, 0x44, 0x24, 0x04}, true).seg, SS);   // mov eax,[esp+4]
    // String source segments are overridable, the destination is always ES.
    EXPECT_EQ(dec({0xA4}).seg, DS);
    EXPECT_EQ(dec({0x2E, 0xA4}).seg, CS);
    EXPECT_EQ(dec({0x26, 0xAC}).seg, ES);
    EXPECT_EQ(dec({0xD7}).seg, DS);                     // xlat
    EXPECT_EQ(dec({0x64, 0xD7}).seg, FS);
}

TEST(Decoder, OperandAndAddressSizePrefixes) {
    Insn a = dec({0x66, 0xB8, 0x78, 0x56, 0x34, 0x12});   // 16-bit code: mov eax, imm32
    EXPECT_EQ(a.len, 6);
    EXPECT_TRUE(a.o32());
    EXPECT_EQ(a.imm, 0x12345678u);
    Insn b = dec({0x67, 0x8B, 0x00});                      // 16-bit code: mov ax,[eax]
    EXPECT_TRUE(b.a32());
    EXPECT_FALSE(b.o32());
    EXPECT_EQ(b.base, EAX);
    Insn c = dec({0x66, 0x8B, 0x00}, true);                // 32-bit code: mov ax,[eax]
    EXPECT_FALSE(c.o32());
    EXPECT_TRUE(c.a32());
}

TEST(Decoder, SixteenBitAddressingForms) {
    Insn i = dec({0x8B, 0x40, 0xFE});   // mov ax,[bx+si-2]
    EXPECT_EQ(i.base, EBX);
    EXPECT_EQ(i.index, ESI);
    EXPECT_EQ(i.disp, -2);
    Insn d = dec({0x8B, 0x06, 0x34, 0x12});   // mov ax,[1234h]
    EXPECT_EQ(d.base, kNoReg);
    EXPECT_EQ(d.disp, 0x1234);
}

TEST(Decoder, TooLongAndInvalidEncodings) {
    Insn l = dec(std::vector<uint8_t>(15, 0x26));   // 15 prefixes: no room for an opcode
    EXPECT_EQ(l.len, 15);
    EXPECT_TRUE(l.flags & insn_flag::ENDS_BLOCK);
    Insn u = dec({0x0F, 0x0B});                      // UD2
    EXPECT_EQ(u.fn, &h_undefined);
    Insn lk = dec({0xF0, 0x01, 0xC0});               // lock add eax,eax: #UD on 386+
    EXPECT_EQ(lk.fn, &h_undefined);
    Insn s = dec({0x0F, 0x10, 0xC1});                // movups: SSE, not on a P6
    EXPECT_EQ(s.fn, &h_undefined);
}

TEST(Decoder, NeedsMoreBytesAtTheEndOfAvailableInput) {
    uint8_t b[2] = {0xB8, 0x34};   // mov ax, imm16 cut short
    Insn i;
    EXPECT_EQ(decode_insn(b, 2, false, i), DecodeStatus::NeedMoreBytes);
}

using DecoderExec = CpuFixture;

// Zydis reports 16-bit relative targets sign-extended to 64 bits: lift86 must wrap at 64 KiB.
TEST_F(DecoderExec, SixteenBitRelativeJumpWrapsAtSegmentEnd) {
    // At 0100:FFF0, jmp rel16 +0x20 lands at 0100:0013 (wrapped), where HLT waits.
    load_real({});
    mem.write_block(0x1000 + 0xFFF0, std::vector<uint8_t>{0xE9, 0x20, 0x00}.data(), 3);
    mem.write8(0x1000 + 0x0013, 0xF4);
    cpu.eip = 0xFFF0;
    run();
    EXPECT_TRUE(cpu.halted);
    EXPECT_EQ(cpu.eip, 0x14u);
}

TEST_F(DecoderExec, OperandSizeOverrideOnNearCallPushesFourBytes) {
    // 66 E8 rel32 in 16-bit code pushes a 32-bit return address (SDM vol.2 CALL).
    load_real({0x66, 0xE8, 0x01, 0x00, 0x00, 0x00, 0xF4, 0xF4});
    run();
    EXPECT_EQ(cpu.r16(ESP), 0xFFFE - 4);
    EXPECT_EQ(mem.read32(0x1000 + 0xFFFA), 6u);
}

TEST_F(DecoderExec, FarReturnIsNotANearReturn) {
    // push 0x0200; push 0x0004; retf -> 0200:0004 (physical 0x2004) where HLT waits.
    load_real({0x68, 0x00, 0x02, 0x68, 0x04, 0x00, 0xCB});
    mem.write8(0x2004, 0xF4);
    run();
    EXPECT_EQ(cpu.seg[CS].sel, 0x200);
    EXPECT_EQ(cpu.eip, 5u);
}

// Zydis (CET mode) reads 3E before an indirect branch as NOTRACK; on a P6 it is a DS override.
TEST(Decoder, DsPrefixOnIndirectBranchIsASegmentOverride) {
    EXPECT_EQ(dec({0x3E, 0xFF, 0x12}).seg, DS);   // call word [ds:bp+si]
    EXPECT_EQ(dec({0x3E, 0xFF, 0x22}).seg, DS);   // jmp word [ds:bp+si]
    EXPECT_EQ(dec({0xFF, 0x12}).seg, SS);
}

// F3 0F BC is TZCNT on later CPUs, BSF with an ignored REP prefix on a P6.
TEST_F(DecoderExec, RepBsfIsBsf) {
    // mov ax,8 ; rep bsf cx,ax ; hlt  -> CX = 3
    load_real({0xB8, 0x08, 0x00, 0xF3, 0x0F, 0xBC, 0xC8, 0xF4});
    run();
    EXPECT_EQ(cpu.r16(ECX), 3);
}
