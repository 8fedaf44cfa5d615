// Reader for the MOO single-step test format of the SingleStepTests project (../shared/sst/README.md):
// a little-endian chunked file (4-byte ASCII id, u32 payload length, payload), usually gzip-compressed.
// The reader never trusts a length field: a truncated or corrupt file gives a MooError that says
// which chunk and which byte offset went wrong, never a crash or an out-of-bounds read.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace lift86::sst {

class MooError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Registers in the order of the REGS bitmask (bit 0 upwards).
enum MooReg : uint8_t { AX, BX, CX, DX, CS, SS, DS, ES, SP, BP, SI, DI, IP, FLAGS, kNumMooRegs };
extern const char* const kMooRegNames[kNumMooRegs];

struct RamByte {
    uint32_t addr;
    uint8_t value;
};

// One INIT or FINA block. In FINA only the registers that changed are present.
struct CpuImage {
    uint16_t present = 0;                       // REGS bitmask
    std::array<uint16_t, kNumMooRegs> regs{};   // valid where `present` has the bit
    std::vector<RamByte> ram;
    bool has(MooReg r) const { return present & (1u << r); }
};

// EXCP: the test ends in an exception (or INT n); FLAGS was pushed at `flags_addr`.
struct MooException {
    uint8_t vector;
    uint32_t flags_addr;
};

struct MooTest {
    uint32_t index = 0;
    std::string name;                 // disassembly, e.g. "add [bx+0Eh],bl"
    std::vector<uint8_t> bytes;       // instruction bytes (followed by the HLT)
    CpuImage init, fina;
    std::optional<MooException> excp;
    std::optional<std::array<uint8_t, 20>> hash;   // SHA-1 identifying the test (revocation list)

    // Final value of a register: FINA if it changed, else INIT.
    uint16_t final_reg(MooReg r) const { return fina.has(r) ? fina.regs[r] : init.regs[r]; }
};

struct MooMeta {
    uint8_t major = 0, minor = 0, cpu_type = 0, cpu_mode = 0;
    uint32_t opcode = 0;
    std::string mnemonic;   // trailing blanks removed
    uint32_t test_count = 0;
    uint64_t seed = 0;
};

struct MooFile {
    uint8_t major = 0, minor = 0;
    uint32_t test_count = 0;
    std::string cpu;                  // "C286"
    std::optional<MooMeta> meta;
    std::vector<MooTest> tests;
};

// Parses an uncompressed MOO image. Unknown chunks are skipped by their length at every level.
MooFile parse_moo(std::span<const uint8_t> data);

// Reads a file, gunzipping it when it starts with the gzip magic (zlib).
std::vector<uint8_t> read_maybe_gzip(const std::string& path);

// read_maybe_gzip + parse_moo; errors name the file.
MooFile load_moo(const std::string& path);

std::string hex_string(std::span<const uint8_t> bytes, const char* sep = "");

}  // namespace lift86::sst
