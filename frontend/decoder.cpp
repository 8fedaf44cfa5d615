#include "frontend/decoder.hpp"

#include <cstdio>
#include <cstdlib>

#include "frontend/cpu.hpp"

namespace lift86 {

namespace {

struct Decoders {
    ZydisDecoder d16, d32;
    Decoders() {
        ZydisDecoderInit(&d16, ZYDIS_MACHINE_MODE_LEGACY_16, ZYDIS_STACK_WIDTH_16);
        ZydisDecoderInit(&d32, ZYDIS_MACHINE_MODE_LEGACY_32, ZYDIS_STACK_WIDTH_32);
        // A P6 has no CET (3E before an indirect branch is a DS override, not NOTRACK) and no
        // LZCNT/TZCNT (F3 0F BD/BC are BSR/BSF with an ignored REP prefix).
        for (ZydisDecoder* d : {&d16, &d32}) {
            ZydisDecoderEnableMode(d, ZYDIS_DECODER_MODE_CET, ZYAN_FALSE);
            ZydisDecoderEnableMode(d, ZYDIS_DECODER_MODE_LZCNT, ZYAN_FALSE);
            ZydisDecoderEnableMode(d, ZYDIS_DECODER_MODE_TZCNT, ZYAN_FALSE);
        }
    }
};
const Decoders& decoders() {
    static const Decoders d;
    return d;
}

uint8_t gpr_index(ZydisRegister r) {
    if (r == ZYDIS_REGISTER_NONE) return kNoReg;
    return uint8_t(ZydisRegisterGetId(r) & 7);
}

OpView view_of(const ZydisDecodedOperand& o) {
    OpView v;
    v.size = uint8_t(o.size / 8);
    switch (o.type) {
    case ZYDIS_OPERAND_TYPE_REGISTER:
        v.reg = uint8_t(ZydisRegisterGetId(o.reg.value));
        switch (ZydisRegisterGetClass(o.reg.value)) {
        case ZYDIS_REGCLASS_GPR8:
        case ZYDIS_REGCLASS_GPR16:
        case ZYDIS_REGCLASS_GPR32: v.kind = OpKind::Gpr; break;
        case ZYDIS_REGCLASS_SEGMENT: v.kind = OpKind::Sreg; break;
        case ZYDIS_REGCLASS_CONTROL: v.kind = OpKind::Cr; break;
        case ZYDIS_REGCLASS_DEBUG: v.kind = OpKind::Dr; break;
        case ZYDIS_REGCLASS_X87: v.kind = OpKind::St; break;
        default: v.kind = OpKind::Other; break;
        }
        break;
    case ZYDIS_OPERAND_TYPE_MEMORY: v.kind = OpKind::Mem; break;
    case ZYDIS_OPERAND_TYPE_IMMEDIATE: v.kind = OpKind::Imm; break;
    case ZYDIS_OPERAND_TYPE_POINTER: v.kind = OpKind::Ptr; break;
    default: v.kind = OpKind::Other; break;
    }
    return v;
}

bool ends_block(const ZydisDecodedInstruction& zi) {
    switch (zi.meta.category) {
    case ZYDIS_CATEGORY_COND_BR:
    case ZYDIS_CATEGORY_UNCOND_BR:
    case ZYDIS_CATEGORY_CALL:
    case ZYDIS_CATEGORY_RET:
    case ZYDIS_CATEGORY_INTERRUPT:
    case ZYDIS_CATEGORY_SYSCALL:
    case ZYDIS_CATEGORY_SYSRET:
        return true;
    default:
        break;
    }
    switch (zi.mnemonic) {
    case ZYDIS_MNEMONIC_HLT:
    case ZYDIS_MNEMONIC_IRET:
    case ZYDIS_MNEMONIC_IRETD:
    case ZYDIS_MNEMONIC_LOOP:
    case ZYDIS_MNEMONIC_LOOPE:
    case ZYDIS_MNEMONIC_LOOPNE:
    case ZYDIS_MNEMONIC_JCXZ:
    case ZYDIS_MNEMONIC_JECXZ:
    case ZYDIS_MNEMONIC_BOUND:
    case ZYDIS_MNEMONIC_UD2:
    case ZYDIS_MNEMONIC_SYSENTER:
    case ZYDIS_MNEMONIC_SYSEXIT:
        return true;
    default:
        return false;
    }
}

const Binder kBinders[] = {bind_alu, bind_data, bind_control, bind_string, bind_system, bind_x87};

}  // namespace

void h_undefined(Cpu& c, const Insn&) { c.fault(kUD); }
// An instruction longer than 15 bytes raises #GP(0) (SDM vol.2 2.3.11).
static void h_too_long(Cpu& c, const Insn&) { c.fault(kGP, 0); }

DecodeStatus decode_insn(const uint8_t* bytes, size_t avail, bool code32, Insn& out) {
    const Decoders& ds = decoders();
    ZydisDecodedInstruction zi;
    ZydisDecodedOperand zops[ZYDIS_MAX_OPERAND_COUNT];
    ZyanStatus st = ZydisDecoderDecodeFull(code32 ? &ds.d32 : &ds.d16, bytes, avail, &zi, zops);
    out = Insn{};
    if (st == ZYDIS_STATUS_NO_MORE_DATA || st == ZYDIS_STATUS_INSTRUCTION_TOO_LONG) {
        if (st == ZYDIS_STATUS_NO_MORE_DATA && avail < 15) return DecodeStatus::NeedMoreBytes;
        out.fn = h_too_long;
        out.len = 15;
        out.flags = insn_flag::ENDS_BLOCK;
        return DecodeStatus::Ok;
    }
    if (!ZYAN_SUCCESS(st)) {
        // Invalid encodings (including LOCK on a non-lockable instruction, SDM vol.2 LOCK) #UD.
        out.fn = h_undefined;
        out.len = 1;
        out.flags = insn_flag::ENDS_BLOCK;
        return DecodeStatus::Ok;
    }

    out.len = zi.length;
    out.mnemonic = uint16_t(zi.mnemonic);
    out.opcode = zi.opcode;
    out.modrm = uint8_t((zi.raw.modrm.mod << 6) | (zi.raw.modrm.reg << 3) | zi.raw.modrm.rm);
    const bool o32 = code32 != bool(zi.attributes & ZYDIS_ATTRIB_HAS_OPERANDSIZE);
    if (o32) out.flags |= insn_flag::O32;
    if (zi.address_width == 32) out.flags |= insn_flag::A32;
    if (zi.attributes & (ZYDIS_ATTRIB_HAS_REP | ZYDIS_ATTRIB_HAS_REPE)) out.flags |= insn_flag::REP;
    if (zi.attributes & ZYDIS_ATTRIB_HAS_REPNE) out.flags |= insn_flag::REPNE;
    if (zi.attributes & ZYDIS_ATTRIB_HAS_LOCK) out.flags |= insn_flag::LOCK;

    DecodedView v{};
    v.mnemonic = uint16_t(zi.mnemonic);
    v.code32 = code32;
    v.zi = &zi;
    v.zops = zops;
    v.osize = o32 ? 4 : 2;
    unsigned nimm = 0;
    for (unsigned k = 0; k < zi.operand_count_visible && k < 4; k++) {
        const ZydisDecodedOperand& o = zops[k];
        v.op[v.n++] = view_of(o);
        if (o.type == ZYDIS_OPERAND_TYPE_MEMORY) {
            out.flags |= insn_flag::MEM;
            out.base = gpr_index(o.mem.base);
            out.index = gpr_index(o.mem.index);
            out.scale = uint8_t(o.mem.scale == 8 ? 3 : o.mem.scale == 4 ? 2 : o.mem.scale == 2 ? 1 : 0);
            out.disp = int32_t(o.mem.disp.value);
            out.seg = o.mem.segment == ZYDIS_REGISTER_NONE ? uint8_t(DS) : uint8_t(ZydisRegisterGetId(o.mem.segment));
            out.mem_size = uint16_t(o.size / 8);
        } else if (o.type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
            // Zydis sign-extends relative and signed immediates to 64 bits: keep the low 32 and
            // let the handler wrap to the operand size (TOOLCHAIN.md: 16-bit branch quirk).
            if (nimm++ == 0) out.imm = uint32_t(o.imm.value.u);
            else out.imm2 = uint16_t(o.imm.value.u);
        } else if (o.type == ZYDIS_OPERAND_TYPE_POINTER) {
            out.imm = o.ptr.offset;
            out.imm2 = o.ptr.segment;
        }
    }
    if (v.n >= 1 && v.op[0].kind == OpKind::Gpr && v.op[0].size == 1) v.osize = 1;
    if (!(out.flags & insn_flag::MEM)) {
        // String instructions and XLAT have only hidden memory operands: the overridable source
        // segment is the first that is not the fixed ES of a destination (SDM vol.2 MOVS).
        bool any = false;
        for (unsigned k = 0; k < zi.operand_count; k++) {
            const ZydisDecodedOperand& o = zops[k];
            if (o.type != ZYDIS_OPERAND_TYPE_MEMORY || o.mem.type != ZYDIS_MEMOP_TYPE_MEM) continue;
            uint8_t sr = o.mem.segment == ZYDIS_REGISTER_NONE ? uint8_t(DS) : uint8_t(ZydisRegisterGetId(o.mem.segment));
            if (!any || sr != ES) out.seg = sr;
            if (!any) out.mem_size = uint16_t(o.size / 8);
            any = true;
            if (sr != ES) break;
        }
    }

    Handler h = nullptr;
    for (Binder b : kBinders)
        if ((h = b(v, out))) break;
    if (!h) {
        static const bool warn = std::getenv("LIFT86_WARN_UD") != nullptr;
        if (warn) {
            char text[96] = "?";
            ZydisFormatter f;
            ZydisFormatterInit(&f, ZYDIS_FORMATTER_STYLE_INTEL);
            ZydisFormatterFormatInstruction(&f, &zi, zops, zi.operand_count_visible, text, sizeof text, 0, nullptr);
            std::fprintf(stderr, "lift86: no handler for '%s'\n", text);
        }
        h = h_undefined;
        out.flags |= insn_flag::ENDS_BLOCK;
    }
    out.fn = h;
    if (ends_block(zi)) out.flags |= insn_flag::ENDS_BLOCK;
    return DecodeStatus::Ok;
}

}  // namespace lift86
