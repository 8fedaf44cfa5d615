#include "tests/sst/moo.hpp"

#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

namespace lift86::sst {

const char* const kMooRegNames[kNumMooRegs] = {"ax", "bx", "cx", "dx", "cs", "ss", "ds",
                                               "es", "sp", "bp", "si", "di", "ip", "flags"};

std::string hex_string(std::span<const uint8_t> bytes, const char* sep) {
    static const char digits[] = "0123456789abcdef";
    std::string s;
    for (size_t i = 0; i < bytes.size(); i++) {
        if (i) s += sep;
        s += digits[bytes[i] >> 4];
        s += digits[bytes[i] & 15];
    }
    return s;
}

namespace {

struct Chunk;

// A bounds-checked cursor over one chunk payload. `base` is the payload's offset in the file,
// kept only for error messages.
class Cursor {
public:
    Cursor(std::span<const uint8_t> d, size_t base, std::string what)
        : d_(d), base_(base), what_(std::move(what)) {}

    size_t left() const { return d_.size() - pos_; }
    bool done() const { return pos_ == d_.size(); }
    size_t file_offset() const { return base_ + pos_; }
    const std::string& what() const { return what_; }

    [[noreturn]] void fail(const std::string& msg) const {
        char where[64];
        std::snprintf(where, sizeof where, " (at file offset 0x%zx)", file_offset());
        throw MooError(what_ + ": " + msg + where);
    }
    void need(size_t n, const char* field) const {
        if (left() < n)
            fail(std::string("truncated: ") + field + " needs " + std::to_string(n) + " bytes, " +
                 std::to_string(left()) + " left");
    }
    std::span<const uint8_t> bytes(size_t n, const char* field) {
        need(n, field);
        auto s = d_.subspan(pos_, n);
        pos_ += n;
        return s;
    }
    uint8_t u8(const char* field) { return bytes(1, field)[0]; }
    uint16_t u16(const char* field) {
        auto b = bytes(2, field);
        return uint16_t(b[0] | b[1] << 8);
    }
    uint32_t u32(const char* field) {
        auto b = bytes(4, field);
        return uint32_t(b[0]) | uint32_t(b[1]) << 8 | uint32_t(b[2]) << 16 | uint32_t(b[3]) << 24;
    }
    uint64_t u64(const char* field) {
        uint64_t lo = u32(field);
        return lo | uint64_t(u32(field)) << 32;
    }
    std::string text(size_t n, const char* field) {
        auto b = bytes(n, field);
        return std::string(b.begin(), b.end());
    }

    // Next chunk header + payload; the payload must lie inside this cursor's range.
    Chunk chunk();

private:
    std::span<const uint8_t> d_;
    size_t pos_ = 0;
    size_t base_;
    std::string what_;
};

// One chunk: its id and a cursor over exactly its payload.
struct Chunk {
    std::string id;
    Cursor body;
};

Chunk Cursor::chunk() {
    need(8, "chunk header");
    std::string id = text(4, "chunk id");
    for (char c : id)
        if (c < 0x20 || c > 0x7E) fail("bad chunk id (not ASCII): is this a MOO file?");
    uint32_t len = u32("chunk length");
    if (len > left())
        fail("truncated: chunk '" + id + "' declares " + std::to_string(len) + " bytes, " + std::to_string(left()) +
             " left");
    size_t at = file_offset();
    return Chunk{id, Cursor(bytes(len, "chunk payload"), at, what_ + "/" + id)};
}

void parse_regs(Cursor& c, CpuImage& img) {
    uint16_t mask = c.u16("REGS mask");
    if (mask >> kNumMooRegs)
        c.fail("REGS mask 0x" + hex_string(std::array<uint8_t, 2>{uint8_t(mask >> 8), uint8_t(mask)}) +
               " names registers this 80286 reader does not know");
    img.present = mask;
    for (unsigned r = 0; r < kNumMooRegs; r++)
        if (mask & (1u << r)) img.regs[r] = c.u16(kMooRegNames[r]);
}

void parse_ram(Cursor& c, CpuImage& img) {
    uint32_t n = c.u32("RAM count");
    if (uint64_t(n) * 5 > c.left())
        c.fail("truncated: RAM count " + std::to_string(n) + " needs " + std::to_string(uint64_t(n) * 5) +
               " bytes, " + std::to_string(c.left()) + " left");
    img.ram.reserve(n);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t addr = c.u32("RAM address");
        img.ram.push_back({addr, c.u8("RAM value")});
    }
}

CpuImage parse_image(Cursor& c) {
    CpuImage img;
    bool regs = false;
    while (!c.done()) {
        auto ch = c.chunk();
        if (ch.id == "REGS") {
            parse_regs(ch.body, img);
            regs = true;
        } else if (ch.id == "RAM ") {
            parse_ram(ch.body, img);
        }   // anything else (e.g. bus-cycle records, stripped here): skipped by length
    }
    if (!regs) c.fail("no REGS sub-chunk");
    return img;
}

// NAME / BYTS: u32 length + data, the length bounded by the chunk.
std::span<const uint8_t> counted(Cursor& c, const char* field) {
    uint32_t n = c.u32(field);
    return c.bytes(n, field);
}

MooTest parse_test(Cursor& c) {
    MooTest t;
    t.index = c.u32("TEST index");
    bool init = false, fina = false;
    while (!c.done()) {
        auto ch = c.chunk();
        Cursor& b = ch.body;
        if (ch.id == "NAME") {
            auto s = counted(b, "NAME text");
            t.name.assign(s.begin(), s.end());
        } else if (ch.id == "BYTS") {
            auto s = counted(b, "BYTS bytes");
            t.bytes.assign(s.begin(), s.end());
        } else if (ch.id == "INIT") {
            t.init = parse_image(b);
            init = true;
        } else if (ch.id == "FINA") {
            t.fina = parse_image(b);
            fina = true;
        } else if (ch.id == "EXCP") {
            uint8_t v = b.u8("EXCP vector");
            t.excp = MooException{v, b.u32("EXCP flags address")};
        } else if (ch.id == "HASH") {
            auto s = b.bytes(20, "HASH");
            std::array<uint8_t, 20> h;
            std::memcpy(h.data(), s.data(), 20);
            t.hash = h;
        }   // GMET (generator metadata) and anything newer: skipped by length
    }
    if (!init) c.fail("test " + std::to_string(t.index) + " has no INIT chunk");
    if (!fina) c.fail("test " + std::to_string(t.index) + " has no FINA chunk");
    // INIT must give the whole machine state: the harness cannot invent missing registers.
    if (t.init.present != (1u << kNumMooRegs) - 1)
        c.fail("test " + std::to_string(t.index) + ": INIT REGS does not list all 14 registers");
    return t;
}

MooMeta parse_meta(Cursor& c) {
    MooMeta m;
    m.major = c.u8("META major");
    m.minor = c.u8("META minor");
    m.cpu_type = c.u8("META cpu type");
    m.opcode = c.u32("META opcode");
    std::string mn = c.text(8, "META mnemonic");
    while (!mn.empty() && (mn.back() == ' ' || mn.back() == '\0')) mn.pop_back();
    m.mnemonic = mn;
    m.test_count = c.u32("META test count");
    m.seed = c.u64("META seed");
    m.cpu_mode = c.u8("META cpu mode");
    return m;   // 3 reserved bytes (and any later additions) ignored
}

}  // namespace

MooFile parse_moo(std::span<const uint8_t> data) {
    Cursor file(data, 0, "MOO");
    MooFile f;
    if (file.left() < 8 || std::memcmp(data.data(), "MOO ", 4) != 0)
        throw MooError("not a MOO file (no 'MOO ' header chunk at offset 0)");
    {
        auto ch = file.chunk();
        f.major = ch.body.u8("MOO major");
        f.minor = ch.body.u8("MOO minor");
        ch.body.bytes(2, "MOO reserved");
        f.test_count = ch.body.u32("MOO test count");
        f.cpu = ch.body.text(4, "MOO cpu id");
    }
    while (!file.done()) {
        auto ch = file.chunk();
        if (ch.id == "META") {
            f.meta = parse_meta(ch.body);
        } else if (ch.id == "TEST") {
            f.tests.push_back(parse_test(ch.body));
        }   // RMSK (not in the 286 set) and unknown chunks: skipped by length
    }
    if (f.tests.size() != f.test_count)
        throw MooError("MOO header says " + std::to_string(f.test_count) + " tests but the file holds " +
                       std::to_string(f.tests.size()) + " (truncated?)");
    return f;
}

MooFile load_moo(const std::string& path) {
    std::vector<uint8_t> data = read_maybe_gzip(path);   // its errors already name the file
    try {
        return parse_moo(data);
    } catch (const MooError& e) {
        throw MooError(path + ": " + e.what());
    }
}

std::vector<uint8_t> read_maybe_gzip(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw MooError(path + ": cannot open: " + std::strerror(errno));
    std::vector<uint8_t> raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (raw.size() < 2 || raw[0] != 0x1F || raw[1] != 0x8B) return raw;

    // inflate with gzip header detection (windowBits 15 + 32); a truncated stream ends without
    // Z_STREAM_END and is reported, not returned as a short buffer.
    z_stream zs{};
    if (inflateInit2(&zs, 15 + 32) != Z_OK) throw MooError(path + ": zlib init failed");
    std::vector<uint8_t> out;
    out.resize(raw.size() * 8 + 4096);
    zs.next_in = raw.data();
    zs.avail_in = uInt(raw.size());
    int rc = Z_OK;
    while (rc != Z_STREAM_END) {
        if (zs.total_out == out.size()) out.resize(out.size() * 2);
        zs.next_out = out.data() + zs.total_out;
        zs.avail_out = uInt(out.size() - zs.total_out);
        rc = inflate(&zs, Z_NO_FLUSH);
        if (rc == Z_STREAM_END) break;
        if (rc == Z_BUF_ERROR && zs.avail_in == 0) {
            inflateEnd(&zs);
            throw MooError(path + ": truncated gzip stream");
        }
        if (rc != Z_OK && rc != Z_BUF_ERROR) {
            std::string msg = zs.msg ? zs.msg : "error " + std::to_string(rc);
            inflateEnd(&zs);
            throw MooError(path + ": corrupt gzip data: " + msg);
        }
    }
    out.resize(zs.total_out);
    inflateEnd(&zs);
    return out;
}

}  // namespace lift86::sst
