#include "machine/loaders.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "frontend/cpu.hpp"

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
    std::vector<MmapEntry> mmap = {{20, 0, 0x9FC00, 1}, {20, 0x9FC00, 0x400, 2}, {20, 0xF0000, 0x10000, 2}};
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
