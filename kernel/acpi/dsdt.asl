/*
 * DSDT of a Bulkhead guest partition (ACPI 6.3, 5.2.11.1; ASL: chapter 19).
 * Compiled by iasl into build/acpi/dsdt.aml (kernel/acpi.mk) and copied
 * verbatim into guest memory by kernel/acpi.c. It holds only what a stock
 * Linux guest needs: the sleep types for power-off and the VMBus device.
 * Compliance revision 2: 64-bit integers.
 */
DefinitionBlock ("", "DSDT", 2, "BLKHD ", "BULKHEAD", 0x00000001)
{
    /*
     * \_S5 (ACPI 6.0, 7.4.2.6): {SLP_TYPa, SLP_TYPb, reserved, reserved}.
     * Linux offers power-off only if \_S5 exists (acpi_sleep_init), then
     * writes SLP_TYPa and SLP_EN to PM1a_CNT (acpi_hw_legacy_sleep). The
     * value must equal ACPI_S5_SLP_TYP in kernel/acpi.h (the unit test
     * tests/unit/test_acpi.c checks it).
     */
    Name (\_S5, Package (0x04) { 0x05, 0x05, Zero, Zero })

    /*
     * \_S0 (7.4.2.1): the working state's SLP_TYP, which ACPICA writes back
     * when a sleep attempt returns (acpi_leave_sleep_state_prep).
     */
    Name (\_S0, Package (0x04) { Zero, Zero, Zero, Zero })

    Scope (\_SB)
    {
        /*
         * VMBus: hv_vmbus registers an ACPI driver for the ids "VMBUS" and
         * "VMBus" (vmbus_acpi_device_ids) and does not start without it
         * (hv_acpi_init waits for vmbus_acpi_add).
         */
        Device (VMBS)
        {
            /* iasl rejects a 5-character _HID literal; a method may return it. */
            Method (_HID, 0, NotSerialized)
            {
                Return ("VMBUS")
            }

            Name (_UID, Zero)

            /* Present, enabled, shown in UI, functioning. */
            Method (_STA, 0, NotSerialized)
            {
                Return (0x0F)
            }

            /*
             * vmbus_acpi_add walks this _CRS (then its ancestors') with
             * vmbus_walk_resources, which keeps DWord/QWord address
             * descriptors ending above 1 MiB as the hyperv_mmio pool that
             * vmbus_allocate_mmio hands out (hv_pci, hyperv_fb), ignores
             * Memory32/Memory32Fixed, and takes an interrupt only from an
             * Extended IRQ descriptor (ARM64). On x86 the VMBus interrupt
             * is the SynIC vector (HYPERVISOR_CALLBACK_VECTOR): the legacy
             * IRQ descriptor, the form Hyper-V uses on x86 (as that
             * function's comment says), is ignored; an Interrupt ()
             * descriptor would be parsed. The window lies below the I/O APIC
             * and the vTPM page (VTPM_BASE_ADDRESS); the partition must
             * keep it free of RAM.
             */
            Name (_CRS, ResourceTemplate ()
            {
                IRQ (Edge, ActiveHigh, Exclusive, ) {5}
                DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed,
                    NonCacheable, ReadWrite,
                    0x00000000,         // Granularity
                    0xF8000000,         // Range Minimum
                    0xFBFFFFFF,         // Range Maximum
                    0x00000000,         // Translation Offset
                    0x04000000,         // Length: 64 MiB
                    ,, , AddressRangeMemory, TypeStatic)
            })
        }
    }
}
