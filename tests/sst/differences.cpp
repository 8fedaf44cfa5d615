#include "tests/sst/differences.hpp"

#include <cctype>
#include <fstream>

namespace lift86::sst {

namespace {

constexpr uint8_t kDE = 0, kUD = 6, kSS = 12, kGP = 13;

bool expects_vector(const MooTest& t, uint8_t v) { return t.excp && t.excp->vector == v; }

// Instructions the 386+ accepts LOCK on, when the destination is memory (i386 PRM 13.3.4 /
// SDM vol.2 LOCK): ADD ADC AND OR SBB SUB XOR, INC DEC NEG NOT, XCHG (BT*, CMPXCHG, XADD are 386+).
bool lockable(const OpcodeInfo& op) {
    if (op.two_byte || !op.mem_operand()) return false;
    uint8_t o = op.opcode;
    if (o < 0x40) return (o & 7) <= 1 && (o >> 3) != 7;   // 00/01 08/09 ... 30/31, not CMP (38/39)
    switch (o) {
    case 0x80: case 0x81: case 0x82: case 0x83: return op.reg() != 7;   // not CMP
    case 0x86: case 0x87: return true;                                    // XCHG r/m,reg
    case 0xF6: case 0xF7: return op.reg() == 2 || op.reg() == 3;          // NOT, NEG
    case 0xFE: case 0xFF: return op.reg() <= 1;                           // INC, DEC
    default: return false;
    }
}

// Instructions that read or write the stack on their own (not through a ModRM operand).
bool uses_stack(const OpcodeInfo& op) {
    if (op.two_byte) return false;
    switch (op.opcode) {
    case 0x06: case 0x07: case 0x0E: case 0x16: case 0x17: case 0x1E: case 0x1F:   // PUSH/POP Sreg
    case 0x60: case 0x61: case 0x68: case 0x6A:                                      // PUSHA POPA PUSH imm
    case 0x8F: case 0x9A: case 0x9C: case 0x9D:                                      // POP r/m CALL far PUSHF POPF
    case 0xC2: case 0xC3: case 0xC8: case 0xC9: case 0xCA: case 0xCB:                // RET ENTER LEAVE RETF
    case 0xCC: case 0xCD: case 0xCE: case 0xCF: case 0xE8:                           // INT3 INT INTO IRET CALL
        return true;
    case 0xFF: return op.reg() == 2 || op.reg() == 3 || op.reg() == 6;              // CALL, CALL far, PUSH
    default: return op.opcode >= 0x50 && op.opcode <= 0x5F;                         // PUSH/POP reg
    }
}

struct BeforeRule {
    bool (*applies)(const OpcodeInfo&, const MooTest&);
    const char* reason;
    int p6_vector;   // what a P6 does instead, when that is an exception
};

const BeforeRule kBeforeRules[] = {
    // The 286 executes LOCK in front of anything; the 386 and later raise #UD unless the
    // instruction is a lockable read-modify-write of memory (i386 PRM 13.3.4, SDM vol.2 LOCK).
    // When the 286 itself raised #UD the outcomes agree, so those tests still run.
    {[](const OpcodeInfo& op, const MooTest& t) { return op.lock && !lockable(op) && !expects_vector(t, kUD); },
     "LOCK on a non-lockable instruction (#UD on 386+)", kUD},
    // MOV r/m,Sreg and MOV Sreg,r/m with reg 4/5: FS/GS exist from the 386 on; the 286 raises #UD.
    {[](const OpcodeInfo& op, const MooTest&) {
         return !op.two_byte && (op.opcode == 0x8C || op.opcode == 0x8E) && (op.reg() == 4 || op.reg() == 5);
     },
     "MOV with Sreg 4/5 (FS/GS on 386+, #UD on 286)", -1},
    // The 286 limits an instruction to 10 bytes (longer: #GP, 80286 PRM), the 386+ to 15
    // (i386 PRM 14.7 item 6). The suite's random prefixes make some instructions 11-12 bytes.
    {[](const OpcodeInfo& op, const MooTest& t) { return op.length() > 10 && expects_vector(t, kGP); },
     "instruction longer than 10 bytes (#GP on 286, 15-byte limit on 386+)", -1},
    // 0F 05 is the 286-only LOADALL; on a P6 it is undefined (#UD).
    {[](const OpcodeInfo& op, const MooTest&) { return op.two_byte && op.opcode2 == 0x05; },
     "0F 05 LOADALL is 286-only", kUD},
    // SMSW: the 286 reads the reserved MSW bits 4-15 as 1; the 386+ returns CR0[15:0] (ET=bit 4).
    {[](const OpcodeInfo& op, const MooTest&) { return op.two_byte && op.opcode2 == 0x01 && op.reg() == 4; },
     "SMSW reserved MSW bits (286: ones, 386+: CR0)", -1},
    // SGDT/SIDT with a 16-bit operand: the 286 fills the 6th byte with 1s, later CPUs with 0s
    // (SDM vol.2 SGDT, "IA-32 Architecture Compatibility").
    {[](const OpcodeInfo& op, const MooTest&) {
         return op.two_byte && op.opcode2 == 0x01 && (op.reg() == 0 || op.reg() == 1) && op.mem_operand();
     },
     "SGDT/SIDT 6th byte (286: FFh, 386+: 00h)", -1},
};

bool is_string_op(const OpcodeInfo& op) {
    return !op.two_byte && ((op.opcode >= 0x6C && op.opcode <= 0x6F) || (op.opcode >= 0xA4 && op.opcode <= 0xA7) ||
                            (op.opcode >= 0xAA && op.opcode <= 0xAF));
}

struct RegisterRule {
    bool (*applies)(const OpcodeInfo&, const MooTest&);
    uint16_t regs;   // MooReg bits
    const char* reason;
};

const RegisterRule kRegisterRules[] = {
    // A string instruction that faults on a segment overrun: the 286 has already stepped SI/DI
    // (and CX under REP), so a fault handler must adjust them before restarting (Intel, "80286
    // REP MOVS and REP INS Restartability", 1984); a P6 fault leaves them as they were before the
    // instruction (SDM vol.3 6.5). Everything else, the exception frame included, is compared.
    {[](const OpcodeInfo& op, const MooTest& t) { return is_string_op(op) && expects_vector(t, kGP); },
     uint16_t(1u << SI | 1u << DI | 1u << CX), "string op faulting: 286 already advanced SI/DI/CX"},
};

struct AfterRule {
    bool (*applies)(const OpcodeInfo&, const MooTest&, int got_vector);
    const char* reason;
};

const AfterRule kAfterRules[] = {
    // A stack access crossing SS:FFFF in real mode: the 286 raises interrupt 13 for any operand at
    // offset FFFFh (80286 PRM, real-address-mode exceptions), the 386+ raises #SS (12) when the
    // segment is SS (i386 PRM 14.7 item 7). Only accepted when the CPU took #SS for an instruction
    // that uses the stack implicitly or whose memory operand is SS-relative ([bp+...], SS:).
    // (A lift86 bug that picks SS instead of DS would show up in the tests without a wrap.)
    {[](const OpcodeInfo& op, const MooTest& t, int got) {
         return expects_vector(t, kGP) && got == kSS && (uses_stack(op) || op.operand_in_ss());
     },
     "operand wrapping at SS:FFFF: #GP on 286, #SS on 386+"},
    // POP r/m16 whose memory destination faults: the 286 has already incremented SP when it
    // raises #GP, so its exception frame sits 2 bytes higher. On a P6 faults are precise: the
    // instruction's effects are undone and SP is as before it (SDM vol.3 6.5; vol.2 POP). Only
    // taken when the test expects #GP (the test's own handler runs, so `got` is not known here;
    // everything but SP and the frame position is still checked by the other 8F tests).
    {[](const OpcodeInfo& op, const MooTest& t, int) {
         return !op.two_byte && op.opcode == 0x8F && expects_vector(t, kGP);
     },
     "POP m16 faulting: 286 already incremented SP, P6 faults are precise"},
    // IDIV r/m8 with a quotient that does not fit in AL: the 286 sometimes returns a truncated
    // quotient without #DE (observed in this suite); the SDM (vol.2 IDIV: "IF temp > 7FH or
    // temp < 80H THEN #DE") and every 386+ raise #DE. Only accepted when lift86 raised #DE.
    {[](const OpcodeInfo& op, const MooTest& t, int got) {
         return !op.two_byte && op.opcode == 0xF6 && op.reg() == 7 && !t.excp && got == kDE;
     },
     "IDIV quotient overflow missed by the 286; #DE per the SDM"},
};

}  // namespace

void Revocations::load(const std::string& path) {
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        std::string h;
        for (char c : line)
            if (!std::isspace(static_cast<unsigned char>(c))) h += char(std::tolower(static_cast<unsigned char>(c)));
        if (h.size() == 40 && h.find_first_not_of("0123456789abcdef") == std::string::npos) hashes_.insert(h);
    }
}

bool Revocations::revoked(const MooTest& t) const {
    return t.hash && !hashes_.empty() && hashes_.count(hex_string(*t.hash)) != 0;
}

const char* skip_form(const FormName& form) {
    // A one-byte "0F" form is POP CS on the 8086/8088; from the 286 on 0F is the two-byte escape.
    if (form.opcode == 0x0F && !form.two_byte) return "0F is POP CS only on the 8086";
    return nullptr;
}

std::optional<Skip> skip_before_run(const OpcodeInfo& op, const MooTest& t) {
    for (const BeforeRule& r : kBeforeRules)
        if (r.applies(op, t)) return Skip{r.reason, r.p6_vector};
    return std::nullopt;
}

uint16_t registers_not_compared(const OpcodeInfo& op, const MooTest& t) {
    uint16_t m = 0;
    for (const RegisterRule& r : kRegisterRules)
        if (r.applies(op, t)) m |= r.regs;
    return m;
}

const char* skip_after_run(const OpcodeInfo& op, const MooTest& t, int got_vector) {
    for (const AfterRule& r : kAfterRules)
        if (r.applies(op, t, got_vector)) return r.reason;
    return nullptr;
}

}  // namespace lift86::sst
