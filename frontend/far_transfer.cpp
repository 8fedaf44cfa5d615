// Far JMP, CALL and RET in real, V86 and protected mode: direct transfers to conforming and
// non-conforming code, call gates with the stack switch and parameter copy, returns to an outer
// privilege level, and task gates / TSS descriptors (SDM vol.2 JMP, CALL, RET; vol.3 5.8, 7.3).
//
// Every transfer checks everything first and commits last: a fault leaves the registers as they
// were, so the run loop can restart the instruction. (Pushes may already have written below ESP,
// memory that is free by definition.) `osize` is the operand size in bytes (2 or 4).
#include "frontend/protmode.hpp"

namespace lift86 {

using pm::Descriptor;

namespace pm {

// ---------------------------------------------------------------- shared pieces

void check_code_limit(const Descriptor& code, uint32_t eip) {
    // Code segments are never expand-down: valid offsets are 0..limit.
    if (eip > code.limit()) throw GuestFault{kGP, 0};
}

void enter_code_segment(Cpu& cpu, uint16_t sel, Descriptor code, unsigned new_cpl, uint32_t eip) {
    load_descriptor(cpu, cpu.seg[CS], uint16_t((sel & ~3u) | new_cpl), code);   // CS(RPL) <- CPL
    cpu.eip = eip;
    cpu.update_mode();
    cpu.stop_block = true;
}

void inner_stack_from_tss(Cpu& cpu, unsigned pl, uint16_t& ss, uint32_t& esp) {
    const Segment& tss = cpu.tr;
    if (tss.attr & 8) {   // 32-bit TSS: ESPn at 8n+4, SSn at 8n+8
        const uint32_t at = pl * 8 + 4;
        if (at + 5 > tss.limit) cpu.fault(kTS, sel_error(tss.sel));
        esp = cpu.read_sys(tss.base + at, 4);
        ss = uint16_t(cpu.read_sys(tss.base + at + 4, 2));
    } else {              // 16-bit TSS: SPn at 4n+2, SSn at 4n+4
        const uint32_t at = pl * 4 + 2;
        if (at + 3 > tss.limit) cpu.fault(kTS, sel_error(tss.sel));
        esp = cpu.read_sys(tss.base + at, 2);
        ss = uint16_t(cpu.read_sys(tss.base + at + 2, 2));
    }
}

Descriptor check_return_code_segment(Cpu& cpu, uint16_t sel) {
    if (is_null(sel)) cpu.fault(kGP, 0);
    Descriptor d = fetch_descriptor(cpu, sel, kGP);
    if (!d.is_code()) cpu.fault(kGP, sel_error(sel));
    if (rpl(sel) < cpu.cpl) cpu.fault(kGP, sel_error(sel));   // never return to more privilege
    if (d.conforming() && d.dpl() > rpl(sel)) cpu.fault(kGP, sel_error(sel));
    if (!d.conforming() && d.dpl() != rpl(sel)) cpu.fault(kGP, sel_error(sel));
    if (!d.present()) cpu.fault(kNP, sel_error(sel));
    return d;
}

uint32_t outer_esp(const Cpu& cpu, const Descriptor& ss, uint32_t popped_esp, uint32_t release) {
    if (ss.hi & (attr::DB << 8)) return popped_esp + release;
    return (cpu.r[ESP] & 0xFFFF0000u) | ((popped_esp + release) & 0xFFFF);
}

void switch_to_tss_of_gate(Cpu& cpu, const Descriptor& gate, TaskSource source) {
    // The gate's selector must name an available TSS in the GDT (SDM vol.2 JMP/CALL TASK-GATE,
    // INT TASK-GATE).
    const uint16_t sel = gate.gate_selector();
    if (sel & 4) cpu.fault(kGP, sel_error(sel));
    Descriptor tss = fetch_descriptor(cpu, sel, kGP);
    if (!tss.is_tss() || tss.tss_busy()) cpu.fault(kGP, sel_error(sel));
    if (!tss.present()) cpu.fault(kNP, sel_error(sel));
    cpu.task_switch(sel, tss.lo, tss.hi, source, cpu.eip);
}

StackWriter::StackWriter(Cpu& cpu, const Segment& ss, uint32_t esp, unsigned pl, int32_t ss_error)
    : cpu_(cpu), ss_(ss), esp_(esp), mask_((ss.attr & attr::DB) ? 0xFFFFFFFFu : 0xFFFFu),
      user_(pl == 3), error_(ss_error) {}

uint32_t StackWriter::next(uint32_t esp, unsigned size) const {
    const uint32_t off = (esp - size) & mask_;
    if (off < ss_.lo || uint64_t(off) + size - 1 > ss_.hi || !ss_.writable) cpu_.fault(kSS, error_);
    return off;
}

void StackWriter::require_room(unsigned count, unsigned size) const {
    uint32_t esp = esp_;
    for (unsigned i = 0; i < count; i++) esp = (esp & ~mask_) | next(esp, size);
}

void StackWriter::push(uint32_t value, unsigned size) {
    const uint32_t off = next(esp_, size);
    cpu_.write_slow(ss_.base + off, value, size, user_);
    esp_ = (esp_ & ~mask_) | off;
}

uint32_t StackReader::pop(unsigned size) {
    const uint32_t off = esp_ & mask_;
    const uint32_t v = size == 4 ? cpu_.read<uint32_t>(SS, off) : cpu_.read<uint16_t>(SS, off);
    esp_ = (esp_ & ~mask_) | ((off + size) & mask_);
    return v;
}

}  // namespace pm

namespace {

using namespace pm;

// Gates and TSS descriptors named directly by JMP/CALL: "IF DPL < CPL or DPL < RPL THEN
// #GP(selector); IF not present THEN #NP(selector)".
void check_gate_access(Cpu& cpu, const Descriptor& d, uint16_t sel) {
    if (d.dpl() < cpu.cpl || d.dpl() < rpl(sel)) cpu.fault(kGP, sel_error(sel));
    if (!d.present()) cpu.fault(kNP, sel_error(sel));
}

// A code segment named directly by JMP/CALL (CONFORMING-/NONCONFORMING-CODE-SEGMENT): the
// transfer stays at CPL, so a conforming target may be more privileged (DPL <= CPL), a
// non-conforming one must be at CPL exactly (with RPL <= CPL).
void check_direct_code(Cpu& cpu, const Descriptor& d, uint16_t sel) {
    if (d.conforming() ? d.dpl() > cpu.cpl : (rpl(sel) > cpu.cpl || d.dpl() != cpu.cpl))
        cpu.fault(kGP, sel_error(sel));
    if (!d.present()) cpu.fault(kNP, sel_error(sel));
}

// A direct JMP or CALL to a TSS descriptor (TASK-STATE-SEGMENT): it must be available.
void switch_to_tss(Cpu& cpu, const Descriptor& d, uint16_t sel, TaskSource source) {
    if (d.dpl() < cpu.cpl || d.dpl() < rpl(sel) || d.tss_busy()) cpu.fault(kGP, sel_error(sel));
    if (!d.present()) cpu.fault(kNP, sel_error(sel));
    cpu.task_switch(sel, d.lo, d.hi, source, cpu.eip);
}

uint32_t operand(uint32_t off, unsigned osize) { return osize == 2 ? off & 0xFFFF : off; }

}  // namespace

// JMP/CALL to a task gate or a TSS descriptor: a task switch (SDM vol.3 7.3).
static void task_transfer(Cpu& c, const Descriptor& d, uint16_t sel, TaskSource source) {
    if (d.type() == kTaskGate) {
        check_gate_access(c, d, sel);
        switch_to_tss_of_gate(c, d, source);
    } else {
        switch_to_tss(c, d, sel, source);
    }
}

// ---------------------------------------------------------------- JMP far

void Cpu::far_jump(uint16_t sel, uint32_t off, unsigned osize) {
    const uint32_t target = operand(off, osize);
    if (!pe || vm86) {
        // Real-address / V86 mode: the new CS keeps the cached limit (64 KiB in V86 mode).
        if (target > seg[CS].limit) fault(kGP, 0);
        load_seg_real(CS, sel);
        eip = target;
        stop_block = true;
        return;
    }
    if (is_null(sel)) fault(kGP, 0);
    Descriptor d = fetch_descriptor(*this, sel, kGP);
    if (d.is_code()) {
        check_direct_code(*this, d, sel);
        check_code_limit(d, target);
        enter_code_segment(*this, sel, d, cpl, target);
        return;
    }
    if (d.is_segment()) fault(kGP, sel_error(sel));   // a data segment
    switch (d.type()) {
    case kCallGate16:
    case kCallGate32: {
        // JMP through a call gate never changes privilege (SDM vol.3 5.8.6): the target must be
        // conforming with DPL <= CPL or non-conforming with DPL = CPL.
        check_gate_access(*this, d, sel);
        const uint16_t cs_sel = d.gate_selector();
        if (is_null(cs_sel)) fault(kGP, 0);
        Descriptor code = fetch_descriptor(*this, cs_sel, kGP);
        if (!code.is_code() || (code.conforming() ? code.dpl() > cpl : code.dpl() != cpl))
            fault(kGP, sel_error(cs_sel));
        if (!code.present()) fault(kNP, sel_error(cs_sel));
        check_code_limit(code, d.gate_offset());
        enter_code_segment(*this, cs_sel, code, cpl, d.gate_offset());
        return;
    }
    case kTaskGate:
    case kTss16:
    case kTss32:
    case kTss16Busy:
    case kTss32Busy:
        task_transfer(*this, d, sel, kTaskJmp);
        return;
    default:
        fault(kGP, sel_error(sel));
    }
}

// ---------------------------------------------------------------- CALL far

void Cpu::far_call(uint16_t sel, uint32_t off, unsigned osize) {
    const uint32_t target = operand(off, osize);
    if (!pe || vm86) {
        // Real-address / V86 mode: push CS and (E)IP, then load CS like a real-mode segment.
        StackWriter stack = StackWriter::current(*this);
        stack.require_room(2, osize);
        if (target > seg[CS].limit) fault(kGP, 0);
        stack.push(seg[CS].sel, osize);
        stack.push(eip, osize);
        load_seg_real(CS, sel);
        eip = target;
        r[ESP] = stack.esp();
        stop_block = true;
        return;
    }
    if (is_null(sel)) fault(kGP, 0);
    Descriptor d = fetch_descriptor(*this, sel, kGP);
    if (d.is_code()) {
        check_direct_code(*this, d, sel);
        StackWriter stack = StackWriter::current(*this);
        stack.require_room(2, osize);   // #SS(0)
        check_code_limit(d, target);
        stack.push(seg[CS].sel, osize);
        stack.push(eip, osize);
        enter_code_segment(*this, sel, d, cpl, target);
        r[ESP] = stack.esp();
        return;
    }
    if (d.is_segment()) fault(kGP, sel_error(sel));
    switch (d.type()) {
    case kCallGate16:
    case kCallGate32:
        break;   // below
    case kTaskGate:
    case kTss16:
    case kTss32:
    case kTss16Busy:
    case kTss32Busy:
        task_transfer(*this, d, sel, kTaskCall);
        return;
    default:
        fault(kGP, sel_error(sel));
    }

    // CALL-GATE (SDM vol.2 CALL, vol.3 5.8.4-5.8.5).
    check_gate_access(*this, d, sel);
    const uint16_t cs_sel = d.gate_selector();
    if (is_null(cs_sel)) fault(kGP, 0);
    Descriptor code = fetch_descriptor(*this, cs_sel, kGP);
    if (!code.is_code() || code.dpl() > cpl) fault(kGP, sel_error(cs_sel));
    if (!code.present()) fault(kNP, sel_error(cs_sel));
    const unsigned size = d.gate32() ? 4 : 2;   // the gate size, not the operand size, counts
    const uint32_t gate_eip = d.gate_offset();

    if (code.conforming() || code.dpl() == cpl) {
        // SAME-PRIVILEGE
        StackWriter stack = StackWriter::current(*this);
        stack.require_room(2, size);
        check_code_limit(code, gate_eip);
        stack.push(seg[CS].sel, size);
        stack.push(eip, size);
        enter_code_segment(*this, cs_sel, code, cpl, gate_eip);
        r[ESP] = stack.esp();
        return;
    }

    // MORE-PRIVILEGE: switch to the stack of the target level from the TSS and copy the
    // parameters (SDM vol.3 5.8.5, figure 5-13).
    const unsigned new_cpl = code.dpl();
    uint16_t ss_sel;
    uint32_t new_esp;
    inner_stack_from_tss(*this, new_cpl, ss_sel, new_esp);
    Descriptor ss = check_stack_segment(*this, ss_sel, new_cpl, kTS);
    const unsigned params = d.gate_params();
    StackWriter stack(*this, segment_from(ss_sel, ss), new_esp, new_cpl, sel_error(ss_sel));
    stack.require_room(4 + params, size);   // SS, ESP, parameters, CS, EIP: #SS(new SS)
    check_code_limit(code, gate_eip);

    stack.push(seg[SS].sel, size);
    stack.push(r[ESP], size);
    for (unsigned i = params; i-- > 0;) {   // the deepest parameter first keeps their order
        const uint32_t at = (r[ESP] + i * size) & sp_mask();
        stack.push(size == 4 ? read<uint32_t>(SS, at) : read<uint16_t>(SS, at), size);
    }
    stack.push(seg[CS].sel, size);
    stack.push(eip, size);

    mark_accessed(*this, ss_sel, ss);   // both descriptors are written before any register changes
    mark_accessed(*this, cs_sel, code);
    load_descriptor(*this, seg[SS], ss_sel, ss);
    r[ESP] = stack.esp();
    enter_code_segment(*this, cs_sel, code, new_cpl, gate_eip);
}

// ---------------------------------------------------------------- RET far

void Cpu::far_return(unsigned osize, uint16_t pop_bytes) {
    StackReader stack(*this);
    const uint32_t new_eip = stack.pop(osize);
    const uint16_t cs_sel = uint16_t(stack.pop(osize));   // a 32-bit pop drops the high half
    if (!pe || vm86) {
        if (new_eip > seg[CS].limit) fault(kGP, 0);
        stack.release(pop_bytes);
        load_seg_real(CS, cs_sel);
        eip = new_eip;
        r[ESP] = stack.esp();
        stop_block = true;
        return;
    }
    Descriptor code = check_return_code_segment(*this, cs_sel);
    if (rpl(cs_sel) == cpl) {
        // RETURN-TO-SAME-PRIVILEGE-LEVEL
        check_code_limit(code, new_eip);
        stack.release(pop_bytes);
        enter_code_segment(*this, cs_sel, code, cpl, new_eip);
        r[ESP] = stack.esp();
        return;
    }
    // RETURN-TO-OUTER-PRIVILEGE-LEVEL: the caller's SS:ESP lies above the parameters.
    stack.release(pop_bytes);
    const uint32_t new_esp = stack.pop(osize);
    const uint16_t ss_sel = uint16_t(stack.pop(osize));
    const unsigned new_cpl = rpl(cs_sel);
    Descriptor ss = check_stack_segment(*this, ss_sel, new_cpl, kGP);
    check_code_limit(code, new_eip);

    mark_accessed(*this, ss_sel, ss);
    mark_accessed(*this, cs_sel, code);
    r[ESP] = outer_esp(*this, ss, new_esp, pop_bytes);
    load_descriptor(*this, seg[SS], ss_sel, ss);
    enter_code_segment(*this, cs_sel, code, new_cpl, new_eip);
    null_inaccessible_data_segments(*this);
}

}  // namespace lift86
