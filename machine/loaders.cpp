#include "machine/loaders.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "devices/fw_cfg.hpp"
#include "frontend/cpu.hpp"
#include "machine/kernel_payload.hpp"
#include "roms/roms.hpp"

namespace lift86 {

std::vector<uint8_t> read_file(const std::string& path, const char* what) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
        throw LoadError(fmt::format("cannot read {} '{}': it is a directory", what, path));
    std::ifstream f(path, std::ios::binary);
    if (!f) throw LoadError(fmt::format("cannot open {} '{}': {}", what, path, std::strerror(errno)));
    try {
        std::vector<uint8_t> data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        if (f.bad()) throw LoadError(fmt::format("cannot read {} '{}'", what, path));
        return data;
    } catch (const std::ios_base::failure& e) {
        throw LoadError(fmt::format("cannot read {} '{}': {}", what, path, std::strerror(errno)));
    }
}

void load_bios(PhysMemory& mem, const std::vector<uint8_t>& image, const std::string& name) {
    const size_t size = image.size();
    if (size == 0) throw LoadError(fmt::format("BIOS image '{}' is empty", name));
    if (size < 64 * 1024 || size > 256 * 1024 || size % 4096 != 0)
        throw LoadError(fmt::format("BIOS image '{}' is {} bytes; expected 64 KiB to 256 KiB in 4 KiB units", name, size));
    mem.map_rom(uint32_t(0x100000000ull - size), image);
    const size_t low = size < 128 * 1024 ? size : 128 * 1024;
    std::vector<uint8_t> tail(image.end() - std::ptrdiff_t(low), image.end());
    mem.map_rom(uint32_t(0x100000 - low), tail);
}

namespace {

uint32_t rd32(const std::vector<uint8_t>& b, size_t off) {
    uint32_t v;
    std::memcpy(&v, b.data() + off, 4);
    return v;
}
uint16_t rd16(const std::vector<uint8_t>& b, size_t off) {
    uint16_t v;
    std::memcpy(&v, b.data() + off, 2);
    return v;
}

constexpr uint32_t kMultibootMagic = 0x1BADB002;
constexpr uint32_t kBootloaderMagic = 0x2BADB002;

// Places data in guest RAM, refusing anything outside it (a hostile image must not crash us).
void place(PhysMemory& mem, uint32_t addr, const uint8_t* data, size_t n, size_t zero_fill, const std::string& name) {
    uint64_t end = uint64_t(addr) + n + zero_fill;
    if (end > mem.ram_size())
        throw LoadError(fmt::format("'{}' wants memory up to {:#x}, beyond the guest's {} MiB of RAM",
                                    name, end, mem.ram_size() >> 20));
    mem.write_block(addr, data, n, true);
    std::vector<uint8_t> zeros(zero_fill, 0);
    if (zero_fill) mem.write_block(uint32_t(addr + n), zeros.data(), zero_fill, true);
}

}  // namespace

void load_multiboot(Cpu& cpu, PhysMemory& mem, const std::vector<uint8_t>& img, const std::string& name,
                    const std::string& cmdline, const std::vector<MultibootModule>& modules) {
    // The header is 4-byte aligned within the first 8192 bytes (Multiboot 0.6.96, 3.1.1).
    size_t hdr = SIZE_MAX;
    for (size_t off = 0; off + 12 <= img.size() && off < 8192; off += 4) {
        if (rd32(img, off) == kMultibootMagic && uint32_t(rd32(img, off) + rd32(img, off + 4) + rd32(img, off + 8)) == 0) {
            hdr = off;
            break;
        }
    }
    if (hdr == SIZE_MAX) throw LoadError(fmt::format("'{}' is not a multiboot kernel (no multiboot header in its first 8 KiB)", name));
    const uint32_t flags = rd32(img, hdr + 4);
    if (flags & 0xFFF8u & 0xFFFF) throw LoadError(fmt::format("'{}' requires multiboot features lift86 lacks (flags {:#x})", name, flags));
    uint32_t entry;
    uint32_t load_end = 0;
    if (flags & (1u << 16)) {
        // a.out kludge: addresses from the header.
        if (hdr + 32 > img.size()) throw LoadError(fmt::format("'{}': truncated multiboot header", name));
        uint32_t header_addr = rd32(img, hdr + 12), load_addr = rd32(img, hdr + 16);
        uint32_t load_end_addr = rd32(img, hdr + 20), bss_end_addr = rd32(img, hdr + 24);
        entry = rd32(img, hdr + 28);
        uint64_t file_off = uint64_t(hdr) - (uint64_t(header_addr) - load_addr);
        uint64_t len = load_end_addr ? uint64_t(load_end_addr) - load_addr : img.size() - file_off;
        if (header_addr < load_addr || file_off + len > img.size())
            throw LoadError(fmt::format("'{}': multiboot a.out addresses do not fit the file", name));
        size_t bss = bss_end_addr > load_addr + len ? size_t(bss_end_addr - load_addr - len) : 0;
        place(mem, load_addr, img.data() + file_off, size_t(len), bss, name);
        load_end = uint32_t(load_addr + len + bss);
    } else {
        // ELF32 (System V ABI, i386 supplement): load every PT_LOAD at its physical address.
        if (img.size() < 52 || std::memcmp(img.data(), "\x7F" "ELF", 4) != 0 || img[4] != 1 || img[5] != 1 || rd16(img, 18) != 3)
            throw LoadError(fmt::format("'{}' is neither an i386 ELF32 file nor a multiboot a.out image", name));
        entry = rd32(img, 24);
        uint32_t phoff = rd32(img, 28);
        uint16_t phentsize = rd16(img, 42), phnum = rd16(img, 44);
        if (phentsize < 32 || uint64_t(phoff) + uint64_t(phnum) * phentsize > img.size())
            throw LoadError(fmt::format("'{}': corrupt ELF program headers", name));
        for (unsigned k = 0; k < phnum; k++) {
            size_t ph = phoff + size_t(k) * phentsize;
            if (rd32(img, ph) != 1) continue;   // PT_LOAD
            uint32_t off = rd32(img, ph + 4), paddr = rd32(img, ph + 12);
            uint32_t filesz = rd32(img, ph + 16), memsz = rd32(img, ph + 20);
            if (uint64_t(off) + filesz > img.size() || memsz < filesz)
                throw LoadError(fmt::format("'{}': ELF segment {} lies outside the file", name, k));
            place(mem, paddr, img.data() + off, filesz, memsz - filesz, name);
            load_end = std::max(load_end, paddr + memsz);
        }
    }

    // Modules, command lines and the information structure go above the kernel, page aligned.
    uint32_t cursor = (load_end + 0xFFF) & ~0xFFFu;
    if (cursor < 0x10000) cursor = 0x10000;
    auto put_string = [&](const std::string& s) {
        uint32_t at = cursor;
        place(mem, at, reinterpret_cast<const uint8_t*>(s.c_str()), s.size() + 1, 0, name);
        cursor = (cursor + uint32_t(s.size()) + 1 + 15) & ~15u;
        return at;
    };
    std::vector<uint32_t> mod_entries;
    for (const MultibootModule& m : modules) {
        std::vector<uint8_t> data = read_file(m.path, "module");
        uint32_t start = (cursor + 0xFFF) & ~0xFFFu;
        place(mem, start, data.data(), data.size(), 0, m.path);
        cursor = start + uint32_t(data.size());
        uint32_t cmd = put_string(m.cmdline.empty() ? m.path : m.cmdline);
        mod_entries.insert(mod_entries.end(), {start, start + uint32_t(data.size()), cmd, 0});
    }
    uint32_t mods_addr = cursor;
    for (uint32_t w : mod_entries) {
        place(mem, cursor, reinterpret_cast<const uint8_t*>(&w), 4, 0, name);
        cursor += 4;
    }
    uint32_t cmd_addr = put_string(cmdline.empty() ? name : name + " " + cmdline);
    uint32_t loader_name = put_string("lift86");
    // Memory map (flag bit 6): low RAM, the hole for VGA/ROM, high RAM.
    const uint32_t ram = mem.ram_size();
    struct [[gnu::packed]] MmapEntry { uint32_t size; uint64_t addr, len; uint32_t type; };
    // 0xE0000-0xFFFFF: the BIOS area, where the board puts the ACPI tables (Machine::load_guest).
    std::vector<MmapEntry> mmap = {{20, 0, 0x9FC00, 1}, {20, 0x9FC00, 0x400, 2}, {20, 0xE0000, 0x20000, 2}};
    if (ram > 0x100000) mmap.push_back({20, 0x100000, ram - 0x100000u, 1});
    uint32_t mmap_addr = cursor;
    place(mem, cursor, reinterpret_cast<const uint8_t*>(mmap.data()), mmap.size() * sizeof(MmapEntry), 0, name);
    cursor += uint32_t(mmap.size() * sizeof(MmapEntry));
    cursor = (cursor + 15) & ~15u;

    uint32_t info[23] = {};
    info[0] = (1u << 0) | (1u << 2) | (1u << 3) | (1u << 6) | (1u << 9);
    info[1] = 639;                                                // mem_lower, KiB
    info[2] = ram > 0x100000 ? (ram - 0x100000) / 1024 : 0;       // mem_upper, KiB above 1 MiB
    info[4] = cmd_addr;
    info[5] = uint32_t(modules.size());
    info[6] = mods_addr;
    info[11] = uint32_t(mmap.size() * sizeof(MmapEntry));
    info[12] = mmap_addr;
    info[16] = loader_name;
    uint32_t info_addr = cursor;
    place(mem, info_addr, reinterpret_cast<const uint8_t*>(info), sizeof info, 0, name);

    // Machine state (Multiboot 0.6.96, 3.2): flat 32-bit segments, PE on, paging off, IF off.
    mem.set_a20(true);
    cpu.cr0 = (cpu.cr0 | cr0::PE) & ~cr0::PG;
    constexpr uint32_t code = attr::P | attr::S | attr::CODE | attr::RW | attr::ACCESSED | attr::DB | attr::G;
    constexpr uint32_t data = attr::P | attr::S | attr::RW | attr::ACCESSED | attr::DB | attr::G;
    cpu.set_seg_cache(cpu.seg[CS], 0x08, 0, 0xFFFFFFFFu, code);
    for (unsigned s : {ES, SS, DS, FS, GS}) cpu.set_seg_cache(cpu.seg[s], 0x10, 0, 0xFFFFFFFFu, data);
    cpu.set_eflags(fl::FIXED1);
    cpu.r[EAX] = kBootloaderMagic;
    cpu.r[EBX] = info_addr;
    cpu.eip = entry;
    cpu.update_mode();
    cpu.flush_tlb();
}

bool is_linux_kernel(const std::vector<uint8_t>& img) {
    return img.size() > 0x264 && std::memcmp(img.data() + 0x202, "HdrS", 4) == 0 && rd16(img, 0x206) >= 0x0202;
}

void load_linux(Cpu& cpu, PhysMemory& mem, const std::vector<uint8_t>& img, const std::string& name,
                const std::string& cmdline, const std::string& initrd_path) {
    // Setup header fields (boot.rst, "The real-mode kernel header").
    const uint16_t version = rd16(img, 0x206);
    const uint8_t loadflags = img[0x211];
    if (version < 0x0204 || !(loadflags & 0x01))
        throw LoadError(fmt::format("'{}': Linux boot protocol {}.{:02} without a bzImage (need 2.04+, LOADED_HIGH)", name,
                                    version >> 8, version & 0xFF));
    unsigned setup_sects = img[0x1F1] ? img[0x1F1] : 4;
    const size_t setup_size = (size_t(setup_sects) + 1) * 512;
    if (setup_size >= img.size()) throw LoadError(fmt::format("'{}': truncated Linux kernel", name));
    const uint32_t code32_start = rd32(img, 0x214);
    const uint32_t initrd_max = version >= 0x0203 ? rd32(img, 0x22C) : 0x37FFFFFF;
    const uint32_t cmdline_max = version >= 0x0206 ? rd32(img, 0x238) : 255;

    // Guest memory layout: boot_params at 0x10000, the command line at 0x20000, a GDT at 0x1000.
    constexpr uint32_t kBootParams = 0x10000, kCmdline = 0x20000, kGdt = 0x1000;
    std::vector<uint8_t> bp(4096, 0);
    const size_t hdr_end = 0x202 + img[0x201];   // the header ends at 0x202 + the jump's offset
    std::memcpy(bp.data() + 0x1F1, img.data() + 0x1F1, std::min(hdr_end, size_t(0x290)) - 0x1F1);
    auto put16 = [&](size_t off, uint16_t v) { std::memcpy(bp.data() + off, &v, 2); };
    auto put32 = [&](size_t off, uint32_t v) { std::memcpy(bp.data() + off, &v, 4); };
    // screen_info: an 80x25 VGA text console (orig_video_mode 3, isVGA) for vgacon.
    bp[0x06] = 3;    // orig_video_mode
    bp[0x07] = 80;   // orig_video_cols
    bp[0x0E] = 25;   // orig_video_lines
    bp[0x0F] = 1;    // orig_video_isVGA
    put16(0x10, 16); // orig_video_points
    bp[0x210] = 0xFF;                   // type_of_loader: undefined boot loader
    bp[0x211] = uint8_t(loadflags & ~0x22);   // keep LOADED_HIGH; QUIET_FLAG and KASLR_FLAG off
    std::string cmd = cmdline.substr(0, cmdline_max);
    put32(0x228, kCmdline);             // cmd_line_ptr
    place(mem, kCmdline, reinterpret_cast<const uint8_t*>(cmd.c_str()), cmd.size() + 1, 0, name);

    // The kernel: unpacked on the host when that can be done exactly as the kernel's own
    // decompressor would (machine/kernel_payload.hpp), else the protected-mode part at 1 MiB
    // (code32_start for a bzImage), which decompresses itself.
    std::string why;
    std::optional<KernelImage> unpacked = host_decompress(img, &why);
    if (unpacked && uint64_t(unpacked->load_base) + unpacked->init_size > mem.ram_size()) {
        why = fmt::format("it needs memory up to {:#x}", uint64_t(unpacked->load_base) + unpacked->init_size);
        unpacked.reset();
    }
    // Where the kernel's memory ends: what the initrd must stay above.
    const uint64_t kernel_end = unpacked ? uint64_t(unpacked->load_base) + unpacked->init_size
                                         : 0x100000 + img.size() - setup_size + 0x1000000;
    if (unpacked) {
        for (const KernelImage::Segment& seg : unpacked->segments)
            place(mem, seg.paddr, seg.bytes.data(), seg.bytes.size(), seg.memsz - seg.bytes.size(), name);
    } else {
        // Silently: such a kernel boots as on any firmware, only slower (`why` says why).
        place(mem, 0x100000, img.data() + setup_size, img.size() - setup_size, 0, name);
    }

    // The initrd: as high as allowed, page aligned, below initrd_addr_max and the end of RAM.
    if (!initrd_path.empty()) {
        std::vector<uint8_t> rd = read_file(initrd_path, "initrd");
        uint64_t top = std::min<uint64_t>(uint64_t(initrd_max) + 1, mem.ram_size());
        if (rd.size() + kernel_end > top)
            throw LoadError(fmt::format("initrd '{}' ({} KiB) does not fit in {} MiB of RAM with the kernel; raise -m",
                                        initrd_path, rd.size() >> 10, mem.ram_size() >> 20));
        uint32_t at = uint32_t((top - rd.size()) & ~uint64_t(0xFFF));
        place(mem, at, rd.data(), rd.size(), 0, initrd_path);
        put32(0x218, at);                       // ramdisk_image
        put32(0x21C, uint32_t(rd.size()));      // ramdisk_size
    }
    // e820 (boot_params.e820_table at 0x2D0, count at 0x1E8): low RAM, the VGA/BIOS hole, RAM.
    struct [[gnu::packed]] E820 { uint64_t addr, size; uint32_t type; };
    // 0xE0000-0xFFFFF: the BIOS area, where the board puts the ACPI tables (Machine::load_guest).
    std::vector<E820> e820 = {{0, 0x9FC00, 1}, {0x9FC00, 0x400, 2}, {0xE0000, 0x20000, 2}};
    if (mem.ram_size() > 0x100000) e820.push_back({0x100000, mem.ram_size() - 0x100000u, 1});
    bp[0x1E8] = uint8_t(e820.size());
    std::memcpy(bp.data() + 0x2D0, e820.data(), e820.size() * sizeof(E820));
    put32(0x1E0, mem.ram_size() > 0x100000 ? (mem.ram_size() - 0x100000) / 1024 : 0);   // alt_mem_k
    place(mem, kBootParams, bp.data(), bp.size(), 0, name);

    // A GDT with the selectors the 32-bit boot protocol names: __BOOT_CS 0x10, __BOOT_DS 0x18.
    const uint32_t gdt[8] = {0, 0, 0, 0, 0x0000FFFF, 0x00CF9A00, 0x0000FFFF, 0x00CF9200};
    place(mem, kGdt, reinterpret_cast<const uint8_t*>(gdt), sizeof gdt, 0, name);
    mem.set_a20(true);
    cpu.gdtr = {kGdt, sizeof gdt - 1};
    cpu.idtr = {0, 0};
    cpu.cr0 = (cpu.cr0 | cr0::PE) & ~cr0::PG;
    constexpr uint32_t code = attr::P | attr::S | attr::CODE | attr::RW | attr::ACCESSED | attr::DB | attr::G;
    constexpr uint32_t data = attr::P | attr::S | attr::RW | attr::ACCESSED | attr::DB | attr::G;
    cpu.set_seg_cache(cpu.seg[CS], 0x10, 0, 0xFFFFFFFFu, code);
    for (unsigned s : {ES, SS, DS, FS, GS}) cpu.set_seg_cache(cpu.seg[s], 0x18, 0, 0xFFFFFFFFu, data);
    cpu.set_eflags(fl::FIXED1);
    for (uint32_t& r : cpu.r) r = 0;
    cpu.r[ESI] = kBootParams;
    // The unpacked kernel's startup_32 is entered as the decompressor leaves it (compressed/
    // head_32.S: ESI = boot_params, EBX = 0); the packed one at its 32-bit entry.
    cpu.eip = unpacked ? unpacked->entry : code32_start;
    cpu.update_mode();
    cpu.flush_tlb();
}

bool has_linux_header(const std::vector<uint8_t>& img) {
    return img.size() >= 0x208 && std::memcmp(img.data() + 0x202, "HdrS", 4) == 0;
}

void load_linux_fw_cfg(FwCfg& fw, uint32_t ram_size, const std::vector<uint8_t>& img, const std::string& name,
                       const std::string& cmdline, const std::string& initrd_path) {
    // fw_cfg keys of the Linux loader (QEMU include/standard-headers/linux/qemu_fw_cfg.h).
    enum : uint16_t {
        kCfgKernelAddr = 0x07, kCfgKernelSize = 0x08, kCfgInitrdAddr = 0x0A, kCfgInitrdSize = 0x0B, kCfgKernelData = 0x11,
        kCfgInitrdData = 0x12, kCfgCmdlineAddr = 0x13, kCfgCmdlineSize = 0x14, kCfgCmdlineData = 0x15, kCfgSetupAddr = 0x16,
        kCfgSetupSize = 0x17, kCfgSetupData = 0x18,
    };
    // Where things go for a bzImage of protocol 2.02+ (boot.rst, "Memory layout": the real-mode
    // code at X = 0x10000 with its stack/heap up to X + 0x10000, the command line just above it,
    // the protected-mode kernel at 1 MiB), as QEMU does for "high and recent" kernels.
    constexpr uint32_t kRealAddr = 0x10000, kCmdlineAddr = 0x20000, kProtAddr = 0x100000;
    // Room left at the top of RAM for what the firmware keeps there when it boots: SeaBIOS holds
    // a high zone during POST (src/malloc.c) and gives back all but what its tables (ACPI,
    // SMBIOS, ...) use before booting, a few KiB (4 KiB on lift86 today: "Returned ... bytes of
    // ZoneHigh" in its log). Like QEMU (x86_load_linux's acpi_data_size), guess generously;
    // the ROM still checks the top of RAM the firmware reports (INT 15h E801) and moves the
    // initrd lower if the firmware kept more.
    constexpr uint32_t kFirmwareReserve = 256 * 1024;

    if (img.size() < 0x264 || !has_linux_header(img))
        throw LoadError(fmt::format("'{}' is not a Linux kernel (no setup header)", name));
    const uint16_t version = rd16(img, 0x206);
    if (version < 0x0202 || !(img[0x211] & 0x01))
        throw LoadError(fmt::format("'{}': Linux boot protocol {}.{:02} {}; -kernel needs a bzImage of protocol 2.02 or later",
                                    name, version >> 8, version & 0xFF, version < 0x0202 ? "is too old" : "without LOADED_HIGH (a zImage)"));
    // setup_sects 0 means 4 (boot.rst, "Details of header fields"); +1 for the boot sector.
    const size_t setup_size = (size_t(img[0x1F1] ? img[0x1F1] : 4) + 1) * 512;
    if (setup_size >= img.size())
        throw LoadError(fmt::format("'{}': truncated Linux kernel (setup_sects says {} bytes of setup, the file has {})", name,
                                    setup_size, img.size()));
    // The setup code and its heap share one 64 KiB segment; the kernel's own link script
    // (arch/x86/boot/setup.ld) refuses setup code over 0x8000 bytes.
    if (setup_size > 0x8000)
        throw LoadError(fmt::format("'{}': {} bytes of Linux setup code, over the boot protocol's 32 KiB", name, setup_size));
    const uint32_t kernel_size = uint32_t(img.size() - setup_size);

    // The command line: at most cmdline_size bytes (protocol 2.06+; 255 before), plus the NUL.
    const uint32_t cmdline_max = version >= 0x0206 ? rd32(img, 0x238) : 255;
    if (cmdline.size() > cmdline_max)
        throw LoadError(fmt::format("the kernel command line is {} bytes; '{}' takes at most {}", cmdline.size(), name,
                                    cmdline_max));

    std::vector<uint8_t> setup(img.begin(), img.begin() + std::ptrdiff_t(setup_size));
    auto put16 = [&](size_t off, uint16_t v) { std::memcpy(setup.data() + off, &v, 2); };
    auto put32 = [&](size_t off, uint32_t v) { std::memcpy(setup.data() + off, &v, 4); };
    setup[0x210] = 0xFF;                                   // type_of_loader: undefined (no assigned ID)
    setup[0x211] |= 0x80;                                  // loadflags: CAN_USE_HEAP
    put16(0x224, uint16_t(kCmdlineAddr - kRealAddr - 0x200));   // heap_end_ptr: heap up to the command line
    put32(0x228, kCmdlineAddr);                            // cmd_line_ptr

    // The initrd: as high as allowed, page aligned, below initrd_addr_max (protocol 2.03+;
    // 0x37FFFFFF before; any 32-bit address with XLF_CAN_BE_LOADED_ABOVE_4G, 2.12+) and below
    // what the firmware keeps; above the memory the kernel needs from 1 MiB (init_size, 2.10+:
    // it decompresses itself there).
    std::vector<uint8_t> initrd;
    uint32_t initrd_addr = 0;
    if (!initrd_path.empty()) {
        initrd = read_file(initrd_path, "initrd");
        uint64_t limit = version >= 0x0203 ? uint64_t(rd32(img, 0x22C)) + 1 : 0x38000000;
        if (version >= 0x020C && (rd16(img, 0x236) & 0x02)) limit = uint64_t(1) << 32;
        limit = std::min<uint64_t>(limit, ram_size > kFirmwareReserve ? ram_size - kFirmwareReserve : 0);
        uint64_t kernel_end = uint64_t(kProtAddr) + kernel_size;
        if (version >= 0x020A) kernel_end = std::max<uint64_t>(kernel_end, uint64_t(kProtAddr) + rd32(img, 0x260));
        const uint64_t at = initrd.size() <= limit ? (limit - initrd.size()) & ~uint64_t(0xFFF) : 0;
        if (initrd.size() > limit || at < kernel_end)
            throw LoadError(fmt::format("initrd '{}' ({} KiB) does not fit in {} MiB of RAM with the kernel; raise -m", initrd_path,
                                        (initrd.size() + 1023) >> 10, ram_size >> 20));
        initrd_addr = uint32_t(at);
        put32(0x218, initrd_addr);                         // ramdisk_image
        put32(0x21C, uint32_t(initrd.size()));             // ramdisk_size
    }

    fw.add_u32(kCfgSetupAddr, kRealAddr);
    fw.add_u32(kCfgSetupSize, uint32_t(setup_size));
    fw.add_item(kCfgSetupData, std::move(setup));
    fw.add_u32(kCfgKernelAddr, kProtAddr);
    fw.add_u32(kCfgKernelSize, kernel_size);
    fw.add_item(kCfgKernelData, std::vector<uint8_t>(img.begin() + std::ptrdiff_t(setup_size), img.end()));
    fw.add_u32(kCfgInitrdAddr, initrd_addr);
    fw.add_u32(kCfgInitrdSize, uint32_t(initrd.size()));
    fw.add_item(kCfgInitrdData, std::move(initrd));
    fw.add_u32(kCfgCmdlineAddr, kCmdlineAddr);
    fw.add_u32(kCfgCmdlineSize, uint32_t(cmdline.size() + 1));
    fw.add_item(kCfgCmdlineData, std::vector<uint8_t>(cmdline.c_str(), cmdline.c_str() + cmdline.size() + 1));

    // The ROM, booted first: SeaBIOS names a fw_cfg ROM "/rom@<file>" in its boot order
    // (bootprio_find_named_rom); devices already in "bootorder" keep their order after it.
    const std::span<const uint8_t> rom = linuxboot_rom();
    fw.add_file("genroms/linuxboot.bin", std::vector<uint8_t>(rom.begin(), rom.end()));
    const std::string first = "/rom@genroms/linuxboot.bin\n";
    std::string order;
    if (int key = fw.file_key("bootorder"); key >= 0) {
        const std::vector<uint8_t>& old = *fw.item(uint16_t(key));
        order.assign(old.begin(), old.end());
        while (!order.empty() && order.back() == '\0') order.pop_back();
        for (size_t at; (at = order.find(first)) != std::string::npos;) order.erase(at, first.size());   // a reset re-adds it
    }
    fw.add_file("bootorder", first + order);
}

void load_boot_sector(Cpu& cpu, PhysMemory& mem, const std::vector<uint8_t>& img, const std::string& name) {
    if (img.size() < 512) throw LoadError(fmt::format("disk image '{}' is smaller than one sector", name));
    mem.write_block(0x7C00, img.data(), 512, true);
    cpu.load_seg_real(CS, 0);
    for (unsigned s : {ES, SS, DS, FS, GS}) cpu.load_seg_real(s, 0);
    cpu.r[ESP] = 0x7C00;
    cpu.r[EDX] = 0x80;
    cpu.eip = 0x7C00;
    cpu.update_mode();
}

}  // namespace lift86
