/*
 * Loader output. Every line goes to the UEFI console (ConOut) and to COM1.
 * When one of the console's outputs already is a terminal on COM1 (OVMF's
 * serial console under QEMU and Bochs), ConOut alone reaches the serial port
 * and writing the UART as well would print every line twice.
 */
#include "boot/loader.h"

#define COM1_BASE	      0x3f8
#define UART_THR	      0 /* transmit holding register (DLAB=0) */
#define UART_DLL	      0 /* divisor latch, low and high byte (DLAB=1) */
#define UART_DLM	      1
#define UART_IER	      1
#define UART_FCR	      2
#define UART_LCR	      3
#define UART_MCR	      4
#define UART_LSR	      5
#define UART_LCR_8N1	      0x03
#define UART_LCR_DLAB	      0x80
#define UART_FCR_ENABLE_CLEAR 0x07
#define UART_MCR_DTR_RTS      0x03
#define UART_LSR_THRE	      0x20
#define UART_LSR_ABSENT	      0xff /* floating bus: no UART at this port */
#define UART_DIVISOR_115200   1
#define UART_SPIN_LIMIT	      100000

#define PNP_ID_COM   0x0501 /* ACPI PNP0501: 16550-compatible serial port */
#define OUT_LINE_MAX 256

static bool com1_direct;

static inline void outb(u16 port, u8 val)
{
	asm volatile("outb %0, %1" ::"a"(val), "Nd"(port));
}

static inline u8 inb(u16 port)
{
	u8 val;

	asm volatile("inb %1, %0" : "=a"(val) : "Nd"(port));
	return val;
}

/* Acpi(PNP0501,0)/.../Uart(...): COM1 with a UART node, i.e. a serial terminal. */
static bool path_is_com1_terminal(EFI_DEVICE_PATH *dp)
{
	bool com1 = false;

	for (; !IsDevicePathEnd(dp); dp = NextDevicePathNode(dp)) {
		if (DevicePathType(dp) == ACPI_DEVICE_PATH && DevicePathSubType(dp) == ACPI_DP) {
			ACPI_HID_DEVICE_PATH *acpi = (ACPI_HID_DEVICE_PATH *)dp;

			com1 = acpi->HID == EISA_PNP_ID(PNP_ID_COM) && acpi->UID == 0;
		} else if (com1 && DevicePathType(dp) == MESSAGING_DEVICE_PATH &&
			   DevicePathSubType(dp) == MSG_UART_DP) {
			return true;
		}
	}
	return false;
}

/* UEFI 2.10 12.4: every text output device carries a device path. */
static bool conout_reaches_com1(void)
{
	EFI_HANDLE *handles;
	UINTN n;
	bool found = false;

	if (EFI_ERROR(uefi_call_wrapper(BS->LocateHandleBuffer, 5, ByProtocol,
					&gEfiSimpleTextOutProtocolGuid, NULL, &n, &handles)))
		return false;
	for (UINTN i = 0; i < n && !found; i++) {
		EFI_DEVICE_PATH *dp;

		if (!EFI_ERROR(uefi_call_wrapper(BS->HandleProtocol, 3, handles[i],
						 &gEfiDevicePathProtocolGuid, (void **)&dp)))
			found = path_is_com1_terminal(dp);
	}
	uefi_call_wrapper(BS->FreePool, 1, handles);
	return found;
}

void out_init(void)
{
	if (conout_reaches_com1() || inb(COM1_BASE + UART_LSR) == UART_LSR_ABSENT)
		return;
	com1_direct = true;
	outb(COM1_BASE + UART_IER, 0);
	outb(COM1_BASE + UART_LCR, UART_LCR_DLAB);
	outb(COM1_BASE + UART_DLL, UART_DIVISOR_115200);
	outb(COM1_BASE + UART_DLM, 0);
	outb(COM1_BASE + UART_LCR, UART_LCR_8N1);
	outb(COM1_BASE + UART_FCR, UART_FCR_ENABLE_CLEAR);
	outb(COM1_BASE + UART_MCR, UART_MCR_DTR_RTS);
}

static void com1_putc(char c)
{
	for (int i = 0; i < UART_SPIN_LIMIT; i++)
		if (inb(COM1_BASE + UART_LSR) & UART_LSR_THRE)
			break;
	outb(COM1_BASE + UART_THR, (u8)c);
}

/* One formatted line (or part of one). UnicodeVSPrint already turns "\n" into "\r\n". */
void out_printf(const CHAR16 *fmt, ...)
{
	CHAR16 text[OUT_LINE_MAX];
	va_list args;

	va_start(args, fmt);
	UnicodeVSPrint(text, sizeof(text), fmt, args);
	va_end(args);
	uefi_call_wrapper(ST->ConOut->OutputString, 2, ST->ConOut, text);
	if (!com1_direct)
		return;
	for (UINTN i = 0; text[i]; i++)
		com1_putc(text[i] < 0x80 ? (char)text[i] : '?');
}
