// Protected-mode system semantics (SDM vol.3 chapters 3, 5, 6, 7, 20 and the vol.2 pages of
// MOV Sreg, JMP/CALL/RET far, INT n and IRET): segment loads, far transfers through gates,
// interrupt delivery with the double-fault rules, IRET in every form and task switches.
// Each test builds its descriptors in guest RAM, calls the helper directly and checks the
// resulting state or the exact exception with its error code.
#include <gtest/gtest.h>

#include <functional>

#include "frontend/cpu.hpp"

using namespace lift86;

namespace {

// ---- guest memory layout ----
constexpr uint32_t kGdt = 0x1000, kIdt = 0x2000, kTssA = 0x3000, kTssB = 0x6000, kLdt = 0x8000;
constexpr uint32_t kStack0 = 0x80000, kStack1 = 0x60000, kStack3 = 0x70000;
constexpr uint32_t kIoMap = 0x68;

// ---- GDT selectors ----
constexpr uint16_t kCode0 = 0x08, kData0 = 0x10, kCode3 = 0x1B, kData3 = 0x23, kTssASel = 0x28,
                   kTssBSel = 0x30, kLdtSel = 0x38, kCode16 = 0x40, kCode1 = 0x51, kData1 = 0x59;
constexpr unsigned kScratch = 12;   // GDT entries 12.. are free for each test
constexpr uint16_t kS0 = kScratch * 8, kS1 = kS0 + 8, kS2 = kS0 + 16;

// Descriptor types (S = 1 code/data, S = 0 system).
constexpr unsigned kRO = 0x0, kRW = 0x2, kRWDown = 0x6, kXO = 0x8, kXR = 0xA, kXRConf = 0xE;
constexpr unsigned kTss32 = 9, kTss32Busy = 11, kTss16 = 1, kCallGate32 = 12, kCallGate16 = 4,
                   kTaskGate = 5, kIntGate32 = 14, kTrapGate32 = 15, kIntGate16 = 6, kLdtType = 2;

struct Desc {
    uint32_t lo, hi;
};

// A code/data (s = true) or system descriptor; `limit` is the raw 20-bit field.
Desc seg(uint32_t base, uint32_t limit, unsigned type, unsigned dpl, bool s = true, bool big = true,
         bool gran = false, bool present = true) {
    Desc d;
    d.lo = (base << 16) | (limit & 0xFFFF);
    d.hi = ((base >> 16) & 0xFF) | (base & 0xFF000000u) | (limit & 0xF0000) | (type << 8) | (s ? 1u << 12 : 0) |
           (dpl << 13) | (present ? 1u << 15 : 0) | (big ? 1u << 22 : 0) | (gran ? 1u << 23 : 0);
    return d;
}
Desc flat(unsigned type, unsigned dpl) { return seg(0, 0xFFFFF, type, dpl, true, true, true); }
Desc gate(uint16_t sel, uint32_t off, unsigned type, unsigned dpl, unsigned params = 0, bool present = true) {
    Desc d;
    d.lo = (uint32_t(sel) << 16) | (off & 0xFFFF);
    d.hi = (off & 0xFFFF0000u) | (present ? 1u << 15 : 0) | (dpl << 13) | (type << 8) | params;
    return d;
}

template <class F> GuestFault fault_of(F&& f) {
    try {
        f();
    } catch (const GuestFault& g) {
        return g;
    }
    ADD_FAILURE() << "no exception was raised";
    return GuestFault{0xFF, -2};
}
#define EXPECT_FAULT(stmt, vec, code)                        \
    do {                                                     \
        GuestFault g_ = fault_of([&] { stmt; });             \
        EXPECT_EQ(int(g_.vector), int(vec)) << #stmt;        \
        EXPECT_EQ(g_.error_code, int32_t(code)) << #stmt;    \
    } while (0)

struct ProtMode : ::testing::Test {
    PhysMemory mem{8 << 20};
    PortBus io;
    Cpu cpu{mem, io};

    void SetUp() override {
        set_gdt(1, flat(kXR, 0));
        set_gdt(2, flat(kRW, 0));
        set_gdt(3, flat(kXR, 3));
        set_gdt(4, flat(kRW, 3));
        set_gdt(5, seg(kTssA, kIoMap + 0x2000, kTss32Busy, 0, false));   // the running task
        set_gdt(6, seg(kTssB, 0x67, kTss32, 0, false));
        set_gdt(7, seg(kLdt, 0xFF, kLdtType, 0, false));
        set_gdt(8, seg(0, 0xFFFF, kXR, 0, true, false));
        set_gdt(10, flat(kXR, 1));
        set_gdt(11, flat(kRW, 1));
        cpu.gdtr = {kGdt, 32 * 8 - 1};
        cpu.idtr = {kIdt, 256 * 8 - 1};
        // TSS A: ring 0 and ring 1 stacks, an all-clear I/O bitmap.
        mem.write32(kTssA + 4, kStack0);
        mem.write32(kTssA + 8, kData0);
        mem.write32(kTssA + 12, kStack1);
        mem.write32(kTssA + 16, kData1);
        mem.write16(kTssA + 0x66, kIoMap);
        cpu.cr0 |= cr0::PE;
        cpu.update_mode();
        load_raw(cpu.tr, kTssASel);
        enter_ring(0);
        cpu.eip = 0x1000;
    }

    void set_gdt(unsigned i, Desc d) {
        mem.write32(kGdt + i * 8, d.lo);
        mem.write32(kGdt + i * 8 + 4, d.hi);
    }
    void set_idt(unsigned v, Desc d) {
        mem.write32(kIdt + v * 8, d.lo);
        mem.write32(kIdt + v * 8 + 4, d.hi);
    }
    uint32_t gdt_hi(uint16_t sel) { return mem.read32(kGdt + (sel & ~7u) + 4); }
    // Loads a register straight from the GDT, bypassing every check (test set-up).
    void load_raw(Segment& sg, uint16_t sel) {
        uint32_t lo = mem.read32(kGdt + (sel & ~7u)), hi = mem.read32(kGdt + (sel & ~7u) + 4);
        uint32_t limit = (lo & 0xFFFF) | (hi & 0xF0000);
        if (hi & (1u << 23)) limit = (limit << 12) | 0xFFF;
        cpu.set_seg_cache(sg, sel, (lo >> 16) | ((hi & 0xFF) << 16) | (hi & 0xFF000000u), limit, (hi >> 8) & 0xF0FF);
    }
    void enter_ring(unsigned pl) {
        const uint16_t cs = pl == 0 ? kCode0 : pl == 1 ? kCode1 : kCode3;
        const uint16_t ds = pl == 0 ? kData0 : pl == 1 ? kData1 : kData3;
        load_raw(cpu.seg[CS], cs);
        for (unsigned s : {SS, DS, ES, FS, GS}) load_raw(cpu.seg[s], ds);
        cpu.r[ESP] = pl == 0 ? kStack0 : pl == 1 ? kStack1 : kStack3;
        cpu.update_mode();
        ASSERT_EQ(cpu.cpl, pl);
    }
    // Real-address mode with 64 KiB segments at 0.
    void enter_real() {
        cpu.cr0 &= ~cr0::PE;
        for (unsigned s = 0; s < kNumSegs; s++)
            cpu.set_seg_cache(cpu.seg[s], 0, 0, 0xFFFF, attr::P | attr::S | attr::RW | attr::ACCESSED);
        cpu.update_mode();
    }
    // Handler for `vector` in ring 0 at a distinct address (0x10000 + vector * 16).
    void handler(unsigned vector, unsigned type = kIntGate32, unsigned dpl = 0) {
        set_idt(vector, gate(kCode0, 0x10000 + vector * 16, type, dpl));
    }
    // Identity paging of the first 4 MiB, with the page just below the ring 0 stack top absent.
    void page_out_ring0_stack() {
        mem.write32(0x100000, 0x101000 | 7);
        for (uint32_t p = 0; p < 1024; p++) mem.write32(0x101000 + p * 4, (p << 12) | 7);
        mem.write32(0x101000 + ((kStack0 - 4) >> 12) * 4, 0);
        cpu.set_cr3(0x100000);
        cpu.set_cr0(cpu.cr0 | cr0::PG);
    }
    uint32_t at_sp(unsigned i) { return mem.read32(cpu.seg[SS].base + cpu.sp() + 4 * i); }
    uint16_t at_sp16(unsigned i) { return mem.read16(cpu.seg[SS].base + cpu.sp() + 2 * i); }

    struct Snapshot {
        uint32_t eip, esp, eflags;
        uint16_t cs, ss, ds;
        uint8_t cpl;
        bool operator==(const Snapshot&) const = default;
    };
    Snapshot snap() {
        return {cpu.eip, cpu.r[ESP], cpu.get_eflags(), cpu.seg[CS].sel, cpu.seg[SS].sel, cpu.seg[DS].sel, cpu.cpl};
    }
};

// ======================================================================= segment loads

TEST_F(ProtMode, MovDsLoadsTheDescriptorAndSetsItsAccessedBit) {
    set_gdt(kScratch, seg(0x123000, 0xFFF, kRW, 0));
    cpu.load_seg(DS, kS0);
    EXPECT_EQ(cpu.seg[DS].base, 0x123000u);
    EXPECT_EQ(cpu.seg[DS].limit, 0xFFFu);
    EXPECT_EQ(cpu.seg[DS].hi, 0xFFFu);
    EXPECT_TRUE(gdt_hi(kS0) & (1u << 8));   // accessed, in memory (SDM vol.3 3.4.5.1)
    EXPECT_TRUE(cpu.seg[DS].attr & attr::ACCESSED);
    EXPECT_FAULT(cpu.read<uint8_t>(DS, 0x1000), kGP, 0);
}

TEST_F(ProtMode, NullSelectorIsAllowedInDsButFaultsOnUse) {
    cpu.load_seg(DS, 3);
    EXPECT_EQ(cpu.seg[DS].sel, 3);
    EXPECT_FAULT(cpu.read<uint8_t>(DS, 0), kGP, 0);
    EXPECT_FAULT(cpu.write<uint8_t>(DS, 0, 1), kGP, 0);
}

TEST_F(ProtMode, NullSelectorInSsIsGp0) { EXPECT_FAULT(cpu.load_seg(SS, 0), kGP, 0); }

TEST_F(ProtMode, SelectorBeyondGdtLimitIsGpSelector) {
    EXPECT_FAULT(cpu.load_seg(DS, 0x103), kGP, 0x100);
    EXPECT_FAULT(cpu.load_seg(SS, 0x100), kGP, 0x100);
}

TEST_F(ProtMode, SsNeedsRplAndDplEqualToCplAndAWritableDataSegment) {
    EXPECT_FAULT(cpu.load_seg(SS, kData0 | 3), kGP, kData0);   // RPL 3 != CPL 0
    EXPECT_FAULT(cpu.load_seg(SS, kData3 & ~3), kGP, kData3 & ~3);   // DPL 3 != CPL 0
    set_gdt(kScratch, flat(kRO, 0));
    EXPECT_FAULT(cpu.load_seg(SS, kS0), kGP, kS0);   // read-only
    EXPECT_FAULT(cpu.load_seg(SS, kCode0), kGP, kCode0);
    cpu.load_seg(SS, kData0);
    EXPECT_EQ(cpu.seg[SS].sel, kData0);
    EXPECT_TRUE(cpu.stack32);
}

TEST_F(ProtMode, NotPresentIsSsForSsAndNpForDataRegisters) {
    set_gdt(kScratch, seg(0, 0xFFFFF, kRW, 0, true, true, true, false));
    EXPECT_FAULT(cpu.load_seg(SS, kS0), kSS, kS0);
    EXPECT_FAULT(cpu.load_seg(ES, kS0), kNP, kS0);
}

TEST_F(ProtMode, DataRegistersNeedDataOrReadableCodeAtSufficientPrivilege) {
    set_gdt(kScratch, flat(kXO, 0));       // execute-only
    set_gdt(kScratch + 1, flat(kXRConf, 0));   // conforming, readable
    EXPECT_FAULT(cpu.load_seg(DS, kS0), kGP, kS0);
    EXPECT_FAULT(cpu.load_seg(DS, kTssASel), kGP, kTssASel);   // system descriptor
    EXPECT_FAULT(cpu.load_seg(DS, kData1 | 3), kGP, kData1 & ~3);   // RPL 3 > DPL 1
    cpu.load_seg(DS, kCode0);   // readable code: readable, never writable
    EXPECT_EQ(cpu.read<uint8_t>(DS, 0x10), 0);
    EXPECT_FAULT(cpu.write<uint8_t>(DS, 0x10, 1), kGP, 0);
    enter_ring(3);
    EXPECT_FAULT(cpu.load_seg(DS, kData0), kGP, kData0);   // CPL 3 > DPL 0, with RPL 0
    cpu.load_seg(DS, kS1 | 3);   // a conforming code segment ignores the privilege rule
    EXPECT_EQ(cpu.seg[DS].sel, kS1 | 3);
}

TEST_F(ProtMode, MovCsIsUndefined) { EXPECT_FAULT(cpu.load_seg(CS, kCode0), kUD, -1); }

TEST_F(ProtMode, ExpandDownSegmentsCoverLimitPlusOneToTheBBound) {
    set_gdt(kScratch, seg(0x100000, 0x0FFF, kRWDown, 0, true, false));   // B = 0: up to 0xFFFF
    cpu.load_seg(DS, kS0);
    EXPECT_EQ(cpu.seg[DS].lo, 0x1000u);
    EXPECT_EQ(cpu.seg[DS].hi, 0xFFFFu);
    EXPECT_FAULT(cpu.read<uint8_t>(DS, 0x0FFF), kGP, 0);
    EXPECT_FAULT(cpu.read<uint16_t>(DS, 0xFFFF), kGP, 0);
    cpu.write<uint8_t>(DS, 0x1000, 0xAB);
    EXPECT_EQ(mem.read8(0x101000), 0xAB);
    set_gdt(kScratch, seg(0x100000, 0x0FFF, kRWDown, 0, true, true));   // B = 1: up to 4 GiB - 1
    cpu.load_seg(DS, kS0);
    EXPECT_EQ(cpu.seg[DS].hi, 0xFFFFFFFFu);
    // An expand-down stack segment faults with #SS(0).
    cpu.load_seg(SS, kS0);
    EXPECT_FAULT(cpu.read<uint32_t>(SS, 0x0FFE), kSS, 0);
}

TEST_F(ProtMode, PageGranularLimitAndExecuteOnlyCode) {
    set_gdt(kScratch, seg(0, 0x1, kRW, 0, true, true, true));   // limit 1 page-unit = 0x1FFF
    cpu.load_seg(DS, kS0);
    EXPECT_EQ(cpu.seg[DS].limit, 0x1FFFu);
    EXPECT_FAULT(cpu.read<uint8_t>(DS, 0x2000), kGP, 0);
    set_gdt(kScratch + 1, flat(kXO, 0));
    load_raw(cpu.seg[CS], kS1);
    EXPECT_FAULT(cpu.read<uint8_t>(CS, 0), kGP, 0);   // execute-only code is not readable
}

// Cpu::check_seg folds the range and permission checks into one compare (Segment::rspan):
// it must agree with the rule of SDM vol.3 5.3 at every boundary, for every kind of segment.
TEST_F(ProtMode, SegmentCheckAgreesWithTheLimitRuleAtEveryBoundary) {
    struct Kind { uint32_t limit, attr; bool null; };
    const uint32_t data = attr::P | attr::S, code = data | attr::CODE;
    const Kind kinds[] = {
        {0xFFFFFFFFu, data | attr::RW | attr::DB, false},   // flat
        {0x0FFF, data | attr::RW, false},                   // small
        {0, data | attr::RW, false},                        // one byte
        {0x0FFF, data, false},                              // read-only
        {0x0FFF, data | attr::RW | attr::DC, false},        // expand-down, B = 0
        {0x0FFF, data | attr::RW | attr::DC | attr::DB, false},
        {0xFFFF, data | attr::RW | attr::DC, false},        // expand-down, empty
        {0xFFFFFFFEu, data | attr::RW | attr::DC | attr::DB, false},   // expand-down, one byte
        {0x0FFF, code | attr::RW, false},                   // readable code
        {0x0FFF, code, false},                              // execute-only
        {0xFFFF, data | attr::RW, true},                    // null selector
    };
    for (const Kind& k : kinds) {
        Segment sg;
        sg.null = k.null;
        cpu.set_seg_cache(sg, 0x10, 0, k.limit, k.attr);
        cpu.seg[DS] = sg;
        for (uint32_t edge : {0u, sg.lo, sg.hi, k.limit, k.limit + 1, 0xFFFFu, 0xFFFFFFFFu})
            for (uint32_t off = edge - 4; off != edge + 4; off++)
                for (unsigned size : {1u, 2u, 4u})
                    for (bool write : {false, true}) {
                        const bool ok = off >= sg.lo && uint64_t(off) + size - 1 <= sg.hi &&
                                        (write ? sg.writable : sg.readable);
                        bool raised = false;
                        try {
                            cpu.check_seg(DS, off, size, write);
                        } catch (const GuestFault&) {
                            raised = true;
                        }
                        EXPECT_EQ(raised, !ok) << "limit " << k.limit << " attr " << k.attr << " off " << off
                                               << " size " << size << " write " << write;
                    }
    }
}

// The TLB hit test is one compare of the entry's tag with the page of the access's last byte:
// an access crossing into a page mapped elsewhere must still read and write the right bytes.
TEST_F(ProtMode, AccessesCrossingIntoADifferentlyMappedPageUseBothPages) {
    page_out_ring0_stack();   // identity paging of the first 4 MiB
    mem.write32(0x101000 + 0x201 * 4, 0x300000 | 7);   // linear 0x201000 -> physical 0x300000
    mem.write32(0x200FFC, 0x44332211);
    mem.write32(0x300000, 0x88776655);
    EXPECT_EQ(cpu.read<uint32_t>(DS, 0x200FFC), 0x44332211u);   // both pages in the TLB now
    EXPECT_EQ(cpu.read<uint32_t>(DS, 0x201000), 0x88776655u);
    EXPECT_EQ(cpu.read<uint32_t>(DS, 0x200FFE), 0x66554433u);
    EXPECT_EQ(cpu.read<uint16_t>(DS, 0x200FFF), 0x5544u);
    cpu.write<uint32_t>(DS, 0x200FFD, 0xDDCCBBAA);
    EXPECT_EQ(mem.read32(0x200FFC), 0xCCBBAA11u);
    EXPECT_EQ(mem.read8(0x300000), 0xDDu);
    EXPECT_EQ(mem.read8(0x201000), 0u);   // the identity-mapped page behind it is untouched
}

TEST_F(ProtMode, RealModeLoadKeepsTheCachedLimit) {   // "unreal mode"
    cpu.load_seg(DS, kData0);   // 4 GiB limit from protected mode
    cpu.cr0 &= ~cr0::PE;
    cpu.update_mode();
    cpu.load_seg(DS, 0x1234);
    EXPECT_EQ(cpu.seg[DS].base, 0x12340u);
    EXPECT_EQ(cpu.seg[DS].limit, 0xFFFFFFFFu);
    mem.write8(0x12340 + 0x200000, 0x5A);
    EXPECT_EQ(cpu.read<uint8_t>(DS, 0x200000), 0x5A);
}

TEST_F(ProtMode, V86LoadGives64KiBPrivilege3Segments) {
    cpu.set_eflags(cpu.get_eflags() | fl::VM);
    cpu.update_mode();
    cpu.load_seg(DS, 0x1234);
    EXPECT_EQ(cpu.seg[DS].base, 0x12340u);
    EXPECT_EQ(cpu.seg[DS].limit, 0xFFFFu);
    EXPECT_EQ(attr::dpl(cpu.seg[DS].attr), 3u);
    EXPECT_FAULT(cpu.read<uint8_t>(DS, 0x10000), kGP, 0);
}

TEST_F(ProtMode, LdtSelectorsReadTheLdt) {
    mem.write32(kLdt, seg(0x444000, 0xFFFF, kRW, 0).lo);
    mem.write32(kLdt + 4, seg(0x444000, 0xFFFF, kRW, 0).hi);
    // No LDT loaded yet (LDTR holds the null selector), even though its reset cache (base 0)
    // would find a valid descriptor at linear 0.
    mem.write32(0, seg(0x555000, 0xFFFF, kRW, 0).lo);
    mem.write32(4, seg(0x555000, 0xFFFF, kRW, 0).hi);
    EXPECT_FAULT(cpu.load_seg(DS, 0x04), kGP, 0x04);
    load_raw(cpu.ldtr, kLdtSel);
    cpu.load_seg(DS, 0x04);
    EXPECT_EQ(cpu.seg[DS].base, 0x444000u);
    EXPECT_FAULT(cpu.load_seg(DS, 0x104), kGP, 0x104);   // beyond the LDT limit
}

TEST_F(ProtMode, IoPermissionBitmap) {
    mem.write8(kTssA + kIoMap + 0x3F8 / 8, 0x02);   // port 0x3F9 denied
    cpu.check_io(0x3F9, 1);   // CPL 0 <= IOPL 0: no bitmap check
    enter_ring(3);
    cpu.check_io(0x3F8, 1);
    EXPECT_FAULT(cpu.check_io(0x3F9, 1), kGP, 0);
    EXPECT_FAULT(cpu.check_io(0x3F8, 2), kGP, 0);   // the second port is denied
    EXPECT_FAULT(cpu.check_io(0x3F6, 4), kGP, 0);
    cpu.eflags |= fl::IOPL;
    cpu.check_io(0x3F9, 1);   // CPL 3 <= IOPL 3
    cpu.set_eflags(cpu.get_eflags() | fl::VM);   // V86 mode always consults the bitmap
    EXPECT_FAULT(cpu.check_io(0x3F9, 1), kGP, 0);
    cpu.set_eflags(cpu.get_eflags() & ~(fl::VM | fl::IOPL));
    cpu.tr.limit = kIoMap + 0x10;   // the bitmap ends before port 0x3F8's byte
    EXPECT_FAULT(cpu.check_io(0x3F8, 1), kGP, 0);
    cpu.check_io(0x10, 1);
}

// ======================================================================= JMP / CALL / RET far

TEST_F(ProtMode, JmpFarToNonConformingCodeAtCpl) {
    set_gdt(kScratch, seg(0x100000, 0xFFFF, kXR, 0));
    cpu.far_jump(kS0, 0x11234, 2);   // a 16-bit operand truncates the offset
    EXPECT_EQ(cpu.seg[CS].sel, kS0);
    EXPECT_EQ(cpu.seg[CS].base, 0x100000u);
    EXPECT_EQ(cpu.eip, 0x1234u);
    EXPECT_TRUE(gdt_hi(kS0) & (1u << 8));
}

TEST_F(ProtMode, JmpFarBeyondTheLimitIsGp0AndChangesNothing) {
    set_gdt(kScratch, seg(0x100000, 0xFFFF, kXR, 0));
    Snapshot before = snap();
    EXPECT_FAULT(cpu.far_jump(kS0, 0x10000, 4), kGP, 0);
    EXPECT_TRUE(snap() == before);
}

TEST_F(ProtMode, JmpFarPrivilegeRules) {
    EXPECT_FAULT(cpu.far_jump(0, 0, 4), kGP, 0);
    EXPECT_FAULT(cpu.far_jump(kData0, 0, 4), kGP, kData0);
    EXPECT_FAULT(cpu.far_jump(kCode0 | 3, 0, 4), kGP, kCode0);   // RPL 3 > CPL 0
    EXPECT_FAULT(cpu.far_jump(kCode3, 0, 4), kGP, kCode3 & ~3);  // DPL 3 != CPL 0
    set_gdt(kScratch, flat(kXRConf, 3));
    EXPECT_FAULT(cpu.far_jump(kS0, 0, 4), kGP, kS0);             // conforming DPL 3 > CPL 0
    set_gdt(kScratch + 1, seg(0, 0xFFFFF, kXR, 0, true, true, true, false));
    EXPECT_FAULT(cpu.far_jump(kS1, 0, 4), kNP, kS1);
}

TEST_F(ProtMode, JmpFarToConformingCodeKeepsCpl) {
    set_gdt(kScratch, flat(kXRConf, 0));
    enter_ring(3);
    cpu.far_jump(kS0, 0x40, 4);
    EXPECT_EQ(cpu.cpl, 3);
    EXPECT_EQ(cpu.seg[CS].sel, kS0 | 3);   // CS.RPL <- CPL
    EXPECT_EQ(cpu.eip, 0x40u);
}

TEST_F(ProtMode, CallFarSameLevelPushesCsAndEip) {
    set_gdt(kScratch, seg(0x100000, 0xFFFF, kXR, 0));
    cpu.eip = 0x5555;
    cpu.far_call(kS0, 0x100, 4);
    EXPECT_EQ(cpu.r[ESP], kStack0 - 8);
    EXPECT_EQ(at_sp(0), 0x5555u);
    EXPECT_EQ(at_sp(1), kCode0);
    EXPECT_EQ(cpu.seg[CS].sel, kS0);
    EXPECT_EQ(cpu.eip, 0x100u);
    cpu.far_call(kCode0, 0x200, 2);   // 16-bit: two words
    EXPECT_EQ(cpu.r[ESP], kStack0 - 12);
    EXPECT_EQ(at_sp16(0), 0x100);
    EXPECT_EQ(at_sp16(1), kS0);
}

TEST_F(ProtMode, CallFarWithoutStackRoomIsSs0AndChangesNothing) {
    set_gdt(kScratch, seg(0, 0x0FFF, kRWDown, 0));   // valid offsets 0x1000..0xFFFF
    cpu.load_seg(SS, kScratch * 8);
    cpu.r[ESP] = 0x1004;   // room for one dword only
    Snapshot before = snap();
    EXPECT_FAULT(cpu.far_call(kCode0, 0, 4), kSS, 0);
    // The room check comes before the target limit check (SDM vol.2 CALL).
    EXPECT_FAULT(cpu.far_call(kCode16, 0x10000, 4), kSS, 0);
    EXPECT_TRUE(snap() == before);
}

TEST_F(ProtMode, CallGateToRing0SwitchesStacksAndCopiesParameters) {
    set_gdt(kScratch, gate(kCode0, 0x2000, kCallGate32, 3, 2));
    enter_ring(3);
    mem.write32(kStack3, 0x11111111);       // parameter 0 at ESP
    mem.write32(kStack3 + 4, 0x22222222);   // parameter 1
    cpu.eip = 0x4444;
    cpu.far_call(kS0 | 3, 0xDEAD, 4);   // the offset operand is ignored
    EXPECT_EQ(cpu.cpl, 0);
    EXPECT_EQ(cpu.seg[CS].sel, kCode0);
    EXPECT_EQ(cpu.eip, 0x2000u);
    EXPECT_EQ(cpu.seg[SS].sel, kData0);
    ASSERT_EQ(cpu.r[ESP], kStack0 - 24);
    EXPECT_EQ(at_sp(0), 0x4444u);
    EXPECT_EQ(at_sp(1), kCode3);
    EXPECT_EQ(at_sp(2), 0x11111111u);
    EXPECT_EQ(at_sp(3), 0x22222222u);
    EXPECT_EQ(at_sp(4), kStack3);
    EXPECT_EQ(at_sp(5), kData3);
}

TEST_F(ProtMode, SixteenBitCallGatePushesWords) {
    set_gdt(kScratch, gate(kCode0, 0x12345, kCallGate16, 3, 1));
    enter_ring(3);
    mem.write16(kStack3, 0xBEEF);
    cpu.eip = 0x4444;
    cpu.far_call(kS0 | 3, 0, 4);
    EXPECT_EQ(cpu.eip, 0x2345u);   // a 16-bit gate has a 16-bit offset
    ASSERT_EQ(cpu.r[ESP], kStack0 - 10);
    EXPECT_EQ(at_sp16(0), 0x4444);
    EXPECT_EQ(at_sp16(1), kCode3);
    EXPECT_EQ(at_sp16(2), 0xBEEF);
    EXPECT_EQ(at_sp16(3), kStack3 & 0xFFFF);
    EXPECT_EQ(at_sp16(4), kData3);
}

TEST_F(ProtMode, CallGatePrivilegeChecks) {
    set_gdt(kScratch, gate(kCode0, 0, kCallGate32, 0));
    set_gdt(kScratch + 1, gate(kCode0, 0, kCallGate32, 2));
    set_gdt(kScratch + 2, gate(kCode3, 0, kCallGate32, 3));
    enter_ring(3);
    EXPECT_FAULT(cpu.far_call(kS0 | 3, 0, 4), kGP, kS0);   // gate DPL 0 < CPL 3
    enter_ring(0);
    EXPECT_FAULT(cpu.far_call(kS1 | 3, 0, 4), kGP, kS1);   // RPL 3 > gate DPL 2
    EXPECT_FAULT(cpu.far_call(kS2, 0, 4), kGP, kCode3 & ~3);   // target DPL 3 > CPL 0
    set_gdt(kScratch, gate(kCode0, 0, kCallGate32, 3, 0, false));
    EXPECT_FAULT(cpu.far_call(kS0, 0, 4), kNP, kS0);
}

TEST_F(ProtMode, CallGateInnerStackChecks) {
    set_gdt(kScratch, gate(kCode0, 0x2000, kCallGate32, 3));
    enter_ring(3);
    Snapshot before = snap();
    mem.write16(kTssA + 8, kData3);   // SS0 with RPL 3 != DPL of the code (0)
    EXPECT_FAULT(cpu.far_call(kS0 | 3, 0, 4), kTS, kData3 & ~3);
    mem.write16(kTssA + 8, 0);
    EXPECT_FAULT(cpu.far_call(kS0 | 3, 0, 4), kTS, 0);
    set_gdt(kScratch + 1, seg(0, 0xFFFFF, kRW, 0, true, true, true, false));
    mem.write16(kTssA + 8, kS1);
    EXPECT_FAULT(cpu.far_call(kS0 | 3, 0, 4), kSS, kS1);
    mem.write16(kTssA + 8, kData0);
    cpu.tr.limit = 8;   // too short to hold SS0
    EXPECT_FAULT(cpu.far_call(kS0 | 3, 0, 4), kTS, kTssASel);
    EXPECT_TRUE(snap() == before);
}

TEST_F(ProtMode, CallGateWithoutRoomOnTheInnerStackIsSsNewSs) {
    set_gdt(kScratch, gate(kCode0, 0x2000, kCallGate32, 3, 2));
    set_gdt(kScratch + 1, seg(0, 0xFFF, kRW, 0));
    mem.write16(kTssA + 8, kS1);
    mem.write32(kTssA + 4, 20);   // 16 bytes fit, 24 do not
    enter_ring(3);
    Snapshot before = snap();
    EXPECT_FAULT(cpu.far_call(kS0 | 3, 0, 4), kSS, kS1);
    EXPECT_TRUE(snap() == before);
}

TEST_F(ProtMode, JmpThroughCallGateNeverRaisesPrivilege) {
    set_gdt(kScratch, gate(kCode0, 0x2000, kCallGate32, 3));
    set_gdt(kScratch + 1, gate(kCode3, 0x3000, kCallGate32, 3));
    enter_ring(3);
    EXPECT_FAULT(cpu.far_jump(kS0 | 3, 0, 4), kGP, kCode0);
    cpu.far_jump(kS1 | 3, 0, 4);
    EXPECT_EQ(cpu.eip, 0x3000u);
    EXPECT_EQ(cpu.r[ESP], kStack3);   // nothing pushed
}

TEST_F(ProtMode, RetfSameLevelReleasesParameters) {
    set_gdt(kScratch, seg(0x100000, 0xFFFF, kXR, 0));
    cpu.r[ESP] -= 16;
    mem.write32(cpu.r[ESP], 0x1234);
    mem.write32(cpu.r[ESP] + 4, 0xFFFF0000u | kS0);   // high half of a 32-bit CS pop is dropped
    cpu.far_return(4, 8);
    EXPECT_EQ(cpu.eip, 0x1234u);
    EXPECT_EQ(cpu.seg[CS].sel, kS0);
    EXPECT_EQ(cpu.r[ESP], kStack0 + 0);
}

TEST_F(ProtMode, RetfToOuterLevelRestoresStackAndNullsPrivilegedDataSegments) {
    set_gdt(kScratch, flat(kXRConf, 0));
    uint32_t sp = kStack0 - 24;
    cpu.r[ESP] = sp;
    mem.write32(sp, 0x4000);       // EIP
    mem.write32(sp + 4, kCode3);   // CS
    mem.write32(sp + 16, kStack3 - 8);   // ESP, above 8 bytes of parameters
    mem.write32(sp + 20, kData3);
    cpu.load_seg(DS, kData0);   // ring 0 data: nulled
    cpu.load_seg(ES, kData3 & ~3);   // ring 3 data: kept
    cpu.load_seg(FS, kS0);      // conforming code: kept
    cpu.far_return(4, 8);
    EXPECT_EQ(cpu.cpl, 3);
    EXPECT_EQ(cpu.seg[CS].sel, kCode3);
    EXPECT_EQ(cpu.eip, 0x4000u);
    EXPECT_EQ(cpu.seg[SS].sel, kData3);
    EXPECT_EQ(cpu.r[ESP], kStack3);   // the caller's parameters are released too
    EXPECT_EQ(cpu.seg[DS].sel, 0);
    EXPECT_FAULT(cpu.read<uint8_t>(DS, 0), kGP, 0);
    EXPECT_EQ(cpu.seg[ES].sel, kData3 & ~3);
    EXPECT_EQ(cpu.seg[FS].sel, kS0);
}

TEST_F(ProtMode, RetfChecksTheReturnSelectors) {
    enter_ring(3);
    cpu.r[ESP] -= 16;
    mem.write32(cpu.r[ESP], 0x10);
    mem.write32(cpu.r[ESP] + 4, kCode0);   // RPL 0 < CPL 3
    EXPECT_FAULT(cpu.far_return(4, 0), kGP, kCode0);
    enter_ring(0);
    cpu.r[ESP] -= 16;
    mem.write32(cpu.r[ESP], 0x10);
    mem.write32(cpu.r[ESP] + 4, kCode3);
    mem.write32(cpu.r[ESP] + 8, kStack3);
    mem.write32(cpu.r[ESP] + 12, kData1);   // SS RPL 1 != CS RPL 3
    Snapshot before = snap();
    EXPECT_FAULT(cpu.far_return(4, 0), kGP, kData1 & ~3);
    EXPECT_TRUE(snap() == before);
}

TEST_F(ProtMode, RealModeFarCallReturnAndJump) {
    enter_real();
    for (unsigned s : {CS, SS, DS}) cpu.load_seg_real(s, 0x1000);
    cpu.r[ESP] = 0xFFFE;
    cpu.eip = 0x0123;
    cpu.far_call(0x2000, 0x0010, 2);
    EXPECT_EQ(cpu.seg[CS].base, 0x20000u);
    EXPECT_EQ(cpu.eip, 0x10u);
    EXPECT_EQ(cpu.r[ESP], 0xFFFAu);
    EXPECT_EQ(mem.read16(0x10000 + 0xFFFA), 0x0123);
    EXPECT_EQ(mem.read16(0x10000 + 0xFFFC), 0x1000);
    cpu.far_return(2, 0);
    EXPECT_EQ(cpu.seg[CS].sel, 0x1000);
    EXPECT_EQ(cpu.eip, 0x0123u);
    EXPECT_EQ(cpu.r[ESP], 0xFFFEu);
    EXPECT_FAULT(cpu.far_jump(0x3000, 0x10000, 4), kGP, 0);   // beyond the 64 KiB limit
}

// ======================================================================= interrupts

TEST_F(ProtMode, RealModeInterruptUsesTheIvt) {
    enter_real();
    cpu.idtr = {0, 0x3FF};
    mem.write16(0x21 * 4, 0x0040);
    mem.write16(0x21 * 4 + 2, 0x3000);
    for (unsigned s : {CS, SS}) cpu.load_seg_real(s, 0x1000);
    cpu.r[ESP] = 0xFFFE;
    cpu.eip = 0x1234;
    cpu.set_eflags(fl::IF | fl::TF | fl::CF);
    cpu.deliver(0x21, -1, true);
    EXPECT_EQ(cpu.seg[CS].sel, 0x3000);
    EXPECT_EQ(cpu.eip, 0x40u);
    EXPECT_EQ(cpu.r[ESP], 0xFFF8u);
    EXPECT_EQ(at_sp16(0), 0x1234);
    EXPECT_EQ(at_sp16(1), 0x1000);
    EXPECT_EQ(at_sp16(2), fl::IF | fl::TF | fl::CF | fl::FIXED1);
    EXPECT_FALSE(cpu.get_eflags() & (fl::IF | fl::TF));
}

TEST_F(ProtMode, RealModeInterruptBeyondTheIvtLimitEndsInTripleFault) {
    enter_real();
    cpu.idtr = {0, 0};   // the classic "LIDT with limit 0, then INT" reboot
    bool reset = false;
    cpu.on_triple_fault = [&] { reset = true; };
    cpu.deliver(0x21, -1, true);
    EXPECT_TRUE(reset);
    EXPECT_EQ(cpu.stop, StopReason::Shutdown);
}

TEST_F(ProtMode, InterruptGateAtTheSameLevel) {
    handler(0x40);
    cpu.set_eflags(fl::IF | fl::NT | fl::TF);
    cpu.eip = 0x7777;
    cpu.deliver(0x40, -1, false, true);
    EXPECT_EQ(cpu.eip, 0x10400u);
    EXPECT_EQ(cpu.seg[CS].sel, kCode0);
    ASSERT_EQ(cpu.r[ESP], kStack0 - 12);
    EXPECT_EQ(at_sp(0), 0x7777u);
    EXPECT_EQ(at_sp(1), kCode0);
    EXPECT_EQ(at_sp(2), fl::IF | fl::NT | fl::TF | fl::FIXED1);
    EXPECT_FALSE(cpu.get_eflags() & (fl::IF | fl::NT | fl::TF));
}

TEST_F(ProtMode, TrapGateLeavesIfAlone) {
    handler(0x41, kTrapGate32);
    cpu.set_eflags(fl::IF);
    cpu.deliver(0x41, -1, false);
    EXPECT_TRUE(cpu.get_eflags() & fl::IF);
}

TEST_F(ProtMode, SixteenBitInterruptGatePushesWords) {
    set_idt(0x42, gate(kCode0, 0x12345, kIntGate16, 0));
    cpu.eip = 0x7777;
    cpu.deliver(0x42, 0x55, false);
    EXPECT_EQ(cpu.eip, 0x2345u);
    ASSERT_EQ(cpu.r[ESP], kStack0 - 8);
    EXPECT_EQ(at_sp16(0), 0x55);
    EXPECT_EQ(at_sp16(1), 0x7777);
    EXPECT_EQ(at_sp16(2), kCode0);
}

TEST_F(ProtMode, SoftwareInterruptChecksTheGateDpl) {
    handler(0x40, kIntGate32, 0);
    handler(kGP);
    enter_ring(3);
    cpu.deliver(0x40, -1, true);   // INT 40h at CPL 3 through a DPL 0 gate
    EXPECT_EQ(cpu.eip, 0x10000u + kGP * 16);
    EXPECT_EQ(at_sp(0), 0x40u * 8 + 2);   // #GP(IDT entry), EXT = 0 for INT n
    enter_ring(3);
    cpu.deliver(0x40, -1, false, true);   // a hardware interrupt ignores the gate DPL
    EXPECT_EQ(cpu.eip, 0x10400u);
}

TEST_F(ProtMode, InterruptFromRing3SwitchesToTheRing0Stack) {
    handler(kGP);
    enter_ring(3);
    cpu.eip = 0x4444;
    cpu.set_eflags(fl::IF);
    cpu.deliver(kGP, 0x1230, false);
    EXPECT_EQ(cpu.cpl, 0);
    EXPECT_EQ(cpu.seg[SS].sel, kData0);
    ASSERT_EQ(cpu.r[ESP], kStack0 - 24);
    EXPECT_EQ(at_sp(0), 0x1230u);
    EXPECT_EQ(at_sp(1), 0x4444u);
    EXPECT_EQ(at_sp(2), kCode3);
    EXPECT_EQ(at_sp(3), fl::IF | fl::FIXED1);
    EXPECT_EQ(at_sp(4), kStack3);
    EXPECT_EQ(at_sp(5), kData3);
}

TEST_F(ProtMode, FaultWhileDeliveringAnExceptionCarriesExt) {
    handler(kNP);
    set_idt(kDB, gate(kCode0, 0, kIntGate32, 0, 0, false));   // not present
    cpu.deliver(kDB, -1, false);
    EXPECT_EQ(cpu.eip, 0x10000u + kNP * 16);
    EXPECT_EQ(at_sp(0), kDB * 8u + 2 + 1);   // IDT and EXT bits
}

TEST_F(ProtMode, VectorBeyondTheIdtLimitIsGpWithTheIdtBit) {
    handler(kGP);
    handler(0x40);   // a valid gate, but just past the limit
    cpu.idtr.limit = 0x40 * 8 - 1;
    cpu.deliver(0x40, -1, false, true);
    EXPECT_EQ(cpu.eip, 0x10000u + kGP * 16);
    EXPECT_EQ(at_sp(0), 0x40u * 8 + 2 + 1);
}

TEST_F(ProtMode, BenignEventThenContributoryFaultIsNotADoubleFault) {
    handler(kNP);
    handler(kDF);
    set_idt(0x20, gate(kCode0, 0, kIntGate32, 0, 0, false));
    cpu.deliver(0x20, -1, false, true);
    EXPECT_EQ(cpu.eip, 0x10000u + kNP * 16);
}

TEST_F(ProtMode, ContributoryDuringContributoryIsADoubleFault) {
    handler(kDF);
    set_idt(kGP, gate(kCode0, 0, kIntGate32, 0, 0, false));
    cpu.eip = 0x999;
    cpu.deliver(kGP, 0, false);
    EXPECT_EQ(cpu.eip, 0x10000u + kDF * 16);
    EXPECT_EQ(at_sp(0), 0u);   // #DF pushes 0
    EXPECT_EQ(at_sp(1), 0x999u);
}

TEST_F(ProtMode, GpWhileDeliveringAPageFaultIsADoubleFault) {
    handler(kDF);
    handler(kGP);   // deliverable, yet #DF wins
    set_idt(kPF, gate(0x1F8, 0, kIntGate32, 0));   // code selector beyond the GDT limit
    cpu.deliver(kPF, 2, false);
    EXPECT_EQ(cpu.eip, 0x10000u + kDF * 16);
}

TEST_F(ProtMode, PageFaultWhileDeliveringAContributoryFaultIsDeliveredAlone) {
    handler(kDF);
    handler(kGP);   // reached from ring 3 through the ring 0 stack, whose page is absent
    set_gdt(kScratch, flat(kXRConf, 0));
    set_idt(kPF, gate(kS0, 0x10000 + kPF * 16, kIntGate32, 0));   // conforming: stays at CPL 3
    page_out_ring0_stack();
    enter_ring(3);
    cpu.eip = 0x4444;
    cpu.deliver(kGP, 0, false);
    EXPECT_EQ(cpu.eip, 0x10000u + kPF * 16);
    EXPECT_EQ(cpu.cr2, kStack0 - 4);
    EXPECT_EQ(cpu.cpl, 3);
    EXPECT_EQ(at_sp(0), 2u);   // not present, write, supervisor: no EXT bit in a #PF code
    EXPECT_EQ(at_sp(1), 0x4444u);
}

TEST_F(ProtMode, PageFaultWhileDeliveringAPageFaultIsADoubleFault) {
    handler(kPF);   // ring 0: its frame goes to the absent page under the ring 0 stack top
    set_gdt(kScratch, flat(kXRConf, 0));
    set_idt(kDF, gate(kS0, 0x10000 + kDF * 16, kIntGate32, 0));   // conforming: stays at CPL 3
    page_out_ring0_stack();
    enter_ring(3);
    cpu.eip = 0x4444;
    cpu.deliver(kPF, 4, false);
    EXPECT_EQ(cpu.eip, 0x10000u + kDF * 16);
    EXPECT_EQ(at_sp(0), 0u);
    EXPECT_EQ(at_sp(1), 0x4444u);
}

TEST_F(ProtMode, FaultWhileDeliveringADoubleFaultIsATripleFault) {
    set_idt(kGP, gate(kCode0, 0, kIntGate32, 0, 0, false));
    set_idt(kDF, gate(kCode0, 0, kIntGate32, 0, 0, false));
    bool reset = false;
    cpu.on_triple_fault = [&] { reset = true; };
    cpu.deliver(kGP, 0, false);
    EXPECT_TRUE(reset);
    EXPECT_EQ(cpu.stop, StopReason::Shutdown);
}

TEST_F(ProtMode, EndlessChainOfBenignFaultsStopsTheMachineInsteadOfHangingTheHost) {
    // #AC through a conforming (CPL 3) handler whose frame push is itself misaligned.
    set_gdt(kScratch, flat(kXRConf, 0));
    set_idt(kAC, gate(kS0, 0x100, kIntGate32, 0));
    enter_ring(3);
    cpu.r[ESP] = kStack3 - 1;
    cpu.cr0 |= cr0::AM;
    cpu.set_eflags(fl::AC);
    cpu.update_mode();
    bool reset = false;
    cpu.on_triple_fault = [&] { reset = true; };
    cpu.deliver(kAC, 0, false);
    EXPECT_TRUE(reset);
    EXPECT_EQ(cpu.stop, StopReason::Shutdown);
}

TEST_F(ProtMode, InterruptFromV86PushesTheDataSegmentsAndNullsThem) {
    handler(0x40);
    cpu.set_eflags(fl::VM | fl::IF | fl::IOPL);
    cpu.update_mode();
    cpu.load_seg_real(CS, 0x1000);
    cpu.load_seg_real(SS, 0x2000);
    cpu.load_seg_real(DS, 0x3000);
    cpu.load_seg_real(ES, 0x4000);
    cpu.load_seg_real(FS, 0x5000);
    cpu.load_seg_real(GS, 0x6000);
    cpu.r[ESP] = 0xFFF0;
    cpu.eip = 0x0123;
    ASSERT_EQ(cpu.cpl, 3);
    cpu.deliver(0x40, -1, false, true);
    EXPECT_FALSE(cpu.vm86);
    EXPECT_EQ(cpu.cpl, 0);
    EXPECT_EQ(cpu.eip, 0x10400u);
    ASSERT_EQ(cpu.r[ESP], kStack0 - 36);
    EXPECT_EQ(at_sp(0), 0x0123u);
    EXPECT_EQ(at_sp(1), 0x1000u);
    EXPECT_EQ(at_sp(2), fl::VM | fl::IF | fl::IOPL | fl::FIXED1);
    EXPECT_EQ(at_sp(3), 0xFFF0u);
    EXPECT_EQ(at_sp(4), 0x2000u);
    EXPECT_EQ(at_sp(5), 0x4000u);   // ES
    EXPECT_EQ(at_sp(6), 0x3000u);   // DS
    EXPECT_EQ(at_sp(7), 0x5000u);   // FS
    EXPECT_EQ(at_sp(8), 0x6000u);   // GS
    for (unsigned s : {DS, ES, FS, GS}) {
        EXPECT_EQ(cpu.seg[s].sel, 0);
        EXPECT_FAULT(cpu.read<uint8_t>(s, 0), kGP, 0);
    }
    EXPECT_FALSE(cpu.get_eflags() & (fl::VM | fl::IF));
}

TEST_F(ProtMode, InterruptFromV86ToANonZeroDplHandlerIsGp) {
    handler(kGP);
    set_idt(0x40, gate(kCode1, 0x100, kIntGate32, 3));
    cpu.set_eflags(fl::VM);
    cpu.load_seg_real(CS, 0x1000);
    cpu.load_seg_real(SS, 0x2000);
    cpu.r[ESP] = 0xFFF0;
    cpu.deliver(0x40, -1, false, true);
    EXPECT_EQ(cpu.eip, 0x10000u + kGP * 16);
    EXPECT_EQ(at_sp(0), (kCode1 & ~3u) | 1);   // the code selector, EXT for a hardware event
}

// ======================================================================= IRET

TEST_F(ProtMode, RealModeIret) {
    enter_real();
    cpu.r[ESP] = 0x1000;
    mem.write16(0x1000, 0x0200);
    mem.write16(0x1002, 0x5000);
    mem.write16(0x1004, fl::IF | fl::CF | fl::IOPL);
    cpu.set_eflags(fl::AC);
    cpu.iret(2);
    EXPECT_EQ(cpu.seg[CS].base, 0x50000u);
    EXPECT_EQ(cpu.eip, 0x200u);
    EXPECT_EQ(cpu.r[ESP], 0x1006u);
    EXPECT_EQ(cpu.get_eflags(), fl::IF | fl::CF | fl::IOPL | fl::AC | fl::FIXED1);   // AC (bit 18) kept
}

TEST_F(ProtMode, IretAtCpl3CannotChangeIfOrIopl) {
    enter_ring(3);
    cpu.r[ESP] -= 12;
    mem.write32(cpu.r[ESP], 0x300);
    mem.write32(cpu.r[ESP] + 4, kCode3);
    mem.write32(cpu.r[ESP] + 8, fl::IF | fl::IOPL | fl::CF);
    cpu.set_eflags(0);
    cpu.iret(4);
    EXPECT_EQ(cpu.eip, 0x300u);
    EXPECT_EQ(cpu.get_eflags(), fl::CF | fl::FIXED1);
    EXPECT_EQ(cpu.r[ESP], kStack3);
    enter_ring(0);
    cpu.r[ESP] -= 12;
    mem.write32(cpu.r[ESP], 0x300);
    mem.write32(cpu.r[ESP] + 4, kCode0);
    mem.write32(cpu.r[ESP] + 8, fl::IF | fl::IOPL | fl::CF);
    cpu.iret(4);
    EXPECT_EQ(cpu.get_eflags(), fl::IF | fl::IOPL | fl::CF | fl::FIXED1);
}

TEST_F(ProtMode, IretToOuterLevel) {
    cpu.r[ESP] -= 20;
    mem.write32(cpu.r[ESP], 0x300);
    mem.write32(cpu.r[ESP] + 4, kCode3);
    mem.write32(cpu.r[ESP] + 8, fl::IF);
    mem.write32(cpu.r[ESP] + 12, kStack3 - 4);
    mem.write32(cpu.r[ESP] + 16, kData3);
    cpu.iret(4);
    EXPECT_EQ(cpu.cpl, 3);
    EXPECT_EQ(cpu.seg[SS].sel, kData3);
    EXPECT_EQ(cpu.r[ESP], kStack3 - 4);
    EXPECT_TRUE(cpu.get_eflags() & fl::IF);
    EXPECT_EQ(cpu.seg[DS].sel, 0);   // ring 0 data is not for ring 3
}

TEST_F(ProtMode, IretToAMorePrivilegedLevelIsGp) {
    enter_ring(3);
    cpu.r[ESP] -= 12;
    mem.write32(cpu.r[ESP], 0x300);
    mem.write32(cpu.r[ESP] + 4, kCode0);
    mem.write32(cpu.r[ESP] + 8, 0);
    EXPECT_FAULT(cpu.iret(4), kGP, kCode0);
}

TEST_F(ProtMode, IretToV86Mode) {
    cpu.r[ESP] -= 36;
    const uint32_t sp = cpu.r[ESP];
    const uint32_t words[9] = {0x0123, 0x1000, fl::VM | fl::IF, 0xFFF0, 0x2000, 0x4000, 0x3000, 0x5000, 0x6000};
    for (unsigned i = 0; i < 9; i++) mem.write32(sp + 4 * i, words[i]);
    cpu.iret(4);
    EXPECT_TRUE(cpu.vm86);
    EXPECT_EQ(cpu.cpl, 3);
    EXPECT_EQ(cpu.eip, 0x123u);
    EXPECT_EQ(cpu.seg[CS].base, 0x10000u);
    EXPECT_EQ(cpu.seg[SS].base, 0x20000u);
    EXPECT_EQ(cpu.seg[ES].base, 0x40000u);
    EXPECT_EQ(cpu.seg[DS].base, 0x30000u);
    EXPECT_EQ(cpu.seg[FS].base, 0x50000u);
    EXPECT_EQ(cpu.seg[GS].base, 0x60000u);
    EXPECT_EQ(cpu.seg[DS].limit, 0xFFFFu);
    EXPECT_EQ(cpu.r[ESP], 0xFFF0u);
    EXPECT_FALSE(cpu.stack32);
}

TEST_F(ProtMode, IretInV86NeedsIopl3AndKeepsIopl) {
    cpu.set_eflags(fl::VM);
    cpu.load_seg_real(SS, 0x2000);
    cpu.load_seg_real(CS, 0x1000);
    cpu.r[ESP] = 0x100;
    mem.write16(0x20100, 0x0010);
    mem.write16(0x20102, 0x3000);
    mem.write16(0x20104, fl::CF);   // IOPL 0 in the image
    EXPECT_FAULT(cpu.iret(2), kGP, 0);
    cpu.set_eflags(fl::VM | fl::IOPL);
    cpu.iret(2);
    EXPECT_EQ(cpu.seg[CS].base, 0x30000u);
    EXPECT_EQ(cpu.eip, 0x10u);
    EXPECT_EQ(cpu.get_eflags(), fl::VM | fl::IOPL | fl::CF | fl::FIXED1);
}

// ======================================================================= task switches

struct TaskSwitch : ProtMode {
    // TSS B: a ring 0 task at EIP 0x7000 with its own stack and registers.
    void SetUp() override {
        ProtMode::SetUp();
        write_tss32(kTssB, 0x7000, fl::FIXED1 | fl::CF, kCode0, kData0, 0x50000, 0);
        for (unsigned i = 0; i < 8; i++) cpu.r[i] = 0xA0 + i;
        cpu.r[ESP] = kStack0;
        cpu.eip = 0x1111;
    }
    void write_tss32(uint32_t base, uint32_t eip, uint32_t eflags, uint16_t cs, uint16_t ds, uint32_t esp,
                     uint16_t ldt, bool trap = false) {
        mem.write32(base + 0x20, eip);
        mem.write32(base + 0x24, eflags);
        for (unsigned i = 0; i < 8; i++) mem.write32(base + 0x28 + 4 * i, 0xB0 + i);
        mem.write32(base + 0x38, esp);
        for (unsigned s = 0; s < 6; s++) mem.write16(base + 0x48 + 4 * s, s == CS ? cs : ds);
        mem.write16(base + 0x60, ldt);
        mem.write16(base + 0x64, trap ? 1 : 0);
    }
    bool busy(uint16_t sel) { return gdt_hi(sel) & (1u << 9); }
};

TEST_F(TaskSwitch, JmpToATssSavesTheOldTaskAndLoadsTheNew) {
    cpu.far_jump(kTssBSel, 0, 4);
    EXPECT_EQ(cpu.tr.sel, kTssBSel);
    EXPECT_EQ(cpu.tr.base, kTssB);
    EXPECT_TRUE(busy(kTssBSel));
    EXPECT_FALSE(busy(kTssASel));   // JMP does not nest
    EXPECT_EQ(cpu.eip, 0x7000u);
    EXPECT_EQ(cpu.r[EAX], 0xB0u);
    EXPECT_EQ(cpu.r[ESP], 0x50000u);
    EXPECT_EQ(cpu.get_eflags(), fl::CF | fl::FIXED1);   // NT stays clear
    EXPECT_EQ(cpu.seg[CS].sel, kCode0);
    EXPECT_EQ(cpu.seg[DS].sel, kData0);
    EXPECT_TRUE(cpu.cr0 & cr0::TS);
    EXPECT_EQ(mem.read16(kTssB), 0);   // no back link
    // The old task's state, as it resumes.
    EXPECT_EQ(mem.read32(kTssA + 0x20), 0x1111u);
    EXPECT_EQ(mem.read32(kTssA + 0x28), 0xA0u);
    EXPECT_EQ(mem.read32(kTssA + 0x38), kStack0);
    EXPECT_EQ(mem.read16(kTssA + 0x4C), kCode0);
}

TEST_F(TaskSwitch, CallNestsAndIretReturnsThroughTheBackLink) {
    cpu.far_call(kTssBSel, 0, 4);
    EXPECT_EQ(mem.read16(kTssB), kTssASel);   // back link
    EXPECT_TRUE(cpu.get_eflags() & fl::NT);
    EXPECT_TRUE(busy(kTssASel));
    EXPECT_TRUE(busy(kTssBSel));
    cpu.r[EAX] = 0x1234;
    cpu.eip = 0x7005;
    cpu.iret(4);
    EXPECT_EQ(cpu.tr.sel, kTssASel);
    EXPECT_FALSE(busy(kTssBSel));
    EXPECT_TRUE(busy(kTssASel));
    EXPECT_EQ(cpu.eip, 0x1111u);
    EXPECT_EQ(cpu.r[EAX], 0xA0u);
    EXPECT_EQ(mem.read32(kTssB + 0x20), 0x7005u);
    EXPECT_EQ(mem.read32(kTssB + 0x28), 0x1234u);
    EXPECT_FALSE(mem.read32(kTssB + 0x24) & fl::NT);   // the returning task is no longer nested
}

TEST_F(TaskSwitch, BusyOrUnavailableTargetsAreGp) {
    EXPECT_FAULT(cpu.far_jump(kTssASel, 0, 4), kGP, kTssASel);   // the running task is busy
    set_gdt(kScratch, gate(kTssASel, 0, kTaskGate, 0));
    EXPECT_FAULT(cpu.far_call(kS0, 0, 4), kGP, kTssASel);
    set_gdt(kScratch + 1, gate(kTssBSel | 4, 0, kTaskGate, 0));   // TSS selectors are global
    EXPECT_FAULT(cpu.far_jump(kS1, 0, 4), kGP, kTssBSel | 4);
    enter_ring(3);
    EXPECT_FAULT(cpu.far_jump(kTssBSel | 3, 0, 4), kGP, kTssBSel);   // TSS DPL 0 < CPL 3
}

TEST_F(TaskSwitch, TssShorterThan67hIsTs) {
    set_gdt(6, seg(kTssB, 0x66, kTss32, 0, false));
    Snapshot before = snap();
    EXPECT_FAULT(cpu.far_jump(kTssBSel, 0, 4), kTS, kTssBSel);
    EXPECT_TRUE(snap() == before);
    EXPECT_EQ(cpu.tr.sel, kTssASel);
}

TEST_F(TaskSwitch, BadCodeSegmentFaultsInTheNewTask) {
    write_tss32(kTssB, 0x7000, fl::FIXED1, kData0, kData0, 0x50000, 0);
    EXPECT_FAULT(cpu.far_jump(kTssBSel, 0, 4), kTS, kData0);
    EXPECT_EQ(cpu.tr.sel, kTssBSel);   // past the commit point
    EXPECT_EQ(cpu.eip, 0x7000u);
    EXPECT_EQ(cpu.insn_eip, 0x7000u);   // the run loop restarts the new task
}

TEST_F(TaskSwitch, BadLdtInTheNewTaskIsTs) {
    write_tss32(kTssB, 0x7000, fl::FIXED1, kCode0, kData0, 0x50000, kData0);   // not an LDT
    EXPECT_FAULT(cpu.far_jump(kTssBSel, 0, 4), kTS, kData0);
}

TEST_F(TaskSwitch, NewTaskGetsItsLdtAndItsSegmentsComeFromIt) {
    mem.write32(kLdt, seg(0x444000, 0xFFFF, kRW, 0).lo);
    mem.write32(kLdt + 4, seg(0x444000, 0xFFFF, kRW, 0).hi);
    write_tss32(kTssB, 0x7000, fl::FIXED1, kCode0, 0x04, 0x50000, kLdtSel);
    mem.write16(kTssB + 0x50, kData0);   // SS from the GDT
    cpu.far_jump(kTssBSel, 0, 4);
    EXPECT_EQ(cpu.ldtr.sel, kLdtSel);
    EXPECT_EQ(cpu.ldtr.base, kLdt);
    EXPECT_EQ(cpu.seg[DS].sel, 0x04);
    EXPECT_EQ(cpu.seg[DS].base, 0x444000u);
}

TEST_F(TaskSwitch, TrapBitRaisesDebugAfterTheSwitch) {
    write_tss32(kTssB, 0x7000, fl::FIXED1, kCode0, kData0, 0x50000, 0, true);
    EXPECT_FAULT(cpu.far_jump(kTssBSel, 0, 4), kDB, -1);
    EXPECT_EQ(cpu.tr.sel, kTssBSel);
    EXPECT_EQ(cpu.insn_eip, 0x7000u);
    EXPECT_TRUE(cpu.dr[6] & (1u << 15));   // DR6.BT
}

TEST_F(TaskSwitch, ExceptionThroughATaskGatePushesItsErrorCodeOnTheNewStack) {
    set_idt(kGP, gate(kTssBSel, 0, kTaskGate, 0));
    cpu.deliver(kGP, 0x50, false);
    EXPECT_EQ(cpu.tr.sel, kTssBSel);
    EXPECT_EQ(mem.read16(kTssB), kTssASel);
    EXPECT_TRUE(cpu.get_eflags() & fl::NT);
    EXPECT_EQ(cpu.eip, 0x7000u);
    ASSERT_EQ(cpu.r[ESP], 0x50000u - 4);
    EXPECT_EQ(at_sp(0), 0x50u);
}

TEST_F(TaskSwitch, TrapBitAfterIntThroughATaskGateReturnsToTheNewTask) {
    write_tss32(kTssB, 0x7000, fl::FIXED1, kCode0, kData0, 0x50000, 0, true);
    set_idt(0x40, gate(kTssBSel, 0, kTaskGate, 0));
    handler(kDB);
    cpu.insn_eip = 0x1100;   // INT 40h at 1100h, the next instruction at 1102h
    cpu.eip = 0x1102;
    cpu.deliver(0x40, -1, true);
    EXPECT_EQ(cpu.tr.sel, kTssBSel);
    EXPECT_EQ(mem.read32(kTssA + 0x20), 0x1102u);   // the old task resumes after the INT
    EXPECT_EQ(cpu.eip, 0x10000u + kDB * 16);
    EXPECT_EQ(at_sp(0), 0x7000u);                   // #DB returns to the new task's first insn
    EXPECT_TRUE(cpu.dr[6] & (1u << 15));
}

TEST_F(TaskSwitch, SixteenBitTss) {
    set_gdt(kScratch, seg(0x9000, 0x2B, kTss16, 0, false));
    mem.write16(0x9000 + 0x0E, 0x0321);       // IP
    mem.write16(0x9000 + 0x10, fl::CF | fl::FIXED1);
    for (unsigned i = 0; i < 8; i++) mem.write16(0x9000 + 0x12 + 2 * i, 0x100 + i);
    mem.write16(0x9000 + 0x22, kData0);   // ES
    mem.write16(0x9000 + 0x24, kCode16);  // CS
    mem.write16(0x9000 + 0x26, kData0);   // SS
    mem.write16(0x9000 + 0x28, kData0);   // DS
    cpu.far_jump(kS0, 0, 4);
    EXPECT_EQ(cpu.eip, 0x321u);
    EXPECT_EQ(cpu.r[EAX], 0xFFFF0100u);
    EXPECT_EQ(cpu.seg[CS].sel, kCode16);
    EXPECT_FALSE(cpu.code32);
    EXPECT_EQ(cpu.seg[FS].sel, 0);
    EXPECT_EQ(cpu.get_eflags(), fl::CF | fl::FIXED1);
}

TEST_F(TaskSwitch, CallToATaskLoadsCr3WhenPaging) {
    mem.write32(0x100000, 0x101000 | 7);
    for (uint32_t p = 0; p < 1024; p++) mem.write32(0x101000 + p * 4, (p << 12) | 7);
    mem.write32(0x102000, 0x101000 | 7);   // a second directory with the same mappings
    cpu.set_cr3(0x100000);
    cpu.set_cr0(cpu.cr0 | cr0::PG);
    mem.write32(kTssB + 0x1C, 0x102000);
    cpu.far_call(kTssBSel, 0, 4);
    EXPECT_EQ(cpu.cr3, 0x102000u);
}

}  // namespace
