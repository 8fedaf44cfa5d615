// Hardware task switching (SDM vol.3 7.3) between 32-bit TSSs and 16-bit (80286) TSSs, started by
// JMP or CALL to a TSS or task gate, by an interrupt or exception through a task gate, and by
// IRET with NT = 1.
//
// Everything that can fault in the old task's context is done first: the new TSS is checked
// and read, the old state is written to the old TSS, the busy bits and the back link are
// updated. Then comes the commit point: TR, CR3, LDTR, EFLAGS, EIP, the general and segment
// registers change, and any fault from here on is raised in the new task (SDM vol.3 7.3,
// "exceptions after the commit point"), with the new task's EIP as its restart point.
#include "frontend/protmode.hpp"

namespace lift86 {

using pm::Descriptor;

namespace {

using namespace pm;

// Where the dynamic fields live in a 32-bit and a 16-bit TSS (SDM vol.3 figures 7-2 and 7-11).
struct TssLayout {
    uint32_t min_limit;   // a shorter new TSS is #TS(selector)
    uint32_t save_limit;  // the old TSS must reach this far to take the saved state
    uint32_t ip, flags, gpr, sreg, ldt;
    unsigned width;       // bytes per EIP/EFLAGS/general register and per segment selector slot
    unsigned nsegs;       // ES, CS, SS, DS (16-bit) and FS, GS (32-bit)
};
constexpr TssLayout kTss32Layout = {0x67, 0x5F, 0x20, 0x24, 0x28, 0x48, 0x60, 4, 6};
constexpr TssLayout kTss16Layout = {0x2B, 0x29, 0x0E, 0x10, 0x12, 0x22, 0x2A, 2, 4};
constexpr uint32_t kTss32Cr3 = 0x1C, kTss32Trap = 0x64;

const TssLayout& layout_of(bool tss32) { return tss32 ? kTss32Layout : kTss16Layout; }

// The state a task resumes with, as its TSS holds it.
struct TaskImage {
    uint32_t cr3 = 0, eip = 0, eflags = 0, r[8] = {};
    uint16_t sel[kNumSegs] = {};   // ES, CS, SS, DS, FS, GS: the TSS order is the SegReg order
    uint16_t ldt = 0;
    bool trap = false;
};

TaskImage read_task_image(Cpu& cpu, uint32_t base, bool tss32) {
    const TssLayout& t = layout_of(tss32);
    TaskImage im;
    if (tss32) im.cr3 = cpu.read_sys(base + kTss32Cr3, 4);
    im.eip = cpu.read_sys(base + t.ip, t.width);
    im.eflags = cpu.read_sys(base + t.flags, t.width);
    for (unsigned i = 0; i < 8; i++) {
        im.r[i] = cpu.read_sys(base + t.gpr + i * t.width, t.width);
        // Entering a 16-bit task leaves the upper halves all ones, as Bochs measured on hardware;
        // FS and GS, absent from a 16-bit TSS, become null.
        if (!tss32) im.r[i] |= 0xFFFF0000u;
    }
    for (unsigned s = 0; s < t.nsegs; s++) im.sel[s] = uint16_t(cpu.read_sys(base + t.sreg + s * t.width, 2));
    im.ldt = uint16_t(cpu.read_sys(base + t.ldt, 2));
    im.trap = tss32 && (cpu.read_sys(base + kTss32Trap, 2) & 1);
    return im;
}

// Saves the dynamic state of the running task (SDM vol.3 7.3 step 8; CR3 and LDTR are static).
void save_task_image(Cpu& cpu, uint32_t base, bool tss32, uint32_t eip, uint32_t eflags) {
    const TssLayout& t = layout_of(tss32);
    cpu.write_sys(base + t.ip, eip, t.width);
    cpu.write_sys(base + t.flags, eflags, t.width);
    for (unsigned i = 0; i < 8; i++) cpu.write_sys(base + t.gpr + i * t.width, cpu.r[i], t.width);
    for (unsigned s = 0; s < t.nsegs; s++) cpu.write_sys(base + t.sreg + s * t.width, cpu.seg[s].sel, 2);
}

// With paging on, a page fault must hit before the old task's state is touched (7.3 step 5):
// walk the pages of [lin, lin+len) for the access now.
void probe(Cpu& cpu, uint32_t lin, uint32_t len, bool write) {
    if (!cpu.paging) return;
    cpu.translate(lin, write, 0);
    cpu.translate(lin + len - 1, write, 0);
}

// The new task's LDT (SDM vol.3 7.3 table 7-1): null, or an LDT descriptor in the GDT.
void load_task_ldt(Cpu& cpu, uint16_t sel) {
    load_null(cpu, cpu.ldtr, sel);   // stays invalid if the checks fail
    if (is_null(sel)) return;
    if (sel & 4) cpu.fault(kTS, sel_error(sel));
    Descriptor d = fetch_descriptor(cpu, sel, kTS);
    if (!d.is_system(kLdt) || !d.present()) cpu.fault(kTS, sel_error(sel));
    load_descriptor(cpu, cpu.ldtr, sel, d);
}

// The new task's CS: code, DPL = RPL (non-conforming) or DPL <= RPL (conforming); its RPL
// becomes the CPL.
void load_task_cs(Cpu& cpu, uint16_t sel) {
    if (is_null(sel)) cpu.fault(kTS, sel_error(sel));
    Descriptor d = fetch_descriptor(cpu, sel, kTS);
    if (!d.is_code() || (d.conforming() ? d.dpl() > rpl(sel) : d.dpl() != rpl(sel)))
        cpu.fault(kTS, sel_error(sel));
    if (!d.present()) cpu.fault(kNP, sel_error(sel));
    load_descriptor(cpu, cpu.seg[CS], sel, d);
    cpu.update_mode();
}

// Segment registers of the new task, checked like MOV Sreg but with #TS for bad selectors.
void load_task_segments(Cpu& cpu, const TaskImage& im) {
    load_task_ldt(cpu, im.ldt);
    if (cpu.vm86) {   // a V86 task: real-mode style segments, CPL 3
        for (unsigned s = 0; s < kNumSegs; s++) cpu.load_seg_real(s, im.sel[s]);
        return;
    }
    load_task_cs(cpu, im.sel[CS]);
    Descriptor ss = check_stack_segment(cpu, im.sel[SS], cpu.cpl, kTS);
    load_descriptor(cpu, cpu.seg[SS], im.sel[SS], ss);
    cpu.update_mode();
    for (unsigned s : {DS, ES, FS, GS}) {
        if (is_null(im.sel[s])) continue;   // already null
        Descriptor d = check_data_segment(cpu, im.sel[s], cpu.cpl, kTS);
        load_descriptor(cpu, cpu.seg[s], im.sel[s], d);
    }
}

}  // namespace

// The debug trap of a TSS with T = 1 (SDM vol.3 7.2.1, 17.3.1.5): DR6.BT, then #DB, taken
// before the new task's first instruction (which is also where it returns to).
[[noreturn]] static void task_trap(Cpu& cpu) {
    cpu.dr[6] |= 1u << 15;
    cpu.insn_eip = cpu.eip;
    cpu.fault(kDB);
}

namespace pm {

void raise_task_trap_if_set(Cpu& cpu) {
    const bool tss32 = cpu.tr.attr & 8;
    if (tss32 && (cpu.read_sys(cpu.tr.base + kTss32Trap, 2) & 1)) task_trap(cpu);
}

}  // namespace pm

// `sel`/`desc_*`: the new TSS, already checked by the caller for type, busy state, privilege and
// presence (those checks and their error codes differ between JMP, CALL, INT and IRET).
// `next_eip`: the EIP saved for the old task.
void Cpu::task_switch(uint16_t sel, uint32_t desc_lo, uint32_t desc_hi, int source, uint32_t next_eip) {
    const Descriptor nd{desc_lo, desc_hi};
    const bool new32 = nd.tss32(), old32 = tr.attr & 8;
    const TssLayout &nt = layout_of(new32), &ot = layout_of(old32);
    const uint32_t nbase = nd.base(), obase = tr.base;
    const bool nesting = source == kTaskCall || source == kTaskInt;

    // 7.3 step 3: the new TSS must hold at least the 32-bit (67H) or 16-bit (2BH) layout; the old
    // one must hold the fields about to be saved.
    if (nd.limit() < nt.min_limit) fault(kTS, sel_error(sel));
    if (tr.limit < ot.save_limit) fault(kTS, sel_error(tr.sel));

    // Step 5: the pages of both TSSs must be present before anything is written.
    probe(*this, nbase, nt.min_limit + 1, false);
    if (nesting) probe(*this, nbase, 2, true);
    probe(*this, obase + ot.ip, ot.save_limit + 1 - ot.ip, true);

    const TaskImage im = read_task_image(*this, nbase, new32);

    // Step 6: JMP and IRET leave the old task not busy; CALL and INT nest, so it stays busy.
    if ((source == kTaskJmp || source == kTaskIret) && !is_null(tr.sel)) {
        uint32_t lo, hi;
        if (read_descriptor(tr.sel & ~4u, lo, hi)) write_descriptor_hi(tr.sel & ~4u, hi & ~kTssBusyBit);
    }
    // Steps 7-8: save the old task; IRET clears NT in the saved image (the old task is done
    // being nested).
    uint32_t old_flags = get_eflags();
    if (source == kTaskIret) old_flags &= ~fl::NT;
    save_task_image(*this, obase, old32, next_eip, old_flags);
    // A nested task links back to the old one (7.4).
    if (nesting) write_sys(nbase, tr.sel, 2);
    // Step 10: the new task is busy (after IRET it already is).
    if (source != kTaskIret) write_descriptor_hi(sel, desc_hi | kTssBusyBit);

    // ---- commit point (step 11 onwards) ----
    set_seg_cache(tr, sel, nbase, nd.limit(), nd.attr() | (kTssBusyBit >> 8));
    cr0 |= cr0::TS;          // the FPU state belongs to the old task until saved (13.4)
    dr[7] &= ~0x155u;        // local breakpoint enables are per task (17.2.4)
    eip = im.eip;
    for (unsigned i = 0; i < 8; i++) r[i] = im.r[i];
    set_eflags(nesting ? im.eflags | fl::NT : im.eflags);
    // The selectors are in place even if a descriptor check below faults; the data segment
    // caches start out invalid and are filled as each passes its checks.
    for (unsigned s = 0; s < kNumSegs; s++) seg[s].sel = im.sel[s];
    for (unsigned s : {DS, ES, FS, GS}) load_null(*this, seg[s], im.sel[s]);
    stop_block = true;
    try {
        // CR3 comes from a 32-bit TSS only, and only matters with paging on (as Bochs does).
        if (new32 && paging && im.cr3 != cr3) set_cr3(im.cr3);
        update_mode();
        load_task_segments(*this, im);
        if (eip > seg[CS].limit) fault(kGP, 0);
    } catch (const GuestFault&) {
        insn_eip = eip;   // the fault belongs to the new task and restarts at its EIP
        update_mode();
        throw;
    }
    // The T bit traps before the new task's first instruction (7.2.1). After an INT the error
    // code goes on the new stack first; deliver() raises the trap itself.
    if (im.trap && source != kTaskInt) task_trap(*this);
}

}  // namespace lift86
