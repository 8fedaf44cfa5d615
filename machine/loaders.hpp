// Loaders put a guest into memory and set the CPU up to run it: a raw BIOS image, a multiboot v1
// kernel (ELF32 or a.out kludge), or a boot sector. Each throws LoadError with a one-line message.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace lift86 {

class Cpu;
class FwCfg;
class PhysMemory;

struct LoadError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Reads a whole file; throws LoadError naming the file and the reason.
std::vector<uint8_t> read_file(const std::string& path, const char* what);

// Maps a 64..256 KiB firmware image at the top of the 4 GiB space and its last 128 KiB (or all
// of a smaller image) just below 1 MiB, as a PC's chipset does. The CPU starts at F000:FFF0.
void load_bios(PhysMemory& mem, const std::vector<uint8_t>& image, const std::string& name);

struct MultibootModule {
    std::string path;
    std::string cmdline;
};
// Loads a multiboot v1 kernel and enters it in 32-bit protected mode with the machine state the
// Multiboot Specification 0.6.96 section 3.2 prescribes (EAX = 0x2BADB002, EBX = info).
void load_multiboot(Cpu& cpu, PhysMemory& mem, const std::vector<uint8_t>& image, const std::string& name,
                    const std::string& cmdline, const std::vector<MultibootModule>& modules);

// True when `image` is a Linux kernel with a boot-protocol setup header ("HdrS", 2.02+).
bool is_linux_kernel(const std::vector<uint8_t>& image);
// Loads a bzImage with the Linux x86 boot protocol's 32-bit entry (Documentation/arch/x86/
// boot.rst, "32-bit boot protocol"): the protected-mode kernel at 1 MiB, boot_params with the
// setup header, the command line, the initrd below initrd_addr_max, and an e820 map of the
// machine's RAM; enters at code32_start with ESI = boot_params, flat __BOOT_CS/__BOOT_DS.
void load_linux(Cpu& cpu, PhysMemory& mem, const std::vector<uint8_t>& image, const std::string& name,
                const std::string& cmdline, const std::string& initrd_path);

// True when `image` carries a Linux setup header (the "HdrS" magic), whatever its protocol
// version: such a file is meant as a Linux kernel, so a bad or too old one gets a Linux error.
bool has_linux_header(const std::vector<uint8_t>& image);

// QEMU's way of booting `-kernel bzImage` through firmware (QEMU hw/i386/x86.c x86_load_linux
// with its linuxboot_dma option ROM): splits the bzImage into the real-mode setup, loaded at
// 0x10000, and the protected-mode kernel, loaded at 1 MiB; patches the setup header for a boot
// loader (boot.rst, "Details of header fields": type_of_loader, CAN_USE_HEAP, heap_end_ptr,
// cmd_line_ptr at 0x20000, ramdisk_image/ramdisk_size); puts them, the initrd and the command
// line in fw_cfg (FW_CFG_SETUP_*, KERNEL_*, INITRD_*, CMDLINE_*), and gives the firmware the
// option ROM roms/linuxboot.asm as "genroms/linuxboot.bin", first in "bootorder" (kept entries
// follow). The ROM copies everything into place at boot and enters the setup code in real mode.
// `ram_size` is the guest's RAM below 4 GiB. Throws LoadError for a bad or too old kernel, an
// unreadable initrd, a command line longer than the kernel takes, an initrd that does not fit.
void load_linux_fw_cfg(FwCfg& fw_cfg, uint32_t ram_size, const std::vector<uint8_t>& image, const std::string& name,
                       const std::string& cmdline, const std::string& initrd_path);

// Loads the first sector of a disk image at 0000:7C00 and starts there in real mode with DL=80h,
// for firmware-less tests of boot code that talks to the hardware (or port 0xE9) directly.
void load_boot_sector(Cpu& cpu, PhysMemory& mem, const std::vector<uint8_t>& sector, const std::string& name);

}  // namespace lift86
