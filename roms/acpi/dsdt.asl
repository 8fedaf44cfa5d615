/*
 * lift86's DSDT: the ACPI namespace of lift86's PC (QEMU's "pc" machine: i440FX + PIIX3).
 * Compiled with iasl (Debian's acpica-tools) at build time and embedded into lift86;
 * machine/acpi_tables.cpp puts it behind the FADT.
 *
 * It is deliberately small. What uses it:
 *  - the OS's power-off: \_S5 gives the SLP_TYP value to write into PM1a_CNT (ACPI 6.5
 *    section 7.4.2 "\_Sx (System States)"). PIIX4-style encoding, as QEMU's pc machine uses:
 *    0 = soft off. devices/acpi_pm.cpp turns it into "the guest powered off".
 *  - SeaBIOS only initialises the PS/2 keyboard when the DSDT declares a PNP0303 device
 *    (SeaBIOS src/hw/ps2port.c), so the legacy ISA devices are declared where a PC has them,
 *    under the PCI-to-ISA bridge, with the resources devices/ really decode.
 *  - Linux binds its PNP drivers (i8042, 8250, rtc_cmos) from these declarations.
 * Not declared (yet): a _PRT for PCI interrupt routing (the OS falls back to the INTERRUPT_LINE
 * the firmware programmed), CPUs, HPET, floppy, sleep states other than S5.
 */
DefinitionBlock ("", "DSDT", 1, "LIFT86", "LIFT86PC", 1)
{
    Scope (\_SB)
    {
        Device (PCI0)                              // i440FX host bridge, PCI bus 0
        {
            Name (_HID, EisaId ("PNP0A03"))
            Name (_UID, Zero)

            // What the host bridge forwards to PCI: the OS assigns BARs inside these windows
            // and refuses devices whose BARs lie outside (Linux: "no compatible bridge window").
            // Memory: the VGA window, and 0xC0000000 up to the IOAPIC/BIOS area, above the
            // largest RAM lift86 offers (-m 3G); SeaBIOS allocates BARs down from 0xFEC00000.
            Name (_CRS, ResourceTemplate ()
            {
                WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode,
                    0x0000, 0x0000, 0x00FF, 0x0000, 0x0100)
                IO (Decode16, 0x0CF8, 0x0CF8, 0x01, 0x08)      // the configuration ports
                WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
                    0x0000, 0x0000, 0x0CF7, 0x0000, 0x0CF8)
                WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
                    0x0000, 0x0D00, 0xFFFF, 0x0000, 0xF300)
                DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, Cacheable, ReadWrite,
                    0x00000000, 0x000A0000, 0x000BFFFF, 0x00000000, 0x00020000)
                DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable, ReadWrite,
                    0x00000000, 0xC0000000, 0xFEBFFFFF, 0x00000000, 0x3EC00000)
            })

            Device (ISA)                           // PIIX3 PCI-to-ISA bridge, 00:01.0
            {
                Name (_ADR, 0x00010000)

                Device (KBD)                       // i8042 keyboard port (devices/i8042)
                {
                    Name (_HID, EisaId ("PNP0303"))
                    Name (_STA, 0x0F)
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x0060, 0x0060, 0x01, 0x01)
                        IO (Decode16, 0x0064, 0x0064, 0x01, 0x01)
                        IRQNoFlags () {1}
                    })
                }

                Device (MOU)                       // i8042 auxiliary (PS/2 mouse) port
                {
                    Name (_HID, EisaId ("PNP0F13"))
                    Name (_STA, 0x0F)
                    Name (_CRS, ResourceTemplate ()
                    {
                        IRQNoFlags () {12}
                    })
                }

                Device (RTC)                       // MC146818 CMOS/RTC (devices/cmos_rtc)
                {
                    Name (_HID, EisaId ("PNP0B00"))
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x0070, 0x0070, 0x01, 0x02)
                        IRQNoFlags () {8}
                    })
                }

                Device (COM1)                      // 16550A UART (devices/uart16550)
                {
                    Name (_HID, EisaId ("PNP0501"))
                    Name (_UID, One)
                    Name (_STA, 0x0F)
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x03F8, 0x03F8, 0x00, 0x08)
                        IRQNoFlags () {4}
                    })
                }

                Device (COM2)
                {
                    Name (_HID, EisaId ("PNP0501"))
                    Name (_UID, 0x02)
                    Name (_STA, 0x0F)
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x02F8, 0x02F8, 0x00, 0x08)
                        IRQNoFlags () {3}
                    })
                }
            }
        }
    }

    // SLP_TYPa, SLP_TYPb, reserved, reserved (devices/acpi_pm.hpp kSlpTypS5).
    Name (\_S5, Package (0x04) { Zero, Zero, Zero, Zero })
}
