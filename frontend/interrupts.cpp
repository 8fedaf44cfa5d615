// Interrupt and exception delivery (SDM vol.3 chapter 6; vol.2 INT n/INTO/INT3/INT1) and IRET
// (vol.2 IRET) in real, V86 and protected mode, with the double-fault and triple-fault rules.
#include "frontend/protmode.hpp"

namespace lift86 {

using pm::Descriptor;

namespace {

using namespace pm;

// Exception classes for the double-fault rules (SDM vol.3 6.15, interrupt 8, tables 6-4/6-5).
enum class EventClass { Benign, Contributory, PageFault, DoubleFault };

EventClass classify(uint8_t vector, bool software, bool external) {
    if (software || external) return EventClass::Benign;   // INT n and INTR are benign events
    switch (vector) {
    case kDE: case kTS: case kNP: case kSS: case kGP: return EventClass::Contributory;
    case kPF: return EventClass::PageFault;
    case kDF: return EventClass::DoubleFault;
    default: return EventClass::Benign;
    }
}

// Exceptions whose error code names a selector or an IDT entry, and so carries the EXT bit.
bool has_selector_error_code(uint8_t vector) {
    return vector == kTS || vector == kNP || vector == kSS || vector == kGP;
}

// ---------------------------------------------------------------- real-address mode

// SDM vol.2 INT n, REAL-ADDRESS-MODE: the IVT holds 4-byte real-mode far pointers.
void deliver_real(Cpu& cpu, uint8_t vector) {
    if (vector * 4u + 3 > cpu.idtr.limit) cpu.fault(kGP, 0);
    StackWriter stack = StackWriter::current(cpu);
    stack.require_room(3, 2);   // FLAGS, CS, IP: #SS
    const uint32_t entry = cpu.read_sys(cpu.idtr.base + vector * 4u, 4);
    stack.push(cpu.get_eflags(), 2);
    stack.push(cpu.seg[CS].sel, 2);
    stack.push(cpu.eip, 2);
    cpu.eflags &= ~(fl::IF | fl::TF | fl::AC);
    cpu.load_seg_real(CS, uint16_t(entry >> 16));
    cpu.eip = entry & 0xFFFF;
    cpu.r[ESP] = stack.esp();
}

// ---------------------------------------------------------------- protected mode

// The flags every interrupt or trap gate clears; an interrupt gate also clears IF
// (SDM vol.3 6.12.1.3).
void clear_flags_for_handler(Cpu& cpu, const Descriptor& gate) {
    cpu.eflags &= ~(fl::TF | fl::NT | fl::RF | fl::VM);
    if (!(gate.type() & 1)) cpu.eflags &= ~fl::IF;   // types 6 and 14: interrupt gates
}

void deliver_protected(Cpu& cpu, uint8_t vector, int32_t error_code, bool software) {
    // The gate (SDM vol.2 INT n, PROTECTED-MODE).
    if (vector * 8u + 7 > cpu.idtr.limit) cpu.fault(kGP, idt_error(vector));
    Descriptor gate;
    gate.lo = cpu.read_sys(cpu.idtr.base + vector * 8u, 4);
    gate.hi = cpu.read_sys(cpu.idtr.base + vector * 8u + 4, 4);
    if (!(gate.is_system(kTaskGate) || gate.is_system(kIntGate16) || gate.is_system(kIntGate32) ||
          gate.is_system(kTrapGate16) || gate.is_system(kTrapGate32)))
        cpu.fault(kGP, idt_error(vector));
    // INT n, INT3 and INTO may only use gates at or below their privilege (6.12.1.1).
    if (software && gate.dpl() < cpu.cpl) cpu.fault(kGP, idt_error(vector));
    if (!gate.present()) cpu.fault(kNP, idt_error(vector));
    const bool has_error = error_code >= 0;

    if (gate.is_system(kTaskGate)) {
        // TASK-GATE: switch tasks, then push the error code on the new task's stack (6.12.2).
        switch_to_tss_of_gate(cpu, gate, kTaskInt);
        if (has_error) {
            const unsigned size = (cpu.tr.attr & 8) ? 4 : 2;
            StackWriter stack = StackWriter::current(cpu);
            stack.push(uint32_t(error_code), size);
            cpu.r[ESP] = stack.esp();
        }
        raise_task_trap_if_set(cpu);
        return;
    }

    // TRAP-OR-INTERRUPT-GATE
    const uint16_t cs_sel = gate.gate_selector();
    if (is_null(cs_sel)) cpu.fault(kGP, 0);
    Descriptor code = fetch_descriptor(cpu, cs_sel, kGP);
    if (!code.is_code() || code.dpl() > cpu.cpl) cpu.fault(kGP, sel_error(cs_sel));
    if (!code.present()) cpu.fault(kNP, sel_error(cs_sel));
    const unsigned size = gate.gate32() ? 4 : 2;
    const uint32_t new_eip = gate.gate_offset();
    const uint32_t old_eflags = cpu.get_eflags();

    if (!code.conforming() && code.dpl() < cpu.cpl) {
        // INTER-PRIVILEGE-LEVEL-INTERRUPT, or INTERRUPT-FROM-VIRTUAL-8086-MODE (always to ring 0).
        const bool from_v86 = cpu.vm86;
        if (from_v86 && code.dpl() != 0) cpu.fault(kGP, sel_error(cs_sel));
        const unsigned new_cpl = code.dpl();
        uint16_t ss_sel;
        uint32_t new_esp;
        inner_stack_from_tss(cpu, new_cpl, ss_sel, new_esp);
        Descriptor ss = check_stack_segment(cpu, ss_sel, new_cpl, kTS);
        StackWriter stack(cpu, segment_from(ss_sel, ss), new_esp, new_cpl, sel_error(ss_sel));
        stack.require_room(5 + (from_v86 ? 4 : 0) + (has_error ? 1 : 0), size);
        check_code_limit(code, new_eip);   // #GP(0)

        if (from_v86) {   // the V86 segment registers go first (SDM vol.3 figure 20-4)
            stack.push(cpu.seg[GS].sel, size);
            stack.push(cpu.seg[FS].sel, size);
            stack.push(cpu.seg[DS].sel, size);
            stack.push(cpu.seg[ES].sel, size);
        }
        stack.push(cpu.seg[SS].sel, size);
        stack.push(cpu.r[ESP], size);
        stack.push(old_eflags, size);
        stack.push(cpu.seg[CS].sel, size);
        stack.push(cpu.eip, size);
        if (has_error) stack.push(uint32_t(error_code), size);

        mark_accessed(cpu, ss_sel, ss);
        mark_accessed(cpu, cs_sel, code);
        load_descriptor(cpu, cpu.seg[SS], ss_sel, ss);
        cpu.r[ESP] = stack.esp();
        if (from_v86)   // real-mode style selectors mean nothing in protected mode
            for (unsigned s : {GS, FS, DS, ES}) load_null(cpu, cpu.seg[s], 0);
        clear_flags_for_handler(cpu, gate);
        enter_code_segment(cpu, cs_sel, code, new_cpl, new_eip);
        return;
    }

    // INTRA-PRIVILEGE-LEVEL-INTERRUPT: conforming code, or DPL = CPL.
    if (cpu.vm86) cpu.fault(kGP, sel_error(cs_sel));   // V86 handlers must run at ring 0
    if (!code.conforming() && code.dpl() != cpu.cpl) cpu.fault(kGP, sel_error(cs_sel));
    StackWriter stack = StackWriter::current(cpu);
    stack.require_room(3 + (has_error ? 1 : 0), size);   // #SS(0)
    check_code_limit(code, new_eip);
    stack.push(old_eflags, size);
    stack.push(cpu.seg[CS].sel, size);
    stack.push(cpu.eip, size);
    if (has_error) stack.push(uint32_t(error_code), size);
    mark_accessed(cpu, cs_sel, code);   // the last thing that can fault
    clear_flags_for_handler(cpu, gate);
    enter_code_segment(cpu, cs_sel, code, cpu.cpl, new_eip);
    cpu.r[ESP] = stack.esp();
}

// EFLAGS after IRET in protected mode (SDM vol.2 IRET, RETURN-TO-SAME/OUTER-PRIVILEGE-LEVEL):
// IF only when CPL <= IOPL, IOPL (and VIF/VIP) only at CPL 0, the upper bits only for IRETD.
uint32_t iret_eflags(uint32_t cur, uint32_t popped, unsigned osize, unsigned cpl) {
    uint32_t mask = fl::CF | fl::PF | fl::AF | fl::ZF | fl::SF | fl::TF | fl::DF | fl::OF | fl::NT;
    if (osize == 4) mask |= fl::RF | fl::AC | fl::ID;
    if (cpl <= ((cur & fl::IOPL) >> 12)) mask |= fl::IF;
    if (cpl == 0) {
        mask |= fl::IOPL;
        if (osize == 4) mask |= fl::VIF | fl::VIP;
    }
    return (cur & ~mask) | (popped & mask);
}

// TASK-RETURN: IRET with NT = 1 resumes the task in the back link of the current TSS.
void iret_task_return(Cpu& cpu) {
    const uint16_t link = uint16_t(cpu.read_sys(cpu.tr.base, 2));
    if (link & 4) cpu.fault(kTS, sel_error(link));   // must be in the GDT
    Descriptor tss = fetch_descriptor(cpu, link, kTS);
    if (!tss.is_tss() || !tss.tss_busy()) cpu.fault(kTS, sel_error(link));
    if (!tss.present()) cpu.fault(kNP, sel_error(link));
    cpu.task_switch(link, tss.lo, tss.hi, kTaskIret, cpu.eip);
}

}  // namespace

// ---------------------------------------------------------------- deliver

// Delivers one event; a fault raised while delivering it is combined with it by the rules of
// SDM vol.3 6.15 (table 6-5): benign first events let the second be delivered serially,
// contributory + contributory and page fault + (page fault or contributory) become #DF(0), and
// any fault while delivering #DF shuts the processor down (triple fault).
void Cpu::deliver(uint8_t vector, int32_t error_code, bool software, bool external) {
    halted = false;
    if (trace_interrupt) trace_interrupt(vector, error_code, software, external);
    // Benign faults chain without bound on hardware (say #AC pushing a frame for #AC); the host
    // must not spin here with no instruction retiring, so a long chain ends like a triple fault.
    constexpr int kMaxNestedFaults = 16;
    for (int attempt = 0;; attempt++) {
        try {
            if (!pe) deliver_real(*this, vector);   // real mode pushes no error code
            else deliver_protected(*this, vector, error_code, software);
            return;
        } catch (const GuestFault& f) {
            // A fault while delivering INT n/INT3/INTO is a fault of that instruction: the
            // return address becomes the instruction itself, not the one after it.
            if (software) eip = insn_eip;
            const EventClass first = classify(vector, software, external);
            const EventClass second = classify(f.vector, false, false);
            if (first == EventClass::DoubleFault || attempt == kMaxNestedFaults) {
                stop = StopReason::Shutdown;
                if (on_triple_fault) on_triple_fault();
                return;
            }
            if ((first == EventClass::Contributory && second == EventClass::Contributory) ||
                (first == EventClass::PageFault &&
                 (second == EventClass::Contributory || second == EventClass::PageFault))) {
                vector = kDF;
                error_code = 0;
            } else {
                vector = f.vector;
                error_code = f.error_code;
                // EXT: the fault happened while delivering an event the program did not ask
                // for with INT n/INT3/INTO (6.13).
                if (!software && has_selector_error_code(f.vector) && error_code >= 0) error_code |= 1;
            }
            software = external = false;
        }
    }
}

// ---------------------------------------------------------------- IRET

void Cpu::iret(unsigned osize) {
    if (pe && !vm86 && (eflags & fl::NT)) {
        iret_task_return(*this);
        return;
    }
    if (vm86 && ((eflags & fl::IOPL) >> 12) < 3) fault(kGP, 0);   // trap to the V86 monitor

    StackReader stack(*this);
    const uint32_t new_eip = stack.pop(osize);
    const uint16_t cs_sel = uint16_t(stack.pop(osize));
    const uint32_t popped = stack.pop(osize);
    const uint32_t cur = get_eflags();

    if (!pe || vm86) {
        // REAL-ADDRESS-MODE, and RETURN-FROM-VIRTUAL-8086-MODE at IOPL 3: VM (and in V86 mode
        // IOPL, VIF, VIP) never change; IRET with a 16-bit operand only loads FLAGS.
        if (new_eip > seg[CS].limit) fault(kGP, 0);
        uint32_t keep = osize == 4 ? fl::VM | fl::VIF | fl::VIP : 0xFFFF0000u;
        if (vm86) keep |= fl::IOPL;
        load_seg_real(CS, cs_sel);
        eip = new_eip;
        r[ESP] = stack.esp();
        set_eflags((cur & keep) | (popped & ~keep));
        stop_block = true;
        return;
    }

    if (osize == 4 && (popped & fl::VM) && cpl == 0) {
        // RETURN-TO-VIRTUAL-8086-MODE: ESP, SS, ES, DS, FS, GS follow on the stack.
        if (new_eip > 0xFFFF) fault(kGP, 0);
        const uint32_t new_esp = stack.pop(4);
        uint16_t sels[5];   // SS, ES, DS, FS, GS
        for (uint16_t& s : sels) s = uint16_t(stack.pop(4));
        set_eflags(popped);   // VM = 1: update_mode() now sees V86 mode and CPL 3
        static constexpr SegReg order[5] = {SS, ES, DS, FS, GS};
        for (unsigned k = 0; k < 5; k++) load_seg_real(order[k], sels[k]);
        load_seg_real(CS, cs_sel);
        r[ESP] = new_esp;
        eip = new_eip;
        stop_block = true;
        return;
    }

    // PROTECTED-MODE-RETURN
    Descriptor code = check_return_code_segment(*this, cs_sel);
    const uint32_t new_flags = iret_eflags(cur, popped, osize, cpl);
    if (rpl(cs_sel) == cpl) {
        // RETURN-TO-SAME-PRIVILEGE-LEVEL
        check_code_limit(code, new_eip);
        enter_code_segment(*this, cs_sel, code, cpl, new_eip);
        r[ESP] = stack.esp();
        set_eflags(new_flags);
        return;
    }
    // RETURN-TO-OUTER-PRIVILEGE-LEVEL
    const uint32_t new_esp = stack.pop(osize);
    const uint16_t ss_sel = uint16_t(stack.pop(osize));
    const unsigned new_cpl = rpl(cs_sel);
    Descriptor ss = check_stack_segment(*this, ss_sel, new_cpl, kGP);
    check_code_limit(code, new_eip);

    mark_accessed(*this, ss_sel, ss);
    mark_accessed(*this, cs_sel, code);
    r[ESP] = outer_esp(*this, ss, new_esp, 0);
    load_descriptor(*this, seg[SS], ss_sel, ss);
    set_eflags(new_flags);   // IF/IOPL rules above used the old CPL
    enter_code_segment(*this, cs_sel, code, new_cpl, new_eip);
    null_inaccessible_data_segments(*this);
}

}  // namespace lift86
