// The MOO reader against hand-built files: every field lands where it should, unknown chunks are
// skipped, and every kind of damage (truncation anywhere, lying lengths, bad gzip) is a MooError.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/sst/moo.hpp"

using namespace lift86::sst;

namespace {

// Little-endian byte builder with nested chunks.
struct Buf {
    std::vector<uint8_t> b;
    Buf& u8(uint8_t v) { b.push_back(v); return *this; }
    Buf& u16(uint16_t v) { return u8(uint8_t(v)).u8(uint8_t(v >> 8)); }
    Buf& u32(uint32_t v) { return u16(uint16_t(v)).u16(uint16_t(v >> 16)); }
    Buf& u64(uint64_t v) { return u32(uint32_t(v)).u32(uint32_t(v >> 32)); }
    Buf& str(const std::string& s) { b.insert(b.end(), s.begin(), s.end()); return *this; }
    Buf& raw(const std::vector<uint8_t>& v) { b.insert(b.end(), v.begin(), v.end()); return *this; }
    Buf& chunk(const char id[5], const Buf& payload) { return str(id).u32(uint32_t(payload.b.size())).raw(payload.b); }
};

Buf regs(uint16_t mask, std::initializer_list<uint16_t> vals) {
    Buf r;
    r.u16(mask);
    for (uint16_t v : vals) r.u16(v);
    return r;
}

Buf ram(std::initializer_list<std::pair<uint32_t, uint8_t>> bytes) {
    Buf r;
    r.u32(uint32_t(bytes.size()));
    for (auto [a, v] : bytes) r.u32(a).u8(v);
    return r;
}

// A one-test file: "add [bx+si],al" that divides by zero, with an unknown chunk at each level.
std::vector<uint8_t> sample_file() {
    Buf init, fina, test, meta, file;
    init.chunk("REGS", regs(0x3FFF, {1, 2, 3, 4, 0x100, 0x200, 0x300, 0x400, 0xFFFE, 6, 7, 8, 0x10, 0xF002}))
        .chunk("RAM ", ram({{0x1010, 0x00}, {0x1011, 0x00}, {0x1012, 0xF4}}))
        .chunk("CYCL", Buf().u32(0));   // bus cycles: not read
    fina.chunk("REGS", regs((1u << AX) | (1u << IP), {0xBEEF, 0x12}))
        .chunk("RAM ", ram({{0x2001, 0x55}}));
    std::array<uint8_t, 20> hash{};
    for (int i = 0; i < 20; i++) hash[i] = uint8_t(i * 13);
    test.u32(7)
        .chunk("GMET", Buf().u32(0xDEADBEEF).u32(0).u16(0))
        .chunk("NAME", Buf().u32(14).str("add [bx+si],al"))
        .chunk("BYTS", Buf().u32(3).u8(0x00).u8(0x00).u8(0xF4))
        .chunk("INIT", init)
        .chunk("FINA", fina)
        .chunk("EXCP", Buf().u8(0).u32(0x2001))
        .chunk("HASH", Buf().raw(std::vector<uint8_t>(hash.begin(), hash.end())));
    meta.u8(1).u8(0).u8(6).u32(0x00).str("add     ").u32(1).u64(0x1234567890ULL).u8(0).u8(0).u8(0).u8(0);
    file.chunk("MOO ", Buf().u8(1).u8(0).u16(0).u32(1).str("C286"))
        .chunk("META", meta)
        .chunk("FUTR", Buf().str("a chunk from a later format version"))
        .chunk("TEST", test);
    return file.b;
}

std::string temp_path(const char* name) {
    return (std::filesystem::temp_directory_path() / (std::string("lift86_test_moo_") + name)).string();
}

void write_gzip(const std::string& path, const std::vector<uint8_t>& data) {
    gzFile g = gzopen(path.c_str(), "wb");
    ASSERT_NE(g, nullptr);
    ASSERT_EQ(gzwrite(g, data.data(), unsigned(data.size())), int(data.size()));
    gzclose(g);
}

}  // namespace

TEST(Moo, ParsesEveryField) {
    MooFile f = parse_moo(sample_file());
    EXPECT_EQ(f.cpu, "C286");
    EXPECT_EQ(f.test_count, 1u);
    ASSERT_TRUE(f.meta);
    EXPECT_EQ(f.meta->mnemonic, "add");
    EXPECT_EQ(f.meta->seed, 0x1234567890ULL);
    ASSERT_EQ(f.tests.size(), 1u);
    const MooTest& t = f.tests[0];
    EXPECT_EQ(t.index, 7u);
    EXPECT_EQ(t.name, "add [bx+si],al");
    EXPECT_EQ(t.bytes, (std::vector<uint8_t>{0x00, 0x00, 0xF4}));
    EXPECT_EQ(t.init.regs[AX], 1);
    EXPECT_EQ(t.init.regs[CS], 0x100);
    EXPECT_EQ(t.init.regs[SP], 0xFFFE);
    EXPECT_EQ(t.init.regs[FLAGS], 0xF002);
    ASSERT_EQ(t.init.ram.size(), 3u);
    EXPECT_EQ(t.init.ram[2].addr, 0x1012u);
    EXPECT_EQ(t.init.ram[2].value, 0xF4);
    // FINA lists only what changed; final_reg falls back to INIT.
    EXPECT_EQ(t.final_reg(AX), 0xBEEF);
    EXPECT_EQ(t.final_reg(IP), 0x12);
    EXPECT_EQ(t.final_reg(BX), 2);
    EXPECT_FALSE(t.fina.has(BX));
    ASSERT_TRUE(t.excp);
    EXPECT_EQ(t.excp->vector, 0);
    EXPECT_EQ(t.excp->flags_addr, 0x2001u);
    ASSERT_TRUE(t.hash);
    EXPECT_EQ(hex_string(*t.hash).substr(0, 6), "000d1a");
}

TEST(Moo, EveryTruncationIsAnError) {
    std::vector<uint8_t> f = sample_file();
    for (size_t n = 0; n < f.size(); n++) {
        std::vector<uint8_t> cut(f.begin(), f.begin() + long(n));
        EXPECT_THROW(parse_moo(cut), MooError) << "prefix of " << n << " bytes";
    }
}

TEST(Moo, LyingLengthsAreErrors) {
    std::vector<uint8_t> f = sample_file();
    // The TEST chunk's length field claims far more than the file holds.
    size_t test_at = 0;
    for (size_t i = 0; i + 4 <= f.size(); i++)
        if (std::string(f.begin() + long(i), f.begin() + long(i) + 4) == "TEST") test_at = i;
    ASSERT_NE(test_at, 0u);
    std::vector<uint8_t> big = f;
    big[test_at + 7] = 0x7F;
    try {
        parse_moo(big);
        FAIL() << "no error";
    } catch (const MooError& e) {
        EXPECT_NE(std::string(e.what()).find("TEST"), std::string::npos) << e.what();
    }
    // A RAM count larger than its chunk.
    std::vector<uint8_t> ram_lie = f;
    for (size_t i = 0; i + 4 <= ram_lie.size(); i++)
        if (std::string(ram_lie.begin() + long(i), ram_lie.begin() + long(i) + 4) == "RAM ") {
            ram_lie[i + 8] = 200;   // count low byte
            break;
        }
    EXPECT_THROW(parse_moo(ram_lie), MooError);
}

TEST(Moo, RejectsWhatIsNotAMooFile) {
    EXPECT_THROW(parse_moo(std::vector<uint8_t>{}), MooError);
    std::vector<uint8_t> junk = {'P', 'K', 3, 4, 0, 0, 0, 0, 1, 2, 3};
    EXPECT_THROW(parse_moo(junk), MooError);
    // Unknown register bits in REGS: the reader cannot know where the values go.
    Buf file, test, init;
    init.chunk("REGS", regs(0xC000, {1, 2}));
    test.u32(0).chunk("INIT", init).chunk("FINA", init);
    file.chunk("MOO ", Buf().u8(1).u8(0).u16(0).u32(1).str("C286")).chunk("TEST", test);
    EXPECT_THROW(parse_moo(file.b), MooError);
}

TEST(Moo, TestWithoutFinalStateIsAnError) {
    Buf file, test, init;
    init.chunk("REGS", regs(0x3FFF, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}));
    test.u32(0).chunk("INIT", init);
    file.chunk("MOO ", Buf().u8(1).u8(0).u16(0).u32(1).str("C286")).chunk("TEST", test);
    EXPECT_THROW(parse_moo(file.b), MooError);
}

TEST(Moo, ReadsGzipAndReportsTruncatedGzip) {
    std::vector<uint8_t> f = sample_file();
    std::string path = temp_path("ok.MOO.gz");
    write_gzip(path, f);
    EXPECT_EQ(read_maybe_gzip(path), f);
    EXPECT_EQ(load_moo(path).tests.size(), 1u);

    // Chop the compressed file in half: inflate runs out of input before the stream ends.
    std::vector<uint8_t> gz;
    {
        std::FILE* in = std::fopen(path.c_str(), "rb");
        ASSERT_NE(in, nullptr);
        int c;
        while ((c = std::fgetc(in)) != EOF) gz.push_back(uint8_t(c));
        std::fclose(in);
    }
    std::string cut = temp_path("cut.MOO.gz");
    {
        std::FILE* out = std::fopen(cut.c_str(), "wb");
        ASSERT_NE(out, nullptr);
        std::fwrite(gz.data(), 1, gz.size() / 2, out);
        std::fclose(out);
    }
    try {
        read_maybe_gzip(cut);
        FAIL() << "no error";
    } catch (const MooError& e) {
        EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
    }
    EXPECT_THROW(read_maybe_gzip(temp_path("does-not-exist")), MooError);
    std::filesystem::remove(path);
    std::filesystem::remove(cut);
}
