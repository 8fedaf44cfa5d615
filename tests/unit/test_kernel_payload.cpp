// Host-side unpacking of a bzImage's kernel (machine/kernel_payload): synthetic bzImages with an
// xz or gzip payload holding a small ELF, the cases that must fall back to the kernel's own
// decompressor, and Debian's real kernel when set-up has fetched it.
#include <gtest/gtest.h>

#include <lzma.h>
#include <zlib.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "machine/kernel_payload.hpp"

using namespace lift86;

namespace {

void put16(std::vector<uint8_t>& b, size_t off, uint16_t v) { std::memcpy(&b[off], &v, 2); }
void put32(std::vector<uint8_t>& b, size_t off, uint32_t v) { std::memcpy(&b[off], &v, 4); }

// An ELF32 i386 executable with two PT_LOAD segments (text with a byte pattern, then data
// whose memsz is larger: bss), entry at the first segment.
std::vector<uint8_t> make_elf(uint32_t base, uint32_t text_paddr_offset = 0) {
    std::vector<uint8_t> e(0x3000, 0);
    std::memcpy(&e[0], "\x7F" "ELF", 4);
    e[4] = 1;   // 32-bit
    e[5] = 1;   // little-endian
    e[6] = 1;
    put16(e, 16, 2);             // ET_EXEC
    put16(e, 18, 3);             // EM_386
    put32(e, 24, base);          // entry
    put32(e, 28, 52);            // phoff
    put16(e, 42, 32);            // phentsize
    put16(e, 44, 3);             // phnum: text, a non-load note, data
    auto ph = [&](unsigned i, uint32_t type, uint32_t off, uint32_t paddr, uint32_t filesz, uint32_t memsz) {
        const size_t at = 52 + i * 32;
        put32(e, at, type);
        put32(e, at + 4, off);
        put32(e, at + 8, paddr + 0xC0000000u);   // vaddr (unused)
        put32(e, at + 12, paddr);
        put32(e, at + 16, filesz);
        put32(e, at + 20, memsz);
    };
    ph(0, 1, 0x1000, base + text_paddr_offset, 0x1000, 0x1000);
    ph(1, 4, 0x200, 0, 0x10, 0x10);
    ph(2, 1, 0x2000, base + 0x2000, 0x800, 0x4000);
    for (size_t k = 0x1000; k < 0x2800; k++) e[k] = uint8_t(k * 7);
    return e;
}

std::vector<uint8_t> xz(const std::vector<uint8_t>& in) {
    std::vector<uint8_t> out(lzma_stream_buffer_bound(in.size()));
    size_t pos = 0;
    EXPECT_EQ(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC32, nullptr, in.data(), in.size(), out.data(), &pos, out.size()), LZMA_OK);
    out.resize(pos);
    // The kernel build appends the uncompressed size after an xz stream.
    const uint32_t n = uint32_t(in.size());
    out.insert(out.end(), reinterpret_cast<const uint8_t*>(&n), reinterpret_cast<const uint8_t*>(&n) + 4);
    return out;
}

std::vector<uint8_t> gzip(const std::vector<uint8_t>& in) {
    z_stream z{};
    EXPECT_EQ(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    std::vector<uint8_t> out(deflateBound(&z, uLong(in.size())) + 64);
    z.next_in = const_cast<Bytef*>(in.data());
    z.avail_in = uInt(in.size());
    z.next_out = out.data();
    z.avail_out = uInt(out.size());
    EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
    out.resize(out.size() - z.avail_out);
    deflateEnd(&z);
    return out;
}

// A bzImage: one setup sector + the boot sector, then the "protected-mode part": a fake
// decompressor stub of 0x100 bytes followed by the payload.
std::vector<uint8_t> make_bzimage(const std::vector<uint8_t>& payload, uint32_t pref = 0x1000000, bool relocatable = true,
                                  uint16_t version = 0x020F) {
    std::vector<uint8_t> img(2 * 512 + 0x100, 0);
    img[0x1F1] = 1;   // setup_sects
    std::memcpy(&img[0x202], "HdrS", 4);
    put16(img, 0x206, version);
    img[0x211] = 0x01;   // LOADED_HIGH
    img[0x234] = relocatable;
    put32(img, 0x248, 0x100);                      // payload_offset
    put32(img, 0x24C, uint32_t(payload.size()));   // payload_length
    put32(img, 0x258, pref);                       // pref_address
    put32(img, 0x260, 0x10000);                    // init_size
    img.insert(img.end(), payload.begin(), payload.end());
    return img;
}

void expect_unpacked(const std::optional<KernelImage>& k, const std::vector<uint8_t>& elf, const char* format) {
    ASSERT_TRUE(k.has_value());
    EXPECT_EQ(k->format, format);
    EXPECT_EQ(k->entry, 0x1000000u);
    EXPECT_EQ(k->load_base, 0x1000000u);
    ASSERT_EQ(k->segments.size(), 2u) << "only PT_LOAD segments";
    EXPECT_EQ(k->segments[0].paddr, 0x1000000u);
    EXPECT_EQ(k->segments[0].bytes, std::vector<uint8_t>(elf.begin() + 0x1000, elf.begin() + 0x2000));
    EXPECT_EQ(k->segments[1].paddr, 0x1002000u);
    EXPECT_EQ(k->segments[1].bytes.size(), 0x800u);
    EXPECT_EQ(k->segments[1].memsz, 0x4000u) << "bss beyond the file contents";
}

TEST(KernelPayload, UnpacksAnXzPayload) {
    const auto elf = make_elf(0x1000000);
    std::string why;
    expect_unpacked(host_decompress(make_bzimage(xz(elf)), &why), elf, "xz");
    EXPECT_EQ(why, "");
}

TEST(KernelPayload, UnpacksAGzipPayload) {
    const auto elf = make_elf(0x1000000);
    expect_unpacked(host_decompress(make_bzimage(gzip(elf)), nullptr), elf, "gzip");
}

TEST(KernelPayload, LeavesOtherKernelsToTheirOwnDecompressor) {
    const auto elf = make_elf(0x1000000);
    struct Case {
        const char* name;
        std::vector<uint8_t> img;
        const char* why;
    };
    auto corrupt = xz(elf);
    corrupt[corrupt.size() / 2] ^= 0xFF;
    std::vector<uint8_t> lz4 = {0x02, 0x21, 0x4C, 0x18, 1, 2, 3, 4, 5, 6, 7, 8};
    const Case cases[] = {
        {"corrupt xz", make_bzimage(corrupt), "corrupt"},
        {"unknown format", make_bzimage(lz4), "neither xz nor gzip"},
        {"not relocatable", make_bzimage(xz(elf), 0x1000000, false), "not a relocatable kernel"},
        {"old protocol", make_bzimage(xz(elf), 0x1000000, true, 0x0209), "older than 2.10"},
        {"linked elsewhere", make_bzimage(xz(make_elf(0x1000000, 0x200000))), "relocating"},
        {"truncated", std::vector<uint8_t>(0x100, 0), "header"},
    };
    for (const Case& c : cases) {
        std::string why;
        EXPECT_FALSE(host_decompress(c.img, &why).has_value()) << c.name;
        EXPECT_NE(why.find(c.why), std::string::npos) << c.name << ": " << why;
    }
}

TEST(KernelPayload, DebiansKernel) {
    const char* path = LIFT86_LINUX_GUEST_DIR "/vmlinuz";
    if (!std::filesystem::exists(path)) GTEST_SKIP() << "the Linux guest is not built (" << path << ")";
    std::ifstream f(path, std::ios::binary);
    std::vector<uint8_t> img((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    std::string why;
    auto k = host_decompress(img, &why);
    ASSERT_TRUE(k.has_value()) << why;
    EXPECT_EQ(k->format, "xz");
    EXPECT_EQ(k->entry, k->load_base) << "startup_32 first";
    uint64_t bytes = 0;
    for (const auto& s : k->segments) bytes += s.memsz;
    EXPECT_GT(bytes, 8u << 20) << "a whole kernel";
}

}  // namespace
