UNIT_TESTS += test_acpi
# The DSDT object comes from kernel/acpi.mk; listing it here makes it a
# prerequisite and puts it on the link line.
test_acpi_SRCS := kernel/acpi.c $(BUILD)/acpi/dsdt_aml.o
