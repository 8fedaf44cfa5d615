// GDB remote protocol framing: see packet.hpp.
#include "machine/gdbstub/packet.hpp"

namespace lift86::gdb {

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

void PacketParser::reset() {
    state_ = State::Idle;
    raw_.clear();
    payload_.clear();
    sum_ = check_ = 0;
    overflow_ = false;
}

PacketParser::Event PacketParser::feed(uint8_t c) {
    switch (state_) {
    case State::Idle:
        switch (c) {
        case '$':
            state_ = State::Data;
            raw_.clear();
            sum_ = 0;
            overflow_ = false;
            return Event::None;
        case 0x03: return Event::Interrupt;
        case '+': return Event::Ack;
        case '-': return Event::Nak;
        default: return Event::None;   // line noise between packets is ignored
        }
    case State::Data:
        if (c == '#') {
            state_ = State::Check1;
        } else if (c == '$') {
            // A new packet before the old one ended: the old one was cut short (the sender never
            // puts a raw '$' inside a packet). Start over; gdb resends what it got no ack for.
            raw_.clear();
            sum_ = 0;
            overflow_ = false;
        } else {
            sum_ = uint8_t(sum_ + c);
            if (raw_.size() < kMaxPacket) raw_.push_back(char(c));
            else overflow_ = true;
        }
        return Event::None;
    case State::Check1: {
        int d = hex_digit(char(c));
        if (d < 0) {
            state_ = State::Idle;
            return Event::BadChecksum;
        }
        check_ = uint8_t(d << 4);
        state_ = State::Check2;
        return Event::None;
    }
    case State::Check2: {
        state_ = State::Idle;
        int d = hex_digit(char(c));
        if (d < 0 || uint8_t(check_ | d) != sum_) return Event::BadChecksum;
        if (overflow_) return Event::Oversized;
        auto expanded = expand_rle(raw_);
        if (!expanded) return Event::Malformed;
        payload_ = std::move(*expanded);
        return Event::Packet;
    }
    }
    return Event::None;
}

std::optional<std::string> expand_rle(std::string_view in, size_t limit) {
    std::string out;
    out.reserve(in.size());
    size_t unit_start = std::string::npos;   // where the last unit (char or escape pair) begins in out
    for (size_t i = 0; i < in.size(); i++) {
        const char c = in[i];
        if (c == '*') {
            // `*` needs a unit before it and a count after it. Counts are printable, and '#'/'$'
            // are not allowed as counts (GDB manual E.1); n - 29 repeats.
            if (unit_start == std::string::npos || i + 1 >= in.size()) return std::nullopt;
            const uint8_t n = uint8_t(in[++i]);
            if (n < 29 + 3 || n > 126 || n == '#' || n == '$') return std::nullopt;
            const std::string unit = out.substr(unit_start);
            for (unsigned k = 0; k < unsigned(n - 29); k++) {
                if (out.size() + unit.size() > limit) return std::nullopt;
                out += unit;
            }
            unit_start = std::string::npos;   // a count may not be repeated itself
            continue;
        }
        unit_start = out.size();
        if (out.size() + 2 > limit) return std::nullopt;
        out.push_back(c);
        if (c == '}') {   // an escape pair is one unit; a dangling '}' is left to the unescaper
            if (i + 1 < in.size()) out.push_back(in[++i]);
        }
    }
    return out;
}

std::optional<std::string> unescape_binary(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    for (size_t i = 0; i < in.size(); i++) {
        if (in[i] == '}') {
            if (++i >= in.size()) return std::nullopt;
            out.push_back(char(uint8_t(in[i]) ^ 0x20));
        } else {
            out.push_back(in[i]);
        }
    }
    return out;
}

std::string escape_binary(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    for (char c : in) {
        if (c == '$' || c == '#' || c == '}' || c == '*') {
            out.push_back('}');
            out.push_back(char(uint8_t(c) ^ 0x20));
        } else {
            out.push_back(c);
        }
    }
    return out;
}

std::string frame(std::string_view payload) {
    static const char kHex[] = "0123456789abcdef";
    std::string body = escape_binary(payload);
    uint8_t sum = 0;
    for (char c : body) sum = uint8_t(sum + uint8_t(c));
    std::string out;
    out.reserve(body.size() + 4);
    out.push_back('$');
    out += body;
    out.push_back('#');
    out.push_back(kHex[sum >> 4]);
    out.push_back(kHex[sum & 15]);
    return out;
}

std::string to_hex(const void* bytes, size_t n) {
    static const char kHex[] = "0123456789abcdef";
    auto* p = static_cast<const uint8_t*>(bytes);
    std::string out;
    out.reserve(2 * n);
    for (size_t i = 0; i < n; i++) {
        out.push_back(kHex[p[i] >> 4]);
        out.push_back(kHex[p[i] & 15]);
    }
    return out;
}

std::string to_hex(std::string_view bytes) { return to_hex(bytes.data(), bytes.size()); }

std::optional<std::string> from_hex(std::string_view hex) {
    if (hex.size() % 2) return std::nullopt;
    std::string out;
    out.reserve(hex.size() / 2);
    for (size_t i = 0; i < hex.size(); i += 2) {
        int hi = hex_digit(hex[i]), lo = hex_digit(hex[i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out.push_back(char(hi << 4 | lo));
    }
    return out;
}

std::optional<uint64_t> parse_hex(std::string_view s) {
    if (s.empty() || s.size() > 16) return std::nullopt;
    uint64_t v = 0;
    for (char c : s) {
        int d = hex_digit(c);
        if (d < 0) return std::nullopt;
        v = v << 4 | unsigned(d);
    }
    return v;
}

}  // namespace lift86::gdb
