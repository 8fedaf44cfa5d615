// The protected-mode kernel inside a bzImage, decompressed on the host.
//
// A bzImage's 32-bit part is a small decompressor plus the compressed kernel (the "payload",
// boot.rst "payload_offset"/"payload_length"). Run in the guest, that decompressor is the
// single largest piece of a Linux boot on an interpreter (Debian's 686 kernel: ~1.5 G of its
// ~3 G instructions to user space). With --direct-boot lift86 does the decompressor's job
// itself, as arch/x86/boot/compressed/misc.c extract_kernel() would with KASLR off: decompress
// the payload (xz or gzip), copy the vmlinux ELF's PT_LOAD segments to their physical addresses,
// and enter the kernel's own startup_32 with the state the decompressor leaves (flat
// __BOOT_CS/__BOOT_DS, ESI = boot_params, EBX = 0). The kernel is not modified; only the
// stage that unpacks it runs on the host.
//
// Only the case where no relocation is needed is taken: a relocatable kernel whose preferred
// load address (pref_address, the link-time LOAD_PHYSICAL_ADDR) is where its segments go. Any
// other kernel, or a payload in another format (lzma, bzip2, lzo, lz4, zstd), is left to its
// own decompressor: host_decompress() says why in `why` and returns nothing.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace lift86 {

struct KernelImage {
    struct Segment {
        uint32_t paddr;              // physical load address
        std::vector<uint8_t> bytes;  // file contents; the rest up to memsz is zero
        uint32_t memsz;
    };
    std::vector<Segment> segments;
    uint32_t entry = 0;              // physical entry point (startup_32)
    uint32_t load_base = 0;          // pref_address
    uint32_t init_size = 0;          // memory the kernel needs from load_base (boot.rst init_size)
    std::string format;              // "xz" or "gzip"
};

// `img` is a whole bzImage (boot protocol 2.10+ for pref_address/init_size).
std::optional<KernelImage> host_decompress(const std::vector<uint8_t>& img, std::string* why);

}  // namespace lift86
