#include "machine/kernel_payload.hpp"

#include <lzma.h>
#include <zlib.h>

#include <cstring>

namespace lift86 {

namespace {

uint32_t rd32(const uint8_t* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}
uint16_t rd16(const uint8_t* p) {
    uint16_t v;
    std::memcpy(&v, p, 2);
    return v;
}

// The kernel build appends the uncompressed size (LE32) after an xz stream (scripts/Makefile.lib
// size_append); gzip's own trailer ends with it (ISIZE). Either way: the last 4 payload bytes.
constexpr size_t kMaxKernel = 256u << 20;   // refuse absurd sizes from a corrupt payload

bool unxz(const uint8_t* in, size_t n, size_t out_size, std::vector<uint8_t>& out, std::string* why) {
    lzma_stream s = LZMA_STREAM_INIT;
    // One stream, no concatenation: decoding stops at its end, before the appended size.
    if (lzma_stream_decoder(&s, UINT64_MAX, 0) != LZMA_OK) {
        *why = "liblzma cannot start a decoder";
        return false;
    }
    out.resize(out_size);
    s.next_in = in;
    s.avail_in = n;
    s.next_out = out.data();
    s.avail_out = out.size();
    const lzma_ret r = lzma_code(&s, LZMA_FINISH);
    const size_t produced = out.size() - s.avail_out;
    lzma_end(&s);
    if (r != LZMA_STREAM_END || produced != out_size) {
        *why = r == LZMA_STREAM_END ? "the xz payload's size does not match its trailer" : "the xz payload is corrupt";
        return false;
    }
    return true;
}

bool gunzip(const uint8_t* in, size_t n, size_t out_size, std::vector<uint8_t>& out, std::string* why) {
    z_stream z{};
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {   // 16: a gzip header and trailer
        *why = "zlib cannot start a decoder";
        return false;
    }
    out.resize(out_size);
    z.next_in = const_cast<Bytef*>(in);
    z.avail_in = uInt(n);
    z.next_out = out.data();
    z.avail_out = uInt(out.size());
    const int r = inflate(&z, Z_FINISH);
    const size_t produced = out.size() - z.avail_out;
    inflateEnd(&z);
    if (r != Z_STREAM_END || produced != out_size) {
        *why = "the gzip payload is corrupt";
        return false;
    }
    return true;
}

}  // namespace

std::optional<KernelImage> host_decompress(const std::vector<uint8_t>& img, std::string* why) {
    std::string ignored;
    if (!why) why = &ignored;
    auto fail = [why](const char* msg) -> std::optional<KernelImage> {
        *why = msg;
        return std::nullopt;
    };
    // Setup header (boot.rst "The real-mode kernel header").
    if (img.size() < 0x268) return fail("no boot protocol 2.10 header");
    const uint16_t version = rd16(&img[0x206]);
    if (version < 0x020A) return fail("boot protocol older than 2.10 (no pref_address/init_size)");
    if (!img[0x234]) return fail("not a relocatable kernel");
    const unsigned setup_sects = img[0x1F1] ? img[0x1F1] : 4;
    const size_t pm_start = (size_t(setup_sects) + 1) * 512;
    const uint32_t payload_off = rd32(&img[0x248]), payload_len = rd32(&img[0x24C]);
    const uint64_t pref = rd32(&img[0x258]) | (uint64_t(rd32(&img[0x25C])) << 32);
    const uint32_t init_size = rd32(&img[0x260]);
    if (payload_len < 8 || pm_start + payload_off + uint64_t(payload_len) > img.size()) return fail("payload outside the file");
    if (pref >= (1ull << 32) || pref + init_size > (1ull << 32)) return fail("pref_address beyond 4 GiB");
    const uint8_t* payload = &img[pm_start + payload_off];
    const size_t out_size = rd32(payload + payload_len - 4);
    if (out_size < 52 || out_size > kMaxKernel) return fail("implausible uncompressed size");

    KernelImage k;
    std::vector<uint8_t> elf;
    static const uint8_t kXz[6] = {0xFD, '7', 'z', 'X', 'Z', 0x00};
    if (std::memcmp(payload, kXz, 6) == 0) {
        k.format = "xz";
        if (!unxz(payload, payload_len - 4, out_size, elf, why)) return std::nullopt;
    } else if (payload[0] == 0x1F && (payload[1] == 0x8B || payload[1] == 0x9E)) {
        k.format = "gzip";
        if (!gunzip(payload, payload_len, out_size, elf, why)) return std::nullopt;
    } else {
        return fail("payload is neither xz nor gzip");
    }

    // vmlinux: an ELF32 i386 executable whose program headers give physical load addresses
    // (arch/x86/boot/compressed/misc.c parse_elf).
    if (std::memcmp(elf.data(), "\x7F" "ELF", 4) != 0 || elf[4] != 1 /* ELFCLASS32 */ || elf[5] != 1 /* LSB */ ||
        rd16(&elf[18]) != 3 /* EM_386 */)
        return fail("the payload is not an i386 ELF kernel");
    const uint32_t phoff = rd32(&elf[28]);
    const uint16_t phentsize = rd16(&elf[42]), phnum = rd16(&elf[44]);
    if (phentsize < 32 || uint64_t(phoff) + uint64_t(phnum) * phentsize > elf.size()) return fail("bad ELF program headers");
    k.load_base = uint32_t(pref);
    k.init_size = init_size;
    const uint64_t limit = pref + init_size;
    for (unsigned i = 0; i < phnum; i++) {
        const uint8_t* ph = &elf[phoff + size_t(i) * phentsize];
        if (rd32(ph) != 1 /* PT_LOAD */) continue;
        const uint32_t off = rd32(ph + 4), paddr = rd32(ph + 12), filesz = rd32(ph + 16), memsz = rd32(ph + 20);
        if (uint64_t(off) + filesz > elf.size() || filesz > memsz) return fail("bad ELF segment");
        // Outside [pref_address, pref_address + init_size): the kernel expects to be relocated.
        if (paddr < pref || uint64_t(paddr) + memsz > limit) return fail("the kernel would need relocating");
        k.segments.push_back({paddr, std::vector<uint8_t>(elf.begin() + off, elf.begin() + off + filesz), memsz});
    }
    if (k.segments.empty()) return fail("no loadable ELF segment");
    k.entry = rd32(&elf[24]);
    if (k.entry < pref || k.entry >= limit) return fail("the entry point is outside the kernel");
    return k;
}

}  // namespace lift86
