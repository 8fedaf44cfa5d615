// The GDB stub without sockets: the packet framing (malformed input of every kind against the
// parser) and the command interpreter on a bare CPU (memory through page tables, registers,
// breakpoints and steps through the debug interface).
#include <gtest/gtest.h>

#include <cstdio>
#include <ostream>
#include <string>
#include <vector>

#include "frontend/cpu.hpp"
#include "machine/gdbstub/packet.hpp"
#include "machine/gdbstub/registers.hpp"
#include "machine/gdbstub/session.hpp"

namespace lift86::gdb {
namespace {

using Ev = PacketParser::Event;

struct Fed {
    std::vector<Ev> events;        // every event other than None, in order
    std::vector<std::string> packets;
};

Fed feed_all(PacketParser& p, std::string_view bytes) {
    Fed f;
    for (char c : bytes) {
        Ev e = p.feed(uint8_t(c));
        if (e == Ev::None) continue;
        f.events.push_back(e);
        if (e == Ev::Packet) f.packets.push_back(p.payload());
    }
    return f;
}

Fed feed_all(std::string_view bytes) {
    PacketParser p;
    return feed_all(p, bytes);
}

// ---------------------------------------------------------------- framing
TEST(Framing, FrameComputesTheChecksum) {
    EXPECT_EQ(frame("OK"), "$OK#9a");
    EXPECT_EQ(frame(""), "$#00");
    EXPECT_EQ(frame("?"), "$?#3f");
    // Reserved characters are escaped, and the checksum covers the escaped bytes.
    EXPECT_EQ(frame("a#b"), "$a}\x03" "b#" + to_hex(std::string(1, char(('a' + '}' + 3 + 'b') & 0xFF))));
}

TEST(Framing, RoundTripThroughTheParser) {
    const std::string payloads[] = {"qSupported:multiprocess+;swbreak+", "m100000,40", "", "X100,4:$#}*",
                                    std::string("\x00\x01\x02\xff", 4)};
    for (const std::string& pl : payloads) {
        Fed f = feed_all(frame(pl));
        ASSERT_EQ(f.events.size(), 1u) << pl;
        ASSERT_EQ(f.events[0], Ev::Packet);
        // The parser keeps binary escapes; unescaping gives the payload back.
        EXPECT_EQ(unescape_binary(f.packets[0]).value(), pl);
    }
}

struct MalformedCase {
    const char* name;
    std::string input;
    std::vector<Ev> events;
    std::vector<std::string> packets;
};

// Keeps the test names CTest shows short (no byte dump of the parameter).
void PrintTo(const MalformedCase& c, std::ostream* os) { *os << c.name; }

class Malformed : public ::testing::TestWithParam<MalformedCase> {};

TEST_P(Malformed, Parser) {
    const MalformedCase& c = GetParam();
    Fed f = feed_all(c.input);
    EXPECT_EQ(f.events, c.events);
    EXPECT_EQ(f.packets, c.packets);
}

std::string big(size_t n, char c = 'a') {
    std::string s(n, c);
    uint8_t sum = 0;
    for (char x : s) sum = uint8_t(sum + uint8_t(x));
    return "$" + s + "#" + to_hex(&sum, 1);
}

const MalformedCase kMalformed[] = {
    {"good", "$g#67", {Ev::Packet}, {"g"}},
    {"uppercase_checksum", "$OK#9A", {Ev::Packet}, {"OK"}},
    {"bad_checksum", "$g#68", {Ev::BadChecksum}, {}},
    {"checksum_not_hex", "$g#6z", {Ev::BadChecksum}, {}},
    {"checksum_missing_digit", "$g#x", {Ev::BadChecksum}, {}},
    {"bad_then_good", "$g#00$g#67", {Ev::BadChecksum, Ev::Packet}, {"g"}},
    {"truncated_restarted", "$m1000$g#67", {Ev::Packet}, {"g"}},   // cut short: the next '$' starts over
    {"truncated_at_end", "$m100000,4", {}, {}},                    // waits for more, reports nothing
    {"noise_between", "xyz+\r\n$g#67junk", {Ev::Ack, Ev::Packet}, {"g"}},
    {"ack_nak", "+-+", {Ev::Ack, Ev::Nak, Ev::Ack}, {}},
    {"interrupt", "\x03", {Ev::Interrupt}, {}},
    {"interrupt_inside_packet_is_data", "$X0,1:\x03#" + to_hex(std::string(1, char(('X' + '0' + ',' + '1' + ':' + 3) & 0xFF))),
     {Ev::Packet}, {"X0,1:\x03"}},
    {"max_size", big(kMaxPacket), {Ev::Packet}, {std::string(kMaxPacket, 'a')}},
    {"oversized", big(kMaxPacket + 1), {Ev::Oversized}, {}},
    {"oversized_then_good", big(3 * kMaxPacket) + "$g#67", {Ev::Oversized, Ev::Packet}, {"g"}},
    {"oversized_bad_checksum", big(kMaxPacket + 5).substr(0, kMaxPacket + 7) + "00", {Ev::BadChecksum}, {}},
    // RLE: '0* ' is "0000" (GDB manual E.1: ' ' = 32 -> 3 more).
    {"rle", "$0* #" + to_hex(std::string(1, char(('0' + '*' + ' ') & 0xFF))), {Ev::Packet}, {"0000"}},
    {"rle_at_start", "$* #" + to_hex(std::string(1, char(('*' + ' ') & 0xFF))), {Ev::Malformed}, {}},
    {"rle_count_missing", "$a*#" + to_hex(std::string(1, char(('a' + '*') & 0xFF))), {Ev::Malformed}, {}},
    {"rle_count_too_small", "$a*\x1f#" + to_hex(std::string(1, char(('a' + '*' + 0x1f) & 0xFF))), {Ev::Malformed}, {}},
};

INSTANTIATE_TEST_SUITE_P(Table, Malformed, ::testing::ValuesIn(kMalformed),
                         [](const ::testing::TestParamInfo<MalformedCase>& i) { return std::string(i.param.name); });

TEST(Framing, RunLengthEncoding) {
    EXPECT_EQ(expand_rle("0* ").value(), "0000");
    EXPECT_EQ(expand_rle("ab*\"c").value(), "abbbbbbc");       // '"' = 34 -> 5 more
    EXPECT_EQ(expand_rle("x*~").value(), std::string(98, 'x'));  // '~' = 126 -> 97 more
    // An escape pair is one unit: "}]" (escaped '}') repeated.
    EXPECT_EQ(expand_rle("}]* ").value(), "}]}]}]}]");
    EXPECT_EQ(unescape_binary(expand_rle("}]* ").value()).value(), "}}}}");
    // '#' and '$' are not allowed as counts; the result is bounded.
    EXPECT_FALSE(expand_rle("a*#"));
    EXPECT_FALSE(expand_rle("a*$"));
    EXPECT_EQ(expand_rle("a**").value(), std::string(14, 'a'));   // '*' itself is a valid count (42)
    EXPECT_FALSE(expand_rle("a*~*~"));                            // a count cannot be repeated
    std::string bomb;
    for (int i = 0; i < 1000; i++) bomb += "a*~";
    EXPECT_FALSE(expand_rle(bomb, 4096));
}

TEST(Framing, BinaryEscapes) {
    EXPECT_EQ(unescape_binary("}\x03}\x04}]}\x0a").value(), "#$}*");
    EXPECT_FALSE(unescape_binary("abc}"));   // ends inside an escape
    EXPECT_EQ(escape_binary("#$}*x"), "}\x03}\x04}]}\x0ax");
}

TEST(Framing, Hex) {
    EXPECT_EQ(to_hex(std::string("\x01\xab", 2)), "01ab");
    EXPECT_EQ(from_hex("01AB").value(), std::string("\x01\xab", 2));
    EXPECT_FALSE(from_hex("1"));
    EXPECT_FALSE(from_hex("zz"));
    EXPECT_EQ(parse_hex("ffffffff").value(), 0xffffffffu);
    EXPECT_FALSE(parse_hex(""));
    EXPECT_FALSE(parse_hex("12345678901234567"));   // more than 64 bits
    EXPECT_FALSE(parse_hex("0x10"));
}

// ---------------------------------------------------------------- commands on a CPU
struct SessionTest : ::testing::Test {
    PhysMemory mem{4 << 20};
    PortBus io;
    Cpu cpu{mem, io};
    Session s{cpu};

    std::string reply(std::string_view p) {
        Session::Result r = s.handle(p);
        return r.reply.value_or("<none>");
    }
    // Flat 32-bit protected mode, paging on: linear 0-4 MiB identity mapped except the page at
    // 0x300000 (not present); linear 0xC0000000 -> physical 0x200000.
    void flat_paged() {
        const uint32_t pd = 0x10000, pt0 = 0x11000, pt3 = 0x12000;
        for (uint32_t i = 0; i < 1024; i++) mem.write32(pt0 + 4 * i, (i << 12) | 3);
        mem.write32(pt0 + 4 * 0x300, 0);
        mem.write32(pd, pt0 | 3);
        mem.write32(pt3, 0x200000 | 3);
        mem.write32(pd + 4 * (0xC0000000u >> 22), pt3 | 3);
        for (unsigned sg : {ES, CS, SS, DS, FS, GS})
            cpu.set_seg_cache(cpu.seg[sg], sg == CS ? 8 : 16, 0, 0xFFFFFFFF,
                              attr::P | attr::S | attr::RW | attr::DB | attr::G | (sg == CS ? attr::CODE : 0));
        cpu.cr3 = pd;
        cpu.cr0 = cr0::PE | cr0::PG | cr0::ET;
        cpu.update_mode();
        cpu.flush_tlb();
    }
};

TEST_F(SessionTest, QueriesAndUnknownPackets) {
    EXPECT_NE(reply("qSupported:multiprocess+;swbreak+").find("PacketSize=4000"), std::string::npos);
    EXPECT_NE(reply("qSupported").find("qXfer:features:read+"), std::string::npos);
    EXPECT_EQ(reply("qAttached"), "1");
    EXPECT_EQ(reply("qC"), "QC1");
    EXPECT_EQ(reply("qfThreadInfo"), "m1");
    EXPECT_EQ(reply("qsThreadInfo"), "l");
    EXPECT_EQ(reply("vMustReplyEmpty"), "");
    EXPECT_EQ(reply("qTStatus"), "");
    EXPECT_EQ(reply("!"), "");
    EXPECT_EQ(reply(""), "");
    EXPECT_EQ(reply("vCont?"), "vCont;c;C;s;S;r");
    EXPECT_EQ(reply("Hg0"), "OK");
}

TEST_F(SessionTest, TargetXmlInPieces) {
    std::string xml;
    for (size_t off = 0;;) {
        char hex[16];
        std::snprintf(hex, sizeof hex, "%zx", off);
        std::string r = reply("qXfer:features:read:target.xml:" + std::string(hex) + ",64");
        ASSERT_FALSE(r.empty());
        ASSERT_TRUE(r[0] == 'm' || r[0] == 'l') << r;
        xml += r.substr(1);
        off += r.size() - 1;
        if (r[0] == 'l') break;
    }
    EXPECT_EQ(xml, target_xml(true));   // real mode at reset: the i8086 description
    EXPECT_NE(xml.find("org.gnu.gdb.i386.core"), std::string::npos);
    EXPECT_EQ(reply("qXfer:features:read:other.xml:0,100"), "E00");
    EXPECT_EQ(reply("qXfer:features:read:target.xml:zz,100"), "E16");
}

TEST_F(SessionTest, RegistersRoundTrip) {
    cpu.r[EAX] = 0x11223344;
    cpu.eip = 0x7C00;
    std::string g = reply("g");
    ASSERT_EQ(g.size() % 2, 0u);
    EXPECT_EQ(g.substr(0, 8), "44332211");
    EXPECT_EQ(reply("p8"), "007c0000");
    EXPECT_EQ(reply("P0=efbeadde"), "OK");
    EXPECT_EQ(cpu.r[EAX], 0xDEADBEEFu);
    EXPECT_EQ(reply("P0=efbe"), "E01");          // wrong size
    EXPECT_EQ(reply("P999=00000000"), "E16");    // no such register
    EXPECT_EQ(reply("pzz"), "E01");
    // G with the same image changes nothing; a changed CS in real mode reloads base = sel * 16.
    std::string img = reply("g");
    EXPECT_EQ(reply("G" + img), "OK");
    img.replace(10 * 8, 8, "00100000");           // cs = 0x1000
    EXPECT_EQ(reply("G" + img), "OK");
    EXPECT_EQ(cpu.seg[CS].sel, 0x1000);
    EXPECT_EQ(cpu.seg[CS].base, 0x10000u);
    EXPECT_EQ(reply("G123"), "E16");              // odd hex
}

TEST_F(SessionTest, MemoryThroughPageTables) {
    flat_paged();
    mem.write32(0x200000, 0xFEEDFACE);
    EXPECT_EQ(reply("mc0000000,4"), "cefaedfe");
    EXPECT_EQ(reply("m300000,4"), "E14");             // not present: an error, not a crash
    EXPECT_EQ(reply("m2ffffe,4"), "0000");            // partial: up to the unmapped page
    EXPECT_EQ(reply("md0000000,10"), "E14");
    EXPECT_EQ(reply("m123456789,4"), "E14");          // beyond 32 bits
    EXPECT_EQ(reply("m100,0"), "");
    EXPECT_EQ(reply("m100"), "E16");
    EXPECT_EQ(reply("Mc0000004,2:abcd"), "OK");
    EXPECT_EQ(mem.read16(0x200004), 0xCDAB);
    EXPECT_EQ(reply("M300000,1:00"), "E14");
    EXPECT_EQ(reply("Mc0000004,2:ab"), "E16");        // length does not match the data
    // X: binary data with escapes ('}' 0x03 = '#', '}' 0x5d = '}').
    EXPECT_EQ(reply("Xc0000008,3:}\x03}]a"), "OK");
    EXPECT_EQ(mem.read8(0x200008), '#');
    EXPECT_EQ(mem.read8(0x200009), '}');
    EXPECT_EQ(mem.read8(0x20000A), 'a');
    EXPECT_EQ(reply("Xc0000008,0:"), "OK");           // gdb's probe for X support
    EXPECT_EQ(reply("Xc0000008,2:}"), "E16");
    // The debugger's reads neither fault nor set accessed bits.
    EXPECT_EQ(mem.read32(0x11000 + 4 * 0x100) & 0x20, 0u);
    reply("m100000,4");
    EXPECT_EQ(mem.read32(0x11000 + 4 * 0x100) & 0x20, 0u);
}

TEST_F(SessionTest, BreakpointsAndWatchpointsGoToTheDebugInterface) {
    EXPECT_EQ(reply("Z0,7c05,1"), "OK");
    EXPECT_EQ(reply("Z0,7c05,1"), "OK");   // idempotent
    EXPECT_TRUE(cpu.debug.has_breakpoint(0x7C05));
    EXPECT_EQ(reply("z0,7c05,1"), "OK");
    EXPECT_FALSE(cpu.debug.has_breakpoint(0x7C05));
    EXPECT_EQ(reply("z0,7c05,1"), "OK");   // removing what is not there
    EXPECT_EQ(reply("Z1,7c06,1"), "OK");
    EXPECT_TRUE(cpu.debug.has_breakpoint(0x7C06));
    EXPECT_EQ(reply("Z2,600,4"), "OK");
    EXPECT_TRUE(cpu.debug.page_watched(0x600, true));
    EXPECT_FALSE(cpu.debug.page_watched(0x600, false));   // a write watch leaves reads fast
    EXPECT_EQ(reply("Z3,700,2"), "OK");
    EXPECT_TRUE(cpu.debug.page_watched(0x700, false));
    EXPECT_EQ(reply("Z4,800,0"), "E16");   // empty range
    EXPECT_EQ(reply("Z4,ffffffff,2"), "E16");   // wraps
    EXPECT_EQ(reply("Z9,800,1"), "");     // unknown type: unsupported
    EXPECT_EQ(reply("Z0"), "E16");
    EXPECT_EQ(reply("Z0,zz,1"), "E16");
    EXPECT_EQ(reply("Z0,7c07,1;X1,0"), "OK");   // conditions are ignored
}

TEST_F(SessionTest, ResumePackets) {
    EXPECT_EQ(s.handle("c").action, Session::Action::Resume);
    EXPECT_FALSE(cpu.debug.stepping());
    EXPECT_EQ(s.handle("s").action, Session::Action::Resume);
    EXPECT_TRUE(cpu.debug.stepping());
    EXPECT_EQ(s.handle("vCont;s:1;c").action, Session::Action::Resume);
    EXPECT_TRUE(cpu.debug.stepping());
    EXPECT_EQ(s.handle("vCont;c:-1").action, Session::Action::Resume);
    EXPECT_FALSE(cpu.debug.stepping());
    EXPECT_EQ(s.handle("vCont;s:2").action, Session::Action::None);   // not our thread
    EXPECT_EQ(reply("vCont;r10,zz:1"), "E16");
    EXPECT_EQ(reply("vCont;"), "E16");
    EXPECT_EQ(s.handle("D").action, Session::Action::Detach);
    EXPECT_EQ(s.handle("k").action, Session::Action::Kill);
    EXPECT_FALSE(s.handle("k").reply);
    EXPECT_EQ(s.handle("C05;zz").reply.value_or(""), "E16");
}

TEST_F(SessionTest, StopReplies) {
    cpu.eip = 0x1234;
    EXPECT_EQ(s.stop_reply(kSigTrap, DebugHit{DebugHit::SwBreak, 0x1234}).substr(0, 22), "T05thread:1;swbreak:;0");
    EXPECT_NE(s.stop_reply(kSigTrap, DebugHit{DebugHit::HwBreak, 0x1234}).find("hwbreak:;"), std::string::npos);
    // Real mode with CS.base != 0: the breakpoint's linear address is not gdb's PC (EIP), so the
    // stop is a plain SIGTRAP (with swbreak gdb would resume silently, not finding its breakpoint).
    cpu.load_seg_real(CS, 0x1000);
    EXPECT_EQ(s.stop_reply(kSigTrap, DebugHit{DebugHit::SwBreak, 0x11234}).find("swbreak"), std::string::npos);
    EXPECT_NE(s.stop_reply(kSigTrap, DebugHit{DebugHit::Watch, 0x600}).find("watch:600;"), std::string::npos);
    EXPECT_NE(s.stop_reply(kSigTrap, DebugHit{DebugHit::RWatch, 0x601}).find("rwatch:601;"), std::string::npos);
    EXPECT_NE(s.stop_reply(kSigTrap, DebugHit{DebugHit::AWatch, 0x602}).find("awatch:602;"), std::string::npos);
    std::string r = s.stop_reply(kSigInt);
    EXPECT_EQ(r.substr(0, 3), "T02");
    EXPECT_NE(r.find("08:34120000;"), std::string::npos);   // expedited EIP
    EXPECT_EQ(reply("?"), r);
}

TEST_F(SessionTest, MonitorCommands) {
    auto mon = [&](std::string_view cmd) {
        std::string r = reply("qRcmd," + to_hex(cmd));
        if (r == "OK") return std::string();
        return from_hex(r).value_or("<bad hex>");
    };
    EXPECT_NE(mon("help").find("walk ADDR"), std::string::npos);
    EXPECT_NE(mon("regs").find("mode: real"), std::string::npos);
    EXPECT_NE(mon("regs").find("cs  sel=f000 base=ffff0000 limit=0000ffff"), std::string::npos);
    mem.write32(0x1000, 0x04030201);
    EXPECT_NE(mon("xp 0x1000 4").find("00001000: 01 02 03 04"), std::string::npos);
    EXPECT_NE(mon("xp").find("usage"), std::string::npos);
    EXPECT_NE(mon("xp 1000 100000").find("usage"), std::string::npos);
    EXPECT_NE(mon("walk 1234").find("paging is off"), std::string::npos);
    flat_paged();
    EXPECT_NE(mon("walk c0000123").find("physical 00200123"), std::string::npos);
    EXPECT_NE(mon("walk 300000").find("not present"), std::string::npos);
    EXPECT_NE(mon("walk zz").find("usage"), std::string::npos);
    EXPECT_NE(mon("tlb").find("valid TLB entries"), std::string::npos);
    EXPECT_NE(mon("stats").find("instructions retired: 0"), std::string::npos);
    EXPECT_NE(mon("frobnicate").find("unknown monitor command"), std::string::npos);
    EXPECT_EQ(reply("qRcmd,zz"), "E16");
}

// ---------------------------------------------------------------- the debug interface on the interpreter
struct DebugRun : SessionTest {
    // Real mode at 0000:1000: mov ax,1 / inc ax / mov [0x600],ax / inc ax / mov bx,[0x600] / hlt
    void load() {
        const uint8_t code[] = {0xB8, 0x01, 0x00, 0x40, 0xA3, 0x00, 0x06, 0x40, 0x8B, 0x1E, 0x00, 0x06, 0xF4};
        mem.write_block(0x1000, code, sizeof code);
        for (unsigned sg : {ES, CS, SS, DS, FS, GS}) cpu.load_seg_real(sg, 0);
        cpu.eip = 0x1000;
        cpu.halted = false;
        cpu.r[ESP] = 0x8000;
        cpu.update_mode();
    }
};

TEST_F(DebugRun, BreakpointStopsBeforeAndResumesPast) {
    load();
    cpu.run(100);   // decode and run the block once without debug points
    load();
    reply("Z0,1007,1");
    EXPECT_EQ(s.handle("c").action, Session::Action::Resume);
    EXPECT_EQ(cpu.run(100), StopReason::Breakpoint);
    EXPECT_EQ(cpu.eip, 0x1007u);
    EXPECT_EQ(cpu.r[EAX] & 0xFFFF, 2u);   // the instruction at the breakpoint has not run
    DebugHit h = cpu.debug.take_hit();
    EXPECT_EQ(h.kind, DebugHit::SwBreak);
    EXPECT_EQ(h.addr, 0x1007u);
    s.handle("c");
    EXPECT_EQ(cpu.run(100), StopReason::Halted);   // continues from the breakpoint
    EXPECT_EQ(cpu.r[EBX] & 0xFFFF, 2u);
}

TEST_F(DebugRun, SingleStepRunsExactlyOneInstruction) {
    load();
    for (uint32_t want : {0x1003u, 0x1004u, 0x1007u, 0x1008u, 0x100Cu}) {
        s.handle("s");
        const uint64_t before = cpu.icount;
        EXPECT_EQ(cpu.run(1000), StopReason::Breakpoint);
        EXPECT_EQ(cpu.icount, before + 1);
        EXPECT_EQ(cpu.eip, want);
        EXPECT_EQ(cpu.debug.take_hit().kind, DebugHit::Step);
    }
}

TEST_F(DebugRun, RangeStepStopsWhenLeavingTheRange) {
    load();
    s.handle("vCont;r1000,1008:1");
    EXPECT_EQ(cpu.run(1000), StopReason::Breakpoint);
    EXPECT_EQ(cpu.eip, 0x1008u);
}

TEST_F(DebugRun, WriteWatchStopsAfterTheWritingInstruction) {
    load();
    cpu.run(100);   // the page's TLB entries exist: adding the watch must flush them
    load();
    EXPECT_EQ(reply("Z2,600,2"), "OK");
    s.handle("c");
    EXPECT_EQ(cpu.run(100), StopReason::Breakpoint);
    EXPECT_EQ(cpu.eip, 0x1007u);   // right after mov [0x600],ax
    EXPECT_EQ(mem.read16(0x600), 2);
    DebugHit h = cpu.debug.take_hit();
    EXPECT_EQ(h.kind, DebugHit::Watch);
    EXPECT_EQ(h.addr, 0x600u);
    s.handle("c");
    EXPECT_EQ(cpu.run(100), StopReason::Halted);   // the read does not trigger a write watch
}

TEST_F(DebugRun, ReadAndAccessWatches) {
    load();
    EXPECT_EQ(reply("Z3,601,1"), "OK");
    s.handle("c");
    EXPECT_EQ(cpu.run(100), StopReason::Breakpoint);
    EXPECT_EQ(cpu.eip, 0x100Cu);   // after mov bx,[0x600]
    DebugHit h = cpu.debug.take_hit();
    EXPECT_EQ(h.kind, DebugHit::RWatch);
    EXPECT_EQ(h.addr, 0x601u);     // inside the watched range
    reply("z3,601,1");
    load();
    EXPECT_EQ(reply("Z4,5ff,2"), "OK");
    s.handle("c");
    EXPECT_EQ(cpu.run(100), StopReason::Breakpoint);
    EXPECT_EQ(cpu.eip, 0x1007u);
    EXPECT_EQ(cpu.debug.take_hit().kind, DebugHit::AWatch);
}

TEST_F(DebugRun, DetachClearsEverything) {
    load();
    reply("Z0,1003,1");
    reply("Z2,600,2");
    cpu.debug.clear();
    EXPECT_FALSE(cpu.debug.active());
    EXPECT_EQ(cpu.run(100), StopReason::Halted);
}

}  // namespace
}  // namespace lift86::gdb

namespace lift86::gdb {
namespace {

// Random packets built from real command letters and hostile arguments: every one gets an
// answer (or a resume), none throws or crashes.
TEST_F(SessionTest, RandomPacketsNeverCrash) {
    flat_paged();
    uint32_t x = 12345;
    auto rnd = [&] {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        return x;
    };
    const char* const heads[] = {"m", "M", "X", "g", "G", "p", "P", "Z0,", "z1,", "Z2,", "Z3,", "Z4,", "c", "s",
                                 "C", "S", "vCont;", "vCont;r", "qXfer:features:read:target.xml:", "qRcmd,",
                                 "qSupported:", "H", "T", "D", "?", "q", "v", "Q"};
    const char alphabet[] = "0123456789abcdefABCDEF,:;=-}*#$xyz \x03\xff";
    for (int n = 0; n < 20000; n++) {
        std::string p = heads[rnd() % (sizeof heads / sizeof heads[0])];
        const unsigned len = rnd() % 40;
        for (unsigned k = 0; k < len; k++) p.push_back(alphabet[rnd() % (sizeof alphabet - 1)]);
        if (p[0] == 'D' || p == "k") continue;
        EXPECT_NO_THROW(s.handle(p)) << p;
    }
    // Monitor commands with random arguments.
    for (int n = 0; n < 2000; n++) {
        std::string cmd = (rnd() & 1) ? "xp " : "walk ";
        for (unsigned k = 0, len = rnd() % 20; k < len; k++) cmd.push_back(alphabet[rnd() % (sizeof alphabet - 1)]);
        EXPECT_NO_THROW(s.monitor(cmd)) << cmd;
    }
}

// The parser on random bytes: every byte is consumed, nothing grows without bound.
TEST(Framing, RandomBytesNeverCrash) {
    PacketParser p;
    uint32_t x = 777;
    size_t packets = 0;
    for (int n = 0; n < 2000000; n++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        const uint8_t b = (x >> 8) % 5 == 0 ? "$#*}"[x % 4] : uint8_t(x);
        if (p.feed(b) == PacketParser::Event::Packet) {
            packets++;
            EXPECT_LE(p.payload().size(), kMaxExpanded);
        }
    }
    EXPECT_GT(packets, 0u);
}

}  // namespace
}  // namespace lift86::gdb
