// Parsing of the drive options of the command line, with QEMU's spelling:
//   -hda FILE / -hdb FILE / -hdc FILE / -hdd FILE    IDE index 0..3 (primary master, primary
//                                                   slave, secondary master, secondary slave)
//   -cdrom FILE                                     IDE index 2, media=cdrom
//   -drive file=FILE,format=raw,if=ide[,media=disk|cdrom][,index=N | ,bus=B,unit=U]
//          [,readonly=on|off][,snapshot=on|off]
//   -snapshot                                       every disk in -snapshot mode
// In -drive values a comma is written ",," (QEMU's escape). Only format=raw and if=ide exist;
// any other key, format or interface is an error, with one line naming it. format= may be left
// out (raw is assumed). A cdrom drive may have no file=: an empty drive (no medium).
//
// The board calls parse_drive_spec() for each -drive, legacy_drive() for -hdX/-cdrom, then
// assign_drive_indexes() once over the list (in command-line order), and finally opens each
// file with DiskImage (read_only for cdrom/readonly=on; snapshot for snapshot=on or -snapshot)
// and attaches it to IDE channel index/2 at position index%2.
#pragma once
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace lift86 {

class DriveSpecError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct DriveSpec {
    enum class Media { Disk, Cdrom };
    std::string file;           // "" only for an empty cdrom drive
    Media media = Media::Disk;
    int index = -1;             // 0..3, or -1: the first free position (assign_drive_indexes)
    bool read_only = false;     // readonly=on (always in effect for a cdrom)
    bool snapshot = false;      // snapshot=on

    int channel() const { return index / 2; }    // 0 primary (0x1F0, IRQ14), 1 secondary (0x170, IRQ15)
    int position() const { return index % 2; }   // 0 master, 1 slave
};

// Parses the argument of -drive. Throws DriveSpecError ("-drive: unknown option 'foo'", ...).
DriveSpec parse_drive_spec(std::string_view spec);

// -hda/-hdb/-hdc/-hdd/-cdrom: `flag` without the leading dash(es), e.g. "hda" or "cdrom".
DriveSpec legacy_drive(std::string_view flag, std::string file);

// Gives every drive with index -1 the first free index (0, 1, 2, 3, in order), and refuses
// two drives at one index or more than four IDE drives.
void assign_drive_indexes(std::vector<DriveSpec>& drives);

}  // namespace lift86
