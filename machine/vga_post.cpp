// Firmware-less boots and the VGA: what a BIOS would have done for the screen.
//
// With a BIOS, the VGA's option ROM (SeaVGABIOS, in the PCI expansion ROM of devices/pci_vga)
// is copied to 0xC0000 and initialised, and the BIOS then sets text mode 3 through INT 10h,
// which programs the registers and loads the font into plane 2. A kernel entered directly
// (--direct-boot) finds an unprogrammed VGA instead, and its text console (vgacon) stays blank.
// So before such a kernel starts, the board runs that same ROM code itself, in real mode, as the
// BIOS would: a small stub far-calls the ROM's initialisation entry (offset 3, with AX = the
// PCI bus/device/function, PCI Firmware Specification 3.0 section 5.2.1), calls INT 10h AX=0003h,
// and hands control back to the board by writing to a port that exists only while it runs.
// Nothing else is emulated: no BIOS data beyond what the ROM writes itself, no other interrupt
// vectors (the ROM does not call any), interrupts stay disabled throughout.
#include <fmt/format.h>

#include "machine/machine.hpp"

namespace lift86 {

namespace {

constexpr uint32_t kRomBase = 0xC0000;     // where a BIOS shadows the VGA ROM
constexpr uint32_t kStub = 0x7000;         // the stub, with its stack below it
constexpr uint16_t kHandoffPort = 0x51C;   // just past fw_cfg's ports; unused on the PC
constexpr uint16_t kVgaPciAddress = 2 << 3;   // bus 0, device 2 (devices/pci_vga), function 0
constexpr uint64_t kMaxInsns = 50'000'000;    // SeaVGABIOS needs well under 1 M

// The stub's last write: stops the CPU at once (the rest of its block must not run).
struct Handoff final : PortDevice {
    explicit Handoff(Cpu& c) : cpu(c) {}
    Cpu& cpu;
    bool done = false;
    uint32_t io_read(uint16_t, unsigned) override { return 0xFFFFFFFFu; }
    void io_write(uint16_t, uint32_t, unsigned) override {
        done = true;
        cpu.stop = StopReason::Request;
        cpu.stop_block = true;
    }
};

}  // namespace

bool Machine::run_vga_bios() {
    const std::vector<uint8_t>& rom = vga_option_rom();
    if (rom.size() < 4 || rom[0] != 0x55 || rom[1] != 0xAA) return false;
    mem.write_block(kRomBase, rom.data(), rom.size(), true);

    const uint8_t stub[] = {
        0xFA,                                        // cli
        0x31, 0xC0,                                  // xor ax, ax
        0x8E, 0xD0,                                  // mov ss, ax
        0xBC, uint8_t(kStub), uint8_t(kStub >> 8),   // mov sp, kStub
        0x8E, 0xD8,                                  // mov ds, ax
        0x8E, 0xC0,                                  // mov es, ax
        0xB8, uint8_t(kVgaPciAddress), 0x00,         // mov ax, bus/devfn
        0x9A, 0x03, 0x00, 0x00, 0xC0,                // call far C000:0003 (the ROM's init entry)
        0xB8, 0x03, 0x00,                            // mov ax, 0003h: set mode 3 (80x25 text)
        0xCD, 0x10,                                  // int 10h
        0xBA, uint8_t(kHandoffPort), uint8_t(kHandoffPort >> 8),   // mov dx, kHandoffPort
        0xEE,                                        // out dx, al: back to the board
        0xEB, 0xFE,                                  // jmp $ (not reached)
    };
    mem.write_block(kStub, stub, sizeof stub, true);

    Handoff handoff(cpu);
    io.register_ports(kHandoffPort, 1, &handoff);
    for (unsigned s : {ES, CS, SS, DS, FS, GS}) cpu.load_seg_real(s, 0);
    cpu.eip = kStub;
    cpu.update_mode();
    const uint64_t start = cpu.icount;
    while (!handoff.done && !cpu.halted && cpu.icount - start < kMaxInsns) cpu.run(kMaxInsns - (cpu.icount - start));
    io.unregister_ports(kHandoffPort, 1);
    clock.advance_insns(cpu.icount - start);   // the clock counts these instructions too
    cpu.stop = StopReason::None;
    if (!handoff.done) {
        fmt::print(stderr, "lift86: warning: the VGA BIOS did not finish its initialisation (stopped at {:04x}:{:04x}); "
                           "the screen stays blank until the OS sets a mode\n", cpu.seg[CS].sel, cpu.eip);
        cpu.halted = false;
        return false;
    }
    return true;
}

}  // namespace lift86
