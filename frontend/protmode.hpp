// Protected-mode pieces that the SDM pseudo-code repeats in MOV Sreg, JMP/CALL/RET far, INT/IRET
// and task switches: the decoded descriptor and the checks and loads built on it. Shared by
// segmentation.cpp, far_transfer.cpp, interrupts.cpp and task.cpp; nothing else needs it.
#pragma once
#include <cstdint>

#include "frontend/cpu.hpp"

namespace lift86::pm {

// System descriptor types (SDM vol.3 3.5, table 3-2).
enum SysType : unsigned {
    kTss16 = 1, kLdt = 2, kTss16Busy = 3, kCallGate16 = 4, kTaskGate = 5, kIntGate16 = 6,
    kTrapGate16 = 7, kTss32 = 9, kTss32Busy = 11, kCallGate32 = 12, kIntGate32 = 14, kTrapGate32 = 15,
};
constexpr uint32_t kTssBusyBit = 1u << 9;   // type bit 1 of a TSS descriptor, in the high dword

// An 8-byte segment or gate descriptor (SDM vol.3 3.4.5 and 5.8.3, figures 3-8 and 5-8).
struct Descriptor {
    uint32_t lo = 0, hi = 0;

    uint32_t base() const { return (lo >> 16) | ((hi & 0xFF) << 16) | (hi & 0xFF000000u); }
    // Effective byte limit: a page-granular limit counts in 4 KiB units, the low 12 bits all ones.
    uint32_t limit() const {
        uint32_t raw = (lo & 0xFFFF) | (hi & 0xF0000);
        return (hi & (1u << 23)) ? (raw << 12) | 0xFFF : raw;
    }
    uint32_t attr() const { return (hi >> 8) & 0xF0FF; }   // Segment::attr layout
    unsigned type() const { return (hi >> 8) & 0xF; }
    unsigned dpl() const { return (hi >> 13) & 3; }
    bool present() const { return hi & (1u << 15); }
    bool is_segment() const { return hi & (1u << 12); }   // S = 1: code or data, else system
    bool is_code() const { return is_segment() && (type() & 8); }
    bool is_data() const { return is_segment() && !(type() & 8); }
    bool conforming() const { return is_code() && (type() & 4); }
    bool readable_code() const { return is_code() && (type() & 2); }
    bool writable_data() const { return is_data() && (type() & 2); }
    bool is_system(unsigned t) const { return !is_segment() && type() == t; }
    bool is_tss() const {
        return !is_segment() && (type() == kTss16 || type() == kTss16Busy || type() == kTss32 || type() == kTss32Busy);
    }
    bool tss_busy() const { return type() & 2; }
    bool tss32() const { return type() & 8; }
    // Gates (SDM vol.3 5.8.3, 6.11): target selector, offset (16-bit gates use only the low
    // word), parameter count of a call gate, and the gate size (bit 3 of the type).
    uint16_t gate_selector() const { return uint16_t(lo >> 16); }
    uint32_t gate_offset() const { return gate32() ? (lo & 0xFFFF) | (hi & 0xFFFF0000u) : (lo & 0xFFFF); }
    unsigned gate_params() const { return hi & 0x1F; }
    bool gate32() const { return type() & 8; }
};

inline bool is_null(uint16_t sel) { return (sel & 0xFFFC) == 0; }
inline unsigned rpl(uint16_t sel) { return sel & 3; }
// Error code naming a selector (SDM vol.3 6.13): index and TI; EXT and IDT are 0 here (EXT is
// added by deliver() for faults raised while delivering an event).
inline int32_t sel_error(uint16_t sel) { return sel & 0xFFFC; }
// Error code naming an IDT vector (IDT bit set).
inline int32_t idt_error(uint8_t vector) { return int32_t(vector) * 8 + 2; }

// ---- segmentation.cpp ----
// The descriptor `sel` names; raises `vector`(selector) when it lies outside the GDT/LDT limit.
Descriptor fetch_descriptor(Cpu& cpu, uint16_t sel, uint8_t vector);
// Sets the accessed bit of a code/data descriptor in memory if clear (SDM vol.3 3.4.5.1).
void mark_accessed(Cpu& cpu, uint16_t sel, Descriptor& d);
// Loads a segment register (or LDTR/TR) from a descriptor that passed its checks; marks it accessed.
void load_descriptor(Cpu& cpu, Segment& sg, uint16_t sel, Descriptor d);
// Loads a protected-mode null selector: the register stays usable for nothing (#GP(0) on access).
void load_null(Cpu& cpu, Segment& sg, uint16_t sel);
// The hidden part a segment register would get from `d`, without loading it (a stack being
// prepared before it becomes SS).
Segment segment_from(uint16_t sel, const Descriptor& d);
// "IF segment is not a writable data segment or RPL != CPL or DPL != CPL ..." (MOV SS, task
// switch, inner stacks of call gates and interrupts, returns to an outer level): the checks a
// stack segment passes to run at privilege `pl`. `vector` is what a bad selector raises (#GP or
// #TS); a not-present segment is #SS(selector).
Descriptor check_stack_segment(Cpu& cpu, uint16_t sel, unsigned pl, uint8_t vector);
// MOV DS/ES/FS/GS and task switches: data or readable code; for data and non-conforming code
// max(CPL, RPL) <= DPL. Bad: `vector`(selector); not present: #NP(selector). Non-null `sel` only.
Descriptor check_data_segment(Cpu& cpu, uint16_t sel, unsigned cpl, uint8_t vector);
// RETF and IRET to an outer level: DS, ES, FS, GS holding data or non-conforming code more
// privileged than the new CPL become null (SDM vol.2 RET, IRET).
void null_inaccessible_data_segments(Cpu& cpu);

// ---- far_transfer.cpp ----
// "IF tempEIP not in code segment limit THEN #GP(0)".
void check_code_limit(const Descriptor& code, uint32_t eip);
// Makes `code` the current code segment at privilege `new_cpl` (CS.RPL = CPL) and jumps to `eip`.
void enter_code_segment(Cpu& cpu, uint16_t sel, Descriptor code, unsigned new_cpl, uint32_t eip);
// The stack pointer for privilege level `pl` from the current TSS (SDM vol.3 5.8.5, 6.12.1);
// #TS(TSS selector) when the TSS is too short to hold it.
void inner_stack_from_tss(Cpu& cpu, unsigned pl, uint16_t& ss, uint32_t& esp);
// The code segment of a RETF/IRET: the checks both instructions share (SDM vol.2 RET, IRET).
Descriptor check_return_code_segment(Cpu& cpu, uint16_t sel);
// SS:ESP after a return to an outer level: a 16-bit stack segment takes only SP (the upper half
// of ESP keeps the inner value, as on hardware), then `release` bytes of parameters are dropped.
uint32_t outer_esp(const Cpu& cpu, const Descriptor& ss, uint32_t popped_esp, uint32_t release);
// JMP/CALL through a task gate or to a TSS, and INT through a task gate: the target TSS checks
// ("IF TSS descriptor specifies that the TSS is busy... IF TSS not present") and the switch.
void switch_to_tss_of_gate(Cpu& cpu, const Descriptor& gate, TaskSource source);

// Pushes onto a stack that may not be SS:ESP yet (the inner stack of a call gate or an
// interrupt) or onto the current one without touching ESP until the transfer commits. Every
// push is checked against the segment's limits (#SS(error) with the caller's error code) and
// written with the privilege of the level that will own the stack.
class StackWriter {
public:
    StackWriter(Cpu& cpu, const Segment& ss, uint32_t esp, unsigned pl, int32_t ss_error);
    static StackWriter current(Cpu& cpu) { return StackWriter(cpu, cpu.seg[SS], cpu.r[ESP], cpu.cpl, 0); }
    // "IF stack does not have room for N bytes THEN #SS": checks `count` pushes of `size` bytes.
    void require_room(unsigned count, unsigned size) const;
    void push(uint32_t value, unsigned size);
    uint32_t esp() const { return esp_; }

private:
    uint32_t next(uint32_t esp, unsigned size) const;   // offset of the next push, checked
    Cpu& cpu_;
    Segment ss_;
    uint32_t esp_, mask_;
    unsigned user_;
    int32_t error_;
};

// Pops from SS:ESP without changing ESP until the caller commits (#SS(0) beyond the limit).
class StackReader {
public:
    explicit StackReader(Cpu& cpu) : cpu_(cpu), esp_(cpu.r[ESP]), mask_(cpu.sp_mask()) {}
    uint32_t pop(unsigned size);
    void release(uint32_t bytes) { esp_ = (esp_ & ~mask_) | ((esp_ + bytes) & mask_); }
    uint32_t esp() const { return esp_; }

private:
    Cpu& cpu_;
    uint32_t esp_, mask_;
};

// ---- task.cpp ----
// After an INT through a task gate: #DB if the new TSS has its T bit set (SDM vol.3 7.2.1).
void raise_task_trap_if_set(Cpu& cpu);

}  // namespace lift86::pm
