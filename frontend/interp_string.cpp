// String instructions: MOVS CMPS STOS LODS SCAS INS OUTS with REP/REPE/REPNE (SDM vol.2 REP).
// Each iteration updates (E)SI/(E)DI/(E)CX only after its memory accesses succeed, so a fault
// in the middle restarts the instruction with exactly the remaining work. Long repeats yield
// every kChunk iterations (EIP stays on the instruction) so interrupts are not held off.
#include "frontend/interp.hpp"

namespace lift86 {
namespace {

enum StrOp { MOVS, CMPS, STOS, LODS, SCAS, INS, OUTS };
constexpr unsigned kChunk = 4096;

template <int OP> struct Str {
    template <class T> static void f(Cpu& c, const Insn& i) {
        const bool a32 = i.a32();
        const uint32_t amask = a32 ? 0xFFFFFFFFu : 0xFFFFu;
        const uint32_t step = (c.eflags & fl::DF) ? uint32_t(-int32_t(sizeof(T))) : uint32_t(sizeof(T));
        auto get = [&](unsigned r) { return c.r[r] & amask; };
        auto set = [&](unsigned r, uint32_t v) { c.r[r] = (c.r[r] & ~amask) | (v & amask); };

        auto once = [&]() -> bool {   // returns the ZF of a compare
            if constexpr (OP == MOVS) {
                T v = c.read<T>(i.seg, get(ESI));
                c.write<T>(ES, get(EDI), v);
                set(ESI, get(ESI) + step);
                set(EDI, get(EDI) + step);
            } else if constexpr (OP == STOS) {
                c.write<T>(ES, get(EDI), c.reg<T>(EAX));
                set(EDI, get(EDI) + step);
            } else if constexpr (OP == LODS) {
                T v = c.read<T>(i.seg, get(ESI));
                c.set_reg<T>(EAX, v);
                set(ESI, get(ESI) + step);
            } else if constexpr (OP == CMPS) {
                T a = c.read<T>(i.seg, get(ESI));
                T b = c.read<T>(ES, get(EDI));
                set(ESI, get(ESI) + step);
                set(EDI, get(EDI) + step);
                c.set_arith(LazyOp::Sub, bits_of<T>, T(a - b), a, b);
                return a == b;
            } else if constexpr (OP == SCAS) {
                T a = c.reg<T>(EAX);
                T b = c.read<T>(ES, get(EDI));
                set(EDI, get(EDI) + step);
                c.set_arith(LazyOp::Sub, bits_of<T>, T(a - b), a, b);
                return a == b;
            } else if constexpr (OP == INS) {
                // The destination is checked before the port is read (a fault must not lose data).
                uint32_t di = get(EDI);
                c.write<T>(ES, di, c.read<T>(ES, di));
                T v = T(c.port_in(c.r16(EDX), sizeof(T)));
                c.write<T>(ES, di, v);
                set(EDI, di + step);
            } else {   // OUTS
                T v = c.read<T>(i.seg, get(ESI));
                c.port_out(c.r16(EDX), v, sizeof(T));
                set(ESI, get(ESI) + step);
            }
            return false;
        };

        if (!(i.flags & (insn_flag::REP | insn_flag::REPNE))) {
            once();
            return;
        }
        constexpr bool compares = OP == CMPS || OP == SCAS;
        for (unsigned n = 0; get(ECX) != 0; n++) {
            if (n == kChunk) {
                c.eip = c.insn_eip;   // resume later, after pending interrupts
                c.stop_block = true;
                return;
            }
            bool z = once();
            set(ECX, get(ECX) - 1);
            if (compares) {
                if ((i.flags & insn_flag::REP) && !z) break;     // REPE: stop when not equal
                if ((i.flags & insn_flag::REPNE) && z) break;    // REPNE: stop when equal
            }
        }
    }
};

}  // namespace

Handler bind_string(const DecodedView& v, Insn& i) {
    // The element size comes from the instruction (MOVSB vs MOVSW/D); Zydis reports it as the
    // operand width.
    unsigned size = v.zi->operand_width / 8;
    // MOVSD/CMPSD are also SSE2 mnemonics (F2 0F 10 / F2 0F C2): only the one-byte opcodes are ours.
    if (v.zi->opcode_map != ZYDIS_OPCODE_MAP_DEFAULT) return nullptr;
    switch (v.mnemonic) {
    case ZYDIS_MNEMONIC_MOVSB: case ZYDIS_MNEMONIC_MOVSW: case ZYDIS_MNEMONIC_MOVSD: return pick_s<Str<MOVS>>(size);
    case ZYDIS_MNEMONIC_CMPSB: case ZYDIS_MNEMONIC_CMPSW: case ZYDIS_MNEMONIC_CMPSD: return pick_s<Str<CMPS>>(size);
    case ZYDIS_MNEMONIC_STOSB: case ZYDIS_MNEMONIC_STOSW: case ZYDIS_MNEMONIC_STOSD: return pick_s<Str<STOS>>(size);
    case ZYDIS_MNEMONIC_LODSB: case ZYDIS_MNEMONIC_LODSW: case ZYDIS_MNEMONIC_LODSD: return pick_s<Str<LODS>>(size);
    case ZYDIS_MNEMONIC_SCASB: case ZYDIS_MNEMONIC_SCASW: case ZYDIS_MNEMONIC_SCASD: return pick_s<Str<SCAS>>(size);
    case ZYDIS_MNEMONIC_INSB: case ZYDIS_MNEMONIC_INSW: case ZYDIS_MNEMONIC_INSD: return pick_s<Str<INS>>(size);
    case ZYDIS_MNEMONIC_OUTSB: case ZYDIS_MNEMONIC_OUTSW: case ZYDIS_MNEMONIC_OUTSD: return pick_s<Str<OUTS>>(size);
    default: return nullptr;
    }
}

}  // namespace lift86
