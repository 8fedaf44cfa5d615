// Memory-operand offsets through the handlers specialised by addressing form at bind time
// (pick_sm_ea in frontend/interp.hpp): 32-bit [base+disp] and [base+index*scale+disp] wrap
// modulo 2^32 and are still checked against the segment limit; 16-bit forms wrap at 64 KiB.
#include <gtest/gtest.h>

#include "cpu_fixture.hpp"

using namespace lift86;
using lift86::test::CpuFixture;

using EaForms = CpuFixture;

TEST_F(EaForms, Base32PlusDispWrapsModulo4G) {
    // 67 8B 43 20: mov ax,[ebx+0x20] with EBX = 0xFFFFFFF0 -> offset 0x10.
    // 67 89 4B 22: mov [ebx+0x22],cx; 67 8D 53 20: lea dx,[ebx+0x20].
    load_real({0x67, 0x8B, 0x43, 0x20, 0x67, 0x89, 0x4B, 0x22, 0x67, 0x8D, 0x53, 0x20, 0xF4});
    mem.write16(0x1000 + 0x10, 0xBEEF);
    cpu.r[EBX] = 0xFFFFFFF0u;
    cpu.r[ECX] = 0x1234;
    run();
    ASSERT_TRUE(cpu.halted);
    EXPECT_EQ(cpu.r[EAX] & 0xFFFF, 0xBEEFu);
    EXPECT_EQ(mem.read16(0x1000 + 0x12), 0x1234u);
    EXPECT_EQ(cpu.r[EDX] & 0xFFFF, 0x0010u);
}

TEST_F(EaForms, BaseIndexScaledWrapsAndAddsWithCarryOut) {
    // 67 03 44 8B FC: add ax,[ebx+ecx*4-4]; EBX = 0x80000000, ECX = 0x20000005 -> offset 0x10.
    load_real({0x67, 0x03, 0x44, 0x8B, 0xFC, 0xF4});
    mem.write16(0x1000 + 0x10, 0x0101);
    cpu.r[EAX] = 0x0001;
    cpu.r[EBX] = 0x80000000u;
    cpu.r[ECX] = 0x20000005u;
    run();
    ASSERT_TRUE(cpu.halted);
    EXPECT_EQ(cpu.r[EAX] & 0xFFFF, 0x0102u);
}

TEST_F(EaForms, Base32BeyondTheRealModeLimitFaults) {
    // mov ax,[ebx+0] with EBX = 0x10000: past the 64 KiB limit -> #GP (real mode: vector 13).
    set_ivt(13, 0x0000, 0x0600);
    mem.write8(0x600, 0xF4);
    load_real({0x67, 0x8B, 0x43, 0x00, 0xF4});
    cpu.r[EBX] = 0x10000;
    run();
    ASSERT_TRUE(cpu.halted);
    EXPECT_EQ(cpu.seg[CS].sel, 0u);
    EXPECT_EQ(cpu.eip, 0x601u);
    EXPECT_EQ(mem.read16(0x1000 + 0xFFFE - 6), 0u);   // the faulting instruction's IP
}

TEST_F(EaForms, SixteenBitBasePlusDispWrapsAt64K) {
    // mov ax,[bx+0x20] with BX = 0xFFF0 -> offset 0x10 (16-bit addressing, general form).
    load_real({0x8B, 0x47, 0x20, 0xF4});
    mem.write16(0x1000 + 0x10, 0xCAFE);
    cpu.r[EBX] = 0xFFF0;
    run();
    ASSERT_TRUE(cpu.halted);
    EXPECT_EQ(cpu.r[EAX] & 0xFFFF, 0xCAFEu);
}
