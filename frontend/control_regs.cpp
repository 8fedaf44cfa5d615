// Writes to the control registers CR0, CR3 and CR4 (MOV CRn, LMSW, CLTS's callers): the
// validity checks of SDM vol.2 MOV (Move to/from Control Registers) and the side effects on the
// CPU's mode caches, the softmmu TLB and the running block.
#include "frontend/cpu.hpp"

namespace lift86 {

namespace {
// The CR0 bits a P6 implements (SDM vol.3 2.5). The others are reserved: the SDM gives #GP(0)
// only for writes to CR0[63:32] in 64-bit mode, and in 32-bit modes the processor ignores the
// reserved bits of CR0[31:0] (software "should" write back what it read), so they are dropped.
constexpr uint32_t kCr0Defined = cr0::PE | cr0::MP | cr0::EM | cr0::TS | cr0::ET | cr0::NE | cr0::WP |
                                 cr0::AM | cr0::NW | cr0::CD | cr0::PG;

// CR4 bits of the CPU lift86 models. VME/PVI (virtual-8086 extensions), PAE and OSXMMEXCPT
// belong to features CPUID does not advertise, so for this CPU they are reserved
// bits, and setting a reserved CR4 bit is #GP(0) (SDM vol.2 MOV CR, vol.3 2.5). OSFXSR comes
// with FXSR; without SSE it changes nothing FXSAVE/FXRSTOR do. MCE enables #MC, which the
// emulated hardware never has reason to raise (frontend/interp_system.cpp, CPUID MCE/MCA).
// PGE is honoured trivially: a global translation is one the processor *may* keep across a
// MOV to CR3, never one it must keep (SDM vol.3 4.10.2.4, 4.10.4.1: any entry may be dropped
// at any time), so the softmmu TLB, which drops everything on CR3 writes, is correct with it;
// what software relies on, that INVLPG and a PGE toggle drop global entries, both do.
constexpr uint32_t kCr4Supported = cr4::TSD | cr4::DE | cr4::PSE | cr4::MCE | cr4::PGE | cr4::PCE | cr4::OSFXSR;
}  // namespace

void Cpu::set_cr0(uint32_t v) {
    // ET is hardwired to 1 on the P6 family (SDM vol.3 2.5, "Extension Type").
    v = (v & kCr0Defined) | cr0::ET;
    // Invalid combinations (SDM vol.2 MOV CR, #GP(0)): PG without PE, NW without CD.
    if ((v & cr0::PG) && !(v & cr0::PE)) fault(kGP, 0);
    if ((v & cr0::NW) && !(v & cr0::CD)) fault(kGP, 0);
    const uint32_t changed = cr0 ^ v;
    cr0 = v;
    if (changed & v & cr0::PE) cs_from_real_mode = true;
    // PG and PE change what a linear address means; WP changes which supervisor writes may
    // hit the TLB's write entries (filled with CR0.WP=0 semantics). SDM vol.3 4.10.4.1: a MOV
    // to CR0 that changes PG invalidates the TLBs.
    if (changed & (cr0::PG | cr0::PE | cr0::WP)) flush_tlb();
    update_mode();
    // The rest of the block was decoded and translated under the old mode: end it so the next
    // instruction is fetched with the new one (MOV CR0 is serializing, SDM vol.3 9.9.1).
    if (changed & (cr0::PG | cr0::PE)) stop_block = true;
}

void Cpu::set_cr3(uint32_t v) {
    // With 32-bit paging bits 2:0 and 11:5 are ignored (SDM vol.3 table 4-3); the page walk
    // masks the base itself, so the register keeps what was written. A MOV to CR3 invalidates
    // all non-global TLB entries (SDM vol.3 4.10.4.1); dropping the global ones too is allowed.
    cr3 = v;
    flush_tlb();
    stop_block = true;   // the code that follows may now live at another physical address
}

void Cpu::set_cr4(uint32_t v) {
    if (v & ~kCr4Supported) fault(kGP, 0);
    const uint32_t changed = cr4 ^ v;
    cr4 = v;
    // PSE changes how PDEs with PS=1 are read (SDM vol.3 4.10.4.1: changes to PSE/PGE/PAE
    // invalidate the TLBs).
    if (changed & (cr4::PSE | cr4::PGE | cr4::PAE)) {
        flush_tlb();
        stop_block = true;
    }
}

}  // namespace lift86
