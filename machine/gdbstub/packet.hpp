// The GDB remote serial protocol's framing (GDB manual, appendix E.1 "Overview"): packets
// `$payload#cs`, acknowledgements `+` / `-`, the out-of-band interrupt byte 0x03, run-length
// encoding and the escapes of binary data. Pure code, no sockets: the stub feeds it bytes, and
// the unit tests feed it every malformed input they can think of.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lift86::gdb {

// The largest packet payload the stub accepts (advertised as PacketSize in qSupported). gdb
// never sends more; a bigger packet is consumed up to its checksum and answered with an error.
constexpr size_t kMaxPacket = 0x4000;
// Run-length expansion may not grow a packet past this (a malicious `a*~a*~...` stays bounded).
constexpr size_t kMaxExpanded = 4 * kMaxPacket;

class PacketParser {
public:
    enum class Event {
        None,         // byte consumed, nothing complete yet (or ignored noise between packets)
        Packet,       // a good packet: payload() holds it (RLE expanded, binary escapes kept)
        Interrupt,    // 0x03 outside a packet: the user pressed Ctrl-C in gdb
        Ack,          // '+'
        Nak,          // '-': the peer wants our last packet again
        BadChecksum,  // checksum wrong or not hex: answer '-' so that gdb resends
        Oversized,    // checksum fine but longer than kMaxPacket: answer '+' and an error
        Malformed,    // checksum fine but the run-length encoding is invalid: '+' and an error
    };

    Event feed(uint8_t c);
    const std::string& payload() const { return payload_; }
    void reset();   // a new connection starts from scratch

private:
    enum class State { Idle, Data, Check1, Check2 };
    State state_ = State::Idle;
    std::string raw_, payload_;
    uint8_t sum_ = 0, check_ = 0;
    bool overflow_ = false;
};

// Expands run-length encoding: `X*n` repeats X (n - 29) more times (n is a printable count
// character). Escape aware: `}x` is one unit (an escaped binary byte) and may be repeated.
// nullopt when the encoding is invalid or the result would exceed `limit`.
std::optional<std::string> expand_rle(std::string_view in, size_t limit = kMaxExpanded);
// Binary data as sent in X packets: `}` followed by the byte XOR 0x20. nullopt when the data
// ends inside an escape.
std::optional<std::string> unescape_binary(std::string_view in);
// Escapes the bytes the protocol reserves ('$', '#', '}', '*').
std::string escape_binary(std::string_view in);
// A whole packet ready to send: `$` + escaped payload + `#` + two hex digits of checksum.
std::string frame(std::string_view payload);

// ---- hex helpers
std::string to_hex(std::string_view bytes);
std::string to_hex(const void* bytes, size_t n);
std::optional<std::string> from_hex(std::string_view hex);   // nullopt: odd length or not hex
// A hex number (no prefix, 1..16 digits). nullopt when empty, not hex or too long.
std::optional<uint64_t> parse_hex(std::string_view s);
int hex_digit(char c);   // -1 when not a hex digit

}  // namespace lift86::gdb
