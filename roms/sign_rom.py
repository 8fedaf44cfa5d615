#!/usr/bin/env python3
"""Finishes a legacy option ROM assembled by nasm (roms/CMakeLists.txt runs it).

    sign_rom.py IN OUT

Pads the image with zeros to a whole number of 512-byte blocks (at least one byte to spare
for the checksum), writes the block count at offset 2, sets the checksum byte of the PnP
expansion header (offset 9 of the header that the word at 0x1A points to) so that the header
sums to 0, and sets the last byte so that the whole ROM sums to 0 mod 256. Firmware skips a
ROM whose bytes do not sum to 0 (PCI Firmware Specification 3.0, 5.1; SeaBIOS is_valid_rom).
"""
import sys


def main() -> int:
    if len(sys.argv) != 3:
        print("usage: sign_rom.py IN OUT", file=sys.stderr)
        return 2
    rom = bytearray(open(sys.argv[1], "rb").read())
    if len(rom) < 0x1C or rom[0:2] != b"\x55\xaa":
        print(f"sign_rom.py: {sys.argv[1]} is not an option ROM (no 55 AA)", file=sys.stderr)
        return 1
    size = (len(rom) + 1 + 511) // 512 * 512
    if size // 512 > 255:
        print(f"sign_rom.py: {sys.argv[1]} is {len(rom)} bytes, over 127.5 KiB", file=sys.stderr)
        return 1
    rom += bytes(size - len(rom))
    rom[2] = size // 512
    pnp = rom[0x1A] | rom[0x1B] << 8
    if pnp:
        if rom[pnp:pnp + 4] != b"$PnP":
            print(f"sign_rom.py: the PnP header offset {pnp:#x} does not point at '$PnP'", file=sys.stderr)
            return 1
        length = rom[pnp + 5] * 16
        rom[pnp + 9] = 0
        rom[pnp + 9] = -sum(rom[pnp:pnp + length]) & 0xFF
    rom[-1] = 0
    rom[-1] = -sum(rom) & 0xFF
    assert sum(rom) % 256 == 0
    open(sys.argv[2], "wb").write(rom)
    return 0


if __name__ == "__main__":
    sys.exit(main())
