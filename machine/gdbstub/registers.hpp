// The guest's registers as gdb sees them: the target description (target.xml, GDB manual
// appendix G "Target Descriptions", i386 features G.5.5) and the byte images of the `g`/`G`/`p`/`P`
// packets, in the order of the description's register numbers.
//
//   0-7    eax ecx edx ebx esp ebp esi edi     org.gnu.gdb.i386.core
//   8-9    eip eflags
//   10-15  cs ss ds es fs gs                   (selectors, 32-bit slots as gdb expects)
//   16-23  st0-st7                             (80-bit, ST(i) order as FSAVE stores them)
//   24-31  fctrl fstat ftag fiseg fioff foseg fooff fop
//   32-47  cr0 cr2 cr3 cr4 dr0-dr3 dr6 dr7     org.lift86.i386.sys (system state; `monitor regs`
//          gdtr/idtr base+limit, ldtr tr       shows the hidden segment caches too)
// No org.gnu.gdb.i386.sse: the emulated P6 has no SSE, and gdb does not require the feature.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace lift86 {
class Cpu;
}

namespace lift86::gdb {

// The architecture named is "i8086" when `i8086` (16-bit code at connect time), else "i386".
// gdb lets the user's `set architecture` and an i386 ELF file override the i8086 of a target
// description, but not the i386 one (bfd's compatibility rule keeps the higher machine), so this
// is what makes `set architecture i8086` work in real mode.
const std::string& target_xml(bool i8086);
unsigned num_regs();
// Register `n` in target byte order; empty when `n` is not a register.
std::string read_reg(Cpu& cpu, unsigned n);
// Writes register `n` from exactly its size in bytes. False when `n` is unknown, the size is
// wrong or the CPU refuses the value (a selector with no descriptor, CR0.PG without PE...).
bool write_reg(Cpu& cpu, unsigned n, std::string_view bytes);
std::string read_all(Cpu& cpu);                      // the `g` reply, decoded
// `G`: registers in order until the data ends (gdb may send fewer). Segment registers whose
// selector did not change are left alone. False when the data is not a whole number of registers.
bool write_all(Cpu& cpu, std::string_view bytes);

}  // namespace lift86::gdb
