#include "devices/drive_spec.hpp"

#include <fmt/format.h>

#include <optional>

namespace lift86 {

namespace {

// Splits "a=b,c=d" on single commas; ",," is a literal comma (QEMU's option syntax).
std::vector<std::string> split_options(std::string_view s) {
    std::vector<std::string> out(1);
    for (size_t i = 0; i < s.size(); i++) {
        if (s[i] == ',') {
            if (i + 1 < s.size() && s[i + 1] == ',') {
                out.back() += ',';
                i++;
            } else {
                out.emplace_back();
            }
        } else {
            out.back() += s[i];
        }
    }
    return out;
}

bool parse_bool(const std::string& key, const std::string& v) {
    if (v == "on" || v == "yes" || v == "true") return true;
    if (v == "off" || v == "no" || v == "false") return false;
    throw DriveSpecError(fmt::format("-drive: {}='{}' must be 'on' or 'off'", key, v));
}

int parse_int(const std::string& key, const std::string& v, int max) {
    if (v.empty() || v.size() > 3 || v.find_first_not_of("0123456789") != std::string::npos)
        throw DriveSpecError(fmt::format("-drive: {}='{}' is not a number", key, v));
    int n = std::stoi(v);
    if (n > max) throw DriveSpecError(fmt::format("-drive: {}={} is out of range (0..{} for IDE)", key, n, max));
    return n;
}

}  // namespace

DriveSpec parse_drive_spec(std::string_view spec) {
    DriveSpec d;
    std::optional<int> index, bus, unit;
    for (const std::string& opt : split_options(spec)) {
        if (opt.empty()) continue;   // "file=x," (trailing comma) is harmless
        size_t eq = opt.find('=');
        if (eq == std::string::npos)
            throw DriveSpecError(fmt::format("-drive: '{}' is not key=value (e.g. file={})", opt, opt));
        std::string key = opt.substr(0, eq), val = opt.substr(eq + 1);
        if (key == "file") {
            d.file = val;
        } else if (key == "format") {
            if (val != "raw")
                throw DriveSpecError(fmt::format("-drive: format '{}' is not supported (only format=raw)", val));
        } else if (key == "if") {
            if (val != "ide")
                throw DriveSpecError(fmt::format("-drive: interface '{}' is not supported (only if=ide)", val));
        } else if (key == "media") {
            if (val == "disk") d.media = DriveSpec::Media::Disk;
            else if (val == "cdrom") d.media = DriveSpec::Media::Cdrom;
            else throw DriveSpecError(fmt::format("-drive: media '{}' is not 'disk' or 'cdrom'", val));
        } else if (key == "index") {
            index = parse_int(key, val, 3);
        } else if (key == "bus") {
            bus = parse_int(key, val, 1);
        } else if (key == "unit") {
            unit = parse_int(key, val, 1);
        } else if (key == "readonly") {
            d.read_only = parse_bool(key, val);
        } else if (key == "snapshot") {
            d.snapshot = parse_bool(key, val);
        } else {
            throw DriveSpecError(fmt::format("-drive: unknown option '{}' (known: file, format, if, media, index, "
                                             "bus, unit, readonly, snapshot)", key));
        }
    }
    if (index && (bus || unit)) throw DriveSpecError("-drive: index= cannot be combined with bus= or unit=");
    if (index) d.index = *index;
    else if (bus || unit) d.index = bus.value_or(0) * 2 + unit.value_or(0);
    if (d.file.empty() && d.media != DriveSpec::Media::Cdrom)
        throw DriveSpecError("-drive: file= is missing (only a media=cdrom drive may be empty)");
    if (d.media == DriveSpec::Media::Cdrom) d.read_only = true;
    return d;
}

DriveSpec legacy_drive(std::string_view flag, std::string file) {
    DriveSpec d;
    d.file = std::move(file);
    if (flag == "hda") d.index = 0;
    else if (flag == "hdb") d.index = 1;
    else if (flag == "hdc") d.index = 2;
    else if (flag == "hdd") d.index = 3;
    else if (flag == "cdrom") {
        d.index = 2;
        d.media = DriveSpec::Media::Cdrom;
        d.read_only = true;
    } else {
        throw DriveSpecError(fmt::format("-{}: not a drive option", flag));
    }
    if (d.file.empty()) throw DriveSpecError(fmt::format("-{}: a file name is needed", flag));
    return d;
}

void assign_drive_indexes(std::vector<DriveSpec>& drives) {
    static const char* const kNames[4] = {"primary master", "primary slave", "secondary master", "secondary slave"};
    bool used[4] = {};
    for (const DriveSpec& d : drives) {
        if (d.index < 0) continue;
        if (used[d.index])
            throw DriveSpecError(fmt::format("two drives at IDE index {} ({}): '{}'", d.index, kNames[d.index], d.file));
        used[d.index] = true;
    }
    for (DriveSpec& d : drives) {
        if (d.index >= 0) continue;
        int i = 0;
        while (i < 4 && used[i]) i++;
        if (i == 4) throw DriveSpecError(fmt::format("no free IDE position for '{}' (at most 4 IDE drives)", d.file));
        d.index = i;
        used[i] = true;
    }
}

}  // namespace lift86
