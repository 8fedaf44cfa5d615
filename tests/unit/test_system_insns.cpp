// System instructions (frontend/interp_system.cpp, frontend/control_regs.cpp): each test runs
// real guest bytes through Cpu::run on a bare CPU and checks the architectural result, or that
// the exception the SDM names was delivered (a one-byte HLT handler per vector tells which).
// Code bytes were assembled with nasm; the source is in the comment above each array.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "frontend/cpu.hpp"
#include "machine/bus/phys_memory.hpp"
#include "machine/bus/port_bus.hpp"

using namespace lift86;

namespace {

// Physical layout (paging off unless a test turns it on).
constexpr uint32_t kRealHandlers = 0x500;   // real mode: IVT vector v -> 0000:0500+v, a HLT
constexpr uint32_t kPmHandlers = 0x600;     // protected mode: IDT vector v -> 08:0600+v, a HLT
constexpr uint32_t kGdt = 0x800;
constexpr uint32_t kIdt = 0x1000;
constexpr uint32_t kCode = 0x2000;
constexpr uint32_t kTss = 0x3000;
constexpr uint32_t kLdt = 0x4000;
constexpr uint32_t kData = 0x5000;
constexpr uint32_t kStack = 0x7000;         // ring-0 stack of the tests
constexpr uint32_t kTssEsp0 = 0x8000;       // ring-0 stack an exception from ring 3 switches to
constexpr uint32_t kUserStack = 0x9000;
constexpr uint32_t kUserCode = 0xA000;

constexpr uint32_t kCode0Attr = 0xC09B, kData0Attr = 0xC093, kCode3Attr = 0xC0FB, kData3Attr = 0xC0F3;

// GDT (selector: descriptor).
const uint64_t kGdtEntries[] = {
    0,                        // 0x00 null
    0x00CF9B000000FFFFull,    // 0x08 code, DPL 0, flat 32-bit
    0x00CF93000000FFFFull,    // 0x10 data, DPL 0, flat
    0x00CFFB000000FFFFull,    // 0x18 code, DPL 3, flat 32-bit
    0x00CFF3000000FFFFull,    // 0x20 data, DPL 3, flat
    0x0000890030000067ull,    // 0x28 32-bit TSS, available, base 0x3000, limit 0x67
    0x000082004000000Full,    // 0x30 LDT, base 0x4000, limit 0x0F
    0x00CF9F000000FFFFull,    // 0x38 conforming readable code, DPL 0
    0x00CF91000000FFFFull,    // 0x40 read-only data, DPL 0
    0x00CF99000000FFFFull,    // 0x48 execute-only code, DPL 0
    0x00008E0000080000ull,    // 0x50 32-bit interrupt gate (not valid for LAR/LSL)
    0x0000EC0000080000ull,    // 0x58 32-bit call gate, DPL 3 (LAR yes, LSL no)
    0x00CF13000000FFFFull,    // 0x60 data, not present
    0x0051931234562345ull,    // 0x68 data, AVL, byte-granular limit 0x12345, base 0x00123456
    0x00008B0031000067ull,    // 0x70 32-bit TSS, busy
    0x000081003200002Bull,    // 0x78 16-bit TSS, available, limit 0x2B
};
constexpr uint16_t kGdtLimit = sizeof(kGdtEntries) - 1;

class SystemInsns : public ::testing::Test {
protected:
    PhysMemory mem{8u << 20};
    PortBus io;
    Cpu c{mem, io};

    void SetUp() override {
        c.reset();
        // Real-mode IVT and one HLT per vector for both modes' handlers.
        for (uint32_t v = 0; v < 32; v++) {
            mem.write32(v * 4, kRealHandlers + v);   // 0000:0500+v
            mem.write8(kRealHandlers + v, 0xF4);
            mem.write8(kPmHandlers + v, 0xF4);
        }
        c.load_seg_real(CS, 0);
        c.load_seg_real(SS, 0);
        c.load_seg_real(DS, 0);
        c.load_seg_real(ES, 0);
        c.r[ESP] = kStack;
        c.eip = kCode;
        c.update_mode();
    }

    void put(uint32_t addr, const std::vector<uint8_t>& bytes) { mem.write_block(addr, bytes.data(), bytes.size(), true); }
    void code(const std::vector<uint8_t>& bytes) {
        put(kCode, bytes);
        c.eip = kCode;
    }
    // Runs until HLT (every snippet ends in one, and every handler is one).
    void run() { ASSERT_EQ(c.run(1000), StopReason::Halted); }
    bool zf() { return c.get_eflags() & fl::ZF; }

    // The vector whose handler halted the CPU, or -1 if it halted elsewhere.
    int vector_taken() {
        uint32_t base = c.pe ? kPmHandlers : kRealHandlers;
        if (!c.halted || c.eip < base + 1 || c.eip > base + 32) return -1;
        return int(c.eip - base - 1);
    }
    uint32_t stack32(unsigned k) { return mem.read32(c.seg[SS].base + c.r[ESP] + 4 * k); }
    uint16_t stack16(unsigned k) { return mem.read16(c.seg[SS].base + (c.r[ESP] & 0xFFFF) + 2 * k); }

    // Flat protected mode at CPL 0 with the GDT above, an IDT of interrupt gates to the HLT
    // handlers and a 32-bit TSS in TR (so exceptions from ring 3 find a ring-0 stack).
    void protected_mode() {
        for (size_t k = 0; k < std::size(kGdtEntries); k++) {
            mem.write32(kGdt + 8 * k, uint32_t(kGdtEntries[k]));
            mem.write32(kGdt + 8 * k + 4, uint32_t(kGdtEntries[k] >> 32));
        }
        for (uint32_t v = 0; v < 32; v++) {
            uint32_t off = kPmHandlers + v;
            mem.write32(kIdt + 8 * v, (0x08u << 16) | (off & 0xFFFF));
            mem.write32(kIdt + 8 * v + 4, (off & 0xFFFF0000u) | 0x8E00);
        }
        mem.write32(kTss + 4, kTssEsp0);
        mem.write32(kTss + 8, 0x10);
        mem.write16(kTss + 0x66, 0x68);   // I/O bitmap base at the limit: no bitmap
        c.gdtr = {kGdt, kGdtLimit};
        c.idtr = {kIdt, 32 * 8 - 1};
        c.cr0 |= cr0::PE;
        c.set_seg_cache(c.seg[CS], 0x08, 0, 0xFFFFFFFFu, kCode0Attr);
        for (unsigned s : {SS, DS, ES, FS, GS}) c.set_seg_cache(c.seg[s], 0x10, 0, 0xFFFFFFFFu, kData0Attr);
        c.set_seg_cache(c.tr, 0x28, kTss, 0x67, 0x8B);
        c.r[ESP] = kStack;
        c.update_mode();
        ASSERT_TRUE(c.pe);
        ASSERT_TRUE(c.code32);
        ASSERT_EQ(c.cpl, 0);
    }
    // Ring 3 at kUserCode, flat segments.
    void user_mode(const std::vector<uint8_t>& bytes) {
        put(kUserCode, bytes);
        c.set_seg_cache(c.seg[CS], 0x1B, 0, 0xFFFFFFFFu, kCode3Attr);
        for (unsigned s : {SS, DS, ES, FS, GS}) c.set_seg_cache(c.seg[s], 0x23, 0, 0xFFFFFFFFu, kData3Attr);
        c.r[ESP] = kUserStack;
        c.eip = kUserCode;
        c.update_mode();
        ASSERT_EQ(c.cpl, 3);
    }
    // Asserts that the first instruction of the current code raised `vector` in protected mode
    // (error code `err`, or none when err < 0) and was not executed past.
    void expect_pm_fault(int vector, int32_t err, uint32_t at) {
        EXPECT_EQ(vector_taken(), vector);
        unsigned k = 0;
        if (err >= 0) {
            EXPECT_EQ(stack32(k++), uint32_t(err)) << "error code";
        }
        EXPECT_EQ(stack32(k), at) << "a fault returns to the faulting instruction";
    }
    void expect_real_fault(int vector, uint16_t at) {
        EXPECT_EQ(vector_taken(), vector);
        EXPECT_EQ(stack16(0), at) << "a fault returns to the faulting instruction";
    }
};

// ------------------------------------------------------------------ entering protected mode

// Real-mode code whose CS has non-zero low bits sets CR0.PE; until its far jump it runs in
// protected mode at CPL 0 (SDM vol.3 9.9.1), so privileged instructions still work there.
TEST_F(SystemInsns, SettingPeKeepsCpl0UntilCsIsLoaded) {
    protected_mode();   // GDT, IDT and handlers in memory
    c.cr0 &= ~cr0::PE;
    // Back in real mode with a real-mode CS cache (16-bit, 64 KiB) whose selector value 0x0003
    // has low bits 3: a paragraph number, not a privilege level.
    c.set_seg_cache(c.seg[CS], 0x0003, 0x30, 0xFFFF, attr::P | attr::S | attr::CODE | attr::RW | attr::ACCESSED);
    c.update_mode();
    ASSERT_FALSE(c.pe);
    c.eip = kCode - 0x30;
    // mov eax,cr0; or al,1; mov cr0,eax; mov eax,cr0 (CPL 0 only); jmp far 08:kCode+..; hlt
    const uint32_t target = kCode + 0x20;
    put(kCode, {0x0F, 0x20, 0xC0, 0x0C, 0x01, 0x0F, 0x22, 0xC0, 0x0F, 0x20, 0xC0,
                0x66, 0xEA, uint8_t(target), uint8_t(target >> 8), uint8_t(target >> 16), uint8_t(target >> 24), 0x08, 0x00});
    put(target, {0xF4});
    run();
    EXPECT_EQ(vector_taken(), -1) << "no exception before or after the far jump";
    EXPECT_EQ(c.eip, target + 1);
    EXPECT_TRUE(c.pe);
    EXPECT_EQ(c.cpl, 0);
    EXPECT_EQ(c.seg[CS].sel, 0x08);
}

// ------------------------------------------------------------------ CPUID

// cpuid; hlt
const std::vector<uint8_t> kCpuid16 = {0x0F, 0xA2, 0xF4};

TEST_F(SystemInsns, CpuidVendorAndMaxLeaf) {
    code(kCpuid16);
    c.r[EAX] = 0;
    run();
    EXPECT_EQ(c.r[EAX], 2u);
    char vendor[13] = {};
    std::memcpy(vendor, &c.r[EBX], 4);
    std::memcpy(vendor + 4, &c.r[EDX], 4);
    std::memcpy(vendor + 8, &c.r[ECX], 4);
    EXPECT_STREQ(vendor, "GenuineIntel");
}

TEST_F(SystemInsns, CpuidSignatureAndOnlyImplementedFeatures) {
    code(kCpuid16);
    c.r[EAX] = 1;
    c.r[ECX] = 0xFFFFFFFF;
    run();
    EXPECT_EQ(c.r[EAX], 0x633u) << "family 6, model 3, stepping 3";
    EXPECT_EQ(c.r[EBX], 0u);
    EXPECT_EQ(c.r[ECX], 0u);
    const uint32_t d = c.r[EDX];
    for (unsigned bit : {0u /*FPU*/, 2u /*DE*/, 3u /*PSE*/, 4u /*TSC*/, 5u /*MSR*/, 7u /*MCE*/, 8u /*CX8*/,
                         11u /*SEP*/, 12u /*MTRR*/, 13u /*PGE*/, 14u /*MCA*/, 15u /*CMOV*/, 24u /*FXSR*/})
        EXPECT_TRUE(d & (1u << bit)) << "feature bit " << bit << " must be advertised";
    for (unsigned bit : {1u /*VME*/, 6u /*PAE*/, 9u /*APIC*/, 16u /*PAT*/, 17u /*PSE36*/, 23u /*MMX*/,
                         25u /*SSE*/, 26u /*SSE2*/})
        EXPECT_FALSE(d & (1u << bit)) << "feature bit " << bit << " is not implemented";
    EXPECT_EQ(d, 0x0100F9BDu);
}

TEST_F(SystemInsns, CpuidLeaf2AndOutOfRangeLeaves) {
    code(kCpuid16);
    c.r[EAX] = 2;
    run();
    EXPECT_EQ(c.r[EAX], 0x03020101u);
    EXPECT_EQ(c.r[EDX], 0x0C040843u);
    // Beyond the maximum (basic or extended, the P6 has no extended leaves): leaf 2's data
    // (SDM vol.2 CPUID), so 80000000H's EAX is not 8000xxxxH.
    for (uint32_t leaf : {3u, 0x80000000u, 0x80000001u}) {
        code(kCpuid16);
        c.halted = false;
        c.r[EAX] = leaf;
        run();
        EXPECT_EQ(c.r[EAX], 0x03020101u) << std::hex << leaf;
        EXPECT_EQ(c.r[EDX], 0x0C040843u) << std::hex << leaf;
    }
}

// ------------------------------------------------------------------ MSRs

// wrmsr; xor eax,eax; xor edx,edx; rdmsr; hlt
const std::vector<uint8_t> kWrRd16 = {0x0F, 0x30, 0x66, 0x31, 0xC0, 0x66, 0x31, 0xD2, 0x0F, 0x32, 0xF4};
// rdmsr; hlt
const std::vector<uint8_t> kRdmsr16 = {0x0F, 0x32, 0xF4};
// wrmsr; hlt
const std::vector<uint8_t> kWrmsr16 = {0x0F, 0x30, 0xF4};

TEST_F(SystemInsns, MsrRoundTrips) {
    struct Case { uint32_t msr; uint64_t v; };
    const Case cases[] = {
        {0x174, 0x0008}, {0x175, 0xC0001000}, {0x176, 0xC0100000},
        {0x2FF, 0xC06},                                 // MTRRdefType: E, FE, WB
        {0x200, 0x0000000000000006ull},                 // PhysBase0: WB at 0
        {0x201, 0x0000000FF8000800ull},                 // PhysMask0: 128 MiB, valid
        {0x20E, 0x00000000FEC00000ull},                 // PhysBase7: UC
        {0x250, 0x0606060606060606ull}, {0x258, 0x0606060606060606ull},
        {0x259, 0x0000000000000000ull}, {0x268, 0x0505050505050505ull}, {0x26F, 0x0401000605040100ull},
        {0x17A, 0x0000000000000000ull}, {0x17B, 0xFFFFFFFFFFFFFFFFull},   // MCG_STATUS, MCG_CTL
        {0x400, 0xFFFFFFFFFFFFFFFFull}, {0x410, 0x00000000000000FFull},   // MC0_CTL, MC4_CTL
        {0x401, 0}, {0x412, 0},                                           // MC0_STATUS, MC4_ADDR: only 0
    };
    for (const Case& k : cases) {
        SetUp();
        code(kWrRd16);
        c.halted = false;
        c.r[ECX] = k.msr;
        c.r[EAX] = uint32_t(k.v);
        c.r[EDX] = uint32_t(k.v >> 32);
        run();
        EXPECT_EQ(vector_taken(), -1) << std::hex << k.msr;
        EXPECT_EQ(uint64_t(c.r[EDX]) << 32 | c.r[EAX], k.v) << std::hex << k.msr;
        // SYSENTER/SYSEXIT read these fields.
        if (k.msr == 0x174) {
            EXPECT_EQ(c.sysenter_cs, 0x0008u);
        }
        if (k.msr == 0x175) {
            EXPECT_EQ(c.sysenter_esp, 0xC0001000u);
        }
        if (k.msr == 0x176) {
            EXPECT_EQ(c.sysenter_eip, 0xC0100000u);
        }
    }
}

TEST_F(SystemInsns, MsrReadOnlyValues) {
    code(kRdmsr16);
    c.r[ECX] = 0xFE;   // MTRRcap: 8 variable ranges, fixed ranges, write-combining
    run();
    EXPECT_EQ(c.r[EAX], 0x508u);
    EXPECT_EQ(c.r[EDX], 0u);
    // Linux's microcode revision read: WRMSR 8BH <- 0, CPUID, RDMSR 8BH (EDX = revision).
    SetUp();
    code(kWrRd16);
    c.halted = false;
    c.r[ECX] = 0x8B;
    c.r[EAX] = c.r[EDX] = 0;
    run();
    EXPECT_EQ(vector_taken(), -1);
}

// Machine-check architecture of the P6 (SDM vol.3 16.3): 5 banks with MCG_CTL, nothing ever
// logged, only zeros may be written to status and address registers.
TEST_F(SystemInsns, MachineCheckRegisters) {
    code(kRdmsr16);
    c.r[ECX] = 0x179;   // MCG_CAP
    run();
    EXPECT_EQ(c.r[EAX], 0x105u) << "5 banks, MCG_CTL_P";
    for (uint32_t status : {0x401u, 0x405u, 0x409u, 0x40Du, 0x411u}) {
        SetUp();
        code(kRdmsr16);
        c.halted = false;
        c.r[ECX] = status;
        c.r[EAX] = c.r[EDX] = 0x1111;
        run();
        EXPECT_EQ(vector_taken(), -1);
        EXPECT_EQ(c.r[EAX] | c.r[EDX], 0u) << "no machine check is ever logged";
    }
    for (uint32_t msr : {0x179u /*MCG_CAP is read-only*/, 0x401u /*MC0_STATUS*/, 0x402u /*MC0_ADDR*/, 0x17Au /*MCG_STATUS reserved bit*/}) {
        SetUp();
        code(kWrmsr16);
        c.halted = false;
        c.r[ECX] = msr;
        c.r[EAX] = 0x10;
        c.r[EDX] = 0;
        run();
        expect_real_fault(kGP, kCode);
    }
    // CR4.MCE may be set now that CPUID advertises MCE.
    SetUp();
    code({0x0F, 0x20, 0xE0, 0x0C, 0x40, 0x0F, 0x22, 0xE0, 0xF4});   // mov eax,cr4; or al,0x40; mov cr4,eax; hlt
    run();
    EXPECT_EQ(vector_taken(), -1);
    EXPECT_TRUE(c.cr4 & cr4::MCE);
}

// P6 performance counters: INST_RETIRED counts every retired instruction once PerfEvtSel0.EN is
// set (the WRMSR that sets it included), filtered by OS/USR; a written value reads back (Linux's
// check_hw_exists); a 32-bit write is sign-extended to the counter's 40 bits.
TEST_F(SystemInsns, PerformanceCountersCountRetiredInstructions) {
    auto program = [&](uint32_t evtsel) {
        std::vector<uint8_t> p = {0x66, 0xB9, 0x86, 0x01, 0x00, 0x00,                                // mov ecx,0x186
                                  0x66, 0xB8, uint8_t(evtsel), uint8_t(evtsel >> 8), uint8_t(evtsel >> 16), 0x00,   // mov eax,evtsel
                                  0x66, 0x31, 0xD2, 0x0F, 0x30};                                   // xor edx,edx; wrmsr
        p.insert(p.end(), 10, 0x90);                                                               // 10 x nop
        p.insert(p.end(), {0x66, 0xB9, 0xC1, 0x00, 0x00, 0x00, 0x0F, 0x32, 0xF4});                 // mov ecx,0xc1; rdmsr; hlt
        return p;
    };
    code(program(0x4300C0));   // EN | OS | USR | INST_RETIRED
    run();
    EXPECT_EQ(vector_taken(), -1);
    EXPECT_EQ(c.r[EAX], 12u) << "wrmsr + 10 nops + mov, at CPL 0";
    SetUp();
    code(program(0x4100C0));   // EN | USR only: this code runs at CPL 0
    run();
    EXPECT_EQ(c.r[EAX], 0u);
    SetUp();
    code(program(0x4300C8));   // an event lift86 does not count holds its value
    run();
    EXPECT_EQ(c.r[EAX], 0u);
    // Read back what was written (disabled counter), and the 40-bit sign extension.
    for (auto [written, read] : {std::pair<uint32_t, uint64_t>{0xFFFF, 0xFFFF}, {0xFFFFFFF0u, 0xFFFFFFFFF0ull}}) {
        SetUp();
        code(kWrRd16);
        c.halted = false;
        c.r[ECX] = 0xC2;
        c.r[EAX] = written;
        c.r[EDX] = 0;
        run();
        EXPECT_EQ(uint64_t(c.r[EDX]) << 32 | c.r[EAX], read);
    }
}

TEST_F(SystemInsns, UnknownMsrIsGeneralProtection) {
    // APIC_BASE (no APIC), MISC_ENABLE (Pentium 4+), PAT, a third performance counter, MC0_MISC
    // (not on the P6), past the last machine-check bank, and nonsense.
    for (uint32_t msr : {0x1Bu, 0x1A0u, 0x277u, 0xC3u, 0x403u, 0x414u, 0xC0000080u, 0x210u}) {
        SetUp();
        code(kRdmsr16);
        c.halted = false;
        c.r[ECX] = msr;
        c.r[EAX] = 0x1111;
        run();
        expect_real_fault(kGP, kCode);
        EXPECT_EQ(c.r[EAX], 0x1111u) << "a faulting RDMSR leaves EAX alone";
    }
}

TEST_F(SystemInsns, MsrWritesWithReservedBitsOrBadTypesFault) {
    struct Case { uint32_t msr; uint64_t v; };
    const Case cases[] = {
        {0xFE, 0x508},                        // MTRRcap is read-only
        {0x17, 0},                            // PLATFORM_ID is read-only
        {0x200, 0x2},                         // memory type 2 is reserved
        {0x200, 0x0000001000000006ull},       // base above 36 physical address bits
        {0x200, 0x0000000000000106ull},       // PhysBase bits 11:8 reserved
        {0x201, 0x0000000FF8000400ull},       // PhysMask bits 10:0 reserved
        {0x2FF, 0x1C06},                      // MTRRdefType bit 12 reserved
        {0x2FF, 0xC07},                       // type 7 is reserved
        {0x250, 0x0606060606060706ull},       // one fixed-range byte with type 7
    };
    for (const Case& k : cases) {
        SetUp();
        code(kWrmsr16);
        c.halted = false;
        c.r[ECX] = k.msr;
        c.r[EAX] = uint32_t(k.v);
        c.r[EDX] = uint32_t(k.v >> 32);
        run();
        expect_real_fault(kGP, kCode);
        EXPECT_EQ(c.mtrr_var[0], 0u);
        EXPECT_EQ(c.mtrr_var[1], 0u);
        EXPECT_EQ(c.mtrr_def_type, 0u);
        EXPECT_EQ(c.mtrr_fixed[0], 0u);
    }
}

// ------------------------------------------------------------------ TSC

// rdtsc; hlt
const std::vector<uint8_t> kRdtsc16 = {0x0F, 0x31, 0xF4};

TEST_F(SystemInsns, TscFollowsTheClockAndWrmsrSetsOnlyTheLow32Bits) {
    uint64_t now = 5000;
    c.time_ns = [&] { return now; };
    code(kRdtsc16);
    run();
    uint64_t t1 = uint64_t(c.r[EDX]) << 32 | c.r[EAX];
    now += 700;
    code(kRdtsc16);
    c.halted = false;
    run();
    uint64_t t2 = uint64_t(c.r[EDX]) << 32 | c.r[EAX];
    EXPECT_EQ(t2 - t1, 700u) << "one tick per guest nanosecond";

    // P6: WRMSR to the TSC writes the low 32 bits and clears the high ones (SDM vol.3 17.17).
    code(kWrmsr16);
    c.halted = false;
    c.r[ECX] = 0x10;
    c.r[EDX] = 0x12345678;
    c.r[EAX] = 0x00001000;
    run();
    now += 250;
    code(kRdtsc16);
    c.halted = false;
    run();
    EXPECT_EQ(c.r[EDX], 0u);
    EXPECT_EQ(c.r[EAX], 0x1000u + 250);
}

// ------------------------------------------------------------------ control registers

// mov cr0, eax; mov ebx, cr0; hlt
const std::vector<uint8_t> kMovCr0_16 = {0x0F, 0x22, 0xC0, 0x0F, 0x20, 0xC3, 0xF4};
// mov cr4, eax; mov ebx, cr4; hlt
const std::vector<uint8_t> kMovCr4_16 = {0x0F, 0x22, 0xE0, 0x0F, 0x20, 0xE3, 0xF4};

TEST_F(SystemInsns, MovCr0RejectsInvalidCombinations) {
    for (uint32_t v : {cr0::PG | cr0::ET,                      // PG without PE
                       cr0::PG | cr0::ET | cr0::NW,            // ...
                       cr0::NW | cr0::ET}) {                   // NW without CD
        SetUp();
        code(kMovCr0_16);
        c.halted = false;
        c.r[EAX] = v;
        uint32_t before = c.cr0;
        run();
        expect_real_fault(kGP, kCode);
        EXPECT_EQ(c.cr0, before);
    }
}

TEST_F(SystemInsns, MovCr0SetsModeAndHardwiresEt) {
    code(kMovCr0_16);
    c.r[EAX] = cr0::PE | cr0::CD | cr0::NW | 0x00000F00;   // no ET, reserved bits 8-11
    run();
    EXPECT_EQ(vector_taken(), -1);
    EXPECT_TRUE(c.pe) << "PE=1 enters protected mode";
    EXPECT_EQ(c.r[EBX], cr0::PE | cr0::CD | cr0::NW | cr0::ET) << "ET reads 1; reserved bits read 0";
}

TEST_F(SystemInsns, MovCr4AcceptsOnlyImplementedBits) {
    code(kMovCr4_16);
    c.r[EAX] = cr4::PSE | cr4::TSD | cr4::DE | cr4::MCE | cr4::PGE | cr4::PCE | cr4::OSFXSR;
    run();
    EXPECT_EQ(vector_taken(), -1);
    EXPECT_EQ(c.r[EBX], cr4::PSE | cr4::TSD | cr4::DE | cr4::MCE | cr4::PGE | cr4::PCE | cr4::OSFXSR);
    for (uint32_t bad : {cr4::VME, cr4::PVI, cr4::PAE, 1u << 10 /*OSXMMEXCPT*/, 1u << 11}) {
        SetUp();
        c.cr4 = 0;
        code(kMovCr4_16);
        c.halted = false;
        c.r[EAX] = bad;
        run();
        expect_real_fault(kGP, kCode);
        EXPECT_EQ(c.cr4, 0u);
    }
}

// mov ax, 0x000F; lmsw ax; mov ax, 0; lmsw ax; smsw ebx; smsw cx; hlt
const std::vector<uint8_t> kLmsw16 = {0xB8, 0x0F, 0x00, 0x0F, 0x01, 0xF0, 0xB8, 0x00, 0x00, 0x0F,
                                      0x01, 0xF0, 0x66, 0x0F, 0x01, 0xE3, 0x0F, 0x01, 0xE1, 0xF4};

TEST_F(SystemInsns, LmswSetsButNeverClearsPeAndSmswStoresCr0) {
    code(kLmsw16);
    c.r[ECX] = 0xFFFFFFFF;
    run();
    EXPECT_EQ(vector_taken(), -1);
    EXPECT_TRUE(c.cr0 & cr0::PE) << "LMSW cannot clear PE";
    EXPECT_TRUE(c.pe);
    EXPECT_EQ(c.cr0 & (cr0::MP | cr0::EM | cr0::TS), 0u) << "LMSW 0 clears MP, EM and TS";
    EXPECT_EQ(c.r[EBX], c.cr0) << "SMSW r32 stores all of CR0 (CD/NW included)";
    EXPECT_TRUE(c.r[EBX] & cr0::CD);
    EXPECT_EQ(c.r[ECX], 0xFFFF0000u | (c.cr0 & 0xFFFF)) << "SMSW r16 writes only the low word";
}

// ------------------------------------------------------------------ debug registers

// mov dr4, eax; mov ebx, dr6; mov ecx, dr5; hlt
const std::vector<uint8_t> kDr4_16 = {0x0F, 0x23, 0xE0, 0x0F, 0x21, 0xF3, 0x0F, 0x21, 0xE9, 0xF4};
// mov ecx, dr5; hlt
const std::vector<uint8_t> kDr5Read16 = {0x0F, 0x21, 0xE9, 0xF4};
// mov dr7, eax; mov ebx, dr0; hlt
const std::vector<uint8_t> kDrGd16 = {0x0F, 0x23, 0xF8, 0x0F, 0x21, 0xC3, 0xF4};

TEST_F(SystemInsns, Dr4Dr5AliasDr6Dr7WithoutCr4De) {
    code(kDr4_16);
    c.r[EAX] = 0;
    run();
    EXPECT_EQ(vector_taken(), -1);
    EXPECT_EQ(c.dr[6], 0xFFFF0FF0u) << "DR6 reserved bits read back fixed";
    EXPECT_EQ(c.r[EBX], 0xFFFF0FF0u);
    EXPECT_EQ(c.r[ECX], c.dr[7]) << "DR5 reads DR7";

    SetUp();
    c.cr4 = cr4::DE;
    code(kDr5Read16);
    c.halted = false;
    run();
    expect_real_fault(kUD, kCode);
}

TEST_F(SystemInsns, GeneralDetectFaultsOnTheNextDebugRegisterAccess) {
    code(kDrGd16);
    c.r[EAX] = 1u << 13;   // DR7.GD
    c.r[EBX] = 0x1234;
    run();
    expect_real_fault(kDB, kCode + 3);
    EXPECT_EQ(c.r[EBX], 0x1234u) << "the MOV from DR0 did not execute";
    EXPECT_TRUE(c.dr[6] & (1u << 13)) << "DR6.BD";
    EXPECT_FALSE(c.dr[7] & (1u << 13)) << "GD is cleared for the handler";
}

// ------------------------------------------------------------------ descriptor table registers

// lgdt [0x5000]; mov ebx, 0; hlt
const std::vector<uint8_t> kLgdt16 = {0x0F, 0x01, 0x16, 0x00, 0x50, 0x66, 0xBB, 0x00, 0x00, 0x00, 0x00, 0xF4};
// o32 lgdt [0x5000]; hlt
const std::vector<uint8_t> kLgdt32op = {0x66, 0x0F, 0x01, 0x16, 0x00, 0x50, 0xF4};
// lidt [0x5000]; hlt
const std::vector<uint8_t> kLidt16 = {0x0F, 0x01, 0x1E, 0x00, 0x50, 0xF4};
// sgdt [0x5010]; sidt [0x5020]; hlt
const std::vector<uint8_t> kSgdt16 = {0x0F, 0x01, 0x06, 0x10, 0x50, 0x0F, 0x01, 0x0E, 0x20, 0x50, 0xF4};

TEST_F(SystemInsns, LgdtLidtOperandSize) {
    mem.write16(kData, 0x1234);
    mem.write32(kData + 2, 0xAABBCCDD);
    code(kLgdt16);
    run();
    EXPECT_EQ(c.gdtr.limit, 0x1234u);
    EXPECT_EQ(c.gdtr.base, 0x00BBCCDDu) << "16-bit operand size loads a 24-bit base";

    code(kLgdt32op);
    c.halted = false;
    run();
    EXPECT_EQ(c.gdtr.base, 0xAABBCCDDu);

    code(kLidt16);
    c.halted = false;
    run();
    EXPECT_EQ(c.idtr.limit, 0x1234u);
    EXPECT_EQ(c.idtr.base, 0x00BBCCDDu);
}

TEST_F(SystemInsns, SgdtSidtStoreLimitAndFullBase) {
    c.gdtr = {0xAABBCCDD, 0x0123};
    c.idtr = {0x11223344, 0x03FF};
    code(kSgdt16);
    run();
    EXPECT_EQ(mem.read16(kData + 0x10), 0x0123u);
    EXPECT_EQ(mem.read32(kData + 0x12), 0xAABBCCDDu);
    EXPECT_EQ(mem.read16(kData + 0x20), 0x03FFu);
    EXPECT_EQ(mem.read32(kData + 0x22), 0x11223344u);
}

// ------------------------------------------------------------------ protected-mode-only instructions in real mode

TEST_F(SystemInsns, ProtectedModeOnlyInstructionsAreUndefinedInRealMode) {
    const std::vector<std::vector<uint8_t>> snippets = {
        {0x0F, 0x00, 0xD0, 0xF4},   // lldt ax
        {0x63, 0xD8, 0xF4},         // arpl ax, bx
        {0x0F, 0x02, 0xC3, 0xF4},   // lar ax, bx
        {0x0F, 0x03, 0xC3, 0xF4},   // lsl ax, bx
        {0x0F, 0x00, 0xE0, 0xF4},   // verr ax
        {0x0F, 0x00, 0xC8, 0xF4},   // str ax
        {0x0F, 0x00, 0xC0, 0xF4},   // sldt ax
        {0x0F, 0x00, 0xD8, 0xF4},   // ltr ax
    };
    for (const auto& s : snippets) {
        SetUp();
        code(s);
        c.halted = false;
        c.r[EAX] = 0x08;
        run();
        expect_real_fault(kUD, kCode);
    }
}

// sysenter; hlt
const std::vector<uint8_t> kSysenter16 = {0x0F, 0x34, 0xF4};

TEST_F(SystemInsns, SysenterInRealModeIsGeneralProtection) {
    c.sysenter_cs = 0x08;
    code(kSysenter16);
    run();
    expect_real_fault(kGP, kCode);
}

// ------------------------------------------------------------------ IN / OUT

struct RecordingPorts : PortDevice {
    struct Access { bool write; uint16_t port; uint32_t value; unsigned size; };
    std::vector<Access> log;
    uint32_t io_read(uint16_t port, unsigned size) override {
        log.push_back({false, port, 0, size});
        return 0xA5C30000u | port;
    }
    void io_write(uint16_t port, uint32_t value, unsigned size) override { log.push_back({true, port, value, size}); }
};

// mov al, 0x5A; out 0x80, al; mov dx, 0x1234; mov eax, 0xCAFEBABE; out dx, eax; in ax, dx; in al, 0x81; hlt
const std::vector<uint8_t> kInOut16 = {0xB0, 0x5A, 0xE6, 0x80, 0xBA, 0x34, 0x12, 0x66, 0xB8, 0xBE,
                                       0xBA, 0xFE, 0xCA, 0x66, 0xEF, 0xED, 0xE4, 0x81, 0xF4};

TEST_F(SystemInsns, InOutSizesAndPorts) {
    RecordingPorts dev;
    io.register_ports(0x80, 2, &dev);
    io.register_ports(0x1234, 4, &dev);
    code(kInOut16);
    run();
    ASSERT_EQ(dev.log.size(), 4u);
    EXPECT_TRUE(dev.log[0].write);
    EXPECT_EQ(dev.log[0].port, 0x80);
    EXPECT_EQ(dev.log[0].value, 0x5Au);
    EXPECT_EQ(dev.log[0].size, 1u);
    EXPECT_TRUE(dev.log[1].write);
    EXPECT_EQ(dev.log[1].port, 0x1234);
    EXPECT_EQ(dev.log[1].value, 0xCAFEBABEu);
    EXPECT_EQ(dev.log[1].size, 4u);
    EXPECT_FALSE(dev.log[2].write);
    EXPECT_EQ(dev.log[2].port, 0x1234);
    EXPECT_EQ(dev.log[2].size, 2u);
    EXPECT_FALSE(dev.log[3].write);
    EXPECT_EQ(dev.log[3].port, 0x81);
    EXPECT_EQ(dev.log[3].size, 1u);
    // IN AX wrote AX (0x1234) over EAX's low word, then IN AL replaced AL (0x81).
    EXPECT_EQ(c.r[EAX], 0xCAFE1281u);
}

TEST_F(SystemInsns, OutAtCpl3WithoutPermissionIsGeneralProtection) {
    protected_mode();
    RecordingPorts dev;
    io.register_ports(0x80, 1, &dev);
    // mov al, 1; out 0x80, al; hlt   (IOPL 0, TSS without an I/O bitmap)
    user_mode({0xB0, 0x01, 0xE6, 0x80, 0xF4});
    run();
    expect_pm_fault(kGP, 0, kUserCode + 2);
    EXPECT_TRUE(dev.log.empty());
}

// ------------------------------------------------------------------ LAR / LSL / VERR / VERW / ARPL

// lar eax, ebx; hlt
const std::vector<uint8_t> kLar32 = {0x0F, 0x02, 0xC3, 0xF4};
// lar ax, bx; hlt
const std::vector<uint8_t> kLar16op = {0x66, 0x0F, 0x02, 0xC3, 0xF4};
// lsl eax, ebx; hlt
const std::vector<uint8_t> kLsl32 = {0x0F, 0x03, 0xC3, 0xF4};
// lar eax, [0x5000]; hlt
const std::vector<uint8_t> kLarMem = {0x0F, 0x02, 0x05, 0x00, 0x50, 0x00, 0x00, 0xF4};

class SystemInsnsPm : public SystemInsns {
protected:
    void SetUp() override {
        SystemInsns::SetUp();
        protected_mode();
    }
    // Runs `bytes` at CPL 0 with EBX = selector and EAX = a marker; returns ZF.
    bool probe(const std::vector<uint8_t>& bytes, uint16_t sel, uint32_t marker = 0xDEADBEEF) {
        code(bytes);
        c.halted = false;
        c.r[EBX] = sel;
        c.r[EAX] = marker;
        c.set_flags_eager(fl::ZF, 0);
        c.run(1000);
        EXPECT_EQ(vector_taken(), -1);
        return zf();
    }
};

TEST_F(SystemInsnsPm, LarReturnsAccessRightsOfValidTypes) {
    EXPECT_TRUE(probe(kLar32, 0x08));
    EXPECT_EQ(c.r[EAX], 0x00C09B00u);
    EXPECT_TRUE(probe(kLar32, 0x68));
    EXPECT_EQ(c.r[EAX], 0x00509300u) << "G D/B AVL type/S/DPL/P; limit bits masked";
    EXPECT_TRUE(probe(kLar32, 0x28)) << "TSS";
    EXPECT_EQ(c.r[EAX], 0x00008900u);
    EXPECT_TRUE(probe(kLar32, 0x30)) << "LDT";
    EXPECT_TRUE(probe(kLar32, 0x58)) << "call gate";
    EXPECT_EQ(c.r[EAX], 0x0000EC00u);
    EXPECT_TRUE(probe(kLar32, 0x78)) << "16-bit TSS";
    EXPECT_TRUE(probe(kLar32, 0x3B)) << "conforming code ignores RPL > DPL";

    EXPECT_TRUE(probe(kLar16op, 0x08, 0x55550000));
    EXPECT_EQ(c.r[EAX], 0x55559B00u) << "16-bit operand size writes only AX";

    mem.write16(kData, 0x10);
    EXPECT_TRUE(probe(kLarMem, 0));
    EXPECT_EQ(c.r[EAX], 0x00C09300u) << "memory operand";
}

TEST_F(SystemInsnsPm, LarClearsZfForInvalidOrInaccessibleSelectors) {
    for (uint16_t sel : {0x00, 0x03, 0x50 /*interrupt gate*/, 0x80 /*beyond the GDT limit*/, 0x0B /*RPL 3 > DPL 0*/,
                         0x0C /*LDT selector, LDTR null*/}) {
        EXPECT_FALSE(probe(kLar32, sel)) << std::hex << sel;
        EXPECT_EQ(c.r[EAX], 0xDEADBEEFu) << "destination unchanged when ZF=0";
    }
}

TEST_F(SystemInsnsPm, LslReturnsTheByteGranularLimit) {
    EXPECT_TRUE(probe(kLsl32, 0x08));
    EXPECT_EQ(c.r[EAX], 0xFFFFFFFFu) << "page-granular limit scaled";
    EXPECT_TRUE(probe(kLsl32, 0x68));
    EXPECT_EQ(c.r[EAX], 0x12345u);
    EXPECT_TRUE(probe(kLsl32, 0x28));
    EXPECT_EQ(c.r[EAX], 0x67u);
    EXPECT_TRUE(probe(kLsl32, 0x30));
    EXPECT_EQ(c.r[EAX], 0x0Fu);
    EXPECT_FALSE(probe(kLsl32, 0x58)) << "gates have no limit";
    EXPECT_FALSE(probe(kLsl32, 0x50));
    EXPECT_FALSE(probe(kLsl32, 0x13)) << "RPL 3 > DPL 0";
}

TEST_F(SystemInsnsPm, LarLslAtCpl3SeeOnlyDpl3) {
    user_mode(kLar32);
    c.r[EBX] = 0x10;
    c.r[EAX] = 1;
    c.set_flags_eager(fl::ZF, fl::ZF);
    c.run(1);
    EXPECT_FALSE(zf()) << "DPL 0 data is not visible at CPL 3";
    EXPECT_EQ(c.r[EAX], 1u);

    user_mode(kLar32);
    c.r[EBX] = 0x23;
    c.run(1);
    EXPECT_TRUE(zf());
    EXPECT_EQ(c.r[EAX], 0x00C0F300u);
}

// verr bx; hlt
const std::vector<uint8_t> kVerr = {0x0F, 0x00, 0xE3, 0xF4};
// verw bx; hlt
const std::vector<uint8_t> kVerw = {0x0F, 0x00, 0xEB, 0xF4};

TEST_F(SystemInsnsPm, VerrVerw) {
    EXPECT_TRUE(probe(kVerr, 0x08)) << "readable code";
    EXPECT_FALSE(probe(kVerw, 0x08)) << "code is never writable";
    EXPECT_FALSE(probe(kVerr, 0x48)) << "execute-only code";
    EXPECT_TRUE(probe(kVerr, 0x40)) << "read-only data";
    EXPECT_FALSE(probe(kVerw, 0x40));
    EXPECT_TRUE(probe(kVerr, 0x10));
    EXPECT_TRUE(probe(kVerw, 0x10));
    EXPECT_FALSE(probe(kVerr, 0x13)) << "RPL 3 > DPL 0";
    EXPECT_FALSE(probe(kVerw, 0x13));
    EXPECT_TRUE(probe(kVerr, 0x3B)) << "conforming readable code ignores privilege";
    EXPECT_FALSE(probe(kVerr, 0x28)) << "system descriptor";
    EXPECT_FALSE(probe(kVerr, 0x00));
    EXPECT_FALSE(probe(kVerw, 0x80)) << "beyond the GDT limit";
    EXPECT_TRUE(probe(kVerr, 0x60)) << "presence is not checked";
}

// arpl bx, cx; hlt
const std::vector<uint8_t> kArpl = {0x63, 0xCB, 0xF4};

TEST_F(SystemInsnsPm, ArplRaisesRpl) {
    code(kArpl);
    c.r[EBX] = 0xFFFF0010;
    c.r[ECX] = 0x0003;
    run();
    EXPECT_TRUE(zf());
    EXPECT_EQ(c.r[EBX], 0xFFFF0013u);

    code(kArpl);
    c.halted = false;
    c.r[EBX] = 0x0013;
    c.r[ECX] = 0x0001;
    run();
    EXPECT_FALSE(zf());
    EXPECT_EQ(c.r[EBX], 0x0013u);
}

// ------------------------------------------------------------------ LTR / STR / LLDT / SLDT

// ltr ax; str ecx; hlt
const std::vector<uint8_t> kLtr = {0x0F, 0x00, 0xD8, 0x0F, 0x00, 0xC9, 0xF4};
// lldt ax; sldt ecx; sldt [0x5000]; hlt
const std::vector<uint8_t> kLldt = {0x0F, 0x00, 0xD0, 0x0F, 0x00, 0xC1, 0x0F, 0x00, 0x05, 0x00, 0x50, 0x00, 0x00, 0xF4};

TEST_F(SystemInsnsPm, LtrLoadsTrAndMarksTheTssBusy) {
    c.set_seg_cache(c.tr, 0, 0, 0, 0x8B);
    code(kLtr);
    c.r[EAX] = 0x28;
    c.r[ECX] = 0xFFFFFFFF;
    run();
    EXPECT_EQ(vector_taken(), -1);
    EXPECT_EQ(c.tr.sel, 0x28);
    EXPECT_EQ(c.tr.base, kTss);
    EXPECT_EQ(c.tr.limit, 0x67u);
    EXPECT_EQ((mem.read32(kGdt + 0x28 + 4) >> 8) & 0xF, 0xBu) << "descriptor marked busy";
    EXPECT_EQ(c.r[ECX], 0x28u) << "STR r32 zero-extends";
}

TEST_F(SystemInsnsPm, LtrRejectsBusyTssAndNonTss) {
    for (uint16_t sel : {0x70 /*busy*/, 0x10 /*data*/, 0x30 /*LDT*/, 0x2C /*TI=1*/}) {
        SetUp();
        code(kLtr);
        c.halted = false;
        c.r[EAX] = sel;
        run();
        expect_pm_fault(kGP, sel & 0xFFFC, kCode);
    }
    SetUp();
    code(kLtr);
    c.halted = false;
    c.r[EAX] = 0;
    run();
    expect_pm_fault(kGP, 0, kCode);
}

TEST_F(SystemInsnsPm, LldtLoadsTheLdtAndSldtStoresIt) {
    mem.write32(kLdt + 8, 0x0000FFFF);   // LDT entry 1: data, DPL 3, flat
    mem.write32(kLdt + 12, 0x00CFF300);
    code(kLldt);
    c.r[EAX] = 0x30;
    c.r[ECX] = 0xFFFFFFFF;
    run();
    EXPECT_EQ(vector_taken(), -1);
    EXPECT_EQ(c.ldtr.sel, 0x30);
    EXPECT_EQ(c.ldtr.base, kLdt);
    EXPECT_EQ(c.ldtr.limit, 0x0Fu);
    EXPECT_EQ(c.r[ECX], 0x30u);
    EXPECT_EQ(mem.read16(kData), 0x30u);
    EXPECT_TRUE(probe(kLar32, 0x0F)) << "LDT descriptors are now reachable";
    EXPECT_EQ(c.r[EAX], 0x00C0F300u);

    // A null selector invalidates LDTR without a fault.
    code(kLldt);
    c.halted = false;
    c.r[EAX] = 0;
    run();
    EXPECT_EQ(vector_taken(), -1);
    EXPECT_FALSE(probe(kLar32, 0x0F));
}

TEST_F(SystemInsnsPm, LldtRejectsNonLdtDescriptors) {
    for (uint16_t sel : {0x10, 0x28, 0x34 /*TI=1*/, 0x80 /*beyond the limit*/}) {
        SetUp();
        code(kLldt);
        c.halted = false;
        c.r[EAX] = sel;
        run();
        expect_pm_fault(kGP, sel & 0xFFFC, kCode);
    }
}

// ------------------------------------------------------------------ SYSENTER / SYSEXIT

// mov ecx, 0x174; xor edx, edx; mov eax, 0x08; wrmsr; mov ecx, 0x175; mov eax, 0x7800; wrmsr;
// mov ecx, 0x176; mov eax, 0x2100; wrmsr; mov ecx, 0x9000; mov edx, 0xA000; sysexit
const std::vector<uint8_t> kSysexitSetup = {
    0xB9, 0x74, 0x01, 0x00, 0x00, 0x31, 0xD2, 0xB8, 0x08, 0x00, 0x00, 0x00, 0x0F, 0x30, 0xB9, 0x75, 0x01,
    0x00, 0x00, 0xB8, 0x00, 0x78, 0x00, 0x00, 0x0F, 0x30, 0xB9, 0x76, 0x01, 0x00, 0x00, 0xB8, 0x00, 0x21,
    0x00, 0x00, 0x0F, 0x30, 0xB9, 0x00, 0x90, 0x00, 0x00, 0xBA, 0x00, 0xA0, 0x00, 0x00, 0x0F, 0x35};
// mov esi, cs; mov edi, ss; mov ebp, esp; sysenter
const std::vector<uint8_t> kUserSysenter = {0x8C, 0xCE, 0x8C, 0xD7, 0x89, 0xE5, 0x0F, 0x34};

TEST_F(SystemInsnsPm, SysexitToRing3AndSysenterBack) {
    code(kSysexitSetup);
    put(kUserCode, kUserSysenter);
    mem.write8(0x2100, 0xF4);   // the SYSENTER target: hlt
    c.eflags |= fl::IF;
    run();
    EXPECT_EQ(vector_taken(), -1);
    // In ring 3 (recorded by the user code).
    EXPECT_EQ(c.r[ESI], 0x1Bu) << "SYSEXIT: CS = SYSENTER_CS + 16, RPL 3";
    EXPECT_EQ(c.r[EDI], 0x23u) << "SYSEXIT: SS = SYSENTER_CS + 24, RPL 3";
    EXPECT_EQ(c.r[EBP], 0x9000u) << "SYSEXIT: ESP = ECX";
    // Back in ring 0.
    EXPECT_EQ(c.eip, 0x2101u) << "SYSENTER: EIP = SYSENTER_EIP";
    EXPECT_EQ(c.r[ESP], 0x7800u) << "SYSENTER: ESP = SYSENTER_ESP";
    EXPECT_EQ(c.seg[CS].sel, 0x08);
    EXPECT_EQ(c.seg[SS].sel, 0x10);
    EXPECT_EQ(c.cpl, 0);
    EXPECT_TRUE(c.code32);
    EXPECT_TRUE(c.stack32);
    EXPECT_EQ(c.seg[CS].base, 0u);
    EXPECT_EQ(c.seg[CS].limit, 0xFFFFFFFFu);
    EXPECT_FALSE(c.eflags & fl::IF) << "SYSENTER clears IF";
}

// sysenter; hlt
const std::vector<uint8_t> kSysenter = {0x0F, 0x34, 0xF4};
// sysexit; hlt
const std::vector<uint8_t> kSysexit = {0x0F, 0x35, 0xF4};

TEST_F(SystemInsnsPm, SysenterWithNullCsIsGeneralProtection) {
    c.sysenter_cs = 0x0003;   // bits 15:2 zero
    code(kSysenter);
    run();
    expect_pm_fault(kGP, 0, kCode);
    EXPECT_EQ(c.seg[CS].sel, 0x08);
}

TEST_F(SystemInsnsPm, SysexitAtCpl3IsGeneralProtection) {
    c.sysenter_cs = 0x08;
    user_mode(kSysexit);
    run();
    expect_pm_fault(kGP, 0, kUserCode);
    EXPECT_EQ(stack32(2), 0x1Bu) << "the fault came from ring 3";
}

// ------------------------------------------------------------------ privilege

TEST_F(SystemInsnsPm, PrivilegedInstructionsFaultAtCpl3) {
    const std::vector<std::vector<uint8_t>> snippets = {
        {0x0F, 0x20, 0xC0, 0xF4},                           // mov eax, cr0
        {0x0F, 0x22, 0xD8, 0xF4},                           // mov cr3, eax
        {0x0F, 0x32, 0xF4},                                 // rdmsr
        {0x0F, 0x30, 0xF4},                                 // wrmsr
        {0x0F, 0x01, 0x15, 0x00, 0x50, 0x00, 0x00, 0xF4},   // lgdt [0x5000]
        {0x0F, 0x01, 0x1D, 0x00, 0x50, 0x00, 0x00, 0xF4},   // lidt [0x5000]
        {0x0F, 0x01, 0x3D, 0x00, 0x50, 0x00, 0x00, 0xF4},   // invlpg [0x5000]
        {0x0F, 0x06, 0xF4},                                 // clts
        {0x0F, 0x01, 0xF0, 0xF4},                           // lmsw ax
        {0x0F, 0x21, 0xF8, 0xF4},                           // mov eax, dr7
        {0x0F, 0x09, 0xF4},                                 // wbinvd
        {0x0F, 0x08, 0xF4},                                 // invd
        {0x0F, 0x00, 0xD0, 0xF4},                           // lldt ax
        {0x0F, 0x00, 0xD8, 0xF4},                           // ltr ax
        {0x0F, 0x33, 0xF4},                                 // rdpmc (CR4.PCE clear)
    };
    for (const auto& s : snippets) {
        SetUp();
        c.r[ECX] = 0x10;
        c.r[EAX] = 0x28;
        user_mode(s);
        run();
        expect_pm_fault(kGP, 0, kUserCode);
    }
}

TEST_F(SystemInsnsPm, UnprivilegedSystemInstructionsWorkAtCpl3) {
    // sgdt [0x5000]; smsw eax; str ecx; hlt -> the HLT itself faults at CPL 3, after them.
    user_mode({0x0F, 0x01, 0x05, 0x00, 0x50, 0x00, 0x00, 0x0F, 0x01, 0xE0, 0x0F, 0x00, 0xC9, 0xF4});
    run();
    expect_pm_fault(kGP, 0, kUserCode + 13);
    EXPECT_EQ(mem.read16(kData), kGdtLimit);
    EXPECT_EQ(mem.read32(kData + 2), kGdt);
    EXPECT_EQ(c.r[EAX], c.cr0);
    EXPECT_EQ(c.r[ECX], 0x28u);
}

// rdtsc; hlt
const std::vector<uint8_t> kRdtsc = {0x0F, 0x31, 0xF4};
// rdpmc; hlt
const std::vector<uint8_t> kRdpmc = {0x0F, 0x33, 0xF4};

TEST_F(SystemInsnsPm, RdtscHonoursCr4Tsd) {
    user_mode(kRdtsc);
    c.r[EDX] = 0xFFFFFFFF;
    c.run(1);
    EXPECT_EQ(c.eip, kUserCode + 2) << "RDTSC is allowed at CPL 3 without TSD";
    EXPECT_NE(c.r[EDX], 0xFFFFFFFFu);

    SetUp();
    c.cr4 = cr4::TSD;
    user_mode(kRdtsc);
    run();
    expect_pm_fault(kGP, 0, kUserCode);

    SetUp();
    c.cr4 = cr4::TSD;
    code(kRdtsc);
    run();
    EXPECT_EQ(vector_taken(), -1) << "CPL 0 ignores TSD";
}

TEST_F(SystemInsnsPm, RdpmcCounterIndexAndPce) {
    c.cr4 = cr4::PCE;
    user_mode(kRdpmc);
    c.r[ECX] = 1;
    c.run(1);
    EXPECT_EQ(c.eip, kUserCode + 2) << "CR4.PCE allows RDPMC at CPL 3";

    SetUp();
    code(kRdpmc);
    c.r[ECX] = 2;   // the P6 has counters 0 and 1
    run();
    expect_pm_fault(kGP, 0, kCode);
}

// ------------------------------------------------------------------ paging: CR3 and INVLPG flush the TLB

class SystemInsnsPaging : public SystemInsnsPm {
protected:
    // Two page directories identity-mapping 0-4 MiB; linear 4 MiB maps to 0x20000 in the first
    // and to 0x21000 in the second.
    static constexpr uint32_t kDir1 = 0x10000, kTable0 = 0x11000, kTableA = 0x12000, kDir2 = 0x13000,
                              kTableB = 0x14000;
    void SetUp() override {
        SystemInsnsPm::SetUp();
        for (uint32_t k = 0; k < 1024; k++) mem.write32(kTable0 + 4 * k, (k << 12) | 7);
        mem.write32(kDir1, kTable0 | 7);
        mem.write32(kDir1 + 4, kTableA | 7);
        mem.write32(kTableA, 0x20000 | 7);
        mem.write32(kDir2, kTable0 | 7);
        mem.write32(kDir2 + 4, kTableB | 7);
        mem.write32(kTableB, 0x21000 | 7);
        mem.write32(0x20000, 0x11111111);
        mem.write32(0x21000, 0x22222222);
        c.set_cr3(kDir1);
        c.set_cr0(c.cr0 | cr0::PG);
        ASSERT_TRUE(c.paging);
    }
};

// mov eax, [0x400000]; mov cr3, ebx; mov ecx, [0x400000]; hlt
const std::vector<uint8_t> kCr3Switch = {0xA1, 0x00, 0x00, 0x40, 0x00, 0x0F, 0x22, 0xDB,
                                         0x8B, 0x0D, 0x00, 0x00, 0x40, 0x00, 0xF4};
// mov eax, [0x400000]; mov dword [0x12000], 0x21007; mov ecx, [0x400000]; invlpg [0x400000];
// mov edx, [0x400000]; hlt
const std::vector<uint8_t> kInvlpg = {0xA1, 0x00, 0x00, 0x40, 0x00, 0xC7, 0x05, 0x00, 0x20, 0x01, 0x00, 0x07,
                                      0x10, 0x02, 0x00, 0x8B, 0x0D, 0x00, 0x00, 0x40, 0x00, 0x0F, 0x01, 0x3D,
                                      0x00, 0x00, 0x40, 0x00, 0x8B, 0x15, 0x00, 0x00, 0x40, 0x00, 0xF4};

TEST_F(SystemInsnsPaging, MovCr3FlushesTheTlb) {
    code(kCr3Switch);
    c.r[EBX] = kDir2;
    run();
    EXPECT_EQ(vector_taken(), -1);
    EXPECT_EQ(c.r[EAX], 0x11111111u);
    EXPECT_EQ(c.r[ECX], 0x22222222u) << "the old translation survived MOV CR3";
    EXPECT_EQ(c.cr3, kDir2);
}

TEST_F(SystemInsnsPaging, InvlpgDropsTheStaleTranslation) {
    code(kInvlpg);
    run();
    EXPECT_EQ(vector_taken(), -1);
    EXPECT_EQ(c.r[EAX], 0x11111111u);
    EXPECT_EQ(c.r[EDX], 0x22222222u) << "INVLPG must drop the cached translation";
}

// mov eax, [0x400000]; mov dword [0x12000], 0x21107; mov ebx, cr4; and ebx, ~0x80; mov cr4, ebx;
// or ebx, 0x80; mov cr4, ebx; mov edx, [0x400000]; hlt
const std::vector<uint8_t> kPgeToggle = {0xA1, 0x00, 0x00, 0x40, 0x00, 0xC7, 0x05, 0x00, 0x20, 0x01, 0x00,
                                         0x07, 0x11, 0x02, 0x00, 0x0F, 0x20, 0xE3, 0x81, 0xE3, 0x7F, 0xFF,
                                         0xFF, 0xFF, 0x0F, 0x22, 0xE3, 0x81, 0xCB, 0x80, 0x00, 0x00, 0x00,
                                         0x0F, 0x22, 0xE3, 0x8B, 0x15, 0x00, 0x00, 0x40, 0x00, 0xF4};

TEST_F(SystemInsnsPaging, TogglingPgeFlushesGlobalTranslations) {
    c.set_cr4(cr4::PGE);
    mem.write32(kTableA, 0x20000 | 0x107);   // global page
    code(kPgeToggle);
    run();
    EXPECT_EQ(vector_taken(), -1);
    EXPECT_EQ(c.r[EAX], 0x11111111u);
    EXPECT_EQ(c.r[EDX], 0x22222222u) << "a CR4.PGE toggle must drop global translations";
    EXPECT_TRUE(c.cr4 & cr4::PGE);
}

TEST_F(SystemInsnsPaging, ClearingPeWhilePagingIsGeneralProtection) {
    // mov cr0, eax with PE=0, PG=1
    code({0x0F, 0x22, 0xC0, 0xF4});
    c.r[EAX] = (c.cr0 & ~cr0::PE) | cr0::PG;
    run();
    expect_pm_fault(kGP, 0, kCode);
    EXPECT_TRUE(c.paging);
}

}  // namespace
